"""remit_to_journals tables on SQLite and PostgreSQL: exact money, one line per number."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, StatementError

from amazon_bluecherry.store.models import Remittance, RemittanceLine


def remittance(store, **values) -> int:
    transaction_id = store.add_transaction("820", direction="in", partner="AMAZON", business_key="T1")
    with store.session() as db:
        row = Remittance(transaction_id=transaction_id, trace_number="T1", payment_amount=Decimal("0.10"), **values)
        db.add(row)
        db.flush()
        return row.id


def test_money_comes_back_exactly(store):
    rid = remittance(store)
    amounts = ["0.10", "0.20", "-1234567890123.45", "999999.99", "-0.01"]
    with store.session() as db:
        for number, amount in enumerate(amounts, start=1):
            db.add(RemittanceLine(remittance_id=rid, line_number=number, reference=f"R{number}",
                                  amount=Decimal(amount), deduction_type="coop", gl_account="6120", owner="wholesale"))
    with store.session() as db:
        found = list(db.scalars(select(RemittanceLine.amount).where(RemittanceLine.remittance_id == rid)
                                .order_by(RemittanceLine.line_number)))
        payment = db.get(Remittance, rid).payment_amount
    assert found == [Decimal(a) for a in amounts] and all(isinstance(a, Decimal) for a in found)
    assert sum(found[:2]) == Decimal("0.30") and payment == Decimal("0.10")


def test_fractions_of_a_cent_are_refused(store):
    with pytest.raises(StatementError, match="more than two decimals"):
        remittance(store, unrecognised_amount=Decimal("0.001"))


def test_a_line_number_is_recorded_once_per_remittance(store):
    rid = remittance(store)
    line = {"remittance_id": rid, "line_number": 1, "reference": "R", "amount": Decimal("1"),
            "deduction_type": "coop", "gl_account": "6120", "owner": "wholesale"}
    with store.session() as db:
        db.add(RemittanceLine(**line))
    with pytest.raises(IntegrityError), store.session() as db:
        db.add(RemittanceLine(**line))
