"""What every domain of the BlueCherry emulator shares: the clock, the knobs, the SQLite
file with its serial writes, idempotency records and counters, and the stock rows.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import create_engine, event, func, select
from sqlalchemy.orm import Session, sessionmaker

from amazon_bluecherry.bluecherry import models as m
from sandbox.bluecherry import schema as t
from sandbox.bluecherry.catalogue import DEFAULT_SEED
from sandbox.bluecherry.errors import Conflict, Rejected

__all__ = ["BackendConfig", "BackendCore", "CENT", "Clock", "ZERO"]


# One logger for the emulator's state, whichever domain writes.
log = logging.getLogger("sandbox.bluecherry.backend")
CENT = Decimal("0.01")
ZERO = Decimal("0.00")


class Clock:
    """The emulator's time: real UTC by default; settable and advanceable for simulations."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._offset = timedelta(0)
        self._frozen: datetime | None = None

    def now(self) -> datetime:
        with self._lock:
            if self._frozen is not None:
                return self._frozen
            return datetime.now(UTC) + self._offset

    def today(self) -> date:
        return self.now().date()

    def set(self, when: datetime, *, frozen: bool = False) -> None:
        if when.tzinfo is None:
            raise ValueError("clock time must be timezone-aware")
        with self._lock:
            if frozen:
                self._frozen = when
            else:
                self._frozen = None
                self._offset = when - datetime.now(UTC)

    def advance(self, delta: timedelta) -> None:
        with self._lock:
            if self._frozen is not None:
                self._frozen += delta
            else:
                self._offset += delta

    def reset(self) -> None:
        with self._lock:
            self._offset, self._frozen = timedelta(0), None


@dataclass
class BackendConfig:
    """Knobs of the emulated ERP."""

    sscc_company_prefix: str = "0614141"
    sscc_extension_digit: int = 0
    bol_prefix: str = "VENDR"  # Amazon: a generated BOL is >= 8 digits prefixed with the vendor code
    backorder_lead_days: int = 28
    receiving_days: int = 2  # incoming stock is sellable this many days after it arrives
    mixed_carton_max_eaches: int = 24
    carton_tare_lb: Decimal = Decimal("0.80")
    cartons_per_pallet: int = 40
    transit_days: int = 4
    seed: int = DEFAULT_SEED


@dataclass(frozen=True)
class _Recorded:
    """An idempotency record read (or written) earlier in the same batch."""

    fingerprint: str
    result: str | m.WriteResult


class BackendCore:
    """The emulated ERP's storage: one SQLite file, serial writes, idempotent write records."""

    def __init__(
        self, db_path: str | Path, *, config: BackendConfig | None = None, clock: Clock | None = None
    ):
        self.db_path = Path(db_path)
        self.config = config or BackendConfig()
        self.clock = clock or Clock()
        self.db_path.parent.mkdir(parents=True, exist_ok=True)
        self.engine = create_engine(
            f"sqlite:///{self.db_path}", connect_args={"check_same_thread": False, "timeout": 30}
        )
        event.listen(self.engine, "connect", _sqlite_pragmas)
        # No autoflush: lines are built field by field; queries that need them flush explicitly.
        self._sessions = sessionmaker(self.engine, expire_on_commit=False, autoflush=False)
        # SQLite has one writer; one lock makes every write a clean serial transaction.
        self._lock = threading.RLock()
        # Bumped when a write starts and ends: read caches are valid while it stands still.
        self._writes = 0
        self._open_ar_cache: dict[str | None, tuple[int, list[m.ArOpenItem]]] = {}
        t.Base.metadata.create_all(self.engine)
        with self._write() as session:
            if session.scalar(select(func.count()).select_from(t.Sku)) == 0:
                self._seed(session)

    def dispose(self) -> None:
        self.engine.dispose()

    @contextmanager
    def _write(self) -> Iterator[Session]:
        with self._lock:
            self._writes += 1
            try:
                with self._sessions.begin() as session:
                    yield session
            finally:
                self._writes += 1

    @contextmanager
    def _read(self) -> Iterator[Session]:
        with self._sessions() as session, session.begin():
            yield session

    def _next(self, session: Session, name: str) -> int:
        counter = session.get(t.Counter, name)
        if counter is None:
            counter = t.Counter(name=name, value=0)
            session.add(counter)
            session.flush()  # without autoflush, the next lookup must find it
        counter.value += 1
        return counter.value

    def _idempotent(
        self,
        session: Session,
        scope: str,
        key: str,
        fingerprint: str,
        apply: Callable[[Session], m.WriteResult],
        *,
        record: _Recorded | None | object = ...,
    ) -> m.WriteResult:
        """``record``: the key's record when the caller already read it (None: the key is new)."""
        if not key:
            raise Rejected(f"{scope}: an idempotency key is required")
        if record is ...:
            record = session.get(t.IdempotencyRecord, (scope, key))
        if record is not None:
            if record.fingerprint != fingerprint:
                raise Conflict(f"idempotency key {key!r} was already used for different {scope} content")
            log.debug("replayed %s %s", scope, key)
            if isinstance(record.result, m.WriteResult):
                return record.result
            return m.WriteResult.model_validate_json(record.result)
        result = apply(session)
        session.add(
            t.IdempotencyRecord(
                scope=scope,
                key=key,
                fingerprint=fingerprint,
                result=result.model_dump_json(),
                created_at=self.clock.now(),
            )
        )
        return result

    def _stock(self, session: Session, sku: str, warehouse: str) -> t.StockRow:
        stock = session.get(t.StockRow, (sku, warehouse))
        if stock is None:
            stock = t.StockRow(
                sku=sku, warehouse=warehouse, on_hand=0, allocated=0, on_hold=0, incoming=0, incoming_date=None
            )
            session.add(stock)
            session.flush()  # later lookups in this transaction must find it
        return stock

    @staticmethod
    def _preload(session: Session, skus: list[str], warehouse: str) -> None:
        """Load a document's SKUs and stock rows in two queries; later ``session.get`` calls hit the identity map."""
        if not skus:
            return
        loaded: list = list(session.scalars(select(t.Sku).where(t.Sku.sku.in_(skus))))
        loaded += session.scalars(
            select(t.StockRow).where(t.StockRow.sku.in_(skus), t.StockRow.warehouse == warehouse)
        ).all()
        # The identity map holds objects weakly; the session keeps them for the transaction.
        session.info.setdefault("preloaded", []).extend(loaded)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
