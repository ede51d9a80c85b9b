"""Amazon's rules applied to what the vendor sends: 855, 856, 810 (and 846), plus time sweeps.

Each ``check_*`` takes one parsed document, the moment Amazon received it and the file it
came in, records findings (and chargebacks) through :class:`~sandbox.amazon.books.Books`
and updates Amazon's view of the purchase orders unless a rule says the document is
refused. :func:`sweep` applies the rules that fire on the clock alone (no 855 within 24 h,
units not shipped when the delivery window closes).

Rule ids, titles, sources and chargebacks: ``data/rules.yaml``.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from amazon_bluecherry.edi.documents import (
    InventoryAdvice,
    Invoice,
    PurchaseOrderAcknowledgement,
    ShipmentItem,
    ShipNotice,
)
from sandbox.amazon.books import Books, cents
from sandbox.amazon.catalogue import ItemCatalogue
from sandbox.amazon.rulebook import PurchaseOrderRules
from sandbox.amazon.state import (
    AmazonState,
    Carton,
    CartonItem,
    Finding,
    InvoiceLineRecord,
    InvoiceRecord,
    OrderLine,
    PurchaseOrderRecord,
    ShipNoticeRecord,
)

__all__ = [
    "apply_inventory_advice",
    "check_unpriced_acknowledgement",
    "bol_looks_like_date",
    "check_acknowledgement",
    "check_invoice",
    "check_ship_notice",
    "sweep",
]

_ACCEPTED, _BACKORDERED, _REJECTED = "IA", "IB", "IR"


def _ids(product_ids: Iterable) -> list[tuple[str, str]]:
    return [(p.qualifier, p.value) for p in product_ids]


def _eaches(quantity: int, unit: str, line: OrderLine) -> int:
    if unit == "CA":
        return quantity * (line.case_pack_qty or line.catalogue_case_pack or 1)
    return quantity


def _price_each(price: Decimal, basis: str | None, unit: str, line: OrderLine) -> Decimal:
    if basis in (None, "PE") or unit != "CA":
        return price
    return price / (line.case_pack_qty or line.catalogue_case_pack or 1)


def _line_by_product(po: PurchaseOrderRecord, ids: list[tuple[str, str]]) -> OrderLine | None:
    wanted = set(ids)
    return next((line for line in po.lines if wanted & {tuple(p) for p in line.product_ids}), None)


def _fmt_ids(ids: Iterable[tuple[str, str]]) -> str:
    return ", ".join(f"{q} {v}" for q, v in ids)


# --- 855 ---------------------------------------------------------------------------------


def check_acknowledgement(
    state: AmazonState,
    books: Books,
    ack: PurchaseOrderAcknowledgement,
    *,
    at: dt.datetime,
    file_name: str | None = None,
) -> list[Finding]:
    """Amazon's 855 rules on an 855 that passed EDI validation (so every line has a price).

    An 855 with an unpriced line never gets here: the guide makes PO104 mandatory, the
    validator rejects the set (997 R) and :func:`check_unpriced_acknowledgement` names
    the lines.
    """
    rules = books.rulebook.rules.purchase_order
    number = ack.purchase_order_number
    document = f"855 for PO {number}"
    found: list[Finding] = []

    def finding(rule_id: str, detail: str, **kw) -> None:
        found.append(
            books.finding(
                rule_id,
                at=at,
                document=document,
                detail=detail,
                file_name=file_name,
                purchase_order=number,
                **kw,
            )
        )

    po = state.purchase_orders.get(number)
    if po is None:
        finding("poa_unknown_po", f"PO {number} was never sent by Amazon")
        return found
    matched = _ack_lines_on_po_lines(po, ack, finding)
    proposed = _acknowledged_eaches(po, matched, finding)
    changes_frozen = _check_acknowledgement_timing(po, rules, at, finding, proposed)
    _apply_acknowledgement(po, matched, proposed, changes_frozen=changes_frozen, at=at, file_name=file_name)
    return found


def _ack_lines_on_po_lines(
    po: PurchaseOrderRecord, ack: PurchaseOrderAcknowledgement, finding: Callable[..., None]
) -> dict[str, list]:
    """The 855's lines per PO line (by line number, else by product id); every PO line must be there."""
    matched: dict[str, list] = defaultdict(list)
    for position, line in enumerate(ack.lines, start=1):
        ids = _ids(line.product_ids)
        po_line = po.line(line.line_number) if line.line_number else None
        if po_line is None:
            po_line = _line_by_product(po, ids)
            if po_line is None:
                finding(
                    "poa_line_not_ordered",
                    f"855 line {line.line_number or position} ({_fmt_ids(ids)}) matches no line of the PO",
                )
                continue
        if ids != [tuple(p) for p in po_line.product_ids]:
            finding(
                "poa_product_id_not_echoed",
                f"line {po_line.line_number}: ordered as {_fmt_ids(po_line.product_ids)}, "
                f"acknowledged as {_fmt_ids(ids)}",
            )
        matched[po_line.line_number].append(line)

    for po_line in po.lines:
        if po_line.line_number not in matched:
            finding(
                "poa_line_missing",
                f"line {po_line.line_number} ({_fmt_ids(po_line.product_ids)}) is not in the 855",
            )
    return matched


def _acknowledged_eaches(
    po: PurchaseOrderRecord, matched: dict[str, list], finding: Callable[..., None]
) -> dict[str, dict[str, int]]:
    """What the 855 says per PO line, in eaches (IA, IB, IR); they must add up to what was ordered."""
    proposed: dict[str, dict[str, int]] = {}
    for line_number, ack_lines in matched.items():
        po_line = po.line(line_number)
        totals = {_ACCEPTED: 0, _BACKORDERED: 0, _REJECTED: 0}
        for ack_line in ack_lines:
            for loop in ack_line.acknowledgements:
                totals[str(loop.status)] += _eaches(loop.quantity, loop.unit, po_line)
        proposed[line_number] = totals
        acknowledged = sum(totals.values())
        if acknowledged != po_line.ordered_eaches:
            finding(
                "poa_quantity_mismatch",
                f"line {line_number}: ordered {po_line.quantity} {po_line.unit} "
                f"({po_line.ordered_eaches} EA), acknowledged {acknowledged} EA "
                f"(IA {totals[_ACCEPTED]}, IB {totals[_BACKORDERED]}, IR {totals[_REJECTED]})",
            )
        if po_line.ever_rejected and (totals[_ACCEPTED] or totals[_BACKORDERED]):
            finding(
                "poa_rejected_line_reinstated",
                f"line {line_number} was rejected in an earlier 855 and is now "
                f"accepted {totals[_ACCEPTED]} / backordered {totals[_BACKORDERED]} EA; it stays rejected",
            )
    return proposed


def _check_acknowledgement_timing(
    po: PurchaseOrderRecord,
    rules: PurchaseOrderRules,
    at: dt.datetime,
    finding: Callable[..., None],
    proposed: dict[str, dict[str, int]],
) -> bool:
    """The first 855 within 24 h of the PO; changes only within the change window. True: changes are frozen."""
    first = po.first_acknowledged_at is None
    if first:
        deadline = po.sent_at + dt.timedelta(hours=rules.acknowledgement_window_hours)
        if at > deadline:
            late_by = at - deadline
            finding(
                "poa_late",
                f"PO sent {po.sent_at:%Y-%m-%d %H:%M}, 855 received {at:%Y-%m-%d %H:%M} "
                f"({_hours(late_by)} after the {rules.acknowledgement_window_hours} h window)",
                cogs=po.cogs({line.line_number: line.ordered_eaches for line in po.lines}),
                charge=not po.unconfirmed_flagged,
            )
            po.unconfirmed_flagged = True
    change_deadline = po.sent_at + dt.timedelta(hours=rules.change_window_hours)
    changes_frozen = not first and at > change_deadline
    if changes_frozen:
        changed = [n for n, totals in proposed.items() if _current(po.line(n)) != totals]
        if changed:
            finding(
                "poa_change_after_window",
                f"line(s) {', '.join(changed)} changed more than {rules.change_window_hours} h after "
                f"the PO was sent ({po.sent_at:%Y-%m-%d %H:%M}); the change is ignored",
            )
    return changes_frozen


def _apply_acknowledgement(
    po: PurchaseOrderRecord,
    matched: dict[str, list],
    proposed: dict[str, dict[str, int]],
    *,
    changes_frozen: bool,
    at: dt.datetime,
    file_name: str | None,
) -> None:
    """Amazon's view after the 855: confirmed prices always; quantities unless frozen (a rejected line stays so)."""
    for line_number, totals in proposed.items():
        po_line = po.line(line_number)
        ack_line = matched[line_number][0]
        po_line.confirmed_price = _price_each(
            ack_line.unit_price, ack_line.price_basis, ack_line.unit, po_line
        )
        if changes_frozen:
            continue
        if po_line.ever_rejected:
            po_line.accepted, po_line.backordered, po_line.rejected = 0, 0, po_line.ordered_eaches
        else:
            po_line.accepted = totals[_ACCEPTED]
            po_line.backordered = totals[_BACKORDERED]
            po_line.rejected = totals[_REJECTED]
            if totals[_REJECTED] and not totals[_ACCEPTED] and not totals[_BACKORDERED]:
                po_line.ever_rejected = True
        po_line.acknowledged = True
    po.first_acknowledged_at = po.first_acknowledged_at or at
    if file_name:
        po.acknowledgement_files.append(file_name)


def check_unpriced_acknowledgement(
    state: AmazonState,
    books: Books,
    segments: list[list[str]],
    *,
    at: dt.datetime,
    file_name: str | None = None,
) -> list[Finding]:
    """An 855 rejected by validation: if PO1 lines lack a price (PO104), say which ones.

    Amazon refuses such an acknowledgement within the EDI system (§1 855 [OFF]); the PO
    stays unconfirmed. ``segments`` are the raw ST..SE segments of the set.
    """
    number = next((seg[3] for seg in segments if seg[0] == "BAK" and len(seg) > 3 and seg[3]), None)
    unpriced = [
        seg[1] if len(seg) > 1 and seg[1] else f"at position {position}"
        for position, seg in enumerate(segments, start=1)
        if seg[0] == "PO1" and (len(seg) < 5 or not seg[4].strip())
    ]
    if not unpriced:
        return []
    known = number in state.purchase_orders if number else False
    return [
        books.finding(
            "poa_line_without_price",
            at=at,
            document=f"855 for PO {number}" if number else "855",
            file_name=file_name,
            purchase_order=number if known else None,
            detail=f"line(s) {', '.join(unpriced)} without a price (PO104); the whole 855 is refused",
        )
    ]


def _current(line: OrderLine) -> dict[str, int]:
    return {_ACCEPTED: line.accepted, _BACKORDERED: line.backordered, _REJECTED: line.rejected}


def _hours(delta: dt.timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    return f"{minutes // 60} h {minutes % 60:02d} min"


# --- 856 ---------------------------------------------------------------------------------

_DATE_PATTERNS = {
    6: ("%y%m%d",),
    8: ("%Y%m%d", "%m%d%Y", "%d%m%Y"),
    10: ("%y%m%d%H%M",),
    12: ("%Y%m%d%H%M", "%m%d%Y%H%M"),
    14: ("%Y%m%d%H%M%S",),
}
_SEPARATED_PATTERNS = ("%Y-%m-%d", "%m/%d/%Y", "%Y/%m/%d", "%d.%m.%Y", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M")


def _strip_vendor_code(value: str, vendor_code: str) -> str:
    if vendor_code and value.upper().startswith(vendor_code.upper()):
        return value[len(vendor_code) :]
    return value


def bol_looks_like_date(bol: str, vendor_code: str = "") -> bool:
    """True when the bill of lading (vendor-code prefix aside) reads as a date or date-time.

    All digits: read with the patterns of its length, and only a year 2000-2099 counts (so
    a counter such as 12345678 is not a date). With separators: ISO, US and EU forms.
    """
    rest = _strip_vendor_code(bol.strip(), vendor_code)
    patterns = _DATE_PATTERNS.get(len(rest), ()) if rest.isdigit() else _SEPARATED_PATTERNS
    for pattern in patterns:
        try:
            parsed = dt.datetime.strptime(rest, pattern)
        except ValueError:
            continue
        if 2000 <= parsed.year <= 2099:
            return True
    return False


def _items_eaches(item: ShipmentItem, po_line: OrderLine | None) -> int:
    if po_line is None:
        return item.shipped_quantity
    return _eaches(item.shipped_quantity, item.unit, po_line)


@dataclass
class _NoticeCheck:
    """One 856 under Amazon's rules: what every step reads, and the findings so far."""

    state: AmazonState
    books: Books
    notice: ShipNotice
    at: dt.datetime
    file_name: str | None
    found: list[Finding] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.rules = self.books.rulebook.rules.ship_notice
        self.shipment_id = self.notice.shipment_id

    def finding(self, rule_id: str, detail: str, **kw) -> Finding:
        kw.setdefault("purchase_order", ", ".join(o.purchase_order_number for o in self.notice.orders))
        result = self.books.finding(
            rule_id,
            at=self.at,
            document=f"856 {self.shipment_id}",
            detail=detail,
            file_name=self.file_name,
            shipment_id=self.shipment_id,
            **kw,
        )
        self.found.append(result)
        return result


def check_ship_notice(
    state: AmazonState,
    books: Books,
    notice: ShipNotice,
    *,
    at: dt.datetime,
    file_name: str | None = None,
    vendor_code: str = "",
    catalogue: ItemCatalogue | None = None,
) -> list[Finding]:
    """Amazon's 856 rules: timing, carrier, SSCC, BOL, scope; records the cartons for receiving."""
    check = _NoticeCheck(state, books, notice, at, file_name)
    existing = state.ship_notices.get(notice.shipment_id)
    reuse = _reuse_of_shipment_id(check, existing)
    if reuse == "refused":
        return check.found
    replacing = reuse == "replacement"
    cartons, shipped = _cartons_on_po_lines(check)
    if replacing and not _take_back_replaced_notice(check, existing, shipped):
        return check.found
    shipped_at = dt.datetime.combine(
        notice.shipped_date or notice.shipment_date,
        notice.shipped_time or notice.shipment_time or dt.time(0, 0),
    )
    cogs = sum((state.purchase_orders[po].line(line).unit_price * eaches for (po, line), eaches in shipped.items()),
               Decimal(0))
    purchase_orders = [o.purchase_order_number for o in notice.orders]
    arrival_at = _check_timing(check, shipped_at, cogs, purchase_orders)
    scac = _check_carrier(check)
    _check_carton_labels(check, cartons)
    _check_bill_of_lading(check, vendor_code)
    _check_ship_to(check, catalogue, purchase_orders)
    _check_overage(check, shipped)
    _record_ship_notice(check, cartons, shipped, existing if replacing else None,
                        shipped_at=shipped_at, arrival_at=arrival_at, scac=scac, purchase_orders=purchase_orders)
    return check.found


def _reuse_of_shipment_id(check: _NoticeCheck, existing: ShipNoticeRecord | None) -> str:
    """Whether the shipment id is "new", a "replacement" (purpose 05 in time) or "refused"
    (replaced too late, or a duplicate id within its uniqueness window)."""
    if existing is None:
        return "new"
    at, rules = check.at, check.rules
    if str(check.notice.purpose) == "05":
        if (
            existing.received
            or at >= existing.arrival_at
            or at > existing.received_at + dt.timedelta(days=rules.replace_window_days)
        ):
            check.finding(
                "asn_replace_too_late",
                f"replacement received {at:%Y-%m-%d %H:%M}; original {existing.received_at:%Y-%m-%d %H:%M}, "
                f"arrival {existing.arrival_at:%Y-%m-%d %H:%M}",
            )
            return "refused"
        return "replacement"
    if existing.received_at > at - dt.timedelta(days=rules.shipment_id_unique_days):
        check.finding(
            "asn_duplicate_shipment_id",
            f"shipment id {check.shipment_id} was already used by {existing.file_name} "
            f"on {existing.received_at:%Y-%m-%d}; this 856 is ignored",
        )
        return "refused"
    return "new"  # the id was used long enough ago


def _cartons_on_po_lines(check: _NoticeCheck) -> tuple[list[Carton], dict[tuple[str, str], int]]:
    """The 856's cartons with their items mapped onto PO lines, and the eaches per (PO, line)."""
    cartons: list[Carton] = []
    shipped: dict[tuple[str, str], int] = defaultdict(int)  # (PO, line) -> eaches in this ASN
    for order in check.notice.orders:
        po = check.state.purchase_orders.get(order.purchase_order_number)
        if po is None:
            check.finding(
                "asn_unknown_po",
                f"PO {order.purchase_order_number} was never sent by Amazon",
                purchase_order=order.purchase_order_number,
            )
        containers: list[tuple[str | None, list[ShipmentItem]]] = []
        for tare in order.tares:
            containers.extend((pack.sscc, pack.items) for pack in tare.packs)
            if tare.items:
                containers.append((tare.sscc, tare.items))
        containers.extend((pack.sscc, pack.items) for pack in order.packs)
        if order.items:
            containers.append((None, order.items))
        for sscc, items in containers:
            carton_items = []
            for item in items:
                ids = _ids(item.product_ids)
                po_line = _line_by_product(po, ids) if po else None
                if po is not None and po_line is None:
                    check.finding(
                        "asn_item_not_ordered",
                        f"PO {po.number}: {_fmt_ids(ids)} ({item.shipped_quantity} {item.unit}) is not on the PO",
                        purchase_order=po.number,
                    )
                eaches = _items_eaches(item, po_line)
                if po_line is not None:
                    shipped[(po.number, po_line.line_number)] += eaches
                carton_items.append(
                    CartonItem(
                        purchase_order=order.purchase_order_number,
                        line_number=po_line.line_number if po_line else None,
                        product_id=ids[0],
                        eaches=eaches,
                    )
                )
            cartons.append(Carton(sscc=sscc, items=carton_items))
    return cartons, shipped


def _take_back_replaced_notice(
    check: _NoticeCheck, existing: ShipNoticeRecord, shipped: dict[tuple[str, str], int]
) -> bool:
    """A replacement may only lower quantities: refuse one that raises a line, else un-ship the original."""
    previous: dict[tuple[str, str], int] = defaultdict(int)
    for carton in existing.cartons:
        for item in carton.items:
            if item.line_number:
                previous[(item.purchase_order, item.line_number)] += item.eaches
    raised = [
        f"PO {po} line {line}: {previous.get((po, line), 0)} -> {qty} EA"
        for (po, line), qty in shipped.items()
        if qty > previous.get((po, line), 0)
    ]
    if raised:
        check.finding("asn_replace_quantity_up", "; ".join(raised))
        return False
    for (po_number, line_number), eaches in previous.items():
        check.state.purchase_orders[po_number].line(line_number).shipped -= eaches
    return True


def _check_timing(
    check: _NoticeCheck, shipped_at: dt.datetime, cogs: Decimal, purchase_orders: list[str]
) -> dt.datetime:
    """Within 30 min of departure, a plausible ship date, before the goods arrive; returns the arrival time."""
    at, rules, notice = check.at, check.rules, check.notice
    deadline = shipped_at + dt.timedelta(minutes=rules.departure_window_minutes)
    if at > deadline:
        check.finding(
            "asn_late",
            f"departed {shipped_at:%Y-%m-%d %H:%M}, 856 received {at:%Y-%m-%d %H:%M} "
            f"({_hours(at - shipped_at)} after departure; limit "
            f"{rules.departure_window_minutes} min)",
            cogs=cogs,
        )
    if not (
        at.date() - dt.timedelta(days=rules.ship_date_past_days)
        <= shipped_at.date()
        <= at.date() + dt.timedelta(days=rules.ship_date_future_days)
    ):
        check.finding(
            "asn_ship_date_out_of_range",
            f"ship date {shipped_at:%Y-%m-%d}, received {at:%Y-%m-%d}: allowed "
            f"{rules.ship_date_past_days} days back to {rules.ship_date_future_days} days ahead",
        )
    estimated = notice.estimated_delivery_date or (
        shipped_at.date() + dt.timedelta(days=rules.default_transit_days)
    )
    arrival_at = dt.datetime.combine(estimated, dt.time(rules.arrival_hour))
    if arrival_at <= shipped_at:
        arrival_at = shipped_at + dt.timedelta(hours=4)
    arrived = [d for d in check.state.pending_deliveries if d.purchase_order in purchase_orders and d.at <= at]
    if arrived:
        arrival_at = min(d.at for d in arrived)
    if arrival_at <= at:
        check.finding(
            "asn_after_arrival",
            f"goods arrived {arrival_at:%Y-%m-%d %H:%M}, 856 received {at:%Y-%m-%d %H:%M}",
            cogs=cogs,
        )
    return arrival_at


def _check_carrier(check: _NoticeCheck) -> str | None:
    """An approved carrier SCAC; returns the SCAC given."""
    notice = check.notice
    scac = notice.carrier.scac if notice.carrier else None
    if scac not in check.rules.approved_scacs:
        check.finding(
            "asn_unapproved_scac",
            f"carrier {scac!r} is not approved" if scac else "no carrier SCAC (TD503) given",
        )
    return scac


def _check_carton_labels(check: _NoticeCheck, cartons: list[Carton]) -> None:
    """Every carton has an SSCC, used once in this 856 and not by another shipment recently."""
    unlabelled = sum(1 for carton in cartons if carton.sscc is None)
    if unlabelled:
        check.finding("asn_carton_without_sscc", f"{unlabelled} carton(s) without an SSCC", cartons=unlabelled)
    horizon = check.at - dt.timedelta(days=check.rules.sscc_unique_days)
    duplicates, in_this = [], set()
    for carton in cartons:
        if carton.sscc is None:
            continue
        earlier = check.state.sscc_seen.get(carton.sscc)
        if carton.sscc in in_this or (
            earlier is not None and earlier[0] != check.shipment_id and earlier[1] >= horizon
        ):
            where = (
                f"used by shipment {earlier[0]} on {earlier[1]:%Y-%m-%d}"
                if earlier and earlier[0] != check.shipment_id
                else "used twice in this 856"
            )
            duplicates.append(f"{carton.sscc} ({where})")
        in_this.add(carton.sscc)
    if duplicates:
        check.finding("asn_duplicate_sscc", "SSCC " + "; ".join(duplicates), cartons=len(duplicates))


def _check_bill_of_lading(check: _NoticeCheck, vendor_code: str) -> None:
    """A BOL unique to this shipment, not a date, with enough digits after the vendor code."""
    bol = check.notice.bill_of_lading
    if not bol:
        return
    other = check.state.bols_seen.get(bol)
    if other is not None and other != check.shipment_id:
        check.finding("asn_bol_not_unique", f"BOL {bol} was already used by shipment {other}")
    if bol_looks_like_date(bol, vendor_code):
        check.finding("asn_bol_looks_like_date", f"BOL {bol} reads as a date/time")
    rest = _strip_vendor_code(bol, vendor_code)
    digits = sum(ch.isdigit() for ch in rest)
    min_digits = check.rules.bol_min_digits
    if digits < min_digits:
        prefix = "after the vendor code " if rest != bol else "and no vendor-code prefix "
        check.finding("asn_bol_too_short", f"BOL {bol} has {digits} digit(s) {prefix}(at least {min_digits})")


def _check_ship_to(check: _NoticeCheck, catalogue: ItemCatalogue | None, purchase_orders: list[str]) -> None:
    """Scope: the 856 ships to the fulfilment centre of each of its POs."""
    ship_to = check.notice.ship_to
    if ship_to is None or not ship_to.id_code or catalogue is None:
        return
    centre = catalogue.centre(ship_to.id_qualifier, ship_to.id_code)
    for po_number in purchase_orders:
        po = check.state.purchase_orders.get(po_number)
        if po is not None and (centre is None or centre.code != po.fc_code):
            check.finding(
                "asn_wrong_ship_to",
                f"856 ships to {ship_to.id_qualifier} {ship_to.id_code}; "
                f"PO {po_number} is for {po.fc_code}",
                purchase_order=po_number,
            )


def _check_overage(check: _NoticeCheck, shipped: dict[tuple[str, str], int]) -> None:
    """No line ships more in total than the 855 confirmed."""
    for (po_number, line_number), eaches in shipped.items():
        line = check.state.purchase_orders[po_number].line(line_number)
        over = line.shipped + eaches - line.confirmed_eaches
        if over > 0:
            check.finding(
                "asn_overage",
                f"PO {po_number} line {line_number}: confirmed {line.confirmed_eaches} EA, "
                f"shipped {line.shipped + eaches} EA in total",
                purchase_order=po_number,
                cogs=line.unit_price * min(over, eaches),
            )


def _record_ship_notice(
    check: _NoticeCheck,
    cartons: list[Carton],
    shipped: dict[tuple[str, str], int],
    replaced: ShipNoticeRecord | None,
    *,
    shipped_at: dt.datetime,
    arrival_at: dt.datetime,
    scac: str | None,
    purchase_orders: list[str],
) -> None:
    """Amazon's view after the 856: units shipped per line, SSCCs and BOL seen, the cartons for receiving."""
    state, at, notice = check.state, check.at, check.notice
    for (po_number, line_number), eaches in shipped.items():
        state.purchase_orders[po_number].line(line_number).shipped += eaches
    for carton in cartons:
        if carton.sscc and carton.sscc not in state.sscc_seen:
            state.sscc_seen[carton.sscc] = (check.shipment_id, at)
    bol = notice.bill_of_lading
    if bol and bol not in state.bols_seen:
        state.bols_seen[bol] = check.shipment_id
    ship_to = notice.ship_to
    state.ship_notices[check.shipment_id] = ShipNoticeRecord(
        shipment_id=check.shipment_id,
        file_name=check.file_name or "",
        received_at=replaced.received_at if replaced else at,
        purpose=str(notice.purpose),
        shipped_at=shipped_at,
        arrival_at=arrival_at,
        scac=scac,
        bill_of_lading=bol,
        ship_to=(ship_to.id_qualifier, ship_to.id_code) if ship_to and ship_to.id_code else None,
        purchase_orders=purchase_orders,
        cartons=cartons,
        replaced_at=at if replaced else None,
    )


# --- 810 ---------------------------------------------------------------------------------


def check_invoice(
    state: AmazonState,
    books: Books,
    invoice: Invoice,
    *,
    at: dt.datetime,
    file_name: str | None = None,
) -> list[Finding]:
    """Amazon's 810 rules; an accepted invoice becomes payable at its due date."""
    number = invoice.invoice_number
    document = f"810 {number}"
    found: list[Finding] = []

    def finding(rule_id: str, detail: str, **kw) -> None:
        found.append(
            books.finding(
                rule_id,
                at=at,
                document=document,
                detail=detail,
                file_name=file_name,
                invoice_number=number,
                purchase_order=invoice.purchase_order_number,
                **kw,
            )
        )

    if _invoice_refused(state, books, invoice, finding):
        return found
    po = state.purchase_orders.get(invoice.purchase_order_number or "")
    status = "open"
    if po is None:
        finding(
            "invoice_unknown_po",
            f"PO {invoice.purchase_order_number!r} was never sent by Amazon; the invoice is held",
        )
        status = "held"
    terms = books.rulebook.remittance.payment_terms
    if (
        invoice.terms is not None
        and invoice.terms.net_days is not None
        and invoice.terms.net_days != terms.net_days
    ):
        finding(
            "invoice_terms_mismatch",
            f"ITD says net {invoice.terms.net_days} days; agreed net {terms.net_days}",
        )
    lines, invoiced = _invoice_lines_on_po_lines(po, invoice, finding)
    _check_invoiced_against_shipped(po, invoiced, finding)
    state.invoices[number] = InvoiceRecord(
        invoice_number=number,
        file_name=file_name or "",
        received_at=at,
        invoice_date=invoice.invoice_date,
        purchase_order=invoice.purchase_order_number,
        total_amount=invoice.total_amount,
        lines=lines,
        due_date=invoice.invoice_date + dt.timedelta(days=terms.net_days),
        status=status,
    )
    return found


def _invoice_refused(state: AmazonState, books: Books, invoice: Invoice, finding: Callable[..., None]) -> bool:
    """The 810 is refused outright: its number was used before, its total is zero, or TDS01 does not add up."""
    number = invoice.invoice_number
    if number in state.invoices:
        earlier = state.invoices[number]
        finding(
            "invoice_number_reused",
            f"invoice {number} was already received in {earlier.file_name} "
            f"on {earlier.received_at:%Y-%m-%d}; this 810 is refused",
        )
        return True
    if books.rulebook.rules.invoice.reject_zero_total and invoice.total_amount == 0:
        finding("invoice_zero_total", "TDS01 is zero; the 810 is refused")
        return True
    expected = cents(invoice.expected_total())
    if invoice.total_amount != expected:
        finding(
            "invoice_total_mismatch",
            f"TDS01 says {invoice.total_amount}, lines/charges/tax add up to {expected}; the 810 is refused",
        )
        return True
    return False


def _invoice_lines_on_po_lines(
    po: PurchaseOrderRecord | None, invoice: Invoice, finding: Callable[..., None]
) -> tuple[list[InvoiceLineRecord], dict[str, int]]:
    """The 810's lines on the PO's lines, at the 855's cost (or the PO's); the eaches invoiced per line."""
    lines: list[InvoiceLineRecord] = []
    invoiced: dict[str, int] = defaultdict(int)
    for position, line in enumerate(invoice.lines, start=1):
        ids = _ids(line.product_ids)
        po_line = None
        if po is not None:
            po_line = _line_by_product(po, ids) or (po.line(line.line_number) if line.line_number else None)
            if po_line is None:
                finding(
                    "invoice_item_not_on_po",
                    f"line {line.line_number or position} ({_fmt_ids(ids)}) is not on PO {po.number}",
                )
        if po_line is None:
            eaches, price = line.quantity, line.unit_price
        else:
            eaches = _eaches(line.quantity, line.unit, po_line)
            price = _price_each(line.unit_price, line.price_basis, line.unit, po_line)
            confirmed = po_line.confirmed_price if po_line.confirmed_price is not None else po_line.unit_price
            if price != confirmed:
                source = "855" if po_line.confirmed_price is not None else "PO (no 855)"
                finding(
                    "invoice_cost_mismatch",
                    f"line {po_line.line_number}: invoiced {price} per each, {source} cost {confirmed}",
                )
            invoiced[po_line.line_number] += eaches
        lines.append(
            InvoiceLineRecord(
                line_number=po_line.line_number if po_line else None,
                product_id=ids[0],
                eaches=eaches,
                unit_price=price,
                amount=cents(line.extended_amount),
            )
        )
    return lines, invoiced


def _check_invoiced_against_shipped(
    po: PurchaseOrderRecord | None, invoiced: dict[str, int], finding: Callable[..., None]
) -> None:
    """No line invoiced beyond what the 856s shipped; the invoiced eaches are counted either way."""
    over = []
    for line_number, eaches in invoiced.items():
        po_line = po.line(line_number)
        if po_line.invoiced + eaches > po_line.shipped:
            over.append(
                f"line {line_number}: invoiced {po_line.invoiced + eaches} EA in total, "
                f"shipped {po_line.shipped} EA on 856s"
            )
        po_line.invoiced += eaches
    if over:
        finding("invoice_quantity_exceeds_shipped", "; ".join(over))


# --- 846 ---------------------------------------------------------------------------------


def apply_inventory_advice(state: AmazonState, advice: InventoryAdvice) -> int:
    """Remember the available quantity (QTY*33) per product id and ship-from location (N1*SF);
    what Amazon may order of an item is the sum over its locations. Returns the items updated."""
    location = next((party.id_code or "" for party in advice.parties if party.role == "SF"), "")
    at_location = state.inventory_by_location.setdefault(location, {})
    updated = 0
    for item in advice.items:
        available = item.available_quantity
        if available is None:
            continue
        key = f"{item.product_id_qualifier} {item.product_id}"
        at_location[key] = available
        state.inventory[key] = sum(held.get(key, 0) for held in state.inventory_by_location.values())
        updated += 1
    return updated


# --- the clock ---------------------------------------------------------------------------


def sweep(state: AmazonState, books: Books, *, at: dt.datetime) -> list[Finding]:
    """Rules that fire on time alone: no 855 after 24 h; units unshipped when the window closed."""
    rules = books.rulebook.rules.purchase_order
    found: list[Finding] = []
    broken = {d.purchase_order for d in state.defects if d.kind == "invalid_file"}
    for po in state.purchase_orders.values():
        if (
            po.first_acknowledged_at is None
            and not po.unconfirmed_flagged
            and po.number not in broken
            and at > po.sent_at + dt.timedelta(hours=rules.acknowledgement_window_hours)
        ):
            found.append(
                books.finding(
                    "poa_missing",
                    at=at,
                    document=f"850 {po.number}",
                    purchase_order=po.number,
                    detail=f"PO sent {po.sent_at:%Y-%m-%d %H:%M}; no accepted 855 after "
                    f"{rules.acknowledgement_window_hours} h",
                    cogs=po.cogs({line.line_number: line.ordered_eaches for line in po.lines}),
                )
            )
            po.unconfirmed_flagged = True
        closes = po.window_end + dt.timedelta(days=rules.not_filled_grace_days + 1)
        if not po.not_filled_checked and at.date() >= closes:
            po.not_filled_checked = True
            unfilled = {line.line_number: max(0, line.confirmed_eaches - line.shipped) for line in po.lines}
            if any(unfilled.values()):
                found.append(
                    books.finding(
                        "po_not_filled",
                        at=at,
                        document=f"850 {po.number}",
                        purchase_order=po.number,
                        detail="confirmed but not shipped when the window closed on "
                        f"{po.window_end:%Y-%m-%d}: "
                        + ", ".join(f"line {n} {q} EA" for n, q in unfilled.items() if q),
                        cogs=po.cogs(unfilled),
                    )
                )
    return found
