"""846 Inventory Inquiry / Advice (vendor -> Amazon)."""

from __future__ import annotations

import datetime as dt
from typing import ClassVar, Literal

from pydantic import (
    Field,
    NonNegativeInt,
)

from amazon_bluecherry.edi.documents.base import (
    Code,
    DateReference,
    EnvelopeRef,
    PartyIdentification,
    ProductId,
    Text,
    _Document,
    _Model,
    _ProductLine,
)
from amazon_bluecherry.edi.documents.codes import (
    InventoryQuantityQualifier,
    TransactionPurpose,
)


class InventoryQuantity(_Model):
    """QTY: a quantity of one kind (33 available, 17 on hand ...)."""

    qualifier: Code
    quantity: NonNegativeInt
    unit: Code | None = None  # or in the UIT that follows


class InventoryItem(_ProductLine):
    """LIN loop of an 846: an item and its quantities."""

    line_number: Text | None = None
    product_ids: list[ProductId] = Field(min_length=1)
    quantities: list[InventoryQuantity] = Field(min_length=1)

    @property
    def available_quantity(self) -> int | None:
        """QTY*33, the quantity Amazon may order."""
        return next(
            (q.quantity for q in self.quantities if q.qualifier == InventoryQuantityQualifier.AVAILABLE), None
        )


class InventoryAdvice(_Document):
    """846 Inventory Inquiry / Advice (vendor -> Amazon)."""

    set_id: ClassVar[str] = "846"
    functional_id: ClassVar[str] = "IB"

    type: Literal["inventory_advice"] = "inventory_advice"
    purpose: TransactionPurpose = TransactionPurpose.ORIGINAL
    report_type: Code  # DD distributor inventory report ...
    report_number: Text
    report_date: dt.date
    report_time: dt.time | None = None
    action_code: Code | None = None
    currency: Code | None = None
    dates: list[DateReference] = Field(default_factory=list)
    parties: list[PartyIdentification] = Field(default_factory=list)
    items: list[InventoryItem] = Field(min_length=1)
    envelope: EnvelopeRef | None = None
