"""Month-end reconciliation against the running BlueCherry emulator: ties out to the cent,
every section filled from real postings, and a backfill of the month gives the same bytes."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest

from amazon_bluecherry.bluecherry.models import JournalEntry, JournalLine
from amazon_bluecherry.bluecherry.rest import RestGateway
from amazon_bluecherry.flows.reconciliation import month_bounds, run_reconciliation
from tests.bluecherry.conftest import emulator, emulator_template  # noqa: F401
from tests.flows.remittances import Line, deduction, invoice, invoiced, make_820, receive
from tests.flows.test_remit_to_journals_steps import SETTINGS, run_all

UTC = dt.UTC
AS_OF = dt.datetime(2026, 11, 1, tzinfo=UTC)


@pytest.fixture
def gateway(emulator):  # noqa: F811
    client = RestGateway(emulator.url, emulator.api_key, timeout=10, max_retries=2, backoff=0.01, max_backoff=0.05)
    yield client
    client.close()


@pytest.fixture
def october(store, emulator, gateway):  # noqa: F811
    """Four invoices of 1 September (net 60: due 31 October); two remittances in October."""
    emulator.backend.clock.set(dt.datetime(2026, 9, 1, 10, tzinfo=UTC), frozen=True)
    invoices = invoiced(emulator, 4)
    emulator.backend.clock.reset()
    one, two, three, four = invoices
    first = make_820("0000001001", [
        invoice(one.invoice_number, str(one.total)), invoice(two.invoice_number, str(two.total)),
        deduction(f"{one.invoice_number}SC", "-4.25", about=("IV", one.invoice_number)),
        deduction("000000001VCBSINV", "-50.00", about=("SI", one.shipment_id)),
        deduction("4711-00000001", "-3.10"), deduction("261010-PROVISION FOR RECEIVABLES", "-1.50"),
        Line("WSO_144324_05", "-2.00"), invoice("INV0999999", "40.00")], paid_on=dt.date(2026, 10, 10), control=1001)
    second = make_820("0000001002", [
        invoice(three.invoice_number, str(three.total)), deduction(f"{three.invoice_number}PC", "-1.00"),
        deduction("261010-PROVISION FOR RECEIVABLESR", "1.50")], paid_on=dt.date(2026, 10, 24), control=1002)
    receive(store, first, name="AMZN820.1001", received_at=dt.datetime(2026, 10, 10, 16, tzinfo=UTC))
    receive(store, second, name="AMZN820.1002", received_at=dt.datetime(2026, 10, 24, 16, tzinfo=UTC))
    run_all(store, gateway)
    return invoices


def rows_of(content: bytes) -> list[dict]:
    return list(csv.DictReader(io.StringIO(content.decode())))


def test_the_month_ties_out_to_the_cent_with_every_section(store, emulator, gateway, october, tmp_path):  # noqa: F811
    one, two, three, four = october
    result = run_reconciliation(store, gateway, SETTINGS, period="2026-10", as_of=AS_OF, folder=tmp_path / "oct")
    report = result.reconciliation
    assert report.ties_out, [(t.name, t.difference) for t in report.ties if not t.ok]
    ties = {tie.name: (tie.left, tie.right) for tie in report.ties}
    payments = one.total + two.total + three.total + Decimal("40.00") - Decimal("60.35")
    assert ties["cash"] == (payments, payments)
    assert report.by_type == {
        "shortage_claim": (Decimal("-4.25"), Decimal("-4.25")), "chargeback": (Decimal("-50.00"), Decimal("-50.00")),
        "coop": (Decimal("-3.10"), Decimal("-3.10")), "price_claim": (Decimal("-1.00"), Decimal("-1.00")),
        "provision_for_receivables": (Decimal("-1.50"), Decimal("-1.50")),
        "provision_reversal": (Decimal("1.50"), Decimal("1.50")), "unrecognised": (Decimal("-2.00"), Decimal("-2.00"))}

    sections: dict[str, list] = {}
    for row in report.rows:
        sections.setdefault(row.section, []).append(row)
    assert [r.key for r in sections["remittance"]] == ["0000001001", "0000001002"]
    assert [r.key for r in sections["paid_in_full"]] == [two.invoice_number]
    assert {(r.key, r.amount) for r in sections["short_paid"]} == {
        (f"{one.invoice_number}/shortage_claim", Decimal("-4.25")), (f"{three.invoice_number}/price_claim",
                                                                    Decimal("-1.00"))}
    assert [(r.key, r.amount) for r in sections["unpaid_past_terms"]] == [(four.invoice_number, four.total)]
    assert {(r.document, r.amount) for r in sections["unmatched_payment"]} == {
        ("INV0999999", Decimal("40.00")), ("WSO_144324_05", Decimal("-2.00"))}
    # What was matched and posted automatically: everything but the two lines above.
    dollars = Decimal(report.summary["remittance_dollars"])
    assert Decimal(report.summary["automatically_matched_and_posted_dollars"]) == dollars - Decimal("42.00")

    # The CSV: every section's rows add up to its total row; the HTML has charts and working links.
    rows = rows_of(result.paths["csv"].read_bytes())
    for section in ("remittance", "short_paid", "unpaid_past_terms", "unmatched_payment"):
        listed = sum(Decimal(r["amount"]) for r in rows if r["section"] == section)
        (total,) = [Decimal(r["amount"]) for r in rows if r["section"] == f"total:{section}"]
        assert listed == total == report.section_total(section)
    assert all(r["status"] == "ties" for r in rows if r["section"] in ("tie_out", "by_type"))
    page = result.paths["html"].read_text()
    assert page.count("<svg") == 2 and "Ties out to the cent." in page
    links = [r["drill_down"] for r in rows if r["drill_down"].startswith("documents/")]
    assert len(links) == 2 and all((tmp_path / "oct" / link).read_bytes().startswith(b"ISA") for link in links)
    assert store.list_exceptions(type="reconciliation_difference") == []


def test_a_backfill_of_the_month_gives_the_same_report(store, emulator, gateway, october, tmp_path):  # noqa: F811
    one, two, three, four = october
    first = run_reconciliation(store, gateway, SETTINGS, period="2026-10", as_of=AS_OF, folder=tmp_path / "a")
    # Life goes on: November's remittance pays the last invoice, a late 820 for an October
    # payment arrives on 3 November, and more BlueCherry activity lands in October's ledger.
    receive(store, make_820("0000001003", [invoice(four.invoice_number, str(four.total))],
                            paid_on=dt.date(2026, 11, 5), control=1003),
            name="AMZN820.1003", received_at=dt.datetime(2026, 11, 5, 16, tzinfo=UTC))
    receive(store, make_820("0000001004", [deduction("000000002VCBSINV", "-5.00"),
                                           invoice("INV0888888", "30.00")], paid_on=dt.date(2026, 10, 30), control=1004),
            name="AMZN820.1004", received_at=dt.datetime(2026, 11, 3, 9, tzinfo=UTC))
    run_all(store, gateway)
    again = run_reconciliation(store, gateway, SETTINGS, period="2026-10", as_of=AS_OF, folder=tmp_path / "b")
    assert again.paths["csv"].read_bytes() == first.paths["csv"].read_bytes()
    assert again.paths["html"].read_bytes() == first.paths["html"].read_bytes()
    assert again.reconciliation.content_sha256 == first.reconciliation.content_sha256

    later = run_reconciliation(store, gateway, SETTINGS, period="2026-10", as_of=dt.datetime(2026, 11, 4, tzinfo=UTC),
                               folder=tmp_path / "c")
    assert [r.key for r in later.reconciliation.rows if r.section == "remittance"] == [
        "0000001001", "0000001002", "0000001004"]
    assert later.reconciliation.ties_out


def test_a_journal_posted_by_hand_under_our_reference_is_a_difference_for_finance(store, emulator, gateway,  # noqa: F811
                                                                                october, tmp_path):
    rogue = JournalEntry(posting_date=dt.date(2026, 10, 31), reference="AMZ-0000001001-CB", lines=[
        JournalLine(account="6100", debit=Decimal("7.00")), JournalLine(account="1200", credit=Decimal("7.00"))])
    gateway.post_journal_entry(rogue, idempotency_key="by-hand-1")
    result = run_reconciliation(store, gateway, SETTINGS, period="2026-10", as_of=AS_OF, folder=tmp_path)
    assert not result.reconciliation.ties_out
    differing = {tie.name: tie.difference for tie in result.reconciliation.ties if not tie.ok}
    assert differing == {"AR": Decimal("-7.00"), "journal chargeback": Decimal("7.00")}
    (exception,) = store.list_exceptions(type="reconciliation_difference")
    assert (exception.owner, exception.severity, exception.business_key) == ("finance", "critical", "2026-10")
    assert "DOES NOT TIE OUT" in result.paths["html"].read_text()


def test_month_bounds():
    assert month_bounds("2026-02") == (dt.date(2026, 2, 1), dt.date(2026, 2, 28))
    assert month_bounds("2026-12") == (dt.date(2026, 12, 1), dt.date(2026, 12, 31))


def test_the_cli_builds_the_report_and_exits_1_while_it_does_not_tie_out(store, emulator, gateway, october,  # noqa: F811
                                                                       tmp_path, monkeypatch, capsys):
    import json

    from amazon_bluecherry.cli import main
    from amazon_bluecherry.settings import reset_settings_cache
    from amazon_bluecherry.store import reset_store_cache

    monkeypatch.setenv("AB_DATABASE_URL", store.url)
    monkeypatch.setenv("AIRFLOW_CONN_BLUECHERRY_DEFAULT", emulator.airflow_connection())
    reset_settings_cache()
    reset_store_cache()
    try:
        assert main(["remit", "reconcile", "--period", "2026-10", "--as-of", "2026-11-01T00:00:00+00:00",
                     "--out", str(tmp_path / "ok"), "--json"]) == 0
        report = json.loads(capsys.readouterr().out)
        assert report["ties_out"] and report["summary"]["remittances"] == "2"
        assert (tmp_path / "ok" / "reconciliation-2026-10.html").is_file()
        rogue = JournalEntry(posting_date=dt.date(2026, 10, 31), reference="AMZ-0000001002-PC", lines=[
            JournalLine(account="6130", credit=Decimal("1.00")), JournalLine(account="1200", debit=Decimal("1.00"))])
        gateway.post_journal_entry(rogue, idempotency_key="reversed-by-hand")
        assert main(["remit", "reconcile", "--period", "2026-10", "--as-of", "2026-11-01T00:00:00+00:00",
                     "--out", str(tmp_path / "diff")]) == 1
        assert "DIFF journal price_claim" in capsys.readouterr().out
        assert main(["remit", "reconcile", "--period", "2026-13"]) == 2
    finally:
        reset_store_cache()
        reset_settings_cache()
