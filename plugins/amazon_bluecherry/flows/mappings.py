"""Mapping files operations teams edit (``include/mappings/``), loaded and checked.

Loaded at task start, never at DAG-parse time. A bad row stops the load with one clear
message naming the file, the line and the column, because translating orders against a
half-read item master would be worse than not translating them.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, field_validator

ITEM_COLUMNS = ("product_id", "product_id_qualifier", "asin", "style", "color", "size",
                "case_pack_qty", "unit_cost", "currency")
SHIP_TO_COLUMNS = ("id_qualifier", "id_code", "bc_customer", "bc_store", "bc_warehouse", "name")
# PO1 qualifiers matched against items.csv `product_id`; BP (ASIN) matches the `asin` column.
PRODUCT_ID_QUALIFIERS = ("UP", "EN", "UK", "VN", "IB", "UA", "VP")

Code = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]


class MappingError(ValueError):
    """A mapping file cannot be used; the message names file, line and column."""


class ItemRow(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    product_id: Code
    product_id_qualifier: Code
    asin: str = ""
    style: Code
    color: Code
    size: Code
    case_pack_qty: int = Field(ge=1)
    unit_cost: Decimal = Field(ge=0)
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]

    @field_validator("product_id_qualifier")
    @classmethod
    def _known_qualifier(cls, value: str) -> str:
        if value not in PRODUCT_ID_QUALIFIERS:
            raise ValueError(f"must be one of {', '.join(PRODUCT_ID_QUALIFIERS)}")
        return value

    @property
    def sku(self) -> str:
        return f"{self.style}-{self.color}-{self.size}"


class ShipToRow(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id_qualifier: Annotated[str, StringConstraints(pattern=r"^(15|92|ZZ)$")]
    id_code: Code
    bc_customer: Code
    bc_store: Code
    bc_warehouse: Code
    name: str = ""


@dataclass(frozen=True)
class ItemMaster:
    by_product_id: dict[tuple[str, str], ItemRow]
    by_asin: dict[str, ItemRow]

    def lookup(self, qualifier: str, value: str) -> ItemRow | None:
        if qualifier == "BP":
            return self.by_asin.get(value.strip())
        return self.by_product_id.get((qualifier, value.strip()))

    def __len__(self) -> int:
        return len(self.by_product_id)


@dataclass(frozen=True)
class ShipToDirectory:
    by_id: dict[tuple[str, str], ShipToRow]

    def lookup(self, qualifier: str | None, code: str | None) -> ShipToRow | None:
        if not qualifier or not code:
            return None
        return self.by_id.get((qualifier, code.strip()))


@dataclass(frozen=True)
class Mappings:
    items: ItemMaster
    ship_to: ShipToDirectory
    directory: Path


def _read_rows(path: Path, columns: tuple[str, ...], model: type[BaseModel]) -> list[tuple[int, Any]]:
    if not path.is_file():
        raise MappingError(f"{path}: file not found")
    try:
        handle = path.open(newline="", encoding="utf-8-sig")
    except OSError as exc:
        raise MappingError(f"{path}: cannot be read ({exc})") from exc
    with handle:
        reader = csv.DictReader(handle)
        header = tuple(name.strip() for name in (reader.fieldnames or ()))
        if header != columns:
            raise MappingError(f"{path.name} line 1: columns must be exactly {','.join(columns)} (got {','.join(header)})")
        rows = []
        for record in reader:
            line = reader.line_num
            if None in record or any(value is None for value in record.values()):
                raise MappingError(f"{path.name} line {line}: expected {len(columns)} columns")
            if not any(value.strip() for value in record.values()):
                continue  # blank line
            try:
                rows.append((line, model.model_validate({key.strip(): value.strip() for key, value in record.items()})))
            except ValidationError as exc:
                first = exc.errors()[0]
                column = first["loc"][0] if first["loc"] else "?"
                got = record.get(str(column), "")
                raise MappingError(f"{path.name} line {line}, column {column}: {first['msg']} (got {got!r})") from exc
        return rows


def load_items(path: Path) -> ItemMaster:
    by_product_id: dict[tuple[str, str], ItemRow] = {}
    by_asin: dict[str, ItemRow] = {}
    skus: dict[str, ItemRow] = {}
    for line, row in _read_rows(path, ITEM_COLUMNS, ItemRow):
        key = (row.product_id_qualifier, row.product_id)
        if key in by_product_id and by_product_id[key].sku != row.sku:
            raise MappingError(f"{path.name} line {line}, column product_id: {row.product_id_qualifier} "
                               f"{row.product_id} already maps to {by_product_id[key].sku}")
        known = skus.get(row.sku)
        if known is not None and (known.case_pack_qty, known.unit_cost) != (row.case_pack_qty, row.unit_cost):
            raise MappingError(f"{path.name} line {line}, column case_pack_qty: {row.sku} has two different "
                               "case packs or costs")
        skus.setdefault(row.sku, row)
        by_product_id[key] = row
        if row.asin:
            by_asin.setdefault(row.asin, row)
    if not by_product_id:
        raise MappingError(f"{path.name}: no rows")
    return ItemMaster(by_product_id=by_product_id, by_asin=by_asin)


def load_ship_to(path: Path) -> ShipToDirectory:
    by_id: dict[tuple[str, str], ShipToRow] = {}
    for line, row in _read_rows(path, SHIP_TO_COLUMNS, ShipToRow):
        key = (row.id_qualifier, row.id_code)
        if key in by_id:
            raise MappingError(f"{path.name} line {line}, column id_code: {row.id_qualifier} {row.id_code} "
                               "appears twice")
        by_id[key] = row
    return ShipToDirectory(by_id=by_id)


def load_mappings(directory: Path | str) -> Mappings:
    directory = Path(directory)
    return Mappings(
        items=load_items(directory / "items.csv"),
        ship_to=load_ship_to(directory / "ship_to.csv"),
        directory=directory,
    )


@dataclass(frozen=True)
class ExceptionType:
    """Who owns an exception type, how bad it is, and where its runbook is."""

    type: str
    owner: str
    severity: str
    runbook: str
    summary: str


def load_exception_types(path: Path | str | None = None) -> dict[str, ExceptionType]:
    """``include/mappings/exception_types.yaml``: the owner table, kept as data."""
    from amazon_bluecherry.settings import get_settings

    path = Path(path) if path else get_settings().mappings_dir / "exception_types.yaml"
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise MappingError(f"{path}: cannot be read ({exc})") from exc
    types = {}
    for name, entry in raw.items():
        try:
            types[name] = ExceptionType(type=name, owner=entry["owner"], severity=entry.get("severity", "error"),
                                        runbook=entry.get("runbook", f"docs/runbooks/{name}.md"),
                                        summary=entry.get("summary", ""))
        except (KeyError, TypeError) as exc:
            raise MappingError(f"{path.name}: entry {name!r} needs an owner") from exc
    return types
