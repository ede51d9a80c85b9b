"""remit_to_journals steps over the store and the BlueCherry gateway (no Airflow).

Each step selects its work by status in the store, so a retried, replayed or backfilled
run re-reads the same facts and does nothing twice:

    820 received --classify--> remittance classified (lines, frozen plan)
    classified   --gate------> gated (postings planned) | blocked (exception; nothing posted)
    gated        --post------> posting --> posted (one cash receipt, one journal per type)

The 820s are those po_to_so's intake recorded (it is the one reader of Amazon's download
folder; see dags/remit_to_journals.py). Every write to BlueCherry carries an idempotency
key derived from the trace number (and the deduction type), and its content comes from
the plan frozen at classification: after a crash, the next run sends the same content
under the same key and BlueCherry applies it once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import insert, select

from amazon_bluecherry.edi.documents import RemittanceAdvice
from amazon_bluecherry.edi.parse import DocumentError, parse_transaction
from amazon_bluecherry.edi.reader import iter_transaction_sets
from amazon_bluecherry.flows.exceptions import open_exception
from amazon_bluecherry.flows.remit_codes import INVOICE_PAYMENT, UNRECOGNISED, RemitCodes
from amazon_bluecherry.flows.remit_to_journals import (
    ZERO,
    ClassifiedRemittance,
    PostingPolicy,
    classify_remittance,
    open_invoice_balances,
    plan_effects,
    posting_plan,
)
from amazon_bluecherry.settings import Settings
from amazon_bluecherry.store import Store
from amazon_bluecherry.store.models import (
    ExceptionRecord,
    QualityResult,
    RawDocument,
    Remittance,
    RemittanceLine,
    RemittancePosting,
    Transaction,
    utcnow,
)

log = logging.getLogger(__name__)

UNPOSTED = ("classified", "gated", "posting")   # plans that will still take invoices' open balances
_CHUNK = 500                                     # IN (...) lists stay short


@dataclass
class ClassifyResult:
    remittance_ids: list[int] = field(default_factory=list)
    unreadable: list[int] = field(default_factory=list)           # 820 transaction ids
    unrecognised_lines: int = 0
    unmatched_lines: int = 0
    exception_ids: list[int] = field(default_factory=list)


@dataclass
class GateResult:
    gated: list[int] = field(default_factory=list)
    blocked: list[int] = field(default_factory=list)
    exception_ids: list[int] = field(default_factory=list)
    quality_result_ids: list[int] = field(default_factory=list)


@dataclass
class PostResult:
    posted: list[int] = field(default_factory=list)               # remittance ids now fully posted
    incomplete: list[int] = field(default_factory=list)
    writes: int = 0
    exception_ids: list[int] = field(default_factory=list)


# --- classify -----------------------------------------------------------------------------


def received_remittances(store: Store, *, received_before: dt.datetime | None = None, transaction_ids=None,
                         session) -> list[Transaction]:
    """820 sets the intake accepted and nobody has classified yet (oldest first)."""
    query = select(Transaction).where(Transaction.doc_type == "820", Transaction.direction == "in",
                                      Transaction.status == "received")
    if transaction_ids is not None:
        query = query.where(Transaction.id.in_(list(transaction_ids)))
    if received_before is not None:  # when the file arrived, not when we got round to it
        query = query.join(RawDocument, RawDocument.id == Transaction.raw_document_id).where(
            RawDocument.received_at < received_before)
    return list(session.scalars(query.order_by(Transaction.id)))


def _read_remittances(transactions: list[Transaction], *, session) -> dict[int, tuple[object, dt.datetime]]:
    """The typed 820 of each transaction (or its DocumentError), each raw file read once."""
    wanted: dict[int, dict[tuple, int]] = defaultdict(dict)
    for transaction in transactions:
        wanted[transaction.raw_document_id][(transaction.isa13, transaction.gs06, transaction.st02)] = transaction.id
    found: dict[int, tuple[object, dt.datetime]] = {}
    for raw_document_id, keys in wanted.items():
        raw = session.get(RawDocument, raw_document_id)
        for interchange, group, transaction_set in iter_transaction_sets(raw.content):
            transaction_id = keys.get((interchange.control_number, group.control_number,
                                       transaction_set.control_number))
            if transaction_id is None or transaction_id in found:
                continue
            try:
                document = parse_transaction(transaction_set, interchange, group)
                if not isinstance(document, RemittanceAdvice):
                    raise DocumentError(f"set {transaction_set.set_id} is not an 820")
            except DocumentError as exc:
                document = exc
            found[transaction_id] = (document, raw.received_at)
        for key, transaction_id in keys.items():
            found.setdefault(transaction_id, (DocumentError(f"set {key} not in raw document {raw_document_id}"),
                                              raw.received_at))
    return found


def classify_received(store: Store, gateway, codes: RemitCodes, settings: Settings, *, now: dt.datetime,
                      received_before: dt.datetime | None = None, transaction_ids=None) -> ClassifyResult:
    """Classify every received 820, match its invoices against BlueCherry's open AR, plan its posting."""
    policy = settings.posting_policy
    result = ClassifyResult()
    with store.session() as db:
        pending = received_remittances(store, received_before=received_before, transaction_ids=transaction_ids,
                                       session=db)
        if not pending:
            return result
        documents = _read_remittances(pending, session=db)
        work = [(t.id, t.raw_document_id, t.business_key) for t in pending]
        reserved = _reserved_by_unposted_plans(db)
    balances = open_invoice_balances(gateway.list_open_ar(bc_customer=policy.bc_customer), policy.bc_customer)
    for number, amount in reserved.items():
        if number in balances:
            balances[number] -= amount
    for transaction_id, raw_document_id, business_key in work:
        document, received_at = documents[transaction_id]
        if isinstance(document, DocumentError):
            with store.session() as db:
                store.set_transaction_status(transaction_id, "rejected", session=db)
                result.exception_ids.append(open_exception(
                    store, "edi_rejected",
                    f"820 {business_key or ''} passed validation but cannot be read: {document}. Nothing of it was "
                    "posted; Amazon's 997 already accepted it, so ask Amazon for the remittance details.",
                    business_key=business_key, transaction_id=transaction_id, raw_document_id=raw_document_id,
                    dedupe_key=f"edi_unreadable:{transaction_id}", session=db))
            result.unreadable.append(transaction_id)
            continue
        classified = classify_remittance(document, codes, policy)
        posting_date = classified.payment_date or received_at.date()
        plan = posting_plan(classified, balances, policy, posting_date=posting_date,
                            bluecherry_numbers=_bluecherry_numbers(store, classified))
        for application in plan.applications:
            balances[application.invoice_number] -= application.applied_gross
        with store.session() as db:
            remittance_id = _record(store, db, transaction_id, raw_document_id, received_at, classified, plan)
            result.remittance_ids.append(remittance_id)
            unrecognised = classified.unrecognised
            result.unrecognised_lines += len(unrecognised)
            result.unmatched_lines += len(plan.unmatched)
            for line in unrecognised:
                result.exception_ids.append(open_exception(
                    store, "unrecognised_deduction",
                    f"remittance {classified.trace_number} line {line.line_number}: {line.reference} "
                    f"({line.amount}) matches no row of remit_codes.csv; posted to suspense account "
                    f"{policy.suspense_account}. Identify it, reclassify the amount in BlueCherry, add a row.",
                    business_key=line.reference, transaction_id=transaction_id, raw_document_id=raw_document_id,
                    dedupe_key=f"unrecognised_deduction:{transaction_id}:{line.line_number}",
                    details={"trace_number": classified.trace_number, "line_number": line.line_number,
                             "amount": str(line.amount), "adjustment_codes": list(line.adjustment_codes),
                             "description": line.description}, session=db))
            for unmatched in plan.unmatched:
                result.exception_ids.append(open_exception(
                    store, "unmatched_payment",
                    f"remittance {classified.trace_number} line {unmatched.line_number}: {unmatched.reference} "
                    f"({unmatched.amount}): {unmatched.reason}; the cash is unapplied in BlueCherry.",
                    business_key=unmatched.reference, transaction_id=transaction_id, raw_document_id=raw_document_id,
                    dedupe_key=f"unmatched_payment:{transaction_id}:{unmatched.line_number}",
                    details={"trace_number": classified.trace_number, "line_number": unmatched.line_number,
                             "amount": str(unmatched.amount)}, session=db))
        # Each exception opened above reaches finance through the run's alert_owners task.
    log.info("820s: %s classified, %s unreadable, %s unrecognised line(s), %s unmatched payment(s)",
             len(result.remittance_ids), len(result.unreadable), result.unrecognised_lines, result.unmatched_lines)
    return result


def _bluecherry_numbers(store: Store, classified: ClassifiedRemittance) -> dict[str, str]:
    """Our 810 numbers Amazon quotes -> BlueCherry's invoice numbers, where fulfilment_to_asn
    invoiced under a number of its own (store ``invoices``)."""
    from amazon_bluecherry.store.models import Invoice

    quoted = sorted({line.invoice_number for line in classified.lines if line.invoice_number})
    found: dict[str, str] = {}
    with store.session() as db:
        for start in range(0, len(quoted), _CHUNK):
            for number, bc_number in db.execute(select(Invoice.invoice_number, Invoice.bc_invoice_number).where(
                    Invoice.invoice_number.in_(quoted[start:start + _CHUNK]), Invoice.bc_invoice_number.is_not(None))):
                if bc_number != number:
                    found[number] = bc_number
    return found


def _reserved_by_unposted_plans(session) -> dict[str, Decimal]:
    """Invoice amounts that plans not yet posted will apply (BlueCherry's open AR does not know them yet)."""
    reserved: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for plan in session.scalars(select(Remittance.plan).where(Remittance.status.in_(UNPOSTED))):
        for application in ((plan or {}).get("receipt") or {}).get("applications", []):
            reserved[application["invoice_number"]] += (Decimal(application["amount_applied"])
                                                        + Decimal(application["deduction_amount"]))
    return reserved


def _record(store: Store, db, transaction_id: int, raw_document_id: int, received_at: dt.datetime,
            classified: ClassifiedRemittance, plan) -> int:
    applied = {a.invoice_number: a for a in plan.applications}
    unmatched_lines = {u.line_number for u in plan.unmatched}
    remittance = Remittance(
        transaction_id=transaction_id, raw_document_id=raw_document_id, trace_number=classified.trace_number,
        payment_amount=classified.payment_amount, payment_date=classified.payment_date,
        payment_method=classified.payment_method, currency=classified.currency, payer=classified.payer,
        status="classified", line_count=len(classified.lines),
        unrecognised_amount=sum((line.amount for line in classified.unrecognised), ZERO),
        unmatched_amount=sum((u.amount for u in plan.unmatched), ZERO),
        plan=plan.to_dict(), received_at=received_at)
    db.add(remittance)
    db.flush()
    rows = []
    for line in classified.lines:
        if line.deduction_type == INVOICE_PAYMENT:
            status = ("unmatched" if line.invoice_number not in applied else
                      "partial" if line.line_number in unmatched_lines else "matched")
        else:
            status = "suspense" if line.deduction_type == UNRECOGNISED else "classified"
        rows.append({
            "remittance_id": remittance.id, "line_number": line.line_number, "reference": line.reference,
            "reference_qualifier": line.reference_qualifier, "amount": line.amount,
            "invoice_amount": line.invoice_amount, "adjustment_codes": ",".join(line.adjustment_codes)[:80] or None,
            "adjustment_reference_qualifier": line.adjustment_reference_qualifier,
            "adjustment_reference": (line.adjustment_reference or None) and line.adjustment_reference[:80],
            "purchase_order": line.purchase_order and line.purchase_order[:80],
            "invoice_number": line.invoice_number and line.invoice_number[:80],
            "shipment_id": line.shipment_id and line.shipment_id[:80], "description": line.description,
            "line_date": line.line_date, "deduction_type": line.deduction_type, "gl_account": line.gl_account,
            "owner": line.owner, "rule_line": line.rule_line, "match_status": status})
    if rows:
        db.execute(insert(RemittanceLine.__table__), rows)  # Core executemany: 50,000 lines is one statement
    _link_invoices(store, db, transaction_id, classified)
    store.set_transaction_status(transaction_id, "classified", session=db)
    store.record_event("remittance.classified", entity_type="remittance", entity_id=remittance.id,
                       payload={"trace_number": classified.trace_number, "lines": len(classified.lines),
                                "unrecognised": len(classified.unrecognised), "unmatched": len(plan.unmatched),
                                "payment_amount": str(classified.payment_amount)}, session=db)
    return remittance.id


def _link_invoices(store: Store, db, transaction_id: int, classified: ClassifiedRemittance) -> None:
    """Data path: each 810 we sent -> the 820 that paid it or deducted against it."""
    relation_of: dict[str, str] = {}
    for line in classified.lines:
        if line.invoice_number:
            paid = line.deduction_type == INVOICE_PAYMENT
            relation_of[line.invoice_number] = "paid_by" if paid or relation_of.get(line.invoice_number) == "paid_by" \
                else "deducted_by"
    from amazon_bluecherry.store.models import Invoice

    numbers = list(relation_of)
    for start in range(0, len(numbers), _CHUNK):
        chunk = numbers[start:start + _CHUNK]
        found = set(db.execute(select(Transaction.id, Transaction.business_key).where(
            Transaction.doc_type == "810", Transaction.business_key.in_(chunk))))
        found |= set(db.execute(select(Invoice.transaction_id, Invoice.invoice_number).where(
            Invoice.invoice_number.in_(chunk), Invoice.transaction_id.is_not(None))))
        for invoice_id, number in sorted(found):
            store.link(invoice_id, transaction_id, relation_of[number], session=db)


# --- gate ---------------------------------------------------------------------------------


def _cents(value: Decimal) -> int:
    return int((Decimal(value) * 100).to_integral_value())


def remittance_frames(remittances: list[Remittance], lines: list[tuple], *, accounts: set[str],
                      policy: PostingPolicy, posted_before: dict[int, int]):
    """The two frames the quality gate checks: one row per line, one row per remittance.

    :param lines: ``(remittance_id, line_number, deduction_type, gl_account, amount)`` tuples
    """
    import pandas as pd

    trace_of = {r.id: r.trace_number for r in remittances}
    line_rows = [{"remittance_id": rid, "trace_number": trace_of[rid], "line_number": number,
                  "deduction_type": kind, "gl_account": account or None, "account_known": account in accounts,
                  "suspense_ok": kind != UNRECOGNISED or account == policy.suspense_account}
                 for rid, number, kind, account, _ in lines]
    sums: dict[int, dict[str, Decimal]] = defaultdict(lambda: {"all": ZERO, "invoice": ZERO, "deductions": ZERO})
    for rid, _, kind, _, amount in lines:
        sums[rid]["all"] += amount
        sums[rid]["invoice" if kind == INVOICE_PAYMENT else "deductions"] += amount
    total_rows = []
    for remittance in remittances:
        effects = plan_effects(remittance.plan or {}, ar_account=policy.ar_account,
                               unapplied_cash_account=policy.unapplied_cash_account)
        total_rows.append({
            "remittance_id": remittance.id, "trace_number": remittance.trace_number,
            "payment_cents": _cents(remittance.payment_amount), "lines_cents": _cents(sums[remittance.id]["all"]),
            "cash_cents": _cents(effects["cash"]), "invoice_lines_cents": _cents(sums[remittance.id]["invoice"]),
            "ar_and_unapplied_cents": _cents(effects["ar_and_unapplied"]),
            "deductions_cents": -_cents(sums[remittance.id]["deductions"]),
            "deduction_accounts_cents": _cents(effects["deduction_accounts"]),
            "unbalanced_journals": int(effects["unbalanced_journals"]),
            "posted_before": posted_before.get(remittance.id, 0),
            "plan_problems": len((remittance.plan or {}).get("problems", []))})
    line_columns = ["remittance_id", "trace_number", "line_number", "deduction_type", "gl_account",
                    "account_known", "suspense_ok"]
    return pd.DataFrame(line_rows, columns=line_columns), pd.DataFrame(total_rows)


def gate_classified(store: Store, gateway, settings: Settings, *, now: dt.datetime, run_key: str = "",
                    remittance_ids=None) -> GateResult:
    """The GX checkpoint before posting: remittances that pass are ``gated`` with their postings
    planned; the others are ``blocked`` with an exception, and nothing of them is posted."""
    from amazon_bluecherry.quality.checkpoint import run_checkpoint
    from amazon_bluecherry.quality.suites import remittance_lines_suite, remittance_totals_suite

    policy = settings.posting_policy
    result = GateResult()
    with store.session() as db:
        query = select(Remittance).where(Remittance.status == "classified")
        if remittance_ids is not None:
            query = query.where(Remittance.id.in_(list(remittance_ids)))
        remittances = list(db.scalars(query.order_by(Remittance.id)))
        if not remittances:
            return result
        ids = [r.id for r in remittances]
        lines = []
        for start in range(0, len(ids), _CHUNK):
            lines += list(db.execute(select(
                RemittanceLine.remittance_id, RemittanceLine.line_number, RemittanceLine.deduction_type,
                RemittanceLine.gl_account, RemittanceLine.amount).where(
                RemittanceLine.remittance_id.in_(ids[start:start + _CHUNK])).order_by(
                RemittanceLine.remittance_id, RemittanceLine.line_number)))
        posted_before = _posted_before(db, remittances)
    accounts = {account.account for account in gateway.list_gl_accounts()}
    line_frame, total_frame = remittance_frames(remittances, [tuple(row) for row in lines], accounts=accounts,
                                                policy=policy, posted_before=posted_before)
    outcomes = [
        run_checkpoint("remit_to_journals_lines", line_frame, remittance_lines_suite(),
                       key_columns=["remittance_id", "line_number"]),
        run_checkpoint("remit_to_journals_totals", total_frame, remittance_totals_suite(),
                       key_columns=["remittance_id", "trace_number"]),
    ]
    reasons: dict[int, set[str]] = defaultdict(set)
    for outcome in outcomes:
        for failure in outcome.failures:
            for key in failure.keys:
                reasons[int(key["remittance_id"])].add(failure.description)
    with store.session() as db:
        for outcome in outcomes:
            quality = QualityResult(suite=outcome.suite, run_key=run_key or now.isoformat(), success=outcome.success,
                                    evaluated=outcome.evaluated, failed=len(outcome.failures),
                                    results=outcome.to_dict())
            db.add(quality)
            db.flush()
            result.quality_result_ids.append(quality.id)
        for remittance in remittances:
            remittance = db.get(Remittance, remittance.id)
            why = sorted(reasons.get(remittance.id, ()))
            if why:
                remittance.status = "blocked"
                remittance.blocked_reason = "; ".join(why)
                store.set_transaction_status(remittance.transaction_id, "blocked", session=db)
                message = (f"remittance {remittance.trace_number} ({remittance.payment_amount}) was not posted: "
                           f"{remittance.blocked_reason}")
                dedupe = f"remittance_quality_check_failed:{remittance.id}:" + hashlib.sha256(
                    remittance.blocked_reason.encode()).hexdigest()[:12]
                exception_id, new = _open_once(store, db, "remittance_quality_check_failed", message,
                                               business_key=remittance.trace_number, dedupe_key=dedupe,
                                               transaction_id=remittance.transaction_id,
                                               raw_document_id=remittance.raw_document_id)
                result.exception_ids.append(exception_id)  # its alert: the run's alert_owners task
                result.blocked.append(remittance.id)
                continue
            _plan_postings(db, remittance, policy)
            remittance.status = "gated"
            store.record_event("remittance.gated", entity_type="remittance", entity_id=remittance.id,
                               payload={"trace_number": remittance.trace_number}, session=db)
            result.gated.append(remittance.id)
    log.info("remittance gate: %s passed, %s blocked", len(result.gated), len(result.blocked))
    return result


def _posted_before(db, remittances: list[Remittance]) -> dict[int, int]:
    """Per remittance: other copies of its trace number already on their way to BlueCherry,
    or earlier in this batch (the first copy goes on, later ones are blocked)."""
    traces = sorted({r.trace_number for r in remittances})
    taken: dict[str, set[int]] = defaultdict(set)
    for start in range(0, len(traces), _CHUNK):
        for rid, trace in db.execute(select(Remittance.id, Remittance.trace_number).where(
                Remittance.trace_number.in_(traces[start:start + _CHUNK]),
                Remittance.status.in_(("gated", "posting", "posted")))):
            taken[trace].add(rid)
    counts = {}
    for remittance in remittances:
        counts[remittance.id] = len(taken[remittance.trace_number] - {remittance.id})
        taken[remittance.trace_number].add(remittance.id)
    return counts


def _plan_postings(db, remittance: Remittance, policy: PostingPolicy) -> None:
    from amazon_bluecherry.bluecherry.gateway import derive_idempotency_key

    plan = remittance.plan or {}
    existing = {(p.kind, p.deduction_type) for p in db.scalars(
        select(RemittancePosting).where(RemittancePosting.remittance_id == remittance.id))}
    receipt = plan.get("receipt")
    if receipt and ("cash_receipt", "") not in existing:
        db.add(RemittancePosting(
            remittance_id=remittance.id, kind="cash_receipt", deduction_type="", reference=receipt["receipt_number"],
            idempotency_key=derive_idempotency_key("cash_receipt", policy.bc_customer, remittance.trace_number),
            amount=Decimal(receipt["amount"]), status="planned"))
    for journal in plan.get("journals", []):
        if ("journal", journal["deduction_type"]) in existing:
            continue
        db.add(RemittancePosting(
            remittance_id=remittance.id, kind="journal", deduction_type=journal["deduction_type"],
            reference=journal["entry"]["reference"],
            idempotency_key=derive_idempotency_key("journal_entry", remittance.trace_number, journal["deduction_type"]),
            amount=Decimal(journal["amount"]), status="planned"))
    db.flush()


def _open_once(store: Store, db, type: str, message: str, *, dedupe_key: str, **links) -> tuple[int, bool]:
    """Open an exception; ``new`` is False when the same one was already open (no second alert)."""
    known = db.scalar(select(ExceptionRecord.id).where(ExceptionRecord.dedupe_key == dedupe_key))
    if known is not None:
        return known, False
    return open_exception(store, type, message, dedupe_key=dedupe_key, session=db, **links), True


# --- post ---------------------------------------------------------------------------------


def post_gated(store: Store, gateway, settings: Settings, *, remittance_ids=None) -> PostResult:
    """Write every gated (or half-posted) remittance to BlueCherry: the receipt first, then each journal.

    A posting is marked ``posted`` in its own transaction right after BlueCherry took it, so
    a crash anywhere leaves at most one write whose key BlueCherry already knows. If
    BlueCherry is unreachable the remittance stays ``posting`` and the step raises at the
    end (Airflow retries). A refusal is a critical exception; a refused receipt stops the
    remittance before any journal (nothing half-posted), a refused journal leaves the
    others to post and the remittance ``posting`` until a later run completes it.
    """
    from amazon_bluecherry.bluecherry.gateway import TransientGatewayError

    result = PostResult()
    transient: dict[str, str] = {}  # trace number -> why BlueCherry could not be reached
    for remittance_id in _postable(store, remittance_ids):
        if _post_remittance(store, gateway, remittance_id, result, transient):
            _mark_posted(store, remittance_id)
            result.posted.append(remittance_id)
        else:
            result.incomplete.append(remittance_id)
    if transient:
        raise TransientGatewayError(
            f"BlueCherry was unavailable for {len(transient)} remittance(s); they stay posting for the retry: "
            + "; ".join(f"{trace}: {reason}" for trace, reason in list(transient.items())[:5]))
    log.info("remittances: %s posted, %s incomplete, %s write(s)", len(result.posted), len(result.incomplete),
             result.writes)
    return result


def _postable(store: Store, remittance_ids) -> list[int]:
    """Gated remittances, and those a crash or an outage left half-posted."""
    with store.session() as db:
        query = select(Remittance.id).where(Remittance.status.in_(("gated", "posting")))
        if remittance_ids is not None:
            query = query.where(Remittance.id.in_(list(remittance_ids)))
        return list(db.scalars(query.order_by(Remittance.id)))


def _post_remittance(store: Store, gateway, remittance_id: int, result: PostResult,
                     transient: dict[str, str]) -> bool:
    """Each posting BlueCherry does not have yet, the cash receipt first; True when none is left."""
    from amazon_bluecherry.bluecherry.gateway import GatewayError, TransientGatewayError
    from amazon_bluecherry.bluecherry.models import CashReceipt, JournalEntry

    with store.session() as db:
        remittance = db.get(Remittance, remittance_id)
        trace, plan, transaction_id = remittance.trace_number, remittance.plan or {}, remittance.transaction_id
        if remittance.status != "posting":
            remittance.status = "posting"
            store.set_transaction_status(transaction_id, "posting", session=db)
        postings = [(p.id, p.kind, p.deduction_type, p.idempotency_key) for p in db.scalars(
            select(RemittancePosting).where(RemittancePosting.remittance_id == remittance_id,
                                            RemittancePosting.status != "posted")
            .order_by(RemittancePosting.kind, RemittancePosting.id))]  # cash_receipt sorts before journal
    journals = {journal["deduction_type"]: journal["entry"] for journal in plan.get("journals", [])}
    complete = True
    for posting_id, kind, deduction_type, key in postings:
        try:
            if kind == "cash_receipt":
                written = gateway.record_cash_receipt(CashReceipt.model_validate(plan["receipt"]),
                                                      idempotency_key=key)
            else:
                written = gateway.post_journal_entry(JournalEntry.model_validate(journals[deduction_type]),
                                                     idempotency_key=key)
        except TransientGatewayError as exc:
            transient[trace] = str(exc)
            return False
        except GatewayError as exc:
            complete = False
            result.exception_ids.append(_posting_refused(store, posting_id, kind, deduction_type, trace,
                                                         transaction_id, exc))
            if kind == "cash_receipt":
                return False  # no journal without its receipt
            continue
        result.writes += 1
        _record_posting(store, remittance_id, posting_id, kind, deduction_type, key, written)
    return complete


def _posting_refused(store: Store, posting_id: int, kind: str, deduction_type: str | None, trace: str,
                     transaction_id: int, problem: Exception) -> int:
    """The posting is failed and finance gets a critical exception (its alert: the run's alert_owners task)."""
    with store.session() as db:
        posting = db.get(RemittancePosting, posting_id)
        posting.status, posting.error = "failed", str(problem)[:2000]
        what = "cash receipt" if kind == "cash_receipt" else f"{deduction_type} journal"
        message = (f"remittance {trace}: BlueCherry refused the {what} ({posting.reference}): {problem}. "
                   + ("Nothing of the remittance was posted." if kind == "cash_receipt" else
                      "The rest of the remittance is posted; it stays incomplete until this is."))
        exception_id, _new = _open_once(
            store, db, "remittance_posting_failed", message, business_key=trace,
            dedupe_key=f"remittance_posting_failed:{posting_id}:"
                       + hashlib.sha256(str(problem).encode()).hexdigest()[:12],
            transaction_id=transaction_id)
    return exception_id


def _record_posting(store: Store, remittance_id: int, posting_id: int, kind: str, deduction_type: str | None,
                    key: str, written) -> None:
    """BlueCherry took it: posted, in its own transaction (a crash after this never writes it again)."""
    with store.session() as db:
        posting = db.get(RemittancePosting, posting_id)
        posting.status, posting.error = "posted", None
        posting.document_number, posting.outcome = written.document_number, written.outcome
        posting.posted_at = utcnow()
        store.record_event("remittance.posting", entity_type="remittance", entity_id=remittance_id,
                           payload={"kind": kind, "deduction_type": deduction_type, "key": key,
                                    "document_number": written.document_number,
                                    "outcome": written.outcome}, session=db)


def _mark_posted(store: Store, remittance_id: int) -> None:
    with store.session() as db:
        remittance = db.get(Remittance, remittance_id)
        remittance.status, remittance.posted_at = "posted", utcnow()
        store.set_transaction_status(remittance.transaction_id, "posted", session=db)
        store.record_event("remittance.posted", entity_type="remittance", entity_id=remittance_id,
                           payload={"trace_number": remittance.trace_number}, session=db)


# --- by hand ------------------------------------------------------------------------------


def requeue_remittance(store: Store, trace_number: str, *, note: str | None = None) -> int:
    """Send a blocked (never posted) remittance through classification again (after a fix).

    Returns the 820 transaction id. Raises ``ValueError`` when nothing can be requeued.
    """
    from sqlalchemy import delete

    with store.session() as db:
        remittance = db.scalar(select(Remittance).where(Remittance.trace_number == trace_number)
                               .order_by(Remittance.id.desc()).limit(1))
        if remittance is None:
            raise ValueError(f"no remittance with trace number {trace_number}")
        if remittance.status not in ("classified", "blocked"):
            raise ValueError(f"remittance {trace_number} is {remittance.status}; only blocked remittances (nothing "
                             "posted) can be classified again")
        if db.scalar(select(RemittancePosting.id).where(RemittancePosting.remittance_id == remittance.id,
                                                        RemittancePosting.status == "posted").limit(1)):
            raise ValueError(f"remittance {trace_number} has postings in BlueCherry; it cannot be classified again")
        transaction_id, was = remittance.transaction_id, remittance.status
        db.execute(delete(RemittancePosting).where(RemittancePosting.remittance_id == remittance.id))
        db.execute(delete(RemittanceLine).where(RemittanceLine.remittance_id == remittance.id))
        db.delete(remittance)
        store.set_transaction_status(transaction_id, "received", session=db)
        store.record_event("remittance.requeued", entity_type="820", entity_id=transaction_id,
                           payload={"trace_number": trace_number, "was": was, "note": note}, session=db)
        return transaction_id
