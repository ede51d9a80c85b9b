"""``BlueCherryGateway``: the one interface the flows use to talk to BlueCherry.

Two adapters implement it: :class:`~amazon_bluecherry.bluecherry.rest.RestGateway`
(HTTP endpoints defined by us, for a site with a CGS API key) and
:class:`~amazon_bluecherry.bluecherry.flatfile.FlatFileGateway` (import/export folders,
which is how most BlueCherry sites exchange data). Both pass the same contract tests
against the emulator in ``sandbox/bluecherry``.

Writes carry an idempotency key: the same key with the same content never applies twice,
the same key with other content is a :class:`Conflict`. Derive keys from the business
document (for example the raw 850's hash), so that an Airflow retry reuses them.
"""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from collections.abc import Sequence
from datetime import date, datetime

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
    WriteResult,
)

__all__ = [
    "AuthenticationFailed",
    "BlueCherryGateway",
    "BlueCherryUnavailable",
    "Conflict",
    "GatewayError",
    "NotFound",
    "PartialExportError",
    "Rejected",
    "StaleExportError",
    "TransientGatewayError",
    "derive_idempotency_key",
]


class GatewayError(Exception):
    """Base of every error the gateway raises; the message says what and where."""


class TransientGatewayError(GatewayError):
    """Worth retrying later: network trouble, 5xx or 429 after all retries, an ERP batch not run yet."""


class BlueCherryUnavailable(TransientGatewayError):
    """The circuit breaker is open: K consecutive transient failures, so no more calls are
    made until the next task run (fail fast instead of retrying PO by PO for hours)."""


class StaleExportError(TransientGatewayError):
    """An export is missing, too old to trust, or incomplete; wait for the next ERP cycle."""


class PartialExportError(StaleExportError):
    """An export's data file disagrees with its manifest (row count or checksum)."""


class NotFound(GatewayError):
    """The ERP has no such document."""


class Conflict(GatewayError):
    """The write contradicts the ERP's state (key reused with other content, order in fulfilment)."""


class Rejected(GatewayError):
    """The ERP refused the content (unbalanced journal, unknown account, over-applied cash ...)."""


class AuthenticationFailed(GatewayError):
    """The ERP refused our credentials (check the connection's API key)."""


def derive_idempotency_key(kind: str, *parts: object) -> str:
    """A deterministic key from business identifiers: the same inputs give the same key."""
    text = "\x1f".join([kind, *(str(part) for part in parts)])
    return f"{kind}-{hashlib.sha256(text.encode()).hexdigest()[:32]}"


class BlueCherryGateway(ABC):
    """Operations the five flows need, independent of the transport.

    Reads return the models of :mod:`amazon_bluecherry.bluecherry.models`; writes return
    a :class:`WriteResult`. Errors are :class:`GatewayError` subclasses.
    """

    # --- master data ---------------------------------------------------------------------

    @abstractmethod
    def list_items(self, *, style: str | None = None) -> list[Item]:
        """The item master (every SKU), optionally of one style."""

    @abstractmethod
    def get_price_list(self, price_list: str) -> list[PriceListEntry]:
        """Prices of one price list (e.g. ``AMAZON``); :class:`NotFound` if it does not exist."""

    @abstractmethod
    def list_customers(self) -> list[Customer]:
        """Customers with their stores, DCs and fulfilment centres."""

    # --- po_to_so ------------------------------------------------------------------------

    def upsert_sales_order(self, draft: SalesOrderDraft, *, idempotency_key: str) -> WriteResult:
        """Create the sales order of ``draft.customer_po`` or bring it to the draft's state."""
        (result,) = self.upsert_sales_orders([(draft, idempotency_key)])
        if isinstance(result, GatewayError):
            raise result
        return result

    @abstractmethod
    def upsert_sales_orders(
        self, orders: Sequence[tuple[SalesOrderDraft, str]]
    ) -> list[WriteResult | GatewayError]:
        """Several drafts, each with its idempotency key; results in the same order.

        One refused draft does not stop the others: its place holds the :class:`GatewayError`
        (``Rejected``, ``Conflict``, or a ``TransientGatewayError`` when it could not be
        sent; :class:`BlueCherryUnavailable` when the circuit opened before it was sent).
        """

    # --- so_to_poa -----------------------------------------------------------------------

    def get_sales_order(self, customer_po: str, *, bc_customer: str | None = None) -> SalesOrder:
        """The sales order of one customer PO, with line allocations; :class:`NotFound` if none."""
        found = self.list_sales_orders(customer_pos=[customer_po], bc_customer=bc_customer)
        if not found:
            raise NotFound(f"no sales order for customer PO {customer_po!r}")
        if len(found) > 1:
            customers = sorted(order.bc_customer for order in found)
            raise Conflict(
                f"customer PO {customer_po!r} exists for several customers {customers}; give bc_customer"
            )
        return found[0]

    @abstractmethod
    def list_sales_orders(
        self,
        *,
        customer_pos: Sequence[str] | None = None,
        bc_customer: str | None = None,
        updated_since: datetime | None = None,
    ) -> list[SalesOrder]:
        """Sales orders with status and allocations, filtered by PO, customer, change time."""

    # --- fulfilment_to_asn ---------------------------------------------------------------

    @abstractmethod
    def list_shipments_ready(self) -> list[Shipment]:
        """Shipments that left the warehouse and whose ASN is not yet confirmed."""

    @abstractmethod
    def get_shipment(self, shipment_id: str) -> Shipment:
        """One shipment with cartons; :class:`NotFound` if unknown."""

    @abstractmethod
    def confirm_shipment(
        self, shipment_id: str, *, asn_reference: str, idempotency_key: str | None = None
    ) -> WriteResult:
        """Mark a shipment's ASN as sent (``asn_reference``: e.g. our 856 control number)."""

    @abstractmethod
    def list_invoices(
        self,
        *,
        customer_pos: Sequence[str] | None = None,
        shipment_id: str | None = None,
        since: date | None = None,
    ) -> list[Invoice]:
        """Invoices (number, date, PO, lines, totals, terms), filtered."""

    def get_invoice(self, invoice_number: str) -> Invoice:
        """One invoice; :class:`NotFound` if unknown."""
        for invoice in self.list_invoices():
            if invoice.invoice_number == invoice_number:
                return invoice
        raise NotFound(f"no invoice {invoice_number!r}")

    # --- stock_to_846 --------------------------------------------------------------------

    @abstractmethod
    def get_ats(self, *, warehouse: str | None = None) -> AtsSnapshot:
        """Available to sell per SKU and warehouse, with the time the ERP took the snapshot."""

    def get_ats_table(self, *, warehouses: Sequence[str] | None = None):
        """The ATS snapshot as columns (:class:`~amazon_bluecherry.bluecherry.ats.AtsTable`) for
        ``warehouses`` (all when None). Adapters with a faster path override this."""
        from amazon_bluecherry.bluecherry.ats import AtsTable

        return AtsTable.from_snapshot(self.get_ats(), source=f"{type(self).__name__}.get_ats").only(warehouses)

    # --- remit_to_journals ---------------------------------------------------------------

    @abstractmethod
    def list_gl_accounts(self) -> list[GlAccount]:
        """The chart of accounts."""

    @abstractmethod
    def post_journal_entry(self, entry: JournalEntry, *, idempotency_key: str) -> WriteResult:
        """Post a balanced GL journal entry once."""

    @abstractmethod
    def record_cash_receipt(self, receipt: CashReceipt, *, idempotency_key: str) -> WriteResult:
        """Record a cash receipt applied to invoices (with deductions) once."""

    @abstractmethod
    def list_open_ar(self, *, bc_customer: str | None = None) -> list[ArOpenItem]:
        """Open receivables (invoices with a balance, unapplied cash)."""

    @abstractmethod
    def list_ledger_lines(self, period: str, *, account: str | None = None) -> list[LedgerLine]:
        """GL lines of one period (``YYYY-MM``), for reconciliation."""

    # --- plumbing ------------------------------------------------------------------------

    @abstractmethod
    def ping(self) -> None:
        """Raise a :class:`GatewayError` unless the ERP side is reachable."""

    def close(self) -> None:  # noqa: B027 - a no-op for adapters that hold no connection
        """Release connections; the gateway is unusable afterwards."""

    def __enter__(self):
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()
