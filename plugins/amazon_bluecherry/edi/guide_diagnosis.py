"""Element-by-element diagnosis, only for segments that did not match their regex."""

from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass

from amazon_bluecherry.edi.envelope import Delimiters
from amazon_bluecherry.edi.guide_model import (
    _CONTROL,
    ElementDef,
    SegmentDef,
)
from amazon_bluecherry.edi.guide_patterns import _TIME, _rule_elements, usable_syntax


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
