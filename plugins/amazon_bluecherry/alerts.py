"""The one way to tell people something needs them: log, webhook (Slack-compatible), e-mail.

Pure Python (no Airflow import): monitors in the flows call ``dispatch``; Airflow reaches
it through ``operators.notifier.IntegrationNotifier`` (task/DAG callbacks) and through
``deadline_missed`` (a DeadlineAlert callback, run by the triggerer).
"""

from __future__ import annotations

import logging
import smtplib
from dataclasses import asdict, dataclass, field
from email.message import EmailMessage
from urllib.parse import urlsplit

import httpx

from amazon_bluecherry.settings import Settings, get_settings

log = logging.getLogger(__name__)


def redacted_url(url: str) -> str:
    """``scheme://host[:port]/…``: what a log line may say about a URL whose path or query
    carries a token (Slack-style webhooks do)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or ''}{f':{parts.port}' if parts.port else ''}/…"


class SecretUrlFilter(logging.Filter):
    """Replaces given URLs (webhooks with their token) by :func:`redacted_url` in log records.

    httpx logs every request with its full URL at INFO; this filter sits on its logger so
    that the alert webhook's token never reaches a log line, whoever configured logging.
    """

    def __init__(self) -> None:
        super().__init__()
        self.secrets: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        message = record.getMessage()
        if any(secret in message for secret in self.secrets):
            for secret in self.secrets:
                message = message.replace(secret, redacted_url(secret))
            record.msg, record.args = message, None
        return True


_URL_FILTER = SecretUrlFilter()


def _hide_from_logs(url: str) -> None:
    _URL_FILTER.secrets.add(url)
    for name in ("httpx", "httpcore"):
        logger = logging.getLogger(name)
        if _URL_FILTER not in logger.filters:
            logger.addFilter(_URL_FILTER)


@dataclass(frozen=True)
class Alert:
    kind: str                      # e.g. poa_window_at_risk, transmission_unacknowledged
    message: str
    owner: str = "integration"     # finance / warehouse / wholesale / integration
    severity: str = "warning"
    business_key: str | None = None
    runbook: str | None = None
    details: dict = field(default_factory=dict)

    @property
    def title(self) -> str:
        key = f" {self.business_key}" if self.business_key else ""
        return f"[{self.severity.upper()}] {self.kind}{key} (owner: {self.owner})"


def dispatch(alert: Alert, settings: Settings | None = None) -> list[str]:
    """Send ``alert`` on every configured channel; returns the channels that took it.

    A failing channel is logged and skipped: one broken webhook must not hide the alert
    from the log or the e-mail.
    """
    settings = settings or get_settings()
    delivered = ["log"]
    log.warning("%s: %s%s", alert.title, alert.message, f" (runbook: {alert.runbook})" if alert.runbook else "")
    if settings.alert_webhook_url:
        # The webhook URL is a credential (its path carries the token): never in a log line.
        _hide_from_logs(settings.alert_webhook_url)
        try:
            response = httpx.post(
                settings.alert_webhook_url,
                json={"text": f"{alert.title}\n{alert.message}", "alert": asdict(alert)},
                timeout=10.0,
            )
            if response.is_error:
                log.error("alert webhook %s answered HTTP %s for %s", redacted_url(settings.alert_webhook_url),
                          response.status_code, alert.kind)
            else:
                delivered.append("webhook")
        except httpx.HTTPError as exc:
            hidden = redacted_url(settings.alert_webhook_url)
            log.error("alert webhook %s failed for %s: %s: %s", hidden, alert.kind, type(exc).__name__,
                      str(exc).replace(settings.alert_webhook_url, hidden))
    if settings.alert_email_to:
        try:
            _send_email(alert, settings)
            delivered.append("email")
        except (OSError, smtplib.SMTPException) as exc:
            log.error("alert e-mail failed for %s: %s", alert.kind, exc)
    return delivered


def _send_email(alert: Alert, settings: Settings) -> None:
    message = EmailMessage()
    message["Subject"] = alert.title
    message["From"] = settings.alert_email_from
    message["To"] = settings.alert_email_to
    lines = [alert.message, ""]
    if alert.runbook:
        lines.append(f"Runbook: {alert.runbook}")
    lines.extend(f"{key}: {value}" for key, value in sorted(alert.details.items()))
    message.set_content("\n".join(lines))
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=10) as smtp:
        smtp.send_message(message)


async def deadline_missed(**kwargs) -> None:
    """DeadlineAlert callback (runs in the triggerer): a DAG run took too long."""
    dag_id = kwargs.get("dag_id") or kwargs.get("context", {}).get("dag_id", "unknown DAG")
    dispatch(
        Alert(
            kind=kwargs.get("kind", "dag_run_deadline_missed"),
            message=kwargs.get("message", f"{dag_id} run passed its deadline"),
            owner=kwargs.get("owner", "integration"),
            severity="error",
            runbook=kwargs.get("runbook"),
        )
    )
