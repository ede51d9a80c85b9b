"""Operators of ``daily_quality_report``: build and store the day's report, then send it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from airflow.sdk import BaseOperator


def report_day(context: Any, requested: str | None) -> date:
    """The Param ``report_date`` when given, else the day the run covers (its data interval's
    start: the 06:00 run of the 30th reports the 29th), else yesterday (a manual run)."""
    if requested:
        return date.fromisoformat(str(requested)[:10])
    start = context.get("data_interval_start") if context else None
    end = context.get("data_interval_end") if context else None
    if start is not None and end is not None and end - start >= timedelta(hours=23):
        return start.astimezone(UTC).date()
    return datetime.now(UTC).date() - timedelta(days=1)


class BuildQualityReportOperator(BaseOperator):
    """Build the day's data-quality report and store it (a re-run replaces it).

    Returns ``{"report_id", "day", "flags"}``.

    :param report_date: ``YYYY-MM-DD``; empty: the DAG's Param ``report_date``, else the day the run covers
    """

    template_fields: Sequence[str] = ("report_date",)

    def __init__(self, *, report_date: str | None = None, database_url: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.report_date = report_date
        self.database_url = database_url

    def execute(self, context: Any) -> dict:
        from amazon_bluecherry.quality.report import build_report, store_report
        from amazon_bluecherry.settings import get_settings
        from amazon_bluecherry.store import get_store

        store = get_store(self.database_url)
        day = report_day(context, self.report_date or (context.get("params") or {}).get("report_date"))
        report = build_report(store, day, get_settings())
        report_id = store_report(store, report)
        self.log.info("data-quality report of %s stored (id %s): %s flag(s)", day, report_id, len(report.flags))
        for flag in report.flags:
            self.log.warning("flag: %s", flag)
        return {"report_id": report_id, "day": day.isoformat(), "flags": report.flags}


class SendQualityReportOperator(BaseOperator):
    """Send the stored report through the alert channels tagged ``quality_report`` (or ``always``).

    :param report: the build task's result, ``built.output`` (``report_id``, ``day``)
    """

    template_fields: Sequence[str] = ("report",)

    def __init__(self, *, report: Any, database_url: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.report = report
        self.database_url = database_url

    def execute(self, context: Any) -> str:
        from amazon_bluecherry.flows.alerting import send_quality_report
        from amazon_bluecherry.settings import get_settings
        from amazon_bluecherry.store import get_store

        report = self.report  # the build task's dict (an XComArg, resolved by Airflow)
        status = send_quality_report(get_store(self.database_url), int(report["report_id"]), get_settings())
        self.log.info("data-quality report of %s: %s", report["day"], status)
        if status == "failed":
            raise RuntimeError("the report could not be sent: see the log and the alert connection")
        return status
