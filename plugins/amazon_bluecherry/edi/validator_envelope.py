"""The envelope checks of the validator: ISA/IEA, GS/GE, ST/SE, TA1 and the control numbers
(TA1 codes for the interchange, AK9 codes for the group, AK5 codes for the set)."""

from __future__ import annotations

from datetime import date

from amazon_bluecherry.edi.guide import (
    diagnose_segment,
)
from amazon_bluecherry.edi.validator_report import (
    GroupVerdict,
    InterchangeVerdict,
    Issue,
    SetVerdict,
)

# ISA05/ISA07 qualifiers we accept; the 997 writer echoes only these.
ISA_QUALIFIERS = frozenset(
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


class EnvelopeChecks:
    """The envelope levels around the guide's table: part of the validator's state machine.

    Mixed into :class:`amazon_bluecherry.edi.validator._Validator`, whose state (the open
    interchange, group and set) and recording methods it uses.
    """

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
            (get(5) in ISA_QUALIFIERS, "005", f"ISA05 qualifier {get(5)!r} is not valid"),
            (len(get(6)) == 15 and get(6).strip() != "", "006", "ISA06 sender id must be 15 characters"),
            (get(7) in ISA_QUALIFIERS, "007", f"ISA07 qualifier {get(7)!r} is not valid"),
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
        group.included = int(count) if count.isascii() and count.isdigit() else None
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
