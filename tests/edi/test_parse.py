"""Parsing transaction sets into typed documents: real files from the public corpus, and
robustness on damaged input (missing elements never crash with IndexError)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from amazon_bluecherry.edi.documents import (
    AcknowledgementType,
    FunctionalAcknowledgement,
    InventoryAdvice,
    Invoice,
    LineAcknowledgementStatus,
    PurchaseOrder,
    PurchaseOrderAcknowledgement,
    PurchaseOrderType,
    RemittanceAdvice,
    ShipNotice,
)
from amazon_bluecherry.edi.envelope import TransactionSet
from amazon_bluecherry.edi.parse import DocumentError, parse_file, parse_transaction
from amazon_bluecherry.edi.reader import NotX12Error, read_interchanges


def _one(corpus, name):
    path = corpus / name
    if not path.exists():
        pytest.skip(f"{name} not in the corpus")
    documents = parse_file(path)
    assert len(documents) == 1
    return documents[0]


# --- 850 ---------------------------------------------------------------------------------


def test_amazon_retail_850(corpus):
    po = _one(corpus, "amazon_retail_850__predicatestudio_predi_edi__amz_ex.edi")
    assert isinstance(po, PurchaseOrder)
    assert po.order_type is PurchaseOrderType.NEW_ORDER
    assert po.purchase_order_number == "L8266355"
    assert po.order_date == dt.date(2008, 9, 1)
    assert po.vendor_code == "AMZN_VENDORCODE"
    assert po.backorder_allowed is False
    assert (po.delivery_window_start, po.delivery_window_end) == (dt.date(2008, 9, 3), dt.date(2008, 9, 9))
    assert po.ship_to is not None
    assert (po.ship_to.id_qualifier, po.ship_to.id_code) == ("15", "1794205")
    [line] = po.lines
    assert (line.line_number, line.quantity, line.unit, line.unit_price, line.price_basis) == (
        "1",
        8,
        "EA",
        Decimal("39"),
        "PE",
    )
    assert (line.product_id_qualifier, line.product_id) == ("UP", "028877454078")
    env = po.envelope
    assert (env.sender_id, env.receiver_id, env.interchange_control_number) == (
        "AMAZON",
        "VENDOR",
        "000012911",
    )
    assert (env.group_control_number, env.version, env.set_control_number, env.functional_id) == (
        "12911",
        "004010",
        "0001",
        "PO",
    )


def test_truncated_amazon_850_without_lines_is_a_document_error(corpus):
    path = corpus / "amazon_retail_850_truncated__predicatestudio_predi_edi__amz.edi"
    if not path.exists():
        pytest.skip("truncated 850 not in the corpus")
    with pytest.raises(DocumentError) as info:
        parse_file(path)
    assert info.value.segment_id == "ST"
    assert "lines" in str(info.value)


def test_non_amazon_order_type_is_named_with_its_element(corpus):
    path = corpus / "generic_850_4010VICS__node-x12__850.edi"
    if not path.exists():
        pytest.skip("generic 850 not in the corpus")
    with pytest.raises(DocumentError) as info:
        parse_file(path)
    error = info.value
    assert (error.segment_id, error.segment_position, error.element_position) == ("BEG", 2, 2)
    assert "BEG02" in str(error) and "NE" in str(error)


# --- 855 ---------------------------------------------------------------------------------


def test_generic_855_with_accepted_and_rejected_lines(corpus):
    ack = _one(corpus, "generic_855_4010__node-x12__855.edi")
    assert isinstance(ack, PurchaseOrderAcknowledgement)
    assert ack.acknowledgement_type is AcknowledgementType.WITH_DETAIL_NO_CHANGE
    assert ack.purchase_order_number == "POTEST1112"
    assert ack.purchase_order_date == dt.date(2020, 10, 15)
    assert ack.acknowledgement_date == dt.date(2020, 10, 15)
    assert ack.currency == "USD"
    assert [r.qualifier for r in ack.references] == ["ZZZ"]
    ship_to = ack.ship_to
    assert ship_to.name == "EDI TEST ACCOUNT-SUFFIX"
    assert ship_to.address_lines == ["REGULAR EDI ACCOUNT", "ATTN ACQ SERVS", "7615 DISALLE BOULEVARD"]
    assert (ship_to.city, ship_to.state, ship_to.postal_code) == ("FORT WAYNE", "IN", "46825")
    assert [line.line_number for line in ack.lines] == ["1", "2", "3", "4"]
    first, second = ack.lines[0], ack.lines[1]
    assert (first.quantity, first.unit, first.unit_price) == (3, "UN", Decimal("4.5"))
    assert first.product_ids[0].value == "9780446360265"
    assert first.product_id_for("B6") == "NEUFELDT, VICTORIA"
    assert first.description == "DIC WEBSTERS NEW WORLD"
    [accepted] = first.acknowledgements
    assert (accepted.status, accepted.quantity, accepted.unit) == (
        LineAcknowledgementStatus.ACCEPTED,
        3,
        "UN",
    )
    [rejected] = second.acknowledgements
    assert rejected.status is LineAcknowledgementStatus.REJECTED
    assert rejected.quantity == 0
    assert (rejected.reason_code_agency, rejected.reason_code_source, rejected.reason_code) == (
        "BI",
        "ACK",
        "CW",
    )
    assert ack.lines[2].unit_price == 0


def test_amazon_855_connectivity_test(corpus):
    ack = _one(corpus, "amazon_retail_855_connectivity_test__heinrichb_avc-importer__main.go.edi")
    assert ack.acknowledgement_type is AcknowledgementType.WITH_DETAIL_AND_CHANGE
    assert (ack.purchase_order_number, ack.purchase_order_date) == ("CONNECTIVITYTEST", dt.date(2025, 5, 8))
    [line] = ack.lines
    assert (line.quantity, line.unit_price, line.product_id_qualifier, line.product_id) == (
        23,
        Decimal("23.45"),
        "EN",
        "1234567891234",
    )
    assert [(a.status, a.quantity) for a in line.acknowledgements] == [
        (LineAcknowledgementStatus.ACCEPTED, 23)
    ]
    assert ack.envelope.interchange_version == "00400"


# --- 856 ---------------------------------------------------------------------------------


def test_apparel_856_shipment_order_pack_item(corpus):
    notice = _one(corpus, "generic_856_4010VICS_SOPI_MANGM_apparel__X12Parser__FromGregarican.txt")
    assert isinstance(notice, ShipNotice)
    assert (notice.shipment_id, notice.shipment_date, notice.shipment_time) == (
        "521649209219",
        dt.date(2012, 5, 15),
        dt.time(8, 51),
    )
    assert notice.hierarchy_structure == "0001"
    assert notice.measurements.packaging_code == "CTN25"
    assert (notice.measurements.weight, notice.measurements.weight_unit) == (Decimal(1), "LB")
    assert (notice.carrier.scac, notice.carrier.transportation_method, notice.carrier.routing) == (
        "FED2",
        "M",
        "FEDX 2 DAY",
    )
    assert notice.bill_of_lading == "521649209219"
    assert notice.carrier_reference == "521649209219"
    assert notice.shipped_date == dt.date(2012, 5, 10)
    assert [(d.qualifier, d.date) for d in notice.other_dates] == [("067", dt.date(2012, 5, 10))]
    assert notice.ship_from.name == "DAVID YURMAN ENTERPR"
    [order] = notice.orders
    assert order.purchase_order_number == "SO/VINCE1"
    assert [(r.qualifier, r.value) for r in order.references] == [("DP", "12345"), ("IV", "S1429672")]
    assert [p.role for p in order.parties] == ["BY"]
    [pack] = order.packs
    assert pack.sscc == "007121610006156802"  # MAN*GM 00007121610006156802 without the AI
    [item] = pack.items
    assert (item.product_id_qualifier, item.product_id) == ("UP", "883932284904")
    assert (item.shipped_quantity, item.unit, item.ordered_quantity) == (1, "EA", 1)
    assert item.description == "16X12MM SMALL WHEATON"
    assert notice.envelope.version == "004010VICS"


def test_856_shipment_order_item_without_packs(corpus):
    notice = _one(corpus, "generic_856_SOI__X12Parser__edi1Source.txt")
    [order] = notice.orders
    assert order.purchase_order_number == "99999817"
    assert order.purchase_order_date == dt.date(2011, 12, 5)
    assert [(i.line_number, i.shipped_quantity, i.product_id_for("UP")) for i in order.items] == [
        ("1", 24, "999999310145"),
        ("2", 6, "999999311746"),
    ]
    assert notice.shipment_time == dt.time(14, 24, 28)


def test_856_with_an_impossible_date_names_segment_and_element(corpus):
    path = corpus / "generic_856_4010_SOPI_MANGM__edifabric_X12.NET__ShipNotice.txt"
    if not path.exists():
        pytest.skip("edifabric 856 not in the corpus")
    with pytest.raises(DocumentError) as info:
        parse_file(path)
    error = info.value
    assert (error.segment_id, error.segment_position, error.element_position) == ("DTM", 10, 2)
    assert "'200'" in str(error)


def test_856_with_a_wrong_sscc_check_digit_is_rejected(corpus):
    path = corpus / "generic_856_4010_SOPI_MANGM__edifabric_X12.NET__ShipNotice.txt"
    if not path.exists():
        pytest.skip("edifabric 856 not in the corpus")
    # Mend the date so that parsing reaches the cartons: MAN*GM 00000010012345614785 has
    # check digit 5 where GS1 mod 10 gives 8.
    data = path.read_bytes().replace(b"DTM*011*200~", b"DTM*011*20051015~")
    with pytest.raises(DocumentError) as info:
        parse_file(data)
    error = info.value
    assert (error.segment_id, error.segment_position, error.element_position) == ("MAN", 21, 2)
    assert "check digit" in str(error)


def test_856_with_items_straight_under_the_shipment_is_explained(corpus):
    path = corpus / "generic_856_unicode_terminator__X12Parser__Example3.txt"
    if not path.exists():
        pytest.skip("856 example 3 not in the corpus")
    with pytest.raises(DocumentError, match="HL level I under S"):
        parse_file(path)


# --- 810 ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "invoice_number", "lines", "total"),
    [
        ("generic_810_4010__edifabric_X12.NET__Invoice.txt", "SG427254", 1, Decimal("144.00")),
        ("generic_810_4010_retail__X12Parser__Example5_Walmart.txt", "6463367", 1, Decimal("3875.30")),
        (
            "amazon_DF_810__Stedi_starter-kit__amazon-jedi-810_README.edi",
            "SINV00070492",
            2,
            Decimal("199.34"),
        ),
        ("generic_810_caret_separator__python-edi__test_edi.txt", "12973821", 124, Decimal("24669.39")),
    ],
)
def test_810_totals_in_cents_agree_with_the_lines(corpus, name, invoice_number, lines, total):
    invoice = _one(corpus, name)
    assert isinstance(invoice, Invoice)
    assert invoice.invoice_number == invoice_number
    assert len(invoice.lines) == lines
    assert invoice.total_amount == total
    # Lines x price, plus charges, minus allowances: the file's own TDS01.
    assert invoice.expected_total() == total


def test_walmart_810_details(corpus):
    invoice = _one(corpus, "generic_810_4010_retail__X12Parser__Example5_Walmart.txt")
    assert (invoice.invoice_date, invoice.purchase_order_number, invoice.purchase_order_date) == (
        dt.date(2005, 2, 5),
        "3376103367",
        dt.date(2005, 2, 2),
    )
    [line] = invoice.lines
    assert line.line_number is None
    assert (line.quantity, line.unit, line.unit_price) == (1080, "EA", Decimal("3.61"))
    assert [p.qualifier for p in line.product_ids] == ["IN", "UP", "UK"]
    assert line.product_id_for("UK") == "00221089552284"  # trailing blank in the file is padding
    [allowance] = line.charges
    assert (allowance.indicator, allowance.code, allowance.amount, allowance.handling_code) == (
        "A",
        "I410",
        Decimal("23.50"),
        "02",
    )
    assert (invoice.terms.type_code, invoice.terms.net_days) == ("05", 45)
    assert [(d.qualifier, d.date) for d in invoice.dates] == [("011", dt.date(2005, 2, 5))]
    ship_to = next(p for p in invoice.parties if p.role == "ST")
    assert (ship_to.id_qualifier, ship_to.id_code, ship_to.postal_code) == ("UL", "0078742000992", "72712")


def test_amazon_df_810_terms_and_remit_to(corpus):
    invoice = _one(corpus, "amazon_DF_810__Stedi_starter-kit__amazon-jedi-810_README.edi")
    assert invoice.currency == "USD"
    assert invoice.transaction_type == "CI"
    assert (invoice.terms.type_code, invoice.terms.net_days, invoice.terms.description) == (
        "01",
        30,
        "NET 30",
    )
    assert invoice.remit_to.address_lines == ["705 5TH AVE S"]
    assert (invoice.remit_to.city, invoice.remit_to.postal_code) == ("SEATTLE", "981044425")


# --- 846 ---------------------------------------------------------------------------------


def test_846_inventory_with_quantities_and_units(corpus):
    advice = _one(corpus, "generic_846__X12Parser__Example1.txt")
    assert isinstance(advice, InventoryAdvice)
    assert (advice.report_type, advice.report_number, advice.report_date, advice.action_code) == (
        "CM",
        "10353",
        dt.date(2004, 8, 11),
        "11",
    )
    [when] = advice.dates
    assert (when.qualifier, when.date, when.time, when.time_code) == (
        "007",
        dt.date(2004, 8, 11),
        dt.time(23),
        "GM",
    )
    assert [p.role for p in advice.parties] == ["ST", "SE"]
    [item] = advice.items
    assert (item.product_id_qualifier, item.product_id) == ("BP", "46L5055")
    assert [(q.qualifier, q.quantity, q.unit) for q in item.quantities] == [
        ("34", 5250, "EA"),
        ("QH", 100, "EA"),
        ("QB", 50, "EA"),
        ("87", 75, "EA"),
    ]
    assert item.available_quantity is None  # no QTY*33 in this file


# --- 820 ---------------------------------------------------------------------------------


def test_820_with_entity_level_adjustments(corpus):
    remittance = _one(corpus, "generic_820_retail__X12Parser__Example4_Safeway.txt")
    assert isinstance(remittance, RemittanceAdvice)
    assert (remittance.payment_amount, remittance.payment_method, remittance.payment_format) == (
        Decimal("416093.15"),
        "ACH",
        "CTX",
    )
    assert (remittance.payment_date, remittance.trace_number) == (dt.date(2005, 10, 20), "4311000190")
    assert [p.role for p in remittance.parties] == ["PR", "PE"]
    assert remittance.parties[1].id_code == "2397"
    assert [e.sequence for e in remittance.entries] == [1, 2, 3, 4, 5]
    first = remittance.entries[0]
    assert [(a.amount, a.reason_code, a.reference_number) for a in first.adjustments] == [
        (Decimal("-13676.81"), "ZZ", "WSO_144324_05"),
        (Decimal("-18200"), "ZZ", "WSO_144343_05"),
    ]
    assert first.adjustments[0].dates[0].date == dt.date(2005, 9, 27)
    [item] = first.items
    assert (item.invoice_number, item.amount_paid, item.invoice_amount, item.discount_amount) == (
        "6092392",
        Decimal("20430.34"),
        Decimal("20851.11"),
        Decimal("420.77"),
    )
    assert item.invoice_amount - item.discount_amount == item.amount_paid
    assert [(r.qualifier, r.value) for r in item.references] == [("PO", "999999999")]
    assert [i.reference_number for i in remittance.items()] == [
        "6092392",
        "6093694",
        "6093695",
        "6093696",
        "P7340039-25PB",
        "6093692",
    ]


def test_820_with_backslash_terminator(corpus):
    remittance = _one(corpus, "generic_820_BPR_ENT_RMR__X12Parser__Example6.txt")
    assert (remittance.payment_amount, remittance.payment_date) == (Decimal("66.55"), dt.date(2005, 4, 13))
    assert [(r.qualifier, r.value, r.description) for r in remittance.references] == [
        ("AA", "EDI6", "0550065")
    ]
    assert [(i.reference_qualifier, i.amount_paid) for i in remittance.items()] == [
        ("AP", Decimal("36.25")),
        ("AP", Decimal("52.35")),
    ]


def test_820_template_with_placeholder_amounts_is_a_document_error(corpus):
    path = corpus / "generic_820_retail_template__X12Parser__Example3_HomeDepot.txt"
    if not path.exists():
        pytest.skip("template 820 not in the corpus")
    with pytest.raises(DocumentError) as info:
        parse_file(path)
    assert (info.value.segment_id, info.value.element_position) == ("BPR", 2)


# --- 997 ---------------------------------------------------------------------------------


def test_997_with_set_segment_and_element_errors(corpus):
    fa = _one(corpus, "generic_997_4010__edifabric_X12.NET__997.txt")
    assert isinstance(fa, FunctionalAcknowledgement)
    assert (fa.acknowledged_functional_id, fa.acknowledged_group_control_number) == ("IN", "000000001")
    assert [(s.set_id, s.status) for s in fa.sets] == [("810", "A"), ("810", "R")]
    rejected = fa.sets[1]
    assert rejected.error_codes == ["5"]
    [segment] = rejected.segment_errors
    assert (segment.segment_id, segment.segment_position, segment.code) == ("TXI", 54, "8")
    [element] = segment.element_errors
    assert (element.element_position, element.element_reference, element.code, element.bad_value) == (
        1,
        "963",
        "7",
        "C1",
    )
    assert (fa.group_status, fa.sets_included, fa.sets_received, fa.sets_accepted) == ("R", 2, 2, 1)


# --- file level --------------------------------------------------------------------------


def test_unsupported_set_raises_or_is_skipped(corpus):
    path = corpus / "generic_860__X12Parser__Example1.txt"
    if not path.exists():
        pytest.skip("860 not in the corpus")
    with pytest.raises(DocumentError, match="no document model for transaction set '860'"):
        parse_file(path)
    assert parse_file(path, skip_unsupported=True) == []


def test_not_x12_is_reported_by_the_reader():
    with pytest.raises(NotX12Error):
        parse_file(b"this is not an interchange")


AMAZON_850 = (
    "ISA*00*          *00*          *ZZ*AMAZON         *ZZ*VENDOR         *080901*0201*U*00401*000012911*0*T*>~"
    "GS*PO*AMAZON*VENDOR*20080901*0201*12911*X*004010~"
    "ST*850*0001~BEG*00*NE*L8266355**20080901~REF*CR*AMZN_VENDORCODE~CSH*N~DTM*064*20080903~"
    "DTM*063*20080909~N1*ST**15*1794205~PO1*1*8*EA*39*PE*UP*028877454078~PO4*12~CTT*1*8~SE*11*0001~"
    "GE*1*12911~IEA*1*000012911~"
)


def _set_of(text: str) -> tuple:
    [interchange] = read_interchanges(text.encode())
    [group] = interchange.groups
    [transaction] = group.transactions
    return interchange, group, transaction


def test_missing_mandatory_element_is_a_document_error_not_an_index_error():
    text = AMAZON_850.replace("BEG*00*NE*L8266355**20080901~", "BEG*00*NE~")
    interchange, group, transaction = _set_of(text)
    with pytest.raises(DocumentError) as info:
        parse_transaction(transaction, interchange, group)
    assert info.value.segment_id == "BEG"
    assert info.value.element_position in (3, 5)


def test_po4_case_pack_is_read():
    interchange, group, transaction = _set_of(AMAZON_850)
    po = parse_transaction(transaction, interchange, group)
    assert po.lines[0].case_pack_qty == 12


def test_document_error_names_set_segment_and_element():
    text = AMAZON_850.replace("PO1*1*8*EA", "PO1*1*-8*EA")
    interchange, group, transaction = _set_of(text)
    with pytest.raises(DocumentError) as info:
        parse_transaction(transaction, interchange, group)
    message = str(info.value)
    assert message.startswith("850 set 0001, segment PO1 at position 8, element PO102:")
    assert "greater than or equal to 0" in message


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_damaged_segments_give_a_document_or_a_document_error(data):
    """Dropping or blanking elements anywhere never crashes the parser with anything else."""
    interchange, group, transaction = _set_of(AMAZON_850)
    segments = [list(s) for s in transaction.segments]
    for _ in range(data.draw(st.integers(1, 4))):
        index = data.draw(st.integers(1, len(segments) - 2))  # keep ST and SE
        segment = segments[index]
        if len(segment) > 1:
            position = data.draw(st.integers(1, len(segment) - 1))
            if data.draw(st.booleans()):
                del segment[position:]
            else:
                segment[position] = data.draw(st.sampled_from(["", " ", "X", "-1", "99999999", "1.5"]))
    damaged = TransactionSet(transaction.set_id, transaction.control_number, segments)
    try:
        document = parse_transaction(damaged, interchange, group)
    except DocumentError as exc:
        assert exc.set_id == "850"
    else:
        assert isinstance(document, PurchaseOrder)
