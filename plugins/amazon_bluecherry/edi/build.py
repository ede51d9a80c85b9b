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
from decimal import Decimal
from itertools import count

from amazon_bluecherry.edi import documents as d
from amazon_bluecherry.edi.envelope import Delimiters
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

# An element is text, or a list of components for a composite element (AK401).
Element = str | list[str]
BuiltSegment = list[Element]

DEFAULT_VERSION = "004010"
# GS08 per transaction set where Amazon's guide is not 004010.
AMAZON_VERSIONS: Mapping[str, str] = {"856": "005010"}
# ISA11 in 00501 envelopes: the first of these that is not already a delimiter.
_REPETITION_CANDIDATES = "^{!`"


class BuildError(ValueError):
    """A document that cannot be written as X12 (e.g. text containing a delimiter)."""


# --- element formatting ------------------------------------------------------------------


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Y" if value else "N"
    if isinstance(value, Decimal):
        return _r(value)
    if isinstance(value, dt.date):
        return _date(value)
    if isinstance(value, dt.time):
        return _time(value)
    return str(value)


def _r(value: Decimal | int | None) -> str:
    """An X12 R (decimal) value without trailing zeros or exponent."""
    if value is None:
        return ""
    if isinstance(value, int):
        return str(value)
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "") else text


def _n2(value: Decimal | None) -> str:
    """An N2 value: the amount in cents (two implied decimals)."""
    if value is None:
        return ""
    cents = value * 100
    if cents != cents.to_integral_value():
        raise BuildError(f"amount {value} has more than two decimals and cannot be written as N2")
    return str(int(cents))


def _date(value: dt.date) -> str:
    return f"{value.year:04d}{value.month:02d}{value.day:02d}"


def _time(value: dt.time) -> str:
    text = f"{value.hour:02d}{value.minute:02d}"
    if value.second or value.microsecond:
        text += f"{value.second:02d}"
    if value.microsecond:
        text += f"{value.microsecond // 10000:02d}"  # TM allows hundredths at most
    return text


def _trimmed(segment: BuiltSegment) -> BuiltSegment:
    # Trailing empty elements are never written; drop them here too so segments compare.
    while len(segment) > 1 and segment[-1] in ("", []):
        segment.pop()
    return segment


def _seg(segment_id: str, *elements: object) -> BuiltSegment:
    return _trimmed([segment_id, *(_text(e) for e in elements)])


def _at(segment_id: str, elements: Mapping[int, object]) -> BuiltSegment:
    """A segment given as {element position: value}; the gaps are empty elements."""
    out: BuiltSegment = [segment_id] + [""] * max(elements)
    for position, value in elements.items():
        out[position] = _text(value) if not isinstance(value, list) else value
    return _trimmed(out)


# --- shared pieces -----------------------------------------------------------------------


def _product_ids(ids: Sequence[d.ProductId]) -> list[str]:
    return [part for pid in ids for part in (pid.qualifier, pid.value)]


def _reference(ref: d.Reference) -> BuiltSegment:
    return _seg("REF", ref.qualifier, ref.value, ref.description)


def _date_reference(ref: d.DateReference) -> BuiltSegment:
    return _seg("DTM", ref.qualifier, ref.date, ref.time, ref.time_code)


def _parties(parties: Iterable[d.PartyIdentification]) -> list[BuiltSegment]:
    out = []
    for party in parties:
        out.append(_seg("N1", party.role, party.name, party.id_qualifier, party.id_code))
        if party.additional_names:
            out.append(_seg("N2", *party.additional_names))
        for i in range(0, len(party.address_lines), 2):
            out.append(_seg("N3", *party.address_lines[i : i + 2]))
        if party.city or party.state or party.postal_code or party.country:
            out.append(_seg("N4", party.city, party.state, party.postal_code, party.country))
    return out


def _description(text: str | None) -> list[BuiltSegment]:
    return [_at("PID", {1: "F", 5: text})] if text else []


def _line(segment_id: str, line: d.PurchaseOrderLine | d.AcknowledgementLine | d.InvoiceLine) -> BuiltSegment:
    return _seg(
        segment_id,
        line.line_number,
        line.quantity,
        line.unit,
        line.unit_price,
        line.price_basis,
        *_product_ids(line.product_ids),
    )


def _totals(lines: Sequence[d.PurchaseOrderLine | d.AcknowledgementLine | d.InvoiceLine]) -> BuiltSegment:
    return _seg("CTT", len(lines), sum(line.quantity for line in lines))


def _charge(charge: d.ChargeAllowance) -> BuiltSegment:
    return _at(
        "SAC",
        {
            1: charge.indicator,
            2: charge.code,
            5: _n2(charge.amount),
            6: charge.percent_qualifier,
            7: charge.percent,
            12: charge.handling_code,
            15: charge.description,
        },
    )


# --- per document ------------------------------------------------------------------------


def _purchase_order(po: d.PurchaseOrder) -> list[BuiltSegment]:
    out = [_seg("BEG", po.purpose, po.order_type, po.purchase_order_number, po.release_number, po.order_date)]
    if po.vendor_code:
        out.append(_seg("REF", "CR", po.vendor_code))
    if po.deal_code:
        out.append(_seg("REF", "PD", po.deal_code))
    out += [_reference(r) for r in po.other_references]
    if po.freight_terms:
        ft = po.freight_terms
        out.append(
            _seg(
                "FOB",
                ft.payment_method,
                ft.location_qualifier,
                ft.location,
                ft.terms_qualifier,
                ft.terms_code,
            )
        )
    if po.backorder_allowed is not None:
        out.append(_seg("CSH", po.backorder_allowed))
    if po.delivery_window_start:
        out.append(_seg("DTM", "064", po.delivery_window_start))
    if po.delivery_window_end:
        out.append(_seg("DTM", "063", po.delivery_window_end))
    out += [_date_reference(r) for r in po.other_dates]
    out += _parties(po.parties)
    for line in po.lines:
        out.append(_line("PO1", line))
        out += _description(line.description)
        if line.case_pack_qty is not None or line.pack_size is not None or line.pack_unit:
            out.append(_seg("PO4", line.case_pack_qty, line.pack_size, line.pack_unit))
    out.append(_totals(po.lines))
    return out


def _acknowledgement(ack: d.PurchaseOrderAcknowledgement) -> list[BuiltSegment]:
    out = [
        _at(
            "BAK",
            {
                1: ack.purpose,
                2: ack.acknowledgement_type,
                3: ack.purchase_order_number,
                4: ack.purchase_order_date,
                8: ack.seller_order_number,
                9: ack.acknowledgement_date,
            },
        )
    ]
    if ack.currency:
        out.append(_seg("CUR", "BT", ack.currency))
    out += [_reference(r) for r in ack.references]
    out += _parties(ack.parties)
    for line in ack.lines:
        out.append(_line("PO1", line))
        out += _description(line.description)
        for a in line.acknowledgements:
            out.append(
                _at(
                    "ACK",
                    {
                        1: a.status,
                        2: a.quantity,
                        3: a.unit,
                        4: a.date_qualifier,
                        5: a.date,
                        27: a.reason_code_agency,
                        28: a.reason_code_source,
                        29: a.reason_code,
                    },
                )
            )
    out.append(_totals(ack.lines))
    return out


def _marks(sscc: str | None, others: Sequence[d.Mark]) -> list[BuiltSegment]:
    # GS1-128 form: the "00" application identifier, then the 18-digit SSCC.
    out = [_seg("MAN", "GM", "00" + sscc)] if sscc else []
    return out + [_seg("MAN", m.qualifier, m.value) for m in others]


def _ship_notice(notice: d.ShipNotice) -> list[BuiltSegment]:
    out = [
        _seg(
            "BSN",
            notice.purpose,
            notice.shipment_id,
            notice.shipment_date,
            notice.shipment_time,
            notice.hierarchy_structure,
        )
    ]
    ids = count(1)

    def hl(parent: int | None, level: str) -> int:
        number = next(ids)
        out.append(_seg("HL", number, parent, level))
        return number

    def item(parent: int, it: d.ShipmentItem) -> None:
        hl(parent, "I")
        out.append(_seg("LIN", it.line_number, *_product_ids(it.product_ids)))
        out.append(_seg("SN1", "", it.shipped_quantity, it.unit, "", it.ordered_quantity, it.ordered_unit))
        out.extend(_description(it.description))

    def pack(parent: int, p: d.ShipmentPack) -> None:
        number = hl(parent, "P")
        out.extend(_marks(p.sscc, p.other_marks))
        for it in p.items:
            item(number, it)

    shipment = hl(None, "S")
    if notice.measurements:
        m = notice.measurements
        out.append(
            _at(
                "TD1",
                {
                    1: m.packaging_code,
                    2: m.lading_quantity,
                    6: m.weight_qualifier,
                    7: m.weight,
                    8: m.weight_unit,
                    9: m.volume,
                    10: m.volume_unit,
                },
            )
        )
    if notice.carrier:
        c = notice.carrier
        out.append(
            _seg("TD5", c.routing_sequence, c.id_qualifier, c.scac, c.transportation_method, c.routing)
        )
    if notice.bill_of_lading:
        out.append(_seg("REF", "BM", notice.bill_of_lading))
    if notice.carrier_reference:
        out.append(_seg("REF", "CN", notice.carrier_reference))
    out += [_reference(r) for r in notice.other_references]
    if notice.shipped_date:
        out.append(_seg("DTM", "011", notice.shipped_date, notice.shipped_time))
    if notice.estimated_delivery_date:
        out.append(_seg("DTM", "017", notice.estimated_delivery_date))
    out += [_date_reference(r) for r in notice.other_dates]
    out += _parties(notice.parties)
    for order in notice.orders:
        number = hl(shipment, "O")
        out.append(_at("PRF", {1: order.purchase_order_number, 4: order.purchase_order_date}))
        out += [_reference(r) for r in order.references]
        out += _parties(order.parties)
        for tare in order.tares:
            tare_number = hl(number, "T")
            out.extend(_marks(tare.sscc, tare.other_marks))
            for p in tare.packs:
                pack(tare_number, p)
            for it in tare.items:
                item(tare_number, it)
        for p in order.packs:
            pack(number, p)
        for it in order.items:
            item(number, it)
    out.append(_seg("CTT", next(ids) - 1))
    return out


def _invoice(inv: d.Invoice) -> list[BuiltSegment]:
    out = [
        _at(
            "BIG",
            {
                1: inv.invoice_date,
                2: inv.invoice_number,
                3: inv.purchase_order_date,
                4: inv.purchase_order_number,
                7: inv.transaction_type,
            },
        )
    ]
    if inv.currency:
        out.append(_seg("CUR", "BT", inv.currency))
    out += [_reference(r) for r in inv.references]
    out += _parties(inv.parties)
    if inv.terms:
        t = inv.terms
        out.append(
            _at(
                "ITD",
                {
                    1: t.type_code,
                    2: t.basis_date_code,
                    3: t.discount_percent,
                    4: t.discount_due_date,
                    5: t.discount_days,
                    6: t.net_due_date,
                    7: t.net_days,
                    12: t.description,
                },
            )
        )
    out += [_date_reference(r) for r in inv.dates]
    for line in inv.lines:
        out.append(_line("IT1", line))
        out += _description(line.description)
        out += [_charge(c) for c in line.charges]
    out.append(_seg("TDS", _n2(inv.total_amount)))
    out += [_seg("TXI", t.tax_type, t.amount, t.percent) for t in inv.taxes]
    out += [_charge(c) for c in inv.charges]
    out.append(_totals(inv.lines))
    return out


def _inventory_advice(advice: d.InventoryAdvice) -> list[BuiltSegment]:
    out = [
        _seg(
            "BIA",
            advice.purpose,
            advice.report_type,
            advice.report_number,
            advice.report_date,
            advice.report_time,
            advice.action_code,
        )
    ]
    if advice.currency:
        out.append(_seg("CUR", "SE", advice.currency))
    out += [_date_reference(r) for r in advice.dates]
    out += _parties(advice.parties)
    for it in advice.items:
        out.append(_seg("LIN", it.line_number, *_product_ids(it.product_ids)))
        for q in it.quantities:
            # The unit goes in a UIT after the QTY (the QTY loop of the 846 guide), not QTY03.
            out.append(_seg("QTY", q.qualifier, q.quantity))
            if q.unit:
                out.append(_seg("UIT", q.unit))
    out.append(_seg("CTT", len(advice.items)))
    return out


def _adjustment(adx: d.Adjustment) -> list[BuiltSegment]:
    out = [_seg("ADX", adx.amount, adx.reason_code, adx.reference_qualifier, adx.reference_number)]
    out += [_reference(r) for r in adx.references]
    return out + [_date_reference(r) for r in adx.dates]


def _remittance(ra: d.RemittanceAdvice) -> list[BuiltSegment]:
    out = [
        _at(
            "BPR",
            {
                1: ra.transaction_handling,
                2: ra.payment_amount,
                3: ra.credit_debit,
                4: ra.payment_method,
                5: ra.payment_format,
                16: ra.payment_date,
            },
        ),
        _seg("TRN", "1", ra.trace_number),
    ]
    if ra.currency:
        out.append(_seg("CUR", "PR", ra.currency))
    out += [_reference(r) for r in ra.references]
    out += [_date_reference(r) for r in ra.dates]
    out += _parties(ra.parties)
    for entry in ra.entries:
        out.append(_seg("ENT", entry.sequence, entry.entity_role, entry.entity_id_qualifier, entry.entity_id))
        for adx in entry.adjustments:
            out += _adjustment(adx)
        for it in entry.items:
            out.append(
                _seg(
                    "RMR",
                    it.reference_qualifier,
                    it.reference_number,
                    it.payment_action,
                    it.amount_paid,
                    it.invoice_amount,
                    it.discount_amount,
                    it.adjustment_reason,
                    it.adjustment_amount,
                )
            )
            out += [_reference(r) for r in it.references]
            out += [_date_reference(r) for r in it.dates]
            for adx in it.adjustments:
                out += _adjustment(adx)
    return out


def _functional_acknowledgement(fa: d.FunctionalAcknowledgement) -> list[BuiltSegment]:
    out = [
        _seg(
            "AK1",
            fa.acknowledged_functional_id,
            fa.acknowledged_group_control_number,
            fa.acknowledged_version,
        )
    ]
    for s in fa.sets:
        out.append(_seg("AK2", s.set_id, s.control_number, s.implementation_reference))
        for error in s.segment_errors:
            out.append(_seg("AK3", error.segment_id, error.segment_position, error.loop_id, error.code))
            for e in error.element_errors:
                position: Element = str(e.element_position)
                if e.component_position is not None:
                    position = [str(e.element_position), str(e.component_position)]
                out.append(
                    _trimmed(
                        ["AK4", position, *(_text(v) for v in (e.element_reference, e.code, e.bad_value))]
                    )
                )
        out.append(_seg("AK5", s.status, *s.error_codes))
    out.append(
        _seg(
            "AK9",
            fa.group_status,
            fa.sets_included,
            fa.sets_received,
            fa.sets_accepted,
            *fa.group_error_codes,
        )
    )
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
