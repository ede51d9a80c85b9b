"""``amazon-bluecherry sandbox amazon ...``: the simulator's actions, run in process."""

from __future__ import annotations

import datetime as dt
import json

from amazon_bluecherry.cli import main
from sandbox.amazon.partner import AmazonSimulator, PartnerIdentity


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main(["sandbox", "amazon", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_a_po_cycle_through_the_cli(tmp_path, capsys, catalogue, vendor_side):
    state, mailbox = str(tmp_path / "state"), str(tmp_path / "mailbox")
    where = ["--state", state, "--mailbox-root", mailbox]
    code, out, _ = run(
        capsys,
        "send-pos",
        *where,
        "-n",
        "3",
        "--defects",
        "0.34",
        "--seed",
        "4",
        "--defect-kinds",
        "price_off",
        "--clock",
        "simulated",
        "--start",
        "2026-03-02T06:00",
        "--json",
    )
    assert code == 0
    sent = json.loads(out)
    assert len(sent) == 3 and [row["defects"] for row in sent].count("price_off") == 1
    download = tmp_path / "mailbox" / "accounts" / "edi-download" / "download"
    assert sorted(p.name for p in download.iterdir()) == sorted(row["file"] for row in sent)

    # The vendor answers one PO (documents built with the product's models, as in the rule tests).
    reader = AmazonSimulator(state, mailbox, None, catalogue, identity=PartnerIdentity())
    assert reader.clock.now() == dt.datetime(2026, 3, 2, 6)
    vendor = vendor_side(reader)
    number = sent[0]["purchase_order"]
    vendor.upload(vendor.acknowledgement(number))

    code, out, _ = run(capsys, "process-uploads", *where, "--advance", "2", "--json")
    result = json.loads(out)
    assert code == 0 and result["documents"] == {"855": 1} and len(result["acks_sent"]) == 1
    assert result["findings"] == []

    code, out, _ = run(capsys, "record-delivery", "--state", state, "--po", number, "--cartons", "2")
    assert code == 0 and number in out
    code, out, _ = run(capsys, "run-receiving", "--state", state, "--json")
    receiving = json.loads(out)
    assert code == 0 and [f["rule"] for f in receiving["findings"]][0] == "asn_missing"

    code, out, _ = run(capsys, "ledger", "--state", state, "--json")
    ledger = json.loads(out)
    assert code == 0 and ledger and all(e["reference"].endswith("VCBSINV") for e in ledger)
    assert {e["purchase_order"] for e in ledger} == {number}
    code, out, _ = run(capsys, "ledger", "--state", state)
    assert out.splitlines()[0].split()[:3] == ["reference", "kind", "amount"]

    code, out, _ = run(capsys, "findings", "--state", state, "--summary")
    summary = json.loads(out)
    assert summary["purchase_orders"] == 3 and summary["findings"]["asn_missing"] == 1

    code, out, _ = run(capsys, "issue-remittance", *where, "--from", "2026-03-01", "--to", "2026-03-31")
    assert code == 0 and "nothing to pay" in out  # no invoice yet


def test_cli_errors_are_one_line(tmp_path, capsys):
    where = ["--state", str(tmp_path / "state"), "--mailbox-root", str(tmp_path / "mailbox")]
    code, _, err = run(capsys, "send-pos", *where, "-n", "-1")
    assert code == 2 and err.startswith("error: -n must be")
    code, _, err = run(capsys, "send-pos", *where, "-n", "1", "--advance", "3", "--clock", "wall")
    assert code == 2 and "simulated clock" in err
    code, _, err = run(capsys, "issue-remittance", *where, "--from", "March", "--to", "2026-03-31")
    assert code == 2 and "--from must be an ISO date" in err
    code, _, err = run(capsys, "send-pos", *where, "-n", "2", "--defects", "3")
    assert code == 2 and "between 0 and 1" in err


def test_simulate_month_from_the_cli(tmp_path, capsys):
    code, out, _ = run(
        capsys,
        "simulate-month",
        "--state",
        str(tmp_path / "state"),
        "--mailbox-root",
        str(tmp_path / "mailbox"),
        "--days",
        "12",
        "--orders-per-day",
        "1",
        "--net-days",
        "2",
        "--start",
        "2026-03-02T00:00",
        "--seed",
        "3",
    )
    assert code == 0
    report = json.loads(out)
    assert report["purchase_orders_sent"] == 10  # twelve days from a Monday hold ten business days
    assert report["remittances"] and report["summary"]["files_unacknowledged_by_vendor"] == []
    code, out, _ = run(capsys, "findings", "--state", str(tmp_path / "state"), "--summary")
    summary = json.loads(out)
    assert summary == report["summary"]  # the state on disk is the month's
    resent = summary["defects_sent"].get("resent_po", 0)
    assert summary["purchase_orders"] == 10 - resent
