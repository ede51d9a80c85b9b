"""so_to_poa: BlueCherry sales-order status -> Amazon 855 acknowledgements within 24 hours.

build 855s from allocations (accepted / backordered / rejected per line) -> data-quality
gate (Great Expectations, over the 855s as they will leave) -> upload -> watch every PO's
24-hour window and every 997 we are owed.
"""

from __future__ import annotations

from airflow.sdk import dag

from amazon_bluecherry.operators.amazon_sftp import MailboxUploadOperator
from amazon_bluecherry.operators.dag_defaults import (
    START_DATE,
    alert_owners,
    default_args,
    replay_params,
    run_deadline,
)
from amazon_bluecherry.operators.orders import (
    BuildAcknowledgementsOperator,
    CheckAcknowledgementsOperator,
    MonitorWindowsOperator,
)
from amazon_bluecherry.settings import get_settings

OWNER = "wholesale-integration"


@dag(
    dag_id="so_to_poa",
    schedule=get_settings().poa_schedule,
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args=default_args(OWNER),
    params=replay_params(),
    deadline=run_deadline("so_to_poa", minutes=30, owner="integration"),
    tags=["amazon", "bluecherry", "orders", "855"],
    doc_md=__doc__,
)
def so_to_poa():
    built = BuildAcknowledgementsOperator(task_id="build_855s")
    staged = CheckAcknowledgementsOperator(task_id="check_855s")
    sent = MailboxUploadOperator(task_id="send_855s", outbound_document_ids=staged.output)
    # The window check runs whatever happened upstream: a failed upload is exactly when
    # the 24-hour window needs watching.
    watched = MonitorWindowsOperator(task_id="watch_855_windows", trigger_rule="all_done")
    built >> staged >> sent >> watched
    alert_owners(watched)


so_to_poa()
