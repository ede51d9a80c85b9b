"""``amazon-bluecherry remit classify``: the JSON shape and exit codes other tools rely on."""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal

import pytest

from amazon_bluecherry.cli import main
from amazon_bluecherry.flows.remit_codes import DEDUCTION_TYPES, REMIT_CODE_COLUMNS
from tests.flows.remittances import Line, deduction, invoice, make_820

LINE_KEYS = {"reference", "amount", "deduction_type", "gl_account", "owner"}


@pytest.fixture
def recognised(tmp_path):
    path = tmp_path / "remit.edi"
    path.write_bytes(make_820("0000000007", [
        invoice("INV0000001", "1000.00"), deduction("INV0000001SC", "-12.50", code="SC"),
        deduction("000000001VCBSINV", "-50.00"), deduction("4711-00000001", "-20.00"),
        deduction("261023-PROVISION FOR RECEIVABLES", "-10.00")]))
    return path


def test_exit_0_and_the_exact_json_shape(recognised, capsys):
    assert main(["remit", "classify", str(recognised), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert set(report) == {"remittances"}
    (remittance,) = report["remittances"]
    assert set(remittance) == {"trace_number", "payment_amount", "lines", "journals", "balanced"}
    assert remittance["trace_number"] == "0000000007" and remittance["payment_amount"] == "907.50"
    assert all(set(line) == LINE_KEYS for line in remittance["lines"])
    assert all(set(journal) == {"deduction_type", "gl_account", "amount"} for journal in remittance["journals"])
    assert {line["deduction_type"] for line in remittance["lines"]} <= set(DEDUCTION_TYPES)
    invoices = sum(Decimal(line["amount"]) for line in remittance["lines"] if line["deduction_type"] == "invoice_payment")
    journals = sum(Decimal(journal["amount"]) for journal in remittance["journals"])
    assert remittance["balanced"] is True and journals + invoices == Decimal(remittance["payment_amount"])


def test_exit_1_when_a_line_is_unrecognised_and_its_amount_is_in_the_suspense_journal(tmp_path, capsys):
    path = tmp_path / "remit.edi"
    path.write_bytes(make_820("T9", [invoice("INV0000001", "100.00"), Line("WSO_144324_05", "-13.00")]))
    assert main(["remit", "classify", str(path), "--json"]) == 1
    (remittance,) = json.loads(capsys.readouterr().out)["remittances"]
    assert remittance["lines"][1] == {"reference": "WSO_144324_05", "amount": "-13.00",
                                      "deduction_type": "unrecognised", "gl_account": "1299", "owner": "finance"}
    assert {"deduction_type": "unrecognised", "gl_account": "1299", "amount": "-13.00"} in remittance["journals"]
    assert remittance["balanced"] is True


def test_mappings_folder_and_human_output(tmp_path, capsys):
    folder = tmp_path / "mappings"
    folder.mkdir()
    (folder / "remit_codes.csv").write_text(",".join(REMIT_CODE_COLUMNS) + "\nregex,WSO_.*,coop,6120,wholesale\n"
                                            "regex,INV\\d{7},invoice_payment,1200,finance\n")
    path = tmp_path / "remit.edi"
    path.write_bytes(make_820("T9", [invoice("INV0000001", "100.00"), Line("WSO_144324_05", "-13.00")]))
    assert main(["remit", "classify", str(path), "--mappings", str(folder)]) == 0
    out = capsys.readouterr().out
    assert "remittance T9: payment 87.00, 2 line(s), balanced" in out and "coop" in out


def test_not_balanced_is_reported(tmp_path, capsys):
    path = tmp_path / "remit.edi"
    path.write_bytes(make_820("T9", [invoice("INV0000001", "100.00")], payment="99.00"))
    assert main(["remit", "classify", str(path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["remittances"][0]["balanced"] is False
    main(["remit", "classify", str(path)])
    assert "NOT BALANCED: its lines add up to 100.00, not the payment (BPR02)" in capsys.readouterr().out


@pytest.mark.parametrize("content", [b"", b"hello, this is not X12", b"ISA*00*broken"])
def test_exit_2_on_unreadable_input(tmp_path, capsys, content):
    path = tmp_path / "remit.edi"
    path.write_bytes(content)
    assert main(["remit", "classify", str(path), "--json"]) == 2
    assert "error:" in capsys.readouterr().err


def test_exit_2_for_a_file_without_a_remittance_or_a_missing_file(tmp_path, capsys):
    from tests.flows.conftest import make_850

    path = tmp_path / "po.edi"
    path.write_bytes(make_850())
    assert main(["remit", "classify", str(path)]) == 2
    assert main(["remit", "classify", str(tmp_path / "absent.edi")]) == 2
    assert "no 820 remittance" in capsys.readouterr().err


def test_the_installed_command_exits_2_without_a_traceback(tmp_path):
    path = tmp_path / "junk.edi"
    path.write_bytes(b"junk")
    run = subprocess.run([sys.executable, "-m", "amazon_bluecherry", "remit", "classify", str(path), "--json"],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 2 and "Traceback" not in run.stderr and run.stdout == ""


def stored_remittance(store, status: str) -> int:
    from amazon_bluecherry.store.models import Remittance, RemittanceLine

    transaction_id = store.add_transaction("820", direction="in", partner="AMAZON", business_key="0000000042",
                                           status="blocked")
    with store.session() as db:
        remittance = Remittance(transaction_id=transaction_id, trace_number="0000000042", status=status,
                                payment_amount=Decimal("90.00"), blocked_reason="every GL account exists in "
                                "BlueCherry's chart of accounts", plan={"receipt": None, "journals": []})
        db.add(remittance)
        db.flush()
        db.add(RemittanceLine(remittance_id=remittance.id, line_number=1, reference="000000001VCBSINV",
                              amount=Decimal("-10.00"), deduction_type="chargeback", gl_account="6199",
                              owner="warehouse", rule_line=5, match_status="classified"))
    return transaction_id


def test_show_and_retry_a_blocked_remittance(cli_store, capsys):
    from amazon_bluecherry.store.models import Remittance, Transaction

    transaction_id = stored_remittance(cli_store, "blocked")
    assert main(["remit", "show", "0000000042"]) == 0
    out = capsys.readouterr().out
    assert "blocked: every GL account exists" in out and "(remit_codes.csv line 5)" in out
    assert main(["remit", "show", "0000000042", "--json"]) == 0
    (shown,) = json.loads(capsys.readouterr().out)
    assert shown["lines"][0]["gl_account"] == "6199" and shown["status"] == "blocked"

    assert main(["remit", "retry", "0000000042", "--note", "6199 -> 6100 in remit_codes.csv"]) == 0
    with cli_store.session() as db:
        assert db.get(Transaction, transaction_id).status == "received"
        assert db.query(Remittance).count() == 0
    assert [e.payload["note"] for e in cli_store.events(kind="remittance.requeued")] == ["6199 -> 6100 in remit_codes.csv"]
    assert main(["remit", "show", "0000000042"]) == 1


def test_a_posted_remittance_cannot_be_retried(cli_store, capsys):
    stored_remittance(cli_store, "posted")
    assert main(["remit", "retry", "0000000042", "--note", "x"]) == 1
    assert "only blocked remittances" in capsys.readouterr().err


def test_piped_into_head_it_stops_quietly(recognised):
    """``remit classify FILE | head -1``: the reader leaves early; no traceback about a broken pipe."""
    run = subprocess.run(f"'{sys.executable}' -m amazon_bluecherry remit classify '{recognised}' | head -1",
                         shell=True, capture_output=True, text=True, timeout=120)
    assert run.stdout.startswith("remittance 0000000007") and run.stdout.count("\n") == 1
    assert "Traceback" not in run.stderr and "BrokenPipe" not in run.stderr, run.stderr


@pytest.mark.parametrize("argv", [["remit", "show", "T1"], ["remit", "packet", "INV1SC", "--out", "packets"],
                                  ["exceptions", "list"]])
def test_a_store_never_migrated_says_what_to_run(tmp_path, monkeypatch, capsys, argv):
    from amazon_bluecherry.settings import reset_settings_cache
    from amazon_bluecherry.store import reset_store_cache

    monkeypatch.setenv("AB_DATABASE_URL", f"sqlite:///{tmp_path / 'new.sqlite'}")
    reset_settings_cache()
    reset_store_cache()
    try:
        assert main(argv) == 2
    finally:
        reset_store_cache()
        reset_settings_cache()
    err = capsys.readouterr().err
    assert "has no tables yet" in err and "amazon-bluecherry db upgrade" in err, err
