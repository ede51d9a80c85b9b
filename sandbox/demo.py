"""``make demo``: the order path and fulfilment end to end, on this machine, with nothing mocked.

The Amazon simulator sends purchase orders (some with deliberate defects) into the
loopback SFTP mailbox; po_to_so and so_to_poa run for real with dag.test() against the
running BlueCherry emulator; the simulator then reads our 997s and 855s, checks them
against Amazon's rules and answers with its own 997s; both DAGs run again to show that
replaying changes nothing. Then the warehouse ships a few orders, each on the day that
lands it in its PO's delivery window (the process clock moves there), fulfilment_to_asn
sends the ASNs and invoices Amazon reads, the trucks arrive and Amazon's dock scans every
carton label and receives: what Amazon found and charged is printed. Amazon then pays with
its deductions (820) and remit_to_journals posts the cash receipt and typed journals: what it
posted is printed. First of all, stock_to_846 publishes BlueCherry's available stock less the
buffers (Amazon orders against it): what it published is printed, and Amazon's view is
compared with what BlueCherry could ship. Everything lives in a throw-away folder (or AB_HOME).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from datetime import time as dt_time
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=12, help="purchase orders Amazon sends")
    parser.add_argument("--defects", type=float, default=0.25, help="share of POs with a deliberate defect")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", action="store_true", help="keep the working folder and print where it is")
    parser.add_argument("--log-level", default="ERROR", help="of our, Airflow's and the libraries' logs (e.g. DEBUG)")
    args = parser.parse_args(argv)

    os.environ.setdefault("AIRFLOW__LOGGING__LOGGING_LEVEL", args.log_level.upper())
    # The sandbox mailbox publishes whole files atomically: pickup's second listing need not
    # wait the production settle interval (AB_PICKUP_SETTLE_SECONDS, 10 s) in every run.
    os.environ.setdefault("AB_PICKUP_SETTLE_SECONDS", "1")
    logging.basicConfig(level=args.log_level.upper())
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
        published = publish_stock(sandbox, amazon)
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
        shipping = ship_on_time(sandbox, amazon, [o.purchase_order for o in sent])
        shipments = shipping.shipments
        say(f"9. the warehouse shipped {len(shipments) + len(shipping.held)} order(s), each on the day that lands "
            f"it in its PO's delivery window ({', '.join(f'{po} on {s.departed_at:%Y-%m-%d}' for po, s in shipments)}"
            f"{', one more with a date as BOL' if shipping.held else ''}); fulfilment_to_asn sent ASN file(s): "
            f"{shipping.asn_files}, invoice file(s): {shipping.invoice_files}")
        for exception in store.list_exceptions(type="asn_check_failed"):
            say(f"     held for the warehouse: {exception.message[:160]}")
        asn_findings = shipping.findings
        say(f"10. Amazon read {dict(shipping.documents)}; rejected sets: {shipping.rejected}; "
            f"compliance findings: {len(asn_findings)}")
        for finding in asn_findings:
            say(f"     finding {finding.rule}: {finding.document}: {finding.detail}")
        receipts, receipt_findings = receive_trucks(sandbox, amazon, shipments)
        ours = {shipment.shipment_id for _, shipment in shipments}
        charged = [e for e in amazon.chargeback_ledger() if e.shipment_id in ours
                   or e.purchase_order in {po for po, _ in shipments}]
        others = Counter(e.rule for e in amazon.chargeback_ledger() if e not in charged)
        say(f"11. the trucks arrived; Amazon scanned every carton label (PDF) and received {len(receipts)} "
            f"shipment(s), {sum(len({c.sscc for c in r.cartons}) for r in receipts)} carton(s); findings: "
            f"{len(receipt_findings)}; chargebacks on our shipments: {len(charged)}")
        for finding in receipt_findings:
            say(f"     finding {finding.rule}: {finding.document}: {finding.detail}")
        if others:
            say(f"     other chargebacks: {dict(others)} (POs this demo never ships)")
        findings = findings + asn_findings + receipt_findings
        remitted = pay_and_post(sandbox, amazon, shipments)
        say(f"done in {time.perf_counter() - started:.0f} s (Airflow DB {sandbox.timings['airflow_db']:.0f} s, "
            f"po_to_so {sandbox.timings['po_to_so']:.0f} s, so_to_poa {sandbox.timings['so_to_poa']:.0f} s, "
            f"fulfilment_to_asn {sandbox.timings.get('fulfilment_to_asn', 0):.0f} s, "
            f"remit_to_journals {sandbox.timings.get('remit_to_journals', 0):.0f} s, "
            f"stock_to_846 {sandbox.timings.get('stock_to_846', 0):.0f} s)")
        if not unchanged or findings_on_our_documents(findings) or charged or not remitted or not published:
            return 1
    if not args.keep and not os.environ.get("AB_HOME"):
        import shutil

        shutil.rmtree(folder, ignore_errors=True)
    return 0


@dataclass
class Shipping:
    shipments: list = field(default_factory=list)  # (PO, BlueCherry shipment) whose ASN went
    held: list = field(default_factory=list)       # POs whose shipment was held
    asn_files: int = 0
    invoice_files: int = 0
    documents: Counter = field(default_factory=Counter)  # what Amazon accepted, per set
    findings: list = field(default_factory=list)
    rejected: int = 0


def ship_on_time(sandbox, amazon, purchase_orders: list[str]) -> Shipping:
    """The warehouse's days: each allocated order picked, packed and shipped on the day that
    lands its truck in the PO's delivery window (the process clock moves there), BlueCherry
    invoices it, fulfilment_to_asn runs, Amazon reads the uploads. One more order, shipped on
    the first day with a date as BOL, is held."""
    from sandbox.dock import departure_for, on_the_day

    backend = sandbox.emulator.backend
    in_stock = [o for o in backend.list_sales_orders(customer_pos=purchase_orders)
                if any(line.qty_allocated for line in o.lines)]
    # Orders allocated in full ship; a part-allocated case line was acknowledged as backordered.
    orders = [o for o in in_stock if all(line.qty_allocated == line.qty_ordered for line in o.lines)][:2]
    shipping = Shipping()
    if not orders:
        return shipping
    bad_bol = next((o for o in in_stock if o not in orders), None)
    now = datetime.now(UTC)
    plan = sorted((departure_for(amazon.purchase_order(o.customer_po).window_start,
                                 transit_days=backend.config.transit_days, now=now), o.customer_po, o)
                  for o in orders)
    with on_the_day(plan[0][0]) as clock:
        for index, (departure, po_number, order) in enumerate(plan):
            clock.move_to(max(departure, datetime.now(UTC)))
            backend.pick_and_pack(order.order_number)
            shipment = backend.ship([order.order_number])
            backend.invoice_shipment(shipment.shipment_id)
            shipping.shipments.append((po_number, shipment))
            if index == 0 and bad_bol is not None:
                backend.pick_and_pack(bad_bol.order_number)
                backend.ship([bad_bol.order_number], bol_number="VENDR20261130")
                shipping.held.append(bad_bol.customer_po)
            sandbox.run_dag("fulfilment_to_asn")
            shipping.asn_files += len(names(sandbox, "856"))
            shipping.invoice_files += len(names(sandbox, "810"))
            review = amazon.process_uploads()
            shipping.documents.update(review.documents)
            shipping.findings += review.findings
            shipping.rejected += len(review.rejected_sets)
    return shipping


def receive_trucks(sandbox, amazon, shipments):
    """Each truck arrives on the carrier's estimated day; Amazon scans the labels as printed."""
    from sandbox.dock import load_truck, on_the_day

    receipts, findings = [], []
    arrivals = sorted((datetime.combine(s.estimated_delivery, dt_time(11), tzinfo=UTC), s.shipment_id)
                      for _, s in shipments)
    if not arrivals:
        return receipts, findings
    with on_the_day(arrivals[0][0]) as clock:
        for arrival, shipment_id in arrivals:
            clock.move_to(max(arrival, datetime.now(UTC)))
            shipment = sandbox.emulator.backend.get_shipment(shipment_id)
            if shipment.status != "confirmed":
                continue  # its ASN never went: nothing to scan against
            amazon.deliver(shipment_id, load_truck(shipment, sandbox.store, form="pdf"))
            result = amazon.run_receiving()
            receipts += result.receipts
            findings += result.findings
    return receipts, findings


def pay_and_post(sandbox, amazon, shipments) -> bool:
    """Amazon pays (early: the demo does not wait for net 60) with its deductions; po_to_so picks
    the 820 up, remit_to_journals posts it. Prints what was posted in BlueCherry; False if the
    remittance was not posted."""
    from datetime import timedelta

    from sqlalchemy import select

    from amazon_bluecherry.store.models import DisputeClaim, Remittance, RemittancePosting
    from sandbox.dock import on_the_day

    if not shipments:
        return True
    paid_on = max(datetime.combine(s.estimated_delivery, dt_time(16), tzinfo=UTC) for _, s in shipments)
    with on_the_day(max(paid_on, datetime.now(UTC)) + timedelta(days=1)):
        today = datetime.now(UTC).date()
        paid = amazon.issue_remittance(today - timedelta(days=90), today + timedelta(days=90))
        if paid is None:
            say("12. Amazon had nothing to pay")
            return False
        kinds = Counter(entry.kind for entry in paid.entries)
        say(f"12. Amazon paid {paid.payment_amount} (820 trace {paid.trace_number}): {len(paid.invoices)} "
            f"invoice(s), deductions {dict(kinds) or 'none'}")
        sandbox.run_dag("po_to_so")  # the 820: stored, validated, 997'd
        sandbox.run_dag("remit_to_journals")
    store = sandbox.store
    with store.session() as db:
        remittance = db.scalar(select(Remittance).where(Remittance.trace_number == paid.trace_number))
        postings = list(db.scalars(select(RemittancePosting).where(RemittancePosting.remittance_id == remittance.id)
                                   .order_by(RemittancePosting.id))) if remittance else []
        claims = list(db.scalars(select(DisputeClaim)))
    status = remittance.status if remittance else "not received"
    say(f"13. remit_to_journals: remittance {status}; posted in BlueCherry:")
    for posting in postings:
        what = "cash receipt" if posting.kind == "cash_receipt" else f"journal {posting.deduction_type}"
        say(f"     {what:<36} {posting.reference:<26} {posting.amount:>12}  {posting.status}")
    finance = store.list_exceptions(owner="finance")
    say(f"     dispute packets: {sum(1 for c in claims if c.packet_path)} of {len(claims)} claim(s); "
        f"exceptions for finance: {len(finance)}")
    for exception in finance:
        say(f"     [{exception.owner}] {exception.type}: {exception.message[:150]}")
    return status == "posted"


def publish_stock(sandbox, amazon) -> bool:
    """stock_to_846 publishes; Amazon reads the 846. Prints what was published (ATS, buffer, rule);
    False if Amazon's view differs from what BlueCherry could ship less the buffers, or a re-run
    sends anything."""
    from sqlalchemy import func, select

    from amazon_bluecherry.flows.mappings import load_items
    from amazon_bluecherry.flows.stock_inputs import load_buffer_policy
    from amazon_bluecherry.flows.stock_to_846 import amazon_ids
    from amazon_bluecherry.flows.stock_to_846_steps import qualifiers, served_warehouses
    from amazon_bluecherry.settings import get_settings
    from amazon_bluecherry.store.models import InventoryFeed, InventoryFeedLine

    sandbox.run_dag("stock_to_846")
    read = amazon.process_uploads()
    store = sandbox.store
    with store.session() as db:
        feed = db.scalar(select(InventoryFeed).order_by(InventoryFeed.id.desc()).limit(1))
        if feed is None or feed.status != "sent":
            say(f"0. stock_to_846: no feed went out ({feed.status + ': ' + (feed.message or '') if feed else 'none'})")
            return False
        by_rule = db.execute(select(InventoryFeedLine.rule, func.count(), func.sum(InventoryFeedLine.ats),
                                    func.sum(InventoryFeedLine.buffer), func.sum(InventoryFeedLine.published))
                             .where(InventoryFeedLine.feed_id == feed.id).group_by(InventoryFeedLine.rule)).all()
        examples = list(db.scalars(select(InventoryFeedLine).where(InventoryFeedLine.feed_id == feed.id,
                                                                   InventoryFeedLine.buffer > 0)
                                   .order_by(InventoryFeedLine.rule.desc(), InventoryFeedLine.id).limit(3)))
    say(f"0. stock_to_846: a {feed.kind} feed of {feed.line_count} SKU/warehouse lines (snapshot "
        f"{feed.snapshot_at:%H:%M:%S} UTC) published {feed.units_published} units; Amazon read {dict(read.documents)}")
    for rule, lines, ats, held, published in sorted(by_rule):
        say(f"     rule {rule:<8} {lines:>5} lines: available {ats:>7}, buffer held back {held:>6}, published "
            f"{published:>7}")
    for line in examples:
        say(f"     e.g. {line.sku}@{line.warehouse} ({line.product_id_qualifier} {line.product_id}): available "
            f"{line.ats}, buffer {line.buffer} ({line.rule}: {line.rule_detail}), published {line.published}")

    settings = get_settings()
    policy = load_buffer_policy(settings.effective_inventory_buffer_file)
    ids = amazon_ids(load_items(settings.mappings_dir / "items.csv"), qualifiers(settings))
    could_ship: dict[str, dict[str, int]] = {}
    for row in sandbox.emulator.backend.get_ats().rows:
        if row.sku in ids and row.warehouse in served_warehouses(settings):
            available = max(0, row.on_hand - row.allocated - row.on_hold)
            qualifier, product_id, _ = ids[row.sku]
            could_ship.setdefault(row.warehouse, {})[f"{qualifier} {product_id}"] = (
                available - policy.rule_for(upc=row.upc, style=row.style)[1].held_back(available))
    matches = amazon.state.inventory_by_location == could_ship
    sent_before = len(sandbox.mailbox.received())
    sandbox.run_dag("stock_to_846")
    quiet = len(sandbox.mailbox.received()) == sent_before
    say(f"     Amazon's available stock {'matches' if matches else 'DIFFERS FROM'} what BlueCherry could ship less "
        f"the buffers ({sum(len(v) for v in could_ship.values())} items in {len(could_ship)} warehouses); "
        f"re-run: {'nothing new sent' if quiet else 'SENT AGAIN'}")
    return matches and quiet


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
