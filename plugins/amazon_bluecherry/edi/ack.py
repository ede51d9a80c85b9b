"""Functional acknowledgments: build the 997 (and TA1) we owe, read the 997s we receive.

Outbound acknowledgments follow what Amazon expects: GS08 004010 and ISA12 00401 whatever
the input's versions, ISA16 (and the other separators) as in the input, sender and
receiver swapped, and ISA13/GS06/ST02 from the control-number source so they never repeat.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from amazon_bluecherry.edi.envelope import Delimiters, Segment
from amazon_bluecherry.edi.reader import Source, read_interchanges
from amazon_bluecherry.edi.validator import GroupVerdict, InterchangeVerdict, Issue, ValidationReport
from amazon_bluecherry.edi.writer import ControlNumberSource, OutboundSet, Party, write_interchange

__all__ = [
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


def _clean(value: str, delimiters: Delimiters) -> str:
    # A copy of bad data (AK404) must not carry separators into our own file.
    for sep in (delimiters.element, delimiters.component, delimiters.segment, delimiters.repetition):
        if sep:
            value = value.replace(sep, " ")
    return value.strip()[:99]


def build_997_segments(group: GroupVerdict, delimiters: Delimiters) -> list[Segment]:
    """The body of one 997 (AK1 .. AK9, without ST/SE) acknowledging ``group``."""
    body: list[Segment] = [["AK1", group.functional_id, group.control_number]]
    for ts in group.transactions:
        body.append(["AK2", ts.set_id, ts.control_number])
        by_segment: dict[tuple[str, int], list[Issue]] = {}
        for issue in ts.errors:
            if issue.segment_position is None:
                continue
            by_segment.setdefault((issue.segment_id or "", issue.segment_position), []).append(issue)
        for (sid, position), issues in by_segment.items():
            segment_codes = sorted({i.code for i in issues if i.element_position is None}, key=int)
            if not segment_codes:
                segment_codes = ["8"]
            for code in segment_codes:
                body.append(["AK3", sid, str(position), issues[0].loop_id, code])
            for i in issues:
                if i.element_position is None:
                    continue
                where = str(i.element_position)
                if i.component_position:
                    where += delimiters.component + str(i.component_position)
                body.append(["AK4", where, i.data_element, i.code, _clean(i.bad_value, delimiters)])
        body.append(["AK5", ts.status, *ts.ak5_codes])
    body.append(
        [
            "AK9",
            group.status,
            str(group.included if group.included is not None else group.received),
            str(group.received),
            str(group.accepted),
            *group.codes[:5],
        ]
    )
    return body


def _ta1(interchange: InterchangeVerdict) -> Segment:
    isa = interchange.isa + [""] * 17
    status = "R" if interchange.ta1_codes else "A"
    return ["TA1", interchange.control_number, isa[9], isa[10], status, interchange.ta1_code]


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
        isa = interchange.isa + [""] * 17
        d = interchange.delimiters
        delimiters = Delimiters(d.element, d.component, d.segment, None)
        first_gs = interchange.groups[0].gs + [""] * 9 if interchange.groups else [""] * 9
        # Our side is the input's receiver; the partner is its sender.
        sender = Party(isa[8].strip() or "UNKNOWN", isa[7] or "ZZ", group_id=first_gs[3] or None)
        receiver = Party(isa[6].strip() or "UNKNOWN", isa[5] or "ZZ", group_id=first_gs[2] or None)
        sets = [
            OutboundSet("997", build_997_segments(g, delimiters))
            for g in interchange.groups
            if g.functional_id != "FA"
        ]
        ta1 = [_ta1(interchange)] if (interchange.ta1_codes or isa[14] == "1" or always_ta1) else []
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
                usage=usage or (isa[15] if isa[15] in ("P", "T") else "P"),
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
    return int(value) if value.isdigit() else None


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
                    v = seg + [""] * 10
                    sid = seg[0]
                    if sid == "AK1":
                        ack.functional_id, ack.group_control_number = v[1], v[2]
                    elif sid == "AK2":
                        current = AckedSet(v[1], v[2], "", [])
                        ack.sets.append(current)
                        segment = None
                    elif sid == "AK3" and current is not None:
                        segment = AckedSegment(v[1], _int(v[2]), v[3], v[4])
                        current.segments.append(segment)
                    elif sid == "AK4" and segment is not None:
                        segment.elements.append((v[1], v[2], v[3], v[4]))
                    elif sid == "AK5" and current is not None:
                        current.status = v[1]
                        current.codes = [c for c in seg[2:7] if c]
                        current, segment = None, None
                    elif sid == "AK9":
                        ack.status = v[1]
                        ack.included, ack.received, ack.accepted = _int(v[2]), _int(v[3]), _int(v[4])
                        ack.codes = [c for c in seg[5:10] if c]
                acks.append(ack)
    return acks


def parse_ta1(source: Source) -> list[InterchangeAck]:
    """Read the TA1 segments in an inbound file."""
    from amazon_bluecherry.edi.reader import iter_segments

    out: list[InterchangeAck] = []
    sender = receiver = ""
    for seg, _ in iter_segments(source):
        if seg[0] == "ISA":
            v = seg + [""] * 17
            sender, receiver = v[6].strip(), v[8].strip()
        elif seg[0] == "TA1":
            v: Sequence[str] = seg + [""] * 6
            out.append(InterchangeAck(v[1], v[2], v[3], v[4], v[5], sender, receiver))
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
