"""810 Invoice (vendor -> Amazon)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import ClassVar, Literal

from pydantic import (
    Field,
    NonNegativeInt,
    PositiveInt,
    field_validator,
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
    _Document,
    _Model,
    _paired,
    _party,
    _ProductLine,
    _two_decimals,
)
from amazon_bluecherry.edi.documents.codes import (
    ChargeIndicator,
)


class PaymentTerms(_Model):
    """ITD: terms of sale."""

    type_code: Code | None = None  # 01 basic, 02 EOM, 03 fixed date, 05, 09 proximo ...
    basis_date_code: Code | None = None  # 3 invoice date ...
    discount_percent: Decimal | None = Field(default=None, ge=0, le=100)
    discount_due_date: dt.date | None = None
    discount_days: NonNegativeInt | None = None
    net_due_date: dt.date | None = None
    net_days: NonNegativeInt | None = None
    description: Text | None = None


class ChargeAllowance(_Model):
    """SAC: a charge or allowance (freight, discount ...)."""

    indicator: ChargeIndicator
    code: Code  # e.g. D240 freight, C310 discount
    amount: Decimal | None = Field(default=None, ge=0)  # N2, in currency units
    percent_qualifier: Code | None = None
    percent: Decimal | None = Field(default=None, ge=0)
    handling_code: Code | None = None  # 02 off invoice, 06 charge to be paid ...
    description: Text | None = None

    @field_validator("amount")
    @classmethod
    def _cents(cls, value: Decimal | None) -> Decimal | None:
        return _two_decimals(value, "SAC05 amount")

    @model_validator(mode="after")
    def _syntax(self) -> ChargeAllowance:
        _paired(self, "P0607", "percent_qualifier", "percent")
        return self

    @property
    def signed_amount(self) -> Decimal:
        """The amount as it affects the invoice total: allowances subtract."""
        amount = self.amount or Decimal(0)
        return -amount if self.indicator == ChargeIndicator.ALLOWANCE else amount


class Tax(_Model):
    """TXI: a tax amount or rate."""

    tax_type: Code  # ST sales tax, GS, VA ...
    amount: Decimal | None = None
    percent: Decimal | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _amount_or_percent(self) -> Tax:
        if self.amount is None and self.percent is None:
            raise ValueError("TXI needs an amount (TXI02) or a percent (TXI03)")
        return self


class InvoiceLine(_ProductLine):
    """IT1 loop: one invoiced item."""

    line_number: Text | None = None
    quantity: PositiveInt
    unit: Code
    unit_price: Decimal = Field(ge=0)
    price_basis: Code | None = None
    product_ids: list[ProductId] = Field(min_length=1)
    description: Text | None = None
    charges: list[ChargeAllowance] = Field(default_factory=list)  # line-level SAC

    @property
    def extended_amount(self) -> Decimal:
        return self.quantity * self.unit_price + sum((c.signed_amount for c in self.charges), Decimal(0))


class Invoice(_Document):
    """810 Invoice (vendor -> Amazon)."""

    set_id: ClassVar[str] = "810"
    functional_id: ClassVar[str] = "IN"

    type: Literal["invoice"] = "invoice"
    invoice_date: dt.date
    invoice_number: Text  # unique forever
    purchase_order_date: dt.date | None = None
    purchase_order_number: Text | None = None
    transaction_type: Code | None = None  # CR credit memo, DI debit invoice ...
    currency: Code | None = None
    references: list[Reference] = Field(default_factory=list)
    parties: list[PartyIdentification] = Field(default_factory=list)  # N1 BT / RI / ST
    terms: PaymentTerms | None = None  # ITD
    dates: list[DateReference] = Field(default_factory=list)  # DTM
    lines: list[InvoiceLine] = Field(min_length=1)  # IT1 loops
    total_amount: Decimal  # N2: written in cents
    taxes: list[Tax] = Field(default_factory=list)  # header TXI
    charges: list[ChargeAllowance] = Field(default_factory=list)  # header SAC
    envelope: EnvelopeRef | None = None

    @field_validator("total_amount")
    @classmethod
    def _cents(cls, value: Decimal) -> Decimal:
        return _two_decimals(value, "TDS01 total")  # type: ignore[return-value]

    def expected_total(self) -> Decimal:
        """Lines plus charges minus allowances plus tax: what TDS01 should say (Amazon's rule)."""
        total = sum((line.extended_amount for line in self.lines), Decimal(0))
        total += sum((c.signed_amount for c in self.charges), Decimal(0))
        total += sum((t.amount or Decimal(0) for t in self.taxes), Decimal(0))
        return total

    @property
    def remit_to(self) -> PartyIdentification | None:
        return _party(self.parties, "RI")

    @property
    def bill_to(self) -> PartyIdentification | None:
        return _party(self.parties, "BT")
