"""Real loopback receivers for alerts: an SMTP server and an HTTP webhook, on free ports."""

from __future__ import annotations

import json
import socketserver
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


class _SmtpHandler(socketserver.StreamRequestHandler):
    """Just enough SMTP to receive messages on loopback."""

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


class SmtpSink(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _SmtpHandler)
        self.messages: list[str] = []
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def port(self) -> int:
        return self.server_address[1]

    def url(self, to: str) -> str:
        """An Apprise e-mail URL that sends to this sink without TLS or login."""
        return f"mailto://127.0.0.1:{self.port}?from=alerts@example.com&to={to}&secure=no"

    def close(self):
        self.shutdown()
        self.server_close()


class WebhookSink(ThreadingHTTPServer):
    """Records JSON posts; ``status`` is what it answers (500 plays a broken webhook)."""

    daemon_threads = True

    def __init__(self, status: int = 200):
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                sink.requests.append((self.path, json.loads(body or b"{}")))
                self.send_response(sink.status)
                self.end_headers()

            def log_message(self, *args):
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        self.status = status
        self.requests: list[tuple[str, dict]] = []
        threading.Thread(target=self.serve_forever, daemon=True).start()

    def url(self, token: str = "T0KEN-SECRET-123") -> str:
        """An Apprise JSON-webhook URL; the token in its path is what must never be logged."""
        return f"json://127.0.0.1:{self.server_address[1]}/hooks/{token}"

    def close(self):
        self.shutdown()
        self.server_close()


def alert_connection(*channels: tuple[str, str]) -> str:
    """``AIRFLOW_CONN_...`` JSON of an Apprise connection: (url, tag) per channel."""
    return json.dumps({"conn_type": "apprise",
                       "extra": {"config": [{"path": url, "tag": tag} for url, tag in channels]}})


@pytest.fixture
def smtp_sink():
    sink = SmtpSink()
    yield sink
    sink.close()


@pytest.fixture
def webhook_sink():
    sink = WebhookSink()
    yield sink
    sink.close()
