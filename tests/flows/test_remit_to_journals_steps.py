"""remit_to_journals steps against the running BlueCherry emulator and the store (both backends):
820 accepted by the real intake -> classified -> gated -> one receipt and one journal per type."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

import pytest
from sqlalchemy import select

from amazon_bluecherry.bluecherry.gateway import TransientGatewayError
from amazon_bluecherry.bluecherry.models import JournalEntry, JournalLine
from amazon_bluecherry.bluecherry.rest import RestGateway
from amazon_bluecherry.flows.remit_codes import load_remit_codes
from amazon_bluecherry.flows.remit_to_journals_steps import (
    classify_received,
    gate_classified,
    post_gated,
    requeue_remittance,
)
from amazon_bluecherry.settings import Settings
from amazon_bluecherry.store.models import Remittance, RemittanceLine, RemittancePosting, Transaction
from tests.bluecherry.conftest import emulator, emulator_template  # noqa: F401
from tests.conftest import REPO_ROOT
from tests.flows.remittances import Line, deduction, invoice, invoiced, make_820, receive

SETTINGS = Settings()
CODES = load_remit_codes(REPO_ROOT / "include" / "mappings")


@pytest.fixture
def gateway(emulator):  # noqa: F811
    client = RestGateway(emulator.url, emulator.api_key, timeout=10, max_retries=2, backoff=0.01, max_backoff=0.05)
    yield client
    client.close()


def run_all(store, gateway, codes=CODES, now=None):
    from datetime import UTC, datetime

    now = now or datetime.now(UTC)
    classified = classify_received(store, gateway, codes, SETTINGS, now=now)
    gated = gate_classified(store, gateway, SETTINGS, now=now)
    posted = post_gated(store, gateway, SETTINGS)
    return classified, gated, posted


def ledger(emulator, period="2026-10"):  # noqa: F811
    return emulator.backend.list_ledger_lines(period)


def remittance_820(invoices, *, trace="0000000101", control=201, extra=()):
    first, second, third = invoices[:3]
    return make_820(trace, [
        invoice(first.invoice_number, str(first.total), po=first.customer_po),
        invoice(second.invoice_number, str(second.total), po=second.customer_po),
        invoice(third.invoice_number, str(third.total), po=third.customer_po),
        deduction(f"{first.invoice_number}SC", "-4.25", code="SC", about=("IV", first.invoice_number)),
        deduction("000000001VCBSINV", "-50.00", code="CB", about=("SI", first.shipment_id),
                  description="ASN Accuracy - Late ASN"),
        deduction("4711-00000001", "-3.10", code="CO"),
        deduction("261023-PROVISION FOR RECEIVABLES", "-1.50", code="PR"),
        *extra,
    ], control=control)


def test_a_remittance_is_classified_gated_and_posted_once(store, emulator, gateway, caplog):  # noqa: F811
    invoices = invoiced(emulator, 3)
    (transaction_id,) = receive(store, remittance_820(invoices, extra=[Line("WSO_144324_05", "-2.00")]))
    classified, gated, posted = run_all(store, gateway)
    assert len(classified.remittance_ids) == 1 and classified.unrecognised_lines == 1
    assert gated.gated == classified.remittance_ids and posted.posted == classified.remittance_ids
    # The run's alert_owners task tells finance (flows.alerting; channels are tested in tests/test_alerts.py).
    from datetime import UTC, datetime

    from amazon_bluecherry.alerts import Outcome
    from amazon_bluecherry.flows.alerting import announce_new_exceptions
    from amazon_bluecherry.settings import get_settings

    told = []
    announce_new_exceptions(store, get_settings(), now=datetime.now(UTC),
                            send=lambda alert, _settings: told.append(alert) or Outcome("sent"))
    (finance,) = [alert for alert in told if alert.owner == "finance"]
    assert "unrecognised_deduction" in finance.title and "WSO_144324_05" in finance.message

    total = sum((i.total for i in invoices), Decimal(0))
    payment = total - Decimal("60.85")
    lines = ledger(emulator)
    cash = [line for line in lines if line.account == "1010"]
    assert [(line.debit, line.reference) for line in cash] == [(payment, "AMZ-0000000101")]
    by_type = Counter()
    for line in lines:
        if line.source == "AMAZON-820" and line.account not in ("1200", "2150"):
            by_type[(line.dimensions["deduction_type"], line.account)] += line.debit - line.credit
    assert by_type == {("shortage_claim", "6110"): Decimal("4.25"), ("chargeback", "6100"): Decimal("50.00"),
                       ("coop", "6120"): Decimal("3.10"), ("provision_for_receivables", "1250"): Decimal("1.50"),
                       ("unrecognised", "1299"): Decimal("2.00")}
    journals = {line.reference for line in lines if line.source == "AMAZON-820"}
    assert journals == {"AMZ-0000000101-SC", "AMZ-0000000101-CB", "AMZ-0000000101-COOP", "AMZ-0000000101-PROV",
                        "AMZ-0000000101-SUSP"}
    # The invoices are closed in the AR sub-ledger, and AR in the GL agrees.
    assert emulator.backend.list_open_ar(bc_customer="AMAZON") == []
    ar = sum((line.debit - line.credit for line in emulator.backend.list_ledger_lines("2026-11") + lines
              if line.account == "1200"), Decimal(0))
    assert ar == 0 and emulator.backend.check_invariants() == []

    with store.session() as db:
        remittance = db.scalar(select(Remittance))
        assert (remittance.status, remittance.payment_amount, remittance.line_count) == ("posted", payment, 8)
        assert db.get(Transaction, transaction_id).status == "posted"
        postings = list(db.scalars(select(RemittancePosting)))
        assert {p.status for p in postings} == {"posted"} and len(postings) == 6
        statuses = Counter(db.scalars(select(RemittanceLine.match_status)))
        assert statuses == {"matched": 3, "classified": 4, "suspense": 1}
    (unrecognised,) = store.list_exceptions(type="unrecognised_deduction")
    assert (unrecognised.owner, unrecognised.business_key) == ("finance", "WSO_144324_05")

    # A re-run, and a replay of every step, write nothing more.
    count = len(ledger(emulator))
    again = run_all(store, gateway)
    assert again[0].remittance_ids == [] and again[2].writes == 0
    assert len(ledger(emulator)) == count


def test_a_second_copy_of_a_trace_number_is_blocked_and_posts_nothing(store, emulator, gateway):  # noqa: F811
    invoices = invoiced(emulator, 3)
    receive(store, remittance_820(invoices, control=301), name="AMZN820.1")
    run_all(store, gateway)
    count = len(ledger(emulator))
    receive(store, remittance_820(invoices, control=302), name="AMZN820.2")     # same TRN02, new control numbers
    classified, gated, posted = run_all(store, gateway)
    assert gated.blocked == classified.remittance_ids and posted.writes == 0
    assert len(ledger(emulator)) == count
    (blocked,) = store.list_exceptions(type="remittance_quality_check_failed")
    assert blocked.owner == "finance" and "no trace number posted before" in blocked.message


def test_lines_that_do_not_add_up_to_the_payment_block_the_remittance(store, emulator, gateway):  # noqa: F811
    invoices = invoiced(emulator, 1)
    receive(store, make_820("0000000201", [invoice(invoices[0].invoice_number, str(invoices[0].total))],
                            payment=str(invoices[0].total - 1)))
    classified, gated, posted = run_all(store, gateway)
    assert gated.blocked == classified.remittance_ids and posted.writes == 0
    (blocked,) = store.list_exceptions(type="remittance_quality_check_failed")
    assert "the remittance lines add up to the BPR payment amount" in blocked.message
    assert "the cash receipt is the BPR payment amount" not in blocked.message    # the receipt is the BPR
    assert emulator.backend.list_open_ar(bc_customer="AMAZON")[0].open_amount == invoices[0].total


def test_an_account_bluecherry_does_not_know_blocks_until_the_mapping_is_fixed(store, emulator, gateway,  # noqa: F811
                                                                                  tmp_path):
    invoices = invoiced(emulator, 3)
    folder = tmp_path / "mappings"
    folder.mkdir()
    rows = (REPO_ROOT / "include" / "mappings" / "remit_codes.csv").read_text().replace(",6100,", ",6199,")
    (folder / "remit_codes.csv").write_text(rows)
    receive(store, remittance_820(invoices))
    classified, gated, posted = run_all(store, gateway, codes=load_remit_codes(folder))
    assert gated.blocked == classified.remittance_ids and posted.writes == 0
    (blocked,) = store.list_exceptions(type="remittance_quality_check_failed")
    assert "every GL account exists in BlueCherry's chart of accounts" in blocked.message

    requeue_remittance(store, "0000000101", note="6199 was a typo for 6100")
    classified, gated, posted = run_all(store, gateway)
    assert gated.gated == classified.remittance_ids and len(posted.posted) == 1
    with pytest.raises(ValueError, match="only blocked remittances"):
        requeue_remittance(store, "0000000101")


def test_a_payment_bluecherry_cannot_match_waits_as_unapplied_cash(store, emulator, gateway):  # noqa: F811
    invoices = invoiced(emulator, 1)
    receive(store, make_820("0000000301", [invoice(invoices[0].invoice_number, str(invoices[0].total)),
                                           invoice("INV0999999", "40.00"), deduction("000000009VCBSINV", "-5.00")]))
    classified, gated, posted = run_all(store, gateway)
    assert classified.unmatched_lines == 1 and len(posted.posted) == 1
    (unmatched,) = store.list_exceptions(type="unmatched_payment")
    assert (unmatched.owner, unmatched.business_key) == ("finance", "INV0999999")
    (unapplied,) = emulator.backend.list_open_ar(bc_customer="AMAZON")
    assert (unapplied.document_type, unapplied.open_amount) == ("unapplied_cash", Decimal("-40.00"))
    with store.session() as db:
        status = db.scalar(select(RemittanceLine.match_status).where(RemittanceLine.reference == "INV0999999"))
    assert status == "unmatched"


def test_bluecherry_down_leaves_the_remittance_posting_and_the_retry_completes_it(store, emulator, gateway):  # noqa: F811
    from datetime import UTC, datetime

    invoices = invoiced(emulator, 3)
    receive(store, remittance_820(invoices))
    now = datetime.now(UTC)
    classify_received(store, gateway, CODES, SETTINGS, now=now)
    gate_classified(store, gateway, SETTINGS, now=now)
    emulator.set_faults(error_rate=1.0)
    with pytest.raises(TransientGatewayError):
        post_gated(store, gateway, SETTINGS)
    emulator.clear_faults()
    with store.session() as db:
        assert db.scalar(select(Remittance.status)) == "posting"
    result = post_gated(store, gateway, SETTINGS)
    assert len(result.posted) == 1
    references = Counter(line.reference for line in ledger(emulator) if line.account == "1010")
    assert references == {"AMZ-0000000101": 1}


def test_a_refused_journal_is_a_critical_exception_and_the_rest_still_posts(store, emulator, gateway):  # noqa: F811
    from datetime import UTC, datetime

    from amazon_bluecherry.bluecherry.gateway import derive_idempotency_key

    invoices = invoiced(emulator, 3)
    receive(store, remittance_820(invoices))
    # Someone already used this remittance's chargeback key for other content: BlueCherry refuses ours.
    squatter = JournalEntry(posting_date=datetime.now(UTC).date(), reference="OTHER", lines=[
        JournalLine(account="6100", debit=Decimal("1")), JournalLine(account="1200", credit=Decimal("1"))])
    gateway.post_journal_entry(squatter, idempotency_key=derive_idempotency_key("journal_entry", "0000000101",
                                                                                "chargeback"))
    classified, gated, posted = run_all(store, gateway)
    assert posted.incomplete == classified.remittance_ids and posted.writes == 4
    (failed,) = store.list_exceptions(type="remittance_posting_failed")
    assert (failed.owner, failed.severity) == ("integration", "critical") and "chargeback journal" in failed.message
    with store.session() as db:
        assert db.scalar(select(Remittance.status)) == "posting"
        assert Counter(db.scalars(select(RemittancePosting.status))) == {"posted": 4, "failed": 1}
    # Still refused on the next run: no second exception, nothing posted twice.
    again = post_gated(store, gateway, SETTINGS)
    assert again.writes == 0 and len(store.list_exceptions(type="remittance_posting_failed")) == 1
