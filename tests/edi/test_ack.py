"""997/TA1 content built from reports, and inbound 997/TA1 parsing."""

from __future__ import annotations

from datetime import datetime

from amazon_bluecherry.edi.ack import build_997, match_acks, parse_997, parse_ta1
from amazon_bluecherry.edi.reader import iter_segments, read_interchanges
from amazon_bluecherry.edi.validator import validate_file
from amazon_bluecherry.edi.writer import InMemoryControlNumbers

from .samples import GOOD_BODIES, replace, x12

WHEN = datetime(2024, 3, 6, 9, 30)


def ack_for(data: bytes, **kwargs) -> bytes:
    report = validate_file(data)
    return build_997(report, control_numbers=InMemoryControlNumbers(start={"ISA": 500}), when=WHEN, **kwargs)


def test_997_for_an_accepted_po_is_what_amazon_expects():
    source = x12(isa_version="00305").decode().replace("*P*>", "*P*^")  # ISA16 "^"
    ack = ack_for(source.encode())
    segments = [s for s, _ in iter_segments(ack)]
    isa = segments[0]
    assert isa[5:9] == ["ZZ", "VENDOR         ", "ZZ", "AMAZON         "]  # sender/receiver swapped
    assert isa[12:14] == ["00401", "000000501"]  # ISA12 00401 whatever came in; ISA13 from the source
    assert isa[16] == "^"  # ISA16 as in the input
    ids = [s[0] for s in segments]
    assert ids == ["ISA", "GS", "ST", "AK1", "AK2", "AK5", "AK9", "SE", "GE", "IEA"]
    gs = segments[1]
    assert gs[1:4] == ["FA", "VENDOR", "AMAZON"] and gs[8] == "004010"
    assert segments[3] == ["AK1", "PO", "1"]
    assert segments[4] == ["AK2", "850", "0001"]
    assert segments[5] == ["AK5", "A"]
    assert segments[6] == ["AK9", "A", "1", "1", "1"]
    # and our own validator accepts the 997 we wrote
    assert validate_file(ack).exit_code == 0


def test_997_carries_ak3_ak4_ak5_for_errors_and_round_trips():
    bad = replace("850", "BEG", "BEG*00*XX*L8266355**20240305")
    data = x12([("850", GOOD_BODIES["850"][2]), ("850", bad)], se_count_delta=0)
    ack = ack_for(data)
    segments = [s for s, _ in iter_segments(ack)]
    assert ["AK3", "BEG", "2", "", "8"] in segments
    assert ["AK4", "2", "92", "7", "XX"] in segments
    assert ["AK5", "R", "5"] in segments
    assert ["AK9", "P", "2", "2", "1"] in segments
    [parsed] = parse_997(ack)
    assert (parsed.functional_id, parsed.group_control_number, parsed.status) == ("PO", "1", "P")
    assert (parsed.included, parsed.received, parsed.accepted) == (2, 2, 1)
    assert [(s.control_number, s.status, s.codes) for s in parsed.sets] == [
        ("0001", "A", []),
        ("0002", "R", ["5"]),
    ]
    [segment] = parsed.sets[1].segments
    assert (segment.segment_id, segment.position, segment.code) == ("BEG", 2, "8")
    assert segment.elements == [("2", "92", "7", "XX")]
    assert validate_file(ack).exit_code == 0


def test_ta1_when_the_interchange_is_broken_or_asked_for():
    broken = x12().decode().replace("IEA*1*000000001", "IEA*1*000000009").encode()
    [ta1] = parse_ta1(ack_for(broken))
    assert (ta1.control_number, ta1.status, ta1.code) == ("000000001", "R", "001")
    assert (ta1.date, ta1.time) == ("240305", "1407")
    asked = x12().decode().replace("*000000001*0*P*>", "*000000001*1*P*>").encode()
    [ta1] = parse_ta1(ack_for(asked))
    assert (ta1.status, ta1.code) == ("A", "000")
    assert parse_ta1(ack_for(x12())) == []


def test_ack_control_numbers_never_repeat():
    numbers = InMemoryControlNumbers()
    report = validate_file(x12())
    first = build_997(report, control_numbers=numbers, when=WHEN)
    second = build_997(report, control_numbers=numbers, when=WHEN)
    [a], [b] = read_interchanges(first), read_interchanges(second)
    assert a.control_number != b.control_number
    assert a.groups[0].control_number != b.groups[0].control_number


def test_no_997_for_a_997():
    assert ack_for(x12(set_id="997")) == b""


def test_parse_corpus_997(corpus):
    [ack] = parse_997(corpus / "generic_997_4010__edifabric_X12.NET__997.txt")
    assert (ack.functional_id, ack.group_control_number, ack.status) == ("IN", "000000001", "R")
    assert [(s.set_id, s.status, s.codes) for s in ack.sets] == [("810", "A", []), ("810", "R", ["5"])]
    assert ack.sets[1].segments[0].segment_id == "TXI"
    assert ack.sets[1].segments[0].elements == [("1", "963", "7", "C1")]


def test_match_acks_to_what_we_sent():
    ack = (
        b"ISA*00*          *00*          *ZZ*AMAZON         *ZZ*VENDOR         *240306*0930*U*00401*000000077*0*P*>~"
        b"GS*FA*AMAZON*VENDOR*20240306*0930*77*X*004010~ST*997*0001~AK1*PR*000012~AK2*855*0002~AK3*BAK*2**8~"
        b"AK4*2*587*7*ZZ~AK5*R*5~AK9*P*3*3*2~SE*8*0001~"
        b"ST*997*0002~AK1*SH*13~AK9*A*1*1*1~SE*4*0002~GE*2*77~IEA*1*000000077~"
    )
    matched = match_acks(
        parse_997(ack),
        [("PR", "12", "0001"), ("PR", "12", "0002"), ("SH", "13", "0001"), ("IN", "14", "0001")],
    )
    assert matched == {
        ("PR", "12", "0001"): "A",
        ("PR", "12", "0002"): "R",
        ("SH", "13", "0001"): "A",
        ("IN", "14", "0001"): None,
    }
