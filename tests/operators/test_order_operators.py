"""The translate task with a mapping file Excel saved badly: the run fails with a clear message
and ``mapping_file_invalid`` is always opened (never a bare UnicodeDecodeError)."""

from __future__ import annotations

import codecs
from types import SimpleNamespace

import pytest

from amazon_bluecherry.flows.mappings import MappingError
from amazon_bluecherry.operators.orders import TranslatePurchaseOrdersOperator
from amazon_bluecherry.store import Store
from tests.flows.conftest import ITEMS, SHIP_TO


@pytest.fixture
def mappings_dir(tmp_path):
    folder = tmp_path / "mappings"
    folder.mkdir()
    (folder / "ship_to.csv").write_text(SHIP_TO)
    return folder


@pytest.mark.parametrize("items", [
    ITEMS.replace("\n", "\r\n").encode("utf-16-le"),                    # UTF-16 that lost its byte-order mark
    ITEMS.replace("TEE100", "T\u00c9E100").encode("cp1252") + b"\x81",  # a byte Windows-1252 does not define
    ITEMS.encode("utf-8") + b"8.4E+11,UP,,TEE100,BLK,XL,12,6.50,USD\n",  # a UPC in scientific notation
    codecs.BOM_UTF16_LE + b"\x00\xd8",                                   # broken UTF-16 after its mark
])
def test_a_bad_mapping_file_always_opens_mapping_file_invalid(mappings_dir, sqlite_url, items):
    store = Store(sqlite_url)
    store.migrate()
    (mappings_dir / "items.csv").write_bytes(items)
    operator = TranslatePurchaseOrdersOperator(task_id="translate", mappings_dir=str(mappings_dir),
                                               database_url=sqlite_url)
    with pytest.raises(MappingError) as error:
        operator.execute({"dag_run": SimpleNamespace(run_type="manual", conf={}), "run_id": "test"})
    assert str(error.value).startswith("items.csv line ")
    [exception] = store.list_exceptions()
    assert (exception.type, exception.owner, exception.severity) == ("mapping_file_invalid", "integration",
                                                                     "critical")
    assert str(error.value) in exception.message
    store.dispose()
