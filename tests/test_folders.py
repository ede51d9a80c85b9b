"""One folder interface for Amazon's mailbox and BlueCherry's flat files: the local folder and
the SFTP folder (over the loopback SFTP server) behave the same, verb by verb."""

from __future__ import annotations

import pytest

from amazon_bluecherry.folders import FileTooLarge, Folder, LocalFolder, SftpFolder, file_names, is_temporary


@pytest.fixture(params=["local", "sftp"])
def folder(request, tmp_path):
    if request.param == "local":
        yield LocalFolder(tmp_path / "folder")
        return
    from sandbox.amazon.sftp_server import start_mailbox_server

    server = start_mailbox_server(tmp_path / "mailbox")
    try:
        with server.open_sftp("upload") as sftp:
            yield SftpFolder(sftp, server.upload_remote_dir, location=f"bluecherry_sftp:{server.upload_remote_dir}")
    finally:
        server.stop()


def test_both_folders_speak_the_one_protocol(folder):
    assert isinstance(folder, Folder)
    folder.check()
    assert folder.list_files() == []


def test_write_atomic_leaves_no_temporary_file(folder):
    # (Over an existing name it replaces it; the loopback server, like Amazon's, refuses that.)
    folder.write_atomic("ATS_1.csv", b"new")
    assert file_names(folder) == ["ATS_1.csv"] and folder.read("ATS_1.csv") == b"new"
    (entry,) = folder.list_files()
    assert (entry.name, entry.size, entry.is_file) == ("ATS_1.csv", 3, True)
    assert folder.describe("ATS_1.csv").endswith("/ATS_1.csv") and folder.describe() == folder.location


def test_write_then_rename_never_overwrites_a_sent_file(folder):
    folder.write("VENDR855.1.part", b"first")
    folder.rename("VENDR855.1.part", "VENDR855.1")
    folder.write("VENDR855.1.part", b"second")
    with pytest.raises(OSError):
        folder.rename("VENDR855.1.part", "VENDR855.1")
    assert folder.read("VENDR855.1") == b"first"
    assert is_temporary("VENDR855.1.part") and not is_temporary("VENDR855.1")


def test_read_stops_at_the_limit(folder):
    folder.write("big", b"x" * 100)
    assert folder.read("big", max_bytes=100) == b"x" * 100
    with pytest.raises(FileTooLarge, match="'big' is larger than 99 bytes"):
        folder.read("big", max_bytes=99)


def test_stat_delete_and_sub_folders(folder):
    assert folder.stat("missing") is None
    folder.write("a", b"1")
    assert folder.stat("a").size == 1
    folder.make_folder("quarantine")
    folder.make_folder("quarantine")  # exists: nothing to do
    folder.rename("a", "quarantine/a")
    assert file_names(folder) == [] and [entry.is_file for entry in folder.list_files()] == [False]
    with pytest.raises(FileNotFoundError):
        folder.delete("a")
    folder.delete("a", missing_ok=True)
    folder.write("b", b"2")
    with pytest.raises(NotADirectoryError):
        folder.make_folder("b")


@pytest.mark.parametrize("name", ["", ".", "..", "../escape", "sub/file"])
def test_names_that_leave_the_folder_are_refused(folder, name):
    with pytest.raises(ValueError, match="not a plain file name"):
        folder.write_atomic(name, b"x")
