"""make airflow's own alert channel: alerts reach the terminal and var/alerts.log through the
same Apprise notifier as production channels."""

from __future__ import annotations

from amazon_bluecherry.alerts import Alert, dispatch
from amazon_bluecherry.settings import Settings
from sandbox.standalone import AlertPrinter


def test_sandbox_alerts_are_printed_and_logged(tmp_path, monkeypatch, capsys):
    printer = AlertPrinter(tmp_path / "alerts.log")
    try:
        monkeypatch.setenv("AIRFLOW_CONN_AB_SANDBOX_ALERTS", printer.connection())
        outcome = dispatch(Alert("exceptions_opened", "PO 123 held: price", owner="wholesale",
                                 subject="[ERROR] 1 new exception(s) for wholesale"),
                           Settings(home=tmp_path, alert_conn_id="ab_sandbox_alerts"))
    finally:
        printer.stop()
    assert outcome.status == "sent"
    assert "=== ALERT" in capsys.readouterr().out
    logged = (tmp_path / "alerts.log").read_text()
    assert "[ERROR] 1 new exception(s) for wholesale" in logged and "PO 123 held: price" in logged
