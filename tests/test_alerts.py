"""Alerts leave through Airflow's Apprise notifier, configured once in one connection: each
owner team's channels by tag, real loopback SMTP and webhook receivers, tokens never logged."""

from __future__ import annotations

import pytest

from amazon_bluecherry.alerts import Alert, dispatch, redact, redact_url
from amazon_bluecherry.settings import Settings
from tests.sinks import WebhookSink, alert_connection


@pytest.fixture
def settings(tmp_path, monkeypatch):
    monkeypatch.delenv("AIRFLOW_CONN_AB_TEST_ALERTS", raising=False)
    return Settings(home=tmp_path, alert_conn_id="ab_test_alerts")


def test_alert_goes_to_its_owners_channels_only(settings, smtp_sink, webhook_sink, monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_AB_TEST_ALERTS", alert_connection(
        (smtp_sink.url("wholesale@example.com"), "wholesale"),
        (webhook_sink.url(), "finance"),
    ))
    alert = Alert("poa_window_at_risk", "PO 123: no 855 yet", owner="wholesale", severity="error",
                  business_key="123", runbook="docs/runbooks/poa_window_at_risk.md")
    assert dispatch(alert, settings).status == "sent"
    (message,) = smtp_sink.messages
    assert "Subject: [ERROR] poa_window_at_risk 123 (owner: wholesale)" in message
    assert "To: wholesale@example.com" in message and "Runbook: docs/runbooks/poa_window_at_risk.md" in message
    assert webhook_sink.requests == [], "finance's webhook does not get wholesale's alert"

    assert dispatch(Alert("x", "for finance", owner="finance"), settings).status == "sent"
    ((path, body),) = webhook_sink.requests
    assert path == "/hooks/T0KEN-SECRET-123" and body["message"] == "for finance"


def test_always_tag_gets_every_team(settings, webhook_sink, monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_AB_TEST_ALERTS", alert_connection((webhook_sink.url(), "always")))
    for owner in ("finance", "warehouse"):
        assert dispatch(Alert("x", f"for {owner}", owner=owner), settings).status == "sent"
    assert [body["message"] for _, body in webhook_sink.requests] == ["for finance", "for warehouse"]


def test_a_broken_channel_is_reported_and_its_token_never_logged(settings, monkeypatch, caplog, capfd):
    broken = WebhookSink(status=500)
    try:
        monkeypatch.setenv("AIRFLOW_CONN_AB_TEST_ALERTS", alert_connection((broken.url("S3CRET-T0KEN"), "always")))
        with caplog.at_level("DEBUG"):
            outcome = dispatch(Alert("transmission_unacknowledged", "no 997 for VENDR855.1"), settings)
    finally:
        broken.close()
    assert outcome.status == "failed" and "refused" in outcome.error
    seen = caplog.text + "".join(capfd.readouterr())
    assert "no 997 for VENDR855.1" in seen, "the log always has the alert"
    assert "not delivered" in seen
    assert "S3CRET-T0KEN" not in seen, "the webhook token must never reach a log"


def test_without_a_connection_alerts_are_logged(settings, caplog):
    assert dispatch(Alert("x", "only in the log"), settings).status == "logged"
    assert "only in the log" in caplog.text and "ab_test_alerts" in caplog.text


def test_urls_are_redacted_to_scheme_and_host():
    assert redact_url("https://hooks.slack.com/services/T000/B000/XXXX") == "https://hooks.slack.com/…"
    assert redact_url("mailto://user:pw@smtp.example.com:587?to=a@b") == "mailto://smtp.example.com:587/…"
    assert redact("POST https://example.com/hook/abc?token=1 failed") == "POST https://example.com/… failed"


def test_airflow_notifier_dispatches_the_rendered_message(caplog, capfd):
    from amazon_bluecherry.operators.notifier import IntegrationNotifier

    notifier = IntegrationNotifier(kind="task_failed", message="po_to_so.create_sales_orders failed",
                                   owner="integration")
    notifier.notify({})
    # Importing Airflow may hand logging to structlog, which writes to the console.
    seen = caplog.text + "".join(capfd.readouterr())
    assert "[ERROR] task_failed (owner: integration): po_to_so.create_sales_orders failed" in seen


def test_deadline_callback_reaches_the_channels(webhook_sink, monkeypatch):
    import asyncio

    from amazon_bluecherry.alerts import deadline_missed
    from amazon_bluecherry.settings import reset_settings_cache

    monkeypatch.setenv("AB_ALERT_CONN_ID", "ab_test_alerts")
    monkeypatch.setenv("AIRFLOW_CONN_AB_TEST_ALERTS", alert_connection((webhook_sink.url(), "integration")))
    reset_settings_cache()
    try:
        asyncio.run(deadline_missed(kind="dag_run_deadline_missed", owner="integration", dag_id="po_to_so",
                                    message="po_to_so has been running for more than 30 minutes",
                                    runbook="docs/runbooks/dag_run_deadline_missed.md"))
    finally:
        reset_settings_cache()
    ((_, body),) = webhook_sink.requests
    assert "po_to_so has been running for more than 30 minutes" in body["message"]
    assert "dag_run_deadline_missed" in body["title"]
