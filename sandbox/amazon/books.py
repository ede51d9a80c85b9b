"""Amazon's books on the vendor: compliance findings and the ledger of what they cost.

Every finding names the document, the rule (``data/rules.yaml``) and the rule's source; a
rule with a chargeback adds a ledger entry priced from ``data/rate_card.yaml`` and linked
back to the finding, the PO, the shipment and the invoice. Claims made at payment time
(shortage, price, co-op, provision) are ledger entries too, so one ledger explains every
cent the remittances hold back.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from sandbox.amazon.rulebook import Rulebook
from sandbox.amazon.state import AmazonState, Finding, LedgerEntry

__all__ = ["Books"]

_CENT = Decimal("0.01")


def cents(value: Decimal) -> Decimal:
    return value.quantize(_CENT, rounding=ROUND_HALF_UP)


class Books:
    """Writes findings and ledger entries into the state."""

    def __init__(self, state: AmazonState, rulebook: Rulebook):
        self.state = state
        self.rulebook = rulebook

    def reference(self, kind: str, **values) -> str:
        return self.rulebook.remittance.reference_formats[kind].format(**values)

    def finding(
        self,
        rule_id: str,
        *,
        at: dt.datetime,
        document: str,
        detail: str,
        file_name: str | None = None,
        purchase_order: str | None = None,
        shipment_id: str | None = None,
        invoice_number: str | None = None,
        cogs: Decimal | None = None,
        cartons: int | None = None,
        defects: int | None = None,
        charge: bool = True,
    ) -> Finding:
        """Record a breach of ``rule_id``; charge the vendor if the rule has a chargeback.

        :param cogs: / :param cartons: / :param defects: the base of the chargeback, as the
            rate card's ``basis`` for the rule needs it.
        :param charge: False records the finding without a chargeback (already charged).
        """
        rule = self.rulebook.rule(rule_id)
        finding = Finding(
            finding_id=f"F{self.state.next_number('finding'):06d}",
            at=at,
            rule=rule_id,
            title=rule.title,
            source=rule.source,
            document=document,
            file_name=file_name,
            purchase_order=purchase_order,
            shipment_id=shipment_id,
            invoice_number=invoice_number,
            detail=detail,
        )
        self.state.findings.append(finding)
        if charge and rule.chargeback:
            entry = self._chargeback(rule.chargeback, finding, cogs=cogs, cartons=cartons, defects=defects)
            if entry is not None:
                finding.chargeback = entry.reference
        return finding

    def _chargeback(
        self, key: str, finding: Finding, *, cogs: Decimal | None, cartons: int | None, defects: int | None
    ) -> LedgerEntry | None:
        card = self.rulebook.rate_card.chargebacks[key]
        rate = card.rate_on(finding.at.date())
        currency = self.rulebook.rate_card.currency
        if card.basis == "percent_of_cogs":
            base = cogs or Decimal(0)
            amount = cents(base * rate / 100)
            basis = f"{rate}% of COGS {cents(base)} {currency}"
        elif card.basis == "per_carton":
            count = cartons or 0
            amount = cents(rate * count)
            basis = f"{count} carton(s) x {rate} {currency}"
        elif card.basis == "per_defect":
            count = defects or 0
            amount = cents(rate * count)
            basis = f"{count} defect(s) x {rate} {currency}"
        else:
            amount = cents(rate)
            basis = f"flat {rate} {currency}"
        if amount <= 0:
            return None
        entry = LedgerEntry(
            reference=self.reference("chargeback", number=self.state.next_number("chargeback")),
            kind="chargeback",
            amount=-amount,
            created_at=finding.at,
            category=card.category,
            cause=f"{finding.title}: {finding.detail}",
            basis=f"{basis} (rate card: {card.source})",
            rule=finding.rule,
            finding_id=finding.finding_id,
            purchase_order=finding.purchase_order,
            shipment_id=finding.shipment_id,
            invoice_number=finding.invoice_number,
        )
        self.state.ledger.append(entry)
        return entry

    def entry(self, **fields) -> LedgerEntry:
        """Add a claim, credit, co-op or provision line (amount signed: negative = deduction)."""
        entry = LedgerEntry(**fields)
        if self.state.ledger_entry(entry.reference) is not None:
            raise ValueError(f"ledger reference {entry.reference} is already used")
        self.state.ledger.append(entry)
        return entry
