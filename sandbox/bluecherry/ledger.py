"""GL and AR: journals that must balance, cash receipts applied to invoices (with
deductions), open AR, ledger lines by period.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

from amazon_bluecherry.bluecherry import models as m
from sandbox.bluecherry import schema as t
from sandbox.bluecherry.core import ZERO, BackendCore
from sandbox.bluecherry.errors import Conflict, Rejected

__all__ = ["LedgerBackend"]


class LedgerBackend(BackendCore):
    """The general ledger and the AR subledger."""

    def list_gl_accounts(self) -> list[m.GlAccount]:
        with self._read() as session:
            return [
                m.GlAccount.model_validate(r, from_attributes=True)
                for r in session.scalars(select(t.GlAccountRow).order_by(t.GlAccountRow.account))
            ]

    def post_journal_entry(self, entry: m.JournalEntry, *, idempotency_key: str) -> m.WriteResult:
        with self._write() as session:
            return self._idempotent(
                session,
                "journal_entry",
                idempotency_key,
                entry.fingerprint(),
                lambda s: self._post_entry(s, entry, idempotency_key),
            )

    def _post_entry(self, session: Session, entry: m.JournalEntry, key: str) -> m.WriteResult:
        number = self._post(
            session,
            entry.posting_date,
            reference=entry.reference,
            description=entry.description,
            source=entry.source,
            currency=entry.currency,
            lines=[
                (line.account, line.debit, line.credit, line.memo, line.dimensions) for line in entry.lines
            ],
        )
        return m.WriteResult(
            kind="journal_entry",
            key=entry.reference,
            idempotency_key=key,
            outcome="created",
            document_number=number,
        )

    def _post(
        self,
        session: Session,
        posting_date: date,
        *,
        reference: str,
        description: str,
        source: str,
        currency: str,
        lines: list[tuple[str, Decimal, Decimal, str, dict]],
    ) -> str:
        """Post a journal; refuses an unbalanced one or an unknown account (the GL's own rule)."""
        debits = sum((line[1] for line in lines), ZERO)
        credits = sum((line[2] for line in lines), ZERO)
        if debits != credits:
            raise Rejected(f"journal {reference} is unbalanced: debits {debits} != credits {credits}")
        if len(lines) < 2:
            raise Rejected(f"journal {reference} needs at least two lines")
        unknown = sorted({line[0] for line in lines if session.get(t.GlAccountRow, line[0]) is None})
        if unknown:
            raise Rejected(f"journal {reference}: unknown GL accounts {unknown}")
        for account, debit, credit, _, _ in lines:
            if debit < 0 or credit < 0 or (debit > 0) == (credit > 0):
                raise Rejected(f"journal {reference}: account {account} needs exactly one positive side")
        number = f"JE{self._next(session, 'journal'):07d}"
        session.add(
            t.JournalRow(
                journal_number=number,
                posting_date=posting_date,
                period=f"{posting_date:%Y-%m}",
                reference=reference,
                description=description,
                source=source,
                currency=currency,
                created_at=self.clock.now(),
            )
        )
        for index, (account, debit, credit, memo, dimensions) in enumerate(lines, start=1):
            session.add(
                t.JournalLineRow(
                    journal_number=number,
                    line_number=index,
                    account=account,
                    debit=debit,
                    credit=credit,
                    memo=memo or "",
                    dimensions=dict(dimensions or {}),
                )
            )
        return number

    def record_cash_receipt(self, receipt: m.CashReceipt, *, idempotency_key: str) -> m.WriteResult:
        with self._write() as session:
            return self._idempotent(
                session,
                "cash_receipt",
                idempotency_key,
                receipt.fingerprint(),
                lambda s: self._record_receipt(s, receipt, idempotency_key),
            )

    def _record_receipt(self, session: Session, receipt: m.CashReceipt, key: str) -> m.WriteResult:
        """Apply cash to invoices (posting Dr Cash, Cr AR, Cr Unapplied Cash).

        Deductions close the invoice balance in the AR subledger only; their GL entry
        (expense or deductions receivable against AR) is the remittance flow's journal.
        """
        fingerprint = receipt.fingerprint()
        existing = session.get(t.CashReceiptRow, receipt.receipt_number)
        if existing is not None:
            if existing.fingerprint != fingerprint:
                raise Conflict(f"cash receipt {receipt.receipt_number} already exists with other content")
            return m.WriteResult(
                kind="cash_receipt",
                key=receipt.receipt_number,
                idempotency_key=key,
                outcome="unchanged",
                document_number=receipt.receipt_number,
            )
        if session.get(t.CustomerRow, receipt.bc_customer) is None:
            raise Rejected(f"receipt {receipt.receipt_number}: unknown customer {receipt.bc_customer!r}")
        applied = ZERO
        # One read for every invoice of the receipt (a remittance applies thousands at once).
        numbers = [application.invoice_number for application in receipt.applications]
        invoices: dict[str, tuple[str, Decimal]] = {}
        for start in range(0, len(numbers), 500):
            invoices.update(
                (number, (customer, open_amount))
                for number, customer, open_amount in session.execute(
                    select(t.InvoiceRow.invoice_number, t.InvoiceRow.bc_customer, t.InvoiceRow.open_amount).where(
                        t.InvoiceRow.invoice_number.in_(numbers[start : start + 500])
                    )
                )
            )
        applications, balances = [], []
        for application in receipt.applications:
            customer, open_amount = invoices.get(application.invoice_number, (None, ZERO))
            if customer != receipt.bc_customer:
                raise Rejected(
                    f"receipt {receipt.receipt_number}: no invoice {application.invoice_number} of {receipt.bc_customer}"
                )
            closing = application.amount_applied + application.deduction_amount
            if closing > open_amount:
                raise Rejected(
                    f"receipt {receipt.receipt_number}: {closing} applied and deducted exceeds invoice "
                    f"{application.invoice_number}'s open {open_amount}"
                )
            balances.append({"number": application.invoice_number, "open": open_amount - closing})
            applied += application.amount_applied
            applications.append(
                {
                    "receipt_number": receipt.receipt_number,
                    "invoice_number": application.invoice_number,
                    "amount_applied": application.amount_applied,
                    "deduction_amount": application.deduction_amount,
                    "deduction_reason": application.deduction_reason,
                }
            )
        unapplied = receipt.amount - applied
        session.add(
            t.CashReceiptRow(
                receipt_number=receipt.receipt_number,
                receipt_date=receipt.receipt_date,
                bc_customer=receipt.bc_customer,
                amount=receipt.amount,
                unapplied_amount=unapplied,
                currency=receipt.currency,
                method=receipt.method,
                reference=receipt.reference,
                fingerprint=fingerprint,
                created_at=self.clock.now(),
            )
        )
        session.flush()
        if applications:  # Core executemany: a remittance applies thousands of invoices at once
            table = t.InvoiceRow.__table__
            session.execute(
                update(table).where(table.c.invoice_number == bindparam("number")).values(open_amount=bindparam("open")),
                balances,
            )
            session.execute(insert(t.ReceiptApplicationRow.__table__), applications)
        dims = {"customer": receipt.bc_customer, "receipt": receipt.receipt_number}
        lines = [("1010", receipt.amount, ZERO, f"Receipt {receipt.receipt_number}", dims)]
        if applied:
            lines.append(("1200", ZERO, applied, "Cash applied", dims))
        if unapplied:
            lines.append(("2150", ZERO, unapplied, "Unapplied cash", dims))
        self._post(
            session,
            receipt.receipt_date,
            reference=receipt.receipt_number,
            description=f"Cash receipt {receipt.reference}",
            source="AR-CASH",
            currency=receipt.currency,
            lines=lines,
        )
        return m.WriteResult(
            kind="cash_receipt",
            key=receipt.receipt_number,
            idempotency_key=key,
            outcome="created",
            document_number=receipt.receipt_number,
        )

    def list_open_ar(self, *, bc_customer: str | None = None) -> list[m.ArOpenItem]:
        # The HTTP face pages through this list; without the cache every page would rebuild it.
        version = self._writes
        cached = self._open_ar_cache.get(bc_customer)
        if cached is not None and cached[0] == version:
            return list(cached[1])
        items = self._open_ar(bc_customer)
        if self._writes == version:
            self._open_ar_cache[bc_customer] = (version, items)
        return list(items)

    def _open_ar(self, bc_customer: str | None) -> list[m.ArOpenItem]:
        invoice = t.InvoiceRow
        with self._read() as session:
            # Plain columns: the invoice lines are not needed, and ORM objects are the slow part.
            invoices = select(
                invoice.bc_customer, invoice.invoice_number, invoice.invoice_date, invoice.due_date,
                invoice.customer_po, invoice.total, invoice.open_amount, invoice.currency,
            ).order_by(invoice.invoice_number)
            receipts = select(t.CashReceiptRow).order_by(t.CashReceiptRow.receipt_number)
            if bc_customer is not None:
                invoices = invoices.where(invoice.bc_customer == bc_customer)
                receipts = receipts.where(t.CashReceiptRow.bc_customer == bc_customer)
            items = [
                m.ArOpenItem.model_construct(
                    bc_customer=row.bc_customer,
                    document_type="invoice",
                    document_number=row.invoice_number,
                    document_date=row.invoice_date,
                    due_date=row.due_date,
                    customer_po=row.customer_po,
                    original_amount=row.total,
                    open_amount=row.open_amount,
                    currency=row.currency,
                )
                for row in session.execute(invoices)
                if row.open_amount != 0
            ]
            items += [
                m.ArOpenItem(
                    bc_customer=r.bc_customer,
                    document_type="unapplied_cash",
                    document_number=r.receipt_number,
                    document_date=r.receipt_date,
                    original_amount=-r.amount,
                    open_amount=-r.unapplied_amount,
                    currency=r.currency,
                )
                for r in session.scalars(receipts)
                if r.unapplied_amount != 0
            ]
        return items

    def list_ledger_lines(self, period: str, *, account: str | None = None) -> list[m.LedgerLine]:
        with self._read() as session:
            line, journal = t.JournalLineRow, t.JournalRow
            query = (
                select(
                    line.journal_number, line.line_number, journal.posting_date, journal.period, line.account,
                    line.debit, line.credit, line.memo, journal.reference, journal.source, line.dimensions,
                )
                .join(t.JournalRow, t.JournalRow.journal_number == t.JournalLineRow.journal_number)
                .where(t.JournalRow.period == period)
                .order_by(t.JournalLineRow.journal_number, t.JournalLineRow.line_number)
            )
            if account is not None:
                query = query.where(t.JournalLineRow.account == account)
            return [m.LedgerLine.model_validate(r._mapping) for r in session.execute(query)]

    def list_periods(self) -> list[str]:
        with self._read() as session:
            return list(session.scalars(select(t.JournalRow.period).distinct().order_by(t.JournalRow.period)))
