"""Faults campaign: the order path against a BlueCherry that fails 20% of requests and an SFTP
server that drops connections mid-transfer; every document must land exactly once.

BlueCherry (the emulator's edge): 500, 503, 429 with Retry-After and dropped connections,
half of the 5xx and drops injected *after* the write was applied (the answer is lost).
The mailbox: a share of reads and writes loses the connection in the middle. Each DAG is
run again until it succeeds, as the next scheduled runs would (a failed run leaves its
work for the next; Airflow's own task retries are off, so every failure is a new run);
then the order path's invariants are checked (bench/campaign_crash.py: every PO exactly
one sales order and one 855, a 997 for every group, nothing left behind). Where a person
is needed the flow says so: the exceptions opened are listed per run.

DAG runs are children forked from this process, as in the crash campaign.

Last line: ``fault_runs=N fault_failures=N dag_reruns=N bluecherry_faults=N sftp_drops=N seconds=N``

Usage: python bench/campaign_faults.py [--runs 10] [--seed 13] [--pos 30] [--batch-size 3] [--error-rate 0.2]
       [--sftp-drop-rate 0.05]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing bench/

from bench.campaign_crash import FLOWS, ROOT, Runner, World, airflow_environment, warm_up  # noqa: E402


def one_run(runner: Runner, work: Path, rng: random.Random, args) -> tuple[list[str], int, dict, Counter]:
    orders = next(flow for flow in FLOWS if flow.name == "orders")
    folder = Path(tempfile.mkdtemp(prefix="run-", dir=work))
    world = World(folder, f"sqlite:///{folder / 'integration.sqlite'}").start()
    # Small batches: more write requests for the faults to hit (100 drafts a request by default).
    connection = json.loads(os.environ["AIRFLOW_CONN_BLUECHERRY_DEFAULT"])
    connection["extra"] = {**connection.get("extra", {}), "batch_size": args.batch_size}
    os.environ["AIRFLOW_CONN_BLUECHERRY_DEFAULT"] = json.dumps(connection)
    reruns = 0
    try:
        context = orders.prepare(world, runner, rng, args)
        world.emulator.set_faults(error_rate=args.error_rate, after_share=0.5, retry_after_seconds=1,
                                  seed=rng.randrange(2**31))
        world.mailbox.set_faults(drop_transfer_rate=args.sftp_drop_rate, seed=rng.randrange(2**31))
        for dag_id in orders.dags:
            for _attempt in range(args.max_runs):
                outcome, _ = runner.run(world, dag_id, kill_after=None)
                if outcome == "success":
                    break
                reruns += 1
        faults = world.emulator.injector.stats()
        drops = sum(1 for entry in world.mailbox.audit if entry.op.startswith("dropped_"))
        world.emulator.clear_faults()
        world.mailbox.set_faults()
        exceptions = Counter(record.type for record in world.store.list_exceptions())
        problems = orders.check(world, context)
        problems += [f"BlueCherry: {problem}" for problem in world.emulator.backend.check_invariants()]
        return problems, reruns, {"bluecherry": faults, "sftp_drops": drops}, exceptions
    finally:
        world.quiesce()
        world.stop()
        shutil.rmtree(folder, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--pos", type=int, default=30)
    parser.add_argument("--error-rate", type=float, default=0.2)
    parser.add_argument("--sftp-drop-rate", type=float, default=0.05)
    parser.add_argument("--batch-size", type=int, default=3, help="sales orders per BlueCherry write request")
    parser.add_argument("--max-runs", type=int, default=8, help="scheduled runs of one DAG before giving up")
    parser.add_argument("--verbose", action="store_true", help="print every DAG run")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="ab-faults-"))
    airflow_environment(work)
    from airflow.dag_processing.dagbag import DagBag
    from airflow.utils import db

    db.resetdb()
    runner = Runner(DagBag(dag_folder=str(ROOT / "dags")), work / "logs", verbose=args.verbose)
    runner.logs.mkdir()
    warm_up()
    rng = random.Random(args.seed)
    failures = reruns = injected = drops = 0
    kinds: Counter = Counter()
    started = time.monotonic()
    try:
        for number in range(args.runs):
            problems, dag_reruns, faults, exceptions = one_run(runner, work, rng, args)
            failures += bool(problems)
            reruns += dag_reruns
            kinds.update({kind: count for kind, count in faults["bluecherry"].items() if kind != "requests"})
            injected += sum(count for kind, count in faults["bluecherry"].items() if kind != "requests")
            drops += faults["sftp_drops"]
            print(f"run {number + 1}/{args.runs}: {dag_reruns} DAG re-run(s), BlueCherry {faults['bluecherry']}, "
                  f"SFTP drops {faults['sftp_drops']}, exceptions {dict(exceptions)}: "
                  + ("OK" if not problems else "BROKEN: " + "; ".join(problems[:5])), flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    seconds = time.monotonic() - started
    print(f"{args.runs} runs in {seconds:.0f} s, {failures} broken; BlueCherry faults by kind {dict(kinds)}")
    print(f"fault_runs={args.runs} fault_failures={failures} dag_reruns={reruns} bluecherry_faults={injected} "
          f"sftp_drops={drops} seconds={seconds:.0f}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
