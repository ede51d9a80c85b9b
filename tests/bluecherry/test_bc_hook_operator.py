"""The Airflow glue: the hook builds the right gateway from a connection (the operator that calls
it: tests/operators/test_bluecherry_operator.py)."""

from __future__ import annotations

import json

import pytest

from amazon_bluecherry.bluecherry.flatfile import FlatFileGateway
from amazon_bluecherry.bluecherry.rest import RestGateway
from amazon_bluecherry.hooks.bluecherry import BlueCherryHook


def test_hook_builds_the_rest_gateway_from_the_default_connection(emulator, monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_BLUECHERRY_DEFAULT", emulator.airflow_connection())
    hook = BlueCherryHook()
    gateway = hook.get_conn()
    assert isinstance(gateway, RestGateway) and gateway.base_url == emulator.url
    assert hook.get_conn() is gateway
    assert len(gateway.list_gl_accounts()) > 10
    assert hook.test_connection() == (True, "BlueCherry is reachable")


def test_hook_reports_a_wrong_api_key(emulator, monkeypatch):
    connection = json.loads(emulator.airflow_connection()) | {
        "password": "wrong",
        "extra": {"max_retries": 0},
    }
    monkeypatch.setenv("AIRFLOW_CONN_BLUECHERRY_DEFAULT", json.dumps(connection))
    ok, message = BlueCherryHook().test_connection()
    assert not ok and "API key was refused" in message and "Zq8" not in message


def test_hook_builds_the_flat_file_gateway_from_extras(emulator, monkeypatch):
    emulator.run_cycle()
    extra = {
        "adapter": "flatfile",
        "import_dir": str(emulator.import_dir),
        "export_dir": str(emulator.export_dir),
        "max_age_minutes": 30,
    }
    monkeypatch.setenv("AIRFLOW_CONN_BLUECHERRY_FILES", json.dumps({"conn_type": "generic", "extra": extra}))
    gateway = BlueCherryHook(bluecherry_conn_id="bluecherry_files").get_conn()
    assert isinstance(gateway, FlatFileGateway)
    assert len(gateway.list_items()) == len(emulator.backend.list_items())


@pytest.mark.parametrize(
    ("connection", "message"),
    [
        ({"conn_type": "http", "host": "erp.example.com"}, "API key in the password"),
        ({"conn_type": "http", "password": "k"}, "needs a host"),
        ({"conn_type": "generic", "extra": {"adapter": "flatfile", "import_dir": "/x"}}, "export_dir"),
        ({"conn_type": "generic", "extra": {"adapter": "soap"}}, "'rest' or 'flatfile'"),
    ],
)
def test_hook_explains_an_incomplete_connection(monkeypatch, connection, message):
    monkeypatch.setenv("AIRFLOW_CONN_BLUECHERRY_BROKEN", json.dumps(connection))
    with pytest.raises(ValueError, match=message):
        BlueCherryHook(bluecherry_conn_id="bluecherry_broken").get_conn()
