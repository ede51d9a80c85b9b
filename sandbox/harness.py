"""An isolated, embedded integration for the demo and the benchmarks.

Everything runs on this machine, in-process where it can: a throw-away Airflow home on
SQLite, the loopback SFTP mailbox, the BlueCherry emulator and the integration store.
DAGs run for real with ``dag.test()``. Environment variables are set before Airflow is
imported, because Airflow reads its configuration once, at import.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from amazon_bluecherry.settings import REPO_ROOT


def parties_env(mailbox, emulator, *, database_url: str) -> dict[str, str]:
    """What Airflow and our settings need to reach the sandbox parties and the store:
    both SFTP connections and folders, the BlueCherry connection, the store, the mappings."""
    return {
        **mailbox.airflow_env(),
        "AIRFLOW_CONN_BLUECHERRY_DEFAULT": emulator.airflow_connection(),
        "AB_DATABASE_URL": database_url,
        "AB_MAPPINGS_DIR": str(REPO_ROOT / "include" / "mappings"),
    }


@dataclass
class Sandbox:
    home: Path
    mailbox: object = None
    emulator: object = None
    store: object = None
    timings: dict[str, float] = field(default_factory=dict)
    _dagbag: object = None

    def __enter__(self) -> Sandbox:
        self.home.mkdir(parents=True, exist_ok=True)
        airflow_home = self.home / "airflow"
        airflow_home.mkdir(exist_ok=True)
        os.environ.update({
            "AIRFLOW_HOME": str(airflow_home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(REPO_ROOT / "dags"),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO_ROOT / "plugins"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__UNIT_TEST_MODE": "True",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": os.environ.get("AIRFLOW__LOGGING__LOGGING_LEVEL", "WARNING"),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{airflow_home / 'airflow.db'}",
            "AB_HOME": str(self.home),
        })
        from amazon_bluecherry.settings import reset_settings_cache
        from amazon_bluecherry.store import get_store, reset_store_cache
        from sandbox.amazon.sftp_server import start_mailbox_server
        from sandbox.bluecherry.server import start_emulator

        self.mailbox = start_mailbox_server(self.home / "mailbox")
        # The emulator's API key: fixed by the environment when a caller must know it
        # (the secret-scan test looks for it in every log line), else random.
        self.emulator = start_emulator(self.home / "bluecherry.sqlite",
                                       api_key=os.environ.get("BLUECHERRY_EMULATOR_API_KEY") or None)
        os.environ.update(parties_env(
            self.mailbox, self.emulator,
            database_url=os.environ.get("AB_DATABASE_URL") or f"sqlite:///{self.home / 'integration.sqlite'}"))
        reset_settings_cache()
        reset_store_cache()
        self.store = get_store()
        self.store.migrate()  # migrations run automatically in the embedded setup
        started = time.perf_counter()
        from airflow.utils import db

        db.resetdb()
        self.timings["airflow_db"] = time.perf_counter() - started
        return self

    def run_dag(self, dag_id: str, **kwargs):
        """Run one DAG of the dags folder for real; returns the finished DagRun."""
        if self._dagbag is None:
            from airflow.dag_processing.dagbag import DagBag

            self._dagbag = DagBag(dag_folder=str(REPO_ROOT / "dags"))
            if self._dagbag.import_errors:
                raise RuntimeError(f"DAG import errors: {self._dagbag.import_errors}")
        dag = self._dagbag.get_dag(dag_id)
        dag.deadline = None  # apache/airflow#73428: dag.test() and deadline= do not mix yet
        started = time.perf_counter()
        run = dag.test(**kwargs)
        self.timings[dag_id] = self.timings.get(dag_id, 0.0) + time.perf_counter() - started
        failed = {ti.task_id: str(ti.state) for ti in run.get_task_instances() if str(ti.state) != "success"}
        if failed:
            raise RuntimeError(f"{dag_id} run {run.run_id} did not succeed: {failed}")
        return run

    def __exit__(self, *exc_info) -> None:
        from amazon_bluecherry.store import reset_store_cache

        reset_store_cache()
        if self.emulator is not None:
            self.emulator.stop()
        if self.mailbox is not None:
            self.mailbox.stop()
