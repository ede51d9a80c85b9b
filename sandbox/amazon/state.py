"""Amazon's side of the relationship as plain records, kept in one JSON file per state folder.

The simulator's state model (moto's "backend"): purchase orders sent, files exchanged,
855/856/810 as Amazon understood them, receipts, findings, the deduction ledger and the
remittances. No I/O besides :class:`StateStore`, which loads and saves it atomically
(temporary file, then rename) so a crash never leaves half a state behind.

Quantities are eaches throughout (a case line of 3 cases of 12 is 36 eaches) and prices
are per each, whatever unit a document used; money is :class:`~decimal.Decimal`.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
from decimal import Decimal
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from amazon_bluecherry.edi.documents import (
    FreightTerms,
    PartyIdentification,
    ProductId,
    PurchaseOrder,
    PurchaseOrderLine,
)

__all__ = [
    "AmazonState",
    "Carton",
    "CartonItem",
    "Defect",
    "ExchangedFile",
    "Finding",
    "InvoiceLineRecord",
    "InvoiceRecord",
    "LedgerEntry",
    "OrderLine",
    "PendingDelivery",
    "PurchaseOrderRecord",
    "Receipt",
    "ReceivedCarton",
    "RemittanceRecord",
    "ShipNoticeRecord",
    "StateStore",
    "TruckCarton",
]

STATE_VERSION = 1


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=False)


ProductKey = tuple[str, str]  # (qualifier, value)


class OrderLine(_Record):
    """One PO1 line as Amazon sent it, and what became of it (in eaches)."""

    line_number: str
    product_ids: list[ProductKey]
    quantity: int  # PO102, in ``unit``
    unit: str  # EA / CA
    unit_price: Decimal  # PO104, per each (PO105 PE)
    case_pack_qty: int | None = None  # PO4 as sent (a defect may make it wrong)
    sku: str | None = None  # the catalogue item; None for a deliberately unknown product
    catalogue_case_pack: int | None = None
    catalogue_cost: Decimal | None = None
    # Amazon's view after the vendor's documents:
    acknowledged: bool = False
    accepted: int = 0
    backordered: int = 0
    rejected: int = 0
    ever_rejected: bool = False
    confirmed_price: Decimal | None = None  # per each, from the 855
    shipped: int = 0  # on 856s
    received: int = 0  # at the FC
    invoiced: int = 0  # on 810s
    matched: int = 0  # invoiced eaches already matched against receipts at payment

    @property
    def eaches_per_unit(self) -> int:
        return (self.case_pack_qty or 1) if self.unit == "CA" else 1

    @property
    def ordered_eaches(self) -> int:
        return self.quantity * self.eaches_per_unit

    @property
    def confirmed_eaches(self) -> int:
        return self.accepted + self.backordered


class SentVersion(_Record):
    file_name: str
    sent_at: dt.datetime
    quantities: dict[str, int]  # line number -> PO102 in this version


class PurchaseOrderRecord(_Record):
    number: str
    order_type: str
    order_date: dt.date
    vendor_code: str
    sent_at: dt.datetime  # the latest version's
    versions: list[SentVersion] = Field(default_factory=list)
    ship_to_qualifier: str
    ship_to_id: str
    fc_code: str
    window_start: dt.date
    window_end: dt.date
    backorder_allowed: bool
    freight_terms: str | None = None  # FOB01
    lines: list[OrderLine]
    first_acknowledged_at: dt.datetime | None = None
    acknowledgement_files: list[str] = Field(default_factory=list)
    unconfirmed_flagged: bool = False  # poa_missing / poa_late recorded (charged once)
    not_filled_checked: bool = False
    delivered_late_flagged: bool = False

    def line(self, line_number: str) -> OrderLine | None:
        return next((line for line in self.lines if line.line_number == line_number), None)

    def to_document(self) -> PurchaseOrder:
        """The 850 as last sent (to send it again)."""
        return PurchaseOrder(
            order_type=self.order_type,
            purchase_order_number=self.number,
            order_date=self.order_date,
            vendor_code=self.vendor_code,
            freight_terms=FreightTerms(payment_method=self.freight_terms) if self.freight_terms else None,
            backorder_allowed=self.backorder_allowed,
            delivery_window_start=self.window_start,
            delivery_window_end=self.window_end,
            parties=[
                PartyIdentification(role="ST", id_qualifier=self.ship_to_qualifier, id_code=self.ship_to_id)
            ],
            lines=[
                PurchaseOrderLine(
                    line_number=line.line_number,
                    quantity=line.quantity,
                    unit=line.unit,
                    unit_price=line.unit_price,
                    price_basis="PE",
                    product_ids=[ProductId(qualifier=q, value=v) for q, v in line.product_ids],
                    case_pack_qty=line.case_pack_qty,
                )
                for line in self.lines
            ],
        )

    def cogs(self, eaches_by_line: dict[str, int]) -> Decimal:
        """PO cost of some eaches per line (the base of percent-of-COGS chargebacks)."""
        total = Decimal(0)
        for line in self.lines:
            total += line.unit_price * eaches_by_line.get(line.line_number, 0)
        return total


class Defect(_Record):
    """A deliberate mistake in an 850 the simulator sent, so tests can assert on it."""

    kind: Literal["unknown_upc", "wrong_case_pack", "price_off", "resent_po", "invalid_file", "item_cancel"]
    purchase_order: str
    file_name: str
    line_number: str | None = None
    expected: str | None = None  # what a correct PO would say
    actual: str | None = None  # what the file says
    detail: str


class ExchangedFile(_Record):
    """A file Amazon dropped for the vendor, or one the vendor uploaded."""

    name: str
    direction: Literal["sent", "received"]
    at: dt.datetime
    set_ids: list[str]
    interchange_control_number: str | None = None
    group_control_numbers: list[str] = Field(default_factory=list)
    # sent files: the vendor's 997 verdict (AK9 of each group), once it arrives
    vendor_ack_status: str | None = None
    vendor_ack_at: dt.datetime | None = None
    # received files: our verdict per set ("855 0001": "A") and the 997 we returned
    set_statuses: dict[str, str] = Field(default_factory=dict)
    ack_file: str | None = None


class CartonItem(_Record):
    purchase_order: str
    line_number: str | None  # the PO line; None when the item is not on the PO
    product_id: ProductKey
    eaches: int


class Carton(_Record):
    sscc: str | None
    items: list[CartonItem]


class TruckCarton(_Record):
    """A carton as it physically reached the dock: the label on it (a file kept in the state
    folder, scanned at receiving; None: no label at all) and what is really inside, by GTIN."""

    label_file: str | None
    contents: dict[str, int]  # GTIN (UPC-12 / EAN-13 on the units) -> eaches


class ShipNoticeRecord(_Record):
    shipment_id: str  # BSN02
    file_name: str
    received_at: dt.datetime
    purpose: str
    shipped_at: dt.datetime
    arrival_at: dt.datetime  # DTM*017 at the arrival hour (or a recorded delivery)
    scac: str | None
    bill_of_lading: str | None
    ship_to: ProductKey | None  # (qualifier, id)
    purchase_orders: list[str]
    cartons: list[Carton]
    received: bool = False
    receipt_id: str | None = None
    replaced_at: dt.datetime | None = None
    # The cartons as they came off the truck (``AmazonSimulator.deliver``); None: the
    # truck held exactly what the 856 says, labelled as it says.
    truck: list[TruckCarton] | None = None


class PendingDelivery(_Record):
    """Goods that reached a fulfilment centre with no ASN (recorded by ``record_delivery``)."""

    purchase_order: str
    at: dt.datetime
    cartons: int


class ReceivedCarton(_Record):
    sscc: str | None
    purchase_order: str
    line_number: str | None
    product_id: ProductKey
    asn_eaches: int | None  # None: no ASN for this carton
    received_eaches: int


class Receipt(_Record):
    receipt_id: str
    at: dt.datetime
    shipment_id: str | None
    purchase_orders: list[str]
    cartons: list[ReceivedCarton]


class InvoiceLineRecord(_Record):
    line_number: str | None  # the PO line
    product_id: ProductKey
    eaches: int
    unit_price: Decimal  # per each
    amount: Decimal


class InvoiceRecord(_Record):
    invoice_number: str
    file_name: str
    received_at: dt.datetime
    invoice_date: dt.date
    purchase_order: str | None
    total_amount: Decimal
    lines: list[InvoiceLineRecord]
    due_date: dt.date
    status: Literal["open", "rejected", "held", "paid"] = "open"
    paid_in: str | None = None  # trace number of the 820


class Finding(_Record):
    """One breach of Amazon's rules: which document, which rule, where the rule comes from."""

    finding_id: str
    at: dt.datetime
    rule: str
    title: str
    source: str
    document: str  # e.g. "855 for PO 4Z000001", "856 SH0001", "810 INV0001"
    file_name: str | None = None
    purchase_order: str | None = None
    shipment_id: str | None = None
    invoice_number: str | None = None
    detail: str
    chargeback: str | None = None  # ledger reference of the chargeback it caused


class LedgerEntry(_Record):
    """Money Amazon takes from (negative) or gives back to (positive) the vendor, with its cause."""

    reference: str  # RMR02 on the remittance
    kind: Literal[
        "chargeback",
        "shortage_claim",
        "shortage_claim_reversal",
        "price_claim",
        "coop",
        "provision",
        "provision_reversal",
    ]
    amount: Decimal
    created_at: dt.datetime
    category: str
    cause: str  # in words: what happened
    basis: str  # how the amount was computed
    rule: str | None = None
    finding_id: str | None = None
    purchase_order: str | None = None
    shipment_id: str | None = None
    invoice_number: str | None = None
    receipt_ids: list[str] = Field(default_factory=list)
    reverses: str | None = None  # the entry a reversal cancels
    remitted_in: str | None = None  # 820 trace number
    reversed_by: str | None = None


class RemittanceRecord(_Record):
    trace_number: str
    file_name: str
    issued_at: dt.datetime
    period_start: dt.date
    period_end: dt.date
    payment_amount: Decimal
    invoices: list[str]
    ledger_references: list[str]
    deferred: list[str] = Field(default_factory=list)  # deductions left for a later remittance


class AmazonState(_Record):
    version: int = STATE_VERSION
    clock: dt.datetime | None = None  # the simulated clock's now, when simulated
    counters: dict[str, int] = Field(default_factory=dict)
    defect_carry: float = 0.0  # fraction of a defective PO owed to the next batch
    files: list[ExchangedFile] = Field(default_factory=list)
    purchase_orders: dict[str, PurchaseOrderRecord] = Field(default_factory=dict)
    defects: list[Defect] = Field(default_factory=list)
    ship_notices: dict[str, ShipNoticeRecord] = Field(default_factory=dict)
    sscc_seen: dict[str, tuple[str, dt.datetime]] = Field(default_factory=dict)  # sscc -> (shipment, at)
    bols_seen: dict[str, str] = Field(default_factory=dict)  # bill of lading -> shipment id
    pending_deliveries: list[PendingDelivery] = Field(default_factory=list)
    receipts: list[Receipt] = Field(default_factory=list)
    invoices: dict[str, InvoiceRecord] = Field(default_factory=dict)
    rejected_invoice_files: list[str] = Field(default_factory=list)
    inventory: dict[str, int] = Field(default_factory=dict)  # "UP 614141100019" -> 846 QTY*33 (all locations)
    # Per ship-from location of the 846 (N1*SF; "" when none): "NJ01" -> {"UP 614141100019": 12}
    inventory_by_location: dict[str, dict[str, int]] = Field(default_factory=dict)
    findings: list[Finding] = Field(default_factory=list)
    ledger: list[LedgerEntry] = Field(default_factory=list)
    remittances: list[RemittanceRecord] = Field(default_factory=list)
    control_numbers_seen: list[str] = Field(default_factory=list)  # vendor's ISA/GS/ST, for duplicates

    def next_number(self, kind: str) -> int:
        self.counters[kind] = self.counters.get(kind, 0) + 1
        return self.counters[kind]

    def ledger_entry(self, reference: str) -> LedgerEntry | None:
        return next((entry for entry in self.ledger if entry.reference == reference), None)


class StateStore:
    """``<state_dir>/state.json``: load, save atomically; raw files are archived beside it."""

    def __init__(self, state_dir: str | os.PathLike):
        self.state_dir = Path(state_dir)
        self.path = self.state_dir / "state.json"

    def load(self) -> AmazonState:
        if not self.path.exists():
            return AmazonState()
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise RuntimeError(f"simulator state {self.path} cannot be read") from exc
        if data.get("version") != STATE_VERSION:
            raise RuntimeError(
                f"simulator state {self.path} has version {data.get('version')}, expected {STATE_VERSION}"
            )
        return AmazonState.model_validate(data)

    def save(self, state: AmazonState) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        text = state.model_dump_json(indent=1)
        fd, temp = tempfile.mkstemp(prefix=".state.", suffix=".tmp", dir=self.state_dir)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
            os.replace(temp, self.path)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise

    def archive(self, direction: str, name: str, content: bytes) -> Path:
        """Keep a copy of every file sent or received (``archive/sent``, ``archive/received``)."""
        folder = self.state_dir / "archive" / direction
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / name
        if path.exists():  # a vendor may reuse a name after we deleted it: keep both
            path = folder / f"{name}.{len(list(folder.glob(name + '*')))}"
        path.write_bytes(content)
        return path


def money(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"))
