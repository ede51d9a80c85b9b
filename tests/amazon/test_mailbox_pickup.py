"""Pickup against the real loopback mailbox, through a plain paramiko client (no Airflow)."""

from __future__ import annotations

import hashlib
import os
import time

import pytest
from sqlalchemy import func, select

from amazon_bluecherry.amazon.mailbox import (
    EMPTY_FILE,
    NOT_X12,
    OVERSIZE_FILE,
    REFUSED_FILE_NAME,
    REMOTE_DELETE_FAILED,
    FileTooLarge,
    pickup,
)
from amazon_bluecherry.folders import SftpFolder
from amazon_bluecherry.store import Store
from amazon_bluecherry.store.models import RawDocument


def run_pickup(mailbox, store, **kwargs):
    kwargs.setdefault("max_files", 100)
    kwargs.setdefault("max_file_bytes", 1_000_000)
    kwargs.setdefault("quarantine_dir", "")
    kwargs.setdefault("settle_seconds", 0)
    with mailbox.open_sftp("download") as sftp:
        return pickup(SftpFolder(sftp, mailbox.download_remote_dir), store, **kwargs)


def raw_document_count(store) -> int:
    with store.session() as db:
        return db.scalar(select(func.count()).select_from(RawDocument))


def exceptions_of(store, type_):
    return store.list_exceptions(type=type_)


def test_pickup_stores_bytes_then_deletes_the_remote_file(mailbox, store, make_x12):
    first, second = make_x12(1), make_x12(2)
    mailbox.drop("VENDR850.000000001", first, mtime=time.time() - 60)
    mailbox.drop("VENDR850.000000002", second)

    report = run_pickup(mailbox, store)

    assert len(report.new_raw_document_ids) == 2
    stored = [store.get_raw_document(raw_id) for raw_id in report.new_raw_document_ids]
    assert [doc.remote_name for doc in stored] == ["VENDR850.000000001", "VENDR850.000000002"]  # oldest first
    assert [doc.content for doc in stored] == [first, second]
    assert [doc.sha256 for doc in stored] == [hashlib.sha256(first).hexdigest(), hashlib.sha256(second).hexdigest()]
    assert all(doc.transport == "sftp" and doc.direction == "in" and doc.partner == "AMAZON" for doc in stored)
    kinds = [event.kind for event in store.events(entity_type="raw_document", entity_id=stored[0].id)]
    assert kinds == ["raw_document.stored", "mailbox.picked_up", "mailbox.remote_deleted"]
    assert mailbox.remote_files("download") == []
    # every remote delete came after that file was read
    ops = [(entry.op, os.path.basename(entry.path)) for entry in mailbox.audit if entry.op in ("read", "remove")]
    for name in ("VENDR850.000000001", "VENDR850.000000002"):
        assert ops.index(("remove", name)) > max(i for i, op in enumerate(ops) if op == ("read", name))
    assert store.list_exceptions() == []


def test_remote_file_stays_when_the_store_cannot_keep_it(mailbox, tmp_path, make_x12):
    unmigrated = Store(f"sqlite:///{tmp_path / 'no-tables.sqlite'}")  # every write fails
    mailbox.drop("VENDR850.000000001", make_x12(1))
    with pytest.raises(Exception, match="no such table"):
        run_pickup(mailbox, unmigrated)
    assert mailbox.remote_files("download") == ["VENDR850.000000001"]
    assert not any(entry.op == "remove" for entry in mailbox.audit)
    unmigrated.dispose()


def test_same_bytes_twice_give_one_document_and_both_remote_files_go(mailbox, sqlite_url, make_x12):
    store = Store(sqlite_url)
    store.migrate()
    mailbox.drop("VENDR850.000000001", make_x12(1))
    first = run_pickup(mailbox, store)
    mailbox.drop("VENDR850.000000001", make_x12(1))  # Amazon re-sends the same file
    mailbox.drop("VENDR850.I0000001", make_x12(1))  # ... or the same bytes under another name
    again = run_pickup(mailbox, store)

    assert again.new_raw_document_ids == []
    assert again.duplicate_raw_document_ids == first.new_raw_document_ids * 2
    assert raw_document_count(store) == 1
    assert mailbox.remote_files("download") == []


def test_a_failed_delete_is_retried_and_still_yields_one_document(mailbox, sqlite_url, make_x12):
    store = Store(sqlite_url)
    store.migrate()
    mailbox.drop("VENDR850.000000001", make_x12(1))
    mailbox.fail_remove = {"VENDR850.000000001"}

    first = run_pickup(mailbox, store)
    run_pickup(mailbox, store)  # still failing: no second exception
    assert first.delete_failed == ["VENDR850.000000001"]
    assert mailbox.remote_files("download") == ["VENDR850.000000001"]
    [failure] = exceptions_of(store, REMOTE_DELETE_FAILED)
    assert failure.owner == "integration" and "VENDR850.000000001" in failure.message
    assert failure.raw_document_id == first.new_raw_document_ids[0]

    mailbox.fail_remove = False
    third = run_pickup(mailbox, store)
    assert third.duplicate_raw_document_ids == first.new_raw_document_ids
    assert mailbox.remote_files("download") == []
    assert raw_document_count(store) == 1


def test_a_file_still_being_written_is_never_read(mailbox, sqlite_url, make_x12):
    store = Store(sqlite_url)
    store.migrate()
    content = make_x12(3)
    # A sender writing in place: half a file under a temp name, visible in the listing.
    (mailbox.download_dir / "VENDR850.000000003.part").write_bytes(content[:50])
    (mailbox.download_dir / ".VENDR850.000000004").write_bytes(content[:20])

    report = run_pickup(mailbox, store)
    assert sorted(report.in_progress) == [".VENDR850.000000004", "VENDR850.000000003.part"]
    assert report.new_raw_document_ids == [] and raw_document_count(store) == 0
    assert not any(entry.op in ("open_read", "read", "remove") for entry in mailbox.audit)
    assert store.list_exceptions() == []

    (mailbox.download_dir / "VENDR850.000000003.part").write_bytes(content)
    os.rename(mailbox.download_dir / "VENDR850.000000003.part", mailbox.download_dir / "VENDR850.000000003")
    report = run_pickup(mailbox, store)
    assert [store.get_raw_document(i).content for i in report.new_raw_document_ids] == [content]


HOSTILE = ["VENDR850..1", "..\\..\\evil", "VENDR\x1b[2J850.1", "VENDR850.1;rm -rf ~", "line\nbreak", "V" * 200]


def test_hostile_names_are_refused_unread_and_reported_once(mailbox, sqlite_url, make_x12):
    store = Store(sqlite_url)
    store.migrate()
    for number, name in enumerate(HOSTILE):
        mailbox.drop(name, make_x12(number))
    mailbox.drop("VENDR850.000000099", make_x12(99))

    report = run_pickup(mailbox, store, max_files=1)  # refusals do not use up the batch
    assert len(report.new_raw_document_ids) == 1
    refused = exceptions_of(store, REFUSED_FILE_NAME)
    assert len(refused) == len(HOSTILE)
    assert all(record.owner == "integration" and record.status == "open" for record in refused)
    messages = " ".join(record.message for record in refused)
    assert "'VENDR850..1'" in messages and "'VENDR\\x1b[2J850.1'" in messages and "'line\\nbreak'" in messages
    assert "\x1b" not in messages and "\n" not in messages  # never echoed raw into logs or mail
    assert sorted(mailbox.remote_files("download")) == sorted(HOSTILE)  # not deleted: bytes not kept
    for name in HOSTILE:
        assert not mailbox.opened_for_reading(name)

    run_pickup(mailbox, store)
    assert len(exceptions_of(store, REFUSED_FILE_NAME)) == len(HOSTILE)  # remembered, not re-reported


def test_refused_files_move_to_a_quarantine_folder_when_configured(mailbox, sqlite_url, make_x12):
    store = Store(sqlite_url)
    store.migrate()
    (mailbox.download_dir.parent / "quarantine").mkdir()
    mailbox.drop("VENDR850..1", make_x12(1))
    mailbox.drop("VENDR850.000000002", b"x" * 2000)

    run_pickup(mailbox, store, quarantine_dir="/quarantine", max_file_bytes=1000)

    assert mailbox.remote_files("download") == []
    quarantined = sorted(p.name for p in (mailbox.download_dir.parent / "quarantine").iterdir())
    assert "VENDR850.000000002" in quarantined
    [renamed] = [name for name in quarantined if name.startswith("refused-name-")]
    [record] = exceptions_of(store, REFUSED_FILE_NAME)
    assert record.details["quarantine_path"] == f"/quarantine/{renamed}"
    assert (mailbox.download_dir.parent / "quarantine" / renamed).read_bytes() == make_x12(1)


def test_a_zero_byte_file_is_reported_and_deleted(mailbox, sqlite_url):
    from datetime import timedelta

    store = Store(sqlite_url)
    store.migrate()
    mailbox.drop("VENDR850.000000005", b"")
    report = run_pickup(mailbox, store, stale_after=timedelta(0))  # empty since before the age limit
    [record] = exceptions_of(store, EMPTY_FILE)
    assert record.owner == "integration" and "'VENDR850.000000005'" in record.message and "0 bytes" in record.message
    assert report.deleted == ["VENDR850.000000005"] and mailbox.remote_files("download") == []
    assert raw_document_count(store) == 0
    assert not mailbox.opened_for_reading("VENDR850.000000005")


def test_an_oversize_file_is_reported_not_read_and_kept(mailbox, sqlite_url, make_x12):
    store = Store(sqlite_url)
    store.migrate()
    mailbox.drop("VENDR850.000000006", make_x12(6) + b"X" * 5000)
    mailbox.drop("VENDR850.000000007", make_x12(7))

    report = run_pickup(mailbox, store, max_file_bytes=1000)
    run_pickup(mailbox, store, max_file_bytes=1000)

    [record] = exceptions_of(store, OVERSIZE_FILE)
    assert record.owner == "integration" and "over the limit of 1000 bytes" in record.message
    assert "'VENDR850.000000006'" in record.message and "not deleted" in record.message
    assert not mailbox.opened_for_reading("VENDR850.000000006")
    assert mailbox.bytes_read("VENDR850.000000006") == 0
    assert mailbox.remote_files("download") == ["VENDR850.000000006"]
    assert len(report.new_raw_document_ids) == 1  # the normal file next to it still went through


def test_a_file_growing_past_the_limit_while_read_is_cut_off(mailbox, sqlite_url, make_x12):
    store = Store(sqlite_url)
    store.migrate()
    mailbox.drop("VENDR850.000000008", make_x12(8))
    mailbox.grow_during_read["VENDR850.000000008"] = b"X" * 2_000_000

    run_pickup(mailbox, store, max_file_bytes=100_000)

    [record] = exceptions_of(store, OVERSIZE_FILE)
    assert "grew past the limit" in record.message
    assert mailbox.bytes_read("VENDR850.000000008") < 100_000 + 4 * 32768  # stopped near the limit
    assert mailbox.remote_files("download") == ["VENDR850.000000008"]
    assert raw_document_count(store) == 0


def test_the_bounded_read_refuses_before_reading_when_the_size_is_known(mailbox):
    mailbox.drop("VENDR850.000000009", b"X" * 50_000)
    with mailbox.open_sftp("download") as sftp, pytest.raises(FileTooLarge):
        SftpFolder(sftp, mailbox.download_remote_dir).read("VENDR850.000000009", max_bytes=10_000)
    assert mailbox.bytes_read("VENDR850.000000009") == 0


def test_non_x12_content_is_kept_then_refused(mailbox, sqlite_url, make_x12):
    store = Store(sqlite_url)
    store.migrate()
    mailbox.drop("VENDR850.000000010", b"<html>Service unavailable</html>")
    report = run_pickup(mailbox, store)
    run_pickup(mailbox, store)

    assert report.new_raw_document_ids == []
    [raw_id] = report.not_x12_raw_document_ids
    document = store.get_raw_document(raw_id)
    assert document.content == b"<html>Service unavailable</html>" and document.status == "refused"
    [record] = exceptions_of(store, NOT_X12)
    assert record.owner == "integration" and record.raw_document_id == raw_id
    assert "'VENDR850.000000010'" in record.message and "not X12" in record.message and "ISA" in record.message
    assert mailbox.remote_files("download") == []


def test_a_500_file_backlog_drains_in_batches_oldest_first(mailbox, sqlite_url, make_x12):
    store = Store(sqlite_url)
    store.migrate()
    start = time.time() - 10_000
    for number in range(500):  # names in reverse order of arrival: mtime decides
        mailbox.drop(f"VENDR850.{999_999 - number:09d}", make_x12(number), mtime=start + number)

    batches = [run_pickup(mailbox, store, max_files=200) for _ in range(4)]

    assert [len(b.new_raw_document_ids) for b in batches] == [200, 200, 100, 0]
    assert [b.remaining for b in batches] == [300, 100, 0, 0]
    assert mailbox.remote_files("download") == []
    first_batch = [store.get_raw_document(i).content for i in batches[0].new_raw_document_ids]
    assert first_batch == [make_x12(number) for number in range(200)]
    assert raw_document_count(store) == 500


def test_a_refused_file_stays_put_when_the_quarantine_folder_cannot_be_made(mailbox, sqlite_url, make_x12):
    store = Store(sqlite_url)
    store.migrate()
    mailbox.drop("VENDR850..1", make_x12(1))
    run_pickup(mailbox, store, quarantine_dir="/no-such-folder/quarantine")  # SFTP mkdir makes one level
    run_pickup(mailbox, store, quarantine_dir="/no-such-folder/quarantine")
    assert mailbox.remote_files("download") == ["VENDR850..1"]
    [record] = exceptions_of(store, REFUSED_FILE_NAME)
    assert "stays in" in record.message and not mailbox.opened_for_reading("VENDR850..1")
