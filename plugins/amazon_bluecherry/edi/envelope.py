"""The shapes the reader hands to everyone else: interchanges, groups, transaction sets.

A segment is a list of strings: ``segment[0]`` is the segment id, ``segment[n]`` the n-th
element exactly as received (a composite element keeps its sub-element separators; split
it with ``Delimiters.component``). Positions are 1-based counts of segments in the file's
interchange, as X12 (AK3-02 counts from ST) wants them where noted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

Segment = list[str]


@dataclass(frozen=True)
class EnvelopeSegment:
    """An envelope segment's elements by name, in order (the first is element 01).

    Declared once for the reader, the parser, the validator and the writers; the segments
    inside a set are declared in :mod:`amazon_bluecherry.edi.segments`.
    """

    id: str
    names: tuple[str, ...]

    def position(self, name: str) -> int:
        return self.names.index(name) + 1

    def ref(self, name: str) -> str:
        """``ISA05``-style reference of element ``name``."""
        return f"{self.id}{self.position(name):02d}"

    def get(self, segment: Sequence[str] | None, name: str) -> str:
        """Element ``name`` of ``segment`` as received ("" when absent)."""
        n = self.position(name)
        return segment[n] if segment is not None and n < len(segment) else ""

    def build(self, **values: str) -> list[str]:
        """The segment from its elements by name; trailing empty elements are dropped."""
        unknown = set(values) - set(self.names)
        if unknown:
            raise ValueError(f"{self.id} has no element(s) {sorted(unknown)}")
        out = [self.id, *(values.get(name, "") for name in self.names)]
        while len(out) > 1 and out[-1] == "":
            out.pop()
        return out


ISA = EnvelopeSegment(
    "ISA",
    (
        "authorization_qualifier",
        "authorization",
        "security_qualifier",
        "security",
        "sender_qualifier",
        "sender_id",
        "receiver_qualifier",
        "receiver_id",
        "date",
        "time",
        "repetition_separator",  # "U" (standards id) before 00402
        "version",
        "control_number",
        "ack_requested",
        "usage",
        "component_separator",
    ),
)
IEA = EnvelopeSegment("IEA", ("group_count", "control_number"))
GS = EnvelopeSegment(
    "GS",
    ("functional_id", "sender_id", "receiver_id", "date", "time", "control_number", "agency", "version"),
)
GE = EnvelopeSegment("GE", ("set_count", "control_number"))
ST = EnvelopeSegment("ST", ("set_id", "control_number", "implementation_reference"))
SE = EnvelopeSegment("SE", ("segment_count", "control_number"))
TA1 = EnvelopeSegment("TA1", ("control_number", "date", "time", "status", "note_code"))


@dataclass(frozen=True)
class Delimiters:
    element: str = "*"
    component: str = ">"
    segment: str = "~"
    repetition: str | None = None  # ISA11 in 00402+ when it is not "U"


@dataclass
class TransactionSet:
    set_id: str  # e.g. "850"
    control_number: str
    segments: list[Segment]  # ST ... SE inclusive
    start_position: int = 0  # position of ST within the interchange (1-based)


@dataclass
class FunctionalGroup:
    gs: Segment
    ge: Segment | None
    transactions: list[TransactionSet] = field(default_factory=list)

    @property
    def functional_id(self) -> str:
        return GS.get(self.gs, "functional_id")

    @property
    def control_number(self) -> str:
        return GS.get(self.gs, "control_number")

    @property
    def version(self) -> str:
        return GS.get(self.gs, "version")


@dataclass
class Interchange:
    isa: Segment
    iea: Segment | None
    delimiters: Delimiters
    groups: list[FunctionalGroup] = field(default_factory=list)

    @property
    def control_number(self) -> str:
        return ISA.get(self.isa, "control_number")

    @property
    def sender(self) -> str:
        return ISA.get(self.isa, "sender_id").strip()

    @property
    def receiver(self) -> str:
        return ISA.get(self.isa, "receiver_id").strip()
