"""po_to_so steps over the store and the BlueCherry gateway (no Airflow).

Each step selects its work by status in the store, so a retried, replayed or backfilled
run re-reads the same facts and does nothing twice:

    850 received --translate--> translated | held | acknowledge_only | superseded
    translated   --load-------> loaded (sales order created or updated)  | load_failed
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select

from amazon_bluecherry.edi.documents import PurchaseOrder
from amazon_bluecherry.edi.parse import DocumentError, parse_transaction
from amazon_bluecherry.edi.reader import iter_transaction_sets
from amazon_bluecherry.flows.exceptions import open_exception
from amazon_bluecherry.flows.mappings import Mappings
from amazon_bluecherry.flows.po_to_so import (
    TranslationPolicy,
    quality_gate,
    sales_order_draft,
    translate_purchase_order,
)
from amazon_bluecherry.store import Store
from amazon_bluecherry.store.models import QualityResult, RawDocument, Transaction

log = logging.getLogger(__name__)


@dataclass
class TranslateResult:
    translated: list[int] = field(default_factory=list)
    held: list[int] = field(default_factory=list)
    acknowledge_only: list[int] = field(default_factory=list)
    superseded: list[int] = field(default_factory=list)
    exception_ids: list[int] = field(default_factory=list)
    quality_result_id: int | None = None


@dataclass
class LoadResult:
    loaded: dict[str, str] = field(default_factory=dict)        # PO -> outcome
    failed: dict[str, str] = field(default_factory=dict)        # PO -> reason
    exception_ids: list[int] = field(default_factory=list)


def load_purchase_orders(transactions: list[Transaction], *, session) -> dict[int, PurchaseOrder | DocumentError]:
    """The typed 850 of each stored transaction, re-read from its raw bytes.

    Each raw file is read once, however many of its POs are asked for; a set that cannot
    be mapped comes back as its ``DocumentError``, so one bad PO never stops the others.
    """
    wanted: dict[int, dict[tuple, int]] = {}
    for transaction in transactions:
        key = (transaction.isa13, transaction.gs06, transaction.st02)
        wanted.setdefault(transaction.raw_document_id, {})[key] = transaction.id
    found: dict[int, PurchaseOrder | DocumentError] = {}
    for raw_document_id, keys in wanted.items():
        raw = session.get(RawDocument, raw_document_id)
        for interchange, group, transaction_set in iter_transaction_sets(raw.content):
            transaction_id = keys.get((interchange.control_number, group.control_number,
                                       transaction_set.control_number))
            if transaction_id is not None and transaction_id not in found:
                try:
                    found[transaction_id] = parse_transaction(transaction_set, interchange, group)
                except DocumentError as exc:
                    found[transaction_id] = exc
        for key, transaction_id in keys.items():
            found.setdefault(transaction_id, DocumentError(f"set {key} not found in raw document {raw_document_id}"))
    return found


def received_purchase_orders(store: Store, *, statuses=("received",), transaction_ids=None,
                             received_before: datetime | None = None, session) -> list[Transaction]:
    query = select(Transaction).where(Transaction.doc_type == "850", Transaction.direction == "in",
                                      Transaction.status.in_(statuses))
    if transaction_ids is not None:
        query = query.where(Transaction.id.in_(list(transaction_ids)))
    if received_before is not None:  # when the file arrived, not when we got round to it
        query = query.join(RawDocument, RawDocument.id == Transaction.raw_document_id).where(
            RawDocument.received_at < received_before)
    return list(session.scalars(query.order_by(Transaction.id)))


def translate_received(
    store: Store,
    mappings: Mappings,
    policy: TranslationPolicy,
    *,
    now: datetime,
    window_hours: float,
    transaction_ids=None,
    run_key: str = "",
) -> TranslateResult:
    """Translate every received 850 into a sales-order draft, gate the batch, keep the verdicts."""
    result = TranslateResult()
    with store.session() as db:
        pending = received_purchase_orders(store, transaction_ids=transaction_ids, session=db)
        if not pending:
            return result
        # Amazon changes a PO by re-sending it: only the newest copy goes on. Older copies
        # (in this batch or from earlier runs) are kept, marked superseded, and hand over
        # what Amazon was already told, so that a rejected line stays rejected.
        newest: dict[str, Transaction] = {}
        for transaction in pending:
            newest[transaction.business_key] = transaction
        for po_number, transaction in newest.items():
            older_copies = db.scalars(select(Transaction).where(
                Transaction.doc_type == "850", Transaction.direction == "in",
                Transaction.business_key == po_number, Transaction.id < transaction.id,
                Transaction.status.not_in(("rejected", "superseded"))).order_by(Transaction.id))
            for older in older_copies:
                _supersede(store, older, transaction, session=db)
                result.superseded.append(older.id)

        purchase_orders = load_purchase_orders(list(newest.values()), session=db)
        orders, transactions = [], []
        for transaction in newest.values():
            # Amazon's clock starts when the PO reached us, not when we translated it.
            received_at = db.get(RawDocument, transaction.raw_document_id).received_at
            store.set_deadline(transaction.id, "poa_due", received_at + timedelta(hours=window_hours),
                               business_key=transaction.business_key, session=db)
            purchase_order = purchase_orders[transaction.id]
            if isinstance(purchase_order, DocumentError):  # accepted by the guide, not mappable: one PO only
                exc = purchase_order
                store.set_transaction_status(transaction.id, "rejected", session=db)
                result.exception_ids.append(open_exception(
                    store, "edi_rejected", f"850 {transaction.business_key} passed validation but cannot be read: "
                    f"{exc}. It was not loaded; Amazon's 997 already accepted it, so raise it with Amazon.",
                    business_key=transaction.business_key, transaction_id=transaction.id,
                    raw_document_id=transaction.raw_document_id, dedupe_key=f"edi_unreadable:{transaction.id}",
                    session=db))
                continue
            orders.append(translate_purchase_order(
                purchase_order, mappings, policy,
                accept_amazon_price=bool((transaction.data or {}).get("accept_amazon_price"))))
            transactions.append(transaction)

        outcome = quality_gate(orders, now.date(), policy)
        quality = QualityResult(suite=outcome.suite, run_key=run_key or now.isoformat(), success=outcome.success,
                                evaluated=outcome.evaluated, failed=len(outcome.failures), results=outcome.to_dict())
        db.add(quality)
        db.flush()
        result.quality_result_id = quality.id

        for transaction, order in zip(transactions, orders, strict=True):
            for issue in order.issues:
                line = f":{issue.line_number}" if issue.line_number is not None else ""
                result.exception_ids.append(open_exception(
                    store, issue.type, issue.message, business_key=order.customer_po,
                    transaction_id=transaction.id, raw_document_id=transaction.raw_document_id,
                    dedupe_key=f"{issue.type}:{transaction.id}{line}", session=db))
            data = dict(transaction.data or {})
            data["translation"] = order.to_dict()
            if order.loadable:
                data["draft"] = sales_order_draft(order).model_dump(mode="json")
                status, bucket = "translated", result.translated
            elif order.held:
                status, bucket = "held", result.held
            else:  # every line rejected: nothing to load, but Amazon still gets an 855 (all IR)
                status, bucket = "acknowledge_only", result.acknowledge_only
            store.set_transaction_status(transaction.id, status, data=data, session=db)
            bucket.append(transaction.id)
    log.info("translated %s, held %s, acknowledge only %s, superseded %s", len(result.translated),
             len(result.held), len(result.acknowledge_only), len(result.superseded))
    return result


def _supersede(store: Store, older: Transaction, newer: Transaction, *, session) -> None:
    from amazon_bluecherry.store.models import Deadline

    if (older.data or {}).get("acknowledgement"):
        data = dict(newer.data or {})
        data["acknowledgement"] = older.data["acknowledgement"]
        newer.data = data
    # Its 24-hour window closes with it: the newer copy carries its own.
    for deadline in session.scalars(select(Deadline).where(Deadline.transaction_id == older.id,
                                                           Deadline.kind == "poa_due", Deadline.met_at.is_(None))):
        deadline.kind = "poa_due:superseded"
    store.link(older.id, newer.id, "superseded_by", session=session)
    store.set_transaction_status(older.id, "superseded", session=session)
    store.record_event("purchase_order.superseded", entity_type="850", entity_id=older.id,
                       payload={"by": newer.id, "po": newer.business_key}, session=session)


def load_translated(store: Store, gateway, *, transaction_ids=None) -> LoadResult:
    """Create or update the BlueCherry sales order of every translated 850.

    The idempotency key is derived from the draft's content: a retry or an identical
    re-send never creates a second order, a changed re-send updates it. One refused PO
    does not stop the others; if BlueCherry is unreachable the POs stay ``translated``
    and the step raises at the end, so that Airflow retries it.
    """
    from amazon_bluecherry.bluecherry.gateway import (
        GatewayError,
        TransientGatewayError,
        derive_idempotency_key,
    )
    from amazon_bluecherry.bluecherry.models import SalesOrderDraft

    result = LoadResult()
    with store.session() as db:
        pending = [(t.id, t.business_key, t.raw_document_id, SalesOrderDraft.model_validate(t.data["draft"]))
                   for t in received_purchase_orders(store, statuses=("translated",),
                                                     transaction_ids=transaction_ids, session=db)]
    transient: dict[str, str] = {}
    for transaction_id, po_number, raw_id, draft in pending:
        key = derive_idempotency_key("sales_order", draft.customer_po, draft.fingerprint())
        try:
            outcome = gateway.upsert_sales_order(draft, idempotency_key=key)
        except TransientGatewayError as exc:
            transient[po_number] = str(exc)
            continue
        except GatewayError as exc:
            result.failed[po_number] = str(exc)
            with store.session() as db:
                store.set_transaction_status(transaction_id, "load_failed", session=db)
                result.exception_ids.append(open_exception(
                    store, "sales_order_load_failed", f"PO {po_number}: BlueCherry refused the sales order: {exc}",
                    business_key=po_number, transaction_id=transaction_id, raw_document_id=raw_id,
                    dedupe_key=f"sales_order_load_failed:{transaction_id}", session=db))
            continue
        result.loaded[po_number] = outcome.outcome
        with store.session() as db:
            _record_sales_order(store, transaction_id, po_number, outcome, session=db)
    if transient:
        raise TransientGatewayError(
            f"BlueCherry was unavailable for {len(transient)} PO(s); they stay translated for the retry: "
            + "; ".join(f"{po}: {reason}" for po, reason in list(transient.items())[:5]))
    log.info("loaded %s sales orders, %s failed", len(result.loaded), len(result.failed))
    return result


def _record_sales_order(store: Store, transaction_id: int, po_number: str, outcome, *, session) -> None:
    sales_order_key = outcome.document_number or po_number
    sales_order_id = session.scalar(select(Transaction.id).where(
        Transaction.doc_type == "sales_order", Transaction.business_key == sales_order_key))
    if sales_order_id is None:
        sales_order_id = store.add_transaction(
            "sales_order", direction="out", partner="BLUECHERRY", business_key=sales_order_key,
            status=outcome.outcome, data={"customer_po": po_number}, session=session)
    store.link(transaction_id, sales_order_id, "sales_order", session=session)
    transaction = session.get(Transaction, transaction_id)
    data = dict(transaction.data or {})
    data["sales_order"] = {"number": outcome.document_number, "outcome": outcome.outcome,
                           "revision": outcome.revision}
    store.set_transaction_status(transaction_id, "loaded", data=data, session=session)
