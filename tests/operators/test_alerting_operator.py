"""AlertOwnersOperator (operators/alerting.py): each exception announced once, per owner team."""

from __future__ import annotations

from types import SimpleNamespace

from amazon_bluecherry.flows.exceptions import open_exception
from amazon_bluecherry.operators.alerting import AlertOwnersOperator
from tests.operators.conftest import logged, run_context


def test_each_exception_is_announced_once_to_its_owner(parties, capsys):
    store = parties
    open_exception(store, "unknown_item", "UPC 1 is not in items.csv", business_key="PO1")
    open_exception(store, "not_x12", "junk in the mailbox")
    context = {**run_context(), "dag": SimpleNamespace(dag_id="po_to_so")}

    summary = AlertOwnersOperator(task_id="alert_owners").execute(context)
    # No alert connection here: each owner's message is logged (nothing is lost, the task succeeds).
    assert summary == {"sent": {}, "failed": {}, "logged": {"integration": 1, "wholesale": 1}, "retried": 0}
    assert f"alerts: {summary}" in logged(capsys)
    assert AlertOwnersOperator(task_id="alert_owners").execute(context)["logged"] == {}, "each exception once"
