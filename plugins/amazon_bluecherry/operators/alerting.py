"""``AlertOwnersOperator``: the last task of every flow (``dag_defaults.alert_owners``)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from airflow.sdk import BaseOperator


class AlertOwnersOperator(BaseOperator):
    """Tell each owner team, in one message, about the exceptions not announced yet.

    Returns ``{"sent": {owner: n}, "failed": {...}, "logged": {...}, "retried": n}``.

    :param database_url: integration store (default from settings)
    """

    ui_color = "#fde2e2"

    def __init__(self, *, database_url: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.database_url = database_url

    def execute(self, context: Any) -> dict:
        from amazon_bluecherry.flows.alerting import announce_new_exceptions
        from amazon_bluecherry.settings import get_settings
        from amazon_bluecherry.store import get_store

        result = announce_new_exceptions(get_store(self.database_url), get_settings(), now=datetime.now(UTC),
                                         dag_id=context["dag"].dag_id if context.get("dag") else None,
                                         run_id=context.get("run_id"))
        self.log.info("alerts: %s", result.summary())
        if result.failed:  # red in the grid; the next run (or this task's retry) sends them again
            raise RuntimeError(f"alerts not delivered to {sorted(result.failed)}: see the log above and the "
                               "alert connection")
        return result.summary()
