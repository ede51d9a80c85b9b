"""``amazon-bluecherry exceptions ...`` and ``trace`` (cli/ops.py): the exception queue and the data path."""

from __future__ import annotations

import json

from amazon_bluecherry.cli import main


def test_exceptions_list_acknowledge_resolve(cli_store, capsys):
    first = cli_store.open_exception("unknown_item", owner="wholesale", message="UPC 1 not in items.csv",
                                     business_key="PO1")
    cli_store.open_exception("not_x12", owner="integration", message="junk")
    assert main(["exceptions", "list", "--owner", "wholesale", "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert (row["id"], row["type"], row["business_key"], row["status"]) == (first, "unknown_item", "PO1", "open")
    assert main(["exceptions", "acknowledge", str(first)]) == 0
    assert main(["exceptions", "resolve", str(first), "--note", "added UPC 1 to items.csv"]) == 0
    capsys.readouterr()
    assert main(["exceptions", "list", "--all", "--json"]) == 0
    rows = {row["id"]: row for row in json.loads(capsys.readouterr().out)}
    assert rows[first]["status"] == "resolved" and rows[first]["resolution_note"] == "added UPC 1 to items.csv"
    assert main(["exceptions", "resolve", "999", "--note", "x"]) == 1
    assert "exception 999 does not exist" in capsys.readouterr().err

def test_trace_walks_the_data_path(cli_store, capsys):
    po = cli_store.add_transaction("850", direction="in", partner="AMAZON", business_key="PO7")
    so = cli_store.add_transaction("sales_order", direction="out", partner="BLUECHERRY", business_key="SO7")
    cli_store.link(po, so, "sales_order")
    assert main(["trace", "PO7", "--json"]) == 0
    (path,) = json.loads(capsys.readouterr().out)
    assert [row["doc_type"] for row in path] == ["850", "sales_order"]
    assert main(["trace", "NOPE"]) == 1
