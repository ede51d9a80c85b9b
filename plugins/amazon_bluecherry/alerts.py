"""The one way to tell people something needs them.

Every alert is logged, then sent through the channels configured once, in one Airflow
connection of type ``apprise`` (``AB_ALERT_CONN_ID``, default ``amazon_bluecherry_alerts``):
e-mail, Slack, Teams, a generic JSON webhook ... each URL tagged with the owner teams it
serves (``finance``, ``warehouse``, ``wholesale``, ``integration``; ``always`` gets all).
Their URLs carry tokens: they are secrets, kept in the connection and never logged.

No Airflow import at module level: flows compose alerts here; the sending goes through
``operators.notifier`` (an Airflow notifier), imported when an alert leaves.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from amazon_bluecherry.settings import Settings, get_settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Alert:
    kind: str                      # e.g. exceptions_opened, task_failed, quality_report
    message: str
    owner: str = "integration"     # finance / warehouse / wholesale / integration
    severity: str = "warning"
    business_key: str | None = None
    runbook: str | None = None
    details: dict = field(default_factory=dict)
    subject: str | None = None     # overrides the generated title
    html: str | None = None        # an HTML body (the daily report); ``message`` is its text form

    @property
    def title(self) -> str:
        if self.subject:
            return self.subject
        key = f" {self.business_key}" if self.business_key else ""
        return f"[{self.severity.upper()}] {self.kind}{key} (owner: {self.owner})"

    def text(self) -> str:
        lines = [self.message]
        if self.runbook:
            lines.append(f"Runbook: {self.runbook}")
        lines.extend(f"{key}: {value}" for key, value in sorted(self.details.items()))
        return "\n".join(lines)


@dataclass(frozen=True)
class Outcome:
    status: str                    # sent / failed / logged (no channel configured)
    error: str | None = None


Sender = Callable[[Alert, Settings], Outcome]


def dispatch(alert: Alert, settings: Settings | None = None, *, send: Sender | None = None) -> Outcome:
    """Log ``alert``, then send it through the configured channels.

    A failing channel is logged (without its URL) and reported in the outcome: a broken
    webhook must never hide the alert from the log, nor stop the task that raised it.
    """
    settings = settings or get_settings()
    log.warning("%s: %s%s", alert.title, alert.message, f" (runbook: {alert.runbook})" if alert.runbook else "")
    if send is None:
        from amazon_bluecherry.operators.notifier import send_through_channels as send
    try:
        outcome = send(alert, settings)
    except Exception as exc:  # noqa: BLE001 - any channel failure is reported, never raised
        outcome = Outcome("failed", redact(str(exc)))
    if outcome.status == "failed":
        log.error("alert %s to %s not delivered: %s", alert.kind, alert.owner, outcome.error)
    return outcome


_URL = re.compile(r"\b([a-z][a-z0-9+.-]*)://([^\s/?#'\"<>]+)([^\s'\"<>]*)", re.IGNORECASE)


def redact_url(url: str) -> str:
    """``scheme://host/…``: no user, password, path or query (where webhook tokens live)."""
    match = _URL.search(url)
    if not match:
        return "<redacted>"
    host = match.group(2).rsplit("@", 1)[-1]
    return f"{match.group(1)}://{host}/…" if match.group(3) or "@" in match.group(2) else f"{match.group(1)}://{host}"


def redact(text: str) -> str:
    """Every URL in ``text`` reduced to scheme and host."""
    return _URL.sub(lambda match: redact_url(match.group(0)), text)


class RedactUrls(logging.Filter):
    """Logging filter: URLs in a record's message lose their path, query and credentials."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True


async def deadline_missed(**kwargs) -> None:
    """DeadlineAlert callback (runs in the triggerer): a DAG run took too long."""
    import asyncio

    dag_id = kwargs.get("dag_id") or kwargs.get("context", {}).get("dag_id", "unknown DAG")
    alert = Alert(
        kind=kwargs.get("kind", "dag_run_deadline_missed"),
        message=kwargs.get("message", f"{dag_id} run passed its deadline"),
        owner=kwargs.get("owner", "integration"),
        severity="error",
        runbook=kwargs.get("runbook"),
    )
    # The connection lookup and the sending block: off the triggerer's event loop.
    await asyncio.to_thread(dispatch, alert)
