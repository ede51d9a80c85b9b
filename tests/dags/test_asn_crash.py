"""A kill -9 between the ASN's upload and BlueCherry's confirmation never yields a second ASN.

A real subprocess runs the steps (prepare, gate, stage, upload) against the same store,
mailbox and emulator, says "uploaded", and is killed with SIGKILL before it can confirm.
The next DAG run only confirms: one 856 file for the shipment, BlueCherry confirmed with it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import pytest

from tests.dags.conftest import run_dag, task_states
from tests.dags.test_fulfilment_path import orders_with_stock, simulated_orders

pytestmark = pytest.mark.slow

STEPS = textwrap.dedent("""
    import time
    from datetime import UTC, datetime
    from amazon_bluecherry.flows.fulfilment_mappings import load_fulfilment_mappings
    from amazon_bluecherry.flows.fulfilment_to_asn_steps import (
        check_ship_notices, confirm_shipments, prepare_ship_notices, stage_ship_notices)
    from amazon_bluecherry.hooks.amazon_sftp import AmazonMailboxHook
    from amazon_bluecherry.hooks.bluecherry import BlueCherryHook
    from amazon_bluecherry.settings import get_settings
    from amazon_bluecherry.store import get_store

    store, settings = get_store(), get_settings()
    mappings = load_fulfilment_mappings(settings.mappings_dir)
    gateway = BlueCherryHook(bluecherry_conn_id=settings.bluecherry_conn_id).get_conn()
    now = datetime.now(UTC)
    drafted = prepare_ship_notices(store, gateway, settings, mappings, now=now).drafted
    passed = check_ship_notices(store, settings, mappings, now=now, notice_ids=drafted).passed
    outbound = stage_ship_notices(store, settings, now=now, notice_ids=passed)
    AmazonMailboxHook().upload(store, outbound)
    print("uploaded", outbound, flush=True)
    time.sleep(600)                      # killed here, before BlueCherry hears of the ASN
    confirm_shipments(store, gateway)
""")


def shipped_and_invoiced(dagbag, parties, tmp_path):
    """Amazon's POs loaded and acknowledged; one of them shipped and invoiced in BlueCherry,
    its ASN not yet sent. Returns the emulator's backend and the shipment."""
    _, emulator, _ = parties
    amazon, numbers = simulated_orders(parties, tmp_path, 2)
    for dag_id in ("po_to_so", "so_to_poa"):
        assert set(task_states(run_dag(dagbag, dag_id)).values()) == {"success"}
    amazon.process_uploads()
    backend = emulator.backend
    order = orders_with_stock(backend, numbers)[0]
    backend.pick_and_pack(order.order_number)
    shipment = backend.ship([order.order_number])
    backend.invoice_shipment(shipment.shipment_id)
    return backend, shipment


def test_kill_9_between_upload_and_confirmation_sends_no_second_asn(dagbag, parties, tmp_path):
    mailbox = parties[0]
    backend, shipment = shipped_and_invoiced(dagbag, parties, tmp_path)

    worker = subprocess.Popen([sys.executable, "-c", STEPS], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, env=dict(os.environ))
    try:
        seen = []
        for line in worker.stdout:  # logging shares stdout: wait for the worker's own word
            seen.append(line)
            if line.startswith("uploaded"):
                break
        assert seen and seen[-1].startswith("uploaded"), "".join(seen)[-3000:] + worker.stderr.read()[-3000:]
        os.kill(worker.pid, signal.SIGKILL)
    finally:
        worker.wait(timeout=60)
    assert worker.returncode == -signal.SIGKILL
    asns = [name for name in mailbox.received() if "856" in name]
    assert len(asns) == 1
    assert backend.get_shipment(shipment.shipment_id).status == "ready", "died before confirming"

    assert set(task_states(run_dag(dagbag, "fulfilment_to_asn")).values()) == {"success"}
    assert [name for name in mailbox.received() if "856" in name] == asns, "no second ASN"
    confirmed = backend.get_shipment(shipment.shipment_id)
    assert confirmed.status == "confirmed" and confirmed.asn_reference == asns[0]


def test_810s_a_killed_run_drafted_are_gated_and_sent_by_the_next_run(dagbag, parties, tmp_path):
    """The crash campaign's find: a run killed after prepare_810s left its invoices drafted,
    and the next runs drafted nothing new, gated nothing and never sent them."""
    from datetime import UTC, datetime

    from sqlalchemy import select

    from amazon_bluecherry.flows.fulfilment_mappings import load_fulfilment_mappings
    from amazon_bluecherry.flows.fulfilment_to_asn_steps import (
        check_ship_notices,
        confirm_shipments,
        prepare_ship_notices,
        stage_ship_notices,
    )
    from amazon_bluecherry.flows.invoicing import prepare_invoices
    from amazon_bluecherry.hooks.amazon_sftp import AmazonMailboxHook
    from amazon_bluecherry.hooks.bluecherry import BlueCherryHook
    from amazon_bluecherry.settings import get_settings
    from amazon_bluecherry.store.models import Invoice

    mailbox, _, store = parties
    shipped_and_invoiced(dagbag, parties, tmp_path)

    # The run that dies: its ASN goes out and is confirmed, its 810 is drafted, then kill -9.
    settings, now = get_settings(), datetime.now(UTC)
    mappings = load_fulfilment_mappings(settings.mappings_dir)
    gateway = BlueCherryHook(bluecherry_conn_id=settings.bluecherry_conn_id).get_conn()
    drafted = prepare_ship_notices(store, gateway, settings, mappings, now=now).drafted
    passed = check_ship_notices(store, settings, mappings, now=now, notice_ids=drafted).passed
    AmazonMailboxHook().upload(store, stage_ship_notices(store, settings, now=now, notice_ids=passed))
    confirm_shipments(store, gateway)
    assert prepare_invoices(store, gateway, settings, now=now).drafted, "the dying run drafted its 810"

    assert set(task_states(run_dag(dagbag, "fulfilment_to_asn")).values()) == {"success"}
    with store.session() as db:
        invoices = [(row.invoice_number, row.status) for row in db.scalars(select(Invoice))]
    assert invoices and all(status == "sent" for _, status in invoices), invoices
    sent = [name for name in mailbox.received() if "810" in name]
    assert len(sent) == 1, sent
