"""Mailbox rules without a server: names, temp names, outbound names, the X12 sniff, connection policy."""

from __future__ import annotations

import gzip

import pytest

from amazon_bluecherry.amazon.mailbox import MailboxRules, load_rules, outbound_file_name, x12_problem
from amazon_bluecherry.amazon.sftp import ConnectionRefused, check_connection_policy


@pytest.fixture
def rules() -> MailboxRules:
    return load_rules()


@pytest.mark.parametrize("name", ["VEND850.I7574203", "VENDR855.000000123", "AMZN_820-2026.edi", "X"])
def test_amazon_style_names_are_accepted(rules, name):
    assert rules.refuse_name(name) is None


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("", "empty"),
        ("../etc/passwd", "path separator"),
        ("VENDR850..1", "'..'"),
        ("..", "'..'"),
        (".", "'.'"),
        ("dir/VENDR850.1", "path separator"),
        ("dir\\VENDR850.1", "path separator"),
        ("VENDR850.\x1b[2J1", "control characters"),
        ("VENDR850.1\n", "control characters"),
        ("VENDR850.\x00", "control characters"),
        ("VENDR850.\x85", "control characters"),
        ("VENDR850 1;rm -rf", "characters outside"),
        ("VENDR850.\u00e91", "characters outside"),
        ("V" * 129, "129 characters long"),
    ],
)
def test_hostile_names_are_refused_with_a_reason(rules, name, reason):
    refusal = rules.refuse_name(name)
    assert refusal is not None and reason in refusal


def test_names_being_written_are_recognised(rules):
    assert rules.is_in_progress(".VENDR850.1")
    assert rules.is_in_progress("VENDR850.1.part")
    assert rules.is_in_progress("VENDR850.1.tmp")
    assert not rules.is_in_progress("VENDR850.1")
    assert rules.upload_temp_name("VENDR855.000000001") == "VENDR855.000000001.part"
    assert rules.is_in_progress(rules.upload_temp_name("VENDR855.000000001"))


def test_outbound_names_come_from_vendor_code_set_and_isa13():
    assert outbound_file_name("VENDR", "855", 123) == "VENDR855.000000123"
    assert outbound_file_name("VENDR", "856", 999_999_999) == "VENDR856.999999999"
    with pytest.raises(ValueError, match="vendor code"):
        outbound_file_name("VEN/DR", "855", 1)
    with pytest.raises(ValueError, match="three digits"):
        outbound_file_name("VENDR", "85", 1)
    with pytest.raises(ValueError, match="nine digits"):
        outbound_file_name("VENDR", "855", 1_000_000_000)


def test_rules_are_read_from_the_data_file(tmp_path):
    custom = tmp_path / "rules.yaml"
    custom.write_text("folder_capacity: 50\nmax_name_length: 10\nin_progress_suffixes: ['.upload']\n")
    rules = MailboxRules.load(custom)
    assert rules.folder_capacity == 50
    assert "11 characters long" in rules.refuse_name("VENDR850.12")
    assert rules.is_in_progress("x.upload") and not rules.is_in_progress("x.part")


def test_x12_is_recognised_by_its_isa_header(make_x12):
    interchange = make_x12(7)
    assert x12_problem(interchange) is None
    assert x12_problem(b"\xef\xbb\xbf" + interchange) is None
    assert x12_problem(b"\r\n  " + interchange) is None


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"hello, this is not EDI\n", "does not start with an ISA"),
        (gzip.compress(b"ISA*00*"), "does not start with an ISA"),
        (b"<?xml version='1.0'?><Invoice/>", "does not start with an ISA"),
        (b"ISA*00*short", "16 elements"),
        (b" \r\n\t ", "only whitespace"),
    ],
)
def test_non_x12_content_is_named_clearly(content, words):
    problem = x12_problem(content)
    assert problem is not None and words in problem


# --- connection policy -------------------------------------------------------------------
PINNED = {"key_file": "/keys/id_ed25519", "host_key": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA=="}


def test_a_key_and_a_pinned_host_key_pass():
    assert check_connection_policy("amazon_sftp_download", password=None, extras=PINNED) == []


def test_password_only_is_refused():
    with pytest.raises(ConnectionRefused, match="password only"):
        check_connection_policy("c", password="secret", extras={"host_key": PINNED["host_key"]})


def test_no_key_at_all_is_refused():
    with pytest.raises(ConnectionRefused, match="has no key"):
        check_connection_policy("c", password=None, extras={"host_key": PINNED["host_key"]})


def test_a_password_next_to_a_key_is_ignored_with_a_warning():
    warnings = check_connection_policy("c", password="secret", extras=PINNED)
    assert len(warnings) == 1 and "ignored" in warnings[0]


def test_an_unpinned_host_key_is_refused():
    with pytest.raises(ConnectionRefused, match="does not pin"):
        check_connection_policy("c", password=None, extras={"key_file": "/k"})


def test_no_host_key_check_is_refused_outside_the_sandbox():
    extras = {"key_file": "/k", "no_host_key_check": "true"}
    with pytest.raises(ConnectionRefused, match="no_host_key_check"):
        check_connection_policy("c", password=None, extras=extras)
    warnings = check_connection_policy("c", password=None, extras=extras, allow_no_host_key_check=True)
    assert "does not check the host key" in warnings[0]


def test_allow_host_key_change_is_refused():
    with pytest.raises(ConnectionRefused, match="allow_host_key_change"):
        check_connection_policy("c", password=None, extras={**PINNED, "allow_host_key_change": True})
