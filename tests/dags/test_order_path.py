"""po_to_so and so_to_poa run for real (dag.test) against the loopback SFTP mailbox and the
running BlueCherry emulator: 850 files in -> sales orders -> 855s out, replay-safe."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from amazon_bluecherry.edi.ack import parse_997
from amazon_bluecherry.edi.parse import parse_file
from amazon_bluecherry.store.models import OutboundDocument, RawDocument, Transaction
from tests.dags.conftest import catalogue_items, mapped_ship_to, run_dag, task_states
from tests.flows.conftest import make_850

pytestmark = pytest.mark.slow


def order_file(po_number: str, items: list[dict], *, control: str, unknown_upc: str | None = None) -> bytes:
    window = ((datetime.now(UTC) + timedelta(days=5)).strftime("%Y%m%d"),
              (datetime.now(UTC) + timedelta(days=12)).strftime("%Y%m%d"))
    lines = []
    for number, item in enumerate(items, start=1):
        if number % 2:  # cases, with the item master's pack
            lines += [f"PO1*{number}*2*CA*{item['unit_cost']}*PE*UP*{item['product_id']}", f"PO4*{item['case_pack_qty']}"]
        else:
            lines.append(f"PO1*{number}*5*EA*{item['unit_cost']}*PE*UP*{item['product_id']}")
    if unknown_upc:
        lines.append(f"PO1*{len(items) + 1}*3*EA*9.99*PE*UP*{unknown_upc}")
    qualifier, code = mapped_ship_to()
    return make_850(po_number, lines=lines, ship_to=f"N1*ST**{qualifier}*{code}", window=window, control=control)


def counts(store) -> dict:
    with store.session() as db:
        return {
            "raw": db.scalar(select(func.count()).select_from(RawDocument)),
            "transactions": db.scalar(select(func.count()).select_from(Transaction)),
            "outbound": db.scalar(select(func.count()).select_from(OutboundDocument)),
        }


def test_orders_flow_from_850_files_to_855s(dagbag, parties):
    mailbox, emulator, store = parties
    items = catalogue_items(3)
    mailbox.drop("AMZN850.000000101", order_file("E2EPO1", items, control="000000101", unknown_upc="999999999993"))
    broken = order_file("E2EPO2", items[:1], control="000000102").replace(b"SE*", b"SE*9", 1)
    mailbox.drop("AMZN850.000000102", broken)

    po_run = run_dag(dagbag, "po_to_so")
    assert set(task_states(po_run).values()) == {"success"}, task_states(po_run)
    assert mailbox.remote_files("download") == [], "files are deleted after pickup"

    # Every set got a 997: accepted for the good file, rejected (SE count, AK5 code 4) for the broken one.
    acks = [ack for name, content in mailbox.received().items() if "997" in name for ack in parse_997(content)]
    assert sorted((ack.group_control_number, ack.status) for ack in acks) == [("101", "A"), ("102", "R")]
    assert [s.codes for ack in acks if ack.status == "R" for s in ack.sets] == [["4"]]

    # The good PO is a sales order in BlueCherry; the unknown UPC is an exception for wholesale.
    (order,) = emulator.backend.list_sales_orders(customer_pos=["E2EPO1"])
    assert [line.line_number for line in order.lines] == [1, 2, 3]
    assert order.lines[0].qty_ordered == 2 * int(items[0]["case_pack_qty"]) and order.lines[1].qty_ordered == 5
    exceptions = {(e.type, e.owner, e.business_key) for e in store.list_exceptions()}
    assert ("unknown_item", "wholesale", "E2EPO1") in exceptions
    assert ("edi_rejected", "integration", "E2EPO2") in exceptions

    poa_run = run_dag(dagbag, "so_to_poa")
    assert set(task_states(poa_run).values()) == {"success"}, task_states(poa_run)
    (name_855,) = [name for name in mailbox.received() if "855" in name]
    (acknowledgement,) = parse_file(mailbox.received()[name_855])
    assert acknowledgement.purchase_order_number == "E2EPO1"
    by_line = {line.line_number: line for line in acknowledgement.lines}
    assert set(by_line) == {"1", "2", "3", "4"}, "every PO line acknowledged"
    assert [str(a.status) for a in by_line["4"].acknowledgements] == ["IR"]
    for number, so_line in zip(("1", "2", "3"), order.lines, strict=True):
        line = by_line[number]
        assert sum(a.quantity for a in line.acknowledgements) == line.quantity
        assert line.unit_price is not None and line.product_ids[0].value == items[int(number) - 1]["product_id"]
        accepted = sum(a.quantity for a in line.acknowledgements if str(a.status) == "IA")
        pack = int(items[int(number) - 1]["case_pack_qty"]) if line.unit == "CA" else 1
        assert accepted == (so_line.qty_allocated + so_line.qty_shipped) // pack
    assert {t.status for t in transactions_of(store, "855")} == {"sent"}

    # The data path from the 855 back to the 850's raw bytes.
    with store.session() as db:
        sent_855 = db.scalar(select(Transaction.id).where(Transaction.doc_type == "855"))
    path = store.data_path(sent_855)
    assert {row["doc_type"] for row in path} == {"850", "sales_order", "855"}

    # Replaying both DAGs changes nothing: no new documents, orders or 855s.
    before, revision = counts(store), order.revision
    for dag_id in ("po_to_so", "so_to_poa"):
        assert set(task_states(run_dag(dagbag, dag_id)).values()) == {"success"}
    assert counts(store) == before
    (again,) = emulator.backend.list_sales_orders(customer_pos=["E2EPO1"])
    assert again.revision == revision
    assert len([name for name in mailbox.received() if "855" in name]) == 1


def transactions_of(store, doc_type: str) -> list[Transaction]:
    with store.session() as db:
        return list(db.scalars(select(Transaction).where(Transaction.doc_type == doc_type)))


def test_resent_po_updates_the_order_and_an_identical_resend_changes_nothing(dagbag, parties):
    mailbox, emulator, store = parties
    items = catalogue_items(2)
    mailbox.drop("AMZN850.000000301", order_file("RESEND1", items, control="000000301"))
    for dag_id in ("po_to_so", "so_to_poa"):
        run_dag(dagbag, dag_id)
    (first,) = emulator.backend.list_sales_orders(customer_pos=["RESEND1"])

    # Amazon changes the PO by re-sending it: line 2 goes from 5 to 7 eaches.
    changed = order_file("RESEND1", items, control="000000302").replace(b"PO1*2*5*EA", b"PO1*2*7*EA")
    assert changed.count(b"PO1*2*7*EA") == 1
    mailbox.drop("AMZN850.000000302", changed)
    for dag_id in ("po_to_so", "so_to_poa"):
        run_dag(dagbag, dag_id)
    (updated,) = emulator.backend.list_sales_orders(customer_pos=["RESEND1"])
    assert updated.order_number == first.order_number and updated.revision == first.revision + 1
    assert updated.lines[1].qty_ordered == 7
    statuses = [t.status for t in transactions_of(store, "850")]
    assert statuses == ["superseded", "acknowledged"]
    assert len([name for name in mailbox.received() if "855" in name]) == 2, "the change is acknowledged"

    # The same content again (a new interchange number): nothing changes, the last 855 stands.
    mailbox.drop("AMZN850.000000303", order_file("RESEND1", items, control="000000303").replace(
        b"PO1*2*5*EA", b"PO1*2*7*EA"))
    for dag_id in ("po_to_so", "so_to_poa"):
        run_dag(dagbag, dag_id)
    (again,) = emulator.backend.list_sales_orders(customer_pos=["RESEND1"])
    assert again.revision == updated.revision
    assert len([name for name in mailbox.received() if "855" in name]) == 2
    assert [t.status for t in transactions_of(store, "850")] == ["superseded", "superseded", "acknowledged"]
    assert not store.list_exceptions(type="poa_window_missed")
    newest = transactions_of(store, "850")[-1]
    assert "855" in {row["doc_type"] for row in store.data_path(newest.id)}


def test_simulated_amazon_accepts_our_997s_and_855s(dagbag, parties, tmp_path):
    from amazon_bluecherry.settings import REPO_ROOT
    from sandbox.amazon.catalogue import ItemCatalogue
    from sandbox.amazon.clock import WallClock
    from sandbox.amazon.partner import AmazonSimulator

    mailbox, emulator, store = parties
    amazon = AmazonSimulator(tmp_path / "amazon", mailbox, clock=WallClock(), seed=1,
                             catalogue=ItemCatalogue.from_mappings(REPO_ROOT / "include" / "mappings"))
    sent = amazon.send_purchase_orders(10, defects_rate=0.3, seed=1, defect_kinds=["unknown_upc", "wrong_case_pack"])
    defects = {defect.kind: order.purchase_order for order in sent for defect in order.defects}
    assert set(defects) == {"unknown_upc", "wrong_case_pack"}

    for dag_id in ("po_to_so", "so_to_poa"):
        assert set(task_states(run_dag(dagbag, dag_id)).values()) == {"success"}
    review = amazon.process_uploads()
    assert review.rejected_sets == [] and review.findings == [], [f.detail for f in review.findings]
    assert review.documents["855"] == len([t for t in transactions_of(store, "850") if t.status == "acknowledged"])

    exception_types = {(e.type, e.business_key) for e in store.list_exceptions()}
    assert ("unknown_item", defects["unknown_upc"]) in exception_types
    assert ("case_pack_mismatch", defects["wrong_case_pack"]) in exception_types

    # Amazon's 997s for our 855s come back through the same mailbox and close the loop.
    run_dag(dagbag, "po_to_so")
    with store.session() as db:
        statuses = {o.status for o in db.scalars(select(OutboundDocument).where(OutboundDocument.doc_type == "855"))}
    assert statuses == {"accepted"}

    # Amazon cancels an item of two of those POs (re-sent with the line at 0): Amazon's rules
    # accept what we answer, and nobody gets an exception for it.
    exceptions_before = len(store.list_exceptions())
    cancels = amazon.send_purchase_orders(2, defects_rate=1, seed=2, defect_kinds=["item_cancel"])
    assert {defect.kind for order in cancels for defect in order.defects} == {"item_cancel"}
    for dag_id in ("po_to_so", "so_to_poa"):
        assert set(task_states(run_dag(dagbag, dag_id)).values()) == {"success"}
    review = amazon.process_uploads()
    assert review.rejected_sets == [] and review.findings == [], [f.detail for f in review.findings]
    assert review.documents["855"] >= 1
    assert len(store.list_exceptions()) == exceptions_before


def test_a_byte_identical_resend_gets_a_new_997_and_changes_nothing_else(dagbag, parties):
    # Amazon re-sends a file when it never got our 997 for it: the very same bytes.
    mailbox, emulator, store = parties
    items = catalogue_items(2)
    content = order_file("AGAIN1", items, control="000000401")
    mailbox.drop("AMZN850.000000401", content)
    run_dag(dagbag, "po_to_so")
    before = {"850": len(transactions_of(store, "850")), "orders": emulator.backend.count_sales_orders("AGAIN1")}

    mailbox.drop("AMZN850.000000401", content)
    assert set(task_states(run_dag(dagbag, "po_to_so")).values()) == {"success"}

    acks = [(name, ack) for name, data in mailbox.received().items() if "997" in name for ack in parse_997(data)]
    assert [(ack.group_control_number, ack.status) for _, ack in acks] == [("401", "A"), ("401", "A")]
    assert len({name for name, _ in acks}) == 2, "a new file with new control numbers"
    assert {"850": len(transactions_of(store, "850")),
            "orders": emulator.backend.count_sales_orders("AGAIN1")} == before == {"850": 1, "orders": 1}
    with store.session() as db:
        assert db.scalar(select(func.count()).select_from(RawDocument)) == 1 + len(acks)  # one inbound document
    assert store.list_exceptions(type="duplicate_interchange") == []


def test_an_item_cancel_cancels_the_sales_order_line_and_the_855_says_so(dagbag, parties):
    # Amazon's "item cancel": the PO re-sent with one line at quantity 0 (PO102 = 0).
    mailbox, emulator, store = parties
    items = catalogue_items(3)
    mailbox.drop("AMZN850.000000501", order_file("ITEMCXL1", items, control="000000501"))
    for dag_id in ("po_to_so", "so_to_poa"):
        run_dag(dagbag, dag_id)
    (first,) = emulator.backend.list_sales_orders(customer_pos=["ITEMCXL1"])
    exceptions_before = sorted(e.id for e in store.list_exceptions())
    (first_855,) = [parse_file(data)[0] for name, data in mailbox.received().items() if "855" in name]

    cancel = order_file("ITEMCXL1", items, control="000000502").replace(b"PO1*2*5*EA", b"PO1*2*0*EA")
    assert cancel.count(b"PO1*2*0*EA") == 1
    mailbox.drop("AMZN850.000000502", cancel)
    for dag_id in ("po_to_so", "so_to_poa"):
        assert set(task_states(run_dag(dagbag, dag_id)).values()) == {"success"}

    (after,) = emulator.backend.list_sales_orders(customer_pos=["ITEMCXL1"])
    lines = {line.line_number: line for line in after.lines}
    assert after.order_number == first.order_number and after.revision == first.revision + 1
    assert (lines[2].qty_cancelled, lines[2].cancel_reason, lines[2].qty_allocated, lines[2].qty_backordered) == (
        5, "customer_cancelled", 0, 0)
    before = {line.line_number: line for line in first.lines}
    for number in (1, 3):
        assert lines[number].model_dump(exclude={"backorder_date"}) == before[number].model_dump(
            exclude={"backorder_date"}), "the other lines are untouched"
    assert sorted(e.id for e in store.list_exceptions()) == exceptions_before, "nothing for a person"

    names = sorted(name for name in mailbox.received() if "855" in name)
    assert len(names) == 2, "the cancel is acknowledged"
    (second_855,) = [ack for ack in parse_file(mailbox.received()[names[-1]])]
    by_line = {line.line_number: line for line in second_855.lines}
    assert set(by_line) == {"1", "2", "3"}, "every line, the cancelled one too"
    assert by_line["2"].quantity == 0
    assert [(str(a.status), a.quantity) for a in by_line["2"].acknowledgements] == [("IR", 0)]
    first_lines = {line.line_number: line for line in first_855.lines}
    for number in ("1", "3"):
        assert by_line[number] == first_lines[number]
    assert [t.status for t in transactions_of(store, "850")] == ["superseded", "acknowledged"]
