"""The BlueCherry emulator's state and rules, without HTTP (moto's "backend" shape).

Emulator-defined; map to your BlueCherry installation. An apparel ERP in miniature:
styles x colors x sizes, customers with stores and Amazon FCs, sales orders allocated
against stock (ATS = on hand - allocated - on hold; incoming separate), backorders with a scheduled
date, pick tickets, cartons with SSCC-18, shipments with carrier, tracking and BOL,
invoices posted to the GL, cash receipts applied to invoices, journals that must balance.

Both faces (``app.py`` over HTTP, ``files.py`` over import/export folders) call the same
methods; every write goes through :meth:`Backend._idempotent`, so a key replayed with the
same content returns the stored result and never applies twice.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import bindparam, create_engine, event, func, insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from amazon_bluecherry.bluecherry import models as m
from amazon_bluecherry.bluecherry.gateway import Conflict, NotFound, Rejected
from amazon_bluecherry.edi.gs1 import make_sscc
from sandbox.bluecherry import schema as t
from sandbox.bluecherry.catalogue import (
    DEFAULT_SEED,
    DIVISIONS,
    GL_ACCOUNTS,
    SEASONS,
    WAREHOUSES,
    build_catalogue,
)

__all__ = ["Backend", "BackendConfig", "Clock", "PickResult"]

log = logging.getLogger(__name__)
CENT = Decimal("0.01")
ZERO = Decimal("0.00")


class Clock:
    """The emulator's time: real UTC by default; settable and advanceable for simulations."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._offset = timedelta(0)
        self._frozen: datetime | None = None

    def now(self) -> datetime:
        with self._lock:
            if self._frozen is not None:
                return self._frozen
            return datetime.now(UTC) + self._offset

    def today(self) -> date:
        return self.now().date()

    def set(self, when: datetime, *, frozen: bool = False) -> None:
        if when.tzinfo is None:
            raise ValueError("clock time must be timezone-aware")
        with self._lock:
            if frozen:
                self._frozen = when
            else:
                self._frozen = None
                self._offset = when - datetime.now(UTC)

    def advance(self, delta: timedelta) -> None:
        with self._lock:
            if self._frozen is not None:
                self._frozen += delta
            else:
                self._offset += delta

    def reset(self) -> None:
        with self._lock:
            self._offset, self._frozen = timedelta(0), None


@dataclass
class BackendConfig:
    """Knobs of the emulated ERP."""

    sscc_company_prefix: str = "0614141"
    sscc_extension_digit: int = 0
    bol_prefix: str = "VENDR"  # Amazon: a generated BOL is >= 8 digits prefixed with the vendor code
    backorder_lead_days: int = 28
    receiving_days: int = 2  # incoming stock is sellable this many days after it arrives
    mixed_carton_max_eaches: int = 24
    carton_tare_lb: Decimal = Decimal("0.80")
    cartons_per_pallet: int = 40
    transit_days: int = 4
    seed: int = DEFAULT_SEED


@dataclass(frozen=True)
class _Recorded:
    """An idempotency record read (or written) earlier in the same batch."""

    fingerprint: str
    result: str | m.WriteResult


@dataclass
class PickResult:
    pick_ticket: str
    order_number: str
    cartons: list[str] = field(default_factory=list)
    eaches: int = 0


class Backend:
    """The emulated ERP over one SQLite file (created and seeded when empty)."""

    def __init__(
        self, db_path: str | Path, *, config: BackendConfig | None = None, clock: Clock | None = None
    ):
        self.db_path = Path(db_path)
        self.config = config or BackendConfig()
        self.clock = clock or Clock()
        self.db_path.parent.mkdir(parents=True, exist_ok=True)
        self.engine = create_engine(
            f"sqlite:///{self.db_path}", connect_args={"check_same_thread": False, "timeout": 30}
        )
        event.listen(self.engine, "connect", _sqlite_pragmas)
        # No autoflush: lines are built field by field; queries that need them flush explicitly.
        self._sessions = sessionmaker(self.engine, expire_on_commit=False, autoflush=False)
        # SQLite has one writer; one lock makes every write a clean serial transaction.
        self._lock = threading.RLock()
        # Bumped when a write starts and ends: read caches are valid while it stands still.
        self._writes = 0
        self._open_ar_cache: dict[str | None, tuple[int, list[m.ArOpenItem]]] = {}
        t.Base.metadata.create_all(self.engine)
        with self._write() as session:
            if session.scalar(select(func.count()).select_from(t.Sku)) == 0:
                self._seed(session)

    def dispose(self) -> None:
        self.engine.dispose()

    # --- sessions --------------------------------------------------------------------------

    @contextmanager
    def _write(self) -> Iterator[Session]:
        with self._lock:
            self._writes += 1
            try:
                with self._sessions.begin() as session:
                    yield session
            finally:
                self._writes += 1

    @contextmanager
    def _read(self) -> Iterator[Session]:
        with self._sessions() as session, session.begin():
            yield session

    def _next(self, session: Session, name: str) -> int:
        counter = session.get(t.Counter, name)
        if counter is None:
            counter = t.Counter(name=name, value=0)
            session.add(counter)
            session.flush()  # without autoflush, the next lookup must find it
        counter.value += 1
        return counter.value

    def _idempotent(
        self,
        session: Session,
        scope: str,
        key: str,
        fingerprint: str,
        apply: Callable[[Session], m.WriteResult],
        *,
        record: _Recorded | None | object = ...,
    ) -> m.WriteResult:
        """``record``: the key's record when the caller already read it (None: the key is new)."""
        if not key:
            raise Rejected(f"{scope}: an idempotency key is required")
        if record is ...:
            record = session.get(t.IdempotencyRecord, (scope, key))
        if record is not None:
            if record.fingerprint != fingerprint:
                raise Conflict(f"idempotency key {key!r} was already used for different {scope} content")
            log.debug("replayed %s %s", scope, key)
            if isinstance(record.result, m.WriteResult):
                return record.result
            return m.WriteResult.model_validate_json(record.result)
        result = apply(session)
        session.add(
            t.IdempotencyRecord(
                scope=scope,
                key=key,
                fingerprint=fingerprint,
                result=result.model_dump_json(),
                created_at=self.clock.now(),
            )
        )
        return result

    # --- seed ------------------------------------------------------------------------------

    def _seed(self, session: Session) -> None:
        catalogue = build_catalogue(self.config.seed)
        today = self.clock.today()
        session.execute(insert(t.Division), [{"code": c, "name": n} for c, n in DIVISIONS.items()])
        session.execute(insert(t.Season), [{"code": c, "name": n} for c, n in SEASONS.items()])
        session.execute(insert(t.Warehouse), [{"code": c, "name": n} for c, n in WAREHOUSES.items()])
        session.execute(
            insert(t.Style),
            [
                {
                    "style": s.style,
                    "description": s.description,
                    "division": s.division,
                    "season": s.season,
                    "size_range": s.size_range,
                    "case_pack_qty": s.case_pack_qty,
                    "active": s.active,
                }
                for s in catalogue.styles
            ],
        )
        session.execute(
            insert(t.Sku),
            [
                {
                    "sku": s.sku,
                    "style": s.style,
                    "color": s.color,
                    "color_name": s.color_name,
                    "size": s.size,
                    "size_seq": s.size_seq,
                    "upc": s.upc,
                    "ean": s.ean,
                    "asin": s.asin,
                    "unit_cost": s.unit_cost,
                    "weight_lb": s.weight_lb,
                }
                for s in catalogue.skus
            ],
        )
        prices = []
        for s in catalogue.skus:
            prices.append(
                {"price_list": "AMAZON", "sku": s.sku, "unit_price": s.unit_cost, "currency": "USD"}
            )
            wholesale = (s.unit_cost * Decimal("1.08")).quantize(CENT)
            prices.append(
                {"price_list": "WHOLESALE", "sku": s.sku, "unit_price": wholesale, "currency": "USD"}
            )
            prices.append({"price_list": "MSRP", "sku": s.sku, "unit_price": s.msrp, "currency": "USD"})
        session.execute(insert(t.PriceListRow), prices)
        session.execute(
            insert(t.StockRow),
            [
                {
                    "sku": s.sku,
                    "warehouse": s.warehouse,
                    "on_hand": s.on_hand,
                    "allocated": 0,
                    "on_hold": s.on_hold,
                    "incoming": s.incoming,
                    "incoming_date": today + timedelta(days=s.incoming_in_days)
                    if s.incoming_in_days
                    else None,
                }
                for s in catalogue.stock
            ],
        )
        for c in catalogue.customers:
            session.add(
                t.CustomerRow(
                    bc_customer=c.bc_customer,
                    name=c.name,
                    currency="USD",
                    price_list=c.price_list,
                    terms_code=c.terms_code,
                    discount_percent=c.discount_percent,
                    discount_days=c.discount_days,
                    net_days=c.net_days,
                )
            )
            for s in c.stores:
                session.add(
                    t.StoreRow(
                        bc_customer=c.bc_customer,
                        bc_store=s.bc_store,
                        name=s.name,
                        store_type=s.store_type,
                        fc_code=s.fc_code,
                        san=s.san,
                        bc_warehouse=s.bc_warehouse,
                        address_line=s.address_line,
                        city=s.city,
                        state=s.state,
                        postal_code=s.postal_code,
                        country="US",
                    )
                )
        session.execute(
            insert(t.GlAccountRow), [{"account": a, "name": n, "account_type": k} for a, n, k in GL_ACCOUNTS]
        )
        session.add(t.Setting(name="seed", value=str(self.config.seed)))
        log.info(
            "seeded BlueCherry emulator %s: %d styles, %d SKUs",
            self.db_path,
            len(catalogue.styles),
            len(catalogue.skus),
        )

    # --- master data -----------------------------------------------------------------------

    def list_items(self, *, style: str | None = None) -> list[m.Item]:
        with self._read() as session:
            # Plain column tuples: loading 2,000+ ORM objects per call is the slow part of a cycle.
            query = (
                select(
                    t.Sku.sku,
                    t.Sku.style,
                    t.Sku.color,
                    t.Sku.color_name,
                    t.Sku.size,
                    t.Sku.upc,
                    t.Sku.ean,
                    t.Sku.asin,
                    t.Sku.unit_cost,
                    t.Style.description,
                    t.Style.division,
                    t.Style.season,
                    t.Style.case_pack_qty,
                    t.Style.active,
                )
                .join(t.Style, t.Style.style == t.Sku.style)
                .order_by(t.Sku.style, t.Sku.color, t.Sku.size_seq)
            )
            if style is not None:
                query = query.where(t.Sku.style == style)
            return [
                m.Item(
                    sku=r.sku,
                    style=r.style,
                    color=r.color,
                    color_name=r.color_name,
                    size=r.size,
                    description=r.description,
                    division=r.division,
                    season=r.season,
                    upc=r.upc,
                    ean=r.ean,
                    asin=r.asin,
                    case_pack_qty=r.case_pack_qty,
                    unit_cost=r.unit_cost,
                    currency="USD",
                    active=r.active,
                )
                for r in session.execute(query)
            ]

    def list_price_lists(self) -> list[str]:
        with self._read() as session:
            return list(
                session.scalars(
                    select(t.PriceListRow.price_list).distinct().order_by(t.PriceListRow.price_list)
                )
            )

    def get_price_list(self, price_list: str) -> list[m.PriceListEntry]:
        with self._read() as session:
            rows = session.execute(
                select(
                    t.PriceListRow.price_list,
                    t.PriceListRow.sku,
                    t.PriceListRow.unit_price,
                    t.PriceListRow.currency,
                )
                .where(t.PriceListRow.price_list == price_list)
                .order_by(t.PriceListRow.sku)
            ).all()
        if not rows:
            raise NotFound(f"no price list {price_list!r}")
        return [
            m.PriceListEntry(price_list=r.price_list, sku=r.sku, unit_price=r.unit_price, currency=r.currency)
            for r in rows
        ]

    def list_customers(self) -> list[m.Customer]:
        with self._read() as session:
            customers = session.scalars(select(t.CustomerRow).order_by(t.CustomerRow.bc_customer)).all()
            stores = session.scalars(
                select(t.StoreRow).order_by(t.StoreRow.bc_customer, t.StoreRow.bc_store)
            ).all()
        by_customer: dict[str, list[m.Store]] = {}
        for s in stores:
            by_customer.setdefault(s.bc_customer, []).append(
                m.Store(
                    bc_customer=s.bc_customer,
                    bc_store=s.bc_store,
                    name=s.name,
                    store_type=s.store_type,
                    fc_code=s.fc_code,
                    san=s.san,
                    bc_warehouse=s.bc_warehouse,
                    address_line=s.address_line,
                    city=s.city,
                    state=s.state,
                    postal_code=s.postal_code,
                    country=s.country,
                )
            )
        return [
            m.Customer(
                bc_customer=c.bc_customer,
                name=c.name,
                currency=c.currency,
                price_list=c.price_list,
                terms_code=c.terms_code,
                stores=by_customer.get(c.bc_customer, []),
            )
            for c in customers
        ]

    # --- sales orders ----------------------------------------------------------------------

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
    def _preload(session: Session, skus: list[str], warehouse: str) -> None:
        """Load a document's SKUs and stock rows in two queries; later ``session.get`` calls hit the identity map."""
        if not skus:
            return
        loaded: list = list(session.scalars(select(t.Sku).where(t.Sku.sku.in_(skus))))
        loaded += session.scalars(
            select(t.StockRow).where(t.StockRow.sku.in_(skus), t.StockRow.warehouse == warehouse)
        ).all()
        # The identity map holds objects weakly; the session keeps them for the transaction.
        session.info.setdefault("preloaded", []).extend(loaded)

    @staticmethod
    def _resolve_sku(session: Session, draft: m.SalesOrderLineDraft) -> t.Sku | None:
        if draft.sku:
            return session.get(t.Sku, draft.sku)
        return session.scalar(
            select(t.Sku).where(
                t.Sku.style == draft.style, t.Sku.color == draft.color, t.Sku.size == draft.size
            )
        )

    def _stock(self, session: Session, sku: str, warehouse: str) -> t.StockRow:
        stock = session.get(t.StockRow, (sku, warehouse))
        if stock is None:
            stock = t.StockRow(
                sku=sku, warehouse=warehouse, on_hand=0, allocated=0, on_hold=0, incoming=0, incoming_date=None
            )
            session.add(stock)
            session.flush()  # later lookups in this transaction must find it
        return stock

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

    def next_number(self, name: str) -> int:
        """A persistent counter (e.g. the file face's export cycle number)."""
        with self._write() as session:
            return self._next(session, name)

    def count_sales_orders(self, customer_po: str | None = None) -> int:
        """How many orders exist (for one PO): the exactly-once checks of the tests use this."""
        with self._read() as session:
            query = select(func.count()).select_from(t.SalesOrderRow)
            if customer_po is not None:
                query = query.where(t.SalesOrderRow.customer_po == customer_po)
            return session.scalar(query)

    # --- warehouse actions -----------------------------------------------------------------

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

    def receive_stock(self, sku: str, warehouse: str, qty: int) -> None:
        """Incoming stock arrives: on hand grows, incoming shrinks (not below zero)."""
        if qty <= 0:
            raise Rejected(f"receive quantity must be positive, got {qty}")
        with self._write() as session:
            if session.get(t.Sku, sku) is None:
                raise NotFound(f"no SKU {sku!r}")
            stock = self._stock(session, sku, warehouse)
            stock.on_hand += qty
            stock.incoming = max(0, stock.incoming - qty)
            if stock.incoming == 0:
                stock.incoming_date = None

    def set_stock(
        self,
        sku: str,
        warehouse: str,
        *,
        on_hand: int | None = None,
        on_hold: int | None = None,
        incoming: int | None = None,
        incoming_date: date | None = None,
    ) -> None:
        """Set stock figures directly (tests and demos); allocations are left as they are.

        Setting ``on_hand`` alone caps an existing hold at the new on-hand figure.
        """
        with self._write() as session:
            if session.get(t.Sku, sku) is None:
                raise NotFound(f"no SKU {sku!r}")
            stock = self._stock(session, sku, warehouse)
            if on_hand is not None:
                stock.on_hand = on_hand
                # No more can be on hold than is on the shelf (a recount to zero clears the hold).
                stock.on_hold = min(stock.on_hold, max(on_hand, 0))
            if on_hold is not None:
                if on_hold < 0:
                    raise Rejected(f"hold quantity must not be negative, got {on_hold}")
                stock.on_hold = on_hold
            if incoming is not None:
                stock.incoming = incoming
                stock.incoming_date = incoming_date

    def pick_and_pack(self, order_number: str) -> PickResult:
        """Pick everything allocated and not yet picked; full case packs in their own cartons."""
        with self._write() as session:
            order = session.get(t.SalesOrderRow, order_number)
            if order is None:
                raise NotFound(f"no sales order {order_number!r}")
            self._preload(session, [line.sku for line in order.lines if line.sku], order.bc_warehouse)
            to_pick = [(line, line.qty_allocated - line.qty_picked) for line in order.lines]
            to_pick = [(line, qty) for line, qty in to_pick if qty > 0]
            if not to_pick:
                raise Conflict(f"sales order {order_number} has nothing allocated to pick")
            now = self.clock.now()
            ticket = t.PickTicketRow(
                pick_ticket=f"PT{self._next(session, 'pick_ticket'):07d}",
                order_number=order_number,
                created_at=now,
            )
            session.add(ticket)
            session.flush()
            cartons: list[list[tuple[t.SalesOrderLineRow, int]]] = []
            loose: list[tuple[t.SalesOrderLineRow, int]] = []
            for line, qty in to_pick:
                pack = session.get(t.Sku, line.sku).style_row.case_pack_qty
                full, rest = divmod(qty, pack)
                cartons += [[(line, pack)] for _ in range(full)]
                if rest:
                    loose.append((line, rest))
                line.qty_picked += qty
            cartons += _pack_loose(loose, self.config.mixed_carton_max_eaches)
            result = PickResult(pick_ticket=ticket.pick_ticket, order_number=order_number)
            for number, contents in enumerate(cartons, start=1):
                serial = self._next(session, "sscc_serial")
                sscc = make_sscc(self.config.sscc_extension_digit, self.config.sscc_company_prefix, serial)
                weight = self.config.carton_tare_lb
                carton = t.CartonRow(
                    sscc=sscc,
                    carton_number=number,
                    pick_ticket=ticket.pick_ticket,
                    order_number=order_number,
                    shipment_id=None,
                    weight_lb=ZERO,
                    tracking_number=None,
                )
                session.add(carton)
                session.flush()
                for line, qty in contents:
                    weight += session.get(t.Sku, line.sku).weight_lb * qty
                    session.add(
                        t.CartonItemRow(
                            carton_id=carton.id,
                            order_number=order_number,
                            line_number=line.line_number,
                            sku=line.sku,
                            qty=qty,
                        )
                    )
                    result.eaches += qty
                carton.weight_lb = weight.quantize(CENT)
                result.cartons.append(sscc)
            log.info(
                "picked %s for %s: %d cartons, %d eaches",
                ticket.pick_ticket,
                order_number,
                len(cartons),
                result.eaches,
            )
            return result

    def ship(
        self,
        order_numbers: Sequence[str],
        *,
        carrier_scac: str = "UPSN",
        tracking_number: str | None = None,
        bol_number: str | None = None,
        master_bol: str | None = None,
        ship_date: date | None = None,
        departed_at: datetime | None = None,
        small_parcel: bool = False,
        picked_up: bool = True,
        palletize: bool = False,
    ) -> m.Shipment:
        """Ship the packed, unshipped cartons of orders going to one ship-to; the shipment is ready to confirm.

        ``picked_up=False``: the truck is loaded but the carrier has not confirmed collection
        (no departure time, no tracking) until :meth:`carrier_pickup`. ``palletize``: cartons
        travel on pallets (one pallet SSCC per ``cartons_per_pallet`` cartons).
        """
        if not order_numbers:
            raise Rejected("ship needs at least one order number")
        with self._write() as session:
            orders = []
            for number in order_numbers:
                order = session.get(t.SalesOrderRow, number)
                if order is None:
                    raise NotFound(f"no sales order {number!r}")
                orders.append(order)
            destinations = {(o.bc_customer, o.bc_store, o.bc_warehouse) for o in orders}
            if len(destinations) > 1:
                raise Conflict(
                    f"orders {list(order_numbers)} go to different ship-tos {sorted(destinations)}; ship them apart"
                )
            cartons = session.scalars(
                select(t.CartonRow)
                .where(t.CartonRow.order_number.in_(list(order_numbers)), t.CartonRow.shipment_id.is_(None))
                .order_by(t.CartonRow.order_number, t.CartonRow.carton_number)
            ).all()
            if not cartons:
                raise Conflict(f"orders {list(order_numbers)} have no packed cartons waiting to ship")
            now = self.clock.now()
            sequence = self._next(session, "shipment")
            customer, store_code, warehouse = destinations.pop()
            store = session.get(t.StoreRow, (customer, store_code))
            ship_day = ship_date or now.date()
            shipment = t.ShipmentRow(
                shipment_id=f"SH{sequence:08d}",
                status="ready",
                bc_customer=customer,
                bc_store=store_code,
                bc_warehouse=warehouse,
                ship_to_name=store.name if store else store_code,
                carrier_scac=carrier_scac,
                tracking_number=(tracking_number or _tracking(carrier_scac, sequence)) if picked_up else None,
                bol_number=bol_number or f"{self.config.bol_prefix}{sequence:08d}",
                master_bol=master_bol,
                ship_date=ship_day,
                departed_at=(departed_at or now) if picked_up else None,
                estimated_delivery=ship_day + timedelta(days=self.config.transit_days),
                total_weight_lb=sum((c.weight_lb for c in cartons), ZERO),
                asn_reference=None,
                confirmed_at=None,
            )
            session.add(shipment)
            lines = {(o.order_number, line.line_number): (o, line) for o in orders for line in o.lines}
            pallet = None
            for index, carton in enumerate(cartons, start=1):
                carton.shipment_id = shipment.shipment_id
                carton.carton_number = index
                if palletize:
                    if (index - 1) % self.config.cartons_per_pallet == 0:
                        serial = self._next(session, "sscc_serial")
                        pallet = make_sscc(self.config.sscc_extension_digit, self.config.sscc_company_prefix, serial)
                    carton.pallet_sscc = pallet
                if small_parcel and picked_up:
                    carton.tracking_number = f"{shipment.tracking_number}{index:03d}"
                for item in carton.items:
                    order, line = lines[(item.order_number, item.line_number)]
                    line.qty_picked -= item.qty
                    line.qty_allocated -= item.qty
                    line.qty_shipped += item.qty
                    stock = self._stock(session, item.sku, order.bc_warehouse)
                    stock.on_hand -= item.qty
                    stock.allocated -= item.qty
            for order in orders:
                order.status = _order_status(order)
                order.revision += 1
                order.updated_at = now
            session.flush()
            log.info(
                "shipped %s: %d cartons, BOL %s", shipment.shipment_id, len(cartons), shipment.bol_number
            )
            return _shipment(session, shipment)

    def carrier_pickup(
        self, shipment_id: str, *, tracking_number: str | None = None, departed_at: datetime | None = None
    ) -> m.Shipment:
        """The carrier confirms collection: departure time and tracking (``""`` keeps it unknown)."""
        with self._write() as session:
            shipment = session.get(t.ShipmentRow, shipment_id)
            if shipment is None:
                raise NotFound(f"no shipment {shipment_id!r}")
            shipment.departed_at = departed_at or self.clock.now()
            if tracking_number is None:
                tracking_number = _tracking(shipment.carrier_scac, int(shipment_id.lstrip("SH") or 0))
            shipment.tracking_number = tracking_number or None
            session.flush()
            return _shipment(session, shipment)

    def reset_label_serial(self, to: int = 0) -> None:
        """The label printer's SSCC serial restarts (a reinstall): the next cartons repeat old SSCCs."""
        with self._write() as session:
            row = session.get(t.Counter, "sscc_serial")
            if row is not None:
                row.value = to

    def invoice_shipment(self, shipment_id: str) -> list[m.Invoice]:
        """One invoice per order in the shipment (idempotent), posted to the GL (Dr AR, Cr Sales)."""
        with self._write() as session:
            shipment = session.get(t.ShipmentRow, shipment_id)
            if shipment is None:
                raise NotFound(f"no shipment {shipment_id!r}")
            shipped: dict[str, dict[int, int]] = {}
            for carton in shipment.cartons:
                for item in carton.items:
                    per_order = shipped.setdefault(item.order_number, {})
                    per_order[item.line_number] = per_order.get(item.line_number, 0) + item.qty
            invoices = []
            for order_number, quantities in sorted(shipped.items()):
                existing = session.scalar(
                    select(t.InvoiceRow).where(
                        t.InvoiceRow.shipment_id == shipment_id, t.InvoiceRow.order_number == order_number
                    )
                )
                if existing is None:
                    existing = self._invoice(
                        session, shipment, session.get(t.SalesOrderRow, order_number), quantities
                    )
                invoices.append(existing)
            session.flush()
            return [_invoice(row) for row in invoices]

    def _invoice(
        self, session: Session, shipment: t.ShipmentRow, order: t.SalesOrderRow, quantities: dict[int, int]
    ) -> t.InvoiceRow:
        customer = session.get(t.CustomerRow, order.bc_customer)
        invoice_date = self.clock.today()
        number = f"INV{self._next(session, 'invoice'):07d}"
        lines = []
        for line in order.lines:
            qty = quantities.get(line.line_number)
            if not qty:
                continue
            sku = session.get(t.Sku, line.sku)
            lines.append(
                t.InvoiceLineRow(
                    invoice_number=number,
                    line_number=line.line_number,
                    sku=line.sku,
                    style=line.style,
                    color=line.color,
                    size=line.size,
                    upc=sku.upc if sku else None,
                    product_id=line.product_id,
                    product_id_qualifier=line.product_id_qualifier,
                    qty=qty,
                    unit_price=line.unit_price,
                    amount=(line.unit_price * qty).quantize(CENT),
                )
            )
        subtotal = sum((line.amount for line in lines), ZERO)
        invoice = t.InvoiceRow(
            invoice_number=number,
            invoice_date=invoice_date,
            customer_po=order.customer_po,
            order_number=order.order_number,
            shipment_id=shipment.shipment_id,
            bc_customer=order.bc_customer,
            bc_store=order.bc_store,
            currency=order.currency,
            terms_code=customer.terms_code,
            discount_percent=customer.discount_percent,
            discount_days=customer.discount_days,
            net_days=customer.net_days,
            due_date=invoice_date + timedelta(days=customer.net_days),
            subtotal=subtotal,
            freight=ZERO,
            total=subtotal,
            open_amount=subtotal,
        )
        session.add(invoice)
        session.add_all(lines)
        self._post(
            session,
            invoice_date,
            reference=number,
            description=f"Invoice {number} PO {order.customer_po}",
            source="AR-INVOICE",
            currency=order.currency,
            lines=[
                (
                    "1200",
                    subtotal,
                    ZERO,
                    f"Invoice {number}",
                    {"customer": order.bc_customer, "invoice": number},
                ),
                (
                    "4000",
                    ZERO,
                    subtotal,
                    f"Invoice {number}",
                    {"customer": order.bc_customer, "invoice": number},
                ),
            ],
        )
        log.info("invoiced %s: %s %s for PO %s", number, subtotal, order.currency, order.customer_po)
        return invoice

    def fulfil(
        self, order_number: str, *, carrier_scac: str = "UPSN", **ship_options
    ) -> tuple[m.Shipment, list[m.Invoice]]:
        """Pick and pack, ship and invoice one order: the warehouse's whole day in one call."""
        self.pick_and_pack(order_number)
        shipment = self.ship([order_number], carrier_scac=carrier_scac, **ship_options)
        return shipment, self.invoice_shipment(shipment.shipment_id)

    # --- fulfilment reads and confirmation -------------------------------------------------

    def list_shipments(
        self, *, status: str | None = None, confirmed_since: datetime | None = None
    ) -> list[m.Shipment]:
        with self._read() as session:
            query = select(t.ShipmentRow).order_by(t.ShipmentRow.shipment_id)
            if status is not None:
                query = query.where(t.ShipmentRow.status == status)
            rows = session.scalars(query).all()
            if confirmed_since is not None:
                rows = [
                    r
                    for r in rows
                    if r.status == "ready" or (r.confirmed_at and r.confirmed_at >= confirmed_since)
                ]
            return [_shipment(session, row) for row in rows]

    def get_shipment(self, shipment_id: str) -> m.Shipment:
        with self._read() as session:
            row = session.get(t.ShipmentRow, shipment_id)
            if row is None:
                raise NotFound(f"no shipment {shipment_id!r}")
            return _shipment(session, row)

    def confirm_shipment(
        self, confirmation: m.ShipmentConfirmation, *, idempotency_key: str
    ) -> m.WriteResult:
        with self._write() as session:
            return self._idempotent(
                session,
                "shipment_confirmation",
                idempotency_key,
                confirmation.fingerprint(),
                lambda s: self._confirm(s, confirmation, idempotency_key),
            )

    def _confirm(self, session: Session, confirmation: m.ShipmentConfirmation, key: str) -> m.WriteResult:
        shipment = session.get(t.ShipmentRow, confirmation.shipment_id)
        if shipment is None:
            raise NotFound(f"no shipment {confirmation.shipment_id!r}")
        outcome = "created"
        if shipment.status == "confirmed":
            if shipment.asn_reference != confirmation.asn_reference:
                raise Conflict(
                    f"shipment {shipment.shipment_id} was already confirmed with ASN {shipment.asn_reference}"
                )
            outcome = "unchanged"
        else:
            shipment.status = "confirmed"
            shipment.asn_reference = confirmation.asn_reference
            shipment.confirmed_at = self.clock.now()
        return m.WriteResult(
            kind="shipment_confirmation",
            key=shipment.shipment_id,
            idempotency_key=key,
            outcome=outcome,
            document_number=confirmation.asn_reference,
        )

    def list_invoices(
        self,
        *,
        customer_pos: Sequence[str] | None = None,
        shipment_id: str | None = None,
        since: date | None = None,
    ) -> list[m.Invoice]:
        with self._read() as session:
            query = select(t.InvoiceRow).order_by(t.InvoiceRow.invoice_number)
            if customer_pos is not None:
                query = query.where(t.InvoiceRow.customer_po.in_(list(customer_pos)))
            if shipment_id is not None:
                query = query.where(t.InvoiceRow.shipment_id == shipment_id)
            if since is not None:
                query = query.where(t.InvoiceRow.invoice_date >= since)
            return [_invoice(row) for row in session.scalars(query)]

    def get_invoice(self, invoice_number: str) -> m.Invoice:
        with self._read() as session:
            row = session.get(t.InvoiceRow, invoice_number)
            if row is None:
                raise NotFound(f"no invoice {invoice_number!r}")
            return _invoice(row)

    # --- inventory -------------------------------------------------------------------------

    def get_ats(self, *, warehouse: str | None = None) -> m.AtsSnapshot:
        with self._read() as session:
            snapshot_at = self.clock.now()
            query = (
                select(
                    t.StockRow.sku,
                    t.StockRow.warehouse,
                    t.StockRow.on_hand,
                    t.StockRow.allocated,
                    t.StockRow.on_hold,
                    t.StockRow.incoming,
                    t.StockRow.incoming_date,
                    t.Sku.style,
                    t.Sku.color,
                    t.Sku.size,
                    t.Sku.upc,
                )
                .join(t.Sku, t.Sku.sku == t.StockRow.sku)
                .order_by(t.Sku.style, t.Sku.color, t.Sku.size_seq, t.StockRow.warehouse)
            )
            if warehouse is not None:
                query = query.where(t.StockRow.warehouse == warehouse)
            rows = [
                m.AtsRow(
                    sku=r.sku,
                    style=r.style,
                    color=r.color,
                    size=r.size,
                    upc=r.upc,
                    warehouse=r.warehouse,
                    on_hand=r.on_hand,
                    allocated=r.allocated,
                    on_hold=r.on_hold,
                    available=r.on_hand - r.allocated - r.on_hold,
                    incoming=r.incoming,
                    incoming_date=r.incoming_date,
                )
                for r in session.execute(query)
            ]
            cycle = session.get(t.Setting, "last_cycle_at")
        return m.AtsSnapshot(
            snapshot_at=snapshot_at,
            last_cycle_at=datetime.fromisoformat(cycle.value) if cycle is not None else None,
            warehouse=warehouse,
            rows=rows,
        )

    def record_cycle(self) -> datetime:
        """A batch cycle finished applying its imports (allocations included): remember when."""
        with self._write() as session:
            now = self.clock.now()
            marker = session.get(t.Setting, "last_cycle_at")
            if marker is None:
                session.add(t.Setting(name="last_cycle_at", value=now.isoformat()))
            else:
                marker.value = now.isoformat()
            return now

    # --- finance ---------------------------------------------------------------------------

    def list_gl_accounts(self) -> list[m.GlAccount]:
        with self._read() as session:
            return [
                m.GlAccount(account=r.account, name=r.name, account_type=r.account_type)
                for r in session.scalars(select(t.GlAccountRow).order_by(t.GlAccountRow.account))
            ]

    def post_journal_entry(self, entry: m.JournalEntry, *, idempotency_key: str) -> m.WriteResult:
        with self._write() as session:
            return self._idempotent(
                session,
                "journal_entry",
                idempotency_key,
                entry.fingerprint(),
                lambda s: self._post_entry(s, entry, idempotency_key),
            )

    def _post_entry(self, session: Session, entry: m.JournalEntry, key: str) -> m.WriteResult:
        number = self._post(
            session,
            entry.posting_date,
            reference=entry.reference,
            description=entry.description,
            source=entry.source,
            currency=entry.currency,
            lines=[
                (line.account, line.debit, line.credit, line.memo, line.dimensions) for line in entry.lines
            ],
        )
        return m.WriteResult(
            kind="journal_entry",
            key=entry.reference,
            idempotency_key=key,
            outcome="created",
            document_number=number,
        )

    def _post(
        self,
        session: Session,
        posting_date: date,
        *,
        reference: str,
        description: str,
        source: str,
        currency: str,
        lines: list[tuple[str, Decimal, Decimal, str, dict]],
    ) -> str:
        """Post a journal; refuses an unbalanced one or an unknown account (the GL's own rule)."""
        debits = sum((line[1] for line in lines), ZERO)
        credits = sum((line[2] for line in lines), ZERO)
        if debits != credits:
            raise Rejected(f"journal {reference} is unbalanced: debits {debits} != credits {credits}")
        if len(lines) < 2:
            raise Rejected(f"journal {reference} needs at least two lines")
        unknown = sorted({line[0] for line in lines if session.get(t.GlAccountRow, line[0]) is None})
        if unknown:
            raise Rejected(f"journal {reference}: unknown GL accounts {unknown}")
        for account, debit, credit, _, _ in lines:
            if debit < 0 or credit < 0 or (debit > 0) == (credit > 0):
                raise Rejected(f"journal {reference}: account {account} needs exactly one positive side")
        number = f"JE{self._next(session, 'journal'):07d}"
        session.add(
            t.JournalRow(
                journal_number=number,
                posting_date=posting_date,
                period=f"{posting_date:%Y-%m}",
                reference=reference,
                description=description,
                source=source,
                currency=currency,
                created_at=self.clock.now(),
            )
        )
        for index, (account, debit, credit, memo, dimensions) in enumerate(lines, start=1):
            session.add(
                t.JournalLineRow(
                    journal_number=number,
                    line_number=index,
                    account=account,
                    debit=debit,
                    credit=credit,
                    memo=memo or "",
                    dimensions=dict(dimensions or {}),
                )
            )
        return number

    def record_cash_receipt(self, receipt: m.CashReceipt, *, idempotency_key: str) -> m.WriteResult:
        with self._write() as session:
            return self._idempotent(
                session,
                "cash_receipt",
                idempotency_key,
                receipt.fingerprint(),
                lambda s: self._record_receipt(s, receipt, idempotency_key),
            )

    def _record_receipt(self, session: Session, receipt: m.CashReceipt, key: str) -> m.WriteResult:
        """Apply cash to invoices (posting Dr Cash, Cr AR, Cr Unapplied Cash).

        Deductions close the invoice balance in the AR subledger only; their GL entry
        (expense or deductions receivable against AR) is the remittance flow's journal.
        """
        fingerprint = receipt.fingerprint()
        existing = session.get(t.CashReceiptRow, receipt.receipt_number)
        if existing is not None:
            if existing.fingerprint != fingerprint:
                raise Conflict(f"cash receipt {receipt.receipt_number} already exists with other content")
            return m.WriteResult(
                kind="cash_receipt",
                key=receipt.receipt_number,
                idempotency_key=key,
                outcome="unchanged",
                document_number=receipt.receipt_number,
            )
        if session.get(t.CustomerRow, receipt.bc_customer) is None:
            raise Rejected(f"receipt {receipt.receipt_number}: unknown customer {receipt.bc_customer!r}")
        applied = ZERO
        # One read for every invoice of the receipt (a remittance applies thousands at once).
        numbers = [application.invoice_number for application in receipt.applications]
        invoices: dict[str, tuple[str, Decimal]] = {}
        for start in range(0, len(numbers), 500):
            invoices.update(
                (number, (customer, open_amount))
                for number, customer, open_amount in session.execute(
                    select(t.InvoiceRow.invoice_number, t.InvoiceRow.bc_customer, t.InvoiceRow.open_amount).where(
                        t.InvoiceRow.invoice_number.in_(numbers[start : start + 500])
                    )
                )
            )
        applications, balances = [], []
        for application in receipt.applications:
            customer, open_amount = invoices.get(application.invoice_number, (None, ZERO))
            if customer != receipt.bc_customer:
                raise Rejected(
                    f"receipt {receipt.receipt_number}: no invoice {application.invoice_number} of {receipt.bc_customer}"
                )
            closing = application.amount_applied + application.deduction_amount
            if closing > open_amount:
                raise Rejected(
                    f"receipt {receipt.receipt_number}: {closing} applied and deducted exceeds invoice "
                    f"{application.invoice_number}'s open {open_amount}"
                )
            balances.append({"number": application.invoice_number, "open": open_amount - closing})
            applied += application.amount_applied
            applications.append(
                {
                    "receipt_number": receipt.receipt_number,
                    "invoice_number": application.invoice_number,
                    "amount_applied": application.amount_applied,
                    "deduction_amount": application.deduction_amount,
                    "deduction_reason": application.deduction_reason,
                }
            )
        unapplied = receipt.amount - applied
        session.add(
            t.CashReceiptRow(
                receipt_number=receipt.receipt_number,
                receipt_date=receipt.receipt_date,
                bc_customer=receipt.bc_customer,
                amount=receipt.amount,
                unapplied_amount=unapplied,
                currency=receipt.currency,
                method=receipt.method,
                reference=receipt.reference,
                fingerprint=fingerprint,
                created_at=self.clock.now(),
            )
        )
        session.flush()
        if applications:  # Core executemany: a remittance applies thousands of invoices at once
            table = t.InvoiceRow.__table__
            session.execute(
                update(table).where(table.c.invoice_number == bindparam("number")).values(open_amount=bindparam("open")),
                balances,
            )
            session.execute(insert(t.ReceiptApplicationRow.__table__), applications)
        dims = {"customer": receipt.bc_customer, "receipt": receipt.receipt_number}
        lines = [("1010", receipt.amount, ZERO, f"Receipt {receipt.receipt_number}", dims)]
        if applied:
            lines.append(("1200", ZERO, applied, "Cash applied", dims))
        if unapplied:
            lines.append(("2150", ZERO, unapplied, "Unapplied cash", dims))
        self._post(
            session,
            receipt.receipt_date,
            reference=receipt.receipt_number,
            description=f"Cash receipt {receipt.reference}",
            source="AR-CASH",
            currency=receipt.currency,
            lines=lines,
        )
        return m.WriteResult(
            kind="cash_receipt",
            key=receipt.receipt_number,
            idempotency_key=key,
            outcome="created",
            document_number=receipt.receipt_number,
        )

    def list_open_ar(self, *, bc_customer: str | None = None) -> list[m.ArOpenItem]:
        # The HTTP face pages through this list; without the cache every page would rebuild it.
        version = self._writes
        cached = self._open_ar_cache.get(bc_customer)
        if cached is not None and cached[0] == version:
            return list(cached[1])
        items = self._open_ar(bc_customer)
        if self._writes == version:
            self._open_ar_cache[bc_customer] = (version, items)
        return list(items)

    def _open_ar(self, bc_customer: str | None) -> list[m.ArOpenItem]:
        invoice = t.InvoiceRow
        with self._read() as session:
            # Plain columns: the invoice lines are not needed, and ORM objects are the slow part.
            invoices = select(
                invoice.bc_customer, invoice.invoice_number, invoice.invoice_date, invoice.due_date,
                invoice.customer_po, invoice.total, invoice.open_amount, invoice.currency,
            ).order_by(invoice.invoice_number)
            receipts = select(t.CashReceiptRow).order_by(t.CashReceiptRow.receipt_number)
            if bc_customer is not None:
                invoices = invoices.where(invoice.bc_customer == bc_customer)
                receipts = receipts.where(t.CashReceiptRow.bc_customer == bc_customer)
            items = [
                m.ArOpenItem.model_construct(
                    bc_customer=row.bc_customer,
                    document_type="invoice",
                    document_number=row.invoice_number,
                    document_date=row.invoice_date,
                    due_date=row.due_date,
                    customer_po=row.customer_po,
                    original_amount=row.total,
                    open_amount=row.open_amount,
                    currency=row.currency,
                )
                for row in session.execute(invoices)
                if row.open_amount != 0
            ]
            items += [
                m.ArOpenItem(
                    bc_customer=r.bc_customer,
                    document_type="unapplied_cash",
                    document_number=r.receipt_number,
                    document_date=r.receipt_date,
                    original_amount=-r.amount,
                    open_amount=-r.unapplied_amount,
                    currency=r.currency,
                )
                for r in session.scalars(receipts)
                if r.unapplied_amount != 0
            ]
        return items

    def list_ledger_lines(self, period: str, *, account: str | None = None) -> list[m.LedgerLine]:
        with self._read() as session:
            query = (
                select(t.JournalLineRow, t.JournalRow)
                .join(t.JournalRow, t.JournalRow.journal_number == t.JournalLineRow.journal_number)
                .where(t.JournalRow.period == period)
                .order_by(t.JournalLineRow.journal_number, t.JournalLineRow.line_number)
            )
            if account is not None:
                query = query.where(t.JournalLineRow.account == account)
            return [
                m.LedgerLine(
                    journal_number=line.journal_number,
                    line_number=line.line_number,
                    posting_date=journal.posting_date,
                    period=journal.period,
                    account=line.account,
                    debit=line.debit,
                    credit=line.credit,
                    memo=line.memo,
                    reference=journal.reference,
                    source=journal.source,
                    dimensions=line.dimensions or {},
                )
                for line, journal in session.execute(query)
            ]

    def list_periods(self) -> list[str]:
        with self._read() as session:
            return list(session.scalars(select(t.JournalRow.period).distinct().order_by(t.JournalRow.period)))

    # --- checks ----------------------------------------------------------------------------

    def check_invariants(self) -> list[str]:
        """Broken rules of the emulated ERP (empty when consistent); the tests assert on it."""
        problems: list[str] = []
        with self._read() as session:
            allocated: dict[tuple[str, str], int] = {}
            for order in session.scalars(select(t.SalesOrderRow)):
                for line in order.lines:
                    parts = line.qty_allocated + line.qty_backordered + line.qty_cancelled + line.qty_shipped
                    if parts != line.qty_ordered:
                        problems.append(
                            f"{order.order_number} line {line.line_number}: parts {parts} != {line.qty_ordered}"
                        )
                    if line.qty_picked > line.qty_allocated:
                        problems.append(
                            f"{order.order_number} line {line.line_number}: picked more than allocated"
                        )
                    if line.qty_allocated and line.sku:
                        key = (line.sku, order.bc_warehouse)
                        allocated[key] = allocated.get(key, 0) + line.qty_allocated
            for stock in session.scalars(select(t.StockRow)):
                expected = allocated.pop((stock.sku, stock.warehouse), 0)
                if stock.allocated != expected:
                    problems.append(
                        f"stock {stock.sku}@{stock.warehouse}: allocated {stock.allocated} != lines {expected}"
                    )
                if stock.on_hand < 0:
                    problems.append(f"stock {stock.sku}@{stock.warehouse}: negative on hand {stock.on_hand}")
                if stock.on_hold < 0:
                    problems.append(f"stock {stock.sku}@{stock.warehouse}: negative hold {stock.on_hold}")
            problems += [f"allocation without stock row: {key}" for key in allocated]
            debits = credits = ZERO
            for line in session.scalars(select(t.JournalLineRow)):
                debits += line.debit
                credits += line.credit
            if debits != credits:
                problems.append(f"ledger unbalanced: debits {debits} != credits {credits}")
        return problems


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
            for sku, warehouse, total in session.execute(
                select(t.SalesOrderLineRow.sku, t.SalesOrderRow.bc_warehouse,
                       func.sum(t.SalesOrderLineRow.qty_backordered))
                .join(t.SalesOrderRow, t.SalesOrderRow.order_number == t.SalesOrderLineRow.order_number)
                .where(t.SalesOrderLineRow.sku.in_(chunk))
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


# --- conversions ---------------------------------------------------------------------------


# sales_order_lines as the batch writes them: Decimal as text and dates as ISO text, which
# is how the DecimalText and Date column types store them in SQLite.
_LINE_COLUMNS = ("order_number", "line_number", "sku", "style", "color", "size", "product_id", "product_id_qualifier",
                 "unit_price", "qty_ordered", "qty_allocated", "qty_backordered", "backorder_date", "qty_cancelled",
                 "cancel_reason", "qty_picked", "qty_shipped")


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


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


def _tracking(scac: str, sequence: int) -> str:
    """A tracking / PRO number in the carrier's usual shape (include/mappings/carriers.csv)."""
    if scac == "UPSN":
        return f"1Z{sequence:016d}"[:18]
    if scac in ("FDEG", "FDE"):
        return f"{sequence:012d}"
    return f"{sequence:010d}"  # LTL PRO numbers: 10 digits fit every listed carrier


def _pack_loose(
    loose: list[tuple[t.SalesOrderLineRow, int]], limit: int
) -> list[list[tuple[t.SalesOrderLineRow, int]]]:
    """Remainders below a case pack go into mixed cartons of at most ``limit`` eaches."""
    cartons: list[list[tuple[t.SalesOrderLineRow, int]]] = []
    current: list[tuple[t.SalesOrderLineRow, int]] = []
    room = limit
    for line, qty in loose:
        while qty:
            take = min(qty, room)
            current.append((line, take))
            qty -= take
            room -= take
            if room == 0:
                cartons.append(current)
                current, room = [], limit
    if current:
        cartons.append(current)
    return cartons


def _shipment(session: Session, row: t.ShipmentRow) -> m.Shipment:
    orders = {
        o.order_number: o
        for o in session.scalars(
            select(t.SalesOrderRow).where(
                t.SalesOrderRow.order_number.in_({c.order_number for c in row.cartons})
            )
        )
    }
    skus = {
        s.sku: s
        for s in session.scalars(
            select(t.Sku).where(t.Sku.sku.in_({i.sku for c in row.cartons for i in c.items}))
        )
    }
    cartons = []
    for carton in row.cartons:
        items = []
        for item in carton.items:
            sku = skus[item.sku]
            items.append(
                m.CartonItem(
                    order_number=item.order_number,
                    customer_po=orders[item.order_number].customer_po,
                    line_number=item.line_number,
                    sku=item.sku,
                    style=sku.style,
                    color=sku.color,
                    size=sku.size,
                    upc=sku.upc,
                    qty_eaches=item.qty,
                )
            )
        cartons.append(
            m.Carton(
                sscc=carton.sscc,
                carton_number=carton.carton_number,
                weight_lb=carton.weight_lb,
                tracking_number=carton.tracking_number,
                pallet_sscc=carton.pallet_sscc,
                items=items,
            )
        )
    order_numbers = list(dict.fromkeys(c.order_number for c in row.cartons))
    return m.Shipment(
        shipment_id=row.shipment_id,
        status=row.status,
        bc_customer=row.bc_customer,
        bc_store=row.bc_store,
        bc_warehouse=row.bc_warehouse,
        ship_to_name=row.ship_to_name,
        customer_pos=list(dict.fromkeys(orders[n].customer_po for n in order_numbers)),
        order_numbers=order_numbers,
        carrier_scac=row.carrier_scac,
        tracking_number=row.tracking_number,
        bol_number=row.bol_number,
        master_bol=row.master_bol,
        ship_date=row.ship_date,
        departed_at=row.departed_at,
        estimated_delivery=row.estimated_delivery,
        total_weight_lb=row.total_weight_lb,
        asn_reference=row.asn_reference,
        confirmed_at=row.confirmed_at,
        cartons=cartons,
    )


def _invoice(row: t.InvoiceRow) -> m.Invoice:
    return m.Invoice(
        invoice_number=row.invoice_number,
        invoice_date=row.invoice_date,
        customer_po=row.customer_po,
        order_number=row.order_number,
        shipment_id=row.shipment_id,
        bc_customer=row.bc_customer,
        bc_store=row.bc_store,
        currency=row.currency,
        terms_code=row.terms_code,
        discount_percent=row.discount_percent,
        discount_days=row.discount_days,
        net_days=row.net_days,
        due_date=row.due_date,
        subtotal=row.subtotal,
        freight=row.freight,
        total=row.total,
        open_amount=row.open_amount,
        lines=[
            m.InvoiceLine(
                line_number=line.line_number,
                sku=line.sku,
                style=line.style,
                color=line.color,
                size=line.size,
                upc=line.upc,
                product_id=line.product_id,
                product_id_qualifier=line.product_id_qualifier,
                qty_eaches=line.qty,
                unit_price=line.unit_price,
                amount=line.amount,
            )
            for line in row.lines
        ],
    )
