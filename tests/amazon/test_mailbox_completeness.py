"""Pickup decides from the file, not its name, that it is complete (README: "never one still
being written"): two listings agree on size and mtime, the bytes end with a whole
interchange, and the file did not move while it was stored. What never completes, or keeps
a temp name, becomes one exception after the age limit. Against the real loopback mailbox."""

from __future__ import annotations

import os
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from amazon_bluecherry.amazon.mailbox import (
    EMPTY_FILE,
    INCOMPLETE_FILE,
    OVERSIZE_FILE,
    REFUSED_FILE_NAME,
    STALE_TEMP_FILE,
    incomplete_interchange,
    pickup,
)
from amazon_bluecherry.folders import SftpFolder
from amazon_bluecherry.store import Store
from amazon_bluecherry.store.models import InboundArrival, RawDocument, RemoteFileSighting
from tests.flows.conftest import make_850


@pytest.fixture
def store(sqlite_url):
    migrated = Store(sqlite_url)
    migrated.migrate()
    yield migrated
    migrated.dispose()


class FakeTime:
    """A clock that only moves when pickup sleeps (or a test says so)."""

    def __init__(self):
        self.now = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
        self.slept: list[float] = []
        self.during_sleep = None  # what "the sender" does while pickup waits

    def clock(self) -> datetime:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += timedelta(seconds=seconds)
        if self.during_sleep:
            self.during_sleep()

    def advance(self, **delta) -> None:
        self.now += timedelta(**delta)


def run_pickup(mailbox, store, **kwargs):
    kwargs.setdefault("max_files", 100)
    kwargs.setdefault("max_file_bytes", 1_000_000)
    kwargs.setdefault("quarantine_dir", "")
    with mailbox.open_sftp("download") as sftp:
        return pickup(SftpFolder(sftp, mailbox.download_remote_dir), store, **kwargs)


def raw_contents(store) -> list[bytes]:
    with store.session() as db:
        return list(db.scalars(select(RawDocument.content).order_by(RawDocument.id)))


def big_850(control: int = 500, lines: int = 175) -> bytes:
    """About 6.5 kB: one interchange, one PO with many lines."""
    return make_850(f"SLOW{control}", lines=[f"PO1*{n}*8*EA*6.5*PE*UP*028877454078" for n in range(1, lines + 1)],
                    control=f"{control:09d}")


# --- the slow writer ------------------------------------------------------------------------

def test_a_file_written_slowly_under_its_final_name_is_taken_once_and_whole(mailbox, store):
    content = big_850()
    assert len(content) > 6000
    path = mailbox.download_dir / "AMZN850.000000500"
    iea_at = content.rindex(b"IEA")
    # The writer's chunks: 40 bytes (inside the ISA header), then 256-byte pieces; the IEA
    # and its terminator go in one last write (see the module docstring of amazon.mailbox).
    cuts = [40, *range(296, iea_at, 256), iea_at, len(content)]
    pieces = [content[a:b] for a, b in zip([0, *cuts[:-1]], cuts, strict=True)]
    long_pauses = {0, 1, len(pieces) // 2}  # longer than the settle interval: stability alone would pass
    outcome: dict = {}

    def slow_writer() -> None:
        with open(path, "wb") as handle:
            inode = os.fstat(handle.fileno()).st_ino
            for number, piece in enumerate(pieces):
                handle.write(piece)
                handle.flush()
                time.sleep(0.8 if number in long_pauses else 0.05)
            # Still there, still the same file: nothing deleted it while it was being written.
            outcome["intact"] = path.exists() and os.stat(path).st_ino == inode and path.read_bytes() == content

    writer = threading.Thread(target=slow_writer)
    writer.start()
    reports = []
    while writer.is_alive():
        reports.append(run_pickup(mailbox, store, settle_seconds=0.25))
    writer.join()
    for _ in range(5):
        if mailbox.remote_files("download") == []:
            break
        reports.append(run_pickup(mailbox, store, settle_seconds=0.25))

    assert outcome["intact"], "the file was deleted or replaced while it was being written"
    assert raw_contents(store) == [content], "exactly one stored document, and whole"
    assert mailbox.remote_files("download") == []
    assert sum(1 for entry in mailbox.audit if entry.op == "remove") == 1
    assert any(report.waiting for report in reports), "pickup saw the file while it was incomplete"
    assert store.list_exceptions() == []


# --- settling: two listings agree -----------------------------------------------------------

def test_a_new_file_is_listed_again_after_the_settle_interval_then_taken(mailbox, store, make_x12):
    fake = FakeTime()
    mailbox.drop("AMZN850.000000001", make_x12(1))
    report = run_pickup(mailbox, store, settle_seconds=10, clock=fake.clock, sleep=fake.sleep)
    assert fake.slept == [10]  # one wait for the whole run
    assert len(report.new_raw_document_ids) == 1


def test_a_file_that_changes_across_the_settle_interval_waits_for_the_next_run(mailbox, store, make_x12):
    fake = FakeTime()
    content = make_x12(2)
    path = mailbox.download_dir / "AMZN850.000000002"
    path.write_bytes(content[:60])
    fake.during_sleep = lambda: path.write_bytes(content[:120])  # the sender is still writing
    report = run_pickup(mailbox, store, settle_seconds=10, clock=fake.clock, sleep=fake.sleep)
    assert report.waiting == ["AMZN850.000000002"] and report.new_raw_document_ids == []
    assert not mailbox.opened_for_reading("AMZN850.000000002")
    assert mailbox.remote_files("download") == ["AMZN850.000000002"]

    # The sender finishes before the next run: changed since the last listing, so it is
    # listed again after the interval, found unchanged, and taken.
    fake.during_sleep = None
    path.write_bytes(content)
    fake.advance(minutes=15)
    fake.slept.clear()
    report = run_pickup(mailbox, store, settle_seconds=10, clock=fake.clock, sleep=fake.sleep)
    assert fake.slept == [10] and len(report.new_raw_document_ids) == 1
    assert raw_contents(store) == [content]


def test_a_file_seen_unchanged_by_an_earlier_run_is_taken_without_waiting(mailbox, store, make_x12):
    fake = FakeTime()
    mailbox.drop("AMZN850.000000021", make_x12(21), mtime=time.time() - 60)
    mailbox.drop("AMZN850.000000022", make_x12(22))
    first = run_pickup(mailbox, store, max_files=1, settle_seconds=10, clock=fake.clock, sleep=fake.sleep)
    assert (len(first.new_raw_document_ids), first.remaining) == (1, 1)
    fake.advance(minutes=15)
    fake.slept.clear()
    second = run_pickup(mailbox, store, settle_seconds=10, clock=fake.clock, sleep=fake.sleep)
    assert fake.slept == [] and len(second.new_raw_document_ids) == 1
    assert raw_contents(store) == [make_x12(21), make_x12(22)]


def test_sightings_are_forgotten_once_the_file_is_gone(mailbox, store, make_x12):
    (mailbox.download_dir / "AMZN850.000000003").write_bytes(make_x12(3)[:50])
    run_pickup(mailbox, store, settle_seconds=0)
    (mailbox.download_dir / "AMZN850.000000003").unlink()
    run_pickup(mailbox, store, settle_seconds=0)
    with store.session() as db:
        assert db.scalar(select(func.count()).select_from(RemoteFileSighting)) == 0


# --- complete: the bytes end with a whole interchange ---------------------------------------

@pytest.mark.parametrize("cut,why", [
    (lambda c: c[:40], "IEA"),                                    # inside the ISA header
    (lambda c: c[: c.rindex(b"IEA")], "IEA"),                     # everything but the trailer
    (lambda c: c[: c.rindex(b"IEA") + 8], "IEA02"),               # the trailer cut short
    (lambda c: c.replace(b"IEA*1*000000004", b"IEA*1*000000009"), "IEA02"),  # a trailer of another ISA
])
def test_a_stable_file_without_a_whole_interchange_is_not_taken(mailbox, store, make_x12, cut, why):
    content = cut(make_x12(4))
    mailbox.drop("AMZN850.000000004", content)
    assert why in incomplete_interchange(content)
    report = run_pickup(mailbox, store, settle_seconds=0)
    assert report.waiting == ["AMZN850.000000004"] and raw_contents(store) == []
    assert mailbox.remote_files("download") == ["AMZN850.000000004"]
    assert not any(entry.op == "remove" for entry in mailbox.audit)
    assert store.list_exceptions() == []  # not yet: the age limit decides


def test_whole_interchanges_are_complete_with_or_without_a_final_terminator(make_x12):
    content = make_x12(5)
    assert incomplete_interchange(content) is None
    assert incomplete_interchange(content + make_x12(6)) is None  # two interchanges
    assert incomplete_interchange(content.rstrip(b"~\n")) is None
    assert incomplete_interchange(b"\xef\xbb\xbf\r\n" + content) is None
    assert incomplete_interchange(content + make_x12(6)[:200]) is not None  # the second still coming
    assert incomplete_interchange(b"<html>oops</html>") is None  # not X12: judged elsewhere


def test_a_file_that_moves_while_it_is_stored_is_rolled_back_and_kept(mailbox, store, make_x12):
    content = make_x12(7)
    mailbox.drop("AMZN850.000000007", content)
    path = mailbox.download_dir / "AMZN850.000000007"

    class SenderAppendsAfterOurRead(SftpFolder):
        def read(self, name, *, max_bytes):
            data = super().read(name, max_bytes=max_bytes)
            with open(path, "ab") as handle:  # the sender was not done after all
                handle.write(make_x12(8))
            os.utime(path, (time.time() + 5, time.time() + 5))
            return data

    with mailbox.open_sftp("download") as sftp:
        report = pickup(SenderAppendsAfterOurRead(sftp, mailbox.download_remote_dir), store, max_files=10,
                        max_file_bytes=1_000_000, quarantine_dir="", settle_seconds=0)
    assert report.waiting == ["AMZN850.000000007"] and report.new_raw_document_ids == []
    assert raw_contents(store) == [], "the stored copy was rolled back"
    with store.session() as db:
        assert db.scalar(select(func.count()).select_from(InboundArrival)) == 0
    assert mailbox.remote_files("download") == ["AMZN850.000000007"]

    report = run_pickup(mailbox, store, settle_seconds=0)
    assert raw_contents(store) == [content + make_x12(8)]


# --- the age limit ----------------------------------------------------------------------------

def test_a_file_that_never_completes_opens_one_exception_and_stays(mailbox, store, make_x12):
    fake = FakeTime()
    mailbox.drop("AMZN850.000000009", make_x12(9)[:-30])
    for _ in range(3):
        run_pickup(mailbox, store, settle_seconds=0, clock=fake.clock, sleep=fake.sleep,
                   stale_after=timedelta(minutes=60))
        fake.advance(minutes=25)
    run_pickup(mailbox, store, settle_seconds=0, clock=fake.clock, sleep=fake.sleep, stale_after=timedelta(minutes=60))
    [record] = store.list_exceptions()
    assert (record.type, record.owner, record.severity) == (INCOMPLETE_FILE, "integration", "error")
    assert "'AMZN850.000000009'" in record.message and "IEA" in record.message and "not deleted" in record.message
    assert mailbox.remote_files("download") == ["AMZN850.000000009"] and raw_contents(store) == []


def test_temp_named_files_become_one_exception_each_after_the_age_limit(mailbox, store, make_x12):
    fake = FakeTime()
    (mailbox.download_dir / "AMZN850.000000010.part").write_bytes(make_x12(10)[:50])
    (mailbox.download_dir / ".AMZN850.000000011").write_bytes(make_x12(11))
    run_pickup(mailbox, store, settle_seconds=0, clock=fake.clock, sleep=fake.sleep)
    assert store.list_exceptions() == []  # a sender in progress, for now
    fake.advance(minutes=61)
    for _ in range(2):
        report = run_pickup(mailbox, store, settle_seconds=0, clock=fake.clock, sleep=fake.sleep)
    records = store.list_exceptions(type=STALE_TEMP_FILE)
    assert sorted(record.business_key for record in records) == ["'.AMZN850.000000011'",
                                                                 "'AMZN850.000000010.part'"]
    assert all(record.severity == "warning" for record in records)
    assert sorted(report.in_progress) == [".AMZN850.000000011", "AMZN850.000000010.part"]
    assert not any(entry.op in ("open_read", "remove") for entry in mailbox.audit)


def test_an_empty_file_is_deleted_only_once_it_stayed_empty_past_the_age_limit(mailbox, store):
    fake = FakeTime()
    mailbox.drop("AMZN850.000000012", b"")
    report = run_pickup(mailbox, store, settle_seconds=0, clock=fake.clock, sleep=fake.sleep)
    assert report.waiting == ["AMZN850.000000012"] and mailbox.remote_files("download") == ["AMZN850.000000012"]
    assert store.list_exceptions() == []
    fake.advance(minutes=61)
    report = run_pickup(mailbox, store, settle_seconds=0, clock=fake.clock, sleep=fake.sleep)
    [record] = store.list_exceptions(type=EMPTY_FILE)
    assert "0 bytes" in record.message and report.deleted == ["AMZN850.000000012"]
    assert mailbox.remote_files("download") == []


# --- quarantine by default ----------------------------------------------------------------------

def test_refused_and_oversize_files_go_to_the_quarantine_folder_by_default(mailbox, store, make_x12, monkeypatch):
    from amazon_bluecherry.settings import Settings

    assert Settings().sftp_quarantine_dir == "quarantine"
    mailbox.drop("AMZN850..1", make_x12(1))
    mailbox.drop("AMZN850.000000013", make_x12(13) + b"X" * 5000)
    with mailbox.open_sftp("download") as sftp:
        pickup(SftpFolder(sftp, mailbox.download_remote_dir), store, max_file_bytes=1000, settle_seconds=0)
    quarantine = mailbox.download_dir / "quarantine"
    assert mailbox.remote_files("download") == []
    assert "AMZN850.000000013" in os.listdir(quarantine)
    assert any(name.startswith("refused-name-") for name in os.listdir(quarantine))
    for kind in (REFUSED_FILE_NAME, OVERSIZE_FILE):
        [record] = store.list_exceptions(type=kind)
        assert "quarantine/" in record.message and "under /download" in record.message


# --- every arrival is recorded -----------------------------------------------------------------

def test_every_arrival_of_the_same_bytes_is_recorded(mailbox, store, make_x12):
    mailbox.drop("AMZN850.000000014", make_x12(14))
    first = run_pickup(mailbox, store, settle_seconds=0)
    mailbox.drop("AMZN850.000000014", make_x12(14))
    again = run_pickup(mailbox, store, settle_seconds=0)
    assert again.duplicate_raw_document_ids == first.new_raw_document_ids
    with store.session() as db:
        arrivals = db.scalars(select(InboundArrival).order_by(InboundArrival.id)).all()
        assert [(a.raw_document_id, a.remote_name, a.status) for a in arrivals] == [
            (first.new_raw_document_ids[0], "AMZN850.000000014", "pending")] * 2
    [event] = store.events(kind="raw_document.arrived_again")
    assert event.payload["arrival_id"] == arrivals[1].id
