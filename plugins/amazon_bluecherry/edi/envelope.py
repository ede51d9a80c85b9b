"""The shapes the reader hands to everyone else: interchanges, groups, transaction sets.

A segment is a list of strings: ``segment[0]`` is the segment id, ``segment[n]`` the n-th
element exactly as received (a composite element keeps its sub-element separators; split
it with ``Delimiters.component``). Positions are 1-based counts of segments in the file's
interchange, as X12 (AK3-02 counts from ST) wants them where noted.
"""

from __future__ import annotations

from dataclasses import dataclass, field

Segment = list[str]


@dataclass(frozen=True)
class Delimiters:
    element: str = "*"
    component: str = ">"
    segment: str = "~"
    repetition: str | None = None  # ISA11 in 00402+ when it is not "U"


@dataclass
class TransactionSet:
    set_id: str  # ST01, e.g. "850"
    control_number: str  # ST02
    segments: list[Segment]  # ST ... SE inclusive
    start_position: int = 0  # position of ST within the interchange (1-based)


@dataclass
class FunctionalGroup:
    gs: Segment
    ge: Segment | None
    transactions: list[TransactionSet] = field(default_factory=list)

    @property
    def functional_id(self) -> str:
        return self.gs[1] if len(self.gs) > 1 else ""

    @property
    def control_number(self) -> str:
        return self.gs[6] if len(self.gs) > 6 else ""

    @property
    def version(self) -> str:
        return self.gs[8] if len(self.gs) > 8 else ""


@dataclass
class Interchange:
    isa: Segment
    iea: Segment | None
    delimiters: Delimiters
    groups: list[FunctionalGroup] = field(default_factory=list)

    @property
    def control_number(self) -> str:
        return self.isa[13] if len(self.isa) > 13 else ""

    @property
    def sender(self) -> str:
        return self.isa[6].strip() if len(self.isa) > 6 else ""

    @property
    def receiver(self) -> str:
        return self.isa[8].strip() if len(self.isa) > 8 else ""
