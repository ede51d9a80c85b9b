"""Benchmark: a simulated month of Amazon business; what share of remittance dollars
remit_to_journals matched and posted as typed journals by itself.

Nothing is mocked and every DAG runs for real (``dag.test()``) in the embedded sandbox of
``make demo``: the Amazon simulator (its rulebook with ``--net-days`` payment terms), the
loopback SFTP mailbox and the BlueCherry emulator. The process clock moves through the
month (time-machine, as ``sandbox.dock.on_the_day``), so every party agrees on the date.
Each week: on Monday Amazon sends POs, po_to_so and so_to_poa answer them; on Tuesday the
warehouse ships every order BlueCherry allocated in full and invoices it,
fulfilment_to_asn sends the ASNs and 810s; on Friday at noon Amazon receives the trucks
that have arrived (4 days in transit), some cartons short, and at 16:00 pays what is due
with its deductions (820); po_to_so picks the 820 up and remit_to_journals posts it. At the
end remit_to_journals reconciles the month (its ``period``/``as_of`` Params). The figure is the reconciliation report's own
``automatically_matched_and_posted_percent``; the script also counts it from the
remittance lines, and checks the rest of the issue's "done when": everything not posted
automatically is covered by an exception with an owner (on its remittance), the report
ties out to the cent, and every shortage claim has its dispute packet. The last line is machine-readable:

    remit_month_automatic_percent=N remittance_dollars=N automatic_dollars=N remittances=N posted=N
    lines=N ties_out=B shortage_claims=N packets=N open_finance_exceptions=N seconds=N

Exit 0 when the issue's criteria hold (>= 99.5 %, the rest queued, ties out, a packet per
claim), 1 otherwise.

Usage: python bench/bench_remit_month.py [--weeks 4] [--orders 6] [--shortage-rate 0.3]
       [--net-days 7] [--seed 5] [--keep]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing bench/

TARGET_PERCENT = Decimal("99.5")


def first_of_next_month(today: dt.date) -> dt.date:
    return (today.replace(day=1) + dt.timedelta(days=32)).replace(day=1)


def at(day: dt.date, hour: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=dt.UTC)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weeks", type=int, default=4, help="weeks of business (one remittance a week)")
    parser.add_argument("--orders", type=int, default=6, help="purchase orders Amazon sends each Monday")
    parser.add_argument("--defects", type=float, default=0.1, help="share of POs with a deliberate defect")
    parser.add_argument("--shortage-rate", type=float, default=0.3, help="share of cartons received short")
    parser.add_argument("--net-days", type=int, default=7, help="Amazon's payment terms in this month")
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="keep the working folder and print where it is")
    args = parser.parse_args(argv)

    os.environ.setdefault("AIRFLOW__LOGGING__LOGGING_LEVEL", "ERROR")
    os.environ.setdefault("AB_PICKUP_SETTLE_SECONDS", "1")  # the sandbox mailbox publishes whole files
    os.environ["AB_INVOICE_TERMS_NET_DAYS"] = str(args.net_days)  # what our 810s say = what Amazon applies
    import logging

    logging.basicConfig(level=logging.ERROR)
    folder = Path(tempfile.mkdtemp(prefix="bench-remit-month-"))
    began = time.perf_counter()

    from sandbox.harness import Sandbox

    with Sandbox(folder) as sandbox:
        from sqlalchemy import select

        from amazon_bluecherry.settings import REPO_ROOT
        from amazon_bluecherry.store.models import DisputeClaim, ReconciliationRun, Remittance, RemittanceLine
        from sandbox.amazon.catalogue import ItemCatalogue
        from sandbox.amazon.clock import WallClock
        from sandbox.amazon.partner import AmazonSimulator
        from sandbox.amazon.rulebook import load_rulebook
        from sandbox.dock import on_the_day

        start = first_of_next_month(dt.datetime.now(dt.UTC).date())
        period = f"{start:%Y-%m}"
        store, backend = sandbox.store, sandbox.emulator.backend
        amazon = AmazonSimulator(folder / "amazon", sandbox.mailbox, clock=WallClock(),
                                 catalogue=ItemCatalogue.from_mappings(REPO_ROOT / "include" / "mappings"),
                                 rulebook=load_rulebook().with_net_days(args.net_days), seed=args.seed)
        shipped: set[str] = set()
        paid_from = start
        with on_the_day(at(start, 6)) as clock:
            for week in range(args.weeks):
                monday = start + dt.timedelta(days=7 * week)
                clock.move_to(at(monday, 6))
                sent = amazon.send_purchase_orders(args.orders, defects_rate=args.defects, seed=args.seed * 100 + week)
                sandbox.run_dag("po_to_so")
                sandbox.run_dag("so_to_poa")
                amazon.process_uploads()

                clock.move_to(at(monday + dt.timedelta(days=1), 14))
                numbers = [order.purchase_order for order in sent]
                ready = [o for o in backend.list_sales_orders(customer_pos=numbers) if o.customer_po not in shipped
                         and o.lines and all(line.qty_allocated == line.qty_ordered for line in o.lines)]
                for order in ready:
                    backend.pick_and_pack(order.order_number)
                    backend.invoice_shipment(backend.ship([order.order_number]).shipment_id)
                    shipped.add(order.customer_po)
                sandbox.run_dag("fulfilment_to_asn")
                review = amazon.process_uploads()
                sandbox.run_dag("po_to_so")  # Amazon's 997s for the ASNs and invoices

                friday = monday + dt.timedelta(days=4)
                clock.move_to(at(friday, 12))  # what has arrived (the emulator ships with 4 days in transit)
                received = amazon.run_receiving(args.shortage_rate, seed=args.seed * 100 + week)

                clock.move_to(at(friday, 16))
                remittance = amazon.issue_remittance(paid_from, friday)
                if remittance is not None:
                    paid_from = friday + dt.timedelta(days=1)
                    sandbox.run_dag("po_to_so")  # the 820: stored, validated, 997'd
                    sandbox.run_dag("remit_to_journals")
                print(f"week {week + 1}: {len(sent)} POs, {len(ready)} shipped, Amazon's findings on uploads "
                      f"{len(review.findings)}, receipts {len(received.receipts)}, remittance "
                      + (f"{remittance.trace_number} {remittance.payment_amount} ({len(remittance.invoices)} "
                         f"invoices, {len(remittance.entries)} deductions)" if remittance else "none"), flush=True)

            clock.move_to(at(start + dt.timedelta(days=7 * args.weeks), 9))
            sandbox.run_dag("remit_to_journals", run_conf={"period": period,
                                                           "as_of": dt.datetime.now(dt.UTC).isoformat()})

        with store.session() as db:
            report = db.scalars(select(ReconciliationRun).where(ReconciliationRun.period == period)
                                .order_by(ReconciliationRun.id.desc())).first()
            remittances = list(db.scalars(select(Remittance)))
            lines = list(db.scalars(select(RemittanceLine)))
            claims = list(db.scalars(select(DisputeClaim)))
        statuses = {r.id: r.status for r in remittances}
        total = sum((abs(line.amount) for line in lines), Decimal(0))
        automatic = sum((abs(line.amount) for line in lines if statuses[line.remittance_id] == "posted"
                         and line.match_status in ("matched", "classified")), Decimal(0))
        counted = (automatic / total * 100).quantize(Decimal("0.01")) if total else Decimal(100)
        summary = report.totals["summary"] if report else {}
        percent = Decimal(summary.get("automatically_matched_and_posted_percent", "0"))
        shortage_lines = {line.reference for line in lines if line.deduction_type == "shortage_claim"}
        packets = {c.claim_reference for c in claims if c.packet_path and Path(c.packet_path, "packet.pdf").is_file()}
        finance = [e for e in store.list_exceptions() if e.type in (
            "unrecognised_deduction", "unmatched_payment", "remittance_quality_check_failed",
            "remittance_posting_failed", "reconciliation_difference", "dispute_packet_incomplete")]
        # Whatever was not posted automatically must sit in the queue: an exception with an owner
        # on its remittance's transaction.
        transactions = {r.id: r.transaction_id for r in remittances}
        queued = {e.transaction_id for e in finance if e.owner}
        not_automatic = [line for line in lines if not (statuses[line.remittance_id] == "posted"
                                                        and line.match_status in ("matched", "classified"))]
        unowned = [line for line in not_automatic if transactions[line.remittance_id] not in queued]

        print(f"remittances {len(remittances)} ({sum(s == 'posted' for s in statuses.values())} posted), "
              f"{len(lines)} lines, {total:.2f} remittance dollars")
        print(f"automatically matched and posted: report {percent} %, counted from the lines {counted} % "
              f"({automatic:.2f} of {total:.2f}); target >= {TARGET_PERCENT} %")
        print(f"reconciliation {period}: {'ties out to the cent' if report and report.ties_out else 'DOES NOT TIE OUT'}"
              + (f" ({report.report_path})" if report else ""))
        print(f"shortage claims {len(shortage_lines)}, with a packet {len(shortage_lines & packets)}")
        print(f"not automatic: {len(not_automatic)} line(s), {len(unowned)} without an exception; "
              f"remittance exceptions ({len(finance)}):")
        for exception in finance:
            print(f"  [{exception.owner}] {exception.type} ({exception.status}): {exception.message[:140]}")
        seconds = time.perf_counter() - began
        ok = (bool(remittances) and percent >= TARGET_PERCENT and percent == counted and report is not None
              and report.ties_out and shortage_lines <= packets and not unowned)
        print(f"remit_month_automatic_percent={percent} remittance_dollars={total:.2f} automatic_dollars={automatic:.2f} "
              f"remittances={len(remittances)} posted={sum(s == 'posted' for s in statuses.values())} "
              f"lines={len(lines)} ties_out={str(bool(report and report.ties_out)).lower()} "
              f"shortage_claims={len(shortage_lines)} packets={len(shortage_lines & packets)} "
              f"open_finance_exceptions={len(finance)} seconds={seconds:.0f}")
    if args.keep:
        print(f"working folder kept: {folder}")
    else:
        import shutil

        shutil.rmtree(folder, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
