"""What validation found: verdicts per interchange (TA1), group (AK9) and set (AK5), and the
issues with their standard codes; plus the duplicate-control-number memory it consults."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from amazon_bluecherry.edi.envelope import TA1, Delimiters, Segment


@runtime_checkable
class DuplicateCheck(Protocol):
    """Remembers control numbers across files; the integration store implements it.

    ``seen`` records the number and answers whether it had been recorded before. ``kind``
    is "interchange" (ISA13), "group" (GS06) or "set" (``"<GS06>:<ST02>"``, since set
    numbers restart in every group); ``sender``/``receiver`` are ISA06/ISA08 for
    interchanges and GS02/GS03 otherwise.
    """

    def seen(self, kind: str, sender: str, receiver: str, control_number: str) -> bool: ...

    # Optional: ``recall(keys)`` with the (kind, sender, receiver, control_number) keys a
    # batch of segments is about to ask about, so a store can look them up in one query
    # (the validator calls it when the check has it). ``seen`` must stay correct for keys
    # that were not recalled.


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
                {
                    "control_number": TA1.get(ta1, "control_number"),
                    "status": TA1.get(ta1, "status"),
                    "code": TA1.get(ta1, "note_code"),
                }
                for ta1 in self.acknowledgements
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
