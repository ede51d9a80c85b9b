"""Inbound X12 after pickup: validate, record every set, answer with a 997, route.

Per raw document, once (an idempotency key makes a retried or replayed task harmless):
- validate against the guides, with cross-file duplicate detection through the store;
- one ``transactions`` row per set: ``received`` when accepted (the flow that owns the
  set type picks it up: 850 -> po_to_so, 820 -> remit_to_journals), ``rejected`` with an
  ``edi_rejected`` exception otherwise; a broken envelope opens one exception for the file;
- a 997 for every functional group (never for a 997), staged for upload;
- inbound 997s and TA1s are matched to what we sent: accepted, or rejected with an exception;
- Amazon Direct Fulfillment interchanges (no DF guide yet) are answered "set not
  supported" (AK5 1) with one ``direct_fulfillment_unsupported`` exception per interchange.

Every arrival of a file is answered: a byte-identical re-send (Amazon re-sends a file it
never got our 997 for) is the same raw document, already processed, so
:func:`reacknowledge` sends a new 997 (new control numbers, the same verdicts) without
processing its POs again.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from typing import NamedTuple

from sqlalchemy import select

from amazon_bluecherry.edi import segments as x
from amazon_bluecherry.edi.ack import TA1_NOTE_CODES, build_997, parse_997
from amazon_bluecherry.edi.guide import default_registry
from amazon_bluecherry.edi.reader import NotX12Error, iter_transaction_sets
from amazon_bluecherry.edi.validator import ValidationReport, validate_file
from amazon_bluecherry.flows.exceptions import open_exception
from amazon_bluecherry.flows.outbound import stage_x12
from amazon_bluecherry.settings import Settings
from amazon_bluecherry.store import Store, StoreDuplicates
from amazon_bluecherry.store.models import (
    InboundArrival,
    InterchangeAcknowledgement,
    OutboundDocument,
    RawDocument,
    Transaction,
    utcnow,
)

log = logging.getLogger(__name__)

# Where a set's business key is: (segment, field), positions from edi/segments.py.
BUSINESS_KEYS = {"850": (x.BEG, "purchase_order_number"), "860": (x.BCH, "purchase_order_number"),
                 "820": (x.TRN, "trace_number"), "997": (x.AK1, "acknowledged_group_control_number"),
                 "855": (x.BAK, "purchase_order_number"), "856": (x.BSN, "shipment_id"),
                 "810": (x.BIG, "invoice_number"), "846": (x.BIA, "report_number")}


@dataclass
class IntakeResult:
    raw_document_id: int
    status: str                                   # processed / not_x12
    accepted: dict[str, list[int]] = field(default_factory=dict)   # set id -> transaction ids
    rejected: list[int] = field(default_factory=list)
    ack_outbound_document_id: int | None = None
    exception_ids: list[int] = field(default_factory=list)
    interchange_acknowledgements: list[int] = field(default_factory=list)  # TA1s recorded


def pending_raw_documents(store: Store, *, received_before=None, session=None) -> list[int]:
    """Inbound raw documents not processed yet (oldest first)."""
    with store.use_session(session) as db:
        query = select(RawDocument.id).where(RawDocument.direction == "in", RawDocument.status == "received")
        if received_before is not None:
            query = query.where(RawDocument.received_at < received_before)
        return list(db.scalars(query.order_by(RawDocument.id)))


class _Set(NamedTuple):
    """One transaction set of a file with what the validator said about it."""

    isa: object
    gs: object
    transaction_set: object
    interchange_verdict: object
    group_verdict: object
    verdict: object
    set_id: str
    accepted: bool
    business_key: str | None


def process_inbound(store: Store, raw_document_id: int, settings: Settings) -> IntakeResult:
    """Validate one stored file, record every set in it, and answer every group with a 997.

    Not X12: refused, with an exception. A broken envelope, an unsupported partner or a
    rejected set: an exception each (one per interchange where the envelope is at fault).
    Amazon's own 997s and TA1s are matched to what we sent. Exactly once per file.
    """
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
            _refuse_not_x12(store, db, raw, exc, result)
            store.claim_idempotency_key(key, scope="intake", result=asdict(result), session=db)
            return result
        unsupported = _unsupported_interchanges(report)
        result.exception_ids += _envelope_exceptions(store, db, raw, report, unsupported)
        sets = _sets_with_verdicts(raw, report)
        transaction_ids = _record_sets(store, db, raw, sets, settings)
        _report_rejected_sets(store, db, raw, sets, transaction_ids, unsupported, result)
        _acknowledge(store, db, raw, report, settings, result)
        _settle_arrivals(db, raw_document_id, status="acknowledged", outbound_id=result.ack_outbound_document_id)
        store.set_raw_document_status(raw_document_id, "processed", session=db)
        store.claim_idempotency_key(key, scope="intake", result=asdict(result), session=db)
    log.info("raw document %s: accepted %s, rejected %s, 997 %s", raw_document_id,
             {k: len(v) for k, v in result.accepted.items()}, len(result.rejected), result.ack_outbound_document_id)
    return result


def _refuse_not_x12(store: Store, db, raw, problem: NotX12Error, result: IntakeResult) -> None:
    result.status = "not_x12"
    result.exception_ids.append(open_exception(
        store, "not_x12", f"raw document {raw.id} ({raw.remote_name}) is not X12: {problem}",
        raw_document_id=raw.id, dedupe_key=f"not_x12:{raw.id}", session=db))
    store.set_raw_document_status(raw.id, "refused", session=db)
    _settle_arrivals(db, raw.id, status="refused")


def _envelope_exceptions(store: Store, db, raw, report: ValidationReport, unsupported: dict) -> list[int]:
    """One exception per interchange from a partner we have no guide for, and per broken envelope."""
    exception_ids = [_open_unsupported(store, raw, interchange, reason, session=db)
                     for interchange, reason in unsupported.values()]
    for interchange in report.interchanges:
        if interchange.error:
            kind = "duplicate_interchange" if "duplicate" in interchange.error.lower() else "edi_interchange_rejected"
            exception_ids.append(open_exception(
                store, kind,
                f"interchange {interchange.control_number} from {interchange.sender} in raw document "
                f"{raw.id} ({raw.remote_name}): {interchange.error}",
                raw_document_id=raw.id, business_key=interchange.control_number,
                dedupe_key=f"{kind}:{raw.id}:{interchange.control_number}", session=db))
    return exception_ids


def _sets_with_verdicts(raw, report: ValidationReport) -> list[_Set]:
    """Every set of the file, in file order, with its verdict; accepted when the validator
    accepted it (A or E) inside a sound interchange."""
    verdicts = defaultdict(list)
    for interchange, group, verdict in report.sets():
        verdicts[(interchange.control_number, group.control_number, verdict.control_number)].append(
            (interchange, group, verdict))
    sets = []
    for isa, gs, transaction_set in iter_transaction_sets(raw.content):
        matches = verdicts.get((isa.control_number, gs.control_number, transaction_set.control_number))
        interchange_verdict, group_verdict, verdict = matches.pop(0) if matches else (None, None, None)
        set_id = transaction_set.set_id.strip()
        accepted = (verdict is not None and verdict.status in ("A", "E")
                    and not (interchange_verdict and interchange_verdict.error))
        sets.append(_Set(isa, gs, transaction_set, interchange_verdict, group_verdict, verdict, set_id, accepted,
                         _business_key(set_id, transaction_set.segments)))
    return sets


def _record_sets(store: Store, db, raw, sets: list[_Set], settings: Settings) -> list[int]:
    """Every set of the file in a few statements, however many POs it holds."""
    return store.add_transactions([
        {"doc_type": s.set_id, "direction": "in", "partner": settings.partner_id, "business_key": s.business_key,
         "raw_document_id": raw.id, "isa13": s.isa.control_number, "gs06": s.gs.control_number,
         "st02": s.transaction_set.control_number, "status": "received" if s.accepted else "rejected",
         "data": {"verdict": s.verdict.to_dict() if s.verdict else None,
                  "group_status": s.group_verdict.status if s.group_verdict else None}}
        for s in sets], session=db)


def _report_rejected_sets(store: Store, db, raw, sets: list[_Set], transaction_ids: list[int], unsupported: dict,
                          result: IntakeResult) -> None:
    """Accepted sets go on to their flow; each rejected one gets an exception naming its errors
    (unless its interchange's exception, opened before, covers it)."""
    for s, transaction_id in zip(sets, transaction_ids, strict=True):
        if s.accepted:
            result.accepted.setdefault(s.set_id, []).append(transaction_id)
            continue
        result.rejected.append(transaction_id)
        if s.interchange_verdict is not None and s.interchange_verdict.error:
            continue  # one exception for the broken interchange, opened above, covers its sets
        if s.isa.control_number in unsupported:
            continue  # one direct_fulfillment_unsupported exception, opened above, covers its sets
        errors = s.verdict.errors if s.verdict else []
        reason = (s.verdict.describe() if s.verdict else "") or "no verdict for this set"
        result.exception_ids.append(open_exception(
            store, "edi_rejected",
            f"{s.set_id} {s.business_key or ''} (ST {s.transaction_set.control_number}) in "
            f"{raw.remote_name or 'raw document'} rejected: {reason}. A 997 with the errors was sent; Amazon must "
            "re-send a corrected document.",
            raw_document_id=raw.id, transaction_id=transaction_id, business_key=s.business_key,
            dedupe_key=f"edi_rejected:{raw.id}:{s.isa.control_number}:{s.gs.control_number}:"
                       f"{s.transaction_set.control_number}",
            details={"errors": [issue.to_dict() for issue in errors][:50]},
            session=db))


def _acknowledge(store: Store, db, raw, report: ValidationReport, settings: Settings, result: IntakeResult) -> None:
    """Our 997 for every group; Amazon's own 997s and TA1s in the file matched to what we sent."""
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
    recorded, rejections = _record_interchange_acknowledgements(store, raw, report, settings, session=db)
    result.interchange_acknowledgements += recorded
    result.exception_ids += rejections


def _settle_arrivals(session, raw_document_id: int, *, status: str, outbound_id: int | None = None) -> None:
    """The first pending arrival of a document is answered by its processing (later ones by
    :func:`reacknowledge`)."""
    arrival = session.scalar(select(InboundArrival).where(
        InboundArrival.raw_document_id == raw_document_id, InboundArrival.status == "pending")
        .order_by(InboundArrival.id).limit(1))
    if arrival is not None:
        arrival.status = status
        arrival.ack_outbound_document_id = outbound_id


def pending_arrivals(store: Store, *, arrived_before=None, session=None) -> list[int]:
    """Arrivals still owed an answer whose document was already processed (re-sends), oldest first."""
    with store.use_session(session) as db:
        query = (select(InboundArrival.id)
                 .join(RawDocument, RawDocument.id == InboundArrival.raw_document_id)
                 .where(InboundArrival.status == "pending", RawDocument.status != "received"))
        if arrived_before is not None:
            query = query.where(InboundArrival.arrived_at < arrived_before)
        return list(db.scalars(query.order_by(InboundArrival.id)))


def reacknowledge(store: Store, arrival_id: int, settings: Settings) -> int | None:
    """Answer a re-sent file again: a new 997 (new control numbers) with the verdicts its bytes get.

    The document is not processed again: its sets were recorded at the first arrival and
    its POs went their way. Its control numbers are not duplicates of itself (the store
    compares them with other documents), so Amazon gets the same verdicts as the first
    time; another file that reuses them is still reported as a duplicate. Returns the id
    of the staged 997 (None when the file needs none: not X12, or only 997s/TA1s).
    """
    with store.session() as db:
        arrival = db.get(InboundArrival, arrival_id, with_for_update=True)
        if arrival is None or arrival.status != "pending":
            return arrival.ack_outbound_document_id if arrival is not None else None
        raw = db.get(RawDocument, arrival.raw_document_id)
        outbound_id = None
        if raw.status == "refused":
            arrival.status = "refused"
        else:
            try:
                report = validate_file(raw.content, duplicates=StoreDuplicates(store, raw.id, session=db))
            except NotX12Error:
                report = None
            acknowledgement = build_997(
                report, control_numbers=store.control_numbers(settings.partner_id, session=db),
                usage=settings.usage_indicator) if report is not None else b""
            if acknowledgement:
                acked_groups = [group.control_number for _, group, _ in report.sets()]
                staged = stage_x12(store, acknowledgement, settings=settings, session=db,
                                   business_keys=_ack_keys(acknowledgement, default=acked_groups))
                outbound_id = staged.outbound_document_id
            arrival.status = "acknowledged"
            arrival.ack_outbound_document_id = outbound_id
        store.record_event(
            "raw_document.reacknowledged", entity_type="raw_document", entity_id=raw.id,
            payload={"arrival_id": arrival.id, "remote_name": arrival.remote_name, "location": arrival.location,
                     "ack_outbound_document_id": outbound_id},
            session=db)
    log.info("raw document %s arrived again as %s: answered with outbound document %s", raw.id,
             arrival.remote_name, outbound_id)
    return outbound_id


def _unsupported_interchanges(report: ValidationReport) -> dict:
    """ISA13 -> (interchange verdict, reason) for interchanges of a partner we have no guides
    for (Direct Fulfillment) that carry sets answered "not supported" (AK5 1)."""
    registry = default_registry()
    return {interchange.control_number: (interchange, reason) for interchange in report.interchanges
            if (reason := registry.unsupported(interchange.partner)) and _not_supported_sets(interchange)}


def _not_supported_sets(interchange) -> list[str]:
    return [f"{ts.set_id} {ts.control_number}" for group in interchange.groups for ts in group.transactions
            if "1" in ts.ak5_codes]


def _open_unsupported(store: Store, raw: RawDocument, interchange, reason: str, *, session) -> int:
    sets = _not_supported_sets(interchange)
    return open_exception(
        store, "direct_fulfillment_unsupported",
        f"interchange {interchange.control_number} from {interchange.sender} in {raw.remote_name or 'raw document'} "
        f"(raw document {raw.id}): {reason}. Its {len(sets)} set(s) ({', '.join(sets[:10]) or 'none'}) were "
        "answered with a 997 saying 'set not supported' (AK5 1) and not processed; handle them in Amazon's "
        "Direct Fulfillment portal.",
        raw_document_id=raw.id, business_key=interchange.control_number,
        dedupe_key=f"direct_fulfillment_unsupported:{raw.id}:{interchange.control_number}",
        details={"sender": interchange.sender, "receiver": interchange.receiver, "sets": sets},
        session=session)


def _record_interchange_acknowledgements(store: Store, raw: RawDocument, report: ValidationReport,
                                         settings: Settings, *, session) -> tuple[list[int], list[int]]:
    """Amazon's TA1s: kept, and matched to the interchange we sent (its ISA13).

    A TA1 with TA104 ``R`` rejects our whole interchange: the outbound file becomes
    ``rejected``, its sets ``rejected_by_partner`` (an 855's window opens again) and a
    ``transmission_rejected`` exception names the TA105 reason. ``A``/``E`` only say the
    envelope arrived: the sets still wait for their 997.
    """
    recorded, exception_ids = [], []
    for interchange in report.interchanges:
        if interchange.error:
            continue  # a broken interchange's TA1s are not trusted; its exception says why
        for segment in interchange.acknowledgements:
            _, number, date, time, status, code = (segment + [""] * 6)[:6]
            if session.scalar(select(InterchangeAcknowledgement.id).where(
                    InterchangeAcknowledgement.raw_document_id == raw.id,
                    InterchangeAcknowledgement.control_number == number)) is not None:
                continue
            outbound = session.scalar(select(OutboundDocument).where(
                OutboundDocument.partner == settings.partner_id, OutboundDocument.isa13 == number))
            row = InterchangeAcknowledgement(
                raw_document_id=raw.id, partner=settings.partner_id, control_number=number,
                interchange_date=date, interchange_time=time, status=status, code=code,
                outbound_document_id=outbound.id if outbound else None)
            session.add(row)
            session.flush()
            recorded.append(row.id)
            meaning = TA1_NOTE_CODES.get(code, "unknown note code")
            if outbound is None:
                log.warning("TA1 for interchange %s (%s %s) matches nothing we sent", number, status, code)
                store.record_event("interchange.acknowledgement_unmatched", entity_type="raw_document",
                                   entity_id=raw.id, payload={"isa13": number, "status": status, "code": code},
                                   session=session)
                continue
            store.record_event("outbound.interchange_acknowledged", entity_type="outbound_document",
                               entity_id=outbound.id,
                               payload={"status": status, "code": code, "meaning": meaning,
                                        "file_name": outbound.file_name, "ta1_raw_document_id": raw.id},
                               session=session)
            if status != "R":
                continue
            outbound.status = "rejected"
            for transaction in session.scalars(select(Transaction).where(
                    Transaction.raw_document_id == outbound.raw_document_id, Transaction.direction == "out")):
                transaction.status = "rejected_by_partner"
                _reopen_windows(session, transaction.id)
            exception_ids.append(open_exception(
                store, "transmission_rejected",
                f"Amazon's TA1 rejected the whole interchange {number} of {outbound.file_name} (TA105 {code}: "
                f"{meaning}); nothing in it was accepted. Correct and re-send before Amazon's window closes",
                business_key=outbound.file_name, raw_document_id=outbound.raw_document_id,
                dedupe_key=f"transmission_rejected:{outbound.id}:ta1:{raw.id}", session=session))
    return recorded, exception_ids


def _business_key(set_id: str, segments) -> str | None:
    where = BUSINESS_KEYS.get(set_id)
    if where is None:
        return None
    segment_def, field = where
    segment_id, position = segment_def.id, segment_def.positions[field]
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
