"""Airflow face of ``amazon_bluecherry.alerts``: a notifier for task and DAG callbacks."""

from __future__ import annotations

from airflow.sdk import BaseNotifier

from amazon_bluecherry.alerts import Alert, dispatch


class IntegrationNotifier(BaseNotifier):
    """Send an alert through the integration's channels (log, webhook, e-mail).

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
        dispatch(Alert(kind=self.kind, message=self.message, owner=self.owner, severity=self.severity))
