"""Inbound X12 after pickup: validate, record every set, answer with a 997, route.

Per raw document, once (an idempotency key makes a retried or replayed task harmless):
- validate against the guides, with cross-file duplicate detection through the store;
- one ``transactions`` row per set: ``received`` when accepted (the flow that owns the
  set type picks it up: 850 -> po_to_so, 820 -> remit_to_journals), ``rejected`` with an
  ``edi_rejected`` exception otherwise; a broken envelope opens one exception for the file;
- a 997 for every functional group (never for a 997), staged for upload;
- inbound 997s are matched to what we sent: accepted, or rejected with an exception.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import asdict, dataclass, field

from sqlalchemy import select

from amazon_bluecherry.edi.ack import build_997, parse_997
from amazon_bluecherry.edi.reader import NotX12Error, iter_transaction_sets
from amazon_bluecherry.edi.validator import validate_file
from amazon_bluecherry.flows.exceptions import open_exception
from amazon_bluecherry.flows.outbound import stage_x12
from amazon_bluecherry.settings import Settings
from amazon_bluecherry.store import Store, StoreDuplicates
from amazon_bluecherry.store.models import OutboundDocument, RawDocument, Transaction, utcnow

log = logging.getLogger(__name__)

# Where a set's business key is: (segment id, element position).
BUSINESS_KEYS = {"850": ("BEG", 3), "860": ("BCH", 3), "820": ("TRN", 2), "997": ("AK1", 2), "855": ("BAK", 3),
                 "856": ("BSN", 2), "810": ("BIG", 2), "846": ("BIA", 3)}


@dataclass
class IntakeResult:
    raw_document_id: int
    status: str                                   # processed / not_x12
    accepted: dict[str, list[int]] = field(default_factory=dict)   # set id -> transaction ids
    rejected: list[int] = field(default_factory=list)
    ack_outbound_document_id: int | None = None
    exception_ids: list[int] = field(default_factory=list)


def pending_raw_documents(store: Store, *, received_before=None, session=None) -> list[int]:
    """Inbound raw documents not processed yet (oldest first)."""
    with store.use_session(session) as db:
        query = select(RawDocument.id).where(RawDocument.direction == "in", RawDocument.status == "received")
        if received_before is not None:
            query = query.where(RawDocument.received_at < received_before)
        return list(db.scalars(query.order_by(RawDocument.id)))


def process_inbound(store: Store, raw_document_id: int, settings: Settings) -> IntakeResult:
    key = f"intake:{raw_document_id}"
    done = store.idempotency_result(key)
    if done is not None:
        return IntakeResult(**done)
    raw = store.get_raw_document(raw_document_id)
    result = IntakeResult(raw_document_id=raw_document_id, status="processed")
    # One transaction: the control numbers recorded for duplicate detection commit with
    # the sets, the exceptions and the 997, or not at all.
    with store.session() as db:
        try:
            report = validate_file(raw.content, duplicates=StoreDuplicates(store, raw_document_id, session=db))
        except NotX12Error as exc:
            result.status = "not_x12"
            result.exception_ids.append(open_exception(
                store, "not_x12", f"raw document {raw_document_id} ({raw.remote_name}) is not X12: {exc}",
                raw_document_id=raw_document_id, dedupe_key=f"not_x12:{raw_document_id}", session=db))
            store.set_raw_document_status(raw_document_id, "refused", session=db)
            store.claim_idempotency_key(key, scope="intake", result=asdict(result), session=db)
            return result
        verdicts = defaultdict(list)
        for interchange, group, verdict in report.sets():
            verdicts[(interchange.control_number, group.control_number, verdict.control_number)].append(
                (interchange, group, verdict))
        for interchange in report.interchanges:
            if interchange.error:
                kind = "duplicate_interchange" if "duplicate" in interchange.error.lower() else \
                    "edi_interchange_rejected"
                result.exception_ids.append(open_exception(
                    store, kind,
                    f"interchange {interchange.control_number} from {interchange.sender} in raw document "
                    f"{raw_document_id} ({raw.remote_name}): {interchange.error}",
                    raw_document_id=raw_document_id, business_key=interchange.control_number,
                    dedupe_key=f"{kind}:{raw_document_id}:{interchange.control_number}", session=db))
        for isa, gs, transaction_set in iter_transaction_sets(raw.content):
            matches = verdicts.get((isa.control_number, gs.control_number, transaction_set.control_number))
            interchange_verdict, group_verdict, verdict = matches.pop(0) if matches else (None, None, None)
            set_id = transaction_set.set_id.strip()
            accepted = (verdict is not None and verdict.status in ("A", "E")
                        and not (interchange_verdict and interchange_verdict.error))
            business_key = _business_key(set_id, transaction_set.segments)
            transaction_id = store.add_transaction(
                set_id, direction="in", partner=settings.partner_id, business_key=business_key,
                raw_document_id=raw_document_id, isa13=isa.control_number, gs06=gs.control_number,
                st02=transaction_set.control_number, status="received" if accepted else "rejected",
                data={"verdict": verdict.to_dict() if verdict else None,
                      "group_status": group_verdict.status if group_verdict else None},
                session=db)
            if accepted:
                result.accepted.setdefault(set_id, []).append(transaction_id)
                continue
            result.rejected.append(transaction_id)
            if interchange_verdict is not None and interchange_verdict.error:
                continue  # one exception for the broken interchange, opened above, covers its sets
            problems = "; ".join(
                f"{issue.segment_id or 'set'}"
                f"{'' if issue.segment_position is None else f' at segment {issue.segment_position}'}"
                f"{'' if issue.element_position is None else f' element {issue.element_position}'}: {issue.message}"
                for issue in (verdict.errors[:5] if verdict else []))
            reason = problems or "no verdict for this set"
            result.exception_ids.append(open_exception(
                store, "edi_rejected",
                f"{set_id} {business_key or ''} (ST {transaction_set.control_number}) in {raw.remote_name or 'raw document'}"
                f" rejected: {reason}. A 997 with the errors was sent; Amazon must re-send a corrected document.",
                raw_document_id=raw_document_id, transaction_id=transaction_id, business_key=business_key,
                dedupe_key=f"edi_rejected:{raw_document_id}:{isa.control_number}:{gs.control_number}:"
                           f"{transaction_set.control_number}",
                details={"errors": [issue.to_dict() for issue in (verdict.errors if verdict else [])][:50]},
                session=db))

        acknowledgement = build_997(report, control_numbers=store.control_numbers(settings.partner_id, session=db),
                                    usage=settings.usage_indicator)
        if acknowledgement:
            acked_groups = [group.control_number for _, group, _ in report.sets()]
            staged = stage_x12(store, acknowledgement, settings=settings, session=db,
                               business_keys=_ack_keys(acknowledgement, default=acked_groups))
            result.ack_outbound_document_id = staged.outbound_document_id
        for transaction_id in result.accepted.get("997", []):
            result.exception_ids.extend(_match_functional_acknowledgement(store, raw, settings, session=db))
            store.set_transaction_status(transaction_id, "matched", session=db)
        store.set_raw_document_status(raw_document_id, "processed", session=db)
        store.claim_idempotency_key(key, scope="intake", result=asdict(result), session=db)
    log.info("raw document %s: accepted %s, rejected %s, 997 %s", raw_document_id,
             {k: len(v) for k, v in result.accepted.items()}, len(result.rejected), result.ack_outbound_document_id)
    return result


def _business_key(set_id: str, segments) -> str | None:
    where = BUSINESS_KEYS.get(set_id)
    if where is None:
        return None
    segment_id, position = where
    for segment in segments:
        if segment[0] == segment_id and len(segment) > position and segment[position].strip():
            return segment[position].strip()[:80]
    return None


def _ack_keys(acknowledgement: bytes, *, default: list[str]) -> list[str]:
    """The business key of each 997 we send: the group control number it acknowledges."""
    return [f"ack:{ack.functional_id}:{ack.group_control_number}" for ack in parse_997(acknowledgement)] or default


def _match_functional_acknowledgement(store: Store, raw: RawDocument, settings: Settings, *, session) -> list[int]:
    """Amazon's 997 for a group we sent: mark the outbound file accepted or rejected."""
    exception_ids = []
    for ack in parse_997(raw.content):
        outbound = session.scalar(select(OutboundDocument).where(
            OutboundDocument.partner == settings.partner_id, OutboundDocument.gs06 == ack.group_control_number))
        if outbound is None:
            log.warning("997 for group %s %s matches nothing we sent", ack.functional_id, ack.group_control_number)
            continue
        outbound.ack_status = ack.status
        outbound.acked_at = utcnow()
        outbound.status = "accepted" if ack.status in ("A", "E") else "rejected"
        store.record_event("outbound.acknowledged", entity_type="outbound_document", entity_id=outbound.id,
                           payload={"status": ack.status, "file_name": outbound.file_name}, session=session)
        rejected_sets = {acked.control_number for acked in ack.sets if acked.status not in ("A", "E")}
        for transaction in session.scalars(select(Transaction).where(
                Transaction.raw_document_id == outbound.raw_document_id, Transaction.direction == "out")):
            transaction.status = "rejected_by_partner" if (
                transaction.st02 in rejected_sets or ack.status == "R") else "acknowledged"
            if transaction.status == "rejected_by_partner":
                _reopen_windows(session, transaction.id)
        if outbound.status == "rejected" or rejected_sets:
            exception_ids.append(open_exception(
                store, "transmission_rejected",
                f"Amazon's 997 rejected {outbound.file_name} (group {ack.group_control_number}, AK9 {ack.status}, "
                f"sets {sorted(rejected_sets) or 'all'}); correct and re-send before Amazon's window closes",
                business_key=outbound.file_name, raw_document_id=outbound.raw_document_id,
                dedupe_key=f"transmission_rejected:{outbound.id}:{ack.ack_control_number}", session=session))
    return exception_ids


def _reopen_windows(session, rejected_transaction_id: int) -> None:
    """A document Amazon rejected does not count: the window of what it answered is open again."""
    from amazon_bluecherry.store.models import Deadline, DocumentLink

    parents = session.scalars(select(DocumentLink.parent_id).where(DocumentLink.child_id == rejected_transaction_id))
    for deadline in session.scalars(select(Deadline).where(Deadline.transaction_id.in_(list(parents)),
                                                           Deadline.kind == "poa_due")):
        deadline.met_at = None
        deadline.missed_at = None
