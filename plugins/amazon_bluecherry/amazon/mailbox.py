"""Amazon's SFTP mailbox rules as code: file names, sizes, pickup and upload.

No Airflow here. Pickup and upload work on a :class:`RemoteFolder` (list, read, write,
rename, delete), so the same algorithm runs over the Airflow hook's connection in
production and over a plain paramiko client in tests; the rules themselves (name policy,
folder capacity, temp names, outbound names) are data in ``mailbox_rules.yaml``.

Pickup, file by file, oldest first (modification time, then name)::

    list -> refuse a bad name / leave a file still being written alone
         -> size from the listing: zero bytes or over the limit -> exception, not read
         -> download into a bounded buffer (never more than the limit)
         -> store the raw bytes (sha256-deduplicated) and judge them (X12 or not)
         -> only then delete the remote file

Picking up the same bytes twice (a delete that failed, or Amazon re-sending a file) gives
one raw document: the store answers ``created=False`` and the remote file is deleted all
the same. A batch takes at most ``max_files`` downloads, so a backlog (Amazon's folder
holds up to 500 files) drains over a few runs.

What happens to refused files (decided here, explained in the runbooks):

* bad name, oversize: never read, never deleted (we did not keep their bytes). With a
  quarantine folder configured they are moved there (out of Amazon's 500-file folder);
  otherwise, or when the move fails, they stay where they are. Either way one exception,
  with a dedupe key made of folder, name, size and mtime, so later runs do not report
  the same file again.
* zero bytes: the exception is recorded, then the remote file is deleted (nothing to keep).
* not X12: the bytes are stored first (raw first, then judged), the raw document is marked
  ``refused`` and the remote file deleted like any stored file.

Upload: the stored bytes of an outbound document are written as ``<name>.part`` and
renamed to ``<name>``, so Amazon never sees half a file; then the document is marked
``sent`` with ``sent_at`` and an event. A retry after a crash between the rename and the
record finds the file already there (same size) and only records it.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import posixpath
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Protocol

from sqlalchemy import update

from amazon_bluecherry.edi.reader import NotX12Error, sniff_delimiters
from amazon_bluecherry.store.models import OutboundDocument, RawDocument, Transaction, utcnow
from amazon_bluecherry.store.store import Store

log = logging.getLogger(__name__)

RULES_FILE = Path(__file__).with_name("mailbox_rules.yaml")

TRANSPORT = "sftp"
OWNER = "integration"

# Exception types (each has docs/runbooks/<type>.md).
EMPTY_FILE = "empty_file"
OVERSIZE_FILE = "oversize_file"
NOT_X12 = "not_x12"
REFUSED_FILE_NAME = "refused_file_name"
REMOTE_DELETE_FAILED = "remote_delete_failed"
# As in include/mappings/exception_types.yaml (the owner table); all owned by integration.
_SEVERITY = {EMPTY_FILE: "warning", OVERSIZE_FILE: "error", NOT_X12: "error", REFUSED_FILE_NAME: "error",
             REMOTE_DELETE_FAILED: "warning"}

_SNIFF_BYTES = 1024  # enough for an ISA (106 chars) after a BOM and some blank lines
_BOM = b"\xef\xbb\xbf"
_WHITESPACE = " \t\r\n\x0b\x0c"


class MailboxError(Exception):
    """The mailbox could not do what was asked."""


class FileTooLarge(MailboxError):
    """A remote file turned out bigger than the limit while it was being read."""

    def __init__(self, name: str, limit: int):
        super().__init__(f"{display_name(name)} is larger than {limit} bytes")
        self.name = name
        self.limit = limit


class UploadError(MailboxError):
    """One or more outbound documents could not be uploaded; they stay ``pending``."""

    def __init__(self, message: str, report: UploadReport):
        super().__init__(message)
        self.report = report


@dataclass(frozen=True)
class RemoteFile:
    """One entry of a remote folder listing."""

    name: str
    size: int
    mtime: float
    is_file: bool = True


class RemoteFolder(Protocol):
    """One remote folder, as pickup and upload need it; names are plain file names."""

    @property
    def location(self) -> str:
        """Where this folder is, for messages (no secrets): e.g. ``amazon_sftp_download:/download``."""

    def list_files(self) -> list[RemoteFile]: ...

    def stat(self, name: str) -> RemoteFile | None: ...

    def read(self, name: str, *, max_bytes: int) -> bytes:
        """The whole file, or :class:`FileTooLarge` once more than ``max_bytes`` arrive."""

    def write(self, name: str, content: bytes) -> None: ...

    def rename(self, name: str, new_path: str) -> None:
        """Rename; ``new_path`` is a name in this folder or an absolute remote path. Never overwrites."""

    def delete(self, name: str) -> None: ...


def display_name(name: str) -> str:
    """A remote name safe to print: quoted, with control and non-ASCII characters escaped."""
    return ascii(name)


# --- the rules ---------------------------------------------------------------------------
@dataclass(frozen=True)
class MailboxRules:
    """Amazon's mailbox rules (``mailbox_rules.yaml``)."""

    folder_capacity: int = 500
    folder_warning_fill: int = 400
    max_name_length: int = 128
    name_characters: str = "A-Za-z0-9._-"
    in_progress_prefixes: tuple[str, ...] = (".",)
    in_progress_suffixes: tuple[str, ...] = (".part", ".tmp")
    upload_temp_suffix: str = ".part"
    outbound_name: str = "{vendor_code}{transaction_set}.{number:09d}"

    @classmethod
    def load(cls, path: str | Path = RULES_FILE) -> MailboxRules:
        import yaml

        with open(path, encoding="utf-8") as fh:
            data = yaml.safe_load(fh) or {}
        for key in ("in_progress_prefixes", "in_progress_suffixes"):
            if key in data:
                data[key] = tuple(data[key])
        return cls(**data)

    def refuse_name(self, name: str) -> str | None:
        """Why ``name`` must not be touched, or None when it is acceptable."""
        if not name:
            return "the name is empty"
        if len(name) > self.max_name_length:
            return f"the name is {len(name)} characters long (limit {self.max_name_length})"
        if any(ord(char) < 32 or 127 <= ord(char) < 160 for char in name):
            return "the name contains control characters"
        if "/" in name or "\\" in name:
            return "the name contains a path separator ('/' or '\\')"
        if ".." in name or name == ".":
            return "the name contains '..' or is '.'"
        bad = sorted(set(re.sub(f"[{self.name_characters}]", "", name)))
        if bad:
            return f"the name contains characters outside [{self.name_characters}]: {ascii(''.join(bad))}"
        return None

    def is_in_progress(self, name: str) -> bool:
        """A file still being written (temp name): left alone until it is renamed."""
        return name.startswith(self.in_progress_prefixes) or name.endswith(self.in_progress_suffixes)

    def upload_temp_name(self, name: str) -> str:
        return name + self.upload_temp_suffix

    def outbound_file_name(self, vendor_code: str, transaction_set: str, number: int) -> str:
        """Unique outbound name, e.g. ``VENDR855.000000123`` (vendor code, set, ISA13)."""
        if not re.fullmatch(r"[A-Za-z0-9]{1,20}", vendor_code):
            raise ValueError(f"vendor code {vendor_code!r} must be 1-20 letters or digits")
        if not re.fullmatch(r"\d{3}", transaction_set):
            raise ValueError(f"transaction set {transaction_set!r} must be three digits (850, 855 ...)")
        if not 0 <= int(number) <= 999_999_999:
            raise ValueError(f"file number {number} must fit nine digits (an ISA13)")
        name = self.outbound_name.format(vendor_code=vendor_code, transaction_set=transaction_set,
                                         number=int(number))
        reason = self.refuse_name(name)
        if reason:
            raise ValueError(f"outbound name {display_name(name)} breaks the mailbox rules: {reason}")
        return name


@lru_cache(maxsize=1)
def load_rules() -> MailboxRules:
    return MailboxRules.load()


def outbound_file_name(vendor_code: str, transaction_set: str, number: int) -> str:
    """``<vendor_code><set>.<ISA13, nine digits>``, e.g. ``VENDR855.000000123``."""
    return load_rules().outbound_file_name(vendor_code, transaction_set, number)


def x12_problem(content: bytes) -> str | None:
    """Why ``content`` is not an X12 interchange (judged from its ISA header), or None."""
    head = content[:_SNIFF_BYTES]
    if head.startswith(_BOM):
        head = head[len(_BOM):]
    text = head.decode("latin-1").lstrip(_WHITESPACE)
    if not text:
        return "the file holds only whitespace"
    try:
        sniff_delimiters(text)
    except NotX12Error as exc:
        return str(exc)
    return None


def _dedupe_key(kind: str, *parts: object) -> str:
    digest = hashlib.sha256("\x00".join(str(part) for part in parts).encode("utf-8", "surrogateescape"))
    return f"mailbox:{kind}:{digest.hexdigest()[:40]}"


def _business_key(name: str) -> str:
    return display_name(name)[:80]


# --- pickup ------------------------------------------------------------------------------
@dataclass
class PickupReport:
    """What one pickup run did; ``new_raw_document_ids`` is what the next task parses."""

    location: str
    listed: int = 0
    new_raw_document_ids: list[int] = field(default_factory=list)
    duplicate_raw_document_ids: list[int] = field(default_factory=list)
    not_x12_raw_document_ids: list[int] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # display names
    exception_ids: list[int] = field(default_factory=list)
    in_progress: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    delete_failed: list[str] = field(default_factory=list)
    remaining: int = 0  # files left for the next run (batch limit reached)

    def summary(self) -> dict:
        return {
            "location": self.location, "listed": self.listed, "new": len(self.new_raw_document_ids),
            "duplicates": len(self.duplicate_raw_document_ids), "not_x12": len(self.not_x12_raw_document_ids),
            "refused": len(self.refused), "in_progress": len(self.in_progress), "deleted": len(self.deleted),
            "delete_failed": len(self.delete_failed), "remaining": self.remaining,
        }


class _Pickup:
    def __init__(self, folder: RemoteFolder, store: Store, *, partner: str, max_files: int,
                 max_file_bytes: int, quarantine_dir: str | None, rules: MailboxRules):
        self.folder = folder
        self.store = store
        self.partner = partner
        self.max_files = max_files
        self.max_file_bytes = max_file_bytes
        self.quarantine_dir = quarantine_dir or None
        self.rules = rules
        self.report = PickupReport(location=folder.location)

    def run(self) -> PickupReport:
        entries = [entry for entry in self.folder.list_files() if entry.is_file]
        entries.sort(key=lambda entry: (entry.mtime, entry.name))
        self.report.listed = len(entries)
        if len(entries) >= self.rules.folder_warning_fill:
            log.warning("%s holds %s files (Amazon's limit is %s): pickup is falling behind",
                        self.folder.location, len(entries), self.rules.folder_capacity)
        taken = 0
        for entry in entries:
            reason = self.rules.refuse_name(entry.name)
            if reason:
                self._refuse(entry, REFUSED_FILE_NAME, f"refused: {reason}", quarantine=True)
            elif self.rules.is_in_progress(entry.name):
                log.debug("%s in %s is still being written; left for later", entry.name, self.folder.location)
                self.report.in_progress.append(entry.name)
            elif entry.size == 0:
                self._refuse(entry, EMPTY_FILE, "is empty (0 bytes)", quarantine=False)
            elif entry.size > self.max_file_bytes:
                self._refuse(entry, OVERSIZE_FILE,
                             f"is {entry.size} bytes, over the limit of {self.max_file_bytes} bytes",
                             quarantine=True)
            elif taken >= self.max_files:
                self.report.remaining += 1
            else:
                taken += 1
                self._take(entry)
        log.info("pickup from %s: %s", self.folder.location, self.report.summary())
        return self.report

    def _take(self, entry: RemoteFile) -> None:
        try:
            content = self.folder.read(entry.name, max_bytes=self.max_file_bytes)
        except FileTooLarge:  # grew after the listing
            self._refuse(entry, OVERSIZE_FILE, f"grew past the limit of {self.max_file_bytes} bytes while "
                         "being read", quarantine=True)
            return
        except FileNotFoundError:  # another run took it between list and read
            log.info("%s vanished from %s before it was read", entry.name, self.folder.location)
            return
        if not content:
            self._refuse(entry, EMPTY_FILE, "is empty (0 bytes)", quarantine=False)
            return
        problem = x12_problem(content)
        with self.store.session() as db:
            raw_id, created = self.store.save_raw_document(
                content, partner=self.partner, transport=TRANSPORT, remote_name=entry.name, session=db)
            self.store.record_event(
                "mailbox.picked_up", entity_type="raw_document", entity_id=raw_id,
                payload={"remote_name": entry.name, "location": self.folder.location, "size": len(content),
                         "duplicate": not created},
                session=db)
            if created and problem:
                self.store.set_raw_document_status(raw_id, "refused", session=db)
                exception_id = self.store.open_exception(
                    NOT_X12, owner=OWNER, raw_document_id=raw_id, business_key=_business_key(entry.name),
                    dedupe_key=f"not_x12:{raw_id}",  # the same key intake uses: one exception per document
                    message=(f"{display_name(entry.name)} from {self.folder.location} is not X12: {problem}. "
                             f"Its bytes are kept as raw document {raw_id}; it was not processed."),
                    details={"remote_name": entry.name, "location": self.folder.location,
                             "size": len(content), "problem": problem},
                    session=db)
                self.report.exception_ids.append(exception_id)
        # Only now, with the bytes committed, may the remote copy go.
        if not created:
            self.report.duplicate_raw_document_ids.append(raw_id)
            log.info("%s is a copy of raw document %s; deleting the remote file", entry.name, raw_id)
        elif problem:
            self.report.not_x12_raw_document_ids.append(raw_id)
        else:
            self.report.new_raw_document_ids.append(raw_id)
        self._delete(entry, raw_document_id=raw_id)

    def _delete(self, entry: RemoteFile, *, raw_document_id: int | None) -> None:
        try:
            self.folder.delete(entry.name)
        except FileNotFoundError:
            pass  # already gone: a concurrent run deleted it
        except OSError as exc:
            self.report.delete_failed.append(entry.name)
            log.warning("could not delete %s from %s: %s", entry.name, self.folder.location, exc)
            exception_id = self.store.open_exception(
                REMOTE_DELETE_FAILED, owner=OWNER, severity="warning", raw_document_id=raw_document_id,
                business_key=_business_key(entry.name),
                dedupe_key=_dedupe_key(REMOTE_DELETE_FAILED, self.folder.location, entry.name, entry.size,
                                       entry.mtime),
                message=(f"{display_name(entry.name)} was picked up from {self.folder.location}"
                         + (f" (raw document {raw_document_id})" if raw_document_id else "")
                         + f" but could not be deleted there: {exc}. Later runs retry the delete; "
                         "undeleted files count against Amazon's 500-file limit."),
                details={"remote_name": entry.name, "location": self.folder.location, "error": str(exc)})
            self.report.exception_ids.append(exception_id)
            return
        self.report.deleted.append(entry.name)
        self.store.record_event(
            "mailbox.remote_deleted",
            entity_type="raw_document" if raw_document_id else "remote_file",
            entity_id=raw_document_id or _business_key(entry.name),
            payload={"remote_name": entry.name, "location": self.folder.location})

    def _refuse(self, entry: RemoteFile, kind: str, reason: str, *, quarantine: bool) -> None:
        name = display_name(entry.name)
        self.report.refused.append(name)
        target = None
        if quarantine and self.quarantine_dir:
            safe = entry.name
            if kind == REFUSED_FILE_NAME:  # the name itself is the problem: never reuse it
                digest = hashlib.sha256(entry.name.encode("utf-8", "surrogateescape")).hexdigest()
                safe = f"refused-name-{digest[:16]}"
            target = posixpath.join(self.quarantine_dir, safe)
        if kind == EMPTY_FILE:
            fate = "Nothing to keep: the remote file is deleted."
        elif target:
            fate = (f"It was not read and not deleted: it is moved to {target} "
                    f"(or stays in {self.folder.location} if the move failed).")
        else:
            fate = f"It was not read and not deleted: it stays in {self.folder.location}."
        exception_id = self.store.open_exception(
            kind, owner=OWNER, severity=_SEVERITY.get(kind, "error"), business_key=_business_key(entry.name),
            dedupe_key=_dedupe_key(kind, self.folder.location, entry.name, entry.size, entry.mtime),
            message=f"{name} in {self.folder.location} {reason}. {fate}",
            details={"remote_name": name, "location": self.folder.location, "size": entry.size,
                     "mtime": entry.mtime, "reason": reason, "quarantine_path": target},
        )
        self.report.exception_ids.append(exception_id)
        if kind == EMPTY_FILE:
            self._delete(entry, raw_document_id=None)
        elif target:
            try:
                self.folder.rename(entry.name, target)
                self.store.record_event("mailbox.quarantined", entity_type="exception", entity_id=exception_id,
                                        payload={"remote_name": name, "quarantine_path": target})
            except OSError as exc:
                log.warning("could not move %s to %s: %s; left in place", name, target, exc)


def pickup(
    folder: RemoteFolder,
    store: Store,
    *,
    max_files: int | None = None,
    max_file_bytes: int | None = None,
    quarantine_dir: str | None = None,
    partner: str | None = None,
    rules: MailboxRules | None = None,
) -> PickupReport:
    """Take up to ``max_files`` whole files from ``folder`` into the store, deleting each once stored.

    Defaults come from the settings (``AB_PICKUP_MAX_FILES``, ``AB_MAX_INBOUND_FILE_BYTES``,
    ``AB_SFTP_QUARANTINE_DIR``, ``AB_PARTNER_ID``).
    """
    from amazon_bluecherry.settings import get_settings

    settings = get_settings()
    return _Pickup(
        folder, store,
        partner=partner or settings.partner_id,
        max_files=max_files if max_files is not None else settings.pickup_max_files,
        max_file_bytes=max_file_bytes if max_file_bytes is not None else settings.max_inbound_file_bytes,
        quarantine_dir=quarantine_dir if quarantine_dir is not None else settings.sftp_quarantine_dir,
        rules=rules or load_rules(),
    ).run()


# --- upload ------------------------------------------------------------------------------
@dataclass
class UploadReport:
    location: str
    sent: list[int] = field(default_factory=list)
    already_sent: list[int] = field(default_factory=list)
    failed: dict[int, str] = field(default_factory=dict)

    def summary(self) -> dict:
        return {"location": self.location, "sent": len(self.sent), "already_sent": len(self.already_sent),
                "failed": len(self.failed)}


def _already_there(folder: RemoteFolder, name: str, content: bytes) -> bool:
    """True when ``name`` already holds exactly ``content`` (an earlier attempt's rename)."""
    existing = folder.stat(name)
    if existing is None or existing.size != len(content):
        return False
    try:
        return folder.read(name, max_bytes=len(content)) == content
    except (OSError, FileTooLarge):
        return False


def _upload_one(folder: RemoteFolder, store: Store, outbound_id: int, rules: MailboxRules,
                report: UploadReport) -> None:
    with store.session() as db:
        document = db.get(OutboundDocument, outbound_id)
        if document is None:
            raise MailboxError(f"outbound document {outbound_id} does not exist")
        if document.status != "pending":
            report.already_sent.append(outbound_id)
            log.info("outbound document %s (%s) is %s; not sent again", outbound_id, document.file_name,
                     document.status)
            return
        file_name = document.file_name
        content = db.get(RawDocument, document.raw_document_id).content
    reason = rules.refuse_name(file_name)
    if reason:
        raise MailboxError(f"outbound document {outbound_id} has file name {display_name(file_name)}: {reason}")
    temp_name = rules.upload_temp_name(file_name)
    folder.write(temp_name, content)
    try:
        folder.rename(temp_name, file_name)
    except OSError as exc:
        if not _already_there(folder, file_name, content):
            with contextlib.suppress(OSError):  # do not leave half-sent names behind
                folder.delete(temp_name)
            raise MailboxError(f"could not rename {temp_name} to {file_name} in {folder.location}: {exc}") from exc
        # An earlier attempt renamed it but did not live to record it.
        log.info("%s is already in %s from an earlier attempt", file_name, folder.location)
        folder.delete(temp_name)
    sent_at = utcnow()
    with store.session() as db:
        document = db.get(OutboundDocument, outbound_id)
        document.status = "sent"
        document.sent_at = sent_at
        # The sets in the file are sent too (their own status until Amazon's 997 says more).
        db.execute(update(Transaction).where(Transaction.raw_document_id == document.raw_document_id,
                                             Transaction.direction == "out", Transaction.status == "staged")
                   .values(status="sent"))
        store.record_event(
            "outbound_document.sent", entity_type="outbound_document", entity_id=outbound_id,
            payload={"file_name": file_name, "location": folder.location, "size": len(content),
                     "sha256": hashlib.sha256(content).hexdigest(), "doc_type": document.doc_type,
                     "isa13": document.isa13},
            session=db)
    report.sent.append(outbound_id)
    log.info("sent outbound document %s as %s to %s (%s bytes)", outbound_id, file_name, folder.location,
             len(content))


def upload_outbound(
    folder: RemoteFolder,
    store: Store,
    outbound_document_ids: Iterable[int],
    *,
    rules: MailboxRules | None = None,
) -> UploadReport:
    """Upload pending outbound documents (temp name, then rename) and mark them ``sent``.

    Documents already sent are skipped, so a retried task is harmless. A document that
    fails stays ``pending``; the others still go, and :class:`UploadError` is raised at
    the end naming the failures (the task fails and Airflow retries it).
    """
    rules = rules or load_rules()
    report = UploadReport(location=folder.location)
    for outbound_id in outbound_document_ids:
        try:
            _upload_one(folder, store, int(outbound_id), rules, report)
        except (OSError, MailboxError) as exc:
            log.error("upload of outbound document %s to %s failed: %s", outbound_id, folder.location, exc)
            report.failed[int(outbound_id)] = str(exc)
    if report.failed:
        details = "; ".join(f"{key}: {value}" for key, value in report.failed.items())
        raise UploadError(f"{len(report.failed)} outbound document(s) not sent to {folder.location}: {details}",
                          report)
    return report
