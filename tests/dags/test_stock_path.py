"""stock_to_846 runs for real (dag.test) against the BlueCherry emulator and the loopback SFTP
mailbox; the Amazon simulator reads the 846s from the upload folder. What Amazon may order
is what BlueCherry could ship, buffers held back; a re-run sends nothing new; a stale or
partial snapshot is refused with an alert and nothing is sent."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from amazon_bluecherry.store.models import ExceptionRecord, InventoryFeed, InventoryFeedLine, OutboundDocument
from tests.dags.conftest import run_dag, task_states
from tests.sinks import alert_connection

pytestmark = pytest.mark.slow


def simulator(mailbox, tmp_path):
    from amazon_bluecherry.settings import REPO_ROOT
    from sandbox.amazon.catalogue import ItemCatalogue
    from sandbox.amazon.clock import WallClock
    from sandbox.amazon.partner import AmazonSimulator

    return AmazonSimulator(tmp_path / "amazon", mailbox, clock=WallClock(), seed=5,
                           catalogue=ItemCatalogue.from_mappings(REPO_ROOT / "include" / "mappings"))


def simulator_inventory(tmp_path) -> dict:
    """``amazon-bluecherry sandbox amazon inventory --json``: the simulator's saved view."""
    import contextlib
    import io

    from amazon_bluecherry.cli import main

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["sandbox", "amazon", "inventory", "--state", str(tmp_path / "amazon"), "--json"]) == 0
    return json.loads(out.getvalue())["by_location"]


def what_bluecherry_could_ship(backend) -> dict[str, dict[str, int]]:
    """Warehouse -> "qualifier product id" -> on hand - allocated - holds less the buffer, worked out
    here one row at a time from the emulator's own stock and the shipped policy file."""
    from amazon_bluecherry.flows.mappings import load_items
    from amazon_bluecherry.flows.stock_inputs import load_buffer_policy
    from amazon_bluecherry.flows.stock_to_846 import amazon_ids
    from amazon_bluecherry.flows.stock_to_846_steps import qualifiers, served_warehouses
    from amazon_bluecherry.settings import get_settings

    settings = get_settings()
    policy = load_buffer_policy(settings.effective_inventory_buffer_file)
    ids = amazon_ids(load_items(settings.mappings_dir / "items.csv"), qualifiers(settings))
    expected: dict[str, dict[str, int]] = {}
    for row in backend.get_ats().rows:
        if row.sku not in ids or row.warehouse not in served_warehouses(settings):
            continue
        could_ship = max(0, row.on_hand - row.allocated - row.on_hold)
        _, rule = policy.rule_for(upc=row.upc, style=row.style)
        qualifier, product_id, _ = ids[row.sku]
        expected.setdefault(row.warehouse, {})[f"{qualifier} {product_id}"] = could_ship - rule.held_back(could_ship)
    return expected


def sent_846s(store) -> list[str]:
    with store.session() as db:
        return list(db.scalars(select(OutboundDocument.file_name).where(OutboundDocument.doc_type == "846",
                                                                         OutboundDocument.status == "sent")))


def test_amazon_may_order_what_bluecherry_could_ship_less_the_buffer_and_a_rerun_sends_nothing_new(
        dagbag, parties, tmp_path):
    mailbox, emulator, store = parties
    amazon = simulator(mailbox, tmp_path)

    run = run_dag(dagbag, "stock_to_846")
    assert set(task_states(run).values()) == {"success"}, task_states(run)
    assert len(sent_846s(store)) == 1
    assert amazon.process_uploads().documents["846"] >= 2   # a set per warehouse
    expected = what_bluecherry_could_ship(emulator.backend)
    assert amazon.state.inventory_by_location == expected
    assert simulator_inventory(tmp_path) == expected, "what `sandbox amazon inventory` shows"
    with store.session() as db:
        feed = db.scalar(select(InventoryFeed))
        rules = set(db.scalars(select(InventoryFeedLine.rule).where(InventoryFeedLine.feed_id == feed.id)))
        held = set(db.scalars(select(InventoryFeedLine.buffer).where(
            InventoryFeedLine.rule == "style", InventoryFeedLine.style == "M0147", InventoryFeedLine.ats > 30)))
    assert (feed.kind, feed.status) == ("full", "sent") and {"default", "style"} <= rules
    assert held == {24}, "the style rule of inventory_buffer.yaml (M0147: 24 units) held its units back"

    # Nothing moved in BlueCherry: the next run sends nothing.
    run = run_dag(dagbag, "stock_to_846")
    assert set(task_states(run).values()) == {"success"}
    assert len(sent_846s(store)) == 1 and mailbox.received() == {}

    # Stock falls in one warehouse: a delta with that line only, whatever its tier.
    warehouse, quantities = next(iter(expected.items()))
    row = next(r for r in emulator.backend.get_ats(warehouse=warehouse).rows
               if r.on_hand - r.allocated - r.on_hold > 40 and r.style not in ("M0147", "K4351"))  # default 10%
    emulator.backend.set_stock(row.sku, warehouse, on_hand=row.allocated + row.on_hold + 3)
    run = run_dag(dagbag, "stock_to_846")
    assert set(task_states(run).values()) == {"success"}
    assert len(sent_846s(store)) == 2
    amazon.process_uploads()
    assert amazon.state.inventory_by_location == what_bluecherry_could_ship(emulator.backend)
    with store.session() as db:
        delta = db.scalar(select(InventoryFeed).order_by(InventoryFeed.id.desc()).limit(1))
        lines = list(db.scalars(select(InventoryFeedLine).where(InventoryFeedLine.feed_id == delta.id)))
    assert delta.kind == "delta" and [(line.sku, line.ats, line.published) for line in lines] == [(row.sku, 3, 2)]


@pytest.fixture
def flat_file_parties(parties, tmp_path, monkeypatch, webhook_sink):
    """The same parties with BlueCherry's file face: the DAG reads the ATS export and its manifest."""
    from amazon_bluecherry.settings import reset_settings_cache
    from sandbox.bluecherry.server import start_emulator

    mailbox, _, store = parties
    emulator = start_emulator(tmp_path / "bc-files.sqlite", data_dir=tmp_path / "bc-files")
    monkeypatch.setenv("AIRFLOW_CONN_BLUECHERRY_DEFAULT", json.dumps({"conn_type": "generic", "extra": {
        "adapter": "flatfile", "import_dir": str(emulator.import_dir), "export_dir": str(emulator.export_dir)}}))
    monkeypatch.setenv("AB_ALERT_CONN_ID", "ab_stock_alerts")
    monkeypatch.setenv("AIRFLOW_CONN_AB_STOCK_ALERTS", alert_connection((webhook_sink.url(), "integration")))
    reset_settings_cache()
    yield mailbox, emulator, store, webhook_sink
    emulator.stop()


def newest_ats_export(emulator):
    return max((p for p in emulator.export_dir.glob("ATS_*") if not p.name.endswith(".manifest.json")),
               key=lambda p: p.stat().st_mtime_ns)


def test_the_same_export_is_sent_once_and_a_partial_or_stale_one_is_refused_with_an_alert(
        dagbag, flat_file_parties):
    mailbox, emulator, store, webhook = flat_file_parties
    emulator.run_cycle()
    for _ in range(2):   # the same snapshot twice: one feed
        run = run_dag(dagbag, "stock_to_846")
        assert set(task_states(run).values()) == {"success"}, task_states(run)
    assert len(sent_846s(store)) == 1 and len(mailbox.received()) == 1

    def refused_run() -> str:
        run = run_dag(dagbag, "stock_to_846")
        assert set(task_states(run).values()) == {"success"}, task_states(run)
        with store.session() as db:
            feed = db.scalar(select(InventoryFeed).order_by(InventoryFeed.id.desc()).limit(1))
        assert feed.status == "refused"
        assert len(sent_846s(store)) == 1 and len(mailbox.received()) == 1, "nothing sent"
        return feed.message

    # A cycle whose ATS export lost its tail: the manifest's SHA-256 no longer matches.
    emulator.backend.set_stock(emulator.backend.get_ats().rows[0].sku, "NJ01", on_hand=7)
    emulator.run_cycle()
    export = newest_ats_export(emulator)
    export.write_bytes(export.read_bytes()[: export.stat().st_size // 2])
    assert "partial or altered" in refused_run()

    # The next cycle's export is whole, but stamped three hours ago.
    emulator.run_cycle()
    newest = newest_ats_export(emulator).with_name(newest_ats_export(emulator).name + ".manifest.json")
    manifest = json.loads(newest.read_text())
    manifest["snapshot_at"] = (datetime.now(UTC) - timedelta(hours=3)).isoformat()
    newest.write_text(json.dumps(manifest))
    assert "old" in refused_run()

    with store.session() as db:
        exceptions = list(db.scalars(select(ExceptionRecord).where(ExceptionRecord.type == "stale_inventory_snapshot")))
    assert len(exceptions) == 2 and {e.owner for e in exceptions} == {"integration"}
    alerted = [body["message"] for _, body in webhook.requests]
    assert sum("stale_inventory_snapshot" in message for message in alerted) >= 2, alerted
