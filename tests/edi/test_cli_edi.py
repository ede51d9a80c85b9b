"""``amazon-bluecherry edi validate``: exit codes, JSON contract, human output, --ack."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from amazon_bluecherry.cli import main
from amazon_bluecherry.edi.ack import parse_997

from .samples import replace, x12


@pytest.fixture
def good(tmp_path):
    path = tmp_path / "po.edi"
    path.write_bytes(x12())
    return path


def test_exit_0_and_summary(good, capsys):
    assert main(["edi", "validate", str(good)]) == 0
    out = capsys.readouterr().out
    assert "850 0001: accepted" in out and out.rstrip().endswith("OK")


def test_exit_1_json_and_ack(tmp_path, capsys):
    path = tmp_path / "bad.edi"
    path.write_bytes(x12(body=replace("850", "BEG", "BEG*00*XX*L1**20240305"), se_count_delta=1))
    ack_path = tmp_path / "ack.edi"
    assert main(["edi", "validate", str(path), "--json", "--ack", str(ack_path)]) == 1
    data = json.loads(capsys.readouterr().out)
    ts = data["interchanges"][0]["groups"][0]["transactions"][0]
    assert ts["status"] == "R"
    assert {"4", "7", "8"} <= {e["code"] for e in ts["errors"]}
    [ack] = parse_997(ack_path)
    assert ack.sets[0].status == "R" and ack.sets[0].codes == ["4", "5"]


def test_exit_1_for_a_broken_interchange(tmp_path, capsys):
    path = tmp_path / "x.edi"
    path.write_bytes(x12().replace(b"IEA*1*000000001", b"IEA*1*000000002"))
    assert main(["edi", "validate", str(path), "--json"]) == 1
    assert json.loads(capsys.readouterr().out)["interchanges"][0]["error"].startswith("TA1 001")


@pytest.mark.parametrize("content", [b"", b"\x00\x01\x02", b'{"a": 1}', b"ISA*00*short~"])
def test_exit_2_not_x12(tmp_path, capsys, content):
    path = tmp_path / "x.edi"
    path.write_bytes(content)
    assert main(["edi", "validate", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert len(captured.err.strip().splitlines()) == 1 and str(path) in captured.err


def test_exit_2_from_the_real_command_has_no_traceback(tmp_path):
    path = tmp_path / "x.edi"
    path.write_bytes(b"hello")
    run = subprocess.run(
        [sys.executable, "-m", "amazon_bluecherry", "edi", "validate", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 2
    assert len(run.stderr.strip().splitlines()) == 1 and "Traceback" not in run.stderr


def test_exit_2_missing_file_and_directory(tmp_path, capsys):
    assert main(["edi", "validate", str(tmp_path / "absent.edi")]) == 2
    assert main(["edi", "validate", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and all(line.startswith("error: ") for line in err)


def test_dev_zero_ends_at_once_with_exit_2():
    run = subprocess.run(
        [sys.executable, "-m", "amazon_bluecherry", "edi", "validate", "/dev/zero"],
        capture_output=True, timeout=60,
    )
    assert run.returncode == 2
    assert b"does not start with an ISA" in run.stderr
    assert b"\x00" not in run.stderr and b"\\x00" in run.stderr


def test_raw_bytes_from_the_input_are_escaped_in_the_summary(tmp_path, capsys):
    hostile = "AMZ\x1b[2JX\u202e"  # clear-screen escape and a right-to-left override in ISA06
    data = x12().decode().replace("AMAZON         ", f"{hostile:<15}", 1).replace("ST*850*0001", "ST*8\x07\x9b0*0001")
    path = tmp_path / "hostile.edi"
    path.write_bytes(data.encode("utf-8"))
    main(["edi", "validate", str(path)])
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\u202e" not in out and "\x07" not in out and "\x9b" not in out
    assert "AMZ\\x1b[2JX\\u202e" in out and "8\\x07\\x9b0" in out


def test_not_x12_error_line_is_escaped(tmp_path, capsys):
    path = tmp_path / "bin.edi"
    path.write_bytes(b"\x1b[31mred\x07\x00\xff binary")
    assert main(["edi", "validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert "\x1b" not in err and "\x07" not in err and "\x00" not in err


def test_a_ta1_only_interchange_is_read_and_reported(tmp_path, capsys):
    path = tmp_path / "ta1.edi"
    path.write_bytes(b"ISA*00*          *00*          *ZZ*AMAZON         *ZZ*VENDOR         *261126*1200*U*00401*"
                     b"000000777*0*P*>~TA1*000000012*261126*1155*R*022~IEA*0*000000777~\n")
    assert main(["edi", "validate", str(path)]) == 0
    out = capsys.readouterr().out
    assert "TA1 for interchange 000000012 of 261126 1155: rejected, note code 022" in out
    assert main(["edi", "validate", str(path), "--json"]) == 0
    [interchange] = json.loads(capsys.readouterr().out)["interchanges"]
    assert interchange["ta1"] == [{"control_number": "000000012", "status": "R", "code": "022"}]
