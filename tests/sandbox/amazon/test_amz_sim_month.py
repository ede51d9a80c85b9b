"""A simulated month: Amazon and a stand-in vendor on the simulated clock, end to end."""

from __future__ import annotations

import datetime as dt

import pytest

from amazon_bluecherry.edi.parse import parse_file
from amazon_bluecherry.edi.validator import validate_file
from sandbox.amazon.clock import SimulatedClock
from sandbox.amazon.mailbox import FolderMailbox
from sandbox.amazon.partner import AmazonSimulator, PartnerIdentity
from sandbox.amazon.rulebook import load_rulebook
from sandbox.amazon.simulation import simulate_month
from sandbox.amazon.standin_vendor import StandInVendor, VendorBehaviour

NET_DAYS = 7


def run_month(tmp_path, catalogue, start, behaviour, *, days, orders_per_day, defects_rate, shortage_rate):
    mailbox = FolderMailbox(tmp_path / "mailbox")
    simulator = AmazonSimulator(
        tmp_path / "state",
        mailbox,
        SimulatedClock(start),
        catalogue,
        identity=PartnerIdentity(),
        rulebook=load_rulebook().with_net_days(NET_DAYS),
        seed=5,
    )
    vendor = StandInVendor(
        mailbox.download_dir,
        mailbox.upload_dir,
        catalogue,
        behaviour=behaviour,
        seed=6,
        deliver=lambda po, at, cartons: simulator.record_delivery(po, at=at, cartons=cartons),
    )
    report = simulate_month(
        simulator,
        vendor,
        days=days,
        orders_per_day=orders_per_day,
        defects_rate=defects_rate,
        shortage_rate=shortage_rate,
        seed=7,
    )
    return simulator, vendor, report


def test_a_month_with_a_correct_vendor(tmp_path, catalogue, start):
    simulator, vendor, report = run_month(
        tmp_path,
        catalogue,
        start,
        VendorBehaviour(net_days=NET_DAYS),
        days=30,
        orders_per_day=2,
        defects_rate=0.2,
        shortage_rate=0.05,
    )
    assert simulator.clock.now() == start + dt.timedelta(days=30)
    business_days = sum(1 for d in range(30) if (start + dt.timedelta(days=d)).weekday() < 5)
    assert report.purchase_orders_sent == 2 * business_days

    # Every PO the vendor could read was acknowledged; Amazon's own defects cost the vendor nothing.
    broken = {d.purchase_order for d in simulator.state.defects if d.kind == "invalid_file"}
    for po in simulator.state.purchase_orders.values():
        assert (po.first_acknowledged_at is None) == (po.number in broken), po.number
    assert {f.rule for f in simulator.findings()} == {"receipt_carton_mismatch"}

    # Files: a 997 for each of the vendor's documents, a 997 from the vendor for each of ours.
    received = [f for f in simulator.state.files if f.direction == "received"]
    assert received and all(f.ack_file for f in received if f.set_ids != ["997"])
    assert all(set(f.set_statuses.values()) == {"A"} for f in received)
    sent = [f for f in simulator.state.files if f.direction == "sent" and f.set_ids != ["997"]]
    assert all(f.vendor_ack_status for f in sent)
    broken_files = {d.file_name for d in simulator.state.defects if d.kind == "invalid_file"}
    for f in sent:
        assert f.vendor_ack_status == ("R" if f.name in broken_files else "A"), f.name

    # Weekly remittances, each adding up, paying what fell due and was received.
    assert len(report.remittances) >= 3
    for result in report.remittances:
        content = (simulator.store.state_dir / "archive" / "sent" / result.file_name).read_bytes()
        assert [v.status for _, _, v in validate_file(content).sets()] == ["A"]
        remittance = parse_file(content)[0]
        assert remittance.payment_amount == sum(item.amount_paid for item in remittance.items()) > 0
    last = simulator.remittances()[-1]
    for invoice in simulator.state.invoices.values():
        received_any = any(
            invoice.purchase_order in r.purchase_orders and r.at.date() <= last.period_end
            for r in simulator.state.receipts
        )
        if invoice.due_date <= last.period_end and received_any:
            assert invoice.status == "paid", invoice.invoice_number
    remitted = {r.trace_number for r in simulator.remittances()}
    assert all(entry.remitted_in in remitted for entry in simulator.chargeback_ledger() if entry.remitted_in)
    assert vendor.remittances, "the vendor picked up the 820s"

    # The state is on disk and reloads to the same books.
    again = AmazonSimulator(simulator.store.state_dir, None, None, catalogue, identity=PartnerIdentity())
    assert again.clock.now() == simulator.clock.now()
    assert again.compliance_summary() == simulator.compliance_summary()


# The finding(s) each stand-in vendor mistake must cause for the document it went into.
EXPECTED = {
    "late_855": {"poa_missing", "poa_late"},
    "missing_asn": {"asn_missing", "invoice_quantity_exceeds_shipped"},
    "late_asn": {"asn_late"},
    "unapproved_scac": {"asn_unapproved_scac"},
    "reused_sscc": {"asn_duplicate_sscc"},
    "date_bol": {"asn_bol_looks_like_date", "asn_bol_not_unique"},
    "invoice_price_error": {"invoice_cost_mismatch"},
    "over_invoice": {"invoice_quantity_exceeds_shipped"},
}


@pytest.fixture(scope="module")
def month_with_mistakes(tmp_path_factory, catalogue, start):
    rate = 0.25
    behaviour = VendorBehaviour(
        net_days=NET_DAYS,
        late_855_rate=rate,
        missing_asn_rate=rate,
        late_asn_rate=rate,
        unapproved_scac_rate=rate,
        reused_sscc_rate=rate,
        date_bol_rate=rate,
        invoice_price_error_rate=rate,
        over_invoice_rate=rate,
    )
    return run_month(
        tmp_path_factory.mktemp("mistakes"),
        catalogue,
        start,
        behaviour,
        days=21,
        orders_per_day=2,
        defects_rate=0.0,
        shortage_rate=0.0,
    )


def test_each_vendor_mistake_is_found_and_nothing_else(month_with_mistakes):
    simulator, vendor, _ = month_with_mistakes
    assert {kind for kind, _ in vendor.mistakes} == set(EXPECTED)
    findings = simulator.findings()
    explained = set()
    for kind, document in vendor.mistakes:
        number = document.rsplit(" ", 1)[-1]
        matching = [f for f in findings if f.rule in EXPECTED[kind] and number in (f.purchase_order or "")]
        assert matching, f"{kind} in {document} was not found"
        explained |= {f.finding_id for f in matching}
    unexplained = [(f.rule, f.document) for f in findings if f.finding_id not in explained]
    assert unexplained == []


def test_mistakes_turn_into_chargebacks_on_the_remittances(month_with_mistakes):
    simulator, _, report = month_with_mistakes
    charged = {f.rule for f in simulator.findings() if f.chargeback}
    assert {
        "poa_missing",
        "asn_missing",
        "asn_late",
        "asn_unapproved_scac",
        "asn_duplicate_sscc",
        "asn_bol_looks_like_date",
    } <= charged
    on_remittances = {ref for r in report.remittances for ref in (e.reference for e in r.entries)}
    remitted = [e for e in simulator.chargeback_ledger(kind="chargeback") if e.remitted_in]
    assert remitted and all(e.reference in on_remittances for e in remitted)
