"""Fixtures of the BlueCherry tests: a real emulator on loopback and both gateway adapters.

Seeding the catalogue takes about a second, so one seeded database is made per session and
copied for every emulator (``seeded_database``).
"""

from __future__ import annotations

import uuid
import weakref
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest

from amazon_bluecherry.bluecherry.flatfile import FlatFileGateway
from amazon_bluecherry.bluecherry.gateway import BlueCherryGateway
from amazon_bluecherry.bluecherry.models import SalesOrderDraft, SalesOrderLineDraft
from amazon_bluecherry.bluecherry.rest import RestGateway
from sandbox.bluecherry.server import EmulatorHandle, seeded_database, start_emulator


@pytest.fixture(scope="session")
def emulator_template(tmp_path_factory) -> Path:
    """A seeded emulator database, made once per session and copied by each emulator."""
    template = tmp_path_factory.mktemp("bluecherry-template") / "seeded.sqlite"
    seeded_database(template, template.with_name("warm-up.sqlite"))
    return template


@pytest.fixture
def emulator(tmp_path, emulator_template) -> EmulatorHandle:
    """A fresh emulator (HTTP and file faces) for one test."""
    db = seeded_database(emulator_template, tmp_path / "bluecherry.sqlite")
    with start_emulator(db, data_dir=tmp_path / "bluecherry-files") as handle:
        yield handle


@dataclass
class Harness:
    """One adapter against one emulator; ``sync()`` lets the ERP catch up (a batch cycle for files)."""

    adapter: str
    gateway: BlueCherryGateway
    emulator: EmulatorHandle

    def sync(self) -> None:
        if self.adapter == "flatfile":
            self.emulator.run_cycle()


def make_harness(adapter: str, emulator: EmulatorHandle) -> Harness:
    if adapter == "rest":
        gateway: BlueCherryGateway = RestGateway(
            emulator.url, emulator.api_key, timeout=10, max_retries=8, backoff=0.01, max_backoff=0.1
        )
    else:
        emulator.run_cycle()  # the first exports
        gateway = FlatFileGateway(emulator.import_dir, emulator.export_dir)
    return Harness(adapter, gateway, emulator)


@pytest.fixture(scope="module")
def module_emulator(tmp_path_factory, emulator_template) -> EmulatorHandle:
    """One emulator shared by a module's tests (they use their own PO numbers)."""
    home = tmp_path_factory.mktemp("bluecherry-module")
    db = seeded_database(emulator_template, home / "bluecherry.sqlite")
    with start_emulator(db, data_dir=home / "files") as handle:
        yield handle


@pytest.fixture(scope="module", params=["rest", "flatfile"])
def harness(request, module_emulator) -> Harness:
    """The contract suite runs once per adapter, against the same running emulator."""
    built = make_harness(request.param, module_emulator)
    yield built
    built.gateway.close()


@pytest.fixture
def shared_emulator(module_emulator) -> EmulatorHandle:
    """The module's emulator, with fault injection switched off again after each test."""
    yield module_emulator
    module_emulator.clear_faults()


@pytest.fixture
def new_po():
    """``new_po(prefix)``: a PO number no other test uses."""
    return _new_po


@pytest.fixture
def draft_for():
    """``draft_for(items, quantities, ...)``: a sales-order draft for an Amazon FC."""
    return _draft_for


@pytest.fixture
def harness_for():
    """``harness_for(adapter, emulator)``: a gateway of that adapter against that emulator."""
    return make_harness


@pytest.fixture
def items_with():
    """``items_with(emulator, count=, min_available=, max_available=, active=)``: items for test setup."""
    return _items_with


_ITEMS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _items_with(emulator, *, count, min_available=None, max_available=None, warehouse="NJ01", active=True):
    """Items of distinct styles whose ATS is in a range (read from the emulator's state: setup only)."""
    ats = {row.sku: row for row in emulator.backend.get_ats(warehouse=warehouse).rows}
    chosen, styles = [], set()
    if emulator.backend not in _ITEMS:  # the item master never changes in the emulator
        _ITEMS[emulator.backend] = emulator.backend.list_items()
    for item in _ITEMS[emulator.backend]:
        row = ats[item.sku]
        if item.active != active or item.style in styles:
            continue
        if min_available is not None and row.available < min_available:
            continue
        if max_available is not None and row.available > max_available:
            continue
        chosen.append(item)
        styles.add(item.style)
        if len(chosen) == count:
            return chosen
    pytest.fail(f"the seed has fewer than {count} items with ATS in [{min_available}, {max_available}]")


def _new_po(prefix: str = "T") -> str:
    return f"{prefix}{uuid.uuid4().hex[:9].upper()}"


def _draft_for(
    items,
    quantities,
    *,
    po: str | None = None,
    store: str = "ABE2",
    warehouse: str = "NJ01",
    backorder_allowed=True,
) -> SalesOrderDraft:
    """A draft for Amazon's FC ``store`` with one line per (item, eaches)."""
    start = date.today() + timedelta(days=7)
    return SalesOrderDraft(
        customer_po=po or _new_po(),
        bc_customer="AMAZON",
        bc_store=store,
        bc_warehouse=warehouse,
        order_type="NE",
        ship_window_start=start,
        ship_window_end=start + timedelta(days=7),
        backorder_allowed=backorder_allowed,
        lines=[
            SalesOrderLineDraft(
                line_number=number,
                sku=item.sku,
                qty_eaches=qty,
                unit_price=item.unit_cost,
                product_id=item.upc,
                product_id_qualifier="UP",
            )
            for number, (item, qty) in enumerate(zip(items, quantities, strict=True), start=1)
        ],
    )
