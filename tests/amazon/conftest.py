"""Fixtures for the mailbox transport: a real loopback SFTP server per test."""

from __future__ import annotations

import json

import pytest

from sandbox.amazon.sftp_server import start_mailbox_server


def x12_interchange(control_number: int, *, transaction_set: str = "850") -> bytes:
    """A small well-enveloped interchange; the control number makes each one's bytes unique."""
    isa13 = f"{control_number:09d}"
    segments = [
        f"ISA*00*          *00*          *ZZ*AMAZON         *ZZ*VENDOR         *261126*1200*U*00401*{isa13}*0*T*>",
        f"GS*PO*AMAZON*VENDOR*20261126*1200*{control_number}*X*004010",
        f"ST*{transaction_set}*0001",
        f"BEG*00*NE*PO{control_number}**20261126",
        "SE*3*0001",
        f"GE*1*{control_number}",
        f"IEA*1*{isa13}",
    ]
    return ("~".join(segments) + "~\n").encode("ascii")


@pytest.fixture
def make_x12():
    return x12_interchange


@pytest.fixture
def mailbox(tmp_path):
    """The loopback mailbox (Amazon's two accounts), stopped after the test."""
    server = start_mailbox_server(tmp_path / "mailbox")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def mailbox_env(mailbox, monkeypatch):
    """Airflow connections (JSON) and our settings pointing at the loopback mailbox."""
    from amazon_bluecherry.settings import reset_settings_cache

    for name, value in mailbox.airflow_env(conn_timeout=5).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AB_SFTP_CONN_RETRY_ATTEMPTS", "1")  # a refused login is final; keep tests fast
    reset_settings_cache()
    yield mailbox
    reset_settings_cache()


@pytest.fixture
def set_connection(monkeypatch):
    """Replace one Airflow connection (JSON form) for this test."""

    def _set(conn_id: str, connection: dict) -> None:
        monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(connection))

    return _set
