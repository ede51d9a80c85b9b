"""The one alert dispatcher: log always, then webhook and e-mail when configured."""

from __future__ import annotations

import logging
import socketserver
import threading

import pytest

from amazon_bluecherry.alerts import Alert, dispatch
from amazon_bluecherry.settings import Settings


class _SmtpSink(socketserver.StreamRequestHandler):
    """Just enough SMTP to receive one message on loopback."""

    def handle(self):
        self.wfile.write(b"220 sink ready\r\n")
        while line := self.rfile.readline():
            command = line.strip().upper()
            if command == b"DATA":
                self.wfile.write(b"354 end with .\r\n")
                body = []
                while (data := self.rfile.readline()) not in (b".\r\n", b""):
                    body.append(data)
                self.server.messages.append(b"".join(body).decode())
                self.wfile.write(b"250 queued\r\n")
            elif command == b"QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            elif command.startswith(b"EHLO"):
                self.wfile.write(b"250 sink\r\n")
            else:
                self.wfile.write(b"250 ok\r\n")


@pytest.fixture
def smtp_sink():
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _SmtpSink)
    server.messages = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_alert_is_e_mailed_with_its_runbook(smtp_sink, tmp_path, caplog):
    settings = Settings(home=tmp_path, alert_email_to="wholesale@example.com", smtp_host="127.0.0.1",
                        smtp_port=smtp_sink.server_address[1])
    alert = Alert("poa_window_at_risk", "PO 123: no 855 yet", owner="wholesale", severity="error",
                  business_key="123", runbook="docs/runbooks/poa_window_at_risk.md")
    assert dispatch(alert, settings) == ["log", "email"]
    (message,) = smtp_sink.messages
    assert "Subject: [ERROR] poa_window_at_risk 123 (owner: wholesale)" in message
    assert "To: wholesale@example.com" in message and "Runbook: docs/runbooks/poa_window_at_risk.md" in message
    assert "poa_window_at_risk" in caplog.text


def test_a_broken_channel_does_not_hide_the_alert(tmp_path, caplog):
    # Nothing listens on port 9: webhook and e-mail fail, the log still has the alert.
    settings = Settings(home=tmp_path, alert_webhook_url="http://127.0.0.1:9/hook",
                        alert_email_to="ops@example.com", smtp_host="127.0.0.1", smtp_port=9)
    assert dispatch(Alert("transmission_unacknowledged", "no 997 for VENDR855.1"), settings) == ["log"]
    assert "no 997 for VENDR855.1" in caplog.text
    assert "alert webhook http://127.0.0.1:9/… failed" in caplog.text and "alert e-mail failed" in caplog.text


def test_the_webhook_url_and_its_token_never_reach_a_log_line(tmp_path, caplog):
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    class Refusing(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - the http.server API
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(500)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Refusing)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    token = "T0SECRET/B0SECRET/XyZsecretWebhookToken"
    url = f"http://127.0.0.1:{server.server_address[1]}/services/{token}"
    caplog.set_level(logging.DEBUG)  # httpx logs every request with its URL at INFO
    try:
        settings = Settings(home=tmp_path, alert_webhook_url=url)
        assert dispatch(Alert("transmission_unacknowledged", "no 997 for VENDR855.2"), settings) == ["log"]
    finally:
        server.shutdown()
    assert "HTTP Request: POST" in caplog.text, "httpx's request line is there, with the URL redacted"
    assert "answered HTTP 500" in caplog.text
    assert "XyZsecretWebhookToken" not in caplog.text and "/services/" not in caplog.text


def test_airflow_notifier_dispatches_the_rendered_message(caplog, capfd):
    from amazon_bluecherry.operators.notifier import IntegrationNotifier

    notifier = IntegrationNotifier(kind="task_failed", message="po_to_so.create_sales_orders failed",
                                   owner="wholesale-integration")
    notifier.notify({})
    # Importing Airflow may hand logging to structlog, which writes to the console.
    seen = caplog.text + "".join(capfd.readouterr())
    assert "[ERROR] task_failed (owner: wholesale-integration): po_to_so.create_sales_orders failed" in seen
