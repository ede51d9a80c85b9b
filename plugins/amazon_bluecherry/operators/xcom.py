"""Reading the ids tasks pass each other (the only payload that goes through XCom).

DAGs hand an upstream task's result to the next operator as an ``XComArg``
(``task.output``, ``task.output["key"]``); Airflow resolves it when it renders the
operator's template fields, so the operator receives the list itself, never its text.
"""

from __future__ import annotations

from typing import Any


def optional_int(value: Any) -> int | None:
    """A number from a template field (a rendered template is text); empty: None."""
    return None if value in (None, "") else int(value)


def id_list(value: Any) -> list[int]:
    """The ids an upstream task returned: a list (an ``XComArg`` resolves to one), one id, or None."""
    if value is None:
        return []
    if isinstance(value, str):  # a rendered template: pass the XComArg instead
        raise TypeError(f"ids arrive as a list through an XComArg (task.output), not as the text {value!r}")
    if isinstance(value, int):
        return [value]
    return [int(item) for item in value]


def quality_gate_counts(store, quality_result_id: int | None) -> dict:
    """What a Great Expectations gate did in this run, for the task's log and XCom."""
    if quality_result_id is None:
        return {"checked": False}
    from amazon_bluecherry.store.models import QualityResult

    with store.session() as db:
        result = db.get(QualityResult, quality_result_id)
        failures = (result.results or {}).get("failures", [])
        return {"checked": True, "suite": result.suite, "rows": int((result.results or {}).get("rows") or 0),
                "expectations": result.evaluated, "failed_expectations": result.failed,
                "blocked_rows": sum(int(f.get("unexpected_count") or 0) for f in failures),
                "blocked": sorted({str(value) for f in failures for key in f.get("keys", [])
                                   for value in key.values()})[:50]}
