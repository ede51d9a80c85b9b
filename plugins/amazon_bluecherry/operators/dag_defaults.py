"""What every DAG of the integration shares, so each flow gets it by using these helpers:

- ``default_args(owner)``: owner, retries, an ``execution_timeout`` on every task, and the
  failure alert (through the one configured notifier);
- ``replay_params()``: the ``received_before`` / ``received_after`` Params, so the trigger
  form offers a replay of a time range (read-only toward Amazon's mailbox, ``flows.replay``);
- ``run_deadline(...)``: a DAG-run Deadline Alert;
- ``alert_owners(*leaves)``: the last task, which tells each owner team about the
  exceptions the run opened (one message per team, each exception once).

tests/dags/test_dag_integrity.py checks that every DAG in dags/ uses all four.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from amazon_bluecherry.operators.notifier import IntegrationNotifier

# Fixed, in the past: backfills may reach back to it; catchup is off so a deployment
# never starts a flood of runs by itself.
START_DATE = datetime(2026, 1, 1, tzinfo=UTC)


def default_args(owner: str) -> dict:
    from amazon_bluecherry.settings import get_settings

    settings = get_settings()
    return {
        "owner": owner,
        "retries": 3,
        "retry_delay": timedelta(seconds=settings.task_retry_delay_seconds),
        "retry_exponential_backoff": True,
        "max_retry_delay": timedelta(minutes=15),
        # A hung SFTP or BlueCherry call fails the task (and retries) instead of blocking the DAG.
        "execution_timeout": timedelta(minutes=settings.task_timeout_minutes),
        "on_failure_callback": IntegrationNotifier(
            kind="task_failed", owner="integration",
            message="{{ ti.dag_id }}.{{ ti.task_id }} failed (try {{ ti.try_number }}) in run {{ run_id }}: "
                    "{{ exception }}",
        ),
    }


def replay_params() -> dict:
    """The Params of a run that replays the past (empty: a normal run)."""
    from airflow.sdk import Param

    return {
        "received_before": Param(
            None, type=["null", "string"], format="date-time", title="Received before",
            description="Replay: take only documents that arrived before this instant (UTC). The run does not "
                        "pick up from Amazon's mailbox and answers (997, 855) only those documents.",
        ),
        "received_after": Param(
            None, type=["null", "string"], format="date-time", title="Received after",
            description="With 'Received before': replay one time range in one run.",
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


def alert_owners(*leaves):
    """The run's last task: one alert per owner team for the exceptions opened and not yet
    announced (batched, each exception once). It runs whatever happened upstream."""
    from amazon_bluecherry.operators.alerting import AlertOwnersOperator

    task = AlertOwnersOperator(task_id="alert_owners", trigger_rule="all_done", retries=2)
    for leaf in leaves:
        leaf >> task
    return task
