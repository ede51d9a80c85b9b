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
