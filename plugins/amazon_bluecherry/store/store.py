"""The integration store's one entry point: sessions, raw documents, control numbers,
idempotency, exceptions, events, links, deadlines.

Every method that writes takes an optional ``session``; without one it opens and commits
its own transaction. Pass a session to make several writes one unit (e.g. allocate a
control number and store the outbound document that uses it: a rollback gives the
number back, so sequences stay gap-free).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import and_, create_engine, event, insert, or_, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from amazon_bluecherry.store.models import (
    EXCEPTION_STATUSES,
    OWNER_TEAMS,
    SEVERITIES,
    ControlNumberSequence,
    Deadline,
    DocumentLink,
    Event,
    ExceptionRecord,
    IdempotencyKey,
    RawDocument,
    ReceivedControlNumber,
    Transaction,
    utcnow,
)

log = logging.getLogger(__name__)


class StoreError(Exception):
    """The store refused an operation (bad owner, exhausted sequence ...)."""


class SequenceExhausted(StoreError):
    """A control-number sequence reached its maximum; numbers are never reused."""


def _make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30})

        # SQLite: take the write lock at BEGIN so that two processes never both read and
        # then both try to upgrade (which SQLite resolves by failing one of them).
        @event.listens_for(engine, "connect")
        def _sqlite_connect(dbapi_connection, _record):
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(connection):
            connection.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5)


class Store:
    """Facade over the integration store database."""

    def __init__(self, url: str):
        self.url = url
        if url.startswith("sqlite:///"):
            from pathlib import Path

            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        self.engine = _make_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    # --- sessions ----------------------------------------------------------------------
    @contextmanager
    def session(self) -> Iterator[Session]:
        """One database transaction: committed on success, rolled back on error."""
        with self._sessions() as session, session.begin():
            yield session

    @contextmanager
    def use_session(self, session: Session | None) -> Iterator[Session]:
        """The caller's session (its transaction), or a new one committed on exit."""
        if session is not None:
            yield session
        else:
            with self.session() as own:
                yield own

    def migrate(self) -> None:
        """Bring the schema to the newest Alembic revision."""
        from amazon_bluecherry.store.migrate import upgrade

        upgrade(self)

    def dispose(self) -> None:
        self.engine.dispose()

    # --- raw documents -----------------------------------------------------------------
    def save_raw_document(
        self,
        content: bytes,
        *,
        partner: str,
        transport: str,
        remote_name: str | None = None,
        direction: str = "in",
        received_at: datetime | None = None,
        session: Session | None = None,
    ) -> tuple[int, bool]:
        """Keep bytes before anything parses them. Returns ``(raw_document_id, created)``;
        the same bytes twice give the first document's id and ``created=False``."""
        digest = hashlib.sha256(content).hexdigest()
        with self.use_session(session) as db:
            existing = db.scalar(select(RawDocument.id).where(RawDocument.sha256 == digest))
            if existing is not None:
                return existing, False
            document = RawDocument(
                sha256=digest,
                size=len(content),
                content=content,
                direction=direction,
                partner=partner,
                transport=transport,
                remote_name=remote_name,
                received_at=received_at or utcnow(),
            )
            try:
                with db.begin_nested():
                    db.add(document)
                    db.flush()
            except IntegrityError:  # a concurrent worker stored the same bytes first
                existing = db.scalar(select(RawDocument.id).where(RawDocument.sha256 == digest))
                return existing, False
            self.record_event(
                "raw_document.stored",
                entity_type="raw_document",
                entity_id=document.id,
                payload={"sha256": digest, "size": len(content), "remote_name": remote_name,
                         "direction": direction, "transport": transport},
                session=db,
            )
            return document.id, True

    def get_raw_document(self, raw_document_id: int, *, session: Session | None = None) -> RawDocument:
        with self.use_session(session) as db:
            document = db.get(RawDocument, raw_document_id)
            if document is None:
                raise StoreError(f"raw document {raw_document_id} does not exist")
            return document

    def set_raw_document_status(self, raw_document_id: int, status: str, *, session: Session | None = None) -> None:
        with self.use_session(session) as db:
            db.execute(update(RawDocument).where(RawDocument.id == raw_document_id).values(status=status))
            self.record_event("raw_document.status", entity_type="raw_document", entity_id=raw_document_id,
                              payload={"status": status}, session=db)

    # --- control numbers ---------------------------------------------------------------
    def next_control_number(self, partner: str, kind: str, *, session: Session | None = None) -> int:
        """Next ISA13/GS06/ST02 for ``partner``: gap-free, never reused, safe across processes.

        One atomic ``UPDATE ... RETURNING`` under the row lock: concurrent workers queue
        on the row, and a rolled-back transaction gives its number back.
        """
        table = ControlNumberSequence.__table__
        bump = (
            update(table)
            .where(table.c.partner == partner, table.c.kind == kind)
            .values(last_value=table.c.last_value + 1)
            .returning(table.c.last_value, table.c.max_value)
        )
        with self.use_session(session) as db:
            bumped = db.execute(bump).first()
            if bumped is None:  # first number for this partner and kind
                db.execute(
                    _dialect_insert(db)(table)
                    .values(partner=partner, kind=kind, last_value=0, max_value=999_999_999)
                    .on_conflict_do_nothing(index_elements=["partner", "kind"])
                )
                bumped = db.execute(bump).one()
            value, maximum = bumped
            if value > maximum:
                raise SequenceExhausted(f"{kind} control numbers for {partner} exhausted at {maximum}")
            return int(value)

    def control_numbers(self, partner: str, *, session: Session | None = None) -> PartnerControlNumbers:
        """A ``ControlNumberSource`` for the X12 writer, bound to one partner (and session)."""
        return PartnerControlNumbers(self, partner, session)

    # --- idempotency -------------------------------------------------------------------
    def claim_idempotency_key(
        self, key: str, *, scope: str, result: dict | None = None, session: Session | None = None
    ) -> bool:
        """True if ``key`` was new and is now claimed; False if the work was done before."""
        with self.use_session(session) as db:
            if db.get(IdempotencyKey, key) is not None:
                return False
            try:
                with db.begin_nested():
                    db.add(IdempotencyKey(key=key, scope=scope, result=result))
                    db.flush()
            except IntegrityError:
                return False
            return True

    def idempotency_result(self, key: str, *, session: Session | None = None) -> dict | None:
        with self.use_session(session) as db:
            row = db.get(IdempotencyKey, key)
            return None if row is None else (row.result or {})

    # --- transactions and links --------------------------------------------------------
    def add_transaction(
        self,
        doc_type: str,
        *,
        direction: str,
        partner: str,
        business_key: str | None = None,
        raw_document_id: int | None = None,
        isa13: str | None = None,
        gs06: str | None = None,
        st02: str | None = None,
        status: str = "received",
        data: dict | None = None,
        session: Session | None = None,
    ) -> int:
        with self.use_session(session) as db:
            transaction = Transaction(
                doc_type=doc_type, direction=direction, partner=partner, business_key=business_key,
                raw_document_id=raw_document_id, isa13=isa13, gs06=gs06, st02=st02, status=status,
                data=data,
            )
            db.add(transaction)
            db.flush()
            self.record_event(f"transaction.{status}", entity_type=doc_type, entity_id=transaction.id,
                              payload={"business_key": business_key}, session=db)
            return transaction.id

    def set_transaction_status(
        self, transaction_id: int, status: str, *, data: dict | None = None, session: Session | None = None
    ) -> None:
        with self.use_session(session) as db:
            values: dict[str, Any] = {"status": status, "updated_at": utcnow()}
            if data is not None:
                values["data"] = data
            db.execute(update(Transaction).where(Transaction.id == transaction_id).values(**values))
            self.record_event(f"transaction.{status}", entity_type="transaction", entity_id=transaction_id,
                              session=db)

    def add_transactions(self, rows: list[dict], *, session: Session | None = None) -> list[int]:
        """Several :meth:`add_transaction` in a few statements (one flush, one events insert).

        ``rows``: keyword arguments of :meth:`add_transaction` (``doc_type``, ``direction``,
        ``partner`` ...); returns the ids in the same order.
        """
        if not rows:
            return []
        with self.use_session(session) as db:
            transactions = [Transaction(**{"status": "received", **row}) for row in rows]
            db.add_all(transactions)
            db.flush()  # one INSERT ... RETURNING per few hundred rows
            self.record_events([
                {"kind": f"transaction.{t.status}", "entity_type": t.doc_type, "entity_id": str(t.id),
                 "payload": {"business_key": t.business_key}} for t in transactions], session=db)
            return [t.id for t in transactions]

    def set_transaction_statuses(
        self, changes: list[tuple[int, str, dict | None]], *, session: Session | None = None
    ) -> None:
        """Several :meth:`set_transaction_status` in two statements: ``(id, status, data or None)``."""
        if not changes:
            return
        now = utcnow()
        with self.use_session(session) as db:
            with_data = [{"id": i, "status": status, "data": data, "updated_at": now}
                         for i, status, data in changes if data is not None]
            without = [{"id": i, "status": status, "updated_at": now} for i, status, data in changes if data is None]
            for batch in (with_data, without):
                if batch:
                    db.execute(update(Transaction), batch)  # executemany UPDATE by primary key
            self.record_events([{"kind": f"transaction.{status}", "entity_type": "transaction",
                                 "entity_id": str(i), "payload": None} for i, status, _ in changes], session=db)

    def link_many(self, edges: list[tuple[int, int, str]], *, session: Session | None = None) -> None:
        """Several :meth:`link` (``(parent, child, relation)``): one read of what exists, one insert."""
        if not edges:
            return
        with self.use_session(session) as db:
            parents = sorted({parent for parent, _, _ in edges})
            existing: set[tuple[int, int, str]] = set()
            for start in range(0, len(parents), 500):
                existing |= set(db.execute(select(DocumentLink.parent_id, DocumentLink.child_id, DocumentLink.relation)
                                           .where(DocumentLink.parent_id.in_(parents[start : start + 500]))).tuples())
            new = [edge for edge in dict.fromkeys(edges) if edge not in existing]
            if new:
                db.execute(insert(DocumentLink), [{"parent_id": p, "child_id": c, "relation": r, "created_at": utcnow()}
                                                  for p, c, r in new])

    def link(self, parent_id: int, child_id: int, relation: str, *, session: Session | None = None) -> None:
        with self.use_session(session) as db:
            exists = db.scalar(
                select(DocumentLink.id).where(
                    DocumentLink.parent_id == parent_id,
                    DocumentLink.child_id == child_id,
                    DocumentLink.relation == relation,
                )
            )
            if exists is None:
                db.add(DocumentLink(parent_id=parent_id, child_id=child_id, relation=relation))
                db.flush()

    def data_path(self, transaction_id: int, *, session: Session | None = None) -> list[dict]:
        """Every document linked to ``transaction_id``, walking links both ways.

        From a chargeback line this reaches the 820, the 810, the 856, the 855, the sales
        order and the 850 with its raw bytes' id.
        """
        with self.use_session(session) as db:
            seen: set[int] = set()
            frontier = [transaction_id]
            edges: list[tuple[int, int, str]] = []
            while frontier:
                current = frontier.pop()
                if current in seen:
                    continue
                seen.add(current)
                for link in db.scalars(
                    select(DocumentLink).where(
                        (DocumentLink.parent_id == current) | (DocumentLink.child_id == current)
                    )
                ):
                    edges.append((link.parent_id, link.child_id, link.relation))
                    frontier.extend([link.parent_id, link.child_id])
            rows = db.scalars(select(Transaction).where(Transaction.id.in_(seen)).order_by(Transaction.id))
            return [
                {
                    "id": row.id, "doc_type": row.doc_type, "direction": row.direction,
                    "business_key": row.business_key, "status": row.status,
                    "raw_document_id": row.raw_document_id, "isa13": row.isa13, "st02": row.st02,
                    "links": sorted({(p, c, r) for p, c, r in edges if row.id in (p, c)}),
                }
                for row in rows
            ]

    # --- exceptions --------------------------------------------------------------------
    def open_exception(
        self,
        type: str,
        *,
        owner: str,
        message: str,
        severity: str = "error",
        dedupe_key: str | None = None,
        business_key: str | None = None,
        raw_document_id: int | None = None,
        transaction_id: int | None = None,
        runbook: str | None = None,
        details: dict | None = None,
        session: Session | None = None,
    ) -> int:
        """Open (or, with the same ``dedupe_key``, find) an exception for a team to handle."""
        if owner not in OWNER_TEAMS:
            raise StoreError(f"owner must be one of {OWNER_TEAMS}, got {owner!r}")
        if severity not in SEVERITIES:
            raise StoreError(f"severity must be one of {SEVERITIES}, got {severity!r}")
        with self.use_session(session) as db:
            if dedupe_key is not None:
                existing = db.scalar(select(ExceptionRecord.id).where(ExceptionRecord.dedupe_key == dedupe_key))
                if existing is not None:
                    return existing
            record = ExceptionRecord(
                type=type, owner=owner, severity=severity, message=message, dedupe_key=dedupe_key,
                business_key=business_key, raw_document_id=raw_document_id,
                transaction_id=transaction_id, runbook=runbook or f"docs/runbooks/{type}.md",
                details=details,
            )
            db.add(record)
            db.flush()
            self.record_event("exception.opened", entity_type="exception", entity_id=record.id,
                              payload={"type": type, "owner": owner, "business_key": business_key,
                                       **opened_in()}, session=db)
            log.warning("exception %s opened for %s: %s", type, owner, message)
            return record.id

    def update_exception(
        self, exception_id: int, *, status: str, note: str | None = None, actor: str | None = None,
        session: Session | None = None,
    ) -> None:
        if status not in EXCEPTION_STATUSES:
            raise StoreError(f"status must be one of {EXCEPTION_STATUSES}, got {status!r}")
        with self.use_session(session) as db:
            record = db.get(ExceptionRecord, exception_id)
            if record is None:
                raise StoreError(f"exception {exception_id} does not exist")
            record.status = status
            if note:
                record.resolution_note = note
            if status == "resolved":
                record.resolved_at = utcnow()
            self.record_event(f"exception.{status}", entity_type="exception", entity_id=exception_id,
                              payload={"note": note, **({"by": actor} if actor else {})}, session=db)

    def list_exceptions(
        self, *, status: str | None = None, owner: str | None = None, type: str | None = None,
        session: Session | None = None,
    ) -> list[ExceptionRecord]:
        with self.use_session(session) as db:
            query = select(ExceptionRecord).order_by(ExceptionRecord.id)
            if status:
                query = query.where(ExceptionRecord.status == status)
            if owner:
                query = query.where(ExceptionRecord.owner == owner)
            if type:
                query = query.where(ExceptionRecord.type == type)
            return list(db.scalars(query))

    # --- events ------------------------------------------------------------------------
    def record_event(
        self,
        kind: str,
        *,
        entity_type: str,
        entity_id: str | int,
        payload: dict | None = None,
        session: Session | None = None,
    ) -> None:
        with self.use_session(session) as db:
            db.add(Event(kind=kind, entity_type=entity_type, entity_id=str(entity_id), payload=payload))
            db.flush()

    def record_events(self, events: list[dict], *, session: Session | None = None) -> None:
        """Several :meth:`record_event` in one INSERT (dicts of kind, entity_type, entity_id, payload)."""
        if not events:
            return
        now = utcnow()
        with self.use_session(session) as db:
            db.execute(insert(Event), [{"at": now, "payload": None, **item} for item in events])

    def events(self, *, entity_type: str | None = None, entity_id: str | int | None = None,
               kind: str | None = None, session: Session | None = None) -> list[Event]:
        with self.use_session(session) as db:
            query = select(Event).order_by(Event.id)
            if entity_type:
                query = query.where(Event.entity_type == entity_type)
            if entity_id is not None:
                query = query.where(Event.entity_id == str(entity_id))
            if kind:
                query = query.where(Event.kind == kind)
            return list(db.scalars(query))

    # --- deadlines ---------------------------------------------------------------------
    def set_deadline(self, transaction_id: int, kind: str, due_at: datetime, *, business_key: str | None = None,
                     session: Session | None = None) -> int:
        with self.use_session(session) as db:
            existing = db.scalar(select(Deadline).where(Deadline.transaction_id == transaction_id,
                                                        Deadline.kind == kind))
            if existing is not None:
                return existing.id
            deadline = Deadline(transaction_id=transaction_id, kind=kind, due_at=due_at, business_key=business_key)
            db.add(deadline)
            db.flush()
            return deadline.id

    def set_deadlines(self, rows: list[tuple[int, str, datetime, str | None]], *,
                      session: Session | None = None) -> None:
        """Several :meth:`set_deadline` (``(transaction_id, kind, due_at, business_key)``) in two statements;
        a deadline that exists already is kept as it is."""
        if not rows:
            return
        with self.use_session(session) as db:
            ids = sorted({row[0] for row in rows})
            existing: set[tuple[int, str]] = set()
            for start in range(0, len(ids), 500):
                existing |= set(db.execute(select(Deadline.transaction_id, Deadline.kind)
                                           .where(Deadline.transaction_id.in_(ids[start : start + 500]))).tuples())
            new = {(t, k): (t, k, due, key) for t, k, due, key in rows if (t, k) not in existing}
            if new:
                db.execute(insert(Deadline), [{"transaction_id": t, "kind": k, "due_at": due, "business_key": key}
                                              for t, k, due, key in new.values()])


def opened_in() -> dict[str, str]:
    """Where the current code runs, when Airflow runs it: the task runner exports its
    context (AIRFLOW_CTX_*) before ``execute``. Recorded with each exception opened, so an
    alert can say which DAG, task and run found it."""
    import os

    where = {"dag_id": os.environ.get("AIRFLOW_CTX_DAG_ID"), "task_id": os.environ.get("AIRFLOW_CTX_TASK_ID"),
             "run_id": os.environ.get("AIRFLOW_CTX_DAG_RUN_ID")}
    return {key: value for key, value in where.items() if value}


class StoreDuplicates:
    """The validator's ``DuplicateCheck`` on the store: a control number counts as a
    duplicate only when another raw document used it, so re-validating the same file
    (a retried task, a replay) never flags itself."""

    RECALL_SLICE = 250  # keys per lookup query

    def __init__(self, store: Store, raw_document_id: int, *, session: Session | None = None):
        self._store = store
        self._raw_document_id = raw_document_id
        self._session = session
        # key -> the raw document that first used it, or None: looked up by recall()
        self._recalled: dict[tuple[str, str, str, str], int | None] = {}

    def recall(self, keys: list[tuple[str, str, str, str]]) -> None:
        """Look up a batch's control numbers in one query instead of one each in ``seen``."""
        wanted = [key for key in dict.fromkeys(keys) if key not in self._recalled]
        if not wanted:
            return
        column = ReceivedControlNumber
        found = {}
        with self._store.use_session(self._session) as db:
            # in slices: SQLite parses a chain of ORs as a tree at most 1,000 deep
            for start in range(0, len(wanted), self.RECALL_SLICE):
                rows = db.execute(select(column.kind, column.sender, column.receiver, column.control_number,
                                         column.raw_document_id).where(or_(*(
                    and_(column.kind == kind, column.sender == sender, column.receiver == receiver,
                         column.control_number == number)
                    for kind, sender, receiver, number in wanted[start:start + self.RECALL_SLICE]))))
                found.update((tuple(row[:4]), row[4]) for row in rows)
        self._recalled.update((key, found.get(key)) for key in wanted)

    def seen(self, kind: str, sender: str, receiver: str, control_number: str) -> bool:
        key = (kind, sender, receiver, control_number)
        with self._store.use_session(self._session) as db:
            if key in self._recalled:
                first = self._recalled[key]
            else:
                first = db.scalar(select(ReceivedControlNumber.raw_document_id).where(
                    ReceivedControlNumber.kind == kind, ReceivedControlNumber.sender == sender,
                    ReceivedControlNumber.receiver == receiver, ReceivedControlNumber.control_number == control_number,
                ))
            if first is None and self._session is not None:
                self._recalled[key] = self._raw_document_id  # a repeat in this file is not another file's
                # Inside the caller's transaction (intake: one per file) the row is only added: it
                # is written with the next statement, without a savepoint per number. Another
                # worker recording the same number first makes the whole transaction fail, and
                # its retry then sees the number as that worker's: a duplicate.
                db.add(ReceivedControlNumber(kind=kind, sender=sender, receiver=receiver,
                                             control_number=control_number, raw_document_id=self._raw_document_id))
                return False
            if first is None:
                try:
                    with db.begin_nested():
                        db.add(ReceivedControlNumber(kind=kind, sender=sender, receiver=receiver,
                                                     control_number=control_number,
                                                     raw_document_id=self._raw_document_id))
                        db.flush()
                    self._recalled[key] = self._raw_document_id
                    return False
                except IntegrityError:  # another worker recorded it a moment ago
                    return True
            return first != self._raw_document_id


class PartnerControlNumbers:
    """``ControlNumberSource`` (``next(kind) -> int``) backed by the store's sequences."""

    def __init__(self, store: Store, partner: str, session: Session | None):
        self._store = store
        self._partner = partner
        self._session = session

    def next(self, kind: str) -> int:
        return self._store.next_control_number(self._partner, kind, session=self._session)


def _dialect_insert(session: Session):
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert
    if session.get_bind().dialect.name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert
    raise StoreError(f"unsupported database dialect {session.get_bind().dialect.name}")
