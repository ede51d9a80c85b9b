"""850 Purchase Order (Amazon -> vendor)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import ClassVar, Literal

from pydantic import (
    Field,
    NonNegativeInt,
    PositiveInt,
    model_validator,
)

from amazon_bluecherry.edi.documents.base import (
    Code,
    DateReference,
    EnvelopeRef,
    PartyIdentification,
    ProductId,
    Reference,
    Text,
    _conditional,
    _Document,
    _Model,
    _no_named,
    _party,
    _ProductLine,
)
from amazon_bluecherry.edi.documents.codes import (
    PurchaseOrderType,
    TransactionPurpose,
)


class FreightTerms(_Model):
    """FOB: who pays freight and under which terms."""

    payment_method: Code  # BP CC DF FO PP PS (SP-API importDetails.methodOfPayment)
    location_qualifier: Code | None = None
    location: Text | None = None
    terms_qualifier: Code | None = None  # 01 = Incoterms
    terms_code: Code | None = None  # e.g. FCA, FOB

    @model_validator(mode="after")
    def _syntax(self) -> FreightTerms:
        _conditional(self, "C0302", "location", "location_qualifier")
        _conditional(self, "C0403", "terms_qualifier", "location")
        return self


class PurchaseOrderLine(_ProductLine):
    """PO1 loop: one ordered item."""

    line_number: Text | None = None  # SP-API itemSequenceNumber
    quantity: NonNegativeInt  # 0 on a re-sent PO is Amazon's "item cancel"
    unit: Code  # EA / CA
    unit_price: Decimal | None = Field(default=None, ge=0)  # net cost
    price_basis: Code | None = None  # PE / RE
    product_ids: list[ProductId] = Field(min_length=1)  # every qualifier/id pair
    description: Text | None = None  # free-form PID
    case_pack_qty: PositiveInt | None = None  # eaches per case
    pack_size: Decimal | None = Field(default=None, gt=0)
    pack_unit: Code | None = None


class PurchaseOrder(_Document):
    """850 Purchase Order (Amazon -> vendor)."""

    set_id: ClassVar[str] = "850"
    functional_id: ClassVar[str] = "PO"

    type: Literal["purchase_order"] = "purchase_order"
    purpose: TransactionPurpose = TransactionPurpose.ORIGINAL
    order_type: PurchaseOrderType
    purchase_order_number: Text
    release_number: Text | None = None
    order_date: dt.date
    vendor_code: Text | None = None  # REF*CR
    deal_code: Text | None = None  # REF*PD
    other_references: list[Reference] = Field(default_factory=list)
    freight_terms: FreightTerms | None = None  # FOB
    backorder_allowed: bool | None = None  # Y / N
    delivery_window_start: dt.date | None = None  # DTM*064 do not deliver before
    delivery_window_end: dt.date | None = None  # DTM*063 do not deliver after
    other_dates: list[DateReference] = Field(default_factory=list)
    parties: list[PartyIdentification] = Field(default_factory=list)  # N1 loops
    lines: list[PurchaseOrderLine] = Field(min_length=1)  # PO1 loops
    envelope: EnvelopeRef | None = None

    @model_validator(mode="after")
    def _consistent(self) -> PurchaseOrder:
        _no_named(self.other_references, "qualifier", ("CR", "PD"), "vendor_code / deal_code")
        _no_named(self.other_dates, "qualifier", ("063", "064"), "delivery_window_start / _end")
        if (
            self.delivery_window_start
            and self.delivery_window_end
            and self.delivery_window_start > self.delivery_window_end
        ):
            raise ValueError(
                f"delivery window starts {self.delivery_window_start} after it ends {self.delivery_window_end}"
            )
        return self

    @property
    def ship_to(self) -> PartyIdentification | None:
        """The N1*ST party (the fulfilment centre)."""
        return _party(self.parties, "ST")
