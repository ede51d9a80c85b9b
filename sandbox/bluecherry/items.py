"""Items and prices: the item master (style x color x size), price lists, customers and their stores.
"""

from __future__ import annotations

from sqlalchemy import select

from amazon_bluecherry.bluecherry import models as m
from sandbox.bluecherry import schema as t
from sandbox.bluecherry.core import BackendCore
from sandbox.bluecherry.errors import NotFound

__all__ = ["ItemsBackend"]


class ItemsBackend(BackendCore):
    """Master data: read only; the seed writes it."""

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
