"""docs/runbooks agree with the owner table, with the code that raises and with the CLI.

A runbook that names a command the CLI does not have, or an owner the table does not say,
sends someone the wrong way at the worst moment.
"""

from __future__ import annotations

import re
import shlex

import pytest

from amazon_bluecherry.cli import build_parser
from amazon_bluecherry.flows.mappings import load_exception_types
from amazon_bluecherry.settings import REPO_ROOT

RUNBOOKS = REPO_ROOT / "docs" / "runbooks"
# Airflow-level alerts (operators/dag_defaults.py): not in the owner table, same runbook shape.
AIRFLOW_ALERTS = {"dag_run_deadline_missed": ("integration", "error"), "task_failed": ("integration", "error")}


def _expected() -> dict[str, tuple[str, str]]:
    table = {name: (kind.owner, kind.severity) for name, kind in load_exception_types().items()}
    return table | AIRFLOW_ALERTS


def _runbooks() -> dict[str, str]:
    return {path.stem: path.read_text(encoding="utf-8") for path in RUNBOOKS.glob("*.md") if path.stem != "README"}


def test_every_type_and_alert_has_exactly_one_runbook():
    assert set(_runbooks()) == set(_expected()), "runbooks without a type, or types without a runbook"


@pytest.mark.parametrize("name", sorted(_expected()))
def test_runbook_header_states_the_owner_table(name):
    text = (RUNBOOKS / f"{name}.md").read_text(encoding="utf-8")
    owner, severity = _expected()[name]
    assert text.startswith(f"# {name} — "), "first line: '# <type> — <what>'"
    header = text.split("## ", 1)[0]
    assert f"**Owner:** {owner}" in header
    assert f"**Severity:** {severity}" in header
    for section in ("## What happened", "## What to do"):
        assert section in text, f"{name} lacks {section}"


def test_the_index_lists_every_runbook_with_owner_and_severity():
    rows = {}
    for line in (RUNBOOKS / "README.md").read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 5 and cells[0] in _expected():
            rows[cells[0]] = cells
    assert set(rows) == set(_expected())
    for name, (_type, owner, severity, _summary, link) in rows.items():
        assert (owner, severity) == _expected()[name], name
        target = re.fullmatch(r"\[[^\]]+\]\(([^)]+)\)", link)
        assert target and (RUNBOOKS / target[1]).is_file(), f"{name}: broken link {link}"
        assert target[1] == f"{name}.md"


def test_runbooks_the_code_links_to_exist():
    # Alerts and exceptions carry a runbook path; every one written in the code must exist.
    paths = set()
    for source in (REPO_ROOT / "plugins" / "amazon_bluecherry").rglob("*.py"):
        paths |= set(re.findall(r"docs/runbooks/([a-z0-9_]+)\.md", source.read_text(encoding="utf-8")))
    assert paths, "expected the code to name runbooks"
    missing = sorted(name for name in paths if not (RUNBOOKS / f"{name}.md").is_file())
    assert not missing


def _quoted_commands():
    """Every `amazon-bluecherry ...` command written in a runbook: inline, or in a code block."""
    for path in sorted(RUNBOOKS.glob("*.md")):
        text = path.read_text(encoding="utf-8")
        for command in re.findall(r"`(amazon-bluecherry [^`]+)`", text):
            yield path.name, command
        for line in text.splitlines():
            if line.startswith("    amazon-bluecherry "):
                yield path.name, line.split("  #", 1)[0].strip()


def test_runbooks_only_name_commands_the_cli_has():
    parser = build_parser()
    commands = list(_quoted_commands())
    assert len(commands) > 10
    for name, command in commands:
        # Placeholders such as <file> or … stand for one argument.
        words = shlex.split(re.sub(r"<[^>]*>|…", "1", command))[1:]
        try:
            parser.parse_args(words)
        except SystemExit as exc:
            raise AssertionError(f"{name}: `{command}` is not a valid amazon-bluecherry command") from exc
