"""Amazon's requirements inside the 856 (per HL level) and the 810, as registry data.

The same rules judge what we receive and what we build: a missing segment is AK3 code 3
naming it, a missing or malformed value AK3 8 with an AK4 naming the element.
"""

from __future__ import annotations

import pytest

from amazon_bluecherry.edi.ack import build_997, parse_997
from amazon_bluecherry.edi.gs1 import make_sscc
from amazon_bluecherry.edi.guide import GuideRegistry
from amazon_bluecherry.edi.validator import validate_file
from amazon_bluecherry.edi.writer import InMemoryControlNumbers

from .samples import GOOD_BODIES, x12


def verdict(set_id: str, body: list[str]):
    report = validate_file(x12(set_id=set_id, body=body))
    ((_, _, ts),) = list(report.sets())
    return ts


def without(set_id: str, prefix: str) -> list[str]:
    body = list(GOOD_BODIES[set_id][2])
    index = next(i for i, seg in enumerate(body) if seg.startswith(prefix))
    return body[:index] + body[index + 1:]


def changed(set_id: str, prefix: str, new: str) -> list[str]:
    return [new if seg.startswith(prefix) else seg for seg in GOOD_BODIES[set_id][2]]


@pytest.mark.parametrize(("prefix", "named"), [
    ("TD1", "TD1"), ("TD5", "TD5"), ("REF*BM", "REF*BM"), ("DTM*011", "DTM*011"), ("DTM*017", "DTM*017"),
    ("N1*SF", "N1*SF"), ("N1*ST", "N1*ST"), ("PRF", "PRF"), ("MAN*GM", "MAN*GM"), ("SN1", "SN1"),
])
def test_856_level_without_a_required_segment_is_rejected_naming_it(prefix, named):
    ts = verdict("856", without("856", prefix))
    assert ts.status == "R"
    missing = [i for i in ts.errors if i.code == "3" and i.element_position is None]
    assert missing and missing[0].segment_id == named.split("*")[0]
    assert named in missing[0].message


@pytest.mark.parametrize(("prefix", "new", "element", "code"), [
    ("TD5", "TD5*B*2**M", 3, ("1", "2")),                            # no SCAC (the map's P0203 says it too)
    ("REF*BM", "REF*BM*", 2, ("1", "2")),                            # a REF*BM with no value is no BOL
    ("MAN*GM", "MAN*GM*00012345678901234567", 2, "7"),               # check digit wrong
    ("MAN*GM", "MAN*GM*01234567890123456", 2, "4"),                  # 17 digits
    ("MAN*GM", "MAN*GM*0001234567890123456", 2, "5"),                # 19 digits
    ("MAN*GM", "MAN*GM*00A12345678901234560", 2, "6"),
    ("N1*ST", "N1*ST*AMAZON ABE2", 4, "1"),                         # no FC id
])
def test_856_required_values(prefix, new, element, code):
    ts = verdict("856", changed("856", prefix, new))
    assert ts.status == "R"
    assert any(i.element_position == element and i.code in code for i in ts.errors), ts.errors


def test_856_pallet_structure_needs_no_pallet_sscc_but_every_carton_does():
    carton = make_sscc(0, "0614141", 7)
    body = [seg for seg in GOOD_BODIES["856"][2] if not seg.startswith("CTT")]
    index = body.index("HL*3*2*P")
    body = body[:index] + ["HL*3*2*T", "HL*4*3*P", f"MAN*GM*00{carton}", "HL*5*4*I",
                           "LIN**UP*028877454078", "SN1**8*EA", "CTT*5"]
    assert verdict("856", body).status == "A"
    ts = verdict("856", [seg for seg in body if not seg.startswith("MAN")])
    assert [i.segment_id for i in ts.errors if i.code == "3"] == ["MAN"]


@pytest.mark.parametrize(("body", "element", "segment"), [
    (changed("810", "BIG", "BIG*20240312*INV0001*20240305"), 4, "BIG"),       # no PO number
    (changed("810", "IT1", "IT1*1*8*EA*39.5"), 6, "IT1"),                     # no product id
])
def test_810_required_values(body, element, segment):
    ts = verdict("810", body)
    assert ts.status == "R"
    assert any(i.segment_id == segment and i.element_position == element and i.code == "1" for i in ts.errors)


def test_810_total_must_be_lines_plus_charges_less_allowances():
    body = [seg for seg in GOOD_BODIES["810"][2] if not seg.startswith(("TDS", "CTT"))]
    # 8 x 39.50 = 316.00; freight +12.50, allowance -6.00 -> 322.50
    good = body + ["TDS*32250", "SAC*C*D240***1250", "SAC*A*C310***600", "CTT*1"]
    assert verdict("810", good).status == "A"
    ts = verdict("810", body + ["TDS*31600", "SAC*C*D240***1250", "SAC*A*C310***600", "CTT*1"])
    assert ts.status == "R"
    (issue,) = [i for i in ts.errors if i.element_position == 1]
    assert issue.segment_id == "TDS" and issue.code == "7" and "322.50" in issue.message


def test_the_997_names_the_missing_segment():
    report = validate_file(x12(set_id="856", body=without("856", "TD5")))
    (ack,) = parse_997(build_997(report, control_numbers=InMemoryControlNumbers()))
    (acked,) = ack.sets
    assert acked.status == "R"
    assert any(segment.segment_id == "TD5" and segment.code == "3" for segment in acked.segments)


def test_the_rules_are_data():
    registry = GuideRegistry()
    assert [r.name for r in registry.requirements("amazon", "856").levels["S"]] == [
        "TD1", "TD5", "REF*BM", "DTM*011", "DTM*017", "N1*SF", "N1*ST"]
    assert GuideRegistry(with_requirements=False).requirements("amazon", "856") is None
    assert validate_file(x12(set_id="856", body=without("856", "TD5")),
                         registry=GuideRegistry(with_requirements=False)).exit_code == 0
