"""Items and prices: the item master (style x color x size), price lists, customers and their stores.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import selectinload

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
            # Columns named as the model's fields: a row's mapping is the model's input (no copy field by field).
            return [m.Item.model_validate(r._mapping) for r in session.execute(query)]

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
        return [m.PriceListEntry.model_validate(r._mapping) for r in rows]

    def list_customers(self) -> list[m.Customer]:
        with self._read() as session:
            query = (
                select(t.CustomerRow)
                .options(selectinload(t.CustomerRow.stores))
                .order_by(t.CustomerRow.bc_customer)
            )
            return [m.Customer.model_validate(c, from_attributes=True) for c in session.scalars(query)]
