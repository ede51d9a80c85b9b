"""The emulator's rules without HTTP: allocation and ATS, backorders, cartons and SSCC, GL and AR."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from amazon_bluecherry.bluecherry.models import (
    CashReceipt,
    JournalEntry,
    JournalLine,
    ReceiptApplication,
    SalesOrderDraft,
    SalesOrderLineDraft,
)
from amazon_bluecherry.edi.gs1 import is_valid_sscc
from sandbox.bluecherry.backend import Backend, BackendConfig
from sandbox.bluecherry.errors import Conflict, NotFound, Rejected
from sandbox.bluecherry.server import seeded_database

TODAY = date.today()


def draft(po, lines, *, store="ABE2", warehouse="NJ01", backorder_allowed=True) -> SalesOrderDraft:
    return SalesOrderDraft(
        customer_po=po,
        bc_customer="AMAZON",
        bc_store=store,
        bc_warehouse=warehouse,
        ship_window_start=TODAY + timedelta(days=3),
        ship_window_end=TODAY + timedelta(days=10),
        backorder_allowed=backorder_allowed,
        lines=[
            SalesOrderLineDraft(line_number=n, sku=sku, qty_eaches=qty, unit_price=Decimal("5.00"))
            for n, (sku, qty) in enumerate(lines, start=1)
        ],
    )


def skus_with_pack(backend, pack, count=1):
    found = [item for item in backend.list_items() if item.case_pack_qty == pack and item.active]
    styles, chosen = set(), []
    for item in found:
        if item.style not in styles:
            chosen.append(item)
            styles.add(item.style)
        if len(chosen) == count:
            return chosen
    raise AssertionError(f"no {count} styles with case pack {pack}")


def ats(backend, sku, warehouse="NJ01"):
    return next(row for row in backend.get_ats(warehouse=warehouse).rows if row.sku == sku)


def order(backend, po):
    (found,) = backend.list_sales_orders(customer_pos=[po])
    return found


def test_ats_is_on_hand_minus_allocated_and_incoming_stays_separate(backend):
    (item,) = skus_with_pack(backend, 12)
    backend.set_stock(item.sku, "NJ01", on_hand=100, incoming=50, incoming_date=TODAY + timedelta(days=9))
    backend.upsert_sales_order(draft("ATS-1", [(item.sku, 30)]), idempotency_key="a1")
    row = ats(backend, item.sku)
    assert (row.on_hand, row.allocated, row.available, row.incoming) == (100, 30, 70, 50)
    assert ats(backend, item.sku, "CA01").allocated == 0  # the other warehouse is untouched


def test_stock_on_hold_is_never_allocated_and_not_available(backend):
    (item,) = skus_with_pack(backend, 12)
    backend.set_stock(item.sku, "NJ01", on_hand=40, on_hold=15, incoming=0)
    row = ats(backend, item.sku)
    assert (row.on_hand, row.on_hold, row.available) == (40, 15, 25)
    backend.upsert_sales_order(draft("HOLD-1", [(item.sku, 30)]), idempotency_key="h1")
    (line,) = order(backend, "HOLD-1").lines
    assert (line.qty_allocated, line.qty_backordered) == (25, 5)
    assert ats(backend, item.sku).available == 0
    # A hold put on stock already allocated leaves ATS negative: nothing more can be sold.
    backend.set_stock(item.sku, "NJ01", on_hold=20)
    assert ats(backend, item.sku).available == -5
    with pytest.raises(Rejected):
        backend.set_stock(item.sku, "NJ01", on_hold=-1)
    assert backend.check_invariants() == []


def test_the_seed_puts_some_stock_on_hold_without_changing_the_catalogue(backend):
    rows = backend.get_ats().rows
    held = [row for row in rows if row.on_hold]
    assert 0.03 < len(held) / len(rows) < 0.15
    assert all(0 < row.on_hold <= row.on_hand for row in held)


def test_short_lines_are_backordered_to_the_incoming_date_or_the_lead_time(backend):
    a, b = skus_with_pack(backend, 24, count=2)
    backend.set_stock(a.sku, "NJ01", on_hand=10, incoming=100, incoming_date=TODAY + timedelta(days=10))
    backend.set_stock(b.sku, "NJ01", on_hand=0, incoming=0)
    backend.upsert_sales_order(draft("BO-1", [(a.sku, 30), (b.sku, 24)]), idempotency_key="b1")
    first, second = order(backend, "BO-1").lines
    assert (first.qty_allocated, first.qty_backordered) == (10, 20)
    assert first.backorder_date == TODAY + timedelta(days=10 + backend.config.receiving_days)
    assert (second.qty_allocated, second.qty_backordered) == (0, 24)
    assert second.backorder_date == TODAY + timedelta(days=backend.config.backorder_lead_days)

    # The incoming 100 now covers 20 backordered; 90 more would not fit: lead time for that order.
    backend.upsert_sales_order(draft("BO-2", [(a.sku, 90)]), idempotency_key="b2")
    (line,) = order(backend, "BO-2").lines
    assert line.qty_backordered == 90 and line.backorder_date == TODAY + timedelta(
        days=backend.config.backorder_lead_days
    )


def test_a_batch_counts_the_backorders_of_earlier_batches_against_incoming_stock(backend):
    a, b = skus_with_pack(backend, 24, count=2)
    backend.set_stock(a.sku, "NJ01", on_hand=10, incoming=100, incoming_date=TODAY + timedelta(days=10))
    backend.set_stock(b.sku, "NJ01", on_hand=0, incoming=0)
    backend.upsert_sales_orders([(draft("BB-1", [(a.sku, 30), (b.sku, 24)]), "bb1")])
    # 20 of the incoming 100 are promised to BB-1: 80 fit, 90 do not.
    backend.upsert_sales_orders([(draft("BB-2", [(a.sku, 80)]), "bb2"), (draft("BB-3", [(a.sku, 10)]), "bb3")])
    assert order(backend, "BB-2").lines[0].backorder_date == TODAY + timedelta(days=10 + backend.config.receiving_days)
    assert order(backend, "BB-3").lines[0].backorder_date == TODAY + timedelta(
        days=backend.config.backorder_lead_days)


def test_backorders_fill_oldest_first_when_stock_arrives(backend):
    (item,) = skus_with_pack(backend, 6)
    backend.set_stock(item.sku, "NJ01", on_hand=0, incoming=30, incoming_date=TODAY + timedelta(days=3))
    backend.upsert_sales_order(draft("FILL-1", [(item.sku, 12)]), idempotency_key="f1")
    backend.upsert_sales_order(draft("FILL-2", [(item.sku, 12)]), idempotency_key="f2")
    backend.receive_stock(item.sku, "NJ01", 18)
    assert backend.allocate() == 2
    (older,), (newer,) = order(backend, "FILL-1").lines, order(backend, "FILL-2").lines
    assert (older.qty_allocated, older.qty_backordered) == (12, 0)
    assert (newer.qty_allocated, newer.qty_backordered) == (6, 6)
    assert order(backend, "FILL-1").revision == 2
    row = ats(backend, item.sku)
    assert (row.on_hand, row.allocated, row.available, row.incoming) == (18, 18, 0, 12)
    assert backend.allocate() == 0
    assert backend.check_invariants() == []


def test_no_backorder_allowed_cancels_the_short_quantity(backend):
    (item,) = skus_with_pack(backend, 12)
    backend.set_stock(item.sku, "NJ01", on_hand=5)
    backend.upsert_sales_order(draft("NB-1", [(item.sku, 12)], backorder_allowed=False), idempotency_key="n1")
    (line,) = order(backend, "NB-1").lines
    assert (line.qty_allocated, line.qty_cancelled, line.cancel_reason) == (5, 7, "out_of_stock")


def test_an_update_releases_and_reallocates_and_a_picked_order_cannot_change(backend):
    (item,) = skus_with_pack(backend, 6)
    backend.set_stock(item.sku, "NJ01", on_hand=40)
    backend.upsert_sales_order(draft("UP-1", [(item.sku, 30)]), idempotency_key="u1")
    backend.upsert_sales_order(draft("UP-1", [(item.sku, 12)]), idempotency_key="u2")
    assert ats(backend, item.sku).allocated == 12 and order(backend, "UP-1").revision == 2
    backend.pick_and_pack(order(backend, "UP-1").order_number)
    with pytest.raises(Conflict, match="in fulfilment"):
        backend.upsert_sales_order(draft("UP-1", [(item.sku, 6)]), idempotency_key="u3")
    assert backend.check_invariants() == []


def test_cartons_hold_full_case_packs_and_mixed_remainders_with_valid_sscc(tmp_path, emulator_db_template):
    config = BackendConfig(sscc_company_prefix="0812345", sscc_extension_digit=3)
    backend = Backend(seeded_database(emulator_db_template, tmp_path / "own.sqlite"), config=config)
    try:
        (twelve,) = skus_with_pack(backend, 12)
        (twentyfour,) = skus_with_pack(backend, 24)
        for item in (twelve, twentyfour):
            backend.set_stock(item.sku, "NJ01", on_hand=200)
        backend.upsert_sales_order(
            draft("CT-1", [(twelve.sku, 30), (twentyfour.sku, 20)]), idempotency_key="c1"
        )
        number = order(backend, "CT-1").order_number
        picked = backend.pick_and_pack(number)
        assert picked.eaches == 50 and len(picked.cartons) == 4  # 12, 12, then 6+18 and 2 loose
        assert all(is_valid_sscc(sscc) and sscc.startswith("30812345") for sscc in picked.cartons)
        assert len(set(picked.cartons)) == 4
        assert [int(sscc[8:17]) for sscc in picked.cartons] == [
            1,
            2,
            3,
            4,
        ]  # serials from a persistent counter
        shipment = backend.ship([number], carrier_scac="FDEG")
        contents = [[(i.sku, i.qty_eaches) for i in carton.items] for carton in shipment.cartons]
        assert contents == [
            [(twelve.sku, 12)],
            [(twelve.sku, 12)],
            [(twelve.sku, 6), (twentyfour.sku, 18)],
            [(twentyfour.sku, 2)],
        ]
        assert sum(c.weight_lb for c in shipment.cartons) == shipment.total_weight_lb
    finally:
        backend.dispose()


def test_shipping_moves_stock_and_invoicing_posts_a_balanced_journal_once(backend):
    (item,) = skus_with_pack(backend, 6)
    backend.set_stock(item.sku, "NJ01", on_hand=60)
    backend.upsert_sales_order(draft("SH-1", [(item.sku, 18)]), idempotency_key="s1")
    number = order(backend, "SH-1").order_number
    shipment, (invoice,) = backend.fulfil(number, carrier_scac="UPSN")
    row = ats(backend, item.sku)
    assert (row.on_hand, row.allocated) == (42, 0)
    assert order(backend, "SH-1").status == "shipped" and order(backend, "SH-1").lines[0].qty_shipped == 18
    assert invoice.total == Decimal("90.00") and invoice.lines[0].qty_eaches == 18
    assert [i.invoice_number for i in backend.invoice_shipment(shipment.shipment_id)] == [
        invoice.invoice_number
    ]
    lines = [
        line
        for line in backend.list_ledger_lines(f"{TODAY:%Y-%m}")
        if line.reference == invoice.invoice_number
    ]
    assert sorted((line.account, line.debit, line.credit) for line in lines) == [
        ("1200", Decimal("90.00"), Decimal("0.00")),
        ("4000", Decimal("0.00"), Decimal("90.00")),
    ]
    assert backend.check_invariants() == []


def test_one_shipment_goes_to_one_ship_to(backend):
    (item,) = skus_with_pack(backend, 6)
    backend.set_stock(item.sku, "NJ01", on_hand=60)
    backend.upsert_sales_order(draft("DST-1", [(item.sku, 6)], store="ABE2"), idempotency_key="d1")
    backend.upsert_sales_order(draft("DST-2", [(item.sku, 6)], store="EWR4"), idempotency_key="d2")
    numbers = [order(backend, po).order_number for po in ("DST-1", "DST-2")]
    for number in numbers:
        backend.pick_and_pack(number)
    with pytest.raises(Conflict, match="different ship-tos"):
        backend.ship(numbers)
    with pytest.raises(NotFound):
        backend.ship(["SO-NO-SUCH"])


def test_the_gl_refuses_unbalanced_entries_and_unknown_accounts(backend):
    unbalanced = JournalEntry.model_construct(
        posting_date=TODAY,
        reference="U-1",
        description="",
        source="test",
        currency="USD",
        lines=[
            JournalLine(account="6110", debit=Decimal("10.00")),
            JournalLine(account="1200", credit=Decimal("9.99")),
        ],
    )
    with pytest.raises(Rejected, match="unbalanced"):
        backend.post_journal_entry(unbalanced, idempotency_key="u-1")
    unknown = JournalEntry(
        posting_date=TODAY,
        reference="U-2",
        lines=[
            JournalLine(account="9999", debit=Decimal("1.00")),
            JournalLine(account="1200", credit=Decimal("1.00")),
        ],
    )
    with pytest.raises(Rejected, match=r"unknown GL accounts \['9999'\]"):
        backend.post_journal_entry(unknown, idempotency_key="u-2")
    assert backend.list_ledger_lines(f"{TODAY:%Y-%m}") == []

    good = unknown.model_copy(
        update={"lines": [unknown.lines[0].model_copy(update={"account": "6120"}), unknown.lines[1]]}
    )
    first = backend.post_journal_entry(good, idempotency_key="g-1")
    assert backend.post_journal_entry(good, idempotency_key="g-1") == first
    with pytest.raises(Conflict):
        backend.post_journal_entry(good.model_copy(update={"reference": "other"}), idempotency_key="g-1")
    assert len(backend.list_ledger_lines(f"{TODAY:%Y-%m}")) == 2


def test_cash_receipts_cannot_over_apply_or_change(backend):
    (item,) = skus_with_pack(backend, 6)
    backend.set_stock(item.sku, "NJ01", on_hand=60)
    backend.upsert_sales_order(draft("AR-1", [(item.sku, 6)]), idempotency_key="ar1")
    _, (invoice,) = backend.fulfil(order(backend, "AR-1").order_number)
    too_much = CashReceipt(
        receipt_number="R-1",
        receipt_date=TODAY,
        bc_customer="AMAZON",
        amount=invoice.total,
        applications=[
            ReceiptApplication(
                invoice_number=invoice.invoice_number,
                amount_applied=invoice.total,
                deduction_amount=Decimal("0.01"),
            )
        ],
    )
    with pytest.raises(Rejected, match="exceeds invoice"):
        backend.record_cash_receipt(too_much, idempotency_key="r1")
    exact = too_much.model_copy(
        update={
            "applications": [too_much.applications[0].model_copy(update={"deduction_amount": Decimal("0")})]
        }
    )
    assert backend.record_cash_receipt(exact, idempotency_key="r1-ok").outcome == "created"
    assert backend.record_cash_receipt(exact, idempotency_key="r1-again").outcome == "unchanged"
    with pytest.raises(Conflict, match="other content"):
        backend.record_cash_receipt(exact.model_copy(update={"method": "WIRE"}), idempotency_key="r1-changed")
    assert [i for i in backend.list_open_ar() if i.document_number == invoice.invoice_number] == []
    assert backend.check_invariants() == []


def test_state_persists_in_the_sqlite_file(tmp_path, emulator_db_template):
    path = seeded_database(emulator_db_template, tmp_path / "persist.sqlite")
    first = Backend(path)
    item = first.list_items()[0]
    first.upsert_sales_order(draft("P-1", [(item.sku, 6)]), idempotency_key="p1")
    first.dispose()
    second = Backend(path)
    try:
        assert second.count_sales_orders("P-1") == 1
        assert (
            second.upsert_sales_order(draft("P-1", [(item.sku, 6)]), idempotency_key="p1").outcome
            == "created"
        )
        second.upsert_sales_order(draft("P-2", [(item.sku, 6)]), idempotency_key="p2")
        assert [o.order_number for o in second.list_sales_orders()] == ["SO0000001", "SO0000002"]
        assert len(second.list_items()) == len({item.sku for item in second.list_items()})  # not seeded twice
    finally:
        second.dispose()


def test_the_clock_can_be_set_for_simulations(backend):
    when = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
    backend.clock.set(when, frozen=True)
    (item,) = skus_with_pack(backend, 6)
    backend.set_stock(item.sku, "NJ01", on_hand=0, incoming=0)
    backend.upsert_sales_order(draft("CLK-1", [(item.sku, 6)]), idempotency_key="clk")
    placed = order(backend, "CLK-1")
    assert placed.created_at == when
    assert placed.lines[0].backorder_date == when.date() + timedelta(days=backend.config.backorder_lead_days)
    backend.clock.advance(timedelta(days=1))
    assert backend.get_ats().snapshot_at == when + timedelta(days=1)


def _state(backend):
    """Orders and stock as comparable values (order numbers and times left out)."""
    orders = sorted(
        (o.customer_po, o.status, o.revision,
         tuple((line.line_number, line.sku, line.qty_ordered, line.qty_allocated, line.qty_backordered,
                line.backorder_date, line.qty_cancelled, line.cancel_reason) for line in o.lines))
        for o in backend.list_sales_orders())
    stock = sorted((row.sku, row.warehouse, row.on_hand, row.allocated, row.available)
                   for row in backend.get_ats().rows)
    return orders, stock


def test_a_batch_leaves_the_same_state_as_the_same_drafts_one_by_one(tmp_path, emulator_db_template):
    # Enough demand on a few SKUs to run out of stock: allocation, backorders to the incoming
    # date or the lead time, cancellation without backorders, an update and a refusal, all in one batch.
    items = [item for item in Backend(seeded_database(emulator_db_template, tmp_path / "probe.sqlite")).list_items()
             if item.active][:6]
    drafts = []
    for number in range(40):
        lines = [(items[(number + offset) % len(items)].sku, 24 * (1 + (number + offset) % 5)) for offset in range(4)]
        drafts.append((draft(f"BATCH{number:03d}", lines, backorder_allowed=number % 7 != 0), f"key-{number}"))
    drafts.append((draft("BATCH005", [(items[0].sku, 12), (items[1].sku, 600)]), "key-5-changed"))  # an update
    drafts.append((draft("BATCH999", [(items[0].sku, 6)]).model_copy(update={"bc_customer": "NOBODY"}), "key-x"))
    drafts.append(drafts[3])  # the same draft and key twice: replayed

    one_by_one = Backend(seeded_database(emulator_db_template, tmp_path / "single.sqlite"))
    single = []
    for sales_order, key in drafts:
        try:
            single.append(one_by_one.upsert_sales_order(sales_order, idempotency_key=key))
        except Rejected as exc:
            single.append(exc)
    batched = Backend(seeded_database(emulator_db_template, tmp_path / "batch.sqlite"))
    results = batched.upsert_sales_orders(drafts)

    assert [type(r).__name__ for r in results] == [type(r).__name__ for r in single]
    assert isinstance(results[-2], Rejected) and "unknown customer" in str(results[-2])
    assert results[-1] == results[3] and results[-1].outcome == "created"
    assert [r.outcome for r in results[:-2]].count("updated") == 1
    orders, stock = _state(batched)
    assert (orders, stock) == _state(one_by_one)
    assert any(line[4] for order in orders for line in order[3]), "the batch ran out of stock somewhere"
    dates = {line[5] for order in orders for line in order[3] if line[5]}
    assert TODAY + timedelta(days=BackendConfig().backorder_lead_days) in dates and len(dates) > 1, \
        "backorders dated by the lead time and by incoming receipts"
    assert batched.check_invariants() == []
