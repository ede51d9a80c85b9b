"""The store's memory of inventory feeds (stock_to_846).

Tables (``store/models.py``, section stock_to_846; migration 0005):

* ``inventory_feeds`` -- one row per feed planned from a BlueCherry ATS snapshot (kind full
  or delta, the tiers it published, the snapshot's time, cycle and fingerprint, the 846
  file), or per snapshot refused as stale or partial (status ``refused``, the reason).
* ``inventory_feed_lines`` -- per SKU and warehouse on a feed: BlueCherry's figures, the
  ATS read, the buffer held back and the rule that did it, the published quantity and
  what Amazon had before. The snapshot time and the feed kind are the feed's.
* ``inventory_positions`` -- what Amazon was last told per SKU and warehouse, and by which
  feed; written when a feed's file has gone out.

API for other flows: :func:`last_published` (so_to_poa's phantom-stock check: what we
last told Amazon about a SKU in a warehouse, and the feed that did it).

Nothing here imports Airflow.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import delete, func, insert, select, update

from amazon_bluecherry.store.models import (
    InventoryFeed,
    InventoryFeedLine,
    InventoryPosition,
    OutboundDocument,
)
from amazon_bluecherry.store.store import Store

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "PublicationHistory",
    "apply_gate",
    "checked_feed",
    "feed_lines",
    "feed_of_snapshot",
    "last_published",
    "mark_staged",
    "planned_feed",
    "positions_frame",
    "publication_history",
    "record_planned_feed",
    "record_refusal",
    "record_sent",
]

LINE_COLUMNS = ("sku", "style", "upc", "warehouse", "product_id_qualifier", "product_id", "asin", "tier", "on_hand",
                "allocated", "on_hold", "incoming", "ats", "buffer", "rule", "rule_detail", "published",
                "previous_published")
POSITION_COLUMNS = ("sku", "warehouse", "published", "ats", "rule_detail", "product_id_qualifier", "product_id",
                    "asin", "style", "upc")
# Feeds that used their snapshot: a re-run with the same snapshot plans nothing new.
_USED = ("planned", "checked", "blocked", "staged", "sent")
_SENT_STATUSES = ("sent", "accepted", "rejected")   # the file left (Amazon's 997 comes later)


@dataclass
class PublicationHistory:
    last_full_at: datetime | None = None
    last_by_tier: dict[str, datetime | None] = field(default_factory=dict)


def record_refusal(store: Store, *, partner: str, reason: str, source: str, snapshot_at=None, last_cycle_at=None,
                   fingerprint: str | None = None) -> int:
    with store.session() as db:
        feed = InventoryFeed(partner=partner, status="refused", tiers=[], snapshot_at=snapshot_at,
                             last_cycle_at=last_cycle_at, snapshot_fingerprint=fingerprint, source=source[:255],
                             message=reason)
        db.add(feed)
        db.flush()
        store.record_event("inventory_feed.refused", entity_type="inventory_feed", entity_id=feed.id,
                           payload={"reason": reason[:500]}, session=db)
        return feed.id


def feed_of_snapshot(store: Store, fingerprint: str) -> tuple[int, str] | None:
    """(feed id, status) of the feed already planned from this snapshot, if any."""
    with store.session() as db:
        row = db.execute(select(InventoryFeed.id, InventoryFeed.status).where(
            InventoryFeed.snapshot_fingerprint == fingerprint, InventoryFeed.status.in_(_USED))
            .order_by(InventoryFeed.id.desc()).limit(1)).first()
        return (row[0], row[1]) if row else None


def publication_history(store: Store) -> PublicationHistory:
    """When a full feed last went out, and when each tier was last published (planned feeds count:
    their file is on its way)."""
    history = PublicationHistory()
    with store.session() as db:
        rows = db.execute(select(InventoryFeed.kind, InventoryFeed.tiers, InventoryFeed.created_at).where(
            InventoryFeed.status.in_(("checked", "staged", "sent"))).order_by(InventoryFeed.id))
        for kind, tiers, created_at in rows:
            if kind == "full":
                history.last_full_at = created_at
            for tier in tiers or []:
                history.last_by_tier[tier] = created_at
    return history


def positions_frame(store: Store) -> pd.DataFrame:
    """What Amazon was last told, per SKU and warehouse (``flows.stock_to_846.PREVIOUS_COLUMNS``)."""
    import pandas as pd

    with store.session() as db:
        rows = db.execute(select(*(getattr(InventoryPosition, c) for c in POSITION_COLUMNS))).all()
    frame = pd.DataFrame(rows, columns=list(POSITION_COLUMNS))
    for column in ("published", "ats"):
        frame[column] = frame[column].astype("int64")
    return frame


def record_planned_feed(store: Store, *, partner: str, kind: str, tiers: list[str], snapshot_at, last_cycle_at,
                        fingerprint: str, source: str, lines: pd.DataFrame) -> int:
    """A feed and its lines (``flows.stock_to_846.select_lines`` rows), status planned.

    A feed of an older snapshot that a killed run left before staging is superseded: the
    new one was planned against the same positions from fresher figures."""
    with store.session() as db:
        db.execute(update(InventoryFeed).where(InventoryFeed.status.in_(("planned", "checked")))
                   .values(status="superseded"))
        feed = InventoryFeed(partner=partner, status="planned", kind=kind, tiers=tiers, snapshot_at=snapshot_at,
                             last_cycle_at=last_cycle_at, snapshot_fingerprint=fingerprint, source=source[:255],
                             line_count=len(lines), units_published=int(lines["published"].sum()))
        db.add(feed)
        db.flush()
        db.execute(insert(InventoryFeedLine), _line_rows(feed.id, lines))
        store.record_event("inventory_feed.planned", entity_type="inventory_feed", entity_id=feed.id,
                           payload={"kind": kind, "tiers": tiers, "lines": len(lines)}, session=db)
        return feed.id


def _line_rows(feed_id: int, lines: pd.DataFrame) -> list[dict]:
    frame = lines[list(LINE_COLUMNS)].astype(object)
    frame = frame.where(frame.notna(), None)
    rows = frame.to_dict("records")
    for row in rows:
        row["feed_id"] = feed_id
        row["asin"] = row["asin"] or None
        for column in ("on_hand", "allocated", "on_hold", "incoming", "ats", "buffer", "published"):
            row[column] = int(row[column])
        if row["previous_published"] is not None:
            row["previous_published"] = int(row["previous_published"])
    return rows


def feed_lines(store: Store, feed_id: int, *, with_previous: bool = False) -> pd.DataFrame:
    """A feed's lines; ``with_previous`` adds ``previous_ats`` and ``previous_rule_detail`` from the
    positions (for the gate: what BlueCherry said when Amazon was last told)."""
    import pandas as pd

    with store.session() as db:
        rows = db.execute(select(*(getattr(InventoryFeedLine, c) for c in LINE_COLUMNS))
                          .where(InventoryFeedLine.feed_id == feed_id).order_by(InventoryFeedLine.id)).all()
    lines = pd.DataFrame(rows, columns=list(LINE_COLUMNS))
    lines["previous_published"] = pd.to_numeric(lines["previous_published"], errors="coerce")
    if with_previous:
        previous = positions_frame(store)[["sku", "warehouse", "ats", "rule_detail"]].rename(
            columns={"ats": "previous_ats", "rule_detail": "previous_rule_detail"})
        lines = lines.merge(previous, on=["sku", "warehouse"], how="left")
        lines.loc[lines["previous_published"].isna(), ["previous_ats", "previous_rule_detail"]] = None
        lines["previous_ats"] = pd.to_numeric(lines["previous_ats"], errors="coerce")
    return lines


def _feed(store: Store, feed_id: int | None, status: str):
    with store.session() as db:
        query = select(InventoryFeed).where(InventoryFeed.status == status)
        if feed_id is not None:
            query = query.where(InventoryFeed.id == feed_id)
        feed = db.scalar(query.order_by(InventoryFeed.id.desc()).limit(1))
        if feed is not None:
            db.expunge(feed)
        return feed


def planned_feed(store: Store, feed_id: int | None):
    """(feed, lines with previous figures) of the planned feed (the newest when ``feed_id`` is None)."""
    feed = _feed(store, feed_id, "planned")
    return None if feed is None else (feed, feed_lines(store, feed.id, with_previous=True))


def checked_feed(store: Store, feed_id: int | None):
    feed = _feed(store, feed_id, "checked")
    return None if feed is None else (feed, feed_lines(store, feed.id))


def apply_gate(store: Store, feed_id: int, *, blocked: list[tuple[str, str]], quality_result_id: int,
               message: str | None) -> None:
    """Drop the lines that failed the gate; the feed is checked, or blocked when nothing passed."""
    with store.session() as db:
        if blocked:
            wanted = set(blocked)
            ids = [row.id for row in db.execute(
                select(InventoryFeedLine.id, InventoryFeedLine.sku, InventoryFeedLine.warehouse).where(
                    InventoryFeedLine.feed_id == feed_id, InventoryFeedLine.sku.in_(sorted({s for s, _ in wanted}))))
                if (row.sku, row.warehouse) in wanted]
            for start in range(0, len(ids), 500):
                db.execute(delete(InventoryFeedLine).where(InventoryFeedLine.id.in_(ids[start:start + 500])))
        remaining = db.scalar(select(func.count()).where(InventoryFeedLine.feed_id == feed_id))
        units = db.scalar(select(func.coalesce(func.sum(InventoryFeedLine.published), 0))
                          .where(InventoryFeedLine.feed_id == feed_id))
        status = "checked" if remaining else "blocked"
        db.execute(update(InventoryFeed).where(InventoryFeed.id == feed_id).values(
            status=status, quality_result_id=quality_result_id, message=message, line_count=remaining,
            units_published=int(units or 0)))
        store.record_event(f"inventory_feed.{status}", entity_type="inventory_feed", entity_id=feed_id,
                           payload={"lines": remaining, "held": len(blocked)}, session=db)


def mark_staged(feed_id: int, outbound_document_id: int, *, session) -> None:
    session.execute(update(InventoryFeed).where(InventoryFeed.id == feed_id).values(
        status="staged", outbound_document_id=outbound_document_id))


def record_sent(store: Store, *, now: datetime) -> list[int]:
    """Staged feeds whose file went out: status sent, and their lines become the positions."""
    sent: list[int] = []
    with store.session() as db:
        feeds = db.execute(select(InventoryFeed.id, InventoryFeed.kind, OutboundDocument.sent_at)
                           .join(OutboundDocument, OutboundDocument.id == InventoryFeed.outbound_document_id)
                           .where(InventoryFeed.status == "staged", OutboundDocument.status.in_(_SENT_STATUSES))
                           .order_by(InventoryFeed.id)).all()
        for feed_id, kind, sent_at in feeds:
            lines = db.execute(select(*(getattr(InventoryFeedLine, c) for c in POSITION_COLUMNS))
                               .where(InventoryFeedLine.feed_id == feed_id)).all()
            when = sent_at or now
            if kind == "full":
                db.execute(delete(InventoryPosition))   # a full feed is Amazon's whole picture
            else:
                _delete_positions(db, {(line.sku, line.warehouse) for line in lines})
            if lines:
                db.execute(insert(InventoryPosition), [
                    {**dict(zip(POSITION_COLUMNS, line, strict=True)), "feed_id": feed_id, "published_at": when}
                    for line in lines])
            db.execute(update(InventoryFeed).where(InventoryFeed.id == feed_id).values(status="sent", sent_at=when))
            store.record_event("inventory_feed.sent", entity_type="inventory_feed", entity_id=feed_id,
                               payload={"lines": len(lines)}, session=db)
            sent.append(feed_id)
    return sent


def _delete_positions(db, keys: set[tuple[str, str]]) -> None:
    skus = sorted({sku for sku, _ in keys})
    for start in range(0, len(skus), 500):
        found = db.execute(select(InventoryPosition.sku, InventoryPosition.warehouse)
                           .where(InventoryPosition.sku.in_(skus[start:start + 500]))).all()
        for sku, warehouse in found:
            if (sku, warehouse) in keys:
                db.execute(delete(InventoryPosition).where(InventoryPosition.sku == sku,
                                                           InventoryPosition.warehouse == warehouse))


def last_published(store: Store, keys: set[tuple[str, str]]) -> dict[tuple[str, str], tuple[int, int, datetime]]:
    """(SKU, warehouse) -> (quantity Amazon was last told, the feed that told it, when)."""
    if not keys:
        return {}
    found = {}
    skus = sorted({sku for sku, _ in keys})
    with store.session() as db:
        for start in range(0, len(skus), 500):
            for row in db.execute(select(InventoryPosition.sku, InventoryPosition.warehouse, InventoryPosition.published,
                                         InventoryPosition.feed_id, InventoryPosition.published_at)
                                  .where(InventoryPosition.sku.in_(skus[start:start + 500]))):
                if (row.sku, row.warehouse) in keys:
                    found[(row.sku, row.warehouse)] = (row.published, row.feed_id, row.published_at)
    return found
