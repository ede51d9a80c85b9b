"""One regular expression per segment definition (and per set where it can be), per delimiter
set: the common path of validation is a single ``re.fullmatch`` in C."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from amazon_bluecherry.edi.envelope import Delimiters
from amazon_bluecherry.edi.guide_model import (
    _CONTROL_RANGES,
    ElementDef,
    Guide,
    LoopDef,
    SegmentDef,
    Transition,
)

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
