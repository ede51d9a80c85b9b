"""Every DAG imports cleanly, carries tags, an owner and retries, and parses cheaply; and
every flow gets the operators' treatment (operators/dag_defaults.py): an execution_timeout
on every task, a Deadline Alert, the replay Params, and the alert_owners task last."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta

import pytest

from tests.conftest import REPO_ROOT

DAG_IDS = {"po_to_so", "so_to_poa", "fulfilment_to_asn", "remit_to_journals", "stock_to_846"}
# One file per flow, named after its DAG: every DAG in the folder gets the checks below.
# DAGs that read no Amazon document have nothing to replay: the report reads the store;
# fulfilment_to_asn reads BlueCherry's shipments, and each ASN is sent once (idempotent);
# stock_to_846 reads BlueCherry's stock now (a past feed re-sent would publish old quantities).
NO_REPLAY = {"daily_quality_report", "fulfilment_to_asn", "stock_to_846"}
ALL_DAG_IDS = sorted(path.stem for path in (REPO_ROOT / "dags").glob("*.py") if not path.stem.startswith("_"))
# Imports that cost seconds or open connections; none may run while a DAG file is parsed.
HEAVY_MODULES = ["great_expectations", "pandas", "pyx12", "fastapi", "uvicorn", "asyncssh", "paramiko",
                 "amazon_bluecherry.edi.validator", "amazon_bluecherry.quality.checkpoint", "sandbox"]


def test_dags_import_without_errors(dagbag):
    assert dagbag.import_errors == {}
    assert DAG_IDS <= set(dagbag.dag_ids)


@pytest.mark.parametrize("dag_id", ALL_DAG_IDS)
def test_dag_has_tags_owner_retries_and_failure_alerts(dagbag, dag_id):
    dag = dagbag.get_dag(dag_id)
    assert dag.tags, f"{dag_id} has no tags"
    assert not dag.catchup and dag.max_active_runs == 1
    for task in dag.tasks:
        assert task.owner not in ("", "airflow"), f"{dag_id}.{task.task_id} has the default owner"
        assert task.retries >= 1, f"{dag_id}.{task.task_id} never retries"
        assert task.on_failure_callback, f"{dag_id}.{task.task_id} fails silently"
        assert task.execution_timeout is not None and task.execution_timeout <= timedelta(hours=2), (
            f"{dag_id}.{task.task_id} has no execution_timeout (use dag_defaults.default_args)")


@pytest.mark.parametrize("dag_id", ALL_DAG_IDS)
def test_every_flow_announces_its_exceptions_last(dagbag, dag_id):
    dag = dagbag.get_dag(dag_id)
    assert "alert_owners" in dag.task_ids, f"{dag_id}: end the DAG with dag_defaults.alert_owners(*leaves)"
    alert = dag.get_task("alert_owners")
    assert [task.task_id for task in dag.leaves] == ["alert_owners"], "alert_owners must come after every task"
    assert str(alert.trigger_rule) in ("all_done", "TriggerRule.ALL_DONE"), "it runs whatever happened upstream"
    assert {t.task_id for t in alert.get_flat_relatives(upstream=True)} == set(dag.task_ids) - {"alert_owners"}


@pytest.mark.parametrize("dag_id", ALL_DAG_IDS)
def test_every_flow_has_a_deadline_and_the_replay_params(dagbag, dag_id):
    from airflow.sdk.definitions.deadline import DeadlineAlert

    dag = dagbag.get_dag(dag_id)
    deadlines = dag.deadline if isinstance(dag.deadline, list) else [dag.deadline]
    assert deadlines and all(isinstance(alert, DeadlineAlert) for alert in deadlines), (
        f"{dag_id}: add deadline=dag_defaults.run_deadline(...)")
    if dag_id in NO_REPLAY:
        return
    assert {"received_before", "received_after"} <= set(dag.params), f"{dag_id}: params=dag_defaults.replay_params()"
    assert dag.params["received_before"] is None


def test_remit_to_journals_declares_its_reconciliation_params(dagbag):
    # Operators read run parameters from context["params"] only: each one is a declared Param.
    params = dagbag.get_dag("remit_to_journals").params
    assert {"period", "as_of"} <= set(params) and params["period"] is None


@pytest.mark.parametrize(("dag_id", "gate", "upstream", "downstream"), [
    ("po_to_so", "check_order_lines", "translate_purchase_orders", "create_sales_orders"),
    ("so_to_poa", "check_855s", "build_855s", "send_855s"),
    ("stock_to_846", "check_feed", "plan_feed", "stage_846"),
])
def test_each_great_expectations_gate_is_a_task_of_its_own(dagbag, dag_id, gate, upstream, downstream):
    # A data engineer sees the gate in the graph, between what it checks and what it guards.
    dag = dagbag.get_dag(dag_id)
    task = dag.get_task(gate)
    assert task.upstream_task_ids == {upstream}
    assert task.downstream_task_ids == {downstream}


def test_dag_files_parse_without_heavy_imports_or_connections():
    code = (
        "import json, sys\n"
        "from airflow.dag_processing.dagbag import DagBag\n"
        f"bag = DagBag(dag_folder={str(REPO_ROOT / 'dags')!r})\n"
        "assert not bag.import_errors, bag.import_errors\n"
        f"print(json.dumps([m for m in {HEAVY_MODULES!r} if m in sys.modules]))\n"
    )
    env = {**os.environ, "AIRFLOW__CORE__LOAD_EXAMPLES": "False"}
    # Unreachable parties: parsing must not need them.
    env.update({"AIRFLOW_CONN_BLUECHERRY_DEFAULT": '{"conn_type": "http", "host": "127.0.0.1", "port": 9}',
                "AB_DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:9/none"})
    completed = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert json.loads(completed.stdout.strip().splitlines()[-1]) == []


def test_plugins_folder_loads_no_module_of_the_package():
    # Airflow imports every .py under plugins/ by its bare file stem; .airflowignore keeps
    # our installed package out of that (../shared/reference/airflow3-notes.md).
    code = (
        "import json, sys\n"
        "from airflow import plugins_manager as pm\n"
        "errors = pm.get_import_errors()\n"
        "package = " + repr(str(REPO_ROOT / "plugins" / "amazon_bluecherry")) + "\n"
        "stray = sorted(name for name, module in list(sys.modules.items())\n"
        "               if (getattr(module, '__file__', None) or '').startswith(package)\n"
        "               and not name.startswith('amazon_bluecherry'))\n"
        "print(json.dumps({'errors': errors, 'stray': stray}))\n"
    )
    env = {**os.environ, "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO_ROOT / "plugins")}
    completed = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert json.loads(completed.stdout.strip().splitlines()[-1]) == {"errors": {}, "stray": []}


def test_so_to_poa_carries_a_deadline_alert_with_an_importable_callback(dagbag):
    import importlib
    import inspect

    from airflow.sdk.definitions.deadline import DeadlineAlert

    dag = dagbag.get_dag("so_to_poa")
    deadlines = dag.deadline if isinstance(dag.deadline, list) else [dag.deadline]
    (alert,) = deadlines
    assert isinstance(alert, DeadlineAlert)
    assert alert.interval == timedelta(minutes=30)
    assert "QUEUED_AT" in str(alert.reference).upper() or "queued" in type(alert.reference).__name__.lower()
    module_name, _, name = alert.callback.path.rpartition(".")
    callback = getattr(importlib.import_module(module_name), name)
    assert inspect.iscoroutinefunction(callback)
    assert alert.callback.kwargs["owner"] == "integration"
