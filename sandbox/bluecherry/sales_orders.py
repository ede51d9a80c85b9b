"""Sales orders and allocation: upserts (one by one and in batches), allocation against
ATS, backorders with their date, cancellations, order status.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import bindparam, func, insert, select
from sqlalchemy.orm import Session

from amazon_bluecherry.bluecherry import models as m
from sandbox.bluecherry import schema as t
from sandbox.bluecherry.core import BackendCore, _Recorded, log
from sandbox.bluecherry.errors import Conflict, NotFound, Rejected

if TYPE_CHECKING:
    from sandbox.bluecherry.backend import Backend

__all__ = ["SalesOrdersBackend"]


class SalesOrdersBackend(BackendCore):
    """Sales orders, their lines and their allocation."""

    def upsert_sales_order(self, draft: m.SalesOrderDraft, *, idempotency_key: str) -> m.WriteResult:
        """Create the order of ``draft.customer_po`` or bring it to the draft's state."""
        fingerprint = draft.fingerprint()
        with self._write() as session:
            return self._idempotent(
                session,
                "sales_order",
                idempotency_key,
                fingerprint,
                lambda s: self._upsert(s, draft, idempotency_key, fingerprint),
            )

    def upsert_sales_orders(
        self, orders: Sequence[tuple[m.SalesOrderDraft, str]]
    ) -> list[m.WriteResult | Conflict | Rejected | NotFound]:
        """Several drafts in one write transaction, with the same outcome as one by one.

        What the batch needs (customers, stores, SKUs with their styles, stock, the orders
        already there, the idempotency records, the backorders per SKU) is read once. A new
        order -- nearly every order of a peak day -- is created on plain values by
        :class:`_NewOrders` and written with a few multi-row statements; a change to an
        existing order goes through the ORM path in a savepoint of its own, so one refused
        draft is rolled back alone and its error takes its place.
        """
        results: list[m.WriteResult | Conflict | Rejected | NotFound] = []
        with self._write() as session:
            existing, records = self._preload_batch(session, [draft for draft, _ in orders], [k for _, k in orders])
            batch = _NewOrders(self, session, [draft for draft, _ in orders])
            for draft, key in orders:
                fingerprint = draft.fingerprint()
                recorded = records.get(key)
                where = (draft.bc_customer, draft.customer_po)
                try:
                    if recorded is None and where not in existing and where not in batch.created:
                        written = batch.create(draft, key, fingerprint)  # refusals raise before any change
                    else:
                        batch.flush()  # the ORM path below must see what the batch wrote
                        session.info.pop("backorders", None)  # its running count missed the batch: recount
                        with session.begin_nested():
                            order = existing.get(where) or (
                                session.get(t.SalesOrderRow, batch.created[where]) if where in batch.created
                                else None)
                            written = self._idempotent(
                                session, "sales_order", key, fingerprint,
                                lambda s, draft=draft, key=key, fingerprint=fingerprint, order=order: self._upsert(
                                    s, draft, key, fingerprint, order=order),
                                record=recorded)
                        batch.reload()
                except (Conflict, Rejected, NotFound) as exc:
                    batch.reload()
                    session.info.pop("backorders", None)  # rolled back: recount from the database if needed
                    results.append(exc)
                    continue
                results.append(written)
                records[key] = _Recorded(fingerprint, written)
            batch.flush()
        return results

    @staticmethod
    def _preload_batch(
        session: Session, drafts: list[m.SalesOrderDraft], keys: list[str]
    ) -> tuple[dict[tuple[str, str], t.SalesOrderRow], dict[str, _Recorded]]:
        """The orders already there and the idempotency records of a batch, in a few queries."""
        existing: dict[tuple[str, str], t.SalesOrderRow] = {}
        pos = sorted({draft.customer_po for draft in drafts})
        for start in range(0, len(pos), 500):
            for order in session.scalars(
                select(t.SalesOrderRow).where(t.SalesOrderRow.customer_po.in_(pos[start : start + 500]))
            ):
                existing[(order.bc_customer, order.customer_po)] = order
        records: dict[str, _Recorded] = {}
        unique_keys = sorted(set(keys))
        for start in range(0, len(unique_keys), 500):
            for record in session.scalars(
                select(t.IdempotencyRecord).where(
                    t.IdempotencyRecord.scope == "sales_order",
                    t.IdempotencyRecord.key.in_(unique_keys[start : start + 500]),
                )
            ):
                records[record.key] = _Recorded(record.fingerprint, record.result)
        return existing, records

    def _upsert(
        self, session: Session, draft: m.SalesOrderDraft, key: str, fingerprint: str,
        *, order: t.SalesOrderRow | None | object = ...,
    ) -> m.WriteResult:
        """``order``: the existing order when the caller already looked it up (None: there is none)."""
        self._check_ship_to(session, draft)
        if order is ...:
            self._preload(session, [line.sku for line in draft.lines if line.sku], draft.bc_warehouse)
            order = session.scalar(
                select(t.SalesOrderRow).where(
                    t.SalesOrderRow.bc_customer == draft.bc_customer,
                    t.SalesOrderRow.customer_po == draft.customer_po,
                )
            )
        now = self.clock.now()
        if order is None:
            order = t.SalesOrderRow(
                order_number=f"SO{self._next(session, 'sales_order'):07d}",
                bc_customer=draft.bc_customer,
                customer_po=draft.customer_po,
                status="open",
                revision=1,
                created_at=now,
                updated_at=now,
            )
            _copy_header(order, draft, fingerprint)
            session.add(order)
            for line_draft in draft.lines:
                line = t.SalesOrderLineRow(
                    order_number=order.order_number, line_number=line_draft.line_number
                )
                order.lines.append(line)
                self._set_line(session, order, line, line_draft)
            outcome = "created"
        elif order.fingerprint == fingerprint:
            outcome = "unchanged"
        else:
            busy = [line.line_number for line in order.lines if line.qty_picked or line.qty_shipped]
            if busy:
                raise Conflict(
                    f"sales order {order.order_number} (PO {order.customer_po}) is in fulfilment "
                    f"(lines {busy} picked or shipped); it can no longer be changed by import"
                )
            for line in order.lines:
                self._release(session, order, line)
                self._set_backordered(session, order, line, 0)  # under the warehouse it was in
            _copy_header(order, draft, fingerprint)
            drafts = {line.line_number: line for line in draft.lines}
            for line in order.lines:
                if line.line_number in drafts:
                    self._set_line(session, order, line, drafts.pop(line.line_number))
                else:
                    self._set_backordered(session, order, line, 0)
                    _cancel_line(line, "customer_cancelled")
            for line_draft in drafts.values():
                line = t.SalesOrderLineRow(
                    order_number=order.order_number, line_number=line_draft.line_number
                )
                order.lines.append(line)
                self._set_line(session, order, line, line_draft)
            order.lines.sort(key=lambda line: line.line_number)
            order.revision += 1
            order.updated_at = now
            outcome = "updated"
        order.status = _order_status(order)
        session.flush()
        log.info(
            "sales order %s for PO %s: %s (revision %d)",
            order.order_number,
            order.customer_po,
            outcome,
            order.revision,
        )
        return m.WriteResult(
            kind="sales_order",
            key=draft.customer_po,
            idempotency_key=key,
            outcome=outcome,
            document_number=order.order_number,
            revision=order.revision,
        )

    def _check_ship_to(self, session: Session, draft: m.SalesOrderDraft) -> None:
        if session.get(t.CustomerRow, draft.bc_customer) is None:
            raise Rejected(f"PO {draft.customer_po}: unknown customer {draft.bc_customer!r}")
        if session.get(t.StoreRow, (draft.bc_customer, draft.bc_store)) is None:
            raise Rejected(
                f"PO {draft.customer_po}: customer {draft.bc_customer} has no store {draft.bc_store!r}"
            )
        if session.get(t.Warehouse, draft.bc_warehouse) is None:
            raise Rejected(f"PO {draft.customer_po}: unknown warehouse {draft.bc_warehouse!r}")

    def _set_line(
        self,
        session: Session,
        order: t.SalesOrderRow,
        line: t.SalesOrderLineRow,
        draft: m.SalesOrderLineDraft,
    ) -> None:
        """Bring a line (without allocation) to the draft's content, then allocate it."""
        sku = self._resolve_sku(session, draft)
        line.sku = sku.sku if sku else draft.sku
        line.style = sku.style if sku else draft.style
        line.color = sku.color if sku else draft.color
        line.size = sku.size if sku else draft.size
        line.product_id, line.product_id_qualifier = draft.product_id, draft.product_id_qualifier
        line.unit_price = draft.unit_price
        self._set_backordered(session, order, line, 0)
        line.qty_allocated = line.qty_cancelled = line.qty_picked = line.qty_shipped = 0
        line.backorder_date, line.cancel_reason = None, None
        if draft.qty_eaches == 0:
            # A cancelled line keeps what was ordered before, so the acknowledgement can say what was cancelled.
            line.qty_ordered = line.qty_ordered or 0
            _cancel_line(line, "customer_cancelled")
            return
        line.qty_ordered = draft.qty_eaches
        if sku is None:
            _cancel_line(line, "unknown_item")
        elif not sku.style_row.active:
            _cancel_line(line, "discontinued")
        else:
            self._allocate_line(session, order, line)

    @staticmethod
    def _resolve_sku(session: Session, draft: m.SalesOrderLineDraft) -> t.Sku | None:
        if draft.sku:
            return session.get(t.Sku, draft.sku)
        return session.scalar(
            select(t.Sku).where(
                t.Sku.style == draft.style, t.Sku.color == draft.color, t.Sku.size == draft.size
            )
        )

    def _allocate_line(self, session: Session, order: t.SalesOrderRow, line: t.SalesOrderLineRow) -> None:
        """Allocate the line's open quantity from ATS; the rest is backordered or cancelled."""
        open_qty = line.qty_ordered - line.qty_cancelled - line.qty_shipped - line.qty_allocated
        stock = self._stock(session, line.sku, order.bc_warehouse)
        # Stock on hold is on the shelf but cannot ship: it is never allocated.
        take = max(0, min(open_qty, stock.on_hand - stock.allocated - stock.on_hold))
        stock.allocated += take
        line.qty_allocated += take
        short = open_qty - take
        self._set_backordered(session, order, line, 0)
        line.backorder_date = None
        if short == 0:
            return
        if order.backorder_allowed:
            self._set_backordered(session, order, line, short)
            line.backorder_date = self._backorder_date(session, order, line, short)
        else:
            line.qty_cancelled += short
            line.cancel_reason = "out_of_stock"

    def _backorder_date(
        self, session: Session, order: t.SalesOrderRow, line: t.SalesOrderLineRow, short: int
    ) -> date:
        """The incoming receipt's date when it covers this and earlier backorders, else the lead time."""
        stock = self._stock(session, line.sku, order.bc_warehouse)
        today = self.clock.today()
        backorders = session.info.get("backorders")
        if stock.incoming and stock.incoming_date and backorders is not None and (
                line.sku, order.bc_warehouse) in backorders:
            # The batch's running count, less this order's own lines: what the query below counts.
            own = sum(other.qty_backordered for other in order.lines if other.sku == line.sku)
            earlier = backorders[(line.sku, order.bc_warehouse)] - own
            if stock.incoming - earlier >= short:
                return max(stock.incoming_date, today) + timedelta(days=self.config.receiving_days)
        elif stock.incoming and stock.incoming_date:
            earlier = session.scalar(
                select(func.coalesce(func.sum(t.SalesOrderLineRow.qty_backordered), 0))
                .join(t.SalesOrderRow, t.SalesOrderRow.order_number == t.SalesOrderLineRow.order_number)
                .where(
                    t.SalesOrderLineRow.sku == line.sku,
                    t.SalesOrderRow.bc_warehouse == order.bc_warehouse,
                    t.SalesOrderLineRow.order_number != order.order_number,
                )
            )
            if stock.incoming - earlier >= short:
                return max(stock.incoming_date, today) + timedelta(days=self.config.receiving_days)
        return today + timedelta(days=self.config.backorder_lead_days)

    @staticmethod
    def _set_backordered(session: Session, order: t.SalesOrderRow, line: t.SalesOrderLineRow, qty: int) -> None:
        """Set a line's backordered eaches, keeping a batch's running count per SKU and warehouse."""
        backorders = session.info.get("backorders")
        if backorders is not None and (line.sku, order.bc_warehouse) in backorders:
            backorders[(line.sku, order.bc_warehouse)] += qty - (line.qty_backordered or 0)
        line.qty_backordered = qty

    def _release(self, session: Session, order: t.SalesOrderRow, line: t.SalesOrderLineRow) -> None:
        if line.qty_allocated and line.sku:
            self._stock(session, line.sku, order.bc_warehouse).allocated -= line.qty_allocated
        line.qty_allocated = 0

    def list_sales_orders(
        self,
        *,
        customer_pos: Sequence[str] | None = None,
        bc_customer: str | None = None,
        updated_since: datetime | None = None,
        order_numbers: Sequence[str] | None = None,
    ) -> list[m.SalesOrder]:
        orders_table, lines_table = t.SalesOrderRow.__table__, t.SalesOrderLineRow.__table__
        with self._read() as session:
            # Core rows, not ORM objects: the export of every order runs each cycle.
            query = select(orders_table).order_by(orders_table.c.order_number)
            if customer_pos is not None:
                query = query.where(orders_table.c.customer_po.in_(list(customer_pos)))
            if order_numbers is not None:
                query = query.where(orders_table.c.order_number.in_(list(order_numbers)))
            if bc_customer is not None:
                query = query.where(orders_table.c.bc_customer == bc_customer)
            headers = [row._mapping for row in session.execute(query)]
            if updated_since is not None:
                headers = [row for row in headers if row["updated_at"] >= updated_since]
            lines: dict[str, list] = {row["order_number"]: [] for row in headers}
            line_query = select(lines_table).order_by(lines_table.c.order_number, lines_table.c.line_number)
            if customer_pos is not None or order_numbers is not None or bc_customer is not None:
                line_query = line_query.where(lines_table.c.order_number.in_(list(lines)))
            for row in session.execute(line_query):
                if row.order_number in lines:
                    lines[row.order_number].append(m.SalesOrderLine(**row._mapping))
        return [m.SalesOrder(**header, lines=lines[header["order_number"]]) for header in headers]

    def get_sales_order_by_number(self, order_number: str) -> m.SalesOrder:
        found = self.list_sales_orders(order_numbers=[order_number])
        if not found:
            raise NotFound(f"no sales order {order_number!r}")
        return found[0]

    def count_sales_orders(self, customer_po: str | None = None) -> int:
        """How many orders exist (for one PO): the exactly-once checks of the tests use this."""
        with self._read() as session:
            query = select(func.count()).select_from(t.SalesOrderRow)
            if customer_po is not None:
                query = query.where(t.SalesOrderRow.customer_po == customer_po)
            return session.scalar(query)

    def allocate(self, order_number: str | None = None) -> int:
        """Fill backorders from stock that became available (oldest orders first); lines changed."""
        changed = 0
        with self._write() as session:
            query = (
                select(t.SalesOrderRow)
                .where(t.SalesOrderRow.status.in_(("open", "partially_shipped")))
                .order_by(t.SalesOrderRow.created_at, t.SalesOrderRow.order_number)
            )
            if order_number is not None:
                query = query.where(t.SalesOrderRow.order_number == order_number)
            for order in session.scalars(query):
                touched = False
                for line in order.lines:
                    if line.qty_backordered and line.sku:
                        before = line.qty_allocated
                        self._allocate_line(session, order, line)
                        if line.qty_allocated != before:
                            changed += 1
                            touched = True
                if touched:
                    order.revision += 1
                    order.updated_at = self.clock.now()
                    order.status = _order_status(order)
        return changed


class _NewOrders:
    """New sales orders of one batch, built on plain values and written with a few statements.

    The same rules as :meth:`Backend._upsert` for an order that does not exist yet (and the
    batch test checks the outcome is the same as one by one): each line resolves its SKU,
    allocates from ATS (on hand - allocated - on hold), and the short part is backordered
    (with the incoming receipt's date when it covers the earlier backorders, else the lead
    time) or cancelled. ORM objects cost ~20 attribute events per line; at 500,000 lines a
    day that, not SQLite, was the emulator's time.
    """

    def __init__(self, backend: Backend, session: Session, drafts: list[m.SalesOrderDraft]):
        self.backend = backend
        self.session = session
        self.created: dict[tuple[str, str], str] = {}  # (customer, PO) -> order number
        self._orders: list[dict] = []
        self._lines: list[tuple] = []
        self._records: list[dict] = []
        # Lines name their SKU, or (as our translator does) its style, color and size: both
        # resolved for the whole batch in a few queries.
        self._by_style_color_size: dict[tuple[str, str, str], str | None] = {}
        wanted = {(line.style, line.color, line.size) for draft in drafts for line in draft.lines if not line.sku}
        styles = sorted({style for style, _, _ in wanted})
        for start in range(0, len(styles), 500):
            for row in session.execute(select(t.Sku.sku, t.Sku.style, t.Sku.color, t.Sku.size)
                                       .where(t.Sku.style.in_(styles[start : start + 500]))):
                if (row.style, row.color, row.size) in wanted:
                    self._by_style_color_size[(row.style, row.color, row.size)] = row.sku
        self._by_style_color_size.update(dict.fromkeys(wanted - set(self._by_style_color_size)))
        self._skus = sorted({line.sku for draft in drafts for line in draft.lines if line.sku}
                            | {sku for sku in self._by_style_color_size.values() if sku})
        self._warehouses = sorted({draft.bc_warehouse for draft in drafts})
        self._ship_tos = {(store.bc_customer, store.bc_store) for store in session.scalars(select(t.StoreRow))}
        self._customers = set(session.scalars(select(t.CustomerRow.bc_customer)))
        self._warehouse_codes = set(session.scalars(select(t.Warehouse.code)))
        self._catalogue: dict[str, tuple] = {}
        self.reload()

    def reload(self) -> None:
        """(Re)read stock and backorders: after the ORM path changed them, or a savepoint rolled back."""
        if getattr(self, "_stock", None) is not None:
            self.flush()  # nothing built here is dropped
        self._stock: dict[tuple[str, str], list] = {}
        self._new_stock: set[tuple[str, str]] = set()
        self._changed_stock: set[tuple[str, str]] = set()
        self._backorders: dict[tuple[str, str], int] = {}
        self._loaded_skus: set[str] = set()
        self._load(self._skus)

    def _load(self, skus: list[str]) -> None:
        skus = [sku for sku in skus if sku not in self._loaded_skus]
        if not skus:
            return
        self._loaded_skus.update(skus)
        session, stock_table = self.session, t.StockRow.__table__
        for start in range(0, len(skus), 500):
            chunk = skus[start : start + 500]
            for row in session.execute(
                select(t.Sku.sku, t.Sku.style, t.Sku.color, t.Sku.size, t.Style.active)
                .join(t.Style, t.Style.style == t.Sku.style).where(t.Sku.sku.in_(chunk))
            ):
                self._catalogue[row.sku] = (row.sku, row.style, row.color, row.size, row.active)
            for row in session.execute(select(stock_table).where(stock_table.c.sku.in_(chunk))):
                # [on_hand, allocated, on_hold, incoming, incoming_date]
                self._stock[(row.sku, row.warehouse)] = [row.on_hand, row.allocated, row.on_hold, row.incoming,
                                                         row.incoming_date]
            # Earlier backorders only matter where stock is coming in (they decide whether the
            # receipt covers a new one), and only backordered lines add to them: summing every
            # line of every SKU made each batch slower than the last (10,000 POs: 21 s of 32).
            incoming = sorted({sku for sku in chunk for warehouse in self._warehouses
                               if (stock := self._stock.get((sku, warehouse))) and stock[3] and stock[4]})
            if not incoming:
                continue
            for sku, warehouse, total in session.execute(
                select(t.SalesOrderLineRow.sku, t.SalesOrderRow.bc_warehouse,
                       func.sum(t.SalesOrderLineRow.qty_backordered))
                .join(t.SalesOrderRow, t.SalesOrderRow.order_number == t.SalesOrderLineRow.order_number)
                .where(t.SalesOrderLineRow.sku.in_(incoming), t.SalesOrderLineRow.qty_backordered > 0)
                .group_by(t.SalesOrderLineRow.sku, t.SalesOrderRow.bc_warehouse)
            ):
                self._backorders[(sku, warehouse)] = int(total or 0)

    def _resolve(self, draft: m.SalesOrderLineDraft) -> tuple | None:
        if draft.sku:
            if draft.sku not in self._catalogue:
                self._load([draft.sku])
            return self._catalogue.get(draft.sku)
        key = (draft.style, draft.color, draft.size)
        if key not in self._by_style_color_size:
            found = self.session.scalar(select(t.Sku.sku).where(
                t.Sku.style == draft.style, t.Sku.color == draft.color, t.Sku.size == draft.size))
            self._by_style_color_size[key] = found
            if found:
                self._load([found])
        found = self._by_style_color_size[key]
        return self._catalogue.get(found) if found else None

    def create(self, draft: m.SalesOrderDraft, key: str, fingerprint: str) -> m.WriteResult:
        if draft.bc_customer not in self._customers:
            raise Rejected(f"PO {draft.customer_po}: unknown customer {draft.bc_customer!r}")
        if (draft.bc_customer, draft.bc_store) not in self._ship_tos:
            raise Rejected(f"PO {draft.customer_po}: customer {draft.bc_customer} has no store {draft.bc_store!r}")
        if draft.bc_warehouse not in self._warehouse_codes:
            raise Rejected(f"PO {draft.customer_po}: unknown warehouse {draft.bc_warehouse!r}")
        backend = self.backend
        now = backend.clock.now()
        today = now.date()
        number = f"SO{backend._next(self.session, 'sales_order'):07d}"
        warehouse = draft.bc_warehouse
        lines: list[dict] = []
        own: dict[str, int] = {}  # this order's backordered eaches per SKU so far
        for line_draft in draft.lines:
            sku = self._resolve(line_draft)
            line = {
                "order_number": number, "line_number": line_draft.line_number,
                "sku": sku[0] if sku else line_draft.sku, "style": sku[1] if sku else line_draft.style,
                "color": sku[2] if sku else line_draft.color, "size": sku[3] if sku else line_draft.size,
                "product_id": line_draft.product_id, "product_id_qualifier": line_draft.product_id_qualifier,
                "unit_price": line_draft.unit_price, "qty_ordered": line_draft.qty_eaches, "qty_allocated": 0,
                "qty_backordered": 0, "backorder_date": None, "qty_cancelled": 0, "cancel_reason": None,
                "qty_picked": 0, "qty_shipped": 0,
            }
            lines.append(line)
            if line_draft.qty_eaches == 0:
                line["cancel_reason"] = "customer_cancelled"
                continue
            if sku is None or not sku[4]:
                line["qty_cancelled"] = line["qty_ordered"]
                line["cancel_reason"] = "unknown_item" if sku is None else "discontinued"
                continue
            where = (sku[0], warehouse)
            stock = self._stock.get(where)
            if stock is None:  # no stock row yet: the ERP creates an empty one
                stock = self._stock[where] = [0, 0, 0, 0, None]
                self._new_stock.add(where)
            take = max(0, min(line["qty_ordered"], stock[0] - stock[1] - stock[2]))
            stock[1] += take
            self._changed_stock.add(where)
            line["qty_allocated"] = take
            short = line["qty_ordered"] - take
            if not short:
                continue
            if not draft.backorder_allowed:
                line["qty_cancelled"] = short
                line["cancel_reason"] = "out_of_stock"
                continue
            line["qty_backordered"] = short
            own[sku[0]] = own.get(sku[0], 0) + short
            total = self._backorders.get(where, 0) + short
            self._backorders[where] = total
            incoming, incoming_date = stock[3], stock[4]
            earlier = total - own[sku[0]]  # other orders' backorders: this order's own do not count
            if incoming and incoming_date and incoming - earlier >= short:
                line["backorder_date"] = max(incoming_date, today) + timedelta(days=backend.config.receiving_days)
            else:
                line["backorder_date"] = today + timedelta(days=backend.config.backorder_lead_days)
        ordered = sum(line["qty_ordered"] for line in lines)
        cancelled = sum(line["qty_cancelled"] for line in lines)
        self._orders.append({
            "order_number": number, "bc_customer": draft.bc_customer, "customer_po": draft.customer_po,
            "bc_store": draft.bc_store, "bc_warehouse": warehouse, "order_type": draft.order_type,
            "ship_window_start": draft.ship_window_start, "ship_window_end": draft.ship_window_end,
            "backorder_allowed": draft.backorder_allowed, "currency": draft.currency,
            "status": "cancelled" if cancelled == ordered else "open", "revision": 1, "fingerprint": fingerprint,
            "created_at": now, "updated_at": now,
        })
        self._lines += [
            (line["order_number"], line["line_number"], line["sku"], line["style"], line["color"], line["size"],
             line["product_id"], line["product_id_qualifier"], str(line["unit_price"]), line["qty_ordered"],
             line["qty_allocated"], line["qty_backordered"],
             line["backorder_date"].isoformat() if line["backorder_date"] else None,
             line["qty_cancelled"], line["cancel_reason"], line["qty_picked"], line["qty_shipped"])
            for line in lines
        ]
        result = m.WriteResult(kind="sales_order", key=draft.customer_po, idempotency_key=key, outcome="created",
                               document_number=number, revision=1)
        self._records.append({"scope": "sales_order", "key": key, "fingerprint": fingerprint,
                              "result": result.model_dump_json(), "created_at": now})
        self.created[(draft.bc_customer, draft.customer_po)] = number
        log.info("sales order %s for PO %s: created (revision 1)", number, draft.customer_po)
        return result

    def flush(self) -> None:
        """Write what the batch built: orders, lines, stock and idempotency records."""
        session = self.session
        session.flush()  # the order-number counter (the session does not autoflush)
        stock_table = t.StockRow.__table__
        if self._new_stock:
            session.execute(insert(stock_table), [
                {"sku": sku, "warehouse": warehouse, "on_hand": 0, "allocated": 0, "on_hold": 0, "incoming": 0,
                 "incoming_date": None} for sku, warehouse in sorted(self._new_stock)])
        if self._changed_stock:
            session.execute(
                stock_table.update()
                .where(stock_table.c.sku == bindparam("b_sku"), stock_table.c.warehouse == bindparam("b_warehouse"))
                .values(allocated=bindparam("b_allocated")),
                [{"b_sku": sku, "b_warehouse": warehouse, "b_allocated": self._stock[(sku, warehouse)][1]}
                 for sku, warehouse in sorted(self._changed_stock)])
        if self._orders:
            session.execute(insert(t.SalesOrderRow.__table__), self._orders)
            # The lines are most of the rows (50 per order): handed to sqlite3's executemany as
            # plain tuples, stored as the column types store them (Decimal as text, ISO dates).
            session.connection().exec_driver_sql(
                f"INSERT INTO sales_order_lines ({', '.join(_LINE_COLUMNS)}) "
                f"VALUES ({', '.join('?' * len(_LINE_COLUMNS))})", self._lines)
            session.execute(insert(t.IdempotencyRecord.__table__), self._records)
        self._orders, self._lines, self._records = [], [], []
        self._new_stock, self._changed_stock = set(), set()
        # ORM objects of these rows (preloaded for the ORM path) are stale now.
        session.expire_all()


# sales_order_lines as the batch writes them: Decimal as text and dates as ISO text, which
# is how the DecimalText and Date column types store them in SQLite.
_LINE_COLUMNS = ("order_number", "line_number", "sku", "style", "color", "size", "product_id", "product_id_qualifier",
                 "unit_price", "qty_ordered", "qty_allocated", "qty_backordered", "backorder_date", "qty_cancelled",
                 "cancel_reason", "qty_picked", "qty_shipped")


def _copy_header(order: t.SalesOrderRow, draft: m.SalesOrderDraft, fingerprint: str) -> None:
    order.bc_store = draft.bc_store
    order.bc_warehouse = draft.bc_warehouse
    order.order_type = draft.order_type
    order.ship_window_start = draft.ship_window_start
    order.ship_window_end = draft.ship_window_end
    order.backorder_allowed = draft.backorder_allowed
    order.currency = draft.currency
    order.fingerprint = fingerprint


def _cancel_line(line: t.SalesOrderLineRow, reason: str) -> None:
    line.qty_cancelled = line.qty_ordered - line.qty_shipped
    line.qty_allocated = line.qty_backordered = 0
    line.backorder_date = None
    line.cancel_reason = reason


def _order_status(order: t.SalesOrderRow) -> str:
    ordered = sum(line.qty_ordered for line in order.lines)
    shipped = sum(line.qty_shipped for line in order.lines)
    cancelled = sum(line.qty_cancelled for line in order.lines)
    if shipped == 0 and cancelled == ordered:
        return "cancelled"
    if shipped and shipped + cancelled == ordered:
        return "shipped"
    if shipped:
        return "partially_shipped"
    return "open"
