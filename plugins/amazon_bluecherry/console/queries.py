"""What the console shows, read from the store (no Airflow, no HTML: tests call these)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, or_, select

from amazon_bluecherry.store.models import Deadline, ExceptionRecord, OutboundDocument, Transaction

ACTIVE = ("open", "acknowledged")


def _store():
    from amazon_bluecherry.store import get_store

    return get_store()


def _nearest_window(db, record: ExceptionRecord):
    conditions = []
    if record.transaction_id is not None:
        conditions.append(Deadline.transaction_id == record.transaction_id)
    if record.business_key:
        conditions.append(Deadline.business_key == record.business_key)
    if not conditions:
        return None
    return db.scalar(select(Deadline.due_at).where(or_(*conditions), Deadline.met_at.is_(None))
                     .order_by(Deadline.due_at).limit(1))


def exception_rows(*, owner: str = "", type: str = "", status: str = "active", q: str = "",
                   at_risk_hours: int = 0, store=None, now: datetime | None = None):
    """(rows, open count per team, known types) for the list, filtered and searched."""
    store = store or _store()
    now = now or datetime.now(UTC)
    with store.session() as db:
        query = select(ExceptionRecord).order_by(ExceptionRecord.id.desc()).limit(1000)
        if status == "active":
            query = query.where(ExceptionRecord.status.in_(ACTIVE))
        elif status and status != "all":
            query = query.where(ExceptionRecord.status == status)
        if owner:
            query = query.where(ExceptionRecord.owner == owner)
        if type:
            query = query.where(ExceptionRecord.type == type)
        if q.strip():
            pattern = f"%{q.strip().lower()}%"
            query = query.where(or_(func.lower(ExceptionRecord.message).like(pattern),
                                    func.lower(func.coalesce(ExceptionRecord.business_key, "")).like(pattern),
                                    func.lower(ExceptionRecord.type).like(pattern)))
        rows = []
        for record in db.scalars(query):
            due_at = _nearest_window(db, record)
            if at_risk_hours and (due_at is None or due_at > now + timedelta(hours=at_risk_hours)):
                continue
            rows.append({"id": record.id, "owner": record.owner, "type": record.type, "severity": record.severity,
                         "status": record.status, "business_key": record.business_key, "message": record.message,
                         "runbook": record.runbook, "created_at": record.created_at, "due_at": due_at})
        if at_risk_hours:  # the closest window first
            rows.sort(key=lambda row: row["due_at"])
        counts = dict(db.execute(select(ExceptionRecord.owner, func.count()).where(
            ExceptionRecord.status.in_(ACTIVE)).group_by(ExceptionRecord.owner)).all())
        types = sorted(db.scalars(select(ExceptionRecord.type).distinct()))
    return rows, counts, types


def exception_detail(exception_id: int, *, store=None, now: datetime | None = None) -> dict | None:
    from amazon_bluecherry.flows.alerting import _where, deliveries_of, window_for
    from amazon_bluecherry.flows.operations import RESENDABLE, RETRANSLATABLE, data_path, exception_trail

    store = store or _store()
    now = now or datetime.now(UTC)
    with store.session() as db:
        record = db.get(ExceptionRecord, exception_id)
        if record is None:
            return None
        exception = {column.name: getattr(record, column.name) for column in ExceptionRecord.__table__.columns}
        where = _where(db, record.id)
        window = window_for(db, record, now)
    path = data_path(store, exception_id)
    with store.session() as db:
        outbound_ids = {step["outbound"]["id"] for step in path if step.get("outbound")}
        if record.raw_document_id is not None:
            outbound_ids |= set(db.scalars(select(OutboundDocument.id).where(
                OutboundDocument.raw_document_id == record.raw_document_id)))
        if record.type.startswith("transmission_") and record.business_key:
            outbound_ids |= set(db.scalars(select(OutboundDocument.id).where(
                OutboundDocument.file_name == record.business_key)))
        resendable = [{"id": o.id, "file_name": o.file_name, "status": o.status} for o in db.scalars(
            select(OutboundDocument).where(OutboundDocument.id.in_(outbound_ids),
                                           OutboundDocument.status.in_(RESENDABLE)))] if outbound_ids else []
        retranslatable = None
        if record.business_key:
            newest = db.scalar(select(Transaction).where(
                Transaction.doc_type == "850", Transaction.direction == "in",
                Transaction.business_key == record.business_key).order_by(Transaction.id.desc()).limit(1))
            if newest is not None and newest.status in RETRANSLATABLE:
                retranslatable = record.business_key
    return {"exception": exception, "where": where, "window": window, "path": path,
            "trail": exception_trail(store, exception_id), "alerts": deliveries_of(store, exception_id),
            "resendable": resendable, "retranslatable": retranslatable}
