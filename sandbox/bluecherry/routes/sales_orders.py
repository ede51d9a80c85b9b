"""Sales orders: upserts one by one and in batches, and the list with allocations (tag "sales orders")."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Response
from pydantic import BaseModel, Field

from amazon_bluecherry.bluecherry import models as m
from sandbox.bluecherry.routes.common import (
    AUTH,
    BackendDep,
    IdempotencyKey,
    Limit,
    Offset,
    Page,
    page,
    written,
)

router = APIRouter(dependencies=AUTH, tags=["sales orders"])

MAX_BATCH = 500


class SalesOrderBatchItem(BaseModel):
    idempotency_key: str = Field(min_length=1, max_length=200)
    draft: m.SalesOrderDraft


class SalesOrderBatch(BaseModel):
    orders: list[SalesOrderBatchItem] = Field(min_length=1, max_length=MAX_BATCH)


class BatchItemError(BaseModel):
    status: int = Field(description="what a single request would have answered: 404, 409 or 422")
    detail: str


class BatchItemResult(BaseModel):
    result: m.WriteResult | None = None
    error: BatchItemError | None = None


class SalesOrderBatchResult(BaseModel):
    results: list[BatchItemResult] = Field(description="one per draft, in the request's order")


@router.post("/v1/sales-orders", status_code=201)
def upsert_sales_order(
    backend: BackendDep, draft: m.SalesOrderDraft, idempotency_key: IdempotencyKey, response: Response
) -> m.WriteResult:
    """Create or update the sales order of (bc_customer, customer_po) to the draft's state."""
    return written(backend.upsert_sales_order(draft, idempotency_key=idempotency_key), response)


@router.post("/v1/sales-orders/batch")
def upsert_sales_orders(
    backend: BackendDep, body: SalesOrderBatch, idempotency_key: IdempotencyKey
) -> SalesOrderBatchResult:
    """Several sales orders in one request, each with its own idempotency key.

    Every draft gets its own answer, in order: the write result, or the error a single
    request would have had (404, 409, 422). One refusal never stops the others; a
    retried batch replays each draft's stored result.
    """
    outcomes = backend.upsert_sales_orders([(item.draft, item.idempotency_key) for item in body.orders])
    return SalesOrderBatchResult(results=[
        BatchItemResult(result=outcome) if isinstance(outcome, m.WriteResult)
        else BatchItemResult(error=BatchItemError(status=outcome.status_code, detail=str(outcome)))
        for outcome in outcomes
    ])


@router.get("/v1/sales-orders", response_model=Page[m.SalesOrder])
def list_sales_orders(
    backend: BackendDep,
    customer_po: Annotated[list[str] | None, Query()] = None,
    bc_customer: str | None = None,
    updated_since: datetime | None = None,
    offset: Offset = 0,
    limit: Limit = 500,
) -> Response:
    """Sales orders with status and line allocations."""
    if updated_since is not None and updated_since.tzinfo is None:
        raise HTTPException(status_code=422, detail="updated_since needs a timezone")
    orders = backend.list_sales_orders(customer_pos=customer_po, bc_customer=bc_customer, updated_since=updated_since)
    return page(m.SalesOrder, orders, offset, limit)
