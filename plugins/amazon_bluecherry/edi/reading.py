"""Reading one segment's elements into model fields, through the tables of :mod:`.segments`.

A missing element reads as None (never an IndexError); a value that cannot be read, or that
a model refuses, raises :class:`DocumentError` naming the set, the segment, its position
(counted from ST = 1, as an AK3 would) and the element. :mod:`.parse` walks the sets.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import BaseModel, ValidationError

from amazon_bluecherry.edi import documents as d
from amazon_bluecherry.edi import segments as x
from amazon_bluecherry.edi.envelope import Delimiters, TransactionSet
from amazon_bluecherry.edi.segments import Element, NamedQualifiers, Segment

__all__ = ["DocumentError", "Fields", "Parties", "Seg", "SetContext", "named_or_other"]

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


class SetContext:
    """The set being parsed: identity for error messages, delimiters for composites."""

    def __init__(self, transaction_set: TransactionSet, delimiters: Delimiters):
        self.set_id = transaction_set.set_id
        self.control_number = transaction_set.control_number
        self.delimiters = delimiters


class Seg:
    """One segment with typed, bounds-safe element access."""

    __slots__ = ("elements", "position", "owner")

    def __init__(self, elements: list[str], position: int, owner: SetContext):
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

    # --- by table -------------------------------------------------------------------

    def values(self, segment: Segment, names: Any = None) -> dict[str, Any]:
        """Field -> typed value for the elements of ``segment`` (or only ``names``)."""
        wanted = segment.elements if names is None else [segment.element(n) for n in names]
        return {e.field: self.read(e) for e in wanted}

    def read(self, e: Element) -> Any:
        if e.component is not None:
            return self._component_value(e)
        if e.kind == "list":
            return [v for v in (self.text(n) for n in range(e.position, e.position + e.repeat)) if v]
        if e.kind == "ids":
            return self.product_ids(e.position)
        if e.required:
            return self.required(e.position, f"{self.id}{e.position:02d} {e.field.replace('_', ' ')}")
        return getattr(self, _READERS[e.kind])(e.position)

    def _component_value(self, e: Element) -> Any:
        value = self.component(e.position, e.component)  # type: ignore[arg-type]
        if e.kind == "int" and value is not None:
            if not (value.isascii() and value.isdigit()):
                what = e.field.replace("_", " ")
                raise self.error(e.position, f"{value!r} is not {'an' if what[0] in 'aeiou' else 'a'} {what}")
            return int(value)
        return value

    def make(self, segment: Segment, names: Any = None) -> Any:
        """The model of ``segment`` (its ``model``) from this segment's elements."""
        assert segment.model is not None, f"{segment.id} makes no model on its own"
        return self.make_model(segment.model, segment.positions, **self.values(segment, names))

    def make_model(self, model: type[BaseModel], positions: Any, **values: Any) -> Any:
        """Build ``model``, turning a validation error into a DocumentError at its element."""
        try:
            return model(**values)
        except ValidationError as exc:
            raise _validation_error(exc, lambda field: (self, positions.get(field))) from exc

    # --- by position ----------------------------------------------------------------

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

    def yes_no(self, n: int) -> bool | None:
        value = self.text(n)
        if value is None:
            return None
        if value not in ("Y", "N"):
            raise self.error(n, f"{value!r} is not Y (backorder allowed) or N (no backorder)")
        return value == "Y"

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
            positions = {"qualifier": n, "value": n + 1}
            out.append(self.make_model(d.ProductId, positions, qualifier=qualifier, value=value))
        return out


# Element kind (see .segments) -> the Seg method that reads it.
_READERS = {
    "text": "text",
    "int": "integer",
    "dec": "decimal",
    "cents": "cents",
    "date": "date",
    "time": "time",
    "yes_no": "yes_no",
}


def _validation_error(exc: ValidationError, where: Any) -> DocumentError:
    first = exc.errors()[0]
    loc = first.get("loc") or ()
    field = loc[0] if loc else None
    seg, element = where(field)
    path = ".".join(str(part) for part in loc)
    message = first.get("msg", "invalid value")
    return seg.error(element, f"{path}: {message}" if path else message)


class Fields:
    """Values of one model being collected from several segments, remembering their origin."""

    def __init__(self, anchor: Seg, **values: Any):
        self.anchor = anchor
        self.values: dict[str, Any] = dict(values)
        self.origins: dict[str, tuple[Seg, int | None]] = {}

    def put(self, name: str, seg: Seg, n: int | None, value: Any = _MISSING) -> None:
        if value is _MISSING:
            value = seg.text(n) if n is not None else None
        self.values[name] = value
        self.origins[name] = (seg, n)

    def put_once(self, name: str, seg: Seg, n: int | None, value: Any, what: str) -> None:
        self.refuse_second(name, seg, what)
        self.put(name, seg, n, value)

    def refuse_second(self, name: str, seg: Seg, what: str) -> None:
        if name in self.values:
            first = self.origins[name][0]
            raise seg.error(None, f"{what} appears twice (first at position {first.position})")

    def take(self, seg: Seg, segment: Segment, names: Any = None) -> None:
        """Put the fields of ``segment`` (or only ``names``), each with its element position."""
        for name, value in seg.values(segment, names).items():
            self.put(name, seg, segment.position(name), value)

    def take_once(self, seg: Seg, segment: Segment, names: Any = None) -> None:
        """:meth:`take`, refusing a second such segment in the same loop."""
        self.refuse_second(names[0] if names else segment.elements[0].field, seg, seg.id)
        self.take(seg, segment, names)

    def append(self, name: str, item: Any) -> None:
        self.values.setdefault(name, []).append(item)

    def make(self, model: type[BaseModel]) -> Any:
        try:
            return model(**self.values)
        except ValidationError as exc:
            raise _validation_error(exc, lambda field: self.origins.get(field, (self.anchor, None))) from exc


def named_or_other(seg: Seg, fields: Fields, named: NamedQualifiers) -> None:
    """A REF/DTM whose qualifier has a named field goes there (once), the rest to ``other``."""
    qualifier = seg.text(named.segment.positions["qualifier"])
    mapping = named.fields.get(qualifier or "")
    if mapping is None:
        fields.append(named.other, seg.make(named.segment))
        return
    values = seg.values(named.segment, list(mapping))
    (first, first_field), *rest = mapping.items()
    position = named.segment.position
    fields.put_once(first_field, seg, position(first), values[first], f"{seg.id}*{qualifier}")
    for name, document_field in rest:
        if values[name] is not None:
            fields.put(document_field, seg, position(name), values[name])


def description(seg: Seg, fields: Fields) -> None:
    """PID*F (free form) carries the item description in PID05; the first one wins."""
    values = seg.values(x.PID)
    if values["description_type"] == "F" and values["description"] and "description" not in fields.values:
        fields.take(seg, x.PID, ("description",))


# Segments that belong to an N1 loop in every set we read; a set adds its own.
N1_LOOP = frozenset({"N1", "N2", "N3", "N4", "REF", "PER"})


class Parties:
    """Collects N1 loops (N1, N2, N3, N4) into PartyIdentification models."""

    def __init__(self, members: frozenset[str]):
        self.members = members
        self.parties: list[d.PartyIdentification] = []
        self._open: Fields | None = None

    def take(self, seg: Seg) -> bool:
        """Consume ``seg`` if it belongs to the current N1 loop (or starts one)."""
        sid = seg.id
        if sid == "N1":
            self.close()
            self._open = Fields(seg)
            self._open.take(seg, x.N1)
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
            fields.take(seg, x.N2)
        elif sid == "N3":
            lines = fields.values.get("address_lines", [])
            fields.put("address_lines", seg, x.N3.positions["address_lines"], lines + seg.values(x.N3)["address_lines"])
        elif sid == "N4":
            fields.take(seg, x.N4)
        return True  # REF, PER ... inside the loop: not modelled

    def close(self) -> None:
        if self._open is not None:
            fields, self._open = self._open, None
            self.parties.append(fields.make(d.PartyIdentification))
