"""Typed X12 documents: one pydantic model per transaction set Amazon exchanges with us.

``PurchaseOrder`` (850), ``PurchaseOrderAcknowledgement`` (855), ``ShipNotice`` (856),
``Invoice`` (810), ``InventoryAdvice`` (846), ``RemittanceAdvice`` (820) and
``FunctionalAcknowledgement`` (997). :mod:`.parse` builds them from transaction sets and
:mod:`.build` turns them back into segments; model -> X12 -> model is the identity.

Conventions:

* money and other X12 ``R``/``N2`` numbers are :class:`~decimal.Decimal` (N2 values such as
  TDS01 are held in currency units, not cents); quantities are ``int``; dates and times are
  real ``datetime.date`` / ``datetime.time`` objects.
* Codes whose value drives business logic and whose list Amazon fixes (BEG02 order type,
  BAK02, ACK01, 997 statuses ...) are strict enums. Qualifiers and units stay plain codes
  (``str``), with ``StrEnum`` constants for the Amazon values, because other partners and
  the public samples use many more; the implementation guides (validator) police those.
* The segment elements a field comes from are named in a comment beside it.
* ``other_references`` / ``other_dates`` keep the REF/DTM qualifiers a model has no named
  field for, so a document can be rebuilt without losing them.
* Every document carries ``envelope`` (:class:`EnvelopeRef`): where it came from or went,
  so the integration store can link it to the interchange, group and set.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    NonNegativeInt,
    PositiveInt,
    StringConstraints,
    TypeAdapter,
    computed_field,
    field_validator,
    model_validator,
)

from amazon_bluecherry.edi.gs1 import is_valid_sscc

__all__ = [
    "AcknowledgementLine",
    "AcknowledgementType",
    "Adjustment",
    "CarrierDetails",
    "ChargeAllowance",
    "ChargeIndicator",
    "DateQualifier",
    "DateReference",
    "DOCUMENT_TYPES",
    "Document",
    "ElementError",
    "EnvelopeRef",
    "FreightTerms",
    "FunctionalAcknowledgement",
    "GroupAcknowledgementCode",
    "InventoryAdvice",
    "InventoryItem",
    "InventoryQuantity",
    "InventoryQuantityQualifier",
    "Invoice",
    "InvoiceLine",
    "LineAcknowledgement",
    "LineAcknowledgementStatus",
    "Mark",
    "PartyIdentification",
    "PaymentTerms",
    "PriceBasis",
    "ProductId",
    "ProductIdQualifier",
    "PurchaseOrder",
    "PurchaseOrderAcknowledgement",
    "PurchaseOrderLine",
    "PurchaseOrderType",
    "Reference",
    "ReferenceQualifier",
    "RemittanceAdvice",
    "RemittanceEntry",
    "RemittanceItem",
    "SegmentError",
    "SetAcknowledgement",
    "SetAcknowledgementCode",
    "ShipNotice",
    "ShipmentItem",
    "ShipmentMeasurements",
    "ShipmentOrder",
    "ShipmentPack",
    "ShipmentTare",
    "Tax",
    "TransactionPurpose",
    "UnitOfMeasure",
    "documents_from_json",
    "documents_to_json",
]

# A non-empty element value; surrounding blanks are padding, not data.
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
# An X12 ID element (qualifier, code, unit of measure): upper-case letters and digits.
Code = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=10, pattern=r"^[A-Z0-9]+$")
]


# --- code lists --------------------------------------------------------------------------


class TransactionPurpose(StrEnum):
    """BEG01 / BAK01 / BSN01 / BIA01 (X12 element 353), the values in use with Amazon."""

    ORIGINAL = "00"
    CANCELLATION = "01"
    CHANGE = "04"
    REPLACE = "05"
    CONFIRMATION = "06"
    DUPLICATE = "07"
    ADVANCE_NOTIFICATION = "14"


class PurchaseOrderType(StrEnum):
    """BEG02; one for one with SP-API ``purchaseOrderType``."""

    NEW_ORDER = "NE"  # RegularOrder
    RUSH_ORDER = "RO"  # RushOrder
    CONSIGNED_ORDER = "CN"  # ConsignedOrder
    NEW_PRODUCT_INTRODUCTION = "NP"  # NewProductIntroduction


class AcknowledgementType(StrEnum):
    """BAK02 on Amazon's retail 855."""

    WITH_DETAIL_AND_CHANGE = "AC"
    WITH_DETAIL_NO_CHANGE = "AD"


class LineAcknowledgementStatus(StrEnum):
    """ACK01; mirrors SP-API ``acknowledgementCode``."""

    ACCEPTED = "IA"
    BACKORDERED = "IB"
    REJECTED = "IR"


class ProductIdQualifier(StrEnum):
    """Product id qualifiers Amazon uses in PO1/IT1/LIN (235). Not enforced: see module doc."""

    BUYER_PART_NUMBER = "BP"  # where Amazon puts the ASIN
    EAN = "EN"
    ISBN = "IB"
    UPC_CASE_CODE = "UA"
    GTIN = "UK"
    UPC = "UP"
    VENDOR_ITEM_NUMBER = "VN"
    VENDOR_PART_NUMBER = "VP"


class UnitOfMeasure(StrEnum):
    """Units Amazon orders in (PO103, ACK03, SN103 ...). Not enforced."""

    EACH = "EA"
    CASE = "CA"


class PriceBasis(StrEnum):
    """PO105 / IT105 on Amazon documents. Not enforced."""

    PRICE_PER_EACH = "PE"
    RETAIL_PRICE_PER_EACH = "RE"


class ReferenceQualifier(StrEnum):
    """REF01 values with a named field on some model."""

    VENDOR_CODE = "CR"  # 850: Amazon vendor code
    DEAL_CODE = "PD"  # 850: promotion / deal
    BILL_OF_LADING = "BM"  # 856
    CARRIER_REFERENCE = "CN"  # 856: PRO / tracking number


class DateQualifier(StrEnum):
    """DTM01 values with a named field on some model."""

    DELIVERY_NOT_BEFORE = "064"
    DELIVERY_NOT_AFTER = "063"
    SHIPPED = "011"
    ESTIMATED_DELIVERY = "017"
    AVAILABLE_INVENTORY = "007"  # effective date


class InventoryQuantityQualifier(StrEnum):
    """QTY01 on the 846."""

    AVAILABLE = "33"  # quantity available for sale (stock quantity)
    ON_HAND = "17"
    ON_ORDER = "02"


class ChargeIndicator(StrEnum):
    """SAC01."""

    ALLOWANCE = "A"
    CHARGE = "C"
    NO_ALLOWANCE_OR_CHARGE = "N"


class SetAcknowledgementCode(StrEnum):
    """AK501."""

    ACCEPTED = "A"
    ACCEPTED_WITH_ERRORS = "E"
    REJECTED_MESSAGE_AUTHENTICATION = "M"
    REJECTED = "R"
    REJECTED_ASSURANCE = "W"
    REJECTED_CONTENT_UNDECRYPTABLE = "X"


class GroupAcknowledgementCode(StrEnum):
    """AK901."""

    ACCEPTED = "A"
    ACCEPTED_WITH_ERRORS = "E"
    REJECTED_MESSAGE_AUTHENTICATION = "M"
    PARTIALLY_ACCEPTED = "P"
    REJECTED = "R"
    REJECTED_ASSURANCE = "W"
    REJECTED_CONTENT_UNDECRYPTABLE = "X"


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
    """Envelope context of a document: the interchange, group and set it came in (or went out)."""

    sender_qualifier: str | None = None  # ISA05
    sender_id: str | None = None  # ISA06
    receiver_qualifier: str | None = None  # ISA07
    receiver_id: str | None = None  # ISA08
    interchange_version: str | None = None  # ISA12
    interchange_control_number: str | None = None  # ISA13
    usage: str | None = None  # ISA15 P/T
    functional_id: str | None = None  # GS01
    group_sender_id: str | None = None  # GS02
    group_receiver_id: str | None = None  # GS03
    group_control_number: str | None = None  # GS06
    version: str | None = None  # GS08, e.g. 004010, 005010
    set_control_number: str | None = None  # ST02
    implementation_reference: str | None = None  # ST03 (5010)


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

    role: Code  # N101
    name: Text | None = None  # N102
    id_qualifier: Code | None = None  # N103: 15 SAN, 92 assigned by buyer, ZZ mutually defined
    id_code: Text | None = None  # N104
    additional_names: list[Text] = Field(default_factory=list, max_length=2)  # N201/N202
    address_lines: list[Text] = Field(default_factory=list, max_length=4)  # N301/N302, repeated N3
    city: Text | None = None  # N401
    state: Code | None = None  # N402
    postal_code: Text | None = None  # N403
    country: Code | None = None  # N404

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


# --- 850 ---------------------------------------------------------------------------------


class FreightTerms(_Model):
    """FOB: who pays freight and under which terms."""

    payment_method: Code  # FOB01: BP CC DF FO PP PS (SP-API importDetails.methodOfPayment)
    location_qualifier: Code | None = None  # FOB02
    location: Text | None = None  # FOB03
    terms_qualifier: Code | None = None  # FOB04: 01 = Incoterms
    terms_code: Code | None = None  # FOB05: e.g. FCA, FOB

    @model_validator(mode="after")
    def _syntax(self) -> FreightTerms:
        _conditional(self, "C0302", "location", "location_qualifier")
        _conditional(self, "C0403", "terms_qualifier", "location")
        return self


class PurchaseOrderLine(_ProductLine):
    """PO1 loop: one ordered item."""

    line_number: Text | None = None  # PO101 (SP-API itemSequenceNumber)
    quantity: NonNegativeInt  # PO102; 0 on a re-sent PO is Amazon's "item cancel"
    unit: Code  # PO103: EA / CA
    unit_price: Decimal | None = Field(default=None, ge=0)  # PO104 (net cost)
    price_basis: Code | None = None  # PO105: PE / RE
    product_ids: list[ProductId] = Field(min_length=1)  # PO106/07, PO108/09 ... every pair
    description: Text | None = None  # PID05 (PID01=F)
    case_pack_qty: PositiveInt | None = None  # PO401: eaches per case
    pack_size: Decimal | None = Field(default=None, gt=0)  # PO402
    pack_unit: Code | None = None  # PO403


class PurchaseOrder(_Document):
    """850 Purchase Order (Amazon -> vendor)."""

    set_id: ClassVar[str] = "850"
    functional_id: ClassVar[str] = "PO"

    type: Literal["purchase_order"] = "purchase_order"
    purpose: TransactionPurpose = TransactionPurpose.ORIGINAL  # BEG01
    order_type: PurchaseOrderType  # BEG02
    purchase_order_number: Text  # BEG03
    release_number: Text | None = None  # BEG04
    order_date: dt.date  # BEG05
    vendor_code: Text | None = None  # REF*CR
    deal_code: Text | None = None  # REF*PD
    other_references: list[Reference] = Field(default_factory=list)
    freight_terms: FreightTerms | None = None  # FOB
    backorder_allowed: bool | None = None  # CSH01 Y / N
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


# --- 855 ---------------------------------------------------------------------------------


class LineAcknowledgement(_Model):
    """ACK loop: what happens to (part of) a line: accepted, backordered or rejected."""

    status: LineAcknowledgementStatus  # ACK01
    quantity: NonNegativeInt  # ACK02
    unit: Code  # ACK03
    date_qualifier: Code | None = None  # ACK04: 068 current schedule ship, 067 delivery ...
    date: dt.date | None = None  # ACK05
    reason_code_agency: Code | None = None  # ACK27
    reason_code_source: Text | None = None  # ACK28
    reason_code: Text | None = None  # ACK29: why rejected / backordered

    @model_validator(mode="after")
    def _date_pair(self) -> LineAcknowledgement:
        if (self.date_qualifier is None) != (self.date is None):
            raise ValueError("ACK date qualifier (ACK04) and date (ACK05) go together")
        return self


class AcknowledgementLine(_ProductLine):
    """PO1 loop of an 855: the ordered line echoed, with its ACK loops."""

    line_number: Text | None = None  # PO101
    quantity: NonNegativeInt  # PO102 as ordered (0: a line Amazon cancelled)
    unit: Code  # PO103
    # PO104: the cost that will be invoiced. Amazon rejects an 855 without it, but that is
    # the guide's verdict (and the simulator's), so a priceless line still parses.
    unit_price: Decimal | None = Field(default=None, ge=0)
    price_basis: Code | None = None  # PO105
    product_ids: list[ProductId] = Field(min_length=1)  # exactly as sent in the 850
    description: Text | None = None  # PID05
    acknowledgements: list[LineAcknowledgement] = Field(min_length=1)  # ACK loops


class PurchaseOrderAcknowledgement(_Document):
    """855 Purchase Order Acknowledgement (vendor -> Amazon)."""

    set_id: ClassVar[str] = "855"
    functional_id: ClassVar[str] = "PR"

    type: Literal["purchase_order_acknowledgement"] = "purchase_order_acknowledgement"
    purpose: TransactionPurpose = TransactionPurpose.ORIGINAL  # BAK01
    acknowledgement_type: AcknowledgementType  # BAK02
    purchase_order_number: Text  # BAK03
    purchase_order_date: dt.date  # BAK04
    seller_order_number: Text | None = None  # BAK08
    acknowledgement_date: dt.date | None = None  # BAK09
    currency: Code | None = None  # CUR02
    references: list[Reference] = Field(default_factory=list)
    parties: list[PartyIdentification] = Field(default_factory=list)
    lines: list[AcknowledgementLine] = Field(min_length=1)
    envelope: EnvelopeRef | None = None

    @property
    def ship_to(self) -> PartyIdentification | None:
        return _party(self.parties, "ST")


# --- 856 ---------------------------------------------------------------------------------


class ShipmentMeasurements(_Model):
    """TD1: packaging, lading quantity (cartons), weight, volume."""

    packaging_code: Text | None = None  # TD101, e.g. CTN25
    lading_quantity: PositiveInt | None = None  # TD102
    weight_qualifier: Code | None = None  # TD106: G gross
    weight: Decimal | None = Field(default=None, gt=0)  # TD107
    weight_unit: Code | None = None  # TD108: LB / KG
    volume: Decimal | None = Field(default=None, gt=0)  # TD109
    volume_unit: Code | None = None  # TD110: CF / CR

    @model_validator(mode="after")
    def _syntax(self) -> ShipmentMeasurements:
        _conditional(self, "C0102", "packaging_code", "lading_quantity")
        _conditional(self, "C0607", "weight_qualifier", "weight")
        _paired(self, "P0708", "weight", "weight_unit")
        _paired(self, "P0910", "volume", "volume_unit")
        return self


class CarrierDetails(_Model):
    """TD5: the carrier (SCAC) and routing."""

    routing_sequence: Code | None = None  # TD501: B origin carrier ...
    id_qualifier: Code | None = None  # TD502: 2 = SCAC
    scac: Text | None = None  # TD503
    transportation_method: Code | None = None  # TD504: M motor, U parcel, A air ...
    routing: Text | None = None  # TD505

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

    qualifier: Code  # MAN01
    value: Text  # MAN02


class ShipmentItem(_ProductLine):
    """HL item level: LIN product ids and SN1 quantity shipped."""

    line_number: Text | None = None  # LIN01
    product_ids: list[ProductId] = Field(min_length=1)  # LIN02/03 ...
    shipped_quantity: PositiveInt  # SN102
    unit: Code  # SN103
    ordered_quantity: PositiveInt | None = None  # SN105
    ordered_unit: Code | None = None  # SN106
    description: Text | None = None  # PID05

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

    purchase_order_number: Text  # PRF01
    purchase_order_date: dt.date | None = None  # PRF04
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
    purpose: TransactionPurpose = TransactionPurpose.ORIGINAL  # BSN01
    shipment_id: Text  # BSN02 (unique for 365 days)
    shipment_date: dt.date  # BSN03
    shipment_time: dt.time  # BSN04
    hierarchy_structure: Code | None = "0001"  # BSN05: 0001 = S-O-P-I (T allowed between O and P)
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


# --- 810 ---------------------------------------------------------------------------------


class PaymentTerms(_Model):
    """ITD: terms of sale."""

    type_code: Code | None = None  # ITD01: 01 basic, 02 EOM, 03 fixed date, 05, 09 proximo ...
    basis_date_code: Code | None = None  # ITD02: 3 invoice date ...
    discount_percent: Decimal | None = Field(default=None, ge=0, le=100)  # ITD03
    discount_due_date: dt.date | None = None  # ITD04
    discount_days: NonNegativeInt | None = None  # ITD05
    net_due_date: dt.date | None = None  # ITD06
    net_days: NonNegativeInt | None = None  # ITD07
    description: Text | None = None  # ITD12


class ChargeAllowance(_Model):
    """SAC: a charge or allowance (freight, discount ...)."""

    indicator: ChargeIndicator  # SAC01
    code: Code  # SAC02, e.g. D240 freight, C310 discount
    amount: Decimal | None = Field(default=None, ge=0)  # SAC05 (N2), in currency units
    percent_qualifier: Code | None = None  # SAC06
    percent: Decimal | None = Field(default=None, ge=0)  # SAC07
    handling_code: Code | None = None  # SAC12: 02 off invoice, 06 charge to be paid ...
    description: Text | None = None  # SAC15

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

    tax_type: Code  # TXI01: ST sales tax, GS, VA ...
    amount: Decimal | None = None  # TXI02
    percent: Decimal | None = Field(default=None, ge=0)  # TXI03

    @model_validator(mode="after")
    def _amount_or_percent(self) -> Tax:
        if self.amount is None and self.percent is None:
            raise ValueError("TXI needs an amount (TXI02) or a percent (TXI03)")
        return self


class InvoiceLine(_ProductLine):
    """IT1 loop: one invoiced item."""

    line_number: Text | None = None  # IT101
    quantity: PositiveInt  # IT102
    unit: Code  # IT103
    unit_price: Decimal = Field(ge=0)  # IT104
    price_basis: Code | None = None  # IT105
    product_ids: list[ProductId] = Field(min_length=1)  # IT106/07 ...
    description: Text | None = None  # PID05
    charges: list[ChargeAllowance] = Field(default_factory=list)  # line-level SAC

    @property
    def extended_amount(self) -> Decimal:
        return self.quantity * self.unit_price + sum((c.signed_amount for c in self.charges), Decimal(0))


class Invoice(_Document):
    """810 Invoice (vendor -> Amazon)."""

    set_id: ClassVar[str] = "810"
    functional_id: ClassVar[str] = "IN"

    type: Literal["invoice"] = "invoice"
    invoice_date: dt.date  # BIG01
    invoice_number: Text  # BIG02 (unique forever)
    purchase_order_date: dt.date | None = None  # BIG03
    purchase_order_number: Text | None = None  # BIG04
    transaction_type: Code | None = None  # BIG07: CR credit memo, DI debit invoice ...
    currency: Code | None = None  # CUR02
    references: list[Reference] = Field(default_factory=list)
    parties: list[PartyIdentification] = Field(default_factory=list)  # N1 BT / RI / ST
    terms: PaymentTerms | None = None  # ITD
    dates: list[DateReference] = Field(default_factory=list)  # DTM
    lines: list[InvoiceLine] = Field(min_length=1)  # IT1 loops
    total_amount: Decimal  # TDS01 (N2: written in cents)
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


# --- 846 ---------------------------------------------------------------------------------


class InventoryQuantity(_Model):
    """QTY: a quantity of one kind (33 available, 17 on hand ...)."""

    qualifier: Code  # QTY01
    quantity: NonNegativeInt  # QTY02
    unit: Code | None = None  # QTY03 (or a following UIT01)


class InventoryItem(_ProductLine):
    """LIN loop of an 846: an item and its quantities."""

    line_number: Text | None = None  # LIN01
    product_ids: list[ProductId] = Field(min_length=1)  # LIN02/03 ...
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
    purpose: TransactionPurpose = TransactionPurpose.ORIGINAL  # BIA01
    report_type: Code  # BIA02: DD distributor inventory report ...
    report_number: Text  # BIA03
    report_date: dt.date  # BIA04
    report_time: dt.time | None = None  # BIA05
    action_code: Code | None = None  # BIA06
    currency: Code | None = None  # CUR02
    dates: list[DateReference] = Field(default_factory=list)
    parties: list[PartyIdentification] = Field(default_factory=list)
    items: list[InventoryItem] = Field(min_length=1)
    envelope: EnvelopeRef | None = None


# --- 820 ---------------------------------------------------------------------------------


class Adjustment(_Model):
    """ADX: an adjustment (deduction or credit) with its reason code."""

    amount: Decimal  # ADX01, negative = deduction
    reason_code: Code  # ADX02 (Amazon's list is not public)
    reference_qualifier: Code | None = None  # ADX03
    reference_number: Text | None = None  # ADX04
    references: list[Reference] = Field(default_factory=list)
    dates: list[DateReference] = Field(default_factory=list)  # ENT-level adjustments only

    @model_validator(mode="after")
    def _syntax(self) -> Adjustment:
        _paired(self, "P0304", "reference_qualifier", "reference_number")
        return self


class RemittanceItem(_Model):
    """RMR loop: one invoice (or credit memo, debit note) being paid."""

    reference_qualifier: Code  # RMR01: IV invoice, CM credit memo ...
    reference_number: Text  # RMR02: the invoice number
    payment_action: Code | None = None  # RMR03: PI pay item, PO ...
    amount_paid: Decimal | None = None  # RMR04
    invoice_amount: Decimal | None = None  # RMR05
    discount_amount: Decimal | None = None  # RMR06
    adjustment_reason: Code | None = None  # RMR07
    adjustment_amount: Decimal | None = None  # RMR08
    references: list[Reference] = Field(default_factory=list)
    dates: list[DateReference] = Field(default_factory=list)
    adjustments: list[Adjustment] = Field(default_factory=list)

    @property
    def invoice_number(self) -> str | None:
        return self.reference_number if self.reference_qualifier == "IV" else None


class RemittanceEntry(_Model):
    """ENT loop: a group of paid items, with adjustments that apply to the group."""

    sequence: PositiveInt | None = None  # ENT01
    entity_role: Code | None = None  # ENT02
    entity_id_qualifier: Code | None = None  # ENT03
    entity_id: Text | None = None  # ENT04
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
    transaction_handling: Code  # BPR01: C payment + remittance, I remittance only ...
    payment_amount: Decimal  # BPR02
    credit_debit: Code  # BPR03: C / D
    payment_method: Code  # BPR04: ACH, CHK, FWT, BOP, NON
    payment_format: Code | None = None  # BPR05: CTX, CCP, PBC
    payment_date: dt.date | None = None  # BPR16
    trace_number: Text  # TRN02 (payment number)
    currency: Code | None = None  # CUR02
    references: list[Reference] = Field(default_factory=list)
    dates: list[DateReference] = Field(default_factory=list)
    parties: list[PartyIdentification] = Field(default_factory=list)  # N1 PR payer, PE payee
    entries: list[RemittanceEntry] = Field(default_factory=list)  # ENT loops
    envelope: EnvelopeRef | None = None

    def items(self) -> list[RemittanceItem]:
        """Every RMR of the remittance, in order."""
        return [item for entry in self.entries for item in entry.items]


# --- 997 ---------------------------------------------------------------------------------


class ElementError(_Model):
    """AK4: an element in error."""

    element_position: PositiveInt  # AK401-1
    component_position: PositiveInt | None = None  # AK401-2
    element_reference: Text | None = None  # AK402: data element number
    code: Text  # AK403
    bad_value: Text | None = None  # AK404


class SegmentError(_Model):
    """AK3 loop: a segment in error, with its element errors."""

    segment_id: Code  # AK301
    segment_position: PositiveInt  # AK302, counted from ST = 1
    loop_id: Text | None = None  # AK303
    code: Text | None = None  # AK304
    element_errors: list[ElementError] = Field(default_factory=list)


class SetAcknowledgement(_Model):
    """AK2 loop: the verdict on one transaction set."""

    set_id: Code  # AK201
    control_number: Text  # AK202
    implementation_reference: Text | None = None  # AK203 (5010)
    segment_errors: list[SegmentError] = Field(default_factory=list)
    status: SetAcknowledgementCode  # AK501
    error_codes: list[Text] = Field(default_factory=list, max_length=5)  # AK502-506


class FunctionalAcknowledgement(_Document):
    """997 Functional Acknowledgement (both directions)."""

    set_id: ClassVar[str] = "997"
    functional_id: ClassVar[str] = "FA"

    type: Literal["functional_acknowledgement"] = "functional_acknowledgement"
    acknowledged_functional_id: Code  # AK101
    acknowledged_group_control_number: Text  # AK102
    acknowledged_version: Text | None = None  # AK103 (5010)
    sets: list[SetAcknowledgement] = Field(default_factory=list)
    group_status: GroupAcknowledgementCode  # AK901
    sets_included: NonNegativeInt  # AK902
    sets_received: NonNegativeInt  # AK903
    sets_accepted: NonNegativeInt  # AK904
    group_error_codes: list[Text] = Field(default_factory=list, max_length=5)  # AK905-909
    envelope: EnvelopeRef | None = None

    @model_validator(mode="after")
    def _counts(self) -> FunctionalAcknowledgement:
        if self.sets_accepted > self.sets_received:
            raise ValueError(f"AK904 accepted {self.sets_accepted} > AK903 received {self.sets_received}")
        return self


# --- registry ----------------------------------------------------------------------------

Document = Annotated[
    PurchaseOrder
    | PurchaseOrderAcknowledgement
    | ShipNotice
    | Invoice
    | InventoryAdvice
    | RemittanceAdvice
    | FunctionalAcknowledgement,
    Field(discriminator="type"),
]

# Transaction set id -> model class.
DOCUMENT_TYPES: dict[str, type[_Document]] = {
    cls.set_id: cls
    for cls in (
        PurchaseOrder,
        PurchaseOrderAcknowledgement,
        ShipNotice,
        Invoice,
        InventoryAdvice,
        RemittanceAdvice,
        FunctionalAcknowledgement,
    )
}

_DOCUMENT_LIST = TypeAdapter(list[Document])


def documents_to_json(documents: Iterable[_Document], *, indent: int | None = 2) -> str:
    """JSON of documents: a list, each with its ``type``; decimals as strings, dates ISO."""
    return _DOCUMENT_LIST.dump_json(list(documents), indent=indent).decode()  # type: ignore[arg-type]


def documents_from_json(text: str | bytes) -> list[_Document]:
    """The inverse of :func:`documents_to_json`."""
    return _DOCUMENT_LIST.validate_json(text)  # type: ignore[return-value]
