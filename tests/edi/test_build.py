"""Building X12 from documents: exact segments, number and date formats, envelopes."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from amazon_bluecherry.edi import documents as d
from amazon_bluecherry.edi.build import (
    BuildError,
    build_segments,
    check_delimiters,
    to_outbound_set,
    write_documents,
)
from amazon_bluecherry.edi.envelope import Delimiters
from amazon_bluecherry.edi.gs1 import make_sscc
from amazon_bluecherry.edi.parse import parse_file
from amazon_bluecherry.edi.reader import read_interchanges
from amazon_bluecherry.edi.writer import InMemoryControlNumbers, Party

WHEN = dt.datetime(2025, 3, 4, 9, 5)
SSCC = make_sscc(0, "0614141", 1001)


def _acknowledgement() -> d.PurchaseOrderAcknowledgement:
    return d.PurchaseOrderAcknowledgement(
        acknowledgement_type="AC",
        purchase_order_number="2XK9QWER",
        purchase_order_date=dt.date(2025, 3, 3),
        acknowledgement_date=dt.date(2025, 3, 4),
        lines=[
            d.AcknowledgementLine(
                line_number="1",
                quantity=24,
                unit="EA",
                unit_price=Decimal("12.50"),
                price_basis="PE",
                product_ids=[d.ProductId(qualifier="BP", value="B07XJ8C8F5")],
                acknowledgements=[
                    d.LineAcknowledgement(
                        status="IA", quantity=18, unit="EA", date_qualifier="068", date=dt.date(2025, 3, 8)
                    ),
                    d.LineAcknowledgement(status="IB", quantity=6, unit="EA"),
                ],
            )
        ],
    )


def _ship_notice() -> d.ShipNotice:
    return d.ShipNotice(
        shipment_id="SHIP0001",
        shipment_date=dt.date(2025, 3, 5),
        shipment_time=dt.time(14, 30),
        measurements=d.ShipmentMeasurements(
            packaging_code="CTN25",
            lading_quantity=1,
            weight_qualifier="G",
            weight=Decimal("12.50"),
            weight_unit="LB",
        ),
        carrier=d.CarrierDetails(
            routing_sequence="B", id_qualifier="2", scac="UPSN", transportation_method="U"
        ),
        bill_of_lading="ACMEA00001234",
        carrier_reference="1Z999AA10123456784",
        shipped_date=dt.date(2025, 3, 5),
        estimated_delivery_date=dt.date(2025, 3, 8),
        parties=[
            d.PartyIdentification(role="ST", id_qualifier="92", id_code="ABE8"),
            d.PartyIdentification(
                role="SF",
                name="ACME APPAREL",
                address_lines=["1 MAIN ST"],
                city="NEWARK",
                state="NJ",
                postal_code="07102",
                country="US",
            ),
        ],
        orders=[
            d.ShipmentOrder(
                purchase_order_number="2XK9QWER",
                packs=[
                    d.ShipmentPack(
                        sscc=SSCC,
                        items=[
                            d.ShipmentItem(
                                product_ids=[d.ProductId(qualifier="BP", value="B07XJ8C8F5")],
                                shipped_quantity=18,
                                unit="EA",
                            )
                        ],
                    )
                ],
            )
        ],
    )


def _invoice() -> d.Invoice:
    return d.Invoice(
        invoice_date=dt.date(2025, 3, 6),
        invoice_number="INV-10001",
        purchase_order_number="2XK9QWER",
        currency="USD",
        parties=[d.PartyIdentification(role="RI", name="ACME APPAREL", id_qualifier="92", id_code="ACMEA")],
        terms=d.PaymentTerms(type_code="01", basis_date_code="3", net_days=60, description="NET 60"),
        lines=[
            d.InvoiceLine(
                line_number="1",
                quantity=18,
                unit="EA",
                unit_price=Decimal("12.50"),
                price_basis="PE",
                product_ids=[d.ProductId(qualifier="BP", value="B07XJ8C8F5")],
            )
        ],
        total_amount=Decimal("220.00"),
        charges=[d.ChargeAllowance(indicator="A", code="C310", amount=Decimal("5.00"))],
    )


def test_855_segments_exactly():
    assert build_segments(_acknowledgement()) == [
        ["BAK", "00", "AC", "2XK9QWER", "20250303", "", "", "", "", "20250304"],
        ["PO1", "1", "24", "EA", "12.5", "PE", "BP", "B07XJ8C8F5"],
        ["ACK", "IA", "18", "EA", "068", "20250308"],
        ["ACK", "IB", "6", "EA"],
        ["CTT", "1", "24"],
    ]


def test_856_hierarchy_sscc_with_ai_prefix_and_hl_count():
    segments = build_segments(_ship_notice())
    ids = [s[0] for s in segments]
    assert ids == [
        "BSN", "HL", "TD1", "TD5", "REF", "REF", "DTM", "DTM", "N1", "N1", "N3", "N4",
        "HL", "PRF", "HL", "MAN", "HL", "LIN", "SN1", "CTT",
    ]  # fmt: skip
    assert segments[0] == ["BSN", "00", "SHIP0001", "20250305", "1430", "0001"]
    hls = [s[1:] for s in segments if s[0] == "HL"]
    assert hls == [["1", "", "S"], ["2", "1", "O"], ["3", "2", "P"], ["4", "3", "I"]]
    assert ["MAN", "GM", "00" + SSCC] in segments
    assert len("00" + SSCC) == 20
    assert ["TD1", "CTN25", "1", "", "", "", "G", "12.5", "LB"] in segments
    assert ["SN1", "", "18", "EA"] in segments
    assert segments[-1] == ["CTT", "4"]


def test_810_total_in_cents_and_allowance_in_sac():
    segments = build_segments(_invoice())
    assert ["TDS", "22000"] in segments
    assert ["SAC", "A", "C310", "", "", "500"] in segments
    assert ["ITD", "01", "3", "", "", "", "", "60", "", "", "", "", "NET 60"] in segments
    assert segments[0] == ["BIG", "20250306", "INV-10001", "", "2XK9QWER"]
    assert ["CUR", "BT", "USD"] in segments


@pytest.mark.parametrize(
    ("price", "written"),
    [
        ("39.00", "39"),
        ("12.50", "12.5"),
        ("100", "100"),
        ("0.00", "0"),
        ("0.5", "0.5"),
        ("1234.5678", "1234.5678"),
    ],
)
def test_r_numbers_have_no_trailing_zeros(price, written):
    ack = _acknowledgement()
    ack.lines[0].unit_price = Decimal(price)
    assert build_segments(ack)[1][4] == written


def test_997_composite_element_position():
    fa = d.FunctionalAcknowledgement(
        acknowledged_functional_id="PO",
        acknowledged_group_control_number="12911",
        sets=[
            d.SetAcknowledgement(
                set_id="850",
                control_number="0001",
                segment_errors=[
                    d.SegmentError(
                        segment_id="PO1",
                        segment_position=8,
                        code="8",
                        element_errors=[d.ElementError(element_position=6, component_position=2, code="7")],
                    )
                ],
                status="R",
                error_codes=["5"],
            )
        ],
        group_status="R",
        sets_included=1,
        sets_received=1,
        sets_accepted=0,
    )
    segments = build_segments(fa)
    assert ["AK4", ["6", "2"], "", "7"] in segments
    data = write_documents(
        [fa], sender="VENDOR", receiver="AMAZON", control_numbers=InMemoryControlNumbers(), when=WHEN
    )
    assert b"AK4*6>2**7~" in data
    [back] = parse_file(data)
    assert back.sets[0].segment_errors[0].element_errors[0].component_position == 2


def test_write_documents_groups_by_functional_id_with_amazon_versions():
    numbers = InMemoryControlNumbers(start={"ISA": 100, "GS": 200, "ST": 300})
    data = write_documents(
        [_acknowledgement(), _ship_notice(), _invoice(), _acknowledgement()],
        sender=Party(id="ACMEVENDOR", qualifier="ZZ"),
        receiver=Party(id="AMAZON", qualifier="ZZ"),
        control_numbers=numbers,
        usage="T",
        when=WHEN,
    )
    interchanges = read_interchanges(data)
    summary = [
        (
            i.isa[12],
            i.isa[11],
            i.isa[13],
            g.functional_id,
            g.version,
            g.control_number,
            [t.set_id for t in g.transactions],
        )
        for i in interchanges
        for g in i.groups
    ]
    assert summary == [
        ("00401", "U", "000000101", "PR", "004010", "201", ["855", "855"]),
        ("00501", "^", "000000102", "SH", "005010", "202", ["856"]),
        ("00401", "U", "000000103", "IN", "004010", "203", ["810"]),
    ]
    first = interchanges[0]
    assert (first.isa[9], first.isa[15], first.groups[0].gs[4]) == ("250304", "T", "20250304")
    assert [t.control_number for t in first.groups[0].transactions] == ["0301", "0302"]
    assert first.delimiters == Delimiters("*", ">", "~", None)
    assert interchanges[1].delimiters.repetition == "^"
    # SE01 counts ST..SE.
    for interchange in interchanges:
        for group in interchange.groups:
            for transaction in group.transactions:
                assert transaction.segments[-1][1] == str(len(transaction.segments))
    assert b"\n" not in data  # no line breaks unless asked for


def test_856_version_can_be_overridden_to_4010():
    data = write_documents(
        [_ship_notice()],
        sender="ACMEVENDOR",
        receiver="AMAZON",
        control_numbers=InMemoryControlNumbers(),
        versions={"856": "004010"},
        when=WHEN,
    )
    [interchange] = read_interchanges(data)
    assert (interchange.isa[12], interchange.groups[0].version) == ("00401", "004010")


def test_text_containing_a_delimiter_is_refused_with_its_position():
    notice = _ship_notice()
    notice.parties[1].name = "ACME*APPAREL"
    with pytest.raises(BuildError) as info:
        write_documents([notice], sender="V", receiver="AMAZON", control_numbers=InMemoryControlNumbers())
    assert "856 SHIP0001: segment N1 at position 11, element N102 'ACME*APPAREL'" in str(info.value)
    assert "element separator" in str(info.value)


def test_repetition_separator_is_checked_in_5010_envelopes_only():
    notice = _ship_notice()
    notice.bill_of_lading = "BOL^1"
    with pytest.raises(BuildError, match="repetition separator"):
        write_documents([notice], sender="V", receiver="AMAZON", control_numbers=InMemoryControlNumbers())
    data = write_documents(
        [notice],
        sender="V",
        receiver="AMAZON",
        control_numbers=InMemoryControlNumbers(),
        versions={"856": "004010"},
    )
    assert parse_file(data)[0].bill_of_lading == "BOL^1"


def test_check_delimiters_looks_inside_composites():
    with pytest.raises(BuildError, match="component separator"):
        check_delimiters([["AK4", ["1", "2>3"]]], Delimiters())


def test_outbound_set_carries_the_set_id_and_no_envelope():
    outbound = to_outbound_set(_invoice())
    assert outbound.set_id == "810"
    assert outbound.segments[0][0] == "BIG"


def test_nothing_to_write_is_an_error():
    with pytest.raises(BuildError):
        write_documents([], sender="V", receiver="A", control_numbers=InMemoryControlNumbers())


def test_written_file_parses_back_with_envelope_refs():
    data = write_documents(
        [_invoice()],
        sender="ACMEVENDOR",
        receiver="AMAZON",
        control_numbers=InMemoryControlNumbers(),
        when=WHEN,
    )
    [invoice] = parse_file(data)
    assert invoice.model_dump(exclude={"envelope"}) == _invoice().model_dump(exclude={"envelope"})
    env = invoice.envelope
    assert (env.sender_id, env.receiver_id, env.functional_id, env.version) == (
        "ACMEVENDOR",
        "AMAZON",
        "IN",
        "004010",
    )
    assert (env.interchange_control_number, env.group_control_number, env.set_control_number) == (
        "000000001",
        "1",
        "0001",
    )


def _amazon_documents() -> list:
    """One realistic document of each type, as Amazon's guides want them."""
    purchase_order = d.PurchaseOrder(
        order_type="NE",
        purchase_order_number="2XK9QWER",
        order_date=dt.date(2025, 3, 3),
        vendor_code="ACMEA",
        backorder_allowed=True,
        delivery_window_start=dt.date(2025, 3, 10),
        delivery_window_end=dt.date(2025, 3, 14),
        parties=[d.PartyIdentification(role="ST", id_qualifier="92", id_code="ABE8")],
        lines=[
            d.PurchaseOrderLine(
                line_number="1",
                quantity=24,
                unit="EA",
                unit_price=Decimal("12.50"),
                price_basis="PE",
                product_ids=[
                    d.ProductId(qualifier="BP", value="B07XJ8C8F5"),
                    d.ProductId(qualifier="UP", value="036000291452"),
                ],
            )
        ],
    )
    inventory = d.InventoryAdvice(
        report_type="DD",
        report_number="INV20250304",
        report_date=dt.date(2025, 3, 4),
        parties=[d.PartyIdentification(role="SU", id_qualifier="92", id_code="ACMEA")],
        items=[
            d.InventoryItem(
                product_ids=[d.ProductId(qualifier="VN", value="SKU-1")],
                quantities=[d.InventoryQuantity(qualifier="33", quantity=120, unit="EA")],
            )
        ],
    )
    remittance = d.RemittanceAdvice(
        transaction_handling="I",
        payment_amount=Decimal("215.00"),
        credit_debit="C",
        payment_method="ACH",
        payment_format="CTX",
        payment_date=dt.date(2025, 4, 5),
        trace_number="PAY000123",
        dates=[d.DateReference(qualifier="097", date=dt.date(2025, 4, 4))],
        parties=[
            d.PartyIdentification(role="PR", name="AMAZON.COM"),
            d.PartyIdentification(role="PE", name="ACME"),
        ],
        entries=[
            d.RemittanceEntry(
                sequence=1,
                items=[
                    d.RemittanceItem(
                        reference_qualifier="IV",
                        reference_number="INV-10001",
                        amount_paid=Decimal("215.00"),
                        invoice_amount=Decimal("220.00"),
                        discount_amount=Decimal("5.00"),
                        dates=[d.DateReference(qualifier="003", date=dt.date(2025, 3, 6))],
                    )
                ],
            )
        ],
    )
    acknowledgement_997 = d.FunctionalAcknowledgement(
        acknowledged_functional_id="PO",
        acknowledged_group_control_number="12911",
        sets=[d.SetAcknowledgement(set_id="850", control_number="0001", status="A")],
        group_status="A",
        sets_included=1,
        sets_received=1,
        sets_accepted=1,
    )
    return [
        purchase_order,
        _acknowledgement(),
        _ship_notice(),
        _invoice(),
        inventory,
        remittance,
        acknowledgement_997,
    ]


def test_built_documents_pass_the_amazon_implementation_guides():
    validator = pytest.importorskip("amazon_bluecherry.edi.validator")
    documents = _amazon_documents()
    data = write_documents(
        documents, sender="ACMEVENDOR", receiver="AMAZON", control_numbers=InMemoryControlNumbers(), when=WHEN
    )
    report = validator.validate_file(data).to_dict()
    verdicts = {
        (t["set_id"], t["status"]): t["errors"]
        for i in report["interchanges"]
        for g in i["groups"]
        for t in g["transactions"]
    }
    assert verdicts == {(doc.set_id, "A"): [] for doc in documents}
    assert [b.model_dump(exclude={"envelope"}) for b in parse_file(data)] == [
        doc.model_dump(exclude={"envelope"}) for doc in documents
    ]
