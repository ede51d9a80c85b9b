"""Amazon's SFTP mailbox rules as code: file names, sizes, pickup and upload.

No Airflow here. Pickup and upload work on a :class:`~amazon_bluecherry.folders.Folder` (list,
read, write, rename, delete), so the same algorithm runs over the Airflow hook's connection in
production and over a plain paramiko client in tests; the rules themselves (name policy,
folder capacity, temp names, outbound names) are data in ``mailbox_rules.yaml``.

Pickup, file by file, oldest first (modification time, then name)::

    list -> refuse a bad name (quarantine) / leave a temp-named file alone
         -> size from the listing over the limit -> exception, quarantine, not read
         -> settled? the same size and mtime in two listings (see below), else wait
         -> download into a bounded buffer (never more than the limit)
         -> complete? the bytes end with an IEA matching its ISA13, else wait
         -> store the raw bytes (sha256-deduplicated) and the arrival, judge them (X12 or not)
         -> only then, if the file did not change meanwhile, delete the remote file

**A file still being written is never taken.** Amazon publishes whole files, but a sender
that writes in place under the final name must not lose a PO to us. Completeness is judged
from the file, not its name, twice over:

* *settled*: its size and mtime are the same in two listings at least
  ``settle_seconds`` apart (``AB_PICKUP_SETTLE_SECONDS``, default 10). The store remembers
  every sighting (``remote_file_sightings``), so a file seen unchanged by an earlier run is
  taken at once; a file first seen (or seen changed) in this run is listed again after one
  settle interval, in the same run. Only the store's memory would hold every file for a
  whole schedule interval (15 minutes); only an in-run interval would forget a file that
  was still growing at the last run. Both together cost one short wait per run at most,
  and the age limit below needs the memory anyway.
* *complete*: the bytes read end with a whole interchange (the last segment is an IEA
  whose IEA02 is its ISA13). A writer that pauses longer than the settle interval in the
  middle of a file is caught here; one that pauses exactly between two interchanges of
  one file cannot be told from a finished file (raise the settle interval for such a
  partner). Before the remote file is deleted it is looked at once more: if its size or
  mtime moved while we read and stored it, the stored copy is not trusted (the
  transaction is rolled back) and the file waits for the next run.

A file that stays unsettled or incomplete, or keeps a temp name (``*.part``, ``*.tmp``,
``.name``), for longer than ``stale_after`` (``AB_PICKUP_STALE_MINUTES``, default 60, counted
from our first sighting, so the remote clock does not matter) gets one exception
(``incomplete_file``, ``stale_temp_file``) and stays where it is; a zero-byte file that
stays empty that long is reported (``empty_file``) and deleted (a sender may just have
created it, so an empty file is never deleted sooner).

Picking up the same bytes twice (a delete that failed, or Amazon re-sending a file it
never got our 997 for) gives one raw document: the store answers ``created=False``, the
arrival is recorded (``inbound_arrivals``) and answered with a new 997 by intake, and the
remote file is deleted all the same. A batch takes at most ``max_files`` downloads, so a
backlog (Amazon's folder holds up to 500 files) drains over a few runs.

What happens to refused files (decided here, explained in the runbooks):

* bad name, oversize: never read, never deleted (we did not keep their bytes). They are
  moved to the quarantine folder (``AB_SFTP_QUARANTINE_DIR``, default ``quarantine`` under
  the download folder, created when missing) to get them out of Amazon's 500-file
  folder; with quarantine switched off (empty), or when the move fails, they stay where
  they are. Either way one exception, with a dedupe key made of folder, name, size and
  mtime, so later runs do not report the same file again.
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
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path

from sqlalchemy import delete, select, update

from amazon_bluecherry.edi.envelope import IEA, ISA
from amazon_bluecherry.edi.reader import (
    NotX12Error,
    X12Error,
    iter_segments,
    read_interchanges,
    sniff_delimiters,
)
from amazon_bluecherry.folders import FileTooLarge, Folder, RemoteFile
from amazon_bluecherry.store.models import (
    InboundArrival,
    OutboundDocument,
    RawDocument,
    RemoteFileSighting,
    Transaction,
    utcnow,
)
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
INCOMPLETE_FILE = "incomplete_file"
STALE_TEMP_FILE = "stale_temp_file"
# As in include/mappings/exception_types.yaml (the owner table); all owned by integration.
_SEVERITY = {EMPTY_FILE: "warning", OVERSIZE_FILE: "error", NOT_X12: "error", REFUSED_FILE_NAME: "error",
             REMOTE_DELETE_FAILED: "warning", INCOMPLETE_FILE: "error", STALE_TEMP_FILE: "warning"}

_SNIFF_BYTES = 1024  # enough for an ISA (106 chars) after a BOM and some blank lines
_BOM = b"\xef\xbb\xbf"
_WHITESPACE = " \t\r\n\x0b\x0c"


class MailboxError(Exception):
    """The mailbox could not do what was asked."""


class UploadError(MailboxError):
    """One or more outbound documents could not be uploaded; they stay ``pending``."""

    def __init__(self, message: str, report: UploadReport):
        super().__init__(message)
        self.report = report


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


def incomplete_interchange(content: bytes) -> str | None:
    """Why ``content``, which starts like X12, does not end with a whole interchange yet, or None.

    Whole: the last segment is an IEA and its IEA02 is the ISA13 of the interchange it
    closes. Content that does not start with ``ISA`` is not judged here (see
    :func:`x12_problem`); an ISA header cut short is incomplete, not "not X12".
    """
    head = content[len(_BOM):] if content.startswith(_BOM) else content
    if not head.lstrip(_WHITESPACE.encode("ascii")).startswith(b"ISA"):
        return None
    if b"IEA" not in content[-4096:]:
        return "it does not end with an IEA segment"
    isa13, last = None, None
    try:
        for segment, _ in iter_segments(content):
            if segment[0] == "ISA":
                isa13 = ISA.get(segment, "control_number")
            last = segment
    except NotX12Error as exc:
        return f"it cannot be read to its end ({exc})"
    if last is None or last[0] != "IEA":
        return f"it ends with a {last[0] if last else 'blank'} segment, not an IEA"
    iea02 = IEA.get(last, "control_number")
    if iea02 != isa13:
        return (f"its last {IEA.ref('control_number')} {iea02!r} does not match the "
                f"{ISA.ref('control_number')} {isa13!r} it closes")
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
    in_progress: list[str] = field(default_factory=list)  # temp names
    waiting: list[str] = field(default_factory=list)  # not settled or not complete yet
    deleted: list[str] = field(default_factory=list)
    delete_failed: list[str] = field(default_factory=list)
    remaining: int = 0  # files left for the next run (batch limit reached)

    def summary(self) -> dict:
        return {
            "location": self.location, "listed": self.listed, "new": len(self.new_raw_document_ids),
            "duplicates": len(self.duplicate_raw_document_ids), "not_x12": len(self.not_x12_raw_document_ids),
            "refused": len(self.refused), "in_progress": len(self.in_progress), "waiting": len(self.waiting),
            "deleted": len(self.deleted),
            "delete_failed": len(self.delete_failed), "remaining": self.remaining,
        }


class _FileChanged(Exception):
    """The remote file moved while it was read and stored: the stored copy is not trusted."""


@dataclass
class _Sighting:
    """What the store remembers of one remote file, as of the latest listing."""

    size: int
    mtime: float
    first_seen_at: datetime
    changed_at: datetime
    confirmed: bool  # two listings agreed on size and mtime
    exception_id: int | None


class _Pickup:
    def __init__(self, folder: Folder, store: Store, *, partner: str, max_files: int,
                 max_file_bytes: int, quarantine_dir: str | None, rules: MailboxRules, settle_seconds: float,
                 stale_after: timedelta, clock: Callable[[], datetime], sleep: Callable[[float], None]):
        self.folder = folder
        self.store = store
        self.partner = partner
        self.max_files = max_files
        self.max_file_bytes = max_file_bytes
        self.quarantine_dir = quarantine_dir or None
        self.rules = rules
        self.settle_seconds = max(0.0, float(settle_seconds))
        self.stale_after = stale_after
        self.clock = clock
        self.sleep = sleep
        self.sightings: dict[str, _Sighting] = {}
        self.report = PickupReport(location=folder.location)

    def run(self) -> PickupReport:
        entries = self._list()
        self.report.listed = len(entries)
        if len(entries) >= self.rules.folder_warning_fill:
            log.warning("%s holds %s files (Amazon's limit is %s): pickup is falling behind",
                        self.folder.location, len(entries), self.rules.folder_capacity)
        candidates = self._screen(entries)
        unsettled = [entry for entry in candidates if not self._settled(entry)]
        if unsettled:
            # One more listing after the settle interval: a file that keeps its size and
            # mtime across it is settled in this run; one that does not waits for the next.
            now = self.clock()
            waited = min((now - self.sightings[entry.name].changed_at).total_seconds() for entry in unsettled)
            self.sleep(max(0.0, self.settle_seconds - waited))
            relisted = {entry.name: entry for entry in self._list()}
            candidates = self._screen([relisted[entry.name] for entry in candidates if entry.name in relisted],
                                      second_look=True)
        taken = 0
        for entry in candidates:
            if not self._settled(entry):
                self._wait(entry, "its size or modification time is still changing")
            elif entry.size == 0:
                self._empty(entry)
            elif taken >= self.max_files:
                self.report.remaining += 1
            else:
                taken += 1
                self._take(entry)
        log.info("pickup from %s: %s", self.folder.location, self.report.summary())
        return self.report

    # --- what the folder holds -----------------------------------------------------------
    def _list(self) -> list[RemoteFile]:
        """List the folder and remember every acceptable name's size and mtime in the store."""
        entries = [entry for entry in self.folder.list_files() if entry.is_file]
        entries.sort(key=lambda entry: (entry.mtime, entry.name))
        now = self.clock()
        location = self.folder.location
        with self.store.session() as db:
            known = {row.name: row for row in db.scalars(
                select(RemoteFileSighting).where(RemoteFileSighting.location == location))}
            listed = set()
            for entry in entries:
                if self.rules.refuse_name(entry.name):
                    continue  # never remembered under its hostile name: its exception's key dedupes it
                listed.add(entry.name)
                row = known.get(entry.name)
                if row is None:
                    row = RemoteFileSighting(location=location, name=entry.name, size=entry.size, mtime=entry.mtime,
                                             first_seen_at=now, changed_at=now, last_seen_at=now)
                    db.add(row)
                    confirmed = False
                elif (row.size, row.mtime) != (entry.size, entry.mtime):
                    row.size, row.mtime, row.changed_at, row.last_seen_at = entry.size, entry.mtime, now, now
                    confirmed = False
                else:
                    row.last_seen_at = now
                    confirmed = True
                self.sightings[entry.name] = _Sighting(entry.size, entry.mtime, row.first_seen_at or now,
                                                       row.changed_at or now, confirmed, row.exception_id)
            gone = [name for name in known if name not in listed]
            if gone:  # taken by another run, deleted or renamed by the sender: forget them
                db.execute(delete(RemoteFileSighting).where(RemoteFileSighting.location == location,
                                                            RemoteFileSighting.name.in_(gone)))
        return entries

    def _screen(self, entries: list[RemoteFile], *, second_look: bool = False) -> list[RemoteFile]:
        """Refuse bad names and oversize files, set temp names aside; the rest may be taken."""
        candidates = []
        for entry in entries:
            reason = self.rules.refuse_name(entry.name)
            if reason:
                self._refuse(entry, REFUSED_FILE_NAME, f"refused: {reason}", quarantine=True)
            elif self.rules.is_in_progress(entry.name):
                if not second_look:
                    log.debug("%s in %s has a temp name; left for later", entry.name, self.folder.location)
                    self.report.in_progress.append(entry.name)
                    self._overdue(entry, STALE_TEMP_FILE, "still has a temporary name (a sender's file in progress)")
            elif entry.size > self.max_file_bytes:
                self._refuse(entry, OVERSIZE_FILE,
                             f"is {entry.size} bytes, over the limit of {self.max_file_bytes} bytes",
                             quarantine=True)
            else:
                candidates.append(entry)
        return candidates

    def _settled(self, entry: RemoteFile) -> bool:
        sighting = self.sightings.get(entry.name)
        if sighting is None or not sighting.confirmed or (sighting.size, sighting.mtime) != (entry.size, entry.mtime):
            return False
        return (self.clock() - sighting.changed_at).total_seconds() >= self.settle_seconds

    def _age(self, entry: RemoteFile) -> timedelta:
        sighting = self.sightings.get(entry.name)
        return self.clock() - sighting.first_seen_at if sighting else timedelta(0)

    # --- files that are not ready -----------------------------------------------------------
    def _wait(self, entry: RemoteFile, why: str) -> None:
        log.info("%s in %s is not complete yet (%s); left for the next run", display_name(entry.name),
                 self.folder.location, why)
        self.report.waiting.append(entry.name)
        self._overdue(entry, INCOMPLETE_FILE, f"is not complete: {why}")

    def _overdue(self, entry: RemoteFile, kind: str, state: str) -> None:
        """One exception for a file that stays unready past the age limit (never deleted here)."""
        sighting = self.sightings.get(entry.name)
        age = self._age(entry)
        if sighting is None or sighting.exception_id is not None or age < self.stale_after:
            return
        minutes = age.total_seconds() / 60
        exception_id = self.store.open_exception(
            kind, owner=OWNER, severity=_SEVERITY[kind], business_key=_business_key(entry.name),
            dedupe_key=_dedupe_key(kind, self.folder.location, entry.name, sighting.first_seen_at.isoformat()),
            message=(f"{display_name(entry.name)} in {self.folder.location} {state}; first seen "
                     f"{sighting.first_seen_at:%Y-%m-%d %H:%M} UTC ({minutes:.0f} min ago, limit "
                     f"{self.stale_after.total_seconds() / 60:g} min). It was not read into the store and not "
                     "deleted; pickup keeps checking it and takes it once it is complete."),
            details={"remote_name": display_name(entry.name), "location": self.folder.location, "size": entry.size,
                     "mtime": entry.mtime, "first_seen_at": sighting.first_seen_at.isoformat(), "state": state},
        )
        sighting.exception_id = exception_id
        with self.store.session() as db:
            db.execute(update(RemoteFileSighting).where(RemoteFileSighting.location == self.folder.location,
                                                        RemoteFileSighting.name == entry.name)
                       .values(exception_id=exception_id))
        self.report.exception_ids.append(exception_id)

    def _empty(self, entry: RemoteFile) -> None:
        # A sender creates a file before writing it: an empty file goes only once it stayed
        # empty past the age limit.
        if self._age(entry) < self.stale_after:
            self.report.waiting.append(entry.name)
            return
        self._refuse(entry, EMPTY_FILE, f"has been empty (0 bytes) for {self._age(entry).total_seconds() / 60:.0f} "
                     "min", quarantine=False)

    def _changed(self, entry: RemoteFile) -> None:
        """The file moved while we read it: it must settle again."""
        with self.store.session() as db:
            db.execute(update(RemoteFileSighting).where(RemoteFileSighting.location == self.folder.location,
                                                        RemoteFileSighting.name == entry.name)
                       .values(changed_at=self.clock()))
        self._wait(entry, "it changed while it was being read")

    # --- taking a file ---------------------------------------------------------------------
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
        if len(content) != entry.size:
            self._changed(entry)
            return
        incomplete = incomplete_interchange(content)
        if incomplete:
            self._wait(entry, incomplete)
            return
        problem = x12_problem(content)
        not_x12_exception = None
        try:
            with self.store.session() as db:
                raw_id, created = self.store.save_raw_document(
                    content, partner=self.partner, transport=TRANSPORT, remote_name=entry.name, session=db)
                arrival = InboundArrival(raw_document_id=raw_id, location=self.folder.location,
                                         remote_name=entry.name, size=len(content), arrived_at=utcnow())
                db.add(arrival)
                db.flush()
                self.store.record_event(
                    "mailbox.picked_up", entity_type="raw_document", entity_id=raw_id,
                    payload={"remote_name": entry.name, "location": self.folder.location, "size": len(content),
                             "duplicate": not created, "arrival_id": arrival.id},
                    session=db)
                if not created:  # the same bytes again: one document, one more arrival to answer
                    self.store.record_event(
                        "raw_document.arrived_again", entity_type="raw_document", entity_id=raw_id,
                        payload={"remote_name": entry.name, "location": self.folder.location,
                                 "arrival_id": arrival.id},
                        session=db)
                if created and problem:
                    arrival.status = "refused"
                    self.store.set_raw_document_status(raw_id, "refused", session=db)
                    not_x12_exception = self.store.open_exception(
                        NOT_X12, owner=OWNER, raw_document_id=raw_id, business_key=_business_key(entry.name),
                        dedupe_key=f"not_x12:{raw_id}",  # the same key intake uses: one exception per document
                        message=(f"{display_name(entry.name)} from {self.folder.location} is not X12: {problem}. "
                                 f"Its bytes are kept as raw document {raw_id}; it was not processed."),
                        details={"remote_name": entry.name, "location": self.folder.location,
                                 "size": len(content), "problem": problem},
                        session=db)
                # A last look before the bytes count as received: the file must still be what we read.
                now = self.folder.stat(entry.name)
                if now is None or (now.size, now.mtime) != (entry.size, entry.mtime):
                    raise _FileChanged
                db.execute(delete(RemoteFileSighting).where(RemoteFileSighting.location == self.folder.location,
                                                            RemoteFileSighting.name == entry.name))
        except _FileChanged:  # rolled back: nothing of this reading was kept
            self._changed(entry)
            return
        if not_x12_exception is not None:
            self.report.exception_ids.append(not_x12_exception)
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
            where = target if target.startswith("/") else f"{target} under {self.folder.location}"
            fate = (f"It was not read and not deleted: it is moved to {where} "
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
                self.folder.make_folder(self.quarantine_dir)
                self.folder.rename(entry.name, target)
                self.store.record_event("mailbox.quarantined", entity_type="exception", entity_id=exception_id,
                                        payload={"remote_name": name, "quarantine_path": target})
            except OSError as exc:
                log.warning("could not move %s to %s: %s; left in place", name, target, exc)


def pickup(
    folder: Folder,
    store: Store,
    *,
    max_files: int | None = None,
    max_file_bytes: int | None = None,
    quarantine_dir: str | None = None,
    partner: str | None = None,
    rules: MailboxRules | None = None,
    settle_seconds: float | None = None,
    stale_after: timedelta | None = None,
    clock: Callable[[], datetime] = utcnow,
    sleep: Callable[[float], None] = time.sleep,
) -> PickupReport:
    """Take up to ``max_files`` whole files from ``folder`` into the store, deleting each once stored.

    Defaults come from the settings (``AB_PICKUP_MAX_FILES``, ``AB_MAX_INBOUND_FILE_BYTES``,
    ``AB_SFTP_QUARANTINE_DIR``, ``AB_PARTNER_ID``, ``AB_PICKUP_SETTLE_SECONDS``,
    ``AB_PICKUP_STALE_MINUTES``). ``clock`` and ``sleep`` are for tests.
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
        settle_seconds=settle_seconds if settle_seconds is not None else settings.pickup_settle_seconds,
        stale_after=stale_after if stale_after is not None else timedelta(minutes=settings.pickup_stale_minutes),
        clock=clock,
        sleep=sleep,
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


def _already_there(folder: Folder, name: str, content: bytes) -> bool:
    """True when ``name`` already holds exactly ``content`` (an earlier attempt's rename)."""
    existing = folder.stat(name)
    if existing is None or existing.size != len(content):
        return False
    try:
        return folder.read(name, max_bytes=len(content)) == content
    except (OSError, FileTooLarge):
        return False


def _upload_one(folder: Folder, store: Store, outbound_id: int, rules: MailboxRules,
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
    # Never put on Amazon's side what Amazon cannot read; read before writing (the control
    # numbers are needed below anyway). The document stays pending and the others still go.
    try:
        read = read_interchanges(content)
        problem = None if read else "no interchange in it"
        problem = problem or next((f"interchange {interchange.control_number} has no IEA" for interchange in read
                                   if interchange.iea is None), None)
    except X12Error as exc:
        problem = str(exc)
    if problem:
        raise MailboxError(f"outbound document {outbound_id} ({display_name(file_name)}) is not whole X12, "
                           f"so it was not sent: {problem}")
    interchanges = [interchange.control_number for interchange in read]
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
        # Found by partner and ISA13 as well, which the control-number index covers: by the
        # raw document alone each upload scanned every transaction (at 10,000 POs, 1,000 997s
        # took 13.6 s of CPU).
        db.execute(update(Transaction).where(Transaction.partner == document.partner,
                                             Transaction.isa13.in_(interchanges),
                                             Transaction.raw_document_id == document.raw_document_id,
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
    folder: Folder,
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
