"""The simulated clock only moves forward, and only when told to."""

from __future__ import annotations

import datetime as dt

import pytest

from sandbox.amazon.clock import SimulatedClock, WallClock


def test_the_simulated_clock_moves_when_told():
    clock = SimulatedClock(dt.datetime(2026, 3, 2, 6))
    assert clock.now() == clock.now() == dt.datetime(2026, 3, 2, 6)
    assert clock.advance(hours=30) == dt.datetime(2026, 3, 3, 12)
    assert clock.advance(dt.timedelta(minutes=5)) == dt.datetime(2026, 3, 3, 12, 5)
    assert clock.set(dt.datetime(2026, 4, 1)) == clock.now() == dt.datetime(2026, 4, 1)
    assert clock.today() == dt.date(2026, 4, 1)


def test_the_simulated_clock_never_goes_back():
    clock = SimulatedClock(dt.datetime(2026, 3, 2, 6))
    with pytest.raises(ValueError, match="does not go back"):
        clock.advance(hours=-1)
    with pytest.raises(ValueError, match="does not go back"):
        clock.set(dt.datetime(2026, 3, 1))
    assert clock.now() == dt.datetime(2026, 3, 2, 6)


def test_aware_times_become_naive_utc():
    aware = dt.datetime(2026, 3, 2, 8, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert SimulatedClock(aware).now() == dt.datetime(2026, 3, 2, 6)
    now = WallClock().now()
    assert now.tzinfo is None
    assert abs(now - dt.datetime.now(dt.UTC).replace(tzinfo=None)) < dt.timedelta(seconds=5)
