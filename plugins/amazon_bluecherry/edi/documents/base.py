"""What every document model shares: the base model, X12 value types, references, parties."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any, ClassVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    computed_field,
    model_validator,
)

# A non-empty element value; surrounding blanks are padding, not data.
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
# An X12 ID element (qualifier, code, unit of measure): upper-case letters and digits.
Code = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=10, pattern=r"^[A-Z0-9]+$")
]


# --- shared pieces -----------------------------------------------------------------------


class _Model(BaseModel):
    """Base: unknown fields are errors (a typo must not vanish silently)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @model_validator(mode="before")
    @classmethod
    def _drop_computed_fields(cls, data: Any) -> Any:
        # model_dump() includes computed fields; accept such dumps back as input.
        computed = cls.__pydantic_computed_fields__
        if computed and isinstance(data, dict) and not computed.keys().isdisjoint(data):
            return {k: v for k, v in data.items() if k not in computed}
        return data


def _two_decimals(value: Decimal | None, what: str) -> Decimal | None:
    if value is not None and value != value.quantize(Decimal("0.01")):
        raise ValueError(f"{what} has more than two decimals: {value}")
    return value


def _paired(model: BaseModel, rule: str, *fields: str) -> None:
    """X12 syntax rule P: the fields are all present or all absent."""
    present = [getattr(model, f) is not None for f in fields]
    if any(present) and not all(present):
        raise ValueError(f"{' and '.join(fields)} go together (X12 syntax rule {rule})")


def _conditional(model: BaseModel, rule: str, first: str, *then: str) -> None:
    """X12 syntax rule C: when ``first`` is present, ``then`` are required."""
    if getattr(model, first) is not None and any(getattr(model, f) is None for f in then):
        raise ValueError(f"{first} needs {' and '.join(then)} (X12 syntax rule {rule})")


def _no_named(items: Iterable[Any], attribute: str, named: Iterable[str], field_names: str) -> None:
    # A qualifier with a named field must live in that field, or a rebuild would duplicate it.
    clash = sorted({getattr(item, attribute) for item in items} & set(named))
    if clash:
        raise ValueError(f"qualifier(s) {', '.join(clash)} belong in {field_names}, not in the 'other' list")


class EnvelopeRef(_Model):
    """Envelope context of a document: the interchange, group and set it came in (or went out).

    Read from the ISA, GS and ST by the element names of :mod:`amazon_bluecherry.edi.envelope`.
    """

    sender_qualifier: str | None = None
    sender_id: str | None = None
    receiver_qualifier: str | None = None
    receiver_id: str | None = None
    interchange_version: str | None = None
    interchange_control_number: str | None = None
    usage: str | None = None  # P production, T test
    functional_id: str | None = None
    group_sender_id: str | None = None
    group_receiver_id: str | None = None
    group_control_number: str | None = None
    version: str | None = None  # the group's, e.g. 004010, 005010
    set_control_number: str | None = None
    implementation_reference: str | None = None  # 5010 only


class ProductId(_Model):
    """A product identifier pair: qualifier (BP, EN, UP, VN ...) and value."""

    qualifier: Code
    value: Text


class _ProductLine(_Model):
    """A line that names its product with id pairs; the first pair is the primary one.

    Subclasses declare ``product_ids`` (at least one pair) where it reads best.
    """

    if TYPE_CHECKING:
        product_ids: list[ProductId]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def product_id(self) -> str:
        return self.product_ids[0].value

    @computed_field  # type: ignore[prop-decorator]
    @property
    def product_id_qualifier(self) -> str:
        return self.product_ids[0].qualifier

    def product_id_for(self, qualifier: str) -> str | None:
        """The value of the first product id with ``qualifier`` (e.g. "BP" for the ASIN)."""
        return next((p.value for p in self.product_ids if p.qualifier == qualifier), None)


class Reference(_Model):
    """REF: qualifier, value, description (REF01/02/03)."""

    qualifier: Code
    value: Text | None = None
    description: Text | None = None

    @model_validator(mode="after")
    def _value_or_description(self) -> Reference:
        if self.value is None and self.description is None:
            raise ValueError("REF needs a value (REF02) or a description (REF03)")
        return self


class DateReference(_Model):
    """DTM: qualifier, date, optional time and time code (DTM01-04)."""

    qualifier: Code
    date: dt.date
    time: dt.time | None = None
    time_code: Code | None = None

    @model_validator(mode="after")
    def _syntax(self) -> DateReference:
        _conditional(self, "C0403", "time_code", "time")
        return self


class PartyIdentification(_Model):
    """N1 loop: a party by role (ST ship-to, SF ship-from, BT bill-to, RI remit-to ...)."""

    role: Code
    name: Text | None = None
    id_qualifier: Code | None = None  # 15 SAN, 92 assigned by buyer, ZZ mutually defined
    id_code: Text | None = None
    additional_names: list[Text] = Field(default_factory=list, max_length=2)
    address_lines: list[Text] = Field(default_factory=list, max_length=4)  # repeated N3
    city: Text | None = None
    state: Code | None = None
    postal_code: Text | None = None
    country: Code | None = None

    @model_validator(mode="after")
    def _x12_syntax(self) -> PartyIdentification:
        if self.name is None and self.id_code is None:
            raise ValueError("N1 needs a name (N102) or an id (N104)")
        if (self.id_qualifier is None) != (self.id_code is None):
            raise ValueError("N1 id qualifier (N103) and id (N104) go together")
        if (self.state or self.postal_code or self.country) and self.city is None:
            raise ValueError("N4 needs a city (N401) when state, postal code or country is given")
        return self


def _party(parties: list[PartyIdentification], role: str) -> PartyIdentification | None:
    return next((p for p in parties if p.role == role), None)


class _Document(_Model):
    """Base of the seven document models."""

    set_id: ClassVar[str]
    functional_id: ClassVar[str]
    # Each document declares, as its last field, ``envelope: EnvelopeRef | None`` (last so
    # that JSON reads type first, business fields next, envelope detail at the end).
    if TYPE_CHECKING:
        envelope: EnvelopeRef | None
