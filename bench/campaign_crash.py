"""Crash campaign: kill -9 the process running a flow's DAG at a random moment, run it again,
and check the flow's invariants. Seeded and re-runnable; SQLite and PostgreSQL.

Each run starts fresh parties in this process (the loopback SFTP mailbox, the BlueCherry
emulator, the integration store) and runs each DAG of the flow in a child process with
``dag.test()``. The child is killed with SIGKILL after a random delay (0 .. --max-delay
seconds, so anywhere from start-up to the last task), then the DAG runs again to the end,
the way the next scheduled run would. Then the flow's invariant check reads the parties.

Flows are rows of ``FLOWS``: (name, DAGs in order, what to send, invariant check). A flow
whose DAG file is not on this checkout yet is reported and skipped; others add their row
when their flow lands (fulfilment_to_asn: every shipment at most one ASN; stock_to_846:
Amazon's view from every 846 sent is what BlueCherry could ship less the buffers, each
feed sent once; remit_to_journals: every remittance line posted once).

Last line: ``crash_runs=N crash_failures=N kills=N backends=sqlite,postgresql flows=...``

Usage: python bench/campaign_crash.py [--runs 200] [--seed 13] [--pos 20] [--backends sqlite,postgresql]
       [--flows orders,stock]
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout without installing bench/


@dataclass(frozen=True)
class Flow:
    name: str
    dags: tuple[str, ...]
    send: Callable        # (parties, rng, count) -> what was sent (for the check)
    check: Callable       # (parties, sent) -> list of broken invariants


@dataclass
class Parties:
    mailbox: object
    emulator: object
    store: object
    env: dict


# --- the order path --------------------------------------------------------------------------------


def send_orders(parties: Parties, rng: random.Random, count: int) -> list[str]:
    from amazon_bluecherry.edi.build import write_documents
    from amazon_bluecherry.edi.writer import InMemoryControlNumbers
    from bench.bench_orders import purchase_orders

    numbers = InMemoryControlNumbers()
    orders = list(purchase_orders(count, rng.choice([3, 10, 25]), datetime.now(UTC).date()))
    per_file = rng.choice([1, 3, 5])
    for index in range(0, len(orders), per_file):
        parties.mailbox.drop(f"AMZN850.{index:09d}", write_documents(orders[index : index + per_file], sender="AMAZON",
                                                                      receiver="VENDOR", control_numbers=numbers))
    return [order.purchase_order_number for order in orders]


def check_orders(parties: Parties, sent: list[str]) -> list[str]:
    """Every PO: exactly one sales order, exactly one 855 set sent, a 997 for its group; nothing lost."""
    from sqlalchemy import func, select

    from amazon_bluecherry.edi.ack import parse_997
    from amazon_bluecherry.edi.parse import parse_file
    from amazon_bluecherry.store.models import RawDocument, Transaction

    problems = []
    received = parties.mailbox.received()
    acknowledged = Counter(document.purchase_order_number for name, content in received.items() if "855" in name
                           for document in parse_file(content))
    acked_groups = {ack.group_control_number for name, content in received.items() if "997" in name
                    for ack in parse_997(content)}
    for po in sent:
        orders = parties.emulator.backend.count_sales_orders(po)
        if orders != 1:
            problems.append(f"PO {po}: {orders} sales orders")
        if acknowledged[po] != 1:
            problems.append(f"PO {po}: {acknowledged[po]} 855s")
    with parties.store.session() as db:
        files = db.scalar(select(func.count()).select_from(RawDocument).where(RawDocument.direction == "in"))
        statuses = Counter(db.scalars(select(Transaction.status).where(Transaction.doc_type == "850")))
        groups = set(db.scalars(select(Transaction.gs06).where(Transaction.doc_type == "850")))
    dropped = len([name for name in parties.mailbox.remote_files("download")])
    if dropped:
        problems.append(f"{dropped} file(s) still in Amazon's download folder")
    if statuses != Counter({"acknowledged": len(sent)}):
        problems.append(f"850 statuses {dict(statuses)}")
    if not files:
        problems.append("no raw file stored")
    if groups - acked_groups:
        problems.append(f"groups without a 997: {sorted(groups - acked_groups)[:5]}")
    problems += [f"BlueCherry: {problem}" for problem in parties.emulator.backend.check_invariants()]
    return problems


# --- stock_to_846 ----------------------------------------------------------------------------------


def change_stock(parties: Parties, rng: random.Random, count: int) -> None:
    """BlueCherry's stock moves for ``count`` SKUs before the feed (some to nothing)."""
    rows = parties.emulator.backend.get_ats().rows
    for row in rng.sample(rows, min(count, len(rows))):
        parties.emulator.backend.set_stock(row.sku, row.warehouse, on_hand=row.allocated + rng.choice((0, 1, 7, 90)))


def check_stock(parties: Parties, sent: None) -> list[str]:
    """Amazon's view, from every 846 file in the upload folder in the order they came, is what
    BlueCherry could ship less the buffers; every 846 staged was sent once and recorded."""
    from sqlalchemy import select

    from amazon_bluecherry.edi.parse import parse_file
    from amazon_bluecherry.flows.mappings import load_items
    from amazon_bluecherry.flows.stock_inputs import load_buffer_policy
    from amazon_bluecherry.flows.stock_to_846 import amazon_ids
    from amazon_bluecherry.flows.stock_to_846_steps import qualifiers, served_warehouses
    from amazon_bluecherry.settings import Settings
    from amazon_bluecherry.store.models import InventoryFeed, OutboundDocument

    settings = Settings(mappings_dir=ROOT / "include" / "mappings")
    policy = load_buffer_policy(settings.effective_inventory_buffer_file)
    ids = amazon_ids(load_items(settings.mappings_dir / "items.csv"), qualifiers(settings))
    could_ship = {}
    for row in parties.emulator.backend.get_ats().rows:
        if row.sku in ids and row.warehouse in served_warehouses(settings):
            available = max(0, row.on_hand - row.allocated - row.on_hold)
            qualifier, product_id, _ = ids[row.sku]
            could_ship[(row.warehouse, f"{qualifier} {product_id}")] = (
                available - policy.rule_for(upc=row.upc, style=row.style)[1].held_back(available))
    amazon_view = {}
    files = [name for name in parties.mailbox.received() if "846" in name]
    for name in files:
        for advice in parse_file(parties.mailbox.received()[name]):
            location = next(party.id_code for party in advice.parties if party.role == "SF")
            for item in advice.items:
                amazon_view[(location, f"{item.product_id_qualifier} {item.product_id}")] = item.available_quantity
    problems = []
    if amazon_view != could_ship:
        wrong = sorted(key for key in could_ship.keys() | amazon_view.keys()
                       if amazon_view.get(key) != could_ship.get(key))
        problems.append(f"Amazon's view differs on {len(wrong)} items, e.g. {wrong[:3]}")
    with parties.store.session() as db:
        outbound = list(db.execute(select(OutboundDocument.file_name, OutboundDocument.status)
                                   .where(OutboundDocument.doc_type == "846")))
        feeds = list(db.scalars(select(InventoryFeed.status)))
    if sorted(name for name, _ in outbound) != sorted(files) or any(status != "sent" for _, status in outbound):
        problems.append(f"846 files {sorted(files)} but outbound {outbound}")
    if any(status in ("planned", "checked", "staged") for status in feeds):
        problems.append(f"feeds left unfinished: {feeds}")
    return problems


FLOWS = [
    Flow("orders", ("po_to_so", "so_to_poa"), send_orders, check_orders),
    Flow("stock", ("stock_to_846",), change_stock, check_stock),
]


# --- the campaign ----------------------------------------------------------------------------------


def child(dag_id: str) -> int:
    """Run one DAG to the end in this process (the environment says where everything is)."""
    from airflow.dag_processing.dagbag import DagBag

    dag = DagBag(dag_folder=str(ROOT / "dags")).get_dag(dag_id)
    dag.deadline = None  # apache/airflow#73428
    run = dag.test()
    return 0 if all(str(ti.state) == "success" for ti in run.get_task_instances()) else 1


def start_parties(home: Path, database_url: str) -> Parties:
    from amazon_bluecherry.store import Store
    from sandbox.amazon.sftp_server import start_mailbox_server
    from sandbox.bluecherry.server import start_emulator
    from sandbox.harness import parties_env

    mailbox = start_mailbox_server(home / "mailbox")
    emulator = start_emulator(home / "bluecherry.sqlite")
    store = Store(database_url)
    store.migrate()
    airflow_home = home / "airflow"
    airflow_home.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, **parties_env(mailbox, emulator, database_url=database_url),
           "AIRFLOW_HOME": str(airflow_home), "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
           "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"), "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
           "AIRFLOW__CORE__UNIT_TEST_MODE": "True", "AIRFLOW__LOGGING__LOGGING_LEVEL": "ERROR",
           "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{airflow_home / 'airflow.db'}",
           "AB_HOME": str(home), "PYTHONPATH": str(ROOT)}
    subprocess.run([sys.executable, "-c", "from airflow.utils import db; db.resetdb()"], env=env, check=True,
                   capture_output=True)
    return Parties(mailbox, emulator, store, env)


def run_dag(parties: Parties, dag_id: str, *, kill_after: float | None) -> bool:
    """Run the DAG in a child; with ``kill_after``, SIGKILL it then. True when it was killed."""
    process = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "--child", dag_id], env=parties.env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        process.wait(timeout=kill_after)
        return False
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)  # the task process and anything it started
        process.wait()
        return True
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)


def postgres_database(admin_url: str) -> tuple[str, Callable[[], None]]:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"ab_crash_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return make_url(admin_url).set(database=name).render_as_string(hide_password=False), drop


def one_run(flow: Flow, backend: str, rng: random.Random, args) -> tuple[int, list[str]]:
    with tempfile.TemporaryDirectory(prefix="ab-crash-") as folder:
        home = Path(folder)
        drop = None
        if backend == "postgresql":
            url, drop = postgres_database(args.postgres_url)
        else:
            url = f"sqlite:///{home / 'integration.sqlite'}"
        parties = start_parties(home, url)
        kills = 0
        try:
            sent = flow.send(parties, rng, args.pos)
            for dag_id in flow.dags:
                for _ in range(rng.randint(1, args.max_kills)):
                    kills += run_dag(parties, dag_id, kill_after=rng.uniform(0, args.max_delay))
                run_dag(parties, dag_id, kill_after=None)  # the next run, to the end
            if flow.name == "orders":  # Amazon's 997s for our 855s come back: one more pickup
                run_dag(parties, "po_to_so", kill_after=None)
            return kills, flow.check(parties, sent)
        finally:
            parties.store.dispose()
            parties.emulator.stop()
            parties.mailbox.stop()
            if drop:
                drop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200, help="runs in all, spread over flows and backends")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--pos", type=int, default=20, help="POs per run")
    parser.add_argument("--max-kills", type=int, default=2, help="kills per DAG before the run to the end")
    parser.add_argument("--max-delay", type=float, default=25.0, help="seconds; the kill comes at a random moment")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--flows", default="", help="comma separated flow names (default: every flow)")
    parser.add_argument("--postgres-url", default=os.environ.get("AB_TEST_POSTGRES_URL",
                                                                 "postgresql+psycopg://postgres@127.0.0.1:5432/test"))
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args.child)

    wanted = [flow for flow in FLOWS if not args.flows or flow.name in args.flows.split(",")]
    flows = [flow for flow in wanted if all((ROOT / "dags" / f"{dag}.py").exists() for dag in flow.dags)]
    for flow in wanted:
        if flow not in flows:
            print(f"flow {flow.name}: its DAGs are not on this checkout yet; skipped")
    backends = args.backends.split(",")
    rng = random.Random(args.seed)
    failures = total_kills = 0
    started = time.perf_counter()
    for number in range(args.runs):
        flow, backend = flows[number % len(flows)], backends[(number // len(flows)) % len(backends)]
        kills, problems = one_run(flow, backend, rng, args)
        total_kills += kills
        failures += bool(problems)
        print(f"run {number + 1}/{args.runs} {flow.name} on {backend}: {kills} kill(s), "
              + ("OK" if not problems else "BROKEN: " + "; ".join(problems[:5])), flush=True)
    print(f"{args.runs} runs in {time.perf_counter() - started:.0f} s, {total_kills} kills, {failures} broken")
    print(f"crash_runs={args.runs} crash_failures={failures} kills={total_kills} backends={','.join(backends)} "
          f"flows={','.join(flow.name for flow in flows)}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
