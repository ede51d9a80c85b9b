"""Clocks for the Amazon simulator: a simulated one (a month runs in seconds) and the wall clock.

Every time rule of the simulator (855 within 24 h of the PO, ASN within 30 min of departure
and before arrival, receiving after delivery, payment after the invoice's terms) reads
``clock.now()``, never ``datetime.now()``. Times are naive and meant as UTC [A]: the X12
dates and times the vendor writes (DTM*011 ...) are compared with them as they are.
"""

from __future__ import annotations

import datetime as dt
from typing import Protocol, runtime_checkable

__all__ = ["Clock", "SimulatedClock", "WallClock"]


@runtime_checkable
class Clock(Protocol):
    """Anything with ``now()`` returning a naive UTC datetime."""

    def now(self) -> dt.datetime: ...


class WallClock:
    """Real time (UTC, naive), for running next to real Airflow DAGs."""

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)

    def __repr__(self) -> str:
        return "WallClock()"


class SimulatedClock:
    """A clock that only moves when told to: ``advance(timedelta)`` or ``set(datetime)``.

    Time never runs backwards: ``set`` to an earlier moment is an error, because every
    window rule assumes that what was received later happened later.
    """

    def __init__(self, start: dt.datetime | None = None):
        start = start or dt.datetime(2026, 3, 2, 6, 0)
        self._now = _naive(start)

    def now(self) -> dt.datetime:
        return self._now

    def today(self) -> dt.date:
        return self._now.date()

    def advance(self, delta: dt.timedelta | None = None, **kwargs: float) -> dt.datetime:
        """Move forward by ``delta`` (or ``timedelta(**kwargs)``, e.g. ``hours=2``); returns the new now."""
        step = delta if delta is not None else dt.timedelta(**kwargs)
        if step < dt.timedelta(0):
            raise ValueError(f"a simulated clock does not go back ({step})")
        self._now += step
        return self._now

    def set(self, moment: dt.datetime) -> dt.datetime:
        moment = _naive(moment)
        if moment < self._now:
            raise ValueError(f"a simulated clock does not go back: now {self._now}, asked {moment}")
        self._now = moment
        return self._now

    def __repr__(self) -> str:
        return f"SimulatedClock({self._now.isoformat()})"


def _naive(moment: dt.datetime) -> dt.datetime:
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
    return moment
