"""Alerts when exceptions open: one message per owner team and run, each exception once,
saying what, where, the time left in Amazon's window, the runbook and the console link;
through the real Apprise notifier to loopback SMTP and webhook receivers, on both backends."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from amazon_bluecherry.flows.alerting import announce_new_exceptions
from amazon_bluecherry.flows.exceptions import open_exception
from amazon_bluecherry.settings import Settings
from amazon_bluecherry.store.models import AlertDelivery, ExceptionAlert
from tests.sinks import WebhookSink, alert_connection

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


@pytest.fixture
def settings(tmp_path, monkeypatch):
    monkeypatch.delenv("AIRFLOW_CONN_AB_TEST_ALERTS", raising=False)
    return Settings(home=tmp_path, alert_conn_id="ab_test_alerts", console_url="http://airflow.test/exceptions-console/")


def held_po(store, po_number: str, *, due_in: timedelta) -> int:
    transaction_id = store.add_transaction("850", direction="in", partner="AMAZON", business_key=po_number)
    store.set_deadline(transaction_id, "poa_due", NOW + due_in, business_key=po_number)
    return transaction_id


def test_one_message_per_team_with_what_where_window_runbook_and_link(store, settings, smtp_sink, webhook_sink,
                                                                       monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_AB_TEST_ALERTS", alert_connection(
        (smtp_sink.url("wholesale@example.com"), "wholesale"), (webhook_sink.url(), "integration")))
    monkeypatch.setenv("AIRFLOW_CTX_DAG_ID", "po_to_so")
    monkeypatch.setenv("AIRFLOW_CTX_TASK_ID", "translate_purchase_orders")
    monkeypatch.setenv("AIRFLOW_CTX_DAG_RUN_ID", "manual__2026-11-30")
    transaction_id = held_po(store, "PO-HELD", due_in=timedelta(hours=20, minutes=30))
    price = open_exception(store, "price_mismatch", "PO PO-HELD line 1: Amazon pays 6.00, unit_cost 6.50",
                           business_key="PO-HELD", transaction_id=transaction_id)
    item = open_exception(store, "unknown_item", "PO PO-HELD line 2: UPC 999999999993 is not in items.csv",
                          business_key="PO-HELD", transaction_id=transaction_id)
    monkeypatch.delenv("AIRFLOW_CTX_DAG_ID")
    broken = open_exception(store, "not_x12", "raw document 7 (AMZN850.x) is not X12", raw_document_id=None)

    result = announce_new_exceptions(store, settings, now=NOW, dag_id="po_to_so", run_id="manual__2026-11-30")
    assert result.sent == {"wholesale": 2, "integration": 1} and result.failed == {}

    (mail,) = smtp_sink.messages  # both wholesale exceptions in one e-mail
    flat = mail.replace("=\r\n", "").replace("=3D", "=")
    assert "Subject: [ERROR] 2 new exception(s) for wholesale: price_mismatch, unknown_item" in mail
    for text in (f"#{price} price_mismatch", f"#{item} unknown_item", "Amazon pays 6.00",
                 "where: po_to_so / translate_purchase_orders / run manual__2026-11-30",
                 "Amazon's window: 855 due 2026-12-01 05:30 UTC: closes in 20 h 30 min",
                 "runbook: docs/runbooks/price_mismatch.md",
                 f"console: http://airflow.test/exceptions-console/?exception={item}"):
        assert text in flat, text
    ((_, body),) = webhook_sink.requests  # integration's exception, on its own channel
    assert f"#{broken} not_x12" in body["message"] and "outside Airflow" in body["message"]

    again = announce_new_exceptions(store, settings, now=NOW + timedelta(minutes=15))
    assert again.sent == {} and len(smtp_sink.messages) == 1 and len(webhook_sink.requests) == 1, "each once"


def test_a_failed_delivery_is_retried_by_the_next_run(store, settings, monkeypatch):
    sink = WebhookSink(status=500)
    try:
        monkeypatch.setenv("AIRFLOW_CONN_AB_TEST_ALERTS", alert_connection((sink.url(), "always")))
        open_exception(store, "sales_order_load_failed", "BlueCherry refused PO-X", business_key="PO-X")
        first = announce_new_exceptions(store, settings, now=NOW)
        assert first.failed == {"integration": 1}
        sink.status = 200
        second = announce_new_exceptions(store, settings, now=NOW)
        assert len(second.retried) == 1 and second.sent == {}
        assert [body["message"].count("BlueCherry refused PO-X") for _, body in sink.requests] == [1, 1]
        with store.session() as db:
            (delivery,) = db.query(AlertDelivery).all()
            assert (delivery.status, delivery.attempts) == ("sent", 2)
        assert announce_new_exceptions(store, settings, now=NOW).retried == []
    finally:
        sink.close()


def test_two_runs_at_once_announce_each_exception_once(store, settings, webhook_sink, monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_AB_TEST_ALERTS", alert_connection((webhook_sink.url(), "always")))
    for number in range(6):
        open_exception(store, "unknown_item", f"PO-{number}: unknown UPC", business_key=f"PO-{number}")
    results = []
    threads = [threading.Thread(target=lambda: results.append(announce_new_exceptions(store, settings, now=NOW)))
               for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(r.sent.get("wholesale", 0) for r in results) == 6
    with store.session() as db:
        assert db.query(ExceptionAlert).count() == 6
    announced = "".join(body["message"] for _, body in webhook_sink.requests)
    assert all(announced.count(f"PO-{number}: unknown UPC") == 1 for number in range(6))


def test_resolved_before_the_run_ends_is_not_announced(store, settings, webhook_sink, monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_AB_TEST_ALERTS", alert_connection((webhook_sink.url(), "always")))
    exception_id = open_exception(store, "empty_file", "AMZN850.empty was empty")
    store.update_exception(exception_id, status="resolved", note="Amazon re-sent it")
    assert announce_new_exceptions(store, settings, now=NOW).sent == {}
    assert webhook_sink.requests == []
