"""Tables of the integration store: the durable memory of every flow.

Raw bytes are written before anything parses them; outbound documents before they are
sent; every state change appends an event. Nothing here imports Airflow.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Stable constraint names so Alembic migrations read the same on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

OWNER_TEAMS = ("finance", "warehouse", "wholesale", "integration")
SEVERITIES = ("info", "warning", "error", "critical")
EXCEPTION_STATUSES = ("open", "acknowledged", "resolved")


def utcnow() -> datetime:
    return datetime.now(UTC)


# BigInteger ids on PostgreSQL, INTEGER (rowid alias, autoincrement) on SQLite.
Id = BigInteger().with_variant(Integer(), "sqlite")


class UtcDateTime(TypeDecorator):
    """Aware UTC datetimes in and out, on every backend.

    SQLite keeps no offset: without this, values read back naive and comparing them with
    ``utcnow()`` fails. Aware values are converted to UTC before they are written.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(UTC)
        return value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


Timestamp = UtcDateTime()


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class RawDocument(Base):
    """Bytes exactly as received or sent; the first thing written for any document."""

    __tablename__ = "raw_documents"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    size: Mapped[int] = mapped_column(BigInteger)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    direction: Mapped[str] = mapped_column(String(3))  # "in" | "out"
    partner: Mapped[str] = mapped_column(String(64))
    transport: Mapped[str] = mapped_column(String(32))  # sftp, as2, file, api ...
    remote_name: Mapped[str | None] = mapped_column(String(255))
    received_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
    status: Mapped[str] = mapped_column(String(32), default="received")


class Transaction(Base):
    """One business document: an X12 set in or out, or an ERP document (sales order ...).

    Control numbers identify X12 sets; ``business_key`` is what people search for (PO
    number, shipment id, invoice number, remittance trace).
    """

    __tablename__ = "transactions"
    __table_args__ = (
        Index("ix_transactions_type_key", "doc_type", "business_key"),
        Index("ix_transactions_control", "partner", "isa13", "gs06", "st02"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    doc_type: Mapped[str] = mapped_column(String(16))  # "850", "855", "sales_order" ...
    direction: Mapped[str] = mapped_column(String(3))
    partner: Mapped[str] = mapped_column(String(64))
    # indexed: the order path joins a file's sets to it (intake, send_997s, build_855s)
    raw_document_id: Mapped[int | None] = mapped_column(ForeignKey("raw_documents.id"), index=True)
    isa13: Mapped[str | None] = mapped_column(String(9))
    gs06: Mapped[str | None] = mapped_column(String(9))
    st02: Mapped[str | None] = mapped_column(String(9))
    business_key: Mapped[str | None] = mapped_column(String(80))
    status: Mapped[str] = mapped_column(String(32), default="received")
    data: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow, onupdate=utcnow)


class DocumentLink(Base):
    """Edge of the data path: 850 -> sales order -> 855 -> 856 -> 810 -> 820 line."""

    __tablename__ = "document_links"
    __table_args__ = (UniqueConstraint("parent_id", "child_id", "relation", name="uq_document_links_edge"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    parent_id: Mapped[int] = mapped_column(ForeignKey("transactions.id"), index=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("transactions.id"), index=True)
    relation: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)


class ControlNumberSequence(Base):
    """Per-partner, per-kind (ISA/GS/ST) counter; the row lock makes allocation gap-free."""

    __tablename__ = "control_number_sequences"

    partner: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(8), primary_key=True)
    last_value: Mapped[int] = mapped_column(BigInteger, default=0)
    max_value: Mapped[int] = mapped_column(BigInteger, default=999_999_999)


class OutboundDocument(Base):
    """A document we produce: stored before it is sent, tracked until Amazon's 997."""

    __tablename__ = "outbound_documents"
    __table_args__ = (UniqueConstraint("partner", "isa13", name="uq_outbound_documents_partner_isa13"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    partner: Mapped[str] = mapped_column(String(64))
    doc_type: Mapped[str] = mapped_column(String(16))
    raw_document_id: Mapped[int] = mapped_column(ForeignKey("raw_documents.id"))
    isa13: Mapped[str] = mapped_column(String(9))
    gs06: Mapped[str] = mapped_column(String(9))
    st02_list: Mapped[list] = mapped_column(JSON, default=list)
    file_name: Mapped[str] = mapped_column(String(255), unique=True)
    status: Mapped[str] = mapped_column(String(32), default="pending")  # pending/sent/accepted/rejected
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(Timestamp)
    ack_status: Mapped[str | None] = mapped_column(String(2))  # AK9 letter of the 997 received
    acked_at: Mapped[datetime | None] = mapped_column(Timestamp)


class IdempotencyKey(Base):
    """A key per unit of work already done; retries and replays look here first."""

    __tablename__ = "idempotency_keys"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    scope: Mapped[str] = mapped_column(String(64))
    result: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)


class ExceptionRecord(Base):
    """Something a person must look at, owned by one team, with a runbook."""

    __tablename__ = "exceptions"
    __table_args__ = (Index("ix_exceptions_status_owner", "status", "owner"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    type: Mapped[str] = mapped_column(String(64), index=True)
    owner: Mapped[str] = mapped_column(String(16))
    severity: Mapped[str] = mapped_column(String(16), default="error")
    status: Mapped[str] = mapped_column(String(16), default="open")
    message: Mapped[str] = mapped_column(Text)
    runbook: Mapped[str | None] = mapped_column(String(200))
    # Re-running a task must not open the same exception twice.
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    business_key: Mapped[str | None] = mapped_column(String(80), index=True)
    raw_document_id: Mapped[int | None] = mapped_column(ForeignKey("raw_documents.id"))
    transaction_id: Mapped[int | None] = mapped_column(ForeignKey("transactions.id"))
    details: Mapped[dict | None] = mapped_column(JSON)
    resolution_note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow, onupdate=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(Timestamp)


class Event(Base):
    """Append-only audit trail; database triggers refuse UPDATE and DELETE."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow, index=True)
    kind: Mapped[str] = mapped_column(String(64), index=True)
    entity_type: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[str] = mapped_column(String(80))
    payload: Mapped[dict | None] = mapped_column(JSON)


class Deadline(Base):
    """A business window on one document (855 within 24 h, ASN within 30 min ...)."""

    __tablename__ = "deadlines"
    __table_args__ = (UniqueConstraint("transaction_id", "kind", name="uq_deadlines_transaction_kind"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    transaction_id: Mapped[int] = mapped_column(ForeignKey("transactions.id"))
    kind: Mapped[str] = mapped_column(String(32))  # poa_due, asn_due, ack_due ...
    business_key: Mapped[str | None] = mapped_column(String(80))
    due_at: Mapped[datetime] = mapped_column(Timestamp, index=True)
    met_at: Mapped[datetime | None] = mapped_column(Timestamp)
    alerted_at: Mapped[datetime | None] = mapped_column(Timestamp)
    missed_at: Mapped[datetime | None] = mapped_column(Timestamp)


class ReceivedControlNumber(Base):
    """Control numbers seen in inbound files, to catch a partner re-using one."""

    __tablename__ = "received_control_numbers"
    __table_args__ = (
        UniqueConstraint("kind", "sender", "receiver", "control_number", name="uq_received_control_numbers_key"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))            # interchange / group / set
    sender: Mapped[str] = mapped_column(String(64))
    receiver: Mapped[str] = mapped_column(String(64))
    control_number: Mapped[str] = mapped_column(String(32))
    raw_document_id: Mapped[int] = mapped_column(ForeignKey("raw_documents.id"))
    first_seen_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)


class QualityResult(Base):
    """One data-quality checkpoint run, kept for the daily data-quality report."""

    __tablename__ = "quality_results"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    suite: Mapped[str] = mapped_column(String(64), index=True)
    run_key: Mapped[str] = mapped_column(String(200))
    success: Mapped[bool] = mapped_column()
    evaluated: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    results: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow, index=True)


# --- fulfilment_to_asn -------------------------------------------------------------------
# One row per BlueCherry shipment, its cartons (SSCC, contents, the labels printed), and one
# row per invoice. The API over them (for the flow and for remit_to_journals' disputes) is
# amazon_bluecherry.store.fulfilment.

Amount = Numeric(14, 2, asdecimal=True)

SHIP_NOTICE_STATUSES = ("waiting", "held", "drafted", "checked", "staged", "sent", "confirmed")
INVOICE_STATUSES = ("held", "drafted", "checked", "staged", "sent")


class ShipNotice(Base):
    """A BlueCherry shipment on its way to an 856 ASN, and the ASN once built.

    ``shipment_id`` is unique: one ASN per shipment, whatever crashed between staging,
    upload and BlueCherry's confirmation. Statuses: waiting (carrier has not confirmed
    collection or tracking is unknown) -> held (a pre-send check failed; exception open)
    | drafted -> checked (GX gate passed) -> staged (X12 stored, pending upload) -> sent ->
    confirmed (BlueCherry knows the ASN reference). A held shipment is re-checked on every
    run and goes on when BlueCherry's data is fixed.
    """

    __tablename__ = "ship_notices"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    shipment_id: Mapped[str] = mapped_column(String(40), unique=True)   # BlueCherry's, also BSN02
    partner: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), index=True)
    bc_customer: Mapped[str | None] = mapped_column(String(40))
    bc_store: Mapped[str | None] = mapped_column(String(40))
    bc_warehouse: Mapped[str | None] = mapped_column(String(40))
    ship_to_qualifier: Mapped[str | None] = mapped_column(String(4))    # N1*ST qualifier (15 / 92)
    ship_to_code: Mapped[str | None] = mapped_column(String(40))        # N1*ST id: the FC
    carrier_scac: Mapped[str | None] = mapped_column(String(4))
    tracking_number: Mapped[str | None] = mapped_column(String(60))
    bill_of_lading: Mapped[str | None] = mapped_column(String(60), index=True)
    ship_date: Mapped[date | None] = mapped_column(Date)
    departed_at: Mapped[datetime | None] = mapped_column(Timestamp)     # carrier confirmed collection
    asn_due_at: Mapped[datetime | None] = mapped_column(Timestamp)      # departure + Amazon's window
    purchase_orders: Mapped[list] = mapped_column(JSON, default=list)
    x12_version: Mapped[str | None] = mapped_column(String(6))          # GS08 the ASN was written in
    structure: Mapped[str | None] = mapped_column(String(8))            # carton (S-O-P-I) / pallet (S-O-T-P-I)
    shipment_transaction_id: Mapped[int | None] = mapped_column(ForeignKey("transactions.id"))
    transaction_id: Mapped[int | None] = mapped_column(ForeignKey("transactions.id"))  # the 856
    outbound_document_id: Mapped[int | None] = mapped_column(ForeignKey("outbound_documents.id"))
    asn_reference: Mapped[str | None] = mapped_column(String(60))       # what BlueCherry was told
    confirmed_at: Mapped[datetime | None] = mapped_column(Timestamp)
    findings: Mapped[list | None] = mapped_column(JSON)                 # last pre-send findings
    document: Mapped[dict | None] = mapped_column(JSON)                 # the 856 as built (ShipNotice JSON)
    fingerprint: Mapped[str | None] = mapped_column(String(64))
    first_seen_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow, onupdate=utcnow)


class ShipNoticeCarton(Base):
    """One carton of a ship notice: its SSCC, what the ASN says is in it, and its labels.

    The labels are rendered once from these rows and kept: the warehouse prints exactly
    what the ASN says, and a dispute can show the label Amazon scanned.
    """

    __tablename__ = "ship_notice_cartons"
    __table_args__ = (UniqueConstraint("ship_notice_id", "sscc", name="uq_ship_notice_cartons_notice_sscc"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    ship_notice_id: Mapped[int] = mapped_column(ForeignKey("ship_notices.id"), index=True)
    sscc: Mapped[str] = mapped_column(String(18), index=True)
    carton_number: Mapped[int] = mapped_column(Integer)
    pallet_sscc: Mapped[str | None] = mapped_column(String(18))
    contents: Mapped[list] = mapped_column(JSON, default=list)  # [{purchase_order, line_number, sku, product ids, quantity}]
    label_zpl: Mapped[str | None] = mapped_column(Text)
    label_pdf: Mapped[bytes | None] = mapped_column(LargeBinary)
    used_at: Mapped[datetime | None] = mapped_column(Timestamp)  # when its ASN was staged: from then on, taken


class Invoice(Base):
    """An 810 invoice per shipment and purchase order.

    ``invoice_number`` is unique for ever (the database refuses a second row with it); a
    held invoice whose number was already used keeps it in ``data['requested_number']``
    and leaves the column empty. Statuses: held (a check failed; exception for finance) |
    drafted -> checked (GX gate) -> staged -> sent.
    """

    __tablename__ = "invoices"
    __table_args__ = (UniqueConstraint("shipment_id", "purchase_order", name="uq_invoices_shipment_po"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    invoice_number: Mapped[str | None] = mapped_column(String(22), unique=True)
    shipment_id: Mapped[str] = mapped_column(String(40), index=True)
    purchase_order: Mapped[str] = mapped_column(String(22), index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    source: Mapped[str] = mapped_column(String(16))  # bluecherry (its invoice) / asn (built from the ASN)
    bc_invoice_number: Mapped[str | None] = mapped_column(String(40))
    invoice_date: Mapped[date | None] = mapped_column(Date)
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    total_amount: Mapped[Decimal | None] = mapped_column(Amount)
    ship_notice_id: Mapped[int | None] = mapped_column(ForeignKey("ship_notices.id"))
    transaction_id: Mapped[int | None] = mapped_column(ForeignKey("transactions.id"))  # the 810
    outbound_document_id: Mapped[int | None] = mapped_column(ForeignKey("outbound_documents.id"))
    findings: Mapped[list | None] = mapped_column(JSON)
    data: Mapped[dict | None] = mapped_column(JSON)  # the 810 as built (Invoice JSON) and its sources
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow, onupdate=utcnow)


# --- stock_to_846 ----------------------------------------------------------------------------
# One row per feed (or refused snapshot), one row per SKU and warehouse it carried, and what
# Amazon was last told per SKU and warehouse. The API is amazon_bluecherry.store.inventory.

INVENTORY_FEED_STATUSES = ("refused", "planned", "checked", "blocked", "superseded", "staged", "sent")


class InventoryFeed(Base):
    """An 846 feed from one BlueCherry ATS snapshot, or a snapshot refused as stale or partial.

    Statuses: refused (nothing planned; exception open) | planned -> checked | blocked (the
    gate failed; exception open) -> staged (846 stored, pending upload) -> sent; a planned or
    checked feed a killed run left is superseded by the next snapshot's. ``kind`` is full
    (every SKU) or delta (what changed, by the tiers that were due).
    """

    __tablename__ = "inventory_feeds"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    partner: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), index=True)
    kind: Mapped[str | None] = mapped_column(String(8))                 # full | delta
    tiers: Mapped[list] = mapped_column(JSON, default=list)             # the tiers this feed published
    snapshot_at: Mapped[datetime | None] = mapped_column(Timestamp)
    last_cycle_at: Mapped[datetime | None] = mapped_column(Timestamp)
    snapshot_fingerprint: Mapped[str | None] = mapped_column(String(64), index=True)
    source: Mapped[str | None] = mapped_column(String(255))
    line_count: Mapped[int] = mapped_column(Integer, default=0)
    units_published: Mapped[int] = mapped_column(BigInteger, default=0)
    message: Mapped[str | None] = mapped_column(Text)                   # why refused or blocked
    quality_result_id: Mapped[int | None] = mapped_column(ForeignKey("quality_results.id"))
    outbound_document_id: Mapped[int | None] = mapped_column(ForeignKey("outbound_documents.id"))
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(Timestamp)


class InventoryFeedLine(Base):
    """One SKU in one warehouse on a feed: BlueCherry's figures, the ATS read, the buffer held
    back and the rule that did it, what was published and what Amazon had before."""

    __tablename__ = "inventory_feed_lines"
    __table_args__ = (UniqueConstraint("feed_id", "sku", "warehouse", name="uq_inventory_feed_lines_key"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    feed_id: Mapped[int] = mapped_column(ForeignKey("inventory_feeds.id"), index=True)
    sku: Mapped[str] = mapped_column(String(60))
    style: Mapped[str | None] = mapped_column(String(40))
    upc: Mapped[str | None] = mapped_column(String(14))
    warehouse: Mapped[str] = mapped_column(String(40))
    product_id_qualifier: Mapped[str] = mapped_column(String(4))
    product_id: Mapped[str] = mapped_column(String(48))
    asin: Mapped[str | None] = mapped_column(String(16))
    tier: Mapped[str] = mapped_column(String(8))
    on_hand: Mapped[int] = mapped_column(Integer)
    allocated: Mapped[int] = mapped_column(Integer)
    on_hold: Mapped[int] = mapped_column(Integer)
    incoming: Mapped[int] = mapped_column(Integer)
    ats: Mapped[int] = mapped_column(Integer)
    buffer: Mapped[int] = mapped_column(Integer)
    rule: Mapped[str] = mapped_column(String(8))                        # sku | style | default
    rule_detail: Mapped[str] = mapped_column(String(80))                # "10%", "24 units" ...
    published: Mapped[int] = mapped_column(Integer)
    previous_published: Mapped[int | None] = mapped_column(Integer)


class InventoryPosition(Base):
    """What Amazon was last told per SKU and warehouse, and by which feed (updated when it is sent)."""

    __tablename__ = "inventory_positions"

    sku: Mapped[str] = mapped_column(String(60), primary_key=True)
    warehouse: Mapped[str] = mapped_column(String(40), primary_key=True)
    style: Mapped[str | None] = mapped_column(String(40))
    upc: Mapped[str | None] = mapped_column(String(14))
    product_id_qualifier: Mapped[str] = mapped_column(String(4))
    product_id: Mapped[str] = mapped_column(String(48))
    asin: Mapped[str | None] = mapped_column(String(16))
    ats: Mapped[int] = mapped_column(Integer)
    rule_detail: Mapped[str] = mapped_column(String(80))
    published: Mapped[int] = mapped_column(Integer)
    feed_id: Mapped[int] = mapped_column(ForeignKey("inventory_feeds.id"), index=True)
    published_at: Mapped[datetime] = mapped_column(Timestamp)


# --- remit_to_journals ------------------------------------------------------------------------


class Money(TypeDecorator):
    """Exact amounts with cents: NUMERIC(15,2) on PostgreSQL, decimal text on SQLite (whose
    NUMERIC affinity would store a float). Sums are done in Python, never in SQL on SQLite."""

    impl = Numeric(15, 2)
    cache_ok = True
    _CENT = Decimal("0.01")

    def load_dialect_impl(self, dialect):
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(24))
        return dialect.type_descriptor(Numeric(15, 2, asdecimal=True))

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        amount = Decimal(value)
        if amount != amount.quantize(self._CENT):
            raise ValueError(f"amount {value} has more than two decimals")
        return str(amount.quantize(self._CENT)) if dialect.name == "sqlite" else amount.quantize(self._CENT)

    def process_result_value(self, value, dialect):
        return None if value is None else Decimal(str(value)).quantize(self._CENT)


class Remittance(Base):
    """One 820 (payment + remittance advice) and what became of it.

    ``status``: classified -> gated (the quality gate passed) or blocked -> posting ->
    posted. ``plan`` is what will be written to BlueCherry, frozen once posting starts so
    that a retry after a crash sends exactly the same content under the same keys.
    """

    __tablename__ = "remittances"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    transaction_id: Mapped[int] = mapped_column(ForeignKey("transactions.id"), unique=True)
    raw_document_id: Mapped[int | None] = mapped_column(ForeignKey("raw_documents.id"))
    trace_number: Mapped[str] = mapped_column(String(80), index=True)       # TRN02
    payment_amount: Mapped[Decimal] = mapped_column(Money())                # BPR02, signed by BPR03
    payment_date: Mapped[date | None] = mapped_column(Date, index=True)     # BPR16 (or DTM)
    payment_method: Mapped[str | None] = mapped_column(String(8))
    currency: Mapped[str | None] = mapped_column(String(3))
    payer: Mapped[str | None] = mapped_column(String(80))
    status: Mapped[str] = mapped_column(String(16), default="classified", index=True)
    line_count: Mapped[int] = mapped_column(Integer, default=0)
    unrecognised_amount: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0"))
    unmatched_amount: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0"))
    plan: Mapped[dict | None] = mapped_column(JSON)
    blocked_reason: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)  # when the 820 file reached us
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow, onupdate=utcnow)
    posted_at: Mapped[datetime | None] = mapped_column(Timestamp)


class RemittanceLine(Base):
    """One remittance line (an RMR, or an ADX), classified; unique per remittance and line."""

    __tablename__ = "remittance_lines"
    __table_args__ = (
        UniqueConstraint("remittance_id", "line_number", name="uq_remittance_lines_line"),
        Index("ix_remittance_lines_type", "deduction_type"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    remittance_id: Mapped[int] = mapped_column(ForeignKey("remittances.id"), index=True)
    line_number: Mapped[int] = mapped_column(Integer)
    reference: Mapped[str] = mapped_column(String(80), index=True)           # RMR02 (or ADX04)
    reference_qualifier: Mapped[str | None] = mapped_column(String(3))
    amount: Mapped[Decimal] = mapped_column(Money())                         # signed: deductions < 0
    invoice_amount: Mapped[Decimal | None] = mapped_column(Money())
    adjustment_codes: Mapped[str | None] = mapped_column(String(80))         # ADX02, comma separated
    adjustment_reference_qualifier: Mapped[str | None] = mapped_column(String(3))
    adjustment_reference: Mapped[str | None] = mapped_column(String(80))
    purchase_order: Mapped[str | None] = mapped_column(String(80))
    invoice_number: Mapped[str | None] = mapped_column(String(80), index=True)
    shipment_id: Mapped[str | None] = mapped_column(String(80))
    description: Mapped[str | None] = mapped_column(String(200))
    line_date: Mapped[date | None] = mapped_column(Date)
    deduction_type: Mapped[str] = mapped_column(String(32))
    gl_account: Mapped[str] = mapped_column(String(40))
    owner: Mapped[str] = mapped_column(String(16))
    rule_line: Mapped[int | None] = mapped_column(Integer)                  # remit_codes.csv line
    match_status: Mapped[str] = mapped_column(String(16), default="not_applicable")  # matched / unmatched


class RemittancePosting(Base):
    """One write to BlueCherry for a remittance (its cash receipt, or one typed journal).

    The idempotency key is derived from the trace number and the type, so a re-run, a
    retry after kill -9 or a backfill replays the same write and BlueCherry applies it once.
    """

    __tablename__ = "remittance_postings"
    __table_args__ = (UniqueConstraint("remittance_id", "kind", "deduction_type", name="uq_remittance_postings_kind"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    remittance_id: Mapped[int] = mapped_column(ForeignKey("remittances.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))                            # cash_receipt / journal
    deduction_type: Mapped[str] = mapped_column(String(32), default="")
    reference: Mapped[str] = mapped_column(String(60))                       # receipt number / journal reference
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    amount: Mapped[Decimal] = mapped_column(Money())
    status: Mapped[str] = mapped_column(String(16), default="planned")      # planned / posted / failed
    document_number: Mapped[str | None] = mapped_column(String(60))
    outcome: Mapped[str | None] = mapped_column(String(16))
    error: Mapped[str | None] = mapped_column(Text)
    posted_at: Mapped[datetime | None] = mapped_column(Timestamp)


class DisputeClaim(Base):
    """A shortage claim or chargeback Amazon deducted: its dispute window and evidence packet."""

    __tablename__ = "dispute_claims"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    remittance_line_id: Mapped[int] = mapped_column(ForeignKey("remittance_lines.id"), unique=True)
    transaction_id: Mapped[int | None] = mapped_column(ForeignKey("transactions.id"))  # its node in the data path
    claim_reference: Mapped[str] = mapped_column(String(80), index=True)      # RMR02
    deduction_type: Mapped[str] = mapped_column(String(32))
    amount: Mapped[Decimal] = mapped_column(Money())
    trace_number: Mapped[str] = mapped_column(String(80))
    remitted_on: Mapped[date] = mapped_column(Date)
    due_at: Mapped[datetime] = mapped_column(Timestamp, index=True)
    status: Mapped[str] = mapped_column(String(16), default="open")          # open / disputed / closed
    packet_path: Mapped[str | None] = mapped_column(String(500))
    packet_sha256: Mapped[str | None] = mapped_column(String(64))
    missing: Mapped[list | None] = mapped_column(JSON)                       # evidence not found
    alerts_sent: Mapped[list | None] = mapped_column(JSON)                   # days alerted (20, 25)
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow, onupdate=utcnow)


class ReconciliationRun(Base):
    """A month-end reconciliation: its totals and where the report is; same facts, same hash."""

    __tablename__ = "reconciliation_runs"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    period: Mapped[str] = mapped_column(String(7), index=True)               # YYYY-MM
    as_of: Mapped[date] = mapped_column(Date)
    run_key: Mapped[str] = mapped_column(String(200))
    ties_out: Mapped[bool] = mapped_column()
    totals: Mapped[dict | None] = mapped_column(JSON)
    content_sha256: Mapped[str] = mapped_column(String(64))
    report_path: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)


# --- intake hardening (issue 14): mailbox sightings, arrivals, interchange acknowledgments ---
class RemoteFileSighting(Base):
    """A file seen in a remote folder and not taken yet: pickup's memory between listings.

    Pickup takes a file only once two listings saw the same size and mtime (``changed_at``
    is when they last differed) and its bytes end with complete interchanges; a file that
    stays incomplete or temp-named past the age limit gets one exception (``exception_id``).
    The row goes when the file is taken or disappears.
    """

    __tablename__ = "remote_file_sightings"
    __table_args__ = (UniqueConstraint("location", "name", name="uq_remote_file_sightings_location_name"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    location: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(BigInteger)
    mtime: Mapped[float] = mapped_column(Float)
    first_seen_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
    changed_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
    exception_id: Mapped[int | None] = mapped_column(ForeignKey("exceptions.id"))


class InboundArrival(Base):
    """One arrival of a file: the same bytes twice are one raw document but two arrivals.

    Amazon re-sends a file when it never got our 997, so every arrival is answered:
    the first by intake's 997, a byte-identical re-send by a new 997 (new control numbers)
    without processing its POs again.
    """

    __tablename__ = "inbound_arrivals"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    raw_document_id: Mapped[int] = mapped_column(ForeignKey("raw_documents.id"), index=True)
    location: Mapped[str] = mapped_column(String(255))
    remote_name: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(BigInteger)
    arrived_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow, index=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending / acknowledged / refused
    ack_outbound_document_id: Mapped[int | None] = mapped_column(ForeignKey("outbound_documents.id"))


class InterchangeAcknowledgement(Base):
    """A TA1 the partner sent: its verdict on one of our interchanges (ISA13)."""

    __tablename__ = "interchange_acknowledgements"
    __table_args__ = (
        UniqueConstraint("raw_document_id", "control_number", name="uq_interchange_acknowledgements_key"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    raw_document_id: Mapped[int] = mapped_column(ForeignKey("raw_documents.id"))  # the file carrying the TA1
    partner: Mapped[str] = mapped_column(String(64))
    control_number: Mapped[str] = mapped_column(String(9))  # TA101: the ISA13 it answers
    interchange_date: Mapped[str] = mapped_column(String(6))  # TA102
    interchange_time: Mapped[str] = mapped_column(String(4))  # TA103
    status: Mapped[str] = mapped_column(String(1))  # TA104: A, E or R
    code: Mapped[str] = mapped_column(String(3))  # TA105 note code, 000 = no error
    outbound_document_id: Mapped[int | None] = mapped_column(ForeignKey("outbound_documents.id"))
    received_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)


# --- operations (issue 12): alert deliveries, exceptions announced, daily quality reports ----


class AlertDelivery(Base):
    """One alert message to one owner team (a batch of exceptions, a failure, a report)."""

    __tablename__ = "alert_deliveries"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    # What makes two alerts the same (e.g. exceptions of one run for one team): sent once.
    key: Mapped[str] = mapped_column(String(300), unique=True)
    kind: Mapped[str] = mapped_column(String(64))
    owner: Mapped[str] = mapped_column(String(16), index=True)
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    dag_id: Mapped[str | None] = mapped_column(String(250))
    run_id: Mapped[str | None] = mapped_column(String(250))
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending / sent / failed / logged
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow, index=True)
    sent_at: Mapped[datetime | None] = mapped_column(Timestamp)


class ExceptionAlert(Base):
    """An exception announced by a delivery; the primary key makes each exception alerted once."""

    __tablename__ = "exception_alerts"

    exception_id: Mapped[int] = mapped_column(ForeignKey("exceptions.id"), primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("alert_deliveries.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)


class QualityReport(Base):
    """The daily data-quality report of one day, as sent (HTML) and as figures (summary)."""

    __tablename__ = "quality_reports"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    report_date: Mapped[str] = mapped_column(String(10), unique=True)  # YYYY-MM-DD (UTC day)
    html: Mapped[str] = mapped_column(Text)
    summary: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
    delivery_id: Mapped[int | None] = mapped_column(ForeignKey("alert_deliveries.id"))
