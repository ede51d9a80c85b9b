"""Integration store: SQLAlchemy models, Alembic migrations and the ``Store`` facade.

``get_store()`` returns the store named by the settings (``AB_DATABASE_URL``, else a
SQLite file under ``AB_HOME``). Nothing here imports Airflow.
"""

from __future__ import annotations

from amazon_bluecherry.store.store import (
    PartnerControlNumbers,
    SequenceExhausted,
    Store,
    StoreDuplicates,
    StoreError,
)

__all__ = ["Store", "StoreDuplicates", "StoreError", "SequenceExhausted", "PartnerControlNumbers", "get_store", "reset_store_cache"]

_stores: dict[str, Store] = {}


def get_store(url: str | None = None) -> Store:
    """The process-wide store for ``url`` (default: the settings' database URL)."""
    if url is None:
        from amazon_bluecherry.settings import get_settings

        url = get_settings().effective_database_url
    if url not in _stores:
        _stores[url] = Store(url)
    return _stores[url]


def reset_store_cache() -> None:
    for store in _stores.values():
        store.dispose()
    _stores.clear()
