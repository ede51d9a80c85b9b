"""BlueCherryOperator (operators/bluecherry.py): one gateway call at execute time, a summary for XCom."""

from __future__ import annotations

import pytest

from amazon_bluecherry.operators.bluecherry import BlueCherryOperator


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
