"""The operations commands: exception queue, data path, re-translation, dry run."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from amazon_bluecherry.cli import main
from tests.flows.conftest import make_850


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


def test_retranslate_puts_a_held_po_back(cli_store, capsys):
    po = cli_store.add_transaction("850", direction="in", partner="AMAZON", business_key="PO8", status="held")
    assert main(["orders", "retranslate", "PO8"]) == 0
    (event,) = cli_store.events(kind="purchase_order.retranslate")
    import getpass

    assert event.payload == {"po": "PO8", "was": "held", "note": None, "by": f"cli:{getpass.getuser()}"}
    from amazon_bluecherry.store.models import Transaction

    with cli_store.session() as db:
        assert db.get(Transaction, po).status == "received"
    assert main(["orders", "retranslate", "PO8"]) == 1, "a received PO is not held"


def test_orders_translate_dry_run_prints_the_contract_json(mappings_dir, tmp_path):
    edi = tmp_path / "po.edi"
    edi.write_bytes(make_850("DRY1", lines=["PO1*1*2*CA*6.5*PE*UP*028877454078", "PO1*2*1*XX*6.5*PE*UP*028877454078"]))
    completed = subprocess.run([sys.executable, "-m", "amazon_bluecherry", "orders", "translate", str(edi),
                                "--mappings", str(mappings_dir), "--json"], capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr
    report = json.loads(completed.stdout)
    assert set(report) == {"sales_orders", "exceptions"}
    (order,) = report["sales_orders"]
    assert order["customer_po"] == "DRY1" and order["lines"][0]["qty_eaches"] == 24
    assert report["exceptions"] == [{"po": "DRY1", "line_number": 2, "type": "unknown_uom", "owner": "integration",
                                     "message": "PO DRY1 line 2: unit 'XX' is neither CA nor EA"}]


def test_orders_translate_refuses_unreadable_input(mappings_dir, tmp_path):
    junk = tmp_path / "junk.edi"
    junk.write_text("hello")
    completed = subprocess.run([sys.executable, "-m", "amazon_bluecherry", "orders", "translate", str(junk),
                                "--mappings", str(mappings_dir)], capture_output=True, text=True, timeout=120)
    assert completed.returncode == 2
    assert completed.stderr.startswith("error: ") and "Traceback" not in completed.stderr
    bad_mappings = tmp_path / "bad"
    bad_mappings.mkdir()
    (bad_mappings / "items.csv").write_text("nope\n")
    completed = subprocess.run([sys.executable, "-m", "amazon_bluecherry", "orders", "translate", str(junk),
                                "--mappings", str(bad_mappings)], capture_output=True, text=True, timeout=120)
    assert completed.returncode == 2 and "items.csv line 1: columns must be exactly" in completed.stderr


def test_accept_price_requeues_the_po_with_the_decision_and_resolves_the_exception(cli_store, capsys):
    from amazon_bluecherry.store.models import Transaction

    po = cli_store.add_transaction("850", direction="in", partner="AMAZON", business_key="PO9", status="held",
                                   data={"translation": {}})
    exception_id = cli_store.open_exception("price_mismatch", owner="wholesale", message="6.4 vs 6.5",
                                            transaction_id=po, business_key="PO9")
    assert main(["orders", "accept-price", "PO9", "--note", "agreed with the vendor manager, promo cost"]) == 0
    with cli_store.session() as db:
        transaction = db.get(Transaction, po)
        assert transaction.status == "received" and transaction.data["accept_amazon_price"] is True
    (record,) = cli_store.list_exceptions(type="price_mismatch")
    assert record.id == exception_id and record.status == "resolved"
    assert "agreed with the vendor manager" in record.resolution_note


def test_outbound_resend_puts_a_file_back_in_the_queue_with_an_event(cli_store, capsys):
    import getpass

    from amazon_bluecherry.store.models import OutboundDocument

    raw_id, _ = cli_store.save_raw_document(b"ISA...855", partner="AMAZON", transport="sftp", direction="out")
    with cli_store.session() as db:
        outbound = OutboundDocument(partner="AMAZON", doc_type="855", raw_document_id=raw_id, isa13="000000042",
                                    gs06="42", st02_list=["0001"], file_name="VENDR855.000000042",
                                    status="unacknowledged")
        db.add(outbound)
        db.flush()
        outbound_id = outbound.id
    assert main(["outbound", "resend", str(outbound_id), "--note", "Amazon never got it (case 123)"]) == 0
    assert "VENDR855.000000042 (855, was unacknowledged) will be sent again" in capsys.readouterr().out
    with cli_store.session() as db:
        assert db.get(OutboundDocument, outbound_id).status == "pending"
    (event,) = cli_store.events(kind="outbound.resend_requested")
    assert event.payload == {"file_name": "VENDR855.000000042", "was": "unacknowledged",
                             "by": f"cli:{getpass.getuser()}", "note": "Amazon never got it (case 123)"}
    assert main(["outbound", "resend", str(outbound_id)]) == 1, "already waiting: refused"
    with cli_store.session() as db:
        db.get(OutboundDocument, outbound_id).status = "rejected"
    assert main(["outbound", "resend", str(outbound_id)]) == 1
    assert "rebuild the document" in capsys.readouterr().err
