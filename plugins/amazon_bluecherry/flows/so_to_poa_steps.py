"""so_to_poa steps over the store and the BlueCherry gateway (no Airflow).

    850 loaded | acknowledge_only --build--> 855 draft (kept in the 850's data)
    855 draft --GX gate--> 855 staged (pending upload), 850 acknowledged | blocked (exception)
    deadlines poa_due --monitor--> met | at risk (exception + alert) | missed (exception + alert)
    outbound sent, no 997 after N hours --monitor--> transmission_unacknowledged

An 855 is sent again only when BlueCherry's answer changed and Amazon still accepts a
change (48 h from the PO); a line rejected once stays rejected.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select

from amazon_bluecherry.amazon.rules import amazon_rules
from amazon_bluecherry.edi.documents import PurchaseOrderAcknowledgement
from amazon_bluecherry.edi.parse import DocumentError
from amazon_bluecherry.flows.exceptions import open_exception
from amazon_bluecherry.flows.outbound import render_documents, stage_documents, stage_x12
from amazon_bluecherry.flows.po_to_so_steps import (
    load_purchase_orders,
    received_purchase_orders,
    received_times,
)
from amazon_bluecherry.flows.so_to_poa import (
    acknowledgement_frame,
    build_acknowledgement,
    ordered_lines,
    read_sent_acknowledgements,
    rejected_quantities,
    summarize_acknowledgement,
)
from amazon_bluecherry.flows.windows import MonitorResult, Window, watch_windows
from amazon_bluecherry.settings import Settings
from amazon_bluecherry.store import Store
from amazon_bluecherry.store.models import OutboundDocument, QualityResult, Transaction

log = logging.getLogger(__name__)

ACKNOWLEDGEABLE = ("loaded", "acknowledge_only", "acknowledged")


@dataclass
class AcknowledgeResult:
    drafted: list[str] = field(default_factory=list)           # an 855 waits for the gate
    unchanged: list[str] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)           # not allocated in BlueCherry yet
    exception_ids: list[int] = field(default_factory=list)


@dataclass
class AcknowledgementCheckResult:
    staged: dict[str, int] = field(default_factory=dict)      # PO -> 855 transaction id
    blocked: list[str] = field(default_factory=list)
    outbound_document_id: int | None = None
    exception_ids: list[int] = field(default_factory=list)
    quality_result_id: int | None = None

DRAFT = "acknowledgement_draft"   # key of the 855 draft in the 850's data, between build and gate


def _fingerprint(document: dict) -> str:
    """What the 855 says (its ``model_dump(mode="json")``), without the date it is said on."""
    content = {key: value for key, value in document.items() if key not in ("acknowledgement_date", "envelope")}
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


def build_acknowledgements(store: Store, gateway, *, now: datetime, transaction_ids=None) -> AcknowledgeResult:
    """Draft an 855 for every PO whose acknowledgement is due or changed; the gate checks it next.

    The draft is kept in the 850's data (``acknowledgement_draft``) with what the 850
    ordered, so that the gate compares the 855 with the PO without reading the 850 again.
    """
    rules = amazon_rules()["acknowledgement"]
    result = AcknowledgeResult()
    candidates = []
    with store.session() as db:
        transactions = received_purchase_orders(store, statuses=ACKNOWLEDGEABLE, transaction_ids=transaction_ids,
                                                session=db)
        purchase_orders = load_purchase_orders(transactions, session=db)
        received = received_times(db, transactions)
        for transaction in transactions:
            purchase_order = purchase_orders[transaction.id]
            if isinstance(purchase_order, DocumentError):  # it was translated, so this cannot happen quietly
                raise purchase_order
            candidates.append((transaction.id, received[transaction.raw_document_id], dict(transaction.data or {}),
                               purchase_order))

    sales_orders = _sales_orders(gateway, candidates)
    # Phantom stock: a first acknowledgement short of what Amazon ordered, against our last 846.
    from amazon_bluecherry.flows.stock_to_846_steps import overselling_risks

    first_time = {(data.get("translation", {}).get("bc_customer"), po.purchase_order_number)
                  for _, _, data, po in candidates if not data.get("acknowledgement")}
    result.exception_ids += overselling_risks(store, [order for key, order in sales_orders.items() if key in first_time])
    drafts: dict[int, dict] = {}
    for transaction_id, received_at, data, purchase_order in candidates:
        po_number = purchase_order.purchase_order_number
        translation = data.get("translation", {})
        sales_order = None
        if data.get("sales_order"):
            sales_order = sales_orders.get((translation.get("bc_customer"), po_number))
            if sales_order is None:  # a flat-file import not applied yet: the next run
                result.waiting.append(po_number)
                continue
        previous = data.get("acknowledgement", {})
        acknowledgement = build_acknowledgement(
            purchase_order, sales_order=sales_order,
            rejected_lines={line["line_number"]: line["reason"] for line in translation.get("rejected_lines", [])},
            case_packs={line["line_number"]: line["case_pack_qty"] for line in translation.get("lines", [])},
            previously_rejected=_rejected_before(previous), acknowledged_on=now.date(),
        )
        if acknowledgement is None:
            result.waiting.append(po_number)
            continue
        document = acknowledgement.model_dump(mode="json")
        fingerprint = _fingerprint(document)
        if previous.get("fingerprint") == fingerprint:
            if data.get("acknowledgement_of") != transaction_id:  # an identical re-send: the 855 sent stands
                _adopt_acknowledgement(store, transaction_id, previous)
            result.unchanged.append(po_number)
            continue
        if previous and now - received_at > timedelta(hours=rules["change_window_hours"]):
            result.exception_ids.append(open_exception(
                store, "poa_change_too_late",
                f"PO {po_number}: BlueCherry's allocation changed after Amazon's {rules['change_window_hours']} h "
                "change window; the 855 already sent stands. Ship what was confirmed or contact Amazon.",
                business_key=po_number, transaction_id=transaction_id,
                dedupe_key=f"poa_change_too_late:{transaction_id}:{fingerprint[:12]}"))
            continue
        drafts[transaction_id] = {"document": document, "fingerprint": fingerprint,
                                  "ordered": ordered_lines(purchase_order)}
        result.drafted.append(po_number)

    # A draft left by a run whose gate never ran is replaced, or dropped when nothing is to be sent now.
    stale = [transaction_id for transaction_id, _, data, _ in candidates if data.get(DRAFT) and transaction_id not in drafts]
    if drafts or stale:
        with store.session() as db:
            for transaction in db.scalars(select(Transaction).where(Transaction.id.in_([*drafts, *stale]))):
                data = {key: value for key, value in (transaction.data or {}).items() if key != DRAFT}
                if transaction.id in drafts:
                    data[DRAFT] = drafts[transaction.id]
                transaction.data = data
    log.info("855s drafted %s, unchanged %s, waiting %s", len(result.drafted), len(result.unchanged),
             len(result.waiting))
    return result


def check_acknowledgements(store: Store, settings: Settings, *, now: datetime, run_key: str = "",
                           transaction_ids=None) -> AcknowledgementCheckResult:
    """The so_to_poa data-quality gate: one GX checkpoint over every drafted 855, then staging.

    The checkpoint reads the 855s as they will leave (rendered to X12, with their control
    numbers, and read back);
    a PO it names is blocked (``poa_quality_check_failed``), the others are staged for
    upload in one file, in the same database transaction that marks their 850s acknowledged.
    """
    result = AcknowledgementCheckResult()
    with store.session() as db:
        drafts = _drafted_acknowledgements(store, db, transaction_ids)
        if not drafts:
            return result
        # Rendered once, with the control numbers they will carry, in a savepoint: the gate
        # reads these very bytes, and they are staged as they are unless the gate blocks a
        # PO (then the numbers are given back and the others are rendered again).
        rendering = db.begin_nested()
        raw = render_documents(store, [draft[2] for draft in drafts], settings=settings, session=db)
        outcome = _gate_acknowledgements(drafts, raw)
        blocked = outcome.failed_keys("purchase_order")
        if blocked:
            rendering.rollback()
        else:
            rendering.commit()
        quality = QualityResult(suite=outcome.suite, run_key=run_key or now.isoformat(), success=outcome.success,
                                evaluated=outcome.evaluated, failed=len(outcome.failures), results=outcome.to_dict())
        db.add(quality)
        db.flush()
        result.quality_result_id = quality.id
        sending = _hold_blocked(store, db, drafts, blocked, outcome, result)
        if not sending:
            return result
        _stage_acknowledgements(store, db, sending, raw if not blocked else None, settings, result)
    log.info("855 gate: staged %s, blocked %s", len(result.staged), len(result.blocked))
    return result


def _drafted_acknowledgements(store: Store, db, transaction_ids) -> list[tuple]:
    """(850 transaction, its draft, the 855) for every PO with a drafted 855."""
    pending = [transaction for transaction in received_purchase_orders(
                   store, statuses=ACKNOWLEDGEABLE, transaction_ids=transaction_ids, session=db)
               if (transaction.data or {}).get(DRAFT)]
    return [(transaction, transaction.data[DRAFT],
             PurchaseOrderAcknowledgement.model_validate(transaction.data[DRAFT]["document"]))
            for transaction in pending]


def _gate_acknowledgements(drafts: list[tuple], raw: bytes):
    """The GX checkpoint over the 855s as rendered (read back from ``raw``), line by line."""
    from amazon_bluecherry.quality.checkpoint import run_checkpoint
    from amazon_bluecherry.quality.suites import acknowledgement_suite

    summaries = []
    for (transaction, draft, _), sent in zip(drafts, read_sent_acknowledgements(raw), strict=True):
        previous = (transaction.data or {}).get("acknowledgement", {})
        summaries += summarize_acknowledgement(transaction.business_key, draft["ordered"], sent,
                                               _rejected_before(previous))
    return run_checkpoint("so_to_poa_acknowledgements", acknowledgement_frame(summaries),
                          acknowledgement_suite(), key_columns=["purchase_order", "line_number"])


def _hold_blocked(store: Store, db, drafts: list[tuple], blocked, outcome,
                  result: AcknowledgementCheckResult) -> list[tuple]:
    """A PO the gate names keeps no draft and gets an exception saying why; returns the others
    as (850 transaction, fingerprint, 855, its data without the draft)."""
    sending = []
    for transaction, draft, acknowledgement in drafts:
        po_number = transaction.business_key
        data = {key: value for key, value in (transaction.data or {}).items() if key != DRAFT}
        if po_number in blocked:
            result.blocked.append(po_number)
            reasons = sorted({f.description for f in outcome.failures
                              if any(key["purchase_order"] == po_number for key in f.keys)})
            result.exception_ids.append(open_exception(
                store, "poa_quality_check_failed",
                f"PO {po_number}: the 855 was not sent: {'; '.join(reasons)}",
                business_key=po_number, transaction_id=transaction.id,
                dedupe_key=f"poa_quality_check_failed:{transaction.id}:{draft['fingerprint'][:12]}",
                session=db))
            transaction.data = data
            continue
        sending.append((transaction, draft["fingerprint"], acknowledgement, data))
    return sending


def _stage_acknowledgements(store: Store, db, sending: list[tuple], raw: bytes | None, settings: Settings,
                            result: AcknowledgementCheckResult) -> None:
    """One file for the 855s that passed (the bytes the gate read, unless a PO was blocked:
    then rendered again without it), each 850 linked to its 855 and marked acknowledged."""
    business_keys = [item[0].business_key for item in sending]
    fingerprints = [{"fingerprint": item[1]} for item in sending]
    if raw is None:
        staged = stage_documents(store, [item[2] for item in sending], settings=settings, session=db,
                                 business_keys=business_keys, data=fingerprints)
    else:
        staged = stage_x12(store, raw, settings=settings, session=db, business_keys=business_keys,
                           data=fingerprints)
    result.outbound_document_id = staged.outbound_document_id
    store.link_many([(transaction.id, staged_set.transaction_id, "acknowledgement")
                     for (transaction, _, _, _), staged_set in zip(sending, staged.sets, strict=True)], session=db)
    changes = []
    for (transaction, fingerprint, acknowledgement, data), staged_set in zip(sending, staged.sets, strict=True):
        data["acknowledgement_of"] = transaction.id
        data["acknowledgement"] = {
            "fingerprint": fingerprint, "transaction_id": staged_set.transaction_id,
            # JSON keys are strings; _rejected_before turns them back into line numbers.
            "rejected_quantities": {str(k): v for k, v in rejected_quantities(acknowledgement).items()},
            "statuses": {line.line_number or str(position): [str(a.status) for a in line.acknowledgements]
                         for position, line in enumerate(acknowledgement.lines, start=1)},
        }
        changes.append((transaction.id, "acknowledged", data))
        result.staged[transaction.business_key] = staged_set.transaction_id
    store.set_transaction_statuses(changes, session=db)


def _sales_orders(gateway, candidates) -> dict:
    """BlueCherry's orders for the candidates, read in a few calls rather than one per PO."""
    from amazon_bluecherry.bluecherry.gateway import GatewayError, TransientGatewayError

    by_customer: dict[str | None, list[str]] = {}
    for _, _, data, purchase_order in candidates:
        if data.get("sales_order"):
            customer = data.get("translation", {}).get("bc_customer")
            by_customer.setdefault(customer, []).append(purchase_order.purchase_order_number)
    found = {}
    for customer, po_numbers in by_customer.items():
        try:
            orders = gateway.list_sales_orders(customer_pos=po_numbers, bc_customer=customer)
        except TransientGatewayError:
            raise  # BlueCherry unreachable: the task fails and Airflow retries it
        except GatewayError as exc:  # the others' 855s must not wait for one odd answer
            log.warning("BlueCherry refused the sales orders of %s POs of %s: %s", len(po_numbers), customer, exc)
            continue
        found.update({(order.bc_customer, order.customer_po): order for order in orders})
    return found


def _adopt_acknowledgement(store: Store, transaction_id: int, previous: dict) -> None:
    """A re-sent, unchanged PO is answered by the 855 already sent for its older copy."""
    with store.session() as db:
        store.link(transaction_id, previous["transaction_id"], "acknowledgement", session=db)
        transaction = db.get(Transaction, transaction_id)
        data = dict(transaction.data or {})
        data["acknowledgement_of"] = transaction_id
        store.set_transaction_status(transaction_id, "acknowledged", data=data, session=db)


def _rejected_before(previous: dict) -> dict[int, int]:
    return {int(line): quantity for line, quantity in previous.get("rejected_quantities", {}).items()}


def monitor_windows(store: Store, settings: Settings, *, now: datetime) -> MonitorResult:
    """Amazon's 24-hour 855 window per PO, and 997s overdue for what we sent."""
    window = Window(kind="poa_due", at_risk_type="poa_window_at_risk", missed_type="poa_window_missed",
                    lead=timedelta(hours=settings.poa_alert_lead_hours), subject="PO", document="855",
                    sent_at_by_transaction=_first_sent_acknowledgements)
    return watch_windows(store, settings, [window], now=now)


def _first_sent_acknowledgements(session, purchase_order_transaction_ids: list[int]) -> dict[int, datetime]:
    """When each PO's first 855 went (one that Amazon did not reject); POs with none are absent."""
    from sqlalchemy import func

    from amazon_bluecherry.store.models import DocumentLink

    first: dict[int, datetime] = {}
    for start in range(0, len(purchase_order_transaction_ids), 500):
        first.update(session.execute(
            select(DocumentLink.parent_id, func.min(OutboundDocument.sent_at))
            .join(Transaction, Transaction.id == DocumentLink.child_id)
            .join(OutboundDocument, OutboundDocument.raw_document_id == Transaction.raw_document_id)
            .where(DocumentLink.parent_id.in_(purchase_order_transaction_ids[start : start + 500]),
                   DocumentLink.relation == "acknowledgement",
                   OutboundDocument.sent_at.is_not(None), OutboundDocument.status != "rejected",
                   Transaction.status != "rejected_by_partner")
            .group_by(DocumentLink.parent_id)).tuples().all())
    return first
