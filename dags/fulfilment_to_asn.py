"""fulfilment_to_asn: a shipment the carrier collected -> checked 856 ASN with GS1-128 labels
within 30 minutes of departure -> BlueCherry confirmed -> 810 invoice per shipment and PO.

prepare (BlueCherry shipments, Amazon's rules, labels) -> data-quality gate -> stage ->
upload -> confirm in BlueCherry -> invoices (prepare -> gate -> stage -> upload) -> watch
every ASN's window and every 997 we are owed.
"""

from __future__ import annotations

from airflow.sdk import TaskGroup, dag

from amazon_bluecherry.operators.amazon_sftp import MailboxUploadOperator
from amazon_bluecherry.operators.dag_defaults import START_DATE, alert_owners, default_args, run_deadline
from amazon_bluecherry.operators.fulfilment import (
    CheckInvoicesOperator,
    CheckShipNoticesOperator,
    ConfirmShipmentsOperator,
    MonitorAsnWindowsOperator,
    PrepareInvoicesOperator,
    PrepareShipNoticesOperator,
    StageInvoicesOperator,
    StageShipNoticesOperator,
)
from amazon_bluecherry.settings import get_settings

OWNER = "warehouse-integration"


@dag(
    dag_id="fulfilment_to_asn",
    schedule=get_settings().asn_schedule,
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args=default_args(OWNER),
    deadline=run_deadline("fulfilment_to_asn", minutes=15, owner="integration"),
    tags=["amazon", "bluecherry", "fulfilment", "856", "810"],
    doc_md=__doc__,
)
def fulfilment_to_asn():
    drafted = PrepareShipNoticesOperator(task_id="prepare_asns")
    checked = CheckShipNoticesOperator(task_id="check_asns", ids=drafted.output)
    staged = StageShipNoticesOperator(task_id="stage_asns", ids=checked.output)
    sent = MailboxUploadOperator(task_id="send_asns", outbound_document_ids=staged.output)
    confirmed = ConfirmShipmentsOperator(task_id="confirm_shipments")
    with TaskGroup(group_id="invoices") as invoices:
        drafted_810 = PrepareInvoicesOperator(task_id="prepare_810s")
        checked_810 = CheckInvoicesOperator(task_id="check_810s", ids=drafted_810.output)
        staged_810 = StageInvoicesOperator(task_id="stage_810s", ids=checked_810.output)
        MailboxUploadOperator(task_id="send_810s", outbound_document_ids=staged_810.output)
    # Runs whatever happened upstream: a failed upload is exactly when the window needs watching.
    watched = MonitorAsnWindowsOperator(task_id="watch_asn_windows", trigger_rule="all_done")
    sent >> confirmed >> invoices >> watched
    alert_owners(watched)


fulfilment_to_asn()
