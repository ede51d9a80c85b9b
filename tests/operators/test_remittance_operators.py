"""The remit_to_journals operators (operators/remittances.py): which 820s a run takes (backfills
stop at their interval's end, the Param sets the instant by hand), which month it reconciles,
what each logs and returns."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from amazon_bluecherry.operators.remittances import received_before
from tests.operators.conftest import logged, run_context

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


# --- each operator called with a context ---------------------------------------------------


def test_with_no_820_each_step_returns_and_logs_nothing_to_do(parties, capsys):
    from amazon_bluecherry.operators.remittances import (
        CheckRemittancesOperator,
        ClassifyRemittancesOperator,
        DisputePacketsOperator,
        PostRemittancesOperator,
        WatchDisputeWindowsOperator,
    )

    assert ClassifyRemittancesOperator(task_id="classify_remittances").execute(run_context()) == []
    assert "820s: 0 classified, 0 unreadable, 0 unrecognised line(s), 0 unmatched payment(s)" in logged(capsys)
    checked = CheckRemittancesOperator(task_id="check_remittances", remittance_ids=[]).execute(run_context())
    assert checked == {"gated": 0, "blocked": 0}
    assert "remittance gate: 0 passed, 0 blocked (task input: [])" in logged(capsys)
    assert PostRemittancesOperator(task_id="post_to_bluecherry").execute(run_context()) == {
        "posted": 0, "incomplete": 0, "writes": 0}
    assert DisputePacketsOperator(task_id="assemble_dispute_packets").execute(run_context()) == {
        "opened": 0, "assembled": 0, "incomplete": 0}
    assert "dispute claims: 0 opened, 0 packet(s) assembled, 0 incomplete, 0 failed" in logged(capsys)
    assert WatchDisputeWindowsOperator(task_id="watch_dispute_windows").execute(run_context()) == {
        "alerted": 0, "expired": 0}


def test_the_reconciliation_params_name_the_month(parties, capsys):
    from amazon_bluecherry.operators.remittances import ReconcileMonthOperator

    result = ReconcileMonthOperator(task_id="reconcile_month").execute(run_context(params={"period": "2026-10"}))
    assert result["period"] == "2026-10" and result["ties_out"] is True and isinstance(result["run_id"], int)
    assert "reconciliation 2026-10 as of 2026-11-01T00:00:00+00:00: ties out" in logged(capsys)


def test_a_bad_remit_codes_file_stops_the_run_with_an_exception(parties, tmp_path):
    from amazon_bluecherry.flows.mappings import MappingError
    from amazon_bluecherry.operators.remittances import ClassifyRemittancesOperator

    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "remit_codes.csv").write_text("nope\n")
    with pytest.raises(MappingError):
        ClassifyRemittancesOperator(task_id="classify_remittances", mappings_dir=str(tmp_path / "bad")).execute(
            run_context())
    [exception] = parties.list_exceptions()
    assert exception.type == "mapping_file_invalid" and exception.message.endswith("; no remittance was classified")
