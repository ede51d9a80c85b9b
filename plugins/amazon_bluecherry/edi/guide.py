"""Implementation guides: pyx12-format XML maps loaded and compiled for fast validation.

A guide is read once (``lru_cache``) into segment and loop definitions, then compiled into

* a state table: for every position in the transaction set (a segment definition) and every
  segment id, where that segment lands, which loops it enters or repeats and which
  mandatory segments it skipped -- so the validator walks loops with one dict lookup;
* one regular expression per segment definition and delimiter set that accepts exactly
  the valid segments (types, lengths, code lists, calendar dates, times, syntax rules), so
  the common path is a single ``re.fullmatch`` in C. Only a segment that does not match is
  diagnosed element by element (:func:`diagnose_segment`).
"""

from __future__ import annotations

import datetime as _dt
import os
import re
import shutil
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import yaml

from amazon_bluecherry.edi.envelope import Delimiters

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
            compiled = self._compiled[delimiters] = CompiledTables(self, delimiters)
        return compiled


# --------------------------------------------------------------------------------------
# Loading the XML maps


def _text(node: ElementTree.Element, name: str, default: str | None = None) -> str | None:
    value = node.get(name)
    if value is None:
        value = node.findtext(name)
    return value.strip() if isinstance(value, str) else default


def _repeat(value: str | None) -> int | None:
    if value is None or value.startswith(">"):
        return None
    return int(value)


@lru_cache(maxsize=4)
def load_data_elements(directory: str = str(GUIDES_DIR)) -> dict[str, tuple[str, int, int, str]]:
    """The data-element dictionary: number -> (type, min length, max length, name)."""
    tree = ElementTree.parse(os.path.join(directory, "dataele.xml"))
    return {
        e.get("ele_num", ""): (
            e.get("data_type", "AN"),
            int(e.get("min_len", "1")),
            int(e.get("max_len", "1")),
            e.get("name", ""),
        )
        for e in tree.getroot().iter("data_ele")
    }


@lru_cache(maxsize=4)
def load_external_codes(directory: str = str(GUIDES_DIR)) -> dict[str, frozenset[str]]:
    tree = ElementTree.parse(os.path.join(directory, "codes.xml"))
    return {
        c.findtext("id", ""): frozenset(code.text or "" for code in c.iter("code"))
        for c in tree.getroot().iter("codeset")
    }


def _element(node: ElementTree.Element, position: int, directory: str) -> ElementDef:
    data_ele = _text(node, "data_ele", "") or ""
    usage = _text(node, "usage", "S") or "S"
    ref = node.get("xid", "")
    if node.tag == "composite":
        components = tuple(
            _element(child, i, directory)
            for i, child in enumerate((c for c in node if c.tag == "element"), 1)
        )
        name = _text(node, "name", data_ele) or data_ele
        return ElementDef(ref, position, data_ele, name, usage, "COMPOSITE", 0, 0, None, components)
    data_type, min_len, max_len, default_name = load_data_elements(directory).get(
        data_ele, ("AN", 1, 80, data_ele)
    )
    codes: frozenset[str] | None = None
    valid = node.find("valid_codes")
    if valid is not None:
        external = valid.get("external")
        if external:
            codes = load_external_codes(directory).get(external)
        else:
            codes = frozenset((c.text or "").strip() for c in valid.iter("code"))
    name = _text(node, "name", default_name) or default_name
    return ElementDef(ref, position, data_ele, name, usage, data_type, min_len, max_len, codes)


def _segment(node: ElementTree.Element, directory: str) -> SegmentDef:
    elements = []
    for child in node:
        if child.tag in ("element", "composite"):
            seq = _text(child, "seq")
            elements.append(_element(child, int(seq) if seq else len(elements) + 1, directory))
    elements.sort(key=lambda e: e.position)
    return SegmentDef(
        sid=node.get("xid", ""),
        name=_text(node, "name", "") or "",
        usage=_text(node, "usage", "S") or "S",
        max_use=_repeat(_text(node, "max_use")),
        elements=tuple(elements),
        syntax=tuple((s.text or "").strip() for s in node.findall("syntax")),
    )


def _children(node: ElementTree.Element, loop: LoopDef, directory: str) -> None:
    for child in node:
        if child.tag == "segment":
            seg = _segment(child, directory)
            seg.parent = loop
            loop.children.append(seg)
        elif child.tag == "loop":
            if child.get("type") == "wrapper":
                _children(child, loop, directory)  # table wrappers are transparent
                continue
            sub = LoopDef(
                xid=child.get("xid", ""),
                name=_text(child, "name", "") or "",
                usage=_text(child, "usage", "S") or "S",
                repeat=_repeat(_text(child, "repeat")),
                parent=loop,
            )
            _children(child, sub, directory)
            if sub.children:
                loop.children.append(sub)


@lru_cache(maxsize=64)
def load_guide(file: str, directory: str = str(GUIDES_DIR), hierarchy: tuple | None = None) -> Guide:
    """Read and compile one map file (cached: every guide is compiled once per process)."""
    root_node = ElementTree.parse(os.path.join(directory, file)).getroot()
    st_node = root_node.find(".//loop[@xid='ST_LOOP']")
    gs_node = root_node.find(".//segment[@xid='GS']")
    if st_node is None:
        raise ValueError(f"{file}: no ST_LOOP")
    body = LoopDef(xid="ST_LOOP", name="Transaction Set", usage="R", repeat=1)
    _children(st_node, body, directory)
    st = body.children.pop(0)
    se = body.children.pop()
    if not (isinstance(st, SegmentDef) and st.sid == "ST" and isinstance(se, SegmentDef) and se.sid == "SE"):
        raise ValueError(f"{file}: ST_LOOP must start with ST and end with SE")
    st01 = st.elements[0].codes or frozenset()
    version, functional_id = "", ""
    if gs_node is not None:
        gs = _segment(gs_node, directory)
        for e in gs.elements:
            if e.position == 8 and e.codes:
                version = min(e.codes)
            if e.position == 1 and e.codes:
                functional_id = min(e.codes)
    guide = _compile(
        set_id=min(st01) if st01 else "",
        title=_text(root_node, "name", file) or file,
        file=file,
        version=version,
        functional_id=functional_id,
        root=body,
        st=st,
        se=se,
    )
    if hierarchy:
        guide.hierarchy = {level: tuple(parents) for level, parents in hierarchy}
    return guide


# --------------------------------------------------------------------------------------
# State table


def _walk(loop: LoopDef, segments: list[SegmentDef], loops: list[LoopDef]) -> None:
    for child in loop.children:
        if isinstance(child, SegmentDef):
            child.state = len(segments)
            segments.append(child)
        else:
            child.index = len(loops)
            loops.append(child)
            _walk(child, segments, loops)


def _required_between(loop: LoopDef, start: int, stop: int) -> list[str]:
    missing = []
    for child in loop.children[start:stop]:
        if child.usage == "R":
            missing.append(child.sid if isinstance(child, SegmentDef) else child.first_segment().sid)
    return missing


def _entry_path(loop: LoopDef) -> list[LoopDef]:
    path = [loop]
    while not isinstance(path[-1].children[0], SegmentDef):
        path.append(path[-1].children[0])  # type: ignore[arg-type]
    return path


def _transition(position: tuple[LoopDef, int], sid: str) -> Transition | None:
    loop, index = position
    missing: list[str] = []
    innermost = True
    while True:
        # A loop's first segment never repeats inside one iteration: it starts the next.
        loop_start = index == 0 and loop.parent is not None
        start = index if innermost and index >= 0 and not loop_start else index + 1
        for j in range(start, len(loop.children)):
            child = loop.children[j]
            if isinstance(child, SegmentDef):
                if child.sid != sid:
                    continue
                missing += _required_between(loop, index + 1, j)
                kind = REPEAT if (innermost and j == index) else (COMPLEX if missing else SIMPLE)
                return Transition(child.state, kind, tuple(missing))
            path = _entry_path(child)
            first = path[-1].children[0]
            assert isinstance(first, SegmentDef)
            if first.sid == sid:
                missing += _required_between(loop, index + 1, j)
                return Transition(first.state, COMPLEX, tuple(missing), -1, tuple(p.index for p in path))
        if loop.parent is None:
            return None
        missing += _required_between(loop, index + 1, len(loop.children))
        path = _entry_path(loop)
        first = path[-1].children[0]
        assert isinstance(first, SegmentDef)
        if first.sid == sid:
            entered = tuple(p.index for p in path[1:])
            kind = LOOP if not missing and not entered and sid != "HL" else COMPLEX
            return Transition(first.state, kind, tuple(missing), loop.index, entered)
        parent = loop.parent
        index = parent.children.index(loop)
        loop = parent
        innermost = False


def _end_missing(position: tuple[LoopDef, int]) -> tuple[str, ...]:
    loop, index = position
    missing: list[str] = []
    while True:
        missing += _required_between(loop, index + 1, len(loop.children))
        if loop.parent is None:
            return tuple(missing)
        index = loop.parent.children.index(loop)
        loop = loop.parent


def _compile(*, set_id, title, file, version, functional_id, root, st, se) -> Guide:
    segments: list[SegmentDef] = [st]  # state 0: after ST
    loops: list[LoopDef] = []
    st.state = 0
    _walk(root, segments, loops)
    ids = frozenset(s.sid for s in segments[1:])
    positions = [(root, -1)] + [(s.parent, s.parent.children.index(s)) for s in segments[1:]]  # type: ignore[union-attr]
    transitions: list[dict[str, Transition]] = []
    for position in positions:
        table = {}
        for sid in ids:
            t = _transition(position, sid)  # type: ignore[arg-type]
            if t is not None and segments[t.target].usage == "N" and t.kind != COMPLEX:
                t = Transition(t.target, COMPLEX, t.missing, t.new_iteration, t.entered)
            if t is not None:
                table[sid] = t
        transitions.append(table)
    end_missing = [_end_missing(p) for p in positions]  # type: ignore[arg-type]
    return Guide(
        set_id=set_id,
        title=title,
        file=file,
        version=version,
        functional_id=functional_id,
        root=root,
        segments=segments,
        loops=loops,
        transitions=transitions,
        end_missing=end_missing,
        segment_ids=ids,
        st=st,
        se=se,
    )


# --------------------------------------------------------------------------------------
# Regular expressions

_LEAP8 = r"(?:\d\d(?:0[48]|[2468][048]|[13579][26])|(?:[02468][048]|[13579][26])00)0229"
_MONTH_DAY = (
    r"(?:(?:0[13578]|1[02])(?:0[1-9]|[12]\d|3[01])|(?:0[469]|11)(?:0[1-9]|[12]\d|30)|02(?:0[1-9]|1\d|2[0-8]))"
)
_DATE8 = rf"(?:(?:1[89]|[2-9]\d)\d\d{_MONTH_DAY}|{_LEAP8})"
_DATE6 = rf"(?:\d\d{_MONTH_DAY}|(?:[02468][048]|[13579][26])0229)"
_TIME = r"(?:[01]\d|2[0-3])[0-5]\d(?:[0-5]\d\d{0,2})?"


def _trie(codes: list[str]) -> str:
    """Alternation of literal codes as a prefix tree, so matching never retries a prefix."""
    tree: dict = {}
    for code in codes:
        node = tree
        for ch in code:
            node = node.setdefault(ch, {})
        node[""] = {}

    def build(node: dict) -> str:
        end = "" in node
        branches = [re.escape(ch) + build(child) for ch, child in sorted(node.items()) if ch != ""]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        if end:
            return f"(?:{body})?"
        return body

    return build(tree)


def _value_pattern(e: ElementDef, chars: str, nonspace: str, fast: bool = False) -> str:
    """Pattern of a non-empty valid value of a simple element (never backtracks into it).

    ``fast`` (whole-set patterns) may be stricter than the element's definition, never
    looser: a set it refuses is walked segment by segment with the exact patterns.
    """
    t, lo, hi = e.data_type, max(e.min_len, 1), max(e.max_len, 1)
    if e.codes is not None and t in ("ID", "AN"):
        codes = sorted(c for c in e.codes if c and lo <= len(c) <= hi and c == c.rstrip())
        return f"(?>{_trie(codes)})" if codes else "(?!)"
    if t and t[0] == "N":
        return rf"-?\d{{{lo},{hi}}}+"
    if t == "R" and fast and lo == 1 and hi >= 2:
        # at most hi digits in all, without a lookahead: split the budget between the
        # integer part and up to 6 decimals
        frac = min(6, hi // 2)
        return rf"-?+(?:\d{{1,{hi - frac}}}+(?:\.\d{{1,{frac}}}+)?+|\.\d{{1,{frac}}}+)"
    if t == "R":
        # digits (not the sign or the point) count towards the length, as in pyx12
        return rf"-?(?:\d{{{lo},{hi}}}+(?![\d.])|(?=[\d.]{{{lo + 1},{hi + 1}}}(?![\d.]))\d*+\.\d++)"
    if t in ("DT", "D8", "D6"):
        if lo == hi == 6:
            return f"(?>{_DATE6})"
        if lo == hi == 8:
            return f"(?>{_DATE8})"
        return f"(?>{_DATE8}|{_DATE6})" if lo <= 6 <= hi else f"(?>{_DATE8})"
    if t == "TM":
        return rf"(?=\d{{{max(lo, 4)},{hi}}}(?!\d))(?>{_TIME})"
    # AN / ID / anything else: characters of the set, no trailing space unless it pads
    # the value up to its minimum length (pyx12's rule).
    plain = rf"{chars}{{{lo},{hi}}}+(?<! )"
    if lo >= 2:
        padded = rf"(?={chars}{{{lo},{hi}}}+(?!{chars}))(?:{chars}{{0,{lo - 2}}}{nonspace})? +"
        return f"(?:{plain}|{padded})"
    return plain


def _rule_elements(rule: str) -> list[int]:
    return [int(rule[i : i + 2]) for i in range(1, len(rule), 2)]


def usable_syntax(seg: SegmentDef) -> list[str]:
    """The segment's syntax rules restricted to the elements the guide defines, without
    the ones its required elements already satisfy."""
    defined = {e.position for e in seg.elements if e.usage != "N"}
    required = {e.position for e in seg.elements if e.usage == "R"}
    out = []
    for rule in seg.syntax:
        kept = [k for k in _rule_elements(rule) if k in defined]
        if len(kept) < (1 if rule[0] == "R" else 2) or (
            rule[0] in "CL" and kept[0] != _rule_elements(rule)[0]
        ):
            continue
        kind = rule[0]
        if (
            (kind == "P" and all(k in required for k in kept))
            or (kind == "R" and any(k in required for k in kept))
            or (kind == "C" and all(k in required for k in kept[1:]))
            or (kind == "L" and any(k in required for k in kept[1:]))
        ):
            continue
        out.append(kind + "".join(f"{k:02d}" for k in kept))
    return out


def forbidden_characters(delimiters: Delimiters):
    """A test for characters no segment may contain: control characters and the
    repetition separator. Returns a truthy value when ``text`` has one.

    ``str.isprintable`` scans in C far faster than a regex character class; only text it
    rejects (control characters, or rare non-printable Unicode) goes through the regex.
    """
    extra = delimiters.repetition if delimiters.repetition and len(delimiters.repetition) == 1 else ""
    search = re.compile(f"[{_CONTROL_RANGES}{re.escape(extra)}]").search

    def test(text: str):
        if text.isprintable() and not (extra and extra in text):
            return None
        return search(text)

    return test


@dataclass
class _Plan:
    """How each syntax rule of a segment is enforced inside its regex (no capture groups,
    so the pattern also works repeated inside a whole-set regex)."""

    pairs: set[int] = field(default_factory=set)  # k: elements k, k+1 both or neither
    next_required: set[int] = field(default_factory=set)  # k present -> k+1 present
    previous_required: set[int] = field(default_factory=set)  # k present -> k-1 present
    either: set[int] = field(default_factory=set)  # k or k+1 present (k may be empty)
    lookaheads: list[str] = field(default_factory=list)  # the rest, tested from the start


def _plan(seg: SegmentDef) -> _Plan:
    plan = _Plan()
    usage = {e.position: e.usage for e in seg.elements}
    last = seg.elements[-1].position if seg.elements else 0
    rules = usable_syntax(seg)
    used: dict[int, int] = {}
    for rule in rules:
        for k in _rule_elements(rule):
            used[k] = used.get(k, 0) + 1
    for rule in rules:
        kind, nums = rule[0], _rule_elements(rule)
        if len(nums) == 2 and nums[1] == nums[0] + 1 and nums[1] <= last:
            a, b = nums
            if kind == "P" and usage[a] == usage[b] == "S" and used[a] == used[b] == 1:
                plan.pairs.add(a)
                continue
            if kind in "CL":
                plan.next_required.add(a)
                continue
            if kind == "R" and usage[a] == usage[b] == "S" and used[a] == 1:
                plan.either.add(a)
                continue
        if len(nums) == 2 and nums[1] == nums[0] - 1 and kind in "CL":
            plan.previous_required.add(nums[0])
            continue
        plan.lookaheads.append(rule)
    return plan


def _lookaheads(rules: Iterable[str], sid: str, sep: str, notsep: str) -> str:
    def present(k: int) -> str:
        return f"(?={re.escape(sid)}(?:{sep}{notsep}*+){{{k - 1}}}{sep}{notsep})"

    out = []
    for rule in rules:
        kind, nums = rule[0], _rule_elements(rule)
        p = [present(k) for k in nums]
        if kind == "P":
            out.append("(?:" + "".join(p) + "|" + "".join(f"(?!{x})" for x in p) + ")")
        elif kind == "R":
            out.append("(?:" + "|".join(p) + ")")
        elif kind == "E":
            out.extend(f"(?!{a}{b})" for i, a in enumerate(p) for b in p[i + 1 :])
        elif kind == "C":
            out.append(f"(?:(?!{p[0]})|" + "".join(p[1:]) + ")")
        elif kind == "L":
            out.append(f"(?:(?!{p[0]})|" + "|".join(p[1:]) + ")")
    return "".join(out)


def _sequence(elements: tuple[ElementDef, ...], sep: str, value, plan: _Plan | None, nonempty: str) -> str:
    """Nested optional groups so trailing elements may be omitted but required ones not.

    Optional parts are possessive: elements are delimited, so nothing needs to backtrack.
    """
    plan = plan or _Plan()
    units: list[tuple[ElementDef, ...]] = []
    i = 0
    while i < len(elements):
        if elements[i].position in plan.pairs and i + 1 < len(elements):
            units.append((elements[i], elements[i + 1]))
            i += 2
        else:
            units.append((elements[i],))
            i += 1

    def reach(unit: tuple[ElementDef, ...]) -> bool:  # the segment must get this far
        return any(e.usage == "R" or e.position in plan.either for e in unit)

    required_from = [False] * (len(units) + 1)
    for k in range(len(units) - 1, -1, -1):
        required_from[k] = required_from[k + 1] or reach(units[k])

    def one(e: ElementDef) -> str:
        v = value(e)
        if e.position in plan.previous_required:
            v = f"(?<!{sep}{sep}){v}"
        if e.position in plan.next_required:
            v = f"{v}(?={sep}{nonempty})"
        return v

    tail = ""
    for k in range(len(units) - 1, -1, -1):
        unit = units[k]
        if len(unit) == 2:
            a, b = unit
            part = f"{sep}(?:{one(a)}{sep}{one(b)}|{sep}){tail}"
        else:
            e = unit[0]
            if e.usage == "N":
                part = sep + tail
            elif e.usage == "R":
                part = f"{sep}{one(e)}{tail}"
            elif e.position in plan.either:
                part = f"{sep}(?:{one(e)}|(?={sep}{nonempty})){tail}"
            else:
                part = f"{sep}(?:{one(e)})?+{tail}"
        tail = part if required_from[k] else f"(?:{part})?+"
    return tail


def segment_pattern(
    seg: SegmentDef, delimiters: Delimiters, joiner: str = "", *, fast: bool = False, component: bool = True
) -> str:
    """The regex source that a valid occurrence of ``seg`` matches (no anchors).

    Speed matters here (one match per segment, or one per set for the set pattern).
    Control characters and the repetition separator are not looked for here: the
    validator searches each batch of segments for them at once
    (:func:`forbidden_characters`). Text elements are runs of "no separator", a tight
    loop in the engine. ``joiner`` is the character that ends segments when this pattern
    is part of a whole-set pattern; it is excluded from element values. ``fast`` patterns
    may be stricter than the definition (see :func:`_value_pattern`); ``component=False``
    leaves the component separator out of the value character classes (the caller makes
    sure the text has none).
    """
    sep = re.escape(delimiters.element)
    comp = re.escape(delimiters.component)
    boundary = sep + (comp if component else "") + (re.escape(joiner) if joiner else "")
    chars = f"[^{boundary}]"
    nonspace = f"[^ {boundary}]"
    notsep = f"[^{sep}{re.escape(joiner) if joiner else ''}]"

    def value(e: ElementDef) -> str:
        if e.components is None:
            return _value_pattern(e, chars, nonspace, fast)
        inner = _sequence(e.components[1:], comp, value, None, chars)
        first = e.components[0]
        head = value(first) if first.usage == "R" else f"(?:{value(first)})?"
        return f"(?:{head}{inner})"

    plan = _plan(seg)
    return (
        _lookaheads(plan.lookaheads, seg.sid, sep, notsep)
        + re.escape(seg.sid)
        + _sequence(seg.elements, sep, value, plan, chars)
        + f"(?<!{sep})"
    )


def segment_regex(seg: SegmentDef, delimiters: Delimiters) -> re.Pattern[str]:
    """One regular expression that a valid occurrence of ``seg`` fully matches."""
    return re.compile(segment_pattern(seg, delimiters), re.DOTALL)


def guide_has_composites(guide: Guide) -> bool:
    return any(e.components is not None for s in guide.segments for e in s.elements)


def set_regex(guide: Guide, delimiters: Delimiters) -> re.Pattern[str] | None:
    """One regular expression for a whole valid set body (the segments between ST and SE,
    each followed by the segment terminator), or None when the guide needs checks a
    regex cannot do (the 856 HL hierarchy) or the terminator is not one character.

    Without composite elements in the guide, the pattern does not look for the component
    separator: the validator only offers it set bodies that do not contain one.

    Repeats are possessive and loop iterations atomic: X12 parsing is deterministic
    (earliest position wins), and a failing set must not backtrack exponentially. A
    match proves the set valid; anything else goes to the segment-by-segment walk.
    """
    joiner = delimiters.segment
    if (
        guide.hierarchy is not None
        or len(joiner) != 1
        or joiner in (delimiters.element, delimiters.component)
    ):
        return None
    term = re.escape(joiner)

    def quantify(body: str, usage: str, most: int | None) -> str:
        low = 1 if usage == "R" else 0
        if most is None:
            return f"(?:{body}){'+' if low else '*'}+"
        if most == 1:
            return f"(?:{body})" if low else f"(?:{body})?+"
        return f"(?:{body}){{{low},{most}}}+"

    def loop_body(loop: LoopDef) -> str:
        parts = []
        for child in loop.children:
            if isinstance(child, SegmentDef):
                if child.usage == "N":
                    continue
                parts.append(
                    quantify(segment_pattern(child, delimiters, joiner) + term, child.usage, child.max_use)
                )
            else:
                if child.usage == "N":
                    continue
                parts.append(quantify(f"(?>{loop_body(child)})", child.usage, child.repeat))
        return "".join(parts)

    return re.compile(loop_body(guide.root), re.DOTALL)


class CompiledTables:
    """A guide's state table with each transition's segment regex bound, per delimiter set.

    ``tables[state]`` maps a segment's first three characters (the id, plus the element
    separator for two-character ids) to ``(target, kind, fullmatch, transition, loop,
    loop_repeat)``; the last two serve LOOP transitions. ``set_fullmatch`` checks a whole
    set body at once (None when the guide cannot be expressed as one regex).
    """

    def __init__(self, guide: Guide, delimiters: Delimiters):
        self.delimiters = delimiters
        self.fullmatch = [segment_regex(s, delimiters).fullmatch for s in guide.segments]
        pattern = set_regex(guide, delimiters)
        self.set_fullmatch = pattern.fullmatch if pattern is not None else None
        # a set body containing this must be walked (None: the set regex handles it)
        self.set_refuses = None if guide_has_composites(guide) else delimiters.component
        e = delimiters.element
        self.tables: list[dict[str, tuple[int, int, Any, Transition, int, int]]] = []
        for table in guide.transitions:
            compiled = {}
            for sid, t in table.items():
                key = sid if len(sid) == 3 else sid + e
                loop = guide.loops[t.new_iteration] if t.new_iteration >= 0 else None
                limit = loop.repeat if loop is not None and loop.repeat is not None else 1 << 62
                compiled[key] = (t.target, t.kind, self.fullmatch[t.target], t, t.new_iteration, limit)
            self.tables.append(compiled)
        self.max_use = [s.max_use if s.max_use is not None else 1 << 62 for s in guide.segments]


# --------------------------------------------------------------------------------------
# Element-by-element diagnosis (only for segments that did not match)


@dataclass(frozen=True)
class ElementIssue:
    position: int  # element position in the segment
    component: int | None
    code: str  # AK4 code
    message: str
    data_ele: str = ""
    bad_value: str = ""


def _valid_date(value: str, e: ElementDef) -> bool:
    if not value.isdigit() or len(value) not in (6, 8):
        return False
    if len(value) == 6:
        value = ("20" if int(value[:2]) < 50 else "19") + value
    try:
        day = _dt.date(int(value[:4]), int(value[4:6]), int(value[6:8]))
    except ValueError:
        return False
    return day.year >= 1800


def _valid_time(value: str) -> bool:
    return value.isdigit() and re.fullmatch(_TIME, value) is not None


def _check_value(
    e: ElementDef, value: str, position: int, component: int | None, delimiters: Delimiters
) -> list[ElementIssue]:
    def issue(code: str, message: str) -> ElementIssue:
        return ElementIssue(position, component, code, f"{e.ref} {e.name}: {message}", e.data_ele, value[:99])

    if value == "":
        if e.usage == "R":
            return [issue("1", "mandatory element is missing")]
        return []
    if e.usage == "N":
        return [issue("10", "element is not used in this guide but has a value")]
    if e.components is not None:
        return [
            x
            for j, (sub, v) in enumerate(
                zip(e.components, _pad(value.split(delimiters.component), len(e.components)), strict=False), 1
            )
            for x in _check_value(sub, v, position, j, delimiters)
        ] + (
            [issue("3", "too many components")]
            if value.count(delimiters.component) >= len(e.components)
            else []
        )
    out: list[ElementIssue] = []
    t = e.data_type
    measured = value.replace("-", "").replace(".", "") if (t == "R" or t[:1] == "N") else value
    if len(measured) < e.min_len:
        out.append(issue("4", f"too short ({len(measured)} < {e.min_len})"))
    if len(measured) > e.max_len:
        out.append(issue("5", f"too long ({len(measured)} > {e.max_len})"))
    bad = _CONTROL.search(value) or (delimiters.repetition and delimiters.repetition in value)
    if bad or (delimiters.component in value and len(delimiters.component) == 1):
        return [*out, issue("6", "invalid character")]
    if t in ("AN", "ID") and value.endswith(" ") and len(value.rstrip()) >= e.min_len:
        out.append(issue("6", "unnecessary trailing spaces"))
    if e.codes is not None and value not in e.codes:
        out.append(issue("7", f"invalid code value {value!r}"))
    if t[:1] == "N":
        if re.fullmatch(r"-?\d+", value) is None:
            out.append(issue("6", f"not a whole number: {value!r}"))
    elif t == "R":
        if re.fullmatch(r"-?\d*(?:\.\d+)?", value) is None or measured == "":
            out.append(issue("6", f"not a decimal number: {value!r}"))
    elif t in ("DT", "D8", "D6"):
        if not _valid_date(value, e) or (t == "D8" and len(value) != 8):
            out.append(issue("8", f"invalid date {value!r}"))
    elif t == "TM" and not _valid_time(value):
        out.append(issue("9", f"invalid time {value!r}"))
    return out


def _pad(values: list[str], n: int) -> list[str]:
    return values + [""] * (n - len(values))


def _syntax_issues(seg: SegmentDef, values: list[str]) -> list[ElementIssue]:
    out = []
    names = {e.position: e for e in seg.elements}

    def present(k: int) -> bool:
        return k < len(values) and values[k] != ""

    def issue(k: int, code: str, message: str) -> ElementIssue:
        e = names.get(k)
        return ElementIssue(
            k, None, code, f"{seg.sid}{k:02d}: {message} (syntax rule {rule})", e.data_ele if e else ""
        )

    for rule in usable_syntax(seg):
        kind, nums = rule[0], _rule_elements(rule)
        have = [present(k) for k in nums]
        if kind == "P" and any(have) and not all(have):
            out += [
                issue(k, "2", "required when its paired elements are present")
                for k, h in zip(nums, have, strict=True)
                if not h
            ]
        elif kind == "R" and not any(have):
            out.append(
                issue(
                    nums[0],
                    "2",
                    "at least one of " + ", ".join(f"{seg.sid}{k:02d}" for k in nums) + " is required",
                )
            )
        elif kind == "E" and sum(have) > 1:
            out += [
                issue(k, "10", "excluded: only one of the elements may be present")
                for k, h in list(zip(nums, have, strict=True))[1:]
                if h
            ]
        elif kind == "C" and have[0] and not all(have[1:]):
            out += [
                issue(k, "2", f"required when {seg.sid}{nums[0]:02d} is present")
                for k, h in list(zip(nums, have, strict=True))[1:]
                if not h
            ]
        elif kind == "L" and have[0] and not any(have[1:]):
            out.append(
                issue(
                    nums[1],
                    "2",
                    f"one of the listed elements is required when {seg.sid}{nums[0]:02d} is present",
                )
            )
    return out


def diagnose_segment(seg: SegmentDef, raw: str, delimiters: Delimiters) -> tuple[list[ElementIssue], bool]:
    """Why ``raw`` does not match ``seg``: element issues, and whether it has a trailing separator."""
    values = raw.split(delimiters.element)
    issues: list[ElementIssue] = []
    defined = len(seg.elements)
    if len(values) - 1 > defined:
        extra = values[defined + 1 :]
        if any(extra):
            issues.append(
                ElementIssue(
                    defined + 1,
                    None,
                    "3",
                    f"{seg.sid}: too many data elements ({len(values) - 1} > {defined})",
                )
            )
    for e in seg.elements:
        value = values[e.position] if e.position < len(values) else ""
        issues.extend(_check_value(e, value, e.position, None, delimiters))
    missing = {i.position for i in issues if i.code == "1"}
    issues.extend(i for i in _syntax_issues(seg, values) if i.position not in missing)
    trailing = len(values) > 1 and values[-1] == ""
    return issues, trailing


# --------------------------------------------------------------------------------------
# Registry


@dataclass(frozen=True)
class Partner:
    name: str
    interchange_ids: frozenset[str]
    version_aliases: dict[str, str]
    guides: dict[str, dict[str, str]]
    hierarchy: dict[str, dict[str, tuple[str | None, ...]]]
    requirements: dict[str, Any] = field(default_factory=dict)  # set id -> requirements.SetRequirements
    unsupported: str | None = None  # why none of this partner's sets can be validated


class GuideRegistry:
    """(partner, GS08 version, set id) -> compiled guide, from ``registry.yaml``."""

    def __init__(self, directory: str | os.PathLike = GUIDES_DIR, registry_file: str = "registry.yaml", *,
                 with_requirements: bool = True):
        from amazon_bluecherry.edi.requirements import parse_requirements

        self.directory = str(directory)
        with open(os.path.join(self.directory, registry_file), encoding="utf-8") as fh:
            data = yaml.safe_load(fh)
        self.default_partner: str = data["default_partner"]
        self.partners: dict[str, Partner] = {}
        for name, p in data["partners"].items():
            self.partners[name] = Partner(
                name=name,
                interchange_ids=frozenset(str(i) for i in p.get("interchange_ids", [])),
                version_aliases={str(k): str(v) for k, v in (p.get("version_aliases") or {}).items()},
                guides={str(v): {str(s): str(f) for s, f in sets.items()}
                        for v, sets in (p.get("guides") or {}).items()},
                hierarchy={
                    str(s): {str(level): tuple(parents) for level, parents in levels.items()}
                    for s, levels in (p.get("hierarchy") or {}).items()
                },
                requirements=parse_requirements(p.get("requirements")) if with_requirements else {},
                unsupported=p.get("unsupported"),
            )

    def partner_for(self, sender: str, receiver: str) -> str:
        for partner in self.partners.values():
            if sender in partner.interchange_ids or receiver in partner.interchange_ids:
                return partner.name
        return self.default_partner

    def unsupported(self, partner: str) -> str | None:
        """Why ``partner``'s sets cannot be validated at all (no guides), or None."""
        p = self.partners.get(partner)
        return p.unsupported if p is not None else None

    def resolve_version(self, partner: str, version: str) -> str | None:
        p = self.partners.get(partner)
        if p is None:
            return None
        version = p.version_aliases.get(version, version)
        return version if version in p.guides else None

    def find(self, partner: str, version: str, set_id: str) -> Guide | None:
        p = self.partners.get(partner)
        resolved = self.resolve_version(partner, version)
        if p is None or resolved is None:
            return None
        file = p.guides[resolved].get(set_id)
        if file is None:
            return None
        hierarchy = p.hierarchy.get(set_id)
        key = tuple(sorted(hierarchy.items())) if hierarchy else None
        return load_guide(file, self.directory, key)

    def requirements(self, partner: str, set_id: str):
        """Amazon's rules inside ``set_id`` beyond the map (``requirements.SetRequirements``), or None."""
        p = self.partners.get(partner)
        return p.requirements.get(set_id) if p is not None else None

    def entries(self) -> list[tuple[str, str, str, str]]:
        """(partner, version, set id, map file) for every guide, plus aliases of versions."""
        out = []
        for p in self.partners.values():
            versions = {v: v for v in p.guides} | {
                a: v for a, v in p.version_aliases.items() if v in p.guides
            }
            for shown, actual in versions.items():
                for set_id, file in p.guides[actual].items():
                    out.append((p.name, shown, set_id, file))
        return out


@lru_cache(maxsize=1)
def default_registry() -> GuideRegistry:
    return GuideRegistry()


ISA_VERSIONS = (
    "00200",
    "00204",
    "00300",
    "00302",
    "00304",
    "00305",
    "00306",
    "00307",
    "00400",
    "00401",
    "00402",
    "00403",
    "00404",
    "00405",
    "00406",
    "00500",
    "00501",
    "00502",
    "00503",
    "00504",
)


def write_pyx12_map_dir(dest: str | os.PathLike, registry: GuideRegistry | None = None) -> Path:
    """Lay out the guides as a pyx12 ``map_path`` (with a ``maps.xml`` index) under ``dest``.

    pyx12 picks a map by (ISA12, GS08, GS01) and cannot tell two sets of one functional
    group apart, so every ISA12 we accept gets an entry for each of our (GS08, GS01).
    """
    registry = registry or default_registry()
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    for name in os.listdir(registry.directory):
        if name.endswith(".xml"):
            shutil.copy(os.path.join(registry.directory, name), dest / name)
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', "<maps>"]
    for icvn in ISA_VERSIONS:
        lines.append(f'  <version icvn="{icvn}">')
        seen = set()
        for _partner, version, _set_id, file in registry.entries():
            guide = load_guide(file, registry.directory)
            key = (version, guide.functional_id)
            if key in seen:
                continue
            seen.add(key)
            lines.append(
                f'    <map vriic="{version}" fic="{guide.functional_id}" abbr="{guide.set_id}">{file}</map>'
            )
        control = "x12.control.00501.xml" if icvn >= "00501" else "x12.control.00401.xml"
        lines.append(f'    <map vriic="" fic="" abbr="X12">{control}</map>')
        lines.append("  </version>")
    lines.append("</maps>")
    (dest / "maps.xml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return dest
