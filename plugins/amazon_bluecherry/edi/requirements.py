"""What Amazon requires inside a transaction set beyond the maps' usage codes, as data.

The pyx12-format maps say which segments a loop may hold; they cannot say "every
shipment-level HL carries a TD5 with a SCAC" or "every IT1 names the product", because
the 856's levels all share one HL loop and the 810's rules span segments. Those rules are
listed per partner and set in ``guides/registry.yaml`` (``requirements:``):

* ``levels`` (856): per HL level code (S, O, T, P, I), the segments each such level must
  carry, optionally with qualifiers (``where: {1: BM}``), elements that must have a value
  (``elements: [3]``) and formats (``format: {2: sscc}``);
* ``set``: segments the whole set must carry (``each: true``: every occurrence of that
  segment must have the elements), and named checks (``check: invoice_total``).

The validator applies them to every file, inbound or outbound: a missing segment is AK3
code 3 naming it; a segment without a required value is AK3 code 8 with the AK4 naming the
element (code 1 missing, 4/5 length, 6 characters, 7 value).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, DecimalException, InvalidOperation

from amazon_bluecherry.edi import segments as x
from amazon_bluecherry.edi.gs1 import SSCC_AI, is_valid_sscc

__all__ = ["RequirementIssue", "SegmentRequirement", "SetRequirements", "parse_requirements"]


@dataclass(frozen=True)
class SegmentRequirement:
    segment: str
    where: tuple[tuple[int, str], ...] = ()       # element position -> value that selects the segment
    elements: tuple[int, ...] = ()                 # positions that must have a value
    formats: tuple[tuple[int, str], ...] = ()      # position -> named format
    each: bool = False                             # every occurrence (set level) must comply
    check: str | None = None                       # a named cross-segment check
    label: str = ""                                # what people call it: "carrier SCAC (TD503)"

    def selects(self, values: Sequence[str]) -> bool:
        return values[0] == self.segment and all(
            (values[k] if k < len(values) else "") == v for k, v in self.where)

    @property
    def name(self) -> str:
        where = "".join(f"*{v}" for _, v in self.where)
        return f"{self.segment}{where}"


@dataclass(frozen=True)
class RequirementIssue:
    segment_id: str
    segment_position: int
    element_position: int | None
    code: str            # AK3 code (no element) or AK4 code
    message: str
    data_element: str = ""
    bad_value: str = ""


@dataclass
class SetRequirements:
    levels: dict[str, list[SegmentRequirement]] = field(default_factory=dict)
    whole_set: list[SegmentRequirement] = field(default_factory=list)

    def check(self, segments: Iterable[tuple[int, list[str]]]) -> list[RequirementIssue]:
        """Issues for ``segments``: (position in the set, element values) of the set body."""
        body = [(position, values) for position, values in segments if values and values[0] not in ("ST", "SE")]
        issues: list[RequirementIssue] = []
        if self.levels:
            for hl_position, level, number, members in _hl_groups(body):
                for requirement in self.levels.get(level, []):
                    issues += _check_group(requirement, members, hl_position,
                                           f"HL {number} (level {level})")
        for requirement in self.whole_set:
            if requirement.check:
                issues += _NAMED_CHECKS[requirement.check](requirement, body)
            else:
                issues += _check_group(requirement, body, body[-1][0] + 1 if body else 2, "the set",
                                       each=requirement.each)
        return issues


def _hl_groups(body):
    group = None
    for position, values in body:
        if values[0] == "HL":
            if group is not None:
                yield group
            level = _element(values, x.HL, "level_code")
            group = (position, level, _element(values, x.HL, "hierarchical_id") or "?", [])
        elif group is not None:
            group[3].append((position, values))
    if group is not None:
        yield group


def _check_group(requirement: SegmentRequirement, members, where_position: int, where: str, *,
                 each: bool = False) -> list[RequirementIssue]:
    found = [(position, values) for position, values in members if requirement.selects(values)]
    what = requirement.label or requirement.name
    if not found:
        return [RequirementIssue(requirement.segment, where_position, None, "3",
                                 f"{requirement.name} missing in {where}: Amazon requires {what}")]
    candidates = found if each else found[:1]
    if not each:  # one complying occurrence is enough
        for position, values in found:
            if not _element_issues(requirement, position, values, what):
                return []
    out: list[RequirementIssue] = []
    for position, values in candidates:
        element_issues = _element_issues(requirement, position, values, what)
        if element_issues:
            out.append(RequirementIssue(requirement.segment, position, None, "8",
                                        f"{requirement.name} at position {position} in {where}: {what} incomplete"))
            out += element_issues
    return out


def _element_issues(requirement: SegmentRequirement, position: int, values: Sequence[str], what: str):
    out = []
    formats = dict(requirement.formats)
    for k in requirement.elements:
        value = values[k] if k < len(values) else ""
        ref = f"{requirement.segment}{k:02d}"
        if value.strip() == "":
            out.append(RequirementIssue(requirement.segment, position, k, "1",
                                        f"{ref}: mandatory for Amazon ({what}) but empty"))
            continue
        check = _FORMATS.get(formats.get(k, ""))
        if check is not None:
            problem = check(value)
            if problem is not None:
                code, message = problem
                out.append(RequirementIssue(requirement.segment, position, k, code, f"{ref}: {message}",
                                            bad_value=value[:99]))
    return out


def _sscc_format(value: str) -> tuple[str, str] | None:
    """MAN02 of MAN*GM: the GS1-128 form "00" + SSCC-18 (20 digits), or the bare SSCC-18."""
    digits = value[len(SSCC_AI):] if len(value) == 20 and value.startswith(SSCC_AI) else value
    if not value.isascii() or not value.isdigit():
        return "6", f"SSCC {value!r} must be digits only"
    if len(digits) < 18:
        return "4", f"SSCC {value!r} is too short: 00 + 18 digits"
    if len(digits) > 18:
        return "5", f"SSCC {value!r} is too long: 00 + 18 digits"
    if not is_valid_sscc(digits):
        return "7", f"SSCC {digits} has a wrong GS1 check digit"
    return None


_FORMATS = {"sscc": _sscc_format}


class _NotANumber(ValueError):
    pass


def _number(value: str) -> Decimal:
    try:
        number = Decimal(value) if value.strip() else Decimal(0)
    except InvalidOperation as exc:
        raise _NotANumber(value) from exc
    if not number.is_finite():  # "Infinity", "NaN": Decimal reads them, X12 has no such numbers
        raise _NotANumber(value)
    return number


def _invoice_total(requirement: SegmentRequirement, body) -> list[RequirementIssue]:
    """TDS01 (N2, cents) equals the IT1 lines (qty x price) plus SAC charges less allowances plus TXI."""
    tds = next(((position, values) for position, values in body if values[0] == "TDS"), None)
    if tds is None:
        return []  # the map makes TDS mandatory: already reported
    try:
        return _compare_total(tds, body)
    except _NotANumber:
        return []  # an amount that is not a number: the map reported that element already
    except DecimalException:  # amounts beyond any invoice (found by bench/campaign_fuzz.py)
        position, values = tds
        return [RequirementIssue("TDS", position, None, "8",
                                 f"TDS at position {position}: the lines' amounts are too large to add up")]


def _element(values: Sequence[str], segment: x.Segment, name: str) -> str:
    position = segment.positions[name]
    return values[position] if position < len(values) else ""


def _has(values: Sequence[str], segment: x.Segment, name: str) -> bool:
    return len(values) > segment.positions[name]


def _compare_total(tds, body) -> list[RequirementIssue]:
    total = Decimal(0)
    after_tds = False
    for _position, values in body:
        sid = values[0]
        if sid == "TDS":
            after_tds = True
        elif sid == "IT1" and _has(values, x.IT1, "unit_price"):
            total += _number(_element(values, x.IT1, "quantity")) * _number(_element(values, x.IT1, "unit_price"))
        elif sid == "SAC" and _has(values, x.SAC, "amount"):
            amount = _number(_element(values, x.SAC, "amount")) / 100
            total += -amount if _element(values, x.SAC, "indicator") == "A" else amount
        elif sid == "TXI" and after_tds and _has(values, x.TXI, "amount"):
            total += _number(_element(values, x.TXI, "amount"))
    position, values = tds
    stated_text = _element(values, x.TDS, "total_amount")
    stated = _number(stated_text) / 100
    expected = total.quantize(Decimal("0.01"))
    if stated == expected:
        return []
    return [
        RequirementIssue("TDS", position, None, "8", f"TDS at position {position}: total does not add up"),
        RequirementIssue("TDS", position, x.TDS.positions["total_amount"], "7",
                         f"{x.TDS.name('total_amount')}: {stated} is not lines + charges - allowances + tax = {expected}",
                         bad_value=stated_text),
    ]


_NAMED_CHECKS = {"invoice_total": _invoice_total}


def _requirement(data: dict) -> SegmentRequirement:
    unknown = set(data) - {"segment", "where", "elements", "format", "each", "check", "label"}
    if unknown:
        raise ValueError(f"requirement {data!r}: unknown keys {sorted(unknown)}")
    formats = {int(k): str(v) for k, v in (data.get("format") or {}).items()}
    for name in formats.values():
        if name not in _FORMATS:
            raise ValueError(f"requirement {data!r}: unknown format {name!r} (one of {sorted(_FORMATS)})")
    if data.get("check") and data["check"] not in _NAMED_CHECKS:
        raise ValueError(f"requirement {data!r}: unknown check {data['check']!r} (one of {sorted(_NAMED_CHECKS)})")
    return SegmentRequirement(
        segment=str(data["segment"]),
        where=tuple(sorted((int(k), str(v)) for k, v in (data.get("where") or {}).items())),
        elements=tuple(int(k) for k in data.get("elements") or ()),
        formats=tuple(sorted(formats.items())),
        each=bool(data.get("each", False)),
        check=data.get("check"),
        label=str(data.get("label", "")),
    )


def parse_requirements(data: dict | None) -> dict[str, SetRequirements]:
    """``registry.yaml``'s ``requirements:`` block of one partner, per set id."""
    out: dict[str, SetRequirements] = {}
    for set_id, spec in (data or {}).items():
        out[str(set_id)] = SetRequirements(
            levels={str(level): [_requirement(r) for r in rules] for level, rules in (spec.get("levels") or {}).items()},
            whole_set=[_requirement(r) for r in spec.get("set") or []],
        )
    return out
