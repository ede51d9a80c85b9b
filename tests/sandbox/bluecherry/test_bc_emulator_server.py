"""The emulator as a server: auth, admin endpoints (faults, clock, warehouse), and its CLI."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from amazon_bluecherry.bluecherry.rest import API_KEY_HEADER, IDEMPOTENCY_HEADER
from amazon_bluecherry.cli import main
from sandbox.bluecherry.server import seeded_database, start_emulator


@pytest.fixture
def running(tmp_path, emulator_db_template):
    db = seeded_database(emulator_db_template, tmp_path / "bc.sqlite")
    with (
        start_emulator(db, data_dir=tmp_path / "files", api_key="test-key") as handle,
        httpx.Client(base_url=handle.url, headers={API_KEY_HEADER: "test-key"}, timeout=10) as client,
    ):
        yield handle, client


def test_the_api_key_is_required(running):
    handle, _ = running
    assert httpx.get(handle.url + "/health").json() == {"status": "ok"}
    assert httpx.get(handle.url + "/v1/ping").status_code == 401
    assert httpx.get(handle.url + "/v1/ping", headers={API_KEY_HEADER: "nope"}).status_code == 401
    assert httpx.get(handle.url + "/admin/summary").status_code == 401


def test_the_warehouse_can_be_driven_over_http(running):
    handle, client = running
    item = next(i for i in handle.backend.list_items() if i.active and i.case_pack_qty == 6)
    client.post(
        "/admin/stock", json={"sku": item.sku, "warehouse": "NJ01", "on_hand": 0, "incoming": 0}
    ).raise_for_status()
    start = datetime.now(UTC).date() + timedelta(days=2)
    draft = {
        "customer_po": "ADMIN-1",
        "bc_customer": "AMAZON",
        "bc_store": "PHX6",
        "bc_warehouse": "NJ01",
        "ship_window_start": start.isoformat(),
        "ship_window_end": (start + timedelta(days=5)).isoformat(),
        "lines": [{"line_number": 1, "sku": item.sku, "qty_eaches": 12, "unit_price": str(item.unit_cost)}],
    }
    created = client.post("/v1/sales-orders", json=draft, headers={IDEMPOTENCY_HEADER: "admin-1"})
    assert created.status_code == 201
    order_number = created.json()["document_number"]
    stock = client.post("/admin/stock", json={"sku": item.sku, "warehouse": "NJ01", "receive_qty": 12}).json()
    assert (stock["on_hand"], stock["allocated"]) == (12, 0)
    assert client.post("/admin/warehouse/allocate", json={}).json() == {"lines_allocated": 1}

    picked = client.post("/admin/warehouse/pick-pack", json={"order_number": order_number}).json()
    assert len(picked["cartons"]) == 2 and picked["eaches"] == 12
    shipment = client.post(
        "/admin/warehouse/ship",
        json={"order_numbers": [order_number], "carrier_scac": "ODFL", "bol_number": "VENDR12345678"},
    ).json()
    assert (
        shipment["status"] == "ready"
        and shipment["bol_number"] == "VENDR12345678"
        and shipment["carrier_scac"] == "ODFL"
    )
    invoices = client.post("/admin/warehouse/invoice", json={"shipment_id": shipment["shipment_id"]}).json()
    assert invoices[0]["customer_po"] == "ADMIN-1" and invoices[0]["subtotal"] == str(item.unit_cost * 12)

    summary = client.get("/admin/summary").json()
    assert (
        summary["sales_orders"] == 1
        and summary["shipments_ready"] == 1
        and summary["invariant_problems"] == []
    )
    cycle = client.post("/admin/files/cycle").json()
    assert "ATS" in " ".join(cycle["exports"])


def test_faults_and_clock_switch_at_run_time(running):
    handle, client = running
    settings = client.put("/admin/faults", json={"error_rate": 1.0, "kinds": {"error_503": 1}}).json()
    assert settings["error_rate"] == 1.0
    assert client.get("/v1/ping").status_code == 503
    assert client.get("/admin/faults").json()["error_rate"] == 1.0  # admin routes are never faulted
    client.delete("/admin/faults")
    assert client.get("/v1/ping").status_code == 200

    when = datetime(2027, 1, 15, 9, 30, tzinfo=UTC)
    assert (
        client.post("/admin/clock", json={"now": when.isoformat(), "frozen": True})
        .json()["now"]
        .startswith("2027-01-15T09:30")
    )
    assert (
        client.get("/v1/inventory/ats", params={"warehouse": "CA01"})
        .json()["snapshot_at"]
        .startswith("2027-01-15T09:30")
    )
    client.post("/admin/clock", json={"reset": True})
    assert abs(handle.backend.clock.now() - datetime.now(UTC)) < timedelta(seconds=5)


def test_cli_writes_mappings_and_runs_a_file_cycle(tmp_path, emulator_db_template, capsys):
    assert main(["sandbox", "bluecherry", "export-mappings", "--out", str(tmp_path / "maps")]) == 0
    assert (tmp_path / "maps" / "items.csv").read_text().startswith("product_id,product_id_qualifier,asin,")
    db = seeded_database(emulator_db_template, tmp_path / "cli.sqlite")
    assert (
        main(["sandbox", "bluecherry", "cycle", "--db", str(db), "--data-dir", str(tmp_path / "files")]) == 0
    )
    report = json.loads(capsys.readouterr().out.split("\n", 2)[-1])
    assert report["cycle"] == 1 and len(report["exports"]) == 10
    assert len(list((tmp_path / "files" / "export").glob("*.manifest.json"))) == 10


def test_cli_serves_in_the_foreground_until_stopped(tmp_path, emulator_db_template):
    db = seeded_database(emulator_db_template, tmp_path / "serve.sqlite")
    env = os.environ | {"BLUECHERRY_EMULATOR_API_KEY": "cli-key"}
    process = subprocess.Popen(
        [sys.executable, "-m", "amazon_bluecherry", "sandbox", "bluecherry", "--port", "0", "--db", str(db)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    try:
        first = process.stdout.readline()
        assert first.startswith("BlueCherry emulator on http://127.0.0.1:"), first
        url = first.split()[3]
        assert httpx.get(url + "/v1/ping", headers={API_KEY_HEADER: "cli-key"}, timeout=10).status_code == 200
        connection = next(line for line in process.stdout if line.startswith("connection:"))
        assert json.loads(connection.split("=", 1)[1].strip().strip("'"))["password"] == "cli-key"
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
