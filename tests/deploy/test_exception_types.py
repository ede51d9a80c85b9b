"""Every exception type the code can open is in the owner table, with an owner and a runbook.

``flows.exceptions.open_exception`` refuses an unknown type at run time, but the mailbox
(below ``flows/``) opens its own through the store with the owner and severity it knows: a
type missing from include/mappings/exception_types.yaml, or one whose owner or severity
drifted from it, would only show when the file arrives. So the types are read from the
source: string constants (or module constants) given to the calls that open exceptions.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest

from amazon_bluecherry.amazon import mailbox
from amazon_bluecherry.flows.mappings import load_exception_types
from amazon_bluecherry.settings import REPO_ROOT

PACKAGE = REPO_ROOT / "plugins" / "amazon_bluecherry"
# Calls that open an exception (or record an issue that becomes one), and where the type is.
OPENERS = {"open_exception": (0, 1), "_open_exception": (0, 1), "_overdue": (1,), "_refuse": (1,),
           "TranslationIssue": (2,), "reject": (0,)}


def _constants(tree: ast.Module) -> dict[str, set[str]]:
    """Names bound to a string or a conditional between strings (``kind = "a" if ... else "b"``)."""
    constants: dict[str, set[str]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant | ast.IfExp):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    constants.setdefault(target.id, set()).update(_types_in(node.value, {}))
    return constants


def _types_in(expression: ast.expr, constants: dict[str, set[str]]) -> set[str]:
    if isinstance(expression, ast.Constant) and isinstance(expression.value, str):
        return {expression.value}
    if isinstance(expression, ast.Name):
        return constants.get(expression.id, set())
    if isinstance(expression, ast.IfExp):
        return _types_in(expression.body, constants) | _types_in(expression.orelse, constants)
    return set()


def opened_types(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    constants = _constants(tree)
    found: set[str] = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", None)
        for position in OPENERS.get(name, ()):
            if position < len(node.args):
                found |= {kind for kind in _types_in(node.args[position], constants) if kind.isidentifier()}
    return found


@cache
def _all_opened() -> dict[str, list[str]]:
    where: dict[str, list[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        for kind in opened_types(path):
            where.setdefault(kind, []).append(str(path.relative_to(REPO_ROOT)))
    return where


def test_the_scan_sees_the_intake_types():
    # The scan must see what the intake opens, or the next test proves nothing.
    opened = set(_all_opened())
    assert {"not_x12", "incomplete_file", "stale_temp_file", "refused_file_name", "oversize_file", "empty_file",
            "remote_delete_failed", "edi_rejected", "edi_interchange_rejected", "duplicate_interchange",
            "direct_fulfillment_unsupported", "transmission_rejected", "unknown_item", "unknown_uom",
            "case_pack_mismatch", "price_mismatch", "unknown_ship_to", "delivery_window_invalid",
            "quality_check_failed", "sales_order_load_failed", "mapping_file_invalid"} <= opened


def test_every_type_the_code_opens_is_in_the_owner_table_with_a_runbook():
    table = load_exception_types()
    missing = {kind: files for kind, files in _all_opened().items() if kind not in table}
    assert not missing, f"types opened in the code but not in exception_types.yaml: {missing}"
    for kind in _all_opened():
        assert table[kind].owner and (REPO_ROOT / table[kind].runbook).is_file(), kind


@pytest.mark.parametrize("kind", sorted(mailbox._SEVERITY))
def test_the_mailbox_opens_its_types_with_the_owner_tables_owner_and_severity(kind):
    entry = load_exception_types()[kind]
    assert (mailbox.OWNER, mailbox._SEVERITY[kind]) == (entry.owner, entry.severity)
