"""The run window of a task (``flows.replay``) read from its Airflow context."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any


def run_window(context: Any):
    """The documents this run may touch (see ``flows.replay``): the DAG's ``received_before``
    / ``received_after`` Params (a run's conf overrides them), else the data interval."""
    from amazon_bluecherry.flows.replay import run_window as window_of

    context = context or {}
    params = dict(context.get("params") or {})
    conf = getattr(context.get("dag_run"), "conf", None) or {}
    for name in ("received_before", "received_after"):  # DAGs without the Params still honour conf
        if params.get(name) in (None, "") and conf.get(name):
            params[name] = conf[name]
    run_type = getattr(context.get("dag_run"), "run_type", None)
    return window_of(params, data_interval_end=context.get("data_interval_end"), now=datetime.now(UTC),
                     run_type=getattr(run_type, "value", run_type))
