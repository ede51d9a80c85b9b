"""``BlueCherryOperator``: call one BlueCherry gateway operation from a DAG.

Thin on purpose: the hook is built in ``execute`` (nothing touches BlueCherry while a DAG
file is parsed) and the work is the gateway's. Flows that read big results (the item
master, ATS) call the gateway through the hook inside their own tasks; this operator
pushes only a summary to XCom unless told otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from airflow.sdk import BaseOperator
from pydantic import BaseModel

from amazon_bluecherry.bluecherry import models
from amazon_bluecherry.hooks.bluecherry import BlueCherryHook

__all__ = ["BlueCherryOperator"]

# Gateway operations the operator may call, and which arguments are models (given as dicts).
OPERATIONS: dict[str, dict[str, type]] = {
    "ping": {},
    "list_items": {},
    "get_price_list": {},
    "list_customers": {},
    "upsert_sales_order": {"draft": models.SalesOrderDraft},
    "get_sales_order": {},
    "list_sales_orders": {},
    "list_shipments_ready": {},
    "get_shipment": {},
    "confirm_shipment": {},
    "list_invoices": {},
    "get_invoice": {},
    "get_ats": {},
    "list_gl_accounts": {},
    "post_journal_entry": {"entry": models.JournalEntry},
    "record_cash_receipt": {"receipt": models.CashReceipt},
    "list_open_ar": {},
    "list_ledger_lines": {},
}


class BlueCherryOperator(BaseOperator):
    """Call ``BlueCherryGateway.<operation>(**arguments)``.

    :param operation: a gateway method, e.g. ``confirm_shipment`` (see ``OPERATIONS``)
    :param arguments: keyword arguments, templated; model arguments may be dicts
    :param bluecherry_conn_id: the BlueCherry connection
    :param result: ``summary`` (lists as a count) or ``full`` (everything, JSON) for XCom
    """

    template_fields: Sequence[str] = ("operation", "arguments")
    template_fields_renderers = {"arguments": "json"}

    def __init__(
        self,
        *,
        operation: str,
        arguments: dict[str, Any] | None = None,
        bluecherry_conn_id: str = BlueCherryHook.default_conn_name,
        result: Literal["summary", "full"] = "summary",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if operation not in OPERATIONS and "{{" not in operation:
            raise ValueError(f"unknown BlueCherry operation {operation!r}; one of {sorted(OPERATIONS)}")
        if result not in ("summary", "full"):
            raise ValueError(f"result must be 'summary' or 'full', not {result!r}")
        self.operation = operation
        self.arguments = arguments or {}
        self.bluecherry_conn_id = bluecherry_conn_id
        self.result = result

    def execute(self, context: Any) -> Any:
        if self.operation not in OPERATIONS:
            raise ValueError(f"unknown BlueCherry operation {self.operation!r}")
        arguments = dict(self.arguments)
        for name, model in OPERATIONS[self.operation].items():
            if isinstance(arguments.get(name), dict):
                arguments[name] = model.model_validate(arguments[name])
        hook = BlueCherryHook(bluecherry_conn_id=self.bluecherry_conn_id)
        try:
            outcome = getattr(hook.get_conn(), self.operation)(**arguments)
        finally:
            hook.close()
        self.log.info("BlueCherry %s done: %s", self.operation, _summary(outcome))
        return _jsonable(outcome) if self.result == "full" else _summary(outcome)


def _jsonable(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, list):
        return [_jsonable(item) for item in value]
    return value


def _summary(value: Any) -> Any:
    if isinstance(value, list):
        return {"count": len(value)}
    if isinstance(value, models.AtsSnapshot):
        return {"snapshot_at": value.snapshot_at.isoformat(), "count": len(value.rows)}
    return _jsonable(value)
