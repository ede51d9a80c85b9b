"""kill -9 in the middle of posting a remittance: the next run completes it, nothing twice.

The posting runs in a real child process that is stopped with SIGKILL right after
BlueCherry took its N-th write (before the store could record it); the parent then runs
the posting step again, as Airflow's retry would.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from amazon_bluecherry.bluecherry.rest import RestGateway
from amazon_bluecherry.flows.remit_to_journals_steps import classify_received, gate_classified, post_gated
from amazon_bluecherry.store.models import Remittance, RemittancePosting
from tests.bluecherry.conftest import emulator, emulator_template  # noqa: F401
from tests.conftest import REPO_ROOT
from tests.flows.remittances import invoiced, receive
from tests.flows.test_remit_to_journals_steps import CODES, SETTINGS, remittance_820

CHILD = """
import sys, time
from pathlib import Path
from amazon_bluecherry.bluecherry.rest import RestGateway
from amazon_bluecherry.flows.remit_to_journals_steps import post_gated
from amazon_bluecherry.settings import Settings
from amazon_bluecherry.store import Store

url, key, store_url, marker, stall_after = sys.argv[1:]

class StallingGateway(RestGateway):
    writes = 0

    def _write(self, path, body, idempotency_key):
        written = super()._write(path, body, idempotency_key)  # BlueCherry has applied it
        StallingGateway.writes += 1
        if StallingGateway.writes == int(stall_after):
            Path(marker).write_text(idempotency_key)
            time.sleep(600)  # the parent kills us here, before the store records the write
        return written

post_gated(Store(store_url), StallingGateway(url, key, max_retries=0), Settings())
"""

WRITES = 6  # one cash receipt and five typed journals


@pytest.mark.parametrize("stall_after", [1, 3, WRITES])
def test_killed_mid_posting_the_retry_completes_the_remittance_once(store, emulator, tmp_path, stall_after):  # noqa: F811
    gateway = RestGateway(emulator.url, emulator.api_key, timeout=10, max_retries=2, backoff=0.01)
    invoices = invoiced(emulator, 3)
    from tests.flows.remittances import Line

    receive(store, remittance_820(invoices, extra=[Line("WSO_144324_05", "-2.00")]))
    now = datetime.now(UTC)
    classify_received(store, gateway, CODES, SETTINGS, now=now)
    assert len(gate_classified(store, gateway, SETTINGS, now=now).gated) == 1

    script, marker = tmp_path / "child.py", tmp_path / "stalled"
    script.write_text(CHILD)
    child = subprocess.Popen([sys.executable, str(script), emulator.url, emulator.api_key, store.url, str(marker),
                              str(stall_after)], cwd=REPO_ROOT, env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
                             stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while not marker.exists():
        assert child.poll() is None, child.stderr.read().decode()[-2000:]
        assert time.monotonic() < deadline, "the child never reached its stall point"
        time.sleep(0.05)
    os.kill(child.pid, signal.SIGKILL)
    assert child.wait(timeout=30) == -signal.SIGKILL

    with store.session() as db:
        assert db.scalar(select(Remittance.status)) == "posting"
        recorded = Counter(db.scalars(select(RemittancePosting.status)))
    assert recorded["posted"] == stall_after - 1, "the killed write was applied by BlueCherry, not recorded by us"
    ledger = emulator.backend.list_ledger_lines("2026-10")
    assert len({line.journal_number for line in ledger}) == stall_after

    result = post_gated(store, gateway, SETTINGS)     # Airflow's retry
    assert len(result.posted) == 1
    ledger = emulator.backend.list_ledger_lines("2026-10")
    journals = Counter(line.reference for line in ledger if line.line_number == 1)
    assert journals == {"AMZ-0000000101": 1, "AMZ-0000000101-SC": 1, "AMZ-0000000101-CB": 1,
                        "AMZ-0000000101-COOP": 1, "AMZ-0000000101-PROV": 1, "AMZ-0000000101-SUSP": 1}
    assert emulator.backend.list_open_ar(bc_customer="AMAZON") == []
    assert emulator.backend.check_invariants() == []
    with store.session() as db:
        assert Counter(db.scalars(select(RemittancePosting.status))) == {"posted": WRITES}
    gateway.close()
