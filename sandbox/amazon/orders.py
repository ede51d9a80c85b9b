"""Realistic 850 traffic drawn from the catalogue, with deliberate defects at a chosen rate.

:func:`plan_orders` decides what to send (pure: catalogue, mix, random source and the
orders already sent in, documents and records out); the simulator writes the files and
keeps the records. The mix (order types, ship-to qualifiers, units, product id qualifiers,
windows) is ``data/traffic.yaml``.

Defects, each recorded with what a correct PO would have said and what the file says:

* ``unknown_upc``: a line whose UPC (valid check digit) is not in the vendor's catalogue;
* ``wrong_case_pack``: a case line whose PO4 differs from the item's case pack;
* ``price_off``: a line whose PO104 is 5-20 % off the item's cost;
* ``resent_po``: an earlier PO sent again (same BEG03) with one quantity changed;
* ``item_cancel``: an earlier PO sent again with one line at quantity 0 (Amazon's "item
  cancel"; not in the default mix, ask for it by name);
* ``invalid_file``: a valid PO in a file whose SE01 segment count is wrong.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from amazon_bluecherry.edi.documents import (
    FreightTerms,
    PartyIdentification,
    ProductId,
    PurchaseOrder,
    PurchaseOrderLine,
)
from amazon_bluecherry.edi.gs1 import gs1_check_digit
from sandbox.amazon.catalogue import FulfilmentCentre, Item, ItemCatalogue
from sandbox.amazon.rulebook import Traffic
from sandbox.amazon.state import Defect, OrderLine

__all__ = ["DEFECT_KINDS", "PlannedOrder", "break_segment_count", "plan_orders"]

DEFECT_KINDS = ("unknown_upc", "wrong_case_pack", "price_off", "resent_po", "invalid_file")  # the default mix
ON_REQUEST_KINDS = ("item_cancel",)  # only when asked for by name
RESENDS = ("resent_po", "item_cancel")  # defects that send an earlier PO again
_CENT = Decimal("0.01")


@dataclass
class PlannedOrder:
    """One 850 to send: the document, Amazon's line records, and its deliberate defects."""

    document: PurchaseOrder
    lines: list[OrderLine]
    fc_code: str
    defects: list[Defect] = field(default_factory=list)  # file_name filled in when written
    resend_of: str | None = None  # BEG03 of the PO sent again
    broken_file: bool = False


def _weighted(rng: random.Random, weights: dict[str, int], allowed: Sequence[str] | None = None) -> str:
    choices = [(k, w) for k, w in weights.items() if w > 0 and (allowed is None or k in allowed)]
    keys, values = zip(*choices, strict=True)
    return rng.choices(keys, weights=values, k=1)[0]


def _span(rng: random.Random, bounds: Sequence[int]) -> int:
    return rng.randint(bounds[0], bounds[1])


class _Planner:
    def __init__(
        self,
        catalogue: ItemCatalogue,
        traffic: Traffic,
        rng: random.Random,
        *,
        vendor_code: str,
        order_date: dt.date,
        next_number,
    ):
        self.catalogue = catalogue
        self.traffic = traffic
        self.rng = rng
        self.vendor_code = vendor_code
        self.order_date = order_date
        self.next_number = next_number
        self.active = [item for item in catalogue.items if item.active]
        self.discontinued = [item for item in catalogue.items if not item.active]
        if not self.active or not catalogue.centres:
            raise ValueError("the catalogue needs active items and fulfilment centres to order from")

    # --- a correct order ---------------------------------------------------------------
    def order(self) -> PlannedOrder:
        rng, traffic = self.rng, self.traffic
        order_type = _weighted(rng, traffic.order_types)
        centre: FulfilmentCentre = rng.choice(self.catalogue.centres)
        allowed = [q for q in ("15", "92") if centre.id_for(q)]
        qualifier = _weighted(rng, traffic.ship_to_qualifiers, allowed)
        start = self.order_date + dt.timedelta(days=_span(rng, traffic.lead_days[order_type]))
        end = start + dt.timedelta(days=_span(rng, traffic.window_days[order_type]))
        freight = _weighted(rng, traffic.freight_terms)
        prefix = "".join(rng.choice(traffic.purchase_order_prefix_alphabet) for _ in range(2))
        number = traffic.purchase_order_number.format(
            prefix=prefix, number=self.next_number("purchase_order")
        )
        count = _span(rng, traffic.lines_per_order)
        items = self._pick_items(count)
        lines, records = [], []
        for index, item in enumerate(items, start=1):
            line, record = self._line(str(index), item)
            lines.append(line)
            records.append(record)
        document = PurchaseOrder(
            order_type=order_type,
            purchase_order_number=number,
            order_date=self.order_date,
            vendor_code=self.vendor_code,
            freight_terms=FreightTerms(payment_method=freight) if freight != "none" else None,
            backorder_allowed=_weighted(rng, traffic.backorder_allowed) == "Y",
            delivery_window_start=start,
            delivery_window_end=end,
            parties=[
                PartyIdentification(role="ST", id_qualifier=qualifier, id_code=centre.id_for(qualifier))
            ],
            lines=lines,
        )
        return PlannedOrder(document=document, lines=records, fc_code=centre.code)

    def _pick_items(self, count: int) -> list[Item]:
        chosen: list[Item] = []
        while len(chosen) < count:
            pool = self.active
            if self.discontinued and self.rng.randrange(100) < self.traffic.discontinued_item_percent:
                pool = self.discontinued
            item = self.rng.choice(pool)
            if item not in chosen:
                chosen.append(item)
        return chosen

    def _line(self, line_number: str, item: Item) -> tuple[PurchaseOrderLine, OrderLine]:
        rng, traffic = self.rng, self.traffic
        allowed = [q for q in ("UP", "EN", "BP") if item.product_id(q)]
        qualifier = _weighted(rng, traffic.product_id_qualifiers, allowed)
        unit = _weighted(rng, traffic.units)
        pack = item.case_pack_qty
        if unit == "CA":
            quantity = _span(rng, traffic.cases_per_line)
        elif rng.randrange(100) < traffic.each_quantity_in_case_multiples_percent:
            quantity = pack * _span(rng, traffic.cases_per_line)
        else:
            quantity = rng.randint(1, pack * 3)
        product_ids = [ProductId(qualifier=qualifier, value=item.product_id(qualifier))]
        line = PurchaseOrderLine(
            line_number=line_number,
            quantity=quantity,
            unit=unit,
            unit_price=item.unit_cost,
            price_basis="PE",
            product_ids=product_ids,
            case_pack_qty=pack if unit == "CA" else None,
        )
        return line, _record(line, item)

    # --- defects -----------------------------------------------------------------------
    def unknown_upc(self, planned: PlannedOrder) -> None:
        body = self.traffic.defects.unknown_upc_company_prefix + f"{self.rng.randrange(100000):05d}"
        upc = body + str(gs1_check_digit(body))
        while self.catalogue.lookup("UP", upc):  # cannot happen with a foreign prefix; stay safe
            body = body[:-1] + str((int(body[-1]) + 1) % 10)
            upc = body + str(gs1_check_digit(body))
        index = self.rng.randrange(len(planned.document.lines))
        old = planned.document.lines[index]
        line = old.model_copy(
            update={
                "product_ids": [ProductId(qualifier="UP", value=upc)],
                "unit": "EA",
                "case_pack_qty": None,
            }
        )
        _replace_line(
            planned,
            index,
            line,
            OrderLine(
                line_number=line.line_number,
                product_ids=[("UP", upc)],
                quantity=line.quantity,
                unit="EA",
                unit_price=line.unit_price,
                case_pack_qty=None,
                sku=None,
            ),
        )
        planned.defects.append(
            Defect(
                kind="unknown_upc",
                purchase_order=planned.document.purchase_order_number,
                file_name="",
                line_number=line.line_number,
                expected="a UPC from the vendor's catalogue",
                actual=f"UP {upc}",
                detail=f"line {line.line_number} orders UPC {upc}, which the vendor's catalogue does not have",
            )
        )

    def wrong_case_pack(self, planned: PlannedOrder) -> None:
        index = self.rng.randrange(len(planned.document.lines))
        old = planned.document.lines[index]
        record = planned.lines[index]
        pack = record.catalogue_case_pack or 1
        wrong = pack * 2 if self.rng.random() < 0.5 or pack < 2 else pack // 2
        line = old.model_copy(
            update={
                "unit": "CA",
                "case_pack_qty": wrong,
                "quantity": max(1, old.quantity // pack if old.unit == "EA" else old.quantity),
            }
        )
        _replace_line(
            planned,
            index,
            line,
            record.model_copy(update={"unit": "CA", "case_pack_qty": wrong, "quantity": line.quantity}),
        )
        planned.defects.append(
            Defect(
                kind="wrong_case_pack",
                purchase_order=planned.document.purchase_order_number,
                file_name="",
                line_number=line.line_number,
                expected=f"PO4 {pack}",
                actual=f"PO4 {wrong}",
                detail=f"line {line.line_number} orders cases of {wrong}; the item ({record.sku}) comes in cases of {pack}",
            )
        )

    def price_off(self, planned: PlannedOrder) -> None:
        index = self.rng.randrange(len(planned.document.lines))
        old = planned.document.lines[index]
        record = planned.lines[index]
        low, high = self.traffic.defects.price_off_percent
        percent = Decimal(self.rng.randint(low, high)) * (1 if self.rng.random() < 0.5 else -1)
        price = (old.unit_price * (1 + percent / 100)).quantize(_CENT, rounding=ROUND_HALF_UP)
        if price == old.unit_price:
            price += _CENT
        line = old.model_copy(update={"unit_price": price})
        _replace_line(planned, index, line, record.model_copy(update={"unit_price": price}))
        planned.defects.append(
            Defect(
                kind="price_off",
                purchase_order=planned.document.purchase_order_number,
                file_name="",
                line_number=line.line_number,
                expected=f"PO104 {old.unit_price}",
                actual=f"PO104 {price}",
                detail=f"line {line.line_number} is priced {price} per each; the item ({record.sku}) costs {old.unit_price}",
            )
        )

    def resend(self, document: PurchaseOrder, lines: list[OrderLine], fc_code: str, *,
               cancel: bool = False) -> PlannedOrder:
        """``document`` again, same BEG03, with one line's quantity changed (``cancel``: to 0)."""
        index = self.rng.randrange(len(document.lines))
        old = document.lines[index]
        delta = self.rng.choice([-1, 1]) if old.quantity > 1 else 1
        quantity = 0 if cancel else old.quantity + delta
        new_lines = list(document.lines)
        new_lines[index] = old.model_copy(update={"quantity": quantity})
        new_records = [r.model_copy() for r in lines]
        new_records[index] = new_records[index].model_copy(update={"quantity": quantity})
        resent = document.model_copy(update={"lines": new_lines, "envelope": None})
        planned = PlannedOrder(
            document=resent, lines=new_records, fc_code=fc_code, resend_of=document.purchase_order_number
        )
        planned.defects.append(
            Defect(
                kind="item_cancel" if cancel else "resent_po",
                purchase_order=document.purchase_order_number,
                file_name="",
                line_number=old.line_number,
                expected=f"PO102 {old.quantity}",
                actual=f"PO102 {quantity}",
                detail=f"PO {document.purchase_order_number} sent again with line {old.line_number} "
                + ("cancelled (quantity 0)" if cancel else f"changed from {old.quantity} to {quantity} {old.unit}"),
            )
        )
        return planned


def _record(line: PurchaseOrderLine, item: Item) -> OrderLine:
    return OrderLine(
        line_number=line.line_number or "",
        product_ids=[(p.qualifier, p.value) for p in line.product_ids],
        quantity=line.quantity,
        unit=line.unit,
        unit_price=line.unit_price,
        case_pack_qty=line.case_pack_qty,
        sku=item.sku,
        catalogue_case_pack=item.case_pack_qty,
        catalogue_cost=item.unit_cost,
    )


def _replace_line(planned: PlannedOrder, index: int, line: PurchaseOrderLine, record: OrderLine) -> None:
    lines = list(planned.document.lines)
    lines[index] = line
    planned.document = planned.document.model_copy(update={"lines": lines})
    planned.lines[index] = record


def plan_orders(
    n: int,
    *,
    catalogue: ItemCatalogue,
    traffic: Traffic,
    rng: random.Random,
    vendor_code: str,
    order_date: dt.date,
    next_number,
    defect_count: int = 0,
    defect_kinds: Sequence[str] | None = None,
    resendable: Sequence[tuple[PurchaseOrder, list[OrderLine], str]] = (),
) -> list[PlannedOrder]:
    """``n`` purchase orders; ``defect_count`` of them (chosen at random) carry one defect each.

    :param next_number: ``next_number(kind) -> int``, the simulator's persistent counters.
    :param resendable: earlier (document, line records, FC code) a ``resent_po`` defect may
        send again; POs planned earlier in this batch are added to it as they are made.
    :param defect_kinds: which defects to use (default: the weights in ``traffic.yaml``).
    """
    if not 0 <= defect_count <= n:
        raise ValueError(f"defect count must be between 0 and {n}, got {defect_count}")
    weights = dict(traffic.defects.kinds)
    if defect_kinds is not None:
        known = (*DEFECT_KINDS, *ON_REQUEST_KINDS)
        unknown = set(defect_kinds) - set(known)
        if unknown:
            raise ValueError(f"unknown defect kinds: {sorted(unknown)} (known: {', '.join(known)})")
        weights = {kind: weights.get(kind, 1) or 1 for kind in defect_kinds}
    planner = _Planner(
        catalogue, traffic, rng, vendor_code=vendor_code, order_date=order_date, next_number=next_number
    )
    defective = set(rng.sample(range(n), defect_count))
    candidates = list(resendable)
    planned: list[PlannedOrder] = []
    for index in range(n):
        kind = _weighted(rng, weights) if index in defective else None
        if kind in RESENDS and not candidates:
            kind = next((k for k in weights if k not in RESENDS), None)
        if kind in RESENDS:
            document, lines, fc_code = rng.choice(candidates)
            order = planner.resend(document, lines, fc_code, cancel=kind == "item_cancel")
        else:
            order = planner.order()
            if kind == "unknown_upc":
                planner.unknown_upc(order)
            elif kind == "wrong_case_pack":
                planner.wrong_case_pack(order)
            elif kind == "price_off":
                planner.price_off(order)
            elif kind == "invalid_file":
                order.broken_file = True
                order.defects.append(
                    Defect(
                        kind="invalid_file",
                        purchase_order=order.document.purchase_order_number,
                        file_name="",
                        expected="SE01 = number of segments",
                        actual="SE01 one more",
                        detail="the file's SE01 segment count is off by one, so the set must be rejected",
                    )
                )
            if not order.broken_file:
                candidates.append((order.document, order.lines, order.fc_code))
        planned.append(order)
    return planned


def break_segment_count(content: bytes) -> bytes:
    """The same X12 with every SE01 one too high (the ``invalid_file`` defect)."""
    text = content.decode("utf-8")
    element, terminator = text[3], text[105]
    out = []
    for segment in text.split(terminator):
        stripped = segment.lstrip()
        if stripped.startswith("SE" + element):
            parts = segment.split(element)
            parts[1] = str(int(parts[1]) + 1)
            segment = element.join(parts)
        out.append(segment)
    return terminator.join(out).encode("utf-8")
