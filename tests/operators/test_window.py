"""operators/window.py: a task's run window from its context, Params first (Airflow has merged
the run's conf into them), then a backfill run's data interval."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from amazon_bluecherry.operators.window import run_window
from tests.operators.conftest import run_context

END = datetime(2026, 11, 20, 6, tzinfo=UTC)
INTERVAL = {"interval_start": END - timedelta(days=1), "interval_end": END}


def test_a_backfill_run_stops_at_its_interval_end():
    window = run_window(run_context("backfill", **INTERVAL))
    assert (window.replay, window.reason, window.received_before) == (True, "backfill", END)


def test_current_runs_take_everything_pending_whatever_their_interval():
    for run_type in ("scheduled", "manual", "asset_triggered"):
        assert not run_window(run_context(run_type, **INTERVAL)).replay
    assert not run_window({}).replay


def test_the_params_replay_a_time_range_in_any_run():
    window = run_window(run_context("scheduled", params={"received_after": "2026-11-01T00:00:00Z",
                                                         "received_before": "2026-11-02T00:00:00+00:00"}, **INTERVAL))
    assert (window.reason, window.received_after, window.received_before) == (
        "replay", datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 11, 2, tzinfo=UTC))
    assert "before 2026-11-02T00:00:00+00:00" in window.describe()
