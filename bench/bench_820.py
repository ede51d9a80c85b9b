"""Benchmark: one Amazon 820 with 50,000 remittance lines classified, gated and posted, for real.

The remittance pays N invoices that exist in the BlueCherry emulator (over HTTP) and carries
every kind of deduction (shortage claims and reversals, chargebacks, co-op, price claims,
price protection, provision and its reversal, and some lines no row recognises). The
store is SQLite. Setup (seeding the invoices, writing the 820, po_to_so's intake of it) is
not timed; the three steps of remit_to_journals are, each as its task runs it:
classify (parse, classify, match BlueCherry's open AR, plan, store the lines), gate (the
Great Expectations checkpoint, including importing GX) and post (the cash receipt and the
typed journals). The last line is machine-readable:

    remit_820_seconds=N classify_seconds=N gate_seconds=N post_seconds=N cpu_seconds=N lines=N intake_seconds=N

Usage: python bench/bench_820.py [--lines 50000] [--invoices 25000] [--database-url URL]
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

PAID_ON = dt.date(2026, 10, 23)
DEDUCTIONS = [  # (reference pattern, share of the deduction lines, amount range in cents, ADX code)
    ("{invoice}SC", 0.25, (100, 5000), "SC"),
    ("{invoice}SCR", 0.03, (100, 800), "SR"),
    ("{n:09d}VCBSINV", 0.35, (260, 15000), "CB"),
    ("4711-{n:08d}", 0.15, (100, 9000), "CO"),
    ("{invoice}PC", 0.12, (10, 900), "PC"),
    ("IPAPUS{n:07d}", 0.05, (100, 3000), "PP"),
    ("XJ{n:06d}-UNKNOWN", 0.002, (100, 500), "ZZ"),
]


def seed_invoices(backend, count: int) -> list[tuple[str, Decimal]]:
    """``count`` open Amazon invoices straight into the emulator's tables (setup, not the API)."""
    from sqlalchemy import insert

    from sandbox.bluecherry import schema as t

    invoices, rows, lines = [], [], []
    for n in range(count):
        number = f"INV9{n:06d}"
        total = Decimal(5000 + (n * 7919) % 200000) / 100
        invoices.append((number, total))
        rows.append({"invoice_number": number, "invoice_date": dt.date(2026, 9, 1), "customer_po": f"B{n:07d}",
                     "order_number": f"SO9{n:06d}", "shipment_id": f"SH9{n:07d}", "bc_customer": "AMAZON",
                     "bc_store": "ABE2", "currency": "USD", "terms_code": "N60", "discount_percent": Decimal("0"),
                     "discount_days": 0, "net_days": 60, "due_date": dt.date(2026, 10, 31), "subtotal": total,
                     "freight": Decimal("0"), "total": total, "open_amount": total})
        lines.append({"invoice_number": number, "line_number": 1, "sku": "BENCH", "style": "BENCH", "color": "X",
                      "size": "M", "upc": None, "product_id": None, "product_id_qualifier": None, "qty": 1,
                      "unit_price": total, "amount": total})
    with backend._write() as session:
        session.execute(insert(t.InvoiceRow), rows)
        session.execute(insert(t.InvoiceLineRow), lines)
    return invoices


def remittance_file(invoices: list[tuple[str, Decimal]], lines: int) -> bytes:
    from amazon_bluecherry.edi.build import write_documents
    from amazon_bluecherry.edi.documents import (
        Adjustment,
        DateReference,
        PartyIdentification,
        RemittanceAdvice,
        RemittanceEntry,
        RemittanceItem,
    )
    from amazon_bluecherry.edi.writer import InMemoryControlNumbers

    items = [RemittanceItem(reference_qualifier="IV", reference_number=number, payment_action="PI",
                            amount_paid=total, invoice_amount=total) for number, total in invoices]
    remaining = lines - len(items) - 2                       # the provision and its reversal close the list
    counts = [int(remaining * share) for _, share, _, _ in DEDUCTIONS]
    counts[2] += remaining - sum(counts)                     # the rest are chargebacks
    for kind, ((pattern, _share, (low, high), code), count) in enumerate(zip(DEDUCTIONS, counts, strict=True)):
        for n in range(count):
            invoice = invoices[(n * 31 + kind) % len(invoices)][0]
            cents = low + (n * 104729 + kind) % (high - low)
            amount = Decimal(cents) / 100 * (1 if pattern.endswith("SCR") else -1)
            items.append(RemittanceItem(reference_qualifier="IV", reference_number=pattern.format(invoice=invoice, n=n),
                                        amount_paid=amount,
                                        adjustments=[Adjustment(amount=amount, reason_code=code,
                                                                reference_qualifier="IV", reference_number=invoice)]))
    items.append(RemittanceItem(reference_qualifier="IV", reference_number="261001-PROVISION FOR RECEIVABLES",
                                amount_paid=Decimal("-1000.00")))
    items.append(RemittanceItem(reference_qualifier="IV", reference_number="261001-PROVISION FOR RECEIVABLESR",
                                amount_paid=Decimal("900.00")))
    payment = sum((item.amount_paid for item in items), Decimal(0))
    advice = RemittanceAdvice(
        transaction_handling="C", payment_amount=payment, credit_debit="C", payment_method="ACH",
        payment_format="CTX", payment_date=PAID_ON, trace_number="9000000001", currency="USD",
        dates=[DateReference(qualifier="097", date=PAID_ON)],
        parties=[PartyIdentification(role="PR", name="Amazon.com Services LLC", id_qualifier="92", id_code="AMAZON"),
                 PartyIdentification(role="PE", name="VENDR", id_qualifier="92", id_code="VENDR")],
        entries=[RemittanceEntry(sequence=1, items=items)])
    return write_documents([advice], sender="AMAZON", receiver="VENDOR", control_numbers=InMemoryControlNumbers(),
                           usage="T")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=50_000)
    parser.add_argument("--invoices", type=int, default=25_000, help="of the lines, invoice payments")
    parser.add_argument("--database-url", help="integration store (default: a new SQLite file); an empty "
                        "PostgreSQL database for the production backend")
    args = parser.parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="bench-820-"))
    os.environ.setdefault("AB_HOME", str(folder))
    import logging

    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("amazon_bluecherry").setLevel(logging.ERROR)

    from amazon_bluecherry.bluecherry.rest import RestGateway
    from amazon_bluecherry.flows.intake import process_inbound
    from amazon_bluecherry.flows.remit_codes import load_remit_codes
    from amazon_bluecherry.flows.remit_to_journals_steps import classify_received, gate_classified, post_gated
    from amazon_bluecherry.settings import REPO_ROOT, Settings
    from amazon_bluecherry.store import Store
    from sandbox.bluecherry.server import start_emulator

    settings = Settings()
    store = Store(args.database_url or f"sqlite:///{folder / 'store.sqlite'}")
    store.migrate()
    with start_emulator(folder / "bluecherry.sqlite") as emulator:
        started = time.perf_counter()
        invoices = seed_invoices(emulator.backend, args.invoices)
        content = remittance_file(invoices, args.lines)
        raw_id, _ = store.save_raw_document(content, partner="AMAZON", transport="sftp", remote_name="AMZN820.BENCH")
        print(f"setup: {len(invoices)} invoices, an 820 of {len(content) / 1e6:.1f} MB, "
              f"{time.perf_counter() - started:.1f} s", flush=True)
        began = time.perf_counter()
        accepted = process_inbound(store, raw_id, settings).accepted.get("820", [])
        intake = time.perf_counter() - began
        assert len(accepted) == 1, "po_to_so's intake accepts the 820"

        codes = load_remit_codes(REPO_ROOT / "include" / "mappings")
        gateway = RestGateway(emulator.url, emulator.api_key, timeout=120)
        now = dt.datetime.now(dt.UTC)
        c0, t0 = time.process_time(), time.perf_counter()
        classified = classify_received(store, gateway, codes, settings, now=now)
        c1, t1 = time.process_time(), time.perf_counter()
        gated = gate_classified(store, gateway, settings, now=now)
        c2, t2 = time.process_time(), time.perf_counter()
        posted = post_gated(store, gateway, settings)
        c3, t3 = time.process_time(), time.perf_counter()
        gateway.close()
        assert len(gated.gated) == 1 and len(posted.posted) == 1, (gated, posted)
        lines = len({(line.journal_number, line.line_number) for line in emulator.backend.list_ledger_lines("2026-10")})
        print(f"classified {args.lines} lines ({classified.unrecognised_lines} unrecognised, "
              f"{classified.unmatched_lines} unmatched): {t1 - t0:.2f} s; gate: {t2 - t1:.2f} s; "
              f"post ({posted.writes} writes, {lines} GL lines): {t3 - t2:.2f} s; intake (po_to_so): {intake:.2f} s")
        # CPU seconds of this process (the emulator serves from a thread of it): what the
        # steps cost without waiting for the CPU on a busy machine.
        print(f"cpu seconds: classify {c1 - c0:.2f}, gate {c2 - c1:.2f}, post {c3 - c2:.2f}, total {c3 - c0:.2f}; "
              f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        print(f"remit_820_seconds={t3 - t0:.2f} classify_seconds={t1 - t0:.2f} gate_seconds={t2 - t1:.2f} "
              f"post_seconds={t3 - t2:.2f} cpu_seconds={c3 - c0:.2f} lines={args.lines} intake_seconds={intake:.2f}")
    store.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
