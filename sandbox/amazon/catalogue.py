"""What Amazon knows about the vendor's items and its own fulfilment centres.

Drawn from the BlueCherry emulator's seeded catalogue (the same data that generates
``include/mappings/items.csv`` and ``ship_to.csv``), or read from those two mapping files,
so that every purchase order the simulator sends maps onto an item the vendor knows.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

__all__ = ["FulfilmentCentre", "Item", "ItemCatalogue"]


@dataclass(frozen=True)
class Item:
    """One orderable SKU: its ids as Amazon may send them, case pack and cost per each."""

    sku: str
    upc: str
    ean: str | None  # only for items Amazon lists by EAN
    asin: str | None
    case_pack_qty: int
    unit_cost: Decimal
    active: bool = True
    description: str | None = None

    def product_id(self, qualifier: str) -> str | None:
        return {"UP": self.upc, "EN": self.ean, "BP": self.asin}.get(qualifier)


@dataclass(frozen=True)
class FulfilmentCentre:
    code: str  # N1*ST qualifier 92
    san: str | None  # N1*ST qualifier 15
    name: str
    city: str | None = None
    state: str | None = None
    postal_code: str | None = None

    def id_for(self, qualifier: str) -> str | None:
        return {"92": self.code, "15": self.san}.get(qualifier)


@dataclass(frozen=True)
class ItemCatalogue:
    items: tuple[Item, ...]
    centres: tuple[FulfilmentCentre, ...]
    _by_id: dict[tuple[str, str], Item] = field(default_factory=dict, repr=False, compare=False)
    _by_centre_id: dict[tuple[str, str], FulfilmentCentre] = field(
        default_factory=dict, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        for item in self.items:
            for qualifier in ("UP", "EN", "BP"):
                value = item.product_id(qualifier)
                if value:
                    self._by_id[(qualifier, value)] = item
        for centre in self.centres:
            for qualifier in ("92", "15"):
                value = centre.id_for(qualifier)
                if value:
                    self._by_centre_id[(qualifier, value)] = centre

    def lookup(self, qualifier: str, value: str) -> Item | None:
        return self._by_id.get((qualifier, value.strip()))

    def centre(self, qualifier: str | None, value: str | None) -> FulfilmentCentre | None:
        if not qualifier or not value:
            return None
        return self._by_centre_id.get((qualifier, value.strip()))

    @classmethod
    def from_bluecherry(cls, seed: int | None = None) -> ItemCatalogue:
        """The emulator's seeded catalogue (no HTTP: the seed is plain data)."""
        from sandbox.bluecherry.catalogue import AMAZON, DEFAULT_SEED, build_catalogue

        catalogue = build_catalogue(DEFAULT_SEED if seed is None else seed)
        items = []
        for sku in catalogue.skus:
            style = catalogue.style_of(sku)
            items.append(
                Item(
                    sku=sku.sku,
                    upc=sku.upc,
                    ean=sku.ean if sku.has_ean_listing else None,
                    asin=sku.asin,
                    case_pack_qty=style.case_pack_qty,
                    unit_cost=sku.unit_cost,
                    active=style.active,
                    description=f"{style.description} {sku.color_name} {sku.size}",
                )
            )
        centres = [
            FulfilmentCentre(
                code=store.fc_code,
                san=store.san,
                name=store.name,
                city=store.city,
                state=store.state,
                postal_code=store.postal_code,
            )
            for customer in catalogue.customers
            if customer.bc_customer == AMAZON
            for store in customer.stores
            if store.fc_code
        ]
        return cls(items=tuple(items), centres=tuple(centres))

    @classmethod
    def from_mappings(cls, mappings_dir: str | Path) -> ItemCatalogue:
        """``items.csv`` and ``ship_to.csv`` of a mappings folder (the product's contract files)."""
        folder = Path(mappings_dir)
        by_sku: dict[str, dict] = {}
        with (folder / "items.csv").open(newline="", encoding="utf-8-sig") as handle:
            for row in csv.DictReader(handle):
                sku = f"{row['style']}-{row['color']}-{row['size']}"
                entry = by_sku.setdefault(
                    sku,
                    {
                        "sku": sku,
                        "upc": None,
                        "ean": None,
                        "asin": row["asin"] or None,
                        "case_pack_qty": int(row["case_pack_qty"]),
                        "unit_cost": Decimal(row["unit_cost"]),
                    },
                )
                if row["product_id_qualifier"] == "UP":
                    entry["upc"] = row["product_id"]
                elif row["product_id_qualifier"] == "EN":
                    entry["ean"] = row["product_id"]
        items = tuple(Item(**entry) for entry in by_sku.values() if entry["upc"])
        centres: dict[str, dict] = {}
        with (folder / "ship_to.csv").open(newline="", encoding="utf-8-sig") as handle:
            for row in csv.DictReader(handle):
                entry = centres.setdefault(row["bc_store"], {"code": None, "san": None, "name": row["name"]})
                if row["id_qualifier"] == "92":
                    entry["code"] = row["id_code"]
                elif row["id_qualifier"] == "15":
                    entry["san"] = row["id_code"]
        return cls(
            items=items,
            centres=tuple(FulfilmentCentre(**entry) for entry in centres.values() if entry["code"]),
        )
