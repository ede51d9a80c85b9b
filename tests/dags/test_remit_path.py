"""The whole money path, every DAG run for real: the Amazon simulator's POs -> sales orders ->
855s -> shipments -> ASNs, labels and invoices -> Amazon receives (some cartons short) and
pays with deductions (820) -> remit_to_journals posts a receipt and typed journals, every
shortage claim and chargeback gets its dispute packet, and the month ties out."""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from amazon_bluecherry.store.models import DisputeClaim, ReconciliationRun, Remittance, RemittanceLine
from tests.dags.conftest import run_dag, task_states

pytestmark = pytest.mark.slow

KIND_TO_TYPE = {"shortage_claim": "shortage_claim", "shortage_claim_reversal": "shortage_claim_reversal",
                "chargeback": "chargeback", "coop": "coop", "price_claim": "price_claim",
                "provision": "provision_for_receivables", "provision_reversal": "provision_reversal"}


def ok(run) -> None:
    assert set(task_states(run).values()) == {"success"}, task_states(run)


def pdf_text(path: Path) -> str:
    import pypdfium2

    document = pypdfium2.PdfDocument(str(path))
    try:
        return "\n".join(document[index].get_textpage().get_text_range() for index in range(len(document)))
    finally:
        document.close()


def test_amazon_pays_with_deductions_and_every_claim_gets_its_packet(dagbag, parties, tmp_path, monkeypatch):
    from amazon_bluecherry.settings import REPO_ROOT, reset_settings_cache
    from sandbox.amazon.catalogue import ItemCatalogue
    from sandbox.amazon.clock import SimulatedClock
    from sandbox.amazon.partner import AmazonSimulator

    mailbox, emulator, store = parties
    monkeypatch.setenv("AB_DISPUTE_PACKETS_DIR", str(tmp_path / "packets"))
    monkeypatch.setenv("AB_REPORTS_DIR", str(tmp_path / "reports"))
    reset_settings_cache()
    start = dt.datetime.now(dt.UTC).replace(microsecond=0)
    clock = SimulatedClock(start)
    amazon = AmazonSimulator(tmp_path / "amazon", mailbox, clock=clock, seed=11,
                             catalogue=ItemCatalogue.from_mappings(REPO_ROOT / "include" / "mappings"))
    numbers = [order.purchase_order for order in amazon.send_purchase_orders(6, defects_rate=0.0, seed=11)]
    ok(run_dag(dagbag, "po_to_so"))
    ok(run_dag(dagbag, "so_to_poa"))
    assert amazon.process_uploads().findings == []

    backend = emulator.backend
    orders = [o for o in backend.list_sales_orders(customer_pos=numbers) if any(li.qty_allocated for li in o.lines)]
    assert len(orders) >= 4
    for order in orders:
        backend.pick_and_pack(order.order_number)
        backend.invoice_shipment(backend.ship([order.order_number]).shipment_id)
    ok(run_dag(dagbag, "fulfilment_to_asn"))
    review = amazon.process_uploads()
    # (A shipment fulfilment_to_asn holds, e.g. more shipped than the 855 accepted, is not invoiced.)
    assert review.findings == [] and review.documents["856"] >= 3, [f.detail for f in review.findings]
    ok(run_dag(dagbag, "po_to_so"))                                       # Amazon's 997s for our ASNs and invoices

    # The goods arrive; half the cartons are received short. Amazon pays early (the test does
    # not wait for net 60): every invoice, less shortage claims, chargebacks, co-op, provision.
    clock.advance(days=10)
    receiving = amazon.run_receiving(0.5, seed=11)
    assert receiving.findings, "short cartons are charged back"
    paid = amazon.issue_remittance(start.date(), start.date() + dt.timedelta(days=90))
    assert paid is not None and paid.entries
    kinds = defaultdict(Decimal)
    for entry in paid.entries:
        kinds[KIND_TO_TYPE[entry.kind]] += entry.amount
    assert {"shortage_claim", "chargeback", "coop", "provision_for_receivables"} <= set(kinds)

    ok(run_dag(dagbag, "po_to_so"))                                       # the 820: stored, validated, 997'd
    run = run_dag(dagbag, "remit_to_journals")
    ok(run)

    with store.session() as db:
        (remittance,) = db.scalars(select(Remittance))
        lines = list(db.scalars(select(RemittanceLine)))
        claims = list(db.scalars(select(DisputeClaim).order_by(DisputeClaim.id)))
    assert (remittance.trace_number, remittance.status, remittance.payment_amount) == (
        paid.trace_number, "posted", paid.payment_amount)
    assert {line.match_status for line in lines} == {"matched", "classified"}, "all matched automatically"
    assert store.list_exceptions(type="unrecognised_deduction") == []

    # BlueCherry: the invoices are closed, and each typed journal carries what Amazon deducted.
    assert [item for item in backend.list_open_ar(bc_customer="AMAZON") if item.document_type == "invoice"
            and item.document_number in set(paid.invoices)] == []
    period = f"{remittance.payment_date:%Y-%m}"
    ledger = defaultdict(Decimal)
    for line in backend.list_ledger_lines(period):
        if line.source == "AMAZON-820" and line.account not in ("1200", "2150"):
            ledger[line.dimensions["deduction_type"]] += line.credit - line.debit
    assert dict(ledger) == dict(kinds)
    assert backend.check_invariants() == []

    # Every shortage claim and chargeback has its claim, its deadline and its packet.
    disputable = sorted(e.reference for e in paid.entries if e.kind in ("shortage_claim", "chargeback"))
    assert sorted(claim.claim_reference for claim in claims) == disputable
    for claim in claims:
        folder = Path(claim.packet_path)
        manifest = json.loads((folder / "manifest.json").read_text())
        found = {item["key"] for item in manifest["evidence"] if item["found"]}
        assert {"820", "850", "855", "856", "bill_of_lading", "997", "810", "labels"} <= found, (
            claim.claim_reference, manifest["missing"])
        assert claim.due_at.date() == remittance.payment_date + dt.timedelta(days=30)
        text = pdf_text(folder / "packet.pdf")
        assert claim.claim_reference in text and "Amazon's 997 for the ASN" in text
        sscc = next(name for name in manifest["files"] if name.startswith("labels/") and name.endswith(".pdf"))
        assert Path(sscc).stem in text, "every carton's SSCC is in the packet"
        assert (folder / sscc).read_bytes().startswith(b"%PDF")
        path = {row["doc_type"] for row in store.data_path(claim.transaction_id)}
        assert {"820", "deduction", "810", "856", "850"} <= path

    # The month ties out, and every remittance dollar was matched and posted automatically.
    run = run_dag(dagbag, "remit_to_journals", run_conf={"period": period,
                                                         "as_of": dt.datetime.now(dt.UTC).isoformat()})
    ok(run)
    with store.session() as db:
        report = db.scalars(select(ReconciliationRun).where(ReconciliationRun.period == period)
                            .order_by(ReconciliationRun.id.desc())).first()
    assert report.ties_out, report.totals["ties"]
    assert Decimal(report.totals["summary"]["automatically_matched_and_posted_percent"]) == Decimal("100.00")
    reset_settings_cache()
