"""GS1 check digits: SSCC-18 and GTIN against published and real-world values."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from amazon_bluecherry.edi.gs1 import (
    gs1_check_digit,
    is_valid_gtin,
    is_valid_sscc,
    make_sscc,
    sscc_check_digit,
)

# The SSCC example of the GS1 General Specifications: (00) 1 0614141 123456789 7.
GS1_SPEC_SSCC = "106141411234567897"
# From a real apparel ASN (MAN*GM 00007121610006156802 in the public 856 corpus file).
REAL_ASN_SSCC = "007121610006156802"


def test_check_digit_of_the_gs1_specification_example():
    assert sscc_check_digit(GS1_SPEC_SSCC[:17]) == 7
    assert is_valid_sscc(GS1_SPEC_SSCC)


def test_real_asn_sscc_is_valid():
    assert is_valid_sscc(REAL_ASN_SSCC)


@pytest.mark.parametrize("wrong", ["106141411234567890", "106141411234567898", "006141411234567897"])
def test_wrong_check_digit_or_altered_body_is_invalid(wrong):
    assert not is_valid_sscc(wrong)


@pytest.mark.parametrize(
    "bad", ["", "10614141123456789", "1061414112345678970", "10614141123456789X", "１06141411234567897"]
)
def test_wrong_shape_is_invalid(bad):
    assert not is_valid_sscc(bad)


def test_sscc_check_digit_needs_17_digits():
    with pytest.raises(ValueError, match="17 digits"):
        sscc_check_digit("123")


def test_make_sscc_reproduces_the_gs1_example():
    assert make_sscc(1, "0614141", 123456789) == GS1_SPEC_SSCC
    assert make_sscc(1, "0614141", "123456789") == GS1_SPEC_SSCC


def test_make_sscc_pads_the_serial_and_rejects_overflow():
    sscc = make_sscc(0, "0614141", 7)
    assert sscc[:17] == "0" + "0614141" + "000000007"
    assert is_valid_sscc(sscc)
    with pytest.raises(ValueError, match="does not fit"):
        make_sscc(0, "0614141", 10**9)  # 9 digits left for a 7-digit prefix
    with pytest.raises(ValueError, match="extension digit"):
        make_sscc(10, "0614141", 1)
    with pytest.raises(ValueError, match="company prefix"):
        make_sscc(0, "61414", 1)


@pytest.mark.parametrize(
    "gtin",
    [
        "036000291452",  # UPC-A example (Wikipedia "Universal Product Code")
        "4006381333931",  # EAN-13 example (Wikipedia "International Article Number")
        "028877454078",  # UPC on the public Amazon 850 sample
        "883932284904",  # UPC on the public apparel 856 sample
    ],
)
def test_known_gtins_are_valid(gtin):
    assert is_valid_gtin(gtin)
    assert not is_valid_gtin(gtin[:-1] + str((int(gtin[-1]) + 1) % 10))


@given(body=st.text(alphabet="0123456789", min_size=17, max_size=17))
def test_any_body_plus_its_check_digit_is_valid_and_any_other_digit_is_not(body):
    digit = sscc_check_digit(body)
    assert is_valid_sscc(body + str(digit))
    assert not is_valid_sscc(body + str((digit + 1) % 10))


@given(body=st.text(alphabet="0123456789", min_size=17, max_size=17), position=st.integers(0, 16))
def test_a_single_digit_error_is_always_detected(body, position):
    digit = gs1_check_digit(body)
    changed = body[:position] + str((int(body[position]) + 1) % 10) + body[position + 1 :]
    assert not is_valid_sscc(changed + str(digit))
