"""The fulfilment_to_asn operators (operators/fulfilment.py), called with a context: ids from
upstream (``None``: everything waiting; an empty list: nothing), what each logs and returns
when BlueCherry has nothing to ship, and a bad mapping file stopping the run with an exception.
Shipments flowing through are tested by tests/dags/test_fulfilment_path.py."""

from __future__ import annotations

import pytest

from amazon_bluecherry.flows.mappings import MappingError
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
from tests.operators.conftest import logged, run_context


def test_with_nothing_shipped_each_step_returns_and_logs_nothing_to_do(parties, capsys):
    assert PrepareShipNoticesOperator(task_id="prepare_asns").execute(run_context()) == []
    assert "ASNs: 0 drafted, 0 waiting for the carrier, 0 held, 0 already sent" in logged(capsys)
    assert CheckShipNoticesOperator(task_id="check_asns", ids=[]).execute(run_context()) == []
    assert "ASN checkpoint: 0 passed, 0 blocked" in logged(capsys)
    assert StageShipNoticesOperator(task_id="stage_asns", ids=[]).execute(run_context()) == []
    assert ConfirmShipmentsOperator(task_id="confirm_shipments").execute(run_context()) == {"confirmed": 0,
                                                                                             "failed": 0}
    assert "shipments confirmed in BlueCherry: 0, refused: 0" in logged(capsys)
    assert PrepareInvoicesOperator(task_id="prepare_810s").execute(run_context()) == []
    assert "810s: 0 drafted, 0 held, 0 waiting for BlueCherry" in logged(capsys)
    assert CheckInvoicesOperator(task_id="check_810s", ids=[]).execute(run_context()) == []
    assert "810 checkpoint: 0 passed, 0 held" in logged(capsys)
    assert StageInvoicesOperator(task_id="stage_810s", ids=[]).execute(run_context()) == []
    windows = MonitorAsnWindowsOperator(task_id="watch_asn_windows").execute(run_context())
    assert windows == {"met": 0, "at_risk": 0, "missed": 0, "unacknowledged": 0}
    assert f"ASN windows: {windows}" in logged(capsys)


def test_ids_from_upstream_arrive_as_a_list_never_as_text():
    operator = CheckShipNoticesOperator(task_id="check_asns", ids=[3, 4])
    assert operator._ids() == [3, 4]
    assert CheckShipNoticesOperator(task_id="check_asns")._ids() is None, "no upstream: everything waiting"
    with pytest.raises(TypeError, match="XComArg"):
        CheckShipNoticesOperator(task_id="check_asns", ids="[3, 4]")._ids()
    assert "ids" in CheckShipNoticesOperator.template_fields


def test_a_bad_mapping_file_stops_the_asns_with_an_exception(parties, tmp_path):
    store = parties
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "items.csv").write_text("nope\n")
    with pytest.raises(MappingError):
        PrepareShipNoticesOperator(task_id="prepare_asns", mappings_dir=str(tmp_path / "bad")).execute(run_context())
    [exception] = store.list_exceptions()
    assert exception.type == "mapping_file_invalid" and exception.message.endswith("; no ASN was built")
