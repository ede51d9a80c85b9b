"""Random damage to valid files never crashes or hangs the reader or the validator."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from amazon_bluecherry.edi.ack import build_997
from amazon_bluecherry.edi.reader import NotX12Error, iter_segments
from amazon_bluecherry.edi.validator import validate_file
from amazon_bluecherry.edi.writer import InMemoryControlNumbers

from .samples import GOOD_BODIES, x12

SEEDS = [x12(set_id=s) for s in sorted(GOOD_BODIES)] + [
    x12(set_id="850", terminator="\n"),
    x12(terminator="\u2026\r\n"),
]


@st.composite
def damaged(draw):
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["flip", "delete", "insert", "duplicate", "truncate"]))
        if not data:
            break
        at = draw(st.integers(0, len(data) - 1))
        if kind == "flip":
            data[at] = draw(st.integers(0, 255))
        elif kind == "delete":
            del data[at : at + draw(st.integers(1, 20))]
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
        elif kind == "duplicate":
            lines = bytes(data).split(b"\n")
            i = draw(st.integers(0, len(lines) - 1))
            lines.insert(i, lines[i])
            data = bytearray(b"\n".join(lines))
        else:
            del data[at:]
    return bytes(data)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(damaged())
def test_every_damaged_file_gets_a_verdict(data):
    try:
        list(iter_segments(data))
        report = validate_file(data)
    except NotX12Error:
        return  # exit code 2: not X12 any more
    assert report.exit_code in (0, 1)
    assert report.interchanges, "an X12 file always yields at least one interchange verdict"
    report.to_dict()
    build_997(report, control_numbers=InMemoryControlNumbers())


def _both_paths(data: bytes):
    from amazon_bluecherry.edi import validator

    fast = validate_file(data).to_dict()
    validator.WHOLE_SET_REGEX = False
    try:
        walked = validate_file(data).to_dict()
    finally:
        validator.WHOLE_SET_REGEX = True
    return fast, walked


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(damaged())
def test_whole_set_regex_and_segment_walk_agree(data):
    try:
        fast, walked = _both_paths(data)
    except NotX12Error:
        return
    assert fast == walked


def test_whole_set_regex_accepts_every_good_sample():
    from amazon_bluecherry.edi.envelope import Delimiters
    from amazon_bluecherry.edi.guide import default_registry, set_regex

    delimiters = Delimiters("*", ">", "~")
    for set_id, (_, version, body) in GOOD_BODIES.items():
        guide = default_registry().find("amazon", version, set_id)
        pattern = set_regex(guide, delimiters)
        if set_id == "856":
            assert pattern is None  # the HL hierarchy needs the walk
            continue
        assert pattern.fullmatch("".join(s + "~" for s in body)), set_id
        assert not pattern.fullmatch("".join(s + "~" for s in body[1:])), set_id  # first segment missing


def test_amounts_no_invoice_has_are_a_verdict_not_a_crash():
    # Found by bench/campaign_fuzz.py: an 810 whose IT1 quantity is 40 digits, Infinity or
    # 1E+999999 made the TDS total check raise decimal.InvalidOperation inside the validator.
    from .samples import GOOD_BODIES

    _, _, body = GOOD_BODIES["810"]
    for quantity in ("9" * 40, "Infinity", "1E+999999", "NaN"):
        damaged_body = [f"IT1*1*{quantity}*EA*39.5**UP*028877454078" if seg.startswith("IT1") else seg
                        for seg in body]
        report = validate_file(x12(set_id="810", body=damaged_body))
        assert report.exit_code == 1, quantity
