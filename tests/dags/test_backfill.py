"""A backfill over two days processes each day's documents in that day's run, and only those;
backfills and replays never pick up, validate or acknowledge newer files."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.dags.conftest import catalogue_items, run_dag, task_states
from tests.dags.test_order_path import order_file, transactions_of

pytestmark = pytest.mark.slow


@pytest.fixture
def daily_dagbag(airflow_db, monkeypatch):
    from airflow.dag_processing.dagbag import DagBag

    from amazon_bluecherry.settings import reset_settings_cache
    from tests.conftest import REPO_ROOT

    monkeypatch.setenv("AB_PO_SCHEDULE", "@daily")  # two days = two runs
    reset_settings_cache()
    bag = DagBag(dag_folder=str(REPO_ROOT / "dags"))
    assert not bag.import_errors
    yield bag
    reset_settings_cache()


def test_backfill_over_two_days(daily_dagbag, parties, monkeypatch):
    mailbox, emulator, store = parties
    monkeypatch.setenv("AB_PO_SCHEDULE", "@daily")
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    day_one, day_two = today - timedelta(days=3), today - timedelta(days=2)
    items = catalogue_items(2)
    # Files that reached the store during an outage and were never processed.
    for day, po_number, control in ((day_one, "BACKFILL1", "000000201"), (day_two, "BACKFILL2", "000000202")):
        store.save_raw_document(order_file(po_number, items, control=control), partner="AMAZON", transport="sftp",
                                remote_name=f"AMZN850.{control}", received_at=day + timedelta(hours=10))
    mailbox.drop("AMZN850.000000209", order_file("TODAYPO", items, control="000000209"))  # arrived today

    # dag.test() makes manual runs; a backfill run of day one (interval [day one, day two))
    # has the window received_before=day two, which these runs get through the Param. The
    # real `airflow backfill create` against a running scheduler is tests/sandbox/test_standalone.py.
    first = run_dag(daily_dagbag, "po_to_so", logical_date=day_two, run_conf={"received_before": day_two.isoformat()})
    assert set(task_states(first).values()) == {"success"}
    assert (first.data_interval_start, first.data_interval_end) == (day_one, day_two)
    assert [(t.business_key, t.status) for t in transactions_of(store, "850")] == [("BACKFILL1", "loaded")]
    assert len(emulator.backend.list_sales_orders(customer_pos=["BACKFILL1", "BACKFILL2"])) == 1

    second = run_dag(daily_dagbag, "po_to_so", logical_date=day_two + timedelta(days=1),
                     run_conf={"received_before": (day_two + timedelta(days=1)).isoformat()})
    assert set(task_states(second).values()) == {"success"}
    assert second.data_interval_start == day_two
    assert {(t.business_key, t.status) for t in transactions_of(store, "850")} == {
        ("BACKFILL1", "loaded"), ("BACKFILL2", "loaded")}

    # Read-only toward Amazon: today's file is still in the mailbox, validated by nobody, no 997 for it.
    assert mailbox.remote_files("download") == ["AMZN850.000000209"]
    from amazon_bluecherry.edi.ack import parse_997

    acknowledged = {ack.group_control_number for name, content in mailbox.received().items() if "997" in name
                    for ack in parse_997(content)}
    assert acknowledged == {"201", "202"}

    # Running day one again (a re-run of the backfill) changes nothing.
    orders_before = emulator.backend.list_sales_orders(customer_pos=["BACKFILL1", "BACKFILL2"])
    run_dag(daily_dagbag, "po_to_so", logical_date=day_two, run_conf={"received_before": day_two.isoformat()})
    assert emulator.backend.list_sales_orders(customer_pos=["BACKFILL1", "BACKFILL2"]) == orders_before
    assert len(transactions_of(store, "850")) == 2


def test_replay_of_a_time_range_is_read_only_toward_amazon(dagbag, parties):
    """One run with received_after/received_before: only that range's documents, no pickup,
    997s only for them; a file waiting in Amazon's mailbox stays there untouched."""
    from amazon_bluecherry.edi.ack import parse_997

    mailbox, emulator, store = parties
    items = catalogue_items(2)
    day = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=5)
    for offset, po_number, control in ((0, "RANGE0", "000000501"), (1, "RANGE1", "000000502"),
                                       (3, "LATER3", "000000503")):
        store.save_raw_document(order_file(po_number, items, control=control), partner="AMAZON", transport="sftp",
                                remote_name=f"AMZN850.{control}", received_at=day + timedelta(days=offset, hours=9))
    mailbox.drop("AMZN850.000000509", order_file("NEWEST", items, control="000000509"))

    run = run_dag(dagbag, "po_to_so", run_conf={"received_after": day.isoformat(),
                                                "received_before": (day + timedelta(days=2)).isoformat()})
    assert set(task_states(run).values()) == {"success"}, task_states(run)
    statuses = {t.business_key: t.status for t in transactions_of(store, "850")}
    assert statuses == {"RANGE0": "loaded", "RANGE1": "loaded"}, "LATER3 stays pending, NEWEST is not picked up"
    assert mailbox.remote_files("download") == ["AMZN850.000000509"], "Amazon's mailbox untouched"
    acknowledged = sorted(ack.group_control_number for name, content in mailbox.received().items()
                          if "997" in name for ack in parse_997(content))
    assert acknowledged == ["501", "502"], "997s answer only the replayed documents"
    assert {o.customer_po for o in emulator.backend.list_sales_orders(
        customer_pos=["RANGE0", "RANGE1", "LATER3", "NEWEST"])} == {"RANGE0", "RANGE1"}

    # A current run then takes everything pending. A fresh DagBag: in one process, Airflow's
    # params merge writes a run's conf into the DAG's shared Param objects (each real task
    # runs in a process of its own, so a deployment never sees this).
    from airflow.dag_processing.dagbag import DagBag

    from tests.conftest import REPO_ROOT

    current = run_dag(DagBag(dag_folder=str(REPO_ROOT / "dags")), "po_to_so")
    assert set(task_states(current).values()) == {"success"}
    assert {t.business_key for t in transactions_of(store, "850")} == {"RANGE0", "RANGE1", "LATER3", "NEWEST"}
    assert mailbox.remote_files("download") == []
