"""Validator verdicts: good files, every AK3/AK4/AK5/AK9/TA1 code, the public corpus, duplicates."""

from __future__ import annotations

import shutil

import pytest

from amazon_bluecherry.edi.guide import GUIDES_DIR, GuideRegistry
from amazon_bluecherry.edi.validator import InMemoryDuplicates, NotX12Error, validate_file

from .conftest import CORPUS, REPO_ROOT
from .samples import GOOD_BODIES, insert, replace, x12


def only_set(report):
    [(interchange, group, ts)] = list(report.sets())
    return interchange, group, ts


def codes(ts, level):
    return sorted(
        {
            (e.segment_id, e.element_position, e.code) if level == "element" else (e.segment_id, e.code)
            for e in ts.errors
            if e.level == level
        }
    )


@pytest.mark.parametrize("set_id", sorted(GOOD_BODIES))
def test_good_sets_are_accepted(set_id):
    report = validate_file(x12(set_id=set_id))
    interchange, group, ts = only_set(report)
    assert ts.errors == []
    assert (ts.status, group.status, interchange.error, report.exit_code) == ("A", "A", None, 0)
    assert ts.guide is not None and ts.guide.startswith(set_id)


def test_isa12_is_independent_of_gs08_and_vics_is_4010():
    for isa_version in ("00305", "00400", "00401", "00501"):
        assert validate_file(x12(isa_version=isa_version)).exit_code == 0
    assert validate_file(x12(version="004010VICS")).exit_code == 0
    assert validate_file(x12(set_id="856", version="004010")).exit_code == 0


def test_json_shape_is_the_contract():
    report = validate_file(x12(body=replace("850", "BEG", "BEG*00*XX*L8266355**20240305")))
    data = report.to_dict()
    assert list(data) == ["interchanges"]
    [ic] = data["interchanges"]
    assert list(ic) == ["control_number", "sender", "receiver", "error", "groups"]
    [group] = ic["groups"]
    assert list(group) == ["functional_id", "control_number", "status", "transactions"]
    [ts] = group["transactions"]
    assert list(ts) == ["set_id", "control_number", "status", "errors"]
    assert all(
        list(e) == ["segment_id", "segment_position", "element_position", "code", "message"]
        for e in ts["errors"]
    )
    assert {"segment_id": "BEG", "segment_position": 2, "element_position": 2, "code": "7"} in [
        {k: e[k] for k in ("segment_id", "segment_position", "element_position", "code")}
        for e in ts["errors"]
    ]
    assert (ic["sender"], ic["receiver"], ts["status"], group["status"]) == ("AMAZON", "VENDOR", "R", "R")


# --- AK3 segment codes -------------------------------------------------------------------

AK3_CASES = {
    "1": insert("850", "CSH", "X!Z*1"),
    "3": replace("850", "CSH", None),
    "4": GOOD_BODIES["850"][2] + ["CTT*2*20"],
    "5": insert("850", "REF", "BEG*00*NE*L8266355**20240305"),
    "6": insert("850", "CTT", "SCH*1*EA"),
    "7": GOOD_BODIES["850"][2][:-1] + ["BEG*00*NE*L8266355**20240305", "CTT*2*20"],
    "8": replace("850", "CSH", "CSH*Q"),
}


@pytest.mark.parametrize("code", sorted(AK3_CASES))
def test_ak3_codes(code):
    _, group, ts = only_set(validate_file(x12(body=AK3_CASES[code])))
    assert code in {e.code for e in ts.errors if e.level == "segment"}, ts.errors
    assert ts.status == "R" and "5" in ts.ak5_codes and group.status == "R"


def test_mandatory_segment_missing_names_it():
    _, _, ts = only_set(validate_file(x12(body=replace("850", "CSH", None))))
    assert codes(ts, "segment") == [("CSH", "3")]


def test_mandatory_loop_missing_at_end_of_set():
    body = [s for s in GOOD_BODIES["850"][2] if not s.startswith("PO1")]
    _, _, ts = only_set(validate_file(x12(body=body)))
    assert ("PO1", "3") in codes(ts, "segment")


# --- AK4 element codes -------------------------------------------------------------------

AK4_CASES = {
    "1": ("850", "BEG", "BEG*00*NE***20240305", 3),
    "2": ("850", "N1", "N1*ST**15", 4),
    "3": ("850", "CSH", "CSH*N*1*2*3*4*5", 5),
    "4": ("850", "REF", "REF*C*AMZN", 1),
    "5": ("850", "BEG", "BEG*00*NE*L82663551234567890123456**20240305", 3),
    "6": ("850", "PO1*1", "PO1*1*8O*EA*39.5*PE*UP*028877454078", 2),
    "7": ("850", "BEG", "BEG*00*XX*L8266355**20240305", 2),
    "8": ("850", "DTM*064", "DTM*064*20240230", 2),
    "9": ("850", "DTM*064", "DTM*064*20240310*2561", 3),
}


@pytest.mark.parametrize("code", sorted(AK4_CASES))
def test_ak4_codes(code):
    set_id, old, new, position = AK4_CASES[code]
    _, _, ts = only_set(validate_file(x12(set_id=set_id, body=replace(set_id, old, new))))
    element_errors = {(e.element_position, e.code) for e in ts.errors if e.level == "element"}
    assert (position, code) in element_errors, ts.errors
    sid = new.split("*")[0]
    assert (sid, "8") in codes(ts, "segment")
    assert ts.status == "R"


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("20240229", True),
        ("20230229", False),
        ("19000229", False),
        ("20000229", True),
        ("20241301", False),
        ("20240431", False),
        ("2024031", False),
        ("17990101", False),
    ],
)
def test_dates_are_real_calendar_dates(value, ok):
    body = replace("850", "DTM*064", f"DTM*064*{value}")
    assert (validate_file(x12(body=body)).exit_code == 0) is ok


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("2359", True),
        ("235959", True),
        ("23595901", True),
        ("2400", False),
        ("1260", False),
        ("12300", False),
        ("12a0", False),
    ],
)
def test_times(value, ok):
    body = replace("850", "DTM*064", f"DTM*064*20240310*{value}")
    assert (validate_file(x12(body=body)).exit_code == 0) is ok


@pytest.mark.parametrize(
    ("po1", "ok"),
    [
        ("PO1*1*8*EA*39.5*PE*UP*028877454078", True),
        ("PO1*1*-8*EA*.5*PE*UP*028877454078", True),
        ("PO1*1*8*EA*39.1234567*PE*UP*028877454078", True),  # beyond the whole-set fast pattern: walked
        ("PO1*1*8*EA*12345678901234567*PE*UP*028877454078", True),  # 17 digits: the maximum
        ("PO1*1*8*EA*39.*PE*UP*028877454078", False),  # no digit after the point
        ("PO1*1*8*EA*1234567890123456.78*PE*UP*028877454078", False),  # 18 digits > 17
        ("PO1*1*8*EA*39.5*PE*UP*028877454078*VN", False),  # P0809
        ("PO1*1*8*EA*39.5*PE*UP*028877454078*", False),  # trailing separator
        ("PO1*1*8*EA*39.5*PE*UP*02887745 ", False),  # trailing space
        ("PO1*1*8*EA*39.5*PE*UP*0288\x077454078", False),  # control character
        ("PO1*1*8*EA*39.5*PE*UP*0288>77454078", False),  # component separator in a simple element
    ],
)
def test_po1_elements(po1, ok):
    report = validate_file(x12(body=replace("850", "PO1*1", po1)))
    assert (report.exit_code == 0) is ok, [e.message for _, _, t in report.sets() for e in t.errors]


def test_amazon_code_lists():
    for beg02 in ("NE", "RO", "CN", "NP"):
        assert validate_file(x12(body=replace("850", "BEG", f"BEG*00*{beg02}*L1**20240305"))).exit_code == 0
    for qualifier in ("15", "92", "ZZ"):
        assert validate_file(x12(body=replace("850", "N1", f"N1*ST**{qualifier}*X1"))).exit_code == 0
    assert validate_file(x12(body=replace("850", "N1", "N1*ST**91*X1"))).exit_code == 1
    for ack in ("IA", "IB", "IR"):
        assert (
            validate_file(x12(set_id="855", body=replace("855", "ACK*IA", f"ACK*{ack}*6*EA"))).exit_code == 0
        )
    assert validate_file(x12(set_id="855", body=replace("855", "ACK*IA", "ACK*IQ*6*EA"))).exit_code == 1
    assert (
        validate_file(x12(set_id="855", body=replace("855", "BAK", "BAK*00*AT*L1*20240306"))).exit_code == 1
    )
    assert validate_file(x12(set_id="856", body=replace("856", "MAN", "MAN*XX*0001"))).exit_code == 1


# --- 856 hierarchy -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "element"),
    [
        ("HL*3", "HL*3*2*X", 3),  # unknown level
        ("HL*4", "HL*4*1*I", 3),  # item directly under the shipment
        ("HL*4", "HL*4*9*I", 2),  # parent that does not exist
        ("HL*2", "HL*5*1*O", 1),  # numbering does not count up
        ("HL*1", "HL*1**O", 3),  # the top must be the shipment
    ],
)
def test_856_hierarchy(old, new, element):
    _, _, ts = only_set(validate_file(x12(set_id="856", body=replace("856", old, new))))
    assert ("HL", element) in {
        (e.segment_id, e.element_position) for e in ts.errors if e.level == "element"
    }, ts.errors
    assert ts.status == "R"


def test_856_pallet_level_is_allowed():
    body = replace("856", "HL*3", "HL*3*2*T")
    body = body[: body.index("MAN*GM*00012345678901234560")] + [
        "HL*4*3*P",
        "MAN*GM*00012345678901234560",
        "HL*5*4*I",
        "LIN**UP*028877454078",
        "SN1**8*EA",
        "CTT*5",
    ]
    assert validate_file(x12(set_id="856", body=body)).exit_code == 0


# --- AK5 set codes and AK9 group codes ------------------------------------------------------


def test_ak5_set_codes():
    _, _, ts = only_set(validate_file(x12(se_count_delta=1)))
    assert ts.ak5_codes == ["4"] and ts.status == "R"
    text = x12().decode().replace("SE*11*0001", "SE*11*0002")
    _, _, ts = only_set(validate_file(text.encode()))
    assert ts.ak5_codes == ["3"]
    text = x12().decode().replace("SE*11*0001~\n", "")
    _, group, ts = only_set(validate_file(text.encode()))
    assert "2" in ts.ak5_codes
    _, group, ts = only_set(
        validate_file(x12(set_id="860", body=["BCH*04*SA*PO1***20240305"], functional_id="PC"))
    )
    assert ts.ak5_codes == ["1"] and ts.status == "R" and group.status == "R"


def test_one_bad_set_does_not_block_the_others():
    bad = replace("850", "BEG", "BEG*00*XX*L8266355**20240305")
    report = validate_file(
        x12(
            [
                ("850", GOOD_BODIES["850"][2]),
                ("850", bad),
                ("860", ["BCH*04*SA*P1***20240305"]),
                ("850", GOOD_BODIES["850"][2]),
            ]
        )
    )
    [(_, group, _), *_] = list(report.sets())
    assert [t.status for t in group.transactions] == ["A", "R", "R", "A"]
    assert group.status == "P" and group.accepted == 2 and report.exit_code == 1


def test_ak9_group_codes():
    text = x12().decode()
    report = validate_file(text.replace("GE*1*1", "GE*2*7").encode())
    [group] = report.interchanges[0].groups
    assert sorted(group.codes) == ["4", "5"] and group.status == "R"
    report = validate_file(text.replace("GE*1*1~\n", "").encode())
    assert report.interchanges[0].groups[0].codes == ["3"]
    report = validate_file(x12(version="003050"))
    assert "2" in report.interchanges[0].groups[0].codes
    assert report.interchanges[0].groups[0].transactions[0].ak5_codes == ["1"]


# --- TA1 ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "code"),
    [
        ("IEA*1*000000001", "IEA*1*000000002", "001"),
        ("IEA*1*000000001", "IEA*2*000000001", "021"),
        ("IEA*1*000000001~\n", "", "023"),
        ("*240305*1407*", "*241305*1407*", "014"),
        ("*240305*1407*", "*240305*2507*", "015"),
        ("*U*00401*", "*U*00099*", "017"),
        ("*0*P*>", "*0*X*>", "020"),
        ("*ZZ*AMAZON", "*Z9*AMAZON", "005"),
    ],
)
def test_ta1_codes(old, new, code):
    report = validate_file(x12().decode().replace(old, new, 1).encode())
    [interchange] = report.interchanges
    assert code in interchange.ta1_codes and interchange.error.startswith(f"TA1 {code}")
    assert report.exit_code == 1
    assert report.to_dict()["interchanges"][0]["error"] == interchange.error


def test_several_interchanges_are_judged_separately():
    data = x12(control="000000001") + x12(control="000000002", se_count_delta=3)
    report = validate_file(data)
    assert [t.status for _, _, t in report.sets()] == ["A", "R"]
    assert [i.control_number for i in report.interchanges] == ["000000001", "000000002"]


# --- duplicates ----------------------------------------------------------------------------


def test_duplicates_across_files():
    duplicates = InMemoryDuplicates()
    first = validate_file(x12(), duplicates=duplicates)
    assert first.exit_code == 0
    again = validate_file(x12(), duplicates=duplicates)
    [interchange] = again.interchanges
    assert interchange.ta1_codes == ["025"]
    assert interchange.groups[0].codes == ["19"]
    assert interchange.groups[0].transactions[0].ak5_codes == ["23"]
    other = validate_file(x12(control="000000002", group_control="2"), duplicates=duplicates)
    assert other.exit_code == 0
    assert duplicates.seen("interchange", "AMAZON", "VENDOR", "000000002") is True
    assert duplicates.seen("interchange", "AMAZON", "VENDOR", "000000003") is False


def test_duplicate_set_numbers_within_a_group():
    report = validate_file(
        x12([("850", GOOD_BODIES["850"][2]), ("850", GOOD_BODIES["850"][2])])
        .decode()
        .replace("ST*850*0002", "ST*850*0001")
        .replace("SE*11*0002", "SE*11*0001")
        .encode()
    )
    assert [t.ak5_codes for _, _, t in report.sets()] == [[], ["23"]]


# --- the guides are data -------------------------------------------------------------------


def test_a_new_partner_is_data_only(tmp_path):
    guides = tmp_path / "guides"
    shutil.copytree(GUIDES_DIR, guides)
    xml = (guides / "850.4010.amazon.xml").read_text()
    # A partner whose guide forbids BEG06 (element usage N) and the CUR segment (usage N).
    xml = xml.replace('xid="BEG06" data_ele="367" usage="S"', 'xid="BEG06" data_ele="367" usage="N"')
    xml = xml.replace('<segment xid="CUR" usage="S" pos="0020"', '<segment xid="CUR" usage="N" pos="0020"')
    (guides / "850.4010.acme.xml").write_text(xml)
    (guides / "registry.yaml").write_text(
        "default_partner: amazon\npartners:\n  amazon:\n    guides:\n      '004010':\n        '850': 850.4010.amazon.xml\n"
        "  acme:\n    interchange_ids: [ACME]\n    guides:\n      '004010':\n        '850': 850.4010.acme.xml\n"
    )
    registry = GuideRegistry(guides)
    body = replace("850", "BEG", "BEG*00*NE*L1**20240305*C1")
    assert validate_file(x12(body=body), registry=registry).exit_code == 0
    _, _, ts = only_set(validate_file(x12(body=body, sender="ACME"), registry=registry))
    assert ("BEG", 6, "10") in codes(ts, "element")
    body = insert("850", "REF", "CUR*BY*USD")
    _, _, ts = only_set(validate_file(x12(body=body, sender="ACME"), registry=registry))
    assert ("CUR", "2") in codes(ts, "segment")


# --- the public corpus ---------------------------------------------------------------------

# file -> (exit code, [(set id, AK5 status, AK5 codes)], TA1 codes)
CORPUS_VERDICTS = {
    "amazon_retail_850__predicatestudio_predi_edi__amz_ex.edi": (0, [("850", "A", [])], []),
    "amazon_retail_850_truncated__predicatestudio_predi_edi__amz.edi": (1, [("850", "R", ["4", "5"])], []),
    # Direct Fulfillment (AMAZONDS): no DF guide, so "set not supported" (AK5 1) and nothing else
    "amazon_DF_810__Stedi_starter-kit__amazon-jedi-810_README.edi": (1, [("810", "R", ["1", "4"])], []),  # SE01 too
    "amazon_DF_850__Stedi_starter-kit__jedi-850-to-orders-api_README.edi": (1, [("850", "R", ["1"])], []),
    "amazon_retail_855_connectivity_test__heinrichb_avc-importer__main.go.edi": (
        1,
        [("855", "R", ["5"])],
        [],
    ),
    "generic_180__X12Parser__FromLowes.txt": (1, [("180", "R", ["1"])], []),
    "generic_810_4010__edifabric_X12.NET__Invoice.txt": (1, [("810", "R", ["5"])], ["007"]),  # ITD01 05
    "generic_810_4010_retail__X12Parser__Example5_Walmart.txt": (1, [("810", "R", ["5"])], ["017"]),
    "generic_810_caret_separator__python-edi__test_edi.txt": (1, [("810", "R", ["5"])], []),
    "generic_820_BPR_ENT_RMR__X12Parser__Example6.txt": (1, [("820", "R", ["1", "3"])], ["014", "017"]),
    "generic_820_retail__X12Parser__Example4_Safeway.txt": (1, [("820", "A", [])], ["007"]),
    "generic_820_retail_template__X12Parser__Example3_HomeDepot.txt": (1, [("820", "R", ["1"])], []),
    "generic_846__X12Parser__Example1.txt": (1, [("846", "R", ["5"])], ["016"]),
    "generic_850_4010VICS__node-x12__850.edi": (1, [("850", "R", ["5"])], []),
    "generic_855_4010__node-x12__855.edi": (1, [("855", "R", ["5"])], []),
    "generic_856_4010VICS_SOPI_MANGM_apparel__X12Parser__FromGregarican.txt": (
        1,
        [("856", "R", ["5"])],
        [],
    ),  # DTM*067
    "generic_856_4010_SOPI_MANGM__edifabric_X12.NET__ShipNotice.txt": (1, [("856", "R", ["5"])], []),
    "generic_856_SOI__X12Parser__edi1Source.txt": (1, [("856", "R", ["1"])], []),
    "generic_856_unicode_terminator__X12Parser__Example3.txt": (1, [("856", "R", ["5"])], []),
    "generic_860__X12Parser__Example1.txt": (1, [("860", "R", ["1", "4"])], ["006"]),
    "generic_865__X12Parser__FromTyco.txt": (1, [("865", "R", ["1"])], ["001"]),
    # GS04 071214 is YYMMDD where 004010 requires CCYYMMDD: 024
    "generic_997_4010__edifabric_X12.NET__997.txt": (1, [("997", "A", [])], ["016", "024"]),
}


@pytest.mark.parametrize("name", sorted(CORPUS_VERDICTS))
def test_corpus_verdicts(corpus, name):
    report = validate_file(corpus / name)
    exit_code, sets, ta1 = CORPUS_VERDICTS[name]
    assert [(t.set_id, t.status, t.ak5_codes) for _, _, t in report.sets()] == sets
    assert [c for i in report.interchanges for c in i.ta1_codes] == ta1
    assert report.exit_code == exit_code


def test_corpus_is_covered():
    if CORPUS.is_dir():
        names = {p.name for p in CORPUS.iterdir() if p.suffix in (".edi", ".txt")}
        assert names == set(CORPUS_VERDICTS)


def test_not_x12_raises():
    with pytest.raises(NotX12Error):
        validate_file(b"PDF-1.4 not an edi file")


SAMPLES = REPO_ROOT / "include" / "edi_samples"


@pytest.mark.parametrize("name", sorted(p.name for p in SAMPLES.glob("*.*") if p.suffix in (".edi", ".txt")))
def test_shipped_samples_verdicts(name):
    """The permissively licensed corpus files ship with the repo, so these always run."""
    report = validate_file(SAMPLES / name)
    exit_code, sets, ta1 = CORPUS_VERDICTS[name]
    assert [(t.set_id, t.status, t.ak5_codes) for _, _, t in report.sets()] == sets
    assert report.exit_code == exit_code


def test_855_needs_lines_and_an_ack_per_line():
    no_ack = [s for s in GOOD_BODIES["855"][2] if not s.startswith("ACK")]
    _, _, ts = only_set(validate_file(x12(set_id="855", body=no_ack)))
    assert ("ACK", "3") in codes(ts, "segment")
    no_lines = ["BAK*00*AC*L8266355*20240306", "CTT*0"]
    _, _, ts = only_set(validate_file(x12(set_id="855", body=no_lines)))
    assert ("PO1", "3") in codes(ts, "segment")


# --- issue 14: GS04 century, TA1-only interchanges, Direct Fulfillment --------------------


@pytest.mark.parametrize("version", ["004010", "005010", "004010VICS"])
def test_gs04_must_be_ccyymmdd_from_004010_on(version):
    data = x12(version=version, set_id="850").replace(b"*20240305*1407*1*X*", b"*240305*1407*1*X*")
    [interchange] = validate_file(data).interchanges
    assert interchange.ta1_codes == ["024"]
    assert "GS04 date '240305' is not a valid CCYYMMDD" in interchange.error


def test_gs04_may_be_yymmdd_before_004010():
    data = x12(version="003040", set_id="850").replace(b"*20240305*1407*1*X*", b"*240305*1407*1*X*")
    [interchange] = validate_file(data).interchanges
    assert "024" not in interchange.ta1_codes


TA1_ONLY = ("ISA*00*          *00*          *ZZ*AMAZON         *ZZ*VENDOR         *261126*1200*U*00401*"
            "000000777*0*P*>~{ta1}~IEA*0*000000777~\n")


def test_a_ta1_only_interchange_is_accepted_and_its_ta1s_kept():
    report = validate_file(TA1_ONLY.format(ta1="TA1*000000012*261126*1155*A*000~TA1*000000013*261126*1156*R*022")
                           .encode())
    [interchange] = report.interchanges
    assert report.exit_code == 0 and interchange.error is None and interchange.groups == []
    assert [ta1[1:] for ta1 in interchange.acknowledgements] == [
        ["000000012", "261126", "1155", "A", "000"], ["000000013", "261126", "1156", "R", "022"]]
    assert report.to_dict()["interchanges"][0]["ta1"][1] == {"control_number": "000000013", "status": "R",
                                                              "code": "022"}


@pytest.mark.parametrize("ta1,problem", [
    ("TA1*12*261126*1155*A*000", "TA101"),
    ("TA1*000000012*261399*1155*A*000", "TA102"),
    ("TA1*000000012*261126*2575*A*000", "TA103"),
    ("TA1*000000012*261126*1155*X*000", "TA104"),
    ("TA1*000000012*261126*1155*A", "5"),
])
def test_a_malformed_ta1_is_reported_not_trusted(ta1, problem):
    report = validate_file(TA1_ONLY.format(ta1=ta1).encode())
    [interchange] = report.interchanges
    assert interchange.ta1_codes == ["024"] and problem in interchange.error and report.exit_code == 1


def test_direct_fulfillment_sets_are_not_supported_not_misjudged():
    body = ["BEG*00*DS*TesT0008596**20070808", "REF*OQ*X", "N1*ST*Charlie Dinkins",
            "PO1*1*3*EA*18.04*NT*SK*1617", "CTT*1"]
    report = validate_file(x12(body=body, sender="AMAZONDS"))
    [(interchange, group, ts)] = list(report.sets())
    assert interchange.partner == "amazon_direct_fulfillment"
    assert (ts.status, ts.ak5_codes, [e.level for e in ts.errors]) == ("R", ["1"], ["set"])
    assert "Direct Fulfillment" in ts.errors[0].message
    assert group.codes == []  # the group itself is fine: no AK9 "version not supported"


@pytest.mark.parametrize("count", [b"\xb9", "\u0661".encode()])  # superscript one (8-bit), Arabic-Indic one
def test_a_unicode_digit_in_a_count_is_a_verdict_not_a_crash(count):
    # str.isdigit() says yes to these; int() refuses them. Found by test_fuzz.
    data = x12(set_id="850", body=GOOD_BODIES["850"][2]).replace(b"GE*1*", b"GE*" + count + b"*")
    report = validate_file(data)
    (group,) = report.interchanges[0].groups
    assert group.included is None and not report.ok
