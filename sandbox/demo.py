"""``make demo``: the order path and fulfilment end to end, on this machine, with nothing mocked.

The Amazon simulator sends purchase orders (some with deliberate defects) into the
loopback SFTP mailbox; po_to_so and so_to_poa run for real with dag.test() against the
running BlueCherry emulator; the simulator then reads our 997s and 855s, checks them
against Amazon's rules and answers with its own 997s. Finally both DAGs run again to show
that replaying changes nothing. Everything lives in a throw-away folder (or AB_HOME).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=12, help="purchase orders Amazon sends")
    parser.add_argument("--defects", type=float, default=0.25, help="share of POs with a deliberate defect")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", action="store_true", help="keep the working folder and print where it is")
    args = parser.parse_args(argv)

    os.environ.setdefault("AIRFLOW__LOGGING__LOGGING_LEVEL", "ERROR")
    # The sandbox mailbox publishes whole files atomically: pickup's second listing need not
    # wait the production settle interval (AB_PICKUP_SETTLE_SECONDS, 10 s) in every run.
    os.environ.setdefault("AB_PICKUP_SETTLE_SECONDS", "1")
    logging.basicConfig(level=logging.ERROR)
    folder = Path(os.environ["AB_HOME"]) if os.environ.get("AB_HOME") else Path(tempfile.mkdtemp(prefix="ab-demo-"))
    started = time.perf_counter()

    from sandbox.harness import Sandbox

    with Sandbox(folder) as sandbox:
        from amazon_bluecherry.settings import REPO_ROOT
        from sandbox.amazon.catalogue import ItemCatalogue
        from sandbox.amazon.clock import WallClock
        from sandbox.amazon.partner import AmazonSimulator

        say(f"working folder {folder}")
        say(f"BlueCherry emulator at {sandbox.emulator.url}; Amazon's SFTP mailbox on 127.0.0.1:{sandbox.mailbox.port}")
        amazon = AmazonSimulator(folder / "amazon", sandbox.mailbox, clock=WallClock(),
                                 catalogue=ItemCatalogue.from_mappings(REPO_ROOT / "include" / "mappings"),
                                 seed=args.seed)
        sent = amazon.send_purchase_orders(args.orders, defects_rate=args.defects, seed=args.seed)
        defects = Counter(defect.kind for order in sent for defect in order.defects)
        say(f"1. Amazon sent {len(sent)} purchase orders ({sum(len(o.document.lines) for o in sent)} lines); "
            f"deliberate defects: {dict(defects) or 'none'}")

        sandbox.run_dag("po_to_so")
        store = sandbox.store
        orders = sandbox.emulator.backend.list_sales_orders()
        say(f"2. po_to_so: {count_raw(store)} file(s) stored raw, sets {transaction_statuses(store, '850')}, "
            f"{len(orders)} sales order(s) in BlueCherry, 997s sent: {len(names(sandbox, '997'))}")

        sandbox.run_dag("so_to_poa")
        say(f"3. so_to_poa: 855 file(s) sent: {len(names(sandbox, '855'))}, acknowledging "
            f"{len(transactions(store, '855'))} PO(s): lines {acknowledgement_codes(sandbox)}")

        review = amazon.process_uploads()
        findings = [f for f in review.findings]
        say(f"4. Amazon read {len(review.files)} file(s): {dict(review.documents)}; rejected sets: "
            f"{len(review.rejected_sets)}; compliance findings: {len(findings)}")
        for finding in findings:
            say(f"     finding {finding.rule}: {finding.document}: {finding.detail}")

        sandbox.run_dag("po_to_so")  # picks up Amazon's 997s for our 855s
        say(f"5. our files acknowledged by Amazon: {outbound_statuses(store)}")

        exceptions = store.list_exceptions()
        say(f"6. exceptions for people ({len(exceptions)}), each with an owner and a runbook:")
        for exception in exceptions:
            say(f"     [{exception.owner}] {exception.type}: {exception.message[:150]}")

        before = fingerprint(sandbox)
        sandbox.run_dag("po_to_so")
        sandbox.run_dag("so_to_poa")
        unchanged = fingerprint(sandbox) == before
        say(f"7. replayed both DAGs: {'nothing changed' if unchanged else 'SOMETHING CHANGED'} "
            "(no new document, sales order or 855)")

        loaded = next((t for t in transactions(store, "850") if t.status == "acknowledged"), None)
        if loaded is not None:
            path = store.data_path(loaded.id)
            say(f"8. data path of PO {loaded.business_key}: "
                + " -> ".join(f"{row['doc_type']} {row['business_key'] or ''}".strip() for row in path))
        shipped = ship_some(sandbox.emulator.backend, [o.purchase_order for o in sent])
        sandbox.run_dag("fulfilment_to_asn")
        say(f"9. the warehouse shipped {len(shipped)} order(s) ({', '.join(shipped) or 'none'}), one with a "
            f"date as BOL; fulfilment_to_asn sent ASN file(s): {len(names(sandbox, '856'))}, "
            f"invoice file(s): {len(names(sandbox, '810'))}")
        for exception in store.list_exceptions(type="asn_check_failed"):
            say(f"     held for the warehouse: {exception.message[:160]}")
        review = amazon.process_uploads()
        asn_findings = [f for f in review.findings]
        say(f"10. Amazon read {dict(review.documents)}; rejected sets: {len(review.rejected_sets)}; "
            f"compliance findings: {len(asn_findings)}; chargebacks: {len(amazon.chargeback_ledger())}")
        for finding in asn_findings:
            say(f"     finding {finding.rule}: {finding.document}: {finding.detail}")
        findings = findings + asn_findings
        say(f"done in {time.perf_counter() - started:.0f} s (Airflow DB {sandbox.timings['airflow_db']:.0f} s, "
            f"po_to_so {sandbox.timings['po_to_so']:.0f} s, so_to_poa {sandbox.timings['so_to_poa']:.0f} s)")
        if not unchanged or findings_on_our_documents(findings):
            return 1
    if not args.keep and not os.environ.get("AB_HOME"):
        import shutil

        shutil.rmtree(folder, ignore_errors=True)
    return 0


def ship_some(backend, purchase_orders: list[str]) -> list[str]:
    """The warehouse's day: pick, pack and ship the allocated orders; the last with a date as BOL."""
    orders = [o for o in backend.list_sales_orders(customer_pos=purchase_orders)
              if any(line.qty_allocated for line in o.lines)][:3]
    shipped = []
    for index, order in enumerate(orders):
        backend.pick_and_pack(order.order_number)
        options = {"bol_number": "VENDR20261130"} if index == len(orders) - 1 and len(orders) > 1 else {}
        shipment = backend.ship([order.order_number], **options)
        backend.invoice_shipment(shipment.shipment_id)
        shipped.append(order.customer_po)
    return shipped


def say(line: str) -> None:
    print(line, flush=True)


def names(sandbox, set_id: str) -> list[str]:
    return sorted(name for name in sandbox.mailbox.received() if set_id in name)


def transactions(store, doc_type: str):
    from sqlalchemy import select

    from amazon_bluecherry.store.models import Transaction

    with store.session() as db:
        return list(db.scalars(select(Transaction).where(Transaction.doc_type == doc_type,
                                                         Transaction.direction.in_(("in", "out")))))


def transaction_statuses(store, doc_type: str) -> dict:
    return dict(Counter(t.status for t in transactions(store, doc_type) if t.direction == "in"))


def count_raw(store) -> int:
    from sqlalchemy import func, select

    from amazon_bluecherry.store.models import RawDocument

    with store.session() as db:
        return db.scalar(select(func.count()).select_from(RawDocument).where(RawDocument.direction == "in"))


def outbound_statuses(store) -> dict:
    from sqlalchemy import select

    from amazon_bluecherry.store.models import OutboundDocument

    with store.session() as db:
        return dict(Counter(f"{o.doc_type} {o.status}" for o in db.scalars(select(OutboundDocument))))


def acknowledgement_codes(sandbox) -> dict:
    from amazon_bluecherry.edi.parse import parse_file

    codes: Counter = Counter()
    for name, content in sandbox.mailbox.received().items():
        if "855" in name:
            for document in parse_file(content):
                codes.update(str(item.status) for line in document.lines for item in line.acknowledgements)
    return dict(codes)


def fingerprint(sandbox) -> tuple:
    from sqlalchemy import func, select

    from amazon_bluecherry.store.models import OutboundDocument, RawDocument, Transaction

    with sandbox.store.session() as db:
        counts = tuple(db.scalar(select(func.count()).select_from(table))
                       for table in (RawDocument, Transaction, OutboundDocument))
    orders = tuple((o.customer_po, o.revision) for o in sandbox.emulator.backend.list_sales_orders())
    return counts, orders


def findings_on_our_documents(findings) -> bool:
    """Our 855s, 856s and 810s must pass Amazon's rules; findings about Amazon's own test defects do not count."""
    return any(finding.document.startswith(("855", "856", "810")) for finding in findings)


if __name__ == "__main__":
    sys.exit(main())
