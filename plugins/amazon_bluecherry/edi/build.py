"""Typed documents to X12: body segments per document, and whole files via the writer.

:func:`build_segments` gives the segments between ST and SE (the writer adds ST/SE with
fresh control numbers and the right SE01). :func:`write_documents` groups documents by
functional id and version and writes one interchange per group with
:func:`amazon_bluecherry.edi.writer.write_interchange`.

Amazon conventions applied here:

* GS08 ``004010`` for every set except the retail 856, which is ``005010``
  (:data:`AMAZON_VERSIONS`; override per set id with ``versions=``).
* ISA12 follows GS08 (``00401`` / ``00501``), one interchange per group, so a 5010 ASN
  never travels in a 4010 envelope; with ``00501`` ISA11 is the repetition separator
  (``^`` unless the delimiters say otherwise or ``^`` is already a delimiter).
* ``R`` numbers without trailing zeros (``39``, ``12.5``); ``N2`` amounts (TDS01, SAC05)
  in cents; dates CCYYMMDD, times HHMM (HHMMSS when there are seconds).
* CTT01 is the number of line loops (HL segments on the 856), CTT02 the quantity hash.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence

from amazon_bluecherry.edi import documents as d
from amazon_bluecherry.edi import segments as x
from amazon_bluecherry.edi.envelope import Delimiters
from amazon_bluecherry.edi.segments import BuildError, BuiltSegment
from amazon_bluecherry.edi.writer import ControlNumberSource, OutboundSet, Party, write_interchange

__all__ = [
    "AMAZON_VERSIONS",
    "BuildError",
    "DEFAULT_VERSION",
    "build_segments",
    "check_delimiters",
    "to_outbound_set",
    "write_documents",
]

DEFAULT_VERSION = "004010"
# GS08 per transaction set where Amazon's guide is not 004010.
AMAZON_VERSIONS: Mapping[str, str] = {"856": "005010"}
# ISA11 in 00501 envelopes: the first of these that is not already a delimiter.
_REPETITION_CANDIDATES = "^{!`"


# --- shared pieces -----------------------------------------------------------------------


def _each(segment: x.Segment, items: Iterable[object]) -> list[BuiltSegment]:
    """One ``segment`` per item (REF per reference, SAC per charge ...)."""
    return [segment.write(item) for item in items]


def _named(document: object, named: x.NamedQualifiers) -> list[BuiltSegment]:
    """REF/DTM for the qualifiers with a named field that is set, then the ``other`` list."""
    out = []
    for qualifier, fields in named.fields.items():
        values = {name: getattr(document, field) for name, field in fields.items()}
        if next(iter(values.values())) is not None:
            out.append(named.segment.write({"qualifier": qualifier, **values}))
    return out + _each(named.segment, getattr(document, named.other))


def _currency(set_id: str, currency: str | None) -> list[BuiltSegment]:
    return [x.CUR.write({"entity": x.CURRENCY_ENTITY[set_id], "currency": currency})] if currency else []


def _parties(parties: Iterable[d.PartyIdentification]) -> list[BuiltSegment]:
    out = []
    for party in parties:
        out.append(x.N1.write(party))
        if party.additional_names:
            out.append(x.N2.write(party))
        for i in range(0, len(party.address_lines), 2):
            out.append(x.N3.write({"address_lines": party.address_lines[i : i + 2]}))
        if party.city or party.state or party.postal_code or party.country:
            out.append(x.N4.write(party))
    return out


def _description(text: str | None) -> list[BuiltSegment]:
    return [x.PID.write({"description_type": "F", "description": text})] if text else []


def _totals(lines: Sequence[d.PurchaseOrderLine | d.AcknowledgementLine | d.InvoiceLine]) -> BuiltSegment:
    return x.CTT.write({"line_count": len(lines), "hash_total": sum(line.quantity for line in lines)})


# --- per document ------------------------------------------------------------------------


def _purchase_order(po: d.PurchaseOrder) -> list[BuiltSegment]:
    out = [x.BEG.write(po)]
    out += _named(po, x.PURCHASE_ORDER_REFERENCES)
    if po.freight_terms:
        out.append(x.FOB.write(po.freight_terms))
    if po.backorder_allowed is not None:
        out.append(x.CSH.write(po))
    out += _named(po, x.PURCHASE_ORDER_DATES)
    out += _parties(po.parties)
    for line in po.lines:
        out.append(x.PO1.write(line))
        out += _description(line.description)
        if line.case_pack_qty is not None or line.pack_size is not None or line.pack_unit:
            out.append(x.PO4.write(line))
    out.append(_totals(po.lines))
    return out


def _acknowledgement(ack: d.PurchaseOrderAcknowledgement) -> list[BuiltSegment]:
    out = [x.BAK.write(ack), *_currency("855", ack.currency)]
    out += _each(x.REF, ack.references)
    out += _parties(ack.parties)
    for line in ack.lines:
        out.append(x.PO1.write(line))
        out += _description(line.description)
        out += [x.ACK.write(a) for a in line.acknowledgements]
    out.append(_totals(ack.lines))
    return out


class _Hierarchy:
    """HL segments numbered in order, each naming its parent (the 856's S-O-T-P-I tree)."""

    def __init__(self, out: list[BuiltSegment]):
        self.out = out
        self.count = 0

    def level(self, parent: int | None, code: str) -> int:
        self.count += 1
        self.out.append(x.HL.write({"hierarchical_id": self.count, "parent_id": parent, "level_code": code}))
        return self.count

    def container(self, parent: int, code: str, container: d.ShipmentTare | d.ShipmentPack) -> None:
        """A tare (T) or pack (P): its marks, then its packs and items."""
        number = self.level(parent, code)
        self.out.extend(_marks(container.sscc, container.other_marks))
        for pack in getattr(container, "packs", ()):
            self.container(number, "P", pack)
        for item in container.items:
            self.item(number, item)

    def item(self, parent: int, item: d.ShipmentItem) -> None:
        self.level(parent, "I")
        self.out += [x.LIN.write(item), x.SN1.write(item), *_description(item.description)]

    def order(self, parent: int, order: d.ShipmentOrder) -> None:
        number = self.level(parent, "O")
        self.out += [x.PRF.write(order), *_each(x.REF, order.references), *_parties(order.parties)]
        for tare in order.tares:
            self.container(number, "T", tare)
        for pack in order.packs:
            self.container(number, "P", pack)
        for item in order.items:
            self.item(number, item)


def _marks(sscc: str | None, others: Sequence[d.Mark]) -> list[BuiltSegment]:
    # GS1-128 form: the "00" application identifier, then the 18-digit SSCC.
    out = [x.MAN.write({"qualifier": "GM", "value": "00" + sscc})] if sscc else []
    return out + _each(x.MAN, others)


def _ship_notice(notice: d.ShipNotice) -> list[BuiltSegment]:
    out = [x.BSN.write(notice)]
    hierarchy = _Hierarchy(out)
    shipment = hierarchy.level(None, "S")
    if notice.measurements:
        out.append(x.TD1.write(notice.measurements))
    if notice.carrier:
        out.append(x.TD5.write(notice.carrier))
    out += _named(notice, x.SHIP_NOTICE_REFERENCES)
    out += _named(notice, x.SHIP_NOTICE_DATES)
    out += _parties(notice.parties)
    for order in notice.orders:
        hierarchy.order(shipment, order)
    out.append(x.CTT.write({"line_count": hierarchy.count}))
    return out


def _invoice(inv: d.Invoice) -> list[BuiltSegment]:
    out = [x.BIG.write(inv), *_currency("810", inv.currency)]
    out += _each(x.REF, inv.references)
    out += _parties(inv.parties)
    if inv.terms:
        out.append(x.ITD.write(inv.terms))
    out += _each(x.DTM, inv.dates)
    for line in inv.lines:
        out.append(x.IT1.write(line))
        out += _description(line.description)
        out += _each(x.SAC, line.charges)
    out.append(x.TDS.write(inv))
    out += _each(x.TXI, inv.taxes)
    out += _each(x.SAC, inv.charges)
    out.append(_totals(inv.lines))
    return out


def _inventory_advice(advice: d.InventoryAdvice) -> list[BuiltSegment]:
    out = [x.BIA.write(advice), *_currency("846", advice.currency)]
    out += _each(x.DTM, advice.dates)
    out += _parties(advice.parties)
    for item in advice.items:
        out.append(x.LIN.write(item))
        for q in item.quantities:
            # The unit goes in a UIT after the QTY (the QTY loop of the 846 guide), not QTY03.
            out.append(x.QTY.write({"qualifier": q.qualifier, "quantity": q.quantity}))
            if q.unit:
                out.append(x.UIT.write(q))
    out.append(x.CTT.write({"line_count": len(advice.items)}))
    return out


def _adjustment(adx: d.Adjustment) -> list[BuiltSegment]:
    return [x.ADX.write(adx), *_each(x.REF, adx.references), *_each(x.DTM, adx.dates)]


def _remittance(ra: d.RemittanceAdvice) -> list[BuiltSegment]:
    out = [x.BPR.write(ra), x.TRN.write({"trace_type": "1", "trace_number": ra.trace_number})]
    out += _currency("820", ra.currency)
    out += _each(x.REF, ra.references)
    out += _each(x.DTM, ra.dates)
    out += _parties(ra.parties)
    for entry in ra.entries:
        out.append(x.ENT.write(entry))
        for adx in entry.adjustments:
            out += _adjustment(adx)
        for item in entry.items:
            out += [x.RMR.write(item), *_each(x.REF, item.references), *_each(x.DTM, item.dates)]
            for adx in item.adjustments:
                out += _adjustment(adx)
    return out


def _functional_acknowledgement(fa: d.FunctionalAcknowledgement) -> list[BuiltSegment]:
    out = [x.AK1.write(fa)]
    for s in fa.sets:
        out.append(x.AK2.write(s))
        for error in s.segment_errors:
            out.append(x.AK3.write(error))
            out += _each(x.AK4, error.element_errors)
        out.append(x.AK5.write(s))
    out.append(x.AK9.write(fa))
    return out


_BUILDERS: dict[type, Callable[..., list[BuiltSegment]]] = {
    d.PurchaseOrder: _purchase_order,
    d.PurchaseOrderAcknowledgement: _acknowledgement,
    d.ShipNotice: _ship_notice,
    d.Invoice: _invoice,
    d.InventoryAdvice: _inventory_advice,
    d.RemittanceAdvice: _remittance,
    d.FunctionalAcknowledgement: _functional_acknowledgement,
}


def build_segments(document: d.Document) -> list[BuiltSegment]:
    """The segments between ST and SE for ``document`` (composites as lists of components)."""
    builder = _BUILDERS.get(type(document))
    if builder is None:
        raise BuildError(f"no X12 builder for {type(document).__name__}")
    return builder(document)


def to_outbound_set(document: d.Document) -> OutboundSet:
    """``document`` as the writer's :class:`OutboundSet` (ST/SE are added by the writer)."""
    return OutboundSet(set_id=document.set_id, segments=build_segments(document))


_DELIMITER_NAMES = ("element separator", "component separator", "segment terminator", "repetition separator")


def check_delimiters(segments: Sequence[BuiltSegment], delimiters: Delimiters, *, what: str = "") -> None:
    """Raise :class:`BuildError` if any element contains one of the delimiters.

    X12 has no escape character: a ``*`` in a name would split the element. Positions
    name the segment as counted from ST = 1.
    """
    specials = [
        (char, name)
        for char, name in zip(
            (delimiters.element, delimiters.component, delimiters.segment, delimiters.repetition),
            _DELIMITER_NAMES,
            strict=True,
        )
        if char
    ]
    for index, segment in enumerate(segments, start=2):
        for n, element in enumerate(segment[1:], start=1):
            parts = [element] if isinstance(element, str) else list(element)
            for part in parts:
                for char, name in specials:
                    if char in part:
                        raise BuildError(
                            f"{what + ': ' if what else ''}segment {segment[0]} at position {index}, "
                            f"element {segment[0]}{n:02d} {part!r} contains the {name} {char!r}"
                        )


def _label(document: d.Document) -> str:
    key = next(
        (
            getattr(document, name)
            for name in (
                "purchase_order_number",
                "shipment_id",
                "invoice_number",
                "report_number",
                "trace_number",
            )
            if getattr(document, name, None)
        ),
        "",
    )
    return f"{document.set_id} {key}".strip()


def write_documents(
    documents: Iterable[d.Document],
    *,
    sender: Party | str,
    receiver: Party | str,
    control_numbers: ControlNumberSource,
    usage: str = "P",
    versions: Mapping[str, str] | None = None,
    isa_version: str | None = None,
    delimiters: Delimiters | None = None,
    when: dt.datetime | None = None,
    ack_requested: bool = False,
    line_break: bool = False,
) -> bytes:
    """Write documents as X12: one interchange per functional group, all in one byte string.

    Documents are grouped by functional id (PO 850, PR 855, SH 856, IN 810, IB 846,
    RA 820, FA 997) and GS08 version, in order of first appearance; within a group they
    keep their order. Parse the result to learn the control numbers each document got.

    :param sender: us (a writer ``Party`` or a bare id, qualifier ZZ); ``receiver`` likewise.
    :param control_numbers: ISA13 / GS06 / ST02 source (the store's persistent sequences).
    :param usage: ISA15, ``P`` production or ``T`` test.
    :param versions: GS08 per set id, over :data:`AMAZON_VERSIONS` and ``004010``.
    :param isa_version: ISA12 for every interchange; default derived from GS08
        (``004010`` -> ``00401``, ``005010`` -> ``00501``).
    :param delimiters: default ``*`` ``>`` ``~`` (and ``^`` repetition in 00501 envelopes).
    :param line_break: newline after each terminator (readable; off for partners).
    """
    sender_party = Party(id=sender) if isinstance(sender, str) else sender
    receiver_party = Party(id=receiver) if isinstance(receiver, str) else receiver
    chosen = {**AMAZON_VERSIONS, **(versions or {})}
    groups: dict[tuple[str, str], list[d.Document]] = {}
    for document in documents:
        version = chosen.get(document.set_id, DEFAULT_VERSION)
        groups.setdefault((document.functional_id, version), []).append(document)
    if not groups:
        raise BuildError("no documents to write")
    out = bytearray()
    for (functional_id, version), members in groups.items():
        envelope_version = isa_version or version[:5]
        group_delimiters = delimiters or Delimiters()
        if envelope_version >= "00501" and group_delimiters.repetition is None:
            taken = {group_delimiters.element, group_delimiters.component, group_delimiters.segment}
            repetition = next(c for c in _REPETITION_CANDIDATES if c not in taken)
            group_delimiters = dataclasses.replace(group_delimiters, repetition=repetition)
        sets = []
        for document in members:
            outbound = to_outbound_set(document)
            check_delimiters(outbound.segments, group_delimiters, what=_label(document))  # type: ignore[arg-type]
            sets.append(outbound)
        out += write_interchange(
            sets,
            sender=sender_party,
            receiver=receiver_party,
            functional_id=functional_id,
            control_numbers=control_numbers,
            version=version,
            isa_version=envelope_version,
            usage=usage,
            delimiters=group_delimiters,
            ack_requested=ack_requested,
            when=when,
            line_break=line_break,
        )
    return bytes(out)
