"""Which 820s a remit_to_journals run takes: backfills stop at their interval's end."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

from amazon_bluecherry.operators.remittances import received_before

END = datetime(2026, 10, 2, 7, tzinfo=UTC)


def context(run_type: str, params: dict | None = None) -> dict:
    # Airflow merges a run's conf into its Params: operators read ``context["params"]`` only.
    return {"dag_run": SimpleNamespace(run_type=run_type), "params": params or {}, "data_interval_end": END}


def test_a_backfill_run_takes_what_had_arrived_by_its_interval_end():
    assert received_before(context("backfill")) == END


def test_manual_and_scheduled_runs_take_everything_pending_even_with_an_old_interval():
    assert received_before(context("manual")) is None
    assert received_before(context("scheduled")) is None


def test_the_param_sets_the_instant_by_hand():
    assert received_before(context("manual", {"received_before": "2026-09-30T00:00:00+00:00"})) == datetime(
        2026, 9, 30, tzinfo=UTC)


def window_context(run_type: str, start: datetime, end: datetime, params: dict | None = None) -> dict:
    return {"dag_run": SimpleNamespace(run_type=run_type), "params": params or {}, "data_interval_start": start,
            "data_interval_end": end}


def test_the_run_that_crosses_into_a_new_month_reconciles_the_month_before_to_its_end():
    from amazon_bluecherry.operators.remittances import reconciliation_window

    now = datetime(2026, 11, 1, 7, 5, tzinfo=UTC)
    start, end = datetime(2026, 10, 31, 7, tzinfo=UTC), datetime(2026, 11, 1, 7, tzinfo=UTC)
    assert reconciliation_window(window_context("scheduled", start, end), now) == (
        "2026-10", datetime(2026, 11, 1, tzinfo=UTC))
    # A backfill of a day in the middle of a past month: month to date, as of the interval end.
    start, end = datetime(2026, 9, 14, 7, tzinfo=UTC), datetime(2026, 9, 15, 7, tzinfo=UTC)
    assert reconciliation_window(window_context("backfill", start, end), now) == ("2026-09", end)


def test_a_manual_run_reconciles_this_month_now_unless_the_params_name_a_period():
    from amazon_bluecherry.operators.remittances import reconciliation_window

    now = datetime(2026, 11, 17, 9, tzinfo=UTC)
    old = (datetime(2026, 11, 15, 7, tzinfo=UTC), datetime(2026, 11, 16, 7, tzinfo=UTC))
    assert reconciliation_window(window_context("manual", *old), now) == ("2026-11", now)
    assert reconciliation_window(window_context("manual", *old, {"period": "2026-10"}), now) == (
        "2026-10", datetime(2026, 11, 1, tzinfo=UTC))
    assert reconciliation_window(window_context("manual", *old, {"period": "2026-11"}), now) == ("2026-11", now)
