"""Emulator administration (tag "emulator admin"): faults, clock, warehouse actions, stock, file cycles.

Not part of the gateway contract (left out of docs/bluecherry-openapi.json); exists only here.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, Field

from amazon_bluecherry.bluecherry import models as m
from sandbox.bluecherry.faults import FaultInjector, FaultSettings
from sandbox.bluecherry.routes.common import AUTH, BackendDep

log = logging.getLogger("sandbox.bluecherry.app")

router = APIRouter(dependencies=AUTH, tags=["emulator admin"])


def _injector(request: Request) -> FaultInjector:
    return request.app.state.injector


class ClockBody(BaseModel):
    now: datetime | None = Field(default=None, description="set the emulator's time (timezone-aware)")
    advance_seconds: float | None = Field(default=None, description="move the time forward")
    frozen: bool = False
    reset: bool = False


class ClockState(BaseModel):
    now: datetime


class AllocateBody(BaseModel):
    order_number: str | None = None


class AllocateResult(BaseModel):
    lines_allocated: int


class PickPackBody(BaseModel):
    order_number: str


class PickPackResult(BaseModel):
    pick_ticket: str
    order_number: str
    cartons: list[str]
    eaches: int


class ShipBody(BaseModel):
    order_numbers: list[str] = Field(min_length=1)
    carrier_scac: str = "UPSN"
    tracking_number: str | None = None
    bol_number: str | None = None
    master_bol: str | None = None
    ship_date: date | None = None
    departed_at: datetime | None = None
    small_parcel: bool = False
    picked_up: bool = True
    palletize: bool = False


class CarrierPickupBody(BaseModel):
    shipment_id: str
    tracking_number: str | None = Field(default=None, description="None: the carrier's usual shape; '': unknown")
    departed_at: datetime | None = None


class InvoiceBody(BaseModel):
    shipment_id: str


class FulfilBody(BaseModel):
    order_number: str
    carrier_scac: str = "UPSN"


class FulfilResult(BaseModel):
    shipment: m.Shipment
    invoices: list[m.Invoice]


class StockBody(BaseModel):
    sku: str
    warehouse: str
    receive_qty: int | None = Field(default=None, gt=0, description="incoming stock arrives")
    on_hand: int | None = Field(default=None, ge=0)
    on_hold: int | None = Field(default=None, ge=0, description="units on a quality or damage hold")
    incoming: int | None = Field(default=None, ge=0)
    incoming_date: date | None = None


class Summary(BaseModel):
    sales_orders: int
    shipments_ready: int
    invoices: int
    faults: dict[str, int]
    invariant_problems: list[str]


@router.get("/admin/faults")
def get_faults(request: Request) -> FaultSettings:
    return _injector(request).settings


@router.put("/admin/faults")
def put_faults(request: Request, settings: FaultSettings) -> FaultSettings:
    _injector(request).configure(settings)
    log.info("fault injection now %s", settings.model_dump())
    return settings


@router.delete("/admin/faults")
def clear_faults(request: Request) -> FaultSettings:
    injector = _injector(request)
    injector.configure(FaultSettings())
    return injector.settings


@router.get("/admin/summary")
def summary(request: Request, backend: BackendDep) -> Summary:
    return Summary(
        sales_orders=backend.count_sales_orders(),
        shipments_ready=len(backend.list_shipments(status="ready")),
        invoices=len(backend.list_invoices()),
        faults=_injector(request).stats(),
        invariant_problems=backend.check_invariants(),
    )


@router.post("/admin/clock")
def set_clock(backend: BackendDep, body: ClockBody) -> ClockState:
    if body.reset:
        backend.clock.reset()
    if body.now is not None:
        if body.now.tzinfo is None:
            raise HTTPException(status_code=422, detail="now needs a timezone")
        backend.clock.set(body.now, frozen=body.frozen)
    if body.advance_seconds:
        backend.clock.advance(timedelta(seconds=body.advance_seconds))
    return ClockState(now=backend.clock.now())


@router.post("/admin/warehouse/allocate")
def allocate(backend: BackendDep, body: AllocateBody) -> AllocateResult:
    return AllocateResult(lines_allocated=backend.allocate(body.order_number))


@router.post("/admin/warehouse/pick-pack")
def pick_pack(backend: BackendDep, body: PickPackBody) -> PickPackResult:
    result = backend.pick_and_pack(body.order_number)
    return PickPackResult(**result.__dict__)


@router.post("/admin/warehouse/ship")
def ship(backend: BackendDep, body: ShipBody) -> m.Shipment:
    return backend.ship(**body.model_dump())


@router.post("/admin/warehouse/carrier-pickup")
def carrier_pickup(backend: BackendDep, body: CarrierPickupBody) -> m.Shipment:
    return backend.carrier_pickup(body.shipment_id, tracking_number=body.tracking_number,
                                  departed_at=body.departed_at)


@router.post("/admin/warehouse/invoice")
def invoice(backend: BackendDep, body: InvoiceBody) -> list[m.Invoice]:
    return backend.invoice_shipment(body.shipment_id)


@router.post("/admin/warehouse/fulfil")
def fulfil(backend: BackendDep, body: FulfilBody) -> FulfilResult:
    shipment, invoices = backend.fulfil(body.order_number, carrier_scac=body.carrier_scac)
    return FulfilResult(shipment=shipment, invoices=invoices)


@router.post("/admin/stock")
def stock(backend: BackendDep, body: StockBody) -> dict[str, Any]:
    if body.receive_qty is not None:
        backend.receive_stock(body.sku, body.warehouse, body.receive_qty)
    if body.on_hand is not None or body.on_hold is not None or body.incoming is not None:
        backend.set_stock(
            body.sku,
            body.warehouse,
            on_hand=body.on_hand,
            on_hold=body.on_hold,
            incoming=body.incoming,
            incoming_date=body.incoming_date,
        )
    rows = [r for r in backend.get_ats(warehouse=body.warehouse).rows if r.sku == body.sku]
    return rows[0].model_dump(mode="json") if rows else {}


@router.post("/admin/files/cycle")
def run_cycle(request: Request) -> dict[str, Any]:
    files = request.app.state.files
    if files is None:
        raise HTTPException(status_code=409, detail="the emulator was started without import/export folders")
    return files.run_cycle().as_dict()
