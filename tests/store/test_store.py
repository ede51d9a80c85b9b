"""Integration store behaviour on SQLite and PostgreSQL."""

from __future__ import annotations

import multiprocessing
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DatabaseError

from amazon_bluecherry.store import SequenceExhausted, Store, StoreDuplicates, StoreError
from amazon_bluecherry.store.migrate import current_revision, downgrade
from amazon_bluecherry.store.models import ControlNumberSequence, RawDocument


def _head_revision(store) -> str:
    from alembic.script import ScriptDirectory

    from amazon_bluecherry.store.migrate import alembic_config

    heads = ScriptDirectory.from_config(alembic_config(store)).get_heads()
    assert len(heads) == 1, f"the migration chain must have one head, has {heads}"
    return heads[0]


def test_migrations_reach_head_and_go_back(store):
    head = _head_revision(store)
    assert int(head) >= 2
    assert current_revision(store) == head
    downgrade(store, "base")
    assert current_revision(store) is None
    store.migrate()
    assert current_revision(store) == head


def test_migrations_create_exactly_the_tables_of_the_models(store):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from amazon_bluecherry.store.models import Base

    with store.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    # Column types are compared loosely by Alembic; tables, columns, keys and indexes are not.
    assert [d for d in differences if d[0] not in ("modify_type",)] == []


def test_raw_document_is_kept_once_per_content(store):
    first_id, created = store.save_raw_document(b"ISA*00*...~", partner="AMAZON", transport="sftp",
                                                remote_name="VEND850.1")
    again_id, created_again = store.save_raw_document(b"ISA*00*...~", partner="AMAZON", transport="sftp",
                                                      remote_name="VEND850.1")
    other_id, _ = store.save_raw_document(b"ISA*01*...~", partner="AMAZON", transport="sftp")
    assert created and not created_again
    assert first_id == again_id != other_id
    document = store.get_raw_document(first_id)
    assert document.content == b"ISA*00*...~" and document.size == 11
    assert [event.kind for event in store.events(entity_type="raw_document", entity_id=first_id)] == [
        "raw_document.stored"
    ]


def test_control_numbers_are_sequential_per_partner_and_kind(store):
    assert [store.next_control_number("AMAZON", "ISA") for _ in range(3)] == [1, 2, 3]
    assert store.next_control_number("AMAZON", "GS") == 1
    assert store.next_control_number("OTHER", "ISA") == 1


def test_rolled_back_control_number_is_given_back(store):
    with pytest.raises(RuntimeError), store.session() as session:
        assert store.next_control_number("AMAZON", "ISA", session=session) == 1
        raise RuntimeError("sending failed before commit")
    assert store.next_control_number("AMAZON", "ISA") == 1


def test_exhausted_sequence_is_refused_not_wrapped(store):
    store.next_control_number("AMAZON", "ST")
    with store.session() as session:
        session.get(ControlNumberSequence, ("AMAZON", "ST")).max_value = 2
    assert store.next_control_number("AMAZON", "ST") == 2
    with pytest.raises(SequenceExhausted):
        store.next_control_number("AMAZON", "ST")


def _allocate(url: str, count: int, queue) -> None:
    worker_store = Store(url)
    queue.put([worker_store.next_control_number("AMAZON", "ISA") for _ in range(count)])
    worker_store.dispose()


@pytest.mark.parametrize("workers,per_worker", [(6, 40)])
def test_concurrent_processes_never_share_a_control_number(store, workers, per_worker):
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    processes = [context.Process(target=_allocate, args=(store.url, per_worker, queue)) for _ in range(workers)]
    for process in processes:
        process.start()
    allocated = [number for _ in processes for number in queue.get(timeout=120)]
    for process in processes:
        process.join(timeout=60)
        assert process.exitcode == 0
    # Gap-free and never reused: exactly 1..N, each once.
    assert sorted(allocated) == list(range(1, workers * per_worker + 1))


def test_idempotency_key_is_claimed_once(store):
    assert store.claim_idempotency_key("po_to_so:L8266355:v1", scope="po_to_so", result={"so": "SO1"})
    assert not store.claim_idempotency_key("po_to_so:L8266355:v1", scope="po_to_so")
    assert store.idempotency_result("po_to_so:L8266355:v1") == {"so": "SO1"}
    assert store.idempotency_result("unknown") is None


def test_exception_has_owner_runbook_and_is_deduplicated(store):
    raw_id, _ = store.save_raw_document(b"bad", partner="AMAZON", transport="sftp")
    first = store.open_exception("unknown_item", owner="wholesale", message="UPC 0288 not in items.csv",
                                 dedupe_key="unknown_item:L1:1", business_key="L1", raw_document_id=raw_id)
    second = store.open_exception("unknown_item", owner="wholesale", message="again",
                                  dedupe_key="unknown_item:L1:1")
    assert first == second
    (record,) = store.list_exceptions(status="open", owner="wholesale")
    assert record.runbook == "docs/runbooks/unknown_item.md" and record.raw_document_id == raw_id
    store.update_exception(first, status="acknowledged")
    store.update_exception(first, status="resolved", note="item added to items.csv")
    (record,) = store.list_exceptions(type="unknown_item")
    assert record.status == "resolved" and record.resolution_note == "item added to items.csv"
    assert record.resolved_at is not None
    kinds = [event.kind for event in store.events(entity_type="exception", entity_id=first)]
    assert kinds == ["exception.opened", "exception.acknowledged", "exception.resolved"]


def test_exception_owner_and_status_are_checked(store):
    with pytest.raises(StoreError, match="owner"):
        store.open_exception("x", owner="marketing", message="m")
    exception_id = store.open_exception("x", owner="finance", message="m")
    with pytest.raises(StoreError, match="status"):
        store.update_exception(exception_id, status="closed")


def test_event_log_is_append_only(store):
    store.record_event("probe", entity_type="test", entity_id=1)
    for statement in ("UPDATE events SET kind = 'rewritten'", "DELETE FROM events"):
        with pytest.raises(DatabaseError, match="append-only"), store.session() as session:
            session.execute(text(statement))
    assert [event.kind for event in store.events(entity_type="test")] == ["probe"]


def test_data_path_walks_from_remittance_line_to_purchase_order(store):
    raw_id, _ = store.save_raw_document(b"850 bytes", partner="AMAZON", transport="sftp")
    chain = [
        store.add_transaction("850", direction="in", partner="AMAZON", business_key="PO1", raw_document_id=raw_id,
                              isa13="000000001", st02="0001"),
        store.add_transaction("sales_order", direction="out", partner="BLUECHERRY", business_key="SO1"),
        store.add_transaction("855", direction="out", partner="AMAZON", business_key="PO1"),
        store.add_transaction("856", direction="out", partner="AMAZON", business_key="SHIP1"),
        store.add_transaction("810", direction="out", partner="AMAZON", business_key="INV1"),
        store.add_transaction("820_line", direction="in", partner="AMAZON", business_key="INV1SC"),
    ]
    relations = ["sales_order", "acknowledgement", "shipment", "invoice", "remittance"]
    for parent, child, relation in zip(chain[:-1], chain[1:], relations, strict=True):
        store.link(parent, child, relation)
    store.link(chain[0], chain[1], "sales_order")  # linking twice is harmless
    path = store.data_path(chain[-1])
    assert [row["doc_type"] for row in path] == ["850", "sales_order", "855", "856", "810", "820_line"]
    assert path[0]["raw_document_id"] == raw_id
    unrelated = store.add_transaction("850", direction="in", partner="AMAZON", business_key="PO2")
    assert [row["id"] for row in store.data_path(unrelated)] == [unrelated]


def test_deadline_is_set_once(store):
    transaction_id = store.add_transaction("850", direction="in", partner="AMAZON", business_key="PO1")
    due = datetime.now(UTC) + timedelta(hours=24)
    first = store.set_deadline(transaction_id, "poa_due", due, business_key="PO1")
    assert store.set_deadline(transaction_id, "poa_due", due + timedelta(hours=1)) == first


def test_sqlite_store_creates_its_folder(tmp_path):
    nested = tmp_path / "a" / "b" / "store.sqlite"
    fresh = Store(f"sqlite:///{nested}")
    fresh.migrate()
    raw_id, _ = fresh.save_raw_document(b"x", partner="P", transport="file")
    with fresh.session() as session:
        assert session.get(RawDocument, raw_id).sha256
    fresh.dispose()


def test_duplicate_control_numbers_are_those_of_another_document(store):
    first_raw, _ = store.save_raw_document(b"first", partner="AMAZON", transport="sftp")
    second_raw, _ = store.save_raw_document(b"second", partner="AMAZON", transport="sftp")
    first = StoreDuplicates(store, first_raw)
    assert not first.seen("interchange", "AMAZON", "VENDOR", "000000001")
    # The same document validated again (a retry, a replay) is not its own duplicate.
    assert not first.seen("interchange", "AMAZON", "VENDOR", "000000001")
    assert StoreDuplicates(store, second_raw).seen("interchange", "AMAZON", "VENDOR", "000000001")
    assert not StoreDuplicates(store, second_raw).seen("interchange", "AMAZON", "OTHER", "000000001")


def test_a_files_control_numbers_are_looked_up_in_one_query(store):
    from sqlalchemy import event

    from amazon_bluecherry.edi.validator import validate_file

    sets = "".join(f"ST*850*000{n}~BEG*00*NE*PO{n}**20261126~SE*3*000{n}~" for n in (1, 2, 3))
    content = ("ISA*00*          *00*          *ZZ*AMAZON         *ZZ*VENDOR         *261126*0201*U*00401*"
               f"000000042*0*T*>~GS*PO*AMAZON*VENDOR*20261126*0201*42*X*004010~{sets}GE*3*42~"
               "IEA*1*000000042~").encode()
    raw_ids = [store.save_raw_document(content + suffix, partner="AMAZON", transport="sftp")[0]
               for suffix in (b"", b"\n")]
    lookups = []

    def count(conn, cursor, statement, *rest):
        if statement.lstrip().startswith("SELECT") and "received_control_numbers" in statement:
            lookups.append(statement)

    event.listen(store.engine, "before_cursor_execute", count)
    try:
        reports = []
        for raw_id in (raw_ids[0], raw_ids[0], raw_ids[1]):  # the first file, its retry, another file
            with store.session() as db:
                reports.append(validate_file(content, duplicates=StoreDuplicates(store, raw_id, session=db)))
    finally:
        event.remove(store.engine, "before_cursor_execute", count)
    assert len(lookups) == 3  # one per file, not one per ISA, GS and ST (five here)

    def duplicates(report):
        (interchange,) = report.interchanges
        (group,) = interchange.groups
        return (["duplicate" in m for m in interchange.messages].count(True), group.codes,
                [[i.code for i in s.errors if "duplicate" in i.message] for s in group.transactions])

    assert duplicates(reports[0]) == duplicates(reports[1]) == (0, [], [[], [], []])
    assert duplicates(reports[2]) == (1, ["19"], [["23"], ["23"], ["23"]])
    # a file of thousands of sets is looked up in slices (SQLite's expression depth is 1,000)
    many = StoreDuplicates(store, raw_ids[1])
    many.recall([("set", "AMAZON", "VENDOR", f"42:{n:04d}") for n in range(1, 2001)])
    assert many.seen("set", "AMAZON", "VENDOR", "42:0001") and not many.seen("set", "AMAZON", "VENDOR", "42:2000")


def test_bulk_writes_are_the_single_writes_in_fewer_statements(store):
    from amazon_bluecherry.store.models import Deadline, DocumentLink, Event, Transaction

    with store.session() as db:
        ids = store.add_transactions([
            {"doc_type": "850", "direction": "in", "partner": "AMAZON", "business_key": f"BULK{n}", "data": {"n": n}}
            for n in range(3)], session=db)
        store.set_transaction_statuses([(ids[0], "translated", {"n": 0, "draft": {}}), (ids[1], "held", None)],
                                       session=db)
        store.link_many([(ids[0], ids[1], "superseded_by"), (ids[0], ids[1], "superseded_by")], session=db)
        due = datetime(2026, 12, 1, tzinfo=UTC)
        store.set_deadlines([(ids[0], "poa_due", due, "BULK0")], session=db)
    with store.session() as db:  # again: links and deadlines that exist are kept, not doubled
        store.link_many([(ids[0], ids[1], "superseded_by"), (ids[1], ids[2], "acknowledgement")], session=db)
        store.set_deadlines([(ids[0], "poa_due", datetime(2027, 1, 1, tzinfo=UTC), "BULK0"),
                             (ids[2], "poa_due", due, "BULK2")], session=db)
    with store.session() as db:
        rows = {t.id: t for t in db.scalars(select(Transaction).where(Transaction.id.in_(ids)))}
        assert [rows[i].status for i in ids] == ["translated", "held", "received"]
        assert rows[ids[0]].data == {"n": 0, "draft": {}} and rows[ids[1]].data == {"n": 1}
        assert sorted((link.parent_id, link.child_id, link.relation) for link in db.scalars(select(DocumentLink))) \
            == sorted([(ids[0], ids[1], "superseded_by"), (ids[1], ids[2], "acknowledgement")])
        assert {(d.transaction_id, d.due_at) for d in db.scalars(select(Deadline))} == {(ids[0], due), (ids[2], due)}
        kinds = [e.kind for e in db.scalars(select(Event).where(Event.entity_id.in_([str(i) for i in ids])))]
        assert kinds.count("transaction.received") == 3 and "transaction.held" in kinds
