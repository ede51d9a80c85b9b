"""``make airflow`` as a newcomer runs it: from a shell with no venv on PATH, Airflow comes up
healthy with our DAGs (no examples, unpaused), the plain CLI with only AIRFLOW_HOME sees the
same, both order DAGs run green when triggered through the REST API, and a two-run backfill
created with ``airflow backfill create`` (PostgreSQL metadata) runs green, each run taking
only what had arrived by its time, never touching Amazon's mailbox."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.dags.conftest import catalogue_items

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.timeout(1500)]

FLOWS = ("po_to_so", "so_to_poa", "fulfilment_to_asn", "stock_to_846", "remit_to_journals", "daily_quality_report")


def test_make_airflow_runs_triggers_and_backfills(airflow_server):
    from amazon_bluecherry.edi.ack import parse_997
    from amazon_bluecherry.store import Store
    from amazon_bluecherry.store.models import Transaction
    from tests.dags.test_order_path import order_file

    client = airflow_server.client()
    assert client.get("/monitor/health")["scheduler"]["status"] == "healthy"
    for dag_id in FLOWS:
        client.wait_for_dag(dag_id)
    dags = {dag["dag_id"]: dag for dag in client.get("/dags", limit=100)["dags"]}
    assert set(FLOWS) <= set(dags)
    assert not any(dag_id.startswith(("example_", "tutorial")) for dag_id in dags), "no example DAGs"
    assert not [dag_id for dag_id in FLOWS if dags[dag_id]["is_paused"]], "unpaused in the sandbox"
    assert client.get("/importErrors")["total_entries"] == 0

    # The plain Airflow CLI, with only AIRFLOW_HOME set, sees the same DAGs (airflow.cfg holds it all).
    airflow = str(Path(sys.executable).parent / "airflow")
    cli_env = {"AIRFLOW_HOME": str(airflow_server.home / "airflow"), "PATH": "/usr/bin:/bin",
               "HOME": os.environ.get("HOME", "/tmp")}
    listed = subprocess.run([airflow, "dags", "list", "--output", "plain"], env=cli_env,
                            capture_output=True, text=True, timeout=300, check=True).stdout
    assert "po_to_so" in listed and "so_to_poa" in listed and "example_" not in listed

    store = Store(airflow_server.store_url)
    items = catalogue_items(2)
    airflow_server.drop("AMZN850.000000301", order_file("RESTPO1", items, control="000000301"))
    for dag_id in ("po_to_so", "so_to_poa"):
        run_id = client.trigger(dag_id)
        run = client.wait_for_run(dag_id, run_id)
        assert run["state"] == "success", client.task_states(dag_id, run_id)
    with store.session() as db:
        assert db.query(Transaction).filter_by(doc_type="850", business_key="RESTPO1").one().status in (
            "loaded", "acknowledged")
    # The other flows run green too (nothing shipped, paid or newly in stock yet: they find
    # nothing to do, or publish the emulator's stock), so a newcomer sees five green flows.
    for dag_id in FLOWS[2:]:
        run_id = client.trigger(dag_id)
        run = client.wait_for_run(dag_id, run_id)
        assert run["state"] == "success", client.task_states(dag_id, run_id)

    # Two past days' files that reached the store during an outage, and a new file waiting in
    # Amazon's mailbox. A cron schedule's run at midnight takes what had arrived by then: the
    # backfill's run of day two takes day one's file, the run of day three day two's; neither
    # picks up, validates or acknowledges the new file.
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    day_one, day_two = today - timedelta(days=3), today - timedelta(days=2)
    for day, po_number, control in ((day_one, "BFPO1", "000000311"), (day_two, "BFPO2", "000000312")):
        store.save_raw_document(order_file(po_number, items, control=control), partner="AMAZON",
                                transport="sftp", remote_name=f"AMZN850.{control}",
                                received_at=day + timedelta(hours=10))
    airflow_server.drop("AMZN850.000000319", order_file("NEWPO", items, control="000000319"))
    uploads_before = set(airflow_server.uploads())

    # The plain CLI with only AIRFLOW_HOME, as the README says (PostgreSQL metadata).
    created = subprocess.run(
        [airflow, "backfill", "create", "--dag-id", "po_to_so", "--from-date", (day_two).isoformat(),
         "--to-date", (day_two + timedelta(days=1)).isoformat(), "--max-active-runs", "1"],
        env=cli_env, capture_output=True, text=True, timeout=300)
    assert created.returncode == 0, created.stderr[-3000:]
    runs: list[dict] = []
    for _ in range(300):
        runs = [run for run in client.get("/dags/po_to_so/dagRuns", limit=50)["dag_runs"]
                if run["run_type"] == "backfill"]
        if len(runs) == 2 and all(run["state"] in ("success", "failed") for run in runs):
            break
        time.sleep(3)
    assert len(runs) == 2, f"the backfill made {runs}"
    assert [run["state"] for run in runs] == ["success", "success"], [
        client.task_states("po_to_so", run["dag_run_id"]) for run in runs]
    with store.session() as db:
        statuses = {t.business_key: t.status for t in db.query(Transaction).filter_by(doc_type="850")}
    # so_to_poa (every 15 minutes) may have acknowledged them since.
    assert statuses["BFPO1"] in ("loaded", "acknowledged") and statuses["BFPO2"] in ("loaded", "acknowledged")
    assert "NEWPO" not in statuses, "the backfill validated nothing newer"
    assert airflow_server.remote_downloads() == ["AMZN850.000000319"], "Amazon's mailbox untouched"
    acknowledged = {ack.group_control_number for name in set(airflow_server.uploads()) - uploads_before
                    if "997" in name for ack in parse_997(airflow_server.uploads()[name])}
    assert acknowledged == {"311", "312"}, "997s answer only the backfilled documents"
    store.dispose()
