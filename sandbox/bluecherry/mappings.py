"""The product's mapping files, generated from the emulator's seeded catalogue.

``include/mappings/items.csv`` and ``include/mappings/ship_to.csv`` are a contract with the
order flows (issue 6): exactly these columns, in this order. At a real site the same files
come from the real item master and Amazon's FC list; here they come from the catalogue, so
that every PO the Amazon simulator sends maps onto a SKU the emulator knows.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from sandbox.bluecherry.catalogue import AMAZON, DEFAULT_SEED, Catalogue, build_catalogue

__all__ = ["ITEMS_COLUMNS", "SHIP_TO_COLUMNS", "items_csv", "ship_to_csv", "write_mappings"]

ITEMS_COLUMNS = (
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
SHIP_TO_COLUMNS = ("id_qualifier", "id_code", "bc_customer", "bc_store", "bc_warehouse", "name")


def items_csv(catalogue: Catalogue) -> str:
    """One UP (UPC) row per SKU, plus an EN (EAN-13) row for the styles also listed by EAN."""
    rows = []
    for sku in catalogue.skus:
        style = catalogue.style_of(sku)
        common = [
            sku.asin or "",
            sku.style,
            sku.color,
            sku.size,
            style.case_pack_qty,
            f"{sku.unit_cost:.2f}",
            "USD",
        ]
        rows.append([sku.upc, "UP", *common])
        if sku.has_ean_listing:
            rows.append([sku.ean, "EN", *common])
    return _csv(ITEMS_COLUMNS, rows)


def ship_to_csv(catalogue: Catalogue) -> str:
    """Each Amazon FC twice: by its SAN-like id (qualifier 15) and by its FC code (qualifier 92)."""
    rows = []
    for customer in catalogue.customers:
        if customer.bc_customer != AMAZON:
            continue
        for store in customer.stores:
            common = [customer.bc_customer, store.bc_store, store.bc_warehouse, store.name]
            if store.san:
                rows.append(["15", store.san, *common])
            if store.fc_code:
                rows.append(["92", store.fc_code, *common])
    return _csv(SHIP_TO_COLUMNS, rows)


def write_mappings(out_dir: str | Path, *, seed: int = DEFAULT_SEED) -> list[Path]:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    catalogue = build_catalogue(seed)
    written = []
    for name, text in (("items.csv", items_csv(catalogue)), ("ship_to.csv", ship_to_csv(catalogue))):
        path = out / name
        path.write_text(text, encoding="utf-8", newline="")
        written.append(path)
    return written


def _csv(columns, rows) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(rows)
    return buffer.getvalue()
