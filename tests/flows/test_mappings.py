from __future__ import annotations

import pytest

from amazon_bluecherry.flows.mappings import MappingError, load_exception_types, load_mappings
from amazon_bluecherry.settings import REPO_ROOT


def test_items_and_ship_to_are_indexed(mappings_dir):
    mappings = load_mappings(mappings_dir)
    assert mappings.items.lookup("UP", "028877454078").sku == "TEE100-BLK-M"
    assert mappings.items.lookup("BP", "B00TEST004").sku == "HOOD200-RED-XL"
    assert mappings.items.lookup("EN", "028877454078") is None  # qualifier must match
    assert mappings.ship_to.lookup("92", "PHX6").bc_warehouse == "AZ01"
    assert mappings.ship_to.lookup("15", "9999999") is None


@pytest.mark.parametrize(
    "broken_row,expected",
    [
        ("028877454092,UP,,TEE100,BLK,XL,0,6.50,USD", "items.csv line 6, column case_pack_qty"),
        ("028877454092,UP,,TEE100,BLK,XL,12,cheap,USD", "items.csv line 6, column unit_cost"),
        ("028877454092,XX,,TEE100,BLK,XL,12,6.50,USD", "items.csv line 6, column product_id_qualifier"),
        ("028877454092,UP,,TEE100,BLK,XL,12,6.50,usd", "items.csv line 6, column currency"),
        ("028877454092,UP,,TEE100,BLK,XL,12", "items.csv line 6: expected 9 columns"),
        ("028877454078,UP,,TEE100,BLK,XL,12,6.50,USD", "items.csv lines 2 and 6, column product_id: UP 028877454078"),
    ],
)
def test_bad_item_row_names_file_line_and_column(mappings_dir, broken_row, expected):
    with (mappings_dir / "items.csv").open("a") as handle:
        handle.write(broken_row + "\n")
    with pytest.raises(MappingError) as error:
        load_mappings(mappings_dir)
    assert expected in str(error.value)


def test_wrong_header_and_missing_file_are_refused(mappings_dir):
    (mappings_dir / "ship_to.csv").write_text("qualifier,code\n15,1\n")
    with pytest.raises(MappingError, match="ship_to.csv line 1: columns must be exactly id_qualifier"):
        load_mappings(mappings_dir)
    (mappings_dir / "ship_to.csv").unlink()
    with pytest.raises(MappingError, match="file not found"):
        load_mappings(mappings_dir)


def test_duplicate_ship_to_is_refused(mappings_dir):
    with (mappings_dir / "ship_to.csv").open("a") as handle:
        handle.write("92,PHX6,AMAZON,PHX7,AZ02,again\n")
    with pytest.raises(MappingError, match="ship_to.csv line 5, column id_code: 92 PHX6 appears twice"):
        load_mappings(mappings_dir)


def test_every_exception_type_has_an_owner_and_a_runbook():
    types = load_exception_types()
    assert {"unknown_item", "price_mismatch", "poa_window_at_risk"} <= set(types)
    for kind in types.values():
        assert kind.owner in {"finance", "warehouse", "wholesale", "integration"}
        assert (REPO_ROOT / kind.runbook).is_file(), f"runbook missing for {kind.type}: {kind.runbook}"
