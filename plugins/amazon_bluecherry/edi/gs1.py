"""GS1 identifiers: the mod-10 check digit, SSCC-18 (carton and pallet labels), GTIN.

Amazon matches the SSCC on the carton label against the ASN (MAN*GM) character for
character, so a wrong check digit means a receiving chargeback; compute, never guess.
"""

from __future__ import annotations

__all__ = [
    "gs1_check_digit",
    "is_valid_gtin",
    "is_valid_sscc",
    "make_sscc",
    "sscc_check_digit",
]

SSCC_LENGTH = 18
# Application identifier that precedes an SSCC in GS1-128 barcodes and in Amazon's MAN*GM.
SSCC_AI = "00"


def gs1_check_digit(body: str) -> int:
    """The GS1 mod-10 check digit for ``body`` (all digits, without the check digit).

    Weights alternate 3, 1, 3 ... starting from the rightmost digit of the body.
    """
    if not body or not body.isascii() or not body.isdigit():
        raise ValueError(f"GS1 body must be digits, got {body!r}")
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10


def sscc_check_digit(body17: str) -> int:
    """The check digit of an SSCC whose first 17 digits are ``body17``."""
    if len(body17) != SSCC_LENGTH - 1:
        raise ValueError(f"SSCC body must be 17 digits, got {len(body17)}: {body17!r}")
    return gs1_check_digit(body17)


def is_valid_sscc(sscc18: str) -> bool:
    """True when ``sscc18`` is 18 digits whose last digit is the GS1 check digit."""
    if len(sscc18) != SSCC_LENGTH or not sscc18.isascii() or not sscc18.isdigit():
        return False
    return sscc_check_digit(sscc18[:-1]) == int(sscc18[-1])


def make_sscc(extension_digit: int, company_prefix: str, serial: int | str) -> str:
    """Build an SSCC-18: extension digit, GS1 company prefix, serial reference, check digit.

    The serial reference fills the 16 digits left after the extension digit and is
    zero-padded; a serial too large for the prefix length is an error (it would collide).
    """
    if not 0 <= int(extension_digit) <= 9:
        raise ValueError(f"extension digit must be 0-9, got {extension_digit!r}")
    if not (company_prefix.isascii() and company_prefix.isdigit() and 6 <= len(company_prefix) <= 12):
        raise ValueError(f"GS1 company prefix must be 6-12 digits, got {company_prefix!r}")
    serial_text = str(serial)
    if not (serial_text.isascii() and serial_text.isdigit()):
        raise ValueError(f"serial reference must be a non-negative integer, got {serial!r}")
    width = SSCC_LENGTH - 2 - len(company_prefix)
    if len(serial_text.lstrip("0") or "0") > width:
        raise ValueError(
            f"serial reference {serial_text} does not fit in {width} digits with prefix {company_prefix}"
        )
    body = f"{int(extension_digit)}{company_prefix}{int(serial_text):0{width}d}"
    return body + str(sscc_check_digit(body))


def is_valid_gtin(gtin: str) -> bool:
    """True for a GTIN-8/12/13/14 (UPC, EAN, case GTIN) with a correct check digit."""
    if len(gtin) not in (8, 12, 13, 14) or not gtin.isascii() or not gtin.isdigit():
        return False
    return gs1_check_digit(gtin[:-1]) == int(gtin[-1])
