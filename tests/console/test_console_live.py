"""The exceptions console and the BlueCherry connection type in a running Airflow
(``make airflow``): only Airflow-authenticated users reach the console, actions are audited
with the user's name, a held PO is announced to its team with a link that opens the console,
and the daily report DAG writes yesterday's report."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from amazon_bluecherry.store import Store

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.timeout(1500)]


def test_console_is_only_for_airflow_users(airflow_server):
    from amazon_bluecherry.flows.exceptions import open_exception

    store = Store(airflow_server.store_url)
    exception_id = open_exception(store, "unknown_ship_to", "PO CONSOLE1: ship-to 92 XXX9 is not in ship_to.csv",
                                  business_key="CONSOLE1")
    console = f"{airflow_server.url}/exceptions-console"
    assert httpx.get(f"{console}/", timeout=30).status_code == 401, "anonymous callers are refused"
    assert httpx.get(f"{console}/api/exceptions", headers={"Authorization": "Bearer forged"},
                     timeout=30).status_code in (401, 403)

    client = airflow_server.client()
    auth = {"Authorization": f"Bearer {client.token}"}
    listed = httpx.get(f"{console}/api/exceptions", params={"owner": "wholesale", "q": "console1"}, headers=auth,
                       timeout=30).json()
    assert [row["id"] for row in listed["exceptions"]] == [exception_id]
    page = httpx.get(f"{console}/exceptions/{exception_id}", headers=auth, timeout=30).text
    assert "unknown_ship_to" in page and "runbooks/unknown_ship_to" in page and "Audit trail" in page

    cross_site = httpx.post(f"{console}/exceptions/{exception_id}/acknowledge", data={"note": "x"},
                            headers={**auth, "Origin": "https://evil.example.com"}, timeout=30)
    assert cross_site.status_code == 403
    done = httpx.post(f"{console}/exceptions/{exception_id}/resolve", data={"note": "mapped XXX9 to ABE2"},
                      headers=auth, timeout=30, follow_redirects=False)
    assert done.status_code == 303
    (record,) = [r for r in store.list_exceptions(status=None) if r.id == exception_id]
    assert record.status == "resolved" and record.resolution_note == "mapped XXX9 to ABE2"
    (event,) = store.events(entity_type="exception", entity_id=exception_id, kind="exception.resolved")
    assert event.payload == {"note": "mapped XXX9 to ABE2", "by": f"airflow:{airflow_server.username}"}
    runbook = httpx.get(f"{console}/runbooks/unknown_ship_to", headers=auth, timeout=30)
    assert runbook.status_code == 200 and "<h2" in runbook.text
    store.dispose()


def test_bluecherry_is_a_connection_type_with_a_working_test_button(airflow_server):
    client = airflow_server.client()
    response = httpx.get(f"{airflow_server.url}/ui/connections/hook_meta",
                         headers={"Authorization": f"Bearer {client.token}"}, timeout=30)
    (meta,) = [hook for hook in response.json() if hook["connection_type"] == "bluecherry"]
    assert meta["hook_name"] == "CGS BlueCherry"
    assert meta["standard_fields"]["password"]["title"] == "API key"

    emulator = json.loads(airflow_server.env()["AIRFLOW_CONN_BLUECHERRY_DEFAULT"])
    body = {"connection_id": "bluecherry_ui_test", "conn_type": "bluecherry", "host": emulator["host"],
            "port": emulator["port"], "schema": "http", "password": emulator["password"]}
    assert client.post("/connections/test", body) == {"status": True, "message": "BlueCherry is reachable"}
    wrong = client.post("/connections/test", {**body, "password": "wrong-key"})
    assert wrong["status"] is False


def test_held_po_alerts_its_team_with_a_link_to_the_console(airflow_server, alert_sinks):
    from tests.dags.conftest import catalogue_items
    from tests.dags.test_order_path import order_file

    webhook, smtp = alert_sinks
    items = [dict(item, unit_cost="0.50") for item in catalogue_items(1)]  # Amazon pays far less than unit_cost
    airflow_server.drop("AMZN850.000000401", order_file("HELDPO1", items, control="000000401"))
    client = airflow_server.client()
    run_id = client.trigger("po_to_so")
    assert client.wait_for_run("po_to_so", run_id)["state"] == "success", client.task_states("po_to_so", run_id)

    messages = [body["message"] for _, body in webhook.requests if "HELDPO1" in body.get("message", "")]
    assert len(messages) == 1, "one alert for the held PO, whatever else runs"
    (mail,) = [m for m in smtp.messages if "HELDPO1" in m]
    assert "To: wholesale@example.com" in mail
    text = messages[0]
    assert "price_mismatch" in text and "where: po_to_so / translate_purchase_orders" in text
    assert "Amazon's window: 855 due" in text and "closes in" in text
    link = next(word for word in text.split() if "/exceptions-console/?exception=" in word)
    assert link.startswith(airflow_server.url)
    opened = httpx.get(link, headers={"Authorization": f"Bearer {client.token}"}, timeout=30, follow_redirects=True)
    assert opened.status_code == 200 and "HELDPO1" in opened.text and "price_mismatch" in opened.text


def test_daily_report_dag_writes_yesterdays_report(airflow_server):
    from datetime import UTC, datetime, timedelta

    client = airflow_server.client()
    client.wait_for_dag("daily_quality_report")
    run_id = client.trigger("daily_quality_report")
    run = client.wait_for_run("daily_quality_report", run_id)
    assert run["state"] == "success", client.task_states("daily_quality_report", run_id)
    yesterday = (datetime.now(UTC).date() - timedelta(days=1)).isoformat()
    for _ in range(10):
        page = httpx.get(f"{airflow_server.url}/exceptions-console/reports/{yesterday}",
                         headers={"Authorization": f"Bearer {client.token}"}, timeout=30)
        if page.status_code == 200:
            break
        time.sleep(2)
    assert page.status_code == 200 and f"Data-quality report: {yesterday}" in page.text and "<svg" in page.text


def test_resend_and_replay_from_the_console_are_audited(airflow_server):
    from amazon_bluecherry.store.models import OutboundDocument

    store = Store(airflow_server.store_url)
    raw_id, _ = store.save_raw_document(b"ISA*...855 never collected", partner="AMAZON", transport="sftp",
                                        direction="out")
    with store.session() as db:
        outbound = OutboundDocument(partner="AMAZON", doc_type="855", raw_document_id=raw_id, isa13="000000555",
                                    gs06="555", st02_list=["0001"], file_name="VENDR855.000000555",
                                    status="unacknowledged")
        db.add(outbound)
        db.flush()
        outbound_id = outbound.id
    held = store.add_transaction("850", direction="in", partner="AMAZON", business_key="REPLAYPO", status="held")
    auth = {"Authorization": f"Bearer {airflow_server.client().token}"}
    console = f"{airflow_server.url}/exceptions-console"

    resent = httpx.post(f"{console}/outbound/{outbound_id}/resend", data={"note": "Amazon case 42: never got it"},
                        headers=auth, timeout=30)
    assert resent.status_code == 303
    replayed = httpx.post(f"{console}/purchase-orders/REPLAYPO/retranslate", data={"note": "UPC added"},
                          headers=auth, timeout=30)
    assert replayed.status_code == 303
    again = httpx.post(f"{console}/outbound/{outbound_id}/resend", headers=auth, timeout=30)
    assert again.status_code == 409 and "already waiting" in again.text
    by = f"airflow:{airflow_server.username}"
    (event,) = store.events(kind="outbound.resend_requested", entity_id=outbound_id)
    assert event.payload["by"] == by and event.payload["note"] == "Amazon case 42: never got it"
    (event,) = store.events(kind="purchase_order.retranslate", entity_id=held)
    assert event.payload["by"] == by and event.payload["was"] == "held"
    store.set_transaction_status(held, "held")  # it has no file: keep later po_to_so runs away from it
    with store.session() as db:  # nor has the 855 real bytes: keep later so_to_poa uploads away from it
        db.get(OutboundDocument, outbound_id).status = "unacknowledged"
    store.dispose()
