"""po_to_so steps over the store and the BlueCherry gateway (no Airflow).

Each step selects its work by status in the store, so a retried, replayed or backfilled
run re-reads the same facts and does nothing twice:

    850 received   --translate--> awaiting_check | held | acknowledge_only | superseded
    awaiting_check --GX gate----> translated | held (quality_check_failed)
    translated     --load-------> loaded (sales order created or updated)  | load_failed
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
    TranslatedOrder,
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
    translated: list[int] = field(default_factory=list)         # awaiting the quality gate
    held: list[int] = field(default_factory=list)
    acknowledge_only: list[int] = field(default_factory=list)
    superseded: list[int] = field(default_factory=list)
    exception_ids: list[int] = field(default_factory=list)


@dataclass
class CheckResult:
    passed: list[int] = field(default_factory=list)             # translated: ready to load
    held: list[int] = field(default_factory=list)
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
) -> TranslateResult:
    """Translate every received 850 into a sales-order draft that waits for the quality gate."""
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
        received = received_times(db, newest.values())
        # Amazon's clock starts when the PO reached us, not when we translated it.
        store.set_deadlines([(t.id, "poa_due", received[t.raw_document_id] + timedelta(hours=window_hours),
                              t.business_key) for t in newest.values()], session=db)
        orders, transactions = [], []
        for transaction in newest.values():
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

        changes = []
        for transaction, order in zip(transactions, orders, strict=True):
            _open_issues(store, transaction, order.issues, result.exception_ids, session=db)
            data = dict(transaction.data or {})
            data["translation"] = order.to_dict()
            if order.loadable:
                data["draft"] = sales_order_draft(order).model_dump(mode="json")
                status, bucket = "awaiting_check", result.translated
            elif order.held:
                status, bucket = "held", result.held
            else:  # every line rejected: nothing to load, but Amazon still gets an 855 (all IR)
                status, bucket = "acknowledge_only", result.acknowledge_only
            changes.append((transaction.id, status, data))
            bucket.append(transaction.id)
        store.set_transaction_statuses(changes, session=db)
    log.info("translated %s, held %s, acknowledge only %s, superseded %s", len(result.translated),
             len(result.held), len(result.acknowledge_only), len(result.superseded))
    return result


def check_translated(store: Store, policy: TranslationPolicy, *, now: datetime, run_key: str = "",
                     transaction_ids=None) -> CheckResult:
    """The po_to_so data-quality gate: one GX checkpoint over every line awaiting it.

    A PO an expectation names is held (``quality_check_failed``, its draft withdrawn);
    the others become ``translated``, ready to load. The outcome is kept in the store.
    """
    result = CheckResult()
    with store.session() as db:
        pending = received_purchase_orders(store, statuses=("awaiting_check",), transaction_ids=transaction_ids,
                                           session=db)
        if not pending:
            return result
        orders = [TranslatedOrder.from_dict(transaction.data["translation"]) for transaction in pending]
        issues_before = [len(order.issues) for order in orders]
        outcome = quality_gate(orders, now.date(), policy)
        quality = QualityResult(suite=outcome.suite, run_key=run_key or now.isoformat(), success=outcome.success,
                                evaluated=outcome.evaluated, failed=len(outcome.failures), results=outcome.to_dict())
        db.add(quality)
        db.flush()
        result.quality_result_id = quality.id
        changes = []
        for transaction, order, known in zip(pending, orders, issues_before, strict=True):
            if not order.held:
                changes.append((transaction.id, "translated", None))
                result.passed.append(transaction.id)
                continue
            _open_issues(store, transaction, order.issues[known:], result.exception_ids, session=db)
            data = {key: value for key, value in (transaction.data or {}).items() if key != "draft"}
            data["translation"] = order.to_dict()
            changes.append((transaction.id, "held", data))
            result.held.append(transaction.id)
        store.set_transaction_statuses(changes, session=db)
    log.info("quality gate: %s passed, %s held", len(result.passed), len(result.held))
    return result


def _open_issues(store: Store, transaction: Transaction, issues, exception_ids: list[int], *, session) -> None:
    for issue in issues:
        line = f":{issue.line_number}" if issue.line_number is not None else ""
        exception_ids.append(open_exception(
            store, issue.type, issue.message, business_key=transaction.business_key,
            transaction_id=transaction.id, raw_document_id=transaction.raw_document_id,
            dedupe_key=f"{issue.type}:{transaction.id}{line}", session=session))


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


def load_translated(store: Store, gateway, *, transaction_ids=None, chunk_size: int = 1000,
                    run_key: str = "") -> LoadResult:
    """Create or update the BlueCherry sales order of every translated 850.

    The idempotency key is derived from the draft's content: a retry or an identical
    re-send never creates a second order, a changed re-send updates it. Drafts go to the
    gateway ``chunk_size`` at a time (it batches and parallelises them), and each chunk's
    outcomes are recorded in one store transaction. One refused PO does not stop the
    others. If BlueCherry is unreachable the POs stay ``translated`` and the step raises at
    the end, so that Airflow retries it; if the gateway's circuit breaker opens, the step
    stops at once with :class:`BlueCherryUnavailable` and one ``bluecherry_unavailable``
    exception, and the next run resumes with the POs still ``translated``.
    """
    from amazon_bluecherry.bluecherry.gateway import (
        BlueCherryUnavailable,
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
    for start in range(0, len(pending), chunk_size):
        chunk = pending[start : start + chunk_size]
        try:
            outcomes = gateway.upsert_sales_orders(
                [(draft, derive_idempotency_key("sales_order", draft.customer_po, draft.fingerprint()))
                 for _, _, _, draft in chunk])
        except BlueCherryUnavailable as exc:  # an adapter that raises rather than answering per draft
            outcomes = [exc] * len(chunk)
        with store.session() as db:
            written = []
            for (transaction_id, po_number, raw_id, _), outcome in zip(chunk, outcomes, strict=True):
                if isinstance(outcome, TransientGatewayError):
                    transient[po_number] = str(outcome)
                elif isinstance(outcome, GatewayError):
                    result.failed[po_number] = str(outcome)
                    store.set_transaction_status(transaction_id, "load_failed", session=db)
                    result.exception_ids.append(open_exception(
                        store, "sales_order_load_failed",
                        f"PO {po_number}: BlueCherry refused the sales order: {outcome}",
                        business_key=po_number, transaction_id=transaction_id, raw_document_id=raw_id,
                        dedupe_key=f"sales_order_load_failed:{transaction_id}", session=db))
                else:
                    result.loaded[po_number] = outcome.outcome
                    written.append((transaction_id, po_number, outcome))
            _record_sales_orders(store, written, session=db)
        unavailable = next((o for o in outcomes if isinstance(o, BlueCherryUnavailable)), None)
        if unavailable is not None:  # the circuit opened: stop here, what was loaded is recorded
            waiting = (sum(1 for o in outcomes if isinstance(o, TransientGatewayError))
                       + len(pending) - start - len(chunk))
            message = (f"BlueCherry is unavailable: {unavailable}. {len(result.loaded)} sales order(s) loaded in "
                       f"this run; {waiting} PO(s) stay translated and the next po_to_so run resumes them.")
            open_exception(store, "bluecherry_unavailable", message,
                           dedupe_key=f"bluecherry_unavailable:{run_key or datetime.now().isoformat()}"[:200])
            raise BlueCherryUnavailable(message) from unavailable
    if transient:
        raise TransientGatewayError(
            f"BlueCherry was unavailable for {len(transient)} PO(s); they stay translated for the retry: "
            + "; ".join(f"{po}: {reason}" for po, reason in list(transient.items())[:5]))
    log.info("loaded %s sales orders, %s failed", len(result.loaded), len(result.failed))
    return result


def _record_sales_orders(store: Store, written: list[tuple[int, str, object]], *, session) -> None:
    """Each loaded PO: its sales order (one row per BlueCherry order), the link, ``loaded``; a few statements
    for the whole chunk."""
    if not written:
        return
    keys = {po_number: outcome.document_number or po_number for _, po_number, outcome in written}
    known: dict[str, int] = {}
    unique_keys = sorted(set(keys.values()))
    for start in range(0, len(unique_keys), 500):
        known.update(session.execute(select(Transaction.business_key, Transaction.id).where(
            Transaction.doc_type == "sales_order",
            Transaction.business_key.in_(unique_keys[start : start + 500]))).tuples().all())
    missing = [(po_number, outcome) for _, po_number, outcome in written if keys[po_number] not in known]
    missing = list({keys[po]: (po, outcome) for po, outcome in missing}.values())
    ids = store.add_transactions([
        {"doc_type": "sales_order", "direction": "out", "partner": "BLUECHERRY", "business_key": keys[po_number],
         "status": outcome.outcome, "data": {"customer_po": po_number}} for po_number, outcome in missing],
        session=session)
    known.update({keys[po_number]: new_id for (po_number, _), new_id in zip(missing, ids, strict=True)})
    store.link_many([(transaction_id, known[keys[po_number]], "sales_order")
                     for transaction_id, po_number, _ in written], session=session)
    data_of = dict(session.execute(select(Transaction.id, Transaction.data).where(
        Transaction.id.in_([transaction_id for transaction_id, _, _ in written]))).tuples().all())
    store.set_transaction_statuses([
        (transaction_id, "loaded", {**(data_of.get(transaction_id) or {}), "sales_order": {
            "number": outcome.document_number, "outcome": outcome.outcome, "revision": outcome.revision}})
        for transaction_id, _, outcome in written], session=session)


def received_times(session, transactions) -> dict[int, datetime]:
    """When each transaction's raw file arrived (without loading the files' bytes)."""
    ids = sorted({transaction.raw_document_id for transaction in transactions})
    found: dict[int, datetime] = {}
    for start in range(0, len(ids), 500):
        found.update(session.execute(select(RawDocument.id, RawDocument.received_at).where(
            RawDocument.id.in_(ids[start : start + 500]))).tuples().all())
    return found
