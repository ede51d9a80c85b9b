"""`make demo` keeps working: the order path and fulfilment against the simulator, replay-safe,
through Amazon's receiving and its payment, posted by remit_to_journals."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.slow


def test_demo_runs_end_to_end(tmp_path):
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("AIRFLOW", "AB_"))}
    env["AB_HOME"] = str(tmp_path / "demo")
    completed = subprocess.run([sys.executable, "-m", "sandbox.demo", "--orders", "6", "--seed", "3"],
                               cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    output = completed.stdout
    assert "1. Amazon sent 6 purchase orders" in output
    assert "compliance findings: 0" in output
    assert "'855 accepted': 1" in output
    assert "7. replayed both DAGs: nothing changed" in output
    # The shipments go on the days that land them in their windows; Amazon receives them, charges nothing.
    assert "10. Amazon read {'856': 2, '810': 2}; rejected sets: 0; compliance findings: 0" in output
    assert "received 2 shipment(s)" in output and "findings: 0; chargebacks on our shipments: 0" in output
    # Amazon pays with deductions; remit_to_journals posts a cash receipt and typed journals.
    assert "13. remit_to_journals: remittance posted; posted in BlueCherry:" in output
    assert "     cash receipt " in output and "     journal " in output
    # stock_to_846 publishes what BlueCherry could ship less the buffers; Amazon sees exactly that.
    assert "0. stock_to_846: a full feed of " in output and "rule style" in output
    assert "Amazon's available stock matches what BlueCherry could ship less the buffers" in output
    assert "re-run: nothing new sent" in output
