"""``FlatFileGateway``: BlueCherry through import and export folders (the usual way sites integrate).

Emulator-defined; map to your BlueCherry installation (layouts in
``include/mappings/bluecherry_layouts.yaml``).

- Writes go to the import folder as one file per call, written under a temporary name and
  renamed when whole. The ERP applies them in its next batch cycle, so writes return
  outcome ``queued``; their effect shows in the next exports.
- Reads take the newest export of a kind whose manifest (``<data file>.manifest.json``,
  written after the data file) exists. A data file without a manifest is still being
  written and is ignored. An export older than its layout's ``max_age_minutes`` raises
  :class:`StaleExportError`; a data file whose row count or SHA-256 disagrees with the
  manifest raises :class:`PartialExportError`.
"""

from __future__ import annotations

import hashlib
import logging
import os
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from amazon_bluecherry.bluecherry.ats import AtsTable
from amazon_bluecherry.bluecherry.gateway import (
    BlueCherryGateway,
    Conflict,
    GatewayError,
    NotFound,
    PartialExportError,
    StaleExportError,
    TransientGatewayError,
    derive_idempotency_key,
)
from amazon_bluecherry.bluecherry.layouts import (
    MANIFEST_SUFFIX,
    LayoutError,
    Layouts,
    Manifest,
    manifest_name,
)
from amazon_bluecherry.bluecherry.models import (
    ArOpenItem,
    AtsRow,
    AtsSnapshot,
    CashReceipt,
    Customer,
    GlAccount,
    Invoice,
    Item,
    JournalEntry,
    LedgerLine,
    PriceListEntry,
    SalesOrder,
    SalesOrderDraft,
    Shipment,
    ShipmentConfirmation,
    WriteResult,
)
from amazon_bluecherry.bluecherry.records import (
    EXPORT_SHAPES,
    IMPORT_SHAPES,
    documents_from_rows,
    rows_from_documents,
)
from amazon_bluecherry.folders import Folder, LocalFolder, file_names, is_temporary

__all__ = ["DEFAULT_MAX_AGE", "FlatFileGateway"]

log = logging.getLogger(__name__)

DEFAULT_MAX_AGE = timedelta(hours=24)


class FlatFileGateway(BlueCherryGateway):
    """The gateway over an import folder (we write) and an export folder (the ERP writes).

    :param import_dir: folder the ERP imports from (path or :class:`Folder`)
    :param export_dir: folder the ERP exports to (path or :class:`Folder`)
    :param layouts: :class:`Layouts`, or the path of a layouts YAML (default: the mappings folder's)
    :param max_age: override every export's ``max_age_minutes``
    :param clock: returns the current UTC time (tests and simulated clocks)
    """

    def __init__(
        self,
        import_dir: str | os.PathLike[str] | Folder,
        export_dir: str | os.PathLike[str] | Folder,
        layouts: Layouts | str | Path | None = None,
        *,
        max_age: timedelta | None = None,
        clock: Callable[[], datetime] | None = None,
    ):
        self.import_folder = import_dir if isinstance(import_dir, Folder) else LocalFolder(import_dir)
        self.export_folder = (
            export_dir if isinstance(export_dir, Folder) else LocalFolder(export_dir, create=False)
        )
        self.layouts = layouts if isinstance(layouts, Layouts) else Layouts.load(layouts)
        self.max_age = max_age
        self._clock = clock or (lambda: datetime.now(UTC))
        # Parsed exports by layout: (data file, sha256) -> documents; exports are immutable once complete.
        self._cache: dict[str, tuple[tuple[str, str], Manifest, list[BaseModel]]] = {}

    def __repr__(self) -> str:
        return f"FlatFileGateway(import={self.import_folder.describe()!r}, export={self.export_folder.describe()!r})"

    # --- master data -----------------------------------------------------------------------

    def list_items(self, *, style: str | None = None) -> list[Item]:
        items = self._read("items")[1]
        return [item for item in items if style is None or item.style == style]

    def get_price_list(self, price_list: str) -> list[PriceListEntry]:
        entries = [entry for entry in self._read("price_lists")[1] if entry.price_list == price_list]
        if not entries:
            raise NotFound(
                f"no price list {price_list!r} in the newest {self._latest_name('price_lists')} export"
            )
        return entries

    def list_customers(self) -> list[Customer]:
        return list(self._read("customers")[1])

    # --- sales orders ----------------------------------------------------------------------

    def upsert_sales_orders(self, orders: Sequence[tuple[SalesOrderDraft, str]]) -> list[WriteResult]:
        if not orders:
            return []
        seen: dict[str, str] = {}
        for draft, key in orders:
            if not key:
                raise ValueError(f"PO {draft.customer_po}: an idempotency key is required")
            if seen.setdefault(key, draft.fingerprint()) != draft.fingerprint():
                raise Conflict(f"idempotency key {key!r} used for two different drafts in one batch")
        drafts = [draft for draft, _ in orders]
        envelopes = [{"idempotency_key": key} for _, key in orders]
        self._write_import(
            "sales_orders", rows_from_documents(IMPORT_SHAPES["sales_orders"], drafts, envelopes)
        )
        return [
            WriteResult(kind="sales_order", key=draft.customer_po, idempotency_key=key, outcome="queued")
            for draft, key in orders
        ]

    def list_sales_orders(
        self,
        *,
        customer_pos: Sequence[str] | None = None,
        bc_customer: str | None = None,
        updated_since: datetime | None = None,
    ) -> list[SalesOrder]:
        wanted = set(customer_pos) if customer_pos is not None else None
        return [
            order
            for order in self._read("sales_orders")[1]
            if (wanted is None or order.customer_po in wanted)
            and (bc_customer is None or order.bc_customer == bc_customer)
            and (updated_since is None or order.updated_at >= updated_since)
        ]

    # --- fulfilment ------------------------------------------------------------------------

    def list_shipments_ready(self) -> list[Shipment]:
        return [shipment for shipment in self._read("shipments")[1] if shipment.status == "ready"]

    def get_shipment(self, shipment_id: str) -> Shipment:
        for shipment in self._read("shipments")[1]:
            if shipment.shipment_id == shipment_id:
                return shipment
        raise NotFound(f"no shipment {shipment_id!r} in the newest {self._latest_name('shipments')} export")

    def confirm_shipment(
        self, shipment_id: str, *, asn_reference: str, idempotency_key: str | None = None
    ) -> WriteResult:
        key = idempotency_key or derive_idempotency_key("shipment-confirmation", shipment_id, asn_reference)
        confirmation = ShipmentConfirmation(shipment_id=shipment_id, asn_reference=asn_reference)
        self._write_import(
            "shipment_confirmations",
            rows_from_documents(
                IMPORT_SHAPES["shipment_confirmations"], [confirmation], [{"idempotency_key": key}]
            ),
        )
        return WriteResult(
            kind="shipment_confirmation", key=shipment_id, idempotency_key=key, outcome="queued"
        )

    def list_invoices(
        self,
        *,
        customer_pos: Sequence[str] | None = None,
        shipment_id: str | None = None,
        since: date | None = None,
    ) -> list[Invoice]:
        wanted = set(customer_pos) if customer_pos is not None else None
        return [
            invoice
            for invoice in self._read("invoices")[1]
            if (wanted is None or invoice.customer_po in wanted)
            and (shipment_id is None or invoice.shipment_id == shipment_id)
            and (since is None or invoice.invoice_date >= since)
        ]

    # --- inventory -------------------------------------------------------------------------

    def get_ats(self, *, warehouse: str | None = None) -> AtsSnapshot:
        manifest, rows = self._read("ats")
        selected: list[AtsRow] = [row for row in rows if warehouse is None or row.warehouse == warehouse]
        return AtsSnapshot(snapshot_at=manifest.snapshot_at, last_cycle_at=self.last_cycle_at(),
                           warehouse=warehouse, rows=selected)

    def get_ats_table(self, *, warehouses: Sequence[str] | None = None) -> AtsTable:
        """The newest ATS export straight into columns (no model per row: 300,000 rows in about a second).

        Same checks as :meth:`get_ats`: stale, partial and altered exports raise.
        """
        manifest, data = self._verified_bytes("ats")
        where = self.export_folder.describe(manifest.data_file)
        try:
            decoded = self.layouts.exports["ats"].decode_frame(data, source=where)
        except LayoutError as exc:
            raise GatewayError(f"cannot read BlueCherry export: {exc}") from exc
        if len(decoded) != manifest.rows:
            raise PartialExportError(
                f"BlueCherry export {where} has {len(decoded)} rows, its manifest says {manifest.rows}"
            )
        table = AtsTable.from_frame(decoded, snapshot_at=manifest.snapshot_at, last_cycle_at=self.last_cycle_at(),
                                    source=f"{where} (cycle {manifest.sequence})", content_digest=manifest.sha256)
        return table.only(warehouses)

    def last_cycle_at(self) -> datetime | None:
        """When BlueCherry's newest batch cycle exported, as far as the export folder shows.

        Every export of one cycle carries the cycle's number (the manifest's ``sequence``):
        the newest cycle is the highest number over all kinds, and its time the earliest
        snapshot among its exports. An ATS export from an older cycle misses the newer
        cycle's allocations. A cycle that wrote no export at all cannot be seen here.
        """
        names = file_names(self.export_folder)
        newest: dict[str, str] = {}
        for name in sorted(names, reverse=True):
            if not name.endswith(MANIFEST_SUFFIX) or is_temporary(name):
                continue
            data_file = name[: -len(MANIFEST_SUFFIX)]
            layout = next((kind for kind, layout in self.layouts.exports.items() if layout.owns(data_file)), None)
            if layout is not None and layout not in newest:
                newest[layout] = name
        manifests = []
        for name in newest.values():
            try:
                manifests.append(Manifest.model_validate_json(self.export_folder.read(name)))
            except (FileNotFoundError, ValidationError):
                continue  # pruned while we looked, or broken: the ATS read itself judges its own
        if not manifests:
            return None
        cycle = max(manifest.sequence for manifest in manifests)
        return min(manifest.snapshot_at for manifest in manifests if manifest.sequence == cycle)

    # --- finance ---------------------------------------------------------------------------

    def list_gl_accounts(self) -> list[GlAccount]:
        return list(self._read("gl_accounts")[1])

    def post_journal_entry(self, entry: JournalEntry, *, idempotency_key: str) -> WriteResult:
        if not idempotency_key:
            raise ValueError(f"journal {entry.reference}: an idempotency key is required")
        self._write_import(
            "journal_entries",
            rows_from_documents(
                IMPORT_SHAPES["journal_entries"], [entry], [{"idempotency_key": idempotency_key}]
            ),
        )
        return WriteResult(
            kind="journal_entry", key=entry.reference, idempotency_key=idempotency_key, outcome="queued"
        )

    def record_cash_receipt(self, receipt: CashReceipt, *, idempotency_key: str) -> WriteResult:
        if not idempotency_key:
            raise ValueError(f"receipt {receipt.receipt_number}: an idempotency key is required")
        self._write_import(
            "cash_receipts",
            rows_from_documents(
                IMPORT_SHAPES["cash_receipts"], [receipt], [{"idempotency_key": idempotency_key}]
            ),
        )
        return WriteResult(
            kind="cash_receipt", key=receipt.receipt_number, idempotency_key=idempotency_key, outcome="queued"
        )

    def list_open_ar(self, *, bc_customer: str | None = None) -> list[ArOpenItem]:
        return [
            item
            for item in self._read("open_ar")[1]
            if bc_customer is None or item.bc_customer == bc_customer
        ]

    def list_ledger_lines(self, period: str, *, account: str | None = None) -> list[LedgerLine]:
        return [
            line
            for line in self._read("ledger")[1]
            if line.period == period and (account is None or line.account == account)
        ]

    # --- plumbing --------------------------------------------------------------------------

    def ping(self) -> None:
        for role, folder in (("import", self.import_folder), ("export", self.export_folder)):
            try:
                folder.check()
            except OSError as exc:
                raise GatewayError(
                    f"BlueCherry {role} folder {folder.describe()} is not accessible: {exc}"
                ) from exc

    # --- files -----------------------------------------------------------------------------

    def _write_import(self, layout_name: str, rows: list[dict[str, Any]]) -> str:
        layout = self.layouts.imports[layout_name]
        try:
            data = layout.encode(rows)
        except LayoutError as exc:
            raise GatewayError(f"cannot encode {layout_name} import: {exc}") from exc
        name = layout.file_name(self._clock(), uuid.uuid4().hex[:8])
        try:
            self.import_folder.write_atomic(name, data)
        except OSError as exc:
            raise TransientGatewayError(f"cannot write {self.import_folder.describe(name)}: {exc}") from exc
        log.info(
            "wrote BlueCherry %s import %s (%d rows)",
            layout_name,
            self.import_folder.describe(name),
            len(rows),
        )
        return name

    def _manifests(self, layout_name: str) -> list[str]:
        layout = self.layouts.exports[layout_name]
        return sorted(
            (
                name
                for name in file_names(self.export_folder)
                if name.endswith(MANIFEST_SUFFIX)
                and not is_temporary(name)
                and layout.owns(name[: -len(MANIFEST_SUFFIX)])
            ),
            reverse=True,
        )

    def _latest_name(self, layout_name: str) -> str:
        names = self._manifests(layout_name)
        return names[0][: -len(MANIFEST_SUFFIX)] if names else layout_name

    def _max_age(self, layout_name: str) -> timedelta:
        if self.max_age is not None:
            return self.max_age
        minutes = self.layouts.exports[layout_name].max_age_minutes
        return timedelta(minutes=minutes) if minutes is not None else DEFAULT_MAX_AGE

    def _read(self, layout_name: str) -> tuple[Manifest, list[Any]]:
        """The newest complete, fresh export of a kind, parsed into models."""
        manifest = self._fresh_manifest(layout_name)
        cached = self._cache.get(layout_name)
        if cached and cached[0] == (manifest.data_file, manifest.sha256):
            return manifest, cached[2]
        manifest, data = self._verified_bytes(layout_name, manifest)
        documents = self._parse(layout_name, manifest, data)
        self._cache[layout_name] = ((manifest.data_file, manifest.sha256), manifest, documents)
        return manifest, documents

    def _fresh_manifest(self, layout_name: str) -> Manifest:
        """The newest manifest of a kind; :class:`StaleExportError` when it is older than the maximum age."""
        manifest = self._newest_manifest(layout_name)
        age = self._clock() - manifest.snapshot_at
        if age > self._max_age(layout_name):
            raise StaleExportError(
                f"BlueCherry {layout_name} export {self.export_folder.describe(manifest.data_file)} is stale: "
                f"snapshot {manifest.snapshot_at.isoformat()} is {age} old, more than "
                f"{self._max_age(layout_name)}; has the ERP's export job run?"
            )
        return manifest

    def _verified_bytes(self, layout_name: str, manifest: Manifest | None = None) -> tuple[Manifest, bytes]:
        """The newest fresh export's bytes, whole and unaltered (SHA-256 as its manifest says)."""
        for attempt in range(3):  # the ERP may delete an old export while we look at it
            manifest = manifest or self._fresh_manifest(layout_name)
            try:
                data = self.export_folder.read(manifest.data_file)
            except FileNotFoundError:
                if attempt < 2:
                    manifest = None
                    continue
                raise PartialExportError(
                    f"manifest {manifest_name(manifest.data_file)} names a data file that does not exist"
                ) from None
            digest = hashlib.sha256(data).hexdigest()
            if digest != manifest.sha256:
                raise PartialExportError(
                    f"BlueCherry export {self.export_folder.describe(manifest.data_file)} is partial or altered: "
                    f"SHA-256 {digest[:12]}... does not match the manifest's {manifest.sha256[:12]}... "
                    f"({len(data)} bytes)"
                )
            return manifest, data
        raise AssertionError("unreachable")

    def _newest_manifest(self, layout_name: str) -> Manifest:
        layout = self.layouts.exports[layout_name]
        names = self._manifests(layout_name)
        if not names:
            raise StaleExportError(
                f"no complete BlueCherry {layout_name} export in {self.export_folder.describe()} "
                f"(looked for {layout.file_prefix}_*{layout.extension}{MANIFEST_SUFFIX})"
            )
        newest: Manifest | None = None
        for name in names[:3]:  # names sort by time; the sequence decides among the newest few
            try:
                manifest = Manifest.model_validate_json(self.export_folder.read(name))
            except FileNotFoundError:
                continue
            except ValidationError as exc:
                raise PartialExportError(
                    f"unreadable manifest {self.export_folder.describe(name)}: {exc}"
                ) from exc
            if manifest.data_file != name[: -len(MANIFEST_SUFFIX)] or manifest.layout != layout_name:
                raise PartialExportError(
                    f"manifest {self.export_folder.describe(name)} describes {manifest.layout} "
                    f"{manifest.data_file}, not itself"
                )
            if newest is None or manifest.sequence > newest.sequence:
                newest = manifest
        if newest is None:
            raise StaleExportError(f"BlueCherry {layout_name} exports vanished while reading them; retry")
        return newest

    def _parse(self, layout_name: str, manifest: Manifest, data: bytes) -> list[BaseModel]:
        where = self.export_folder.describe(manifest.data_file)
        layout = self.layouts.exports[layout_name]
        try:
            rows = layout.decode(data, source=where)
        except LayoutError as exc:
            raise GatewayError(f"cannot read BlueCherry export: {exc}") from exc
        if len(rows) != manifest.rows:
            raise PartialExportError(
                f"BlueCherry export {where} has {len(rows)} rows, its manifest says {manifest.rows}"
            )
        parsed = documents_from_rows(EXPORT_SHAPES[layout_name], rows)
        bad = [p for p in parsed if p.error]
        if bad:
            first = bad[0]
            raise GatewayError(
                f"BlueCherry export {where}: {len(bad)} document(s) do not fit the {layout_name} model; "
                f"first at data row {first.first_row}: {first.error}"
            )
        log.debug("read BlueCherry %s export %s: %d rows", layout_name, where, len(rows))
        return [p.document for p in parsed]
