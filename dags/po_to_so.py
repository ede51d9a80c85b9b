"""po_to_so: Amazon 850 purchase orders -> BlueCherry sales orders, a 997 for every set.

pick up from Amazon's SFTP -> store raw bytes -> validate -> 997 back -> translate
(items, units, prices, ship-to) -> data-quality gate (Great Expectations, once per batch)
-> create or update sales orders.
"""

from __future__ import annotations

from airflow.sdk import dag

from amazon_bluecherry.operators.amazon_sftp import MailboxPickupOperator, MailboxUploadOperator
from amazon_bluecherry.operators.dag_defaults import (
    START_DATE,
    alert_owners,
    default_args,
    replay_params,
    run_deadline,
)
from amazon_bluecherry.operators.orders import (
    CheckOrderLinesOperator,
    LoadSalesOrdersOperator,
    ProcessInboundOperator,
    TranslatePurchaseOrdersOperator,
)
from amazon_bluecherry.settings import get_settings

OWNER = "wholesale-integration"

@dag(
    dag_id="po_to_so",
    schedule=get_settings().po_schedule,
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args=default_args(OWNER),
    params=replay_params(),
    deadline=run_deadline("po_to_so", minutes=30, owner="integration"),
    tags=["amazon", "bluecherry", "orders", "850", "997"],
    doc_md=__doc__,
)
def po_to_so():
    picked_up = MailboxPickupOperator(task_id="pick_up_files")
    stored = ProcessInboundOperator(task_id="validate_and_record", raw_document_ids=picked_up.output)
    send_997s = MailboxUploadOperator(task_id="send_997s", outbound_document_ids=stored.output["ack_outbound_ids"])
    translated = TranslatePurchaseOrdersOperator(task_id="translate_purchase_orders")
    checked = CheckOrderLinesOperator(task_id="check_order_lines")
    loaded = LoadSalesOrdersOperator(task_id="create_sales_orders")

    stored >> translated >> checked >> loaded
    alert_owners(send_997s, loaded)


po_to_so()
