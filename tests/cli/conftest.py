"""Fixtures shared with the flow tests."""

from tests.flows.conftest import mappings_dir  # noqa: F401
