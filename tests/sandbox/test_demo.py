"""`make demo` keeps working: the whole order path against the simulator, replay-safe."""

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
