"""Receiving at the fulfilment centre: ASN cartons counted, shortages found, deliveries timed.

A shipment is received once its truck has arrived (the ASN's DTM*017 at the arrival hour,
or the moment ``record_delivery`` says it came). Each carton is counted; with probability
``shortage_rate`` a carton comes up short (one of its items has fewer units than the ASN
says): a Carton Content Accuracy chargeback now, and a shortage claim (``<invoice>SC``)
when the invoice is paid. Goods that arrive with no ASN are received as confirmed and
cost an ASN-missing chargeback. Open shortage claims are sometimes found to be wrong later
(the units turn up) and are reversed with ``<invoice>SCR``.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from decimal import Decimal

from sandbox.amazon.books import Books
from sandbox.amazon.state import AmazonState, Finding, Receipt, ReceivedCarton

__all__ = ["ReceivingResult", "receive"]


@dataclass
class ReceivingResult:
    receipts: list[Receipt] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    reversals: list[str] = field(default_factory=list)  # ledger references of SCR credits

    @property
    def short_cartons(self) -> int:
        return sum(
            1
            for receipt in self.receipts
            for carton in receipt.cartons
            if carton.asn_eaches is not None and carton.received_eaches < carton.asn_eaches
        )


def _receipt_id(state: AmazonState) -> str:
    return f"R{state.next_number('receipt'):06d}"


def _check_window(state: AmazonState, books: Books, receipt: Receipt, result: ReceivingResult) -> None:
    day = receipt.at.date()
    for po_number in receipt.purchase_orders:
        po = state.purchase_orders.get(po_number)
        if po is None or po.delivered_late_flagged or po.window_start <= day <= po.window_end:
            continue
        po.delivered_late_flagged = True
        eaches: dict[str, int] = {}
        for carton in receipt.cartons:
            if carton.purchase_order == po_number and carton.line_number:
                eaches[carton.line_number] = eaches.get(carton.line_number, 0) + carton.received_eaches
        result.findings.append(
            books.finding(
                "delivery_not_on_time",
                at=receipt.at,
                document=f"receipt {receipt.receipt_id}",
                purchase_order=po_number,
                shipment_id=receipt.shipment_id,
                detail=f"received {day:%Y-%m-%d}, window {po.window_start:%Y-%m-%d} to {po.window_end:%Y-%m-%d}",
                cogs=po.cogs(eaches),
            )
        )


def receive(
    state: AmazonState,
    books: Books,
    *,
    at: dt.datetime,
    rng: random.Random,
    shortage_rate: float,
    found_later_rate: float | None = None,
) -> ReceivingResult:
    """Receive every shipment whose truck has arrived by ``at``; see the module docstring."""
    if not 0 <= shortage_rate <= 1:
        raise ValueError(f"shortage rate must be between 0 and 1, got {shortage_rate}")
    result = ReceivingResult()
    for notice in sorted(state.ship_notices.values(), key=lambda n: (n.arrival_at, n.shipment_id)):
        if notice.received or notice.arrival_at > at:
            continue
        receipt = Receipt(
            receipt_id=_receipt_id(state),
            at=max(notice.arrival_at, notice.received_at),
            shipment_id=notice.shipment_id,
            purchase_orders=list(notice.purchase_orders),
            cartons=[],
        )
        mismatched = []
        for carton in notice.cartons:
            short_item = (
                rng.randrange(len(carton.items)) if carton.items and rng.random() < shortage_rate else None
            )
            for index, item in enumerate(carton.items):
                received = item.eaches
                if index == short_item:
                    received -= rng.randint(1, max(1, item.eaches // 4))
                receipt.cartons.append(
                    ReceivedCarton(
                        sscc=carton.sscc,
                        purchase_order=item.purchase_order,
                        line_number=item.line_number,
                        product_id=item.product_id,
                        asn_eaches=item.eaches,
                        received_eaches=received,
                    )
                )
                po = state.purchase_orders.get(item.purchase_order)
                line = po.line(item.line_number) if po and item.line_number else None
                if line is not None:
                    line.received += received
            if short_item is not None:
                mismatched.append(carton.sscc or "(no SSCC)")
        notice.received = True
        notice.receipt_id = receipt.receipt_id
        state.receipts.append(receipt)
        result.receipts.append(receipt)
        state.pending_deliveries = [
            d for d in state.pending_deliveries if d.purchase_order not in notice.purchase_orders
        ]
        if mismatched:
            result.findings.append(
                books.finding(
                    "receipt_carton_mismatch",
                    at=receipt.at,
                    document=f"receipt {receipt.receipt_id}",
                    shipment_id=notice.shipment_id,
                    purchase_order=", ".join(notice.purchase_orders),
                    detail=f"{len(mismatched)} carton(s) short against the 856: {', '.join(mismatched)}",
                    defects=len(mismatched),
                )
            )
        _check_window(state, books, receipt, result)

    for delivery in list(state.pending_deliveries):
        if delivery.at > at:
            continue
        state.pending_deliveries.remove(delivery)
        po = state.purchase_orders.get(delivery.purchase_order)
        if po is None:
            continue
        receipt = Receipt(
            receipt_id=_receipt_id(state),
            at=delivery.at,
            shipment_id=None,
            purchase_orders=[po.number],
            cartons=[],
        )
        eaches: dict[str, int] = {}
        for line in po.lines:
            quantity = max(0, line.confirmed_eaches - line.shipped)
            if not quantity:
                continue
            eaches[line.line_number] = quantity
            line.shipped += quantity  # it did leave the vendor, ASN or not
            line.received += quantity
            receipt.cartons.append(
                ReceivedCarton(
                    sscc=None,
                    purchase_order=po.number,
                    line_number=line.line_number,
                    product_id=tuple(line.product_ids[0]),
                    asn_eaches=None,
                    received_eaches=quantity,
                )
            )
        state.receipts.append(receipt)
        result.receipts.append(receipt)
        result.findings.append(
            books.finding(
                "asn_missing",
                at=delivery.at,
                document=f"receipt {receipt.receipt_id}",
                purchase_order=po.number,
                detail=f"{delivery.cartons} carton(s) for PO {po.number} arrived {delivery.at:%Y-%m-%d %H:%M} "
                "with no 856",
                cogs=po.cogs(eaches),
            )
        )
        _check_window(state, books, receipt, result)

    percent = (
        books.rulebook.remittance.shortage_found_later_percent
        if found_later_rate is None
        else Decimal(str(found_later_rate * 100))
    )
    for entry in list(state.ledger):
        if entry.kind != "shortage_claim" or entry.remitted_in is None or entry.reversed_by is not None:
            continue
        if rng.random() * 100 >= percent:
            continue
        reversal = books.entry(
            reference=books.reference("shortage_claim_reversal", invoice=entry.invoice_number),
            kind="shortage_claim_reversal",
            amount=-entry.amount,
            created_at=at,
            category="Shortage claim reversal",
            cause=f"units claimed short in {entry.reference} were found at the fulfilment centre",
            basis=f"reverses {entry.reference} ({entry.amount})",
            purchase_order=entry.purchase_order,
            invoice_number=entry.invoice_number,
            receipt_ids=list(entry.receipt_ids),
            reverses=entry.reference,
        )
        entry.reversed_by = reversal.reference
        result.reversals.append(reversal.reference)
    return result
