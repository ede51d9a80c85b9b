"""Upload against the real loopback mailbox: temp name, rename, record what was sent."""

from __future__ import annotations

import hashlib

import pytest

from amazon_bluecherry.amazon.mailbox import UploadError, outbound_file_name, upload_outbound
from amazon_bluecherry.folders import SftpFolder
from amazon_bluecherry.store import Store
from amazon_bluecherry.store.models import OutboundDocument


@pytest.fixture
def sqlite_store(sqlite_url):
    store = Store(sqlite_url)
    store.migrate()
    yield store
    store.dispose()


def add_outbound(store, content: bytes, isa13: int, *, doc_type: str = "855", file_name: str | None = None) -> int:
    """What the outbound flows do before anything is sent: keep the bytes, then the row."""
    with store.session() as db:
        raw_id, _ = store.save_raw_document(content, partner="AMAZON", transport="sftp", direction="out",
                                            session=db)
        document = OutboundDocument(
            partner="AMAZON", doc_type=doc_type, raw_document_id=raw_id, isa13=f"{isa13:09d}",
            gs06=str(isa13), st02_list=["0001"],
            file_name=file_name or outbound_file_name("VENDR", doc_type, isa13),
        )
        db.add(document)
        db.flush()
        return document.id


def outbound(store, outbound_id: int) -> OutboundDocument:
    with store.session() as db:
        return db.get(OutboundDocument, outbound_id)


def run_upload(mailbox, store, ids):
    with mailbox.open_sftp("upload") as sftp:
        return upload_outbound(SftpFolder(sftp, mailbox.upload_remote_dir), store, ids)


def test_upload_writes_a_temp_name_renames_it_and_records_it(mailbox, store, make_x12):
    content = make_x12(41, transaction_set="855")
    outbound_id = add_outbound(store, content, 41)

    report = run_upload(mailbox, store, [outbound_id])

    assert report.sent == [outbound_id]
    assert mailbox.received() == {"VENDR855.000000041": content}
    writes = [entry.path for entry in mailbox.audit if entry.op in ("open_write", "rename")]
    assert writes == ["/upload/VENDR855.000000041.part",
                      "/upload/VENDR855.000000041.part -> /upload/VENDR855.000000041"]
    document = outbound(store, outbound_id)
    assert document.status == "sent" and document.sent_at is not None
    [event] = store.events(entity_type="outbound_document", entity_id=outbound_id, kind="outbound_document.sent")
    assert event.payload["sha256"] == hashlib.sha256(content).hexdigest()
    assert event.payload["file_name"] == "VENDR855.000000041"


def test_a_sent_document_is_not_sent_again(mailbox, sqlite_store, make_x12):
    outbound_id = add_outbound(sqlite_store, make_x12(42), 42)
    run_upload(mailbox, sqlite_store, [outbound_id])
    mailbox.take_received()  # Amazon picked it up
    writes_before = sum(entry.op == "open_write" for entry in mailbox.audit)

    again = run_upload(mailbox, sqlite_store, [outbound_id])

    assert again.sent == [] and again.already_sent == [outbound_id]
    assert sum(entry.op == "open_write" for entry in mailbox.audit) == writes_before
    assert mailbox.received() == {}


def test_a_retry_after_the_rename_only_records_it(mailbox, sqlite_store, make_x12):
    content = make_x12(43)
    outbound_id = add_outbound(sqlite_store, content, 43)
    # An earlier attempt renamed the file, then died before marking the document sent.
    (mailbox.upload_dir / "VENDR855.000000043").write_bytes(content)

    report = run_upload(mailbox, sqlite_store, [outbound_id])

    assert report.sent == [outbound_id]
    assert mailbox.remote_files("upload") == ["VENDR855.000000043"]  # no temp left behind
    assert outbound(sqlite_store, outbound_id).status == "sent"


def test_a_name_taken_by_other_bytes_is_never_overwritten(mailbox, sqlite_store, make_x12):
    taken = add_outbound(sqlite_store, make_x12(44), 44)
    fine = add_outbound(sqlite_store, make_x12(45), 45)
    (mailbox.upload_dir / "VENDR855.000000044").write_bytes(b"somebody else's file")

    with pytest.raises(UploadError, match="VENDR855.000000044") as caught:
        run_upload(mailbox, sqlite_store, [taken, fine])

    assert caught.value.report.sent == [fine] and list(caught.value.report.failed) == [taken]
    assert (mailbox.upload_dir / "VENDR855.000000044").read_bytes() == b"somebody else's file"
    assert outbound(sqlite_store, taken).status == "pending"
    assert mailbox.remote_files("upload") == ["VENDR855.000000044", "VENDR855.000000045"]


def test_an_outbound_file_name_breaking_the_rules_is_not_sent(mailbox, sqlite_store, make_x12):
    bad = add_outbound(sqlite_store, make_x12(46), 46, file_name="../VENDR855.46")
    with pytest.raises(UploadError, match="path separator"):
        run_upload(mailbox, sqlite_store, [bad])
    assert not any(entry.op == "open_write" for entry in mailbox.audit)
    assert outbound(sqlite_store, bad).status == "pending"


def test_a_stored_document_that_is_not_whole_x12_is_never_put_on_amazons_side(mailbox, sqlite_store, make_x12):
    broken = add_outbound(sqlite_store, b"ISA*...855 never collected", 47)
    cut = add_outbound(sqlite_store, make_x12(48)[:-40], 48)
    fine = add_outbound(sqlite_store, make_x12(49), 49)
    with pytest.raises(UploadError, match="not whole X12") as caught:
        run_upload(mailbox, sqlite_store, [broken, cut, fine])
    assert caught.value.report.sent == [fine] and sorted(caught.value.report.failed) == [broken, cut]
    assert mailbox.remote_files("upload") == ["VENDR855.000000049"], "nothing else written, not even a temp name"
    assert outbound(sqlite_store, broken).status == "pending" and outbound(sqlite_store, cut).status == "pending"


def test_upload_marks_every_set_of_the_file_sent_and_no_other(mailbox, store, make_x12, tmp_path):
    from amazon_bluecherry.flows.outbound import stage_x12
    from amazon_bluecherry.settings import Settings
    from amazon_bluecherry.store.models import Transaction

    settings = Settings(home=tmp_path)
    two_interchanges = stage_x12(store, make_x12(61, transaction_set="855") + make_x12(62, transaction_set="855"),
                                 business_keys=["PO-A", "PO-B"], settings=settings)
    other = stage_x12(store, make_x12(63, transaction_set="855"), business_keys=["PO-C"], settings=settings)

    run_upload(mailbox, store, [two_interchanges.outbound_document_id])

    with store.session() as db:
        status = {t.business_key: t.status for t in db.query(Transaction).filter(Transaction.doc_type == "855")}
    assert status == {"PO-A": "sent", "PO-B": "sent", "PO-C": "staged"}, other
