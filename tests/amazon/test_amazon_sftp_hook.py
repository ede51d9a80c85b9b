"""The mailbox through Airflow: AmazonMailboxHook on the SFTP provider, and the two operators.

Connections come from ``AIRFLOW_CONN_*`` environment variables (JSON form), as in a
deployment, pointing at the real loopback mailbox.
"""

from __future__ import annotations

import time

import asyncssh
import paramiko
import pytest

from amazon_bluecherry.amazon.mailbox import outbound_file_name
from amazon_bluecherry.amazon.sftp import ConnectionRefused, MailboxUnreachable
from amazon_bluecherry.hooks.amazon_sftp import AmazonMailboxHook
from amazon_bluecherry.operators.amazon_sftp import MailboxPickupOperator, MailboxUploadOperator
from amazon_bluecherry.store.models import OutboundDocument


def test_pickup_through_the_hook(mailbox_env, store, make_x12):
    mailbox_env.drop("VENDR850.000000001", make_x12(1))
    mailbox_env.drop("VENDR850..2", make_x12(2))

    report = AmazonMailboxHook().pickup(store)

    [raw_id] = report.new_raw_document_ids
    assert store.get_raw_document(raw_id).content == make_x12(1)
    assert report.location == "amazon_sftp_download:/download"
    # refused, and moved out of Amazon's folder into the default quarantine folder under it
    assert mailbox_env.remote_files("download") == []
    [quarantined] = (mailbox_env.download_dir / "quarantine").iterdir()
    assert quarantined.name.startswith("refused-name-") and quarantined.read_bytes() == make_x12(2)
    [refused] = store.list_exceptions(type="refused_file_name")
    assert "amazon_sftp_download:/download" in refused.message
    assert refused.details["quarantine_path"] == f"quarantine/{quarantined.name}"
    # the hook logged in as the download account
    assert {entry.user for entry in mailbox_env.audit} == {mailbox_env.download_user}


def test_upload_through_the_hook(mailbox_env, sqlite_url, make_x12):
    from amazon_bluecherry.store import Store

    store = Store(sqlite_url)
    store.migrate()
    content = make_x12(7, transaction_set="856")
    with store.session() as db:
        raw_id, _ = store.save_raw_document(content, partner="AMAZON", transport="sftp", direction="out",
                                            session=db)
        document = OutboundDocument(partner="AMAZON", doc_type="856", raw_document_id=raw_id, isa13="000000007",
                                    gs06="7", file_name=outbound_file_name("VENDR", "856", 7))
        db.add(document)
        db.flush()
        outbound_id = document.id

    report = AmazonMailboxHook().upload(store, [outbound_id])

    assert report.sent == [outbound_id]
    assert mailbox_env.received() == {"VENDR856.000000007": content}
    assert {entry.user for entry in mailbox_env.audit} == {mailbox_env.upload_user}


def test_each_account_reaches_only_its_own_folder(mailbox_env):
    # the download connection pointed at the upload folder: that folder does not exist there
    with AmazonMailboxHook(download_dir="/upload").folder("download") as folder, pytest.raises(FileNotFoundError):
        folder.list_files()


def test_a_wrong_pinned_host_key_is_refused(mailbox_env, set_connection):
    impostor = asyncssh.generate_private_key("ssh-ed25519").export_public_key("openssh").decode()
    connection = mailbox_env.airflow_connection("download", conn_timeout=5)
    connection["extra"]["host_key"] = " ".join(impostor.split()[:2])
    set_connection("amazon_sftp_download", connection)

    started = time.monotonic()
    with pytest.raises(MailboxUnreachable, match="BadHostKeyException") as caught, \
            AmazonMailboxHook().folder("download"):
        pass
    assert isinstance(caught.value.__cause__, paramiko.BadHostKeyException)
    assert time.monotonic() - started < 10
    assert mailbox_env.audit == []


def test_a_password_only_connection_is_refused_before_connecting(mailbox_env, set_connection):
    connection = mailbox_env.airflow_connection("download")
    del connection["extra"]["key_file"]
    connection["password"] = "hunter2"
    set_connection("amazon_sftp_download", connection)
    with pytest.raises(ConnectionRefused, match="password only"):
        AmazonMailboxHook().get_sftp_hook("download")


def test_a_password_next_to_the_key_is_never_offered(mailbox_env, set_connection, capsys):
    connection = mailbox_env.airflow_connection("download")
    connection["password"] = "hunter2"
    set_connection("amazon_sftp_download", connection)
    hook = AmazonMailboxHook()
    assert hook.get_sftp_hook("download").password == ""
    with hook.folder("download") as folder:
        assert folder.list_files() == []
    assert "ignored (key-pair login only)" in capsys.readouterr().out  # Airflow's hook logger


def test_the_other_accounts_key_does_not_log_in(mailbox_env, set_connection):
    connection = mailbox_env.airflow_connection("download", conn_timeout=5)
    connection["extra"]["key_file"] = str(mailbox_env.upload_key_file)
    set_connection("amazon_sftp_download", connection)
    with pytest.raises(MailboxUnreachable, match="AuthenticationException"), \
            AmazonMailboxHook().folder("download"):
        pass


def test_skipping_the_host_key_check_needs_the_sandbox_setting(mailbox_env, set_connection):
    connection = mailbox_env.airflow_connection("download")
    del connection["extra"]["host_key"]
    connection["extra"]["no_host_key_check"] = "true"
    set_connection("amazon_sftp_download", connection)
    with pytest.raises(ConnectionRefused, match="no_host_key_check"):
        AmazonMailboxHook().get_sftp_hook("download")
    with AmazonMailboxHook(allow_no_host_key_check=True).folder("download") as folder:
        assert folder.list_files() == []


def test_the_connection_timeout_comes_from_the_extras_or_the_settings(mailbox_env, set_connection):
    assert AmazonMailboxHook().get_sftp_hook("download").conn_timeout == 5
    connection = mailbox_env.airflow_connection("download")
    del connection["extra"]["conn_timeout"]
    set_connection("amazon_sftp_download", connection)
    assert AmazonMailboxHook(conn_timeout=7).get_sftp_hook("download").conn_timeout == 7
    assert AmazonMailboxHook().get_sftp_hook("download").conn_timeout == 30  # AB_SFTP_CONN_TIMEOUT default


def test_test_connection_lists_both_folders(mailbox_env, make_x12):
    mailbox_env.drop("VENDR850.000000001", make_x12(1))
    assert AmazonMailboxHook().test_connection() == (
        True, "download folder: 1 files; upload folder: 0 files")


@pytest.fixture
def forget_stores():
    from amazon_bluecherry.store import reset_store_cache

    yield
    reset_store_cache()  # the operators open stores through get_store()


def test_the_operators_pass_ids_only(mailbox_env, sqlite_url, make_x12, forget_stores):
    from amazon_bluecherry.store import Store

    store = Store(sqlite_url)
    store.migrate()
    mailbox_env.drop("VENDR850.000000001", make_x12(1))
    mailbox_env.drop("VENDR850.000000002", make_x12(2), mtime=time.time() + 5)

    pickup_op = MailboxPickupOperator(task_id="pickup", database_url=sqlite_url, max_files="1")
    first = pickup_op.execute(context={})
    second = pickup_op.execute(context={})
    assert len(first) == 1 and len(second) == 1 and all(isinstance(i, int) for i in first + second)
    assert store.get_raw_document(first[0]).content == make_x12(1)

    with store.session() as db:
        raw_id, _ = store.save_raw_document(make_x12(9), partner="AMAZON", transport="sftp", direction="out",
                                            session=db)
        document = OutboundDocument(partner="AMAZON", doc_type="855", raw_document_id=raw_id, isa13="000000009",
                                    gs06="9", file_name="VENDR855.000000009")
        db.add(document)
        db.flush()
        outbound_id = document.id
    rendered = MailboxUploadOperator(task_id="upload", database_url=sqlite_url,
                                     outbound_document_ids=f"[{outbound_id}]")  # a Jinja-rendered XCom
    with pytest.raises(TypeError, match="XComArg"):
        rendered.execute(context={})
    upload_op = MailboxUploadOperator(task_id="upload", database_url=sqlite_url,
                                      outbound_document_ids=[outbound_id])  # as an XComArg resolves
    assert upload_op.execute(context={}) == [outbound_id]
    assert list(mailbox_env.received()) == ["VENDR855.000000009"]
    assert set(MailboxPickupOperator.template_fields) >= {"download_conn_id", "max_files"}
    assert "outbound_document_ids" in MailboxUploadOperator.template_fields
