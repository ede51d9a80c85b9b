"""The seed catalogue and the mapping files generated from it (a contract with the order flows)."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

from amazon_bluecherry.edi.gs1 import is_valid_gtin
from sandbox.bluecherry.catalogue import AMAZON, build_catalogue
from sandbox.bluecherry.mappings import ITEMS_COLUMNS, SHIP_TO_COLUMNS, items_csv, ship_to_csv

REPO = Path(__file__).resolve().parents[3]
MAPPINGS = REPO / "include" / "mappings"


def test_the_catalogue_is_deterministic_and_big_enough():
    catalogue = build_catalogue()
    build_catalogue.cache_clear()
    assert build_catalogue() == catalogue
    assert build_catalogue(seed=1).skus != catalogue.skus
    assert len(catalogue.skus) >= 2000
    assert 55 <= len(catalogue.styles) <= 70
    assert {style.case_pack_qty for style in catalogue.styles} == {6, 12, 24}
    assert sum(not style.active for style in catalogue.styles) == 2


def test_every_sku_has_valid_unique_identifiers():
    catalogue = build_catalogue()
    assert len({sku.sku for sku in catalogue.skus}) == len(catalogue.skus)
    assert len({sku.upc for sku in catalogue.skus}) == len(catalogue.skus)
    for sku in catalogue.skus:
        assert sku.sku == f"{sku.style}-{sku.color}-{sku.size}"
        assert len(sku.upc) == 12 and is_valid_gtin(sku.upc)
        assert len(sku.ean) == 13 and is_valid_gtin(sku.ean) and sku.ean == "0" + sku.upc
        assert sku.asin is None or (len(sku.asin) == 10 and sku.asin.startswith("B0") and sku.asin.isalnum())
        assert sku.unit_cost > 0 and sku.msrp > sku.unit_cost
    with_asin = [sku.asin for sku in catalogue.skus if sku.asin]
    assert len(set(with_asin)) == len(with_asin) and len(with_asin) > 0.9 * len(catalogue.skus)
    # Some stock short or out, some incoming: the order flows need every case.
    on_hand = Counter(stock.on_hand == 0 for stock in catalogue.stock)
    assert on_hand[True] > 100 and on_hand[False] > 3000
    assert any(stock.incoming for stock in catalogue.stock)


def test_amazon_fcs_have_fc_codes_and_san_ids():
    amazon = next(c for c in build_catalogue().customers if c.bc_customer == AMAZON)
    codes = [store.fc_code for store in amazon.stores]
    sans = [store.san for store in amazon.stores]
    assert len(set(codes)) == len(codes) >= 15 and all(len(code) == 4 for code in codes)
    assert len(set(sans)) == len(sans) and all(len(san) == 7 and san.isdigit() for san in sans)
    # The ship-to ids of the public Amazon 850 samples map to FCs.
    assert {"1794205", "8018154"} <= set(sans)


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_committed_mapping_files_are_the_generator_output():
    catalogue = build_catalogue()
    assert (MAPPINGS / "items.csv").read_text(encoding="utf-8") == items_csv(catalogue), (
        "include/mappings/items.csv is out of date: run "
        "`amazon-bluecherry sandbox bluecherry export-mappings --out include/mappings`"
    )
    assert (MAPPINGS / "ship_to.csv").read_text(encoding="utf-8") == ship_to_csv(catalogue)


def test_mapping_files_have_exactly_the_contract_columns():
    with (MAPPINGS / "items.csv").open(encoding="utf-8") as handle:
        assert (
            tuple(next(csv.reader(handle)))
            == ITEMS_COLUMNS
            == (
                "product_id",
                "product_id_qualifier",
                "asin",
                "style",
                "color",
                "size",
                "case_pack_qty",
                "unit_cost",
                "currency",
            )
        )
    with (MAPPINGS / "ship_to.csv").open(encoding="utf-8") as handle:
        assert (
            tuple(next(csv.reader(handle)))
            == SHIP_TO_COLUMNS
            == (
                "id_qualifier",
                "id_code",
                "bc_customer",
                "bc_store",
                "bc_warehouse",
                "name",
            )
        )


def test_mapping_rows_point_at_the_catalogue():
    catalogue = build_catalogue()
    by_upc = {sku.upc: sku for sku in catalogue.skus}
    rows = _rows(MAPPINGS / "items.csv")
    upc_rows = [row for row in rows if row["product_id_qualifier"] == "UP"]
    assert len(upc_rows) == len(catalogue.skus)
    assert {row["product_id_qualifier"] for row in rows} == {"UP", "EN"}
    for row in upc_rows:
        sku = by_upc[row["product_id"]]
        style = catalogue.style_of(sku)
        assert (row["style"], row["color"], row["size"]) == (sku.style, sku.color, sku.size)
        assert int(row["case_pack_qty"]) == style.case_pack_qty and row["unit_cost"] == f"{sku.unit_cost:.2f}"
        assert row["asin"] == (sku.asin or "") and row["currency"] == "USD"
    ship_to = _rows(MAPPINGS / "ship_to.csv")
    per_store = Counter((row["bc_store"], row["id_qualifier"]) for row in ship_to)
    assert set(per_store.values()) == {1}
    assert {q for _, q in per_store} == {"15", "92"} and len(ship_to) == 2 * len({s for s, _ in per_store})
    assert {row["bc_customer"] for row in ship_to} == {AMAZON}
