"""The emulator's HTTP face: FastAPI routes that only translate to :class:`Backend` calls.

Emulator-defined; map to your BlueCherry installation. ``/v1/...`` are the endpoints the
product's ``RestGateway`` calls (documented in ``docs/bluecherry-openapi.json``);
``/admin/...`` drive the emulator (faults, clock, warehouse actions) and exist only here.
Faults are injected at the edge, by an ASGI middleware, never inside the backend.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import secrets
import threading
from datetime import date, datetime, timedelta
from functools import cache
from typing import Annotated, Any, Generic, Literal, TypeVar

from fastapi import Depends, FastAPI, Header, HTTPException, Query, Request, Response, Security
from fastapi.responses import JSONResponse
from fastapi.security import APIKeyHeader
from pydantic import BaseModel, Field, TypeAdapter

from amazon_bluecherry.bluecherry import models as m
from amazon_bluecherry.bluecherry.rest import API_KEY_HEADER, IDEMPOTENCY_HEADER
from sandbox.bluecherry.backend import Backend
from sandbox.bluecherry.errors import EmulatorError

__all__ = ["FaultInjector", "FaultSettings", "create_app", "gateway_openapi", "openapi_document"]

log = logging.getLogger(__name__)

T = TypeVar("T")
MAX_PAGE = 5000
DESCRIPTION = (
    "Emulator-defined; map to your BlueCherry installation. CGS publishes no BlueCherry API: "
    "these endpoints are the integration layer's own contract, implemented by the emulator in "
    "sandbox/bluecherry. Authenticate with the X-API-Key header; send an Idempotency-Key header "
    "with every POST (the same key with the same body returns the first result; with another body, 409)."
)


COMMON_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"description": "Missing or wrong X-API-Key."},
    404: {"description": "No such document."},
    409: {"description": "Idempotency key reused with another body, or the document can no longer change."},
    429: {"description": "Rate limited: retry after the Retry-After header's seconds."},
    503: {
        "description": "Temporarily unavailable: retry with backoff (writes with the same Idempotency-Key)."
    },
}
_api_key_header = APIKeyHeader(name=API_KEY_HEADER, scheme_name="ApiKey", auto_error=False)
IdempotencyKey = Annotated[str, Header(alias=IDEMPOTENCY_HEADER, min_length=1, max_length=200)]
Offset = Annotated[int, Query(ge=0)]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE)]


class Page(BaseModel, Generic[T]):
    """One page of a list; ask again with ``offset=next_offset`` until it is null."""

    data: list[T]
    next_offset: int | None = None


class Pong(BaseModel):
    status: Literal["ok"] = "ok"
    server_time: datetime


# --- faults --------------------------------------------------------------------------------

FAULT_KINDS = ("error_500", "error_503", "rate_limit", "drop")


class FaultSettings(BaseModel):
    """What the edge does to ``/v1`` requests; switchable at run time via ``PUT /admin/faults``."""

    error_rate: float = Field(default=0.0, ge=0, le=1, description="share of requests that fail")
    kinds: dict[Literal["error_500", "error_503", "rate_limit", "drop"], float] = Field(
        default_factory=lambda: dict.fromkeys(FAULT_KINDS, 1.0), description="relative weight of each fault"
    )
    after_share: float = Field(
        default=0.5,
        ge=0,
        le=1,
        description="share of 5xx and dropped-connection faults injected AFTER the request was applied",
    )
    latency_ms: int = Field(default=0, ge=0, description="added to every /v1 request")
    latency_jitter_ms: int = Field(default=0, ge=0)
    retry_after_seconds: int = Field(default=1, ge=0, description="Retry-After of injected 429s")
    seed: int | None = Field(default=None, description="for repeatable fault sequences")


class FaultInjector:
    """Decides, per request, whether and how to fail; counts what it did."""

    def __init__(self, settings: FaultSettings | None = None):
        self._lock = threading.Lock()
        self.configure(settings or FaultSettings())

    def configure(self, settings: FaultSettings) -> None:
        with self._lock:
            self.settings = settings
            self._random = random.Random(settings.seed)
            self.counts: dict[str, int] = {"requests": 0} | {
                f"{k}_{p}": 0 for k in FAULT_KINDS for p in ("before", "after")
            }

    def decide(self) -> tuple[str, str] | None:
        with self._lock:
            self.counts["requests"] += 1
            settings = self.settings
            if settings.error_rate <= 0 or self._random.random() >= settings.error_rate:
                return None
            kinds = [(k, w) for k, w in settings.kinds.items() if w > 0]
            if not kinds:
                return None
            kind = self._random.choices([k for k, _ in kinds], weights=[w for _, w in kinds])[0]
            # A 429 means "not processed"; 5xx and drops may happen after the work was done.
            phase = (
                "after" if kind != "rate_limit" and self._random.random() < settings.after_share else "before"
            )
            self.counts[f"{kind}_{phase}"] += 1
            return kind, phase

    def latency(self) -> float:
        with self._lock:
            settings = self.settings
            jitter = self._random.uniform(0, settings.latency_jitter_ms) if settings.latency_jitter_ms else 0
            return (settings.latency_ms + jitter) / 1000

    def stats(self) -> dict[str, int]:
        with self._lock:
            return dict(self.counts)


class FaultMiddleware:
    """ASGI middleware: latency, 5xx, 429 with Retry-After, dropped connections on ``/v1``."""

    def __init__(self, app, injector: FaultInjector):
        self.app = app
        self.injector = injector

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or not scope["path"].startswith("/v1/"):
            await self.app(scope, receive, send)
            return
        delay = self.injector.latency()
        if delay:
            await asyncio.sleep(delay)
        decision = self.injector.decide()
        if decision is None:
            await self.app(scope, receive, send)
            return
        kind, phase = decision
        if phase == "after":

            async def swallow(message):  # the work is done, but its answer is lost
                return None

            await self.app(scope, receive, swallow)
        log.info("injected fault %s (%s) on %s %s", kind, phase, scope["method"], scope["path"])
        await self._fail(kind, send)

    async def _fail(self, kind: str, send) -> None:
        if kind == "drop":
            # Promise a body, send part of it, stop: the server closes the connection mid-response.
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", b"4096")],
                }
            )
            await send({"type": "http.response.body", "body": b'{"data": [', "more_body": True})
            return
        status = {"error_500": 500, "error_503": 503, "rate_limit": 429}[kind]
        headers = [(b"content-type", b"application/json")]
        if kind == "rate_limit":
            headers.append((b"retry-after", str(self.injector.settings.retry_after_seconds).encode()))
        body = json.dumps({"detail": f"injected fault: {kind}"}).encode()
        headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


# --- batch bodies --------------------------------------------------------------------------

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


# --- admin bodies --------------------------------------------------------------------------


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


# --- the app -------------------------------------------------------------------------------


def create_app(
    backend: Backend, *, api_key: str, injector: FaultInjector | None = None, files=None
) -> FastAPI:
    """The emulator's FastAPI app around ``backend`` (``files``: a :class:`FileFace` for /admin/files/cycle)."""
    injector = injector or FaultInjector()
    app = FastAPI(
        title="BlueCherry gateway API (emulator-defined)",
        version="1.0.0",
        description=DESCRIPTION,
        responses=COMMON_RESPONSES,
    )
    app.state.backend = backend
    app.state.injector = injector
    app.add_middleware(FaultMiddleware, injector=injector)

    def authenticated(x_api_key: Annotated[str | None, Security(_api_key_header)] = None) -> None:
        if not x_api_key or not secrets.compare_digest(x_api_key.encode(), api_key.encode()):
            raise HTTPException(status_code=401, detail=f"missing or wrong {API_KEY_HEADER}")

    auth = [Depends(authenticated)]

    @app.exception_handler(EmulatorError)
    async def _refused(request: Request, exc: EmulatorError):
        return JSONResponse(status_code=exc.status_code, content={"detail": str(exc)})

    def written(result: m.WriteResult, response: Response) -> m.WriteResult:
        response.status_code = 201 if result.outcome == "created" else 200
        return result

    # --- gateway endpoints -----------------------------------------------------------------

    @app.get("/health", include_in_schema=False)
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/v1/ping", dependencies=auth, tags=["plumbing"])
    def ping() -> Pong:
        """Check reachability and the API key."""
        return Pong(server_time=backend.clock.now())

    @app.get("/v1/items", dependencies=auth, tags=["master data"], response_model=Page[m.Item])
    def list_items(style: str | None = None, offset: Offset = 0, limit: Limit = 500) -> Response:
        """The item master: one row per SKU (style-color-size) with UPC, EAN, ASIN, case pack, cost."""
        return _page(m.Item, backend.list_items(style=style), offset, limit)

    @app.get(
        "/v1/price-lists/{price_list}",
        dependencies=auth,
        tags=["master data"],
        response_model=Page[m.PriceListEntry],
    )
    def get_price_list(price_list: str, offset: Offset = 0, limit: Limit = 500) -> Response:
        return _page(m.PriceListEntry, backend.get_price_list(price_list), offset, limit)

    @app.get("/v1/customers", dependencies=auth, tags=["master data"], response_model=Page[m.Customer])
    def list_customers(offset: Offset = 0, limit: Limit = 500) -> Response:
        """Customers with their stores, DCs and (Amazon) fulfilment centres."""
        return _page(m.Customer, backend.list_customers(), offset, limit)

    @app.post("/v1/sales-orders", dependencies=auth, tags=["sales orders"], status_code=201)
    def upsert_sales_order(
        draft: m.SalesOrderDraft, idempotency_key: IdempotencyKey, response: Response
    ) -> m.WriteResult:
        """Create or update the sales order of (bc_customer, customer_po) to the draft's state."""
        return written(backend.upsert_sales_order(draft, idempotency_key=idempotency_key), response)

    @app.post("/v1/sales-orders/batch", dependencies=auth, tags=["sales orders"])
    def upsert_sales_orders(body: SalesOrderBatch, idempotency_key: IdempotencyKey) -> SalesOrderBatchResult:
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

    @app.get("/v1/sales-orders", dependencies=auth, tags=["sales orders"], response_model=Page[m.SalesOrder])
    def list_sales_orders(
        customer_po: Annotated[list[str] | None, Query()] = None,
        bc_customer: str | None = None,
        updated_since: datetime | None = None,
        offset: Offset = 0,
        limit: Limit = 500,
    ) -> Response:
        """Sales orders with status and line allocations."""
        if updated_since is not None and updated_since.tzinfo is None:
            raise HTTPException(status_code=422, detail="updated_since needs a timezone")
        orders = backend.list_sales_orders(
            customer_pos=customer_po, bc_customer=bc_customer, updated_since=updated_since
        )
        return _page(m.SalesOrder, orders, offset, limit)

    @app.get("/v1/shipments", dependencies=auth, tags=["fulfilment"], response_model=Page[m.Shipment])
    def list_shipments(
        status: Literal["ready", "confirmed"] | None = None, offset: Offset = 0, limit: Limit = 500
    ) -> Response:
        """Shipments with cartons (SSCC-18 and contents), carrier, tracking, BOL."""
        return _page(m.Shipment, backend.list_shipments(status=status), offset, limit)

    @app.get("/v1/shipments/{shipment_id}", dependencies=auth, tags=["fulfilment"])
    def get_shipment(shipment_id: str) -> m.Shipment:
        return backend.get_shipment(shipment_id)

    @app.post(
        "/v1/shipments/{shipment_id}/confirmation", dependencies=auth, tags=["fulfilment"], status_code=201
    )
    def confirm_shipment(
        shipment_id: str, body: m.ShipmentConfirmation, idempotency_key: IdempotencyKey, response: Response
    ) -> m.WriteResult:
        """Mark the shipment's ASN as sent."""
        if body.shipment_id != shipment_id:
            raise HTTPException(
                status_code=422, detail=f"body is for shipment {body.shipment_id}, path for {shipment_id}"
            )
        return written(backend.confirm_shipment(body, idempotency_key=idempotency_key), response)

    @app.get("/v1/invoices", dependencies=auth, tags=["fulfilment"], response_model=Page[m.Invoice])
    def list_invoices(
        customer_po: Annotated[list[str] | None, Query()] = None,
        shipment_id: str | None = None,
        since: date | None = None,
        offset: Offset = 0,
        limit: Limit = 500,
    ) -> Response:
        return _page(
            m.Invoice,
            backend.list_invoices(customer_pos=customer_po, shipment_id=shipment_id, since=since),
            offset,
            limit,
        )

    @app.get("/v1/invoices/{invoice_number}", dependencies=auth, tags=["fulfilment"])
    def get_invoice(invoice_number: str) -> m.Invoice:
        return backend.get_invoice(invoice_number)

    @app.get("/v1/inventory/ats", dependencies=auth, tags=["inventory"], response_model=m.AtsSnapshot)
    def get_ats(warehouse: str | None = None) -> Response:
        """Available to sell (on hand - allocated - on hold) per SKU and warehouse, in one snapshot; incoming
        separate; with the time BlueCherry last finished a batch cycle."""
        return Response(backend.get_ats(warehouse=warehouse).model_dump_json(), media_type="application/json")

    @app.get("/v1/gl/accounts", dependencies=auth, tags=["finance"], response_model=Page[m.GlAccount])
    def list_gl_accounts(offset: Offset = 0, limit: Limit = 500) -> Response:
        return _page(m.GlAccount, backend.list_gl_accounts(), offset, limit)

    @app.post("/v1/gl/journal-entries", dependencies=auth, tags=["finance"], status_code=201)
    def post_journal_entry(
        entry: m.JournalEntry, idempotency_key: IdempotencyKey, response: Response
    ) -> m.WriteResult:
        """Post a balanced journal entry (422 when unbalanced or an account is unknown)."""
        return written(backend.post_journal_entry(entry, idempotency_key=idempotency_key), response)

    @app.get("/v1/gl/ledger-lines", dependencies=auth, tags=["finance"], response_model=Page[m.LedgerLine])
    def list_ledger_lines(
        period: Annotated[str, Query(pattern=r"^\d{4}-\d{2}$")],
        account: str | None = None,
        offset: Offset = 0,
        limit: Limit = 500,
    ) -> Response:
        return _page(m.LedgerLine, backend.list_ledger_lines(period, account=account), offset, limit)

    @app.post("/v1/ar/cash-receipts", dependencies=auth, tags=["finance"], status_code=201)
    def record_cash_receipt(
        receipt: m.CashReceipt, idempotency_key: IdempotencyKey, response: Response
    ) -> m.WriteResult:
        """Record cash applied to invoices, with deductions; the remainder is unapplied cash."""
        return written(backend.record_cash_receipt(receipt, idempotency_key=idempotency_key), response)

    @app.get("/v1/ar/open-items", dependencies=auth, tags=["finance"], response_model=Page[m.ArOpenItem])
    def list_open_ar(bc_customer: str | None = None, offset: Offset = 0, limit: Limit = 500) -> Response:
        return _page(m.ArOpenItem, backend.list_open_ar(bc_customer=bc_customer), offset, limit)

    # --- emulator administration (not part of the gateway contract) -----------------------

    admin = {"dependencies": auth, "tags": ["emulator admin"]}

    @app.get("/admin/faults", **admin)
    def get_faults() -> FaultSettings:
        return injector.settings

    @app.put("/admin/faults", **admin)
    def put_faults(settings: FaultSettings) -> FaultSettings:
        injector.configure(settings)
        log.info("fault injection now %s", settings.model_dump())
        return settings

    @app.delete("/admin/faults", **admin)
    def clear_faults() -> FaultSettings:
        injector.configure(FaultSettings())
        return injector.settings

    @app.get("/admin/summary", **admin)
    def summary() -> Summary:
        return Summary(
            sales_orders=backend.count_sales_orders(),
            shipments_ready=len(backend.list_shipments(status="ready")),
            invoices=len(backend.list_invoices()),
            faults=injector.stats(),
            invariant_problems=backend.check_invariants(),
        )

    @app.post("/admin/clock", **admin)
    def set_clock(body: ClockBody) -> ClockState:
        if body.reset:
            backend.clock.reset()
        if body.now is not None:
            if body.now.tzinfo is None:
                raise HTTPException(status_code=422, detail="now needs a timezone")
            backend.clock.set(body.now, frozen=body.frozen)
        if body.advance_seconds:
            backend.clock.advance(timedelta(seconds=body.advance_seconds))
        return ClockState(now=backend.clock.now())

    @app.post("/admin/warehouse/allocate", **admin)
    def allocate(body: AllocateBody) -> AllocateResult:
        return AllocateResult(lines_allocated=backend.allocate(body.order_number))

    @app.post("/admin/warehouse/pick-pack", **admin)
    def pick_pack(body: PickPackBody) -> PickPackResult:
        result = backend.pick_and_pack(body.order_number)
        return PickPackResult(**result.__dict__)

    @app.post("/admin/warehouse/ship", **admin)
    def ship(body: ShipBody) -> m.Shipment:
        return backend.ship(**body.model_dump())

    @app.post("/admin/warehouse/carrier-pickup", **admin)
    def carrier_pickup(body: CarrierPickupBody) -> m.Shipment:
        return backend.carrier_pickup(body.shipment_id, tracking_number=body.tracking_number,
                                      departed_at=body.departed_at)

    @app.post("/admin/warehouse/invoice", **admin)
    def invoice(body: InvoiceBody) -> list[m.Invoice]:
        return backend.invoice_shipment(body.shipment_id)

    @app.post("/admin/warehouse/fulfil", **admin)
    def fulfil(body: FulfilBody) -> FulfilResult:
        shipment, invoices = backend.fulfil(body.order_number, carrier_scac=body.carrier_scac)
        return FulfilResult(shipment=shipment, invoices=invoices)

    @app.post("/admin/stock", **admin)
    def stock(body: StockBody) -> dict[str, Any]:
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

    @app.post("/admin/files/cycle", **admin)
    def run_cycle() -> dict[str, Any]:
        if files is None:
            raise HTTPException(
                status_code=409, detail="the emulator was started without import/export folders"
            )
        return files.run_cycle().as_dict()

    return app


@cache
def _list_adapter(model: type[BaseModel]) -> TypeAdapter:
    return TypeAdapter(list[model])  # type: ignore[valid-type]


def _page(model: type[BaseModel], rows: list[Any], offset: int, limit: int) -> Response:
    """A :class:`Page` serialized straight from the backend's models (no second validation)."""
    following = offset + limit
    next_offset = str(following).encode() if following < len(rows) else b"null"
    body = (
        b'{"data":'
        + _list_adapter(model).dump_json(rows[offset:following])
        + b',"next_offset":'
        + next_offset
        + b"}"
    )
    return Response(body, media_type="application/json")


def gateway_openapi(app: FastAPI) -> dict[str, Any]:
    """The OpenAPI document of the gateway contract only (``/v1``), without the emulator's admin routes."""
    document = json.loads(json.dumps(app.openapi()))
    document["paths"] = {path: item for path, item in document["paths"].items() if path.startswith("/v1/")}
    # Drop schemas only the admin routes use.
    used: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
                name = ref.rsplit("/", 1)[1]
                if name not in used:
                    used.add(name)
                    walk(document["components"]["schemas"].get(name, {}))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(document["paths"])
    schemas = document.get("components", {}).get("schemas", {})
    document["components"]["schemas"] = {name: schemas[name] for name in sorted(used)}
    return document


def openapi_document() -> str:
    """``docs/bluecherry-openapi.json``: the gateway contract as the app generates it."""
    app = create_app(None, api_key="unused")  # type: ignore[arg-type] - the schema needs no backend
    return json.dumps(gateway_openapi(app), indent=2, ensure_ascii=False) + "\n"
