"""Reading ids that arrive through XCom or templates (the only payload tasks pass)."""

from __future__ import annotations

import ast
from typing import Any


def optional_int(value: Any) -> int | None:
    return None if value in (None, "") else int(value)


def id_list(value: Any) -> list[int]:
    """A list of ids from a list, a single id, or a rendered template such as ``"[1, 2]"``."""
    # A templated list arrives as its string form unless the DAG renders native objects.
    if isinstance(value, str):
        value = ast.literal_eval(value) if value.strip() and value.strip() != "None" else []
    if isinstance(value, int):
        value = [value]
    return [int(item) for item in value or []]


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
