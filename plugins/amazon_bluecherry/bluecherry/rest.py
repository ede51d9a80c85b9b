"""``RestGateway``: BlueCherry over HTTP, for a site with an API key from CGS.

Emulator-defined; map to your BlueCherry installation. The endpoints are ours (see
``docs/bluecherry-openapi.json``); CGS publishes none. Behaviour that does not depend on
the endpoint names:

- every request has a timeout; 429, 500, 502, 503, 504 and connection errors (refused,
  reset, dropped mid-response, timed out) are retried (tenacity) with exponential backoff
  and jitter, honouring ``Retry-After``;
- a circuit breaker counts consecutive transient failures across all requests of the
  gateway: after ``circuit_breaker_threshold`` of them every call fails at once with
  :class:`BlueCherryUnavailable`, so an outage costs seconds, not hours of PO-by-PO retries;
- sales orders go in batches (``POST /v1/sales-orders/batch``), a few requests in parallel
  (``max_concurrency``), each draft keeping its own idempotency key;
- every write carries an ``Idempotency-Key`` header, so a retried write (the first
  attempt may have been applied before the connection dropped) never applies twice;
- the API key travels in the ``X-API-Key`` header and is never logged or shown in repr.
"""

from __future__ import annotations

import email.utils
import hashlib
import logging
import random
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime
from functools import cache
from typing import Any, Generic, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel, TypeAdapter, ValidationError
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt

from amazon_bluecherry.bluecherry.gateway import (
    AuthenticationFailed,
    BlueCherryGateway,
    BlueCherryUnavailable,
    Conflict,
    GatewayError,
    NotFound,
    Rejected,
    TransientGatewayError,
    derive_idempotency_key,
)
from amazon_bluecherry.bluecherry.models import (
    ArOpenItem,
    AtsSnapshot,
    CashReceipt,
    Customer,
    GlAccount,
    Invoice,
    Item,
    JournalEntry,
    LedgerLine,
    PriceListEntry,
    SalesOrder,
    SalesOrderDraft,
    Shipment,
    ShipmentConfirmation,
    WriteResult,
)

T = TypeVar("T")

__all__ = ["API_KEY_HEADER", "IDEMPOTENCY_HEADER", "RETRY_STATUSES", "CircuitBreaker", "RestGateway"]

log = logging.getLogger(__name__)

API_KEY_HEADER = "X-API-Key"
IDEMPOTENCY_HEADER = "Idempotency-Key"
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# Query strings stay short: PO filters are sent in chunks.
_PO_CHUNK = 50


class CircuitBreaker:
    """Opens after ``threshold`` consecutive transient failures; a success closes the count.

    Shared by every request (and thread) of one gateway. Once open it stays open: the
    task fails fast, and the next task run starts with a new gateway and a closed breaker.
    """

    def __init__(self, threshold: int):
        if threshold < 1:
            raise ValueError("the circuit breaker threshold must be at least 1")
        self.threshold = threshold
        self._lock = threading.Lock()
        self._consecutive = 0
        self._last_reason = ""

    @property
    def is_open(self) -> bool:
        with self._lock:
            return self._consecutive >= self.threshold

    def check(self, where: str) -> None:
        with self._lock:
            if self._consecutive >= self.threshold:
                raise BlueCherryUnavailable(
                    f"BlueCherry unavailable: {self._consecutive} consecutive transient failures "
                    f"(last: {self._last_reason}); circuit open, {where} not attempted"
                )

    def success(self) -> None:
        with self._lock:
            self._consecutive = 0

    def failure(self, reason: str) -> bool:
        """Count one transient failure; True when this one opened the circuit."""
        with self._lock:
            self._consecutive += 1
            self._last_reason = reason
            return self._consecutive == self.threshold


class _Retryable(Exception):
    """One attempt failed in a way worth retrying (a status in RETRY_STATUSES, or the network)."""

    def __init__(self, reason: str, retry_after: float | None = None):
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


class RestGateway(BlueCherryGateway):
    """The gateway over our REST endpoints.

    :param base_url: e.g. ``https://bluecherry.example.com`` (paths start with ``/v1``)
    :param api_key: the key CGS issued for this integration
    :param timeout: seconds per request (connect, read, write, pool)
    :param max_retries: retries after the first attempt
    :param backoff: first retry delay in seconds; doubles per retry, with jitter
    :param max_backoff: cap of one computed delay
    :param max_retry_after: cap of a server's ``Retry-After``
    :param page_size: rows per page of list endpoints
    :param circuit_breaker_threshold: consecutive transient failures (attempts, across all
        requests) after which every call fails at once with :class:`BlueCherryUnavailable`
    :param batch_size: sales-order drafts per batch request
    :param max_concurrency: batch requests in flight at once (bounded: BlueCherry is shared)
    :param transport: an httpx transport (tests)
    """

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: float = 30.0,
        max_retries: int = 5,
        backoff: float = 0.5,
        max_backoff: float = 30.0,
        max_retry_after: float = 120.0,
        page_size: int = 1000,
        circuit_breaker_threshold: int = 6,
        batch_size: int = 100,
        max_concurrency: int = 4,
        transport: httpx.BaseTransport | None = None,
    ):
        if not api_key:
            raise ValueError("an API key is required for the BlueCherry REST gateway")
        self.base_url = base_url.rstrip("/")
        self.max_retries = max_retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.max_retry_after = max_retry_after
        self.page_size = page_size
        self.batch_size = max(1, batch_size)
        self.max_concurrency = max(1, max_concurrency)
        self.breaker = CircuitBreaker(circuit_breaker_threshold)
        self._random = random.Random()
        self._client = httpx.Client(
            base_url=self.base_url,
            timeout=httpx.Timeout(timeout),
            headers={
                API_KEY_HEADER: api_key,
                "Accept": "application/json",
                "User-Agent": "amazon-bluecherry",
            },
            transport=transport,
            # One connection per parallel batch request, kept alive between batches.
            limits=httpx.Limits(max_connections=max(10, self.max_concurrency * 2)),
        )

    def __repr__(self) -> str:
        return f"RestGateway({self.base_url!r}, api_key=<hidden>)"

    def close(self) -> None:
        self._client.close()

    # --- master data -----------------------------------------------------------------------

    def list_items(self, *, style: str | None = None) -> list[Item]:
        return self._list("/v1/items", Item, {"style": style})

    def get_price_list(self, price_list: str) -> list[PriceListEntry]:
        return self._list(f"/v1/price-lists/{_segment(price_list)}", PriceListEntry, {})

    def list_customers(self) -> list[Customer]:
        return self._list("/v1/customers", Customer, {})

    # --- sales orders ----------------------------------------------------------------------

    def upsert_sales_orders(
        self, orders: Sequence[tuple[SalesOrderDraft, str]]
    ) -> list[WriteResult | GatewayError]:
        for draft, key in orders:
            if not key:
                raise ValueError(f"PO {draft.customer_po}: an idempotency key is required")
        batches = [list(orders[start : start + self.batch_size]) for start in range(0, len(orders), self.batch_size)]
        if len(batches) <= 1 or self.max_concurrency == 1:
            answers = [self._upsert_batch(batch) for batch in batches]
        else:
            with ThreadPoolExecutor(self.max_concurrency, thread_name_prefix="bluecherry-batch") as pool:
                answers = list(pool.map(self._upsert_batch, batches))
        # With the circuit open, the drafts not sent carry BlueCherryUnavailable; those that
        # were sent keep their results, so that the caller records them before it stops.
        return [result for answer in answers for result in answer]

    def _upsert_batch(self, batch: list[tuple[SalesOrderDraft, str]]) -> list[WriteResult | GatewayError]:
        """One batch request; a batch that cannot be sent gives its error to every draft in it."""
        body = {"orders": [{"idempotency_key": key, "draft": draft.model_dump(mode="json")} for draft, key in batch]}
        # The batch's own key is derived from its drafts' keys: a retried batch is the same request.
        batch_key = "batch-" + hashlib.sha256("\x1f".join(key for _, key in batch).encode()).hexdigest()[:32]
        try:
            response = self._request("POST", "/v1/sales-orders/batch", json_body=body, idempotency_key=batch_key)
        except GatewayError as exc:
            return [exc] * len(batch)
        answer = self._parse(_BatchAnswer, response.json(), "/v1/sales-orders/batch")
        if len(answer.results) != len(batch):
            error = GatewayError(f"BlueCherry answered {len(answer.results)} results for {len(batch)} sales orders")
            return [error] * len(batch)
        return [item.result if item.result is not None else _item_error(item, draft)
                for item, (draft, _) in zip(answer.results, batch, strict=True)]

    def list_sales_orders(
        self,
        *,
        customer_pos: Sequence[str] | None = None,
        bc_customer: str | None = None,
        updated_since: datetime | None = None,
    ) -> list[SalesOrder]:
        params: dict[str, Any] = {"bc_customer": bc_customer, "updated_since": _instant(updated_since)}
        if customer_pos is None:
            return self._list("/v1/sales-orders", SalesOrder, params)
        orders: list[SalesOrder] = []
        pos = list(dict.fromkeys(customer_pos))
        for start in range(0, len(pos), _PO_CHUNK):
            orders += self._list(
                "/v1/sales-orders", SalesOrder, {**params, "customer_po": pos[start : start + _PO_CHUNK]}
            )
        return orders

    # --- fulfilment ------------------------------------------------------------------------

    def list_shipments_ready(self) -> list[Shipment]:
        return self._list("/v1/shipments", Shipment, {"status": "ready"})

    def get_shipment(self, shipment_id: str) -> Shipment:
        return self._get_one(f"/v1/shipments/{_segment(shipment_id)}", Shipment)

    def confirm_shipment(
        self, shipment_id: str, *, asn_reference: str, idempotency_key: str | None = None
    ) -> WriteResult:
        key = idempotency_key or derive_idempotency_key("shipment-confirmation", shipment_id, asn_reference)
        body = ShipmentConfirmation(shipment_id=shipment_id, asn_reference=asn_reference)
        return self._write(f"/v1/shipments/{_segment(shipment_id)}/confirmation", body, key)

    def list_invoices(
        self,
        *,
        customer_pos: Sequence[str] | None = None,
        shipment_id: str | None = None,
        since: date | None = None,
    ) -> list[Invoice]:
        params: dict[str, Any] = {"shipment_id": shipment_id, "since": since.isoformat() if since else None}
        if customer_pos is None:
            return self._list("/v1/invoices", Invoice, params)
        invoices: list[Invoice] = []
        pos = list(dict.fromkeys(customer_pos))
        for start in range(0, len(pos), _PO_CHUNK):
            invoices += self._list(
                "/v1/invoices", Invoice, {**params, "customer_po": pos[start : start + _PO_CHUNK]}
            )
        return invoices

    def get_invoice(self, invoice_number: str) -> Invoice:
        return self._get_one(f"/v1/invoices/{_segment(invoice_number)}", Invoice)

    # --- inventory -------------------------------------------------------------------------

    def get_ats(self, *, warehouse: str | None = None) -> AtsSnapshot:
        # One response, not pages: the figures must come from one consistent snapshot.
        return self._get_one("/v1/inventory/ats", AtsSnapshot, {"warehouse": warehouse})

    # --- finance ---------------------------------------------------------------------------

    def list_gl_accounts(self) -> list[GlAccount]:
        return self._list("/v1/gl/accounts", GlAccount, {})

    def post_journal_entry(self, entry: JournalEntry, *, idempotency_key: str) -> WriteResult:
        if not idempotency_key:
            raise ValueError(f"journal {entry.reference}: an idempotency key is required")
        return self._write("/v1/gl/journal-entries", entry, idempotency_key)

    def record_cash_receipt(self, receipt: CashReceipt, *, idempotency_key: str) -> WriteResult:
        if not idempotency_key:
            raise ValueError(f"receipt {receipt.receipt_number}: an idempotency key is required")
        return self._write("/v1/ar/cash-receipts", receipt, idempotency_key)

    def list_open_ar(self, *, bc_customer: str | None = None) -> list[ArOpenItem]:
        return self._list("/v1/ar/open-items", ArOpenItem, {"bc_customer": bc_customer})

    def list_ledger_lines(self, period: str, *, account: str | None = None) -> list[LedgerLine]:
        return self._list("/v1/gl/ledger-lines", LedgerLine, {"period": period, "account": account})

    # --- plumbing --------------------------------------------------------------------------

    def ping(self) -> None:
        self._request("GET", "/v1/ping")

    # --- HTTP ------------------------------------------------------------------------------

    def _write(self, path: str, body: BaseModel, idempotency_key: str) -> WriteResult:
        response = self._request(
            "POST", path, json_body=body.model_dump(mode="json"), idempotency_key=idempotency_key
        )
        return self._parse(WriteResult, response.json(), path)

    def _get_one(self, path: str, model: type[BaseModel], params: dict[str, Any] | None = None):
        response = self._request("GET", path, params=_clean(params or {}))
        try:
            return model.model_validate_json(response.content)
        except ValidationError as exc:
            raise GatewayError(
                f"BlueCherry GET {path} returned data that does not fit {model.__name__}: {exc}"
            ) from exc

    def _list(self, path: str, model: type[BaseModel], params: dict[str, Any]) -> list[Any]:
        """Every page of a list endpoint (``{"data": [...], "next_offset": n | null}``)."""
        adapter = _page_adapter(model)
        rows: list[Any] = []
        offset: int | None = 0
        while offset is not None:
            response = self._request(
                "GET", path, params={**_clean(params), "offset": offset, "limit": self.page_size}
            )
            try:
                page = adapter.validate_json(response.content)
            except ValidationError as exc:
                raise GatewayError(
                    f"BlueCherry GET {path} returned a page that does not fit {model.__name__}: {exc}"
                ) from exc
            rows += page.data
            offset = page.next_offset
        return rows

    @staticmethod
    def _parse(model: type[BaseModel], payload: Any, path: str):
        try:
            return model.model_validate(payload)
        except ValidationError as exc:
            raise GatewayError(
                f"BlueCherry {path} returned data that does not fit {model.__name__}: {exc}"
            ) from exc

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json_body: Any = None,
        idempotency_key: str | None = None,
    ) -> httpx.Response:
        headers = {IDEMPOTENCY_HEADER: idempotency_key} if idempotency_key else {}
        if method != "GET" and not idempotency_key:
            raise ValueError(f"{method} {path} without an idempotency key could apply twice on retry")

        def attempt() -> httpx.Response:
            self.breaker.check(f"{method} {path}")
            try:
                response = self._client.request(method, path, params=params, json=json_body, headers=headers)
            except httpx.TransportError as exc:
                self._failed(method, path, f"{type(exc).__name__}: {exc}")
                raise _Retryable(f"{type(exc).__name__}: {exc}") from exc
            if response.status_code in RETRY_STATUSES:
                self._failed(method, path, f"HTTP {response.status_code}")
                raise _Retryable(f"HTTP {response.status_code}", _retry_after_seconds(response))
            self.breaker.success()
            return self._raise_for_status(method, path, response)

        retrying = Retrying(
            stop=stop_after_attempt(self.max_retries + 1),
            wait=self._wait,
            retry=retry_if_exception_type(_Retryable),
            before_sleep=lambda state: log.warning(
                "BlueCherry %s %s failed (%s); retry %d of %d in %.2f s", method, path,
                state.outcome.exception().reason, state.attempt_number, self.max_retries,
                state.next_action.sleep if state.next_action else 0.0),
            reraise=True,
        )
        try:
            return retrying(attempt)
        except _Retryable as exc:
            kind = BlueCherryUnavailable if self.breaker.is_open else TransientGatewayError
            raise kind(
                f"BlueCherry {method} {path} failed {self.max_retries + 1} times; last: {exc.reason}"
                + ("; circuit open, no further calls" if kind is BlueCherryUnavailable else "")
            ) from exc.__cause__

    def _failed(self, method: str, path: str, reason: str) -> None:
        if self.breaker.failure(reason):
            log.error("BlueCherry %s %s: %d consecutive transient failures (last: %s); circuit open, "
                      "no further calls in this run", method, path, self.breaker.threshold, reason)

    def _wait(self, state: RetryCallState) -> float:
        """The server's ``Retry-After`` when it sent one, else exponential backoff with jitter."""
        failure = state.outcome.exception() if state.outcome else None
        if isinstance(failure, _Retryable) and failure.retry_after is not None:
            return min(failure.retry_after, self.max_retry_after) + self._random.uniform(0, 0.05)
        return self._backoff_delay(state.attempt_number - 1)

    def _backoff_delay(self, attempt: int) -> float:
        ceiling = min(self.max_backoff, self.backoff * (2**attempt))
        return ceiling / 2 + self._random.uniform(0, ceiling / 2)

    @staticmethod
    def _raise_for_status(method: str, path: str, response: httpx.Response) -> httpx.Response:
        status = response.status_code
        if status < 400:
            return response
        detail = _detail(response)
        where = f"BlueCherry {method} {path}"
        if status in (401, 403):
            raise AuthenticationFailed(f"{where}: HTTP {status}, the API key was refused ({detail})")
        if status == 404:
            raise NotFound(f"{where}: {detail}")
        if status == 409:
            raise Conflict(f"{where}: {detail}")
        if status in (400, 422):
            raise Rejected(f"{where}: {detail}")
        raise GatewayError(f"{where}: HTTP {status}: {detail}")


class _Page(BaseModel, Generic[T]):
    data: list[T]
    next_offset: int | None = None


class _BatchError(BaseModel):
    status: int
    detail: str


class _BatchItem(BaseModel):
    result: WriteResult | None = None
    error: _BatchError | None = None


class _BatchAnswer(BaseModel):
    results: list[_BatchItem]


def _item_error(item: _BatchItem, draft: SalesOrderDraft) -> GatewayError:
    """A refused draft of a batch as the error a single request would have raised."""
    where = f"BlueCherry POST /v1/sales-orders/batch (PO {draft.customer_po})"
    error = item.error or _BatchError(status=500, detail="no result and no error")
    kind = {404: NotFound, 409: Conflict, 422: Rejected, 400: Rejected}.get(error.status, GatewayError)
    return kind(f"{where}: {error.detail}")


@cache
def _page_adapter(model: type[BaseModel]) -> TypeAdapter:
    return TypeAdapter(_Page[model])  # type: ignore[valid-type]


def _detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:300] or response.reason_phrase
    detail = body.get("detail", body) if isinstance(body, dict) else body
    return str(detail)[:500]


def _retry_after_seconds(response: httpx.Response) -> float | None:
    """``Retry-After`` as seconds: a number, or an HTTP date."""
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _segment(value: str) -> str:
    return quote(value, safe="")


def _instant(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError(f"updated_since must be timezone-aware, got {value!r}")
    return value.isoformat()


def _clean(params: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in params.items() if value is not None}
