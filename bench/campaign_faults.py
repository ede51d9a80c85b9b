"""Faults campaign: the order path against a BlueCherry that fails 20% of requests and an SFTP
server that drops connections mid-transfer; every document must land exactly once.

BlueCherry (the emulator's edge): 500, 503, 429 with Retry-After, dropped connections, and
half of the 5xx and drops injected *after* the write was applied (the answer is lost).
The mailbox: a share of reads and writes loses the connection in the middle. Each DAG is
run again until it succeeds, as the next scheduled runs would (a failed run leaves its
work for the next); then the order path's invariants are checked (bench/campaign_crash.py:
every PO exactly one sales order and one 855, a 997 for every group, nothing left behind).
Where a person is needed the flow says so: the exceptions opened are listed per run.

Last line: ``fault_runs=N fault_failures=N dag_retries=N bluecherry_faults=N sftp_drops=N``

Usage: python bench/campaign_faults.py [--runs 10] [--seed 13] [--pos 30] [--error-rate 0.2] [--sftp-drop-rate 0.05]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing bench/

from bench.campaign_crash import FLOWS, run_dag, start_parties  # noqa: E402


def one_run(rng: random.Random, args) -> tuple[list[str], int, dict, Counter]:
    orders = next(flow for flow in FLOWS if flow.name == "orders")
    with tempfile.TemporaryDirectory(prefix="ab-faults-") as folder:
        home = Path(folder)
        parties = start_parties(home, f"sqlite:///{home / 'integration.sqlite'}")
        retries = 0
        try:
            sent = orders.send(parties, rng, args.pos)
            parties.emulator.set_faults(error_rate=args.error_rate, after_share=0.5, retry_after_seconds=1,
                                        seed=rng.randrange(2**31))
            parties.mailbox.set_faults(drop_transfer_rate=args.sftp_drop_rate, seed=rng.randrange(2**31))
            for dag_id in (*orders.dags, "po_to_so"):  # the last pickup reads Amazon's 997s
                for _attempt in range(args.max_runs):
                    run_dag(parties, dag_id, kill_after=None)
                    if _succeeded(parties, dag_id):
                        break
                    retries += 1
            faults = parties.emulator.injector.stats()
            drops = sum(1 for entry in parties.mailbox.audit if entry.op.startswith("dropped_"))
            parties.emulator.clear_faults()
            parties.mailbox.set_faults()
            exceptions = Counter(record.type for record in parties.store.list_exceptions())
            return orders.check(parties, sent), retries, {"bluecherry": faults, "sftp_drops": drops}, exceptions
        finally:
            parties.store.dispose()
            parties.emulator.stop()
            parties.mailbox.stop()


def _succeeded(parties, dag_id: str) -> bool:
    """The newest run of the DAG in Airflow's database succeeded."""
    import sqlite3

    database = Path(parties.env["AIRFLOW_HOME"]) / "airflow.db"
    with sqlite3.connect(database) as connection:
        row = connection.execute("SELECT state FROM dag_run WHERE dag_id = ? ORDER BY id DESC LIMIT 1",
                                 (dag_id,)).fetchone()
    return bool(row) and row[0] == "success"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--pos", type=int, default=30)
    parser.add_argument("--error-rate", type=float, default=0.2)
    parser.add_argument("--sftp-drop-rate", type=float, default=0.05)
    parser.add_argument("--max-runs", type=int, default=8, help="scheduled runs of one DAG before giving up")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    failures = retries = injected = drops = 0
    started = time.perf_counter()
    for number in range(args.runs):
        problems, dag_retries, faults, exceptions = one_run(rng, args)
        failures += bool(problems)
        retries += dag_retries
        injected += sum(count for kind, count in faults["bluecherry"].items() if kind != "requests")
        drops += faults["sftp_drops"]
        print(f"run {number + 1}/{args.runs}: {dag_retries} DAG re-run(s), BlueCherry faults {faults['bluecherry']}, "
              f"SFTP drops {faults['sftp_drops']}, exceptions {dict(exceptions)}: "
              + ("OK" if not problems else "BROKEN: " + "; ".join(problems[:5])), flush=True)
    print(f"{args.runs} runs in {time.perf_counter() - started:.0f} s, {failures} broken")
    print(f"fault_runs={args.runs} fault_failures={failures} dag_retries={retries} bluecherry_faults={injected} "
          f"sftp_drops={drops}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
