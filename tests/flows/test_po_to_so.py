"""po_to_so translation rules, called directly (no Airflow, no I/O)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from amazon_bluecherry.edi.parse import parse_file
from amazon_bluecherry.flows.mappings import load_mappings
from amazon_bluecherry.flows.po_to_so import (
    TranslationPolicy,
    quality_gate,
    sales_order_draft,
    translate_file,
    translate_purchase_order,
)
from tests.flows.conftest import make_850

EXACT = TranslationPolicy()


def translate(mappings_dir, policy=EXACT, **kwargs):
    (purchase_order,) = parse_file(make_850(**kwargs))
    return translate_purchase_order(purchase_order, load_mappings(mappings_dir), policy)


def issue_types(order):
    return [(issue.type, issue.line_number) for issue in order.issues]


def test_eaches_line_maps_to_sku_store_and_warehouse(mappings_dir):
    order = translate(mappings_dir)
    assert (order.bc_customer, order.bc_store, order.bc_warehouse) == ("AMAZON", "ABE2", "NJ01")
    assert (order.ship_window_start, order.ship_window_end) == (date(2026, 12, 1), date(2026, 12, 10))
    (line,) = order.lines
    assert (line.sku, line.amazon_qty, line.amazon_uom, line.qty_eaches, line.unit_price) == (
        "TEE100-BLK-M", 8, "EA", 8, Decimal("6.5"))
    assert order.loadable and not order.issues and not order.backorder_allowed


def test_cases_become_eaches_through_the_item_master(mappings_dir):
    order = translate(mappings_dir, lines=["PO1*1*3*CA*6.5*PE*UP*028877454078", "PO4*12"])
    assert order.lines[0].qty_eaches == 36 and not order.issues


def test_case_price_without_pe_basis_is_divided_by_the_pack(mappings_dir):
    order = translate(mappings_dir, lines=["PO1*1*2*CA*78**UP*028877454078"])
    assert order.lines[0].unit_price == Decimal("6.5") and not order.issues


def test_asin_and_ean_and_vendor_number_resolve(mappings_dir):
    order = translate(mappings_dir, lines=["PO1*1*1*EA*18*PE*BP*B00TEST004", "PO1*2*6*EA*6.25*PE*EN*4006381333931",
                                           "PO1*3*1*EA*18*PE*VN*HOOD-RED-XL"])
    assert [line.sku for line in order.lines] == ["HOOD200-RED-XL", "TEE100-WHT-S", "HOOD200-RED-XL"]
    assert [line.product_id_qualifier for line in order.lines] == ["BP", "EN", "VN"]


def test_second_id_pair_is_tried_when_the_first_is_unknown(mappings_dir):
    order = translate(mappings_dir, lines=["PO1*1*1*EA*6.5*PE*BP*B0UNKNOWN*UP*028877454085"])
    assert order.lines[0].sku == "TEE100-BLK-L" and order.lines[0].product_id == "028877454085"


def test_unknown_item_is_rejected_but_the_rest_loads(mappings_dir):
    order = translate(mappings_dir, lines=["PO1*1*8*EA*6.5*PE*UP*028877454078", "PO1*2*4*EA*6.5*PE*UP*999999999993"])
    assert issue_types(order) == [("unknown_item", 2)]
    assert [line.line_number for line in order.lines] == [1]
    (rejected,) = order.rejected_lines
    assert (rejected.line_number, rejected.product_id, rejected.reason) == (2, "999999999993", "unknown_item")
    assert order.loadable


def test_case_pack_disagreeing_with_item_master_is_not_loaded(mappings_dir):
    order = translate(mappings_dir, lines=["PO1*1*3*CA*6.5*PE*UP*028877454078", "PO4*6"])
    assert issue_types(order) == [("case_pack_mismatch", 1)]
    assert "PO4 pack 6 but items.csv case_pack_qty for TEE100-BLK-M is 12" in order.issues[0].message
    assert not order.lines and not order.loadable


def test_unknown_unit_is_not_loaded(mappings_dir):
    order = translate(mappings_dir, lines=["PO1*1*3*DZ*6.5*PE*UP*028877454078"])
    assert issue_types(order) == [("unknown_uom", 1)] and not order.lines


def test_price_mismatch_holds_the_po_by_default(mappings_dir):
    order = translate(mappings_dir, lines=["PO1*1*8*EA*6.4*PE*UP*028877454078"])
    assert issue_types(order) == [("price_mismatch", 1)] and order.held
    assert "Amazon pays 6.4 per each for TEE100-BLK-M, items.csv unit_cost is 6.50" in order.issues[0].message


def test_price_mismatch_can_load_at_amazons_price(mappings_dir):
    policy = TranslationPolicy(hold_on_price_mismatch=False)
    order = translate(mappings_dir, policy, lines=["PO1*1*8*EA*6.4*PE*UP*028877454078"])
    assert issue_types(order) == [("price_mismatch", 1)] and order.loadable
    assert sales_order_draft(order).lines[0].unit_price == Decimal("6.4")


def test_price_within_tolerance_passes(mappings_dir):
    policy = TranslationPolicy(price_tolerance=Decimal("0.10"))
    assert not translate(mappings_dir, policy, lines=["PO1*1*8*EA*6.45*PE*UP*028877454078"]).issues


def test_unknown_ship_to_holds_the_po(mappings_dir):
    order = translate(mappings_dir, ship_to="N1*ST**92*XXX9")
    assert issue_types(order) == [("unknown_ship_to", None)] and order.held
    with pytest.raises(ValueError, match="held"):
        sales_order_draft(order)


def test_draft_carries_amazon_ids_for_the_acknowledgement(mappings_dir):
    draft = sales_order_draft(translate(mappings_dir, lines=["PO1*7*2*CA*6.5*PE*UP*028877454078"]))
    assert draft.customer_po == "L8266355" and draft.bc_warehouse == "NJ01"
    (line,) = draft.lines
    assert (line.line_number, line.style, line.qty_eaches, line.product_id, line.product_id_qualifier) == (
        7, "TEE100", 24, "028877454078", "UP")


def test_quality_gate_blocks_only_the_po_with_a_past_window(mappings_dir):
    mappings = load_mappings(mappings_dir)
    (late,) = parse_file(make_850("LATE1", window=("20261101", "20261110")))
    (fine,) = parse_file(make_850("FINE1"))
    orders = [translate_purchase_order(po, mappings, EXACT) for po in (late, fine)]
    outcome = quality_gate(orders, date(2026, 11, 26), EXACT)
    assert not outcome.success and outcome.failed_keys("customer_po") == {"LATE1"}
    assert orders[0].held and issue_types(orders[0]) == [("quality_check_failed", None)]
    assert "delivery window still open at receipt" in orders[0].issues[0].message
    assert orders[1].loadable


def test_quality_gate_blocks_a_po_sent_twice_in_one_batch(mappings_dir):
    mappings = load_mappings(mappings_dir)
    orders = [translate_purchase_order(parse_file(make_850("TWICE"))[0], mappings, EXACT) for _ in range(2)]
    orders.append(translate_purchase_order(parse_file(make_850("ONCE"))[0], mappings, EXACT))
    outcome = quality_gate(orders, date(2026, 11, 26), EXACT)
    assert outcome.failed_keys("customer_po") == {"TWICE"}
    assert [order.loadable for order in orders] == [False, False, True]


def test_dry_run_report_has_the_contract_shape(mappings_dir, tmp_path):
    edi = tmp_path / "po.edi"
    edi.write_bytes(make_850(lines=["PO1*1*2*CA*6.5*PE*UP*028877454078", "PO1*2*1*EA*6.5*PE*UP*000000000000"]))
    report = translate_file(edi, load_mappings(mappings_dir), EXACT, received_on=date(2026, 11, 26))
    (order,) = report["sales_orders"]
    assert set(order) == {"customer_po", "bc_customer", "bc_store", "bc_warehouse", "ship_window", "lines"}
    assert order["ship_window"] == {"start": "2026-12-01", "end": "2026-12-10"}
    assert order["lines"] == [{"line_number": 1, "product_id": "028877454078", "style": "TEE100", "color": "BLK",
                               "size": "M", "amazon_qty": 2, "amazon_uom": "CA", "qty_eaches": 24,
                               "unit_price": "6.5"}]
    assert report["exceptions"] == [{"po": "L8266355", "line_number": 2, "type": "unknown_item", "owner": "wholesale",
                                     "message": "PO L8266355 line 2: UP 000000000000 not in items.csv"}]


def test_wholesale_can_accept_amazons_price_for_one_po(mappings_dir):
    mappings = load_mappings(mappings_dir)
    (po,) = parse_file(make_850("PRICE1", lines=["PO1*1*8*EA*6.4*PE*UP*028877454078"]))
    (other,) = parse_file(make_850("PRICE2", lines=["PO1*1*8*EA*6.4*PE*UP*028877454078"]))
    accepted = translate_purchase_order(po, mappings, EXACT, accept_amazon_price=True)
    held = translate_purchase_order(other, mappings, EXACT)
    assert accepted.loadable and not accepted.issues and accepted.lines[0].unit_price == Decimal("6.4")
    assert held.held and issue_types(held) == [("price_mismatch", 1)]
    # The checkpoint still checks prices, except on the PO wholesale accepted.
    outcome = quality_gate([accepted, held], date(2026, 11, 26), EXACT)
    assert accepted.loadable and outcome.failed_keys("customer_po") == set()


def test_quality_gate_checks_prices_the_translator_let_through(mappings_dir):
    mappings = load_mappings(mappings_dir)
    (po,) = parse_file(make_850("PRICE3", lines=["PO1*1*8*EA*6.4*PE*UP*028877454078"]))
    order = translate_purchase_order(po, mappings, TranslationPolicy(hold_on_price_mismatch=False))
    order.issues.clear()  # as if a translator bug had not flagged it
    outcome = quality_gate([order], date(2026, 11, 26), EXACT)
    assert outcome.failed_keys("customer_po") == {"PRICE3"} and order.held


def _plain(value):
    """The reference JSON form: every Decimal and date as text (what asdict + conversion gave)."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, Decimal | date):
        return str(value) if isinstance(value, Decimal) else value.isoformat()
    return value


def test_the_stored_form_of_a_translated_order_is_complete_and_reads_back(mappings_dir):
    from dataclasses import asdict

    from amazon_bluecherry.flows.po_to_so import TranslatedOrder

    # Lines of every kind: loaded, rejected (unknown item, unknown unit), and an issue on the order.
    order = translate(mappings_dir, lines=["PO1*1*2*CA*6.5*PE*UP*028877454078", "PO4*12",
                                           "PO1*2*3*EA*9.99*PE*UP*999999999993", "PO1*3*1*BX*6.5*PE*UP*028877454085"])
    assert order.lines and order.rejected_lines and order.issues
    stored = order.to_dict()
    assert stored == _plain(asdict(order)), "every field, in the same shape as before"
    assert TranslatedOrder.from_dict(stored) == order


def test_an_item_cancel_is_a_zero_line_for_bluecherry_and_no_issue(mappings_dir):
    # Amazon cancels an item by re-sending the PO with the line at quantity 0: nothing for a person,
    # whatever the line's unit, pack or item; a known item goes to BlueCherry with 0 eaches (cancel).
    order = translate(mappings_dir, lines=["PO1*1*8*EA*6.5*PE*UP*028877454078", "PO1*2*0*CA*6.4*PE*UP*028877454085",
                                           "PO4*6", "PO1*3*0*DZ*9*PE*UP*999999999993"])
    assert order.issues == [] and order.rejected_lines == [] and order.loadable
    assert [(line.line_number, line.qty_eaches) for line in order.lines] == [(1, 8), (2, 0)]
    assert [(line.line_number, line.qty_eaches) for line in sales_order_draft(order).lines] == [(1, 8), (2, 0)]
    assert quality_gate([order], date(2026, 11, 26), EXACT).success and not order.held


def test_the_dry_run_translates_only_what_the_validator_accepts_and_says_why(mappings_dir, tmp_path):
    # As po_to_so would: a set the 997 rejects, or a Direct Fulfillment one, is never translated.
    good = make_850("DRYOK", control="000000701")
    miscounted = make_850("DRYSE", control="000000702").replace(b"~SE*", b"~SE*9", 1)
    drop_ship = make_850("DRYDF", control="000000703").replace(b"ZZ*AMAZON         ", b"ZZ*AMAZONDS       ")
    edi = tmp_path / "three.edi"
    edi.write_bytes(good + miscounted + drop_ship)
    report = translate_file(edi, load_mappings(mappings_dir), EXACT, received_on=date(2026, 11, 26))
    assert [order["customer_po"] for order in report["sales_orders"]] == ["DRYOK"]
    found = {issue["po"]: (issue["type"], issue["message"]) for issue in report["exceptions"]}
    assert found["DRYSE"][0] == "edi_rejected" and "SE01 says '910' segments, counted 10" in found["DRYSE"][1]
    assert found["DRYDF"][0] == "direct_fulfillment_unsupported" and "Direct Fulfillment" in found["DRYDF"][1]
