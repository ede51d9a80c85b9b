"""Implementation guide definitions: elements, segments and loops of a pyx12 map, and the
state-table transitions compiled from them (:mod:`.guide` loads and compiles)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from amazon_bluecherry.edi.envelope import Delimiters

if TYPE_CHECKING:
    from amazon_bluecherry.edi.guide_patterns import CompiledTables

GUIDES_DIR = Path(__file__).resolve().parent / "guides"

# Valid characters: X12's extended character set (every printable ASCII character, as
# pyx12 checks 005010) plus any non-ASCII printable character, since Amazon's EU addresses
# arrive in UTF-8. Control characters and the interchange's separators are invalid.
_CONTROL_RANGES = "\\x00-\\x1f\\x7f-\\x9f"
_CONTROL = re.compile(f"[{_CONTROL_RANGES}]")

# Transition kinds: the same segment again, a plain move, the next iteration of a loop
# (nothing else to do), and anything needing Python (skipped mandatory segments, entering
# loops, HL hierarchy).
REPEAT, SIMPLE, COMPLEX, LOOP = 0, 1, 2, 3


@dataclass(frozen=True)
class ElementDef:
    ref: str  # "BEG02"
    position: int  # 1-based position in the segment (or in the composite)
    data_ele: str
    name: str
    usage: str  # R required, S situational, N not used
    data_type: str
    min_len: int
    max_len: int
    codes: frozenset[str] | None = None
    components: tuple[ElementDef, ...] | None = None  # composite element


@dataclass(eq=False)
class SegmentDef:
    sid: str
    name: str
    usage: str
    max_use: int | None  # None: unbounded
    elements: tuple[ElementDef, ...]
    syntax: tuple[str, ...]
    parent: LoopDef | None = None
    state: int = -1


@dataclass(eq=False)
class LoopDef:
    xid: str
    name: str
    usage: str
    repeat: int | None
    children: list[SegmentDef | LoopDef] = field(default_factory=list)
    parent: LoopDef | None = None
    index: int = -1  # loop number in Guide.loops

    def first_segment(self) -> SegmentDef:
        child = self.children[0]
        return child if isinstance(child, SegmentDef) else child.first_segment()


@dataclass(frozen=True)
class Transition:
    target: int  # state (segment definition) the segment lands on
    kind: int  # REPEAT, SIMPLE or COMPLEX
    missing: tuple[str, ...] = ()  # mandatory segment ids skipped (AK3 code 3)
    new_iteration: int = -1  # loop index repeated (counted against its repeat)
    entered: tuple[int, ...] = ()  # loop indexes entered afresh


@dataclass(eq=False)
class Guide:
    """One transaction set's implementation guide, compiled."""

    set_id: str
    title: str
    file: str
    version: str
    functional_id: str
    root: LoopDef
    segments: list[SegmentDef]  # index = state; state 0 is "just after ST"
    loops: list[LoopDef]
    transitions: list[dict[str, Transition]]
    end_missing: list[tuple[str, ...]]
    segment_ids: frozenset[str]
    st: SegmentDef
    se: SegmentDef
    hierarchy: dict[str, tuple[str | None, ...]] | None = None
    _compiled: dict[Delimiters, Any] = field(default_factory=dict)

    def tables(self, delimiters: Delimiters) -> CompiledTables:
        compiled = self._compiled.get(delimiters)
        if compiled is None:
            # Compiling imports the regex builder, which needs these definitions first.
            from amazon_bluecherry.edi.guide_patterns import CompiledTables

            compiled = self._compiled[delimiters] = CompiledTables(self, delimiters)
        return compiled
