"""stock_to_846: BlueCherry's available-to-sell -> an 846 inventory feed Amazon may order against.

plan (read the ATS snapshot through the gateway, REST or the export file with its manifest;
refuse it when stale, behind BlueCherry's last batch cycle or partial: exception
``stale_inventory_snapshot`` for integration, and nothing is sent; hold back the buffer of
include/mappings/inventory_buffer.yaml; a full feed when one is due, else a delta of the
tiers due by velocity) -> data-quality gate (its own task) -> stage the 846 -> upload to
Amazon's mailbox -> record what Amazon was told.

Re-running with the same snapshot plans nothing new: every feed keeps the snapshot's
fingerprint. Nothing here reads an Amazon document, so there is nothing to replay: a past
feed is never re-sent (Amazon would take old quantities as new); the next run publishes
the current stock.
"""

from __future__ import annotations

from airflow.sdk import dag

from amazon_bluecherry.operators.amazon_sftp import MailboxUploadOperator
from amazon_bluecherry.operators.dag_defaults import START_DATE, alert_owners, default_args, run_deadline
from amazon_bluecherry.operators.inventory import (
    CheckInventoryFeedOperator,
    PlanInventoryFeedOperator,
    RecordInventoryFeedsOperator,
    StageInventoryFeedOperator,
)
from amazon_bluecherry.settings import get_settings

OWNER = "wholesale-integration"


@dag(
    dag_id="stock_to_846",
    schedule=get_settings().inventory_schedule,
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args=default_args(OWNER),
    deadline=run_deadline("stock_to_846", minutes=15, owner="integration"),
    tags=["amazon", "bluecherry", "inventory", "846"],
    doc_md=__doc__,
)
def stock_to_846():
    planned = PlanInventoryFeedOperator(task_id="plan_feed")
    checked = CheckInventoryFeedOperator(task_id="check_feed", feed_ids=planned.output)
    staged = StageInventoryFeedOperator(task_id="stage_846", feed_ids=checked.output)
    sent = MailboxUploadOperator(task_id="send_846", outbound_document_ids=staged.output)
    # Records whatever went out, also when a later step of this run failed.
    recorded = RecordInventoryFeedsOperator(task_id="record_feed", trigger_rule="all_done")
    sent >> recorded
    alert_owners(recorded)


stock_to_846()
