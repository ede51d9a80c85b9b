"""``amazon-bluecherry orders ...`` (cli/orders.py): the dry-run translation, re-translation and
wholesale's price decision."""

from __future__ import annotations

import json
import subprocess
import sys

from amazon_bluecherry.cli import main
from tests.flows.conftest import make_850


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
    # (A unit such as XX is refused by the guide first, so the set would never reach translation.)
    edi.write_bytes(make_850("DRY1", lines=["PO1*1*2*CA*6.5*PE*UP*028877454078", "PO1*2*1*EA*6.5*PE*UP*000000000000"]))
    completed = subprocess.run([sys.executable, "-m", "amazon_bluecherry", "orders", "translate", str(edi),
                                "--mappings", str(mappings_dir), "--json"], capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr
    assert "great_expectations" not in completed.stderr, "GX's import-time INFO lines drown the report"
    report = json.loads(completed.stdout)
    assert set(report) == {"sales_orders", "exceptions"}
    (order,) = report["sales_orders"]
    assert order["customer_po"] == "DRY1" and order["lines"][0]["qty_eaches"] == 24
    assert report["exceptions"] == [{"po": "DRY1", "line_number": 2, "type": "unknown_item", "owner": "wholesale",
                                     "message": "PO DRY1 line 2: UP 000000000000 not in items.csv"}]

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


def test_orders_translate_says_each_exception_once_in_words(mappings_dir, tmp_path, capsys):
    edi = tmp_path / "po.edi"
    edi.write_bytes(make_850("WORDS1", lines=["PO1*1*2*EA*6.5*PE*UP*000000000000"], control="000000801")
                    + make_850("WORDS2", control="000000802").replace(b"~SE*", b"~SE*9", 1))
    assert main(["orders", "translate", str(edi), "--mappings", str(mappings_dir)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("EXCEPTION edi_rejected (owner integration) PO WORDS2: rejected by validation")
    assert lines[1] == "EXCEPTION unknown_item (owner wholesale) PO WORDS1 line 1: UP 000000000000 not in items.csv"
    assert lines[2:] == ["0 sales order(s), 2 exception(s)"]


def test_orders_translate_of_a_file_without_purchase_orders_says_what_it_holds(tmp_path, mappings_dir, capsys):
    from tests.edi.samples import x12

    edi = tmp_path / "invoice.edi"
    edi.write_bytes(x12(set_id="810"))
    assert main(["orders", "translate", str(edi), "--mappings", str(mappings_dir)]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == f"no 850 purchase order in {edi}: 810 x1"
