"""Items and prices, customers: the master data (tag "master data")."""

from __future__ import annotations

from fastapi import APIRouter, Response

from amazon_bluecherry.bluecherry import models as m
from sandbox.bluecherry.routes.common import AUTH, BackendDep, Limit, Offset, Page, page

router = APIRouter(dependencies=AUTH, tags=["master data"])


@router.get("/v1/items", response_model=Page[m.Item])
def list_items(backend: BackendDep, style: str | None = None, offset: Offset = 0, limit: Limit = 500) -> Response:
    """The item master: one row per SKU (style-color-size) with UPC, EAN, ASIN, case pack, cost."""
    return page(m.Item, backend.list_items(style=style), offset, limit)


@router.get("/v1/price-lists/{price_list}", response_model=Page[m.PriceListEntry])
def get_price_list(backend: BackendDep, price_list: str, offset: Offset = 0, limit: Limit = 500) -> Response:
    return page(m.PriceListEntry, backend.get_price_list(price_list), offset, limit)


@router.get("/v1/customers", response_model=Page[m.Customer])
def list_customers(backend: BackendDep, offset: Offset = 0, limit: Limit = 500) -> Response:
    """Customers with their stores, DCs and (Amazon) fulfilment centres."""
    return page(m.Customer, backend.list_customers(), offset, limit)
