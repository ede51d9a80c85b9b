"""The 820 Amazon pays with: invoices due, less deductions that each point back to a cause.

One remittance pays every open invoice due by the end of the period whose goods were
received, and settles every ledger entry still open: chargebacks (``…VCBSINV``), shortage
claims (``<invoice>SC``) and price claims (``<invoice>PC``) computed now against receipts
and PO costs, shortage-claim reversals (``<invoice>SCR``), co-op agreement invoices
(``XXXX-XXXXXXXX``) and a provision for receivables (``YYMMDD-PROVISION FOR RECEIVABLES``,
reversed by the next remittance with a trailing ``R``). Conventions: ``data/remittance.yaml``.

Layout [A] (Amazon's 820 details are not public, see the reference §3):

* one ENT loop; one RMR per invoice (``RMR*IV*<invoice>*PI*<paid>*<invoice amount>``, with
  ``REF*PO`` and ``DTM*003`` invoice date);
* one RMR per deduction or credit: ``RMR*IV*<Amazon's number>**<signed amount>`` with no
  invoice amount, an ``ADX`` carrying the same signed amount, the reason code and the
  document it is about (``IV`` invoice, ``SI`` shipment or ``PO``), and ``REF*ZZ`` with
  the category in words. Paid = invoice amount + adjustments holds on every RMR;
* BPR02 = the sum of every RMR04. If deductions would exceed what is paid, the latest
  chargebacks wait for a later remittance (never a negative payment).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from amazon_bluecherry.edi.documents import (
    Adjustment,
    DateReference,
    PartyIdentification,
    Reference,
    RemittanceAdvice,
    RemittanceEntry,
    RemittanceItem,
)
from sandbox.amazon.books import Books, cents
from sandbox.amazon.state import AmazonState, InvoiceRecord, LedgerEntry, RemittanceRecord

__all__ = ["PlannedRemittance", "plan_remittance"]

_DEFERRABLE = ("chargeback", "coop")


@dataclass
class PlannedRemittance:
    document: RemittanceAdvice
    record: RemittanceRecord
    invoices: list[InvoiceRecord]
    entries: list[LedgerEntry]
    held: list[str]  # invoices due but not paid (nothing received yet)


def _claims(state: AmazonState, books: Books, invoice: InvoiceRecord, at: dt.datetime) -> list[LedgerEntry]:
    """Shortage and price claims against one invoice, matched against receipts now."""
    po = state.purchase_orders.get(invoice.purchase_order or "")
    if po is None:
        return []
    short_parts, short_amount = [], Decimal(0)
    price_parts, price_amount = [], Decimal(0)
    for line in invoice.lines:
        po_line = po.line(line.line_number) if line.line_number else None
        if po_line is None:  # not on the PO: nothing of it can have been received against it
            short_amount += line.eaches * line.unit_price
            short_parts.append(
                f"{line.product_id[0]} {line.product_id[1]} (not on the PO): invoiced "
                f"{line.eaches} EA, received 0, {line.eaches} x {line.unit_price}"
            )
            continue
        available = max(0, po_line.received - po_line.matched)
        matched = min(line.eaches, available)
        po_line.matched += matched
        short = line.eaches - matched
        if short:
            short_amount += short * line.unit_price
            short_parts.append(
                f"line {po_line.line_number}: invoiced {line.eaches} EA, received {matched} EA, "
                f"{short} x {line.unit_price}"
            )
        if line.unit_price > po_line.unit_price and matched:
            price_amount += (line.unit_price - po_line.unit_price) * matched
            price_parts.append(
                f"line {po_line.line_number}: {matched} EA x ({line.unit_price} invoiced - "
                f"{po_line.unit_price} PO cost)"
            )
    receipts = [r.receipt_id for r in state.receipts if po.number in r.purchase_orders]
    shipments = sorted(
        {r.shipment_id for r in state.receipts if po.number in r.purchase_orders and r.shipment_id}
    )
    entries = []
    if cents(short_amount) > 0:
        entries.append(
            books.entry(
                reference=books.reference("shortage_claim", invoice=invoice.invoice_number),
                kind="shortage_claim",
                amount=-cents(short_amount),
                created_at=at,
                category="Shortage claim",
                cause=f"invoice {invoice.invoice_number} bills more units than PO {po.number} received "
                f"(shipments {', '.join(shipments) or 'none'})",
                basis="; ".join(short_parts),
                purchase_order=po.number,
                invoice_number=invoice.invoice_number,
                shipment_id=", ".join(shipments) or None,
                receipt_ids=receipts,
            )
        )
    if cents(price_amount) > 0:
        entries.append(
            books.entry(
                reference=books.reference("price_claim", invoice=invoice.invoice_number),
                kind="price_claim",
                amount=-cents(price_amount),
                created_at=at,
                category="Price claim",
                cause=f"invoice {invoice.invoice_number} cost is above the cost on PO {po.number}",
                basis="; ".join(price_parts),
                purchase_order=po.number,
                invoice_number=invoice.invoice_number,
            )
        )
    return entries


def _received_anything(state: AmazonState, invoice: InvoiceRecord) -> bool:
    return any(invoice.purchase_order in r.purchase_orders for r in state.receipts)


def plan_remittance(
    state: AmazonState,
    books: Books,
    *,
    at: dt.datetime,
    period_start: dt.date,
    period_end: dt.date,
    vendor_code: str,
    vendor_name: str | None = None,
) -> PlannedRemittance | None:
    """The 820 for the period, with ``state`` updated as if it were sent; None if nothing to pay.

    Planning changes ``state`` even when it ends in None (claims matched, entries made), so
    plan on a copy and keep it only when a remittance comes out. The caller writes the
    document, drops the file and fills in ``record.file_name``.
    """
    if period_end < period_start:
        raise ValueError(f"period ends {period_end} before it starts {period_start}")
    rules = books.rulebook.remittance
    due = sorted(
        (inv for inv in state.invoices.values() if inv.status == "open" and inv.due_date <= period_end),
        key=lambda inv: (inv.due_date, inv.invoice_number),
    )
    payable = [inv for inv in due if _received_anything(state, inv)]
    held = [inv.invoice_number for inv in due if inv not in payable]

    new_entries: list[LedgerEntry] = []
    for invoice in payable:
        new_entries += _claims(state, books, invoice, at)
    gross = sum((inv.total_amount for inv in payable), Decimal(0))
    trace_number = f"{state.next_number('remittance'):010d}"
    if gross > 0:
        for agreement in rules.coop_agreements:
            amount = cents(gross * agreement.percent / 100)
            if amount > 0:
                new_entries.append(
                    books.entry(
                        reference=books.reference(
                            "coop", agreement=agreement.agreement, number=state.next_number("coop")
                        ),
                        kind="coop",
                        amount=-amount,
                        created_at=at,
                        category=f"Co-op: {agreement.name}",
                        cause=f"co-op agreement {agreement.agreement:04d} ({agreement.name}) on the invoices of "
                        f"payment {trace_number}: {', '.join(inv.invoice_number for inv in payable)}",
                        basis=f"{agreement.percent}% of {cents(gross)}",
                    )
                )
    for entry in state.ledger:
        if entry.kind == "provision" and entry.remitted_in is not None and entry.reversed_by is None:
            reversal = books.entry(
                reference=books.reference("provision_reversal", date=entry.created_at),
                kind="provision_reversal",
                amount=-entry.amount,
                created_at=at,
                category="Provision for receivables reversal",
                cause=f"releases the provision {entry.reference} held in payment {entry.remitted_in}",
                basis=f"reverses {entry.reference} ({entry.amount})",
                reverses=entry.reference,
            )
            entry.reversed_by = reversal.reference
            new_entries.append(reversal)
    if gross > 0 and rules.provision_percent > 0:
        amount = cents(gross * rules.provision_percent / 100)
        if amount > 0 and state.ledger_entry(books.reference("provision", date=at)) is None:
            new_entries.append(
                books.entry(
                    reference=books.reference("provision", date=at),
                    kind="provision",
                    amount=-amount,
                    created_at=at,
                    category="Provision for receivables",
                    cause=f"held back from payment {trace_number} against future deductions",
                    basis=f"{rules.provision_percent}% of {cents(gross)}",
                )
            )

    new_refs = {e.reference for e in new_entries}
    open_entries = [
        e
        for e in state.ledger
        if e.remitted_in is None and e.created_at.date() <= period_end and e.reference not in new_refs
    ]
    entries = sorted(open_entries, key=lambda e: (e.created_at, e.reference)) + new_entries
    net = gross + sum((e.amount for e in entries), Decimal(0))
    deferred: list[LedgerEntry] = []
    for entry in sorted(
        (e for e in entries if e.kind in _DEFERRABLE and e.amount < 0),
        key=lambda e: (e.created_at, e.reference),
        reverse=True,
    ):
        if net > 0:
            break
        deferred.append(entry)
        net -= entry.amount
    entries = [e for e in entries if e not in deferred]
    if (not payable and not entries) or net <= 0:
        return None  # the caller planned on a copy of the state and drops it

    items: list[RemittanceItem] = []
    for invoice in payable:
        items.append(
            RemittanceItem(
                reference_qualifier="IV",
                reference_number=invoice.invoice_number,
                payment_action="PI",
                amount_paid=invoice.total_amount,
                invoice_amount=invoice.total_amount,
                references=[Reference(qualifier="PO", value=invoice.purchase_order)]
                if invoice.purchase_order
                else [],
                dates=[DateReference(qualifier="003", date=invoice.invoice_date)],
            )
        )
    codes = rules.adjustment_reason_codes
    for entry in entries:
        if entry.invoice_number:
            about = ("IV", entry.invoice_number)
        elif entry.shipment_id:
            about = ("SI", entry.shipment_id.split(",")[0].strip())
        elif entry.purchase_order:
            about = ("PO", entry.purchase_order.split(",")[0].strip())
        else:
            about = (None, None)
        references = [Reference(qualifier="ZZ", description=entry.category[:80])]
        if entry.purchase_order and "," not in entry.purchase_order:
            references.insert(0, Reference(qualifier="PO", value=entry.purchase_order))
        items.append(
            RemittanceItem(
                reference_qualifier="IV",
                reference_number=entry.reference,
                amount_paid=entry.amount,
                references=references,
                dates=[DateReference(qualifier="003", date=entry.created_at.date())],
                adjustments=[
                    Adjustment(
                        amount=entry.amount,
                        reason_code=codes[entry.kind],
                        reference_qualifier=about[0],
                        reference_number=about[1],
                    )
                ],
            )
        )
    payment = sum((item.amount_paid for item in items), Decimal(0))
    payer = rules.payer
    document = RemittanceAdvice(
        transaction_handling="C",
        payment_amount=payment,
        credit_debit="C",
        payment_method=rules.payment_terms.method,
        payment_format=rules.payment_terms.format,
        payment_date=at.date(),
        trace_number=trace_number,
        currency=books.rulebook.rate_card.currency,
        references=[Reference(qualifier="VR", value=vendor_code)],
        dates=[DateReference(qualifier="097", date=at.date())],
        parties=[
            PartyIdentification(
                role="PR", name=payer.name, id_qualifier=payer.id_qualifier, id_code=payer.id
            ),
            PartyIdentification(
                role="PE", name=vendor_name or vendor_code, id_qualifier="92", id_code=vendor_code
            ),
        ],
        entries=[RemittanceEntry(sequence=1, items=items)],
    )
    for invoice in payable:
        invoice.status = "paid"
        invoice.paid_in = trace_number
    for entry in entries:
        entry.remitted_in = trace_number
    record = RemittanceRecord(
        trace_number=trace_number,
        file_name="",
        issued_at=at,
        period_start=period_start,
        period_end=period_end,
        payment_amount=payment,
        invoices=[inv.invoice_number for inv in payable],
        ledger_references=[e.reference for e in entries],
        deferred=[e.reference for e in deferred],
    )
    state.remittances.append(record)
    return PlannedRemittance(document=document, record=record, invoices=payable, entries=entries, held=held)
