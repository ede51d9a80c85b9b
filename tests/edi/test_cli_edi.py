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
