"""Which documents a run may touch: everything pending (a current run), or only what had
arrived in a time window (a backfill, a replay), read-only toward Amazon's mailbox.

A run replays the past when it is a backfill run (``airflow backfill create``; to replay
an interval that has a run already, ``--reprocess-behavior completed``) or when it is given
``received_before`` (a DAG Param, so the trigger form shows it). A replay never picks up from Amazon's mailbox, and validates,
translates, loads and acknowledges only documents that arrived before ``received_before``
(and at or after ``received_after`` when that is given: a one-run replay of a time range).
What it sends back (997s, 855s) answers only those documents.

Pure functions and store queries; the operators read the Airflow context into a
:class:`RunWindow`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from amazon_bluecherry.store import Store
from amazon_bluecherry.store.models import DocumentLink, OutboundDocument, RawDocument, Transaction


@dataclass(frozen=True)
class RunWindow:
    received_after: datetime | None = None
    received_before: datetime | None = None
    reason: str = "current"  # current | backfill | replay

    @property
    def replay(self) -> bool:
        """True: read-only toward Amazon's mailbox, and only documents of the window."""
        return self.received_before is not None

    def describe(self) -> str:
        if not self.replay:
            return "current run: every pending document"
        after = f" from {self.received_after.isoformat()}" if self.received_after else ""
        return (f"{self.reason}: documents received{after} before {self.received_before.isoformat()} only; "
                "Amazon's mailbox is not touched")


def parse_instant(value: Any) -> datetime | None:
    """An ISO-8601 instant from a Param or conf value; naive values are UTC."""
    if value in (None, ""):
        return None
    instant = value if isinstance(value, datetime) else datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return instant if instant.tzinfo else instant.replace(tzinfo=UTC)


def run_window(params: Mapping[str, Any] | None, *, data_interval_end: datetime | None,
               now: datetime, run_type: str | None = None) -> RunWindow:
    """``run_type`` is Airflow's (``backfill``, ``scheduled``, ``manual`` ...). A backfill run
    replays up to its interval's end; any run replays with the Params. Other runs are
    current, whatever the age of their interval: a daily run the scheduler starts late, or a
    manual run on a data-interval timetable, must still take everything pending."""
    params = params or {}
    after, before = parse_instant(params.get("received_after")), parse_instant(params.get("received_before"))
    if before is not None or after is not None:
        if before is None:
            before = now  # a range open to the present: still no pickup, nothing after the trigger
        if after is not None and after >= before:
            raise ValueError(f"received_after ({after.isoformat()}) must be before received_before "
                             f"({before.isoformat()})")
        return RunWindow(received_after=after, received_before=before, reason="replay")
    if run_type == "backfill" and data_interval_end is not None:
        return RunWindow(received_before=data_interval_end, reason="backfill")
    return RunWindow()


def _in_window(query, window: RunWindow):
    if window.received_before is not None:
        query = query.where(RawDocument.received_at < window.received_before)
    if window.received_after is not None:
        query = query.where(RawDocument.received_at >= window.received_after)
    return query


def pending_raw_documents_in(store: Store, window: RunWindow, *, session=None) -> list[int]:
    """Inbound raw documents not processed yet that arrived in the window (oldest first)."""
    with store.use_session(session) as db:
        query = select(RawDocument.id).where(RawDocument.direction == "in", RawDocument.status == "received")
        return list(db.scalars(_in_window(query, window).order_by(RawDocument.id)))


def purchase_orders_in(store: Store, window: RunWindow, *, statuses: Iterable[str], session=None) -> list[int]:
    """Ids of inbound 850s in ``statuses`` whose file arrived in the window."""
    with store.use_session(session) as db:
        query = (select(Transaction.id)
                 .join(RawDocument, RawDocument.id == Transaction.raw_document_id)
                 .where(Transaction.doc_type == "850", Transaction.direction == "in",
                        Transaction.status.in_(list(statuses))))
        return list(db.scalars(_in_window(query, window).order_by(Transaction.id)))


def pending_acknowledgements_of(store: Store, purchase_order_ids: Iterable[int], *, session=None) -> list[int]:
    """Pending outbound 855 files that answer these purchase orders."""
    ids = list(purchase_order_ids)
    if not ids:
        return []
    with store.use_session(session) as db:
        query = (select(OutboundDocument.id).distinct()
                 .join(Transaction, Transaction.raw_document_id == OutboundDocument.raw_document_id)
                 .join(DocumentLink, DocumentLink.child_id == Transaction.id)
                 .where(DocumentLink.parent_id.in_(ids), DocumentLink.relation == "acknowledgement",
                        OutboundDocument.status == "pending", OutboundDocument.doc_type == "855"))
        return sorted(db.scalars(query))


def still_pending(store: Store, outbound_ids: Iterable[int], *, session=None) -> list[int]:
    ids = [int(i) for i in outbound_ids if i is not None]
    if not ids:
        return []
    with store.use_session(session) as db:
        return list(db.scalars(select(OutboundDocument.id).where(
            OutboundDocument.id.in_(ids), OutboundDocument.status == "pending").order_by(OutboundDocument.id)))
