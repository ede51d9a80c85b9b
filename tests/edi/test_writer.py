"""Writer: segments and envelopes that our own reader (and pyx12's) read back exactly."""

from __future__ import annotations

from datetime import datetime

import pyx12.x12file

from amazon_bluecherry.edi.envelope import Delimiters
from amazon_bluecherry.edi.reader import iter_segments, read_interchanges
from amazon_bluecherry.edi.writer import (
    ControlNumberSource,
    InMemoryControlNumbers,
    OutboundSet,
    Party,
    serialize_segment,
    serialize_segments,
    write_interchange,
)

WHEN = datetime(2024, 3, 5, 14, 7)
BODY_855 = [
    ["BAK", "00", "AC", "PO123", "20240305"],
    ["PO1", "1", "10", "EA", "12.5", "PE", "UP", "012345678905"],
    ["ACK", "IA", "10", "EA"],
    ["CTT", "1", "10"],
]


def test_serialize_segment_trims_trailing_empties_and_joins_composites():
    d = Delimiters("*", ">", "~")
    assert serialize_segment(["N1", "ST", "", "15", "1794205", "", ""], d) == "N1*ST**15*1794205"
    assert serialize_segment(["SV1", ["HC", "99213", ""], "40"], d) == "SV1*HC>99213*40"
    assert serialize_segment(["CTT"], d) == "CTT"
    assert serialize_segments([["A", "1"], ["B", "2"]], d) == "A*1~B*2~"
    assert serialize_segments([["A", "1"]], d, line_break=True) == "A*1~\n"


def test_in_memory_control_numbers_count_per_kind():
    numbers = InMemoryControlNumbers(start={"ISA": 41})
    assert isinstance(numbers, ControlNumberSource)
    assert [numbers.next("ISA"), numbers.next("ISA"), numbers.next("GS"), numbers.next("ST")] == [
        42,
        43,
        1,
        1,
    ]


def test_envelope_is_complete_and_counts_agree():
    numbers = InMemoryControlNumbers(start={"ISA": 999_999_999, "GS": 7, "ST": 0})
    data = write_interchange(
        [
            OutboundSet("855", BODY_855),
            OutboundSet("855", [["ST", "855", "X"], *BODY_855, ["SE", "99", "X"]]),
        ],
        sender=Party("VENDOR"),
        receiver=Party("AMAZON", "ZZ", group_id="AMAZONGS"),
        functional_id="PR",
        control_numbers=numbers,
        usage="T",
        when=WHEN,
    )
    text = data.decode()
    isa_line = text.splitlines()[0]
    assert len(isa_line) == 106  # 105 characters + terminator
    assert isa_line.endswith("*00401*000000000*0*T*>~")  # ISA13 wraps at 9 digits
    [interchange] = read_interchanges(data)
    group = interchange.groups[0]
    assert interchange.sender == "VENDOR" and interchange.receiver == "AMAZON"
    assert group.gs[1:4] == ["PR", "VENDOR", "AMAZONGS"] and group.gs[4:6] == ["20240305", "1407"]
    assert group.control_number == "8" and group.ge == ["GE", "2", "8"]
    assert interchange.iea == ["IEA", "1", "000000000"]
    assert [t.control_number for t in group.transactions] == ["0001", "0002"]
    for ts in group.transactions:
        assert ts.segments[1:-1] == BODY_855  # given ST/SE were replaced
        assert ts.segments[-1] == ["SE", str(len(ts.segments)), ts.control_number]


def test_delimiters_and_isa12_are_honoured_and_pyx12_reads_it(tmp_path):
    delims = Delimiters("^", "|", "}", repetition="{")
    data = write_interchange(
        [OutboundSet("856", [["BSN", "00", "SHIP1", "20240305", "1407"]], implementation_reference="005010")],
        sender=Party("VENDOR", "01"),
        receiver=Party("AMAZON"),
        functional_id="SH",
        control_numbers=InMemoryControlNumbers(),
        version="005010",
        isa_version="00501",
        delimiters=delims,
        when=WHEN,
    )
    segments = list(iter_segments(data))
    assert segments[0][1] == delims
    assert segments[0][0][11:13] == ["{", "00501"]
    assert segments[2][0] == ["ST", "856", "0001", "005010"]
    path = tmp_path / "asn.edi"
    path.write_bytes(data)
    ids = [seg.get_seg_id() for seg in pyx12.x12file.X12Reader(str(path))]
    assert ids == ["ISA", "GS", "ST", "BSN", "SE", "GE", "IEA"]
