"""Which documents a run may touch: current runs take everything pending; backfills and
replays take only their window and never touch Amazon's mailbox."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from amazon_bluecherry.flows.replay import RunWindow, pending_raw_documents_in, purchase_orders_in, run_window

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def test_current_runs_take_everything_whatever_the_age_of_their_interval():
    for run_type in ("scheduled", "manual", None):
        window = run_window({}, data_interval_end=NOW - timedelta(hours=5), now=NOW, run_type=run_type)
        assert window == RunWindow() and not window.replay, run_type


def test_a_backfill_run_replays_up_to_its_interval_end():
    end = NOW - timedelta(days=2)
    window = run_window({"received_before": None}, data_interval_end=end, now=NOW, run_type="backfill")
    assert (window.replay, window.received_before, window.reason) == (True, end, "backfill")


def test_params_make_a_replay_of_a_range():
    window = run_window({"received_after": "2026-11-20T00:00:00Z", "received_before": "2026-11-21T00:00:00"},
                        data_interval_end=None, now=NOW)
    assert window.received_after == datetime(2026, 11, 20, tzinfo=UTC)
    assert window.received_before == datetime(2026, 11, 21, tzinfo=UTC), "naive is UTC"
    assert window.replay and "not touched" in window.describe()
    only_after = run_window({"received_after": "2026-11-29T00:00:00+00:00"}, data_interval_end=None, now=NOW)
    assert only_after.received_before == NOW, "a range open to the present still does not pick up"


def test_reversed_range_is_refused():
    with pytest.raises(ValueError, match="must be before"):
        run_window({"received_after": "2026-11-21T00:00:00Z", "received_before": "2026-11-20T00:00:00Z"},
                   data_interval_end=None, now=NOW)


def test_window_queries(store):
    from amazon_bluecherry.store.models import RawDocument

    ids = {}
    for day in (19, 20, 21):
        raw_id, _ = store.save_raw_document(f"file {day}".encode(), partner="AMAZON", transport="sftp",
                                            received_at=datetime(2026, 11, day, 10, tzinfo=UTC))
        ids[day] = raw_id
        store.add_transaction("850", direction="in", partner="AMAZON", business_key=f"PO{day}",
                              raw_document_id=raw_id, status="loaded")
    with store.session() as db:
        db.get(RawDocument, ids[19]).status = "processed"
    window = RunWindow(received_after=datetime(2026, 11, 19, tzinfo=UTC),
                       received_before=datetime(2026, 11, 21, tzinfo=UTC), reason="replay")
    assert pending_raw_documents_in(store, window) == [ids[20]], "processed and later files are left alone"
    assert len(purchase_orders_in(store, window, statuses=("loaded",))) == 2
    assert purchase_orders_in(store, window, statuses=("received",)) == []
