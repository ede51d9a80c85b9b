"""A folder of files, on SFTP or on local disk: one interface for Amazon's mailbox and
BlueCherry's flat-file import and export folders.

No Airflow here: the hooks own the connections (``hooks/amazon_sftp.py``, ``hooks/bluecherry.py``
open an ``SFTPHook`` session) and hand its paramiko ``SFTPClient`` to :class:`SftpFolder`;
tests do the same with a plain client. Names are plain file names in the folder; only
``rename``'s target and ``make_folder`` take a path (relative to the folder, or absolute).

Two ways to write, because the two partners need different guarantees:

* ``write`` puts the bytes under the given name; the caller chooses a temporary name and
  ``rename``s it, which never overwrites (Amazon's mailbox: a sent file is never replaced);
* ``write_atomic`` writes under a name readers skip (``.<name>.<random>.part``) and moves it
  over the final name when whole (BlueCherry's folders: the newest file wins).
"""

from __future__ import annotations

import io
import logging
import os
import posixpath
import stat
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

__all__ = ["FileTooLarge", "Folder", "LocalFolder", "RemoteFile", "SftpFolder", "file_names", "is_temporary",
           "temporary_name"]

log = logging.getLogger(__name__)

_CHUNK = 32768


class FileTooLarge(Exception):
    """A file turned out bigger than the caller's limit while it was being read."""

    def __init__(self, name: str, limit: int):
        super().__init__(f"{ascii(name)} is larger than {limit} bytes")
        self.name = name
        self.limit = limit


@dataclass(frozen=True)
class RemoteFile:
    """One entry of a folder listing."""

    name: str
    size: int
    mtime: float
    is_file: bool = True


@runtime_checkable
class Folder(Protocol):
    """One folder, as the mailbox's pickup and upload and the flat-file gateway need it."""

    @property
    def location(self) -> str:
        """Where this folder is, for messages (no secrets): e.g. ``amazon_sftp_download:/download``."""

    def describe(self, name: str = "") -> str:
        """``location``, or a file in it, for messages."""

    def check(self) -> None:
        """Raise ``OSError`` unless the folder exists and can be listed."""

    def list_files(self) -> list[RemoteFile]:
        """Every entry, temporary names included (``is_file`` is False for sub-folders)."""

    def stat(self, name: str) -> RemoteFile | None: ...

    def read(self, name: str, *, max_bytes: int | None = None) -> bytes:
        """The whole file, or :class:`FileTooLarge` once more than ``max_bytes`` arrive."""

    def write(self, name: str, content: bytes) -> None:
        """Write ``content`` under ``name`` (see ``rename`` for making it visible whole)."""

    def write_atomic(self, name: str, content: bytes) -> None:
        """Write under a temporary name, then move it over ``name``."""

    def rename(self, name: str, new_path: str) -> None:
        """Rename; ``new_path`` is a name in this folder or an absolute path. Never overwrites."""

    def delete(self, name: str, *, missing_ok: bool = False) -> None: ...

    def make_folder(self, path: str) -> None:
        """Create ``path`` (relative to this folder, or absolute) unless it exists."""


def temporary_name(name: str) -> str:
    return f".{name}.{uuid.uuid4().hex[:12]}.part"


def is_temporary(name: str) -> bool:
    """Names being written (or hidden): never read them."""
    return name.startswith(".") or name.endswith(".part")


def file_names(folder: Folder) -> list[str]:
    """The names of the plain files in ``folder`` (not sub-folders), sorted, temporary ones included."""
    return sorted(entry.name for entry in folder.list_files() if entry.is_file)


def _plain(name: str) -> str:
    """Refuse names that would leave the folder."""
    if not name or "/" in name or name in (".", "..") or "\x00" in name:
        raise ValueError(f"not a plain file name: {name!r}")
    return name


class SftpFolder:
    """One remote folder through a paramiko ``SFTPClient`` (the caller owns and closes it)."""

    def __init__(self, sftp, path: str, *, location: str | None = None):
        """:param sftp: an open ``paramiko.SFTPClient`` (``SFTPHook().get_conn()``)
        :param path: the folder's absolute remote path
        :param location: how messages name the folder (default: the path)
        """
        self._sftp = sftp
        self.path = path
        self._location = location or path

    @property
    def location(self) -> str:
        return self._location

    def describe(self, name: str = "") -> str:
        return f"{self._location}/{name}" if name else self._location

    def _file(self, name: str) -> str:
        return posixpath.join(self.path, _plain(name))

    def _target(self, path: str) -> str:
        return path if path.startswith("/") else posixpath.join(self.path, path)

    def check(self) -> None:
        self._sftp.listdir(self.path)

    def list_files(self) -> list[RemoteFile]:
        return [_entry(attr.filename, attr) for attr in self._sftp.listdir_attr(self.path)]

    def stat(self, name: str) -> RemoteFile | None:
        try:
            return _entry(name, self._sftp.stat(self._file(name)))
        except FileNotFoundError:
            return None

    def read(self, name: str, *, max_bytes: int | None = None) -> bytes:
        """The whole file, never holding more than ``max_bytes`` + one chunk in memory."""
        with self._sftp.open(self._file(name), "rb") as fh:
            size = fh.stat().st_size or 0
            if max_bytes is not None and size > max_bytes:
                raise FileTooLarge(name, max_bytes)
            if size:
                fh.prefetch(size)  # pipelined reads: one round trip per file, not per 32 KiB
            if max_bytes is None:
                return fh.read()
            buffer = bytearray()
            while chunk := fh.read(min(_CHUNK, max_bytes + 1 - len(buffer))):
                buffer += chunk
                if len(buffer) > max_bytes:  # it grew after the stat: stop here
                    raise FileTooLarge(name, max_bytes)
            return bytes(buffer)

    def write(self, name: str, content: bytes) -> None:
        # confirm=True: paramiko stats the file afterwards and checks the size arrived.
        self._sftp.putfo(io.BytesIO(content), self._file(name), file_size=len(content), confirm=True)

    def write_atomic(self, name: str, content: bytes) -> None:
        temporary = posixpath.join(self.path, temporary_name(_plain(name)))
        with self._sftp.open(temporary, "wb") as handle:
            handle.write(content)
        # posix_rename overwrites like os.replace; plain rename fails if the target exists.
        self._sftp.posix_rename(temporary, self._file(name))

    def rename(self, name: str, new_path: str) -> None:
        # SFTP v3 rename: fails when the target exists, so a sent file is never replaced.
        self._sftp.rename(self._file(name), self._target(new_path))

    def delete(self, name: str, *, missing_ok: bool = False) -> None:
        try:
            self._sftp.remove(self._file(name))
        except FileNotFoundError:
            if not missing_ok:
                raise
            log.debug("already gone: %s", self.describe(name))

    def make_folder(self, path: str) -> None:
        target = self._target(path)
        try:
            attributes = self._sftp.stat(target)
        except FileNotFoundError:
            self._sftp.mkdir(target)
            return
        if not stat.S_ISDIR(attributes.st_mode or 0):
            raise NotADirectoryError(f"{target} exists and is not a folder")

    def __repr__(self) -> str:
        return f"SftpFolder({self._location!r})"


class LocalFolder:
    """A folder on local disk (BlueCherry's flat files on a shared drive, the emulator's folders)."""

    def __init__(self, path: str | os.PathLike[str], *, create: bool = True, location: str | None = None):
        self.path = Path(path)
        self._location = location or str(self.path)
        if create:
            self.path.mkdir(parents=True, exist_ok=True)

    @property
    def location(self) -> str:
        return self._location

    def describe(self, name: str = "") -> str:
        return str(self.path / name) if name else self._location

    def _file(self, name: str) -> Path:
        if "\\" in name:  # a separator on Windows
            raise ValueError(f"not a plain file name: {name!r}")
        return self.path / _plain(name)

    def _target(self, path: str) -> Path:
        return Path(path) if os.path.isabs(path) else self.path / path

    def check(self) -> None:
        with os.scandir(self.path):
            pass

    def list_files(self) -> list[RemoteFile]:
        try:
            entries = list(os.scandir(self.path))
        except FileNotFoundError:
            return []
        return [_entry(entry.name, entry.stat()) for entry in entries]

    def stat(self, name: str) -> RemoteFile | None:
        try:
            return _entry(name, self._file(name).stat())
        except FileNotFoundError:
            return None

    def read(self, name: str, *, max_bytes: int | None = None) -> bytes:
        with open(self._file(name), "rb") as handle:
            data = handle.read() if max_bytes is None else handle.read(max_bytes + 1)
        if max_bytes is not None and len(data) > max_bytes:
            raise FileTooLarge(name, max_bytes)
        return data

    def write(self, name: str, content: bytes) -> None:
        self._file(name).write_bytes(content)

    def write_atomic(self, name: str, content: bytes) -> None:
        final = self._file(name)
        temporary = self.path / temporary_name(final.name)
        try:
            with open(temporary, "wb") as handle:
                handle.write(content)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, final)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise

    def rename(self, name: str, new_path: str) -> None:
        source, target = self._file(name), self._target(new_path)
        os.link(source, target)  # fails when the target exists, like SFTP's rename
        source.unlink()

    def delete(self, name: str, *, missing_ok: bool = False) -> None:
        self._file(name).unlink(missing_ok=missing_ok)

    def make_folder(self, path: str) -> None:
        target = self._target(path)
        if target.exists() and not target.is_dir():
            raise NotADirectoryError(f"{target} exists and is not a folder")
        target.mkdir(parents=True, exist_ok=True)

    def __repr__(self) -> str:
        return f"LocalFolder({str(self.path)!r})"


def _entry(name: str, attributes) -> RemoteFile:
    """A listing entry from an ``os.stat_result`` or paramiko's ``SFTPAttributes``."""
    mode = attributes.st_mode
    return RemoteFile(name=name, size=attributes.st_size or 0, mtime=float(attributes.st_mtime or 0),
                      is_file=mode is not None and stat.S_ISREG(mode))
