"""Which 820s a remit_to_journals run takes: backfills stop at their interval's end."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

from amazon_bluecherry.operators.remittances import received_before

END = datetime(2026, 10, 2, 7, tzinfo=UTC)


def context(run_type: str, conf: dict | None = None) -> dict:
    return {"dag_run": SimpleNamespace(run_type=run_type, conf=conf or {}), "data_interval_end": END}


def test_a_backfill_run_takes_what_had_arrived_by_its_interval_end():
    assert received_before(context("backfill")) == END


def test_manual_and_scheduled_runs_take_everything_pending_even_with_an_old_interval():
    assert received_before(context("manual")) is None
    assert received_before(context("scheduled")) is None


def test_the_conf_sets_the_instant_by_hand():
    assert received_before(context("manual", {"received_before": "2026-09-30T00:00:00+00:00"})) == datetime(
        2026, 9, 30, tzinfo=UTC)
