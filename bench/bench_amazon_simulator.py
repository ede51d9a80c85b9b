"""Benchmark: a simulated month of Amazon traffic with the stand-in vendor, on mailbox folders.

Amazon sends ``--orders-per-day`` POs each business day; the stand-in vendor answers with
855/856/810 and 997s (making each kind of mistake at ``--mistakes``); Amazon validates
every upload with the engine, applies its rules, receives, and pays weekly with 820s.
Prints the month's summary and the wall time; the last line is machine-readable:

    month_seconds=N pos=N uploads=N findings=N remittances=N

Usage: python bench/bench_amazon_simulator.py [--orders-per-day 20] [--days 30] [--mistakes 0.05]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing bench/


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders-per-day", type=int, default=20)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--defects", type=float, default=0.1)
    parser.add_argument("--mistakes", type=float, default=0.05)
    parser.add_argument("--shortage-rate", type=float, default=0.05)
    args = parser.parse_args()

    from sandbox.amazon.clock import SimulatedClock
    from sandbox.amazon.mailbox import FolderMailbox
    from sandbox.amazon.partner import AmazonSimulator, PartnerIdentity
    from sandbox.amazon.rulebook import load_rulebook
    from sandbox.amazon.simulation import simulate_month
    from sandbox.amazon.standin_vendor import StandInVendor, VendorBehaviour

    with tempfile.TemporaryDirectory(prefix="bench-amazon-") as folder:
        root = Path(folder)
        mailbox = FolderMailbox(root / "mailbox")
        simulator = AmazonSimulator(
            root / "state",
            mailbox,
            SimulatedClock(dt.datetime(2026, 3, 2)),
            identity=PartnerIdentity(),
            rulebook=load_rulebook().with_net_days(14),
            seed=1,
        )
        rate = args.mistakes
        behaviour = VendorBehaviour(
            net_days=14,
            late_855_rate=rate,
            missing_asn_rate=rate,
            late_asn_rate=rate,
            unapproved_scac_rate=rate,
            reused_sscc_rate=rate,
            date_bol_rate=rate,
            invoice_price_error_rate=rate,
            over_invoice_rate=rate,
        )
        vendor = StandInVendor(
            mailbox.download_dir,
            mailbox.upload_dir,
            simulator.catalogue,
            behaviour=behaviour,
            seed=2,
            deliver=lambda po, at, cartons: simulator.record_delivery(po, at=at, cartons=cartons),
        )
        report = simulate_month(
            simulator,
            vendor,
            days=args.days,
            orders_per_day=args.orders_per_day,
            defects_rate=args.defects,
            shortage_rate=args.shortage_rate,
            seed=3,
        )
    print(json.dumps(report.to_dict(), indent=2))
    findings = sum(report.summary["findings"].values())
    print(
        f"month_seconds={report.seconds:.2f} pos={report.purchase_orders_sent} "
        f"uploads={report.uploads_processed} findings={findings} remittances={len(report.remittances)}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
