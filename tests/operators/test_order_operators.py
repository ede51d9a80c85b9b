"""The order-path operators (operators/orders.py), called with a context: ids in and out,
XCom (``ack_outbound_ids``, ``quality_gate``), the cutoff of a replay or backfill, what each
logs and returns; and the translate task with a mapping file Excel saved badly (the run fails
with a clear message and ``mapping_file_invalid`` is always opened)."""

from __future__ import annotations

import codecs
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from amazon_bluecherry.flows.mappings import MappingError
from amazon_bluecherry.operators.orders import (
    BuildAcknowledgementsOperator,
    CheckAcknowledgementsOperator,
    CheckOrderLinesOperator,
    LoadSalesOrdersOperator,
    MonitorWindowsOperator,
    ProcessInboundOperator,
    TranslatePurchaseOrdersOperator,
)
from amazon_bluecherry.store import Store
from tests.flows.conftest import ITEMS, SHIP_TO, make_850
from tests.operators.conftest import logged, run_context


@pytest.fixture
def mappings_dir(tmp_path):
    folder = tmp_path / "mappings"
    folder.mkdir()
    (folder / "ship_to.csv").write_text(SHIP_TO)
    return folder


@pytest.mark.parametrize("items", [
    ITEMS.replace("\n", "\r\n").encode("utf-16-le"),                    # UTF-16 that lost its byte-order mark
    ITEMS.replace("TEE100", "T\u00c9E100").encode("cp1252") + b"\x81",  # a byte Windows-1252 does not define
    ITEMS.encode("utf-8") + b"8.4E+11,UP,,TEE100,BLK,XL,12,6.50,USD\n",  # a UPC in scientific notation
    codecs.BOM_UTF16_LE + b"\x00\xd8",                                   # broken UTF-16 after its mark
])
def test_a_bad_mapping_file_always_opens_mapping_file_invalid(mappings_dir, sqlite_url, items):
    store = Store(sqlite_url)
    store.migrate()
    (mappings_dir / "items.csv").write_bytes(items)
    operator = TranslatePurchaseOrdersOperator(task_id="translate", mappings_dir=str(mappings_dir),
                                               database_url=sqlite_url)
    with pytest.raises(MappingError) as error:
        operator.execute({"dag_run": SimpleNamespace(run_type="manual", conf={}), "run_id": "test"})
    assert str(error.value).startswith("items.csv line ")
    [exception] = store.list_exceptions()
    assert (exception.type, exception.owner, exception.severity) == ("mapping_file_invalid", "integration",
                                                                     "critical")
    assert str(error.value) in exception.message
    store.dispose()


# --- the order path, operator by operator (po_to_so, then so_to_poa) --------------------------


def order_850(po_number: str, control: str) -> bytes:
    """An 850 for two items of the emulator's catalogue, shipped to a mapped Amazon warehouse."""
    from datetime import timedelta

    from tests.dags.conftest import catalogue_items, mapped_ship_to

    window = tuple((datetime.now(UTC) + timedelta(days=days)).strftime("%Y%m%d") for days in (5, 12))
    lines = [f"PO1*{number}*6*EA*{item['unit_cost']}*PE*UP*{item['product_id']}"
             for number, item in enumerate(catalogue_items(2), start=1)]
    qualifier, code = mapped_ship_to()
    return make_850(po_number, lines=lines, ship_to=f"N1*ST**{qualifier}*{code}", window=window, control=control)


def save_850(store, po_number: str, control: str, received_at: datetime | None = None) -> int:
    raw_id, _ = store.save_raw_document(order_850(po_number, control), partner="AMAZON", transport="sftp",
                                        remote_name=f"AMZN850.{control}", received_at=received_at)
    return raw_id


def pending_997s(store) -> list[int]:
    from sqlalchemy import select

    from amazon_bluecherry.store.models import OutboundDocument

    with store.session() as db:
        return sorted(db.scalars(select(OutboundDocument.id).where(OutboundDocument.doc_type == "997",
                                                                   OutboundDocument.status == "pending")))


def test_the_order_path_passes_ids_and_logs_what_each_step_did(parties, capsys):
    store = parties
    raw_id = save_850(store, "OPS0001", "000000301")

    context = run_context()
    purchase_orders = ProcessInboundOperator(task_id="validate_and_record", raw_document_ids=[raw_id]).execute(
        context)
    assert len(purchase_orders) == 1
    assert context["ti"].xcom["ack_outbound_ids"] == pending_997s(store) and len(pending_997s(store)) == 1
    assert f"raw document {raw_id}: 1 set(s) accepted, 0 rejected" in logged(capsys)

    translated = TranslatePurchaseOrdersOperator(task_id="translate_purchase_orders").execute(run_context())
    assert translated == purchase_orders
    assert "translated 1, held 0, all lines rejected 0, superseded 0, exceptions 0" in logged(capsys)

    context = run_context()
    passed = CheckOrderLinesOperator(task_id="check_order_lines").execute(context)
    assert passed == purchase_orders
    gate = context["ti"].xcom["quality_gate"]
    assert gate["checked"] and gate["rows"] == 2 and gate["failed_expectations"] == 0
    assert f"GX gate {gate['suite']}: 2 rows, {gate['expectations']} expectations, nothing blocked" in logged(capsys)

    loaded = LoadSalesOrdersOperator(task_id="create_sales_orders", transaction_ids=passed).execute(run_context())
    assert loaded == {"loaded": 1, "failed": 0}
    assert "sales orders: 1 loaded, 0 refused" in logged(capsys)

    built = BuildAcknowledgementsOperator(task_id="build_855s").execute(run_context())
    assert built == {"drafted": 1, "unchanged": 0, "waiting": 0}
    context = run_context()
    staged = CheckAcknowledgementsOperator(task_id="check_855s").execute(context)
    assert len(staged) == 1 and context["ti"].xcom["quality_gate"]["checked"]
    assert "855 gate: 1 staged, 0 blocked" in logged(capsys)
    windows = MonitorWindowsOperator(task_id="watch_855_windows").execute(run_context())
    assert windows == {"met": 0, "at_risk": 0, "missed": 0, "unacknowledged": 0}
    assert f"855 windows: {windows}" in logged(capsys)


def test_load_sales_orders_takes_every_translated_po_when_given_no_ids(parties):
    store = parties
    first, second = save_850(store, "OPS0002", "000000302"), save_850(store, "OPS0003", "000000303")
    ProcessInboundOperator(task_id="validate_and_record", raw_document_ids=[first, second]).execute(run_context())
    TranslatePurchaseOrdersOperator(task_id="translate_purchase_orders").execute(run_context())
    CheckOrderLinesOperator(task_id="check_order_lines").execute(run_context())
    assert LoadSalesOrdersOperator(task_id="load", transaction_ids=[]).execute(run_context()) == {
        "loaded": 0, "failed": 0}, "an empty list from upstream loads nothing"
    assert LoadSalesOrdersOperator(task_id="load").execute(run_context()) == {"loaded": 2, "failed": 0}


CUTOFF = datetime(2026, 11, 20, tzinfo=UTC)


@pytest.mark.parametrize("context", [
    pytest.param(lambda: run_context("backfill", interval_start=CUTOFF - timedelta(days=1), interval_end=CUTOFF),
                 id="backfill-interval"),
    pytest.param(lambda: run_context("manual", params={"received_before": CUTOFF.isoformat()}), id="param-or-conf"),
])
def test_a_replay_takes_and_answers_only_what_arrived_before_its_cutoff(parties, capsys, context):
    store = parties
    early = save_850(store, "OPS0004", "000000304", received_at=CUTOFF - timedelta(hours=3))
    late = save_850(store, "OPS0005", "000000305", received_at=CUTOFF + timedelta(hours=3))

    replay = context()
    # The upstream pickup's ids are ignored in a replay: the window decides.
    purchase_orders = ProcessInboundOperator(task_id="validate_and_record",
                                             raw_document_ids=[early, late]).execute(replay)
    assert len(purchase_orders) == 1
    assert f"raw document {early}: 1 set(s) accepted" in logged(capsys)
    assert len(replay["ti"].xcom["ack_outbound_ids"]) == 1, "only the early file's 997"
    assert len(pending_997s(store)) == 1, "the late file was not even validated"

    assert TranslatePurchaseOrdersOperator(task_id="translate").execute(context()) == purchase_orders
    current = run_context()  # a current run takes everything pending
    assert len(ProcessInboundOperator(task_id="validate_and_record").execute(current)) == 1
    assert current["ti"].xcom["ack_outbound_ids"] == pending_997s(store) and len(pending_997s(store)) == 2
