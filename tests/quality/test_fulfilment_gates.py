"""The GX gates of fulfilment_to_asn hold exactly what breaks a rule: one batch per suite,
one clean shipment / invoice and one for each expectation, each breaking only that one."""

from __future__ import annotations

import pandas as pd

from amazon_bluecherry.quality.checkpoint import run_checkpoint
from amazon_bluecherry.quality.suites import invoice_suite, ship_notice_suite

CARTON = {"sscc": "", "sscc_valid": True, "sscc_cartons_in_batch": 1, "scac_approved": True, "has_tracking": True,
          "bol_not_a_date": True, "ship_date_in_range": True, "purchase_order": "PO1", "line_number": "1",
          "shipped_eaches": 12, "accepted_eaches": 12, "product_id_echoed": True}
ASN_BREAKS = {  # shipment -> what is wrong with its only carton line
    "SH-SSCC": {"sscc_valid": False}, "SH-TWICE": {"sscc_cartons_in_batch": 2}, "SH-SCAC": {"scac_approved": False},
    "SH-TRACK": {"has_tracking": False}, "SH-BOL": {"bol_not_a_date": False}, "SH-DATE": {"ship_date_in_range": False},
    "SH-EMPTY": {"shipped_eaches": 0}, "SH-OVER": {"accepted_eaches": 11}, "SH-ID": {"product_id_echoed": False},
}

LINE = {"purchase_order": "PO1", "line_number": "1", "unit_cost": 6.5, "cost_855": 6.5, "quantity": 12,
        "asn_eaches": 12, "invoice_total": 78.0, "expected_total": 78.0, "number_used_before": False}
INVOICE_BREAKS = {
    "INV-COST": {"unit_cost": 6.75}, "INV-QTY": {"quantity": 13}, "INV-TDS": {"invoice_total": 80.0},
    "INV-ZERO": {"invoice_total": 0.0, "expected_total": 0.0}, "INV-USED": {"number_used_before": True},
}


def test_the_asn_gate_holds_each_shipment_for_its_own_rule():
    rows = [{**CARTON, "shipment_id": "SH-OK", "sscc": "SH-OK"}]
    rows += [{**CARTON, **change, "shipment_id": shipment, "sscc": shipment} for shipment, change in ASN_BREAKS.items()]
    outcome = run_checkpoint("ship_notices", pd.DataFrame(rows), ship_notice_suite(),
                             key_columns=["shipment_id", "sscc"])
    assert not outcome.success
    assert outcome.failed_keys("shipment_id") == set(ASN_BREAKS)
    assert len(outcome.failures) == len(ASN_BREAKS), "each rule is its own expectation"
    assert all(failure.description for failure in outcome.failures), "a hold says which rule"


def test_the_invoice_gate_holds_each_invoice_for_its_own_rule():
    rows = [{**LINE, "invoice_number": "INV-OK"}]
    rows += [{**LINE, **change, "invoice_number": number} for number, change in INVOICE_BREAKS.items()]
    rows.append({**LINE, "invoice_number": "INV-TWICE"})
    rows.append({**LINE, "invoice_number": "INV-TWICE"})  # the same invoice line twice
    outcome = run_checkpoint("invoices", pd.DataFrame(rows), invoice_suite(), key_columns=["invoice_number"])
    assert outcome.failed_keys("invoice_number") == set(INVOICE_BREAKS) | {"INV-TWICE"}
    descriptions = {failure.description: set(failure.keys[0].values()) for failure in outcome.failures}
    assert descriptions["invoice cost equals the 855 cost"] == {"INV-COST"}
    assert descriptions["no zero-total invoice"] == {"INV-ZERO"}
