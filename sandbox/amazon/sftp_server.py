"""A loopback SFTP mailbox that behaves like Amazon's: two key-only accounts, whole files only.

Amazon hosts one SFTP account we download from (Amazon drops 850s, 820s, 997s there) and
another we upload into (855, 856, 810, 846, 997). This server runs asyncssh in a background
thread on 127.0.0.1 and maps each account to its own chroot::

    <root>/accounts/<download_user>/download/   what Amazon sends   (remote path /download)
    <root>/accounts/<upload_user>/upload/       what we send        (remote path /upload)
    <root>/keys/                                host key and one client key pair per account
    <root>/staging/                             Amazon's side writes here, then links into place

Only public-key logins are accepted (password and keyboard-interactive are refused). Keys
are generated once per root and reused, so a restarted server keeps its host key pin.

``drop()`` publishes a file the way Amazon does (complete, atomically); ``received()``
returns completed uploads only (``*.part`` and dot-files are uploads in progress). Every
open/read/remove/rename is written to ``audit`` so tests can prove what was (not) read;
``fail_remove`` injects delete failures and ``grow_during_read`` a file that grows while
it is being read.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import os
import random
import stat
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import asyncssh

log = logging.getLogger(__name__)

Account = Literal["download", "upload"]

# An upload is complete only once renamed to its final name.
_IN_PROGRESS_SUFFIXES = (".part", ".tmp")


def is_in_progress(name: str) -> bool:
    return name.startswith(".") or name.endswith(_IN_PROGRESS_SUFFIXES)


@dataclass(frozen=True)
class AuditEntry:
    user: str
    op: str  # open_read, open_write, read, remove, rename, listdir
    path: str  # as the client named it
    nbytes: int = 0


@dataclass
class _Account:
    user: str
    home: Path  # the chroot
    folder: Path  # the mailbox folder inside it
    key_file: Path
    authorized_keys: asyncssh.SSHAuthorizedKeys


class _MailboxSSHServer(asyncssh.SSHServer):
    """Public-key auth only, with each account's own authorized key."""

    def __init__(self, accounts: dict[str, _Account]):
        self._accounts = accounts
        self._conn: asyncssh.SSHServerConnection | None = None

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self._conn = conn

    def begin_auth(self, username: str) -> bool:
        account = self._accounts.get(username)
        if account is not None and self._conn is not None:
            self._conn.set_authorized_keys(account.authorized_keys)
        return True  # unknown users must still authenticate, and cannot

    def password_auth_supported(self) -> bool:
        return False

    def kbdint_auth_supported(self) -> bool:
        return False

    def public_key_auth_supported(self) -> bool:
        return True


class _MailboxSFTPServer(asyncssh.SFTPServer):
    """The standard asyncssh file server, chrooted per account, with an audit trail."""

    def __init__(self, chan, mailbox: MailboxServer):
        self._user = chan.get_extra_info("username")
        self._mailbox = mailbox
        account = mailbox._accounts[self._user]
        super().__init__(chan, chroot=os.fsencode(account.home))

    def _audit(self, op: str, path: bytes | str, nbytes: int = 0) -> None:
        name = os.fsdecode(path) if isinstance(path, bytes) else path
        self._mailbox.audit.append(AuditEntry(self._user, op, name, nbytes))

    def open(self, path, pflags, attrs):
        writing = bool(pflags & (asyncssh.FXF_WRITE | asyncssh.FXF_APPEND | asyncssh.FXF_CREAT))
        self._audit("open_write" if writing else "open_read", path)
        file_obj = super().open(path, pflags, attrs)
        self._mailbox._open_paths[id(file_obj)] = (os.fsdecode(path), os.fsdecode(self.map_path(path)))
        return file_obj

    def read(self, file_obj, offset, size):
        client_path, local_path = self._mailbox._open_paths.get(id(file_obj), ("?", None))
        extra = self._mailbox.grow_during_read.pop(os.path.basename(client_path), None)
        if extra is not None and local_path:
            with open(local_path, "ab") as fh:  # a sender still appending after we listed it
                fh.write(extra)
        self._maybe_drop("read", client_path)
        data = super().read(file_obj, offset, size)
        self._audit("read", client_path, len(data))
        return data

    def write(self, file_obj, offset, data):
        client_path, _ = self._mailbox._open_paths.get(id(file_obj), ("?", None))
        self._maybe_drop("write", client_path)
        return super().write(file_obj, offset, data)

    def _maybe_drop(self, op: str, client_path: str) -> None:
        """Fault injection: the connection dies in the middle of a transfer."""
        if self._mailbox.drop_transfer_rate and self._mailbox._faults.random() < self._mailbox.drop_transfer_rate:
            self._audit(f"dropped_{op}", client_path)
            self.connection.abort()
            raise asyncssh.SFTPConnectionLost(f"connection dropped during {op} of {client_path} (fault injected)")

    def close(self, file_obj):
        self._mailbox._open_paths.pop(id(file_obj), None)
        return super().close(file_obj)

    def remove(self, path):
        self._audit("remove", path)
        name = os.path.basename(os.fsdecode(path))
        if self._mailbox.fail_remove is True or name in (self._mailbox.fail_remove or ()):
            raise asyncssh.SFTPPermissionDenied(f"remove of {name} refused (fault injected)")
        return super().remove(path)

    def rename(self, oldpath, newpath):
        # asyncssh's rename already refuses an existing target (SFTP v3 semantics, as OpenSSH)
        self._audit("rename", oldpath + b" -> " + newpath)
        return super().rename(oldpath, newpath)

    def posix_rename(self, oldpath, newpath):
        # Amazon's names are unique: a rename never replaces a file, whichever verb is used.
        self._audit("rename", oldpath + b" -> " + newpath)
        return super().rename(oldpath, newpath)


@dataclass
class MailboxServer:
    """A running loopback mailbox; use as a context manager or call ``stop()``."""

    root_dir: Path
    host: str
    port: int
    host_key_line: str
    download_user: str
    upload_user: str
    download_key_file: Path
    upload_key_file: Path
    download_dir: Path  # local path of the download folder (remote: ``download_remote_dir``)
    upload_dir: Path
    download_remote_dir: str = "/download"
    upload_remote_dir: str = "/upload"
    audit: list[AuditEntry] = field(default_factory=list)
    # True: every remove fails; a set of names: removes of those names fail.
    fail_remove: bool | set[str] = False
    # name -> bytes appended to that file when a client first reads it (a file still growing).
    grow_during_read: dict[str, bytes] = field(default_factory=dict)
    # Share of reads and writes during which the connection is dropped (see set_faults).
    drop_transfer_rate: float = 0.0
    _faults: random.Random = field(default_factory=random.Random, repr=False)
    _accounts: dict[str, _Account] = field(default_factory=dict, repr=False)
    _open_paths: dict[int, tuple[str, str]] = field(default_factory=dict, repr=False)
    _loop: asyncio.AbstractEventLoop | None = field(default=None, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)
    _acceptor: asyncssh.SSHAcceptor | None = field(default=None, repr=False)

    # --- Amazon's side ----------------------------------------------------------------
    def drop(self, name: str, content: bytes, *, mtime: float | None = None) -> Path:
        """Publish ``content`` in the download folder as Amazon does: whole, under a new name.

        The name is taken as given (hostile names included: Amazon's side is not ours to
        police); only ``/`` is impossible on a POSIX file system.
        """
        if "/" in name or name in ("", ".", ".."):
            raise ValueError(f"{name!r} cannot be a file name on this server")
        staged = self.root_dir / "staging" / uuid.uuid4().hex
        staged.write_bytes(content)
        if mtime is not None:
            os.utime(staged, (mtime, mtime))
        target = self.download_dir / name
        try:
            os.link(staged, target)  # atomic, and refuses an existing name
        finally:
            staged.unlink()
        return target

    def set_faults(self, *, drop_transfer_rate: float = 0.0, seed: int | None = None) -> None:
        """Drop the connection during this share of reads and writes (0 switches it off)."""
        self._faults = random.Random(seed)
        self.drop_transfer_rate = drop_transfer_rate

    def remote_files(self, account: Account = "download") -> list[str]:
        """Names in an account's mailbox folder right now (in-progress files included)."""
        folder = self.download_dir if account == "download" else self.upload_dir
        return sorted(entry.name for entry in os.scandir(folder) if entry.is_file())

    def received(self) -> dict[str, bytes]:
        """Completed uploads (renamed to their final name), oldest first; temp names ignored."""
        files = [
            entry for entry in os.scandir(self.upload_dir)
            if entry.is_file() and not is_in_progress(entry.name)
        ]
        files.sort(key=lambda entry: (entry.stat().st_mtime, entry.name))
        return {entry.name: Path(entry.path).read_bytes() for entry in files}

    def take_received(self) -> dict[str, bytes]:
        """Like ``received()``, and remove them, as Amazon does once it has picked them up."""
        taken = self.received()
        for name in taken:
            (self.upload_dir / name).unlink(missing_ok=True)
        return taken

    def bytes_read(self, name: str) -> int:
        """Bytes served to clients from files called ``name`` (any folder)."""
        return sum(e.nbytes for e in self.audit if e.op == "read" and os.path.basename(e.path) == name)

    def opened_for_reading(self, name: str) -> bool:
        return any(e.op == "open_read" and os.path.basename(e.path) == name for e in self.audit)

    # --- how clients connect ------------------------------------------------------------
    def account(self, account: Account) -> tuple[str, Path, str]:
        """(user, private key file, remote folder) of one account."""
        if account == "download":
            return self.download_user, self.download_key_file, self.download_remote_dir
        if account == "upload":
            return self.upload_user, self.upload_key_file, self.upload_remote_dir
        raise ValueError(f"account must be 'download' or 'upload', not {account!r}")

    def airflow_connection(self, account: Account, *, conn_timeout: int = 10) -> dict:
        """An Airflow connection (JSON form) for ``AIRFLOW_CONN_<ID>``: key file, pinned host key."""
        user, key_file, _ = self.account(account)
        return {
            "conn_type": "sftp",
            "host": self.host,
            "port": self.port,
            "login": user,
            "extra": {"key_file": str(key_file), "host_key": self.host_key_line, "conn_timeout": conn_timeout},
        }

    def airflow_env(
        self,
        *,
        download_conn_id: str = "amazon_sftp_download",
        upload_conn_id: str = "amazon_sftp_upload",
        conn_timeout: int = 10,
    ) -> dict[str, str]:
        """Environment for Airflow and our settings: both connections and both folders."""
        return {
            f"AIRFLOW_CONN_{download_conn_id.upper()}": json.dumps(
                self.airflow_connection("download", conn_timeout=conn_timeout)
            ),
            f"AIRFLOW_CONN_{upload_conn_id.upper()}": json.dumps(
                self.airflow_connection("upload", conn_timeout=conn_timeout)
            ),
            "AB_DOWNLOAD_DIR": self.download_remote_dir,
            "AB_UPLOAD_DIR": self.upload_remote_dir,
        }

    @contextlib.contextmanager
    def open_sftp(self, account: Account, *, timeout: float = 10) -> Iterator:
        """A plain paramiko SFTP client logged in to ``account`` with the host key pinned."""
        import paramiko

        user, key_file, _ = self.account(account)
        client = paramiko.SSHClient()
        key_type, key_data = self.host_key_line.split()[:2]
        pinned = paramiko.PKey.from_type_string(key_type, base64.b64decode(key_data))
        client.get_host_keys().add(f"[{self.host}]:{self.port}", key_type, pinned)
        client.set_missing_host_key_policy(paramiko.RejectPolicy())
        client.connect(self.host, port=self.port, username=user, key_filename=str(key_file),
                       look_for_keys=False, allow_agent=False, timeout=timeout, banner_timeout=timeout,
                       auth_timeout=timeout)
        try:
            sftp = client.open_sftp()
            try:
                yield sftp
            finally:
                sftp.close()
        finally:
            client.close()

    # --- life cycle ---------------------------------------------------------------------
    def stop(self) -> None:
        if self._loop is None:
            return
        loop, acceptor = self._loop, self._acceptor

        async def _close() -> None:
            if acceptor is not None:
                acceptor.close()
                await acceptor.wait_closed()

        asyncio.run_coroutine_threadsafe(_close(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._loop = None
        log.info("mailbox server on port %s stopped", self.port)

    def __enter__(self) -> MailboxServer:
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()


def mailbox_folders(
    root_dir: str | os.PathLike,
    *,
    download_user: str = "edi-download",
    upload_user: str = "edi-upload",
) -> tuple[Path, Path]:
    """(download folder, upload folder) of a mailbox root, whether or not a server runs on it.

    The same layout ``start_mailbox_server`` creates; the simulator uses it to work on the
    folders of a server running in another process.
    """
    root = Path(root_dir).resolve()
    return root / "accounts" / download_user / "download", root / "accounts" / upload_user / "upload"


def _load_or_create_key(path: Path) -> asyncssh.SSHKey:
    if path.exists():
        return asyncssh.read_private_key(str(path))
    key = asyncssh.generate_private_key("ssh-ed25519")
    key.write_private_key(str(path))  # OpenSSH format, readable by paramiko
    path.chmod(stat.S_IRUSR | stat.S_IWUSR)
    key.write_public_key(str(path) + ".pub")
    return key


def start_mailbox_server(
    root_dir: str | os.PathLike,
    *,
    port: int = 0,
    host: str = "127.0.0.1",
    download_user: str = "edi-download",
    upload_user: str = "edi-upload",
) -> MailboxServer:
    """Start the loopback mailbox under ``root_dir`` (created if needed); returns when listening."""
    root = Path(root_dir).resolve()
    keys = root / "keys"
    for folder in (keys, root / "staging"):
        folder.mkdir(parents=True, exist_ok=True)
    host_key = _load_or_create_key(keys / "ssh_host_ed25519_key")
    accounts: dict[str, _Account] = {}
    for user, folder_name in ((download_user, "download"), (upload_user, "upload")):
        home = root / "accounts" / user
        (home / folder_name).mkdir(parents=True, exist_ok=True)
        key_file = keys / f"{user}_ed25519"
        client_key = _load_or_create_key(key_file)
        authorized = asyncssh.import_authorized_keys(client_key.export_public_key("openssh").decode())
        accounts[user] = _Account(user, home, home / folder_name, key_file, authorized)

    host_key_line = " ".join(host_key.export_public_key("openssh").decode().split()[:2])
    server = MailboxServer(
        root_dir=root,
        host=host,
        port=0,
        host_key_line=host_key_line,
        download_user=download_user,
        upload_user=upload_user,
        download_key_file=accounts[download_user].key_file,
        upload_key_file=accounts[upload_user].key_file,
        download_dir=accounts[download_user].folder,
        upload_dir=accounts[upload_user].folder,
    )
    server._accounts = accounts

    loop = asyncio.new_event_loop()
    started: dict = {}
    ready = threading.Event()

    async def _listen() -> None:
        acceptor = await asyncssh.listen(
            host=host,
            port=port,
            server_host_keys=[host_key],
            server_factory=lambda: _MailboxSSHServer(accounts),
            sftp_factory=lambda chan: _MailboxSFTPServer(chan, server),
            allow_scp=False,
            agent_forwarding=False,
            x11_forwarding=False,
            allow_pty=False,
            login_timeout=30,
        )
        started["acceptor"] = acceptor

    def _run() -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(_listen())
        except BaseException as exc:  # noqa: BLE001 - handed to the starting thread
            started["error"] = exc
            ready.set()
            return
        ready.set()
        loop.run_forever()
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()

    thread = threading.Thread(target=_run, name=f"mailbox-sftp-{root.name}", daemon=True)
    thread.start()
    if not ready.wait(timeout=30):
        raise RuntimeError("loopback SFTP server did not start within 30 s")
    if "error" in started:
        raise RuntimeError(f"loopback SFTP server failed to start: {started['error']}") from started["error"]
    acceptor = started["acceptor"]
    server._acceptor = acceptor
    server._loop = loop
    server._thread = thread
    server.port = acceptor.get_port()
    log.info("mailbox server listening on %s:%s (root %s)", host, server.port, root)
    return server
