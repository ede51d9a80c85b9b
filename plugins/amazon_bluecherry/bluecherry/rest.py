"""``RestGateway``: BlueCherry over HTTP, for a site with an API key from CGS.

Emulator-defined; map to your BlueCherry installation. The endpoints are ours (see
``docs/bluecherry-openapi.json``); CGS publishes none. Behaviour that does not depend on
the endpoint names:

- every request has a timeout; 429, 500, 502, 503, 504 and connection errors (refused,
  reset, dropped mid-response, timed out) are retried with exponential backoff and
  jitter, honouring ``Retry-After``;
- every write carries an ``Idempotency-Key`` header, so a retried write (the first
  attempt may have been applied before the connection dropped) never applies twice;
- the API key travels in the ``X-API-Key`` header and is never logged or shown in repr.
"""

from __future__ import annotations

import email.utils
import logging
import random
import time
from collections.abc import Sequence
from datetime import UTC, date, datetime
from functools import cache
from typing import Any, Generic, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel, TypeAdapter, ValidationError

from amazon_bluecherry.bluecherry.gateway import (
    AuthenticationFailed,
    BlueCherryGateway,
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

__all__ = ["API_KEY_HEADER", "IDEMPOTENCY_HEADER", "RETRY_STATUSES", "RestGateway"]

log = logging.getLogger(__name__)

API_KEY_HEADER = "X-API-Key"
IDEMPOTENCY_HEADER = "Idempotency-Key"
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# Query strings stay short: PO filters are sent in chunks.
_PO_CHUNK = 50


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

    def upsert_sales_orders(self, orders: Sequence[tuple[SalesOrderDraft, str]]) -> list[WriteResult]:
        results = []
        for draft, key in orders:
            if not key:
                raise ValueError(f"PO {draft.customer_po}: an idempotency key is required")
            results.append(self._write("/v1/sales-orders", draft, key))
        return results

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
        attempts = self.max_retries + 1
        last_error: Exception | None = None
        reason = ""
        for attempt in range(attempts):
            try:
                response = self._client.request(method, path, params=params, json=json_body, headers=headers)
            except httpx.TransportError as exc:
                last_error, reason = exc, f"{type(exc).__name__}: {exc}"
                delay = self._backoff_delay(attempt)
            else:
                if response.status_code not in RETRY_STATUSES:
                    return self._raise_for_status(method, path, response)
                last_error, reason = None, f"HTTP {response.status_code}"
                retry_after = _retry_after_seconds(response)
                delay = (
                    min(retry_after, self.max_retry_after) + self._random.uniform(0, 0.05)
                    if retry_after is not None
                    else self._backoff_delay(attempt)
                )
            if attempt + 1 == attempts:
                break
            log.warning(
                "BlueCherry %s %s failed (%s); retry %d of %d in %.2f s",
                method,
                path,
                reason,
                attempt + 1,
                self.max_retries,
                delay,
            )
            time.sleep(delay)
        raise TransientGatewayError(
            f"BlueCherry {method} {path} failed {attempts} times; last: {reason}"
        ) from last_error

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
