"""The import and export folders of the flat-file gateway: local or SFTP, one small interface.

Completion rule for anything we write: the bytes go to a temporary name
(``.<name>.<random>.part``) which is renamed to the final name when whole. Readers skip
names starting with ``.``, so nobody reads a file still being written.
"""

from __future__ import annotations

import logging
import os
import posixpath
import uuid
from pathlib import Path
from typing import Protocol, runtime_checkable

__all__ = ["Folder", "LocalFolder", "SftpFolder", "is_temporary", "temporary_name"]

log = logging.getLogger(__name__)


def temporary_name(name: str) -> str:
    return f".{name}.{uuid.uuid4().hex[:12]}.part"


def is_temporary(name: str) -> bool:
    """Names being written (or hidden): never read them."""
    return name.startswith(".") or name.endswith(".part")


@runtime_checkable
class Folder(Protocol):
    """What the flat-file gateway needs from a folder."""

    def list_names(self) -> list[str]:
        """Names of the plain files in the folder (not sub-folders), temporary ones included."""

    def read_bytes(self, name: str) -> bytes: ...

    def write_atomic(self, name: str, data: bytes) -> None:
        """Write under a temporary name, then rename to ``name``."""

    def remove(self, name: str) -> None: ...

    def describe(self, name: str = "") -> str:
        """A human-readable location for messages."""

    def check(self) -> None:
        """Raise ``OSError`` unless the folder exists and can be listed."""


class LocalFolder:
    def __init__(self, path: str | os.PathLike[str], *, create: bool = True):
        self.path = Path(path)
        if create:
            self.path.mkdir(parents=True, exist_ok=True)

    def list_names(self) -> list[str]:
        try:
            return sorted(entry.name for entry in os.scandir(self.path) if entry.is_file())
        except FileNotFoundError:
            return []

    def read_bytes(self, name: str) -> bytes:
        return (self.path / _plain(name)).read_bytes()

    def write_atomic(self, name: str, data: bytes) -> None:
        final = self.path / _plain(name)
        temporary = self.path / temporary_name(final.name)
        try:
            with open(temporary, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, final)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise

    def remove(self, name: str) -> None:
        (self.path / _plain(name)).unlink(missing_ok=True)

    def describe(self, name: str = "") -> str:
        return str(self.path / name) if name else str(self.path)

    def check(self) -> None:
        with os.scandir(self.path):
            pass

    def __repr__(self) -> str:
        return f"LocalFolder({str(self.path)!r})"


class SftpFolder:
    """A remote folder through an SFTP client with paramiko's interface (``SFTPHook().get_conn()``)."""

    def __init__(self, client, path: str):
        self.client = client
        self.path = path

    def list_names(self) -> list[str]:
        import stat

        return sorted(
            entry.filename
            for entry in self.client.listdir_attr(self.path)
            if stat.S_ISREG(entry.st_mode or 0)
        )

    def read_bytes(self, name: str) -> bytes:
        with self.client.open(posixpath.join(self.path, _plain(name)), "rb") as handle:
            return handle.read()

    def write_atomic(self, name: str, data: bytes) -> None:
        final = posixpath.join(self.path, _plain(name))
        temporary = posixpath.join(self.path, temporary_name(_plain(name)))
        with self.client.open(temporary, "wb") as handle:
            handle.write(data)
        # posix_rename overwrites like os.replace; plain rename fails if the target exists.
        self.client.posix_rename(temporary, final)

    def remove(self, name: str) -> None:
        try:
            self.client.remove(posixpath.join(self.path, _plain(name)))
        except FileNotFoundError:
            log.debug("already gone: %s", name)

    def describe(self, name: str = "") -> str:
        return f"sftp:{posixpath.join(self.path, name) if name else self.path}"

    def check(self) -> None:
        self.client.listdir(self.path)


def _plain(name: str) -> str:
    """Refuse names that would leave the folder."""
    if not name or "/" in name or "\\" in name or name in (".", "..") or "\x00" in name:
        raise ValueError(f"not a plain file name: {name!r}")
    return name
