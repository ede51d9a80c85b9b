"""The daily_quality_report operators (operators/quality_report.py): the day from the Param or
the run's interval, the build task's dict handed on as it is (an XComArg), what each logs."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from amazon_bluecherry.operators.quality_report import (
    BuildQualityReportOperator,
    SendQualityReportOperator,
    report_day,
)
from tests.operators.conftest import logged, run_context


def test_the_day_comes_from_the_param_else_the_interval_else_yesterday():
    interval = {"interval_start": datetime(2026, 11, 29, 6, tzinfo=UTC), "interval_end": datetime(2026, 11, 30, 6,
                                                                                                   tzinfo=UTC)}
    assert report_day(run_context("scheduled", **interval), "2026-10-31") == date(2026, 10, 31)
    assert report_day(run_context("scheduled", **interval), None) == date(2026, 11, 29)
    assert report_day(run_context("manual"), None) == datetime.now(UTC).date() - timedelta(days=1)


def test_build_then_send_the_report_of_the_param_day(parties, capsys):
    built = BuildQualityReportOperator(task_id="build_report").execute(
        run_context(params={"report_date": "2026-11-02"}))
    assert built["day"] == "2026-11-02" and isinstance(built["report_id"], int) and isinstance(built["flags"], list)
    assert f"data-quality report of 2026-11-02 stored (id {built['report_id']})" in logged(capsys)

    # No alert connection here: the report is logged, not lost (and the task succeeds).
    assert SendQualityReportOperator(task_id="send_report", report=built).execute(run_context()) == "logged"
    assert "data-quality report of 2026-11-02: logged" in logged(capsys)


def test_send_refuses_a_rendered_string(parties):
    with pytest.raises(TypeError):
        SendQualityReportOperator(task_id="send_report", report="{'report_id': 1, 'day': '2026-11-02'}").execute(
            run_context())
