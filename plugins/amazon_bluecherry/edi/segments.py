"""The segments we read and write, each declared once: field, element position, type.

One :class:`Segment` per X12 segment, as pyx12 declares a segment's elements once in its
maps. :mod:`.parse` reads a segment's elements into model fields through these tables (and
names the element of a value a model refuses); :mod:`.build` writes model fields back
through the same tables. A field is the model's own field name wherever a model exists.

Element types (``kind``):

* ``text`` an ID/AN element; ``int`` a whole number (N0); ``dec`` an R number;
  ``cents`` an N2 amount (two implied decimals, held in currency units);
  ``date`` CCYYMMDD; ``time`` HHMM[SS[d..]]; ``yes_no`` Y/N as a bool;
* ``list`` ``repeat`` positions from ``position`` on, empty ones dropped (N2, AK5);
* ``ids`` product id qualifier/value pairs from ``position`` to the end of the segment.

``component`` marks a component of a composite element (AK401-1/-2, QTY03-1, UIT01-1).
:class:`NamedQualifiers` says which REF/DTM qualifiers a document keeps in a named field.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from pydantic import BaseModel

from amazon_bluecherry.edi import documents as d

__all__ = ["BuildError", "Element", "NamedQualifiers", "Segment", "format_value"]

# An element is text, or a list of components for a composite element (AK401).
BuiltElement = str | list[str]
BuiltSegment = list[BuiltElement]

KINDS = frozenset({"text", "int", "dec", "cents", "date", "time", "yes_no", "list", "ids"})


class BuildError(ValueError):
    """A document that cannot be written as X12 (e.g. text containing a delimiter)."""


@dataclass(frozen=True)
class Element:
    """One element of a segment: the field it holds, where it stands and how it reads."""

    field: str
    position: int  # 1-based, as in "BEG03"
    kind: str = "text"
    component: int | None = None  # 1-based component of a composite element
    repeat: int = 1  # kind "list": how many positions it spans
    required: bool = False  # the segment means nothing without it (HL01, HL03)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown element kind {self.kind!r}")


@dataclass(frozen=True)
class Segment:
    """A segment's elements, and the model its fields make (when they make one alone)."""

    id: str
    elements: tuple[Element, ...]
    model: type[BaseModel] | None = None
    positions: Mapping[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "positions", {e.field: e.position for e in self.elements})

    def position(self, name: str) -> int | None:
        """The element position of field ``name`` (None: not an element of this segment)."""
        return self.positions.get(name)

    def element(self, name: str) -> Element:
        return next(e for e in self.elements if e.field == name)

    def name(self, name: str) -> str:
        """``BEG03``-style name of field ``name``'s element."""
        return f"{self.id}{self.positions[name]:02d}"

    def write(self, source: object) -> BuiltSegment:
        """The segment for ``source`` (a model, or a mapping of field -> value)."""
        values: dict[int, BuiltElement] = {}
        composites: dict[int, dict[int, str]] = {}
        for e in self.elements:
            value = source.get(e.field) if isinstance(source, Mapping) else getattr(source, e.field)
            if e.component is not None:
                composites.setdefault(e.position, {})[e.component] = format_value(value, e.kind)
            elif e.kind in ("list", "ids"):
                parts = _pairs(value) if e.kind == "ids" else [format_value(v, "text") for v in value or ()]
                values.update(zip(range(e.position, e.position + len(parts)), parts, strict=True))
            else:
                values[e.position] = format_value(value, e.kind)
        for position, components in composites.items():
            values[position] = _composite(components)
        out: BuiltSegment = [self.id] + [""] * max(values, default=0)
        for position, value in values.items():
            out[position] = value
        return trimmed(out)


def _pairs(ids: Any) -> list[str]:
    return [part for pid in ids or () for part in (pid.qualifier, pid.value)]


def _composite(components: dict[int, str]) -> BuiltElement:
    parts = [components.get(k, "") for k in range(1, max(components) + 1)]
    while parts and parts[-1] == "":
        parts.pop()
    return parts if len(parts) > 1 else (parts[0] if parts else "")


def trimmed(segment: BuiltSegment) -> BuiltSegment:
    # Trailing empty elements are never written; drop them here too so segments compare.
    while len(segment) > 1 and segment[-1] in ("", []):
        segment.pop()
    return segment


# --- element formats (writing) ----------------------------------------------------------


def format_value(value: object, kind: str = "text") -> str:
    """One element's text: R numbers without trailing zeros, N2 in cents, CCYYMMDD, HHMM."""
    if value is None:
        return ""
    if kind == "cents":
        return _n2(value)  # type: ignore[arg-type]
    if isinstance(value, bool):
        return "Y" if value else "N"
    if isinstance(value, Decimal):
        return _r(value)
    if isinstance(value, dt.date):
        return f"{value.year:04d}{value.month:02d}{value.day:02d}"
    if isinstance(value, dt.time):
        return _time(value)
    return str(value)


def _r(value: Decimal) -> str:
    """An X12 R (decimal) value without trailing zeros or exponent."""
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "") else text


def _n2(value: Decimal) -> str:
    """An N2 value: the amount in cents (two implied decimals)."""
    cents = value * 100
    if cents != cents.to_integral_value():
        raise BuildError(f"amount {value} has more than two decimals and cannot be written as N2")
    return str(int(cents))


def _time(value: dt.time) -> str:
    text = f"{value.hour:02d}{value.minute:02d}"
    if value.second or value.microsecond:
        text += f"{value.second:02d}"
    if value.microsecond:
        text += f"{value.microsecond // 10000:02d}"  # TM allows hundredths at most
    return text


# --- the tables -------------------------------------------------------------------------


def _segment(segment_id: str, model: type[BaseModel] | None, *elements: tuple | Element) -> Segment:
    """``_segment("REF", d.Reference, ("qualifier", 1), ("value", 2), ...)``: (field, position, kind)."""
    return Segment(
        segment_id, tuple(e if isinstance(e, Element) else Element(*e) for e in elements), model
    )


# Shared by several sets.
REF = _segment("REF", d.Reference, ("qualifier", 1), ("value", 2), ("description", 3))
DTM = _segment(
    "DTM", d.DateReference, ("qualifier", 1), ("date", 2, "date"), ("time", 3, "time"), ("time_code", 4)
)
N1 = _segment("N1", None, ("role", 1), ("name", 2), ("id_qualifier", 3), ("id_code", 4))
N2 = _segment("N2", None, Element("additional_names", 1, "list", repeat=2))
N3 = _segment("N3", None, Element("address_lines", 1, "list", repeat=2))
N4 = _segment("N4", None, ("city", 1), ("state", 2), ("postal_code", 3), ("country", 4))
CUR = _segment("CUR", None, ("entity", 1), ("currency", 2))
PID = _segment("PID", None, ("description_type", 1), ("description", 5))  # PID01 F: free form
CTT = _segment("CTT", None, ("line_count", 1, "int"), ("hash_total", 2, "int"))
# PO1 (850, 855) and IT1 (810) share their first elements.
_PRODUCT_LINE = (
    ("line_number", 1),
    ("quantity", 2, "int"),
    ("unit", 3),
    ("unit_price", 4, "dec"),
    ("price_basis", 5),
    ("product_ids", 6, "ids"),
)
PO1 = _segment("PO1", None, *_PRODUCT_LINE)
IT1 = _segment("IT1", None, *_PRODUCT_LINE)
SAC = _segment(
    "SAC",
    d.ChargeAllowance,
    ("indicator", 1),
    ("code", 2),
    ("amount", 5, "cents"),
    ("percent_qualifier", 6),
    ("percent", 7, "dec"),
    ("handling_code", 12),
    ("description", 15),
)

# 850
BEG = _segment(
    "BEG",
    None,
    ("purpose", 1),
    ("order_type", 2),
    ("purchase_order_number", 3),
    ("release_number", 4),
    ("order_date", 5, "date"),
)
FOB = _segment(
    "FOB",
    d.FreightTerms,
    ("payment_method", 1),
    ("location_qualifier", 2),
    ("location", 3),
    ("terms_qualifier", 4),
    ("terms_code", 5),
)
CSH = _segment("CSH", None, ("backorder_allowed", 1, "yes_no"))
PO4 = _segment("PO4", None, ("case_pack_qty", 1, "int"), ("pack_size", 2, "dec"), ("pack_unit", 3))

# 860 (not read as a document: its purchase order number keys the raw file)
BCH = _segment("BCH", None, ("purpose", 1), ("order_type", 2), ("purchase_order_number", 3))

# 855
BAK = _segment(
    "BAK",
    None,
    ("purpose", 1),
    ("acknowledgement_type", 2),
    ("purchase_order_number", 3),
    ("purchase_order_date", 4, "date"),
    ("seller_order_number", 8),
    ("acknowledgement_date", 9, "date"),
)
ACK = _segment(
    "ACK",
    d.LineAcknowledgement,
    ("status", 1),
    ("quantity", 2, "int"),
    ("unit", 3),
    ("date_qualifier", 4),
    ("date", 5, "date"),
    ("reason_code_agency", 27),
    ("reason_code_source", 28),
    ("reason_code", 29),
)

# 856
BSN = _segment(
    "BSN",
    None,
    ("purpose", 1),
    ("shipment_id", 2),
    ("shipment_date", 3, "date"),
    ("shipment_time", 4, "time"),
    ("hierarchy_structure", 5),
)
HL = _segment(
    "HL",
    None,
    Element("hierarchical_id", 1, required=True),
    ("parent_id", 2),
    Element("level_code", 3, required=True),
)
TD1 = _segment(
    "TD1",
    d.ShipmentMeasurements,
    ("packaging_code", 1),
    ("lading_quantity", 2, "int"),
    ("weight_qualifier", 6),
    ("weight", 7, "dec"),
    ("weight_unit", 8),
    ("volume", 9, "dec"),
    ("volume_unit", 10),
)
TD5 = _segment(
    "TD5",
    d.CarrierDetails,
    ("routing_sequence", 1),
    ("id_qualifier", 2),
    ("scac", 3),
    ("transportation_method", 4),
    ("routing", 5),
)
PRF = _segment("PRF", None, ("purchase_order_number", 1), ("purchase_order_date", 4, "date"))
MAN = _segment("MAN", d.Mark, ("qualifier", 1), ("value", 2))
LIN = _segment("LIN", None, ("line_number", 1), ("product_ids", 2, "ids"))
SN1 = _segment(
    "SN1",
    None,
    ("shipped_quantity", 2, "int"),
    ("unit", 3),
    ("ordered_quantity", 5, "int"),
    ("ordered_unit", 6),
)

# 810
BIG = _segment(
    "BIG",
    None,
    ("invoice_date", 1, "date"),
    ("invoice_number", 2),
    ("purchase_order_date", 3, "date"),
    ("purchase_order_number", 4),
    ("transaction_type", 7),
)
ITD = _segment(
    "ITD",
    d.PaymentTerms,
    ("type_code", 1),
    ("basis_date_code", 2),
    ("discount_percent", 3, "dec"),
    ("discount_due_date", 4, "date"),
    ("discount_days", 5, "int"),
    ("net_due_date", 6, "date"),
    ("net_days", 7, "int"),
    ("description", 12),
)
TDS = _segment("TDS", None, ("total_amount", 1, "cents"))
TXI = _segment("TXI", d.Tax, ("tax_type", 1), ("amount", 2, "dec"), ("percent", 3, "dec"))

# 846
BIA = _segment(
    "BIA",
    None,
    ("purpose", 1),
    ("report_type", 2),
    ("report_number", 3),
    ("report_date", 4, "date"),
    ("report_time", 5, "time"),
    ("action_code", 6),
)
# The unit goes in a UIT after the QTY (the QTY loop of the 846 guide); QTY03-1 is read too.
QTY = _segment("QTY", d.InventoryQuantity, ("qualifier", 1), ("quantity", 2, "int"), ("unit", 3, "text", 1))
UIT = _segment("UIT", None, ("unit", 1, "text", 1))

# 820
BPR = _segment(
    "BPR",
    None,
    ("transaction_handling", 1),
    ("payment_amount", 2, "dec"),
    ("credit_debit", 3),
    ("payment_method", 4),
    ("payment_format", 5),
    ("payment_date", 16, "date"),
)
TRN = _segment("TRN", None, ("trace_type", 1), ("trace_number", 2))
ENT = _segment(
    "ENT", None, ("sequence", 1, "int"), ("entity_role", 2), ("entity_id_qualifier", 3), ("entity_id", 4)
)
RMR = _segment(
    "RMR",
    None,
    ("reference_qualifier", 1),
    ("reference_number", 2),
    ("payment_action", 3),
    ("amount_paid", 4, "dec"),
    ("invoice_amount", 5, "dec"),
    ("discount_amount", 6, "dec"),
    ("adjustment_reason", 7),
    ("adjustment_amount", 8, "dec"),
)
ADX = _segment(
    "ADX", None, ("amount", 1, "dec"), ("reason_code", 2), ("reference_qualifier", 3), ("reference_number", 4)
)

# 997
AK1 = _segment(
    "AK1",
    None,
    ("acknowledged_functional_id", 1),
    ("acknowledged_group_control_number", 2),
    ("acknowledged_version", 3),
)
AK2 = _segment("AK2", None, ("set_id", 1), ("control_number", 2), ("implementation_reference", 3))
AK3 = _segment(
    "AK3", None, ("segment_id", 1), ("segment_position", 2, "int"), ("loop_id", 3), ("code", 4)
)
AK4 = _segment(
    "AK4",
    d.ElementError,
    ("element_position", 1, "int", 1),
    ("component_position", 1, "int", 2),
    ("element_reference", 2),
    ("code", 3),
    ("bad_value", 4),
)
AK5 = _segment("AK5", None, ("status", 1), Element("error_codes", 2, "list", repeat=5))
AK9 = _segment(
    "AK9",
    None,
    ("group_status", 1),
    ("sets_included", 2, "int"),
    ("sets_received", 3, "int"),
    ("sets_accepted", 4, "int"),
    Element("group_error_codes", 5, "list", repeat=5),
)


# --- named qualifiers -------------------------------------------------------------------


@dataclass(frozen=True)
class NamedQualifiers:
    """REF/DTM qualifiers a document keeps in named fields; the rest go to ``other``.

    ``fields`` maps a qualifier to {segment field: document field}; the first pair is the
    one that must not appear twice (REF02 of REF*CR is ``vendor_code``).
    """

    segment: Segment
    other: str
    fields: Mapping[str, Mapping[str, str]]

    def qualifiers(self) -> tuple[str, ...]:
        return tuple(self.fields)


PURCHASE_ORDER_REFERENCES = NamedQualifiers(
    REF, "other_references", {"CR": {"value": "vendor_code"}, "PD": {"value": "deal_code"}}
)
PURCHASE_ORDER_DATES = NamedQualifiers(
    DTM,
    "other_dates",
    {"064": {"date": "delivery_window_start"}, "063": {"date": "delivery_window_end"}},
)
SHIP_NOTICE_REFERENCES = NamedQualifiers(
    REF, "other_references", {"BM": {"value": "bill_of_lading"}, "CN": {"value": "carrier_reference"}}
)
SHIP_NOTICE_DATES = NamedQualifiers(
    DTM,
    "other_dates",
    {"011": {"date": "shipped_date", "time": "shipped_time"}, "017": {"date": "estimated_delivery_date"}},
)

# CUR01 (entity) per set: BT buyer (855, 810), SE selling party (846), PR payer (820).
CURRENCY_ENTITY = {"855": "BT", "810": "BT", "846": "SE", "820": "PR"}
