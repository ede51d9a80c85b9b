"""remit_to_journals runs for real (dag.test): an 820 dropped in Amazon's download folder is
picked up once by po_to_so (997 sent), then classified, gated and posted to the running
BlueCherry emulator; a second run posts nothing."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from amazon_bluecherry.edi.ack import parse_997
from amazon_bluecherry.store.models import QualityResult, ReconciliationRun, Remittance, Transaction
from tests.dags.conftest import run_dag, task_states
from tests.flows.remittances import Line, invoiced
from tests.flows.test_remit_to_journals_steps import remittance_820

pytestmark = pytest.mark.slow


def test_an_820_from_the_mailbox_becomes_a_receipt_and_typed_journals(dagbag, parties):
    mailbox, emulator, store = parties
    invoices = invoiced(emulator, 3)
    mailbox.drop("AMZN820.000000501", remittance_820(invoices, control=501, extra=[Line("WSO_1", "-1.00")]))

    po_run = run_dag(dagbag, "po_to_so")
    assert set(task_states(po_run).values()) == {"success"}, task_states(po_run)
    acks = [ack for name, content in mailbox.received().items() if "997" in name for ack in parse_997(content)]
    assert [(ack.functional_id, ack.group_control_number, ack.status) for ack in acks] == [("RA", "501", "A")]
    with store.session() as db:
        assert db.scalar(select(Transaction.status).where(Transaction.doc_type == "820")) == "received"

    run = run_dag(dagbag, "remit_to_journals")
    assert task_states(run) == {"classify_remittances": "success", "check_remittances": "success",
                                "post_to_bluecherry": "success", "reconcile_month": "success",
                                "assemble_dispute_packets": "success", "watch_dispute_windows": "success",
                                "alert_owners": "success"}
    with store.session() as db:
        assert db.scalar(select(Remittance.status)) == "posted"
        assert {q.suite for q in db.scalars(select(QualityResult))} >= {"remit_to_journals_lines",
                                                                         "remit_to_journals_totals"}
    ledger = emulator.backend.list_ledger_lines("2026-10")
    journals = Counter(line.reference for line in ledger if line.line_number == 1)
    assert journals == {"AMZ-0000000101": 1, "AMZ-0000000101-SC": 1, "AMZ-0000000101-CB": 1,
                        "AMZ-0000000101-COOP": 1, "AMZ-0000000101-PROV": 1, "AMZ-0000000101-SUSP": 1}
    assert emulator.backend.list_open_ar(bc_customer="AMAZON") == []
    assert [e.type for e in store.list_exceptions(owner="finance")] == ["unrecognised_deduction"]

    # Run again for October's reconciliation (the conf names the month; the 820 of 23 October
    # reached us only today, so as of now): nothing posted twice.
    as_of = datetime.now(UTC).isoformat()
    # received_before makes it a replay, as a backfill run of today would be: it posts nothing twice either.
    again = run_dag(dagbag, "remit_to_journals", run_conf={"period": "2026-10", "as_of": as_of,
                                                           "received_before": as_of})
    assert set(task_states(again).values()) == {"success"}
    assert len(emulator.backend.list_ledger_lines("2026-10")) == len(ledger)
    with store.session() as db:
        (october,) = db.scalars(select(ReconciliationRun).where(ReconciliationRun.period == "2026-10"))
    assert october.ties_out and october.totals["summary"]["remittances_posted"] == "1"
    assert Path(october.report_path).is_file()
