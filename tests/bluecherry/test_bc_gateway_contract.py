"""One contract, two adapters: the REST gateway and the flat-file gateway against the running emulator.

Every test runs once per adapter (``harness`` fixture). ``harness.sync()`` is the ERP's
batch cycle for the flat-file adapter (writes are queued until then) and a no-op for REST.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from pydantic import ValidationError

from amazon_bluecherry.bluecherry.gateway import NotFound
from amazon_bluecherry.bluecherry.models import (
    CANCEL_REASONS,
    CashReceipt,
    JournalEntry,
    JournalLine,
    ReceiptApplication,
    SalesOrderLineDraft,
)
from amazon_bluecherry.edi.gs1 import is_valid_gtin, is_valid_sscc
from sandbox.bluecherry.files import CycleCrash, FileFaults


def submit(harness, draft, key=None):
    result = harness.gateway.upsert_sales_order(
        draft, idempotency_key=key or f"key-{draft.customer_po}-{draft.fingerprint()[:12]}"
    )
    harness.sync()
    return result


# --- master data ---------------------------------------------------------------------------


def test_item_master_is_an_apparel_catalogue(harness):
    items = harness.gateway.list_items()
    assert len(items) >= 2000
    assert len({item.sku for item in items}) == len(items)
    for item in items:
        assert item.sku == f"{item.style}-{item.color}-{item.size}"
        assert is_valid_gtin(item.upc) and len(item.upc) == 12
        assert item.case_pack_qty in (6, 12, 24)
        assert item.unit_cost > 0 and item.currency == "USD"
    assert sum(1 for item in items if item.asin) > 0.9 * len(items)
    assert all(len(item.asin) == 10 and item.asin.startswith("B0") for item in items if item.asin)
    one_style = items[0].style
    assert {item.style for item in harness.gateway.list_items(style=one_style)} == {one_style}


def test_amazon_price_list_is_the_item_cost(harness):
    costs = {item.sku: item.unit_cost for item in harness.gateway.list_items()}
    prices = harness.gateway.get_price_list("AMAZON")
    assert {entry.sku: entry.unit_price for entry in prices} == costs
    with pytest.raises(NotFound):
        harness.gateway.get_price_list("NO-SUCH-LIST")


def test_customers_have_amazon_fulfilment_centres(harness):
    customers = {customer.bc_customer: customer for customer in harness.gateway.list_customers()}
    fcs = [store for store in customers["AMAZON"].stores if store.store_type == "FC"]
    assert len(fcs) >= 10
    for store in fcs:
        assert store.fc_code == store.bc_store and len(store.fc_code) == 4
        assert store.san and len(store.san) == 7 and store.san.isdigit()
        assert store.bc_warehouse in ("NJ01", "CA01")
    assert {"ABE2", "PHX6"} <= {store.fc_code for store in fcs}


# --- po_to_so / so_to_poa ------------------------------------------------------------------


def test_new_order_is_allocated_backordered_or_rejected_per_line(harness, items_with, draft_for):
    emulator = harness.emulator
    plenty = items_with(emulator, count=2, min_available=200)
    short = items_with(emulator, count=1, min_available=1, max_available=30)[0]
    discontinued = items_with(emulator, count=1, active=False)[0]
    before = {row.sku: row for row in harness.gateway.get_ats(warehouse="NJ01").rows}
    draft = draft_for([*plenty, short, discontinued], [48, 24, before[short.sku].available + 12, 12])
    unknown = SalesOrderLineDraft(
        line_number=9, style="NOSUCH", color="BLK", size="M", qty_eaches=6, unit_price="1.00"
    )
    draft = draft.model_copy(update={"lines": [*draft.lines, unknown]})

    submit(harness, draft)
    order = harness.gateway.get_sales_order(draft.customer_po)

    assert order.customer_po == draft.customer_po and order.bc_store == "ABE2" and order.status == "open"
    assert order.revision == 1
    lines = {line.line_number: line for line in order.lines}
    assert (lines[1].qty_allocated, lines[2].qty_allocated) == (48, 24)
    assert lines[3].qty_allocated == before[short.sku].available
    assert lines[3].qty_backordered == 12 and lines[3].backorder_date > date.today()
    assert (lines[4].qty_cancelled, lines[4].cancel_reason) == (12, "discontinued")
    assert (lines[9].qty_cancelled, lines[9].cancel_reason, lines[9].sku) == (6, "unknown_item", None)
    assert lines[1].product_id == plenty[0].upc and lines[1].product_id_qualifier == "UP"
    assert {line.cancel_reason for line in order.lines} - {None} <= set(CANCEL_REASONS)
    after = {row.sku: row for row in harness.gateway.get_ats(warehouse="NJ01").rows}
    assert after[plenty[0].sku].allocated == before[plenty[0].sku].allocated + 48
    assert after[short.sku].available == 0
    assert after[plenty[0].sku].on_hand == before[plenty[0].sku].on_hand


def test_short_stock_without_backorder_is_cancelled_out_of_stock(harness, items_with, draft_for):
    zero = items_with(harness.emulator, count=1, max_available=0)[0]
    draft = draft_for([zero], [24], backorder_allowed=False)
    submit(harness, draft)
    (line,) = harness.gateway.get_sales_order(draft.customer_po).lines
    assert (line.qty_allocated, line.qty_backordered, line.qty_cancelled) == (0, 0, 24)
    assert line.cancel_reason == "out_of_stock"


def test_resent_po_updates_the_order_and_an_identical_resend_changes_nothing(harness, items_with, draft_for):
    items = items_with(harness.emulator, count=3, min_available=100)
    draft = draft_for(items, [24, 24, 24])
    submit(harness, draft, key="first-" + draft.customer_po)
    first = harness.gateway.get_sales_order(draft.customer_po)

    # Amazon re-sends the very same PO (another file, another key): nothing changes.
    submit(harness, draft, key="again-" + draft.customer_po)
    same = harness.gateway.get_sales_order(draft.customer_po)
    assert same == first

    # Amazon changes the PO: line 1 from 24 to 48, line 2 cancelled (qty 0), line 3 dropped.
    changed = draft.model_copy(
        update={
            "lines": [
                draft.lines[0].model_copy(update={"qty_eaches": 48}),
                draft.lines[1].model_copy(update={"qty_eaches": 0}),
            ]
        }
    )
    submit(harness, changed, key="change-" + draft.customer_po)
    updated = harness.gateway.get_sales_order(draft.customer_po)
    lines = {line.line_number: line for line in updated.lines}
    assert updated.order_number == first.order_number
    # Exports carry whole seconds: a quick change may share its second with the first write.
    assert updated.revision == first.revision + 1 and updated.updated_at >= first.updated_at
    assert (lines[1].qty_ordered, lines[1].qty_allocated) == (48, 48)
    assert (lines[2].qty_ordered, lines[2].qty_cancelled, lines[2].cancel_reason) == (
        24,
        24,
        "customer_cancelled",
    )
    assert (lines[3].qty_cancelled, lines[3].cancel_reason) == (24, "customer_cancelled")
    assert harness.emulator.backend.count_sales_orders(draft.customer_po) == 1
    assert harness.emulator.backend.check_invariants() == []


def test_a_line_cancelled_before_the_order_existed_is_kept_cancelled_and_allocates_nothing(
        harness, items_with, draft_for):
    # Amazon's item cancel can reach us before the first copy of the PO was loaded.
    items = items_with(harness.emulator, count=2, min_available=100)
    draft = draft_for(items, [24, 0])
    submit(harness, draft)
    lines = {line.line_number: line for line in harness.gateway.get_sales_order(draft.customer_po).lines}
    assert (lines[1].qty_ordered, lines[1].qty_allocated) == (24, 24)
    assert (lines[2].qty_ordered, lines[2].qty_allocated, lines[2].qty_backordered, lines[2].cancel_reason) == (
        0, 0, 0, "customer_cancelled")
    assert harness.emulator.backend.check_invariants() == []


def test_the_same_idempotency_key_never_creates_a_second_order(harness, items_with, draft_for):
    items = items_with(harness.emulator, count=1, min_available=60)
    draft = draft_for(items, [12])
    for _ in range(3):
        harness.gateway.upsert_sales_order(draft, idempotency_key="same-" + draft.customer_po)
    harness.sync()
    assert harness.emulator.backend.count_sales_orders(draft.customer_po) == 1
    assert harness.gateway.get_sales_order(draft.customer_po).revision == 1


def test_list_sales_orders_filters_by_po_and_change_time(harness, items_with, draft_for):
    items = items_with(harness.emulator, count=1, min_available=60)
    drafts = [draft_for(items, [6]) for _ in range(3)]
    started = datetime.now(UTC) - timedelta(seconds=1)
    results = harness.gateway.upsert_sales_orders([(d, "batch-" + d.customer_po) for d in drafts])
    assert [r.key for r in results] == [d.customer_po for d in drafts]
    harness.sync()
    wanted = [d.customer_po for d in drafts[:2]]
    assert sorted(o.customer_po for o in harness.gateway.list_sales_orders(customer_pos=wanted)) == sorted(
        wanted
    )
    recent = {o.customer_po for o in harness.gateway.list_sales_orders(updated_since=started)}
    assert {d.customer_po for d in drafts} <= recent
    assert harness.gateway.list_sales_orders(customer_pos=["NO-SUCH-PO"]) == []
    with pytest.raises(NotFound):
        harness.gateway.get_sales_order("NO-SUCH-PO")


# --- fulfilment_to_asn ---------------------------------------------------------------------


def test_shipped_order_is_ready_to_confirm_with_cartons_and_invoiced(harness, items_with, draft_for):
    items = items_with(harness.emulator, count=2, min_available=100)
    draft = draft_for(items, [items[0].case_pack_qty * 2, 5])
    submit(harness, draft)
    order = harness.gateway.get_sales_order(draft.customer_po)
    shipped, invoices = harness.emulator.backend.fulfil(order.order_number, carrier_scac="UPSN")
    harness.sync()

    ready = {s.shipment_id: s for s in harness.gateway.list_shipments_ready()}
    shipment = ready[shipped.shipment_id]
    assert shipment.customer_pos == [draft.customer_po] and shipment.order_numbers == [order.order_number]
    assert shipment.bc_store == "ABE2" and shipment.carrier_scac == "UPSN"
    assert (
        shipment.tracking_number
        and shipment.bol_number.startswith("VENDR")
        and len(shipment.bol_number) >= 13
    )
    assert shipment.ship_date == date.today() and shipment.departed_at.tzinfo is not None
    assert len(shipment.cartons) == 3  # two full case packs + one mixed carton with the 5 loose eaches
    assert all(is_valid_sscc(carton.sscc) for carton in shipment.cartons)
    assert len({carton.sscc for carton in shipment.cartons}) == 3
    contents = {}
    for carton in shipment.cartons:
        for item in carton.items:
            assert item.customer_po == draft.customer_po and is_valid_gtin(item.upc)
            contents[item.sku] = contents.get(item.sku, 0) + item.qty_eaches
    assert contents == {items[0].sku: items[0].case_pack_qty * 2, items[1].sku: 5}
    assert harness.gateway.get_sales_order(draft.customer_po).status == "shipped"

    (invoice,) = harness.gateway.list_invoices(customer_pos=[draft.customer_po])
    assert (
        invoice.invoice_number == invoices[0].invoice_number and invoice.shipment_id == shipment.shipment_id
    )
    assert invoice.total == sum((line.amount for line in invoice.lines), Decimal("0"))
    assert invoice.total == items[0].unit_cost * items[0].case_pack_qty * 2 + items[1].unit_cost * 5
    assert invoice.terms_code == "N60" and invoice.due_date == invoice.invoice_date + timedelta(days=60)
    assert harness.gateway.get_invoice(invoice.invoice_number) == invoice
    assert harness.gateway.list_invoices(shipment_id=shipment.shipment_id) == [invoice]

    harness.gateway.confirm_shipment(shipment.shipment_id, asn_reference="856-" + draft.customer_po)
    harness.sync()
    assert shipment.shipment_id not in {s.shipment_id for s in harness.gateway.list_shipments_ready()}
    confirmed = harness.gateway.get_shipment(shipment.shipment_id)
    assert confirmed.status == "confirmed" and confirmed.asn_reference == "856-" + draft.customer_po
    # Confirming again (a retried task) is harmless.
    harness.gateway.confirm_shipment(shipment.shipment_id, asn_reference="856-" + draft.customer_po)
    harness.sync()
    assert harness.gateway.get_shipment(shipment.shipment_id).confirmed_at == confirmed.confirmed_at
    with pytest.raises(NotFound):
        harness.gateway.get_shipment("SH-NO-SUCH")


# --- stock_to_846 --------------------------------------------------------------------------


def test_ats_is_on_hand_minus_allocated_minus_holds_with_its_snapshot_time(harness):
    snapshot = harness.gateway.get_ats()
    assert abs(datetime.now(UTC) - snapshot.snapshot_at) < timedelta(minutes=5)
    assert {row.warehouse for row in snapshot.rows} == {"NJ01", "CA01"}
    assert all(row.available == row.on_hand - row.allocated - row.on_hold for row in snapshot.rows)
    assert any(row.on_hold > 0 for row in snapshot.rows), "the seed puts some stock on hold"
    assert any(row.incoming > 0 and row.incoming_date for row in snapshot.rows)
    assert any(row.on_hand == 0 for row in snapshot.rows)
    west = harness.gateway.get_ats(warehouse="CA01")
    assert west.warehouse == "CA01" and {row.warehouse for row in west.rows} == {"CA01"}
    assert len(west.rows) * 2 == len(snapshot.rows)
    if harness.adapter == "flatfile":  # the ERP's cycle that wrote the export is the newest one
        assert snapshot.last_cycle_at is not None and snapshot.last_cycle_at <= snapshot.snapshot_at


def test_the_ats_table_holds_the_snapshot_figures(harness):
    snapshot = harness.gateway.get_ats()
    table = harness.gateway.get_ats_table()
    assert len(table) == len(snapshot.rows)
    by_key = {(row.sku, row.warehouse): row for row in snapshot.rows}
    for record in table.frame.head(200).to_dict("records"):
        row = by_key[(record["sku"], record["warehouse"])]
        assert (record["on_hand"], record["allocated"], record["on_hold"], record["incoming"], record["upc"]) == (
            row.on_hand, row.allocated, row.on_hold, row.incoming, row.upc)
    assert str(table.frame["on_hand"].dtype) == "int64"
    if harness.adapter == "flatfile":  # the same export read twice is the same snapshot
        assert harness.gateway.get_ats_table().fingerprint == table.fingerprint
        assert table.snapshot_at == snapshot.snapshot_at
    only = harness.gateway.get_ats_table(warehouses=["NJ01"])
    assert set(only.frame["warehouse"]) == {"NJ01"} and len(only) * 2 == len(table)


# --- remit_to_journals ---------------------------------------------------------------------


def test_journal_entries_post_once_and_must_balance(harness, new_po):
    accounts = {account.account for account in harness.gateway.list_gl_accounts()}
    assert {"1200", "4000", "6100", "6110"} <= accounts
    reference = new_po("JE")
    today = date.today()
    entry = JournalEntry(
        posting_date=today,
        reference=reference,
        description="Amazon shortage claim",
        lines=[
            JournalLine(
                account="6110", debit=Decimal("125.40"), memo="shortage", dimensions={"invoice": "INV1SC"}
            ),
            JournalLine(
                account="1200", credit=Decimal("125.40"), memo="shortage", dimensions={"invoice": "INV1SC"}
            ),
        ],
    )
    for _ in range(2):
        harness.gateway.post_journal_entry(entry, idempotency_key="je-" + reference)
    harness.sync()
    lines = [
        line for line in harness.gateway.list_ledger_lines(f"{today:%Y-%m}") if line.reference == reference
    ]
    assert sorted((line.account, line.debit, line.credit) for line in lines) == [
        ("1200", Decimal("0.00"), Decimal("125.40")),
        ("6110", Decimal("125.40"), Decimal("0.00")),
    ]
    assert lines[0].dimensions == {"invoice": "INV1SC"}
    assert [
        line.account for line in harness.gateway.list_ledger_lines(f"{today:%Y-%m}", account="6110")
    ].count("6110") >= 1
    with pytest.raises(ValidationError, match="unbalanced"):
        JournalEntry(
            posting_date=today,
            reference="bad",
            lines=[
                JournalLine(account="6110", debit=Decimal("1.00")),
                JournalLine(account="1200", credit=Decimal("0.99")),
            ],
        )


def test_cash_receipt_applies_to_invoices_and_shows_in_open_ar(harness, items_with, draft_for, new_po):
    items = items_with(harness.emulator, count=1, min_available=60)
    draft = draft_for(items, [items[0].case_pack_qty])
    submit(harness, draft)
    order = harness.gateway.get_sales_order(draft.customer_po)
    _, (invoice,) = harness.emulator.backend.fulfil(order.order_number)
    harness.sync()
    open_before = {i.document_number: i for i in harness.gateway.list_open_ar(bc_customer="AMAZON")}
    assert open_before[invoice.invoice_number].open_amount == invoice.total

    receipt_number = new_po("RC")
    paid = invoice.total - Decimal("10.00")
    receipt = CashReceipt(
        receipt_number=receipt_number,
        receipt_date=date.today(),
        bc_customer="AMAZON",
        amount=paid + Decimal("3.00"),
        reference="820 trace " + receipt_number,
        applications=[
            ReceiptApplication(
                invoice_number=invoice.invoice_number,
                amount_applied=paid,
                deduction_amount=Decimal("4.00"),
                deduction_reason="shortage",
            )
        ],
    )
    for _ in range(2):
        harness.gateway.record_cash_receipt(receipt, idempotency_key="cash-" + receipt_number)
    harness.sync()

    open_after = {i.document_number: i for i in harness.gateway.list_open_ar(bc_customer="AMAZON")}
    assert open_after[invoice.invoice_number].open_amount == Decimal("6.00")
    assert open_after[receipt_number].document_type == "unapplied_cash"
    assert open_after[receipt_number].open_amount == Decimal("-3.00")
    cash = [
        line
        for line in harness.gateway.list_ledger_lines(f"{date.today():%Y-%m}")
        if line.reference == receipt_number
    ]
    assert sorted((line.account, line.debit, line.credit) for line in cash) == [
        ("1010", paid + Decimal("3.00"), Decimal("0.00")),
        ("1200", Decimal("0.00"), paid),
        ("2150", Decimal("0.00"), Decimal("3.00")),
    ]


def test_ping(harness):
    harness.gateway.ping()


# --- faults --------------------------------------------------------------------------------


@pytest.mark.parametrize("adapter", ["rest", "flatfile"])
def test_with_20_percent_faults_every_order_lands_exactly_once(
    adapter, emulator, items_with, draft_for, harness_for
):
    """REST: 5xx (before and after the work was applied), 429 with Retry-After, dropped connections.
    Flat files: the ERP's cycle crashes before or after applying a file, which it then sees again."""
    harness = harness_for(adapter, emulator)
    items = items_with(emulator, count=4, min_available=200)
    drafts = [draft_for(items, [6, 6, 12, 12]) for _ in range(16)]
    baseline = emulator.backend.count_sales_orders()

    if adapter == "rest":
        emulator.set_faults(error_rate=0.2, retry_after_seconds=0, seed=7)
    else:
        emulator.files.faults = FileFaults(crash_after_apply_rate=0.1, crash_before_apply_rate=0.1, seed=11)
    for draft in drafts:
        harness.gateway.upsert_sales_order(draft, idempotency_key="faulty-" + draft.customer_po)
    crashes = 0
    if adapter == "flatfile":
        for _ in range(60):
            try:
                emulator.run_cycle()
            except CycleCrash:
                crashes += 1
                continue
            if not [path for path in emulator.import_dir.iterdir() if path.is_file()]:
                break
        faults = {"cycle_crashes": crashes} | emulator.files.faults.counts
        emulator.files.faults = FileFaults()
    else:
        faults = {
            kind: count for kind, count in emulator.injector.stats().items() if kind != "requests" and count
        }
        emulator.clear_faults()
    # Faults did happen, of several kinds, some after the order was already applied.
    assert sum(faults.values()) >= 3 and len(faults) >= 2, faults
    assert any(kind.endswith("after") or kind == "crash_after_apply" for kind in faults), faults

    assert emulator.backend.count_sales_orders() == baseline + len(drafts)
    for draft in drafts:
        assert emulator.backend.count_sales_orders(draft.customer_po) == 1
        order = harness.gateway.get_sales_order(draft.customer_po)
        assert [line.qty_ordered for line in order.lines] == [6, 6, 12, 12]
        assert order.revision == 1
    assert emulator.backend.check_invariants() == []
