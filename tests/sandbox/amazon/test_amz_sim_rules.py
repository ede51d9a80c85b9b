"""Amazon's rules on deliberately bad 855/856/810 documents, and silence on good ones."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from amazon_bluecherry.edi.ack import parse_997
from amazon_bluecherry.edi.build import build_segments
from amazon_bluecherry.edi.documents import AcknowledgementLine, LineAcknowledgement, ProductId, ShipmentPack
from amazon_bluecherry.edi.writer import OutboundSet, Party, write_interchange
from sandbox.amazon.compliance import bol_looks_like_date
from sandbox.amazon.rulebook import load_rulebook


def rules_of(findings) -> list[str]:
    return sorted(f.rule for f in findings)


def acks_returned(simulator, result) -> list[str]:
    """AK9 statuses of the 997s the simulator dropped for the vendor in ``result``."""
    statuses = []
    for name in result.acks_sent:
        statuses += [ack.status for ack in parse_997((simulator.mailbox.download_dir / name).read_bytes())]
    return statuses


def cogs_of(po) -> Decimal:
    return sum((line.unit_price * line.ordered_eaches for line in po.lines), Decimal(0))


# --- the good path -----------------------------------------------------------------------


def test_a_correct_855_856_810_produce_no_finding(simulator, clock, vendor, one_po):
    clock.advance(hours=2)
    vendor.upload(vendor.acknowledgement(one_po))
    result = simulator.process_uploads()
    assert result.documents["855"] == 1 and acks_returned(simulator, result) == ["A"]

    po = simulator.purchase_order(one_po)
    clock.set(dt.datetime.combine(po.window_start - dt.timedelta(days=1), dt.time(14)))
    vendor.upload(vendor.ship_notice(one_po))
    clock.advance(minutes=10)
    result = simulator.process_uploads()
    assert result.documents["856"] == 1 and acks_returned(simulator, result) == ["A"]

    vendor.upload(vendor.invoice(one_po))
    result = simulator.process_uploads()
    assert result.documents["810"] == 1 and acks_returned(simulator, result) == ["A"]

    clock.set(dt.datetime.combine(po.window_start, dt.time(12)))
    receiving = simulator.run_receiving(shortage_rate=0.0)
    assert len(receiving.receipts) == 1
    assert simulator.findings() == []
    assert simulator.chargeback_ledger() == []
    assert all(line.received == line.ordered_eaches == line.shipped == line.invoiced for line in po.lines)
    assert simulator.state.invoices[f"IN{one_po}"].status == "open"


# --- 855 ---------------------------------------------------------------------------------


def test_855_after_24_hours_is_late_and_charged(simulator, clock, vendor, one_po):
    clock.advance(hours=25)
    vendor.upload(vendor.acknowledgement(one_po))
    findings = simulator.process_uploads().findings
    assert rules_of(findings) == ["poa_late"]
    entry = simulator.state.ledger_entry(findings[0].chargeback)
    rate = load_rulebook().rate_card.chargebacks["unconfirmed_po_units"].rate_on(clock.today())
    assert entry.amount == -(cogs_of(simulator.purchase_order(one_po)) * rate / 100).quantize(Decimal("0.01"))
    assert entry.purchase_order == one_po and entry.finding_id == findings[0].finding_id
    assert "S2/S4" in findings[0].source


def test_855_within_24_hours_is_on_time(simulator, clock, vendor, one_po):
    clock.advance(hours=23, minutes=59)
    vendor.upload(vendor.acknowledgement(one_po))
    assert simulator.process_uploads().findings == []


def test_no_855_is_flagged_once_after_24_hours_and_a_late_one_is_not_charged_twice(
    simulator, clock, vendor, one_po
):
    clock.advance(hours=20)
    assert simulator.process_uploads().findings == []
    clock.advance(hours=5)
    assert rules_of(simulator.process_uploads().findings) == ["poa_missing"]
    clock.advance(hours=5)
    vendor.upload(vendor.acknowledgement(one_po))
    late = simulator.process_uploads().findings
    assert rules_of(late) == ["poa_late"] and late[0].chargeback is None
    assert len(simulator.chargeback_ledger(kind="chargeback")) == 1


def test_855_line_without_price_is_refused(simulator, clock, vendor, one_po):
    clock.advance(hours=1)
    segments = build_segments(vendor.acknowledgement(one_po))
    for segment in segments:
        if segment[0] == "PO1" and segment[1] == "1":
            segment[4] = ""  # PO104
    content = write_interchange(
        [OutboundSet("855", segments)],
        sender=Party("VENDOR"),
        receiver=Party("AMAZON"),
        functional_id="PR",
        control_numbers=vendor.control_numbers,
        when=clock.now(),
    )
    vendor.upload_bytes("855", content)
    result = simulator.process_uploads()
    assert "poa_line_without_price" in rules_of(result.findings)
    unpriced = next(f for f in result.findings if f.rule == "poa_line_without_price")
    assert unpriced.purchase_order == one_po and "line(s) 1 " in unpriced.detail
    assert acks_returned(simulator, result) == ["R"]
    assert simulator.purchase_order(one_po).first_acknowledged_at is None


def test_855_line_rules_not_echoed_not_ordered_quantities_missing_lines(simulator, clock, vendor):
    sent = simulator.send_purchase_orders(6, seed=5)
    number = next(s.purchase_order for s in sent if len(s.document.lines) >= 3)
    po = simulator.purchase_order(number)
    good = vendor.acknowledgement(number).lines
    first, second = good[0], good[1]
    other_id = "EN" if first.product_ids[0].qualifier != "EN" else "UP"
    lines = [
        # line 1 acknowledged under another product id
        first.model_copy(update={"product_ids": [ProductId(qualifier=other_id, value="0000000000000")]}),
        # line 2 acknowledged for one unit less than ordered
        second.model_copy(
            update={
                "acknowledgements": [
                    LineAcknowledgement(status="IA", quantity=second.quantity - 1, unit=second.unit)
                ]
            }
        )
        if second.quantity > 1
        else second.model_copy(
            update={
                "acknowledgements": [
                    LineAcknowledgement(status="IA", quantity=second.quantity + 1, unit=second.unit)
                ]
            }
        ),
        # a line nobody ordered
        AcknowledgementLine(
            line_number="99",
            quantity=1,
            unit="EA",
            unit_price=Decimal("1"),
            price_basis="PE",
            product_ids=[ProductId(qualifier="UP", value="099999000019")],
            acknowledgements=[LineAcknowledgement(status="IA", quantity=1, unit="EA")],
        ),
    ]  # lines 3.. are left out
    clock.advance(hours=1)
    vendor.upload(vendor.acknowledgement(number, lines=lines))
    found = rules_of(simulator.process_uploads().findings)
    missing = len(po.lines) - 2
    assert found == sorted(
        ["poa_product_id_not_echoed", "poa_quantity_mismatch", "poa_line_not_ordered"]
        + ["poa_line_missing"] * missing
    )


def test_a_rejected_line_stays_rejected(simulator, clock, vendor, one_po):
    good = vendor.acknowledgement(one_po).lines
    rejected = [
        good[0].model_copy(
            update={
                "acknowledgements": [
                    LineAcknowledgement(
                        status="IR",
                        quantity=good[0].quantity,
                        unit=good[0].unit,
                        reason_code="TemporarilyUnavailable",
                    )
                ]
            }
        )
    ]
    clock.advance(hours=1)
    vendor.upload(vendor.acknowledgement(one_po, lines=rejected + good[1:]))
    assert simulator.process_uploads().findings == []
    clock.advance(hours=3)
    vendor.upload(vendor.acknowledgement(one_po))
    assert rules_of(simulator.process_uploads().findings) == ["poa_rejected_line_reinstated"]
    line = simulator.purchase_order(one_po).lines[0]
    assert (line.accepted, line.rejected) == (0, line.ordered_eaches)


def test_a_change_after_48_hours_is_ignored(simulator, clock, vendor, one_po):
    clock.advance(hours=1)
    vendor.upload(vendor.acknowledgement(one_po))
    simulator.process_uploads()
    good = vendor.acknowledgement(one_po).lines
    line = good[0]
    changed = [
        line.model_copy(
            update={
                "acknowledgements": [LineAcknowledgement(status="IR", quantity=line.quantity, unit=line.unit)]
            }
        )
    ] + good[1:]
    clock.advance(hours=48)
    vendor.upload(vendor.acknowledgement(one_po, lines=changed))
    assert rules_of(simulator.process_uploads().findings) == ["poa_change_after_window"]
    assert simulator.purchase_order(one_po).lines[0].rejected == 0


def test_855_for_an_unknown_po(simulator, clock, vendor, one_po):
    ack = vendor.acknowledgement(one_po).model_copy(update={"purchase_order_number": "NOSUCHPO"})
    vendor.upload(ack)
    assert rules_of(simulator.process_uploads().findings) == ["poa_unknown_po"]


# --- 856 ---------------------------------------------------------------------------------


@pytest.fixture
def confirmed_po(simulator, clock, vendor, one_po) -> str:
    """``one_po`` acknowledged in full; the clock on the day before its window opens, 14:00."""
    clock.advance(hours=1)
    vendor.upload(vendor.acknowledgement(one_po))
    assert simulator.process_uploads().findings == []
    po = simulator.purchase_order(one_po)
    clock.set(dt.datetime.combine(po.window_start - dt.timedelta(days=1), dt.time(14)))
    return one_po


def test_856_more_than_30_minutes_after_departure_is_late(simulator, clock, vendor, confirmed_po):
    vendor.upload(vendor.ship_notice(confirmed_po, shipped_at=clock.now()))
    clock.advance(minutes=45)
    findings = simulator.process_uploads().findings
    assert rules_of(findings) == ["asn_late"]
    assert simulator.state.ledger_entry(findings[0].chargeback).shipment_id == f"SH{confirmed_po}"


def test_856_within_30_minutes_is_on_time(simulator, clock, vendor, confirmed_po):
    vendor.upload(vendor.ship_notice(confirmed_po, shipped_at=clock.now()))
    clock.advance(minutes=30)
    assert simulator.process_uploads().findings == []


def test_856_after_the_goods_arrived(simulator, clock, vendor, confirmed_po):
    shipped = clock.now()
    simulator.record_delivery(confirmed_po, at=shipped + dt.timedelta(hours=20), cartons=3)
    clock.advance(hours=21)
    vendor.upload(vendor.ship_notice(confirmed_po, shipped_at=shipped))
    assert rules_of(simulator.process_uploads().findings) == ["asn_after_arrival", "asn_late"]
    receiving = simulator.run_receiving()
    assert [r.shipment_id for r in receiving.receipts] == [f"SH{confirmed_po}"]
    assert "asn_missing" not in rules_of(simulator.findings())


def test_goods_without_856_are_received_and_charged(simulator, clock, confirmed_po):
    clock.advance(hours=20)  # 10:00 on the first day of the window
    simulator.record_delivery(confirmed_po, cartons=4)
    receiving = simulator.run_receiving()
    assert rules_of(receiving.findings) == ["asn_missing"]
    assert receiving.receipts[0].shipment_id is None
    entry = simulator.state.ledger_entry(receiving.findings[0].chargeback)
    assert entry.category == "ASN Accuracy - Missing ASN" and entry.amount < 0
    po = simulator.purchase_order(confirmed_po)
    assert all(line.received == line.ordered_eaches for line in po.lines)


def test_856_with_an_unapproved_carrier(simulator, vendor, confirmed_po):
    vendor.upload(vendor.ship_notice(confirmed_po, scac="ZZZZ"))
    findings = simulator.process_uploads().findings
    assert rules_of(findings) == ["asn_unapproved_scac"] and "'ZZZZ'" in findings[0].detail
    assert simulator.state.ledger_entry(findings[0].chargeback).amount == Decimal("-150.00")


def test_856_without_a_carrier(simulator, vendor, confirmed_po):
    # TD5 is required at the shipment level (registry.yaml requirements): the 997 rejects the set.
    vendor.upload(vendor.ship_notice(confirmed_po, scac=None))
    (finding,) = simulator.process_uploads().findings
    assert finding.rule == "edi_rejected" and "TD5" in finding.detail


def test_sscc_reused_within_365_days(simulator, clock, vendor, one_po):
    second = simulator.send_purchase_orders(1, seed=12)[0].purchase_order
    clock.advance(hours=1)
    vendor.upload(vendor.acknowledgement(one_po))
    vendor.upload(vendor.acknowledgement(second))
    simulator.process_uploads()
    first_notice = vendor.ship_notice(one_po)
    reused = first_notice.orders[0].packs[0].sscc
    vendor.upload(first_notice)
    assert simulator.process_uploads().findings == []
    clock.advance(days=30)
    vendor.upload(vendor.ship_notice(second, ssccs=[reused]))
    findings = simulator.process_uploads().findings
    assert "asn_duplicate_sscc" in rules_of(findings)
    duplicate = next(f for f in findings if f.rule == "asn_duplicate_sscc")
    assert reused in duplicate.detail and f"SH{one_po}" in duplicate.detail
    assert simulator.state.ledger_entry(duplicate.chargeback).amount == Decimal("-5.00")


def test_sscc_may_come_back_after_365_days(simulator, clock, vendor, one_po):
    second = simulator.send_purchase_orders(1, seed=12)[0].purchase_order
    notice = vendor.ship_notice(one_po)
    reused = notice.orders[0].packs[0].sscc
    vendor.upload(notice)
    simulator.process_uploads()
    clock.advance(days=366)
    vendor.upload(vendor.ship_notice(second, ssccs=[reused], shipped_at=clock.now()))
    assert "asn_duplicate_sscc" not in rules_of(simulator.process_uploads().findings)


@pytest.mark.parametrize(
    ("bol", "rules"),
    [
        ("VENDR0012345678", []),  # vendor code + 10 digits
        ("123456789012", []),  # a carrier's physical BOL
        ("1234567", ["asn_bol_too_short"]),
        ("VENDR1234567", ["asn_bol_too_short"]),
        ("20260303", ["asn_bol_looks_like_date"]),
        ("VENDR202603031400", ["asn_bol_looks_like_date"]),
        ("2026-03-03", ["asn_bol_looks_like_date"]),
    ],
)
def test_bill_of_lading_rules(simulator, vendor, confirmed_po, bol, rules):
    vendor.upload(vendor.ship_notice(confirmed_po, bol=bol))
    assert rules_of(simulator.process_uploads().findings) == sorted(rules)


def test_a_bill_of_lading_used_by_another_shipment(simulator, clock, vendor, one_po):
    second = simulator.send_purchase_orders(1, seed=12)[0].purchase_order
    vendor.upload(vendor.ship_notice(one_po, bol="VENDR0099999999"))
    vendor.upload(vendor.ship_notice(second, bol="VENDR0099999999"))
    findings = simulator.process_uploads().findings
    assert [f.rule for f in findings if f.rule.startswith("asn_bol")] == ["asn_bol_not_unique"]
    assert next(f for f in findings if f.rule == "asn_bol_not_unique").shipment_id == f"SH{second}"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("20260315", True),
        ("03152026", True),
        ("260315", True),
        ("202603151030", True),
        ("2026-03-15", True),
        ("12345678", False),
        ("9000000001", False),
        ("VENDR0012345678", False),
        ("00000000", False),
    ],
)
def test_bol_date_detection(value, expected):
    assert bol_looks_like_date(value, "VENDR") is expected


def test_a_repeated_shipment_id_is_ignored(simulator, vendor, confirmed_po):
    notice = vendor.ship_notice(confirmed_po)
    vendor.upload(notice)
    simulator.process_uploads()
    vendor.upload(vendor.ship_notice(confirmed_po))
    assert rules_of(simulator.process_uploads().findings) == ["asn_duplicate_shipment_id"]
    assert all(line.shipped == line.ordered_eaches for line in simulator.purchase_order(confirmed_po).lines)


def test_more_shipped_than_confirmed_is_an_overage(simulator, clock, vendor, one_po):
    good = vendor.acknowledgement(one_po).lines
    half = [
        line.model_copy(
            update={
                "acknowledgements": [
                    LineAcknowledgement(status="IA", quantity=line.quantity // 2, unit=line.unit),
                    LineAcknowledgement(
                        status="IR", quantity=line.quantity - line.quantity // 2, unit=line.unit
                    ),
                ]
            }
        )
        if line.quantity > 1
        else line
        for line in good
    ]
    vendor.upload(vendor.acknowledgement(one_po, lines=half))
    simulator.process_uploads()
    vendor.upload(vendor.ship_notice(one_po))
    findings = simulator.process_uploads().findings
    assert "asn_overage" in rules_of(findings)


# --- 810 ---------------------------------------------------------------------------------


@pytest.fixture
def shipped_po(simulator, vendor, confirmed_po) -> str:
    vendor.upload(vendor.ship_notice(confirmed_po))
    assert simulator.process_uploads().findings == []
    return confirmed_po


def test_invoice_cost_different_from_the_855_cost(simulator, vendor, shipped_po):
    vendor.upload(vendor.invoice(shipped_po, price_delta=Decimal("0.50")))
    findings = simulator.process_uploads().findings
    lines = simulator.purchase_order(shipped_po).lines
    assert rules_of(findings) == ["invoice_cost_mismatch"] * len(lines)
    assert f"855 cost {lines[0].confirmed_price}" in findings[0].detail


def test_invoice_at_the_855_cost_even_if_it_differs_from_the_po(simulator, clock, vendor, one_po):
    clock.advance(hours=1)
    vendor.upload(vendor.acknowledgement(one_po, price_delta=Decimal("1.00")))
    simulator.process_uploads()
    vendor.upload(vendor.ship_notice(one_po))
    invoice = vendor.invoice(one_po)
    assert invoice.lines[0].unit_price == simulator.purchase_order(one_po).lines[0].unit_price + 1
    vendor.upload(invoice)
    assert simulator.process_uploads().findings == []


def test_an_invoice_number_is_used_once(simulator, vendor, shipped_po):
    vendor.upload(vendor.invoice(shipped_po, invoice_number="INV-1"))
    simulator.process_uploads()
    vendor.upload(vendor.invoice(shipped_po, invoice_number="INV-1"))
    findings = simulator.process_uploads().findings
    assert rules_of(findings) == ["invoice_number_reused"]
    assert len(simulator.state.invoices) == 1
    assert all(line.invoiced == line.ordered_eaches for line in simulator.purchase_order(shipped_po).lines)


def test_more_invoiced_than_shipped(simulator, vendor, shipped_po):
    vendor.upload(vendor.invoice(shipped_po, extra_eaches=2))
    findings = simulator.process_uploads().findings
    assert rules_of(findings) == ["invoice_quantity_exceeds_shipped"]
    assert "line 1:" in findings[0].detail


def test_invoice_terms_other_than_agreed(simulator, vendor, shipped_po):
    vendor.upload(vendor.invoice(shipped_po, net_days=30))
    assert rules_of(simulator.process_uploads().findings) == ["invoice_terms_mismatch"]


def test_invoice_total_must_add_up(simulator, vendor, shipped_po):
    invoice = vendor.invoice(shipped_po)
    # TDS01 = lines + charges - allowances is an EDI requirement now: the 997 rejects the set.
    vendor.upload(invoice.model_copy(update={"total_amount": invoice.total_amount + 1}))
    (finding,) = simulator.process_uploads().findings
    assert finding.rule == "edi_rejected" and "TDS01" in finding.detail
    assert simulator.state.invoices == {}


def test_every_rule_id_used_exists_in_the_data():
    rules = load_rulebook().rules.rules
    for rule in rules.values():
        assert rule.source and rule.title
    assert {
        "poa_late",
        "asn_late",
        "asn_missing",
        "asn_unapproved_scac",
        "asn_duplicate_sscc",
        "asn_bol_looks_like_date",
        "invoice_cost_mismatch",
        "invoice_number_reused",
    } <= set(rules)


# --- 846 ---------------------------------------------------------------------------------


def test_846_inventory_is_remembered(simulator, vendor):
    from amazon_bluecherry.edi.documents import InventoryAdvice, InventoryItem, InventoryQuantity

    advice = InventoryAdvice(
        report_type="DD",
        report_number="INV-2026-03-02",
        report_date=dt.date(2026, 3, 2),
        items=[
            InventoryItem(
                product_ids=[ProductId(qualifier="UP", value="614141100019")],
                quantities=[InventoryQuantity(qualifier="33", quantity=120, unit="EA")],
            ),
            InventoryItem(
                product_ids=[ProductId(qualifier="UP", value="614141100026")],
                quantities=[InventoryQuantity(qualifier="33", quantity=0, unit="EA")],
            ),
        ],
    )
    vendor.upload(advice)
    result = simulator.process_uploads()
    assert result.documents["846"] == 1 and acks_returned(simulator, result) == ["A"]
    assert simulator.state.inventory == {"UP 614141100019": 120, "UP 614141100026": 0}


# --- more 856 and 810 rules --------------------------------------------------------------


def _fewer(notice, delta: int):
    """``notice`` as a replacement (BSN01 05) with the first carton's first item changed by ``delta``."""
    order = notice.orders[0]
    pack = order.packs[0]
    item = pack.items[0].model_copy(update={"shipped_quantity": pack.items[0].shipped_quantity + delta})
    packs = [pack.model_copy(update={"items": [item, *pack.items[1:]]}), *order.packs[1:]]
    return notice.model_copy(update={"purpose": "05", "orders": [order.model_copy(update={"packs": packs})]})


def test_a_replacement_856_before_arrival_may_lower_quantities(simulator, clock, vendor, confirmed_po):
    notice = vendor.ship_notice(confirmed_po)
    vendor.upload(notice)
    simulator.process_uploads()
    clock.advance(minutes=20)
    vendor.upload(_fewer(notice, -1))
    assert simulator.process_uploads().findings == []
    po = simulator.purchase_order(confirmed_po)
    assert sum(line.shipped for line in po.lines) == sum(line.ordered_eaches for line in po.lines) - 1
    assert simulator.state.ship_notices[notice.shipment_id].replaced_at == clock.now()


def test_a_replacement_856_may_not_raise_quantities_or_come_after_arrival(
    simulator, clock, vendor, confirmed_po
):
    notice = vendor.ship_notice(confirmed_po)
    vendor.upload(notice)
    simulator.process_uploads()
    vendor.upload(_fewer(notice, +1))
    assert rules_of(simulator.process_uploads().findings) == ["asn_replace_quantity_up"]
    clock.advance(days=2)  # the truck has arrived
    vendor.upload(_fewer(notice, -1))
    assert rules_of(simulator.process_uploads().findings) == ["asn_replace_too_late"]
    po = simulator.purchase_order(confirmed_po)
    assert all(line.shipped == line.ordered_eaches for line in po.lines)


def test_856_ship_date_too_far_back(simulator, clock, vendor, confirmed_po):
    vendor.upload(
        vendor.ship_notice(
            confirmed_po,
            shipped_at=clock.now() - dt.timedelta(days=9),
            estimated_delivery=clock.today() + dt.timedelta(days=1),
        )
    )
    assert rules_of(simulator.process_uploads().findings) == ["asn_late", "asn_ship_date_out_of_range"]


def test_856_to_another_fulfilment_centre(simulator, catalogue, vendor, confirmed_po):
    po = simulator.purchase_order(confirmed_po)
    other = next(c for c in catalogue.centres if c.code != po.fc_code)
    notice = vendor.ship_notice(confirmed_po)
    parties = [p.model_copy(update={"id_qualifier": "92", "id_code": other.code}) for p in notice.parties]
    vendor.upload(notice.model_copy(update={"parties": parties}))
    findings = simulator.process_uploads().findings
    assert rules_of(findings) == ["asn_wrong_ship_to"] and other.code in findings[0].detail


def test_856_items_and_orders_amazon_does_not_know(simulator, vendor, confirmed_po):
    notice = vendor.ship_notice(confirmed_po)
    order = notice.orders[0]
    stranger = (
        order.packs[0]
        .items[0]
        .model_copy(update={"product_ids": [ProductId(qualifier="UP", value="099999000019")]})
    )
    packs = [order.packs[0].model_copy(update={"items": [stranger]}), *order.packs[1:]]
    unknown = order.model_copy(
        update={
            "purchase_order_number": "NOSUCHPO",
            "packs": [ShipmentPack(sscc=vendor.next_sscc(), items=[stranger])],
        }
    )
    vendor.upload(notice.model_copy(update={"orders": [order.model_copy(update={"packs": packs}), unknown]}))
    assert rules_of(simulator.process_uploads().findings) == ["asn_item_not_ordered", "asn_unknown_po"]


def test_invoices_amazon_cannot_match(simulator, vendor, shipped_po):
    invoice = vendor.invoice(shipped_po)
    vendor.upload(invoice.model_copy(update={"invoice_number": "X1", "purchase_order_number": "NOSUCHPO"}))
    stranger = invoice.lines[0].model_copy(
        update={"product_ids": [ProductId(qualifier="UP", value="099999000019")], "line_number": "77"}
    )
    vendor.upload(
        invoice.model_copy(
            update={"invoice_number": "X2", "lines": [stranger], "total_amount": stranger.extended_amount}
        )
    )
    findings = simulator.process_uploads().findings
    assert [(f.rule, f.invoice_number) for f in findings] == [
        ("invoice_unknown_po", "X1"),
        ("invoice_item_not_on_po", "X2"),
    ]
    assert simulator.state.invoices["X1"].status == "held"


def test_a_zero_invoice_is_refused(simulator, vendor, shipped_po):
    invoice = vendor.invoice(shipped_po)
    lines = [line.model_copy(update={"unit_price": Decimal(0)}) for line in invoice.lines]
    vendor.upload(invoice.model_copy(update={"lines": lines, "total_amount": Decimal(0)}))
    assert rules_of(simulator.process_uploads().findings) == ["invoice_zero_total"]
    assert simulator.state.invoices == {}
