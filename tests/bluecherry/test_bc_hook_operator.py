"""The Airflow glue: the hook builds the right gateway from a connection; the operator calls it."""

from __future__ import annotations

import json

import pytest

from amazon_bluecherry.bluecherry.flatfile import FlatFileGateway
from amazon_bluecherry.bluecherry.rest import RestGateway
from amazon_bluecherry.hooks.bluecherry import BlueCherryHook
from amazon_bluecherry.operators.bluecherry import BlueCherryOperator


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


def test_operator_calls_the_gateway_at_execute_time(emulator, monkeypatch, items_with, draft_for):
    draft = draft_for(items_with(emulator, count=1, min_available=20), [6])
    # Built without a connection: nothing is looked up while a DAG file is parsed.
    upsert = BlueCherryOperator(
        task_id="upsert",
        operation="upsert_sales_order",
        arguments={"draft": draft.model_dump(mode="json"), "idempotency_key": "op-" + draft.customer_po},
    )
    count = BlueCherryOperator(task_id="items", operation="list_items")
    monkeypatch.setenv("AIRFLOW_CONN_BLUECHERRY_DEFAULT", emulator.airflow_connection())

    result = upsert.execute(context={})
    assert result["outcome"] == "created" and result["key"] == draft.customer_po
    assert emulator.backend.count_sales_orders(draft.customer_po) == 1
    assert count.execute(context={}) == {"count": len(emulator.backend.list_items())}
    assert set(BlueCherryOperator.template_fields) == {"operation", "arguments"}


def test_operator_refuses_an_unknown_operation():
    with pytest.raises(ValueError, match="unknown BlueCherry operation"):
        BlueCherryOperator(task_id="x", operation="drop_database")
