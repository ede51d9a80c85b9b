"""Fixtures of the emulator's own tests: a seeded backend per test, no HTTP unless asked."""

from __future__ import annotations

from pathlib import Path

import pytest

from sandbox.bluecherry.backend import Backend, BackendConfig
from sandbox.bluecherry.server import seeded_database


@pytest.fixture(scope="session")
def emulator_db_template(tmp_path_factory) -> Path:
    template = tmp_path_factory.mktemp("bluecherry-template") / "seeded.sqlite"
    seeded_database(template, template.with_name("warm-up.sqlite"))
    return template


@pytest.fixture
def backend(tmp_path, emulator_db_template) -> Backend:
    """A freshly seeded emulator backend over its own SQLite file."""
    engine = Backend(
        seeded_database(emulator_db_template, tmp_path / "bluecherry.sqlite"), config=BackendConfig()
    )
    yield engine
    engine.dispose()
