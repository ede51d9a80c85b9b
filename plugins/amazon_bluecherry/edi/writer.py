"""X12 writer: segments to text, and transaction sets to a complete ISA/GS/ST envelope.

Control numbers are never invented here: they come from a :class:`ControlNumberSource`
(the integration store implements it with persistent per-partner sequences;
:class:`InMemoryControlNumbers` serves tests and the CLI).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, runtime_checkable

from amazon_bluecherry.edi.envelope import GE, GS, IEA, ISA, SE, ST, Delimiters

__all__ = [
    "ControlNumberSource",
    "InMemoryControlNumbers",
    "OutboundSet",
    "Party",
    "serialize_segment",
    "serialize_segments",
    "write_interchange",
]

# An element is a string, or a sequence of component strings for a composite element.
Element = str | Sequence[str]

_ISA_CONTROL_LIMIT = 10**9


@runtime_checkable
class ControlNumberSource(Protocol):
    """Hands out the next control number of a kind: "ISA", "GS" or "ST"."""

    def next(self, kind: str) -> int: ...


@dataclass
class InMemoryControlNumbers:
    """Control numbers counted in memory, starting after ``start`` (tests, CLI)."""

    start: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._counters = {kind: itertools.count(self.start.get(kind, 0) + 1) for kind in ("ISA", "GS", "ST")}

    def next(self, kind: str) -> int:
        counter = self._counters.get(kind)
        if counter is None:
            counter = self._counters[kind] = itertools.count(self.start.get(kind, 0) + 1)
        return next(counter)


@dataclass(frozen=True)
class Party:
    """An interchange party: ISA05/06 (or ISA07/08) and, if different, its GS02/GS03 id."""

    id: str
    qualifier: str = "ZZ"
    group_id: str | None = None

    @property
    def gs_id(self) -> str:
        return self.group_id or self.id


@dataclass(frozen=True)
class OutboundSet:
    """One transaction set to send: its id (``"855"``) and body segments.

    ``segments`` are the segments between ST and SE; if the first is an ST (and the last an
    SE) they are dropped and written anew with fresh control numbers and counts.
    ``implementation_reference`` becomes ST03 (5010 guides such as Amazon's 856).
    """

    set_id: str
    segments: Sequence[Sequence[Element]]
    implementation_reference: str | None = None


def _element_text(value: Element | None, component: str) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    parts = ["" if v is None else str(v) for v in value]
    while parts and parts[-1] == "":
        parts.pop()
    return component.join(parts)


def serialize_segment(segment: Sequence[Element], delimiters: Delimiters) -> str:
    """One segment as text without its terminator; trailing empty elements are dropped.

    ``segment[0]`` is the id; a composite element may be given as a sequence of components.
    """
    values = [_element_text(v, delimiters.component) for v in segment]
    while len(values) > 1 and values[-1] == "":
        values.pop()
    return delimiters.element.join(values)


def serialize_segments(
    segments: Iterable[Sequence[Element]], delimiters: Delimiters, *, line_break: bool = False
) -> str:
    """Segments as text, each followed by the terminator (and a newline if ``line_break``).

    A segment given as a ``str`` is already serialized (without its terminator) and is
    written as it is: builders of very long sets (an 846 of 100,000 items) format them in bulk.
    """
    end = delimiters.segment + ("\n" if line_break and delimiters.segment != "\n" else "")
    return "".join((s if isinstance(s, str) else serialize_segment(s, delimiters)) + end for s in segments)


def _isa(
    sender: Party,
    receiver: Party,
    control_number: int,
    *,
    when: datetime,
    delimiters: Delimiters,
    isa_version: str,
    usage: str,
    ack_requested: bool,
) -> list[str]:
    repetition = delimiters.repetition if isa_version >= "00402" and delimiters.repetition else "U"
    return ISA.build(
        authorization_qualifier="00",
        authorization=" " * 10,
        security_qualifier="00",
        security=" " * 10,
        sender_qualifier=sender.qualifier.ljust(2)[:2],
        sender_id=sender.id.ljust(15)[:15],
        receiver_qualifier=receiver.qualifier.ljust(2)[:2],
        receiver_id=receiver.id.ljust(15)[:15],
        date=when.strftime("%y%m%d"),
        time=when.strftime("%H%M"),
        repetition_separator=repetition,
        version=isa_version,
        control_number=f"{control_number % _ISA_CONTROL_LIMIT:09d}",
        ack_requested="1" if ack_requested else "0",
        usage=usage,
        component_separator=delimiters.component,
    )


def _transaction_set(outbound: OutboundSet, st_number: str) -> list[Sequence[Element]]:
    """ST, the body (an ST/SE the caller left in is replaced) and SE with its count."""
    body = list(outbound.segments)
    if body and body[0] and body[0][0] == "ST":
        body = body[1:]
        if body and body[-1] and body[-1][0] == "SE":
            body = body[:-1]
    st = ST.build(
        set_id=outbound.set_id,
        control_number=st_number,
        implementation_reference=outbound.implementation_reference or "",
    )
    return [st, *body, SE.build(segment_count=str(len(body) + 2), control_number=st_number)]


def write_interchange(
    sets: Sequence[OutboundSet],
    *,
    sender: Party,
    receiver: Party,
    functional_id: str,
    control_numbers: ControlNumberSource,
    version: str = "004010",
    isa_version: str = "00401",
    usage: str = "P",
    delimiters: Delimiters | None = None,
    ack_requested: bool = False,
    when: datetime | None = None,
    line_break: bool = True,
    encoding: str = "utf-8",
    ta1: Sequence[Sequence[Element]] = (),
) -> bytes:
    """One interchange with one functional group holding ``sets``, as bytes.

    ``ta1`` segments (interchange acknowledgments) go right after the ISA; with no
    ``sets`` the interchange carries no functional group at all.

    :param sets: the transaction sets, all of the group's functional id (GS01).
    :param sender: us (ISA05/06, GS02); ``receiver`` the partner (ISA07/08, GS03).
    :param functional_id: GS01, e.g. "PR" for 855, "SH" for 856, "IN" for 810, "FA" for 997.
    :param control_numbers: source of ISA13, GS06 and ST02 (kinds "ISA", "GS", "ST").
    :param version: GS08, e.g. "004010" or "005010".
    :param isa_version: ISA12, e.g. "00401" (independent of GS08).
    :param usage: ISA15, "P" production or "T" test.
    :param delimiters: separators; ISA16 is ``delimiters.component``. Default ``* > ~``.
    :param line_break: write a newline after each terminator (readable; ignored when the
        terminator already is a newline).
    """
    delimiters = delimiters or Delimiters()
    when = when or datetime.now()
    isa_number = control_numbers.next("ISA")
    segments: list[Sequence[Element]] = [
        _isa(
            sender,
            receiver,
            isa_number,
            when=when,
            delimiters=delimiters,
            isa_version=isa_version,
            usage=usage,
            ack_requested=ack_requested,
        ),
        *ta1,
    ]
    if not sets:
        segments.append(IEA.build(group_count="0", control_number=f"{isa_number % _ISA_CONTROL_LIMIT:09d}"))
        return serialize_segments(segments, delimiters, line_break=line_break).encode(encoding)
    gs_number = control_numbers.next("GS")
    segments.append(
        GS.build(
            functional_id=functional_id,
            sender_id=sender.gs_id,
            receiver_id=receiver.gs_id,
            date=when.strftime("%Y%m%d"),
            time=when.strftime("%H%M"),
            control_number=str(gs_number),
            agency="X",
            version=version,
        )
    )
    for outbound in sets:
        segments.extend(_transaction_set(outbound, f"{control_numbers.next('ST'):04d}"))
    segments.append(GE.build(set_count=str(len(sets)), control_number=str(gs_number)))
    segments.append(IEA.build(group_count="1", control_number=f"{isa_number % _ISA_CONTROL_LIMIT:09d}"))
    return serialize_segments(segments, delimiters, line_break=line_break).encode(encoding)
