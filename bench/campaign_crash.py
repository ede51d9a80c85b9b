"""Crash campaign: kill -9 a flow's DAG run at a random moment, run it again, and check the
flow's invariants. Seeded and re-runnable; SQLite and PostgreSQL.

The parent imports Airflow, parses the DAGs and resets Airflow's metadata database once.
For each flow and backend it prepares a world once (the loopback SFTP mailbox, the
BlueCherry emulator and the integration store, brought to where the flow has work: 850s
waiting, shipments invoiced, an 820 stored, stock moved), runs the flow once without
a kill (the reference outcome), and keeps the world as a snapshot (folder copy; the
PostgreSQL store as a template database). A run restores the snapshot, starts the parties
(threads of the parent) and runs each DAG of the flow in a child forked from the parent,
so a DAG run costs its work, not Python and Airflow start-up: the child runs ``dag.test()``
and is SIGKILLed after a random delay (0 .. the DAG's longest run so far), 1 to
--max-kills times, then the DAG runs to the end, as the next scheduled run would. Then
the flow's check reads the parties.

Invariants (``FLOWS``: name, DAGs in order, prepare, check):
- orders (po_to_so, so_to_poa): every PO exactly one sales order and one 855, a 997 for
  every group, every 850 acknowledged, nothing left in Amazon's download folder;
- fulfilment (fulfilment_to_asn): every shipment at most one 856 and every invoice at most
  one 810, the same shipments confirmed in BlueCherry and invoices sent as without kills;
- stock (stock_to_846; BlueCherry's stock moves first): Amazon's view from every 846 sent
  is what BlueCherry could ship less the buffers, every 846 staged was sent once and
  recorded, no feed left unfinished;
- remittance (remit_to_journals): every remittance line posted once: BlueCherry's ledger
  from the 820 (by account and deduction type) equals the run without kills, every
  posting posted, the remittance posted;
and for every flow BlueCherry's own invariants (``check_invariants``).

Last line: ``crash_runs=N crash_failures=N kills=N seconds=N backends=... flows=...``

Usage: python bench/campaign_crash.py [--runs 200] [--seed 13] [--pos 8] [--backends sqlite,postgresql]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import sys
import tempfile
import time
import traceback
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout without installing bench/

CHILD_TIMEOUT = 600.0  # seconds; a DAG run that takes longer is reported as hung


@dataclass(frozen=True)
class Flow:
    name: str
    dags: tuple[str, ...]
    prepare: Callable     # (world, rng, args) -> context for the check (JSON-like)
    check: Callable       # (world, context) -> list of broken invariants
    outcome: Callable | None = None  # (world) -> what must equal the run without kills
    after: tuple[str, ...] = ()      # DAGs run once more, to the end, before the check


@dataclass
class World:
    """The parties of one run: folder (mailbox, emulator, Amazon's state), store URL."""
    folder: Path
    store_url: str
    mailbox: object = None
    emulator: object = None
    store: object = None

    def start(self) -> World:
        from amazon_bluecherry.settings import reset_settings_cache
        from amazon_bluecherry.store import Store, reset_store_cache
        from sandbox.amazon.sftp_server import start_mailbox_server
        from sandbox.bluecherry.server import start_emulator
        from sandbox.harness import parties_env

        self.mailbox = start_mailbox_server(self.folder / "mailbox")
        self.emulator = start_emulator(self.folder / "bluecherry.sqlite")
        os.environ.update({**parties_env(self.mailbox, self.emulator, database_url=self.store_url),
                           "AB_HOME": str(self.folder)})
        reset_settings_cache()
        reset_store_cache()
        self.store = Store(self.store_url)
        self.store.migrate()
        return self

    def quiesce(self) -> None:
        """No open database connection in this process: a forked child must not share one."""
        from airflow import settings

        from amazon_bluecherry.store import reset_store_cache

        self.store.dispose()
        reset_store_cache()
        settings.Session.remove()
        settings.engine.dispose()

    def stop(self) -> None:
        self.store.dispose()
        self.emulator.stop()
        self.mailbox.stop()


# --- the DAG run in a forked child -----------------------------------------------------------------


class Runner:
    def __init__(self, dagbag, logs: Path, *, verbose: bool = False):
        self.dagbag, self.logs, self.verbose = dagbag, logs, verbose
        self.longest: dict[str, float] = {}  # seconds of the longest run to the end, per DAG
        self.killed_in: Counter = Counter()
        self.count = 0

    def run(self, world: World, dag_id: str, *, kill_after: float | None) -> tuple[str, float]:
        """("killed" | "success" | "failed" | "hung", seconds). Only a run to the end teaches
        how long the DAG takes (the range of the random kill)."""
        outcome, seconds = self._run(world, dag_id, kill_after)
        if self.verbose:
            print(f"  {dag_id}: {outcome} after {seconds:.1f} s"
                  + (f" (kill planned at {kill_after:.1f} s)" if kill_after is not None else ""), flush=True)
        return outcome, seconds

    def _run(self, world: World, dag_id: str, kill_after: float | None) -> tuple[str, float]:
        world.quiesce()
        self.count += 1
        log_path = self.logs / f"{self.count:06d}-{dag_id}.log"
        started = time.monotonic()
        pid = os.fork()
        if pid == 0:  # the child: run the DAG, never return into the parent's code
            code = 2
            try:
                code = _child(self.dagbag, dag_id, log_path)
            except BaseException:  # noqa: BLE001 - reported through the exit code and the log
                with log_path.open("a") as handle:
                    traceback.print_exc(file=handle)
            finally:
                os._exit(code)
        deadline = started + (kill_after if kill_after is not None else CHILD_TIMEOUT)
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                seconds = time.monotonic() - started
                outcome = "success" if os.waitstatus_to_exitcode(status) == 0 else "failed"
                if outcome == "success" and kill_after is None:
                    self.longest[dag_id] = max(seconds, self.longest.get(dag_id, 0.0))
                if outcome == "success" and not self.verbose:
                    log_path.unlink(missing_ok=True)
                return outcome, seconds
            if time.monotonic() >= deadline:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                if kill_after is None:
                    return "hung", time.monotonic() - started
                self.killed_in[f"{dag_id}.{_last_task(log_path)}"] += 1
                if not self.verbose:
                    log_path.unlink(missing_ok=True)
                return "killed", time.monotonic() - started
            time.sleep(0.01)

    def kill_point(self, rng: random.Random, dag_id: str) -> float:
        return rng.uniform(0.0, self.longest.get(dag_id, 5.0))  # a guess until a run has finished


def _child(dagbag, dag_id: str, log_path: Path) -> int:
    import logging

    descriptor = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(descriptor, 1)
    os.dup2(descriptor, 2)
    # Which task the kill hit: dag.test() logs each task it starts.
    progress = logging.FileHandler(log_path)
    progress.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
    dag_log = logging.getLogger("airflow.sdk.definitions.dag")
    dag_log.setLevel(logging.INFO)
    dag_log.addHandler(progress)
    from amazon_bluecherry.settings import reset_settings_cache
    from amazon_bluecherry.store import reset_store_cache

    reset_settings_cache()
    reset_store_cache()
    dag = dagbag.get_dag(dag_id)
    dag.deadline = None  # apache/airflow#73428
    for task in dag.tasks:  # a failed task fails this run (the next one is the retry), no waiting
        task.retries = 0
    if os.environ.get("AB_CRASH_PROFILE"):
        import cProfile
        profiler = cProfile.Profile()
        run = profiler.runcall(dag.test)
        profiler.dump_stats(f"{log_path}.pstats")
    else:
        run = dag.test()
    states = {ti.task_id: str(ti.state) for ti in run.get_task_instances()}
    if set(states.values()) != {"success"}:
        print(f"task states: {states}", flush=True)
        return 1
    return 0


def _last_task(log_path: Path) -> str:
    started = [line.split("task_id=")[1].split()[0] for line in log_path.read_text(errors="replace").splitlines()
               if "[DAG TEST] starting task_id=" in line] if log_path.exists() else []
    return started[-1] if started else "(start-up)"


# --- orders: po_to_so, so_to_poa ----------------------------------------------------------------------


def prepare_orders(world: World, runner: Runner, rng: random.Random, args) -> dict:
    from amazon_bluecherry.edi.build import write_documents
    from amazon_bluecherry.edi.writer import InMemoryControlNumbers
    from bench.bench_orders import purchase_orders

    numbers = InMemoryControlNumbers()
    orders = list(purchase_orders(args.pos, 3, datetime.now(UTC).date()))
    for index in range(0, len(orders), 2):
        world.mailbox.drop(f"AMZN850.{index:09d}", write_documents(orders[index : index + 2], sender="AMAZON",
                                                                    receiver="VENDOR", control_numbers=numbers))
    return {"sent": [order.purchase_order_number for order in orders]}


def check_orders(world: World, context: dict) -> list[str]:
    """Every PO: exactly one sales order, exactly one 855 set sent, a 997 for its group; nothing lost."""
    from sqlalchemy import func, select

    from amazon_bluecherry.edi.ack import parse_997
    from amazon_bluecherry.edi.parse import parse_file
    from amazon_bluecherry.store.models import RawDocument, Transaction

    sent = context["sent"]
    problems = []
    received = world.mailbox.received()
    acknowledged = Counter(document.purchase_order_number for name, content in received.items() if "855" in name
                           for document in parse_file(content))
    acked_groups = {ack.group_control_number for name, content in received.items() if "997" in name
                    for ack in parse_997(content)}
    for po in sent:
        orders = world.emulator.backend.count_sales_orders(po)
        if orders != 1:
            problems.append(f"PO {po}: {orders} sales orders")
        if acknowledged[po] != 1:
            problems.append(f"PO {po}: {acknowledged[po]} 855s")
    with world.store.session() as db:
        files = db.scalar(select(func.count()).select_from(RawDocument).where(RawDocument.direction == "in"))
        statuses = Counter(db.scalars(select(Transaction.status).where(Transaction.doc_type == "850")))
        groups = set(db.scalars(select(Transaction.gs06).where(Transaction.doc_type == "850")))
    left = world.mailbox.remote_files("download")
    if left:
        problems.append(f"{len(left)} file(s) still in Amazon's download folder")
    if statuses != Counter({"acknowledged": len(sent)}):
        problems.append(f"850 statuses {dict(statuses)}")
    if not files:
        problems.append("no raw file stored")
    if groups - acked_groups:
        problems.append(f"groups without a 997: {sorted(groups - acked_groups)[:5]}")
    return problems


# --- fulfilment_to_asn ----------------------------------------------------------------------------


def _amazon(world: World, clock=None):
    from amazon_bluecherry.settings import REPO_ROOT
    from sandbox.amazon.catalogue import ItemCatalogue
    from sandbox.amazon.clock import WallClock
    from sandbox.amazon.partner import AmazonSimulator

    return AmazonSimulator(world.folder / "amazon", world.mailbox, clock=clock or WallClock(), seed=13,
                           catalogue=ItemCatalogue.from_mappings(REPO_ROOT / "include" / "mappings"))


def _run_to_end(world: World, runner: Runner, *dag_ids: str) -> None:
    for dag_id in dag_ids:
        outcome, _ = runner.run(world, dag_id, kill_after=None)
        if outcome != "success":
            raise SystemExit(f"preparing: {dag_id} ended {outcome}; see {runner.logs}")


def _ship_and_invoice(world: World, purchase_orders: list[str]) -> list[str]:
    backend = world.emulator.backend
    shipments = []
    for order in backend.list_sales_orders(customer_pos=purchase_orders):
        if any(line.qty_allocated for line in order.lines):
            backend.pick_and_pack(order.order_number)
            shipment = backend.ship([order.order_number])
            backend.invoice_shipment(shipment.shipment_id)
            shipments.append(shipment.shipment_id)
    return shipments


def prepare_fulfilment(world: World, runner: Runner, rng: random.Random, args) -> dict:
    amazon = _amazon(world)
    numbers = [order.purchase_order for order in amazon.send_purchase_orders(args.pos, defects_rate=0.0,
                                                                             seed=rng.randrange(1000))]
    _run_to_end(world, runner, "po_to_so", "so_to_poa")
    amazon.process_uploads()
    return {"shipments": _ship_and_invoice(world, numbers)}


def _uploads(world: World, doc_type: str) -> dict[str, bytes]:
    return {name: content for name, content in world.mailbox.received().items() if doc_type in name}


def fulfilment_outcome(world: World) -> dict:
    from amazon_bluecherry.edi.parse import parse_file

    asns = Counter(document.shipment_id for content in _uploads(world, "856").values()
                   for document in parse_file(content))
    invoices = Counter(document.invoice_number for content in _uploads(world, "810").values()
                       for document in parse_file(content))
    confirmed = sorted(shipment.shipment_id for shipment in world.emulator.backend.list_shipments()
                       if shipment.status == "confirmed")
    return {"asn_shipments": sorted(asns), "invoices": sorted(invoices), "confirmed": confirmed}


def check_fulfilment(world: World, context: dict) -> list[str]:
    from amazon_bluecherry.edi.parse import parse_file

    problems = []
    asns = Counter(document.shipment_id for content in _uploads(world, "856").values()
                   for document in parse_file(content))
    invoices = Counter(document.invoice_number for content in _uploads(world, "810").values()
                       for document in parse_file(content))
    problems += [f"shipment {shipment}: {count} ASNs" for shipment, count in asns.items() if count > 1]
    problems += [f"invoice {number}: {count} 810s" for number, count in invoices.items() if count > 1]
    for shipment in world.emulator.backend.list_shipments():
        if shipment.status == "confirmed" and asns[shipment.shipment_id] != 1:
            problems.append(f"shipment {shipment.shipment_id} confirmed with {asns[shipment.shipment_id]} ASNs sent")
    return problems


# --- stock_to_846 -------------------------------------------------------------------------------------


def change_stock(parties: World, runner: Runner, rng: random.Random, args) -> dict:
    """BlueCherry's stock moves for ``--pos`` SKUs before the feed (some to nothing)."""
    rows = parties.emulator.backend.get_ats().rows
    for row in rng.sample(rows, min(args.pos, len(rows))):
        parties.emulator.backend.set_stock(row.sku, row.warehouse, on_hand=row.allocated + rng.choice((0, 1, 7, 90)))
    return {}


def check_stock(parties: World, context: dict) -> list[str]:
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



# --- remit_to_journals ------------------------------------------------------------------------------


def prepare_remittance(world: World, runner: Runner, rng: random.Random, args) -> dict:
    from sandbox.amazon.clock import SimulatedClock

    start = datetime.now(UTC).replace(microsecond=0)
    clock = SimulatedClock(start)
    amazon = _amazon(world, clock)
    numbers = [order.purchase_order for order in amazon.send_purchase_orders(args.pos, defects_rate=0.0,
                                                                             seed=rng.randrange(1000))]
    _run_to_end(world, runner, "po_to_so", "so_to_poa")
    amazon.process_uploads()
    _ship_and_invoice(world, numbers)
    _run_to_end(world, runner, "fulfilment_to_asn")
    amazon.process_uploads()
    _run_to_end(world, runner, "po_to_so")  # Amazon's 997s for the ASNs and invoices
    clock.advance(days=10)
    amazon.run_receiving(0.5, seed=rng.randrange(1000))
    paid = amazon.issue_remittance(start.date(), start.date() + timedelta(days=90))
    if paid is None or not paid.entries:
        raise SystemExit("preparing: Amazon paid nothing")
    _run_to_end(world, runner, "po_to_so")  # the 820: stored, validated, 997'd
    return {"trace_number": paid.trace_number, "entries": len(paid.entries)}


def remittance_outcome(world: World) -> dict:
    backend = world.emulator.backend
    ledger: dict[str, Decimal] = defaultdict(Decimal)
    for period in backend.list_periods():
        for line in backend.list_ledger_lines(period):
            if line.source == "AMAZON-820":
                ledger[f"{line.account} {line.dimensions.get('deduction_type', '')}"] += line.credit - line.debit
    return {"ledger": {key: str(value) for key, value in sorted(ledger.items())}}


def check_remittance(world: World, context: dict) -> list[str]:
    from sqlalchemy import select

    from amazon_bluecherry.store.models import Remittance, RemittancePosting

    problems = []
    with world.store.session() as db:
        remittances = [(r.trace_number, r.status) for r in db.scalars(select(Remittance))]
        postings = Counter(db.scalars(select(RemittancePosting.status)))
    if remittances != [(context["trace_number"], "posted")]:
        problems.append(f"remittances {remittances}")
    if set(postings) != {"posted"}:
        problems.append(f"postings {dict(postings)}")
    return problems


FLOWS = [
    Flow("orders", ("po_to_so", "so_to_poa"), prepare_orders, check_orders),
    Flow("fulfilment", ("fulfilment_to_asn",), prepare_fulfilment, check_fulfilment, fulfilment_outcome),
    Flow("stock", ("stock_to_846",), change_stock, check_stock),
    Flow("remittance", ("remit_to_journals",), prepare_remittance, check_remittance, remittance_outcome),
]


# --- snapshots and runs --------------------------------------------------------------------------


@dataclass
class Snapshot:
    folder: Path
    store: str  # SQLite: a file in the folder; PostgreSQL: a template database's name
    context: dict
    reference: dict | None = None


@dataclass
class Campaign:
    args: argparse.Namespace
    runner: Runner
    work: Path
    admin_url: str
    snapshots: dict = field(default_factory=dict)
    databases: list = field(default_factory=list)

    def _admin(self, statement: str) -> None:
        from sqlalchemy import create_engine, text

        engine = create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.execute(text(statement))
        engine.dispose()

    def _url(self, database: str) -> str:
        from sqlalchemy.engine import make_url

        return make_url(self.admin_url).set(database=database).render_as_string(hide_password=False)

    def restore(self, snapshot: Snapshot, backend: str) -> World:
        folder = self.work / f"run-{uuid.uuid4().hex[:8]}"
        shutil.copytree(snapshot.folder, folder)
        if backend == "postgresql":
            name = f"ab_crash_{uuid.uuid4().hex[:10]}"
            self._admin(f'CREATE DATABASE "{name}" TEMPLATE "{snapshot.store}"')
            self.databases.append(name)
            return World(folder, self._url(name)).start()
        return World(folder, f"sqlite:///{folder / 'integration.sqlite'}").start()

    def discard(self, world: World) -> None:
        world.stop()
        shutil.rmtree(world.folder, ignore_errors=True)
        if world.store_url.startswith("postgresql"):
            name = world.store_url.rsplit("/", 1)[1]
            self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            self.databases.remove(name)

    def snapshot(self, flow: Flow, backend: str, rng: random.Random) -> Snapshot:
        if (flow.name, backend) in self.snapshots:
            return self.snapshots[flow.name, backend]
        started = time.monotonic()
        folder = self.work / f"snapshot-{flow.name}-{backend}"
        folder.mkdir()
        if backend == "postgresql":
            store = f"ab_crash_{flow.name}_{uuid.uuid4().hex[:8]}"
            self._admin(f'CREATE DATABASE "{store}"')
            self.databases.append(store)
            world = World(folder, self._url(store)).start()
        else:
            store = "integration.sqlite"
            world = World(folder, f"sqlite:///{folder / store}").start()
        context = flow.prepare(world, self.runner, rng, self.args)
        world.quiesce()
        world.stop()
        snapshot = Snapshot(folder, store, context)
        if flow.outcome is not None:  # the same world, no kill: what every crashed run must reach
            world = self.restore(snapshot, backend)
            try:
                _run_to_end(world, self.runner, *flow.dags, *flow.after)
                snapshot.reference = flow.outcome(world)
                problems = flow.check(world, context)
                if problems:
                    raise SystemExit(f"{flow.name} on {backend} breaks its invariants without any kill: {problems}")
            finally:
                self.discard(world)
        print(f"prepared {flow.name} on {backend} in {time.monotonic() - started:.0f} s", flush=True)
        self.snapshots[flow.name, backend] = snapshot
        return snapshot

    def one_run(self, flow: Flow, backend: str, rng: random.Random) -> tuple[int, list[str]]:
        snapshot = self.snapshot(flow, backend, rng)
        world = self.restore(snapshot, backend)
        kills = 0
        problems: list[str] = []
        try:
            for dag_id in flow.dags:
                for _ in range(rng.randint(1, self.args.max_kills)):
                    outcome, _ = self.runner.run(world, dag_id, kill_after=self.runner.kill_point(rng, dag_id))
                    kills += outcome == "killed"
                outcome, _ = self.runner.run(world, dag_id, kill_after=None)  # the next run, to the end
                if outcome != "success":
                    problems.append(f"{dag_id}: the run after the kill ended {outcome}")
            for dag_id in flow.after:
                self.runner.run(world, dag_id, kill_after=None)
            problems += flow.check(world, snapshot.context)
            if flow.outcome is not None and (found := flow.outcome(world)) != snapshot.reference:
                problems.append(f"outcome differs from the run without kills: {found} != {snapshot.reference}")
            problems += [f"BlueCherry: {problem}" for problem in world.emulator.backend.check_invariants()]
            return kills, problems
        finally:
            world.quiesce()
            self.discard(world)

    def close(self) -> None:
        for name in list(self.databases):
            self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def warm_up() -> None:
    """Build here what every task process would build on first use, so that the children
    inherit it: the in-process execution API that dag.test() talks to (its FastAPI app with
    its versioned routes, seconds of work per process; the event-loop thread it needs is
    started in each child, threads do not survive a fork)
    and the modules our tasks import when they run."""
    import importlib
    import pkgutil

    from airflow.sdk.execution_time.supervisor import in_process_api_server

    import amazon_bluecherry

    started = time.monotonic()
    app = in_process_api_server().app
    if not app._cadwyn_initialized:  # Cadwyn builds its versioned routes on the first request
        app._cadwyn_initialize()
    for module in pkgutil.walk_packages(amazon_bluecherry.__path__, "amazon_bluecherry."):
        if ".migrations" not in module.name and not module.name.endswith("__main__"):  # what tasks import
            importlib.import_module(module.name)
    print(f"warmed up in {time.monotonic() - started:.0f} s", flush=True)


def airflow_environment(home: Path) -> None:
    """Before Airflow is imported: it reads its configuration once."""
    airflow_home = home / "airflow"
    airflow_home.mkdir(parents=True)
    os.environ.update({
        "AIRFLOW_HOME": str(airflow_home), "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"), "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "True", "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{airflow_home / 'airflow.db'}",
        # The sandbox mailbox publishes whole files: no settle wait in every pickup.
        "AB_PICKUP_SETTLE_SECONDS": os.environ.get("AB_PICKUP_SETTLE_SECONDS", "0"),
    })


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200, help="runs in all, spread over flows and backends")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--pos", type=int, default=8, help="POs per world")
    parser.add_argument("--max-kills", type=int, default=1, help="kills per DAG before the run to the end")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--flows", default="", help="comma-separated flow names (default: every flow)")
    parser.add_argument("--postgres-url", default=os.environ.get("AB_TEST_POSTGRES_URL",
                                                                 "postgresql+psycopg://postgres@127.0.0.1:5432/test"))
    parser.add_argument("--verbose", action="store_true", help="print every DAG run")
    parser.add_argument("--keep-logs", type=Path, default=None, help="folder for the logs of failed DAG runs")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="ab-crash-"))
    airflow_environment(work)
    import great_expectations  # noqa: F401
    from airflow.dag_processing.dagbag import DagBag
    from airflow.utils import db

    # Imported once here, so that no child pays for them.
    import amazon_bluecherry.quality.checkpoint  # noqa: F401

    db.resetdb()
    dagbag = DagBag(dag_folder=str(ROOT / "dags"))
    wanted = set(filter(None, args.flows.split(",")))
    flows = [flow for flow in FLOWS if all(dagbag.get_dag(dag) for dag in flow.dags)
             and (not wanted or flow.name in wanted)]
    for flow in FLOWS:
        if flow not in flows and (not wanted or flow.name in wanted):
            print(f"flow {flow.name}: its DAGs are not on this checkout; skipped")
    logs = args.keep_logs or work / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    campaign = Campaign(args, Runner(dagbag, logs, verbose=args.verbose), work, args.postgres_url)
    warm_up()
    backends = args.backends.split(",")
    rng = random.Random(args.seed)
    failures = total_kills = 0
    per_flow: Counter = Counter()
    started = time.monotonic()
    try:
        for number in range(args.runs):
            flow, backend = flows[number % len(flows)], backends[(number // len(flows)) % len(backends)]
            run_started = time.monotonic()
            kills, problems = campaign.one_run(flow, backend, rng)
            total_kills += kills
            failures += bool(problems)
            per_flow[flow.name, backend] += 1
            print(f"run {number + 1}/{args.runs} {flow.name} on {backend}: {kills} kill(s), "
                  f"{time.monotonic() - run_started:.1f} s, "
                  + ("OK" if not problems else "BROKEN: " + "; ".join(problems[:5])), flush=True)
    finally:
        campaign.close()
    seconds = time.monotonic() - started
    print(f"{args.runs} runs in {seconds:.0f} s, {total_kills} kills, {failures} broken")
    print("runs: " + ", ".join(f"{name} on {backend} {count}" for (name, backend), count in sorted(per_flow.items())))
    print("kills by task: " + ", ".join(f"{task} {count}" for task, count in sorted(campaign.runner.killed_in.items())))
    print("longest DAG run to the end: " + ", ".join(f"{dag} {sec:.1f} s"
                                                      for dag, sec in sorted(campaign.runner.longest.items())))
    print(f"crash_runs={args.runs} crash_failures={failures} kills={total_kills} seconds={seconds:.0f} "
          f"backends={','.join(backends)} flows={','.join(flow.name for flow in flows)}")
    if not args.keep_logs:
        shutil.rmtree(work, ignore_errors=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
