"""Fixtures shared with the flow tests, and the CLI's store."""

import pytest

from tests.flows.conftest import mappings_dir  # noqa: F401


@pytest.fixture
def cli_store(store, monkeypatch):
    from amazon_bluecherry.settings import reset_settings_cache
    from amazon_bluecherry.store import reset_store_cache

    monkeypatch.setenv("AB_DATABASE_URL", store.url)
    reset_settings_cache()
    reset_store_cache()
    yield store
    reset_store_cache()
    reset_settings_cache()
