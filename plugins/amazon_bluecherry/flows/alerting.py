"""Alerts when exceptions open: every flow gets them by opening exceptions the usual way
(``flows.exceptions.open_exception``) and ending its DAG with the ``alert_owners`` task.

Batched: one message per owner team with every exception not announced yet (whichever
run, task or command opened it). Deduplicated: an exception is claimed by exactly one
delivery (``exception_alerts`` has the exception as primary key), so two runs finishing
together never announce it twice, and a retried task never sends again what went out.
A delivery that failed is retried by the next run, up to ``AB_ALERT_MAX_ATTEMPTS``.

Each entry says what happened, where (DAG, task, run), how long until Amazon's window
closes (the document's business deadline in the store), the runbook and the console link.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from amazon_bluecherry.alerts import Alert, Outcome, dispatch
from amazon_bluecherry.settings import Settings
from amazon_bluecherry.store import Store
from amazon_bluecherry.store.models import (
    SEVERITIES,
    AlertDelivery,
    Deadline,
    Event,
    ExceptionAlert,
    ExceptionRecord,
    utcnow,
)

log = logging.getLogger(__name__)

# More than this many exceptions for one team in one message: the rest are counted, the
# console lists them all.
MAX_LISTED = 25
DEADLINE_NAMES = {"poa_due": "855 due", "asn_due": "ASN due", "ack_due": "997 due"}


@dataclass
class AnnounceResult:
    sent: dict[str, int] = field(default_factory=dict)      # owner -> exceptions announced
    failed: dict[str, int] = field(default_factory=dict)    # owner -> exceptions whose alert failed
    logged: dict[str, int] = field(default_factory=dict)    # no channel configured: log only
    retried: list[int] = field(default_factory=list)        # earlier deliveries sent again

    def summary(self) -> dict:
        return {"sent": self.sent, "failed": self.failed, "logged": self.logged, "retried": len(self.retried)}


def console_link(settings: Settings, exception_id: int | None = None) -> str:
    base = settings.console_url.rstrip("/") + "/"
    return f"{base}?exception={exception_id}" if exception_id is not None else base


def runbook_link(settings: Settings, runbook: str | None, exception_type: str) -> str:
    path = runbook or f"docs/runbooks/{exception_type}.md"
    if settings.runbook_base_url:
        return settings.runbook_base_url.rstrip("/") + "/" + path.rsplit("/", 1)[-1]
    return path


def window_for(db, record: ExceptionRecord, now: datetime) -> str | None:
    """The nearest open Amazon window of the exception's document, in words."""
    conditions = []
    if record.transaction_id is not None:
        conditions.append(Deadline.transaction_id == record.transaction_id)
    if record.business_key:
        conditions.append(Deadline.business_key == record.business_key)
    if not conditions:
        return None
    from sqlalchemy import or_

    deadline = db.scalar(select(Deadline).where(or_(*conditions), Deadline.met_at.is_(None))
                         .order_by(Deadline.due_at).limit(1))
    if deadline is None:
        return None
    name = DEADLINE_NAMES.get(deadline.kind, deadline.kind)
    left = deadline.due_at - now
    if left <= timedelta(0):
        return f"{name} {deadline.due_at:%Y-%m-%d %H:%M} UTC: window CLOSED {_duration(-left)} ago"
    return f"{name} {deadline.due_at:%Y-%m-%d %H:%M} UTC: closes in {_duration(left)}"


def _duration(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min"


def _where(db, exception_id: int) -> str:
    event = db.scalar(select(Event).where(Event.entity_type == "exception", Event.entity_id == str(exception_id),
                                          Event.kind == "exception.opened").limit(1))
    payload = (event.payload or {}) if event else {}
    if not payload.get("dag_id"):
        return "outside Airflow (command line or console)"
    return " / ".join(filter(None, [payload.get("dag_id"), payload.get("task_id"),
                                    f"run {payload['run_id']}" if payload.get("run_id") else None]))


def compose(db, owner: str, records: list[ExceptionRecord], settings: Settings, now: datetime) -> Alert:
    """One team's message for a batch of exceptions."""
    worst = max((r.severity for r in records), key=lambda s: SEVERITIES.index(s) if s in SEVERITIES else 0)
    types = sorted({r.type for r in records})
    lines = [f"{len(records)} new exception(s) for {owner}: {', '.join(types)}.", ""]
    for record in records[:MAX_LISTED]:
        key = f" · {record.business_key}" if record.business_key else ""
        lines.append(f"#{record.id} {record.type}{key} · {record.severity}")
        lines.append(f"  what: {record.message}")
        lines.append(f"  where: {_where(db, record.id)}, {record.created_at:%Y-%m-%d %H:%M} UTC")
        window = window_for(db, record, now)
        if window:
            lines.append(f"  Amazon's window: {window}")
        lines.append(f"  runbook: {runbook_link(settings, record.runbook, record.type)}")
        lines.append(f"  console: {console_link(settings, record.id)}")
    if len(records) > MAX_LISTED:
        lines.append(f"... and {len(records) - MAX_LISTED} more: {console_link(settings)}?owner={owner}")
    subject = (f"[{worst.upper()}] {len(records)} new exception(s) for {owner}: {', '.join(types[:3])}"
               + (" ..." if len(types) > 3 else ""))
    return Alert(kind="exceptions_opened", message="\n".join(lines), owner=owner, severity=worst,
                 subject=subject[:300])


def _claim(store: Store, owner: str, settings: Settings, now: datetime, *, dag_id: str | None,
           run_id: str | None) -> tuple[int, Alert, list[int]] | None:
    """Claim this team's unannounced open exceptions for one new delivery (one transaction)."""
    with store.session() as db:
        records = list(db.scalars(
            select(ExceptionRecord)
            .outerjoin(ExceptionAlert, ExceptionAlert.exception_id == ExceptionRecord.id)
            .where(ExceptionAlert.exception_id.is_(None), ExceptionRecord.owner == owner,
                   ExceptionRecord.status == "open")
            .order_by(ExceptionRecord.id).limit(500)))
        if not records:
            return None
        alert = compose(db, owner, records, settings, now)
        delivery = AlertDelivery(key=f"exceptions:{owner}:{records[0].id}", kind=alert.kind, owner=owner,
                                 title=alert.title, body=alert.message, dag_id=dag_id, run_id=run_id,
                                 status="pending", attempts=0)
        try:
            with db.begin_nested():
                db.add(delivery)
                db.flush()
                for record in records:
                    db.add(ExceptionAlert(exception_id=record.id, delivery_id=delivery.id))
                db.flush()
        except IntegrityError:  # another run claimed them a moment ago: its message covers them
            return None
        return delivery.id, alert, [record.id for record in records]


def _deliver(store: Store, delivery_id: int, alert: Alert, settings: Settings, send) -> Outcome:
    outcome = dispatch(alert, settings, send=send)
    with store.session() as db:
        delivery = db.get(AlertDelivery, delivery_id)
        delivery.attempts += 1
        delivery.status = outcome.status
        delivery.error = outcome.error
        if outcome.status == "sent":
            delivery.sent_at = utcnow()
        store.record_event(f"alert.{outcome.status}", entity_type="alert_delivery", entity_id=delivery_id,
                           payload={"owner": alert.owner, "kind": alert.kind, "error": outcome.error}, session=db)
    return outcome


def announce_new_exceptions(store: Store, settings: Settings, *, now: datetime, dag_id: str | None = None,
                            run_id: str | None = None, send: Callable | None = None) -> AnnounceResult:
    """Tell each owner team, in one message, about the exceptions nobody was told about yet."""
    result = AnnounceResult()
    result.retried = _retry_failed(store, settings, send)
    with store.session() as db:
        owners = sorted(set(db.scalars(
            select(ExceptionRecord.owner).distinct()
            .outerjoin(ExceptionAlert, ExceptionAlert.exception_id == ExceptionRecord.id)
            .where(ExceptionAlert.exception_id.is_(None), ExceptionRecord.status == "open"))))
    for owner in owners:
        claimed = _claim(store, owner, settings, now, dag_id=dag_id, run_id=run_id)
        if claimed is None:
            continue
        delivery_id, alert, exception_ids = claimed
        outcome = _deliver(store, delivery_id, alert, settings, send)
        bucket = {"sent": result.sent, "failed": result.failed}.get(outcome.status, result.logged)
        bucket[owner] = bucket.get(owner, 0) + len(exception_ids)
    return result


def _retry_failed(store: Store, settings: Settings, send) -> list[int]:
    """Deliveries that failed (or were left pending by a crash) go out again, a few times."""
    retried = []
    stale = utcnow() - timedelta(minutes=10)
    with store.session() as db:
        candidates = [(d.id, d.attempts) for d in db.scalars(select(AlertDelivery).where(
            AlertDelivery.attempts < settings.alert_max_attempts,
            (AlertDelivery.status == "failed")
            | ((AlertDelivery.status == "pending") & (AlertDelivery.created_at < stale))))]
    for delivery_id, attempts in candidates:
        with store.session() as db:  # optimistic claim: only one run retries a delivery
            taken = db.execute(update(AlertDelivery).where(AlertDelivery.id == delivery_id,
                                                           AlertDelivery.attempts == attempts,
                                                           AlertDelivery.status.in_(("failed", "pending")))
                               .values(status="sending")).rowcount
            delivery = db.get(AlertDelivery, delivery_id)
            alert = Alert(kind=delivery.kind, message=delivery.body, owner=delivery.owner, subject=delivery.title,
                          severity="error")
        if taken:
            _deliver(store, delivery_id, alert, settings, send)
            retried.append(delivery_id)
    return retried


def deliveries_of(store: Store, exception_id: int) -> list[dict]:
    """The alerts that announced an exception (for the console)."""
    with store.session() as db:
        rows = db.execute(select(AlertDelivery).join(ExceptionAlert, ExceptionAlert.delivery_id == AlertDelivery.id)
                          .where(ExceptionAlert.exception_id == exception_id)).scalars()
        return [{"id": d.id, "status": d.status, "attempts": d.attempts, "sent_at": d.sent_at,
                 "title": d.title, "error": d.error} for d in rows]


def send_quality_report(store: Store, report_id: int, settings: Settings, *, send: Callable | None = None) -> str:
    """Send a stored daily report once (to channels tagged ``quality_report`` or ``always``)."""
    from amazon_bluecherry.store.models import QualityReport

    with store.session() as db:
        report = db.get(QualityReport, report_id)
        day, html_body, flags = report.report_date, report.html, (report.summary or {}).get("flags", [])
        key = f"quality_report:{day}"
        delivery = db.scalar(select(AlertDelivery).where(AlertDelivery.key == key))
        if delivery is not None and delivery.status == "sent":
            return "sent"
        link = console_link(settings).rstrip("/") + f"/reports/{day}"
        text = "\n".join([f"Data-quality report of {day}: {len(flags)} flag(s).", *[f"- {f}" for f in flags],
                          f"Read it in the console: {link}"])
        alert = Alert(kind="quality_report", message=text, owner="quality_report",
                      severity="warning" if flags else "info", html=html_body,
                      subject=f"Data-quality report {day}" + (f": {len(flags)} flag(s)" if flags else ": all normal"))
        if delivery is None:
            delivery = AlertDelivery(key=key, kind=alert.kind, owner="quality_report", title=alert.title, body=text,
                                     status="pending", attempts=0)
            db.add(delivery)
            db.flush()
        report.delivery_id = delivery.id
        delivery_id = delivery.id
    return _deliver(store, delivery_id, alert, settings, send).status
