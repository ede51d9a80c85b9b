"""Code shape (issue 15): no product file over 800 lines, no function over 80 lines.

Measured over plugins/ and dags/ with ``ast`` (a function's length runs from its ``def``,
decorators excluded, to its last line). A long file or function is split by responsibility
into named steps; the exceptions below are known and owned elsewhere.
"""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ROOTS = ("plugins", "dags")
MAX_FILE_LINES = 800
MAX_FUNCTION_LINES = 80

# Known exceptions, "path" or "path::function" -> why; remove an entry when its code is split
# (the limit then guards it again). A stale entry fails nothing.
KNOWN_LONG: dict[str, str] = {}


def _sources() -> list[Path]:
    return sorted(p for root in ROOTS for p in (REPO / root).rglob("*.py"))


def _too_long() -> dict[str, int]:
    """Every file and function over its limit, "path" / "path::name" -> its length."""
    found: dict[str, int] = {}
    for path in _sources():
        text = path.read_text(encoding="utf-8")
        name = path.relative_to(REPO).as_posix()
        lines = len(text.splitlines())
        if lines > MAX_FILE_LINES:
            found[name] = lines
        for node in ast.walk(ast.parse(text, filename=name)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    found[f"{name}::{node.name}"] = length
    return found


def test_no_file_or_function_over_its_limit() -> None:
    over = {where: length for where, length in _too_long().items() if where not in KNOWN_LONG}
    assert not over, (
        f"over {MAX_FILE_LINES} lines per file / {MAX_FUNCTION_LINES} per function "
        f"(split by responsibility into named steps): {over}"
    )
