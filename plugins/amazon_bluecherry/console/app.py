"""The exceptions console (FastAPI, server-rendered HTML, no JavaScript).

Only Airflow-authenticated users reach it: every route depends on Airflow's own
``get_user`` (the UI's session cookie or a Bearer token); changes need a user allowed to
edit DAG runs (a viewer can look, not act). Form posts from another origin are refused.
Every action writes an audit event naming the user.
"""

from __future__ import annotations

import html
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode, urlparse

from fastapi import APIRouter, Depends, FastAPI, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from sqlalchemy import select

from amazon_bluecherry.settings import REPO_ROOT

AT_RISK_CHOICES = (4, 12, 24)


def _e(value) -> str:
    return html.escape("" if value is None else str(value))


async def authenticated(request: Request):
    from airflow.api_fastapi.core_api.security import bearer_scheme, get_user

    credentials = await bearer_scheme(request)
    user = await get_user(request, None, credentials)
    request.state.console_user = user
    return user


def _may_act(request: Request) -> str:
    """The user's name, if they may change things; 403 otherwise (and for cross-site posts)."""
    from airflow.api_fastapi.app import get_auth_manager

    origin = request.headers.get("origin")
    if origin and urlparse(origin).netloc != request.headers.get("host"):
        raise HTTPException(403, "cross-site form post refused")
    user = request.state.console_user
    if not get_auth_manager().is_authorized_dag(method="PUT", user=user):
        raise HTTPException(403, f"{user.get_name()} may look at exceptions but not act on them")
    return f"airflow:{user.get_name()}"


# One router per concern; create_app puts them behind Airflow's login.
exceptions_router = APIRouter()   # the queue: list, JSON, one exception, acknowledge / resolve / reopen
operations_router = APIRouter()   # what people do from an exception: re-send a file, re-translate a PO
documents_router = APIRouter()    # runbooks and the daily data-quality reports


def create_app() -> FastAPI:
    app = FastAPI(title="Amazon-BlueCherry exceptions console", dependencies=[Depends(authenticated)],
                  docs_url=None, redoc_url=None, openapi_url=None)
    app.add_exception_handler(HTTPException, _error_page)
    for router in (exceptions_router, operations_router, documents_router):
        app.include_router(router)
    return app


async def _error_page(request: Request, exc: HTTPException):
    """JSON for the API, a page for people (with the way to log in when they are not)."""
    if request.url.path.endswith((".json",)) or "/api/" in request.url.path:
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code)
    body = f"<p>{_e(exc.detail)}</p>"
    if exc.status_code in (401, 403) and "cross-site" not in str(exc.detail):
        body += '<p><a href="/auth/login/?next=/exceptions-console/" target="_top">Log in to Airflow</a></p>'
    return HTMLResponse(_page("Not allowed" if exc.status_code in (401, 403) else "Error", body),
                        status_code=exc.status_code)


@exceptions_router.get("/", response_class=HTMLResponse)
def index(request: Request, owner: str = "", type: str = "", status: str = "active", q: str = "",
          at_risk: int = 0, exception: int | None = None):
    if exception is not None:  # the link in an alert
        return RedirectResponse(f"exceptions/{exception}", status_code=303)
    from amazon_bluecherry.console.queries import exception_rows

    rows, counts, types = exception_rows(owner=owner, type=type, status=status, q=q, at_risk_hours=at_risk)
    return HTMLResponse(_page("Exceptions", _list_html(rows, counts, types, owner=owner, type=type,
                                                       status=status, q=q, at_risk=at_risk)))


@exceptions_router.get("/api/exceptions")
def api_exceptions(owner: str = "", type: str = "", status: str = "active", q: str = "", at_risk: int = 0):
    from amazon_bluecherry.console.queries import exception_rows

    rows, counts, _ = exception_rows(owner=owner, type=type, status=status, q=q, at_risk_hours=at_risk)
    return JSONResponse({"exceptions": [_jsonable(row) for row in rows], "open_by_owner": counts})


@exceptions_router.get("/exceptions/{exception_id}", response_class=HTMLResponse)
def detail(exception_id: int, done: str = ""):
    from amazon_bluecherry.console.queries import exception_detail

    found = exception_detail(exception_id)
    if found is None:
        raise HTTPException(404, f"exception {exception_id} does not exist")
    return HTMLResponse(_page(f"Exception #{exception_id}", _detail_html(found, done)))


@exceptions_router.post("/exceptions/{exception_id}/{action}")
def act(request: Request, exception_id: int, action: str, note: str = Form("")):
    from amazon_bluecherry.store import StoreError, get_store

    actor = _may_act(request)
    status = {"acknowledge": "acknowledged", "resolve": "resolved", "reopen": "open"}.get(action)
    if status is None:
        raise HTTPException(404, f"no action {action!r}")
    if status == "resolved" and not note.strip():
        raise HTTPException(400, "say what was done: a note is required to resolve")
    try:
        get_store().update_exception(exception_id, status=status, note=note.strip() or None, actor=actor)
    except StoreError as exc:
        raise HTTPException(404, str(exc)) from exc
    return RedirectResponse(f"../{exception_id}?{urlencode({'done': status})}", status_code=303)


@operations_router.post("/outbound/{outbound_id}/resend")
def resend(request: Request, outbound_id: int, note: str = Form(""), back: str = Form("")):
    from amazon_bluecherry.flows.operations import OperationRefused, resend_outbound
    from amazon_bluecherry.store import get_store

    actor = _may_act(request)
    try:
        resent = resend_outbound(get_store(), outbound_id, actor=actor, note=note.strip() or None)
    except OperationRefused as exc:
        raise HTTPException(409, str(exc)) from exc
    return RedirectResponse(_back(back, f"{resent.file_name} will be sent again"), status_code=303)


@operations_router.post("/purchase-orders/{po_number}/retranslate")
def retranslate(request: Request, po_number: str, note: str = Form(""), back: str = Form("")):
    from amazon_bluecherry.flows.operations import OperationRefused, requeue_purchase_order
    from amazon_bluecherry.store import get_store

    actor = _may_act(request)
    try:
        requeue_purchase_order(get_store(), po_number, event="purchase_order.retranslate", actor=actor,
                               note=note.strip() or None)
    except OperationRefused as exc:
        raise HTTPException(409, str(exc)) from exc
    return RedirectResponse(_back(back, f"PO {po_number} goes through translation on the next po_to_so run"),
                            status_code=303)


@documents_router.get("/runbooks/{name}", response_class=HTMLResponse)
def runbook(name: str):
    import markdown

    path = _runbooks_dir() / Path(name).name
    if path.suffix != ".md":
        path = path.with_suffix(".md")
    if not path.is_file():
        raise HTTPException(404, f"no runbook {name}")
    text = path.read_text(encoding="utf-8")
    return HTMLResponse(_page(path.stem, '<p><a href="../">← exceptions</a></p>'
                              + markdown.markdown(text, extensions=["fenced_code", "tables"])))


@documents_router.get("/reports/", response_class=HTMLResponse)
def reports():
    from amazon_bluecherry.store import get_store
    from amazon_bluecherry.store.models import QualityReport

    with get_store().session() as db:
        rows = [(r.report_date, (r.summary or {}).get("flags", [])) for r in db.scalars(
            select(QualityReport).order_by(QualityReport.report_date.desc()).limit(90))]
    body = ["<p><a href='../'>← exceptions</a></p><table><tr><th>day</th><th>flags</th></tr>"]
    body += [f"<tr><td><a href='{_e(day)}'>{_e(day)}</a></td><td>{len(flags)} {_e('; '.join(flags[:3]))}</td></tr>"
             for day, flags in rows]
    body.append("</table>" if rows else "</table><p>No report yet: the daily_quality_report DAG writes one "
                                        "per day (or run it now from the DAG's trigger button).</p>")
    return HTMLResponse(_page("Data-quality reports", "".join(body)))


@documents_router.get("/reports/{day}", response_class=HTMLResponse)
def report(day: str):
    from amazon_bluecherry.store import get_store
    from amazon_bluecherry.store.models import QualityReport

    with get_store().session() as db:
        found = db.scalar(select(QualityReport).where(QualityReport.report_date == day))
        if found is None:
            raise HTTPException(404, f"no report for {day}")
        return HTMLResponse(found.html)


def _runbooks_dir() -> Path:
    return REPO_ROOT / "docs" / "runbooks"


def _back(back: str, message: str) -> str:
    target = back if back.startswith(("../", "exceptions/", "./")) or back == "" else ""
    separator = "&" if "?" in target else "?"
    return f"{target or './'}{separator}{urlencode({'done': message})}"


def _jsonable(row: dict) -> dict:
    return {key: (value.isoformat() if isinstance(value, datetime) else value) for key, value in row.items()}


def _age(moment: datetime | None) -> str:
    if moment is None:
        return ""
    delta = datetime.now(UTC) - moment
    if delta < timedelta(hours=1):
        return f"{int(delta.total_seconds() // 60)} min"
    if delta < timedelta(days=2):
        return f"{delta.total_seconds() / 3600:.0f} h"
    return f"{delta.days} d"


def _window(due_at: datetime | None) -> str:
    if due_at is None:
        return ""
    left = due_at - datetime.now(UTC)
    if left <= timedelta(0):
        return f"<span class='missed'>closed {_age(due_at)} ago</span>"
    hours = left.total_seconds() / 3600
    css = "risk" if hours <= 4 else "soon" if hours <= 12 else ""
    return f"<span class='{css}'>{hours:.1f} h left</span>"


STYLE = """
body{font-family:Helvetica,Arial,sans-serif;margin:16px;color:#222;font-size:14px}
h1{font-size:20px;margin:0 0 12px} h2{font-size:16px;margin-top:22px}
table{border-collapse:collapse;width:100%} td,th{border-bottom:1px solid #e5e5e5;padding:5px 6px;text-align:left;
vertical-align:top} th{background:#f5f5f5}
.critical{color:#a50f15;font-weight:bold} .error{color:#cb181d} .warning{color:#d94801} .info{color:#555}
.risk,.missed{color:#cb181d;font-weight:bold} .soon{color:#d94801} .muted{color:#777}
.teams a{display:inline-block;margin-right:14px;padding:4px 10px;border:1px solid #ccc;border-radius:12px;
text-decoration:none;color:#222} .teams a.on{background:#222;color:#fff}
form.inline{display:inline-block;margin:4px 8px 4px 0} textarea,input[type=text]{font-size:13px}
.done{background:#e5f5e0;padding:6px 10px;border-radius:4px} pre{white-space:pre-wrap;background:#f7f7f7;padding:8px}
"""


def _page(title: str, body: str) -> str:
    return (f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{_e(title)}</title>"
            f"<style>{STYLE}</style></head><body><h1>{_e(title)}</h1>{body}</body></html>")


def _list_html(rows, counts, types, *, owner, type, status, q, at_risk) -> str:
    from amazon_bluecherry.store.models import OWNER_TEAMS

    def link(**changes) -> str:
        query = {"owner": owner, "type": type, "status": status, "q": q, "at_risk": at_risk or ""} | changes
        return "./?" + urlencode({k: v for k, v in query.items() if v not in ("", None, 0)})

    teams = "".join(f"<a class='{'on' if owner == team else ''}' href='{_e(link(owner='' if owner == team else team))}'>"
                    f"{_e(team)} <b>{counts.get(team, 0)}</b></a>" for team in OWNER_TEAMS)
    type_options = "".join(f"<option {'selected' if t == type else ''}>{_e(t)}</option>" for t in types)
    status_options = "".join(f"<option value='{v}' {'selected' if v == status else ''}>{label}</option>"
                             for v, label in (("active", "open + acknowledged"), ("open", "open"),
                                              ("acknowledged", "acknowledged"), ("resolved", "resolved"),
                                              ("all", "all")))
    risk_options = "<option value=''>any</option>" + "".join(
        f"<option value='{h}' {'selected' if h == at_risk else ''}>closes within {h} h</option>"
        for h in AT_RISK_CHOICES)
    out = [f"<p class='teams'>{teams}</p>",
           f"<form method='get' action='./'><input type='hidden' name='owner' value='{_e(owner)}'>"
           f"type <select name='type'><option value=''>any</option>{type_options}</select> "
           f"status <select name='status'>{status_options}</select> "
           f"Amazon window <select name='at_risk'>{risk_options}</select> "
           f"<input type='text' name='q' value='{_e(q)}' placeholder='PO, file, text…' aria-label='search'> "
           "<button type='submit'>Filter</button></form>",
           f"<p class='muted'>{len(rows)} exception(s). <a href='reports/'>Data-quality reports</a></p>",
           "<table id='exceptions'><tr><th>#</th><th>team</th><th>type</th><th>severity</th><th>status</th>"
           "<th>document</th><th>age</th><th>Amazon window</th><th>what</th><th></th></tr>"]
    for row in rows:
        out.append(
            f"<tr data-id='{row['id']}'><td><a href='exceptions/{row['id']}'>{row['id']}</a></td><td>{_e(row['owner'])}</td>"
            f"<td>{_e(row['type'])}</td><td class='{_e(row['severity'])}'>{_e(row['severity'])}</td>"
            f"<td>{_e(row['status'])}</td><td>{_e(row['business_key'] or '')}</td><td>{_age(row['created_at'])}</td>"
            f"<td>{_window(row['due_at'])}</td><td>{_e(row['message'][:160])}</td>"
            f"<td><a href='exceptions/{row['id']}'>open</a> · <a href='runbooks/{_e(row['type'])}'>runbook</a></td></tr>")
    out.append("</table>")
    return "".join(out)


def _detail_html(found: dict, done: str) -> str:
    record = found["exception"]
    out = []
    if done:
        out.append(f"<p class='done'>{_e(done)}</p>")
    out.append("<p><a href='../'>← all exceptions</a></p><table>")
    for label, value in (("team", record["owner"]), ("type", record["type"]), ("severity", record["severity"]),
                         ("status", record["status"]), ("document", record["business_key"]),
                         ("opened", f"{record['created_at']:%Y-%m-%d %H:%M} UTC ({_age(record['created_at'])} ago)"),
                         ("where", found["where"]), ("Amazon window", found["window"] or "none recorded"),
                         ("note", record["resolution_note"])):
        out.append(f"<tr><th>{_e(label)}</th><td>{_e(value)}</td></tr>")
    out.append(f"<tr><th>what</th><td>{_e(record['message'])}</td></tr></table>")
    out.append(f"<p>Runbook: <a href='../runbooks/{_e(record['type'])}'>{_e(record['runbook'])}</a></p>")

    out.append("<h2>Act</h2>")
    if record["status"] != "resolved":
        if record["status"] == "open":
            out.append(f"<form class='inline' method='post' action='{record['id']}/acknowledge'>"
                       "<input type='text' name='note' placeholder='note (optional)' size='40'> "
                       "<button type='submit' name='acknowledge'>Acknowledge</button></form>")
        out.append(f"<form class='inline' method='post' action='{record['id']}/resolve'>"
                   "<input type='text' name='note' placeholder='what was done (required)' size='50' required> "
                   "<button type='submit' name='resolve'>Resolve</button></form>")
    else:
        out.append(f"<form class='inline' method='post' action='{record['id']}/reopen'>"
                   "<button type='submit'>Reopen</button></form>")
    for outbound in found["resendable"]:
        out.append(f"<form class='inline' method='post' action='../outbound/{outbound['id']}/resend'>"
                   f"<input type='hidden' name='back' value='exceptions/{record['id']}'>"
                   f"<input type='text' name='note' placeholder='why' size='30'> "
                   f"<button type='submit'>Re-send {_e(outbound['file_name'])} ({_e(outbound['status'])})</button></form>")
    if found["retranslatable"]:
        po = found["retranslatable"]
        out.append(f"<form class='inline' method='post' action='../purchase-orders/{_e(po)}/retranslate'>"
                   f"<input type='hidden' name='back' value='exceptions/{record['id']}'>"
                   f"<input type='text' name='note' placeholder='what was fixed' size='30'> "
                   f"<button type='submit'>Replay PO {_e(po)} through translation</button></form>")

    out.append("<h2>Data path</h2>")
    if not found["path"]:
        out.append("<p class='muted'>No document is linked to this exception.</p>")
    else:
        out.append("<table id='data-path'><tr><th>step</th><th>document</th><th>status</th><th>file</th>"
                   "<th>window</th><th>what decided it</th></tr>")
        for step in found["path"]:
            outbound = step.get("outbound") or {}
            deadline = step.get("deadline") or {}
            window = ""
            if deadline:
                window = f"{deadline['kind']} {deadline['due_at']:%Y-%m-%d %H:%M}" + (
                    " met" if deadline.get("met_at") else " missed" if deadline.get("missed_at") else "")
            decided = "<br>".join(_e(fact) for fact in step.get("decided_by") or [])
            out.append(f"<tr><td>{_e(step['doc_type'])} {_e(step.get('direction') or '')}</td>"
                       f"<td>{_e(step.get('business_key') or '')}</td><td>{_e(step.get('status'))}</td>"
                       f"<td>{_e(outbound.get('file_name', ''))} {_e(outbound.get('status', ''))}</td>"
                       f"<td>{_e(window)}</td><td>{decided}</td></tr>")
        out.append("</table>")

    out.append("<h2>Audit trail</h2><table id='trail'><tr><th>when</th><th>what</th><th>who</th><th>note</th></tr>")
    for event in found["trail"]:
        out.append(f"<tr><td>{event['at']:%Y-%m-%d %H:%M:%S}</td><td>{_e(event['kind'])}</td>"
                   f"<td>{_e(event.get('by') or event.get('dag_id') or '')}</td><td>{_e(event.get('note') or '')}</td></tr>")
    out.append("</table><h2>Alerts</h2>")
    if not found["alerts"]:
        out.append("<p class='muted'>Not announced yet (the next run's alert_owners task does it).</p>")
    for alert in found["alerts"]:
        sent = f" at {alert['sent_at']:%Y-%m-%d %H:%M} UTC" if alert["sent_at"] else ""
        out.append(f"<p>{_e(alert['title'])}: {_e(alert['status'])}{sent}"
                   + (f" <span class='error'>{_e(alert['error'])}</span>" if alert["error"] else "") + "</p>")
    if record.get("details"):
        import json

        out.append(f"<h2>Details</h2><pre>{_e(json.dumps(record['details'], indent=2, default=str)[:5000])}</pre>")
    return "".join(out)
