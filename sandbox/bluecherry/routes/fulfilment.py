"""Shipments with their cartons, their confirmation (ASN sent), and invoices (tag "fulfilment")."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, Response

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

router = APIRouter(dependencies=AUTH, tags=["fulfilment"])


@router.get("/v1/shipments", response_model=Page[m.Shipment])
def list_shipments(
    backend: BackendDep, status: Literal["ready", "confirmed"] | None = None, offset: Offset = 0, limit: Limit = 500
) -> Response:
    """Shipments with cartons (SSCC-18 and contents), carrier, tracking, BOL."""
    return page(m.Shipment, backend.list_shipments(status=status), offset, limit)


@router.get("/v1/shipments/{shipment_id}")
def get_shipment(backend: BackendDep, shipment_id: str) -> m.Shipment:
    return backend.get_shipment(shipment_id)


@router.post("/v1/shipments/{shipment_id}/confirmation", status_code=201)
def confirm_shipment(
    backend: BackendDep,
    shipment_id: str,
    body: m.ShipmentConfirmation,
    idempotency_key: IdempotencyKey,
    response: Response,
) -> m.WriteResult:
    """Mark the shipment's ASN as sent."""
    if body.shipment_id != shipment_id:
        raise HTTPException(status_code=422, detail=f"body is for shipment {body.shipment_id}, path for {shipment_id}")
    return written(backend.confirm_shipment(body, idempotency_key=idempotency_key), response)


@router.get("/v1/invoices", response_model=Page[m.Invoice])
def list_invoices(
    backend: BackendDep,
    customer_po: Annotated[list[str] | None, Query()] = None,
    shipment_id: str | None = None,
    since: date | None = None,
    offset: Offset = 0,
    limit: Limit = 500,
) -> Response:
    invoices = backend.list_invoices(customer_pos=customer_po, shipment_id=shipment_id, since=since)
    return page(m.Invoice, invoices, offset, limit)


@router.get("/v1/invoices/{invoice_number}")
def get_invoice(backend: BackendDep, invoice_number: str) -> m.Invoice:
    return backend.get_invoice(invoice_number)
