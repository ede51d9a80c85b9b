"""Benchmark: N purchase orders x L lines through po_to_so and so_to_poa, for real.

The loopback SFTP mailbox, the BlueCherry emulator over HTTP, the SQLite store and
Airflow's dag.test(); nothing is mocked. Prints the time of each DAG run and the
throughput; the last line is machine-readable:

    orders_seconds=N po_to_so_seconds=N so_to_poa_seconds=N pos=N lines=N cpu_seconds=N

``cpu_seconds`` is this process's CPU time for both DAG runs (the emulator and the SFTP
server run in it too): on a shared machine wall time measures the neighbours as well.

Usage: python bench/bench_orders.py [--pos 1000] [--lines 50] [--pos-per-file 10] [--profile DIR]

``--profile DIR`` runs each DAG under cProfile and writes DIR/<dag_id>.pstats plus a
summary of the functions that dominate (cumulative time, main thread).
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing bench/


def purchase_orders(count: int, lines: int, today: date):
    from amazon_bluecherry.edi.documents import (
        PartyIdentification,
        ProductId,
        PurchaseOrder,
        PurchaseOrderLine,
    )
    from amazon_bluecherry.settings import REPO_ROOT

    with (REPO_ROOT / "include" / "mappings" / "items.csv").open() as handle:
        items = [row for row in csv.DictReader(handle) if row["product_id_qualifier"] == "UP"]
    with (REPO_ROOT / "include" / "mappings" / "ship_to.csv").open() as handle:
        ship_tos = list(csv.DictReader(handle))
    if len(items) < lines:
        raise SystemExit(f"items.csv has {len(items)} UPC rows, fewer than --lines {lines}")
    for number in range(count):
        ship_to = ship_tos[number % len(ship_tos)]
        chosen = [items[(number * 7 + offset) % len(items)] for offset in range(lines)]
        yield PurchaseOrder(
            order_type="NE", purchase_order_number=f"BENCH{number:06d}", order_date=today, vendor_code="VENDR",
            backorder_allowed=True, delivery_window_start=today + timedelta(days=7),
            delivery_window_end=today + timedelta(days=14),
            parties=[PartyIdentification(role="ST", id_qualifier=ship_to["id_qualifier"], id_code=ship_to["id_code"])],
            lines=[
                PurchaseOrderLine(line_number=str(position), quantity=1 + position % 3,
                                  unit="CA" if position % 2 else "EA", unit_price=Decimal(item["unit_cost"]),
                                  price_basis="PE", product_ids=[ProductId(qualifier="UP", value=item["product_id"])],
                                  case_pack_qty=int(item["case_pack_qty"]) if position % 2 else None)
                for position, item in enumerate(chosen, start=1)
            ],
        )


def time_tasks() -> dict[str, tuple[float, float]]:
    """CPU seconds of each of our tasks' ``execute`` (process, and the task's own thread),
    by ``dag_id.task_id``: the emulator and the SFTP server run in this process too, so
    the process figure includes what they did for the task."""
    from amazon_bluecherry.operators import amazon_sftp, orders

    timings: dict[str, tuple[float, float]] = {}
    for module in (amazon_sftp, orders):
        for operator in vars(module).values():
            if isinstance(operator, type) and operator.__module__ == module.__name__ and "execute" in vars(operator):
                def timed(self, context, _execute=vars(operator)["execute"]):
                    process, thread = time.process_time(), time.thread_time()
                    try:
                        return _execute(self, context)
                    finally:
                        timings[f"{self.dag_id}.{self.task_id}"] = (time.process_time() - process,
                                                                   time.thread_time() - thread)
                operator.execute = timed
    return timings


def run_dag(sandbox, dag_id: str, profile_dir: Path | None) -> None:
    if profile_dir is None:
        sandbox.run_dag(dag_id)
        return
    import cProfile
    import io
    import pstats

    profile_dir.mkdir(parents=True, exist_ok=True)
    profiler = cProfile.Profile()
    profiler.enable()
    try:
        sandbox.run_dag(dag_id)
    finally:
        profiler.disable()
        profiler.dump_stats(profile_dir / f"{dag_id}.pstats")
        summary = io.StringIO()
        pstats.Stats(profiler, stream=summary).sort_stats("cumulative").print_stats(45)
        (profile_dir / f"{dag_id}.txt").write_text(summary.getvalue())
        print(f"profile of {dag_id}: {profile_dir / (dag_id + '.txt')}", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pos", type=int, default=1000)
    parser.add_argument("--lines", type=int, default=50)
    parser.add_argument("--pos-per-file", type=int, default=10)
    parser.add_argument("--profile", type=Path, default=None, help="folder for cProfile output per DAG")
    args = parser.parse_args()

    os.environ.setdefault("AIRFLOW__LOGGING__LOGGING_LEVEL", "ERROR")
    # The sandbox mailbox publishes whole files atomically: pickup's second listing need not
    # wait the production settle interval (AB_PICKUP_SETTLE_SECONDS, 10 s) in every run.
    os.environ.setdefault("AB_PICKUP_SETTLE_SECONDS", "1")
    from sandbox.harness import Sandbox

    with tempfile.TemporaryDirectory(prefix="ab-bench-") as folder, Sandbox(Path(folder)) as sandbox:
        from amazon_bluecherry.edi.build import write_documents
        from amazon_bluecherry.edi.writer import InMemoryControlNumbers

        numbers = InMemoryControlNumbers()
        batch: list = []
        files = 0
        started = time.perf_counter()
        for purchase_order in purchase_orders(args.pos, args.lines, datetime.now(UTC).date()):
            batch.append(purchase_order)
            if len(batch) == args.pos_per_file:
                files += 1
                sandbox.mailbox.drop(f"AMZN850.{files:09d}",
                                     write_documents(batch, sender="AMAZON", receiver="VENDOR", control_numbers=numbers))
                batch = []
        if batch:
            files += 1
            sandbox.mailbox.drop(f"AMZN850.{files:09d}",
                                 write_documents(batch, sender="AMAZON", receiver="VENDOR", control_numbers=numbers))
        generated = time.perf_counter() - started
        print(f"generated {args.pos} POs x {args.lines} lines in {files} files ({generated:.1f} s)", flush=True)
        # One pickup takes the whole day's files (the default caps a run at 100 files).
        from amazon_bluecherry.settings import reset_settings_cache

        os.environ["AB_PICKUP_MAX_FILES"] = str(max(files, 100))
        reset_settings_cache()

        task_cpu = time_tasks()
        cpu_started = time.process_time()
        run_dag(sandbox, "po_to_so", args.profile)
        loaded = sandbox.emulator.backend.count_sales_orders()
        run_dag(sandbox, "so_to_poa", args.profile)
        acknowledgements = [name for name in sandbox.mailbox.received() if "855" in name]
        cpu = time.process_time() - cpu_started
        po_seconds, poa_seconds = sandbox.timings["po_to_so"], sandbox.timings["so_to_poa"]
        total = po_seconds + poa_seconds
        print(f"po_to_so:  {po_seconds:7.1f} s  ({loaded} sales orders in BlueCherry)")
        print(f"so_to_poa: {poa_seconds:7.1f} s  ({len(acknowledgements)} 855 file(s) uploaded)")
        print(f"total:     {total:7.1f} s  = {args.pos * args.lines / total:,.0f} PO lines/s, "
              f"{args.pos / total * 3600:,.0f} POs/hour; CPU {cpu:.1f} s")
        print("task CPU s (process/own thread): " + ", ".join(
            f"{name} {process:.1f}/{thread:.1f}" for name, (process, thread) in task_cpu.items()))
        if loaded != args.pos:
            raise SystemExit(f"expected {args.pos} sales orders, BlueCherry has {loaded}")
        print(f"orders_seconds={total:.1f} po_to_so_seconds={po_seconds:.1f} so_to_poa_seconds={poa_seconds:.1f} "
              f"pos={args.pos} lines={args.lines} cpu_seconds={cpu:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
