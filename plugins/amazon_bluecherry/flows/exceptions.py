"""Open an exception by type: owner, severity and runbook come from the owner table."""

from __future__ import annotations

from functools import lru_cache

from amazon_bluecherry.flows.mappings import ExceptionType, load_exception_types


@lru_cache(maxsize=1)
def exception_types() -> dict[str, ExceptionType]:
    return load_exception_types()


def open_exception(store, type: str, message: str, **links) -> int:
    """Open (or find, with the same ``dedupe_key``) an exception of a known type."""
    try:
        known = exception_types()[type]
    except KeyError as exc:
        raise KeyError(f"exception type {type!r} is not in exception_types.yaml") from exc
    return store.open_exception(type, owner=known.owner, severity=known.severity, runbook=known.runbook,
                                message=message, **links)
