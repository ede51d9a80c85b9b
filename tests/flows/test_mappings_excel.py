"""Mapping files as Excel saves them: encodings, separators, line ends, and the damage Excel
does to product ids. Real bytes, written the way Excel writes them."""

from __future__ import annotations

import codecs

import pytest

from amazon_bluecherry.flows.mappings import MappingError, load_mappings
from tests.flows.conftest import ITEMS, SHIP_TO

# What operations teams type: accents and curly quotes in names (cp1252 0x93/0x94/0xE9).
SHIP_TO_NAMES = SHIP_TO.replace("Amazon ABE2 Allentown", "Amazon \u201cABE2\u201d Allentown \u2013 caf\u00e9")


def excel_csv(text: str) -> str:
    return text.replace("\n", "\r\n")  # Excel writes CRLF


def write(folder, name: str, data: bytes) -> None:
    (folder / name).write_bytes(data)


@pytest.mark.parametrize("saved_as", [
    "CSV (Comma delimited), Windows-1252",
    "CSV UTF-8 (with a byte-order mark)",
    "Unicode Text (UTF-16LE with BOM, tabs)",
    "UTF-16LE with BOM, commas",
    "UTF-8 without BOM, LF",
    "semicolons (a European Excel)",
])
def test_mapping_files_load_however_excel_saved_them(mappings_dir, saved_as):
    if saved_as.startswith("CSV (Comma"):
        items, ship_to = excel_csv(ITEMS).encode("cp1252"), excel_csv(SHIP_TO_NAMES).encode("cp1252")
        assert b"\x93" in ship_to and b"\xe9" in ship_to  # the real cp1252 bytes, not UTF-8
    elif saved_as.startswith("CSV UTF-8"):
        items, ship_to = (codecs.BOM_UTF8 + excel_csv(text).encode("utf-8") for text in (ITEMS, SHIP_TO_NAMES))
    elif saved_as.startswith("Unicode Text"):
        items, ship_to = (codecs.BOM_UTF16_LE + excel_csv(text.replace(",", "\t")).encode("utf-16-le")
                          for text in (ITEMS, SHIP_TO_NAMES))
    elif saved_as.startswith("UTF-16LE"):
        items, ship_to = (codecs.BOM_UTF16_LE + excel_csv(text).encode("utf-16-le") for text in (ITEMS, SHIP_TO_NAMES))
    elif saved_as.startswith("semicolons"):
        items, ship_to = (excel_csv(text.replace(",", ";")).encode("cp1252") for text in (ITEMS, SHIP_TO_NAMES))
    else:
        items, ship_to = ITEMS.encode("utf-8"), SHIP_TO_NAMES.encode("utf-8")
    write(mappings_dir, "items.csv", items)
    write(mappings_dir, "ship_to.csv", ship_to)

    mappings = load_mappings(mappings_dir)
    assert mappings.items.lookup("UP", "028877454078").sku == "TEE100-BLK-M"
    assert mappings.items.lookup("BP", "B00TEST004").sku == "HOOD200-RED-XL"
    destination = mappings.ship_to.lookup("15", "1794205")
    assert destination.name == "Amazon \u201cABE2\u201d Allentown \u2013 caf\u00e9"
    assert destination.bc_warehouse == "NJ01"  # no stray \r at the end of the line


def european(text: str, separator: str) -> str:
    """As an Excel whose decimal separator is a comma saves it: ``6,50`` between ``separator``s."""
    return "\n".join(separator.join(cell.replace(".", ",") if cell.replace(".", "").isdigit() else cell
                                    for cell in line.split(",")) for line in text.split("\n"))


@pytest.mark.parametrize("separator,encode", [
    (";", lambda text: excel_csv(text).encode("cp1252")),                                      # CSV (;)
    ("\t", lambda text: codecs.BOM_UTF16_LE + excel_csv(text).encode("utf-16-le")),            # Unicode Text
])
def test_a_decimal_comma_is_read_where_excel_writes_one(mappings_dir, separator, encode):
    items = european(ITEMS, separator)
    assert ";6,50;" in items or "\t6,50\t" in items
    write(mappings_dir, "items.csv", encode(items))
    assert str(load_mappings(mappings_dir).items.lookup("UP", "028877454078").unit_cost) == "6.50"


def test_a_decimal_comma_in_a_comma_separated_file_is_still_refused(mappings_dir):
    write(mappings_dir, "items.csv", ITEMS.replace(",12,6.50,", ',12,"6,50",', 1).encode("utf-8"))
    with pytest.raises(MappingError, match=r"items\.csv line 2, column unit_cost"):
        load_mappings(mappings_dir)


def test_a_byte_neither_utf8_nor_windows_1252_is_refused_naming_line_and_column(mappings_dir):
    data = excel_csv(SHIP_TO).encode("cp1252").replace(b"Phoenix", b"Pho\x81nix")  # 0x81: undefined in cp1252
    write(mappings_dir, "ship_to.csv", data)
    with pytest.raises(MappingError) as error:
        load_mappings(mappings_dir)
    assert "ship_to.csv line 4, column 41: byte 0x81 is neither UTF-8 nor Windows-1252" in str(error.value)


def test_a_file_mixing_utf8_and_windows_1252_is_refused(mappings_dir):
    data = SHIP_TO_NAMES.encode("utf-8") + "92,PHX7,AMAZON,PHX7,AZ01,Caf\u00e9 Phoenix\n".encode("cp1252")
    write(mappings_dir, "ship_to.csv", data)
    with pytest.raises(MappingError, match=r"ship_to\.csv line 5, column 29: byte 0xE9 is not UTF-8.*mixes"):
        load_mappings(mappings_dir)


def test_utf16_without_its_byte_order_mark_is_refused(mappings_dir):
    write(mappings_dir, "items.csv", excel_csv(ITEMS).encode("utf-16-le"))
    with pytest.raises(MappingError, match=r"items\.csv line 1, column 2: a NUL byte.*UTF-16"):
        load_mappings(mappings_dir)


@pytest.mark.parametrize("row,expected", [
    # Excel showed the UPC as 8.4E+11 and saved it so
    ("8.4E+11,UP,,TEE100,BLK,XL,12,6.50,USD", "line 6, column product_id: '8.4E+11' is a number in scientific "
                                               "notation: Excel turned the id into a number"),
    # ... and dropped the leading zero of 028877454092
    ("28877454092,UP,,TEE100,BLK,XL,12,6.50,USD", "line 6, column product_id: '28877454092' has 11 digits, a UPC-A "
                                                   "has 12: Excel dropped its leading zero (it was probably "
                                                   "028877454092)"),
    ("4006381333931.0,EN,,TEE100,BLK,XL,12,6.50,USD", "'4006381333931.0' has a decimal part: Excel saved the id as a "
                                                       "number"),
    ("028877454093,UP,,TEE100,BLK,XL,12,6.50,USD", "'028877454093' has a wrong check digit: a UPC-A ending in 2"),
    ("4006381333932,EN,,TEE100,BLK,XL,12,6.50,USD", "'4006381333932' has a wrong check digit: an EAN-13 ending in 1"),
    ("4006381333931,UK,,TEE100,BLK,XL,12,6.50,USD", "'4006381333931' has 13 digits, a GTIN-14 has 14: Excel dropped"),
    ("10614141000019,UK,,TEE100,BLK,XL,12,6.50,USD", None),  # a good GTIN-14
    ("02887745409,UP,,TEE100,BLK,XL,12,6.50,USD", "has 11 digits, a UPC-A has 12"),
    ("TEE-BLK-XL,VN,B0BADASIN,TEE100,BLK,XL,12,6.50,USD", "column asin: 'B0BADASIN' is not an ASIN: 10 letters"),
    ("TEE-BLK-XL,VN,b082r7q1mn,TEE100,BLK,XL,12,6.50,USD", "column asin: 'b082r7q1mn' is not an ASIN"),
])
def test_product_ids_are_checked_and_excel_damage_is_named(mappings_dir, row, expected):
    with (mappings_dir / "items.csv").open("a") as handle:
        handle.write(row + "\n")
    if expected is None:
        load_mappings(mappings_dir)
        return
    with pytest.raises(MappingError) as error:
        load_mappings(mappings_dir)
    assert expected in str(error.value)
    assert str(error.value).startswith("items.csv line 6")


@pytest.mark.parametrize("row,expected", [
    # the ASIN of TEE100-BLK-M (line 2) put on another SKU
    ("028877454092,UP,B00TEST001,TEE100,BLK,XL,12,6.50,USD",
     "items.csv lines 2 and 6, column asin: ASIN B00TEST001 is on two SKUs (TEE100-BLK-M on line 2, TEE100-BLK-XL "
     "on line 6)"),
    # the same UPC twice, even for the same SKU
    ("028877454078,UP,B00TEST001,TEE100,BLK,M,12,6.50,USD",
     "items.csv lines 2 and 6, column product_id: UP 028877454078 appears twice"),
    # a case pack edited on one row of a SKU: both rows named
    ("00028877454078,UK,,TEE100,BLK,M,24,6.50,USD",
     "items.csv lines 2 and 6, column case_pack_qty: TEE100-BLK-M has case_pack_qty 12 on line 2 and 24 on line 6"),
    ("00028877454078,UK,,TEE100,BLK,M,12,6.75,USD",
     "items.csv lines 2 and 6, column unit_cost: TEE100-BLK-M has unit_cost 6.50 on line 2 and 6.75 on line 6"),
])
def test_duplicates_and_conflicts_name_both_lines(mappings_dir, row, expected):
    with (mappings_dir / "items.csv").open("a") as handle:
        handle.write(row + "\n")
    with pytest.raises(MappingError) as error:
        load_mappings(mappings_dir)
    assert expected in str(error.value)


def test_the_same_asin_on_two_ids_of_one_sku_is_fine(mappings_dir):
    with (mappings_dir / "items.csv").open("a") as handle:
        handle.write("00028877454078,UK,B00TEST001,TEE100,BLK,M,12,6.50,USD\n")  # GTIN-14 of the same SKU
    assert load_mappings(mappings_dir).items.lookup("UK", "00028877454078").sku == "TEE100-BLK-M"


def test_the_shipped_item_master_passes_every_check():
    from amazon_bluecherry.settings import REPO_ROOT

    mappings = load_mappings(REPO_ROOT / "include" / "mappings")
    assert len(mappings.items) > 1000
