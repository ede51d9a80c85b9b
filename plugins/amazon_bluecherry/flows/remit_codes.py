"""``include/mappings/remit_codes.csv``: how a remittance line is recognised, as data.

Columns ``match_type,pattern,deduction_type,gl_account,owner``; rows are tried top to
bottom and the first that matches wins, so specific rows go first (``SCRSC`` before
``SCR`` before ``SC``). Match types:

- ``suffix``: the line's reference (RMR02) ends with ``pattern`` (case-sensitive, as Amazon
  writes them: ``<invoice>SC``, ``…VCBSINV``, ``…PROVISION FOR RECEIVABLES``);
- ``regex``: the whole reference matches ``pattern`` (Python ``re.fullmatch``);
- ``adx_code``: one of the line's ADX adjustment reason codes (ADX02) equals ``pattern``.

A line no row matches is ``unrecognised``: it goes to the suspense account (a setting),
owned by finance, and raises ``unrecognised_deduction``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, StringConstraints, field_validator

from amazon_bluecherry.flows.mappings import MappingError, _read_rows

REMIT_CODE_COLUMNS = ("match_type", "pattern", "deduction_type", "gl_account", "owner")

# The deduction vocabulary (issue 11); other tools rely on these exact names.
DEDUCTION_TYPES = (
    "invoice_payment",
    "shortage_claim",
    "shortage_claim_reversal",
    "chargeback",
    "coop",
    "price_protection",
    "price_claim",
    "provision_for_receivables",
    "provision_reversal",
    "unrecognised",
)
UNRECOGNISED = "unrecognised"
INVOICE_PAYMENT = "invoice_payment"
# Deductions Amazon may be asked to reverse, with evidence, within its dispute window.
DISPUTABLE_TYPES = ("shortage_claim", "chargeback")
OWNERS = ("finance", "warehouse", "wholesale", "integration")

_Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)]


class RemitCode(BaseModel):
    """One row of remit_codes.csv."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    match_type: Literal["suffix", "regex", "adx_code"]
    pattern: _Text
    deduction_type: _Text
    gl_account: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
    owner: _Text
    line: int = 0  # where it is in the file, for messages

    @field_validator("deduction_type")
    @classmethod
    def _vocabulary(cls, value: str) -> str:
        if value not in DEDUCTION_TYPES or value == UNRECOGNISED:
            known = ", ".join(t for t in DEDUCTION_TYPES if t != UNRECOGNISED)
            raise ValueError(f"must be one of {known} ('unrecognised' is what no row matches)")
        return value

    @field_validator("owner")
    @classmethod
    def _owner(cls, value: str) -> str:
        if value not in OWNERS:
            raise ValueError(f"must be one of {', '.join(OWNERS)}")
        return value

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: str, info) -> str:
        if info.data.get("match_type") == "regex":
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"not a regular expression: {exc}") from exc
        return value

    def document_reference(self, reference: str) -> str | None:
        """The document a suffix row's reference is about: ``INV0000001SC`` -> ``INV0000001``."""
        if self.match_type == "suffix" and len(reference) > len(self.pattern):
            return reference[: -len(self.pattern)].rstrip(" -")
        return None


@dataclass(frozen=True)
class RemitCodes:
    """The rows in file order, compiled once.

    Consecutive ``suffix``/``regex`` rows are compiled into one alternation of named groups
    that is matched in a single pass: the regex engine tries the alternatives in order, so
    the first row whose pattern matches the whole reference wins, exactly as a row-by-row
    scan would (a remittance can hold 50,000 lines).
    """

    rows: tuple[RemitCode, ...]
    path: Path | None = None

    def __post_init__(self) -> None:
        blocks: list[tuple[re.Pattern | None, list[RemitCode]]] = []
        for row in self.rows:
            if row.match_type == "adx_code":
                blocks.append((None, [row]))
                continue
            if not blocks or blocks[-1][0] is None:
                blocks.append((re.compile(""), []))
            blocks[-1][1].append(row)
        compiled = []
        for pattern, rows in blocks:
            if pattern is None:
                compiled.append((None, rows))
                continue
            bare = ["(?s:.*)" + re.escape(row.pattern) if row.match_type == "suffix" else row.pattern for row in rows]
            try:
                compiled.append((re.compile("|".join(f"(?P<row{i}>{p})" for i, p in enumerate(bare))), rows))
            except re.error:  # a pattern that cannot be nested (inline flags, group names): one row at a time
                compiled += [(re.compile(pattern), [row]) for pattern, row in zip(bare, rows, strict=True)]
        object.__setattr__(self, "_blocks", compiled)
        object.__setattr__(self, "has_adx_rows", any(row.match_type == "adx_code" for row in self.rows))

    def classify(self, reference: str, adjustment_codes: Iterable[str] = ()) -> RemitCode | None:
        """The first row that matches the line, or None (unrecognised)."""
        reference = reference.strip()
        for pattern, rows in self._blocks:  # type: ignore[attr-defined]
            if pattern is None:
                if rows[0].pattern in {code.strip() for code in adjustment_codes if code}:
                    return rows[0]
                continue
            match = pattern.fullmatch(reference)
            if match is not None:
                return rows[0] if len(rows) == 1 else rows[int(match.lastgroup[3:])]
        return None

    def accounts(self) -> set[str]:
        return {row.gl_account for row in self.rows}


def load_remit_codes(directory: Path | str) -> RemitCodes:
    """Read and check ``remit_codes.csv`` in ``directory``; :class:`MappingError` names the bad row."""
    path = Path(directory) / "remit_codes.csv"
    rows = []
    seen: dict[tuple[str, str], int] = {}
    for line, row in _read_rows(path, REMIT_CODE_COLUMNS, RemitCode):
        key = (row.match_type, row.pattern)
        if key in seen:
            raise MappingError(f"{path.name} line {line}, column pattern: {row.match_type} {row.pattern!r} "
                               f"already on line {seen[key]} (the first row would always win)")
        seen[key] = line
        rows.append(row.model_copy(update={"line": line}))
    if not rows:
        raise MappingError(f"{path.name}: no rows")
    return RemitCodes(rows=tuple(rows), path=path)
