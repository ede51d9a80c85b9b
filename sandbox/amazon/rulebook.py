"""Amazon's rules, rate card, remittance conventions and traffic mix, loaded from ``data/``.

Everything the simulator decides by a number or a code is in these YAML files, so a rule
change (a new chargeback rate, another approved carrier) is a data change. The four files
are read once per data folder into typed models.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

__all__ = ["DATA_DIR", "RateCard", "Rulebook", "load_rulebook"]

DATA_DIR = Path(__file__).with_name("data")


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- rules.yaml --------------------------------------------------------------------------


class PurchaseOrderRules(_Data):
    acknowledgement_window_hours: int
    change_window_hours: int
    not_filled_grace_days: int


class ShipNoticeRules(_Data):
    departure_window_minutes: int
    ship_date_past_days: int
    ship_date_future_days: int
    sscc_unique_days: int
    shipment_id_unique_days: int
    bol_min_digits: int
    replace_window_days: int
    arrival_hour: int
    default_transit_days: int
    approved_scacs: tuple[str, ...]


class InvoiceRules(_Data):
    reject_zero_total: bool


class Rule(_Data):
    title: str
    source: str
    chargeback: str | None
    effect: Literal["none", "reject_document", "hold_invoice"]


class Rules(_Data):
    purchase_order: PurchaseOrderRules
    ship_notice: ShipNoticeRules
    invoice: InvoiceRules
    rules: dict[str, Rule]


# --- rate_card.yaml ----------------------------------------------------------------------


class Rate(_Data):
    from_: dt.date = Field(alias="from")
    rate: Decimal


class ChargebackType(_Data):
    category: str
    basis: Literal["percent_of_cogs", "per_carton", "per_defect", "flat"]
    rates: tuple[Rate, ...]
    source: str

    def rate_on(self, day: dt.date) -> Decimal:
        """The rate in force on ``day`` (the latest one that started on or before it)."""
        applicable = [r for r in self.rates if r.from_ <= day]
        chosen = (
            max(applicable, key=lambda r: r.from_) if applicable else min(self.rates, key=lambda r: r.from_)
        )
        return chosen.rate


class RateCard(_Data):
    currency: str
    chargebacks: dict[str, ChargebackType]


# --- remittance.yaml ---------------------------------------------------------------------


class PaymentTerms(_Data):
    net_days: int
    discount_percent: Decimal
    method: str
    format: str


class Payer(_Data):
    name: str
    id_qualifier: str
    id: str


class CoopAgreement(_Data):
    agreement: int
    name: str
    percent: Decimal


class RemittanceRules(_Data):
    payment_terms: PaymentTerms
    payer: Payer
    reference_formats: dict[str, str]
    adjustment_reason_codes: dict[str, str]
    coop_agreements: tuple[CoopAgreement, ...]
    provision_percent: Decimal
    shortage_found_later_percent: Decimal


# --- traffic.yaml ------------------------------------------------------------------------


class DefectMix(_Data):
    kinds: dict[str, int]
    price_off_percent: tuple[int, int]
    unknown_upc_company_prefix: str


class Traffic(_Data):
    order_types: dict[str, int]
    backorder_allowed: dict[str, int]
    ship_to_qualifiers: dict[str, int]
    freight_terms: dict[str, int]
    product_id_qualifiers: dict[str, int]
    units: dict[str, int]
    lines_per_order: tuple[int, int]
    cases_per_line: tuple[int, int]
    each_quantity_in_case_multiples_percent: int
    discontinued_item_percent: int
    lead_days: dict[str, tuple[int, int]]
    window_days: dict[str, tuple[int, int]]
    purchase_order_number: str
    purchase_order_prefix_alphabet: str
    file_name: str
    defects: DefectMix


class Rulebook(_Data):
    """The four data files together."""

    rules: Rules
    rate_card: RateCard
    remittance: RemittanceRules
    traffic: Traffic

    def with_net_days(self, net_days: int) -> Rulebook:
        """The same rulebook with other payment terms (a month's simulation pays within it)."""
        terms = self.remittance.payment_terms.model_copy(update={"net_days": net_days})
        remittance = self.remittance.model_copy(update={"payment_terms": terms})
        return self.model_copy(update={"remittance": remittance})

    def rule(self, rule_id: str) -> Rule:
        try:
            return self.rules.rules[rule_id]
        except KeyError as exc:
            raise KeyError(f"rule {rule_id!r} is not in rules.yaml") from exc


def _read(folder: Path, name: str) -> dict:
    path = folder / name
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise FileNotFoundError(f"simulator data file {path} cannot be read") from exc


@lru_cache(maxsize=4)
def load_rulebook(data_dir: str | Path = DATA_DIR) -> Rulebook:
    """Read ``rules.yaml``, ``rate_card.yaml``, ``remittance.yaml`` and ``traffic.yaml``."""
    folder = Path(data_dir)
    rulebook = Rulebook(
        rules=Rules.model_validate(_read(folder, "rules.yaml")),
        rate_card=RateCard.model_validate(_read(folder, "rate_card.yaml")),
        remittance=RemittanceRules.model_validate(_read(folder, "remittance.yaml")),
        traffic=Traffic.model_validate(_read(folder, "traffic.yaml")),
    )
    unknown = {
        rule.chargeback
        for rule in rulebook.rules.rules.values()
        if rule.chargeback and rule.chargeback not in rulebook.rate_card.chargebacks
    }
    if unknown:
        raise ValueError(f"rules.yaml names chargebacks missing from rate_card.yaml: {sorted(unknown)}")
    return rulebook
