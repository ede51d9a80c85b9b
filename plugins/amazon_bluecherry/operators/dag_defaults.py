"""What every DAG of the integration shares: owner, retries, failure alerts, start date."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from amazon_bluecherry.operators.notifier import IntegrationNotifier

# Fixed, in the past: backfills may reach back to it; catchup is off so a deployment
# never starts a flood of runs by itself.
START_DATE = datetime(2026, 1, 1, tzinfo=UTC)


def default_args(owner: str) -> dict:
    return {
        "owner": owner,
        "retries": 3,
        "retry_delay": timedelta(minutes=1),
        "retry_exponential_backoff": True,
        "max_retry_delay": timedelta(minutes=15),
        "on_failure_callback": IntegrationNotifier(
            kind="task_failed", owner=owner,
            message="{{ ti.dag_id }}.{{ ti.task_id }} failed (try {{ ti.try_number }}): {{ exception }}",
        ),
    }


def run_deadline(dag_id: str, minutes: int, owner: str):
    """A DAG-run Deadline Alert: the run itself took too long (not a business window: those
    are per document, in the store, watched by the monitor tasks)."""
    from airflow.sdk import AsyncCallback, DeadlineAlert, DeadlineReference

    return DeadlineAlert(
        # QUEUED_AT, not LOGICAL_DATE: manual runs have no logical date and would skip the alert.
        reference=DeadlineReference.DAGRUN_QUEUED_AT,
        interval=timedelta(minutes=minutes),
        callback=AsyncCallback(
            "amazon_bluecherry.alerts.deadline_missed",
            kwargs={"kind": "dag_run_deadline_missed", "owner": owner, "dag_id": dag_id,
                    "message": f"{dag_id} has been running for more than {minutes} minutes",
                    "runbook": "docs/runbooks/dag_run_deadline_missed.md"},
        ),
    )
