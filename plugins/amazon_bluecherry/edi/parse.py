"""Transaction sets to typed documents (850, 855, 856, 810, 846, 820, 997).

The flows validate a file against the implementation guides first; parsing is still
defensive on its own: a missing element reads as None (never an IndexError), and anything
that cannot be mapped raises :class:`DocumentError` naming the set, the segment, its
position (counted from ST = 1, as an AK3 would) and the element.

Segments the models do not cover (PER, PKG, TD3, SCH, N9/MSG, line-level REF ...) are
skipped; qualifiers without a named field land in the ``other_*`` lists. CTT is not
checked here: Amazon's own samples put quantities in CTT01, so hash totals are the
validator's business, and the builder writes them afresh.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import BaseModel, ValidationError

from amazon_bluecherry.edi import documents as d
from amazon_bluecherry.edi.envelope import Delimiters, FunctionalGroup, Interchange, TransactionSet
from amazon_bluecherry.edi.reader import Source, iter_transaction_sets

__all__ = ["DocumentError", "iter_documents", "parse_file", "parse_transaction"]

log = logging.getLogger(__name__)

_DECIMAL = re.compile(r"^-?(\d+\.?\d*|\.\d+)$")
_INTEGER = re.compile(r"^-?\d+$")
_MISSING: Any = object()


class DocumentError(ValueError):
    """A transaction set that cannot be mapped to its document model.

    ``segment_position`` counts from ST = 1; ``element_position`` is 1-based (None when
    the whole segment or set is at fault).
    """

    def __init__(
        self,
        message: str,
        *,
        set_id: str | None = None,
        control_number: str | None = None,
        segment_id: str | None = None,
        segment_position: int | None = None,
        element_position: int | None = None,
    ):
        self.reason = message
        self.set_id = set_id
        self.control_number = control_number
        self.segment_id = segment_id
        self.segment_position = segment_position
        self.element_position = element_position
        where = f"{set_id or '?'} set {control_number or '?'}"
        if segment_id:
            element = f", element {segment_id}{element_position:02d}" if element_position else ""
            where += f", segment {segment_id} at position {segment_position}{element}"
        super().__init__(f"{where}: {message}")


# --- segment access ----------------------------------------------------------------------


class _Set:
    """The set being parsed: identity for error messages, delimiters for composites."""

    def __init__(self, transaction_set: TransactionSet, delimiters: Delimiters):
        self.set_id = transaction_set.set_id
        self.control_number = transaction_set.control_number
        self.delimiters = delimiters


class _Seg:
    """One segment with typed, bounds-safe element access."""

    __slots__ = ("elements", "position", "owner")

    def __init__(self, elements: list[str], position: int, owner: _Set):
        self.elements = elements
        self.position = position  # ST = 1
        self.owner = owner

    @property
    def id(self) -> str:
        return self.elements[0].strip() if self.elements else ""

    def error(self, element: int | None, message: str) -> DocumentError:
        return DocumentError(
            message,
            set_id=self.owner.set_id,
            control_number=self.owner.control_number,
            segment_id=self.id,
            segment_position=self.position,
            element_position=element,
        )

    def raw(self, n: int) -> str:
        return self.elements[n] if n < len(self.elements) else ""

    def text(self, n: int) -> str | None:
        value = self.raw(n).strip()
        return value or None

    def component(self, n: int, k: int) -> str | None:
        parts = self.raw(n).split(self.owner.delimiters.component)
        value = parts[k - 1].strip() if k <= len(parts) else ""
        return value or None

    def required(self, n: int, what: str) -> str:
        value = self.text(n)
        if value is None:
            raise self.error(n, f"{what} is missing")
        return value

    def date(self, n: int) -> dt.date | None:
        value = self.text(n)
        if value is None:
            return None
        if len(value) != 8 or not value.isdigit():
            raise self.error(n, f"{value!r} is not a date (CCYYMMDD)")
        try:
            return dt.date(int(value[:4]), int(value[4:6]), int(value[6:]))
        except ValueError as exc:
            raise self.error(n, f"{value!r} is not a calendar date") from exc

    def time(self, n: int) -> dt.time | None:
        value = self.text(n)
        if value is None:
            return None
        if len(value) not in (4, 6, 7, 8) or not value.isdigit():
            raise self.error(n, f"{value!r} is not a time (HHMM, HHMMSS or HHMMSSd..)")
        try:
            second = int(value[4:6]) if len(value) >= 6 else 0
            fraction = value[6:]
            micro = int(fraction.ljust(6, "0")) if fraction else 0
            return dt.time(int(value[:2]), int(value[2:4]), second, micro)
        except ValueError as exc:
            raise self.error(n, f"{value!r} is not a valid time of day") from exc

    def decimal(self, n: int) -> Decimal | None:
        value = self.text(n)
        if value is None:
            return None
        if not _DECIMAL.match(value):
            raise self.error(n, f"{value!r} is not a number")
        try:
            return Decimal(value)
        except InvalidOperation as exc:  # pragma: no cover - the pattern admits only numbers
            raise self.error(n, f"{value!r} is not a number") from exc

    def integer(self, n: int) -> int | None:
        number = self.decimal(n)
        if number is None:
            return None
        if number != number.to_integral_value():
            raise self.error(n, f"{self.text(n)!r} is not a whole quantity")
        return int(number)

    def cents(self, n: int) -> Decimal | None:
        """An N2 element (two implied decimals): ``19934`` -> ``Decimal('199.34')``."""
        value = self.text(n)
        if value is None:
            return None
        if not _INTEGER.match(value):
            raise self.error(n, f"{value!r} is not an amount in cents (N2: digits, no decimal point)")
        return Decimal(int(value)).scaleb(-2).quantize(Decimal("0.01"))

    def product_ids(self, first: int) -> list[d.ProductId]:
        """Qualifier/value pairs from element ``first`` on, empty pairs skipped."""
        out = []
        for n in range(first, len(self.elements), 2):
            qualifier, value = self.text(n), self.text(n + 1)
            if qualifier is None and value is None:
                continue
            if qualifier is None or value is None:
                missing = n if qualifier is None else n + 1
                raise self.error(missing, "product id qualifier and product id go together")
            out.append(
                self.make(d.ProductId, {"qualifier": n, "value": n + 1}, qualifier=qualifier, value=value)
            )
        return out

    def make(self, model: type[BaseModel], elements: dict[str, int], **values: Any) -> Any:
        """Build ``model`` from this segment, turning a validation error into a DocumentError."""
        try:
            return model(**values)
        except ValidationError as exc:
            raise _validation_error(exc, lambda field: (self, elements.get(field))) from exc


def _validation_error(exc: ValidationError, where: Any) -> DocumentError:
    first = exc.errors()[0]
    loc = first.get("loc") or ()
    field = loc[0] if loc else None
    seg, element = where(field)
    path = ".".join(str(part) for part in loc)
    message = first.get("msg", "invalid value")
    return seg.error(element, f"{path}: {message}" if path else message)


class _Fields:
    """Values of one model being collected from several segments, remembering their origin."""

    def __init__(self, anchor: _Seg):
        self.anchor = anchor
        self.values: dict[str, Any] = {}
        self.origins: dict[str, tuple[_Seg, int | None]] = {}

    def put(self, name: str, seg: _Seg, n: int | None, value: Any = _MISSING) -> None:
        if value is _MISSING:
            value = seg.text(n) if n is not None else None
        self.values[name] = value
        self.origins[name] = (seg, n)

    def put_once(self, name: str, seg: _Seg, n: int | None, value: Any, what: str) -> None:
        if name in self.values:
            first = self.origins[name][0]
            raise seg.error(None, f"{what} appears twice (first at position {first.position})")
        self.put(name, seg, n, value)

    def append(self, name: str, item: Any) -> None:
        self.values.setdefault(name, []).append(item)

    def make(self, model: type[BaseModel]) -> Any:
        try:
            return model(**self.values)
        except ValidationError as exc:
            raise _validation_error(exc, lambda field: self.origins.get(field, (self.anchor, None))) from exc


# --- shared loops ------------------------------------------------------------------------

# Segments that belong to an N1 loop in every set we read; a set adds its own.
_N1_LOOP = frozenset({"N1", "N2", "N3", "N4", "REF", "PER"})


class _Parties:
    """Collects N1 loops (N1, N2, N3, N4) into PartyIdentification models."""

    def __init__(self, members: frozenset[str]):
        self.members = members
        self.parties: list[d.PartyIdentification] = []
        self._open: _Fields | None = None

    @property
    def open(self) -> bool:
        return self._open is not None

    def take(self, seg: _Seg) -> bool:
        """Consume ``seg`` if it belongs to the current N1 loop (or starts one)."""
        sid = seg.id
        if sid == "N1":
            self.close()
            fields = self._open = _Fields(seg)
            for name, n in (("role", 1), ("name", 2), ("id_qualifier", 3), ("id_code", 4)):
                fields.put(name, seg, n)
            return True
        if self._open is None:
            if sid in ("N2", "N3", "N4"):
                raise seg.error(None, f"{sid} outside an N1 loop")
            return False
        if sid not in self.members:
            self.close()
            return False
        fields = self._open
        if sid == "N2":
            fields.put("additional_names", seg, 1, [v for v in (seg.text(1), seg.text(2)) if v])
        elif sid == "N3":
            lines = fields.values.get("address_lines", [])
            fields.put("address_lines", seg, 1, lines + [v for v in (seg.text(1), seg.text(2)) if v])
        elif sid == "N4":
            for name, n in (("city", 1), ("state", 2), ("postal_code", 3), ("country", 4)):
                fields.put(name, seg, n)
        return True  # REF, PER ... inside the loop: not modelled

    def close(self) -> None:
        if self._open is not None:
            fields, self._open = self._open, None
            self.parties.append(fields.make(d.PartyIdentification))


def _reference(seg: _Seg) -> d.Reference:
    return seg.make(
        d.Reference,
        {"qualifier": 1, "value": 2, "description": 3},
        qualifier=seg.text(1),
        value=seg.text(2),
        description=seg.text(3),
    )


def _date_reference(seg: _Seg) -> d.DateReference:
    return seg.make(
        d.DateReference,
        {"qualifier": 1, "date": 2, "time": 3, "time_code": 4},
        qualifier=seg.text(1),
        date=seg.date(2),
        time=seg.time(3),
        time_code=seg.text(4),
    )


def _description(seg: _Seg, fields: _Fields) -> None:
    # PID*F (free form) carries the item description in PID05; the first one wins.
    if seg.text(1) == "F" and "description" not in fields.values and seg.text(5):
        fields.put("description", seg, 5)


def _header(seg: _Seg, fields: _Fields, spec: tuple[tuple[str, int, str], ...]) -> None:
    for name, n, kind in spec:
        value = {
            "text": seg.text,
            "date": seg.date,
            "time": seg.time,
            "int": seg.integer,
            "dec": seg.decimal,
        }[kind](n)
        fields.put(name, seg, n, value)


def _named_or_other(
    seg: _Seg, fields: _Fields, named: dict[str, str], other: str, build: Any, value_element: int = 2
) -> None:
    """REF/DTM with a qualifier that has a named field go there, the rest to ``other``."""
    qualifier = seg.text(1)
    name = named.get(qualifier or "")
    if name is None:
        fields.append(other, build(seg))
        return
    value = seg.date(value_element) if seg.id == "DTM" else seg.text(value_element)
    fields.put_once(name, seg, value_element, value, f"{seg.id}*{qualifier}")


# --- 850 ---------------------------------------------------------------------------------


def _parse_850(body: list[_Seg], head: _Seg) -> _Fields:
    po = _Fields(head)
    po.values.update(other_references=[], other_dates=[], lines=[])
    parties = _Parties(_N1_LOOP | {"NX2", "SI", "FOB", "TD1", "TD5", "TD3", "TD4", "PKG"})
    line: _Fields | None = None

    def close_line() -> None:
        nonlocal line
        if line is not None:
            po.values["lines"].append(line.make(d.PurchaseOrderLine))
            line = None

    for seg in body:
        sid = seg.id
        if sid == "PO1":
            parties.close()
            close_line()
            line = _line_fields(seg)
            continue
        if line is not None:
            if sid == "PID":
                _description(seg, line)
            elif sid == "PO4":
                line.put_once("case_pack_qty", seg, 1, seg.integer(1), "PO4")
                line.put("pack_size", seg, 2, seg.decimal(2))
                line.put("pack_unit", seg, 3)
            elif sid == "CTT":
                close_line()
            continue  # other line-level segments are not modelled
        if parties.take(seg):
            continue
        if sid == "BEG":
            _header(
                seg,
                po,
                (
                    ("purpose", 1, "text"),
                    ("order_type", 2, "text"),
                    ("purchase_order_number", 3, "text"),
                    ("release_number", 4, "text"),
                    ("order_date", 5, "date"),
                ),
            )
        elif sid == "REF":
            _named_or_other(seg, po, {"CR": "vendor_code", "PD": "deal_code"}, "other_references", _reference)
        elif sid == "DTM":
            _named_or_other(
                seg,
                po,
                {"064": "delivery_window_start", "063": "delivery_window_end"},
                "other_dates",
                _date_reference,
            )
        elif sid == "FOB":
            terms = seg.make(
                d.FreightTerms,
                {
                    "payment_method": 1,
                    "location_qualifier": 2,
                    "location": 3,
                    "terms_qualifier": 4,
                    "terms_code": 5,
                },
                payment_method=seg.text(1),
                location_qualifier=seg.text(2),
                location=seg.text(3),
                terms_qualifier=seg.text(4),
                terms_code=seg.text(5),
            )
            po.put_once("freight_terms", seg, None, terms, "FOB")
        elif sid == "CSH":
            po.put_once("backorder_allowed", seg, 1, _yes_no(seg, 1), "CSH")
    parties.close()
    close_line()
    po.values["parties"] = parties.parties
    return po


def _yes_no(seg: _Seg, n: int) -> bool | None:
    value = seg.text(n)
    if value is None:
        return None
    if value not in ("Y", "N"):
        raise seg.error(n, f"{value!r} is not Y (backorder allowed) or N (no backorder)")
    return value == "Y"


def _line_fields(seg: _Seg) -> _Fields:
    """PO1 / IT1: line number, quantity, unit, price, basis, product id pairs."""
    line = _Fields(seg)
    line.put("line_number", seg, 1)
    line.put("quantity", seg, 2, seg.integer(2))
    line.put("unit", seg, 3)
    line.put("unit_price", seg, 4, seg.decimal(4))
    line.put("price_basis", seg, 5)
    line.put("product_ids", seg, 6, seg.product_ids(6))
    return line


# --- 855 ---------------------------------------------------------------------------------


def _parse_855(body: list[_Seg], head: _Seg) -> _Fields:
    ack = _Fields(head)
    ack.values.update(references=[], lines=[])
    parties = _Parties(_N1_LOOP | {"NX2", "FOB"})
    line: _Fields | None = None

    def close_line() -> None:
        nonlocal line
        if line is not None:
            line.values.setdefault("acknowledgements", [])
            ack.values["lines"].append(line.make(d.AcknowledgementLine))
            line = None

    for seg in body:
        sid = seg.id
        if sid == "PO1":
            parties.close()
            close_line()
            line = _line_fields(seg)
            continue
        if line is not None:
            if sid == "PID":
                _description(seg, line)
            elif sid == "ACK":
                line.append("acknowledgements", _line_acknowledgement(seg))
            elif sid == "CTT":
                close_line()
            continue
        if parties.take(seg):
            continue
        if sid == "BAK":
            _header(
                seg,
                ack,
                (
                    ("purpose", 1, "text"),
                    ("acknowledgement_type", 2, "text"),
                    ("purchase_order_number", 3, "text"),
                    ("purchase_order_date", 4, "date"),
                    ("seller_order_number", 8, "text"),
                    ("acknowledgement_date", 9, "date"),
                ),
            )
        elif sid == "CUR":
            ack.put_once("currency", seg, 2, seg.text(2), "CUR")
        elif sid == "REF":
            ack.append("references", _reference(seg))
    parties.close()
    close_line()
    ack.values["parties"] = parties.parties
    return ack


def _line_acknowledgement(seg: _Seg) -> d.LineAcknowledgement:
    return seg.make(
        d.LineAcknowledgement,
        {
            "status": 1,
            "quantity": 2,
            "unit": 3,
            "date_qualifier": 4,
            "date": 5,
            "reason_code_agency": 27,
            "reason_code_source": 28,
            "reason_code": 29,
        },
        status=seg.text(1),
        quantity=seg.integer(2),
        unit=seg.text(3),
        date_qualifier=seg.text(4),
        date=seg.date(5),
        reason_code_agency=seg.text(27),
        reason_code_source=seg.text(28),
        reason_code=seg.text(29),
    )


# --- 856 ---------------------------------------------------------------------------------


class _Level:
    """One HL and the segments that follow it up to the next HL."""

    def __init__(self, seg: _Seg):
        self.hl = seg
        self.id = seg.required(1, "HL01 hierarchical id")
        self.parent = seg.text(2)
        self.code = seg.required(3, "HL03 level code")
        self.segments: list[_Seg] = []
        self.children: list[_Level] = []


def _parse_856(body: list[_Seg], head: _Seg) -> _Fields:
    notice = _Fields(head)
    notice.values.update(other_references=[], other_dates=[])
    header_segments: list[_Seg] = []
    levels: list[_Level] = []
    by_id: dict[str, _Level] = {}
    for seg in body:
        if seg.id == "HL":
            level = _Level(seg)
            if level.id in by_id:
                raise seg.error(1, f"HL id {level.id} is used twice")
            by_id[level.id] = level
            levels.append(level)
        elif seg.id == "CTT":
            continue  # CTT01 counts HLs or items depending on the partner; not checked here
        elif levels:
            levels[-1].segments.append(seg)
        else:
            header_segments.append(seg)
    roots = []
    for level in levels:
        if level.parent is None:
            roots.append(level)
        elif level.parent in by_id:
            by_id[level.parent].children.append(level)
        else:
            raise level.hl.error(2, f"HL parent {level.parent} does not exist")
    if len(roots) != 1 or roots[0].code != "S":
        raise head.error(None, "an 856 needs exactly one top-level HL, the shipment (S)")
    shipment = roots[0]

    parties = _Parties(_N1_LOOP | {"FOB"})
    for seg in header_segments + shipment.segments:
        if parties.take(seg):
            continue
        sid = seg.id
        if sid == "BSN":
            _header(
                seg,
                notice,
                (
                    ("purpose", 1, "text"),
                    ("shipment_id", 2, "text"),
                    ("shipment_date", 3, "date"),
                    ("shipment_time", 4, "time"),
                    ("hierarchy_structure", 5, "text"),
                ),
            )
        elif sid == "TD1":
            notice.put_once("measurements", seg, None, _measurements(seg), "TD1")
        elif sid == "TD5":
            carrier = seg.make(
                d.CarrierDetails,
                {
                    "routing_sequence": 1,
                    "id_qualifier": 2,
                    "scac": 3,
                    "transportation_method": 4,
                    "routing": 5,
                },
                routing_sequence=seg.text(1),
                id_qualifier=seg.text(2),
                scac=seg.text(3),
                transportation_method=seg.text(4),
                routing=seg.text(5),
            )
            notice.put_once("carrier", seg, None, carrier, "TD5")
        elif sid == "REF":
            _named_or_other(
                seg,
                notice,
                {"BM": "bill_of_lading", "CN": "carrier_reference"},
                "other_references",
                _reference,
            )
        elif sid == "DTM":
            if seg.text(1) == "011" and seg.text(3):
                notice.put("shipped_time", seg, 3, seg.time(3))
            _named_or_other(
                seg,
                notice,
                {"011": "shipped_date", "017": "estimated_delivery_date"},
                "other_dates",
                _date_reference,
            )
    parties.close()
    notice.values["parties"] = parties.parties
    notice.values["orders"] = [_shipment_order(level) for level in _children(shipment, ("O",))]
    return notice


def _children(level: _Level, allowed: tuple[str, ...]) -> list[_Level]:
    for child in level.children:
        if child.code not in allowed:
            names = "/".join(allowed)
            raise child.hl.error(
                3, f"HL level {child.code} under {level.code} is not supported here (expected {names})"
            )
    return level.children


def _measurements(seg: _Seg) -> d.ShipmentMeasurements:
    return seg.make(
        d.ShipmentMeasurements,
        {
            "packaging_code": 1,
            "lading_quantity": 2,
            "weight_qualifier": 6,
            "weight": 7,
            "weight_unit": 8,
            "volume": 9,
            "volume_unit": 10,
        },
        packaging_code=seg.text(1),
        lading_quantity=seg.integer(2),
        weight_qualifier=seg.text(6),
        weight=seg.decimal(7),
        weight_unit=seg.text(8),
        volume=seg.decimal(9),
        volume_unit=seg.text(10),
    )


def _shipment_order(level: _Level) -> d.ShipmentOrder:
    order = _Fields(level.hl)
    order.values.update(references=[])
    parties = _Parties(_N1_LOOP | {"FOB"})
    for seg in level.segments:
        if parties.take(seg):
            continue
        if seg.id == "PRF":
            order.put_once("purchase_order_number", seg, 1, seg.text(1), "PRF")
            order.put("purchase_order_date", seg, 4, seg.date(4))
        elif seg.id == "REF":
            order.append("references", _reference(seg))
    parties.close()
    order.values["parties"] = parties.parties
    order.values["tares"], order.values["packs"], order.values["items"] = [], [], []
    for child in _children(level, ("T", "P", "I")):
        if child.code == "T":
            order.values["tares"].append(_container(child, d.ShipmentTare, ("P", "I")))
        elif child.code == "P":
            order.values["packs"].append(_container(child, d.ShipmentPack, ("I",)))
        else:
            order.values["items"].append(_shipment_item(child))
    return order.make(d.ShipmentOrder)


def _container(level: _Level, model: type[BaseModel], allowed: tuple[str, ...]) -> Any:
    """A tare (pallet) or pack (carton): MAN marks, then its child levels."""
    fields = _Fields(level.hl)
    fields.values["other_marks"] = []
    for seg in level.segments:
        if seg.id != "MAN":
            continue
        qualifier, value = seg.text(1), seg.text(2)
        if qualifier == "GM":
            # Amazon wants the GS1-128 form: "00" application identifier + the 18-digit SSCC.
            sscc = value[2:] if value and len(value) == 20 and value.startswith("00") else value
            fields.put_once("sscc", seg, 2, sscc, "MAN*GM")
        else:
            fields.append(
                "other_marks",
                seg.make(d.Mark, {"qualifier": 1, "value": 2}, qualifier=qualifier, value=value),
            )
    if "P" in allowed:
        fields.values["packs"] = []
    fields.values["items"] = []
    for child in _children(level, allowed):
        if child.code == "P":
            fields.values["packs"].append(_container(child, d.ShipmentPack, ("I",)))
        else:
            fields.values["items"].append(_shipment_item(child))
    return fields.make(model)


def _shipment_item(level: _Level) -> d.ShipmentItem:
    _children(level, ())
    item = _Fields(level.hl)
    for seg in level.segments:
        if seg.id == "LIN":
            item.put_once("line_number", seg, 1, seg.text(1), "LIN")
            item.put("product_ids", seg, 2, seg.product_ids(2))
        elif seg.id == "SN1":
            item.put_once("shipped_quantity", seg, 2, seg.integer(2), "SN1")
            item.put("unit", seg, 3)
            item.put("ordered_quantity", seg, 5, seg.integer(5))
            item.put("ordered_unit", seg, 6)
        elif seg.id == "PID":
            _description(seg, item)
    return item.make(d.ShipmentItem)


# --- 810 ---------------------------------------------------------------------------------


def _parse_810(body: list[_Seg], head: _Seg) -> _Fields:
    invoice = _Fields(head)
    invoice.values.update(references=[], dates=[], lines=[], taxes=[], charges=[])
    parties = _Parties(_N1_LOOP | {"DMG"})
    line: _Fields | None = None
    summary = False  # after TDS: header TXI / SAC

    def close_line() -> None:
        nonlocal line
        if line is not None:
            invoice.values["lines"].append(line.make(d.InvoiceLine))
            line = None

    for seg in body:
        sid = seg.id
        if sid == "IT1":
            parties.close()
            close_line()
            line = _line_fields(seg)
            continue
        if sid == "TDS":
            close_line()
            summary = True
            invoice.put_once("total_amount", seg, 1, seg.cents(1), "TDS")
            continue
        if sid == "CTT":
            close_line()
            continue
        if line is not None:
            if sid == "PID":
                _description(seg, line)
            elif sid == "SAC":
                line.append("charges", _charge(seg))
            continue
        if summary:
            if sid == "TXI":
                invoice.append("taxes", _tax(seg))
            elif sid == "SAC":
                invoice.append("charges", _charge(seg))
            continue
        if parties.take(seg):
            continue
        if sid == "BIG":
            _header(
                seg,
                invoice,
                (
                    ("invoice_date", 1, "date"),
                    ("invoice_number", 2, "text"),
                    ("purchase_order_date", 3, "date"),
                    ("purchase_order_number", 4, "text"),
                    ("transaction_type", 7, "text"),
                ),
            )
        elif sid == "CUR":
            invoice.put_once("currency", seg, 2, seg.text(2), "CUR")
        elif sid == "REF":
            invoice.append("references", _reference(seg))
        elif sid == "DTM":
            invoice.append("dates", _date_reference(seg))
        elif sid == "ITD":
            invoice.put_once("terms", seg, None, _terms(seg), "ITD")
    parties.close()
    close_line()
    invoice.values["parties"] = parties.parties
    return invoice


def _terms(seg: _Seg) -> d.PaymentTerms:
    return seg.make(
        d.PaymentTerms,
        {
            "type_code": 1,
            "basis_date_code": 2,
            "discount_percent": 3,
            "discount_due_date": 4,
            "discount_days": 5,
            "net_due_date": 6,
            "net_days": 7,
            "description": 12,
        },
        type_code=seg.text(1),
        basis_date_code=seg.text(2),
        discount_percent=seg.decimal(3),
        discount_due_date=seg.date(4),
        discount_days=seg.integer(5),
        net_due_date=seg.date(6),
        net_days=seg.integer(7),
        description=seg.text(12),
    )


def _charge(seg: _Seg) -> d.ChargeAllowance:
    return seg.make(
        d.ChargeAllowance,
        {
            "indicator": 1,
            "code": 2,
            "amount": 5,
            "percent_qualifier": 6,
            "percent": 7,
            "handling_code": 12,
            "description": 15,
        },
        indicator=seg.text(1),
        code=seg.text(2),
        amount=seg.cents(5),
        percent_qualifier=seg.text(6),
        percent=seg.decimal(7),
        handling_code=seg.text(12),
        description=seg.text(15),
    )


def _tax(seg: _Seg) -> d.Tax:
    return seg.make(
        d.Tax,
        {"tax_type": 1, "amount": 2, "percent": 3},
        tax_type=seg.text(1),
        amount=seg.decimal(2),
        percent=seg.decimal(3),
    )


# --- 846 ---------------------------------------------------------------------------------


def _parse_846(body: list[_Seg], head: _Seg) -> _Fields:
    advice = _Fields(head)
    advice.values.update(dates=[], items=[])
    parties = _Parties(_N1_LOOP)
    item: _Fields | None = None
    quantity: dict[str, Any] | None = None

    def close_item() -> None:
        nonlocal item
        close_quantity()
        if item is not None:
            item.values.setdefault("quantities", [])
            advice.values["items"].append(item.make(d.InventoryItem))
            item = None

    def close_quantity() -> None:
        nonlocal quantity
        if quantity is not None and item is not None:
            seg = quantity.pop("_seg")
            item.append(
                "quantities",
                seg.make(d.InventoryQuantity, {"qualifier": 1, "quantity": 2, "unit": 3}, **quantity),
            )
        quantity = None

    for seg in body:
        sid = seg.id
        if sid == "LIN":
            parties.close()
            close_item()
            item = _Fields(seg)
            item.put("line_number", seg, 1)
            item.put("product_ids", seg, 2, seg.product_ids(2))
            continue
        if sid == "CTT":
            close_item()
            continue
        if item is not None:
            if sid == "QTY":
                close_quantity()
                quantity = {
                    "_seg": seg,
                    "qualifier": seg.text(1),
                    "quantity": seg.integer(2),
                    "unit": seg.component(3, 1),
                }
            elif sid == "UIT" and quantity is not None and quantity["unit"] is None:
                quantity["unit"] = seg.component(1, 1)
            continue
        if parties.take(seg):
            continue
        if sid == "BIA":
            _header(
                seg,
                advice,
                (
                    ("purpose", 1, "text"),
                    ("report_type", 2, "text"),
                    ("report_number", 3, "text"),
                    ("report_date", 4, "date"),
                    ("report_time", 5, "time"),
                    ("action_code", 6, "text"),
                ),
            )
        elif sid == "CUR":
            advice.put_once("currency", seg, 2, seg.text(2), "CUR")
        elif sid == "DTM":
            advice.append("dates", _date_reference(seg))
    parties.close()
    close_item()
    advice.values["parties"] = parties.parties
    return advice


# --- 820 ---------------------------------------------------------------------------------


def _parse_820(body: list[_Seg], head: _Seg) -> _Fields:
    remittance = _Fields(head)
    remittance.values.update(references=[], dates=[], entries=[])
    parties = _Parties(_N1_LOOP | {"RDM", "DTM"})
    entry: _Fields | None = None
    item: _Fields | None = None
    adjustment: _Fields | None = None  # the latest ADX loop, if it is the current one

    def close_adjustment() -> None:
        nonlocal adjustment
        if adjustment is not None:
            made = adjustment.make(d.Adjustment)
            (item or entry).append("adjustments", made)  # type: ignore[union-attr]
            adjustment = None

    def close_item() -> None:
        nonlocal item
        close_adjustment()
        if item is not None and entry is not None:
            entry.append("items", item.make(d.RemittanceItem))
        item = None

    def close_entry() -> None:
        nonlocal entry
        close_item()
        if entry is not None:
            remittance.values["entries"].append(entry.make(d.RemittanceEntry))
        entry = None

    for seg in body:
        sid = seg.id
        if sid == "ENT":
            parties.close()
            close_entry()
            entry = _Fields(seg)
            entry.values.update(adjustments=[], items=[])
            for name, n in (
                ("sequence", 1),
                ("entity_role", 2),
                ("entity_id_qualifier", 3),
                ("entity_id", 4),
            ):
                entry.put(name, seg, n, seg.integer(n) if n == 1 else seg.text(n))
            continue
        if entry is not None:
            if sid == "RMR":
                close_item()
                item = _Fields(seg)
                item.values.update(references=[], dates=[], adjustments=[])
                for name, n, kind in (
                    ("reference_qualifier", 1, "text"),
                    ("reference_number", 2, "text"),
                    ("payment_action", 3, "text"),
                    ("amount_paid", 4, "dec"),
                    ("invoice_amount", 5, "dec"),
                    ("discount_amount", 6, "dec"),
                    ("adjustment_reason", 7, "text"),
                    ("adjustment_amount", 8, "dec"),
                ):
                    item.put(name, seg, n, seg.decimal(n) if kind == "dec" else seg.text(n))
            elif sid == "ADX":
                close_adjustment()
                adjustment = _Fields(seg)
                adjustment.values.update(references=[], dates=[])
                adjustment.put("amount", seg, 1, seg.decimal(1))
                for name, n in (("reason_code", 2), ("reference_qualifier", 3), ("reference_number", 4)):
                    adjustment.put(name, seg, n)
            elif sid in ("REF", "DTM"):
                target = adjustment or item
                if target is not None:
                    if sid == "REF":
                        target.append("references", _reference(seg))
                    else:
                        target.append("dates", _date_reference(seg))
            continue
        if parties.take(seg):
            continue
        if sid == "BPR":
            _header(
                seg,
                remittance,
                (
                    ("transaction_handling", 1, "text"),
                    ("payment_amount", 2, "dec"),
                    ("credit_debit", 3, "text"),
                    ("payment_method", 4, "text"),
                    ("payment_format", 5, "text"),
                    ("payment_date", 16, "date"),
                ),
            )
        elif sid == "TRN":
            remittance.put_once("trace_number", seg, 2, seg.text(2), "TRN")
        elif sid == "CUR":
            remittance.put_once("currency", seg, 2, seg.text(2), "CUR")
        elif sid == "REF":
            remittance.append("references", _reference(seg))
        elif sid == "DTM":
            remittance.append("dates", _date_reference(seg))
        elif sid in ("RMR", "ADX"):
            raise seg.error(None, f"{sid} outside an ENT loop")
    parties.close()
    close_entry()
    remittance.values["parties"] = parties.parties
    return remittance


# --- 997 ---------------------------------------------------------------------------------


def _parse_997(body: list[_Seg], head: _Seg) -> _Fields:
    ack = _Fields(head)
    ack.values["sets"] = []
    current: _Fields | None = None
    segment_error: _Fields | None = None

    def close_segment_error() -> None:
        nonlocal segment_error
        if segment_error is not None and current is not None:
            current.append("segment_errors", segment_error.make(d.SegmentError))
        segment_error = None

    def close_set() -> None:
        nonlocal current
        close_segment_error()
        if current is not None:
            ack.values["sets"].append(current.make(d.SetAcknowledgement))
        current = None

    for seg in body:
        sid = seg.id
        if sid == "AK1":
            _header(
                seg,
                ack,
                (
                    ("acknowledged_functional_id", 1, "text"),
                    ("acknowledged_group_control_number", 2, "text"),
                    ("acknowledged_version", 3, "text"),
                ),
            )
        elif sid == "AK2":
            close_set()
            current = _Fields(seg)
            current.values.update(segment_errors=[], error_codes=[])
            for name, n in (("set_id", 1), ("control_number", 2), ("implementation_reference", 3)):
                current.put(name, seg, n)
        elif sid == "AK3":
            if current is None:
                raise seg.error(None, "AK3 outside an AK2 loop")
            close_segment_error()
            segment_error = _Fields(seg)
            segment_error.values["element_errors"] = []
            segment_error.put("segment_id", seg, 1)
            segment_error.put("segment_position", seg, 2, seg.integer(2))
            segment_error.put("loop_id", seg, 3)
            segment_error.put("code", seg, 4)
        elif sid == "AK4":
            if segment_error is None:
                raise seg.error(None, "AK4 outside an AK3 loop")
            position = seg.component(1, 1)
            component = seg.component(1, 2)
            if position is not None and not position.isdigit():
                raise seg.error(1, f"{position!r} is not an element position")
            if component is not None and not component.isdigit():
                raise seg.error(1, f"{component!r} is not a component position")
            segment_error.append(
                "element_errors",
                seg.make(
                    d.ElementError,
                    {
                        "element_position": 1,
                        "component_position": 1,
                        "element_reference": 2,
                        "code": 3,
                        "bad_value": 4,
                    },
                    element_position=int(position) if position else None,
                    component_position=int(component) if component else None,
                    element_reference=seg.text(2),
                    code=seg.text(3),
                    bad_value=seg.text(4),
                ),
            )
        elif sid == "AK5":
            if current is None:
                raise seg.error(None, "AK5 outside an AK2 loop")
            close_segment_error()
            current.put("status", seg, 1)
            current.put("error_codes", seg, 2, [c for c in (seg.text(n) for n in range(2, 7)) if c])
            close_set()
        elif sid == "AK9":
            close_set()
            _header(
                seg,
                ack,
                (
                    ("group_status", 1, "text"),
                    ("sets_included", 2, "int"),
                    ("sets_received", 3, "int"),
                    ("sets_accepted", 4, "int"),
                ),
            )
            ack.put("group_error_codes", seg, 5, [c for c in (seg.text(n) for n in range(5, 10)) if c])
    close_set()
    return ack


# --- entry points ------------------------------------------------------------------------

_PARSERS = {
    "850": _parse_850,
    "855": _parse_855,
    "856": _parse_856,
    "810": _parse_810,
    "846": _parse_846,
    "820": _parse_820,
    "997": _parse_997,
}


def _envelope(
    interchange: Interchange | None, group: FunctionalGroup | None, transaction_set: TransactionSet
) -> d.EnvelopeRef:
    def element(segment: list[str] | None, n: int) -> str | None:
        if not segment or n >= len(segment):
            return None
        return segment[n].strip() or None

    isa = interchange.isa if interchange else None
    gs = group.gs if group else None
    st = transaction_set.segments[0] if transaction_set.segments else None
    return d.EnvelopeRef(
        sender_qualifier=element(isa, 5),
        sender_id=element(isa, 6),
        receiver_qualifier=element(isa, 7),
        receiver_id=element(isa, 8),
        interchange_version=element(isa, 12),
        interchange_control_number=element(isa, 13),
        usage=element(isa, 15),
        functional_id=element(gs, 1),
        group_sender_id=element(gs, 2),
        group_receiver_id=element(gs, 3),
        group_control_number=element(gs, 6),
        version=element(gs, 8),
        set_control_number=transaction_set.control_number.strip() or None,
        implementation_reference=element(st, 3) if st and st[0] == "ST" else None,
    )


def parse_transaction(
    transaction_set: TransactionSet,
    interchange: Interchange | None = None,
    group: FunctionalGroup | None = None,
    *,
    delimiters: Delimiters | None = None,
) -> d.Document:
    """Map one transaction set (ST..SE) to its document model.

    :param interchange: / :param group: the envelope the set came in; fills ``envelope``.
    :param delimiters: needed for composite elements; defaults to the interchange's.
    :raises DocumentError: the set id has no model, or the content cannot be mapped.
    """
    delimiters = delimiters or (interchange.delimiters if interchange else Delimiters())
    owner = _Set(transaction_set, delimiters)
    parser = _PARSERS.get(transaction_set.set_id.strip())
    if parser is None:
        raise DocumentError(
            f"no document model for transaction set {transaction_set.set_id!r} "
            f"(supported: {', '.join(sorted(_PARSERS))})",
            set_id=transaction_set.set_id,
            control_number=transaction_set.control_number,
        )
    segments = [_Seg(elements, i, owner) for i, elements in enumerate(transaction_set.segments, start=1)]
    if not segments or segments[0].id != "ST":
        raise DocumentError(
            "transaction set does not start with ST",
            set_id=owner.set_id,
            control_number=owner.control_number,
        )
    head = segments[0]
    body = segments[1:-1] if len(segments) > 1 and segments[-1].id == "SE" else segments[1:]
    fields = parser(body, head)
    fields.put("envelope", head, None, _envelope(interchange, group, transaction_set))
    return fields.make(d.DOCUMENT_TYPES[transaction_set.set_id.strip()])


def iter_documents(source: Source, *, skip_unsupported: bool = False) -> Iterator[d.Document]:
    """Yield the typed document of every transaction set in ``source``, streaming.

    :param source: a path, bytes or a binary file object (see :mod:`.reader`).
    :param skip_unsupported: skip sets with no document model (logged) instead of raising.
    :raises NotX12Error: the input is not X12. :raises DocumentError: a set cannot be mapped.
    """
    for interchange, group, transaction_set in iter_transaction_sets(source):
        if skip_unsupported and transaction_set.set_id.strip() not in _PARSERS:
            log.info(
                "skipping transaction set %s %s: no document model",
                transaction_set.set_id,
                transaction_set.control_number,
            )
            continue
        yield parse_transaction(transaction_set, interchange, group)


def parse_file(source: Source, *, skip_unsupported: bool = False) -> list[d.Document]:
    """All typed documents of an X12 file (path, bytes or binary file), in file order."""
    return list(iter_documents(source, skip_unsupported=skip_unsupported))
