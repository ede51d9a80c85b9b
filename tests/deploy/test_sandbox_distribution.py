"""The sandbox is a distribution of its own: the product's wheel and production image hold none of it.

The product's wheel is built from a copy of the sources that includes sandbox/ (as a
checkout does), so a packaging rule that picked it up again would show here.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
import yaml

from amazon_bluecherry.settings import REPO_ROOT

DOCKERFILE = REPO_ROOT / "Dockerfile"
SANDBOX = REPO_ROOT / "sandbox"
ENTRY_GROUP = "amazon_bluecherry.commands"


def _uv() -> str:
    uv = Path(sys.executable).with_name("uv")  # make venv installs it next to python
    found = str(uv) if uv.is_file() else shutil.which("uv")
    assert found, "uv is missing (make venv installs it)"
    return found


def _build_wheel(source: Path, out: Path) -> zipfile.ZipFile:
    subprocess.run([_uv(), "build", "--wheel", "--quiet", "--out-dir", str(out), str(source)],
                   check=True, capture_output=True, timeout=240)
    (wheel,) = out.glob("*.whl")
    return zipfile.ZipFile(wheel)


@pytest.fixture(scope="module")
def sources(tmp_path_factory) -> Path:
    """The files a build reads, copied (a build writes build/ and egg-info next to them)."""
    root = tmp_path_factory.mktemp("sources")
    junk = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "build")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO_ROOT / name, root / name)
    shutil.copytree(REPO_ROOT / "plugins" / "amazon_bluecherry", root / "plugins" / "amazon_bluecherry", ignore=junk)
    shutil.copytree(SANDBOX, root / "sandbox", ignore=junk)
    return root


def test_the_product_wheel_holds_no_sandbox(sources, tmp_path):
    with _build_wheel(sources, tmp_path) as wheel:
        names = wheel.namelist()
        entry_points = next(wheel.read(n).decode() for n in names if n.endswith(".dist-info/entry_points.txt"))
    assert any(name.startswith("amazon_bluecherry/") for name in names)
    assert not [name for name in names if name.startswith("sandbox/")]
    assert ENTRY_GROUP not in entry_points, "the sandbox's commands belong to the sandbox distribution"


def test_the_sandbox_wheel_holds_its_packages_data_and_cli_group(sources, tmp_path):
    with _build_wheel(sources / "sandbox", tmp_path) as wheel:
        names = set(wheel.namelist())
        entry_points = next(wheel.read(n).decode() for n in names if n.endswith(".dist-info/entry_points.txt"))
    packages = {str(init.parent.relative_to(REPO_ROOT)) for init in SANDBOX.rglob("__init__.py")
                if "build" not in init.parts}
    assert {f"{package}/__init__.py" for package in packages} <= names, "a sandbox sub-package is not packaged"
    assert {f"sandbox/amazon/data/{data.name}" for data in (SANDBOX / "amazon" / "data").glob("*.yaml")} <= names
    assert not [name for name in names if name.startswith("amazon_bluecherry/")]
    assert f"[{ENTRY_GROUP}]\nsandbox = sandbox.cli:register" in entry_points


def test_the_sandbox_group_reaches_the_cli_from_the_sandbox_distribution():
    from importlib.metadata import entry_points

    (entry,) = [e for e in entry_points(group=ENTRY_GROUP) if e.name == "sandbox"]
    assert entry.dist.name == "amazon-bluecherry-sandbox"
    product = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    assert ENTRY_GROUP not in product["project"].get("entry-points", {})
    assert "sandbox" not in product["project"].get("optional-dependencies", {})


# --- image --------------------------------------------------------------------------------


def _stages() -> dict[str, list[str]]:
    """Dockerfile instructions by stage name (continuation lines joined), in file order."""
    text = DOCKERFILE.read_text().replace("\\\n", " ")
    stages: dict[str, list[str]] = {}
    current = None
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.upper().startswith("FROM "):
            words = line.split()
            current = words[3] if len(words) >= 4 and words[2].upper() == "AS" else words[1]
            stages[current] = [line]
        else:
            stages[current].append(line)
    return stages


def _lineage(stages: dict[str, list[str]], name: str) -> list[str]:
    """The instructions that make stage ``name``: its own and those of the stages it builds FROM."""
    parent = stages[name][0].split()[1]
    return (_lineage(stages, parent) if parent in stages else []) + stages[name]


def _mentions_sandbox(instruction: str) -> bool:
    keyword = instruction.split()[0].upper()
    if keyword in ("COPY", "ADD"):
        return any(part.rstrip("/").endswith("sandbox") or "sandbox/" in part
                   for part in shlex.split(instruction)[1:] if not part.startswith("--"))
    return keyword == "RUN" and "sandbox" in instruction


def test_the_production_image_neither_copies_nor_installs_the_sandbox():
    stages = _stages()
    assert list(stages)[-1] == "production", "`docker build .` builds the last stage: it must be production"
    production = _lineage(stages, "production")
    assert any(line.startswith("COPY") and "plugins/amazon_bluecherry" in line for line in production)
    assert not [line for line in production if _mentions_sandbox(line)]
    # the sandbox target is the production one plus the sandbox distribution
    sandbox = _lineage(stages, "sandbox")
    assert any(line.startswith("COPY") and _mentions_sandbox(line) for line in sandbox)
    assert any(line.startswith("RUN") and "-e ./sandbox" in line for line in sandbox)


def test_compose_builds_production_for_airflow_and_sandbox_for_the_parties():
    compose = yaml.safe_load((REPO_ROOT / "docker-compose.yaml").read_text())
    assert compose["x-airflow-common"]["build"]["target"] == "production"
    stages = _stages()
    for name, service in compose["services"].items():
        build = service.get("build")
        if not build:
            continue
        target = build["target"]
        assert target in stages, f"{name} builds unknown target {target}"
        assert (target == "sandbox") == (service.get("profiles") == ["sandbox"]), name


def test_make_lock_reads_every_extra_and_the_sandbox():
    """requirements.txt is what `make lock` resolves: an extra missing there would be missing from the lock."""
    lines = [line.strip() for line in (REPO_ROOT / "requirements.txt").read_text().splitlines()
             if line.strip() and not line.startswith("#")]
    product = next(line for line in lines if line.startswith("-e .["))
    named = set(product.removeprefix("-e .[").removesuffix("]").split(","))
    extras = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert named == set(extras)
    assert "-e ./sandbox" in lines
