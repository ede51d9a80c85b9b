"""License plate receive: the dock scans every carton's label (ZPL or PDF) and looks the SSCC
up in the 856; a missing or foreign label and a carton whose content differs are charged
as Amazon's rules say, and what was really in the cartons is what counts as received."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from amazon_bluecherry.edi.gs1 import make_sscc
from amazon_bluecherry.flows.labels import LabelData, pdf, zpl
from sandbox.amazon.partner import ArrivingCarton
from sandbox.amazon.rulebook import load_rulebook
from sandbox.amazon.scanner import read_sscc, sscc_from_gs1

RATES = load_rulebook().rate_card.chargebacks


def label(sscc: str, *, form: str = "zpl") -> bytes | str:
    data = LabelData(sscc=sscc, carton_number=1, carton_count=1, ship_from=["Vendor DC"], ship_to=["Amazon ABE2"],
                     carrier="Old Dominion (ODFL)", tracking="PRO1", bill_of_lading="VENDR00000001",
                     purchase_orders=["PO X: 1 units"])
    return pdf(data) if form == "pdf" else zpl(data)


@pytest.fixture
def shipped(simulator, clock, vendor, one_po):
    """One PO acknowledged, its 856 accepted; the clock at the arrival day. -> (notice, cartons)."""
    clock.advance(hours=1)
    vendor.upload(vendor.acknowledgement(one_po))
    notice = vendor.ship_notice(one_po)
    vendor.upload(notice)
    vendor.upload(vendor.invoice(one_po))
    assert simulator.process_uploads().findings == []
    clock.set(dt.datetime.combine(notice.estimated_delivery_date, dt.time(11)))
    return notice


def as_packed(simulator, notice) -> list[tuple[str, dict[str, int]]]:
    """(SSCC, GTIN -> eaches) per carton exactly as the 856 says."""
    cartons = []
    for pack in notice.orders[0].packs:
        contents: dict[str, int] = {}
        for item in pack.items:
            gtin = simulator.catalogue.lookup(item.product_ids[0].qualifier, item.product_ids[0].value).upc
            contents[gtin] = contents.get(gtin, 0) + item.shipped_quantity
        cartons.append((pack.sscc, contents))
    return cartons


def ledger_by_rule(simulator) -> dict[str, list[Decimal]]:
    out: dict[str, list[Decimal]] = {}
    for entry in simulator.chargeback_ledger():
        out.setdefault(entry.rule, []).append(entry.amount)
    return out


def test_scanner_reads_the_sscc_of_zpl_and_pdf_labels_only_when_it_is_a_gs1_sscc():
    sscc = make_sscc(0, "0614141", 77)
    assert read_sscc(label(sscc)) == read_sscc(label(sscc).encode()) == sscc
    assert read_sscc(label(sscc, form="pdf")) == sscc
    wrong_digit = sscc[:-1] + str((int(sscc[-1]) + 1) % 10)
    assert read_sscc(label(sscc).replace(sscc, wrong_digit)) is None          # a bad check digit
    assert read_sscc(label(sscc).replace(">;>800", ">;00")) is None            # Code 128 without FNC1
    assert read_sscc("^XA^FO10,10^A0N,30,30^FDno barcode^FS^XZ") is None
    assert read_sscc(b"%PDF-1.4 torn") is None and read_sscc(None) is None
    assert sscc_from_gs1(f"]C1(00){sscc}") == sscc_from_gs1(f"\x1d00{sscc}") == sscc
    assert sscc_from_gs1(f"00{sscc}") is None


def test_cartons_labelled_as_the_856_and_packed_as_it_says_cost_nothing(simulator, shipped):
    cartons = as_packed(simulator, shipped)
    forms = ["pdf", "zpl"]
    simulator.deliver(shipped.shipment_id, [ArrivingCarton(label(sscc, form=forms[i % 2]), contents)
                                            for i, (sscc, contents) in enumerate(cartons)])
    result = simulator.run_receiving()
    assert result.findings == [] and simulator.chargeback_ledger() == []
    (receipt,) = result.receipts
    assert {c.sscc for c in receipt.cartons} == {sscc for sscc, _ in cartons}
    assert all(c.received_eaches == c.asn_eaches for c in receipt.cartons)
    po = simulator.purchase_order(shipped.orders[0].purchase_order_number)
    assert all(line.received == line.shipped > 0 for line in po.lines)


def test_a_carton_without_a_label_costs_no_carton_content_label_per_carton(simulator, shipped):
    cartons = as_packed(simulator, shipped)
    arriving = [ArrivingCarton(label(sscc), contents) for sscc, contents in cartons]
    arriving[0] = ArrivingCarton(None, cartons[0][1])
    simulator.deliver(shipped.shipment_id, arriving)
    (finding,) = simulator.run_receiving().findings
    assert finding.rule == "receipt_carton_without_label" and cartons[0][0] in finding.detail
    rate = RATES["no_carton_content_label"].rate_on(finding.at.date())
    assert ledger_by_rule(simulator) == {"receipt_carton_without_label": [-rate]}
    # Received by hand: nothing is short, so no shortage claim will follow.
    po = simulator.purchase_order(shipped.orders[0].purchase_order_number)
    assert all(line.received == line.shipped for line in po.lines)


def test_a_label_whose_sscc_is_not_the_856s_costs_no_carton_content_label(simulator, shipped):
    cartons = as_packed(simulator, shipped)
    stale = make_sscc(0, "0614141", 999_999)  # a label printed for another carton
    arriving = [ArrivingCarton(label(sscc, form="pdf"), contents) for sscc, contents in cartons]
    arriving[-1] = ArrivingCarton(label(stale, form="pdf"), cartons[-1][1])
    simulator.deliver(shipped.shipment_id, arriving)
    (finding,) = simulator.run_receiving().findings
    assert finding.rule == "receipt_carton_label_mismatch"
    assert stale in finding.detail and f"never scanned: {cartons[-1][0]}" in finding.detail
    rate = RATES["no_carton_content_label"].rate_on(finding.at.date())
    assert ledger_by_rule(simulator) == {"receipt_carton_label_mismatch": [-rate]}


def test_the_same_label_on_two_cartons_is_a_mismatch_for_the_second(simulator, shipped):
    cartons = as_packed(simulator, shipped)
    if len(cartons) < 2:
        pytest.skip("the seeded PO packs into one carton")
    arriving = [ArrivingCarton(label(sscc), contents) for sscc, contents in cartons]
    arriving[1] = ArrivingCarton(label(cartons[0][0]), cartons[1][1])
    simulator.deliver(shipped.shipment_id, arriving)
    (finding,) = simulator.run_receiving().findings
    assert finding.rule == "receipt_carton_label_mismatch" and "scanned twice" in finding.detail


def test_a_short_packed_carton_is_one_content_defect_now_and_a_shortage_claim_at_payment(simulator, clock,
                                                                                          shipped):
    cartons = as_packed(simulator, shipped)
    sscc, contents = cartons[0]
    gtin = next(iter(contents))
    short = dict(contents, **{gtin: contents[gtin] - 2})
    arriving = [ArrivingCarton(label(s), c) for s, c in cartons]
    arriving[0] = ArrivingCarton(label(sscc), short)
    simulator.deliver(shipped.shipment_id, arriving)
    (finding,) = simulator.run_receiving().findings
    assert finding.rule == "receipt_carton_mismatch" and sscc in finding.detail
    rate = RATES["carton_content_accuracy"].rate_on(finding.at.date())
    assert ledger_by_rule(simulator) == {"receipt_carton_mismatch": [-rate]}  # one defect

    # At payment: the two units the carton lacked, at the invoiced cost per each.
    po = simulator.purchase_order(shipped.orders[0].purchase_order_number)
    line = next(line for line in po.lines if simulator.catalogue.lookup(*line.product_ids[0]).upc == gtin)
    assert line.received == line.shipped - 2
    clock.advance(days=61)
    simulator.issue_remittance(po.order_date, clock.today())
    claim = simulator.state.ledger_entry(f"IN{po.number}SC")
    assert claim is not None and claim.amount == -(2 * line.confirmed_price).quantize(Decimal("0.01"))


def test_a_delivered_truck_needs_an_856_and_is_received_once(simulator, shipped):
    with pytest.raises(KeyError):
        simulator.deliver("NO-SUCH-SHIPMENT", [])
    simulator.deliver(shipped.shipment_id, [ArrivingCarton(label(s), c) for s, c in as_packed(simulator, shipped)])
    assert len(simulator.run_receiving().receipts) == 1
    with pytest.raises(ValueError):
        simulator.deliver(shipped.shipment_id, [])
