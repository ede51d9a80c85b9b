"""The gateway's vocabulary: what the flows read from BlueCherry and write to it.

Emulator-defined; map to your BlueCherry installation. CGS publishes no BlueCherry API,
so these names are ours (apparel-ERP vocabulary: style/color/size, customer/store,
allocation, pick ticket, carton, BOL). Both adapters (REST and flat files) and the
emulator speak exactly these models, so a flow never sees which transport it uses.

Money is ``Decimal`` everywhere (JSON carries it as a string); quantities are eaches;
times are timezone-aware UTC.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "ArOpenItem",
    "AtsRow",
    "AtsSnapshot",
    "Carton",
    "CartonItem",
    "CashReceipt",
    "Customer",
    "GlAccount",
    "Invoice",
    "InvoiceLine",
    "Item",
    "JournalEntry",
    "JournalLine",
    "LedgerLine",
    "PriceListEntry",
    "ReceiptApplication",
    "SalesOrder",
    "SalesOrderDraft",
    "SalesOrderLine",
    "SalesOrderLineDraft",
    "Shipment",
    "ShipmentConfirmation",
    "Store",
    "WriteResult",
    "CANCEL_REASONS",
]

# Money with cents (totals, journal amounts) and unit prices with up to 4 decimals.
Amount = Annotated[Decimal, Field(max_digits=15, decimal_places=2)]
UnitPrice = Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=4)]
Quantity = Annotated[int, Field(ge=0)]
Code = Annotated[str, Field(min_length=1, max_length=40)]

# Why an ordered quantity was not (or will not be) shipped; so_to_poa maps these to 855 codes.
CANCEL_REASONS = {
    "customer_cancelled": "the customer removed the line or set its quantity to zero",
    "out_of_stock": "not enough stock and the order does not allow backorders",
    "unknown_item": "no SKU in the item master matches the line",
    "discontinued": "the style is discontinued",
}


class _Out(BaseModel):
    """Something the ERP tells us; unknown fields from a newer ERP are ignored."""

    model_config = ConfigDict(extra="ignore")


class _In(BaseModel):
    """Something we send the ERP; a misspelt field is an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid")

    def fingerprint(self) -> str:
        """A stable hash of the content: equal content, equal fingerprint (idempotency)."""
        canonical = json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()


# --- master data -----------------------------------------------------------------------


class Item(_Out):
    """One SKU of the item master (SKU = style-color-size)."""

    sku: Code
    style: Code
    color: Code
    color_name: str = ""
    size: Code
    description: str = ""
    division: str = ""
    season: str = ""
    upc: str | None = Field(default=None, description="GTIN-12")
    ean: str | None = Field(default=None, description="GTIN-13")
    asin: str | None = Field(default=None, description="Amazon's ASIN when known")
    case_pack_qty: int = Field(ge=1, description="eaches per case (inner pack Amazon orders by)")
    unit_cost: UnitPrice = Field(description="price per each Amazon pays (its cost)")
    currency: str = "USD"
    active: bool = True


class PriceListEntry(_Out):
    price_list: Code
    sku: Code
    unit_price: UnitPrice
    currency: str = "USD"


class Store(_Out):
    """A ship-to of a customer: a store, a DC, or (for Amazon) a fulfilment centre."""

    bc_customer: Code
    bc_store: Code
    name: str
    store_type: Literal["FC", "DC", "STORE"] = "STORE"
    fc_code: str | None = Field(default=None, description="Amazon FC code, e.g. ABE2 (N1*ST qualifier 92)")
    san: str | None = Field(default=None, description="7-digit SAN-like id (N1*ST qualifier 15)")
    bc_warehouse: Code = Field(description="the warehouse that ships to this store")
    address_line: str = ""
    city: str = ""
    state: str = ""
    postal_code: str = ""
    country: str = "US"


class Customer(_Out):
    bc_customer: Code
    name: str
    currency: str = "USD"
    price_list: Code
    terms_code: Code
    stores: list[Store] = Field(default_factory=list)


# --- sales orders (po_to_so, so_to_poa) ------------------------------------------------


class SalesOrderLineDraft(_In):
    """A line as we want it: the SKU by ``sku`` or by style/color/size."""

    line_number: int = Field(ge=1)
    sku: str | None = None
    style: str | None = None
    color: str | None = None
    size: str | None = None
    qty_eaches: Quantity = Field(description="0 cancels the line")
    unit_price: UnitPrice
    product_id: str | None = Field(default=None, description="the customer's id for the item, echoed back")
    product_id_qualifier: str | None = None

    @model_validator(mode="after")
    def _identified(self) -> SalesOrderLineDraft:
        if not self.sku and not (self.style and self.color and self.size):
            raise ValueError(f"line {self.line_number}: give a sku or style, color and size")
        return self


class SalesOrderDraft(_In):
    """The whole desired state of a sales order for one customer PO.

    Sent again for the same ``customer_po`` it updates the order: quantities change,
    lines with ``qty_eaches`` 0 and lines no longer present are cancelled
    (``customer_cancelled``). The same content sent again changes nothing.
    """

    customer_po: str = Field(min_length=1, max_length=22)
    bc_customer: Code
    bc_store: Code
    bc_warehouse: Code
    order_type: str = Field(default="NE", max_length=10, description="kept verbatim, e.g. Amazon's BEG02")
    ship_window_start: date
    ship_window_end: date
    backorder_allowed: bool = True
    currency: str = "USD"
    lines: list[SalesOrderLineDraft] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> SalesOrderDraft:
        if self.ship_window_end < self.ship_window_start:
            raise ValueError(
                f"PO {self.customer_po}: ship window ends ({self.ship_window_end}) before it starts "
                f"({self.ship_window_start})"
            )
        numbers = [line.line_number for line in self.lines]
        if len(numbers) != len(set(numbers)):
            raise ValueError(f"PO {self.customer_po}: line numbers repeat: {sorted(numbers)}")
        return self


class SalesOrderLine(_Out):
    """A line as the ERP holds it, with its allocation.

    ``qty_ordered = qty_allocated + qty_backordered + qty_cancelled + qty_shipped``
    (picked quantities stay allocated until they ship).
    """

    line_number: int
    sku: str | None = None
    style: str | None = None
    color: str | None = None
    size: str | None = None
    product_id: str | None = None
    product_id_qualifier: str | None = None
    unit_price: UnitPrice
    qty_ordered: Quantity
    qty_allocated: Quantity = 0
    qty_backordered: Quantity = 0
    backorder_date: date | None = Field(
        default=None, description="when a backordered quantity is expected to ship"
    )
    qty_cancelled: Quantity = 0
    cancel_reason: str | None = Field(default=None, description="one of CANCEL_REASONS")
    qty_picked: Quantity = 0
    qty_shipped: Quantity = 0

    @model_validator(mode="after")
    def _adds_up(self) -> SalesOrderLine:
        parts = self.qty_allocated + self.qty_backordered + self.qty_cancelled + self.qty_shipped
        if parts != self.qty_ordered:
            raise ValueError(
                f"line {self.line_number}: allocated+backordered+cancelled+shipped={parts} "
                f"but ordered={self.qty_ordered}"
            )
        return self


class SalesOrder(_Out):
    order_number: Code
    customer_po: str
    bc_customer: Code
    bc_store: Code
    bc_warehouse: Code
    order_type: str
    ship_window_start: date
    ship_window_end: date
    backorder_allowed: bool
    currency: str = "USD"
    status: Literal["open", "partially_shipped", "shipped", "cancelled"]
    revision: int = Field(ge=1, description="1 when created, +1 on every change")
    created_at: AwareDatetime
    updated_at: AwareDatetime
    lines: list[SalesOrderLine]


class WriteResult(_Out):
    """What a write did. Flat files apply in the ERP's next batch cycle: outcome ``queued``."""

    kind: Literal["sales_order", "shipment_confirmation", "journal_entry", "cash_receipt"]
    key: str = Field(description="business key: customer PO, shipment id, journal reference, receipt number")
    idempotency_key: str
    outcome: Literal["created", "updated", "unchanged", "queued"]
    document_number: str | None = Field(default=None, description="order / journal / receipt number")
    revision: int | None = None


# --- fulfilment (fulfilment_to_asn) -----------------------------------------------------


class ShipmentConfirmation(_In):
    """Tells the ERP that the ASN of a shipment was sent."""

    shipment_id: Code
    asn_reference: str = Field(min_length=1, max_length=60, description="e.g. our 856 BSN02 / control number")


class CartonItem(_Out):
    order_number: str
    customer_po: str
    line_number: int
    sku: str
    style: str
    color: str
    size: str
    upc: str | None = None
    qty_eaches: int = Field(ge=1)


class Carton(_Out):
    # Read as BlueCherry has it: fulfilment_to_asn checks the check digit and holds the
    # shipment (a model error here would stop every other shipment of the export too).
    sscc: str = Field(min_length=1, max_length=40, description="SSCC-18 as BlueCherry has it")
    carton_number: int = Field(ge=1)
    weight_lb: Decimal | None = None
    tracking_number: str | None = Field(default=None, description="per-package tracking (small parcel)")
    pallet_sscc: str | None = Field(default=None, description="SSCC-18 of the pallet the carton travels on (LTL/TL)")
    items: list[CartonItem] = Field(min_length=1)


class Shipment(_Out):
    """A shipment to one ship-to (DC/FC), possibly for several POs."""

    shipment_id: Code
    status: Literal["ready", "confirmed"] = Field(description="ready: shipped, ASN not yet confirmed")
    bc_customer: Code
    bc_store: Code
    bc_warehouse: Code
    ship_to_name: str = ""
    customer_pos: list[str]
    order_numbers: list[str]
    carrier_scac: str = Field(min_length=2, max_length=4)
    tracking_number: str | None = None
    bol_number: str
    master_bol: str | None = None
    ship_date: date
    departed_at: AwareDatetime | None = Field(
        default=None, description="when the carrier confirmed collection; None: loaded, waiting for the carrier"
    )
    estimated_delivery: date | None = None
    total_weight_lb: Decimal | None = None
    asn_reference: str | None = None
    confirmed_at: AwareDatetime | None = None
    cartons: list[Carton] = Field(min_length=1)


class InvoiceLine(_Out):
    line_number: int
    sku: str
    style: str
    color: str
    size: str
    upc: str | None = None
    product_id: str | None = None
    product_id_qualifier: str | None = None
    qty_eaches: int = Field(ge=1)
    unit_price: UnitPrice
    amount: Amount


class Invoice(_Out):
    invoice_number: Code
    invoice_date: date
    customer_po: str
    order_number: str
    shipment_id: str
    bc_customer: Code
    bc_store: Code
    currency: str = "USD"
    terms_code: str
    discount_percent: Decimal = Decimal("0")
    discount_days: int = 0
    net_days: int
    due_date: date
    subtotal: Amount
    freight: Amount = Decimal("0.00")
    total: Amount
    open_amount: Amount
    lines: list[InvoiceLine] = Field(min_length=1)


# --- inventory (stock_to_846) -----------------------------------------------------------


class AtsRow(_Out):
    """Available to sell of one SKU in one warehouse.

    ``available = on_hand - allocated - on_hold``: stock on a hold (quality, damage, a
    customer's reservation) is on the shelf but cannot ship. It can be negative when a
    hold or an allocation exceeds what is left. Incoming stock is shown, not included.
    """

    sku: str
    style: str
    color: str
    size: str
    upc: str | None = None
    warehouse: str
    on_hand: int
    allocated: int
    on_hold: int = Field(default=0, description="units on hold (quality, damage): on the shelf, not sellable")
    available: int = Field(description="on_hand - allocated - on_hold")
    incoming: int = 0
    incoming_date: date | None = None

    @model_validator(mode="after")
    def _ats(self) -> AtsRow:
        if self.available != self.on_hand - self.allocated - self.on_hold:
            raise ValueError(
                f"{self.sku}@{self.warehouse}: available {self.available} != on_hand {self.on_hand} "
                f"- allocated {self.allocated} - on_hold {self.on_hold}"
            )
        return self


class AtsSnapshot(_Out):
    snapshot_at: AwareDatetime = Field(description="when the ERP computed these figures")
    last_cycle_at: AwareDatetime | None = Field(
        default=None,
        description="when the ERP last completed a batch cycle (imports applied, allocations run), if known: "
        "a snapshot older than that misses the cycle's allocations",
    )
    warehouse: str | None = None
    rows: list[AtsRow]


# --- finance (remit_to_journals) --------------------------------------------------------


class GlAccount(_Out):
    account: Code
    name: str
    account_type: Literal["asset", "liability", "equity", "revenue", "expense"]


class JournalLine(_In):
    account: Code
    debit: Amount = Decimal("0.00")
    credit: Amount = Decimal("0.00")
    memo: str = ""
    dimensions: dict[str, str] = Field(default_factory=dict, description="e.g. customer, invoice, reason")

    @model_validator(mode="after")
    def _one_side(self) -> JournalLine:
        if self.debit < 0 or self.credit < 0:
            raise ValueError(f"account {self.account}: debit and credit must not be negative")
        if (self.debit > 0) == (self.credit > 0):
            raise ValueError(f"account {self.account}: exactly one of debit or credit must be positive")
        return self


class JournalEntry(_In):
    """A GL journal entry; it must balance (total debits = total credits)."""

    posting_date: date
    reference: str = Field(min_length=1, max_length=60)
    description: str = ""
    source: str = "integration"
    currency: str = "USD"
    lines: list[JournalLine] = Field(min_length=2)

    @model_validator(mode="after")
    def _balanced(self) -> JournalEntry:
        debits = sum((line.debit for line in self.lines), Decimal("0"))
        credits = sum((line.credit for line in self.lines), Decimal("0"))
        if debits != credits:
            raise ValueError(f"journal {self.reference} is unbalanced: debits {debits} != credits {credits}")
        return self

    @property
    def period(self) -> str:
        return f"{self.posting_date:%Y-%m}"


class ReceiptApplication(_In):
    """Cash applied to one invoice, and what the customer deducted from it."""

    invoice_number: Code
    amount_applied: Amount = Field(ge=0)
    deduction_amount: Amount = Field(default=Decimal("0.00"), ge=0)
    deduction_reason: str | None = None


class CashReceipt(_In):
    """Money received from a customer, applied to invoices; any remainder is unapplied cash."""

    receipt_number: Code
    receipt_date: date
    bc_customer: Code
    amount: Amount = Field(gt=0)
    currency: str = "USD"
    method: str = "ACH"
    reference: str = ""
    applications: list[ReceiptApplication] = Field(default_factory=list)

    @model_validator(mode="after")
    def _not_over_applied(self) -> CashReceipt:
        applied = sum((a.amount_applied for a in self.applications), Decimal("0"))
        if applied > self.amount:
            raise ValueError(f"receipt {self.receipt_number}: applied {applied} exceeds amount {self.amount}")
        invoices = [a.invoice_number for a in self.applications]
        if len(invoices) != len(set(invoices)):
            raise ValueError(f"receipt {self.receipt_number}: an invoice is applied twice")
        return self


class ArOpenItem(_Out):
    """An open receivable; ``open_amount`` is signed (unapplied cash is negative)."""

    bc_customer: Code
    document_type: Literal["invoice", "unapplied_cash"]
    document_number: str
    document_date: date
    due_date: date | None = None
    customer_po: str | None = None
    original_amount: Amount
    open_amount: Amount
    currency: str = "USD"


class LedgerLine(_Out):
    journal_number: str
    line_number: int
    posting_date: date
    period: str = Field(pattern=r"^\d{4}-\d{2}$")
    account: str
    debit: Amount
    credit: Amount
    memo: str = ""
    reference: str = ""
    source: str = ""
    dimensions: dict[str, str] = Field(default_factory=dict)
