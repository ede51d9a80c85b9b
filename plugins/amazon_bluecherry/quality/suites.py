"""The expectation suites that gate documents: what must hold before anything moves.

Each suite is a function returning GX expectations for a DataFrame built by the flow;
the columns are computed independently of the rule that produced the data (eaches are
recomputed from the item master, not copied), so the suite can catch a translator bug.
"""

from __future__ import annotations

from decimal import Decimal


def order_lines_suite(*, price_tolerance: Decimal) -> list:
    """po_to_so, before sales orders are created. Columns: customer_po, line_number, sku,
    qty_eaches, expected_eaches, price_delta, price_checked, window_start, window_end, received_on."""
    import great_expectations.expectations as gxe

    return [
        gxe.ExpectColumnValuesToNotBeNull(column="sku", description="every line resolved to a SKU"),
        gxe.ExpectColumnPairValuesToBeEqual(column_A="qty_eaches", column_B="expected_eaches",
                                            description="eaches = quantity x case pack"),
        gxe.ExpectColumnValuesToBeBetween(column="qty_eaches", min_value=1, description="a positive quantity"),
        gxe.ExpectColumnValuesToNotBeNull(column="window_start", description="delivery window start is a date"),
        gxe.ExpectColumnValuesToNotBeNull(column="window_end", description="delivery window end is a date"),
        gxe.ExpectColumnPairValuesAToBeGreaterThanB(column_A="window_end", column_B="window_start", or_equal=True,
                                                    description="delivery window ends after it starts"),
        gxe.ExpectColumnPairValuesAToBeGreaterThanB(column_A="window_end", column_B="received_on", or_equal=True,
                                                    description="delivery window still open at receipt"),
        gxe.ExpectCompoundColumnsToBeUnique(column_list=["customer_po", "line_number"],
                                            description="no PO twice in one batch"),
        # Only rows whose price is checked: the policy may load at Amazon's price, and
        # wholesale may accept it for one PO.
        gxe.ExpectColumnValuesToBeBetween(column="price_delta", min_value=0, max_value=float(price_tolerance),
                                          row_condition="price_checked == True", condition_parser="pandas",
                                          description="price per each within tolerance of unit_cost"),
    ]


def acknowledgement_suite() -> list:
    """so_to_poa, before 855s leave. One row per PO line. Columns: purchase_order,
    line_number, ack_count, acknowledged_qty, ordered_qty, missing_price_count,
    product_id_echoed, reverses_rejection (less is rejected now than an earlier 855 rejected)."""
    import great_expectations.expectations as gxe

    return [
        gxe.ExpectColumnValuesToBeBetween(column="ack_count", min_value=1,
                                          description="every PO line acknowledged"),
        gxe.ExpectCompoundColumnsToBeUnique(column_list=["purchase_order", "line_number"],
                                            description="every PO line acknowledged exactly once"),
        gxe.ExpectColumnPairValuesToBeEqual(column_A="acknowledged_qty", column_B="ordered_qty",
                                            description="acknowledged quantities add up to the ordered quantity"),
        gxe.ExpectColumnValuesToBeInSet(column="missing_price_count", value_set=[0],
                                        description="a price on every acknowledged line"),
        gxe.ExpectColumnValuesToBeInSet(column="product_id_echoed", value_set=[True],
                                        description="product ids echo the PO's"),
        gxe.ExpectColumnValuesToBeInSet(column="reverses_rejection", value_set=[False],
                                        description="a line rejected earlier stays rejected"),
    ]


def remittance_lines_suite() -> list:
    """remit_to_journals, before posting. One row per remittance line. Columns:
    remittance_id, trace_number, line_number, deduction_type, gl_account, account_known,
    suspense_ok (an unrecognised line sits on the suspense account)."""
    import great_expectations.expectations as gxe

    from amazon_bluecherry.flows.remit_codes import DEDUCTION_TYPES

    return [
        gxe.ExpectColumnValuesToBeInSet(column="deduction_type", value_set=list(DEDUCTION_TYPES),
                                        description="every line classified or in suspense"),
        gxe.ExpectColumnValuesToNotBeNull(column="gl_account", description="every line has a GL account"),
        gxe.ExpectColumnValuesToBeInSet(column="account_known", value_set=[True],
                                        description="every GL account exists in BlueCherry's chart of accounts"),
        gxe.ExpectColumnValuesToBeInSet(column="suspense_ok", value_set=[True],
                                        description="unrecognised lines go to the suspense account"),
    ]


def remittance_totals_suite() -> list:
    """remit_to_journals, before posting. One row per remittance, money in integer cents,
    each column computed on its own: payment (BPR02), lines (sum of the lines), cash (the
    planned receipt), invoice_lines, ar_and_unapplied (what the plan credits to AR and
    unapplied cash), deductions (minus the deduction lines), deduction_accounts (the plan's
    net debit to the deduction accounts), unbalanced_journals, posted_before, plan_problems."""
    import great_expectations.expectations as gxe

    return [
        gxe.ExpectColumnPairValuesToBeEqual(column_A="lines_cents", column_B="payment_cents",
                                            description="the remittance lines add up to the BPR payment amount"),
        gxe.ExpectColumnPairValuesToBeEqual(column_A="cash_cents", column_B="payment_cents",
                                            description="the cash receipt is the BPR payment amount"),
        gxe.ExpectColumnPairValuesToBeEqual(column_A="ar_and_unapplied_cents", column_B="invoice_lines_cents",
                                            description="AR and unapplied cash take exactly the invoice payments"),
        gxe.ExpectColumnPairValuesToBeEqual(column_A="deduction_accounts_cents", column_B="deductions_cents",
                                            description="the typed journals carry exactly the deduction lines"),
        gxe.ExpectColumnValuesToBeInSet(column="unbalanced_journals", value_set=[0],
                                        description="each journal balanced"),
        gxe.ExpectColumnValuesToBeInSet(column="posted_before", value_set=[0],
                                        description="no trace number posted before"),
        gxe.ExpectColumnValuesToBeBetween(column="payment_cents", min_value=1,
                                          description="a positive payment to post"),
        gxe.ExpectColumnValuesToBeInSet(column="plan_problems", value_set=[0],
                                        description="the receipt and journals are content BlueCherry accepts"),
    ]


def ship_notice_suite() -> list:
    """fulfilment_to_asn, before 856s leave. One row per carton line of the batch, read back
    from the X12: shipment_id, sscc, sscc_valid, sscc_cartons_in_batch, scac_approved,
    has_tracking, bol_not_a_date, ship_date_in_range, purchase_order, line_number,
    shipped_eaches, accepted_eaches, product_id_echoed."""
    import great_expectations.expectations as gxe

    return [
        gxe.ExpectColumnValuesToBeInSet(column="sscc_valid", value_set=[True],
                                        description="every carton has an SSCC-18 with a valid check digit"),
        gxe.ExpectColumnValuesToBeInSet(column="sscc_cartons_in_batch", value_set=[1],
                                        description="no SSCC on two cartons of the batch"),
        gxe.ExpectColumnValuesToBeInSet(column="scac_approved", value_set=[True],
                                        description="the carrier is on the approved list"),
        gxe.ExpectColumnValuesToBeInSet(column="has_tracking", value_set=[True],
                                        description="tracking / PRO number known"),
        gxe.ExpectColumnValuesToBeInSet(column="bol_not_a_date", value_set=[True],
                                        description="a bill of lading that is not a date"),
        gxe.ExpectColumnValuesToBeInSet(column="ship_date_in_range", value_set=[True],
                                        description="ship date within the past 7 days or up to 2 days ahead"),
        gxe.ExpectColumnValuesToBeBetween(column="shipped_eaches", min_value=1,
                                          description="every carton line holds something"),
        gxe.ExpectColumnPairValuesAToBeGreaterThanB(column_A="accepted_eaches", column_B="shipped_eaches",
                                                    or_equal=True,
                                                    description="no carton line beyond what the 855 accepted"),
        gxe.ExpectColumnValuesToBeInSet(column="product_id_echoed", value_set=[True],
                                        description="product ids echo the PO's"),
    ]


def invoice_suite() -> list:
    """fulfilment_to_asn invoices, before 810s leave. One row per invoice line, read back
    from the X12: invoice_number, purchase_order, line_number, unit_cost, cost_855,
    quantity, asn_eaches, invoice_total, expected_total, number_used_before."""
    import great_expectations.expectations as gxe

    return [
        gxe.ExpectColumnPairValuesToBeEqual(column_A="unit_cost", column_B="cost_855",
                                            description="invoice cost equals the 855 cost"),
        gxe.ExpectColumnPairValuesToBeEqual(column_A="quantity", column_B="asn_eaches",
                                            description="invoiced quantity equals what the ASN shipped"),
        gxe.ExpectColumnPairValuesToBeEqual(column_A="invoice_total", column_B="expected_total",
                                            description="TDS equals lines + charges - allowances"),
        gxe.ExpectColumnValuesToBeBetween(column="invoice_total", min_value=0.01,
                                          description="no zero-total invoice"),
        gxe.ExpectColumnValuesToBeInSet(column="number_used_before", value_set=[False],
                                        description="invoice numbers unique for ever"),
        gxe.ExpectCompoundColumnsToBeUnique(column_list=["invoice_number", "line_number"],
                                            description="each invoice line once"),
    ]


def inventory_feed_suite(*, max_swing_share: float, max_age_minutes: float) -> list:
    """stock_to_846, before an 846 leaves. One row per SKU and warehouse of the feed
    (``flows.stock_to_846.check_frame``): sku, warehouse, product_id, published, physical_ats
    (recomputed from BlueCherry's figures), known_to_amazon, snapshot_age_minutes,
    unexplained_swing_share (the swing since the last feed when BlueCherry's figures and the
    buffer rule did not move as much; 0 otherwise)."""
    import great_expectations.expectations as gxe

    return [
        gxe.ExpectColumnValuesToBeBetween(column="published", min_value=0,
                                          description="no negative quantity published"),
        gxe.ExpectColumnPairValuesAToBeGreaterThanB(column_A="physical_ats", column_B="published", or_equal=True,
                                                    description="published never above what BlueCherry could ship"),
        gxe.ExpectColumnValuesToBeInSet(column="known_to_amazon", value_set=[True],
                                        description="every product id is one Amazon knows (items.csv)"),
        gxe.ExpectColumnValuesToBeBetween(column="snapshot_age_minutes", min_value=-5, max_value=max_age_minutes,
                                          description=f"the snapshot is at most {max_age_minutes:g} minutes old"),
        gxe.ExpectColumnValuesToBeBetween(
            column="unexplained_swing_share", max_value=max_swing_share,
            description=f"no SKU moves more than {max_swing_share:.0%} since the last feed without a matching "
                        "BlueCherry movement"),
    ]
