"""The loopback mailbox itself: Amazon's account rules, whole files only, the CLI."""

from __future__ import annotations

import base64
import io
import json
import os
import subprocess
import sys
import time

import paramiko
import pytest

from sandbox.amazon.sftp_server import start_mailbox_server


@pytest.fixture
def mailbox(tmp_path):
    server = start_mailbox_server(tmp_path / "mailbox")
    try:
        yield server
    finally:
        server.stop()


def connect(mailbox, user, **credentials):
    client = paramiko.SSHClient()
    client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
    client.connect(mailbox.host, port=mailbox.port, username=user, look_for_keys=False, allow_agent=False,
                   timeout=5, banner_timeout=5, auth_timeout=5, **credentials)
    return client


def test_each_account_sees_only_its_own_folder(mailbox):
    with mailbox.open_sftp("download") as sftp:
        assert sftp.listdir("/") == ["download"]
        assert sftp.listdir("/../..") == ["download"]  # the chroot holds
        with pytest.raises(FileNotFoundError):
            sftp.listdir("/upload")
    with mailbox.open_sftp("upload") as sftp:
        assert sftp.listdir("/") == ["upload"]


def test_passwords_are_refused_even_for_real_accounts(mailbox):
    with pytest.raises(paramiko.BadAuthenticationType) as caught:
        connect(mailbox, mailbox.download_user, password="anything")
    assert caught.value.allowed_types == ["publickey"]


def test_one_accounts_key_does_not_open_the_other(mailbox):
    with pytest.raises(paramiko.AuthenticationException):
        connect(mailbox, mailbox.download_user, key_filename=str(mailbox.upload_key_file))
    with pytest.raises(paramiko.AuthenticationException):
        connect(mailbox, "root", key_filename=str(mailbox.download_key_file))
    connect(mailbox, mailbox.upload_user, key_filename=str(mailbox.upload_key_file)).close()


def test_the_host_key_line_is_what_the_server_presents(mailbox):
    client = connect(mailbox, mailbox.download_user, key_filename=str(mailbox.download_key_file))
    presented = client.get_transport().get_remote_server_key()
    client.close()
    assert mailbox.host_key_line == f"{presented.get_name()} {presented.get_base64()}"


def test_keys_are_kept_so_a_restart_keeps_the_pin(tmp_path):
    with start_mailbox_server(tmp_path / "mb") as first:
        pin, key_file = first.host_key_line, first.download_key_file.read_bytes()
    with start_mailbox_server(tmp_path / "mb") as second:
        assert second.host_key_line == pin and second.download_key_file.read_bytes() == key_file
        assert oct(second.download_key_file.stat().st_mode & 0o777) == "0o600"


def test_drop_publishes_whole_files_under_new_names_only(mailbox):
    mailbox.drop("VENDR850.I0000001", b"ISA*first")
    with pytest.raises(FileExistsError):
        mailbox.drop("VENDR850.I0000001", b"ISA*second")
    with pytest.raises(ValueError):
        mailbox.drop("sub/VENDR850.1", b"x")
    assert (mailbox.download_dir / "VENDR850.I0000001").read_bytes() == b"ISA*first"
    assert mailbox.remote_files("download") == ["VENDR850.I0000001"]
    assert os.listdir(mailbox.root_dir / "staging") == []  # nothing half-written left behind


def test_an_upload_counts_as_received_only_once_renamed(mailbox):
    with mailbox.open_sftp("upload") as sftp:
        sftp.putfo(io.BytesIO(b"ISA*00*half"), "/upload/VENDR855.000000047.part")
        assert mailbox.received() == {}
        sftp.rename("/upload/VENDR855.000000047.part", "/upload/VENDR855.000000047")
    assert mailbox.received() == {"VENDR855.000000047": b"ISA*00*half"}
    assert mailbox.take_received() == {"VENDR855.000000047": b"ISA*00*half"}
    assert mailbox.received() == {} and mailbox.remote_files("upload") == []


def test_a_rename_never_replaces_a_file(mailbox):
    with mailbox.open_sftp("upload") as sftp:
        sftp.putfo(io.BytesIO(b"first"), "/upload/A")
        sftp.putfo(io.BytesIO(b"second"), "/upload/B.part")
        with pytest.raises(OSError):
            sftp.rename("/upload/B.part", "/upload/A")
        with pytest.raises(OSError):
            sftp.posix_rename("/upload/B.part", "/upload/A")
    assert (mailbox.upload_dir / "A").read_bytes() == b"first"


def test_injected_delete_failures_and_the_audit_trail(mailbox):
    mailbox.drop("VENDR850.1", b"ISA*x")
    mailbox.fail_remove = {"VENDR850.1"}
    with mailbox.open_sftp("download") as sftp:
        assert sftp.open("/download/VENDR850.1").read() == b"ISA*x"
        with pytest.raises(PermissionError):
            sftp.remove("/download/VENDR850.1")
        mailbox.fail_remove = False
        sftp.remove("/download/VENDR850.1")
    assert mailbox.bytes_read("VENDR850.1") == 5 and mailbox.opened_for_reading("VENDR850.1")
    assert [e.op for e in mailbox.audit if e.op == "remove"] == ["remove", "remove"]
    assert mailbox.remote_files("download") == []


def test_airflow_connections_carry_key_pinned_host_and_timeout(mailbox):
    env = mailbox.airflow_env(conn_timeout=4)
    download = json.loads(env["AIRFLOW_CONN_AMAZON_SFTP_DOWNLOAD"])
    assert download["conn_type"] == "sftp" and download["port"] == mailbox.port
    assert download["login"] == mailbox.download_user
    assert download["extra"] == {"key_file": str(mailbox.download_key_file), "host_key": mailbox.host_key_line,
                                 "conn_timeout": 4}
    assert "password" not in download
    assert json.loads(env["AIRFLOW_CONN_AMAZON_SFTP_UPLOAD"])["login"] == mailbox.upload_user
    assert env["AB_DOWNLOAD_DIR"] == "/download" and env["AB_UPLOAD_DIR"] == "/upload"


def test_cli_serves_the_mailbox_and_prints_its_connections(tmp_path):
    process = subprocess.Popen(
        [sys.executable, "-m", "amazon_bluecherry", "sandbox", "amazon", "serve-mailbox",
         "--root", str(tmp_path / "mb"), "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        lines = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            lines.append(line)
            if line.startswith("}"):
                break
        info = json.loads("".join(lines))
        connection = json.loads(info["env"]["AIRFLOW_CONN_AMAZON_SFTP_DOWNLOAD"])
        client = paramiko.SSHClient()
        key_type, key_data = info["host_key"].split()
        client.get_host_keys().add(f"[{info['host']}]:{info['port']}", key_type,
                                   paramiko.PKey.from_type_string(key_type, base64.b64decode(key_data)))
        client.connect(info["host"], port=info["port"], username=connection["login"],
                       key_filename=connection["extra"]["key_file"], look_for_keys=False, allow_agent=False,
                       timeout=5)
        with client.open_sftp() as sftp:
            assert sftp.listdir("/") == ["download"]
        client.close()
    finally:
        process.terminate()
        process.wait(timeout=20)
    assert process.returncode == 0
