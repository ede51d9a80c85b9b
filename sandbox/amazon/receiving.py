"""Receiving at the fulfilment centre: ASN cartons counted, shortages found, deliveries timed.

A shipment is received once its truck has arrived (the ASN's DTM*017 at the arrival hour,
or the moment ``record_delivery`` / ``deliver`` says it came).

When the truck's cartons were handed over (``AmazonSimulator.deliver``), receiving works as
Amazon's dock does, "license plate receive": each carton's label is scanned (``scan``
reads the SSCC off the stored ZPL or PDF) and looked up among the 856's cartons (MAN*GM).

* A carton whose label is found is received as the ASN says and its units counted: a
  count that differs from the ASN is a Carton Content Accuracy defect (per carton).
* A carton with no readable SSCC label, or whose label SSCC is not a carton of this 856
  (or was already scanned), cannot be license-plate received: No Carton Content Label,
  per carton. Its units are received by hand against the shipment's POs.
* Whatever was really in the cartons is what counts as received per PO line, so a
  carton short against its ASN becomes a shortage claim (``<invoice>SC``) at payment.

Without a handed-over truck the cartons are taken as the ASN describes them, labels
included, and with probability ``shortage_rate`` a carton comes up short (one of its items
has fewer units than the ASN says): a Carton Content Accuracy chargeback now, and a
shortage claim when the invoice is paid. Goods that arrive with no ASN are received as
confirmed and cost an ASN-missing chargeback. Open shortage claims are sometimes found to
be wrong later (the units turn up) and are reversed with ``<invoice>SCR``.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from sandbox.amazon.books import Books
from sandbox.amazon.catalogue import ItemCatalogue
from sandbox.amazon.state import AmazonState, Finding, Receipt, ReceivedCarton, ShipNoticeRecord

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


def _gtin_of(product_id: tuple[str, str] | list[str], catalogue: ItemCatalogue | None) -> str | None:
    """The GTIN on the units of a PO/856 product id: the catalogue item's UPC, else a UPC as it is."""
    qualifier, value = product_id
    item = catalogue.lookup(qualifier, value) if catalogue is not None else None
    if item is not None:
        return item.upc
    return value if qualifier in ("UP", "EN") else None


def _order_line_of(state: AmazonState, purchase_orders: list[str], gtin: str, catalogue: ItemCatalogue | None):
    """(PO, line) of the shipment's POs that ordered the item with this GTIN, else (None, None)."""
    for number in purchase_orders:
        po = state.purchase_orders.get(number)
        for line in po.lines if po is not None else ():
            if any(_gtin_of(tuple(p), catalogue) == gtin for p in line.product_ids):
                return po, line
    return None, None


def _license_plate_receive(
    state: AmazonState,
    books: Books,
    notice: ShipNoticeRecord,
    receipt: Receipt,
    result: ReceivingResult,
    *,
    scan: Callable[[str], str | None],
    catalogue: ItemCatalogue | None,
) -> None:
    """Scan every carton off the truck, receive it by its SSCC or by hand; see the module docstring."""
    asn_cartons = {carton.sscc: carton for carton in notice.cartons if carton.sscc}
    scanned: set[str] = set()
    unlabelled: list[int] = []
    mislabelled: list[str] = []
    miscounted: list[str] = []

    def receive_line(po_number, line, sscc, product_id, asn_eaches, received) -> None:
        receipt.cartons.append(ReceivedCarton(
            sscc=sscc, purchase_order=po_number, line_number=line.line_number if line else None,
            product_id=tuple(product_id), asn_eaches=asn_eaches, received_eaches=received))
        if line is not None:
            line.received += received

    for position, carton in enumerate(notice.truck or [], start=1):
        sscc = scan(carton.label_file) if carton.label_file else None
        expected = asn_cartons.get(sscc) if sscc and sscc not in scanned else None
        if expected is None:
            # Not license-plate receivable: the units are counted and received by hand.
            if sscc is None:
                unlabelled.append(position)
            else:
                known = "scanned twice" if sscc in scanned else "not a carton of this 856"
                mislabelled.append(f"carton {position} labelled {sscc} ({known})")
            for gtin, eaches in sorted(carton.contents.items()):
                po, line = _order_line_of(state, notice.purchase_orders, gtin, catalogue)
                receive_line(po.number if po else notice.purchase_orders[0], line, sscc, ("UP", gtin), None, eaches)
            continue
        scanned.add(sscc)
        remaining = dict(carton.contents)
        differs = False
        for item in expected.items:
            gtin = _gtin_of(item.product_id, catalogue)
            got = min(remaining.get(gtin, 0), item.eaches) if gtin else 0
            if gtin in remaining:
                remaining[gtin] -= got
            po = state.purchase_orders.get(item.purchase_order)
            line = po.line(item.line_number) if po and item.line_number else None
            receive_line(item.purchase_order, line, sscc, item.product_id, item.eaches, got)
            differs = differs or got != item.eaches
        for gtin, eaches in sorted(remaining.items()):
            if eaches <= 0:
                continue
            differs = True  # units the ASN does not list in this carton
            po, line = _order_line_of(state, notice.purchase_orders, gtin, catalogue)
            receive_line(po.number if po else notice.purchase_orders[0], line, sscc, ("UP", gtin), 0, eaches)
        if differs:
            miscounted.append(sscc)

    never_scanned = [sscc for sscc in asn_cartons if sscc not in scanned]
    for sscc in never_scanned:
        for item in asn_cartons[sscc].items:
            po = state.purchase_orders.get(item.purchase_order)
            line = po.line(item.line_number) if po and item.line_number else None
            receive_line(item.purchase_order, line, sscc, item.product_id, item.eaches, 0)
    common = {"at": receipt.at, "document": f"receipt {receipt.receipt_id}", "shipment_id": notice.shipment_id,
              "purchase_order": ", ".join(notice.purchase_orders)}
    missing = f"; 856 carton(s) never scanned: {', '.join(never_scanned)}" if never_scanned else ""
    if unlabelled:
        result.findings.append(books.finding(
            "receipt_carton_without_label", **common, cartons=len(unlabelled),
            detail=f"truck carton(s) {', '.join(map(str, unlabelled))} without a readable SSCC label, received by "
                   f"hand{missing}"))
    if mislabelled:
        result.findings.append(books.finding(
            "receipt_carton_label_mismatch", **common, cartons=len(mislabelled),
            detail=f"{'; '.join(mislabelled)}: the label SSCC is not the 856's MAN*GM, received by hand{missing}"))
    if never_scanned and not (unlabelled or mislabelled):
        miscounted += never_scanned  # cartons the ASN announced that never came off the truck
    if miscounted:
        result.findings.append(books.finding(
            "receipt_carton_mismatch", **common, defects=len(miscounted),
            detail=f"{len(miscounted)} carton(s) whose content differs from the 856: {', '.join(miscounted)}"))


def receive(
    state: AmazonState,
    books: Books,
    *,
    at: dt.datetime,
    rng: random.Random,
    shortage_rate: float,
    found_later_rate: float | None = None,
    scan: Callable[[str], str | None] | None = None,
    catalogue: ItemCatalogue | None = None,
) -> ReceivingResult:
    """Receive every shipment whose truck has arrived by ``at``; see the module docstring.

    :param scan: label file (as kept by ``deliver``) -> the SSCC its barcode carries, or None;
        needed for shipments whose cartons were handed over.
    :param catalogue: to tell which PO line a counted GTIN belongs to.
    """
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
        if notice.truck is not None:
            if scan is None:
                raise ValueError(f"shipment {notice.shipment_id} came with its cartons: receiving needs a scanner")
            _license_plate_receive(state, books, notice, receipt, result, scan=scan, catalogue=catalogue)
        for carton in notice.cartons if notice.truck is None else ():
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
