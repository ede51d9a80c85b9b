"""The run window of a task (``flows.replay``) read from its Airflow context."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any


def run_window(context: Any):
    """The documents this run may touch (see ``flows.replay``): the DAG's ``received_before``
    / ``received_after`` Params (Airflow has merged the run's conf into them), else the data
    interval."""
    from amazon_bluecherry.flows.replay import run_window as window_of

    context = context or {}
    run_type = getattr(context.get("dag_run"), "run_type", None)
    return window_of(context.get("params") or {}, data_interval_end=context.get("data_interval_end"),
                     now=datetime.now(UTC), run_type=getattr(run_type, "value", run_type))
