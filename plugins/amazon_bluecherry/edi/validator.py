"""Strict, fast X12 validation against the implementation guides, with 997/TA1 verdicts.

``validate_file(source)`` reads the input in constant memory and returns a
:class:`ValidationReport`: per interchange (TA1 level), per functional group (AK9) and per
transaction set (AK5) a status and the errors with their standard codes. One bad set never
stops the others from being checked.

Error entries (``Issue``) carry the code of their level:

* ``element_position`` set: an AK4 code (1 mandatory missing ... 10 exclusion violated);
* only ``segment_position`` set: an AK3 code (1 unrecognized segment ... 8 element errors);
* neither set: an AK5 code for the whole set (1 not supported, 2 trailer missing,
  3 control number mismatch, 4 segment count mismatch, 23 duplicate control number).
"""

from __future__ import annotations

import logging
import os
import re
from typing import Any

from amazon_bluecherry.edi import segments as x
from amazon_bluecherry.edi.envelope import Delimiters, Segment
from amazon_bluecherry.edi.guide import (
    COMPLEX,
    LOOP,
    REPEAT,
    Guide,
    GuideRegistry,
    SegmentDef,
    default_registry,
    diagnose_segment,
    forbidden_characters,
)
from amazon_bluecherry.edi.reader import NotX12Error, Source, X12Error, iter_segment_batches
from amazon_bluecherry.edi.validator_envelope import EnvelopeChecks
from amazon_bluecherry.edi.validator_report import (
    DuplicateCheck,
    GroupVerdict,
    InMemoryDuplicates,
    InterchangeVerdict,
    Issue,
    SetVerdict,
    ValidationReport,
)

__all__ = [
    "DuplicateCheck",
    "GroupVerdict",
    "InMemoryDuplicates",
    "InterchangeVerdict",
    "Issue",
    "NotX12Error",
    "SetVerdict",
    "ValidationReport",
    "X12Error",
    "validate_file",
]

log = logging.getLogger(__name__)

# A broken file must not grow the report without bound.
MAX_ISSUES_PER_SET = 500
# Check whole valid sets with one regex each (the walk still diagnoses every failure);
# tests switch it off to prove both paths reach the same verdicts.
WHOLE_SET_REGEX = True
_SEGMENT_ID = re.compile(r"[A-Z][A-Z0-9]{1,2}")
_ENVELOPE = frozenset({"ISA", "IEA", "GS", "GE", "ST", "SE"})

AK3_MESSAGES = {
    "1": "unrecognized segment id",
    "2": "unexpected segment",
    "3": "mandatory segment missing",
    "4": "loop occurs over maximum times",
    "5": "segment exceeds maximum use",
    "6": "segment not in defined transaction set",
    "7": "segment not in proper sequence",
    "8": "segment has data element errors",
}


def validate_file(
    source: Source,
    *,
    registry: GuideRegistry | None = None,
    duplicates: DuplicateCheck | None = None,
) -> ValidationReport:
    """Validate an X12 file (path, bytes or binary file object) against the guides.

    Raises NotX12Error when the input is not X12 or cannot be read; every other problem is
    a verdict in the report.
    """
    if isinstance(source, str | os.PathLike):
        name = os.fspath(source)
    elif isinstance(source, bytes | bytearray | memoryview):
        name = "<bytes>"
    else:
        name = getattr(source, "name", "<stream>")
    validator = _Validator(registry or default_registry(), duplicates, ValidationReport(str(name)))
    for batch, delimiters in iter_segment_batches(source):
        validator.run(batch, delimiters)
    validator.finish()
    return validator.report


# ------------------------------------------------------------------------------------------


# X12 data element numbers of HL01-03 (AK402 of the element errors _check_hl reports).
_HL_DATA_ELEMENTS = {"hierarchical_id": "628", "parent_id": "734", "level_code": "735"}


class _Validator(EnvelopeChecks):
    """State machine over the segment stream: envelope levels (:class:`EnvelopeChecks`)
    around the guide's table (here)."""

    def __init__(self, registry: GuideRegistry, duplicates: DuplicateCheck | None, report: ValidationReport):
        self.registry = registry
        self.duplicates = duplicates
        self.report = report
        self.delimiters = Delimiters()
        self.forbidden = forbidden_characters(self.delimiters)
        self.interchange: InterchangeVerdict | None = None
        self.group: GroupVerdict | None = None
        self.partner = registry.default_partner
        self.group_set_numbers: set[str] = set()
        self._recall = getattr(duplicates, "recall", None)
        self._recall_gs: list[str] | None = None  # the GS the pre-scan of the batches is in
        # the open transaction set
        self.ts: SetVerdict | None = None
        self.st: Segment | None = None
        self.guide: Guide | None = None
        self.tables: list[dict[str, tuple]] | None = None
        self.max_use: list[int] = []
        self.fullmatch: list[Any] = []
        self.state = 0
        self.rep = 0
        self.count = 0
        self.loop_counts: list[int] = []
        self.hl_levels: dict[str, str] = {}
        self.set_fullmatch: Any = None
        self.set_refuses: str | None = None
        self._compiled: dict[str, Any] = {}  # guide file -> its tables for self.delimiters
        self._compiled_for: Delimiters | None = None
        self._guides: dict[tuple[str, str, str], Guide | None] = {}
        self.body_ok = False  # the open set's body matched the set regex
        self.segments_seen = 0
        # Amazon's requirements inside the open set (edi/requirements.py) and, when there
        # are any, the set's segments (position, raw) collected to check them at SE.
        self.requirements: Any = None
        self.collected: list[tuple[int, str]] | None = None

    # ---- the hot loop ------------------------------------------------------------------

    def run(self, batch: list[str], delimiters: Delimiters) -> None:
        if delimiters != self.delimiters:
            self.delimiters = delimiters
            self.forbidden = forbidden_characters(delimiters)
            self._bind_tables()
        # One search over the whole batch instead of one per segment: if a control
        # character hides somewhere, every segment of this batch is checked for it.
        text = delimiters.segment.join(batch)
        if self._recall is not None:
            self._recall(self._control_number_keys(batch))
        bad = self.forbidden(text)
        if bad is None and len(delimiters.segment) == 1 and WHOLE_SET_REGEX:
            self._run_sets(batch, text)
        else:
            self._run_segments(batch, self.forbidden if bad else None)
        self.segments_seen += len(batch)

    def _run_sets(self, batch: list[str], text: str) -> None:
        """Whole sets checked by one regex each where possible; the rest segment by segment.

        ``text`` is the batch joined by the (one-character) terminator, so finding the
        next ST or SE and counting segments are C-level string searches.
        """
        term = self.delimiters.segment
        e = self.delimiters.element
        st_start, st_marker, se_marker = "ST" + e, term + "ST" + e, term + "SE" + e
        n = len(batch)
        i = pos = 0  # batch index and its offset in text
        while i < n:
            raw = batch[i]
            if self.ts is None and self.group is not None and raw.startswith(st_start):
                q = text.find(se_marker, pos)
                if q >= 0 and text.find(st_marker, pos, q) < 0:
                    end = text.find(term, q + 1)
                    end = len(text) if end < 0 else end
                    consumed = self._whole_set(raw, text, pos, q, end)
                    j = i + text.count(term, pos, end) + 1  # just past the SE
                    if not consumed:  # diagnose this set segment by segment
                        self._run_segments(batch[i + 1 : j], None)
                    i, pos = j, end + 1
                    continue
            nxt = text.find(st_marker, pos)
            if nxt < 0:
                self._run_segments(batch[i:] if i else batch, None)
                return
            j = i + text.count(term, pos, nxt) + 1
            if j == i:
                j, nxt = i + 1, pos + len(raw)
            self._run_segments(batch[i:j], None)
            i, pos = j, nxt + 1

    def _whole_set(self, st_raw: str, text: str, pos: int, q: int, end: int) -> bool:
        """Open the set at ``pos`` and, if its body matches the set regex, close it.

        Returns False (ST processed, set still open at state 0) when the set needs the
        segment-by-segment walk.
        """
        self._slow(st_raw)
        if self.ts is None or self.ts.errors or self.set_fullmatch is None:
            return False
        body = text[pos + len(st_raw) + 1 : q + 1]
        if (self.set_refuses and self.set_refuses in body) or self.set_fullmatch(body) is None:
            return False
        self.count = body.count(self.delimiters.segment) + 1
        if self.collected is not None:
            self.collected.extend(enumerate(body.split(self.delimiters.segment)[:-1], start=2))
        self.body_ok = True
        self._on_se(text[q + 1 : end].split(self.delimiters.element))
        return True

    def _run_segments(self, batch: list[str], bad) -> None:
        tables, max_use, loop_counts = self.tables, self.max_use, self.loop_counts
        table = tables[self.state] if tables is not None else None
        state, rep, count = self.state, self.rep, self.count
        collected = self.collected
        for raw in batch:
            if table is not None:
                t = table.get(raw[:3])
                if t is not None:
                    count += 1
                    if collected is not None:
                        collected.append((count, raw))
                    kind = t[1]
                    if kind == LOOP:
                        rep = 1
                        loop = t[4]
                        loop_counts[loop] += 1
                        if loop_counts[loop] > t[5]:
                            self._loop_over(t[3], count)
                    elif kind == REPEAT:
                        rep += 1
                        if rep > max_use[state]:
                            self._too_many(state, raw, count)
                    elif kind == COMPLEX:
                        rep = 1
                        self._complex(t[3], raw, count)
                    else:
                        rep = 1
                    state = t[0]
                    table = tables[state]
                    if t[2](raw) is None or (bad is not None and bad(raw)):
                        self._diagnose(state, raw, count)
                    continue
            # envelope segments, unknown segments, segments outside sets
            self.state, self.rep, self.count = state, rep, count
            self._slow(raw)
            tables, max_use, loop_counts = self.tables, self.max_use, self.loop_counts
            state, rep, count = self.state, self.rep, self.count
            collected = self.collected
            table = tables[state] if tables is not None else None
        self.state, self.rep, self.count = state, rep, count

    def _bind_tables(self) -> None:
        if self.guide is None:
            self.tables, self.max_use, self.fullmatch, self.set_fullmatch = None, [], [], None
            self.set_refuses = None
            return
        if self._compiled_for is not self.delimiters:
            self._compiled, self._compiled_for = {}, self.delimiters
        compiled = self._compiled.get(self.guide.file)
        if compiled is None:
            compiled = self._compiled[self.guide.file] = self.guide.tables(self.delimiters)
        self.tables, self.max_use, self.fullmatch = compiled.tables, compiled.max_use, compiled.fullmatch
        self.set_fullmatch = compiled.set_fullmatch
        self.set_refuses = compiled.set_refuses

    # ---- recording ---------------------------------------------------------------------

    def _add(self, issue: Issue) -> None:
        ts = self.ts
        if ts is None:
            return
        if len(ts.errors) >= MAX_ISSUES_PER_SET:
            ts.truncated = True
            return
        ts.errors.append(issue)

    def _segment_issue(self, sid: str, position: int, code: str, detail: str = "") -> None:
        message = AK3_MESSAGES[code] + (f": {detail}" if detail else "")
        self._add(Issue(sid, position, None, code, f"{sid} at position {position}: {message}"))

    def _set_issue(self, code: str, message: str, segment_id: str | None = None) -> None:
        self._add(Issue(segment_id, None, None, code, message))

    def _interchange_error(self, code: str, message: str) -> None:
        if self.interchange is not None and code not in self.interchange.ta1_codes:
            self.interchange.ta1_codes.append(code)
            self.interchange.messages.append(message)

    def _group_error(self, code: str, message: str) -> None:
        if self.group is not None and code not in self.group.codes:
            self.group.codes.append(code)
            self.group.messages.append(message)

    # ---- inside a set --------------------------------------------------------------------

    def _too_many(self, state: int, raw: str, count: int) -> None:
        seg = self.guide.segments[state]  # type: ignore[union-attr]
        self._segment_issue(seg.sid, count, "5", f"more than {seg.max_use}")

    def _loop_over(self, transition, count: int) -> None:
        guide = self.guide
        assert guide is not None
        loop = guide.loops[transition.new_iteration]
        sid = guide.segments[transition.target].sid
        self._segment_issue(sid, count, "4", f"loop {loop.xid} repeats more than {loop.repeat} times")

    def _complex(self, transition, raw: str, count: int) -> None:
        guide = self.guide
        assert guide is not None
        target = guide.segments[transition.target]
        if target.usage == "N":
            self._segment_issue(target.sid, count, "2", "the guide does not use this segment")
        for sid in transition.missing:
            self._segment_issue(sid, count, "3", f"required before {target.sid}")
        if transition.new_iteration >= 0:
            loop = guide.loops[transition.new_iteration]
            self.loop_counts[loop.index] += 1
            if loop.repeat is not None and self.loop_counts[loop.index] > loop.repeat:
                self._loop_over(transition, count)
        for index in transition.entered:
            self.loop_counts[index] = 1
        if target.sid == "HL" and guide.hierarchy is not None:
            self._check_hl(raw, count)

    def _check_requirements(self) -> None:
        """Amazon's requirements per HL level / per set (registry.yaml ``requirements``)."""
        if self.requirements is None or self.collected is None:
            return
        e = self.delimiters.element
        already = {(i.segment_position, i.element_position) for i in self.ts.errors} if self.ts else set()
        for issue in self.requirements.check((position, raw.split(e)) for position, raw in self.collected):
            if issue.element_position is not None and (issue.segment_position, issue.element_position) in already:
                continue  # the map already reported this element
            self._add(Issue(issue.segment_id, issue.segment_position, issue.element_position, issue.code,
                            issue.message, data_element=issue.data_element, bad_value=issue.bad_value))

    def _check_hl(self, raw: str, count: int) -> None:
        values = raw.split(self.delimiters.element) + ["", "", ""]
        at = x.HL.positions
        number, parent, level = values[at["hierarchical_id"]], values[at["parent_id"]], values[at["level_code"]]
        hierarchy = self.guide.hierarchy  # type: ignore[union-attr]
        problems: list[tuple[str, str]] = []  # (HL field, message)
        expected = str(len(self.hl_levels) + 1)
        if number != expected:
            problems.append(
                ("hierarchical_id", f"{x.HL.name('hierarchical_id')} is {number!r}, expected {expected} "
                 "(HL numbers count up from 1)")
            )
        if parent and parent not in self.hl_levels:
            problems.append(("parent_id", f"{x.HL.name('parent_id')} parent {parent!r} is not an earlier HL"))
        allowed = hierarchy.get(level) if hierarchy else None
        if allowed is not None:
            parent_level = self.hl_levels.get(parent) if parent else None
            if (parent and parent in self.hl_levels or not parent) and parent_level not in allowed:
                where = f"under level {parent_level}" if parent_level else "at the top"
                problems.append(("level_code", f"HL level {level} cannot be {where}"))
        if number and number not in self.hl_levels:
            self.hl_levels[number] = level
        if problems:
            self._segment_issue("HL", count, "8", "hierarchy")
            for name, message in problems:
                self._add(Issue("HL", count, at[name], "7", message, data_element=_HL_DATA_ELEMENTS[name]))

    def _diagnose(self, state: int, raw: str, count: int) -> None:
        seg: SegmentDef = self.guide.segments[state]  # type: ignore[union-attr]
        actual = raw.split(self.delimiters.element, 1)[0]
        if actual != seg.sid:
            self._segment_issue(actual, count, "1")
            return
        issues, trailing = diagnose_segment(seg, raw, self.delimiters)
        if not issues and not trailing:
            issues_text = "does not match its definition"
            self._segment_issue(seg.sid, count, "8", issues_text)
            return
        self._segment_issue(
            seg.sid, count, "8", "trailing element separator" if trailing and not issues else ""
        )
        for i in issues:
            self._add(
                Issue(seg.sid, count, i.position, i.code, i.message, i.component, i.data_ele, i.bad_value)
            )

    # ---- envelopes ---------------------------------------------------------------------

    def _slow(self, raw: str) -> None:
        values = raw.split(self.delimiters.element)
        sid = values[0]
        if sid in _ENVELOPE:
            getattr(self, f"_on_{sid.lower()}")(values)
            return
        if self.ts is None:
            if sid == "TA1" and self.group is None:  # TA1s sit between ISA and GS
                self._on_ta1(values)
            else:
                self._outside(sid)
            return
        self.count += 1
        if self.collected is not None:
            self.collected.append((self.count, raw))
        if self.guide is None:
            return  # set not supported: only the envelope is checked
        # A segment without elements (no separator) or one the table does not reach.
        t = self.guide.transitions[self.state].get(sid)
        if t is not None and (len(values) == 1 or len(sid) != 2):
            key = sid if len(sid) == 3 else sid + self.delimiters.element
            entry = self.tables[self.state].get(key) if self.tables else None  # type: ignore[index]
            if entry is not None or len(values) == 1:
                self._apply(t, raw)
                return
        if not _SEGMENT_ID.fullmatch(sid):
            self._segment_issue(sid or "?", self.count, "1", f"{sid!r} is not a segment id")
        elif sid in self.guide.segment_ids:
            self._segment_issue(
                sid, self.count, "7", f"not expected after {self.guide.segments[self.state].sid}"
            )
        else:
            self._segment_issue(sid, self.count, "6", f"{sid} is not part of the {self.guide.set_id} guide")

    def _apply(self, t, raw: str) -> None:
        if t.kind == REPEAT:
            self.rep += 1
            if self.rep > self.max_use[self.state]:
                self._too_many(self.state, raw, self.count)
        else:
            self.rep = 1
            if t.kind in (COMPLEX, LOOP):
                self._complex(t, raw, self.count)
        self.state = t.target
        if self.fullmatch[self.state](raw) is None or self.forbidden(raw):
            self._diagnose(self.state, raw, self.count)

    def _outside(self, sid: str) -> None:
        if self.interchange is None:
            return
        where = "a functional group" if self.group is None else "a transaction set"
        self._interchange_error("024", f"segment {sid} outside {where}")
