"""so_to_poa business rules: BlueCherry's allocation becomes Amazon's 855.

Pure functions. Per PO line, in the PO's own unit (cases stay cases):
- accepted (allocated + shipped) -> an IA loop; backordered -> an IB loop with the
  scheduled date; cancelled, or rejected at translation -> an IR loop with a reason.
  A partial line is one IA loop plus one IB (or IR) loop; the loops add up to the
  ordered quantity.
- a line Amazon cancelled (re-sent with quantity 0, "item cancel") -> one loop with
  quantity 0 and the code ``rules.yaml`` gives a cancelled line.
- the ACK01 codes are Amazon's, from ``amazon/rules.yaml``.
- Amazon's product ids are echoed exactly; every line carries the price we will invoice.
- A line rejected in an earlier 855 stays rejected (Amazon refuses the change).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from amazon_bluecherry.amazon.rules import amazon_rules, cancelled_line, line_status, reject_reason
from amazon_bluecherry.edi.documents import (
    AcknowledgementLine,
    LineAcknowledgement,
    PurchaseOrder,
    PurchaseOrderAcknowledgement,
)
from amazon_bluecherry.flows.po_to_so import CASE_UNITS, line_number_of


@dataclass(frozen=True)
class LineSummary:
    """One PO line as an 855 acknowledges it, flattened for the pre-send checkpoint."""

    purchase_order: str
    line_number: int
    ordered_qty: int
    acknowledged_qty: int
    ack_count: int                  # PO1 loops in the 855 for this line (must be exactly 1)
    statuses: tuple[str, ...]
    has_price: bool
    product_ids_echoed: bool
    rejected_before: int          # quantity rejected in earlier 855s
    rejected_now: int


def build_acknowledgement(
    purchase_order: PurchaseOrder,
    *,
    sales_order,                      # bluecherry.models.SalesOrder, or None when nothing was loaded
    rejected_lines: dict[int, str],   # line number -> cause, from translation
    case_packs: dict[int, int],       # line number -> eaches per PO unit, from translation
    previously_rejected: dict[int, int],  # line number -> quantity rejected in earlier 855s
    acknowledged_on: date,
) -> PurchaseOrderAcknowledgement | None:
    """The 855 for ``purchase_order``; None when no line can be acknowledged yet."""
    so_lines = {line.line_number: line for line in (sales_order.lines if sales_order else [])}
    schedule_qualifier = amazon_rules()["acknowledgement"]["schedule_date_qualifier"]
    accepted_code, backordered_code, rejected_code = (line_status(outcome) for outcome in
                                                      ("accepted", "backordered", "rejected"))
    cancelled = cancelled_line()
    lines: list[AcknowledgementLine] = []
    for position, po_line in enumerate(purchase_order.lines, start=1):
        number = line_number_of(po_line, position)
        unit = str(po_line.unit)
        pack = case_packs.get(number, 1) if unit in CASE_UNITS else 1
        price_per_each = _price_per_each(po_line.unit_price, po_line.price_basis, pack)
        loops: list[LineAcknowledgement] = []

        def loop(status: str, quantity: int, *, on: date | None = None, reason: str | None = None,
                 loops=loops, unit=unit) -> None:
            if quantity > 0:
                loops.append(LineAcknowledgement(
                    status=status, quantity=quantity, unit=unit,
                    date_qualifier=schedule_qualifier if on else None, date=on, reason_code=reason,
                ))

        so_line = so_lines.get(number)
        if po_line.quantity == 0:  # Amazon withdrew the line: nothing to promise or refuse
            loops.append(LineAcknowledgement(status=cancelled["status"], quantity=0, unit=unit,
                                             reason_code=cancelled["reason"]))
            if so_line is not None:
                price_per_each = so_line.unit_price
        elif number in rejected_lines:
            loop(rejected_code, po_line.quantity, reason=reject_reason(rejected_lines[number]))
        elif so_line is not None:
            price_per_each = so_line.unit_price   # the cost we will invoice
            # What Amazon was told is rejected stays rejected: only the rest can be promised.
            promisable = po_line.quantity - min(previously_rejected.get(number, 0), po_line.quantity)
            accepted = min((so_line.qty_allocated + so_line.qty_shipped) // pack, promisable)
            backordered = min(so_line.qty_backordered // pack, promisable - accepted)
            # Cancelled quantity and part cases cannot be promised either: rejected.
            rest = po_line.quantity - accepted - backordered
            loop(accepted_code, accepted)
            loop(backordered_code, backordered,
                 on=so_line.backorder_date or purchase_order.delivery_window_end or acknowledged_on)
            loop(rejected_code, rest, reason=reject_reason(so_line.cancel_reason or "out_of_stock"))
        # else: no line in BlueCherry: left unacknowledged, and the checkpoint blocks the 855.

        if loops:
            lines.append(AcknowledgementLine(
                line_number=po_line.line_number, quantity=po_line.quantity, unit=unit,
                unit_price=price_per_each, price_basis="PE", product_ids=po_line.product_ids,
                acknowledgements=loops,
            ))
    if not lines:
        return None
    all_accepted = all([str(item.status) for item in line.acknowledgements] == [accepted_code] for line in lines)
    return PurchaseOrderAcknowledgement(
        acknowledgement_type="AD" if all_accepted and len(lines) == len(purchase_order.lines) else "AC",
        purchase_order_number=purchase_order.purchase_order_number,
        purchase_order_date=purchase_order.order_date,
        acknowledgement_date=acknowledged_on,
        seller_order_number=sales_order.order_number if sales_order else None,
        lines=lines,
    )


def _price_per_each(price: Decimal | None, price_basis: str | None, pack: int) -> Decimal | None:
    if price is None or price_basis == "PE" or pack == 1:
        return price
    return (price / pack).quantize(Decimal("0.0001"))


def ordered_lines(purchase_order: PurchaseOrder) -> list[list]:
    """What the 850 ordered, per line: ``[line_number, quantity, [[qualifier, id], ...]]``.

    JSON-ready: the 855 gate compares what is about to be sent with this, read from the 850.
    """
    return [[line_number_of(line, position), line.quantity, [[p.qualifier, p.value] for p in line.product_ids]]
            for position, line in enumerate(purchase_order.lines, start=1)]


def summarize_acknowledgement(
    purchase_order_number: str,
    ordered: list[list],
    acknowledgement: PurchaseOrderAcknowledgement | SentAcknowledgement | None,
    previously_rejected: dict[int, int],
) -> list[LineSummary]:
    """Compare an 855 (as read back from the bytes about to be sent,
    :func:`read_sent_acknowledgements`) with its 850's :func:`ordered_lines`."""
    sent: dict[int, list] = {}
    for position, line in enumerate(acknowledgement.lines if acknowledgement else [], start=1):
        sent.setdefault(line_number_of(line, position), []).append(line)
    summaries = []
    for number, quantity, product_ids in ordered:
        acked = sent.get(number, [])
        loops = [loop for line in acked for loop in line.acknowledgements]
        echoed = [tuple(pair) for pair in product_ids]
        summaries.append(LineSummary(
            purchase_order=purchase_order_number,
            line_number=number,
            ordered_qty=quantity,
            acknowledged_qty=sum(loop.quantity for loop in loops),
            ack_count=len(acked),
            statuses=tuple(str(loop.status) for loop in loops),
            has_price=all(line.unit_price is not None for line in acked) and bool(acked),
            product_ids_echoed=all([(p.qualifier, p.value) for p in line.product_ids] == echoed for line in acked),
            rejected_before=previously_rejected.get(number, 0),
            rejected_now=sum(loop.quantity for loop in loops if str(loop.status) == line_status("rejected")),
        ))
    return summaries


@dataclass(frozen=True)
class _SentId:
    qualifier: str
    value: str


@dataclass(frozen=True)
class _SentLoop:
    status: str
    quantity: int


@dataclass(frozen=True)
class _SentLine:
    """A PO1 loop of an 855 as its bytes say it (what :func:`summarize_acknowledgement` reads)."""

    line_number: str | None
    unit_price: str | None
    product_ids: list[_SentId]
    acknowledgements: list[_SentLoop]


@dataclass(frozen=True)
class SentAcknowledgement:
    purchase_order_number: str | None
    lines: list[_SentLine]


def read_sent_acknowledgements(raw: bytes) -> list[SentAcknowledgement]:
    """Each 855 of a rendered file, in file order, read segment by segment: its purchase order
    number, and per PO1 loop its line number, price, product id pairs and ACK status and quantity
    (element positions from edi/segments.py).

    The gate's view of the bytes about to leave. Not the typed parser: the writer made
    these bytes from validated models, and building those models again was most of the
    gate's time at peak (10,000 POs x 50 lines).
    """
    from amazon_bluecherry.edi import segments as x
    from amazon_bluecherry.edi.reader import iter_transaction_sets

    def element(segment, n: int) -> str | None:
        value = segment[n].strip() if n < len(segment) else ""
        return value or None

    bak, po1, ack = x.BAK.positions, x.PO1.positions, x.ACK.positions
    sent: list[SentAcknowledgement] = []
    for _, _, transaction_set in iter_transaction_sets(raw):
        purchase_order_number, lines = None, []
        for segment in transaction_set.segments:
            sid = segment[0]
            if sid == "BAK":
                purchase_order_number = element(segment, bak["purchase_order_number"])
            elif sid == "PO1":
                ids = [_SentId(element(segment, n) or "", element(segment, n + 1) or "")
                       for n in range(po1["product_ids"], len(segment), 2)
                       if element(segment, n) or element(segment, n + 1)]
                lines.append(_SentLine(element(segment, po1["line_number"]), element(segment, po1["unit_price"]),
                                       ids, []))
            elif sid == "ACK" and lines:
                quantity = element(segment, ack["quantity"])
                lines[-1].acknowledgements.append(_SentLoop(element(segment, ack["status"]) or "",
                                                            int(Decimal(quantity)) if quantity else 0))
        sent.append(SentAcknowledgement(purchase_order_number, lines))
    return sent


def acknowledgement_frame(summaries: list[LineSummary]):
    """Rows for the 855 checkpoint: one per PO line (``quality.suites.acknowledgement_suite``)."""
    import pandas as pd

    rows = [
        {
            "purchase_order": summary.purchase_order,
            "line_number": summary.line_number,
            "ack_count": summary.ack_count,
            "acknowledged_qty": summary.acknowledged_qty,
            "ordered_qty": summary.ordered_qty,
            "missing_price_count": 0 if summary.has_price else 1,
            "product_id_echoed": summary.product_ids_echoed,
            # A line Amazon cancelled since (ordered 0) reverses nothing.
            "reverses_rejection": summary.rejected_now < min(summary.rejected_before, summary.ordered_qty),
        }
        for summary in summaries
    ]
    return pd.DataFrame(rows, columns=["purchase_order", "line_number", "ack_count", "acknowledged_qty",
                                       "ordered_qty", "missing_price_count", "product_id_echoed",
                                       "reverses_rejection"])


def rejected_quantities(acknowledgement: PurchaseOrderAcknowledgement) -> dict[int, int]:
    """Quantity per line in IR loops of a sent 855: never to be accepted later."""
    rejected: dict[int, int] = {}
    for position, line in enumerate(acknowledgement.lines, start=1):
        quantity = sum(item.quantity for item in line.acknowledgements if str(item.status) == line_status("rejected"))
        if quantity:
            rejected[line_number_of(line, position)] = quantity
    return rejected
