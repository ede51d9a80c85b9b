"""Real parties for DAG runs: the loopback SFTP mailbox, the BlueCherry emulator, a store."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT


@pytest.fixture(scope="module")
def dagbag(airflow_db):
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(REPO_ROOT / "dags"))
    assert not bag.import_errors, bag.import_errors
    return bag


def run_dag(dagbag, dag_id: str, **kwargs):
    """``dag.test()`` a DAG of the dags folder; returns the finished DagRun."""
    dag = dagbag.get_dag(dag_id)
    dag.deadline = None  # apache/airflow#73428: dag.test() crashes at the end of a DAG with a deadline
    return dag.test(**kwargs)


def task_states(dag_run) -> dict[str, str]:
    return {ti.task_id: str(ti.state) for ti in dag_run.get_task_instances()}


@pytest.fixture
def parties(tmp_path, monkeypatch):
    """Mailbox + emulator + migrated SQLite store, wired through Airflow connections and AB_*."""
    from amazon_bluecherry.settings import reset_settings_cache
    from amazon_bluecherry.store import get_store, reset_store_cache
    from sandbox.amazon.sftp_server import start_mailbox_server
    from sandbox.bluecherry.server import start_emulator
    from sandbox.harness import parties_env

    mailbox = start_mailbox_server(tmp_path / "mailbox")
    emulator = start_emulator(tmp_path / "bluecherry.sqlite")
    for name, value in parties_env(mailbox, emulator, database_url=f"sqlite:///{tmp_path / 'store.sqlite'}").items():
        monkeypatch.setenv(name, value)
    reset_settings_cache()
    reset_store_cache()
    store = get_store()
    store.migrate()
    yield mailbox, emulator, store
    reset_store_cache()
    reset_settings_cache()
    emulator.stop()
    mailbox.stop()


def catalogue_items(count: int, *, unit: str = "UP") -> list[dict]:
    """Real rows of include/mappings/items.csv (the emulator's own catalogue)."""
    with (REPO_ROOT / "include" / "mappings" / "items.csv").open() as handle:
        rows = [row for row in csv.DictReader(handle) if row["product_id_qualifier"] == unit]
    return rows[:count]


def mapped_ship_to() -> tuple[str, str]:
    with (REPO_ROOT / "include" / "mappings" / "ship_to.csv").open() as handle:
        row = next(csv.DictReader(handle))
    return row["id_qualifier"], row["id_code"]


def received_855s(mailbox) -> list[Path]:
    return sorted(name for name in mailbox.received() if "855" in name)
