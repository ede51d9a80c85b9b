"""remit_to_journals: Amazon 820 remittances -> a BlueCherry cash receipt and typed GL journals.

classify every line (include/mappings/remit_codes.csv; unknown -> suspense + exception)
-> data-quality gate (its own task) -> post: one cash receipt applied to the paid
invoices, one balanced journal per deduction type, each exactly once -> reconcile the
month against BlueCherry's ledger and AR (HTML with charts, CSV; a scheduled run that
crosses into a new month writes the previous month's final report); and for every
shortage claim and chargeback, a dispute packet (PDF + the raw documents, one folder per
claim) whose 30-day window is watched (alerts at day 20 and 25).

**Where the 820s come from: no pickup of its own.** Amazon's download folder has exactly
one reader, po_to_so's `pick_up_files`; its `validate_and_record` stores the raw bytes,
validates every set, answers every group with a 997 and records each accepted 820 as a
`transactions` row (`doc_type='820'`, `status='received'`, `business_key` = TRN02). This
DAG consumes those rows. A second pickup would race the first on the same folder: Amazon
deletes nothing for us, so two DAGs listing it would both download a file, one deleting it
under the other; both would validate it and Amazon would get two 997s for one group (or a
file would be processed by a DAG that ignores its 850s). One reader, one intake, one 997;
the store hands each set to the flow that owns its type, and the status column makes the
hand-over exactly-once (received -> classified -> gated | blocked -> posting -> posted).
An 820 reaches BlueCherry at most one po_to_so interval plus one run of this DAG after it
lands; trigger this DAG by hand for sooner.

Backfill: a backfill run takes only the 820s that had arrived by the end of its interval
(the Param ``received_before`` does the same by hand), and every write carries a key
derived from the trace number, so a backfill posts nothing twice. The Params ``period`` and
``as_of`` reconcile a given month by hand.
"""

from __future__ import annotations

from airflow.sdk import dag

from amazon_bluecherry.operators.dag_defaults import (
    START_DATE,
    alert_owners,
    default_args,
    replay_params,
    run_deadline,
)
from amazon_bluecherry.operators.remittances import (
    CheckRemittancesOperator,
    ClassifyRemittancesOperator,
    DisputePacketsOperator,
    PostRemittancesOperator,
    ReconcileMonthOperator,
    WatchDisputeWindowsOperator,
    reconciliation_params,
)
from amazon_bluecherry.settings import get_settings

OWNER = "finance-integration"


@dag(
    dag_id="remit_to_journals",
    schedule=get_settings().remit_schedule,
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args=default_args(OWNER),
    params={**replay_params(), **reconciliation_params()},
    deadline=run_deadline("remit_to_journals", minutes=60, owner="integration"),
    tags=["amazon", "bluecherry", "finance", "820"],
    doc_md=__doc__,
)
def remit_to_journals():
    classified = ClassifyRemittancesOperator(task_id="classify_remittances")
    checked = CheckRemittancesOperator(task_id="check_remittances", remittance_ids=classified.output)
    posted = PostRemittancesOperator(task_id="post_to_bluecherry")
    # The report is wanted most when posting went wrong: it shows what is missing.
    reconciled = ReconcileMonthOperator(task_id="reconcile_month", trigger_rule="all_done")
    packets = DisputePacketsOperator(task_id="assemble_dispute_packets")
    # Deadlines are watched whatever happened upstream: a failed run is when they need it most.
    watched = WatchDisputeWindowsOperator(task_id="watch_dispute_windows", trigger_rule="all_done")
    classified >> checked >> posted >> [reconciled, packets]
    packets >> watched
    alert_owners(reconciled, watched)


remit_to_journals()
