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
