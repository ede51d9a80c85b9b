"""The mailbox as the simulator (Amazon) and the stand-in vendor touch it: folders, not SFTP.

Amazon's side needs two verbs, which the running :class:`~sandbox.amazon.sftp_server.MailboxServer`
already has: ``drop(name, bytes)`` (publish a whole file in the vendor's download folder)
and ``take_received()`` (completed uploads, removed once read). :class:`FolderMailbox` offers
the same verbs on a mailbox root without a server in this process (the CLI, while
``serve-mailbox`` runs elsewhere, or a test that needs no SSH).

:func:`vendor_pick_up` and :func:`vendor_upload` are the vendor's side, done on the folders
directly, for the stand-in vendor of the month simulation (the real vendor goes through
SFTP with the product's mailbox transport).
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Protocol, runtime_checkable


def _layout():
    # The server module's layout and in-progress rule, imported late: it pulls in asyncssh,
    # which the simulator's folder work does not need at import time.
    from sandbox.amazon import sftp_server

    return sftp_server


__all__ = ["AmazonMailbox", "FolderMailbox", "vendor_pick_up", "vendor_upload"]


@runtime_checkable
class AmazonMailbox(Protocol):
    """What the simulator needs from a mailbox (``MailboxServer`` and ``FolderMailbox`` fit)."""

    download_dir: Path
    upload_dir: Path

    def drop(self, name: str, content: bytes) -> Path: ...

    def take_received(self) -> dict[str, bytes]: ...


class FolderMailbox:
    """Amazon's side of a mailbox root (the loopback server's layout), on the file system."""

    def __init__(
        self,
        root_dir: str | os.PathLike,
        *,
        download_user: str = "edi-download",
        upload_user: str = "edi-upload",
    ):
        self.root_dir = Path(root_dir).resolve()
        self.download_dir, self.upload_dir = _layout().mailbox_folders(
            self.root_dir, download_user=download_user, upload_user=upload_user
        )
        self._staging = self.root_dir / "staging"
        for folder in (self.download_dir, self.upload_dir, self._staging):
            folder.mkdir(parents=True, exist_ok=True)

    def drop(self, name: str, content: bytes) -> Path:
        """Publish ``content`` whole under ``name`` (staged, then hard-linked: atomic, never overwrites)."""
        if "/" in name or name in ("", ".", ".."):
            raise ValueError(f"{name!r} cannot be a file name in the mailbox")
        staged = self._staging / uuid.uuid4().hex
        staged.write_bytes(content)
        target = self.download_dir / name
        try:
            os.link(staged, target)
        finally:
            staged.unlink()
        return target

    def received(self) -> dict[str, bytes]:
        """Completed uploads, oldest first (names still being written are left alone)."""
        in_progress = _layout().is_in_progress
        entries = [e for e in os.scandir(self.upload_dir) if e.is_file() and not in_progress(e.name)]
        entries.sort(key=lambda e: (e.stat().st_mtime_ns, e.name))
        return {e.name: Path(e.path).read_bytes() for e in entries}

    def take_received(self) -> dict[str, bytes]:
        taken = self.received()
        for name in taken:
            (self.upload_dir / name).unlink(missing_ok=True)
        return taken

    def __repr__(self) -> str:
        return f"FolderMailbox({str(self.root_dir)!r})"


def vendor_pick_up(download_dir: str | os.PathLike) -> dict[str, bytes]:
    """The vendor's pickup on the folder: every whole file, oldest first, deleted once read."""
    folder = Path(download_dir)
    in_progress = _layout().is_in_progress
    entries = [e for e in os.scandir(folder) if e.is_file() and not in_progress(e.name)]
    entries.sort(key=lambda e: (e.stat().st_mtime_ns, e.name))
    out = {}
    for entry in entries:
        out[entry.name] = Path(entry.path).read_bytes()
        Path(entry.path).unlink()
    return out


def vendor_upload(upload_dir: str | os.PathLike, name: str, content: bytes) -> Path:
    """The vendor's upload: written as ``<name>.part``, then renamed, so Amazon never sees half."""
    folder = Path(upload_dir)
    target = folder / name
    if target.exists():
        raise FileExistsError(f"{name} is already in the upload folder (names must be unique)")
    temp = folder / f"{name}.part"
    temp.write_bytes(content)
    os.rename(temp, target)
    return target
