"""``amazon-bluecherry edi parse FILE``: JSON of the typed documents, exit codes 0 / 1 / 2."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

from amazon_bluecherry.cli import main
from amazon_bluecherry.edi import documents as d
from amazon_bluecherry.edi.build import write_documents
from amazon_bluecherry.edi.writer import InMemoryControlNumbers


def _invoice_file(tmp_path):
    invoice = d.Invoice(
        invoice_date=dt.date(2025, 3, 6),
        invoice_number="INV-10001",
        purchase_order_number="2XK9QWER",
        lines=[
            d.InvoiceLine(
                quantity=18,
                unit="EA",
                unit_price=Decimal("12.50"),
                product_ids=[d.ProductId(qualifier="BP", value="B07XJ8C8F5")],
            )
        ],
        total_amount=Decimal("225.00"),
    )
    path = tmp_path / "invoice.edi"
    path.write_bytes(
        write_documents(
            [invoice], sender="ACMEVENDOR", receiver="AMAZON", control_numbers=InMemoryControlNumbers()
        )
    )
    return path


def test_parse_prints_typed_json(tmp_path, capsys):
    assert main(["edi", "parse", str(_invoice_file(tmp_path))]) == 0
    [doc] = json.loads(capsys.readouterr().out)
    assert doc["type"] == "invoice"
    assert doc["invoice_date"] == "2025-03-06"
    assert doc["total_amount"] == "225.00"
    assert doc["lines"][0]["unit_price"] == "12.5"
    assert doc["lines"][0]["product_id"] == "B07XJ8C8F5"
    assert doc["envelope"]["set_control_number"] == "0001"


def test_parse_of_the_amazon_850_sample(corpus, capsys):
    assert (
        main(["edi", "parse", str(corpus / "amazon_retail_850__predicatestudio_predi_edi__amz_ex.edi")]) == 0
    )
    [doc] = json.loads(capsys.readouterr().out)
    assert (doc["type"], doc["purchase_order_number"], doc["delivery_window_end"]) == (
        "purchase_order",
        "L8266355",
        "2008-09-09",
    )


def test_not_x12_exits_2_with_one_line(tmp_path, capsys):
    path = tmp_path / "notes.txt"
    path.write_text("hello, this is not EDI\n")
    assert main(["edi", "parse", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and "ISA" in lines[0]


def test_missing_file_and_directory_exit_2(tmp_path, capsys):
    assert main(["edi", "parse", str(tmp_path / "absent.edi")]) == 2
    assert main(["edi", "parse", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and "Traceback" not in "".join(err)


def test_unmappable_set_exits_1_naming_segment_and_element(tmp_path, capsys):
    path = _invoice_file(tmp_path)
    path.write_bytes(path.read_bytes().replace(b"BIG*20250306", b"BIG*20250230"))
    assert main(["edi", "parse", str(path)]) == 1
    err = capsys.readouterr().err.strip()
    assert "segment BIG at position 2, element BIG01" in err and "'20250230' is not a calendar date" in err


def test_unsupported_set_is_an_error_unless_skipped(corpus, capsys):
    path = str(corpus / "generic_860__X12Parser__Example1.txt")
    assert main(["edi", "parse", path]) == 1
    assert "no document model for transaction set '860'" in capsys.readouterr().err
    assert main(["edi", "parse", "--skip-unsupported", path]) == 0
    assert json.loads(capsys.readouterr().out) == []
