"""Every 997/TA1 we write is valid X12: for our own validator and for pyx12, whatever came in.

The input's control numbers and ids are echoed in AK1/AK2/TA1; when they are over-long,
not numeric or carry control characters, the copy is made to fit its element (the AK5/AK9
and TA1 codes say the original was invalid) instead of making our acknowledgment invalid.
"""

from __future__ import annotations

import io
import logging

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from amazon_bluecherry.edi.ack import build_997, parse_997, parse_ta1
from amazon_bluecherry.edi.reader import NotX12Error, iter_segments
from amazon_bluecherry.edi.validator import validate_file
from amazon_bluecherry.edi.writer import InMemoryControlNumbers

from .samples import GOOD_BODIES

pyx12_params = pytest.importorskip("pyx12.params")
import pyx12.x12n_document  # noqa: E402

from amazon_bluecherry.edi.guide import write_pyx12_map_dir  # noqa: E402


@pytest.fixture(scope="module")
def map_path(tmp_path_factory):
    return str(write_pyx12_map_dir(tmp_path_factory.mktemp("pyx12_maps")))


def pyx12_accepts(data: bytes, map_path: str) -> bool:
    logging.getLogger("pyx12").setLevel(logging.CRITICAL)
    return bool(pyx12.x12n_document.x12n_document(
        pyx12_params.params(), io.StringIO(data.decode("ascii")), io.StringIO(), None, None, map_path=map_path))


def assert_valid_acknowledgment(ack: bytes, map_path: str) -> None:
    assert ack.isascii(), "our acknowledgments are plain ASCII"
    report = validate_file(ack)
    problems = [(i.error, [(t.set_id, t.status, [e.message for e in t.errors]) for g in i.groups
                           for t in g.transactions]) for i in report.interchanges]
    assert report.exit_code == 0, problems
    assert pyx12_accepts(ack, map_path), ack.decode()


def interchange(*, isa13="000000001", isa_sender="AMAZON", isa_qualifier="ZZ", isa_date="240305",
                isa_time="1407", ack_requested="0", gs01="PO", gs02="AMAZON", gs06="1", gs08="004010",
                st01="850", st02="0001", body=None) -> bytes:
    body = GOOD_BODIES["850"][2] if body is None else body
    segments = [
        f"ISA*00*{' ' * 10}*00*{' ' * 10}*{isa_qualifier}*{isa_sender:<15}*ZZ*{'VENDOR':<15}*{isa_date}*{isa_time}"
        f"*U*00401*{isa13}*{ack_requested}*P*>",
        f"GS*{gs01}*{gs02}*VENDOR*20240305*1407*{gs06}*X*{gs08}",
        f"ST*{st01}*{st02}", *body, f"SE*{len(body) + 2}*{st02}",
        f"GE*1*{gs06}", f"IEA*1*{isa13}",
    ]
    return "".join(s + "~\n" for s in segments).encode("utf-8")


def ack_of(data: bytes, **kwargs) -> bytes:
    return build_997(validate_file(data), control_numbers=InMemoryControlNumbers(start={"ISA": 40}), **kwargs)


@pytest.mark.parametrize("overrides,expect", [
    ({"st02": "0000000000001"}, ("AK2", "850", "000000001")),       # 13-character ST02 (AN 4/9)
    ({"gs06": "1234567890123"}, ("AK1", "PO", "234567890123"[-9:])),  # 13-digit GS06 (N0 1/9)
    ({"gs06": "12AB"}, ("AK1", "PO", "12")),                          # letters in GS06
    ({"st02": "1"}, ("AK2", "850", "0001")),                          # too short
    ({"st02": "00\x0701"}, ("AK2", "850", "0001")),                   # a control character
])
def test_invalid_control_numbers_are_never_copied_verbatim(overrides, expect, map_path):
    data = interchange(**overrides)
    ack = ack_of(data)
    segments = [s for s, _ in iter_segments(ack)]
    assert tuple(next(s for s in segments if s[0] == expect[0])) == expect
    assert_valid_acknowledgment(ack, map_path)
    verdict = next(t for _, _, t in validate_file(data).sets())
    assert verdict.status == "R" or validate_file(data).interchanges[0].groups[0].codes  # the partner is told


def test_a_ta1_for_a_broken_header_is_valid_too(map_path):
    data = interchange(isa13="12345678901", isa_date="991399", isa_time="2561", ack_requested="1")
    ack = ack_of(data)
    [ta1] = parse_ta1(ack)
    assert (len(ta1.control_number), ta1.status) == (9, "R")
    assert_valid_acknowledgment(ack, map_path)


HOSTILE = st.text(
    alphabet=st.sampled_from(list("0123456789ABCZaz -_.#&") + ["\x00", "\x07", "\x1b", "\x7f", "\x9b", "é",
                                                                "\u2026", "\u202e", ">", "^"]),
    max_size=16,
)


@st.composite
def hostile_interchanges(draw):
    body = list(GOOD_BODIES["850"][2])
    if draw(st.booleans()):  # a damaged segment somewhere in the body
        position = draw(st.integers(0, len(body) - 1))
        body[position] = draw(st.sampled_from(["", "X!Z*1", "BEG*00*XX*L1**2024"])) + draw(HOSTILE)
    return interchange(
        isa13=draw(st.one_of(st.just("000000001"), HOSTILE)),
        isa_sender=draw(st.one_of(st.just("AMAZON"), HOSTILE)),
        isa_qualifier=draw(st.sampled_from(["ZZ", "01", "Q", "", "zz"])),
        isa_date=draw(st.sampled_from(["240305", "241399", "24035", ""])),
        isa_time=draw(st.sampled_from(["1407", "2599", "14", ""])),
        ack_requested=draw(st.sampled_from(["0", "1"])),
        gs01=draw(st.one_of(st.just("PO"), HOSTILE)),
        gs02=draw(st.one_of(st.just("AMAZON"), HOSTILE)),
        gs06=draw(st.one_of(st.just("1"), st.from_regex(r"[0-9]{10,15}", fullmatch=True), HOSTILE)),
        gs08=draw(st.sampled_from(["004010", "005010", "003040", "004010VICS"])),
        st01=draw(st.one_of(st.just("850"), st.sampled_from(["855", "860", "85", "8500", ""]), HOSTILE)),
        st02=draw(st.one_of(st.just("0001"), st.from_regex(r"[0-9]{10,15}", fullmatch=True), HOSTILE)),
        body=body,
    )


# pyx12 takes ~0.4 s per example: 80 keep the suite's time reasonable; each run draws anew.
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(hostile_interchanges())
def test_every_acknowledgment_we_write_is_valid_x12(map_path, data):
    try:
        report = validate_file(data)
    except NotX12Error:
        assume(False)
    ack = build_997(report, control_numbers=InMemoryControlNumbers(start={"ISA": 40}), always_ta1=True)
    assume(ack)
    assert_valid_acknowledgment(ack, map_path)
    # and what we wrote still names the group and sets it answers, as far as they can be named
    for functional_ack in parse_997(ack):
        assert 1 <= len(functional_ack.group_control_number) <= 9
        assert all(4 <= len(s.control_number) <= 9 for s in functional_ack.sets)


def test_the_997_for_a_direct_fulfillment_file_says_not_supported_and_is_valid(map_path):
    from .conftest import REPO_ROOT

    data = (REPO_ROOT / "include" / "edi_samples" /
            "amazon_DF_850__Stedi_starter-kit__jedi-850-to-orders-api_README.edi").read_bytes()
    ack = ack_of(data)
    [functional_ack] = parse_997(ack)
    assert [(s.set_id, s.status, s.codes, s.segments) for s in functional_ack.sets] == [("850", "R", ["1"], [])]
    assert_valid_acknowledgment(ack, map_path)
