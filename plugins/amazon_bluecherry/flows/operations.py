"""What people do to documents and exceptions, from the CLI or the exceptions console: one
function each, each writing its audit event (who, what, why). No raw SQL for any of it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from amazon_bluecherry.store import Store, StoreError
from amazon_bluecherry.store.models import (
    Deadline,
    Event,
    ExceptionRecord,
    OutboundDocument,
    RawDocument,
    Transaction,
)

# A held PO can go through translation again once its mapping is fixed.
RETRANSLATABLE = ("held", "load_failed", "acknowledge_only")
# An outbound file Amazon has not got (or not confirmed) can be sent again as it is.
RESENDABLE = ("sent", "unacknowledged", "failed")


class OperationRefused(StoreError):
    """The action does not apply to this document in its state (the message says why)."""


@dataclass(frozen=True)
class Resent:
    outbound_document_id: int
    file_name: str
    doc_type: str
    was: str


def resend_outbound(store: Store, outbound_document_id: int, *, actor: str, note: str | None = None) -> Resent:
    """Send an outbound file again, under its own name and control numbers, with the next
    upload of its type (Amazon never saw it, or never confirmed it: its runbook says when).

    A file Amazon's 997 rejected is not re-sent as it is: the document must be rebuilt.
    """
    with store.session() as db:
        outbound = db.get(OutboundDocument, outbound_document_id)
        if outbound is None:
            raise OperationRefused(f"outbound document {outbound_document_id} does not exist")
        if outbound.status == "pending":
            raise OperationRefused(f"{outbound.file_name} is already waiting to be sent")
        if outbound.status in ("rejected", "accepted"):
            raise OperationRefused(
                f"{outbound.file_name} was {outbound.status} by Amazon's 997: "
                + ("rebuild the document instead (runbook transmission_rejected)" if outbound.status == "rejected"
                   else "Amazon has it; nothing to re-send"))
        if outbound.status not in RESENDABLE:
            raise OperationRefused(f"{outbound.file_name} is {outbound.status}; only {', '.join(RESENDABLE)} "
                                   "files can be sent again")
        was = outbound.status
        outbound.status = "pending"
        outbound.sent_at = None
        store.record_event("outbound.resend_requested", entity_type="outbound_document", entity_id=outbound.id,
                           payload={"file_name": outbound.file_name, "was": was, "by": actor, "note": note},
                           session=db)
        return Resent(outbound.id, outbound.file_name, outbound.doc_type, was)


def requeue_purchase_order(store: Store, po_number: str, *, event: str, actor: str, note: str | None = None,
                           data: dict | None = None) -> int:
    """Put the newest copy of a held PO back to ``received`` (optionally with a decision);
    the next po_to_so run translates it again. Returns its transaction id."""
    with store.session() as db:
        newest = db.scalar(select(Transaction).where(
            Transaction.doc_type == "850", Transaction.direction == "in",
            Transaction.business_key == po_number).order_by(Transaction.id.desc()).limit(1))
        if newest is None:
            raise OperationRefused(f"no 850 for PO {po_number}")
        if newest.status not in RETRANSLATABLE:
            raise OperationRefused(f"PO {po_number} is {newest.status}; only {', '.join(RETRANSLATABLE)} POs "
                                   "can be translated again")
        was = newest.status
        store.set_transaction_status(newest.id, "received", data={**(newest.data or {}), **(data or {})},
                                     session=db)
        store.record_event(event, entity_type="850", entity_id=newest.id,
                           payload={"po": po_number, "was": was, "note": note, "by": actor}, session=db)
        return newest.id


def exception_trail(store: Store, exception_id: int) -> list[dict]:
    """The exception's audit trail: opened, acknowledged, resolved ... with who and why."""
    return [{"at": event.at, "kind": event.kind, **(event.payload or {})}
            for event in store.events(entity_type="exception", entity_id=exception_id)]


# The data path, in Amazon's order: 850 -> sales order -> 855 -> 856 -> 810 -> 820 line -> journal.
PATH_ORDER = ["850", "sales_order", "855", "856", "810", "820", "820_line", "remittance_line", "journal",
              "gl_journal"]


def data_path(store: Store, exception_id: int) -> list[dict]:
    """Every document linked to the exception's document, in the order of the data path,
    each with what decided it as far as the store records it (the mapping row, the rule,
    the verdict, the raw file)."""
    with store.session() as db:
        record = db.get(ExceptionRecord, exception_id)
        if record is None:
            raise OperationRefused(f"exception {exception_id} does not exist")
        start = record.transaction_id
        if start is None and record.business_key:
            start = db.scalar(select(Transaction.id).where(Transaction.business_key == record.business_key)
                              .order_by(Transaction.id.desc()).limit(1))
        if start is None and record.raw_document_id is not None:
            start = db.scalar(select(Transaction.id).where(Transaction.raw_document_id == record.raw_document_id)
                              .order_by(Transaction.id).limit(1))
        if start is None:
            raw = db.get(RawDocument, record.raw_document_id) if record.raw_document_id else None
            return [{"doc_type": "raw file", "business_key": raw.remote_name, "status": raw.status,
                     "id": None, "raw_document_id": raw.id, "decided_by": [f"sha256 {raw.sha256[:12]}…",
                                                                           f"received {raw.received_at:%Y-%m-%d %H:%M} UTC"]}] if raw else []
    steps = store.data_path(start)
    with store.session() as db:
        for step in steps:
            transaction = db.get(Transaction, step["id"])
            step["decided_by"] = _decided_by(db, transaction)
            outbound = db.scalar(select(OutboundDocument).where(
                OutboundDocument.raw_document_id == transaction.raw_document_id)) if transaction.raw_document_id \
                and transaction.direction == "out" else None
            step["outbound"] = ({"id": outbound.id, "file_name": outbound.file_name, "status": outbound.status,
                                 "sent_at": outbound.sent_at} if outbound else None)
            deadline = db.scalar(select(Deadline).where(Deadline.transaction_id == transaction.id).limit(1))
            step["deadline"] = ({"kind": deadline.kind, "due_at": deadline.due_at, "met_at": deadline.met_at,
                                 "missed_at": deadline.missed_at} if deadline else None)
    rank = {doc_type: index for index, doc_type in enumerate(PATH_ORDER)}
    return sorted(steps, key=lambda step: (rank.get(step["doc_type"], len(rank)), step["id"]))


def _decided_by(db, transaction: Transaction) -> list[str]:
    """The facts the store keeps about why this document is what it is."""
    data = transaction.data or {}
    facts: list[str] = []
    verdict = data.get("verdict")
    if isinstance(verdict, dict):
        facts.append(f"X12 validation: {verdict.get('status', '?')} "
                     f"({len(verdict.get('errors') or [])} error(s)) against Amazon's {transaction.doc_type} guide")
    translation = data.get("translation") or {}
    if translation:
        if translation.get("bc_customer"):
            facts.append(f"ship_to.csv: N1*ST -> customer {translation['bc_customer']} / store "
                         f"{translation.get('bc_store') or '-'} / warehouse {translation.get('bc_warehouse') or '-'}")
        for line in (translation.get("lines") or [])[:10]:
            facts.append(f"items.csv: line {line.get('line_number')} {line.get('product_id_qualifier')} "
                         f"{line.get('product_id')} -> {line.get('style')}-{line.get('color')}-{line.get('size')}, "
                         f"{line.get('amazon_qty')} {line.get('amazon_uom')} x pack {line.get('case_pack_qty')} = "
                         f"{line.get('qty_eaches')} eaches at {line.get('unit_price')} (unit_cost "
                         f"{line.get('bc_unit_cost')})")
        for line in (translation.get("rejected_lines") or [])[:10]:
            facts.append(f"line {line.get('line_number')} rejected (IR): {line.get('reason')}")
        for issue in (translation.get("issues") or [])[:10]:
            facts.append(f"rule {issue.get('type')}: {issue.get('message')}")
        if translation.get("held"):
            facts.append("held: nothing loaded until the issues are resolved")
        if translation.get("amazon_price_accepted"):
            facts.append("decision: loaded at Amazon's prices (orders accept-price)")
    sales_order = data.get("sales_order")
    if isinstance(sales_order, dict):
        facts.append(f"BlueCherry sales order {sales_order.get('number')} ({sales_order.get('outcome')})")
    acknowledgement = data.get("acknowledgement") or {}
    if isinstance(acknowledgement, dict) and acknowledgement:
        facts.append("855: " + ", ".join(f"{key} {value}" for key, value in sorted(acknowledgement.items())
                                         if key in ("status", "sent_at", "rejected_quantities", "fingerprint"))[:300])
    if transaction.doc_type == "820":
        facts.extend(_remittance_facts(db, transaction.id))
    rule_events = db.scalars(select(Event).where(Event.entity_id == str(transaction.id),
                                                 Event.kind.like("purchase_order.%")).order_by(Event.id))
    facts.extend(f"{event.kind} by {(event.payload or {}).get('by', 'cli')}: {(event.payload or {}).get('note') or ''}"
                 for event in rule_events)
    return facts


def _remittance_facts(db, transaction_id: int) -> list[str]:
    """820 line -> deduction type (the remit_codes.csv row that decided it) -> GL journal."""
    from amazon_bluecherry.store.models import Remittance, RemittanceLine, RemittancePosting

    remittance = db.scalar(select(Remittance).where(Remittance.transaction_id == transaction_id))
    if remittance is None:
        return []
    facts = [f"remittance {remittance.trace_number}: {remittance.payment_amount} ({remittance.status})"]
    for line in db.scalars(select(RemittanceLine).where(RemittanceLine.remittance_id == remittance.id)
                           .order_by(RemittanceLine.line_number).limit(25)):
        rule = f"remit_codes.csv line {line.rule_line}" if line.rule_line else "no remit_codes.csv row (suspense)"
        facts.append(f"820 line {line.line_number} {line.reference} {line.amount}: {line.deduction_type} -> GL "
                     f"{line.gl_account}, owner {line.owner} ({rule}; codes {line.adjustment_codes or '-'})")
    for posting in db.scalars(select(RemittancePosting).where(RemittancePosting.remittance_id == remittance.id)
                              .order_by(RemittancePosting.id)):
        facts.append(f"BlueCherry {posting.kind} {posting.deduction_type or ''} {posting.reference}: {posting.amount} "
                     f"{posting.status}{f' as {posting.document_number}' if posting.document_number else ''}")
    return facts
