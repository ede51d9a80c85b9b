"""remit_to_journals rules: lines, classification through remit_codes.csv, the posting plan."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from amazon_bluecherry.bluecherry.models import CashReceipt, JournalEntry
from amazon_bluecherry.edi.parse import parse_file
from amazon_bluecherry.flows.mappings import MappingError
from amazon_bluecherry.flows.remit_codes import REMIT_CODE_COLUMNS, load_remit_codes
from amazon_bluecherry.flows.remit_to_journals import (
    PostingPolicy,
    classify_file,
    classify_remittance,
    plan_effects,
    posting_plan,
)
from tests.conftest import REPO_ROOT
from tests.flows.remittances import Line, deduction, invoice, make_820

SHIPPED = REPO_ROOT / "include" / "mappings"
POLICY = PostingPolicy()
PAID_ON = dt.date(2026, 10, 23)


@pytest.fixture(scope="module")
def codes():
    return load_remit_codes(SHIPPED)


def classify(content: bytes, codes):
    (remittance,) = classify_file(content, codes, POLICY)
    return remittance


# --- classification -------------------------------------------------------------------------

@pytest.mark.parametrize(("reference", "expected", "account"), [
    ("INV0001234", "invoice_payment", "1200"),
    ("INV0001234SC", "shortage_claim", "6110"),
    ("INV0001234SCR", "shortage_claim_reversal", "6110"),
    ("INV0001234SCRSC", "shortage_claim", "6110"),           # revised claim: a shortage claim again
    ("000001234VCBSINV", "chargeback", "6100"),
    ("4711-00000042", "coop", "6120"),
    ("261023-PROVISION FOR RECEIVABLES", "provision_for_receivables", "1250"),
    ("261023-PROVISION FOR RECEIVABLESR", "provision_reversal", "1250"),
    ("IPAPUS1234567", "price_protection", "4200"),
    ("INV0001234PC", "price_claim", "6130"),
    ("WSO_144324_05", "unrecognised", "1299"),               # a code Amazon never told us about
    ("INV00012345", "unrecognised", "1299"),                 # regex is a whole match, not a prefix
    ("IPAPUS12", "unrecognised", "1299"),
])
def test_amazon_conventions_are_recognised_by_the_shipped_table(codes, reference, expected, account):
    remittance = classify(make_820("T1", [Line(reference, "-10.00")]), codes)
    (line,) = remittance.lines
    assert (line.deduction_type, line.gl_account) == (expected, account)
    assert line.owner == ("finance" if expected == "unrecognised" else line.owner)


def test_claims_name_the_invoice_they_are_about(codes):
    remittance = classify(make_820("T1", [
        deduction("INV0000001SC", "-12.50", code="SC", about=("IV", "INV0000001")),
        deduction("000000007VCBSINV", "-50.00", code="CB", about=("SI", "SHP0000003")),
        deduction("000000008VCBSINV", "-5.00", code="CB", about=("PO", "PO123")),
        deduction("INV0000002PC", "-1.00", code="PC"),
    ]), codes)
    found = [(line.invoice_number, line.shipment_id, line.purchase_order) for line in remittance.lines]
    assert found == [("INV0000001", None, None), (None, "SHP0000003", None), (None, None, "PO123"),
                     ("INV0000002", None, None)]


def write_codes(folder, rows: list[str]):
    folder.mkdir(exist_ok=True)
    (folder / "remit_codes.csv").write_text(",".join(REMIT_CODE_COLUMNS) + "\n" + "\n".join(rows) + "\n")
    return load_remit_codes(folder)


def test_the_first_matching_row_wins_and_adx_codes_classify(tmp_path):
    codes = write_codes(tmp_path / "m", [
        "suffix,SC,shortage_claim,6110,warehouse",
        "suffix,SCR,shortage_claim_reversal,6110,warehouse",   # never reached: SC... no, SCR does not end in SC
        "adx_code,72,coop,6150,wholesale",
        "regex,X.*,chargeback,6100,warehouse",
    ])
    remittance = classify(make_820("T1", [
        Line("ABCSC", "-1.00"), Line("ABCSCR", "1.00"),
        Line("NOTHING", "-2.00", adx=[("-2.00", "72")]),
        Line("XSC", "-3.00"),                                   # suffix row first: shortage claim, not chargeback
        Line("X72", "-4.00", adx=[("-4.00", "72")]),            # adx row before regex row
    ]), codes)
    assert [line.deduction_type for line in remittance.lines] == [
        "shortage_claim", "shortage_claim_reversal", "coop", "shortage_claim", "coop"]
    assert [line.rule_line for line in remittance.lines] == [2, 3, 4, 2, 4]


@pytest.mark.parametrize(("rows", "message"), [
    (["suffix,SC,shortage,6110,warehouse"], "line 2, column deduction_type"),
    (["suffix,SC,unrecognised,6110,warehouse"], "'unrecognised' is what no row matches"),
    (["prefix,SC,shortage_claim,6110,warehouse"], "line 2, column match_type"),
    (["regex,([,coop,6120,wholesale"], "not a regular expression"),
    (["suffix,SC,shortage_claim,6110,warehouse", "suffix,SC,chargeback,6100,warehouse"], "already on line 2"),
    (["suffix,SC,shortage_claim,6110,accounting"], "line 2, column owner"),
])
def test_a_bad_row_is_refused_with_file_line_and_column(tmp_path, rows, message):
    with pytest.raises(MappingError, match=message.replace("(", r"\(").replace("[", r"\[")):
        write_codes(tmp_path / "m", rows)


def test_excel_saved_file_with_bom_and_blank_lines_loads(tmp_path):
    folder = tmp_path / "m"
    folder.mkdir()
    text = ",".join(REMIT_CODE_COLUMNS) + "\r\nsuffix,SC,shortage_claim,6110,warehouse\r\n,,,,\r\n"
    (folder / "remit_codes.csv").write_bytes(b"\xef\xbb\xbf" + text.encode())
    assert len(load_remit_codes(folder).rows) == 1


# --- lines and journals -------------------------------------------------------------------

def test_journals_are_signed_per_type_and_balance_with_the_invoices(codes):
    remittance = classify(make_820("T1", [
        invoice("INV0000001", "1000.00"), invoice("INV0000002", "500.00"),
        deduction("INV0000001SC", "-40.00"), deduction("INV0000002SC", "-10.00"),
        deduction("INV0000001SCR", "5.00"), deduction("000000001VCBSINV", "-50.00"),
        deduction("4711-00000001", "-30.00"), Line("MYSTERY", "-7.77"),
    ]), codes)
    assert remittance.payment_amount == Decimal("1367.23")
    assert [(j.deduction_type, j.gl_account, str(j.amount)) for j in remittance.journals()] == [
        ("shortage_claim", "6110", "-50.00"), ("shortage_claim_reversal", "6110", "5.00"),
        ("chargeback", "6100", "-50.00"), ("coop", "6120", "-30.00"), ("unrecognised", "1299", "-7.77")]
    assert remittance.balanced
    report = remittance.to_report()
    assert set(report) == {"trace_number", "payment_amount", "lines", "journals", "balanced"}
    assert report["lines"][-1] == {"reference": "MYSTERY", "amount": "-7.77", "deduction_type": "unrecognised",
                                   "gl_account": "1299", "owner": "finance"}


def test_a_remittance_whose_lines_do_not_add_up_is_not_balanced(codes):
    remittance = classify(make_820("T1", [invoice("INV0000001", "100.00")], payment="99.00"), codes)
    assert not remittance.balanced


def test_a_short_paid_invoice_with_its_own_adjustments_is_split(codes, tmp_path):
    line = Line("INV0000001", "90.00", invoice_amount="100.00", adx=[("-7.00", "72"), ("-3.00", "ZZ")])
    remittance = classify(make_820("T1", [line]), codes)
    assert [(x.reference, str(x.amount), x.deduction_type) for x in remittance.lines] == [
        ("INV0000001", "100.00", "invoice_payment"), ("INV0000001", "-7.00", "unrecognised"),
        ("INV0000001", "-3.00", "unrecognised")]
    assert remittance.balanced
    with_code = write_codes(tmp_path / "m", ["adx_code,72,coop,6150,wholesale", "regex,INV\\d{7},invoice_payment,1200,finance"])
    again = classify(make_820("T1", [line]), with_code)
    assert [x.deduction_type for x in again.lines] == ["invoice_payment", "coop", "unrecognised"]


def test_entity_level_adjustments_are_lines_of_their_own(codes):
    remittance = classify(make_820("T1", [invoice("INV0000001", "100.00")],
                                   ent_adjustments=[("-2.50", "CS", "IV", "INV0000001SC")]), codes)
    assert [(x.reference, str(x.amount), x.deduction_type) for x in remittance.lines] == [
        ("INV0000001SC", "-2.50", "shortage_claim"), ("INV0000001", "100.00", "invoice_payment")]
    assert remittance.payment_amount == Decimal("97.50") and remittance.balanced


# --- posting plan -------------------------------------------------------------------------

def plan_for(remittance, open_invoices):
    plan = posting_plan(remittance, {k: Decimal(v) for k, v in open_invoices.items()}, POLICY, posting_date=PAID_ON)
    stored = plan.to_dict()
    # What BlueCherry will be sent must be valid content: receipts not over-applied, journals balanced.
    if stored["receipt"]:
        CashReceipt.model_validate(stored["receipt"])
    for journal in stored["journals"]:
        JournalEntry.model_validate(journal["entry"])
    return plan, stored


def assert_ties(remittance, stored):
    effects = plan_effects(stored, ar_account=POLICY.ar_account, unapplied_cash_account=POLICY.unapplied_cash_account)
    deductions = sum((x.amount for x in remittance.lines if x.deduction_type != "invoice_payment"), Decimal(0))
    assert effects["cash"] == remittance.payment_amount
    assert effects["ar_and_unapplied"] == remittance.invoice_payments_total
    assert effects["deduction_accounts"] == -deductions
    assert effects["unbalanced_journals"] == 0


def test_receipt_applies_the_invoices_and_closes_the_deductions_on_them(codes):
    remittance = classify(make_820("0000000042", [
        invoice("INV0000001", "1000.00"), invoice("INV0000002", "500.00"),
        deduction("INV0000002SC", "-20.00"), deduction("000000001VCBSINV", "-50.00"),
        deduction("261023-PROVISION FOR RECEIVABLES", "-15.00")]), codes)
    plan, stored = plan_for(remittance, {"INV0000001": "1000.00", "INV0000002": "500.00", "INV0000009": "9.00"})
    receipt = stored["receipt"]
    assert receipt["receipt_number"] == "AMZ-0000000042" and receipt["amount"] == "1415.00"
    by_invoice = {a["invoice_number"]: a for a in receipt["applications"]}
    assert by_invoice["INV0000002"]["deduction_amount"] == "20.00"           # its own shortage claim first
    assert by_invoice["INV0000001"]["deduction_amount"] == "65.00"           # then the rest
    assert sum(Decimal(a["amount_applied"]) + Decimal(a["deduction_amount"]) for a in by_invoice.values()) == 1500
    assert plan.unapplied == 0 and plan.unmatched == []
    journals = {j["deduction_type"]: j["entry"] for j in stored["journals"]}
    assert set(journals) == {"shortage_claim", "chargeback", "provision_for_receivables"}
    chargeback = journals["chargeback"]
    assert chargeback["reference"] == "AMZ-0000000042-CB" and chargeback["posting_date"] == "2026-10-23"
    assert [(x["account"], x["debit"], x["credit"]) for x in chargeback["lines"]] == [
        ("6100", "50.00", "0.00"), ("1200", "0.00", "50.00")]
    assert_ties(remittance, stored)


def test_payment_for_an_invoice_bluecherry_does_not_have_stays_unapplied(codes):
    remittance = classify(make_820("T2", [invoice("INV0000001", "100.00"), invoice("INV0000077", "40.00"),
                                          deduction("000000001VCBSINV", "-10.00")]), codes)
    plan, stored = plan_for(remittance, {"INV0000001": "100.00"})
    assert [(u.reference, u.amount) for u in plan.unmatched] == [("INV0000077", Decimal("40.00"))]
    assert plan.unapplied == Decimal("40.00")
    assert_ties(remittance, stored)


def test_overpaid_invoice_applies_its_open_balance_and_leaves_the_rest_unapplied(codes):
    remittance = classify(make_820("T3", [invoice("INV0000001", "100.00")]), codes)
    plan, stored = plan_for(remittance, {"INV0000001": "60.00"})
    assert [(u.amount, u.reason) for u in plan.unmatched] == [(Decimal("40.00"), "pays 100.00 but BlueCherry has only 60.00 open")]
    assert stored["receipt"]["applications"][0]["amount_applied"] == "60.00"
    assert_ties(remittance, stored)


def test_credits_larger_than_the_deductions_go_through_unapplied_cash(codes):
    # A remittance of reversals only: no invoice to close, the credit journals draw on the cash.
    remittance = classify(make_820("T4", [deduction("INV0000001SCR", "25.00"),
                                          deduction("261001-PROVISION FOR RECEIVABLESR", "30.00"),
                                          deduction("000000001VCBSINV", "-5.00")]), codes)
    plan, stored = plan_for(remittance, {})
    assert stored["receipt"]["applications"] == [] and plan.unapplied == Decimal("50.00")
    journals = {j["deduction_type"]: j["entry"]["lines"] for j in stored["journals"]}
    assert [(x["account"], x["debit"], x["credit"]) for x in journals["provision_reversal"]] == [
        ("1250", "0.00", "30.00"), ("2150", "30.00", "0.00")]
    assert_ties(remittance, stored)


def test_deductions_beyond_the_matched_invoices_draw_on_unapplied_cash(codes):
    remittance = classify(make_820("T5", [invoice("INV0000001", "100.00"), invoice("INV0000099", "500.00"),
                                          deduction("000000001VCBSINV", "-150.00")]), codes)
    plan, stored = plan_for(remittance, {"INV0000001": "100.00"})      # INV0000099 unknown to BlueCherry
    assert stored["receipt"]["applications"][0] == {
        "invoice_number": "INV0000001", "amount_applied": "0.00", "deduction_amount": "100.00",
        "deduction_reason": "other deductions 100.00"}
    lines = stored["journals"][0]["entry"]["lines"]
    assert [(x["account"], x["debit"], x["credit"]) for x in lines] == [
        ("6100", "150.00", "0.00"), ("1200", "0.00", "100.00"), ("2150", "0.00", "50.00")]
    assert_ties(remittance, stored)


REFERENCES = ["INV0000001", "INV0000002", "INV0000003", "INV0000001SC", "INV0000002SCR", "000000001VCBSINV",
              "4711-00000001", "261001-PROVISION FOR RECEIVABLES", "261001-PROVISION FOR RECEIVABLESR",
              "IPAPUS0000001", "INV0000003PC", "SOMETHING NEW"]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(REFERENCES), st.integers(min_value=1, max_value=500_000)),
                min_size=1, max_size=12),
       st.dictionaries(st.sampled_from(["INV0000001", "INV0000002", "INV0000003"]),
                       st.integers(min_value=0, max_value=600_000), max_size=3))
def test_any_remittance_with_a_positive_payment_posts_in_balance(rows, open_cents):
    codes = load_remit_codes(SHIPPED)
    lines = []
    for reference, amount_cents in rows:
        amount = Decimal(amount_cents) / 100
        invoice_like = reference.startswith("INV") and reference[3:].isdigit()
        credit = reference.endswith(("SCR", "RECEIVABLESR"))
        lines.append(invoice(reference, str(amount)) if invoice_like else
                     Line(reference, str(amount if credit else -amount)))
    content = make_820("P1", lines)
    remittance = classify_remittance(parse_file(content)[0], codes, POLICY)
    if remittance.payment_amount <= 0:
        return  # nothing received: the gate blocks it (a positive payment to post)
    plan, stored = plan_for(remittance, {k: Decimal(v) / 100 for k, v in open_cents.items()})
    assert_ties(remittance, stored)
    assert remittance.balanced


def test_rows_the_single_pass_cannot_nest_still_match_in_order(tmp_path):
    codes = write_codes(tmp_path / "m", [
        "regex,(?i)wso_.*,coop,6120,wholesale",               # inline flags: compiled on its own
        "suffix,SC,shortage_claim,6110,warehouse",
        "regex,(?P<row1>X)SC,chargeback,6100,warehouse",      # a group name of its own, after a row that wins
    ])
    assert [codes.classify(ref).deduction_type if codes.classify(ref) else None
            for ref in ("wso_1", "WSO_2", "XSC", "ABC")] == ["coop", "coop", "shortage_claim", None]
