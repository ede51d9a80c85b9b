"""Month-end reconciliation: Amazon's remittances set against the BlueCherry ledger and AR.

``gather_facts`` reads what was known at an instant (``as_of``) from the store and the
gateway; ``build_reconciliation`` (pure) turns the facts into sections, totals and
tie-outs; ``write_report`` renders the CSV and the HTML (with charts) and copies the raw
documents the report links to. The same facts give the same bytes: a backfill of a past
month reproduces the original report.

What "as of" means: a remittance counts when its 820 had reached us by ``as_of`` and its
payment date is in the period; the BlueCherry ledger is read for the period but only the
postings of those remittances count; an invoice counts when dated by ``as_of`` and is paid
by what those remittances (and earlier ones) paid; a PO counts when received in the
period by ``as_of``; an ASN when sent in the period by ``as_of``.

Tie-outs (each must be 0.00):
- remittances: BPR = invoice payments + deductions (the 820s add up);
- cash: BPR of the posted remittances = cash debited in BlueCherry for their receipts;
- AR: invoice payments of the posted remittances = AR + unapplied cash credited for them;
- one per deduction type: the remittance lines = the typed journals in the GL.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import html
import io
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from amazon_bluecherry.flows.remit_codes import DEDUCTION_TYPES, INVOICE_PAYMENT, UNRECOGNISED

ZERO = Decimal("0.00")
SECTIONS = (
    ("remittance", "Remittances in the period"),
    ("paid_in_full", "Invoices paid in full"),
    ("short_paid", "Invoices short-paid (by deduction type)"),
    ("unpaid_past_terms", "Invoices unpaid past terms"),
    ("unmatched_payment", "Payments we cannot match"),
    ("po_not_in_bluecherry", "POs that never reached BlueCherry"),
    ("asn_without_invoice", "ASNs without invoices"),
)
CSV_COLUMNS = ("section", "key", "document", "related", "date", "amount", "deduction_type", "status", "detail",
               "drill_down")


def month_bounds(period: str) -> tuple[dt.date, dt.date]:
    """First and last day of ``YYYY-MM``."""
    first = dt.date.fromisoformat(f"{period}-01")
    following = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return first, following - dt.timedelta(days=1)


def period_of(instant: dt.datetime) -> str:
    return f"{instant:%Y-%m}"


# --- facts ---------------------------------------------------------------------------------


@dataclass
class RemittanceFact:
    id: int
    trace_number: str
    payment_date: dt.date
    payment_amount: Decimal
    status: str
    raw_document_id: int | None
    receipt_number: str | None
    journal_references: dict[str, str]          # deduction type -> journal reference
    lines: list[dict]                           # line_number, reference, amount, deduction_type, gl_account,
    #                                             invoice_number, match_status, shipment_id, purchase_order
    unmatched: list[dict]                       # from the plan: line_number, reference, amount, reason


@dataclass
class Facts:
    period: str
    as_of: dt.datetime
    policy: object                              # PostingPolicy
    cash_account: str
    remittances: list[RemittanceFact]
    paid_by_invoice: dict[str, list[tuple]]     # invoice -> [(trace, payment date, amount, deduction type)]
    invoices: list                              # BlueCherry Invoice models of the customer, dated by as_of
    quoted_numbers: dict[str, str]              # BlueCherry invoice number -> number Amazon quotes (our 810)
    ledger: list                                # BlueCherry LedgerLine of the period
    purchase_orders: list[dict]                 # po, received_at, status, reason, transaction_id, raw_document_id
    ship_notices: list[dict]                    # shipment_id, sent_at, purchase_orders, invoiced, raw_document_id
    documents: dict[str, int] = field(default_factory=dict)   # file name in documents/ -> raw document id


# --- the report ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    section: str
    key: str
    document: str
    related: str = ""
    date: str = ""
    amount: Decimal = ZERO
    deduction_type: str = ""
    status: str = ""
    detail: str = ""
    drill_down: str = ""


@dataclass(frozen=True)
class TieOut:
    name: str
    left_label: str
    left: Decimal
    right_label: str
    right: Decimal

    @property
    def difference(self) -> Decimal:
        return self.left - self.right

    @property
    def ok(self) -> bool:
        return self.difference == 0


@dataclass
class Reconciliation:
    period: str
    as_of: dt.datetime
    rows: list[Row]
    ties: list[TieOut]
    summary: dict[str, str]
    by_type: dict[str, tuple[Decimal, Decimal]]     # deduction type -> (remittance lines, GL)
    documents: dict[str, int] = field(default_factory=dict)

    @property
    def ties_out(self) -> bool:
        return all(tie.ok for tie in self.ties)

    def section_total(self, section: str) -> Decimal:
        return sum((row.amount for row in self.rows if row.section == section), ZERO)

    def to_csv(self) -> bytes:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        for row in self.rows:
            writer.writerow([row.section, row.key, row.document, row.related, row.date, f"{row.amount:.2f}",
                             row.deduction_type, row.status, row.detail, row.drill_down])
        for section, _title in SECTIONS:
            count = sum(1 for row in self.rows if row.section == section)
            writer.writerow([f"total:{section}", "", f"{count} row(s)", "", "", f"{self.section_total(section):.2f}",
                             "", "", "", ""])
        for name, (lines, ledger) in self.by_type.items():
            writer.writerow(["by_type", name, "remittance lines", "GL", "", f"{lines:.2f}", name,
                             "ties" if lines == ledger else "DIFFERS", f"GL {ledger:.2f}", ""])
        for tie in self.ties:
            writer.writerow(["tie_out", tie.name, tie.left_label, tie.right_label, "", f"{tie.difference:.2f}", "",
                             "ties" if tie.ok else "DIFFERS", f"{tie.left:.2f} vs {tie.right:.2f}", ""])
        for key, value in self.summary.items():
            writer.writerow(["summary", key, "", "", "", "", "", "", value, ""])
        return out.getvalue().encode()

    @property
    def content_sha256(self) -> str:
        return hashlib.sha256(self.to_csv()).hexdigest()

    def totals(self) -> dict:
        return {"ties_out": self.ties_out, "summary": self.summary,
                "sections": {section: str(self.section_total(section)) for section, _ in SECTIONS},
                "by_type": {name: {"lines": str(lines), "gl": str(ledger)} for name, (lines, ledger) in
                            self.by_type.items()},
                "ties": [{"name": tie.name, "difference": str(tie.difference)} for tie in self.ties]}


def build_reconciliation(facts: Facts) -> Reconciliation:
    """Sections, tie-outs and summary from the facts (pure): what Amazon paid and deducted, what
    BlueCherry's GL holds of it, each invoice's fate, and documents that went missing."""
    remittances = sorted(facts.remittances, key=lambda r: (r.payment_date, r.trace_number, r.id))
    posted = [r for r in remittances if r.status == "posted"]
    money = _remittance_rows(facts, remittances)
    by_type, ties = _tie_outs(facts, posted, money)
    invoice_rows, invoice_totals = _invoice_rows(facts)
    rows = money.rows + invoice_rows + _missing_document_rows(facts)
    summary = {
        "period": facts.period,
        "as_of": facts.as_of.isoformat(),
        "remittances": str(len(remittances)),
        "remittances_posted": str(len(posted)),
        "payment_total": f"{money.bpr:.2f}",
        "invoice_payments": f"{money.invoice_payments:.2f}",
        "deductions": f"{money.deductions:.2f}",
        "automatically_matched_and_posted_percent": f"{money.automation_percent().quantize(Decimal('0.01'))}",
        "automatically_matched_and_posted_dollars": f"{money.automatic:.2f}",
        "remittance_dollars": f"{money.total_dollars:.2f}",
        **{f"invoices_{name.replace(' ', '_')}": f"{amount:.2f}" for name, amount in sorted(invoice_totals.items())},
    }
    return Reconciliation(period=facts.period, as_of=facts.as_of, rows=rows, ties=ties, summary=summary,
                          by_type=by_type, documents=dict(facts.documents))


@dataclass
class _RemittanceMoney:
    """What the month's remittances hold, and their rows of the report."""

    rows: list[Row] = field(default_factory=list)
    bpr: Decimal = ZERO
    invoice_payments: Decimal = ZERO
    deductions: Decimal = ZERO
    lines_by_type: dict[str, Decimal] = field(default_factory=lambda: defaultdict(lambda: ZERO))
    automatic: Decimal = ZERO  # dollars matched or classified and posted without a person
    total_dollars: Decimal = ZERO

    def automation_percent(self) -> Decimal:
        return (self.automatic / self.total_dollars * 100) if self.total_dollars else Decimal(100)


def _remittance_rows(facts: Facts, remittances: list[RemittanceFact]) -> _RemittanceMoney:
    """One row per 820, one per payment we could not apply and one per line in suspense."""
    money = _RemittanceMoney()
    for remittance in remittances:
        paid = sum((Decimal(x["amount"]) for x in remittance.lines if x["deduction_type"] == INVOICE_PAYMENT), ZERO)
        deducted = sum((Decimal(x["amount"]) for x in remittance.lines if x["deduction_type"] != INVOICE_PAYMENT), ZERO)
        money.bpr += remittance.payment_amount
        money.invoice_payments += paid
        money.deductions += deducted
        money.rows.append(Row(
            "remittance", remittance.trace_number, f"820 TRN {remittance.trace_number}",
            related=remittance.receipt_number or "", date=remittance.payment_date.isoformat(),
            amount=remittance.payment_amount, status=remittance.status,
            detail=f"{len(remittance.lines)} line(s): invoices {paid:.2f}, deductions {deducted:.2f}",
            drill_down=_document_link(facts, "820", remittance.trace_number, remittance.raw_document_id)))
        for line in remittance.lines:
            amount = Decimal(line["amount"])
            money.total_dollars += abs(amount)
            if remittance.status == "posted" and line["match_status"] in ("matched", "classified"):
                money.automatic += abs(amount)
            if remittance.status == "posted" and line["deduction_type"] != INVOICE_PAYMENT:
                money.lines_by_type[line["deduction_type"]] += amount
        money.rows += _unapplied_rows(remittance)
    return money


def _unapplied_rows(remittance: RemittanceFact) -> list[Row]:
    """Payments no open invoice took (unapplied cash), then lines no remit code recognised (suspense)."""
    where = {"related": f"820 TRN {remittance.trace_number}", "date": remittance.payment_date.isoformat(),
             "drill_down": f"amazon-bluecherry remit show {remittance.trace_number}"}
    rows = [Row("unmatched_payment", f"{remittance.trace_number}/{unmatched['line_number']}", unmatched["reference"],
                amount=Decimal(unmatched["amount"]), deduction_type=INVOICE_PAYMENT, status="unapplied cash",
                detail=unmatched["reason"], **where)
            for unmatched in remittance.unmatched]
    rows += [Row("unmatched_payment", f"{remittance.trace_number}/{line['line_number']}", line["reference"],
                 amount=Decimal(line["amount"]), deduction_type=UNRECOGNISED, status=f"suspense {line['gl_account']}",
                 detail="no row of remit_codes.csv recognises it", **where)
             for line in remittance.lines if line["deduction_type"] == UNRECOGNISED]
    return rows


def _tie_outs(facts: Facts, posted: list[RemittanceFact], money: _RemittanceMoney):
    """The GL's side (only the postings of these remittances, in the period) against the 820s':
    returns (by deduction type: (lines, GL)), the tie-outs."""
    policy = facts.policy
    receipts = {r.receipt_number: r for r in posted if r.receipt_number}
    journals = {reference: (r, kind) for r in posted for kind, reference in r.journal_references.items()}
    gl_cash = gl_ar = ZERO
    gl_by_type: dict[str, Decimal] = defaultdict(lambda: ZERO)
    counter_accounts = (policy.ar_account, policy.unapplied_cash_account)
    for line in facts.ledger:
        if line.reference in receipts:
            if line.account == facts.cash_account:
                gl_cash += line.debit - line.credit
            elif line.account in counter_accounts:
                gl_ar += line.credit - line.debit
        elif line.reference in journals:
            if line.account in counter_accounts:
                gl_ar += line.credit - line.debit
            else:
                gl_by_type[journals[line.reference][1]] -= line.debit - line.credit
    posted_bpr = sum((r.payment_amount for r in posted), ZERO)
    posted_invoices = sum((Decimal(x["amount"]) for r in posted for x in r.lines
                           if x["deduction_type"] == INVOICE_PAYMENT), ZERO)
    names = [name for name in DEDUCTION_TYPES if name != INVOICE_PAYMENT and
             (name in money.lines_by_type or name in gl_by_type)]
    by_type = {name: (money.lines_by_type.get(name, ZERO), gl_by_type.get(name, ZERO)) for name in names}
    ties = [
        TieOut("remittances add up", "BPR payment amounts", money.bpr, "invoice payments + deductions",
               money.invoice_payments + money.deductions),
        TieOut("cash", "BPR of posted remittances", posted_bpr, "cash debited in BlueCherry", gl_cash),
        TieOut("AR", "invoice payments of posted remittances", posted_invoices,
               "AR + unapplied cash credited in BlueCherry", gl_ar),
        *[TieOut(f"journal {name}", "remittance lines", lines, "GL journals", ledger)
          for name, (lines, ledger) in by_type.items()],
    ]
    return by_type, ties


def _invoice_rows(facts: Facts) -> tuple[list[Row], dict[str, Decimal]]:
    """Invoices paid in full, short-paid (by deduction type) or unpaid past terms; and the
    dollars in each of those states."""
    first, last = month_bounds(facts.period)
    as_of_day = facts.as_of.date()
    rows: list[Row] = []
    totals: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for invoice in sorted(facts.invoices, key=lambda i: (i.invoice_date, i.invoice_number)):
        quoted = facts.quoted_numbers.get(invoice.invoice_number, invoice.invoice_number)
        events = facts.paid_by_invoice.get(quoted, []) + (
            facts.paid_by_invoice.get(invoice.invoice_number, []) if quoted != invoice.invoice_number else [])
        paid = sum((amount for _, _, amount, kind in events if kind == INVOICE_PAYMENT), ZERO)
        claimed: dict[str, Decimal] = defaultdict(lambda: ZERO)
        for _, _, amount, kind in events:
            if kind != INVOICE_PAYMENT:
                claimed[kind] += amount
        in_period = any(first <= day <= last for _, day, _, _ in events)
        link = f"amazon-bluecherry trace {quoted}"
        about = {"related": invoice.customer_po, "date": invoice.invoice_date.isoformat(), "drill_down": link}
        if paid and in_period:
            if paid >= invoice.total and sum(claimed.values(), ZERO) >= 0:
                rows.append(Row("paid_in_full", invoice.invoice_number, f"invoice {quoted}", amount=paid,
                                status="paid", detail=f"invoiced {invoice.total:.2f}; paid by {_traces(events)}",
                                **about))
                totals["paid in full"] += paid
                continue
            short = [(kind, amount) for kind, amount in sorted(claimed.items()) if amount < 0]
            if paid < invoice.total:
                short.append(("underpaid", paid - invoice.total))
            rows += [Row("short_paid", f"{invoice.invoice_number}/{kind}", f"invoice {quoted}", amount=amount,
                         deduction_type=kind, status="short-paid",
                         detail=f"invoiced {invoice.total:.2f}, paid {paid:.2f}; {_traces(events)}", **about)
                     for kind, amount in short]
            totals["short-paid"] += -sum((amount for _, amount in short), ZERO)
        elif not paid and invoice.due_date < as_of_day and invoice.due_date <= last:
            rows.append(Row("unpaid_past_terms", invoice.invoice_number, f"invoice {quoted}", amount=invoice.total,
                            status=f"due {invoice.due_date.isoformat()}",
                            detail=f"{(as_of_day - invoice.due_date).days} day(s) past terms ({invoice.terms_code})",
                            **about))
            totals["unpaid past terms"] += invoice.total
    return rows, totals


def _missing_document_rows(facts: Facts) -> list[Row]:
    """850s that never became a sales order, and 856s sent without an 810."""
    rows = [Row("po_not_in_bluecherry", order["po"], f"850 PO {order['po']}",
                date=order["received_at"].date().isoformat(), status=order["status"], detail=order["reason"],
                drill_down=_document_link(facts, "850", order["po"], order.get("raw_document_id")))
            for order in facts.purchase_orders]
    rows += [Row("asn_without_invoice", notice["shipment_id"], f"856 {notice['shipment_id']}",
                 related=", ".join(notice["purchase_orders"]), date=notice["sent_at"].date().isoformat(),
                 status="no invoice sent", detail="the ASN went to Amazon; no 810 for it yet",
                 drill_down=_document_link(facts, "856", notice["shipment_id"], notice.get("raw_document_id")))
             for notice in facts.ship_notices]
    return rows


def _traces(events) -> str:
    return ", ".join(sorted({f"{trace} ({day.isoformat()})" for trace, day, _, _ in events}))


def _document_link(facts: Facts, kind: str, key: str, raw_document_id: int | None) -> str:
    if raw_document_id is None:
        return f"amazon-bluecherry trace {key}"
    name = f"documents/{kind}-{_safe(key)}-{raw_document_id}.edi"
    facts.documents[name] = raw_document_id
    return name


def _safe(text: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in text)[:60]


# --- gathering the facts (store + gateway) ----------------------------------------------------


def gather_facts(store, gateway, settings, *, period: str, as_of: dt.datetime) -> Facts:
    """What the store and BlueCherry knew about ``period`` at ``as_of``."""
    from sqlalchemy import select

    from amazon_bluecherry.store.models import Remittance, RemittanceLine, RemittancePosting

    policy = settings.posting_policy
    first, last = month_bounds(period)
    remittances: list[RemittanceFact] = []
    paid_by_invoice: dict[str, list[tuple]] = defaultdict(list)
    with store.session() as db:
        known = list(db.scalars(select(Remittance).where(
            Remittance.received_at <= as_of, Remittance.payment_date <= as_of.date()).order_by(Remittance.id)))
        ids = [r.id for r in known]
        lines: dict[int, list] = defaultdict(list)
        for start in range(0, len(ids), 500):
            for line in db.scalars(select(RemittanceLine).where(RemittanceLine.remittance_id.in_(ids[start:start + 500]))
                                   .order_by(RemittanceLine.remittance_id, RemittanceLine.line_number)):
                lines[line.remittance_id].append(line)
        postings: dict[int, list] = defaultdict(list)
        for start in range(0, len(ids), 500):
            for posting in db.scalars(select(RemittancePosting).where(
                    RemittancePosting.remittance_id.in_(ids[start:start + 500]))):
                postings[posting.remittance_id].append(posting)
        for remittance in known:
            for line in lines[remittance.id]:
                if line.invoice_number and remittance.status == "posted":
                    paid_by_invoice[line.invoice_number].append(
                        (remittance.trace_number, remittance.payment_date, line.amount, line.deduction_type))
            if not (first <= remittance.payment_date <= last):
                continue
            remittances.append(RemittanceFact(
                id=remittance.id, trace_number=remittance.trace_number, payment_date=remittance.payment_date,
                payment_amount=remittance.payment_amount, status=remittance.status,
                raw_document_id=remittance.raw_document_id,
                receipt_number=next((p.reference for p in postings[remittance.id] if p.kind == "cash_receipt"), None),
                journal_references={p.deduction_type: p.reference for p in postings[remittance.id] if p.kind == "journal"},
                lines=[{"line_number": x.line_number, "reference": x.reference, "amount": x.amount,
                        "deduction_type": x.deduction_type, "gl_account": x.gl_account,
                        "invoice_number": x.invoice_number, "match_status": x.match_status} for x in lines[remittance.id]],
                unmatched=(remittance.plan or {}).get("unmatched", [])))
        purchase_orders = _purchase_orders_not_loaded(store, db, first, last, as_of)
        ship_notices, quoted = _ship_notices_without_invoices(db, first, last, as_of)
    invoices = [i for i in gateway.list_invoices() if i.bc_customer == policy.bc_customer
                and i.invoice_date <= as_of.date()]
    purchase_orders = _confirm_not_in_bluecherry(gateway, purchase_orders, policy.bc_customer, as_of)
    return Facts(period=period, as_of=as_of, policy=policy, cash_account=settings.remit_cash_account,
                 remittances=remittances, paid_by_invoice=dict(paid_by_invoice), invoices=invoices,
                 quoted_numbers=quoted, ledger=gateway.list_ledger_lines(period), purchase_orders=purchase_orders,
                 ship_notices=ship_notices)


LOADED = ("loaded", "acknowledged")


def _status_as_of(store, db, transaction_ids: list[int], as_of: dt.datetime) -> dict[int, str]:
    """Each transaction's status at ``as_of``, from its events (the audit trail)."""
    from sqlalchemy import select

    from amazon_bluecherry.store.models import Event

    found: dict[int, str] = {}
    keys = [str(i) for i in transaction_ids]
    for start in range(0, len(keys), 500):
        for entity_id, kind in db.execute(select(Event.entity_id, Event.kind).where(
                Event.entity_id.in_(keys[start:start + 500]), Event.kind.like("transaction.%"),
                Event.at <= as_of).order_by(Event.id)):
            found[int(entity_id)] = kind.removeprefix("transaction.")
    return found


def _purchase_orders_not_loaded(store, db, first: dt.date, last: dt.date, as_of: dt.datetime) -> list[dict]:
    """850s received in the period (by ``as_of``) whose newest copy had no sales order by then."""
    from sqlalchemy import select

    from amazon_bluecherry.store.models import RawDocument, Transaction

    start = dt.datetime.combine(first, dt.time(), tzinfo=dt.UTC)
    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
    rows = list(db.execute(
        select(Transaction.id, Transaction.business_key, Transaction.raw_document_id, RawDocument.received_at)
        .join(RawDocument, RawDocument.id == Transaction.raw_document_id)
        .where(Transaction.doc_type == "850", Transaction.direction == "in", RawDocument.received_at >= start,
               RawDocument.received_at < end, RawDocument.received_at <= as_of)
        .order_by(Transaction.id)))
    statuses = _status_as_of(store, db, [row.id for row in rows], as_of)
    newest: dict[str, tuple] = {}
    ever_loaded: set[str] = set()
    for row in rows:
        status = statuses.get(row.id, "received")
        if status in LOADED:
            ever_loaded.add(row.business_key)
        if status != "superseded":
            newest[row.business_key] = (row, status)
    found = []
    for po, (row, status) in sorted(newest.items(), key=lambda item: item[1][0].received_at):
        if po in ever_loaded or status in LOADED:
            continue
        reason = {"rejected": "the 850 was rejected (edi_rejected; a 997 with errors went to Amazon)",
                  "held": "held for wholesale (see its exceptions)", "load_failed": "BlueCherry refused it",
                  "acknowledge_only": "every line rejected (855 sent, nothing to load)",
                  "translated": "translated, not loaded yet", "received": "not translated yet"}.get(
            status, f"status {status}")
        found.append({"po": po, "received_at": row.received_at, "status": status, "reason": reason,
                      "transaction_id": row.id, "raw_document_id": row.raw_document_id})
    return found


def _confirm_not_in_bluecherry(gateway, orders: list[dict], bc_customer: str, as_of: dt.datetime) -> list[dict]:
    """Drop the POs BlueCherry has a sales order for by ``as_of`` (entered by hand, say)."""
    if not orders:
        return orders
    existing = {order.customer_po for order in gateway.list_sales_orders(
        customer_pos=[o["po"] for o in orders], bc_customer=bc_customer) if order.created_at <= as_of}
    return [o for o in orders if o["po"] not in existing]


def _ship_notices_without_invoices(db, first: dt.date, last: dt.date, as_of: dt.datetime):
    """ASNs sent in the period (by ``as_of``) with no invoice sent by then; and our 810 numbers."""
    from sqlalchemy import select

    from amazon_bluecherry.store.models import Invoice, OutboundDocument, ShipNotice

    start = dt.datetime.combine(first, dt.time(), tzinfo=dt.UTC)
    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
    quoted = {bc: ours for ours, bc in db.execute(select(Invoice.invoice_number, Invoice.bc_invoice_number).where(
        Invoice.invoice_number.is_not(None), Invoice.bc_invoice_number.is_not(None)))}
    invoiced: set[str] = set()
    for shipment_id, sent_at in db.execute(
            select(Invoice.shipment_id, OutboundDocument.sent_at)
            .join(OutboundDocument, OutboundDocument.id == Invoice.outbound_document_id)
            .where(OutboundDocument.sent_at.is_not(None))):
        if sent_at <= as_of:
            invoiced.add(shipment_id)
    found = []
    for notice, sent_at, raw_document_id in db.execute(
            select(ShipNotice, OutboundDocument.sent_at, OutboundDocument.raw_document_id)
            .join(OutboundDocument, OutboundDocument.id == ShipNotice.outbound_document_id)
            .where(OutboundDocument.sent_at >= start, OutboundDocument.sent_at < end)
            .order_by(OutboundDocument.sent_at, ShipNotice.shipment_id)):
        if sent_at <= as_of and notice.shipment_id not in invoiced:
            found.append({"shipment_id": notice.shipment_id, "sent_at": sent_at,
                          "purchase_orders": list(notice.purchase_orders or []), "raw_document_id": raw_document_id})
    return found, quoted


# --- rendering -------------------------------------------------------------------------------


def write_report(reconciliation: Reconciliation, folder: Path, store) -> dict[str, Path]:
    """``reconciliation-<period>.csv`` and ``.html`` in ``folder``, with the raw documents they link to."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "documents").mkdir(exist_ok=True)
    paths = {"csv": folder / f"reconciliation-{reconciliation.period}.csv",
             "html": folder / f"reconciliation-{reconciliation.period}.html"}
    paths["csv"].write_bytes(reconciliation.to_csv())
    paths["html"].write_text(render_html(reconciliation), encoding="utf-8")
    for name, raw_document_id in sorted(reconciliation.documents.items()):
        target = folder / name
        if not target.exists():
            target.write_bytes(store.get_raw_document(raw_document_id).content)
    return paths


def _bar_chart(title: str, bars: list[tuple[str, Decimal, Decimal | None]], labels: tuple[str, str]) -> str:
    """An inline SVG bar chart; each bar a pair (left, right) when ``right`` is given."""
    if not bars:
        return ""
    width, row_height, label_width = 760, 26, 230
    biggest = max((max(abs(a), abs(b or 0)) for _, a, b in bars), default=Decimal(1)) or Decimal(1)
    scale = Decimal(width - label_width - 110) / biggest
    height = row_height * len(bars) + 40
    parts = [f'<svg role="img" aria-label="{html.escape(title)}" width="{width}" height="{height}" '
             f'xmlns="http://www.w3.org/2000/svg" font-family="sans-serif" font-size="12">',
             f'<text x="0" y="14" font-weight="bold">{html.escape(title)}</text>']
    for index, (name, left, right) in enumerate(bars):
        y = 24 + index * row_height
        parts.append(f'<text x="0" y="{y + 13}">{html.escape(name)}</text>')
        length = int(abs(left) * scale)
        parts.append(f'<rect x="{label_width}" y="{y + 2}" width="{length}" height="9" fill="#2b6cb0">'
                     f'<title>{html.escape(labels[0])}: {left:.2f}</title></rect>')
        text = f"{left:.2f}"
        if right is not None:
            parts.append(f'<rect x="{label_width}" y="{y + 12}" width="{int(abs(right) * scale)}" height="9" '
                         f'fill="#9ac"><title>{html.escape(labels[1])}: {right:.2f}</title></rect>')
            text += f" / {right:.2f}"
        parts.append(f'<text x="{label_width + max(length, int(abs(right or 0) * scale)) + 6}" y="{y + 16}">'
                     f'{text}</text>')
    parts.append("</svg>")
    return "".join(parts)


def render_html(reconciliation: Reconciliation) -> str:
    r = reconciliation
    e = html.escape
    ok = r.ties_out
    out = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>Amazon remittance reconciliation {e(r.period)}</title>",
        "<style>body{font-family:sans-serif;margin:24px;color:#222}table{border-collapse:collapse;margin:8px 0 20px}"
        "td,th{border:1px solid #ccc;padding:3px 8px;font-size:13px}td.n{text-align:right;font-variant-numeric:"
        "tabular-nums}.ok{color:#276749}.bad{color:#c53030;font-weight:bold}h2{margin-top:28px}</style></head><body>",
        f"<h1>Amazon remittances against BlueCherry: {e(r.period)}</h1>",
        f"<p>As of {e(r.as_of.isoformat())}. "
        f"<span class='{'ok' if ok else 'bad'}'>{'Ties out to the cent.' if ok else 'DOES NOT TIE OUT.'}</span> "
        f"Automatically matched and posted: {e(r.summary['automatically_matched_and_posted_percent'])}% of "
        f"{e(r.summary['remittance_dollars'])} remittance dollars.</p>",
        "<h2>Tie-outs</h2><table><tr><th>check</th><th></th><th>amount</th><th></th><th>amount</th>"
        "<th>difference</th></tr>",
    ]
    for tie in r.ties:
        out.append(f"<tr><td>{e(tie.name)}</td><td>{e(tie.left_label)}</td><td class='n'>{tie.left:.2f}</td>"
                   f"<td>{e(tie.right_label)}</td><td class='n'>{tie.right:.2f}</td>"
                   f"<td class='n {'ok' if tie.ok else 'bad'}'>{tie.difference:.2f}</td></tr>")
    out.append("</table>")
    out.append(_bar_chart("Deductions by type: remittance lines / GL journals",
                          [(name, -lines, -ledger) for name, (lines, ledger) in r.by_type.items()],
                          ("remittance lines", "GL journals")))
    status_bars = [(title, r.section_total(section), None) for section, title in SECTIONS
                   if section != "remittance" and any(row.section == section for row in r.rows)]
    out.append(_bar_chart("Amounts by section", status_bars, ("amount", "")))
    out.append("<h2>Summary</h2><table>" + "".join(
        f"<tr><td>{e(key)}</td><td class='n'>{e(value)}</td></tr>" for key, value in r.summary.items()) + "</table>")
    for section, title in SECTIONS:
        rows = [row for row in r.rows if row.section == section]
        out.append(f"<h2 id='{section}'>{e(title)} ({len(rows)}; total {r.section_total(section):.2f})</h2>")
        if not rows:
            out.append("<p>None.</p>")
            continue
        out.append("<table><tr><th>document</th><th>related</th><th>date</th><th>amount</th><th>type</th>"
                   "<th>status</th><th>detail</th><th>drill-down</th></tr>")
        for row in rows:
            link = row.drill_down
            cell = (f"<a href='{e(link)}'>{e(link.rsplit('/', 1)[-1])}</a>" if link.startswith("documents/")
                    else f"<code>{e(link)}</code>")
            out.append(f"<tr id='{e(section)}-{e(_safe(row.key))}'><td>{e(row.document)}</td><td>{e(row.related)}</td>"
                       f"<td>{e(row.date)}</td><td class='n'>{row.amount:.2f}</td><td>{e(row.deduction_type)}</td>"
                       f"<td>{e(row.status)}</td><td>{e(row.detail)}</td><td>{cell}</td></tr>")
        out.append("</table>")
    out.append(f"<p>CSV: <a href='reconciliation-{e(r.period)}.csv'>reconciliation-{e(r.period)}.csv</a> "
               "(the same rows, section totals, tie-outs).</p></body></html>")
    return "\n".join(out)


# --- the step ---------------------------------------------------------------------------------


@dataclass
class ReconciliationResult:
    reconciliation: Reconciliation
    run_id: int
    paths: dict[str, Path]
    exception_id: int | None = None


def run_reconciliation(store, gateway, settings, *, period: str, as_of: dt.datetime, run_key: str = "",
                       folder: Path | None = None) -> ReconciliationResult:
    """Reconcile ``period`` as of ``as_of``, write the report, keep the run; a difference is an
    exception for finance (one per period and content); its alert goes out with the run's
    alert_owners task (flows.alerting), or the next one when run from the CLI."""
    from amazon_bluecherry.flows.exceptions import open_exception
    from amazon_bluecherry.store.models import ReconciliationRun

    reconciliation = build_reconciliation(gather_facts(store, gateway, settings, period=period, as_of=as_of))
    folder = folder or settings.effective_reports_dir / "reconciliation" / period
    paths = write_report(reconciliation, folder, store)
    exception_id = None
    with store.session() as db:
        run = ReconciliationRun(period=period, as_of=as_of.date(), run_key=run_key or as_of.isoformat(),
                                ties_out=reconciliation.ties_out, totals=reconciliation.totals(),
                                content_sha256=reconciliation.content_sha256, report_path=str(paths["html"]))
        db.add(run)
        db.flush()
        store.record_event("reconciliation.run", entity_type="reconciliation", entity_id=run.id,
                           payload={"period": period, "as_of": as_of.isoformat(), "ties_out": reconciliation.ties_out,
                                    "sha256": reconciliation.content_sha256}, session=db)
        if not reconciliation.ties_out:
            differing = "; ".join(f"{tie.name}: {tie.left:.2f} vs {tie.right:.2f} (difference {tie.difference:.2f})"
                                  for tie in reconciliation.ties if not tie.ok)
            message = f"Amazon remittances of {period} (as of {as_of:%Y-%m-%d %H:%M} UTC) do not tie out: {differing}. " \
                      f"Report: {paths['html']}"
            dedupe = f"reconciliation_difference:{period}:{reconciliation.content_sha256[:16]}"
            exception_id = open_exception(store, "reconciliation_difference", message, business_key=period,
                                          dedupe_key=dedupe, details=reconciliation.totals(), session=db)
        run_id = run.id
    return ReconciliationResult(reconciliation=reconciliation, run_id=run_id, paths=paths, exception_id=exception_id)
