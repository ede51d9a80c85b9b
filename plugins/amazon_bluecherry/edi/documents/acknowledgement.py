"""855 Purchase Order Acknowledgement (vendor -> Amazon)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import ClassVar, Literal

from pydantic import (
    Field,
    NonNegativeInt,
    model_validator,
)

from amazon_bluecherry.edi.documents.base import (
    Code,
    EnvelopeRef,
    PartyIdentification,
    ProductId,
    Reference,
    Text,
    _Document,
    _Model,
    _party,
    _ProductLine,
)
from amazon_bluecherry.edi.documents.codes import (
    AcknowledgementType,
    LineAcknowledgementStatus,
    TransactionPurpose,
)


class LineAcknowledgement(_Model):
    """ACK loop: what happens to (part of) a line: accepted, backordered or rejected."""

    status: LineAcknowledgementStatus
    quantity: NonNegativeInt
    unit: Code
    date_qualifier: Code | None = None  # 068 current schedule ship, 067 delivery ...
    date: dt.date | None = None
    reason_code_agency: Code | None = None
    reason_code_source: Text | None = None
    reason_code: Text | None = None  # why rejected / backordered

    @model_validator(mode="after")
    def _date_pair(self) -> LineAcknowledgement:
        if (self.date_qualifier is None) != (self.date is None):
            raise ValueError("ACK date qualifier (ACK04) and date (ACK05) go together")
        return self


class AcknowledgementLine(_ProductLine):
    """PO1 loop of an 855: the ordered line echoed, with its ACK loops."""

    line_number: Text | None = None
    quantity: NonNegativeInt  # as ordered (0: a line Amazon cancelled)
    unit: Code
    # unit_price: the cost that will be invoiced. Amazon rejects an 855 without it, but that is
    # the guide's verdict (and the simulator's), so a priceless line still parses.
    unit_price: Decimal | None = Field(default=None, ge=0)
    price_basis: Code | None = None
    product_ids: list[ProductId] = Field(min_length=1)  # exactly as sent in the 850
    description: Text | None = None
    acknowledgements: list[LineAcknowledgement] = Field(min_length=1)  # ACK loops


class PurchaseOrderAcknowledgement(_Document):
    """855 Purchase Order Acknowledgement (vendor -> Amazon)."""

    set_id: ClassVar[str] = "855"
    functional_id: ClassVar[str] = "PR"

    type: Literal["purchase_order_acknowledgement"] = "purchase_order_acknowledgement"
    purpose: TransactionPurpose = TransactionPurpose.ORIGINAL
    acknowledgement_type: AcknowledgementType
    purchase_order_number: Text
    purchase_order_date: dt.date
    seller_order_number: Text | None = None
    acknowledgement_date: dt.date | None = None
    currency: Code | None = None
    references: list[Reference] = Field(default_factory=list)
    parties: list[PartyIdentification] = Field(default_factory=list)
    lines: list[AcknowledgementLine] = Field(min_length=1)
    envelope: EnvelopeRef | None = None

    @property
    def ship_to(self) -> PartyIdentification | None:
        return _party(self.parties, "ST")
