"""po_to_so business rules: an Amazon 850 becomes a BlueCherry sales-order draft.

Pure functions: no Airflow, no I/O. The operators feed them parsed purchase orders and
loaded mappings, and persist what comes out (drafts, issues) in the store.

Rules (README, "po_to_so"):
- item: PO1 qualifier UP/EN/UK/VN/IB/UA/VP matches items.csv ``product_id`` with the same
  qualifier; BP (ASIN) matches ``asin``. The first id pair that matches wins.
- units: CA -> eaches = qty x case_pack_qty (a PO4 pack that disagrees ->
  ``case_pack_mismatch``); EA -> eaches = qty; else ``unknown_uom``. Such lines are not loaded.
- price per each (PO104 with PO105 PE) vs ``unit_cost`` beyond the tolerance ->
  ``price_mismatch``; the PO is held or loaded at Amazon's price (setting).
- ship-to: N1*ST qualifier and code match ship_to.csv, else ``unknown_ship_to`` (PO held).
- quantity 0 (PO102): Amazon's "item cancel" on a re-sent PO. Not an error for anyone: the
  line goes to BlueCherry with 0 eaches, which cancels it there, and the 855 says so. Unit,
  pack and price are not checked on it; an item not in items.csv is only acknowledged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from amazon_bluecherry.edi import segments as x
from amazon_bluecherry.edi.documents import PurchaseOrder, PurchaseOrderLine
from amazon_bluecherry.flows.mappings import ItemRow, Mappings

EACH_UNITS = {"EA"}
CASE_UNITS = {"CA"}


@dataclass(frozen=True)
class TranslationPolicy:
    price_tolerance: Decimal = Decimal("0")
    hold_on_price_mismatch: bool = True


@dataclass(frozen=True)
class TranslationIssue:
    po: str
    line_number: int | None
    type: str
    message: str


@dataclass(frozen=True)
class TranslatedLine:
    line_number: int
    product_id: str
    product_id_qualifier: str
    style: str
    color: str
    size: str
    amazon_qty: int
    amazon_uom: str
    case_pack_qty: int
    qty_eaches: int
    unit_price: Decimal          # what the sales order carries: Amazon's price per each
    bc_unit_cost: Decimal        # items.csv unit_cost, for the price check

    @property
    def sku(self) -> str:
        return f"{self.style}-{self.color}-{self.size}"


@dataclass(frozen=True)
class RejectedLine:
    """A PO line we cannot load; so_to_poa acknowledges it IR with ``reason``."""

    line_number: int
    product_id: str
    product_id_qualifier: str
    amazon_qty: int
    amazon_uom: str
    unit_price: Decimal | None
    reason: str                  # the issue type: unknown_item, unknown_uom, case_pack_mismatch


@dataclass
class TranslatedOrder:
    customer_po: str
    order_type: str
    backorder_allowed: bool
    bc_customer: str | None = None
    bc_store: str | None = None
    bc_warehouse: str | None = None
    ship_window_start: date | None = None
    ship_window_end: date | None = None
    lines: list[TranslatedLine] = field(default_factory=list)
    rejected_lines: list[RejectedLine] = field(default_factory=list)
    issues: list[TranslationIssue] = field(default_factory=list)
    held: bool = False           # True: nothing is loaded until someone resolves the issues
    amazon_price_accepted: bool = False  # wholesale decided to load this PO at Amazon's prices

    @property
    def loadable(self) -> bool:
        return not self.held and bool(self.lines)

    def to_dict(self) -> dict:
        """JSON-ready form (Decimal and date as strings) for the store and the CLI.

        Written out field by field: ``dataclasses.asdict`` deep-copies every value, and at
        peak (10,000 POs x 50 lines) that copy was a visible share of the translate step.
        """
        return {
            "customer_po": self.customer_po, "order_type": self.order_type,
            "backorder_allowed": self.backorder_allowed, "bc_customer": self.bc_customer,
            "bc_store": self.bc_store, "bc_warehouse": self.bc_warehouse,
            "ship_window_start": _iso(self.ship_window_start), "ship_window_end": _iso(self.ship_window_end),
            "lines": [
                {"line_number": line.line_number, "product_id": line.product_id,
                 "product_id_qualifier": line.product_id_qualifier, "style": line.style, "color": line.color,
                 "size": line.size, "amazon_qty": line.amazon_qty, "amazon_uom": line.amazon_uom,
                 "case_pack_qty": line.case_pack_qty, "qty_eaches": line.qty_eaches,
                 "unit_price": str(line.unit_price), "bc_unit_cost": str(line.bc_unit_cost)}
                for line in self.lines
            ],
            "rejected_lines": [
                {"line_number": line.line_number, "product_id": line.product_id,
                 "product_id_qualifier": line.product_id_qualifier, "amazon_qty": line.amazon_qty,
                 "amazon_uom": line.amazon_uom,
                 "unit_price": str(line.unit_price) if line.unit_price is not None else None, "reason": line.reason}
                for line in self.rejected_lines
            ],
            "issues": [{"po": issue.po, "line_number": issue.line_number, "type": issue.type,
                        "message": issue.message} for issue in self.issues],
            "held": self.held, "amazon_price_accepted": self.amazon_price_accepted,
        }

    @classmethod
    def from_dict(cls, data: dict) -> TranslatedOrder:
        """The order back from :meth:`to_dict` (the quality gate reads it from the store)."""
        def day(value):
            return date.fromisoformat(value) if value else None

        def money(value):
            return Decimal(value) if value is not None else None

        return cls(
            customer_po=data["customer_po"], order_type=data["order_type"],
            backorder_allowed=data["backorder_allowed"], bc_customer=data.get("bc_customer"),
            bc_store=data.get("bc_store"), bc_warehouse=data.get("bc_warehouse"),
            ship_window_start=day(data.get("ship_window_start")), ship_window_end=day(data.get("ship_window_end")),
            lines=[TranslatedLine(**{**line, "unit_price": Decimal(line["unit_price"]),
                                     "bc_unit_cost": Decimal(line["bc_unit_cost"])})
                   for line in data.get("lines", [])],
            rejected_lines=[RejectedLine(**{**line, "unit_price": money(line.get("unit_price"))})
                            for line in data.get("rejected_lines", [])],
            issues=[TranslationIssue(**issue) for issue in data.get("issues", [])],
            held=data.get("held", False), amazon_price_accepted=data.get("amazon_price_accepted", False),
        )


def translate_purchase_order(
    purchase_order: PurchaseOrder, mappings: Mappings, policy: TranslationPolicy, *,
    accept_amazon_price: bool = False,
) -> TranslatedOrder:
    """``accept_amazon_price``: wholesale's decision for this PO (``orders accept-price``)."""
    po_number = purchase_order.purchase_order_number
    order = TranslatedOrder(
        amazon_price_accepted=accept_amazon_price,
        customer_po=po_number,
        order_type=str(purchase_order.order_type),
        # CSH absent: Amazon's default for retail POs is to allow backorders.
        backorder_allowed=purchase_order.backorder_allowed is not False,
        ship_window_start=purchase_order.delivery_window_start,
        ship_window_end=purchase_order.delivery_window_end,
    )

    ship_to = next((party for party in purchase_order.parties if party.role == "ST"), None)
    destination = mappings.ship_to.lookup(ship_to.id_qualifier, ship_to.id_code) if ship_to else None
    if destination is None:
        where = f"{ship_to.id_qualifier} {ship_to.id_code}" if ship_to else "no N1*ST segment"
        order.issues.append(TranslationIssue(po_number, None, "unknown_ship_to",
                                             f"PO {po_number}: ship-to {where} is not in ship_to.csv"))
        order.held = True
    else:
        order.bc_customer = destination.bc_customer
        order.bc_store = destination.bc_store
        order.bc_warehouse = destination.bc_warehouse

    if order.ship_window_start is None or order.ship_window_end is None:
        order.issues.append(TranslationIssue(po_number, None, "delivery_window_invalid",
                                             f"PO {po_number}: DTM*064/DTM*063 delivery window missing"))
        order.held = True

    for position, po_line in enumerate(purchase_order.lines, start=1):
        _translate_line(order, po_line, line_number_of(po_line, position), mappings, policy)
    return order


def line_number_of(po_line, position: int) -> int:
    """PO101 as a number; the line's position when PO101 is missing or not numeric."""
    raw = (po_line.line_number or "").strip()
    return int(raw) if raw.isdigit() and int(raw) > 0 else position


def _match_item(po_line: PurchaseOrderLine, mappings: Mappings) -> tuple[ItemRow | None, str, str]:
    for product in po_line.product_ids:
        item = mappings.items.lookup(product.qualifier, product.value)
        if item is not None:
            return item, product.qualifier, product.value
    return None, po_line.product_id_qualifier, po_line.product_id


def _translate_line(order: TranslatedOrder, po_line: PurchaseOrderLine, line_number: int,
                    mappings: Mappings, policy: TranslationPolicy) -> None:
    po_number = order.customer_po
    unit = str(po_line.unit)
    item, qualifier, product_id = _match_item(po_line, mappings)

    def reject(issue_type: str, message: str) -> None:
        order.issues.append(TranslationIssue(po_number, line_number, issue_type, message))
        order.rejected_lines.append(RejectedLine(line_number, product_id, qualifier, po_line.quantity, unit,
                                                 po_line.unit_price, issue_type))

    if po_line.quantity == 0:
        if item is not None:  # cancels the line in BlueCherry (if it was ever loaded)
            order.lines.append(TranslatedLine(
                line_number=line_number, product_id=product_id, product_id_qualifier=qualifier,
                style=item.style, color=item.color, size=item.size, amazon_qty=0, amazon_uom=unit,
                case_pack_qty=item.case_pack_qty, qty_eaches=0,
                unit_price=_price_per_each(po_line, item.case_pack_qty if unit in CASE_UNITS else 1) or item.unit_cost,
                bc_unit_cost=item.unit_cost))
        return  # an unknown item cancelled: nothing in BlueCherry, so_to_poa acknowledges it

    if item is None:
        ids = ", ".join(f"{p.qualifier} {p.value}" for p in po_line.product_ids)
        return reject("unknown_item", f"PO {po_number} line {line_number}: {ids} not in items.csv")

    if unit in CASE_UNITS:
        if po_line.case_pack_qty is not None and po_line.case_pack_qty != item.case_pack_qty:
            return reject("case_pack_mismatch",
                          f"PO {po_number} line {line_number}: PO4 pack {po_line.case_pack_qty} but items.csv "
                          f"case_pack_qty for {item.sku} is {item.case_pack_qty}")
        eaches_per_unit = item.case_pack_qty
    elif unit in EACH_UNITS:
        eaches_per_unit = 1
    else:
        return reject("unknown_uom", f"PO {po_number} line {line_number}: unit {unit!r} is neither CA nor EA")

    price_per_each = _price_per_each(po_line, eaches_per_unit)
    if price_per_each is None:
        price_per_each = item.unit_cost
    elif abs(price_per_each - item.unit_cost) > policy.price_tolerance and not order.amazon_price_accepted:
        action = "PO held" if policy.hold_on_price_mismatch else "loaded at Amazon's price"
        order.issues.append(TranslationIssue(
            po_number, line_number, "price_mismatch",
            f"PO {po_number} line {line_number}: Amazon pays {price_per_each} per each for {item.sku}, "
            f"items.csv unit_cost is {item.unit_cost} (tolerance {policy.price_tolerance}); {action}"))
        if policy.hold_on_price_mismatch:
            order.held = True

    order.lines.append(TranslatedLine(
        line_number=line_number, product_id=product_id, product_id_qualifier=qualifier,
        style=item.style, color=item.color, size=item.size, amazon_qty=po_line.quantity, amazon_uom=unit,
        case_pack_qty=item.case_pack_qty, qty_eaches=po_line.quantity * eaches_per_unit,
        unit_price=price_per_each, bc_unit_cost=item.unit_cost,
    ))


def _price_per_each(po_line: PurchaseOrderLine, eaches_per_unit: int) -> Decimal | None:
    if po_line.unit_price is None:
        return None
    # PE: the price is already per each. Without a basis it is per ordered unit (a case).
    if po_line.price_basis == "PE" or eaches_per_unit == 1:
        return po_line.unit_price
    return (po_line.unit_price / eaches_per_unit).quantize(Decimal("0.0001"))


def sales_order_draft(order: TranslatedOrder):
    """The BlueCherry draft for a loadable order."""
    from amazon_bluecherry.bluecherry.models import SalesOrderDraft, SalesOrderLineDraft

    if not order.loadable:
        raise ValueError(f"PO {order.customer_po} is held or has no loadable line")
    return SalesOrderDraft(
        customer_po=order.customer_po,
        bc_customer=order.bc_customer,
        bc_store=order.bc_store,
        bc_warehouse=order.bc_warehouse,
        order_type=order.order_type,
        ship_window_start=order.ship_window_start,
        ship_window_end=order.ship_window_end,
        backorder_allowed=order.backorder_allowed,
        lines=[
            SalesOrderLineDraft(
                line_number=line.line_number, style=line.style, color=line.color, size=line.size,
                qty_eaches=line.qty_eaches, unit_price=line.unit_price, product_id=line.product_id,
                product_id_qualifier=line.product_id_qualifier,
            )
            for line in order.lines
        ],
    )


def order_lines_frame(orders: list[TranslatedOrder], received_on: date, policy: TranslationPolicy):
    """One row per line to be loaded, for the data-quality checkpoint."""
    import pandas as pd

    # A cancelled line (Amazon's quantity 0) loads no quantity: nothing here to check.
    rows = [
        {
            "customer_po": order.customer_po,
            "line_number": line.line_number,
            "sku": line.sku if line.style and line.color and line.size else None,
            "qty_eaches": line.qty_eaches,
            # Recomputed here from quantity, unit and pack, not copied from the translator.
            "expected_eaches": line.amazon_qty * (line.case_pack_qty if line.amazon_uom in CASE_UNITS else 1),
            "price_delta": float(abs(line.unit_price - line.bc_unit_cost)),
            # Checked unless the policy loads at Amazon's price or wholesale accepted it for this PO.
            "price_checked": policy.hold_on_price_mismatch and not order.amazon_price_accepted,
            "window_start": pd.Timestamp(order.ship_window_start) if order.ship_window_start else pd.NaT,
            "window_end": pd.Timestamp(order.ship_window_end) if order.ship_window_end else pd.NaT,
            "received_on": pd.Timestamp(received_on),
        }
        for order in orders
        if not order.held
        for line in order.lines
        if line.amazon_qty
    ]
    columns = ["customer_po", "line_number", "sku", "qty_eaches", "expected_eaches", "price_delta", "price_checked",
               "window_start", "window_end", "received_on"]
    return pd.DataFrame(rows, columns=columns)


def quality_gate(orders: list[TranslatedOrder], received_on: date, policy: TranslationPolicy):
    """Run the order-lines checkpoint; hold every PO a failed expectation names.

    Returns the checkpoint outcome (kept for the daily data-quality report).
    """
    from amazon_bluecherry.quality.checkpoint import run_checkpoint
    from amazon_bluecherry.quality.suites import order_lines_suite

    frame = order_lines_frame(orders, received_on, policy)
    outcome = run_checkpoint(
        "po_to_so_order_lines", frame,
        order_lines_suite(price_tolerance=policy.price_tolerance),
        key_columns=["customer_po", "line_number"],
    )
    by_po: dict[str, list[TranslatedOrder]] = {}
    for order in orders:
        by_po.setdefault(order.customer_po, []).append(order)
    for failure in outcome.failures:
        for po_number in sorted({str(key["customer_po"]) for key in failure.keys}):
            lines = sorted({key["line_number"] for key in failure.keys if str(key["customer_po"]) == po_number})
            for order in by_po.get(po_number, []):  # a PO sent twice: every copy is held
                order.held = True
                order.issues.append(TranslationIssue(
                    po_number, None, "quality_check_failed",
                    f"PO {po_number}: data-quality check failed: {failure.description} (lines {lines}); PO held"))
    return outcome


def translate_file(source, mappings: Mappings, policy: TranslationPolicy, *, received_on: date) -> dict:
    """Dry run over one X12 file: the ``orders translate`` report, no side effects.

    As in po_to_so, only the sets our validator accepts are translated; the others are
    reported with the validator's reasons (what the 997 and the exception would say).
    """
    from amazon_bluecherry.edi.guide import default_registry
    from amazon_bluecherry.edi.parse import DocumentError, parse_transaction
    from amazon_bluecherry.edi.reader import iter_transaction_sets
    from amazon_bluecherry.edi.validator import validate_file

    verdicts: dict[tuple, list] = {}
    for interchange_verdict, group_verdict, verdict in validate_file(source).sets():
        key = (interchange_verdict.control_number, group_verdict.control_number, verdict.control_number)
        verdicts.setdefault(key, []).append((interchange_verdict, verdict))
    registry = default_registry()
    orders: list[TranslatedOrder] = []
    unreadable: list[TranslationIssue] = []
    for interchange, group, transaction_set in iter_transaction_sets(source):
        if transaction_set.set_id.strip() != "850":
            continue
        at = x.BEG.positions["purchase_order_number"]
        po_number = next((seg[at] for seg in transaction_set.segments if seg[0] == "BEG" and len(seg) > at), None)
        where = po_number or f"ST {transaction_set.control_number}"
        matches = verdicts.get((interchange.control_number, group.control_number, transaction_set.control_number))
        refusal = _refusal(*(matches.pop(0) if matches else (None, None)), registry)
        if refusal is not None:
            unreadable.append(TranslationIssue(where, None, *refusal))
            continue
        try:
            purchase_order = parse_transaction(transaction_set, interchange, group)
        except DocumentError as exc:
            unreadable.append(TranslationIssue(where, None, "edi_rejected", str(exc)))
            continue
        orders.append(translate_purchase_order(purchase_order, mappings, policy))
    quality_gate(orders, received_on, policy)
    from amazon_bluecherry.flows.exceptions import exception_types

    owners = {name: kind.owner for name, kind in exception_types().items()}
    return dry_run_report(orders, owners, unreadable=unreadable)


def _refusal(interchange_verdict, verdict, registry) -> tuple[str, str] | None:
    """(exception type, message) for a set po_to_so would not translate; None when it would."""
    if verdict is None:
        return "edi_rejected", "the validator gave no verdict for this set"
    if interchange_verdict.error:
        return "edi_interchange_rejected", f"interchange {interchange_verdict.control_number}: {interchange_verdict.error}"
    unsupported = registry.unsupported(interchange_verdict.partner)
    if unsupported and "1" in verdict.ak5_codes:
        return "direct_fulfillment_unsupported", unsupported
    if verdict.status not in ("A", "E"):
        return "edi_rejected", f"rejected by validation (997 AK5 R): {verdict.describe()}"
    return None


def dry_run_report(orders: list[TranslatedOrder], owners: dict[str, str], *,
                   unreadable: list[TranslationIssue] = ()) -> dict:
    """The ``orders translate`` JSON shape (a contract: other tools read it).

    ``unreadable``: sets that could not be read as POs; listed first.
    """
    issues = [*unreadable, *(issue for order in orders for issue in order.issues)]
    return {
        "sales_orders": [
            {
                "customer_po": order.customer_po,
                "bc_customer": order.bc_customer,
                "bc_store": order.bc_store,
                "bc_warehouse": order.bc_warehouse,
                "ship_window": {"start": _iso(order.ship_window_start), "end": _iso(order.ship_window_end)},
                "lines": [
                    {
                        "line_number": line.line_number, "product_id": line.product_id, "style": line.style,
                        "color": line.color, "size": line.size, "amazon_qty": line.amazon_qty,
                        "amazon_uom": line.amazon_uom, "qty_eaches": line.qty_eaches,
                        "unit_price": str(line.unit_price),
                    }
                    for line in order.lines
                ],
            }
            for order in orders
            if order.loadable
        ],
        "exceptions": [
            {"po": issue.po, "line_number": issue.line_number, "type": issue.type,
             "owner": owners.get(issue.type, "integration"), "message": issue.message}
            for issue in issues
        ],
    }


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None
