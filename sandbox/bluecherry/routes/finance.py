"""GL accounts, journal entries and ledger lines; cash receipts and open AR (tag "finance")."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from amazon_bluecherry.bluecherry import models as m
from sandbox.bluecherry.routes.common import (
    AUTH,
    BackendDep,
    IdempotencyKey,
    Limit,
    Offset,
    Page,
    page,
    written,
)

router = APIRouter(dependencies=AUTH, tags=["finance"])


@router.get("/v1/gl/accounts", response_model=Page[m.GlAccount])
def list_gl_accounts(backend: BackendDep, offset: Offset = 0, limit: Limit = 500) -> Response:
    return page(m.GlAccount, backend.list_gl_accounts(), offset, limit)


@router.post("/v1/gl/journal-entries", status_code=201)
def post_journal_entry(
    backend: BackendDep, entry: m.JournalEntry, idempotency_key: IdempotencyKey, response: Response
) -> m.WriteResult:
    """Post a balanced journal entry (422 when unbalanced or an account is unknown)."""
    return written(backend.post_journal_entry(entry, idempotency_key=idempotency_key), response)


@router.get("/v1/gl/ledger-lines", response_model=Page[m.LedgerLine])
def list_ledger_lines(
    backend: BackendDep,
    period: Annotated[str, Query(pattern=r"^\d{4}-\d{2}$")],
    account: str | None = None,
    offset: Offset = 0,
    limit: Limit = 500,
) -> Response:
    return page(m.LedgerLine, backend.list_ledger_lines(period, account=account), offset, limit)


@router.post("/v1/ar/cash-receipts", status_code=201)
def record_cash_receipt(
    backend: BackendDep, receipt: m.CashReceipt, idempotency_key: IdempotencyKey, response: Response
) -> m.WriteResult:
    """Record cash applied to invoices, with deductions; the remainder is unapplied cash."""
    return written(backend.record_cash_receipt(receipt, idempotency_key=idempotency_key), response)


@router.get("/v1/ar/open-items", response_model=Page[m.ArOpenItem])
def list_open_ar(backend: BackendDep, bc_customer: str | None = None, offset: Offset = 0, limit: Limit = 500) -> Response:
    return page(m.ArOpenItem, backend.list_open_ar(bc_customer=bc_customer), offset, limit)
