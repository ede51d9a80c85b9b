"""model -> X12 -> model is the identity, for generated documents of all seven types.

The strategies draw realistic values (Amazon's codes, real calendar dates, money with
cents, valid SSCCs); the property runs the whole path: build, envelope writer, streaming
reader, parse.
"""

from __future__ import annotations

import datetime as dt
import string
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from amazon_bluecherry.edi import documents as d
from amazon_bluecherry.edi.build import write_documents
from amazon_bluecherry.edi.envelope import Delimiters
from amazon_bluecherry.edi.gs1 import make_sscc
from amazon_bluecherry.edi.parse import parse_file
from amazon_bluecherry.edi.writer import InMemoryControlNumbers, Party

PROPERTY = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# Whole files of several documents: fewer examples, each one is several documents' worth.
FILE_PROPERTY = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# --- building blocks ---------------------------------------------------------------------

TEXT = (
    st.text(string.ascii_uppercase + string.digits + " -.,/&#'()", min_size=2, max_size=30)
    .map(str.strip)
    .filter(lambda t: len(t) >= 2)
)
IDENT = st.text(string.ascii_uppercase + string.digits, min_size=2, max_size=15)
DIGITS = st.text(string.digits, min_size=1, max_size=9)
DATES = st.dates(dt.date(2000, 1, 1), dt.date(2099, 12, 31))
TIMES = st.builds(dt.time, st.integers(0, 23), st.integers(0, 59), st.sampled_from([0, 0, 0, 1, 30, 59]))
MONEY = st.decimals(min_value=0, max_value=Decimal("999999.99"), places=2)
SIGNED_MONEY = st.decimals(min_value=Decimal("-999999.99"), max_value=Decimal("999999.99"), places=2)
POSITIVE = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("99999.99"), places=2)
PRICE = st.decimals(min_value=0, max_value=Decimal("9999.9999"), places=4)
QUANTITY = st.integers(1, 99_999)
UNIT = st.sampled_from(["EA", "CA"])
SSCC = st.builds(
    make_sscc, st.integers(0, 9), st.text(string.digits, min_size=7, max_size=7), st.integers(0, 999_999_999)
)


def opt(strategy):
    return st.none() | strategy


def product_ids():
    qualifiers = st.sampled_from([q.value for q in d.ProductIdQualifier])
    return st.lists(st.builds(d.ProductId, qualifier=qualifiers, value=IDENT), min_size=1, max_size=4)


@st.composite
def references(draw, qualifiers):
    value = draw(opt(IDENT))
    description = draw(TEXT) if value is None else draw(opt(TEXT))
    return d.Reference(qualifier=draw(st.sampled_from(qualifiers)), value=value, description=description)


@st.composite
def date_references(draw, qualifiers):
    time = draw(opt(TIMES))
    return d.DateReference(
        qualifier=draw(st.sampled_from(qualifiers)),
        date=draw(DATES),
        time=time,
        time_code=draw(opt(st.sampled_from(["LT", "GM", "ET", "PT"]))) if time else None,  # C0403
    )


@st.composite
def parties(draw, roles):
    has_id = draw(st.booleans())
    name = draw(TEXT) if not has_id or draw(st.booleans()) else None
    city = draw(opt(TEXT))
    return d.PartyIdentification(
        role=draw(st.sampled_from(roles)),
        name=name,
        id_qualifier=draw(st.sampled_from(["15", "92", "ZZ"])) if has_id else None,
        id_code=draw(IDENT) if has_id else None,
        additional_names=draw(st.lists(TEXT, max_size=2)),
        address_lines=draw(st.lists(TEXT, max_size=4)),
        city=city,
        state=draw(opt(st.sampled_from(["WA", "NJ", "CA", "KY"]))) if city else None,
        postal_code=draw(opt(st.text(string.digits, min_size=5, max_size=9))) if city else None,
        country=draw(opt(st.sampled_from(["US", "CA", "GB"]))) if city else None,
    )


def party_lists(roles):
    return st.lists(parties(roles), max_size=3)


# --- documents ---------------------------------------------------------------------------


@st.composite
def purchase_orders(draw):
    start = draw(opt(DATES))
    end = draw(opt(st.dates(start, dt.date(2099, 12, 31)) if start else DATES))
    lines = st.builds(
        d.PurchaseOrderLine,
        line_number=opt(DIGITS),
        quantity=QUANTITY,
        unit=UNIT,
        unit_price=opt(PRICE),
        price_basis=opt(st.sampled_from(["PE", "RE"])),
        product_ids=product_ids(),
        description=opt(TEXT),
        case_pack_qty=opt(st.integers(1, 144)),
        pack_size=opt(POSITIVE),
        pack_unit=opt(UNIT),
    )
    located = draw(st.booleans())
    freight = st.builds(
        d.FreightTerms,
        payment_method=st.sampled_from(["BP", "CC", "DF", "FO", "PP", "PS"]),
        location_qualifier=st.sampled_from(["OR", "DE", "ZZ"])
        if located
        else opt(st.sampled_from(["OR", "DE"])),
        location=TEXT if located else st.none(),
        terms_qualifier=opt(st.just("01")) if located else st.none(),  # C0302, C0403
        terms_code=opt(st.sampled_from(["FCA", "FOB", "EXW", "DDP"])),
    )
    return d.PurchaseOrder(
        purpose=draw(st.sampled_from(list(d.TransactionPurpose))),
        order_type=draw(st.sampled_from(list(d.PurchaseOrderType))),
        purchase_order_number=draw(IDENT),
        release_number=draw(opt(IDENT)),
        order_date=draw(DATES),
        vendor_code=draw(opt(IDENT)),
        deal_code=draw(opt(IDENT)),
        other_references=draw(st.lists(references(["DP", "IA", "PS", "ZZ"]), max_size=2)),
        freight_terms=draw(opt(freight)),
        backorder_allowed=draw(opt(st.booleans())),
        delivery_window_start=start,
        delivery_window_end=end,
        other_dates=draw(st.lists(date_references(["002", "010", "037", "038"]), max_size=2)),
        parties=draw(party_lists(["ST", "BT", "BY"])),
        lines=draw(st.lists(lines, min_size=1, max_size=5)),
    )


@st.composite
def line_acknowledgements(draw):
    dated = draw(st.booleans())
    return d.LineAcknowledgement(
        status=draw(st.sampled_from(list(d.LineAcknowledgementStatus))),
        quantity=draw(st.integers(0, 99_999)),
        unit=draw(UNIT),
        date_qualifier=draw(st.sampled_from(["067", "068"])) if dated else None,
        date=draw(DATES) if dated else None,
        reason_code_agency=draw(opt(st.just("ZZ"))),
        reason_code_source=draw(opt(IDENT)),
        reason_code=draw(opt(IDENT)),
    )


def acknowledgements():
    lines = st.builds(
        d.AcknowledgementLine,
        line_number=opt(DIGITS),
        quantity=QUANTITY,
        unit=UNIT,
        unit_price=opt(PRICE),
        price_basis=opt(st.sampled_from(["PE", "RE"])),
        product_ids=product_ids(),
        description=opt(TEXT),
        acknowledgements=st.lists(line_acknowledgements(), min_size=1, max_size=3),
    )
    return st.builds(
        d.PurchaseOrderAcknowledgement,
        purpose=st.sampled_from(list(d.TransactionPurpose)),
        acknowledgement_type=st.sampled_from(list(d.AcknowledgementType)),
        purchase_order_number=IDENT,
        purchase_order_date=DATES,
        seller_order_number=opt(IDENT),
        acknowledgement_date=opt(DATES),
        currency=opt(st.sampled_from(["USD", "CAD", "EUR"])),
        references=st.lists(references(["ZZ", "VR", "IA"]), max_size=2),
        parties=party_lists(["ST", "SU", "VN"]),
        lines=st.lists(lines, min_size=1, max_size=4),
    )


@st.composite
def shipment_items(draw):
    ordered = draw(st.booleans())
    return d.ShipmentItem(
        line_number=draw(opt(DIGITS)),
        product_ids=draw(product_ids()),
        shipped_quantity=draw(QUANTITY),
        unit=draw(UNIT),
        ordered_quantity=draw(QUANTITY) if ordered else None,  # P0506
        ordered_unit=draw(UNIT) if ordered else None,
        description=draw(opt(TEXT)),
    )


MARKS = st.lists(st.builds(d.Mark, qualifier=st.sampled_from(["CP", "ZZ", "UC"]), value=IDENT), max_size=1)


def packs():
    return st.builds(
        d.ShipmentPack, sscc=opt(SSCC), other_marks=MARKS, items=st.lists(shipment_items(), max_size=2)
    )


def shipment_orders():
    tares = st.builds(
        d.ShipmentTare,
        sscc=opt(SSCC),
        other_marks=MARKS,
        packs=st.lists(packs(), max_size=2),
        items=st.lists(shipment_items(), max_size=1),
    )
    return st.builds(
        d.ShipmentOrder,
        purchase_order_number=IDENT,
        purchase_order_date=opt(DATES),
        references=st.lists(references(["IV", "DP", "MR", "IA"]), max_size=2),
        parties=party_lists(["BY", "Z7"]),
        tares=st.lists(tares, max_size=1),
        packs=st.lists(packs(), max_size=3),
        items=st.lists(shipment_items(), max_size=2),
    )


@st.composite
def ship_notices(draw):
    shipped = draw(opt(DATES))
    has_carrier_id = draw(st.booleans())
    carrier = d.CarrierDetails(
        routing_sequence=draw(opt(st.sampled_from(["B", "O"]))),
        id_qualifier="2" if has_carrier_id else None,
        scac=draw(st.sampled_from(["UPSN", "FDEG", "ABFS", "ODFL"])) if has_carrier_id else None,
        transportation_method=draw(opt(st.sampled_from(["M", "U", "A", "L"]))),
        routing=draw(opt(TEXT)),
    )
    weighed, measured, packaged = draw(st.booleans()), draw(st.booleans()), draw(st.booleans())
    measurements = st.builds(
        d.ShipmentMeasurements,
        packaging_code=st.sampled_from(["CTN25", "PLT94", "CTN"]) if packaged else st.none(),
        lading_quantity=st.integers(1, 999) if packaged else opt(st.integers(1, 999)),  # C0102
        weight_qualifier=opt(st.just("G")) if weighed else st.none(),  # C0607
        weight=POSITIVE if weighed else st.none(),  # P0708
        weight_unit=st.sampled_from(["LB", "KG"]) if weighed else st.none(),
        volume=POSITIVE if measured else st.none(),  # P0910
        volume_unit=st.sampled_from(["CF", "CR"]) if measured else st.none(),
    )
    return d.ShipNotice(
        purpose=draw(st.sampled_from([d.TransactionPurpose.ORIGINAL, d.TransactionPurpose.REPLACE])),
        shipment_id=draw(IDENT),
        shipment_date=draw(DATES),
        shipment_time=draw(TIMES),
        hierarchy_structure=draw(opt(st.sampled_from(["0001", "0002", "0004"]))),
        measurements=draw(opt(measurements)),
        carrier=draw(opt(st.just(carrier))),
        bill_of_lading=draw(opt(IDENT)),
        carrier_reference=draw(opt(IDENT)),
        other_references=draw(st.lists(references(["SN", "AO", "ZZ"]), max_size=2)),
        shipped_date=shipped,
        shipped_time=draw(opt(TIMES)) if shipped else None,
        estimated_delivery_date=draw(opt(DATES)),
        other_dates=draw(st.lists(date_references(["067", "069"]), max_size=1)),
        parties=draw(party_lists(["ST", "SF"])),
        orders=draw(st.lists(shipment_orders(), min_size=1, max_size=3)),
    )


@st.composite
def charges(draw):
    by_percent = draw(st.booleans())
    return d.ChargeAllowance(
        indicator=draw(st.sampled_from([d.ChargeIndicator.ALLOWANCE, d.ChargeIndicator.CHARGE])),
        code=draw(st.sampled_from(["C310", "D240", "F050", "I410"])),
        amount=draw(opt(MONEY)),
        percent_qualifier=draw(st.sampled_from(["1", "3"])) if by_percent else None,  # P0607
        percent=draw(st.decimals(min_value=0, max_value=100, places=2)) if by_percent else None,
        handling_code=draw(opt(st.sampled_from(["02", "06"]))),
        description=draw(opt(TEXT)),
    )


def invoices():
    lines = st.builds(
        d.InvoiceLine,
        line_number=opt(DIGITS),
        quantity=QUANTITY,
        unit=UNIT,
        unit_price=PRICE,
        price_basis=opt(st.sampled_from(["PE", "RE"])),
        product_ids=product_ids(),
        description=opt(TEXT),
        charges=st.lists(charges(), max_size=2),
    )
    terms = st.builds(
        d.PaymentTerms,
        type_code=opt(st.sampled_from(["01", "02", "03", "05", "09", "23"])),
        basis_date_code=opt(st.sampled_from(["3", "15"])),
        discount_percent=opt(st.decimals(min_value=0, max_value=10, places=2)),
        discount_due_date=opt(DATES),
        discount_days=opt(st.integers(0, 90)),
        net_due_date=opt(DATES),
        net_days=opt(st.integers(0, 120)),
        description=opt(TEXT),
    )
    taxes = st.builds(
        d.Tax,
        tax_type=st.sampled_from(["ST", "GS", "VA"]),
        amount=MONEY,
        percent=opt(st.decimals(min_value=0, max_value=30, places=3)),
    )
    return st.builds(
        d.Invoice,
        invoice_date=DATES,
        invoice_number=IDENT,
        purchase_order_date=opt(DATES),
        purchase_order_number=opt(IDENT),
        transaction_type=opt(st.sampled_from(["CR", "DI"])),
        currency=opt(st.sampled_from(["USD", "CAD"])),
        references=st.lists(references(["IA", "VR", "BM"]), max_size=2),
        parties=party_lists(["BT", "RI", "ST", "SF"]),
        terms=opt(terms),
        dates=st.lists(date_references(["011", "003"]), max_size=2),
        lines=st.lists(lines, min_size=1, max_size=5),
        total_amount=SIGNED_MONEY,
        taxes=st.lists(taxes, max_size=2),
        charges=st.lists(charges(), max_size=3),
    )


def inventory_advices():
    items = st.builds(
        d.InventoryItem,
        line_number=opt(DIGITS),
        product_ids=product_ids(),
        quantities=st.lists(
            st.builds(
                d.InventoryQuantity,
                qualifier=st.sampled_from(["33", "17", "02"]),
                quantity=st.integers(0, 999_999),
                unit=opt(UNIT),
            ),
            min_size=1,
            max_size=3,
        ),
    )
    return st.builds(
        d.InventoryAdvice,
        purpose=st.sampled_from(list(d.TransactionPurpose)),
        report_type=st.sampled_from(["DD", "MM", "SI"]),
        report_number=IDENT,
        report_date=DATES,
        report_time=opt(TIMES),
        action_code=opt(st.sampled_from(["2", "11"])),
        currency=opt(st.just("USD")),
        dates=st.lists(date_references(["007", "010"]), max_size=2),
        parties=party_lists(["SU", "ST", "SE"]),
        items=st.lists(items, min_size=1, max_size=5),
    )


@st.composite
def adjustments(draw, with_dates: bool):
    referenced = draw(st.booleans())
    return d.Adjustment(
        amount=draw(SIGNED_MONEY),
        reason_code=draw(st.sampled_from(["01", "04", "CS", "ZZ", "H1"])),
        reference_qualifier=draw(st.sampled_from(["CM", "DB", "IV"])) if referenced else None,  # P0304
        reference_number=draw(IDENT) if referenced else None,
        references=draw(st.lists(references(["CM", "UQ", "DB"]), max_size=2)),
        # The guide's RMR-level ADX loop has no DTM.
        dates=draw(st.lists(date_references(["003", "097"]), max_size=1)) if with_dates else [],
    )


def remittance_advices():
    items = st.builds(
        d.RemittanceItem,
        reference_qualifier=st.sampled_from(["IV", "CM", "AP", "OS"]),
        reference_number=IDENT,
        payment_action=opt(st.sampled_from(["PI", "PO", "PA"])),
        amount_paid=opt(SIGNED_MONEY),
        invoice_amount=opt(SIGNED_MONEY),
        discount_amount=opt(MONEY),
        adjustment_reason=opt(st.sampled_from(["CM", "PT"])),
        adjustment_amount=opt(SIGNED_MONEY),
        references=st.lists(references(["PO", "IV", "BM"]), max_size=2),
        dates=st.lists(date_references(["003", "055"]), max_size=1),
        adjustments=st.lists(adjustments(with_dates=False), max_size=2),
    )
    entity = st.none() | st.tuples(st.just("PR"), st.sampled_from(["9", "92"]), IDENT)  # P020304
    entries = st.builds(
        lambda sequence, who, adjustments, items: d.RemittanceEntry(
            sequence=sequence,
            entity_role=who[0] if who else None,
            entity_id_qualifier=who[1] if who else None,
            entity_id=who[2] if who else None,
            adjustments=adjustments,
            items=items,
        ),
        st.integers(1, 9999),
        entity,
        st.lists(adjustments(with_dates=True), max_size=2),
        st.lists(items, max_size=4),
    )
    return st.builds(
        d.RemittanceAdvice,
        transaction_handling=st.sampled_from(["C", "I"]),
        payment_amount=MONEY,
        credit_debit=st.sampled_from(["C", "D"]),
        payment_method=st.sampled_from(["ACH", "CHK", "FWT", "NON"]),
        payment_format=opt(st.sampled_from(["CTX", "CCP", "PBC"])),
        payment_date=opt(DATES),
        trace_number=IDENT,
        currency=opt(st.just("USD")),
        references=st.lists(references(["VR", "ZZ"]), max_size=2),
        dates=st.lists(date_references(["097", "009"]), max_size=2),
        parties=party_lists(["PR", "PE"]),
        entries=st.lists(entries, max_size=4),
    )


@st.composite
def functional_acknowledgements(draw):
    element_errors = st.builds(
        d.ElementError,
        element_position=st.integers(1, 99),
        component_position=opt(st.integers(1, 9)),
        element_reference=opt(st.text(string.digits, min_size=1, max_size=4)),
        code=st.sampled_from([str(n) for n in range(1, 11)]),
        bad_value=opt(TEXT),
    )
    segment_errors = st.builds(
        d.SegmentError,
        segment_id=st.sampled_from(["BEG", "PO1", "N1", "DTM", "CTT"]),
        segment_position=st.integers(1, 99_999),
        loop_id=opt(st.sampled_from(["PO1", "N1"])),
        code=opt(st.sampled_from([str(n) for n in range(1, 9)])),
        element_errors=st.lists(element_errors, max_size=3),
    )
    sets = st.builds(
        d.SetAcknowledgement,
        set_id=st.sampled_from(["850", "855", "856", "810"]),
        control_number=st.text(string.digits, min_size=4, max_size=9),
        implementation_reference=opt(st.just("005010")),
        segment_errors=st.lists(segment_errors, max_size=2),
        status=st.sampled_from(list(d.SetAcknowledgementCode)),
        error_codes=st.lists(st.sampled_from([str(n) for n in range(1, 8)] + ["23"]), max_size=5),
    )
    received = draw(st.integers(0, 50))
    return d.FunctionalAcknowledgement(
        acknowledged_functional_id=draw(st.sampled_from(["PO", "RA", "PR", "SH", "IN"])),
        acknowledged_group_control_number=draw(DIGITS),
        acknowledged_version=draw(opt(st.just("005010"))),
        sets=draw(st.lists(sets, max_size=3)),
        group_status=draw(st.sampled_from(list(d.GroupAcknowledgementCode))),
        sets_included=draw(st.integers(0, 50)),
        sets_received=received,
        sets_accepted=draw(st.integers(0, received)),
        group_error_codes=draw(st.lists(st.sampled_from(["1", "2", "5", "24"]), max_size=5)),
    )


ANY_DOCUMENT = st.one_of(
    purchase_orders(),
    acknowledgements(),
    ship_notices(),
    invoices(),
    inventory_advices(),
    remittance_advices(),
    functional_acknowledgements(),
)

DELIMITERS = st.sampled_from(
    [
        Delimiters("*", ">", "~"),
        Delimiters("|", ":", "\n"),
        Delimiters("^", "\\", "\u2026"),  # caret elements, multi-byte terminator
    ]
)

# --- properties --------------------------------------------------------------------------


def _without_envelope(document) -> dict:
    return document.model_dump(exclude={"envelope"})


def _round_trip(document, delimiters=None):
    data = write_documents(
        [document],
        sender=Party(id="ACMEVENDOR"),
        receiver=Party(id="AMAZON"),
        control_numbers=InMemoryControlNumbers(start={"ISA": 41, "GS": 7, "ST": 99}),
        delimiters=delimiters,
        when=dt.datetime(2025, 3, 4, 9, 5),
    )
    [back] = parse_file(data)
    assert type(back) is type(document)
    assert _without_envelope(back) == _without_envelope(document)
    env = back.envelope
    assert (env.sender_id, env.receiver_id) == ("ACMEVENDOR", "AMAZON")
    assert (env.interchange_control_number, env.group_control_number, env.set_control_number) == (
        "000000042",
        "8",
        "0100",
    )
    assert env.functional_id == document.functional_id
    return back


@PROPERTY
@given(purchase_orders())
def test_purchase_order_round_trip(document):
    _round_trip(document)


@PROPERTY
@given(acknowledgements())
def test_acknowledgement_round_trip(document):
    _round_trip(document)


@PROPERTY
@given(ship_notices())
def test_ship_notice_round_trip(document):
    back = _round_trip(document)
    assert back.envelope.version == "005010"
    assert back.envelope.interchange_version == "00501"


@PROPERTY
@given(invoices())
def test_invoice_round_trip(document):
    _round_trip(document)


@PROPERTY
@given(inventory_advices())
def test_inventory_advice_round_trip(document):
    _round_trip(document)


@PROPERTY
@given(remittance_advices())
def test_remittance_advice_round_trip(document):
    _round_trip(document)


@PROPERTY
@given(functional_acknowledgements())
def test_functional_acknowledgement_round_trip(document):
    _round_trip(document)


@PROPERTY
@given(ANY_DOCUMENT, DELIMITERS)
def test_round_trip_with_other_delimiters(document, delimiters):
    _round_trip(document, delimiters)


@FILE_PROPERTY
@given(st.lists(ANY_DOCUMENT, min_size=1, max_size=5))
def test_many_documents_in_one_file_come_back_grouped_in_order(documents):
    data = write_documents(
        documents, sender="ACMEVENDOR", receiver="AMAZON", control_numbers=InMemoryControlNumbers()
    )
    back = parse_file(data)
    # Grouped by functional id in order of first appearance, input order inside a group.
    order = list(dict.fromkeys(doc.functional_id for doc in documents))
    expected = sorted(documents, key=lambda doc: order.index(doc.functional_id))
    assert [_without_envelope(b) for b in back] == [_without_envelope(e) for e in expected]
    assert len({b.envelope.set_control_number for b in back}) == len(back)


@PROPERTY
@given(ANY_DOCUMENT)
def test_json_round_trip(document):
    [back] = d.documents_from_json(d.documents_to_json([document]))
    assert back == document
