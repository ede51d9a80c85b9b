"""Dispute claims: opened once per shortage claim and chargeback posted, a packet even when the
evidence is thin (saying what is missing), alerts at day 20 and 25, closed by finance."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from sqlalchemy import select

from amazon_bluecherry.bluecherry.rest import RestGateway
from amazon_bluecherry.cli import main
from amazon_bluecherry.flows.dispute_packets import assemble_packets, open_claims, watch_dispute_windows
from amazon_bluecherry.settings import Settings
from amazon_bluecherry.store.models import Deadline, DisputeClaim
from tests.bluecherry.conftest import emulator, emulator_template  # noqa: F401
from tests.flows.remittances import deduction, invoice, invoiced, make_820, receive
from tests.flows.test_remit_to_journals_steps import run_all

PAID_ON = dt.date(2026, 10, 23)


@pytest.fixture
def posted(store, emulator, tmp_path):  # noqa: F811
    """A posted remittance with a shortage claim, a chargeback for an unknown shipment, and co-op."""
    gateway = RestGateway(emulator.url, emulator.api_key, timeout=10, max_retries=2, backoff=0.01)
    first = invoiced(emulator, 1)[0]
    receive(store, make_820("0000002001", [
        invoice(first.invoice_number, str(first.total)),
        deduction(f"{first.invoice_number}SC", "-6.00", about=("IV", first.invoice_number),
                  description="Shortage claim"),
        deduction("000000077VCBSINV", "-15.00", about=("SI", "SH-NOT-OURS"), description="No Carton Content Label"),
        deduction("4711-00000009", "-2.00")], paid_on=PAID_ON))
    run_all(store, gateway)
    gateway.close()
    return Settings(dispute_packets_dir=tmp_path / "packets")


def at(days: int, hour: int = 9) -> dt.datetime:
    return dt.datetime.combine(PAID_ON + dt.timedelta(days=days), dt.time(hour), tzinfo=dt.UTC)


def test_claims_are_opened_once_with_their_deadline_and_data_path(store, posted):
    opened = open_claims(store, posted, now=at(1))
    assert len(opened) == 2 and open_claims(store, posted, now=at(2)) == []
    with store.session() as db:
        claims = {c.claim_reference: c for c in db.scalars(select(DisputeClaim))}
        deadlines = {d.business_key: d.due_at for d in db.scalars(select(Deadline).where(Deadline.kind == "dispute_due"))}
    assert set(claims) == {"INV0000001SC", "000000077VCBSINV"}
    assert deadlines == {reference: dt.datetime(2026, 11, 22, tzinfo=dt.UTC) for reference in claims}
    assert claims["000000077VCBSINV"].amount == Decimal("-15.00")
    path = {row["doc_type"] for row in store.data_path(claims["INV0000001SC"].transaction_id)}
    assert {"820", "deduction"} <= path


def test_a_packet_without_the_shipping_documents_says_what_is_missing(store, posted, caplog):
    result = assemble_packets(store, posted, now=at(1))
    assert len(result.assembled) == 2 and len(result.incomplete) == 2
    folder = posted.effective_dispute_packets_dir / "000000077VCBSINV"
    manifest = json.loads((folder / "manifest.json").read_text())
    assert {item["key"] for item in manifest["evidence"] if item["found"]} == {"820"}
    assert "our ASN (856) with cartons and SSCCs" in manifest["missing"]
    assert (folder / "packet.pdf").read_bytes().startswith(b"%PDF")
    assert sorted(manifest["files"]) == ["820-0000002001.edi", "packet.pdf"]
    incomplete = store.list_exceptions(type="dispute_packet_incomplete")
    assert {e.business_key for e in incomplete} == {"INV0000001SC", "000000077VCBSINV"}
    assert all(e.owner == "finance" for e in incomplete)
    # The next run rebuilds them (evidence may have arrived) without a second exception.
    assert len(assemble_packets(store, posted, now=at(2)).assembled) == 2
    assert len(store.list_exceptions(type="dispute_packet_incomplete")) == 2


def test_a_po_amazon_re_sent_keeps_our_855_and_a_rebuilt_packet_keeps_one_open_exception(store, emulator,  # noqa: F811
                                                                                           tmp_path):
    """"PO not filled" against a PO Amazon re-sent later (the new copy held, no 855 of its own):
    the packet carries the 855 we sent for the PO; when a rebuild finds more, the exception
    saying what the first build lacked is resolved, not left beside the new one."""
    from tests.flows.conftest import make_850

    settings = Settings(dispute_packets_dir=tmp_path / "packets")
    gateway = RestGateway(emulator.url, emulator.api_key, timeout=10, max_retries=2, backoff=0.01)
    (paid,) = invoiced(emulator, 1)
    receive(store, make_820("0000002002", [
        invoice(paid.invoice_number, str(paid.total)),
        deduction("000000078VCBSINV", "-9.00", about=("PO", "POX1"), description="PO On-Time Accuracy - Not Filled")],
        paid_on=PAID_ON, control=174))
    run_all(store, gateway)
    gateway.close()
    copies = []
    for control, status in (("000000301", "superseded"), ("000000302", "held")):
        raw_id, _ = store.save_raw_document(make_850("POX1", control=control), partner="AMAZON", transport="sftp")
        copies.append(store.add_transaction("850", direction="in", partner="AMAZON", business_key="POX1",
                                            raw_document_id=raw_id, status=status))
    assemble_packets(store, settings, now=at(1))
    (first,) = store.list_exceptions(type="dispute_packet_incomplete")
    assert "our acknowledgement (855)" in first.message

    # Our 855 answered the first copy (the store links it there).
    raw_id, _ = store.save_raw_document(b"ISA*00*855 as sent~", partner="AMAZON", transport="sftp", direction="out")
    acknowledgement = store.add_transaction("855", direction="out", partner="AMAZON", business_key="POX1",
                                            raw_document_id=raw_id, status="acknowledged")
    store.link(copies[0], acknowledgement, "acknowledgement")
    assemble_packets(store, settings, now=at(2))
    manifest = json.loads((settings.effective_dispute_packets_dir / "000000078VCBSINV" / "manifest.json").read_text())
    assert {"820", "850", "855"} <= {item["key"] for item in manifest["evidence"] if item["found"]}
    (still_open,) = store.list_exceptions(type="dispute_packet_incomplete", status="open")
    assert still_open.id != first.id and "our acknowledgement (855)" not in still_open.message
    (resolved,) = store.list_exceptions(type="dispute_packet_incomplete", status="resolved")
    assert resolved.id == first.id and "the packet was rebuilt" in resolved.resolution_note


def test_alerts_at_day_20_and_25_then_the_window_closes(store, posted, caplog):
    open_claims(store, posted, now=at(1))
    assert watch_dispute_windows(store, posted, now=at(19)) == {"alerted": [], "expired": []}
    assert len(watch_dispute_windows(store, posted, now=at(20))["alerted"]) == 2
    assert watch_dispute_windows(store, posted, now=at(21))["alerted"] == []          # once per day mark
    assert len(watch_dispute_windows(store, posted, now=at(25))["alerted"]) == 2
    closing = store.list_exceptions(type="dispute_window_closing")
    assert len(closing) == 4 and {e.owner for e in closing} == {"finance"}
    assert any("at day 25" in e.message and "(4 day(s) left)" in e.message for e in closing)
    assert len(watch_dispute_windows(store, posted, now=at(30, hour=0))["expired"]) == 2
    with store.session() as db:
        assert {c.status for c in db.scalars(select(DisputeClaim))} == {"expired"}


def test_a_claim_found_late_gets_one_alert(store, posted):
    open_claims(store, posted, now=at(26))
    result = watch_dispute_windows(store, posted, now=at(26))
    assert len(result["alerted"]) == 2 and len(store.list_exceptions(type="dispute_window_closing")) == 2
    assert watch_dispute_windows(store, posted, now=at(27))["alerted"] == []


def test_the_cli_builds_a_packet_and_finance_closes_the_claim(store, posted, tmp_path, monkeypatch, capsys):
    from amazon_bluecherry.settings import reset_settings_cache
    from amazon_bluecherry.store import reset_store_cache

    monkeypatch.setenv("AB_DATABASE_URL", store.url)
    reset_settings_cache()
    reset_store_cache()
    open_claims(store, posted, now=at(1))
    try:
        assert main(["remit", "packet", "INV0000001SC", "--out", str(tmp_path / "out"), "--json"]) == 0
        manifest = json.loads(capsys.readouterr().out)
        assert manifest["claim"]["reference"] == "INV0000001SC" and "packet.pdf" in manifest["files"]
        assert (tmp_path / "out" / "INV0000001SC" / "packet.pdf").is_file()
        assert main(["remit", "packet", "NOSUCHSC", "--out", str(tmp_path / "out")]) == 1
        watch_dispute_windows(store, posted, now=at(20))
        assert main(["remit", "dispute", "INV0000001SC", "--note", "Vendor Central case 4711"]) == 0
        assert main(["remit", "accept", "000000077VCBSINV", "--note", "label was missing; warehouse agrees"]) == 0
        assert watch_dispute_windows(store, posted, now=at(25))["alerted"] == []
        assert {e.status for e in store.list_exceptions(type="dispute_window_closing")} == {"resolved"}
        with store.session() as db:
            assert {c.claim_reference: c.status for c in db.scalars(select(DisputeClaim))} == {
                "INV0000001SC": "disputed", "000000077VCBSINV": "accepted"}
    finally:
        reset_store_cache()
        reset_settings_cache()
