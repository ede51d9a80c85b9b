"""Airflow's notifier mechanism for every alert of the integration.

``ChannelNotifier`` is Airflow's Apprise notifier reading our one alert connection
(``AB_ALERT_CONN_ID``), routed by owner team through Apprise tags, and strict: a channel
that refuses the message is an error, not a silent success. ``IntegrationNotifier`` is
the task / DAG callback (task failures). ``send_through_channels`` is what
``alerts.dispatch`` calls.
"""

from __future__ import annotations

import logging
from contextlib import contextmanager

from airflow.providers.apprise.notifications.apprise import AppriseNotifier
from airflow.sdk import BaseNotifier

from amazon_bluecherry.alerts import Alert, Outcome, RedactUrls, dispatch
from amazon_bluecherry.settings import Settings

log = logging.getLogger(__name__)

# Apprise and urllib3 log channel URLs (with their tokens) at DEBUG; Apprise names hosts in
# its warnings. While an alert leaves, these loggers say nothing below WARNING, and what
# they do say has its URLs reduced to scheme and host.
_QUIET_LOGGERS = ("apprise", "urllib3", "requests", "httpx", "httpcore")


class ChannelNotFound(Exception):
    """The alert connection is not defined: alerts are only logged."""


class ChannelNotifier(AppriseNotifier):
    """Send to the channels of the alert connection tagged with ``tag`` (an owner team).

    :param apprise_conn_id: the alert connection (conn type ``apprise``)
    :param tag: owner team(s); services tagged ``always`` receive every alert
    """

    def notify(self, context) -> None:
        import apprise
        from airflow.providers.apprise.hooks.apprise import AppriseHook

        hook = AppriseHook(apprise_conn_id=self.apprise_conn_id)
        try:
            connection = hook.get_connection(self.apprise_conn_id)
        except Exception as exc:  # AirflowNotFoundException and its task-SDK twin
            if "isn't defined" in str(exc) or "not found" in str(exc).lower() or type(exc).__name__.endswith(
                    "NotFoundException"):
                raise ChannelNotFound(self.apprise_conn_id) from exc
            raise
        config = hook.get_config_from_conn(connection)
        for entry in config if isinstance(config, list) else [config]:
            _mask(entry.get("path", ""))
        tags = [self.tag] if isinstance(self.tag, str) else list(self.tag)
        with _quiet_channel_logs():
            channels = apprise.Apprise()
            hook.set_config_from_conn(conn=connection, apprise_obj=channels)
            delivered = channels.notify(body=self.body, title=self.title or "", notify_type=self.notify_type,
                                        body_format=self.body_format, tag=[*tags, "always"], attach=self.attach)
        if delivered is None:
            raise RuntimeError(f"no channel of connection {self.apprise_conn_id!r} is tagged {tags} or 'always'")
        if not delivered:
            raise RuntimeError(f"a channel of connection {self.apprise_conn_id!r} refused the alert")


def send_through_channels(alert: Alert, settings: Settings) -> Outcome:
    """Send one alert to its owner's channels (``alerts.dispatch`` calls this)."""
    from apprise import NotifyFormat, NotifyType

    notify_type = {"info": NotifyType.INFO, "warning": NotifyType.WARNING}.get(alert.severity, NotifyType.FAILURE)
    notifier = ChannelNotifier(
        body=alert.html or alert.text(), title=alert.title, notify_type=notify_type,
        body_format=NotifyFormat.HTML if alert.html else NotifyFormat.TEXT,
        tag=alert.owner, apprise_conn_id=settings.alert_conn_id,
    )
    try:
        notifier.notify({})
    except ChannelNotFound:
        log.warning("no alert channels: define the Airflow connection %r (type apprise); the alert is only logged",
                    settings.alert_conn_id)
        return Outcome("logged")
    except Exception as exc:  # noqa: BLE001 - reported to the caller, with URLs redacted
        from amazon_bluecherry.alerts import redact

        return Outcome("failed", redact(f"{type(exc).__name__}: {exc}"))
    return Outcome("sent")


class IntegrationNotifier(BaseNotifier):
    """Task / DAG callback: an alert through the integration's channels.

    :param kind: alert kind, e.g. ``task_failed``.
    :param message: templated message.
    :param owner: team that owns the reaction.
    """

    template_fields = ("message",)

    def __init__(self, *, kind: str = "task_failed", message: str = "{{ ti.dag_id }}.{{ ti.task_id }} failed",
                 owner: str = "integration", severity: str = "error"):
        super().__init__()
        self.kind = kind
        self.message = message
        self.owner = owner
        self.severity = severity

    def notify(self, context) -> None:
        dispatch(Alert(kind=self.kind, message=self.message, owner=self.owner, severity=self.severity,
                       runbook=f"docs/runbooks/{self.kind}.md"))


def _mask(secret: str) -> None:
    """Inside a task, Airflow's log masker hides the URL wherever it appears."""
    if not secret:
        return
    try:
        from airflow.sdk.log import mask_secret

        mask_secret(secret)
    except Exception:  # noqa: BLE001 - outside a task there is no masker; our filter still redacts
        pass


@contextmanager
def _quiet_channel_logs():
    loggers = [logging.getLogger(name) for name in _QUIET_LOGGERS]
    saved = [(logger, logger.level) for logger in loggers]
    redactor = RedactUrls()
    for logger in loggers:
        if logger.getEffectiveLevel() < logging.WARNING:
            logger.setLevel(logging.WARNING)
        logger.addFilter(redactor)
    try:
        yield
    finally:
        for logger, level in saved:
            logger.setLevel(level)
            logger.removeFilter(redactor)
