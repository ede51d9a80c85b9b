"""``flows.exceptions.open_exception``: owner, severity and runbook come from the owner table
(include/mappings/exception_types.yaml), never from the caller."""

from __future__ import annotations

import pytest

from amazon_bluecherry.flows.exceptions import open_exception
from amazon_bluecherry.flows.mappings import load_exception_types
from amazon_bluecherry.store import Store


@pytest.fixture
def sqlite_store(sqlite_url):
    store = Store(sqlite_url)
    store.migrate()
    yield store
    store.dispose()


def test_the_owner_table_decides_owner_severity_and_runbook(sqlite_store):
    table = load_exception_types()
    for type in ("unknown_ship_to", "mapping_file_invalid"):
        open_exception(sqlite_store, type, f"a {type}", business_key="PO1")
    records = {record.type: record for record in sqlite_store.list_exceptions()}
    assert (records["unknown_ship_to"].owner, records["unknown_ship_to"].severity) == ("wholesale", "error")
    assert (records["mapping_file_invalid"].owner, records["mapping_file_invalid"].severity) == (
        "integration", "critical")
    for type, record in records.items():
        assert (record.owner, record.severity, record.runbook) == (table[type].owner, table[type].severity,
                                                                   table[type].runbook)
        assert record.runbook == f"docs/runbooks/{type}.md" and record.business_key == "PO1"


def test_the_same_dedupe_key_finds_the_open_exception(sqlite_store):
    first = open_exception(sqlite_store, "not_x12", "junk in the mailbox", dedupe_key="not_x12:file1")
    again = open_exception(sqlite_store, "not_x12", "junk in the mailbox", dedupe_key="not_x12:file1")
    other = open_exception(sqlite_store, "not_x12", "more junk", dedupe_key="not_x12:file2")
    assert first == again != other
    assert len(sqlite_store.list_exceptions()) == 2


def test_a_type_missing_from_the_table_is_refused_and_nothing_is_stored(sqlite_store):
    with pytest.raises(KeyError, match="exception type 'no_such_type' is not in exception_types.yaml"):
        open_exception(sqlite_store, "no_such_type", "whatever")
    assert sqlite_store.list_exceptions() == []
