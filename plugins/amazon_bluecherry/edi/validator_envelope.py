"""The envelope checks of the validator: ISA/IEA, GS/GE, ST/SE, TA1 and the control numbers
(TA1 codes for the interchange, AK9 codes for the group, AK5 codes for the set)."""

from __future__ import annotations

from datetime import date

from amazon_bluecherry.edi.envelope import GE, GS, IEA, ISA, SE, ST, TA1
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


def _isa_checks(isa: list[str]) -> list[tuple[bool, str, str]]:
    """(passes, TA1 note code, message) for every rule of the ISA, in TA1 code order."""

    def get(name: str) -> str:
        return ISA.get(isa, name)

    ref = ISA.ref
    version, number = get("version"), get("control_number")
    return [
        (len(isa) == len(ISA.names) + 1, "022", f"ISA has {len(isa) - 1} elements, not {len(ISA.names)}"),
        (
            get("authorization_qualifier") in ("00", "01", "02", "03", "04", "05", "06"),
            "010",
            f"{ref('authorization_qualifier')} {get('authorization_qualifier')!r} is not a valid qualifier",
        ),
        (len(get("authorization")) == 10, "011", f"{ref('authorization')} must be 10 characters"),
        (
            get("security_qualifier") in ("00", "01"),
            "012",
            f"{ref('security_qualifier')} {get('security_qualifier')!r} is not 00 or 01",
        ),
        (len(get("security")) == 10, "013", f"{ref('security')} must be 10 characters"),
        (
            get("sender_qualifier") in ISA_QUALIFIERS,
            "005",
            f"{ref('sender_qualifier')} qualifier {get('sender_qualifier')!r} is not valid",
        ),
        (
            len(get("sender_id")) == 15 and get("sender_id").strip() != "",
            "006",
            f"{ref('sender_id')} sender id must be 15 characters",
        ),
        (
            get("receiver_qualifier") in ISA_QUALIFIERS,
            "007",
            f"{ref('receiver_qualifier')} qualifier {get('receiver_qualifier')!r} is not valid",
        ),
        (
            len(get("receiver_id")) == 15 and get("receiver_id").strip() != "",
            "008",
            f"{ref('receiver_id')} receiver id must be 15 characters",
        ),
        (_valid_yymmdd(get("date")), "014", f"{ref('date')} date {get('date')!r} is not a valid YYMMDD"),
        (
            len(get("time")) == 4 and _valid_hhmm(get("time")),
            "015",
            f"{ref('time')} time {get('time')!r} is not a valid HHMM",
        ),
        (
            get("repetition_separator") == "U" or version >= "00402",
            "016",
            f"{ref('repetition_separator')} {get('repetition_separator')!r} must be U before version 00402",
        ),
        (
            len(version) == 5 and version.isdigit() and "00200" <= version <= "00801",
            "017",
            f"{ref('version')} version {version!r} is not valid",
        ),
        (
            len(number) == 9 and number.isdigit(),
            "018",
            f"{ref('control_number')} control number {number!r} must be 9 digits",
        ),
        (
            get("ack_requested") in ("0", "1"),
            "019",
            f"{ref('ack_requested')} {get('ack_requested')!r} is not 0 or 1",
        ),
        (get("usage") in ("P", "T", "I"), "020", f"{ref('usage')} usage {get('usage')!r} is not P, T or I"),
    ]


def _gs_problems(gs: list[str]) -> list[str]:
    """What is wrong with a GS beyond its control number (TA1 024 each)."""

    def get(name: str) -> str:
        return GS.get(gs, name)

    ref = GS.ref
    date, version = get("date"), get("version")
    bad = []
    if len(gs) != len(GS.names) + 1:
        bad.append(f"GS has {len(gs) - 1} elements, not {len(GS.names)}")
    if _century_dates(version):  # data element 373 is CCYYMMDD from 004010 on
        if not _valid_ccyymmdd(date):
            bad.append(f"{ref('date')} date {date!r} is not a valid CCYYMMDD (required under {ref('version')} {version!r})")
    elif not (_valid_ccyymmdd(date) or _valid_yymmdd(date)):
        bad.append(f"{ref('date')} date {date!r} is not valid")
    if not (len(get("time")) in (4, 6, 7, 8) and _valid_hhmm(get("time"))):
        bad.append(f"{ref('time')} time {get('time')!r} is not valid")
    if get("agency") not in ("X", "T"):
        bad.append(f"{ref('agency')} agency {get('agency')!r} is not X")
    if not (2 <= len(get("sender_id")) <= 15 and 2 <= len(get("receiver_id")) <= 15):
        bad.append(f"{ref('sender_id')}/{ref('receiver_id')} application ids must be 2-15 characters")
    return bad


class EnvelopeChecks:
    """The envelope levels around the guide's table: part of the validator's state machine.

    Mixed into :class:`amazon_bluecherry.edi.validator._Validator`, whose state (the open
    interchange, group and set) and recording methods it uses.
    """

    def _control_number_keys(self, batch: list[str]) -> list[tuple[str, str, str, str]]:
        """The duplicate-check keys the envelope checks below will ask about in this batch,
        read the same way they read them, so the check can look them up at once. A key
        missed here (a malformed envelope) is simply asked about on its own."""
        e = self.delimiters.element
        keys = []
        for segment in batch:
            head = segment[:4]
            if head == "ISA" + e:
                values = segment.split(e)
                number = ISA.get(values, "control_number")
                if number:
                    keys.append(("interchange", ISA.get(values, "sender_id").strip(),
                                 ISA.get(values, "receiver_id").strip(), number))
            elif head[:3] == "GS" + e:
                gs = self._recall_gs = segment.split(e)
                if GS.get(gs, "control_number"):
                    keys.append(("group", GS.get(gs, "sender_id"), GS.get(gs, "receiver_id"),
                                 GS.get(gs, "control_number")))
            elif head[:3] == "ST" + e and self._recall_gs is not None:
                number = ST.get(segment.split(e), "control_number")
                if number:
                    gs = self._recall_gs
                    keys.append(("set", GS.get(gs, "sender_id"), GS.get(gs, "receiver_id"),
                                 f"{GS.get(gs, 'control_number')}:{number}"))
        return keys

    def _on_isa(self, values: list[str]) -> None:
        self._close_interchange(missing_trailer=True)
        isa = values
        self.interchange = InterchangeVerdict(
            control_number=ISA.get(isa, "control_number"),
            sender=ISA.get(isa, "sender_id").strip(),
            receiver=ISA.get(isa, "receiver_id").strip(),
            isa=isa,
            delimiters=self.delimiters,
        )
        self.report.interchanges.append(self.interchange)
        self.partner = self.registry.partner_for(self.interchange.sender, self.interchange.receiver)
        self.interchange.partner = self.partner
        for ok, code, message in _isa_checks(isa):
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
        def get(name: str) -> str:
            return TA1.get(values, name)

        ref = TA1.ref
        checks = [
            (len(values) == len(TA1.names) + 1, f"TA1 has {len(values) - 1} elements, not {len(TA1.names)}"),
            (
                len(get("control_number")) == 9 and get("control_number").isdigit(),
                f"{ref('control_number')} control number {get('control_number')!r} must be 9 digits",
            ),
            (_valid_yymmdd(get("date")), f"{ref('date')} date {get('date')!r} is not a valid YYMMDD"),
            (
                len(get("time")) == 4 and _valid_hhmm(get("time")),
                f"{ref('time')} time {get('time')!r} is not a valid HHMM",
            ),
            (get("status") in ("A", "E", "R"), f"{ref('status')} {get('status')!r} is not A, E or R"),
            (
                len(get("note_code")) == 3 and get("note_code").isdigit(),
                f"{ref('note_code')} note code {get('note_code')!r} must be 3 digits",
            ),
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
        count, number = IEA.get(values, "group_count"), IEA.get(values, "control_number")
        if number != interchange.control_number:
            self._interchange_error(
                "001",
                f"{IEA.ref('control_number')} {number!r} does not match "
                f"{ISA.ref('control_number')} {interchange.control_number!r}",
            )
        if count != str(len(interchange.groups)):
            self._interchange_error(
                "021", f"{IEA.ref('group_count')} says {count!r} groups, found {len(interchange.groups)}"
            )
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

        def get(name: str) -> str:
            return GS.get(values, name)

        self.group = GroupVerdict(
            functional_id=get("functional_id"), control_number=get("control_number"), version=get("version"), gs=values
        )
        self.interchange.groups.append(self.group)
        self.group_set_numbers = set()
        number = get("control_number")
        if not (number.isdigit() and 1 <= len(number) <= 9):
            self._group_error("6", f"{GS.ref('control_number')} group control number {number!r} is not 1-9 digits")
        for message in _gs_problems(values):
            self._interchange_error("024", message)
        version = get("version")
        if self.registry.resolve_version(self.partner, version) is None and not self.registry.unsupported(
            self.partner
        ):  # an unsupported partner's sets each say so (AK5 1); the group itself is fine
            self._group_error("2", f"version {version!r} has no guides for partner {self.partner}")
        if (
            self.duplicates is not None
            and number
            and self.duplicates.seen("group", get("sender_id"), get("receiver_id"), number)
        ):
            self._group_error("19", f"duplicate group control number {number}")

    def _on_ge(self, values: list[str]) -> None:
        if self.group is None:
            self._outside("GE")
            return
        self._close_set(missing_trailer=True)
        group = self.group
        count, number = GE.get(values, "set_count"), GE.get(values, "control_number")
        group.included = int(count) if count.isascii() and count.isdigit() else None
        if count != str(len(group.transactions)):
            self._group_error("5", f"{GE.ref('set_count')} says {count!r} sets, found {len(group.transactions)}")
        if number != group.control_number:
            self._group_error(
                "4",
                f"{GE.ref('control_number')} {number!r} does not match "
                f"{GS.ref('control_number')} {group.control_number!r}",
            )
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
        set_id, number = ST.get(values, "set_id"), ST.get(values, "control_number")
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
            self._set_issue("7", f"{ST.ref('control_number')} control number {number!r} must be 4-9 characters", "ST")
        if number in self.group_set_numbers:
            self._set_issue("23", f"set control number {number} repeats in the group", "ST")
        self.group_set_numbers.add(number)
        if (
            self.duplicates is not None
            and number
            and self.duplicates.seen(
                "set",
                GS.get(self.group.gs, "sender_id"),
                GS.get(self.group.gs, "receiver_id"),
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
        count, number = SE.get(values, "segment_count"), SE.get(values, "control_number")
        if self.guide is not None and not self.body_ok:
            for sid in self.guide.end_missing[self.state]:
                self._segment_issue(sid, self.count, "3", "required before SE")
        self._check_requirements()
        if count != str(self.count):
            self._set_issue("4", f"{SE.ref('segment_count')} says {count!r} segments, counted {self.count}", "SE")
        if number != ts.control_number:
            self._set_issue(
                "3",
                f"{SE.ref('control_number')} {number!r} does not match {ST.ref('control_number')} {ts.control_number!r}",
                "SE",
            )
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
