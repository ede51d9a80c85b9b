"""856 Ship Notice / Manifest (vendor -> Amazon)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, ClassVar, Literal

from pydantic import (
    AfterValidator,
    Field,
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
    _conditional,
    _Document,
    _Model,
    _no_named,
    _paired,
    _party,
    _ProductLine,
)
from amazon_bluecherry.edi.documents.codes import (
    TransactionPurpose,
)
from amazon_bluecherry.edi.gs1 import is_valid_sscc


class ShipmentMeasurements(_Model):
    """TD1: packaging, lading quantity (cartons), weight, volume."""

    packaging_code: Text | None = None  # e.g. CTN25
    lading_quantity: PositiveInt | None = None
    weight_qualifier: Code | None = None  # G gross
    weight: Decimal | None = Field(default=None, gt=0)
    weight_unit: Code | None = None  # LB / KG
    volume: Decimal | None = Field(default=None, gt=0)
    volume_unit: Code | None = None  # CF / CR

    @model_validator(mode="after")
    def _syntax(self) -> ShipmentMeasurements:
        _conditional(self, "C0102", "packaging_code", "lading_quantity")
        _conditional(self, "C0607", "weight_qualifier", "weight")
        _paired(self, "P0708", "weight", "weight_unit")
        _paired(self, "P0910", "volume", "volume_unit")
        return self


class CarrierDetails(_Model):
    """TD5: the carrier (SCAC) and routing."""

    routing_sequence: Code | None = None  # B origin carrier ...
    id_qualifier: Code | None = None  # 2 = SCAC
    scac: Text | None = None
    transportation_method: Code | None = None  # M motor, U parcel, A air ...
    routing: Text | None = None

    @model_validator(mode="after")
    def _id_pair(self) -> CarrierDetails:
        if (self.id_qualifier is None) != (self.scac is None):
            raise ValueError("TD5 id qualifier (TD502) and carrier code (TD503) go together")
        return self


def _check_sscc(value: str) -> str:
    if not is_valid_sscc(value):
        raise ValueError(f"SSCC {value!r} is not 18 digits with a valid GS1 check digit")
    return value


# An SSCC-18 (carton or pallet label), check digit verified.
Sscc = Annotated[str, AfterValidator(_check_sscc)]


class Mark(_Model):
    """MAN other than GM: marks and numbers (e.g. a carrier's package id)."""

    qualifier: Code
    value: Text


class ShipmentItem(_ProductLine):
    """HL item level: LIN product ids and SN1 quantity shipped."""

    line_number: Text | None = None
    product_ids: list[ProductId] = Field(min_length=1)
    shipped_quantity: PositiveInt
    unit: Code
    ordered_quantity: PositiveInt | None = None
    ordered_unit: Code | None = None
    description: Text | None = None

    @model_validator(mode="after")
    def _syntax(self) -> ShipmentItem:
        _paired(self, "P0506", "ordered_quantity", "ordered_unit")
        return self


class ShipmentPack(_Model):
    """HL pack level (a carton): its SSCC-18 (MAN*GM, written with the 00 prefix) and items."""

    sscc: Sscc | None = None  # MAN*GM, MAN02 without the "00" application identifier
    other_marks: list[Mark] = Field(default_factory=list)
    items: list[ShipmentItem] = Field(default_factory=list)

    @field_validator("other_marks")
    @classmethod
    def _gm_is_the_sscc(cls, marks: list[Mark]) -> list[Mark]:
        _no_named(marks, "qualifier", ("GM",), "sscc")
        return marks


class ShipmentTare(_Model):
    """HL tare level (a pallet): its SSCC, cartons on it, or loose items."""

    sscc: Sscc | None = None  # MAN*GM
    other_marks: list[Mark] = Field(default_factory=list)
    packs: list[ShipmentPack] = Field(default_factory=list)
    items: list[ShipmentItem] = Field(default_factory=list)

    @field_validator("other_marks")
    @classmethod
    def _gm_is_the_sscc(cls, marks: list[Mark]) -> list[Mark]:
        _no_named(marks, "qualifier", ("GM",), "sscc")
        return marks


class ShipmentOrder(_Model):
    """HL order level: one purchase order in the shipment."""

    purchase_order_number: Text
    purchase_order_date: dt.date | None = None
    references: list[Reference] = Field(default_factory=list)
    parties: list[PartyIdentification] = Field(default_factory=list)
    tares: list[ShipmentTare] = Field(default_factory=list)
    packs: list[ShipmentPack] = Field(default_factory=list)
    items: list[ShipmentItem] = Field(default_factory=list)  # S-O-I: items straight under the order

    def all_items(self) -> list[ShipmentItem]:
        """Every item of the order, wherever it sits in the hierarchy."""
        out = list(self.items)
        for tare in self.tares:
            out.extend(tare.items)
            for pack in tare.packs:
                out.extend(pack.items)
        for pack in self.packs:
            out.extend(pack.items)
        return out


class ShipNotice(_Document):
    """856 Ship Notice / Manifest (vendor -> Amazon): Shipment > Order > [Tare] > Pack > Item."""

    set_id: ClassVar[str] = "856"
    functional_id: ClassVar[str] = "SH"

    type: Literal["ship_notice"] = "ship_notice"
    purpose: TransactionPurpose = TransactionPurpose.ORIGINAL
    shipment_id: Text  # unique for 365 days
    shipment_date: dt.date
    shipment_time: dt.time
    hierarchy_structure: Code | None = "0001"  # 0001 = S-O-P-I (T allowed between O and P)
    measurements: ShipmentMeasurements | None = None  # TD1
    carrier: CarrierDetails | None = None  # TD5
    bill_of_lading: Text | None = None  # REF*BM
    carrier_reference: Text | None = None  # REF*CN: PRO / tracking number
    other_references: list[Reference] = Field(default_factory=list)
    shipped_date: dt.date | None = None  # DTM*011
    shipped_time: dt.time | None = None  # DTM*011 DTM03
    estimated_delivery_date: dt.date | None = None  # DTM*017
    other_dates: list[DateReference] = Field(default_factory=list)
    parties: list[PartyIdentification] = Field(default_factory=list)  # N1*ST, N1*SF
    orders: list[ShipmentOrder] = Field(min_length=1)
    envelope: EnvelopeRef | None = None

    @model_validator(mode="after")
    def _consistent(self) -> ShipNotice:
        _no_named(self.other_references, "qualifier", ("BM", "CN"), "bill_of_lading / carrier_reference")
        _no_named(self.other_dates, "qualifier", ("011", "017"), "shipped_date / estimated_delivery_date")
        if self.shipped_time is not None and self.shipped_date is None:
            raise ValueError("shipped_time needs shipped_date")
        return self

    @property
    def ship_to(self) -> PartyIdentification | None:
        return _party(self.parties, "ST")

    @property
    def ship_from(self) -> PartyIdentification | None:
        return _party(self.parties, "SF")
