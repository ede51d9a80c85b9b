"""stock_to_846's steps over a real store: the GX gate holds back the lines it must, and the
phantom-stock check names the feed that published what BlueCherry could not allocate."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pandas as pd
from sqlalchemy import select

from amazon_bluecherry.store import inventory as feeds
from amazon_bluecherry.store.models import ExceptionRecord, InventoryFeed, InventoryPosition

NOW = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)


def told_amazon(store, *positions) -> int:
    """A sent feed that told Amazon (sku, warehouse, ats, published, product id) per position."""
    with store.session() as db:
        feed = InventoryFeed(partner="AMAZON", status="sent", kind="full", tiers=["fast", "slow"],
                             snapshot_at=NOW - timedelta(hours=1), sent_at=NOW - timedelta(hours=1))
        db.add(feed)
        db.flush()
        for sku, warehouse, ats, published, product_id in positions:
            db.add(InventoryPosition(sku=sku, warehouse=warehouse, style=sku.split("-")[0], upc=None,
                                     product_id_qualifier="UP", product_id=product_id, asin=None, ats=ats,
                                     rule_detail="10%", published=published, feed_id=feed.id,
                                     published_at=feed.sent_at))
        return feed.id


def line(sku, product_id, qualifier, *, on_hand, published, previous=None):
    return {"sku": sku, "style": sku.split("-")[0], "upc": None, "warehouse": "NJ01",
            "product_id_qualifier": qualifier, "product_id": product_id, "asin": "", "tier": "slow",
            "on_hand": on_hand, "allocated": 0, "on_hold": 0, "incoming": 0, "ats": on_hand,
            "buffer": max(on_hand - published, 0), "rule": "default", "rule_detail": "10%", "published": published,
            "previous_published": previous}


def test_the_gate_holds_back_phantom_unknown_and_unexplained_lines_and_sends_the_rest(store, mappings_dir):
    from amazon_bluecherry.flows.stock_to_846_steps import check_feed
    from amazon_bluecherry.settings import Settings

    told_amazon(store, ("TEE100-WHT-S", "NJ01", 12, 10, "4006381333931"),
                ("TEE100-BLK-L", "NJ01", 100, 90, "028877454085"))
    lines = pd.DataFrame([
        line("TEE100-BLK-M", "028877454078", "UP", on_hand=10, published=9),                 # fine
        line("TEE100-BLK-L", "028877454085", "UP", on_hand=5, published=8, previous=90),     # above ATS
        line("TEE100-WHT-S", "4006381333931", "EN", on_hand=12, published=1, previous=10),   # swing, nothing moved
        line("HOOD200-RED-XL", "NOT-IN-ITEMS", "VN", on_hand=4, published=3),                 # unknown to Amazon
    ])
    feed_id = feeds.record_planned_feed(store, partner="AMAZON", kind="delta", tiers=["slow"],
                                        snapshot_at=NOW - timedelta(minutes=5), last_cycle_at=None,
                                        fingerprint="f" * 64, source="test", lines=lines)
    settings = Settings(mappings_dir=mappings_dir, inventory_max_swing_share=0.5)

    result = check_feed(store, settings, now=NOW, feed_id=feed_id)

    assert result.blocked == [("HOOD200-RED-XL", "NJ01"), ("TEE100-BLK-L", "NJ01"), ("TEE100-WHT-S", "NJ01")]
    assert list(feeds.feed_lines(store, feed_id)["sku"]) == ["TEE100-BLK-M"]
    with store.session() as db:
        feed = db.get(InventoryFeed, feed_id)
        (exception,) = db.scalars(select(ExceptionRecord).where(ExceptionRecord.type == "inventory_quality_check_failed"))
    assert (feed.status, feed.line_count, feed.units_published) == ("checked", 1, 9)
    assert "above what BlueCherry could ship" in exception.message and "moves more than 50%" in exception.message
    assert exception.owner == "integration"


def sales_order(po, *lines, warehouse="NJ01"):
    return SimpleNamespace(customer_po=po, bc_warehouse=warehouse, lines=[
        SimpleNamespace(line_number=n, sku=sku, qty_ordered=ordered, qty_allocated=allocated, qty_shipped=0,
                        qty_cancelled=0) for n, (sku, ordered, allocated) in enumerate(lines, start=1)])


def test_phantom_stock_is_recorded_with_the_feed_that_published_it(store):
    from amazon_bluecherry.flows.stock_to_846_steps import overselling_risks

    feed_id = told_amazon(store, ("TEE100-BLK-M", "NJ01", 12, 10, "028877454078"),
                          ("TEE100-BLK-L", "NJ01", 3, 2, "028877454085"))
    orders = [sales_order("PO-1", ("TEE100-BLK-M", 12, 4),     # we said 10, BlueCherry had 4: phantom
                          ("TEE100-BLK-L", 12, 2),             # we said 2 and BlueCherry had 2: Amazon over-ordered
                          ("TEE100-WHT-S", 6, 6)),             # allocated in full
              sales_order("PO-2", ("TEE100-BLK-M", 5, 1), warehouse="CA01")]   # nothing published in CA01

    (opened,) = overselling_risks(store, orders)
    assert overselling_risks(store, orders) == [opened], "once per PO line"
    with store.session() as db:
        risk = db.get(ExceptionRecord, opened)
    assert (risk.type, risk.owner, risk.business_key) == ("overselling_risk", "wholesale", "PO-1")
    assert risk.details == {"feed_id": feed_id, "sku": "TEE100-BLK-M", "warehouse": "NJ01", "published": 10,
                            "ordered": 12, "allocatable": 4}
    assert f"846 feed {feed_id}" in risk.message


def test_the_846_written_from_columns_is_the_typed_builders_byte_for_byte(monkeypatch):
    """write_feed writes the item loops from the columns (fast); the engine's typed documents are
    the reference: same bytes, 10,000 items per set at most, a set per warehouse."""
    from amazon_bluecherry.edi.build import write_documents
    from amazon_bluecherry.edi.documents import (
        DateReference,
        InventoryAdvice,
        InventoryItem,
        InventoryQuantity,
        PartyIdentification,
        ProductId,
    )
    from amazon_bluecherry.edi.writer import InMemoryControlNumbers
    from amazon_bluecherry.flows import stock_to_846_steps as steps

    monkeypatch.setattr(steps, "ITEMS_PER_SET", 2)
    lines = pd.DataFrame([line(f"TEE{n}-BLK-M", f"02887745{n:04d}", "UP", on_hand=n, published=n - 1)
                          for n in range(1, 4)] + [line("HOOD-RED-XL", "HOOD-RED-XL", "VN", on_hand=0, published=0)])
    lines.loc[0, "asin"] = "B00TEST001"
    lines.loc[3, "warehouse"] = "CA01"
    raw, reports = steps.write_feed(lines, report_number="INV7", when=NOW, sender="VENDOR", receiver="AMAZON",
                                    control_numbers=InMemoryControlNumbers())

    def advice(warehouse, part, rows):
        return InventoryAdvice(
            report_type="DD", report_number=f"INV7-{warehouse}-{part}", report_date=NOW.date(),
            report_time=NOW.time(), dates=[DateReference(qualifier="007", date=NOW.date(), time=NOW.time())],
            parties=[PartyIdentification(role="SF", id_qualifier="91", id_code=warehouse)],
            items=[InventoryItem(product_ids=[ProductId(qualifier=q, value=p)] + ([ProductId(qualifier="BP", value=a)]
                                                                                  if a else []),
                                 quantities=[InventoryQuantity(qualifier="33", quantity=n, unit="EA")])
                   for q, p, a, n in rows])
    expected = write_documents([
        advice("CA01", 1, [("VN", "HOOD-RED-XL", "", 0)]),
        advice("NJ01", 1, [("UP", "028877450001", "B00TEST001", 0), ("UP", "028877450002", "", 1)]),
        advice("NJ01", 2, [("UP", "028877450003", "", 2)]),
    ], sender="VENDOR", receiver="AMAZON", control_numbers=InMemoryControlNumbers(), when=NOW)
    assert raw == expected
    assert reports == ["INV7-CA01-1", "INV7-NJ01-1", "INV7-NJ01-2"]


def test_a_feed_left_between_gate_and_staging_is_taken_up_by_the_next_run(store, mappings_dir):
    from amazon_bluecherry.flows.stock_to_846_steps import check_feed
    from amazon_bluecherry.settings import Settings

    feed_id = feeds.record_planned_feed(
        store, partner="AMAZON", kind="full", tiers=["fast", "slow"], snapshot_at=NOW - timedelta(minutes=5),
        last_cycle_at=None, fingerprint="e" * 64, source="test",
        lines=pd.DataFrame([line("TEE100-BLK-M", "028877454078", "UP", on_hand=10, published=9)]))
    settings = Settings(mappings_dir=mappings_dir)
    assert check_feed(store, settings, now=NOW, feed_id=feed_id).passed == 1
    # The run died before staging; the next one finds the snapshot's feed and passes it on.
    assert feeds.feed_of_snapshot(store, "e" * 64) == (feed_id, "checked")
    again = check_feed(store, settings, now=NOW, feed_id=feed_id)
    assert (again.feed_id, again.passed) == (feed_id, 1)


def test_velocity_comes_from_the_eaches_amazon_ordered_in_the_window(store):
    from amazon_bluecherry.flows.stock_to_846 import velocity_tiers
    from amazon_bluecherry.flows.stock_to_846_steps import ordered_eaches

    def po(number, *lines):
        store.add_transaction("850", direction="in", partner="AMAZON", business_key=number, status="loaded",
                              data={"translation": {"lines": [{"style": s, "color": c, "size": z, "qty_eaches": q}
                                                              for s, c, z, q in lines]}})

    po("PO-1", ("TEE100", "BLK", "M", 24), ("TEE100", "BLK", "L", 6))
    po("PO-2", ("TEE100", "BLK", "L", 12), ("HOOD200", "RED", "XL", 0))
    totals = ordered_eaches(store, since=datetime.now(UTC) - timedelta(days=14))
    assert totals == {"TEE100-BLK-M": 24, "TEE100-BLK-L": 18, "HOOD200-RED-XL": 0}
    assert velocity_tiers(totals, fast_mover_units=20) == {"TEE100-BLK-M": "fast"}
    assert ordered_eaches(store, since=datetime.now(UTC) + timedelta(minutes=1)) == {}, "older orders do not count"
