"""No secret in any log line or stored document of a full demo run.

The demo runs at log level INFO (every line of ours, Airflow's and the libraries' at that
level; production level), with an alert channel (a JSON webhook in the Apprise
connection) whose URL carries a
token (Slack-style) and with alerts forced (every sent file is "unacknowledged" at once),
so that the webhook is called and fails. Then the output and every file the run left
(the integration store, the emulator's database, the mailbox, Airflow's home) are
searched for the secrets the run was given: the SFTP private keys, the BlueCherry API
key, the webhook URL and its token; and for anything shaped like a private key, a
password or an API key assignment, or a Slack webhook.

Why not DEBUG: Airflow 3.3's task supervisor itself logs each value it is asked to mask
(``Sending request ... msg=MaskSecret(value='<the secret>')``) at DEBUG, so a connection
password reaches the log at that level whatever we do. Run production at INFO or above.
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys

import pytest

from tests.conftest import REPO_ROOT

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1500)]

SHAPES = {
    "private key block": re.compile(rb"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    "password assignment": re.compile(rb"(?i)\bpass(word|wd)?\b[\"']?\s*[:=]\s*[\"']?(?!\*|<|None|null|\"\"|'')[^\s\"',}]{4,}"),
    "API key assignment": re.compile(rb"(?i)\bapi[_-]?key\b[\"']?\s*[:=]\s*[\"']?[A-Za-z0-9_\-]{16,}"),
    "Slack webhook": re.compile(rb"hooks\.slack\.com/services/"),
}


def test_a_full_demo_run_leaves_no_secret_in_logs_or_stored_documents(tmp_path):
    from tests.sinks import WebhookSink, alert_connection

    sink = WebhookSink(status=500)  # a broken channel: the failure is logged too
    token = f"T0{secrets.token_hex(4).upper()}-B0{secrets.token_hex(4).upper()}-{secrets.token_urlsafe(18)}"
    webhook = sink.url(token)
    api_key = secrets.token_urlsafe(24)
    home = tmp_path / "demo"
    env = {key: value for key, value in os.environ.items() if not key.startswith(("AIRFLOW", "AB_"))}
    env.update({"AB_HOME": str(home), "AIRFLOW_CONN_AMAZON_BLUECHERRY_ALERTS": alert_connection((webhook, "always")),
                "AB_ACK_TIMEOUT_HOURS": "0",
                # the failing channel fails each run's alert_owners and its retries: wait seconds, not minutes
                "AB_TASK_RETRY_DELAY_SECONDS": "1", "BLUECHERRY_EMULATOR_API_KEY": api_key})
    try:
        completed = subprocess.run([sys.executable, "-m", "sandbox.demo", "--orders", "4", "--seed", "5",
                                    "--log-level", "INFO"], cwd=REPO_ROOT, env=env, capture_output=True,
                                   timeout=900)
    finally:
        sink.close()
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, output[-3000:].decode(errors="replace")
    assert b"transmission_unacknowledged" in output and sink.requests, \
        "the run called the webhook (and it failed), so the scan means something"

    key_files = sorted(path for path in home.rglob("*") if path.is_file() and b"PRIVATE KEY-----" in path.read_bytes())
    assert key_files, "the sandbox's SFTP keys are where the scan expects them"
    key_lines = {line.strip() for path in key_files for line in path.read_bytes().splitlines()
                 if len(line.strip()) >= 40 and b"-----" not in line}
    known = {b"webhook token": token.encode(), b"webhook path": f"/hooks/{token}".encode(),
             b"BlueCherry API key": api_key.encode()}

    stored = [path for path in home.rglob("*") if path.is_file() and path not in key_files]
    assert any(path.name == "integration.sqlite" for path in stored)
    places = [("the run's log output", output)] + [(str(path.relative_to(home)), path.read_bytes()) for path in stored]
    found = []
    for where, content in places:
        for name, value in known.items():
            if value in content:
                found.append(f"{name.decode()} in {where}")
        if any(line in content for line in key_lines):
            found.append(f"SFTP private key material in {where}")
        for name, shape in SHAPES.items():
            match = shape.search(content)
            if match:
                found.append(f"{name} in {where}: {match.group(0)[:60]!r}")
    assert not found, "\n".join(found)
