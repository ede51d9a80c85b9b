"""SFTP side of the mailbox: a :class:`RemoteFolder` over a paramiko client, and the connection policy.

No Airflow here: the hook (``hooks/amazon_sftp.py``) opens the connection and hands its
paramiko ``SFTPClient`` to :class:`SftpFolder`; tests do the same with a plain client.
"""

from __future__ import annotations

import io
import logging
import posixpath
import stat

from amazon_bluecherry.amazon.mailbox import FileTooLarge, MailboxError, RemoteFile

log = logging.getLogger(__name__)

_CHUNK = 32768


class ConnectionRefused(MailboxError):
    """A connection's settings break the mailbox policy (key-pair login, pinned host key)."""


class MailboxUnreachable(MailboxError):
    """The SFTP server could not be reached or refused us (network, host key, login)."""


def _true(value: object) -> bool:
    return str(value).strip().lower() == "true"


def check_connection_policy(
    conn_id: str, *, password: str | None, extras: dict, allow_no_host_key_check: bool = False
) -> list[str]:
    """Refuse a connection Amazon's mailbox must not be reached with; returns warnings.

    Amazon's accounts are key-pair only, so a key is required and a password is never
    sent. The server's host key must be pinned (extra ``host_key``); skipping the check
    (``no_host_key_check``) is allowed only when ``allow_no_host_key_check`` (a sandbox).
    """
    warnings: list[str] = []
    if not (extras.get("key_file") or extras.get("private_key")):
        if password:
            raise ConnectionRefused(
                f"connection {conn_id!r} logs in with a password only; Amazon's mailbox accounts are "
                "key-pair only: set the extra 'key_file' or 'private_key'")
        raise ConnectionRefused(f"connection {conn_id!r} has no key: set the extra 'key_file' or 'private_key'")
    if password:
        warnings.append(f"connection {conn_id!r} has a password; it is ignored (key-pair login only)")
    if _true(extras.get("allow_host_key_change", False)):
        raise ConnectionRefused(f"connection {conn_id!r} sets allow_host_key_change=true; the host key must be pinned")
    if _true(extras.get("no_host_key_check", False)):
        if not allow_no_host_key_check:
            raise ConnectionRefused(
                f"connection {conn_id!r} sets no_host_key_check=true; pin the server's key in the extra "
                "'host_key' instead (skipping the check is allowed only in a sandbox, with "
                "AB_SFTP_ALLOW_NO_HOST_KEY_CHECK=true)")
        warnings.append(f"connection {conn_id!r} does not check the host key (sandbox setting)")
    elif not str(extras.get("host_key") or "").strip():
        raise ConnectionRefused(
            f"connection {conn_id!r} does not pin the server's host key: set the extra 'host_key' to its "
            "public key ('ssh-ed25519 AAAA...')")
    return warnings


class SftpFolder:
    """One remote folder through a paramiko ``SFTPClient``; implements ``RemoteFolder``."""

    def __init__(self, sftp, path: str, *, location: str | None = None):
        """:param sftp: an open ``paramiko.SFTPClient`` (the caller owns and closes it)
        :param path: the folder's absolute remote path
        :param location: how messages name the folder (default: the path)
        """
        self._sftp = sftp
        self.path = path
        self._location = location or path

    @property
    def location(self) -> str:
        return self._location

    def _path(self, name: str) -> str:
        return name if name.startswith("/") else posixpath.join(self.path, name)

    def list_files(self) -> list[RemoteFile]:
        return [
            RemoteFile(
                name=attr.filename,
                size=attr.st_size or 0,
                mtime=float(attr.st_mtime or 0),
                is_file=attr.st_mode is not None and stat.S_ISREG(attr.st_mode),
            )
            for attr in self._sftp.listdir_attr(self.path)
        ]

    def stat(self, name: str) -> RemoteFile | None:
        try:
            attr = self._sftp.stat(self._path(name))
        except FileNotFoundError:
            return None
        return RemoteFile(name=name, size=attr.st_size or 0, mtime=float(attr.st_mtime or 0),
                          is_file=attr.st_mode is not None and stat.S_ISREG(attr.st_mode))

    def read(self, name: str, *, max_bytes: int) -> bytes:
        """The whole file, never holding more than ``max_bytes`` + one chunk in memory."""
        with self._sftp.open(self._path(name), "rb") as fh:
            size = fh.stat().st_size or 0
            if size > max_bytes:
                raise FileTooLarge(name, max_bytes)
            if size:
                fh.prefetch(size)  # pipelined reads: one round trip per file, not per 32 KiB
            buffer = bytearray()
            while chunk := fh.read(min(_CHUNK, max_bytes + 1 - len(buffer))):
                buffer += chunk
                if len(buffer) > max_bytes:  # it grew after the stat: stop here
                    raise FileTooLarge(name, max_bytes)
            return bytes(buffer)

    def write(self, name: str, content: bytes) -> None:
        # confirm=True: paramiko stats the file afterwards and checks the size arrived.
        self._sftp.putfo(io.BytesIO(content), self._path(name), file_size=len(content), confirm=True)

    def rename(self, name: str, new_path: str) -> None:
        # SFTP v3 rename: fails when the target exists, so a sent file is never replaced.
        self._sftp.rename(self._path(name), self._path(new_path))

    def delete(self, name: str) -> None:
        self._sftp.remove(self._path(name))

    def make_folder(self, path: str) -> None:
        target = self._path(path)
        try:
            attributes = self._sftp.stat(target)
        except FileNotFoundError:
            self._sftp.mkdir(target)
            return
        if not stat.S_ISDIR(attributes.st_mode or 0):
            raise NotADirectoryError(f"{target} exists and is not a folder")
