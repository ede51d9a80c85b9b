"""Receiving with shortages, and 820s whose every deduction points back to its cause."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

import pytest

from amazon_bluecherry.edi.parse import parse_file
from amazon_bluecherry.edi.validator import validate_file
from sandbox.amazon.rulebook import load_rulebook

CENT = Decimal("0.01")


def deliver(simulator, clock, vendor, count: int, *, seed: int = 21, price_delta=Decimal(0)) -> list[str]:
    """``count`` POs acknowledged, shipped, invoiced; the clock after every window has opened."""
    numbers = [s.purchase_order for s in simulator.send_purchase_orders(count, seed=seed)]
    clock.advance(hours=1)
    for number in numbers:
        vendor.upload(vendor.acknowledgement(number, price_delta=price_delta))
    simulator.process_uploads()
    for number in numbers:
        vendor.upload(vendor.ship_notice(number))
        vendor.upload(vendor.invoice(number))
    assert simulator.process_uploads().findings == []
    latest = max(simulator.purchase_order(n).window_start for n in numbers)
    clock.set(dt.datetime.combine(latest, dt.time(12)))
    return numbers


def remittance_file(simulator, result):
    content = (simulator.mailbox.download_dir / result.file_name).read_bytes()
    assert [v.status for _, _, v in validate_file(content).sets()] == ["A"]
    return parse_file(content)[0]


def test_every_short_carton_is_found_and_charged(simulator, clock, vendor):
    deliver(simulator, clock, vendor, 2)
    result = simulator.run_receiving(shortage_rate=1.0, seed=4)
    assert len(result.receipts) == 2
    rate = load_rulebook().rate_card.chargebacks["carton_content_accuracy"].rate_on(clock.today())
    for receipt in result.receipts:
        cartons = {c.sscc for c in receipt.cartons}
        short = {c.sscc for c in receipt.cartons if c.received_eaches < c.asn_eaches}
        assert short == cartons
        finding = next(f for f in result.findings if f.shipment_id == receipt.shipment_id)
        assert finding.rule == "receipt_carton_mismatch"
        assert simulator.state.ledger_entry(finding.chargeback).amount == -(rate * len(cartons))


def test_no_shortage_rate_means_no_shortage(simulator, clock, vendor):
    deliver(simulator, clock, vendor, 2)
    result = simulator.run_receiving(shortage_rate=0.0, seed=4)
    assert result.findings == [] and result.short_cartons == 0


def test_remittance_pays_invoices_less_deductions_that_add_up(simulator, clock, vendor):
    numbers = deliver(simulator, clock, vendor, 3)
    simulator.run_receiving(shortage_rate=0.5, seed=7, found_later_rate=0)
    chargebacks = simulator.chargeback_ledger(kind="chargeback")
    assert chargebacks, "seed 7 leaves some cartons short"
    clock.advance(days=61)
    result = simulator.issue_remittance(dt.date(2026, 3, 1), clock.today())
    ra = remittance_file(simulator, result)

    items = ra.items()
    assert ra.payment_amount == sum(item.amount_paid for item in items) == result.payment_amount
    assert ra.trace_number == result.trace_number
    by_reference = {item.reference_number: item for item in items}

    invoices = {inv.invoice_number: inv for inv in simulator.state.invoices.values()}
    assert set(result.invoices) == set(invoices) == {f"IN{n}" for n in numbers}
    for number, invoice in invoices.items():
        assert by_reference[number].amount_paid == by_reference[number].invoice_amount == invoice.total_amount
        assert invoice.status == "paid" and invoice.paid_in == ra.trace_number

    # Shortage claims, recomputed from the receipts: (invoiced - received) x price per line.
    received: dict[tuple[str, str], int] = defaultdict(int)
    for receipt in simulator.state.receipts:
        for carton in receipt.cartons:
            received[(carton.purchase_order, carton.line_number)] += carton.received_eaches
    for number, invoice in invoices.items():
        expected = sum(
            (
                (line.eaches - received[(invoice.purchase_order, line.line_number)]) * line.unit_price
                for line in invoice.lines
            ),
            Decimal(0),
        ).quantize(CENT)
        claim = simulator.state.ledger_entry(f"{number}SC")
        if expected:
            assert claim.amount == -expected and by_reference[f"{number}SC"].amount_paid == -expected
            assert claim.invoice_number == number and claim.purchase_order == invoice.purchase_order
            assert claim.receipt_ids and claim.remitted_in == ra.trace_number
        else:
            assert claim is None

    # Chargebacks: on the remittance, each tied to the finding that caused it.
    for entry in chargebacks:
        assert (
            entry.reference.endswith("VCBSINV") and by_reference[entry.reference].amount_paid == entry.amount
        )
        finding = next(f for f in simulator.findings() if f.finding_id == entry.finding_id)
        assert finding.chargeback == entry.reference and finding.shipment_id == entry.shipment_id

    # Co-op and provision: percent of the invoices paid.
    gross = sum((inv.total_amount for inv in invoices.values()), Decimal(0))
    rules = load_rulebook().remittance
    coop = [e for e in result.entries if e.kind == "coop"]
    assert [e.amount for e in coop] == [
        -(gross * a.percent / 100).quantize(CENT) for a in rules.coop_agreements
    ]
    assert all(len(e.reference) == 13 and e.reference[4] == "-" for e in coop)
    provision = next(e for e in result.entries if e.kind == "provision")
    assert provision.reference == f"{clock.now():%y%m%d}-PROVISION FOR RECEIVABLES"
    assert provision.amount == -(gross * rules.provision_percent / 100).quantize(CENT)

    # Every deduction line: no invoice amount, paid = its ADX, reason code from the data.
    for entry in result.entries:
        item = by_reference[entry.reference]
        assert item.invoice_amount is None and item.adjustments[0].amount == item.amount_paid == entry.amount
        assert item.adjustments[0].reason_code == rules.adjustment_reason_codes[entry.kind]
        assert entry.remitted_in == ra.trace_number
    assert set(by_reference) == set(result.invoices) | {e.reference for e in result.entries}
    assert simulator.chargeback_ledger(open_only=True) == []


def test_the_next_remittance_releases_the_provision_and_credits_a_reversed_claim(simulator, clock, vendor):
    deliver(simulator, clock, vendor, 2)
    simulator.run_receiving(shortage_rate=1.0, seed=3, found_later_rate=0)
    clock.advance(days=61)
    first = simulator.issue_remittance(dt.date(2026, 3, 1), clock.today())
    claim = next(e for e in first.entries if e.kind == "shortage_claim")
    provision = next(e for e in first.entries if e.kind == "provision")
    clock.advance(days=1)
    reversal = simulator.reverse_shortage_claim(claim.reference)
    assert reversal.reference == f"{claim.invoice_number}SCR" and reversal.amount == -claim.amount
    with pytest.raises(ValueError, match="already reversed"):
        simulator.reverse_shortage_claim(claim.reference)
    clock.advance(days=6)
    second = simulator.issue_remittance(clock.today() - dt.timedelta(days=6), clock.today())
    ra = remittance_file(simulator, second)
    lines = {item.reference_number: item.amount_paid for item in ra.items()}
    assert lines == {reversal.reference: -claim.amount, provision.reference + "R": -provision.amount}
    assert ra.payment_amount == -claim.amount - provision.amount
    assert simulator.state.ledger_entry(provision.reference).reversed_by == provision.reference + "R"


def test_a_price_claim_when_the_invoice_costs_more_than_the_po(simulator, clock, vendor):
    numbers = deliver(simulator, clock, vendor, 1, price_delta=Decimal("1.00"))
    assert simulator.findings() == []  # 810 = 855 cost: compliant, but above the PO cost
    simulator.run_receiving(shortage_rate=0.0)
    clock.advance(days=61)
    result = simulator.issue_remittance(dt.date(2026, 3, 1), clock.today())
    claim = simulator.state.ledger_entry(f"IN{numbers[0]}PC")
    eaches = sum(line.received for line in simulator.purchase_order(numbers[0]).lines)
    assert claim.amount == -Decimal(eaches) and claim.kind == "price_claim"
    assert claim.remitted_in == result.trace_number


def test_nothing_due_means_no_remittance_and_no_change(simulator, clock, vendor):
    deliver(simulator, clock, vendor, 1)
    simulator.run_receiving(shortage_rate=0.0)
    before = simulator.state.model_dump()
    assert simulator.issue_remittance(dt.date(2026, 3, 1), clock.today()) is None
    assert simulator.state.model_dump() == before
    assert not list(simulator.mailbox.download_dir.glob("VENDR820.*"))


def test_an_invoice_not_received_is_held(simulator, clock, vendor):
    deliver(simulator, clock, vendor, 1)
    clock.advance(days=61)  # nothing was received: no run_receiving
    assert simulator.issue_remittance(dt.date(2026, 3, 1), clock.today()) is None
    assert [inv.status for inv in simulator.state.invoices.values()] == ["open"]


def test_deductions_beyond_the_payment_wait_for_the_next_one(simulator, clock, vendor):
    numbers = deliver(simulator, clock, vendor, 1)
    simulator.run_receiving(shortage_rate=0.0)
    invoice = simulator.state.invoices[f"IN{numbers[0]}"]
    for _ in range(int(invoice.total_amount / 150) + 3):
        simulator.books.finding(
            "asn_unapproved_scac",
            at=clock.now(),
            document="856 test",
            detail="for the test",
            purchase_order=numbers[0],
        )
    clock.advance(days=61)
    result = simulator.issue_remittance(dt.date(2026, 3, 1), clock.today())
    assert result is not None and result.payment_amount > 0
    deferred = simulator.remittances()[-1].deferred
    assert deferred and all(simulator.state.ledger_entry(ref).remitted_in is None for ref in deferred)
    assert set(deferred).isdisjoint(e.reference for e in result.entries)


def test_units_confirmed_but_never_shipped_are_not_filled(simulator, clock, vendor, one_po):
    clock.advance(hours=1)
    vendor.upload(vendor.acknowledgement(one_po))
    simulator.process_uploads()
    po = simulator.purchase_order(one_po)
    clock.set(dt.datetime.combine(po.window_end, dt.time(23)))
    assert simulator.run_receiving().findings == []
    clock.advance(hours=2)
    findings = simulator.run_receiving().findings
    assert [f.rule for f in findings] == ["po_not_filled"]
    rate = load_rulebook().rate_card.chargebacks["not_filled"].rate_on(clock.today())
    cogs = sum((line.unit_price * line.ordered_eaches for line in po.lines), Decimal(0))
    assert simulator.state.ledger_entry(findings[0].chargeback).amount == -(cogs * rate / 100).quantize(CENT)
    assert simulator.run_receiving().findings == []


def test_a_delivery_before_the_window_is_not_on_time(simulator, clock, vendor, one_po):
    clock.advance(hours=1)
    vendor.upload(vendor.acknowledgement(one_po))
    vendor.upload(vendor.ship_notice(one_po, estimated_delivery=clock.today() + dt.timedelta(days=1)))
    simulator.process_uploads()
    clock.advance(days=1, hours=6)
    findings = simulator.run_receiving().findings
    assert [f.rule for f in findings] == ["delivery_not_on_time"]


def test_an_invoiced_item_not_on_the_po_is_claimed_short(simulator, clock, vendor):
    from amazon_bluecherry.edi.documents import ProductId

    numbers = deliver(simulator, clock, vendor, 1)
    invoice = vendor.invoice(numbers[0], invoice_number="EXTRA1")
    stranger = invoice.lines[0].model_copy(
        update={"product_ids": [ProductId(qualifier="UP", value="099999000019")], "line_number": "77"}
    )
    vendor.upload(invoice.model_copy(update={"lines": [stranger], "total_amount": stranger.extended_amount}))
    assert [f.rule for f in simulator.process_uploads().findings] == ["invoice_item_not_on_po"]
    simulator.run_receiving(shortage_rate=0.0)
    clock.advance(days=61)
    simulator.issue_remittance(dt.date(2026, 3, 1), clock.today())
    claim = simulator.state.ledger_entry("EXTRA1SC")
    assert claim.amount == -stranger.extended_amount and "not on the PO" in claim.basis
    assert simulator.state.ledger_entry(f"IN{numbers[0]}SC") is None
