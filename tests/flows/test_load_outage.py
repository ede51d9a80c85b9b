"""A BlueCherry outage during the sales-order load is bounded: the circuit opens, the step
stops with one exception, nothing is lost, and the next run loads exactly what was left."""

from __future__ import annotations

import time
from datetime import date, timedelta

import pytest

from amazon_bluecherry.bluecherry.gateway import BlueCherryUnavailable
from amazon_bluecherry.bluecherry.models import SalesOrderDraft, SalesOrderLineDraft
from amazon_bluecherry.bluecherry.rest import RestGateway
from amazon_bluecherry.flows.po_to_so_steps import load_translated
from sandbox.bluecherry.server import seeded_database, start_emulator

pytestmark = pytest.mark.slow


def translated_pos(store, items, count: int) -> list[str]:
    start = date.today() + timedelta(days=7)
    numbers = []
    for index in range(count):
        number = f"OUT{index:04d}"
        draft = SalesOrderDraft(
            customer_po=number, bc_customer="AMAZON", bc_store="ABE2", bc_warehouse="NJ01",
            ship_window_start=start, ship_window_end=start + timedelta(days=7),
            lines=[SalesOrderLineDraft(line_number=n, sku=item.sku, qty_eaches=6, unit_price=item.unit_cost)
                   for n, item in enumerate(items, start=1)])
        store.add_transaction("850", direction="in", partner="AMAZON", business_key=number, status="translated",
                              data={"draft": draft.model_dump(mode="json")})
        numbers.append(number)
    return numbers


def statuses(store) -> dict[str, int]:
    from collections import Counter

    from sqlalchemy import select

    from amazon_bluecherry.store.models import Transaction

    with store.session() as db:
        return dict(Counter(db.scalars(select(Transaction.status).where(Transaction.doc_type == "850"))))


def test_a_dead_bluecherry_stops_the_load_fast_and_the_next_run_resumes(store, tmp_path):
    database = seeded_database(tmp_path / "template.sqlite", tmp_path / "bluecherry.sqlite")
    emulator = start_emulator(database)
    items = [item for item in emulator.backend.list_items() if item.active][:3]
    numbers = translated_pos(store, items, 30)
    gateway = RestGateway(emulator.url, emulator.api_key, max_retries=5, backoff=0.05, max_backoff=0.2,
                          circuit_breaker_threshold=6, batch_size=5, max_concurrency=2)
    # Ten POs load, then BlueCherry goes away mid-run.
    partial = load_translated_until_stopped(store, gateway, emulator, after=10)
    assert partial["loaded"] == 10 and partial["seconds"] < 10
    assert statuses(store) == {"loaded": 10, "translated": 20}, "nothing lost: the rest waits"
    (exception,) = store.list_exceptions(type="bluecherry_unavailable")
    assert "20 PO(s) stay translated" in exception.message and exception.owner == "integration"

    # BlueCherry is back (same database, a new address): the next run loads exactly the rest.
    emulator = start_emulator(database)
    try:
        resumed = load_translated(store, RestGateway(emulator.url, emulator.api_key, batch_size=5),
                                  run_key="run-2")
        assert len(resumed.loaded) == 20
        assert statuses(store) == {"loaded": 30}
        for number in numbers:
            assert emulator.backend.count_sales_orders(number) == 1
    finally:
        emulator.stop()


def load_translated_until_stopped(store, gateway, emulator, *, after: int) -> dict:
    """Run the load; BlueCherry stops once ``after`` sales orders exist."""
    original = gateway.upsert_sales_orders

    def upsert(orders):
        results = original(orders)
        if emulator.backend.count_sales_orders() >= after:
            emulator.stop()
        return results

    gateway.upsert_sales_orders = upsert
    started = time.monotonic()
    with pytest.raises(BlueCherryUnavailable):
        load_translated(store, gateway, chunk_size=10, run_key="run-1")
    return {"loaded": statuses(store).get("loaded", 0), "seconds": time.monotonic() - started}


def test_an_outage_in_the_middle_of_a_chunk_keeps_what_was_loaded_before_it(store, tmp_path):
    database = seeded_database(tmp_path / "template.sqlite", tmp_path / "bluecherry.sqlite")
    emulator = start_emulator(database)
    items = [item for item in emulator.backend.list_items() if item.active][:2]
    translated_pos(store, items, 30)
    gateway = RestGateway(emulator.url, emulator.api_key, max_retries=2, backoff=0.05, max_backoff=0.1,
                          circuit_breaker_threshold=3, batch_size=5, max_concurrency=1)
    original, sent = gateway._upsert_batch, []

    def upsert_batch(batch):  # BlueCherry goes away after two batches of one chunk
        results = original(batch)
        sent.append(len(batch))
        if len(sent) == 2:
            emulator.stop()
        return results

    gateway._upsert_batch = upsert_batch
    with pytest.raises(BlueCherryUnavailable, match="10 sales order"):
        load_translated(store, gateway, chunk_size=30, run_key="run-1")
    assert statuses(store) == {"loaded": 10, "translated": 20}, "the two batches sent are recorded"
    emulator = start_emulator(database)
    try:
        assert len(load_translated(store, RestGateway(emulator.url, emulator.api_key), run_key="run-2").loaded) == 20
        assert emulator.backend.count_sales_orders() == 30
    finally:
        emulator.stop()
