"""so_to_poa rules: BlueCherry allocations -> 855 lines, and the pre-send checkpoint."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from amazon_bluecherry.bluecherry.models import SalesOrder, SalesOrderLine
from amazon_bluecherry.edi.build import write_documents
from amazon_bluecherry.edi.parse import parse_file
from amazon_bluecherry.edi.writer import InMemoryControlNumbers
from amazon_bluecherry.flows.so_to_poa import (
    acknowledgement_frame,
    build_acknowledgement,
    ordered_lines,
    read_sent_acknowledgements,
    rejected_quantities,
    summarize_acknowledgement,
)
from amazon_bluecherry.quality.checkpoint import run_checkpoint
from amazon_bluecherry.quality.suites import acknowledgement_suite
from tests.flows.conftest import make_850

TODAY = date(2026, 11, 26)


def purchase_order(lines):
    (po,) = parse_file(make_850("PO855", lines=lines))
    return po


def sales_order(*lines: SalesOrderLine) -> SalesOrder:
    now = datetime(2026, 11, 26, tzinfo=UTC)
    return SalesOrder(order_number="SO1001", customer_po="PO855", bc_customer="AMAZON", bc_store="ABE2",
                      bc_warehouse="NJ01", order_type="NE", ship_window_start=date(2026, 12, 1),
                      ship_window_end=date(2026, 12, 10), backorder_allowed=True, status="open", revision=1,
                      created_at=now, updated_at=now, lines=list(lines))


def so_line(number, ordered, allocated=0, backordered=0, cancelled=0, *, backorder_date=None, reason=None):
    return SalesOrderLine(line_number=number, sku="TEE100-BLK-M", unit_price=Decimal("6.5"), qty_ordered=ordered,
                          qty_allocated=allocated, qty_backordered=backordered, qty_cancelled=cancelled,
                          backorder_date=backorder_date, cancel_reason=reason)


def loops(acknowledgement):
    return [[(str(item.status), item.quantity, item.date, item.reason_code) for item in line.acknowledgements]
            for line in acknowledgement.lines]


def test_fully_allocated_cases_are_accepted_in_cases():
    po = purchase_order(["PO1*1*3*CA*6.5*PE*UP*028877454078"])
    ack = build_acknowledgement(po, sales_order=sales_order(so_line(1, 36, allocated=36)), rejected_lines={},
                                case_packs={1: 12}, previously_rejected={}, acknowledged_on=TODAY)
    assert str(ack.acknowledgement_type) == "AD" and ack.seller_order_number == "SO1001"
    assert loops(ack) == [[("IA", 3, None, None)]]
    assert ack.lines[0].unit_price == Decimal("6.5") and ack.lines[0].price_basis == "PE"


def test_partial_line_is_one_accepted_and_one_backordered_loop():
    po = purchase_order(["PO1*1*10*EA*6.5*PE*UP*028877454078"])
    order = sales_order(so_line(1, 10, allocated=6, backordered=4, backorder_date=date(2026, 12, 20)))
    ack = build_acknowledgement(po, sales_order=order, rejected_lines={}, case_packs={}, previously_rejected={},
                                acknowledged_on=TODAY)
    assert str(ack.acknowledgement_type) == "AC"
    assert loops(ack) == [[("IA", 6, None, None), ("IB", 4, date(2026, 12, 20), None)]]
    assert ack.lines[0].acknowledgements[1].date_qualifier == "068"


def test_cancelled_and_translation_rejected_lines_are_rejected_with_a_reason():
    po = purchase_order(["PO1*1*5*EA*6.5*PE*UP*028877454078", "PO1*2*4*EA*9*PE*UP*999999999993"])
    order = sales_order(so_line(1, 5, allocated=2, cancelled=3, reason="out_of_stock"))
    ack = build_acknowledgement(po, sales_order=order, rejected_lines={2: "unknown_item"}, case_packs={},
                                previously_rejected={}, acknowledged_on=TODAY)
    assert loops(ack) == [[("IA", 2, None, None), ("IR", 3, None, "TemporarilyUnavailable")],
                          [("IR", 4, None, "InvalidProductIdentifier")]]
    assert ack.lines[1].unit_price == Decimal("9"), "a price on every line, rejected ones too"
    assert rejected_quantities(ack) == {1: 3, 2: 4}


def test_a_line_rejected_before_stays_rejected():
    po = purchase_order(["PO1*1*5*EA*6.5*PE*UP*028877454078"])
    order = sales_order(so_line(1, 5, allocated=5))
    ack = build_acknowledgement(po, sales_order=order, rejected_lines={}, case_packs={}, previously_rejected={1: 5},
                                acknowledged_on=TODAY)
    assert [status for status, *_ in loops(ack)[0]] == ["IR"]


def test_a_partly_rejected_line_keeps_its_accepted_part_and_its_rejected_part():
    po = purchase_order(["PO1*1*5*EA*6.5*PE*UP*028877454078"])
    # First 855: 2 accepted, 3 rejected. BlueCherry later finds stock for all 5.
    order = sales_order(so_line(1, 5, allocated=5))
    ack = build_acknowledgement(po, sales_order=order, rejected_lines={}, case_packs={}, previously_rejected={1: 3},
                                acknowledged_on=TODAY)
    assert loops(ack) == [[("IA", 2, None, None), ("IR", 3, None, "TemporarilyUnavailable")]]


def test_nothing_to_acknowledge_without_a_sales_order():
    po = purchase_order(["PO1*1*5*EA*6.5*PE*UP*028877454078"])
    assert build_acknowledgement(po, sales_order=None, rejected_lines={}, case_packs={}, previously_rejected={},
                                 acknowledged_on=TODAY) is None


def _checkpoint(po, ack, previously_rejected=None):
    # The checkpoint looks at the 855 as it will leave: written to X12 and read back.
    if ack is not None:
        raw = write_documents([ack], sender="VENDOR", receiver="AMAZON",
                              control_numbers=InMemoryControlNumbers())
        (ack,) = read_sent_acknowledgements(raw)
    summaries = summarize_acknowledgement(po.purchase_order_number, ordered_lines(po), ack, previously_rejected or {})
    return run_checkpoint("so_to_poa_acknowledgements", acknowledgement_frame(summaries),
                          acknowledgement_suite(), key_columns=["purchase_order", "line_number"])


def test_the_gate_reads_the_rendered_855_as_the_parser_does():
    po = purchase_order(["PO1*1*10*EA*6.5*PE*UP*028877454078", "PO1*2*4*EA*9*PE*UP*999999999993",
                         "PO1*3*2*CA*12*PE*EN*4006381333931*VN*STYLE-9"])
    order = sales_order(so_line(1, 10, allocated=6, backordered=4, backorder_date=date(2026, 12, 20)))
    ack = build_acknowledgement(po, sales_order=order, rejected_lines={2: "unknown_item", 3: "unknown_uom"},
                                case_packs={}, previously_rejected={}, acknowledged_on=TODAY)
    raw = write_documents([ack, ack], sender="VENDOR", receiver="AMAZON", control_numbers=InMemoryControlNumbers())
    parsed, read = parse_file(raw), read_sent_acknowledgements(raw)
    assert [sent.purchase_order_number for sent in read] == ["PO855", "PO855"]
    for typed, lean in zip(parsed, read, strict=True):
        assert (summarize_acknowledgement("PO855", ordered_lines(po), lean, {3: 1})
                == summarize_acknowledgement("PO855", ordered_lines(po), typed, {3: 1}))


def test_checkpoint_passes_a_complete_acknowledgement():
    po = purchase_order(["PO1*1*10*EA*6.5*PE*UP*028877454078", "PO1*2*4*EA*9*PE*UP*999999999993"])
    order = sales_order(so_line(1, 10, allocated=6, backordered=4, backorder_date=date(2026, 12, 20)))
    ack = build_acknowledgement(po, sales_order=order, rejected_lines={2: "unknown_item"}, case_packs={},
                                previously_rejected={}, acknowledged_on=TODAY)
    outcome = _checkpoint(po, ack)
    assert outcome.success, outcome.to_dict()


def test_checkpoint_blocks_a_missing_line_a_wrong_total_and_a_reversed_rejection():
    po = purchase_order(["PO1*1*10*EA*6.5*PE*UP*028877454078", "PO1*2*4*EA*6.5*PE*UP*028877454085"])
    order = sales_order(so_line(1, 10, allocated=10))  # line 2 missing in BlueCherry
    ack = build_acknowledgement(po, sales_order=order, rejected_lines={}, case_packs={}, previously_rejected={},
                                acknowledged_on=TODAY)
    ack.lines[0].acknowledgements[0].quantity = 9      # a bug that under-acknowledges line 1
    outcome = _checkpoint(po, ack, previously_rejected={1: 10})
    failed = {failure.description: {key["line_number"] for key in failure.keys} for failure in outcome.failures}
    assert failed["every PO line acknowledged"] == {2}
    assert failed["acknowledged quantities add up to the ordered quantity"] == {1, 2}
    assert failed["a line rejected earlier stays rejected"] == {1}


def test_a_line_amazon_cancelled_is_acknowledged_with_quantity_zero_and_passes_the_checkpoint():
    po = purchase_order(["PO1*1*5*EA*6.5*PE*UP*028877454078", "PO1*2*0*EA*6.5*PE*UP*028877454085",
                         "PO1*3*0*EA*9*PE*UP*999999999993"])
    order = sales_order(so_line(1, 5, allocated=5), so_line(2, 4, cancelled=4, reason="customer_cancelled"))
    ack = build_acknowledgement(po, sales_order=order, rejected_lines={3: "unknown_item"}, case_packs={},
                                previously_rejected={2: 4, 3: 4}, acknowledged_on=TODAY)
    assert loops(ack) == [[("IA", 5, None, None)], [("IR", 0, None, None)], [("IR", 0, None, None)]]
    assert [line.quantity for line in ack.lines] == [5, 0, 0] and str(ack.acknowledgement_type) == "AC"
    outcome = _checkpoint(po, ack, previously_rejected={2: 4, 3: 4})
    assert outcome.success, outcome.to_dict()


def test_the_gate_stages_what_passes_and_gives_back_the_numbers_of_what_it_blocked(store, tmp_path):
    from amazon_bluecherry.flows.so_to_poa_steps import DRAFT, check_acknowledgements
    from amazon_bluecherry.settings import Settings
    from amazon_bluecherry.store.models import OutboundDocument, RawDocument

    po = purchase_order(["PO1*1*10*EA*6.5*PE*UP*028877454078"])
    ack = build_acknowledgement(po, sales_order=sales_order(so_line(1, 10, allocated=10)), rejected_lines={},
                                case_packs={}, previously_rejected={}, acknowledged_on=TODAY)
    document = ack.model_dump(mode="json")
    ids = {}
    for po_number, ordered in (("PO-OK", ordered_lines(po)), ("PO-SHORT", [*ordered_lines(po), [2, 4, []]])):
        draft = {"document": {**document, "purchase_order_number": po_number}, "fingerprint": po_number * 3,
                 "ordered": ordered}
        ids[po_number] = store.add_transaction("850", direction="in", partner="AMAZON", business_key=po_number,
                                               status="loaded", data={DRAFT: draft})
    result = check_acknowledgements(store, Settings(home=tmp_path), now=datetime(2026, 11, 26, 9, tzinfo=UTC))
    assert result.blocked == ["PO-SHORT"] and list(result.staged) == ["PO-OK"]
    with store.session() as db:
        (outbound,) = db.query(OutboundDocument).all()
        content = db.get(RawDocument, outbound.raw_document_id).content
    # Rendered for the gate with both POs, then again without the blocked one: the numbers
    # the first rendering took were given back.
    assert (outbound.isa13, outbound.st02_list) == ("000000001", ["0001"])
    assert b"BAK*00*AD*PO-OK" in content and b"PO-SHORT" not in content
    assert store.list_exceptions(type="poa_quality_check_failed")[0].business_key == "PO-SHORT"
