"""The emulator's tables (SQLAlchemy 2 ORM over a SQLite file).

Money is stored as decimal text (SQLite has no decimal type and floats would round);
times as ISO-8601 UTC text.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, Integer, String, Text, TypeDecorator, UniqueConstraint, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship, synonym


class DecimalText(TypeDecorator):
    impl = String(40)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if isinstance(value, float):
            raise TypeError(f"money must be Decimal, not float ({value!r})")
        return str(Decimal(value))

    def process_result_value(self, value, dialect):
        return None if value is None else Decimal(value)


class UtcDateTime(TypeDecorator):
    impl = String(40)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}")
        return value.astimezone(UTC).isoformat()

    def process_result_value(self, value, dialect):
        return None if value is None else datetime.fromisoformat(value)


class JsonText(TypeDecorator):
    impl = Text
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return None if value is None else json.dumps(value, sort_keys=True)

    def process_result_value(self, value, dialect):
        return None if value is None else json.loads(value)


class Base(DeclarativeBase):
    pass


class Division(Base):
    __tablename__ = "divisions"
    code: Mapped[str] = mapped_column(String(10), primary_key=True)
    name: Mapped[str]


class Season(Base):
    __tablename__ = "seasons"
    code: Mapped[str] = mapped_column(String(10), primary_key=True)
    name: Mapped[str]


class Warehouse(Base):
    __tablename__ = "warehouses"
    code: Mapped[str] = mapped_column(String(10), primary_key=True)
    name: Mapped[str]


class Style(Base):
    __tablename__ = "styles"
    style: Mapped[str] = mapped_column(String(20), primary_key=True)
    description: Mapped[str]
    division: Mapped[str] = mapped_column(ForeignKey("divisions.code"))
    season: Mapped[str] = mapped_column(ForeignKey("seasons.code"))
    size_range: Mapped[str]
    case_pack_qty: Mapped[int]
    active: Mapped[bool]


class Sku(Base):
    __tablename__ = "skus"
    sku: Mapped[str] = mapped_column(String(40), primary_key=True)
    style: Mapped[str] = mapped_column(ForeignKey("styles.style"))
    color: Mapped[str]
    color_name: Mapped[str]
    size: Mapped[str]
    size_seq: Mapped[int]
    upc: Mapped[str] = mapped_column(String(12), unique=True)
    ean: Mapped[str | None] = mapped_column(String(13))
    asin: Mapped[str | None] = mapped_column(String(10))
    unit_cost: Mapped[Decimal] = mapped_column(DecimalText)
    weight_lb: Mapped[Decimal] = mapped_column(DecimalText)
    style_row: Mapped[Style] = relationship(lazy="joined")
    __table_args__ = (Index("ix_skus_style_color_size", "style", "color", "size"),)


class PriceListRow(Base):
    __tablename__ = "price_lists"
    price_list: Mapped[str] = mapped_column(String(20), primary_key=True)
    sku: Mapped[str] = mapped_column(ForeignKey("skus.sku"), primary_key=True)
    unit_price: Mapped[Decimal] = mapped_column(DecimalText)
    currency: Mapped[str] = mapped_column(String(3))


class CustomerRow(Base):
    __tablename__ = "customers"
    bc_customer: Mapped[str] = mapped_column(String(20), primary_key=True)
    name: Mapped[str]
    currency: Mapped[str] = mapped_column(String(3))
    price_list: Mapped[str]
    terms_code: Mapped[str]
    discount_percent: Mapped[Decimal] = mapped_column(DecimalText)
    discount_days: Mapped[int]
    net_days: Mapped[int]
    # Loaded only where asked for (selectinload): writes look customers up one by one.
    stores: Mapped[list[StoreRow]] = relationship(order_by="StoreRow.bc_store", viewonly=True)


class StoreRow(Base):
    __tablename__ = "stores"
    bc_customer: Mapped[str] = mapped_column(ForeignKey("customers.bc_customer"), primary_key=True)
    bc_store: Mapped[str] = mapped_column(String(30), primary_key=True)
    name: Mapped[str]
    store_type: Mapped[str]
    fc_code: Mapped[str | None]
    san: Mapped[str | None]
    bc_warehouse: Mapped[str] = mapped_column(ForeignKey("warehouses.code"))
    address_line: Mapped[str]
    city: Mapped[str]
    state: Mapped[str]
    postal_code: Mapped[str]
    country: Mapped[str]


class StockRow(Base):
    __tablename__ = "stock"
    sku: Mapped[str] = mapped_column(ForeignKey("skus.sku"), primary_key=True)
    warehouse: Mapped[str] = mapped_column(ForeignKey("warehouses.code"), primary_key=True)
    on_hand: Mapped[int]
    allocated: Mapped[int]
    on_hold: Mapped[int] = mapped_column(default=0)  # quality / damage holds: on the shelf, not sellable
    incoming: Mapped[int]
    incoming_date: Mapped[date | None]


class SalesOrderRow(Base):
    __tablename__ = "sales_orders"
    order_number: Mapped[str] = mapped_column(String(20), primary_key=True)
    bc_customer: Mapped[str] = mapped_column(ForeignKey("customers.bc_customer"))
    customer_po: Mapped[str] = mapped_column(String(22))
    bc_store: Mapped[str]
    bc_warehouse: Mapped[str]
    order_type: Mapped[str]
    ship_window_start: Mapped[date]
    ship_window_end: Mapped[date]
    backorder_allowed: Mapped[bool]
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str]
    revision: Mapped[int]
    fingerprint: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    lines: Mapped[list[SalesOrderLineRow]] = relationship(
        order_by="SalesOrderLineRow.line_number", cascade="all, delete-orphan", lazy="selectin"
    )
    __table_args__ = (
        UniqueConstraint("bc_customer", "customer_po", name="uq_sales_orders_customer_po"),
        Index("ix_sales_orders_customer_po", "customer_po"),
    )


class SalesOrderLineRow(Base):
    __tablename__ = "sales_order_lines"
    order_number: Mapped[str] = mapped_column(ForeignKey("sales_orders.order_number"), primary_key=True)
    line_number: Mapped[int] = mapped_column(Integer, primary_key=True)
    sku: Mapped[str | None]
    style: Mapped[str | None]
    color: Mapped[str | None]
    size: Mapped[str | None]
    product_id: Mapped[str | None]
    product_id_qualifier: Mapped[str | None]
    unit_price: Mapped[Decimal] = mapped_column(DecimalText)
    qty_ordered: Mapped[int]
    qty_allocated: Mapped[int] = mapped_column(default=0)
    qty_backordered: Mapped[int] = mapped_column(default=0)
    backorder_date: Mapped[date | None]
    qty_cancelled: Mapped[int] = mapped_column(default=0)
    cancel_reason: Mapped[str | None]
    qty_picked: Mapped[int] = mapped_column(default=0)
    qty_shipped: Mapped[int] = mapped_column(default=0)
    __table_args__ = (
        Index("ix_sales_order_lines_sku", "sku"),
        # The batch create path sums backorders per SKU: only the backordered lines are read.
        Index("ix_sales_order_lines_backordered", "sku", sqlite_where=text("qty_backordered > 0")),
    )


class PickTicketRow(Base):
    __tablename__ = "pick_tickets"
    pick_ticket: Mapped[str] = mapped_column(String(20), primary_key=True)
    order_number: Mapped[str] = mapped_column(ForeignKey("sales_orders.order_number"), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class CartonRow(Base):
    __tablename__ = "cartons"
    # A surrogate key: a warehouse whose label printer's serial was reset really does put
    # an SSCC on a second carton (the integration must catch it before Amazon does).
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    sscc: Mapped[str] = mapped_column(String(18), index=True)
    pallet_sscc: Mapped[str | None]
    carton_number: Mapped[int]
    pick_ticket: Mapped[str] = mapped_column(ForeignKey("pick_tickets.pick_ticket"), index=True)
    order_number: Mapped[str] = mapped_column(ForeignKey("sales_orders.order_number"), index=True)
    shipment_id: Mapped[str | None] = mapped_column(ForeignKey("shipments.shipment_id"), index=True)
    weight_lb: Mapped[Decimal] = mapped_column(DecimalText)
    tracking_number: Mapped[str | None]
    items: Mapped[list[CartonItemRow]] = relationship(order_by="CartonItemRow.id", lazy="selectin")


class CartonItemRow(Base):
    __tablename__ = "carton_items"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    carton_id: Mapped[int] = mapped_column(ForeignKey("cartons.id"), index=True)
    order_number: Mapped[str]
    line_number: Mapped[int]
    sku: Mapped[str]
    qty: Mapped[int]


class ShipmentRow(Base):
    __tablename__ = "shipments"
    shipment_id: Mapped[str] = mapped_column(String(20), primary_key=True)
    status: Mapped[str] = mapped_column(index=True)
    bc_customer: Mapped[str]
    bc_store: Mapped[str]
    bc_warehouse: Mapped[str]
    ship_to_name: Mapped[str]
    carrier_scac: Mapped[str]
    tracking_number: Mapped[str | None]
    bol_number: Mapped[str] = mapped_column(unique=True)
    master_bol: Mapped[str | None]
    ship_date: Mapped[date]
    departed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)  # None: waiting for the carrier
    estimated_delivery: Mapped[date | None]
    total_weight_lb: Mapped[Decimal] = mapped_column(DecimalText)
    asn_reference: Mapped[str | None]
    confirmed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    cartons: Mapped[list[CartonRow]] = relationship(order_by="CartonRow.carton_number", lazy="selectin")


class InvoiceRow(Base):
    __tablename__ = "invoices"
    invoice_number: Mapped[str] = mapped_column(String(20), primary_key=True)
    invoice_date: Mapped[date] = mapped_column(index=True)
    customer_po: Mapped[str] = mapped_column(index=True)
    order_number: Mapped[str]
    shipment_id: Mapped[str] = mapped_column(index=True)
    bc_customer: Mapped[str]
    bc_store: Mapped[str]
    currency: Mapped[str]
    terms_code: Mapped[str]
    discount_percent: Mapped[Decimal] = mapped_column(DecimalText)
    discount_days: Mapped[int]
    net_days: Mapped[int]
    due_date: Mapped[date]
    subtotal: Mapped[Decimal] = mapped_column(DecimalText)
    freight: Mapped[Decimal] = mapped_column(DecimalText)
    total: Mapped[Decimal] = mapped_column(DecimalText)
    open_amount: Mapped[Decimal] = mapped_column(DecimalText)
    lines: Mapped[list[InvoiceLineRow]] = relationship(order_by="InvoiceLineRow.line_number", lazy="selectin")
    __table_args__ = (UniqueConstraint("shipment_id", "order_number", name="uq_invoices_shipment_order"),)


class InvoiceLineRow(Base):
    __tablename__ = "invoice_lines"
    invoice_number: Mapped[str] = mapped_column(ForeignKey("invoices.invoice_number"), primary_key=True)
    line_number: Mapped[int] = mapped_column(Integer, primary_key=True)
    sku: Mapped[str]
    style: Mapped[str]
    color: Mapped[str]
    size: Mapped[str]
    upc: Mapped[str | None]
    product_id: Mapped[str | None]
    product_id_qualifier: Mapped[str | None]
    qty: Mapped[int]
    unit_price: Mapped[Decimal] = mapped_column(DecimalText)
    amount: Mapped[Decimal] = mapped_column(DecimalText)
    qty_eaches = synonym("qty")  # the name of the gateway's InvoiceLine (read through from_attributes)


class GlAccountRow(Base):
    __tablename__ = "gl_accounts"
    account: Mapped[str] = mapped_column(String(20), primary_key=True)
    name: Mapped[str]
    account_type: Mapped[str]


class JournalRow(Base):
    __tablename__ = "journals"
    journal_number: Mapped[str] = mapped_column(String(20), primary_key=True)
    posting_date: Mapped[date]
    period: Mapped[str] = mapped_column(String(7), index=True)
    reference: Mapped[str]
    description: Mapped[str]
    source: Mapped[str]
    currency: Mapped[str]
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    lines: Mapped[list[JournalLineRow]] = relationship(order_by="JournalLineRow.line_number", lazy="selectin")


class JournalLineRow(Base):
    __tablename__ = "journal_lines"
    journal_number: Mapped[str] = mapped_column(ForeignKey("journals.journal_number"), primary_key=True)
    line_number: Mapped[int] = mapped_column(Integer, primary_key=True)
    account: Mapped[str] = mapped_column(ForeignKey("gl_accounts.account"))
    debit: Mapped[Decimal] = mapped_column(DecimalText)
    credit: Mapped[Decimal] = mapped_column(DecimalText)
    memo: Mapped[str]
    dimensions: Mapped[dict] = mapped_column(JsonText)


class CashReceiptRow(Base):
    __tablename__ = "cash_receipts"
    receipt_number: Mapped[str] = mapped_column(String(40), primary_key=True)
    receipt_date: Mapped[date]
    bc_customer: Mapped[str] = mapped_column(ForeignKey("customers.bc_customer"))
    amount: Mapped[Decimal] = mapped_column(DecimalText)
    unapplied_amount: Mapped[Decimal] = mapped_column(DecimalText)
    currency: Mapped[str]
    method: Mapped[str]
    reference: Mapped[str]
    fingerprint: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ReceiptApplicationRow(Base):
    __tablename__ = "receipt_applications"
    receipt_number: Mapped[str] = mapped_column(ForeignKey("cash_receipts.receipt_number"), primary_key=True)
    invoice_number: Mapped[str] = mapped_column(ForeignKey("invoices.invoice_number"), primary_key=True)
    amount_applied: Mapped[Decimal] = mapped_column(DecimalText)
    deduction_amount: Mapped[Decimal] = mapped_column(DecimalText)
    deduction_reason: Mapped[str | None]


class IdempotencyRecord(Base):
    """A write already applied: the same key and content get the stored result back."""

    __tablename__ = "idempotency_keys"
    scope: Mapped[str] = mapped_column(String(40), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    result: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Counter(Base):
    __tablename__ = "counters"
    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[int]


class Setting(Base):
    __tablename__ = "settings"
    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[str]
