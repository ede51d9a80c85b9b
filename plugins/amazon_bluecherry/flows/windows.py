"""Amazon's business windows, watched from the store: one machine for every flow.

A window is a ``deadlines`` row (kind, due time, business key) on a transaction. The
watcher, per open deadline: the document went in time -> met; went late or not at all by
the due time -> missed (exception + alert, once); not sent yet and due within the lead ->
at risk (exception + alert, once). And for every file we sent without Amazon's 997 after
``AB_ACK_TIMEOUT_HOURS``: ``transmission_unacknowledged``. so_to_poa watches its 855s with
it (24 h from the PO), fulfilment_to_asn its ASNs (30 min from departure).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select

from amazon_bluecherry.flows.exceptions import open_exception
from amazon_bluecherry.settings import Settings
from amazon_bluecherry.store import Store
from amazon_bluecherry.store.models import Deadline, OutboundDocument


@dataclass
class MonitorResult:
    met: list[str] = field(default_factory=list)
    at_risk: list[str] = field(default_factory=list)
    missed: list[str] = field(default_factory=list)
    unacknowledged: list[str] = field(default_factory=list)
    exception_ids: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class Window:
    """One kind of deadline and how to talk about it."""

    kind: str                      # deadlines.kind, e.g. poa_due, asn_due
    at_risk_type: str              # exception types (owner table)
    missed_type: str
    lead: timedelta                # warn this long before due
    subject: str                   # "PO", "shipment"
    document: str                  # "855", "ASN"
    sent_at: Callable[..., datetime | None] | None = None  # (session, deadline) -> when the document went
    # Or for all the open deadlines at once (one query, not one per deadline):
    # (session, transaction ids) -> {transaction id: when its document went}
    sent_at_by_transaction: Callable[..., dict[int, datetime]] | None = None


def _left(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours:.1f} h" if hours >= 1 else f"{delta.total_seconds() / 60:.0f} min"


def watch_windows(store: Store, settings: Settings, windows: Sequence[Window], *, now: datetime,
                  transmissions: bool = True) -> MonitorResult:
    """Met / at risk / missed for every open deadline of ``windows``; overdue 997s too."""
    result = MonitorResult()
    with store.session() as db:

        def escalate(kind: str, message: str, *, dedupe_key: str, business_key: str, **links) -> None:
            exception_id = open_exception(store, kind, message, business_key=business_key, dedupe_key=dedupe_key,
                                          session=db, **links)
            if exception_id not in result.exception_ids:
                result.exception_ids.append(exception_id)

        for window in windows:
            deadlines = list(db.scalars(select(Deadline).where(Deadline.kind == window.kind,
                                                               Deadline.met_at.is_(None), Deadline.missed_at.is_(None))))
            sent = (window.sent_at_by_transaction(db, sorted({d.transaction_id for d in deadlines}))
                    if window.sent_at_by_transaction is not None else None)
            for deadline in deadlines:
                sent_at = sent.get(deadline.transaction_id) if sent is not None else window.sent_at(db, deadline)
                due = deadline.due_at
                key = deadline.business_key
                what = f"{window.subject} {key}"
                if sent_at is not None and sent_at <= due:
                    deadline.met_at = sent_at
                    result.met.append(key)
                elif sent_at is not None or now >= due:
                    deadline.missed_at = sent_at if sent_at is not None else now
                    result.missed.append(key)
                    escalate(window.missed_type,
                             f"{what}: the {window.document} was due {due:%Y-%m-%d %H:%M} UTC and "
                             + (f"went at {sent_at:%Y-%m-%d %H:%M} UTC" if sent_at else "has not been sent"),
                             business_key=key, transaction_id=deadline.transaction_id,
                             dedupe_key=f"{window.missed_type}:{deadline.id}")
                elif now >= due - window.lead and deadline.alerted_at is None:
                    deadline.alerted_at = now
                    result.at_risk.append(key)
                    escalate(window.at_risk_type,
                             f"{what}: no {window.document} yet and Amazon's window closes at {due:%Y-%m-%d %H:%M} "
                             f"UTC (in {_left(due - now)}). See why it is held.",
                             business_key=key, transaction_id=deadline.transaction_id,
                             dedupe_key=f"{window.at_risk_type}:{deadline.id}")

        if transmissions:
            overdue_before = now - timedelta(hours=settings.ack_timeout_hours)
            for outbound in db.scalars(select(OutboundDocument).where(
                    OutboundDocument.status == "sent", OutboundDocument.doc_type.not_in(("997", "TA1")),
                    OutboundDocument.sent_at < overdue_before)):
                result.unacknowledged.append(outbound.file_name)
                outbound.status = "unacknowledged"
                escalate("transmission_unacknowledged",
                         f"{outbound.file_name} ({outbound.doc_type}) was sent {outbound.sent_at:%Y-%m-%d %H:%M} UTC "
                         f"and Amazon has not returned a 997 within {settings.ack_timeout_hours:g} h",
                         business_key=outbound.file_name, raw_document_id=outbound.raw_document_id,
                         dedupe_key=f"transmission_unacknowledged:{outbound.id}")
    return result
