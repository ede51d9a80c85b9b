"""Transaction sets to typed documents (850, 855, 856, 810, 846, 820, 997).

The flows validate a file against the implementation guides first; parsing is still
defensive on its own: a missing element reads as None (never an IndexError), and anything
that cannot be mapped raises :class:`DocumentError` naming the set, the segment, its
position (counted from ST = 1, as an AK3 would) and the element.

This module walks the loops of each set; which element holds which field is declared once,
in :mod:`.segments`, and read through :mod:`.reading`.

Segments the models do not cover (PER, PKG, TD3, SCH, N9/MSG, line-level REF ...) are
skipped; qualifiers without a named field land in the ``other_*`` lists. CTT is not
checked here: Amazon's own samples put quantities in CTT01, so hash totals are the
validator's business, and the builder writes them afresh.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from typing import Any, ClassVar

from pydantic import BaseModel

from amazon_bluecherry.edi import documents as d
from amazon_bluecherry.edi import segments as x
from amazon_bluecherry.edi.envelope import (
    GS,
    ISA,
    ST,
    Delimiters,
    FunctionalGroup,
    Interchange,
    TransactionSet,
)
from amazon_bluecherry.edi.reader import Source, iter_transaction_sets
from amazon_bluecherry.edi.reading import (
    N1_LOOP,
    DocumentError,
    Fields,
    Parties,
    Seg,
    SetContext,
    description,
    named_or_other,
)

__all__ = ["DocumentError", "iter_documents", "parse_file", "parse_transaction"]

log = logging.getLogger(__name__)


# --- what a segment does to the fields being collected -----------------------------------
# A set's header, a line loop's body: {segment id: rule(seg, fields)}.

Rule = Callable[[Seg, Fields], None]


def _take(segment: x.Segment) -> Rule:
    return lambda seg, fields: fields.take(seg, segment)


def _take_once(segment: x.Segment, *names: str) -> Rule:
    return lambda seg, fields: fields.take_once(seg, segment, names or None)


def _append(field: str, segment: x.Segment) -> Rule:
    return lambda seg, fields: fields.append(field, seg.make(segment))


def _model_once(field: str, segment: x.Segment) -> Rule:
    return lambda seg, fields: fields.put_once(field, seg, None, seg.make(segment), segment.id)


def _named(named: x.NamedQualifiers) -> Rule:
    return lambda seg, fields: named_or_other(seg, fields, named)


def _outside(loop: str) -> Rule:
    def refuse(seg: Seg, fields: Fields) -> None:
        raise seg.error(None, f"{seg.id} outside an {loop} loop")

    return refuse


def _apply(rules: Mapping[str, Rule], seg: Seg, fields: Fields) -> None:
    rule = rules.get(seg.id)
    if rule is not None:
        rule(seg, fields)


# --- line loops (PO1, IT1, LIN) ----------------------------------------------------------


class _Lines:
    """The line loops of a set: each opens at ``segment``, takes the segments up to the
    next line (or CTT) by ``rules`` and becomes a ``model`` in the document's ``field``."""

    segment: ClassVar[x.Segment]
    model: ClassVar[type[BaseModel]]
    rules: ClassVar[Mapping[str, Rule]]
    field: ClassVar[str] = "lines"
    defaults: ClassVar[tuple[str, ...]] = ()  # list fields that start empty

    def __init__(self, document: Fields):
        self.document = document
        self.document.values[self.field] = []
        self.open: Fields | None = None

    def take(self, seg: Seg) -> bool:
        """Consume ``seg`` if it starts, ends or belongs to a line loop."""
        if seg.id == self.segment.id:
            self.close()
            self.open = Fields(seg, **{name: [] for name in self.defaults})
            self.open.take(seg, self.segment)
            return True
        if seg.id == "CTT":
            self.close()
            return True
        if self.open is None:
            return False
        self.on_line(seg, self.open)
        return True  # other line-level segments are not modelled

    def on_line(self, seg: Seg, line: Fields) -> None:
        _apply(self.rules, seg, line)

    def close(self) -> None:
        if self.open is not None:
            line, self.open = self.open, None
            self.document.values[self.field].append(line.make(self.model))


def _walk(
    body: list[Seg], document: Fields, parties: Parties, lines: Any, header: Mapping[str, Rule]
) -> Fields:
    """The common shape of a set: header segments and N1 loops, then the line loops.

    ``lines.take`` claims a line loop's segments; ``header`` rules take the rest.
    """
    for seg in body:
        if lines.take(seg):
            parties.close()  # the N1 loops come before the first line
        elif not parties.take(seg):
            _apply(header, seg, document)
    return _finish(document, parties, lines)


def _finish(document: Fields, parties: Parties, lines: Any = None) -> Fields:
    parties.close()
    if lines is not None:
        lines.close()
    document.values["parties"] = parties.parties
    return document


# --- 850 ---------------------------------------------------------------------------------


class _PurchaseOrderLines(_Lines):
    segment = x.PO1
    model = d.PurchaseOrderLine
    rules = {"PID": description, "PO4": _take_once(x.PO4)}


_PURCHASE_ORDER_HEADER = {
    "BEG": _take(x.BEG),
    "REF": _named(x.PURCHASE_ORDER_REFERENCES),
    "DTM": _named(x.PURCHASE_ORDER_DATES),
    "FOB": _model_once("freight_terms", x.FOB),
    "CSH": _take_once(x.CSH),
}


def _parse_850(body: list[Seg], head: Seg) -> Fields:
    po = Fields(head, other_references=[], other_dates=[])
    parties = Parties(N1_LOOP | {"NX2", "SI", "FOB", "TD1", "TD5", "TD3", "TD4", "PKG"})
    return _walk(body, po, parties, _PurchaseOrderLines(po), _PURCHASE_ORDER_HEADER)


# --- 855 ---------------------------------------------------------------------------------


class _AcknowledgementLines(_Lines):
    segment = x.PO1
    model = d.AcknowledgementLine
    defaults = ("acknowledgements",)
    rules = {"PID": description, "ACK": _append("acknowledgements", x.ACK)}


_ACKNOWLEDGEMENT_HEADER = {
    "BAK": _take(x.BAK),
    "CUR": _take_once(x.CUR, "currency"),
    "REF": _append("references", x.REF),
}


def _parse_855(body: list[Seg], head: Seg) -> Fields:
    ack = Fields(head, references=[])
    parties = Parties(N1_LOOP | {"NX2", "FOB"})
    return _walk(body, ack, parties, _AcknowledgementLines(ack), _ACKNOWLEDGEMENT_HEADER)


# --- 856 ---------------------------------------------------------------------------------


class _Level:
    """One HL and the segments that follow it up to the next HL."""

    def __init__(self, seg: Seg):
        self.hl = seg
        values = seg.values(x.HL)
        self.id: str = values["hierarchical_id"]
        self.parent: str | None = values["parent_id"]
        self.code: str = values["level_code"]
        self.segments: list[Seg] = []
        self.children: list[_Level] = []


_SHIP_NOTICE_HEADER = {
    "BSN": _take(x.BSN),
    "TD1": _model_once("measurements", x.TD1),
    "TD5": _model_once("carrier", x.TD5),
    "REF": _named(x.SHIP_NOTICE_REFERENCES),
    "DTM": _named(x.SHIP_NOTICE_DATES),
}
_SHIPMENT_ORDER = {"PRF": _take_once(x.PRF), "REF": _append("references", x.REF)}
_SHIPMENT_ITEM = {"LIN": _take_once(x.LIN), "SN1": _take_once(x.SN1), "PID": description}


def _parse_856(body: list[Seg], head: Seg) -> Fields:
    notice = Fields(head, other_references=[], other_dates=[])
    header_segments, shipment = _hierarchy(body, head)
    parties = Parties(N1_LOOP | {"FOB"})
    for seg in header_segments + shipment.segments:
        if not parties.take(seg):
            _apply(_SHIP_NOTICE_HEADER, seg, notice)
    _finish(notice, parties)
    notice.values["orders"] = [_shipment_order(level) for level in _children(shipment, ("O",))]
    return notice


def _hierarchy(body: list[Seg], head: Seg) -> tuple[list[Seg], _Level]:
    """The segments before the first HL, and the HL tree under its one shipment level."""
    header_segments: list[Seg] = []
    levels: list[_Level] = []
    by_id: dict[str, _Level] = {}
    for seg in body:
        if seg.id == "HL":
            level = _Level(seg)
            if level.id in by_id:
                raise seg.error(x.HL.position("hierarchical_id"), f"HL id {level.id} is used twice")
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
            raise level.hl.error(x.HL.position("parent_id"), f"HL parent {level.parent} does not exist")
    if len(roots) != 1 or roots[0].code != "S":
        raise head.error(None, "an 856 needs exactly one top-level HL, the shipment (S)")
    return header_segments, roots[0]


def _children(level: _Level, allowed: tuple[str, ...]) -> list[_Level]:
    for child in level.children:
        if child.code not in allowed:
            names = "/".join(allowed)
            raise child.hl.error(
                x.HL.position("level_code"),
                f"HL level {child.code} under {level.code} is not supported here (expected {names})",
            )
    return level.children


def _shipment_order(level: _Level) -> d.ShipmentOrder:
    order = Fields(level.hl, references=[], tares=[], packs=[], items=[])
    parties = Parties(N1_LOOP | {"FOB"})
    for seg in level.segments:
        if not parties.take(seg):
            _apply(_SHIPMENT_ORDER, seg, order)
    _finish(order, parties)
    for child in _children(level, ("T", "P", "I")):
        if child.code == "T":
            order.append("tares", _container(child, d.ShipmentTare, ("P", "I")))
        elif child.code == "P":
            order.append("packs", _container(child, d.ShipmentPack, ("I",)))
        else:
            order.append("items", _shipment_item(child))
    return order.make(d.ShipmentOrder)


def _container(level: _Level, model: type[BaseModel], allowed: tuple[str, ...]) -> Any:
    """A tare (pallet) or pack (carton): MAN marks, then its child levels."""
    fields = Fields(level.hl, other_marks=[], items=[])
    if "P" in allowed:
        fields.values["packs"] = []
    for seg in level.segments:
        if seg.id == "MAN":
            _mark(seg, fields)
    for child in _children(level, allowed):
        if child.code == "P":
            fields.append("packs", _container(child, d.ShipmentPack, ("I",)))
        else:
            fields.append("items", _shipment_item(child))
    return fields.make(model)


def _mark(seg: Seg, fields: Fields) -> None:
    """MAN*GM is the container's SSCC; other marks are kept as they are."""
    mark = seg.values(x.MAN)
    if mark["qualifier"] != "GM":
        fields.append("other_marks", seg.make(x.MAN))
        return
    # Amazon wants the GS1-128 form: "00" application identifier + the 18-digit SSCC.
    value = mark["value"]
    sscc = value[2:] if value and len(value) == 20 and value.startswith("00") else value
    fields.put_once("sscc", seg, x.MAN.position("value"), sscc, "MAN*GM")


def _shipment_item(level: _Level) -> d.ShipmentItem:
    _children(level, ())
    item = Fields(level.hl)
    for seg in level.segments:
        _apply(_SHIPMENT_ITEM, seg, item)
    return item.make(d.ShipmentItem)


# --- 810 ---------------------------------------------------------------------------------

_INVOICE_HEADER = {
    "BIG": _take(x.BIG),
    "CUR": _take_once(x.CUR, "currency"),
    "REF": _append("references", x.REF),
    "DTM": _append("dates", x.DTM),
    "ITD": _model_once("terms", x.ITD),
}
# After TDS: header-level taxes and charges.
_INVOICE_SUMMARY = {"TXI": _append("taxes", x.TXI), "SAC": _append("charges", x.SAC)}


class _InvoiceLines(_Lines):
    """IT1 loops, then the summary: TDS, and header TXI / SAC after it."""

    segment = x.IT1
    model = d.InvoiceLine
    rules = {"PID": description, "SAC": _append("charges", x.SAC)}

    def __init__(self, document: Fields):
        super().__init__(document)
        self.summary = False

    def take(self, seg: Seg) -> bool:
        if seg.id == "TDS":
            self.close()
            self.summary = True
            self.document.take_once(seg, x.TDS)
            return True
        if super().take(seg):
            return True
        if self.summary:
            _apply(_INVOICE_SUMMARY, seg, self.document)
        return self.summary


def _parse_810(body: list[Seg], head: Seg) -> Fields:
    invoice = Fields(head, references=[], dates=[], taxes=[], charges=[])
    parties = Parties(N1_LOOP | {"DMG"})
    return _walk(body, invoice, parties, _InvoiceLines(invoice), _INVOICE_HEADER)


# --- 846 ---------------------------------------------------------------------------------


class _InventoryItems(_Lines):
    """LIN loops, each with its QTY loops (a QTY's unit in QTY03 or the UIT after it)."""

    segment = x.LIN
    model = d.InventoryItem
    field = "items"
    defaults = ("quantities",)

    def __init__(self, document: Fields):
        super().__init__(document)
        self.quantity: Fields | None = None

    def on_line(self, seg: Seg, line: Fields) -> None:
        if seg.id == "QTY":
            self.close_quantity()
            self.quantity = Fields(seg)
            self.quantity.take(seg, x.QTY)
        elif seg.id == "UIT" and self.quantity is not None and self.quantity.values["unit"] is None:
            self.quantity.take(seg, x.UIT)

    def close_quantity(self) -> None:
        if self.quantity is not None and self.open is not None:
            self.open.append("quantities", self.quantity.make(d.InventoryQuantity))
        self.quantity = None

    def close(self) -> None:
        self.close_quantity()
        super().close()


_INVENTORY_HEADER = {
    "BIA": _take(x.BIA),
    "CUR": _take_once(x.CUR, "currency"),
    "DTM": _append("dates", x.DTM),
}


def _parse_846(body: list[Seg], head: Seg) -> Fields:
    advice = Fields(head, dates=[])
    return _walk(body, advice, Parties(N1_LOOP), _InventoryItems(advice), _INVENTORY_HEADER)


# --- 820 ---------------------------------------------------------------------------------


_REFERENCES_AND_DATES = {"REF": _append("references", x.REF), "DTM": _append("dates", x.DTM)}


class _RemittanceEntries:
    """ENT loops: each with its ADX loops (group adjustments) and RMR loops (paid invoices,
    each with its own ADX loops); a REF/DTM belongs to the latest ADX, else the RMR."""

    def __init__(self, remittance: Fields):
        self.remittance = remittance
        self.remittance.values["entries"] = []
        self.entry: Fields | None = None
        self.item: Fields | None = None
        self.adjustment: Fields | None = None

    def take(self, seg: Seg) -> bool:
        sid = seg.id
        if sid == "ENT":
            self.close()
            self.entry = Fields(seg, adjustments=[], items=[])
            self.entry.take(seg, x.ENT)
        elif self.entry is None:
            return False
        elif sid == "RMR":
            self.close_item()
            self.item = Fields(seg, references=[], dates=[], adjustments=[])
            self.item.take(seg, x.RMR)
        elif sid == "ADX":
            self.close_adjustment()
            self.adjustment = Fields(seg, references=[], dates=[])
            self.adjustment.take(seg, x.ADX)
        elif (target := self.adjustment or self.item) is not None:
            _apply(_REFERENCES_AND_DATES, seg, target)
        return True

    def close_adjustment(self) -> None:
        if self.adjustment is not None:
            made = self.adjustment.make(d.Adjustment)
            (self.item or self.entry).append("adjustments", made)  # type: ignore[union-attr]
            self.adjustment = None

    def close_item(self) -> None:
        self.close_adjustment()
        if self.item is not None and self.entry is not None:
            self.entry.append("items", self.item.make(d.RemittanceItem))
        self.item = None

    def close(self) -> None:
        self.close_item()
        if self.entry is not None:
            self.remittance.values["entries"].append(self.entry.make(d.RemittanceEntry))
        self.entry = None


_REMITTANCE_HEADER = {
    "BPR": _take(x.BPR),
    "TRN": _take_once(x.TRN, "trace_number"),
    "CUR": _take_once(x.CUR, "currency"),
    "REF": _append("references", x.REF),
    "DTM": _append("dates", x.DTM),
    "RMR": _outside("ENT"),
    "ADX": _outside("ENT"),
}


def _parse_820(body: list[Seg], head: Seg) -> Fields:
    remittance = Fields(head, references=[], dates=[])
    parties = Parties(N1_LOOP | {"RDM", "DTM"})
    return _walk(body, remittance, parties, _RemittanceEntries(remittance), _REMITTANCE_HEADER)


# --- 997 ---------------------------------------------------------------------------------


class _AcknowledgedSets:
    """AK2 loops (one per acknowledged set), each with AK3 loops and their AK4s, closed by AK5."""

    def __init__(self, ack: Fields):
        self.ack = ack
        self.ack.values["sets"] = []
        self.current: Fields | None = None
        self.segment_error: Fields | None = None

    def take(self, seg: Seg) -> None:
        sid = seg.id
        if sid == "AK2":
            self.close()
            self.current = Fields(seg, segment_errors=[], error_codes=[])
            self.current.take(seg, x.AK2)
        elif sid == "AK3":
            self._within(seg, self.current, "AK2")
            self.close_segment_error()
            self.segment_error = Fields(seg, element_errors=[])
            self.segment_error.take(seg, x.AK3)
        elif sid == "AK4":
            self._within(seg, self.segment_error, "AK3").append("element_errors", seg.make(x.AK4))
        elif sid == "AK5":
            current = self._within(seg, self.current, "AK2")
            self.close_segment_error()
            current.take(seg, x.AK5)
            self.close()

    @staticmethod
    def _within(seg: Seg, loop: Fields | None, opener: str) -> Fields:
        if loop is None:
            raise seg.error(None, f"{seg.id} outside an {opener} loop")
        return loop

    def close_segment_error(self) -> None:
        if self.segment_error is not None and self.current is not None:
            self.current.append("segment_errors", self.segment_error.make(d.SegmentError))
        self.segment_error = None

    def close(self) -> None:
        self.close_segment_error()
        if self.current is not None:
            self.ack.values["sets"].append(self.current.make(d.SetAcknowledgement))
        self.current = None


def _parse_997(body: list[Seg], head: Seg) -> Fields:
    ack = Fields(head)
    sets = _AcknowledgedSets(ack)
    for seg in body:
        if seg.id == "AK1":
            ack.take(seg, x.AK1)
        elif seg.id == "AK9":
            sets.close()
            ack.take(seg, x.AK9)
        else:
            sets.take(seg)
    sets.close()
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
    def isa(name: str) -> str | None:
        return ISA.get(interchange.isa if interchange else None, name).strip() or None

    def gs(name: str) -> str | None:
        return GS.get(group.gs if group else None, name).strip() or None

    st = transaction_set.segments[0] if transaction_set.segments else None
    return d.EnvelopeRef(
        sender_qualifier=isa("sender_qualifier"),
        sender_id=isa("sender_id"),
        receiver_qualifier=isa("receiver_qualifier"),
        receiver_id=isa("receiver_id"),
        interchange_version=isa("version"),
        interchange_control_number=isa("control_number"),
        usage=isa("usage"),
        functional_id=gs("functional_id"),
        group_sender_id=gs("sender_id"),
        group_receiver_id=gs("receiver_id"),
        group_control_number=gs("control_number"),
        version=gs("version"),
        set_control_number=transaction_set.control_number.strip() or None,
        implementation_reference=(ST.get(st, "implementation_reference").strip() or None)
        if st and st[0] == "ST"
        else None,
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
    owner = SetContext(transaction_set, delimiters)
    parser = _PARSERS.get(transaction_set.set_id.strip())
    if parser is None:
        raise DocumentError(
            f"no document model for transaction set {transaction_set.set_id!r} "
            f"(supported: {', '.join(sorted(_PARSERS))})",
            set_id=transaction_set.set_id,
            control_number=transaction_set.control_number,
        )
    segments = [Seg(elements, i, owner) for i, elements in enumerate(transaction_set.segments, start=1)]
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
