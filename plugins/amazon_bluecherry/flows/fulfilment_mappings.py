"""Mapping files of fulfilment_to_asn: approved carriers and our ship-from warehouses.

``carriers.csv`` (``scac,name,mode,tracking_pattern``) is Amazon's approved-carrier list as
the vendor keeps it (Amazon's own list lives in Vendor Central): a SCAC not in it holds the
shipment; ``tracking_pattern`` is a regular expression the whole tracking / PRO number must
match. ``mode`` is parcel, ltl or truckload (TD504 U or M). ``ship_from.csv`` is the N1*SF
party and label zone A per BlueCherry warehouse. Loaded at task start, never at parse time;
a bad row stops the flow naming file, line and column (like items.csv).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints, field_validator

from amazon_bluecherry.flows.mappings import Code, MappingError, ShipToDirectory, _read_rows, load_ship_to

CARRIER_COLUMNS = ("scac", "name", "mode", "tracking_pattern")
SHIP_FROM_COLUMNS = ("bc_warehouse", "name", "address_line", "city", "state", "postal_code", "country")
# TD504 transportation method per mode.
TRANSPORT_METHODS = {"parcel": "U", "ltl": "M", "truckload": "M"}


class CarrierRow(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    scac: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2,4}$")]
    name: Code
    mode: Annotated[str, StringConstraints(pattern=r"^(parcel|ltl|truckload)$")]
    tracking_pattern: Code

    @field_validator("tracking_pattern")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"not a regular expression: {exc}") from exc
        return value

    def tracking_ok(self, tracking: str) -> bool:
        return re.fullmatch(self.tracking_pattern, tracking) is not None

    @property
    def transportation_method(self) -> str:
        return TRANSPORT_METHODS[self.mode]


class ShipFromRow(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    bc_warehouse: Code
    name: Code
    address_line: str = ""
    city: str = ""
    state: str = ""
    postal_code: str = ""
    country: str = "US"


@dataclass(frozen=True)
class FulfilmentMappings:
    carriers: dict[str, CarrierRow]
    ship_from: dict[str, ShipFromRow]
    ship_to: ShipToDirectory
    directory: Path

    def ship_to_of(self, bc_customer: str, bc_store: str) -> tuple[str, str, str] | None:
        """(N1*ST qualifier, id, name) Amazon knows the store by: its FC code (92) first."""
        found = [row for row in self.ship_to.by_id.values() if (row.bc_customer, row.bc_store) == (bc_customer, bc_store)]
        found.sort(key=lambda row: {"92": 0, "15": 1}.get(row.id_qualifier, 2))
        return (found[0].id_qualifier, found[0].id_code, found[0].name) if found else None


def load_carriers(path: Path) -> dict[str, CarrierRow]:
    carriers: dict[str, CarrierRow] = {}
    for line, row in _read_rows(path, CARRIER_COLUMNS, CarrierRow):
        if row.scac in carriers:
            raise MappingError(f"{path.name} line {line}, column scac: {row.scac} appears twice")
        carriers[row.scac] = row
    if not carriers:
        raise MappingError(f"{path.name}: no rows")
    return carriers


def load_ship_from(path: Path) -> dict[str, ShipFromRow]:
    rows: dict[str, ShipFromRow] = {}
    for line, row in _read_rows(path, SHIP_FROM_COLUMNS, ShipFromRow):
        if row.bc_warehouse in rows:
            raise MappingError(f"{path.name} line {line}, column bc_warehouse: {row.bc_warehouse} appears twice")
        rows[row.bc_warehouse] = row
    return rows


def load_fulfilment_mappings(directory: Path | str) -> FulfilmentMappings:
    directory = Path(directory)
    return FulfilmentMappings(
        carriers=load_carriers(directory / "carriers.csv"),
        ship_from=load_ship_from(directory / "ship_from.csv"),
        ship_to=load_ship_to(directory / "ship_to.csv"),
        directory=directory,
    )
