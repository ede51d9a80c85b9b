"""Scale-out on a real engine: the order path on Airflow's CeleryExecutor with two Celery
workers, Redis as the broker and PostgreSQL for Airflow's metadata and the store; the tasks
run on both workers and the result equals the single-machine run (``dag.test()``).

The cluster is the production form of docker-compose.yaml on one machine: API server,
scheduler, DAG processor and two ``airflow celery worker`` processes sharing one airflow.cfg.
Each worker gets its own host name (``--celery-hostname``, and ``[core] hostname_callable``
for what Airflow records in ``TaskInstance.hostname``): on one machine both would otherwise
report the same one, where containers or hosts each have theirs. A queue of its own per run
keeps the test off anything else on the same Redis.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT
from tests.dags.conftest import run_dag, task_states

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

REDIS_URL = os.environ.get("AB_TEST_REDIS_URL", "")
_DEFAULT_REDIS = "redis://127.0.0.1:6379/13"  # a database number of its own on the shared Redis
WORKERS = ("worker-a", "worker-b")
POS, LINES, POS_PER_FILE = 200, 2, 10


@pytest.fixture(scope="module")
def redis_url() -> str:
    import redis

    url = REDIS_URL or _DEFAULT_REDIS
    try:
        redis.Redis.from_url(url, socket_connect_timeout=3).ping()
    except redis.RedisError as exc:
        if REDIS_URL:
            raise RuntimeError(f"AB_TEST_REDIS_URL is set but Redis is not reachable: {exc}") from exc
        pytest.skip(f"Redis not reachable at {url} ({type(exc).__name__}); set AB_TEST_REDIS_URL")
    return url


def order_files() -> list[tuple[str, bytes]]:
    """The same 850 files for both runs: POS purchase orders of LINES lines, POS_PER_FILE a file."""
    from datetime import UTC, datetime

    from amazon_bluecherry.edi.build import write_documents
    from amazon_bluecherry.edi.writer import InMemoryControlNumbers
    from bench.bench_orders import purchase_orders

    orders = list(purchase_orders(POS, LINES, datetime.now(UTC).date()))
    numbers = InMemoryControlNumbers()
    return [(f"AMZN850.{index:09d}", write_documents(orders[index : index + POS_PER_FILE], sender="AMAZON",
                                                     receiver="VENDOR", control_numbers=numbers))
            for index in range(0, POS, POS_PER_FILE)]


def outcome(emulator, mailbox) -> dict:
    """What the order path leaves with the other parties, without the numbers and clocks that
    differ between two runs: sales orders by PO, the 855s' content by PO, the 997s' verdicts."""
    from amazon_bluecherry.edi.ack import parse_997
    from amazon_bluecherry.edi.parse import parse_file

    volatile = {"order_number", "created_at", "updated_at"}  # numbered and stamped by BlueCherry
    orders = {order.customer_po: order.model_dump(mode="json", exclude=volatile | {"lines"})
              | {"lines": [line.model_dump(mode="json", exclude=volatile) for line in order.lines]}
              for order in emulator.backend.list_sales_orders()}
    po_of_order = {order.order_number: order.customer_po for order in emulator.backend.list_sales_orders()}
    received = mailbox.received()
    acknowledgements: dict[str, list] = {}
    for name, content in received.items():
        if "855" in name:
            for document in parse_file(content):
                # BlueCherry numbers orders as their batches arrive (several in flight): the
                # 855 must name the sales order of its own PO, whichever number that has.
                acknowledgements.setdefault(document.purchase_order_number, []).append(
                    document.model_dump(mode="json")
                    | {"seller_order_number": f"order of {po_of_order.get(document.seller_order_number)}"})
    verdicts = sorted((ack.group_control_number, ack.status, tuple(tuple(s.codes) for s in ack.sets))
                      for name, content in received.items() if "997" in name for ack in parse_997(content))
    return {"sales_orders": orders, "855s": acknowledgements, "997s": verdicts}


def assert_same(scaled_out: dict, single_machine: dict) -> None:
    """Equal outcomes; else the first POs that differ, field by field."""
    for part in ("sales_orders", "855s"):
        differing = sorted(po for po in single_machine[part].keys() | scaled_out[part].keys()
                           if scaled_out[part].get(po) != single_machine[part].get(po))
        assert not differing, (f"{part} differ for {len(differing)} PO(s), e.g. {differing[0]}:\n"
                               f"Celery:         {scaled_out[part].get(differing[0])}\n"
                               f"single machine: {single_machine[part].get(differing[0])}")
    assert scaled_out["997s"] == single_machine["997s"]


class CeleryCluster:
    """Airflow's API server, scheduler and DAG processor plus two Celery workers, as child
    processes sharing one AIRFLOW_HOME; logs under ``home/logs``."""

    def __init__(self, home: Path, *, metadata_url: str, broker_url: str, env: dict[str, str]):
        from sandbox.standalone import airflow_options, free_port, prepare_airflow_home

        self.home, self.port, self.queue = home, free_port(), f"ab-scale-out-{uuid.uuid4().hex[:8]}"
        self.logs = home / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        venv_bin = str(Path(sys.executable).parent)
        self.env = {**{key: value for key, value in os.environ.items() if not key.startswith("AIRFLOW__")},
                    **env, "AIRFLOW_HOME": str(home), "PYTHONPATH": str(REPO_ROOT),
                    "PATH": f"{venv_bin}{os.pathsep}{os.environ.get('PATH', '')}"}
        options = airflow_options(port=self.port, database_url=metadata_url)
        options["core"].update({"executor": "CeleryExecutor", "parallelism": "4"})
        options["celery"] = {
            "broker_url": broker_url,
            # Celery's database result backend takes SQLAlchemy URLs behind "db+".
            "result_backend": f"db+{metadata_url}",
            "worker_concurrency": "1",  # 2 cores; one task at a time per worker
        }
        options["operators"] = {"default_queue": self.queue}
        # Only the runs the test triggers: no scheduled run races them.
        options["scheduler"] = {"use_job_schedule": "False"}
        prepare_airflow_home(home, self.env, options)
        self.airflow = str(Path(venv_bin) / "airflow")
        self.processes: dict[str, subprocess.Popen] = {}

    def start(self) -> None:
        subprocess.run([self.airflow, "db", "migrate"], env=self.env, check=True, stdout=subprocess.DEVNULL)
        self._spawn("api-server", ["api-server"])
        self._spawn("scheduler", ["scheduler"])
        self._spawn("dag-processor", ["dag-processor"])
        for name in WORKERS:
            self._spawn(name, ["celery", "worker", "--celery-hostname", f"{name}@%h", "--queues", self.queue,
                               "--concurrency", "1", "--skip-serve-logs", "--without-gossip", "--without-mingle"],
                        {"AB_TEST_WORKER_NAME": name,
                         "AIRFLOW__CORE__HOSTNAME_CALLABLE": "tests.celery_hostname.worker_name"})

    def _spawn(self, name: str, command: list[str], extra_env: dict[str, str] | None = None) -> None:
        with (self.logs / f"{name}.log").open("ab") as log_file:
            self.processes[name] = subprocess.Popen([self.airflow, *command], env={**self.env, **(extra_env or {})},
                                                    stdout=log_file, stderr=subprocess.STDOUT,
                                                    start_new_session=True)

    def check_running(self) -> None:
        for name, process in self.processes.items():
            if process.poll() is not None:
                raise AssertionError(f"{name} exited with {process.returncode}:\n{self.tail(name)}")

    def tail(self, name: str, lines: int = 40) -> str:
        path = self.logs / f"{name}.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""

    def client(self, timeout: float = 240):
        """A REST client once the API server answers (its login is written at its start)."""
        import httpx

        from tests.airflow_server import AirflowClient, login_of

        deadline = time.monotonic() + timeout
        while True:
            self.check_running()
            try:
                username, password = login_of(self.home.parent)
                return AirflowClient(f"http://127.0.0.1:{self.port}", username, password)
            except (OSError, ValueError, httpx.HTTPError) as exc:
                if time.monotonic() > deadline:
                    raise AssertionError(f"API server not up in {timeout:.0f} s ({exc}):\n"
                                         f"{self.tail('api-server')}") from exc
            time.sleep(2)

    def run(self, client, dag_id: str, timeout: float = 300) -> dict:
        client.wait_for_dag(dag_id, timeout=timeout)
        run_id = client.trigger(dag_id)
        run = client.wait_for_run(dag_id, run_id, timeout=timeout)
        states = client.task_states(dag_id, run_id)
        assert run["state"] == "success", (states, self.tail("scheduler"), *(self.tail(name) for name in WORKERS))
        return states

    def stop(self) -> None:
        import signal

        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)


def test_order_path_on_two_celery_workers_equals_the_single_machine_run(
        dagbag, parties, postgres_admin_url, redis_url, tmp_path, monkeypatch):
    from concurrent.futures import ThreadPoolExecutor

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from amazon_bluecherry.store import Store
    from sandbox.amazon.sftp_server import start_mailbox_server
    from sandbox.bluecherry.server import start_emulator
    from sandbox.harness import parties_env

    files = order_files()
    monkeypatch.setenv("AB_PICKUP_MAX_FILES", str(len(files)))

    # The cluster, with parties of its own, boots in the background during the single-machine run.
    suffix = uuid.uuid4().hex[:8]
    names = [f"ab_celery_meta_{suffix}", f"ab_celery_store_{suffix}"]
    admin = create_engine(postgres_admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        for name in names:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    metadata_url, store_url = (make_url(postgres_admin_url).set(database=name).render_as_string(hide_password=False)
                               for name in names)
    cluster_mailbox = start_mailbox_server(tmp_path / "cluster" / "mailbox")
    cluster_emulator = start_emulator(tmp_path / "cluster" / "bluecherry.sqlite")
    store = Store(store_url)
    cluster = CeleryCluster(tmp_path / "cluster" / "airflow", metadata_url=metadata_url, broker_url=redis_url,
                            env={**parties_env(cluster_mailbox, cluster_emulator, database_url=store_url),
                                 "AB_HOME": str(tmp_path / "cluster"), "AB_PICKUP_MAX_FILES": str(len(files))})
    for name, content in files:
        cluster_mailbox.drop(name, content)
    background = ThreadPoolExecutor(max_workers=1)
    try:
        booted = background.submit(lambda: (store.migrate(), cluster.start()))

        # The single-machine run: dag.test() in this process.
        mailbox, emulator, _store = parties
        for name, content in files:
            mailbox.drop(name, content)
        for dag_id in ("po_to_so", "so_to_poa"):
            states = task_states(run_dag(dagbag, dag_id))
            assert set(states.values()) == {"success"}, states
        single_machine = outcome(emulator, mailbox)
        assert len(single_machine["sales_orders"]) == POS and len(single_machine["855s"]) == POS

        booted.result()
        client = cluster.client()
        for dag_id in ("po_to_so", "so_to_poa"):
            states = cluster.run(client, dag_id)
            assert set(states.values()) == {"success"}, states

        hosts = _task_hosts(metadata_url)
        assert set(hosts.values()) == set(WORKERS), f"tasks ran on {sorted(set(hosts.values()))}: {hosts}"
        assert_same(outcome(cluster_emulator, cluster_mailbox), single_machine)
    finally:
        background.shutdown(wait=True)
        cluster.stop()
        store.dispose()
        cluster_emulator.stop()
        cluster_mailbox.stop()
        with admin.connect() as connection:
            for name in names:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _task_hosts(metadata_url: str) -> dict[str, str]:
    """``dag_id.task_id`` -> the host Airflow recorded for it (the worker that ran it)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(metadata_url)
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT dag_id, task_id, hostname FROM task_instance"))
        hosts = {f"{dag_id}.{task_id}": hostname for dag_id, task_id, hostname in rows}
    engine.dispose()
    return hosts
