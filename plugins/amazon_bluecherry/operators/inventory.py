"""Operators of stock_to_846: thin wrappers over ``flows.stock_to_846_steps``. Hooks and
settings are built in ``execute`` (nothing at parse time); only feed ids go through XCom,
as a list (empty: no feed; Airflow keeps no XCom for None): the store holds the feed, its
lines and the 846."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from airflow.sdk import BaseOperator

from amazon_bluecherry.operators.heap import bulk_step
from amazon_bluecherry.operators.xcom import id_list


class _InventoryOperator(BaseOperator):
    template_fields: Sequence[str] = ("feed_ids", "bluecherry_conn_id")

    def __init__(self, *, feed_ids: Any = None, bluecherry_conn_id: str | None = None, database_url: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.feed_ids = feed_ids
        self.bluecherry_conn_id = bluecherry_conn_id
        self.database_url = database_url

    def _store_settings(self):
        from amazon_bluecherry.settings import get_settings
        from amazon_bluecherry.store import get_store

        return get_store(self.database_url), get_settings()

    def _feed_id(self) -> int | None:
        ids = id_list(self.feed_ids)
        return ids[-1] if ids else None


class PlanInventoryFeedOperator(_InventoryOperator):
    """Read BlueCherry's ATS, refuse a stale or partial snapshot, plan the feed that is due;
    returns ``[feed id]`` (``[]``: refused, or nothing new)."""

    def execute(self, context: Any) -> list[int]:
        from amazon_bluecherry.flows.stock_to_846_steps import plan_feed
        from amazon_bluecherry.hooks.bluecherry import BlueCherryHook

        store, settings = self._store_settings()
        hook = BlueCherryHook(bluecherry_conn_id=self.bluecherry_conn_id or settings.bluecherry_conn_id)
        try:
            with bulk_step():   # 300,000 rows: the collector need not walk Airflow's heap every 700 allocations
                result = plan_feed(store, hook.get_conn(), settings, now=datetime.now(UTC))
        finally:
            hook.close()
        if result.refused:
            self.log.warning("snapshot refused: %s", result.refused)
        else:
            self.log.info("feed %s: %s, %s lines", result.feed_id, result.kind, result.lines)
        return [] if result.feed_id is None else [result.feed_id]


class CheckInventoryFeedOperator(_InventoryOperator):
    """The GX checkpoint over the planned feed; returns ``[feed id]`` when any line passed."""

    def execute(self, context: Any) -> list[int]:
        from amazon_bluecherry.flows.stock_to_846_steps import check_feed

        feed_id = self._feed_id()
        if feed_id is None:
            self.log.info("no feed to check")
            return []
        store, settings = self._store_settings()
        with bulk_step():
            result = check_feed(store, settings, now=datetime.now(UTC), run_key=str(context.get("run_id", "")),
                                feed_id=feed_id)
        self.log.info("846 checkpoint: %s lines pass, %s held", result.passed, len(result.blocked))
        return [result.feed_id] if result.passed else []


class StageInventoryFeedOperator(_InventoryOperator):
    """Store the checked feed as an 846 file; returns every pending 846 outbound id."""

    def execute(self, context: Any) -> list[int]:
        from amazon_bluecherry.flows.stock_to_846_steps import stage_feed

        store, settings = self._store_settings()
        feed_id = self._feed_id()
        if feed_id is None:   # nothing new; a file staged by an interrupted run still goes out
            from amazon_bluecherry.flows.outbound import pending_outbound_ids

            return pending_outbound_ids(store, doc_type="846")
        with bulk_step():
            return stage_feed(store, settings, now=datetime.now(UTC), feed_id=feed_id)


class RecordInventoryFeedsOperator(_InventoryOperator):
    """Feeds whose 846 went out become what Amazon was last told; returns their ids."""

    def execute(self, context: Any) -> list[int]:
        from amazon_bluecherry.flows.stock_to_846_steps import record_sent_feeds

        store, _ = self._store_settings()
        sent = record_sent_feeds(store, now=datetime.now(UTC))
        self.log.info("feeds recorded as sent: %s", sent or "none")
        return sent
