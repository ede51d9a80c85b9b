"""820 Payment Order / Remittance Advice (Amazon -> vendor)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import ClassVar, Literal

from pydantic import (
    Field,
    PositiveInt,
    model_validator,
)

from amazon_bluecherry.edi.documents.base import (
    Code,
    DateReference,
    EnvelopeRef,
    PartyIdentification,
    Reference,
    Text,
    _Document,
    _Model,
    _paired,
)


class Adjustment(_Model):
    """ADX: an adjustment (deduction or credit) with its reason code."""

    amount: Decimal  # negative = deduction
    reason_code: Code  # Amazon's list is not public
    reference_qualifier: Code | None = None
    reference_number: Text | None = None
    references: list[Reference] = Field(default_factory=list)
    dates: list[DateReference] = Field(default_factory=list)  # ENT-level adjustments only

    @model_validator(mode="after")
    def _syntax(self) -> Adjustment:
        _paired(self, "P0304", "reference_qualifier", "reference_number")
        return self


class RemittanceItem(_Model):
    """RMR loop: one invoice (or credit memo, debit note) being paid."""

    reference_qualifier: Code  # IV invoice, CM credit memo ...
    reference_number: Text  # the invoice number
    payment_action: Code | None = None  # PI pay item, PO ...
    amount_paid: Decimal | None = None
    invoice_amount: Decimal | None = None
    discount_amount: Decimal | None = None
    adjustment_reason: Code | None = None
    adjustment_amount: Decimal | None = None
    references: list[Reference] = Field(default_factory=list)
    dates: list[DateReference] = Field(default_factory=list)
    adjustments: list[Adjustment] = Field(default_factory=list)

    @property
    def invoice_number(self) -> str | None:
        return self.reference_number if self.reference_qualifier == "IV" else None


class RemittanceEntry(_Model):
    """ENT loop: a group of paid items, with adjustments that apply to the group."""

    sequence: PositiveInt | None = None
    entity_role: Code | None = None
    entity_id_qualifier: Code | None = None
    entity_id: Text | None = None
    adjustments: list[Adjustment] = Field(default_factory=list)  # ADX loops before the RMRs
    items: list[RemittanceItem] = Field(default_factory=list)  # RMR loops

    @model_validator(mode="after")
    def _syntax(self) -> RemittanceEntry:
        _paired(self, "P020304", "entity_role", "entity_id_qualifier", "entity_id")
        return self


class RemittanceAdvice(_Document):
    """820 Payment Order / Remittance Advice (Amazon -> vendor)."""

    set_id: ClassVar[str] = "820"
    functional_id: ClassVar[str] = "RA"

    type: Literal["remittance_advice"] = "remittance_advice"
    transaction_handling: Code  # C payment + remittance, I remittance only ...
    payment_amount: Decimal
    credit_debit: Code  # C / D
    payment_method: Code  # ACH, CHK, FWT, BOP, NON
    payment_format: Code | None = None  # CTX, CCP, PBC
    payment_date: dt.date | None = None
    trace_number: Text  # payment number
    currency: Code | None = None
    references: list[Reference] = Field(default_factory=list)
    dates: list[DateReference] = Field(default_factory=list)
    parties: list[PartyIdentification] = Field(default_factory=list)  # N1 PR payer, PE payee
    entries: list[RemittanceEntry] = Field(default_factory=list)  # ENT loops
    envelope: EnvelopeRef | None = None

    def items(self) -> list[RemittanceItem]:
        """Every RMR of the remittance, in order."""
        return [item for entry in self.entries for item in entry.items]
