"""Benchmark: one full 846 feed of 100,000 SKUs x 3 warehouses from a real BlueCherry ATS export.

Setup (not timed): a BlueCherry export folder with one ATS export written the way the ERP
writes it (data file in the layout of include/mappings/bluecherry_layouts.yaml, then its
manifest with row count and SHA-256), an items.csv naming every SKU by a UPC (some with
their ASIN), a buffer policy with default, style and SKU rules.

Timed, as stock_to_846 runs them (flows/stock_to_846_steps.py), without the store:
read (the flat-file gateway finds the newest export, checks the manifest's SHA-256 and row
count, decodes it into columns), plan (load the policy and items.csv, ATS and buffer per
SKU and warehouse, product ids, the full feed's lines), check (the gate's columns and the
Great Expectations checkpoint, importing GX included) and write (the 846 sets, X12 bytes,
the file). The last line is machine-readable:

    feed_846_seconds=N read_seconds=N plan_seconds=N check_seconds=N write_seconds=N cpu_seconds=N lines=N bytes=N

Usage: python bench/bench_846.py [--skus 100000] [--warehouses 3]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing bench/

WAREHOUSES = ("NJ01", "CA01", "TX01")
SIZES = ("XS", "S", "M", "L", "XL", "XXL")


def upc_of(number: int) -> str:
    from amazon_bluecherry.edi.gs1 import gs1_check_digit

    body = f"6141{number:07d}"
    return body + str(gs1_check_digit(body))


def write_inputs(folder: Path, *, skus: int, warehouses: tuple[str, ...], snapshot_at: datetime) -> None:
    """export/ (one ATS export and its manifest), mappings/ (items.csv, ship_to.csv, the policy)."""
    from amazon_bluecherry.bluecherry.layouts import Layouts, Manifest, manifest_name
    from amazon_bluecherry.settings import REPO_ROOT

    rng = random.Random(846)
    layout = Layouts.load(None).exports["ats"]
    rows, items = [], ["product_id,product_id_qualifier,asin,style,color,size,case_pack_qty,unit_cost,currency"]
    for n in range(skus):
        style, color, size = f"S{n // 24:05d}", f"C{(n // 6) % 4}", SIZES[n % 6]
        upc = upc_of(n)
        asin = f"B0{n:08d}" if n % 3 == 0 else ""
        items.append(f"{upc},UP,{asin},{style},{color},{size},6,7.50,USD")
        for warehouse in warehouses:
            on_hand = rng.randint(0, 400)
            allocated = rng.randint(0, on_hand + 5)            # sometimes over-allocated: ATS below zero
            on_hold = rng.randint(1, 9) if n % 12 == 0 else 0
            rows.append({"sku": f"{style}-{color}-{size}", "style": style, "color": color, "size": size, "upc": upc,
                         "warehouse": warehouse, "on_hand": on_hand, "allocated": allocated, "on_hold": on_hold,
                         "available": on_hand - allocated - on_hold, "incoming": rng.randint(0, 50),
                         "incoming_date": None})
    data = layout.encode(rows)
    export, mappings = folder / "export", folder / "mappings"
    export.mkdir()
    mappings.mkdir()
    data_file = layout.file_name(snapshot_at, "000001")
    (export / data_file).write_bytes(data)
    manifest = Manifest.describe("ats", data_file, data, len(rows), snapshot_at, 1)
    (export / manifest_name(data_file)).write_bytes(manifest.to_bytes())
    (mappings / "items.csv").write_text("\n".join(items) + "\n")
    shutil.copy(REPO_ROOT / "include" / "mappings" / "ship_to.csv", mappings / "ship_to.csv")
    (mappings / "inventory_buffer.yaml").write_text(
        "default: {percent: 10}\nstyles:\n" + "".join(f"  S{n:05d}: {{units: {n % 7}}}\n" for n in range(0, 4000, 9))
        + "skus:\n" + "".join(f'  "{upc_of(n)}": {{units: 0}}\n' for n in range(0, skus, 997)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--skus", type=int, default=100_000)
    parser.add_argument("--warehouses", type=int, default=3, choices=(1, 2, 3))
    args = parser.parse_args(argv)
    warehouses = WAREHOUSES[: args.warehouses]

    folder = Path(tempfile.mkdtemp(prefix="bench846-"))
    try:
        now = datetime.now(UTC)
        started = time.perf_counter()
        write_inputs(folder, skus=args.skus, warehouses=warehouses, snapshot_at=now - timedelta(minutes=10))
        print(f"setup: {args.skus:,} SKUs x {len(warehouses)} warehouses, "
              f"{(folder / 'export').stat().st_size and sum(p.stat().st_size for p in (folder / 'export').iterdir()):,}"
              f" bytes of export in {time.perf_counter() - started:.1f} s (not timed)")
        os.environ["AB_MAPPINGS_DIR"] = str(folder / "mappings")
        from amazon_bluecherry.operators.heap import bulk_step

        with bulk_step():   # as the stock_to_846 operators run their steps
            return run(folder, warehouses, now=datetime.now(UTC))
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def run(folder: Path, warehouses: tuple[str, ...], *, now: datetime) -> int:
    from amazon_bluecherry.bluecherry.flatfile import FlatFileGateway
    from amazon_bluecherry.edi.writer import InMemoryControlNumbers
    from amazon_bluecherry.flows.mappings import load_items
    from amazon_bluecherry.flows.stock_inputs import load_buffer_policy
    from amazon_bluecherry.flows.stock_to_846 import FULL, TIERS, amazon_ids, refusal_reason, select_lines
    from amazon_bluecherry.flows.stock_to_846_steps import (
        SUITE,
        inventory_check_frame,
        planned_lines,
        qualifiers,
        write_feed,
    )
    from amazon_bluecherry.quality.checkpoint import run_checkpoint
    from amazon_bluecherry.quality.suites import inventory_feed_suite
    from amazon_bluecherry.settings import Settings
    from amazon_bluecherry.store.inventory import POSITION_COLUMNS

    settings = Settings(mappings_dir=folder / "mappings", inventory_warehouses=",".join(warehouses))
    timings: dict[str, float] = {}
    cpu_timings: dict[str, float] = {}
    cpu_started, started = time.process_time(), time.perf_counter()

    mark, cpu_mark = time.perf_counter(), time.process_time()
    gateway = FlatFileGateway(folder / "import", folder / "export")
    table = gateway.get_ats_table(warehouses=warehouses)
    assert refusal_reason(table.snapshot_at, now=now, max_age=timedelta(minutes=settings.inventory_max_age_minutes),
                          last_cycle_at=table.last_cycle_at) is None
    timings["read"], cpu_timings["read"] = time.perf_counter() - mark, time.process_time() - cpu_mark

    mark, cpu_mark = time.perf_counter(), time.process_time()
    import pandas as pd

    policy = load_buffer_policy(settings.effective_inventory_buffer_file)
    items = load_items(settings.mappings_dir / "items.csv")
    planned = planned_lines(table.frame, policy, amazon_ids(items, qualifiers(settings)), {},
                            include_incoming=settings.inventory_include_incoming)
    lines = select_lines(planned, pd.DataFrame(columns=list(POSITION_COLUMNS)), kind=FULL, due=set(TIERS))
    timings["plan"], cpu_timings["plan"] = time.perf_counter() - mark, time.process_time() - cpu_mark

    mark, cpu_mark = time.perf_counter(), time.process_time()
    frame = inventory_check_frame(lines, items=items, settings=settings, now=now, snapshot_at=table.snapshot_at)
    outcome = run_checkpoint(SUITE, frame, inventory_feed_suite(
        max_swing_share=settings.inventory_max_swing_share, max_age_minutes=settings.inventory_max_age_minutes),
        key_columns=["sku", "warehouse"])
    timings["check"], cpu_timings["check"] = time.perf_counter() - mark, time.process_time() - cpu_mark

    mark, cpu_mark = time.perf_counter(), time.process_time()
    raw, reports = write_feed(lines, report_number="INV1", when=now, sender="VENDOR", receiver="AMAZON",
                              control_numbers=InMemoryControlNumbers())
    (folder / "VENDR846.000000001").write_bytes(raw)
    timings["write"], cpu_timings["write"] = time.perf_counter() - mark, time.process_time() - cpu_mark

    total, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    assert outcome.success, outcome.to_dict()["failures"]
    assert len(lines) == len(table), (len(lines), len(table))
    held = int(lines["buffer"].sum())
    print(f"{len(lines):,} lines ({held:,} units held back by buffers, {int(lines['published'].sum()):,} published) "
          f"in {len(reports)} sets, {len(raw):,} bytes; gate: {outcome.evaluated} expectations passed")
    for name, seconds in timings.items():
        print(f"  {name:<6} {seconds:6.2f} s wall, {cpu_timings[name]:6.2f} s CPU")
    print(f"feed_846_seconds={total:.2f} " + " ".join(f"{name}_seconds={seconds:.2f}" for name, seconds in timings.items())
          + f" cpu_seconds={cpu:.2f} lines={len(lines)} bytes={len(raw)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
