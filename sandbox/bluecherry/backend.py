"""The BlueCherry emulator's state and rules, without HTTP (moto's "backend" shape).

Emulator-defined; map to your BlueCherry installation. An apparel ERP in miniature:
styles x colors x sizes, customers with stores and Amazon FCs, sales orders allocated
against stock (ATS = on hand - allocated - on hold; incoming separate), backorders with a scheduled
date, pick tickets, cartons with SSCC-18, shipments with carrier, tracking and BOL,
invoices posted to the GL, cash receipts applied to invoices, journals that must balance.

Both faces (``app.py`` over HTTP, ``files.py`` over import/export folders) call the same
methods; every write goes through :meth:`Backend._idempotent`, so a key replayed with the
same content returns the stored result and never applies twice.

The state is split by domain, one mixin each (moto keeps one backend per service):
``items.py`` (items, prices, customers), ``sales_orders.py`` (orders and allocation),
``warehouse.py`` (stock, cartons, shipments), ``invoices.py``, ``ledger.py`` (GL and AR),
all on ``core.py`` (the SQLite file, serial writes, idempotency, the clock). This module
composes them and seeds a new database. Refusals are :mod:`sandbox.bluecherry.errors`.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from amazon_bluecherry.bluecherry import models as m
from sandbox.bluecherry import schema as t
from sandbox.bluecherry.catalogue import (
    DIVISIONS,
    GL_ACCOUNTS,
    SEASONS,
    WAREHOUSES,
    build_catalogue,
)
from sandbox.bluecherry.core import CENT, ZERO, BackendConfig, Clock, log
from sandbox.bluecherry.invoices import InvoicesBackend
from sandbox.bluecherry.items import ItemsBackend
from sandbox.bluecherry.ledger import LedgerBackend
from sandbox.bluecherry.sales_orders import SalesOrdersBackend
from sandbox.bluecherry.warehouse import PickResult, WarehouseBackend

__all__ = ["Backend", "BackendConfig", "Clock", "PickResult"]


class Backend(ItemsBackend, SalesOrdersBackend, WarehouseBackend, InvoicesBackend, LedgerBackend):
    """The emulated ERP over one SQLite file (created and seeded when empty): every domain's state."""

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

    def next_number(self, name: str) -> int:
        """A persistent counter (e.g. the file face's export cycle number)."""
        with self._write() as session:
            return self._next(session, name)

    def fulfil(
        self, order_number: str, *, carrier_scac: str = "UPSN", **ship_options
    ) -> tuple[m.Shipment, list[m.Invoice]]:
        """Pick and pack, ship and invoice one order: the warehouse's whole day in one call."""
        self.pick_and_pack(order_number)
        shipment = self.ship([order_number], carrier_scac=carrier_scac, **ship_options)
        return shipment, self.invoice_shipment(shipment.shipment_id)

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
