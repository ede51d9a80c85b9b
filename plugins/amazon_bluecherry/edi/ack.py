"""Functional acknowledgments: build the 997 (and TA1) we owe, read the 997s we receive.

Outbound acknowledgments follow what Amazon expects: GS08 004010 and ISA12 00401 whatever
the input's versions, ISA16 (and the other separators) as in the input, sender and
receiver swapped, and ISA13/GS06/ST02 from the control-number source so they never repeat.
"""

from __future__ import annotations

import string
from dataclasses import dataclass, field
from datetime import datetime

from amazon_bluecherry.edi import segments as x
from amazon_bluecherry.edi.envelope import GS, ISA, TA1, Delimiters, Segment
from amazon_bluecherry.edi.reader import Source, read_interchanges
from amazon_bluecherry.edi.segments import BuiltSegment
from amazon_bluecherry.edi.validator import GroupVerdict, InterchangeVerdict, Issue, ValidationReport
from amazon_bluecherry.edi.validator_envelope import ISA_QUALIFIERS, _valid_hhmm, _valid_yymmdd
from amazon_bluecherry.edi.writer import ControlNumberSource, OutboundSet, Party, write_interchange

__all__ = [
    "TA1_NOTE_CODES",
    "AckedSegment",
    "AckedSet",
    "FunctionalAck",
    "InterchangeAck",
    "build_997",
    "build_997_segments",
    "match_acks",
    "parse_997",
    "parse_ta1",
]


# TA105 interchange note codes (X12 data element I18).
TA1_NOTE_CODES = {
    "000": "no error",
    "001": "the interchange control numbers in the header and trailer do not match",
    "002": "this standard as noted in the control standards identifier is not supported",
    "003": "this version of the controls is not supported",
    "004": "the segment terminator is invalid",
    "005": "invalid interchange ID qualifier for the sender",
    "006": "invalid interchange sender ID",
    "007": "invalid interchange ID qualifier for the receiver",
    "008": "invalid interchange receiver ID",
    "009": "unknown interchange receiver ID",
    "010": "invalid authorization information qualifier value",
    "011": "invalid authorization information value",
    "012": "invalid security information qualifier value",
    "013": "invalid security information value",
    "014": "invalid interchange date value",
    "015": "invalid interchange time value",
    "016": "invalid interchange standards identifier value",
    "017": "invalid interchange version ID value",
    "018": "invalid interchange control number value",
    "019": "invalid acknowledgment requested value",
    "020": "invalid test indicator value",
    "021": "invalid number of included groups value",
    "022": "invalid control structure",
    "023": "improper (premature) end-of-file (transmission)",
    "024": "invalid interchange content (e.g. invalid GS segment)",
    "025": "duplicate interchange control number",
    "026": "invalid data element separator",
    "027": "invalid component element separator",
    "028": "invalid delivery date in deferred delivery request",
    "029": "invalid delivery time in deferred delivery request",
    "030": "invalid delivery time code in deferred delivery request",
    "031": "invalid grade of service code",
}


# The X12 extended character set of version 00401 (what an AN element of ours may carry;
# no '^' or '`', which only 00501 adds).
_X12_CHARACTERS = frozenset(string.ascii_letters + string.digits + "!\"&'()*+,-./:;?= %~@[]_{}\\|<>#$")


def _clean(value: str, delimiters: Delimiters) -> str:
    """The X12 characters of ``value`` without our separators, blanks collapsed.

    A copy of bad data (AK404) or an identifier echoed from the input must not carry
    separators, control characters or raw binary into our own file.
    """
    separators = {sep for sep in (delimiters.element, delimiters.component, delimiters.segment,
                                  delimiters.repetition) if sep}
    text = "".join(char if char in _X12_CHARACTERS and char not in separators else " " for char in value)
    return " ".join(text.split())


def _fit(value: str, delimiters: Delimiters, min_len: int, max_len: int, *, numeric: bool = False) -> str:
    """``value`` echoed into an element of ``min_len``..``max_len`` characters (N0 when ``numeric``).

    The input's control numbers and ids are copied as they are when they fit. When they do
    not (a 12-digit ST02, a GS06 with letters), the copy is made to fit rather than making
    our own 997 invalid: digits only for a number, leading zeros dropped, then the
    rightmost characters (the significant end of a control number); short values are
    zero-padded. The AK5/AK9/TA1 codes tell the partner the original was invalid.
    """
    text = _clean(value, delimiters).replace(" ", "")
    if numeric:
        text = "".join(char for char in text if char.isdigit()).lstrip("0") or "0"
    if len(text) > max_len:
        text = text[-max_len:] if text.isdigit() else text[:max_len]
    return text.zfill(min_len)


def build_997_segments(group: GroupVerdict, delimiters: Delimiters) -> list[BuiltSegment]:
    """The body of one 997 (AK1 .. AK9, without ST/SE) acknowledging ``group``."""
    # Element sizes from the 997 guide: AK101 ID 2/2, AK102 N0 1/9, AK201 ID 3/3, AK202 AN 4/9,
    # AK301 ID 2/3, AK302 N0 1/6, AK303 AN 1/4, AK401 N0 1/2 (+ 1/2), AK402 N0 1/4, AK404 AN 1/99.
    d = delimiters
    body: list[BuiltSegment] = [
        x.AK1.write(
            {
                "acknowledged_functional_id": _fit(group.functional_id, d, 2, 2),
                "acknowledged_group_control_number": _fit(group.control_number, d, 1, 9, numeric=True),
            }
        )
    ]
    for ts in group.transactions:
        body.append(x.AK2.write({"set_id": _fit(ts.set_id, d, 3, 3), "control_number": _fit(ts.control_number, d, 4, 9)}))
        body += _segment_errors(ts.errors, d)
        body.append(x.AK5.write({"status": ts.status, "error_codes": ts.ak5_codes}))
    body.append(
        x.AK9.write(
            {
                "group_status": group.status,
                "sets_included": group.included if group.included is not None else group.received,
                "sets_received": group.received,
                "sets_accepted": group.accepted,
                "group_error_codes": group.codes[:5],
            }
        )
    )
    return body


def _segment_errors(errors: list[Issue], d: Delimiters) -> list[BuiltSegment]:
    """AK3 per segment in error (one per segment-level code, else code 8), each with its AK4s."""
    by_segment: dict[tuple[str, int], list[Issue]] = {}
    for issue in errors:
        if issue.segment_position is not None:
            by_segment.setdefault((issue.segment_id or "", issue.segment_position), []).append(issue)
    out: list[BuiltSegment] = []
    for (sid, position), issues in by_segment.items():
        segment_codes = sorted({i.code for i in issues if i.element_position is None}, key=int) or ["8"]
        loop_id = _fit(issues[0].loop_id, d, 1, 4) if _clean(issues[0].loop_id, d) else ""
        for code in segment_codes:
            out.append(
                x.AK3.write(
                    {
                        "segment_id": _fit(sid, d, 2, 3),
                        "segment_position": min(position, 999_999),
                        "loop_id": loop_id,
                        "code": code,
                    }
                )
            )
        out += [_element_error(i, d) for i in issues if i.element_position is not None]
    return out


def _element_error(issue: Issue, d: Delimiters) -> BuiltSegment:
    reference = issue.data_element if issue.data_element.isascii() and issue.data_element.isdigit() and len(issue.data_element) <= 4 else ""
    return x.AK4.write(
        {
            "element_position": min(issue.element_position, 99),  # type: ignore[type-var]
            "component_position": min(issue.component_position, 99) if issue.component_position else None,
            "element_reference": reference,
            "code": issue.code,
            "bad_value": _clean(issue.bad_value, d)[:99].rstrip(),
        }
    )


def _ta1(interchange: InterchangeVerdict, when: datetime) -> Segment:
    """TA101 N0 9/9, TA102 YYMMDD, TA103 HHMM: the input's ISA13/09/10 when they are valid."""
    isa_date, isa_time = ISA.get(interchange.isa, "date"), ISA.get(interchange.isa, "time")
    return TA1.build(
        control_number=_fit(interchange.control_number, interchange.delimiters, 9, 9, numeric=True),
        date=isa_date if _valid_yymmdd(isa_date) else when.strftime("%y%m%d"),
        time=isa_time if _valid_hhmm(isa_time) and len(isa_time) == 4 else when.strftime("%H%M"),
        status="R" if interchange.ta1_codes else "A",
        note_code=interchange.ta1_code,
    )


def _qualifier(value: str) -> str:
    return value if value in ISA_QUALIFIERS else "ZZ"


def _group_id(value: str, isa_id: str, delimiters: Delimiters) -> str:
    """GS02/GS03 are AN 2/15: the input's GS id when it fits, else its ISA id, else UNKNOWN."""
    for candidate in (value, isa_id):
        text = _clean(candidate, delimiters)[:15].rstrip()
        if len(text) >= 2:
            return text
    return "UNKNOWN"


def build_997(
    report: ValidationReport,
    *,
    control_numbers: ControlNumberSource,
    usage: str | None = None,
    when: datetime | None = None,
    always_ta1: bool = False,
) -> bytes:
    """Acknowledgments for every interchange of ``report``: a TA1 where the interchange is
    broken or asked for one (ISA14=1, or ``always_ta1``), and one 997 per functional group.

    Returns the interchanges concatenated (empty bytes if the report has none).
    """
    out = []
    for interchange in report.interchanges:
        isa = interchange.isa
        d = interchange.delimiters
        delimiters = Delimiters(d.element, d.component, d.segment, None)
        first_gs = interchange.groups[0].gs if interchange.groups else None
        # Our side is the input's receiver; the partner is its sender. Ids and qualifiers
        # are echoed only in a shape our own ISA/GS may carry.
        their_id, our_id = ISA.get(isa, "sender_id"), ISA.get(isa, "receiver_id")
        sender = Party(_clean(our_id, delimiters)[:15] or "UNKNOWN", _qualifier(ISA.get(isa, "receiver_qualifier")),
                       group_id=_group_id(GS.get(first_gs, "receiver_id"), our_id, delimiters))
        receiver = Party(_clean(their_id, delimiters)[:15] or "UNKNOWN", _qualifier(ISA.get(isa, "sender_qualifier")),
                         group_id=_group_id(GS.get(first_gs, "sender_id"), their_id, delimiters))
        sets = [
            OutboundSet("997", build_997_segments(g, delimiters))
            for g in interchange.groups
            if g.functional_id != "FA"
        ]
        ta1 = [_ta1(interchange, when or datetime.now())] if (interchange.ta1_codes or ISA.get(isa, "ack_requested") == "1" or always_ta1) else []
        if not sets and not ta1:
            continue
        out.append(
            write_interchange(
                sets,
                sender=sender,
                receiver=receiver,
                functional_id="FA",
                control_numbers=control_numbers,
                version="004010",
                isa_version="00401",
                usage=usage or (ISA.get(isa, "usage") if ISA.get(isa, "usage") in ("P", "T") else "P"),
                delimiters=delimiters,
                when=when,
                ta1=ta1,
            )
        )
    return b"".join(out)


# ------------------------------------------------------------------------------------------
# Inbound acknowledgments


@dataclass
class AckedSegment:
    """An AK3 with its AK4s: (position, data element, code, copy of bad data)."""

    segment_id: str
    position: int | None
    loop_id: str
    code: str
    elements: list[tuple[str, str, str, str]] = field(default_factory=list)


@dataclass
class AckedSet:
    set_id: str
    control_number: str
    status: str  # AK501
    codes: list[str]  # AK502..AK506
    segments: list[AckedSegment] = field(default_factory=list)


@dataclass
class FunctionalAck:
    """One 997: which of our groups (GS01 + GS06) it answers and with what verdicts."""

    functional_id: str  # AK101
    group_control_number: str  # AK102
    status: str  # AK901
    included: int | None
    received: int | None
    accepted: int | None
    codes: list[str]
    sets: list[AckedSet]
    interchange_control_number: str  # of the 997's own interchange
    sender: str
    receiver: str
    ack_control_number: str  # the 997's ST02


@dataclass
class InterchangeAck:
    """A TA1: the verdict on one of our interchanges (ISA13)."""

    control_number: str
    date: str
    time: str
    status: str  # A, E or R
    code: str  # TA105, "000" when there is no error
    sender: str
    receiver: str


def _int(value: str) -> int | None:
    return int(value) if value.isascii() and value.isdigit() else None


def _at(seg: Segment, segment: x.Segment, name: str) -> str:
    """The text of field ``name`` of ``segment`` in ``seg`` ("" when absent); a composite whole."""
    position = segment.positions[name]
    return seg[position] if position < len(seg) else ""


def _codes(seg: Segment, segment: x.Segment, name: str) -> list[str]:
    e = segment.element(name)
    return [c for c in seg[e.position : e.position + e.repeat] if c]


def _read_ack_segment(
    seg: Segment, ack: FunctionalAck, current: AckedSet | None, segment: AckedSegment | None
) -> tuple[AckedSet | None, AckedSegment | None]:
    """One segment of a 997 into ``ack``; returns the AK2 and AK3 loops open after it."""
    sid = seg[0]
    if sid == "AK1":
        ack.functional_id = _at(seg, x.AK1, "acknowledged_functional_id")
        ack.group_control_number = _at(seg, x.AK1, "acknowledged_group_control_number")
    elif sid == "AK2":
        current = AckedSet(_at(seg, x.AK2, "set_id"), _at(seg, x.AK2, "control_number"), "", [])
        ack.sets.append(current)
        segment = None
    elif sid == "AK3" and current is not None:
        fields = ("segment_id", "segment_position", "loop_id", "code")
        segment_id, position, loop_id, code = (_at(seg, x.AK3, f) for f in fields)
        segment = AckedSegment(segment_id, _int(position), loop_id, code)
        current.segments.append(segment)
    elif sid == "AK4" and segment is not None:
        fields = ("element_position", "element_reference", "code", "bad_value")
        segment.elements.append(tuple(_at(seg, x.AK4, f) for f in fields))  # type: ignore[arg-type]
    elif sid == "AK5" and current is not None:
        current.status = _at(seg, x.AK5, "status")
        current.codes = _codes(seg, x.AK5, "error_codes")
        current, segment = None, None
    elif sid == "AK9":
        ack.status = _at(seg, x.AK9, "group_status")
        ack.included, ack.received, ack.accepted = (
            _int(_at(seg, x.AK9, f)) for f in ("sets_included", "sets_received", "sets_accepted")
        )
        ack.codes = _codes(seg, x.AK9, "group_error_codes")
    return current, segment


def parse_997(source: Source) -> list[FunctionalAck]:
    """Read the 997s in an inbound file (path, bytes or binary file object)."""
    acks: list[FunctionalAck] = []
    for interchange in read_interchanges(source):
        for group in interchange.groups:
            for ts in group.transactions:
                if ts.set_id != "997":
                    continue
                ack = FunctionalAck(
                    "",
                    "",
                    "",
                    None,
                    None,
                    None,
                    [],
                    [],
                    interchange.control_number,
                    interchange.sender,
                    interchange.receiver,
                    ts.control_number,
                )
                current: AckedSet | None = None
                segment: AckedSegment | None = None
                for seg in ts.segments:
                    current, segment = _read_ack_segment(seg, ack, current, segment)
                acks.append(ack)
    return acks


def parse_ta1(source: Source) -> list[InterchangeAck]:
    """Read the TA1 segments in an inbound file."""
    from amazon_bluecherry.edi.reader import iter_segments

    out: list[InterchangeAck] = []
    sender = receiver = ""
    for seg, _ in iter_segments(source):
        if seg[0] == "ISA":
            sender, receiver = ISA.get(seg, "sender_id").strip(), ISA.get(seg, "receiver_id").strip()
        elif seg[0] == "TA1":
            out.append(InterchangeAck(*(TA1.get(seg, name) for name in TA1.names), sender, receiver))
    return out


def match_acks(
    acks: list[FunctionalAck], sent: list[tuple[str, str, str]]
) -> dict[tuple[str, str, str], str | None]:
    """The acknowledged status of each set we sent: ``(GS01, GS06, ST02) -> A/E/R`` or None.

    A 997 may list only the sets it rejects (or none, when it accepts the whole group), so
    a set it does not list takes its group's verdict: accepted in an A, E or P group,
    rejected in an R group. None: no 997 for that group yet.
    """
    groups = {(a.functional_id, a.group_control_number.lstrip("0") or "0"): a for a in acks}
    out: dict[tuple[str, str, str], str | None] = {}
    for functional_id, group_number, set_number in sent:
        ack = groups.get((functional_id, group_number.lstrip("0") or "0"))
        if ack is None:
            out[(functional_id, group_number, set_number)] = None
            continue
        listed = {s.control_number: s.status for s in ack.sets}
        if set_number in listed:
            out[(functional_id, group_number, set_number)] = listed[set_number]
        else:
            out[(functional_id, group_number, set_number)] = (
                "R" if ack.status == "R" else ("E" if ack.status == "E" else "A")
            )
    return out
