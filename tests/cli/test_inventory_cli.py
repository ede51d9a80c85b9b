"""``amazon-bluecherry inventory plan``: the JSON shape, exit codes and error messages other tools rely on,
with sheets as Excel saves them."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from amazon_bluecherry.cli import main
from tests.conftest import REPO_ROOT

HEADER = "style,color,size,upc,warehouse,on_hand,allocated,on_hold,incoming,snapshot_at"
NOW = "2026-11-30T10:30:00Z"
TAKEN = "2026-11-30T10:00:00Z"
ITEM_KEYS = ["upc", "warehouse", "ats", "buffer", "published", "rule"]
BUFFER = """default: {percent: 10}
styles:
  M0147: {units: 24}
skus:
  "614141100019": {units: 0}
"""


def sheet(tmp_path, rows: list[str], *, header: str = HEADER, name: str = "ats.csv", encoding: str = "utf-8",
          newline: str = "\n", bom: bool = False):
    path = tmp_path / name
    text = newline.join([header, *rows]) + newline
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode(encoding))
    return path


@pytest.fixture
def buffer(tmp_path):
    path = tmp_path / "inventory_buffer.yaml"
    path.write_text(BUFFER)
    return path


def plan(capsys, ats, buffer, *extra: str) -> tuple[int, dict | None, str]:
    code = main(["inventory", "plan", "--ats", str(ats), "--buffer", str(buffer), "--now", NOW, "--json", *extra])
    captured = capsys.readouterr()
    return code, (json.loads(captured.out) if captured.out.strip() else None), captured.err


ROWS = [
    f"M0147,OLV,XS,614141100019,NJ01,100,10,5,50,{TAKEN}",   # sku rule: nothing held back
    f"M0147,OLV,S,614141100026,NJ01,30,0,0,0,{TAKEN}",       # style rule: 24 units
    f"M0269,BLK,M,614141100033,CA01,11,0,0,0,{TAKEN}",       # default: 10 % of 11 rounds up to 2
    f"M0269,BLK,L,614141100040,CA01,4,3,6,0,{TAKEN}",        # holds beyond stock: never negative
]


def test_exit_0_and_the_exact_json_shape(tmp_path, buffer, capsys):
    code, report, err = plan(capsys, sheet(tmp_path, ROWS), buffer)
    assert code == 0, err
    assert list(report) == ["items", "refused"] and report["refused"] is None
    assert all(list(item) == ITEM_KEYS for item in report["items"])
    assert [(i["upc"], i["warehouse"], i["ats"], i["buffer"], i["published"], i["rule"]) for i in report["items"]] == [
        ("614141100019", "NJ01", 85, 0, 85, "sku"),       # 100 - 10 - 5; incoming 50 not counted
        ("614141100026", "NJ01", 30, 24, 6, "style"),
        ("614141100033", "CA01", 11, 2, 9, "default"),
        ("614141100040", "CA01", 0, 0, 0, "default"),
    ]


def test_warehouses_option_keeps_only_those(tmp_path, buffer, capsys):
    code, report, _ = plan(capsys, sheet(tmp_path, ROWS), buffer, "--warehouses", "CA01")
    assert code == 0 and {item["warehouse"] for item in report["items"]} == {"CA01"}
    code, report, _ = plan(capsys, sheet(tmp_path, ROWS), buffer, "--warehouses", "NJ01, CA01")
    assert code == 0 and len(report["items"]) == 4


def test_a_stale_snapshot_is_refused_with_exit_1_and_no_items(tmp_path, buffer, capsys):
    code, report, _ = plan(capsys, sheet(tmp_path, ROWS), buffer, "--max-age-minutes", "20")
    assert code == 1
    assert report["items"] == [] and "30 minutes old, more than the maximum 20 minutes" in report["refused"]
    # The oldest row decides: one old row makes the whole sheet stale.
    rows = [*ROWS[:3], ROWS[3].replace(TAKEN, "2026-11-30T08:00:00Z")]
    code, report, _ = plan(capsys, sheet(tmp_path, rows), buffer)
    assert code == 1 and "150 minutes old" in report["refused"]


def test_the_default_maximum_age_comes_from_the_settings(tmp_path, buffer, capsys, monkeypatch):
    from amazon_bluecherry.settings import reset_settings_cache

    monkeypatch.setenv("AB_INVENTORY_MAX_AGE_MINUTES", "25")
    reset_settings_cache()
    try:
        code, report, _ = plan(capsys, sheet(tmp_path, ROWS), buffer)
    finally:
        monkeypatch.delenv("AB_INVENTORY_MAX_AGE_MINUTES")
        reset_settings_cache()
    assert code == 1 and "maximum 25 minutes" in report["refused"]


@pytest.mark.parametrize(("rows", "header", "message"), [
    (ROWS, HEADER.replace(",on_hold", ""), "ats.csv line 1, column on_hold: missing column"),
    ([ROWS[0], ROWS[1].replace(",30,0,0,", ",-3,0,0,")], HEADER,
     "ats.csv line 3, column on_hand: negative on-hand (-3)"),
    ([ROWS[0], ROWS[1].replace(",30,0,", ",30,abc,")], HEADER,
     "ats.csv line 3, column allocated: cannot read 'abc' as a whole number"),
    ([ROWS[0].replace(",100,", ",12.5,")], HEADER, "ats.csv line 2, column on_hand: cannot read '12.5'"),
    ([ROWS[0].replace(",5,50,", ",,50,")], HEADER, "ats.csv line 2, column on_hold: blank"),
    ([ROWS[0].replace("614141100019", "6.14141E+11")], HEADER,
     "ats.csv line 2, column upc: '6.14141E+11' is in scientific notation"),
    ([ROWS[0].replace("614141100019", "614141100018")], HEADER,
     "ats.csv line 2, column upc: '614141100018' is not a UPC/EAN with a valid check digit"),
    ([ROWS[0], ROWS[0]], HEADER, "ats.csv line 3, column upc: 614141100019 in NJ01 appears twice (first on line 2)"),
    ([ROWS[0].replace(TAKEN, "yesterday")], HEADER, "ats.csv line 2, column snapshot_at: cannot read 'yesterday'"),
    ([], HEADER, "no stock rows"),
])
def test_bad_input_exits_2_naming_file_line_and_column(tmp_path, buffer, capsys, rows, header, message):
    code, report, err = plan(capsys, sheet(tmp_path, rows, header=header), buffer)
    assert code == 2 and report is None
    assert message in err and str(tmp_path) in err


def test_a_bad_buffer_policy_exits_2_naming_its_line_and_column(tmp_path, capsys):
    bad = tmp_path / "inventory_buffer.yaml"
    bad.write_text("default: {percent: 10}\nstyles:\n  M0147: {percent: 150}\n")
    code, _, err = plan(capsys, sheet(tmp_path, ROWS), bad)
    assert code == 2 and "inventory_buffer.yaml line 3, column 20: styles.M0147.percent must be between 0 and 100" in err


# --- what Excel does to a CSV -------------------------------------------------------------


def expected_items(capsys, tmp_path, buffer):
    return plan(capsys, sheet(tmp_path, ROWS, name="plain.csv"), buffer)[1]["items"]


def test_excel_windows_1252_with_crlf(tmp_path, buffer, capsys):
    # A style name with an accent Windows-1252 encodes as one byte that is not UTF-8.
    rows = [*ROWS, f"CAFÉ,BLK,M,614141100057,CA01,7,0,0,0,{TAKEN}"]
    path = sheet(tmp_path, rows, encoding="cp1252", newline="\r\n")
    with pytest.raises(UnicodeDecodeError):
        path.read_bytes().decode("utf-8")
    code, report, err = plan(capsys, path, buffer)
    assert code == 0, err
    assert report["items"][:4] == expected_items(capsys, tmp_path, buffer)
    assert report["items"][4] == {"upc": "614141100057", "warehouse": "CA01", "ats": 7, "buffer": 1,
                                  "published": 6, "rule": "default"}


def test_excel_utf8_with_a_byte_order_mark(tmp_path, buffer, capsys):
    code, report, _ = plan(capsys, sheet(tmp_path, ROWS, bom=True, newline="\r\n"), buffer)
    assert code == 0 and report["items"] == expected_items(capsys, tmp_path, buffer)


def test_excel_numbers_and_blanks(tmp_path, buffer, capsys):
    rows = [
        # thousands separators (quoted by Excel), whole numbers written 12.0, a blank incoming
        f'M0147,OLV,XS,614141100019,NJ01,"1,234","1,000",4.0,,{TAKEN}',
        # a UPC that lost its leading zero (Excel read it as a number): given back
        f"M0269,BLK,S,12345678905,CA01,9,0,0,0,{TAKEN}",
        # the time re-formatted by Excel (US format, UTC)
        "M0269,BLK,M,614141100033,CA01,11,0,0,0,11/30/2026 10:00",
    ]
    code, report, err = plan(capsys, sheet(tmp_path, rows), buffer)
    assert code == 0, err
    assert [(i["upc"], i["ats"], i["published"]) for i in report["items"]] == [
        ("614141100019", 230, 230), ("012345678905", 9, 8), ("614141100033", 11, 9)]


def test_excel_semicolons_and_a_spaced_capitalised_header(tmp_path, buffer, capsys):
    header = "Style;Color;Size;UPC;Warehouse;On Hand;Allocated;On Hold;Incoming;Snapshot At"
    rows = [row.replace(",", ";") for row in ROWS]
    code, report, _ = plan(capsys, sheet(tmp_path, rows, header=header), buffer)
    assert code == 0 and report["items"] == expected_items(capsys, tmp_path, buffer)


def test_human_output_and_the_installed_command(tmp_path, buffer):
    ats = sheet(tmp_path, ROWS)
    completed = subprocess.run(
        [sys.executable, "-m", "amazon_bluecherry", "inventory", "plan", "--ats", str(ats), "--buffer", str(buffer),
         "--now", NOW], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr
    assert "614141100026   NJ01           30      24         6  style" in completed.stdout
    assert "4 item(s)" in completed.stdout and "130 published" not in completed.stdout
    missing = subprocess.run(
        [sys.executable, "-m", "amazon_bluecherry", "inventory", "plan", "--ats", str(tmp_path / "nope.csv"),
         "--buffer", str(buffer), "--json"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert missing.returncode == 2 and "nope.csv" in missing.stderr and "file not found" in missing.stderr
    assert missing.stdout == ""
