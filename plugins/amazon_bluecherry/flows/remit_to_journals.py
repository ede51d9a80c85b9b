"""remit_to_journals business rules: an Amazon 820 becomes a cash receipt and typed journals.

Pure functions: no Airflow, no I/O. The steps (``remit_to_journals_steps``) feed them
parsed remittances, the classification table and BlueCherry's open invoices, and keep
what comes out in the store.

Lines. One line per RMR (reference RMR02, amount RMR04, signed: a deduction is negative)
and one per ADX at ENT level. An invoice RMR that carries ADX adjustments of its own
(paid = invoice amount + adjustments) is split: the invoice payment, plus one line per
ADX, recognised by its reason code only, so a short-paid invoice is never silently
taken for a full payment. Every line is classified by ``remit_codes.csv`` (first row
wins); a line no row matches is ``unrecognised`` and goes to the suspense account.

Posting (per remittance, dated the payment date BPR16):

- one cash receipt for the BPR amount, applied to the invoices paid that BlueCherry has
  open; the remittance's net deductions are recorded against those invoices
  (``deduction_amount``) so that they close in the AR sub-ledger. Cash for invoices
  BlueCherry does not have stays unapplied (and is an exception);
- one balanced journal per deduction type: the mapped account(s) against AR for the part
  of the deductions closed on invoices, against unapplied cash for the rest (deductions
  beyond the matched invoices, or credits that exceed the deductions).

So the GL sees: Dr cash = BPR; Cr AR = the matched invoices paid; Dr/Cr each deduction
account = its lines; unapplied cash = what could not be matched. The receipt and the
journals carry idempotency keys derived from the trace number (TRN02) and the type.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from pathlib import Path

from amazon_bluecherry.edi.documents import Adjustment, RemittanceAdvice, RemittanceItem
from amazon_bluecherry.flows.remit_codes import (
    DEDUCTION_TYPES,
    INVOICE_PAYMENT,
    UNRECOGNISED,
    RemitCodes,
)

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
# Short codes for journal references (BlueCherry journal reference: at most 60 characters).
TYPE_CODES = {
    "shortage_claim": "SC",
    "shortage_claim_reversal": "SCR",
    "chargeback": "CB",
    "coop": "COOP",
    "price_protection": "PP",
    "price_claim": "PC",
    "provision_for_receivables": "PROV",
    "provision_reversal": "PROVR",
    "unrecognised": "SUSP",
}
# Types whose reference names the invoice they are about (``<invoice>SC`` ...).
_ABOUT_INVOICE = ("shortage_claim", "shortage_claim_reversal", "price_claim")


def cents(value: Decimal) -> Decimal:
    return Decimal(value).quantize(CENT)


@dataclass(frozen=True)
class PostingPolicy:
    """Where the remittance's money goes in BlueCherry (settings ``AB_REMIT_*``)."""

    bc_customer: str = "AMAZON"
    ar_account: str = "1200"
    unapplied_cash_account: str = "2150"
    suspense_account: str = "1299"
    journal_source: str = "AMAZON-820"


@dataclass
class RemitLine:
    """One remittance line, classified."""

    line_number: int
    reference: str
    amount: Decimal
    reference_qualifier: str | None = None
    invoice_amount: Decimal | None = None
    adjustment_codes: tuple[str, ...] = ()
    adjustment_reference_qualifier: str | None = None
    adjustment_reference: str | None = None
    purchase_order: str | None = None
    description: str | None = None
    line_date: dt.date | None = None
    # classification
    deduction_type: str = UNRECOGNISED
    gl_account: str = ""
    owner: str = "finance"
    rule_line: int | None = None          # remit_codes.csv line that matched; None = no row
    # the documents it is about
    invoice_number: str | None = None
    shipment_id: str | None = None

    @property
    def recognised(self) -> bool:
        return self.deduction_type != UNRECOGNISED

    def to_dict(self) -> dict:
        data = asdict(self)
        data["amount"] = str(self.amount)
        data["invoice_amount"] = None if self.invoice_amount is None else str(self.invoice_amount)
        data["adjustment_codes"] = list(self.adjustment_codes)
        data["line_date"] = self.line_date.isoformat() if self.line_date else None
        return data


@dataclass
class JournalSummary:
    deduction_type: str
    gl_account: str
    amount: Decimal                       # signed like the lines
    lines: int = 0


@dataclass
class ClassifiedRemittance:
    trace_number: str
    payment_amount: Decimal
    payment_date: dt.date | None
    payment_method: str | None
    currency: str | None
    payer: str | None
    lines: list[RemitLine]

    @property
    def invoice_payments_total(self) -> Decimal:
        return sum((line.amount for line in self.lines if line.deduction_type == INVOICE_PAYMENT), ZERO)

    @property
    def lines_total(self) -> Decimal:
        return sum((line.amount for line in self.lines), ZERO)

    @property
    def unrecognised(self) -> list[RemitLine]:
        return [line for line in self.lines if not line.recognised]

    def journals(self) -> list[JournalSummary]:
        """Deduction lines summed per (type, account), in vocabulary order; suspense included."""
        sums: dict[tuple[str, str], JournalSummary] = {}
        for line in self.lines:
            if line.deduction_type == INVOICE_PAYMENT:
                continue
            key = (line.deduction_type, line.gl_account)
            summary = sums.setdefault(key, JournalSummary(line.deduction_type, line.gl_account, ZERO))
            summary.amount += line.amount
            summary.lines += 1
        order = {name: index for index, name in enumerate(DEDUCTION_TYPES)}
        return sorted(sums.values(), key=lambda j: (order[j.deduction_type], j.gl_account))

    @property
    def balanced(self) -> bool:
        """Journals plus invoice payments add up to the payment amount (BPR02)."""
        journals = sum((j.amount for j in self.journals()), ZERO)
        return journals + self.invoice_payments_total == self.payment_amount

    def to_report(self) -> dict:
        """The classifier's JSON shape (``remit classify --json``); money as strings."""
        return {
            "trace_number": self.trace_number,
            "payment_amount": str(cents(self.payment_amount)),
            "lines": [{"reference": line.reference, "amount": str(cents(line.amount)),
                       "deduction_type": line.deduction_type, "gl_account": line.gl_account,
                       "owner": line.owner} for line in self.lines],
            "journals": [{"deduction_type": j.deduction_type, "gl_account": j.gl_account,
                          "amount": str(cents(j.amount))} for j in self.journals()],
            "balanced": self.balanced,
        }


# --- lines --------------------------------------------------------------------------------


def _text_reference(references, qualifier: str) -> str | None:
    for reference in references:
        if reference.qualifier == qualifier:
            return reference.value or reference.description
    return None


def _description(references) -> str | None:
    for reference in references:
        if reference.qualifier == "ZZ" or (reference.description and reference.qualifier not in ("PO",)):
            return (reference.description or reference.value or "")[:200] or None
    return None


def _line_date(dates) -> dt.date | None:
    return next((d.date for d in dates if d.qualifier == "003"), None) or next((d.date for d in dates), None)


def _from_adjustment(number: int, adjustment: Adjustment, *, reference: str | None = None,
                     purchase_order: str | None = None) -> RemitLine:
    return RemitLine(
        line_number=number,
        reference=(reference or adjustment.reference_number or f"ADX {adjustment.reason_code}")[:80],
        amount=cents(adjustment.amount),
        adjustment_codes=(adjustment.reason_code,),
        adjustment_reference_qualifier=adjustment.reference_qualifier,
        adjustment_reference=adjustment.reference_number,
        purchase_order=_text_reference(adjustment.references, "PO") or purchase_order,
        description=_description(adjustment.references),
        line_date=_line_date(adjustment.dates),
    )


def _from_item(number: int, item: RemittanceItem, amount: Decimal) -> RemitLine:
    first = item.adjustments[0] if item.adjustments else None
    return RemitLine(
        line_number=number,
        reference=item.reference_number[:80],
        reference_qualifier=item.reference_qualifier,
        amount=cents(amount),
        invoice_amount=None if item.invoice_amount is None else cents(item.invoice_amount),
        adjustment_codes=tuple(a.reason_code for a in item.adjustments),
        adjustment_reference_qualifier=first.reference_qualifier if first else None,
        adjustment_reference=first.reference_number if first else None,
        purchase_order=_text_reference(item.references, "PO"),
        description=_description(item.references),
        line_date=_line_date(item.dates),
    )


def remittance_lines(advice: RemittanceAdvice, codes: RemitCodes, policy: PostingPolicy) -> list[RemitLine]:
    """Every line of one 820, in file order, classified."""
    lines: list[RemitLine] = []

    def add(line: RemitLine, *, by_code_only: bool = False, row=_UNSET) -> None:
        classify_line(line, codes, policy, by_code_only=by_code_only, row=row)
        lines.append(line)

    for entry in advice.entries:
        for adjustment in entry.adjustments:  # ENT-level: adjusts the whole entity
            add(_from_adjustment(len(lines) + 1, adjustment))
        for item in entry.items:
            paid = item.amount_paid
            if paid is None:  # no RMR04: what the invoice says, less its discount
                paid = (item.invoice_amount or ZERO) - (item.discount_amount or ZERO)
            by_reference = codes.classify(item.reference_number)
            adjusted = sum((a.amount for a in item.adjustments), ZERO) if item.adjustments else ZERO
            if adjusted and by_reference is not None and by_reference.deduction_type == INVOICE_PAYMENT:
                # Short-paid invoice: the payment, and each adjustment as its own line.
                base = _from_item(len(lines) + 1, item, paid - adjusted)
                base.adjustment_codes = ()
                add(base, row=by_reference)
                for adjustment in item.adjustments:
                    add(_from_adjustment(len(lines) + 1, adjustment, reference=item.reference_number,
                                         purchase_order=base.purchase_order), by_code_only=True)
                continue
            # Without adx_code rows the reference alone decides: no second pass.
            add(_from_item(len(lines) + 1, item, paid),
                row=_UNSET if codes.has_adx_rows and item.adjustments else by_reference)
    return lines


_UNSET = object()


def classify_line(line: RemitLine, codes: RemitCodes, policy: PostingPolicy, *, by_code_only: bool = False,
                  row=_UNSET) -> None:
    """Set the line's type, account, owner and the documents it is about (in place).

    :param row: the remit_codes.csv row already found for this line (None: no row matches)
    """
    if row is _UNSET:
        row = codes.classify("" if by_code_only else line.reference, line.adjustment_codes)
    if row is None:
        line.deduction_type, line.gl_account, line.owner, line.rule_line = (
            UNRECOGNISED, policy.suspense_account, "finance", None)
    else:
        line.deduction_type, line.gl_account, line.owner, line.rule_line = (
            row.deduction_type, row.gl_account, row.owner, row.line)
    if line.deduction_type == INVOICE_PAYMENT:
        line.invoice_number = line.reference
    elif row is not None and line.deduction_type in _ABOUT_INVOICE:
        line.invoice_number = row.document_reference(line.reference)
    qualifier, number = line.adjustment_reference_qualifier, line.adjustment_reference
    if number:
        if qualifier == "IV" and not line.invoice_number:
            line.invoice_number = number
        elif qualifier == "SI":
            line.shipment_id = number
        elif qualifier == "PO" and not line.purchase_order:
            line.purchase_order = number
    if by_code_only and line.deduction_type != INVOICE_PAYMENT and not line.invoice_number:
        line.invoice_number = line.reference  # an adjustment taken on the invoice it came with


def classify_remittance(advice: RemittanceAdvice, codes: RemitCodes, policy: PostingPolicy) -> ClassifiedRemittance:
    payer = next((p for p in advice.parties if p.role == "PR"), None)
    payment_date = advice.payment_date or next(
        (d.date for d in advice.dates if d.qualifier in ("097", "009", "405")), None)
    return ClassifiedRemittance(
        trace_number=advice.trace_number,
        payment_amount=cents(advice.payment_amount if advice.credit_debit != "D" else -advice.payment_amount),
        payment_date=payment_date,
        payment_method=advice.payment_method,
        currency=advice.currency,
        payer=(payer.name or payer.id_code) if payer else None,
        lines=remittance_lines(advice, codes, policy),
    )


def classify_file(source: bytes | Path, codes: RemitCodes, policy: PostingPolicy) -> list[ClassifiedRemittance]:
    """Every 820 of an X12 file, classified (other sets are skipped).

    :raises NotX12Error / X12Error / DocumentError: the file cannot be read.
    """
    from amazon_bluecherry.edi.parse import iter_documents

    return [classify_remittance(document, codes, policy)
            for document in iter_documents(source, skip_unsupported=True)
            if isinstance(document, RemittanceAdvice)]


# --- posting plan -------------------------------------------------------------------------


@dataclass
class InvoiceApplication:
    invoice_number: str
    paid: Decimal                          # what the remittance pays against it (gross)
    applied_gross: Decimal = ZERO          # the part BlueCherry's open balance takes
    deduction: Decimal = ZERO              # net deductions closed on it
    reasons: dict[str, Decimal] = field(default_factory=dict)

    @property
    def amount_applied(self) -> Decimal:
        return self.applied_gross - self.deduction


@dataclass
class Unmatched:
    line_number: int
    reference: str
    amount: Decimal
    reason: str


@dataclass
class PostingPlan:
    """What will be written to BlueCherry for one remittance (all JSON-ready)."""

    receipt: dict | None                   # CashReceipt as JSON, None if nothing was received
    journals: list[dict]                   # {"deduction_type", "entry": JournalEntry JSON, "lines"}
    unmatched: list[Unmatched]
    applications: list[InvoiceApplication]
    problems: list[str] = field(default_factory=list)   # why this plan must not be posted (gate blocks it)

    @property
    def unapplied(self) -> Decimal:
        if self.receipt is None:
            return ZERO
        return Decimal(self.receipt["amount"]) - sum(
            (Decimal(a["amount_applied"]) for a in self.receipt["applications"]), ZERO)

    def to_dict(self) -> dict:
        return {
            "receipt": self.receipt,
            "journals": self.journals,
            "unmatched": [{**asdict(u), "amount": str(u.amount)} for u in self.unmatched],
            "problems": self.problems,
        }


def receipt_number(trace_number: str) -> str:
    return f"AMZ-{trace_number}"[:40]


def journal_reference(trace_number: str, deduction_type: str) -> str:
    return f"AMZ-{trace_number[:45]}-{TYPE_CODES[deduction_type]}"


def posting_plan(remittance: ClassifiedRemittance, open_invoices: Mapping[str, Decimal],
                 policy: PostingPolicy, *, posting_date: dt.date,
                 bluecherry_numbers: Mapping[str, str] | None = None) -> PostingPlan:
    """The cash receipt and the journals for one classified remittance.

    Invoice payments are applied to BlueCherry's open invoices (what cannot be applied is
    unapplied cash); the net deductions are closed on the invoices paid, as far as they
    reach; one balanced journal per deduction type books the rest.

    :param open_invoices: BlueCherry's open balance of each invoice of ``policy.bc_customer``
    :param bluecherry_numbers: the invoice number Amazon quotes (our 810's) -> BlueCherry's
        invoice number, where they differ
    """
    aliases = bluecherry_numbers or {}
    applications, unmatched = _apply_payments(remittance, open_invoices, policy, aliases)
    deductions = [line for line in remittance.lines if line.deduction_type != INVOICE_PAYMENT]
    net = -sum((line.amount for line in deductions), ZERO)      # > 0: deductions exceed credits
    capacity = sum((a.applied_gross for a in applications.values()), ZERO)
    to_allocate = min(max(net, ZERO), capacity)
    _allocate(applications, deductions, to_allocate, aliases)
    receipt, problems = _cash_receipt(remittance, applications, policy, posting_date)
    journals = _journals(remittance, deductions, to_allocate, policy, posting_date)
    return PostingPlan(receipt=receipt, journals=journals, unmatched=unmatched,
                       applications=list(applications.values()), problems=problems)


def _apply_payments(remittance: ClassifiedRemittance, open_invoices: Mapping[str, Decimal], policy: PostingPolicy,
                    aliases: Mapping[str, str]) -> tuple[dict[str, InvoiceApplication], list[Unmatched]]:
    """Each invoice payment against the invoice's open balance; what does not fit is unmatched."""
    unmatched: list[Unmatched] = []
    applications: dict[str, InvoiceApplication] = {}
    room = {number: cents(amount) for number, amount in open_invoices.items()}
    for line in remittance.lines:
        if line.deduction_type != INVOICE_PAYMENT:
            continue
        quoted = line.invoice_number or line.reference
        number = aliases.get(quoted, quoted)
        open_amount = room.get(number)
        if line.amount <= 0:
            unmatched.append(Unmatched(line.line_number, line.reference, line.amount,
                                       "an invoice payment that is not positive cannot be applied"))
            continue
        if open_amount is None or open_amount <= 0:
            reason = ("BlueCherry has no open invoice with this number for " + policy.bc_customer
                      if open_amount is None else "the invoice is already paid in BlueCherry")
            unmatched.append(Unmatched(line.line_number, line.reference, line.amount, reason))
            continue
        application = applications.setdefault(number, InvoiceApplication(number, ZERO))
        taken = min(line.amount, open_amount)
        application.paid += line.amount
        application.applied_gross += taken
        room[number] = open_amount - taken
        if taken < line.amount:
            unmatched.append(Unmatched(line.line_number, line.reference, line.amount - taken,
                                       f"pays {line.amount} but BlueCherry has only {open_amount} open"))
    return applications, unmatched


def _cash_receipt(remittance: ClassifiedRemittance, applications: dict[str, InvoiceApplication],
                  policy: PostingPolicy, posting_date: dt.date) -> tuple[dict | None, list[str]]:
    """The one cash receipt of a payment (none for a zero payment), applied to the invoices paid."""
    from pydantic import ValidationError

    from amazon_bluecherry.bluecherry.models import CashReceipt, ReceiptApplication

    if remittance.payment_amount <= 0:
        return None, []
    trace = remittance.trace_number
    fields = dict(
        receipt_number=receipt_number(trace), receipt_date=posting_date, bc_customer=policy.bc_customer,
        amount=remittance.payment_amount, currency=remittance.currency or "USD",
        method=(remittance.payment_method or "ACH")[:20], reference=f"Amazon 820 TRN {trace}",
        applications=[
            {"invoice_number": a.invoice_number, "amount_applied": a.amount_applied,
             "deduction_amount": a.deduction,
             "deduction_reason": "; ".join(f"{k} {v}" for k, v in sorted(a.reasons.items()))[:200] or None}
            for a in applications.values()])
    try:
        return CashReceipt(**fields).model_dump(mode="json"), []
    except ValidationError as exc:
        # Only when the 820 contradicts itself (lines != BPR): kept for the gate to block, never posted.
        fields["applications"] = [ReceiptApplication.model_construct(**a) for a in fields["applications"]]
        return (CashReceipt.model_construct(**fields).model_dump(mode="json"),
                [f"cash receipt: {exc.errors()[0]['msg']}"])


def _journals(remittance: ClassifiedRemittance, deductions: list, on_ar_total: Decimal, policy: PostingPolicy,
              posting_date: dt.date) -> list[dict]:
    """One balanced journal per deduction type: its GL accounts against AR (what was closed on
    invoices) and unapplied cash (the rest)."""
    from amazon_bluecherry.bluecherry.models import JournalEntry

    trace = remittance.trace_number
    by_type: dict[str, list] = defaultdict(list)
    for line in deductions:
        by_type[line.deduction_type].append(line)
    order = {name: index for index, name in enumerate(DEDUCTION_TYPES)}
    types = sorted(by_type, key=order.__getitem__)
    counters = {name: sum((line.amount for line in by_type[name]), ZERO) * -1 for name in types}
    on_ar = _split_counters(counters, on_ar_total)
    journals = []
    for deduction_type in types:
        lines = by_type[deduction_type]
        per_account: dict[str, Decimal] = defaultdict(lambda: ZERO)
        for line in lines:
            per_account[line.gl_account] += line.amount
        dimensions = {"remittance": trace, "deduction_type": deduction_type, "lines": str(len(lines))}

        counter = counters[deduction_type]                       # > 0: credit the counter accounts
        entry_lines = [_journal_line(account, amount, f"{deduction_type} {trace}", dimensions)
                       for account, amount in sorted(per_account.items())]
        entry_lines += [_journal_line(policy.ar_account, on_ar[deduction_type], f"AR {trace}", dimensions),
                        _journal_line(policy.unapplied_cash_account, counter - on_ar[deduction_type],
                                      f"unapplied cash {trace}", dimensions)]
        entry_lines = [line for line in entry_lines if line is not None]
        if len(entry_lines) < 2:
            continue  # the type nets to zero on one account: nothing to post
        entry = JournalEntry(
            posting_date=posting_date, reference=journal_reference(trace, deduction_type),
            description=f"Amazon remittance {trace}: {deduction_type} ({len(lines)} line(s))",
            source=policy.journal_source, currency=remittance.currency or "USD", lines=entry_lines)
        journals.append({"deduction_type": deduction_type, "entry": entry.model_dump(mode="json"),
                         "amount": str(cents(-counter)), "lines": len(lines)})
    return journals


def _journal_line(account: str, amount: Decimal, memo: str, dimensions: dict):
    """A journal line for a signed amount: > 0 a credit, < 0 a debit, 0 none."""
    from amazon_bluecherry.bluecherry.models import JournalLine

    if amount > 0:
        return JournalLine(account=account, credit=amount, memo=memo, dimensions=dimensions)
    if amount < 0:
        return JournalLine(account=account, debit=-amount, memo=memo, dimensions=dimensions)
    return None


def _split_counters(counters: dict[str, Decimal], on_ar_total: Decimal) -> dict[str, Decimal]:
    """How much of each journal's counter-entry goes to AR (the rest to unapplied cash).

    ``counters``: per type, the counter-entry (> 0 a credit: deductions; < 0 a debit:
    credits). AR must take exactly ``on_ar_total``, the net deductions closed on invoices.
    With nothing closed on invoices every counter-entry is unapplied cash; otherwise the
    credit types go to AR in full and the deduction types fill the rest of AR in order.
    """
    if on_ar_total <= 0:
        return {name: ZERO for name in counters}
    on_ar = {name: (counter if counter < 0 else ZERO) for name, counter in counters.items()}
    need = on_ar_total - sum(on_ar.values(), ZERO)
    for name, counter in counters.items():
        if counter > 0 and need > 0:
            on_ar[name] = min(counter, need)
            need -= on_ar[name]
    return on_ar


def _allocate(applications: dict[str, InvoiceApplication], deductions: list[RemitLine], amount: Decimal,
              aliases: Mapping[str, str]) -> None:
    """Spread ``amount`` of net deductions over the invoices paid: first each invoice's own
    claims (``<invoice>SC`` ...), then the rest in order, never beyond what an invoice takes."""
    if amount <= 0 or not applications:
        return
    remaining = amount
    own: dict[str, dict[str, Decimal]] = {}
    for line in deductions:
        number = line.invoice_number
        if number is None:
            continue
        number = aliases.get(number, number)
        if number in applications:
            by_type = own.setdefault(number, {})
            by_type[line.deduction_type] = by_type.get(line.deduction_type, ZERO) - line.amount
    for number, by_type in own.items():
        if remaining <= 0:
            break
        application = applications[number]
        take = min(sum(by_type.values(), ZERO), application.applied_gross, remaining)
        if take > 0:
            application.deduction += take
            application.reasons.update((name, value) for name, value in by_type.items() if value)
            remaining -= take
    for application in applications.values():
        if remaining <= 0:
            break
        take = min(application.applied_gross - application.deduction, remaining)
        if take > 0:
            application.deduction += take
            application.reasons["other deductions"] = application.reasons.get("other deductions", ZERO) + take
            remaining -= take


# --- figures the quality gate checks (computed from the plan, not from the lines) ----------


def plan_effects(plan: Mapping, *, ar_account: str, unapplied_cash_account: str) -> dict[str, Decimal]:
    """What a stored plan will do to the ledger: cash received, AR + unapplied cash credited,
    the deduction accounts' net debit, and the number of journals whose sides differ."""
    receipt = plan.get("receipt")
    cash = Decimal(receipt["amount"]) if receipt else ZERO
    applied = sum((Decimal(a["amount_applied"]) for a in (receipt or {}).get("applications", [])), ZERO)
    ar_and_unapplied = applied + (cash - applied)                # the receipt credits AR + unapplied cash
    deduction_accounts = ZERO
    unbalanced = 0
    for journal in plan.get("journals", []):
        debits = credits = ZERO
        for line in journal["entry"]["lines"]:
            debit, credit = Decimal(line["debit"]), Decimal(line["credit"])
            debits += debit
            credits += credit
            if line["account"] in (ar_account, unapplied_cash_account):
                ar_and_unapplied += credit - debit
            else:
                deduction_accounts += debit - credit
        if debits != credits:
            unbalanced += 1
    return {"cash": cash, "ar_and_unapplied": ar_and_unapplied, "deduction_accounts": deduction_accounts,
            "unbalanced_journals": Decimal(unbalanced)}


def open_invoice_balances(items: Iterable, bc_customer: str) -> dict[str, Decimal]:
    """BlueCherry's open AR items -> {invoice number: open amount} for one customer."""
    return {item.document_number: item.open_amount for item in items
            if item.document_type == "invoice" and item.bc_customer == bc_customer}
