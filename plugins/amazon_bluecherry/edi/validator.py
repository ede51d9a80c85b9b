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
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol, runtime_checkable

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
_ISA_QUALIFIERS = frozenset(
    [
        "01",
        "02",
        "03",
        "04",
        "07",
        "08",
        "09",
        "10",
        "11",
        "12",
        "13",
        "14",
        "15",
        "16",
        "17",
        "18",
        "19",
        "20",
        "21",
        "22",
        "23",
        "24",
        "25",
        "26",
        "27",
        "28",
        "29",
        "30",
        "31",
        "32",
        "33",
        "34",
        "35",
        "36",
        "37",
        "38",
        "AM",
        "NR",
        "SA",
        "SN",
        "ZZ",
    ]
)
ISA_QUALIFIERS = _ISA_QUALIFIERS  # ISA05/ISA07 codes; the 997 writer echoes only these
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


@runtime_checkable
class DuplicateCheck(Protocol):
    """Remembers control numbers across files; the integration store implements it.

    ``seen`` records the number and answers whether it had been recorded before. ``kind``
    is "interchange" (ISA13), "group" (GS06) or "set" (``"<GS06>:<ST02>"``, since set
    numbers restart in every group); ``sender``/``receiver`` are ISA06/ISA08 for
    interchanges and GS02/GS03 otherwise.
    """

    def seen(self, kind: str, sender: str, receiver: str, control_number: str) -> bool: ...


class InMemoryDuplicates:
    """A :class:`DuplicateCheck` that remembers for the life of the object (tests, CLI)."""

    def __init__(self) -> None:
        self._seen: set[tuple[str, str, str, str]] = set()

    def seen(self, kind: str, sender: str, receiver: str, control_number: str) -> bool:
        key = (kind, sender, receiver, control_number)
        if key in self._seen:
            return True
        self._seen.add(key)
        return False


@dataclass
class Issue:
    """One error, with the code of its level (see the module docstring)."""

    segment_id: str | None
    segment_position: int | None
    element_position: int | None
    code: str
    message: str
    component_position: int | None = None
    data_element: str = ""  # AK402 reference number
    bad_value: str = ""  # AK404
    loop_id: str = ""  # AK303

    @property
    def level(self) -> str:
        if self.element_position is not None:
            return "element"
        return "segment" if self.segment_position is not None else "set"

    def to_dict(self) -> dict[str, Any]:
        return {
            "segment_id": self.segment_id,
            "segment_position": self.segment_position,
            "element_position": self.element_position,
            "code": self.code,
            "message": self.message,
        }


@dataclass
class SetVerdict:
    set_id: str
    control_number: str
    status: str = "A"  # AK501: A accepted, E accepted with errors, R rejected
    errors: list[Issue] = field(default_factory=list)
    guide: str | None = None  # map file used
    segment_count: int = 0
    truncated: bool = False  # errors beyond MAX_ISSUES_PER_SET were dropped

    @property
    def ak5_codes(self) -> list[str]:
        codes = {i.code for i in self.errors if i.level == "set"}
        if any(i.level != "set" for i in self.errors):
            codes.add("5")
        return sorted(codes, key=int)[:5]

    def describe(self, limit: int = 5) -> str:
        """The first ``limit`` errors on one line, each with where it is."""
        return "; ".join(
            f"{issue.segment_id or 'set'}"
            f"{'' if issue.segment_position is None else f' at segment {issue.segment_position}'}"
            f"{'' if issue.element_position is None else f' element {issue.element_position}'}: {issue.message}"
            for issue in self.errors[:limit])

    def to_dict(self) -> dict[str, Any]:
        return {
            "set_id": self.set_id,
            "control_number": self.control_number,
            "status": self.status,
            "errors": [i.to_dict() for i in self.errors],
        }


@dataclass
class GroupVerdict:
    functional_id: str
    control_number: str
    version: str
    gs: Segment
    status: str = "A"  # AK901: A, E, P (partially accepted) or R
    transactions: list[SetVerdict] = field(default_factory=list)
    codes: list[str] = field(default_factory=list)  # AK905..: group-level error codes
    messages: list[str] = field(default_factory=list)
    included: int | None = None  # GE01

    @property
    def received(self) -> int:
        return len(self.transactions)

    @property
    def accepted(self) -> int:
        return sum(1 for t in self.transactions if t.status in ("A", "E"))

    def to_dict(self) -> dict[str, Any]:
        return {
            "functional_id": self.functional_id,
            "control_number": self.control_number,
            "status": self.status,
            "transactions": [t.to_dict() for t in self.transactions],
        }


@dataclass
class InterchangeVerdict:
    control_number: str
    sender: str
    receiver: str
    isa: Segment
    delimiters: Delimiters
    groups: list[GroupVerdict] = field(default_factory=list)
    ta1_codes: list[str] = field(default_factory=list)  # TA105 codes, "000" when none
    messages: list[str] = field(default_factory=list)
    acknowledgements: list[Segment] = field(default_factory=list)  # TA1s it carries (partner's answers)
    partner: str = ""  # registry partner whose guides apply

    @property
    def error(self) -> str | None:
        if not self.ta1_codes:
            return None
        return "; ".join(f"TA1 {c}: {m}" for c, m in zip(self.ta1_codes, self.messages, strict=True))

    @property
    def ta1_code(self) -> str:
        return self.ta1_codes[0] if self.ta1_codes else "000"

    def to_dict(self) -> dict[str, Any]:
        out = {
            "control_number": self.control_number,
            "sender": self.sender,
            "receiver": self.receiver,
            "error": self.error,
            "groups": [g.to_dict() for g in self.groups],
        }
        if self.acknowledgements:  # only interchanges carrying TA1s: the usual shape is unchanged
            out["ta1"] = [
                {"control_number": ta1[1], "status": ta1[4], "code": ta1[5]}
                for ta1 in (segment + [""] * 6 for segment in self.acknowledgements)
            ]
        return out


@dataclass
class ValidationReport:
    source: str
    interchanges: list[InterchangeVerdict] = field(default_factory=list)
    segment_count: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"interchanges": [i.to_dict() for i in self.interchanges]}

    def sets(self) -> Iterator[tuple[InterchangeVerdict, GroupVerdict, SetVerdict]]:
        for interchange in self.interchanges:
            for group in interchange.groups:
                for ts in group.transactions:
                    yield interchange, group, ts

    @property
    def ok(self) -> bool:
        return self.exit_code == 0

    @property
    def exit_code(self) -> int:
        """0 every set accepted; 1 any set rejected or with errors, or a broken envelope."""
        if not self.interchanges:
            return 1
        for interchange in self.interchanges:
            if interchange.ta1_codes or not (interchange.groups or interchange.acknowledgements):
                return 1
            for group in interchange.groups:
                if group.status != "A" or group.codes or not group.transactions:
                    return 1
        return 0


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


def _valid_yymmdd(value: str) -> bool:
    if len(value) != 6 or not value.isdigit():
        return False
    try:
        date(2000 + int(value[:2]), int(value[2:4]), int(value[4:6]))
    except ValueError:
        return False
    return True


def _valid_ccyymmdd(value: str) -> bool:
    if len(value) != 8 or not value.isdigit():
        return False
    try:
        date(int(value[:4]), int(value[4:6]), int(value[6:8]))
    except ValueError:
        return False
    return True


def _century_dates(version: str) -> bool:
    """True for GS08 releases whose dates are CCYYMMDD (004010 and later)."""
    return version[:6].isdigit() and version[:6] >= "004010"


def _valid_hhmm(value: str) -> bool:
    return len(value) >= 4 and value.isdigit() and value[:2] <= "23" and value[2:4] <= "59"


class _Validator:
    """State machine over the segment stream: envelope levels around the guide's table."""

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
        number, parent, level = values[1], values[2], values[3]
        hierarchy = self.guide.hierarchy  # type: ignore[union-attr]
        problems: list[tuple[int, str]] = []
        expected = str(len(self.hl_levels) + 1)
        if number != expected:
            problems.append((1, f"HL01 is {number!r}, expected {expected} (HL numbers count up from 1)"))
        if parent and parent not in self.hl_levels:
            problems.append((2, f"HL02 parent {parent!r} is not an earlier HL"))
        allowed = hierarchy.get(level) if hierarchy else None
        if allowed is not None:
            parent_level = self.hl_levels.get(parent) if parent else None
            if (parent and parent in self.hl_levels or not parent) and parent_level not in allowed:
                where = f"under level {parent_level}" if parent_level else "at the top"
                problems.append((3, f"HL level {level} cannot be {where}"))
        if number and number not in self.hl_levels:
            self.hl_levels[number] = level
        if problems:
            self._segment_issue("HL", count, "8", "hierarchy")
            for position, message in problems:
                self._add(
                    Issue(
                        "HL", count, position, "7", message, data_element=("628", "734", "735")[position - 1]
                    )
                )

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

    def _on_isa(self, values: list[str]) -> None:
        self._close_interchange(missing_trailer=True)
        isa = values
        get = lambda i: isa[i] if i < len(isa) else ""  # noqa: E731
        self.interchange = InterchangeVerdict(
            control_number=get(13),
            sender=get(6).strip(),
            receiver=get(8).strip(),
            isa=isa,
            delimiters=self.delimiters,
        )
        self.report.interchanges.append(self.interchange)
        self.partner = self.registry.partner_for(self.interchange.sender, self.interchange.receiver)
        self.interchange.partner = self.partner
        checks = [
            (len(isa) == 17, "022", f"ISA has {len(isa) - 1} elements, not 16"),
            (
                get(1) in ("00", "01", "02", "03", "04", "05", "06"),
                "010",
                f"ISA01 {get(1)!r} is not a valid qualifier",
            ),
            (len(get(2)) == 10, "011", "ISA02 must be 10 characters"),
            (get(3) in ("00", "01"), "012", f"ISA03 {get(3)!r} is not 00 or 01"),
            (len(get(4)) == 10, "013", "ISA04 must be 10 characters"),
            (get(5) in _ISA_QUALIFIERS, "005", f"ISA05 qualifier {get(5)!r} is not valid"),
            (len(get(6)) == 15 and get(6).strip() != "", "006", "ISA06 sender id must be 15 characters"),
            (get(7) in _ISA_QUALIFIERS, "007", f"ISA07 qualifier {get(7)!r} is not valid"),
            (len(get(8)) == 15 and get(8).strip() != "", "008", "ISA08 receiver id must be 15 characters"),
            (_valid_yymmdd(get(9)), "014", f"ISA09 date {get(9)!r} is not a valid YYMMDD"),
            (
                len(get(10)) == 4 and _valid_hhmm(get(10)),
                "015",
                f"ISA10 time {get(10)!r} is not a valid HHMM",
            ),
            (
                get(11) == "U" or get(12) >= "00402",
                "016",
                f"ISA11 {get(11)!r} must be U before version 00402",
            ),
            (
                len(get(12)) == 5 and get(12).isdigit() and "00200" <= get(12) <= "00801",
                "017",
                f"ISA12 version {get(12)!r} is not valid",
            ),
            (
                len(get(13)) == 9 and get(13).isdigit(),
                "018",
                f"ISA13 control number {get(13)!r} must be 9 digits",
            ),
            (get(14) in ("0", "1"), "019", f"ISA14 {get(14)!r} is not 0 or 1"),
            (get(15) in ("P", "T", "I"), "020", f"ISA15 usage {get(15)!r} is not P, T or I"),
        ]
        for ok, code, message in checks:
            if not ok:
                self._interchange_error(code, message)
        if (
            self.duplicates is not None
            and self.interchange.control_number
            and self.duplicates.seen(
                "interchange",
                self.interchange.sender,
                self.interchange.receiver,
                self.interchange.control_number,
            )
        ):
            self._interchange_error(
                "025", f"duplicate interchange control number {self.interchange.control_number}"
            )

    def _on_ta1(self, values: list[str]) -> None:
        """An interchange acknowledgment (the partner's answer to one of our ISAs): kept, checked."""
        if self.interchange is None:
            return
        self.interchange.acknowledgements.append(values)
        get = lambda i: values[i] if i < len(values) else ""  # noqa: E731
        checks = [
            (len(values) == 6, f"TA1 has {len(values) - 1} elements, not 5"),
            (len(get(1)) == 9 and get(1).isdigit(), f"TA101 control number {get(1)!r} must be 9 digits"),
            (_valid_yymmdd(get(2)), f"TA102 date {get(2)!r} is not a valid YYMMDD"),
            (len(get(3)) == 4 and _valid_hhmm(get(3)), f"TA103 time {get(3)!r} is not a valid HHMM"),
            (get(4) in ("A", "E", "R"), f"TA104 {get(4)!r} is not A, E or R"),
            (len(get(5)) == 3 and get(5).isdigit(), f"TA105 note code {get(5)!r} must be 3 digits"),
        ]
        for ok, message in checks:
            if not ok:
                self._interchange_error("024", message)
                return

    def _on_iea(self, values: list[str]) -> None:
        if self.interchange is None:
            return
        self._close_group(missing_trailer=True)
        interchange = self.interchange
        count = values[1] if len(values) > 1 else ""
        number = values[2] if len(values) > 2 else ""
        if number != interchange.control_number:
            self._interchange_error(
                "001", f"IEA02 {number!r} does not match ISA13 {interchange.control_number!r}"
            )
        if count != str(len(interchange.groups)):
            self._interchange_error("021", f"IEA01 says {count!r} groups, found {len(interchange.groups)}")
        self.interchange = None

    def _close_interchange(self, *, missing_trailer: bool) -> None:
        if self.interchange is None:
            return
        self._close_group(missing_trailer=True)
        if missing_trailer:
            self._interchange_error("023", "interchange has no IEA trailer (premature end of file)")
        self.interchange = None

    def _on_gs(self, values: list[str]) -> None:
        if self.interchange is None:
            return
        self._close_group(missing_trailer=True)
        get = lambda i: values[i] if i < len(values) else ""  # noqa: E731
        self.group = GroupVerdict(functional_id=get(1), control_number=get(6), version=get(8), gs=values)
        self.interchange.groups.append(self.group)
        self.group_set_numbers = set()
        if not (get(6).isdigit() and 1 <= len(get(6)) <= 9):
            self._group_error("6", f"GS06 group control number {get(6)!r} is not 1-9 digits")
        bad = []
        if len(values) != 9:
            bad.append(f"GS has {len(values) - 1} elements, not 8")
        if _century_dates(get(8)):  # data element 373 is CCYYMMDD from 004010 on
            if not _valid_ccyymmdd(get(4)):
                bad.append(f"GS04 date {get(4)!r} is not a valid CCYYMMDD (required under GS08 {get(8)!r})")
        elif not (_valid_ccyymmdd(get(4)) or _valid_yymmdd(get(4))):
            bad.append(f"GS04 date {get(4)!r} is not valid")
        if not (len(get(5)) in (4, 6, 7, 8) and _valid_hhmm(get(5))):
            bad.append(f"GS05 time {get(5)!r} is not valid")
        if get(7) not in ("X", "T"):
            bad.append(f"GS07 agency {get(7)!r} is not X")
        if not (2 <= len(get(2)) <= 15 and 2 <= len(get(3)) <= 15):
            bad.append("GS02/GS03 application ids must be 2-15 characters")
        for message in bad:
            self._interchange_error("024", message)
        if self.registry.resolve_version(self.partner, get(8)) is None and not self.registry.unsupported(
            self.partner
        ):  # an unsupported partner's sets each say so (AK5 1); the group itself is fine
            self._group_error("2", f"version {get(8)!r} has no guides for partner {self.partner}")
        if self.duplicates is not None and get(6) and self.duplicates.seen("group", get(2), get(3), get(6)):
            self._group_error("19", f"duplicate group control number {get(6)}")

    def _on_ge(self, values: list[str]) -> None:
        if self.group is None:
            self._outside("GE")
            return
        self._close_set(missing_trailer=True)
        group = self.group
        count = values[1] if len(values) > 1 else ""
        number = values[2] if len(values) > 2 else ""
        group.included = int(count) if count.isdigit() else None
        if count != str(len(group.transactions)):
            self._group_error("5", f"GE01 says {count!r} sets, found {len(group.transactions)}")
        if number != group.control_number:
            self._group_error("4", f"GE02 {number!r} does not match GS06 {group.control_number!r}")
        self._finish_group()
        self.group = None

    def _close_group(self, *, missing_trailer: bool) -> None:
        if self.group is None:
            return
        self._close_set(missing_trailer=True)
        if missing_trailer:
            self._group_error("3", "functional group has no GE trailer")
        self._finish_group()
        self.group = None

    def _finish_group(self) -> None:
        group = self.group
        assert group is not None
        statuses = {t.status for t in group.transactions}
        if group.codes or not group.transactions or statuses == {"R"}:
            group.status = "R"
        elif "R" in statuses:
            group.status = "P"
        elif "E" in statuses:
            group.status = "E"
        else:
            group.status = "A"

    def _on_st(self, values: list[str]) -> None:
        if self.interchange is None:
            return
        self._close_set(missing_trailer=True)
        if self.group is None:
            self._interchange_error("024", "transaction set outside a functional group")
            self.group = GroupVerdict(functional_id="", control_number="", version="", gs=["GS"])
            self.interchange.groups.append(self.group)
            self.group.codes.append("3")
            self.group.messages.append("no GS header")
        set_id = values[1] if len(values) > 1 else ""
        number = values[2] if len(values) > 2 else ""
        self.ts = SetVerdict(set_id=set_id, control_number=number)
        self.group.transactions.append(self.ts)
        self.st = values
        self.count = 1
        self.state = 0
        self.rep = 1
        self.body_ok = False
        self.hl_levels = {}
        key = (self.partner, self.group.version, set_id)
        if key not in self._guides:
            self._guides[key] = self.registry.find(*key)
        self.guide = self._guides[key]
        if self.guide is None:
            self._set_issue(
                "1",
                self.registry.unsupported(self.partner)
                or f"transaction set {set_id!r} (GS08 {self.group.version!r}) is not supported for {self.partner}",
                "ST",
            )
        else:
            self.ts.guide = self.guide.file
            self.loop_counts = [0] * len(self.guide.loops)
            self.requirements = self.registry.requirements(self.partner, set_id)
            self.collected = [] if self.requirements else None
        self._bind_tables()
        if self.guide is not None:
            st_raw = self.delimiters.element.join(values)
            st_ok = self.fullmatch[0](st_raw) is not None and not self.forbidden(st_raw)
            st_issues = [] if st_ok else diagnose_segment(self.guide.st, st_raw, self.delimiters)[0]
            for i in st_issues:
                self._add(Issue("ST", 1, i.position, i.code, i.message, None, i.data_ele, i.bad_value))
            if not st_ok:
                self._segment_issue("ST", 1, "8")
        if not (4 <= len(number) <= 9):
            self._set_issue("7", f"ST02 control number {number!r} must be 4-9 characters", "ST")
        if number in self.group_set_numbers:
            self._set_issue("23", f"set control number {number} repeats in the group", "ST")
        self.group_set_numbers.add(number)
        if (
            self.duplicates is not None
            and number
            and self.duplicates.seen(
                "set",
                self.group.gs[2] if len(self.group.gs) > 2 else "",
                self.group.gs[3] if len(self.group.gs) > 3 else "",
                f"{self.group.control_number}:{number}",
            )
            and "23" not in {i.code for i in self.ts.errors if i.level == "set"}
        ):
            self._set_issue("23", f"duplicate set control number {self.group.control_number}:{number}", "ST")

    def _on_se(self, values: list[str]) -> None:
        if self.ts is None:
            self._outside("SE")
            return
        self.count += 1
        ts = self.ts
        count = values[1] if len(values) > 1 else ""
        number = values[2] if len(values) > 2 else ""
        if self.guide is not None and not self.body_ok:
            for sid in self.guide.end_missing[self.state]:
                self._segment_issue(sid, self.count, "3", "required before SE")
        self._check_requirements()
        if count != str(self.count):
            self._set_issue("4", f"SE01 says {count!r} segments, counted {self.count}", "SE")
        if number != ts.control_number:
            self._set_issue("3", f"SE02 {number!r} does not match ST02 {ts.control_number!r}", "SE")
        self._close_set(missing_trailer=False)

    def _close_set(self, *, missing_trailer: bool) -> None:
        ts = self.ts
        if ts is None:
            return
        if missing_trailer:
            self._set_issue("2", "transaction set has no SE trailer", "SE")
        ts.segment_count = self.count
        ts.status = "R" if ts.errors else "A"
        self.requirements, self.collected = None, None
        self.ts = None
        self.guide = None
        self._bind_tables()
        self.state = 0

    def finish(self) -> None:
        if self.interchange is not None:
            self._close_interchange(missing_trailer=True)
        self.report.segment_count = self.segments_seen
