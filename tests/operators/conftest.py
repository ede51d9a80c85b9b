"""Operators are tested by calling ``execute(context)`` directly, as Airflow's SFTP provider
tests its operators: a real store (SQLite), the BlueCherry emulator over HTTP, and a context
that holds what our operators read from Airflow's (run type, Params, data interval, the task
instance they push XCom through). No DAG run: tests/dags runs the DAGs."""

from __future__ import annotations

from datetime import datetime
from types import SimpleNamespace

import pytest

from tests.bluecherry.conftest import draft_for, items_with  # noqa: F401 - fixtures
from tests.conftest import REPO_ROOT


class TaskInstance:
    """The part of Airflow's task instance our operators use: ``xcom_push``."""

    def __init__(self) -> None:
        self.xcom: dict[str, object] = {}

    def xcom_push(self, key: str, value: object) -> None:
        self.xcom[key] = value


def run_context(run_type: str = "manual", *, params: dict | None = None, interval_start: datetime | None = None,
                interval_end: datetime | None = None, run_id: str = "manual__operators") -> dict:
    """A task's context; ``params`` as Airflow hands them (the DAG's Params with the run's conf merged in)."""
    return {"ti": TaskInstance(), "run_id": run_id, "dag_run": SimpleNamespace(run_type=run_type),
            "params": params or {}, "data_interval_start": interval_start, "data_interval_end": interval_end}


@pytest.fixture(scope="session")
def emulator(tmp_path_factory):
    """One emulator for the operator tests (each test uses its own POs and its own store)."""
    from sandbox.bluecherry.server import start_emulator

    handle = start_emulator(tmp_path_factory.mktemp("bluecherry") / "bluecherry.sqlite")
    yield handle
    handle.stop()


@pytest.fixture
def parties(emulator, tmp_path, monkeypatch):
    """A migrated store and the emulator, where the operators' settings find them; returns the store."""
    from amazon_bluecherry.settings import reset_settings_cache
    from amazon_bluecherry.store import get_store, reset_store_cache

    monkeypatch.setenv("AB_DATABASE_URL", f"sqlite:///{tmp_path / 'store.sqlite'}")
    monkeypatch.setenv("AIRFLOW_CONN_BLUECHERRY_DEFAULT", emulator.airflow_connection())
    monkeypatch.setenv("AB_MAPPINGS_DIR", str(REPO_ROOT / "include" / "mappings"))
    monkeypatch.delenv("AIRFLOW_CONN_AMAZON_BLUECHERRY_ALERTS", raising=False)
    reset_settings_cache()
    reset_store_cache()
    store = get_store()
    store.migrate()
    yield store
    reset_store_cache()
    reset_settings_cache()


def logged(capsys) -> str:
    """What the operators logged since the last call (Airflow's task logger writes to stdout)."""
    return capsys.readouterr().out
