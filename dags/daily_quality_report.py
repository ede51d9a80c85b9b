"""daily_quality_report: yesterday's data quality, for people who do not read SQL.

build the report (volumes per flow against the trailing average, GX results, exceptions by
team and age, Amazon's windows, deductions by type) -> store it -> send it to the channels
tagged ``quality_report``. Read it in the exceptions console (Browse -> Data-quality reports)
or build any day's from the CLI: ``amazon-bluecherry quality report --date D --out FILE.html``.
"""

from __future__ import annotations

from airflow.sdk import Param, dag

from amazon_bluecherry.operators.dag_defaults import START_DATE, alert_owners, default_args, run_deadline
from amazon_bluecherry.operators.quality_report import BuildQualityReportOperator, SendQualityReportOperator
from amazon_bluecherry.settings import get_settings


@dag(
    dag_id="daily_quality_report",
    schedule=get_settings().quality_report_schedule,
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args=default_args("integration"),
    params={"report_date": Param(None, type=["null", "string"], format="date", title="Report date",
                                 description="The day (UTC) to report; empty: the day this run covers.")},
    deadline=run_deadline("daily_quality_report", minutes=60, owner="integration"),
    tags=["quality", "report"],
    doc_md=__doc__,
)
def daily_quality_report():
    built = BuildQualityReportOperator(task_id="build_report")
    sent = SendQualityReportOperator(task_id="send_report", report=built.output)
    alert_owners(sent)


daily_quality_report()
