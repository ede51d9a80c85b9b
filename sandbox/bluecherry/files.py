"""The emulator's file face: import and export folders processed in batch cycles, like the real ERP.

Emulator-defined; map to your BlueCherry installation. One :meth:`FileFace.run_cycle`:

1. picks up every completed import file (temporary ``.``-names are skipped), applies each
   document through the backend with the idempotency key from its rows, then moves the
   file to ``processed/`` (or ``rejected/`` with an ``.errors.txt`` when a document
   failed);
2. writes every export as a data file plus its manifest (written last), and deletes all
   but the newest few exports of each kind (manifest first, so no reader sees a manifest
   without its data).

Faults for tests: a cycle can crash after applying an import but before archiving it
(the next cycle sees the file again: idempotency keys must absorb that), skip its exports
(readers see stale data), skip the exports of chosen layouts (one export falls behind the
others), or write a truncated export under a full manifest.
"""

from __future__ import annotations

import logging
import random
import re
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from amazon_bluecherry.bluecherry.layouts import Layout, LayoutError, Layouts, Manifest, manifest_name
from amazon_bluecherry.bluecherry.records import (
    EXPORT_SHAPES,
    IMPORT_SHAPES,
    documents_from_rows,
    rows_from_documents,
)
from amazon_bluecherry.folders import LocalFolder, file_names, is_temporary
from sandbox.bluecherry.backend import Backend
from sandbox.bluecherry.errors import EmulatorError

__all__ = ["CycleCrash", "CycleReport", "FileFace", "FileFaults"]

log = logging.getLogger(__name__)
_STAMP = re.compile(r"_(\d{8}T\d{12})Z_")


def _stamp(name: str) -> str:
    found = _STAMP.search(name)
    return found.group(1) if found else ""


class CycleCrash(RuntimeError):
    """An injected crash in the middle of a cycle."""


@dataclass
class FileFaults:
    """Injected trouble in the batch cycle (all probabilities per file or per cycle)."""

    crash_after_apply_rate: float = 0.0  # per import file: applied, but not archived
    crash_before_apply_rate: float = 0.0  # per import file: nothing applied
    skip_exports_rate: float = 0.0  # per cycle: no exports written (they go stale)
    truncate_export_rate: float = 0.0  # per export: data cut short, manifest claims it whole
    skip_layouts: tuple[str, ...] = ()  # exports that fail every cycle (e.g. ("ats",)): they fall behind
    seed: int | None = None
    counts: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)

    def roll(self, name: str, rate: float) -> bool:
        hit = rate > 0 and self._random.random() < rate
        if hit:
            self.counts[name] = self.counts.get(name, 0) + 1
        return hit


@dataclass
class CycleReport:
    cycle: int
    imported_files: list[str] = field(default_factory=list)
    applied: dict[str, int] = field(default_factory=dict)  # "<kind>:<outcome>" -> count
    rejected: list[str] = field(default_factory=list)
    exports: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class FileFace:
    """Import and export folders over a :class:`Backend`.

    :param import_dir: where the integration drops import files
    :param export_dir: where the cycle writes exports and manifests
    :param keep_exports: how many exports of each kind stay in the folder
    """

    def __init__(
        self,
        backend: Backend,
        import_dir: str | Path,
        export_dir: str | Path,
        layouts: Layouts | str | Path | None = None,
        *,
        keep_exports: int = 3,
        faults: FileFaults | None = None,
    ):
        self.backend = backend
        self.import_folder = LocalFolder(import_dir)
        self.export_folder = LocalFolder(export_dir)
        self.processed = LocalFolder(Path(import_dir) / "processed")
        self.rejected = LocalFolder(Path(import_dir) / "rejected")
        self.layouts = layouts if isinstance(layouts, Layouts) else Layouts.load(layouts)
        self.keep_exports = keep_exports
        self.faults = faults or FileFaults()

    # --- the cycle -------------------------------------------------------------------------

    def run_cycle(self) -> CycleReport:
        """Apply pending imports, then write fresh exports. May raise :class:`CycleCrash` (injected)."""
        report = CycleReport(cycle=self.backend.next_number("export_cycle"))
        for name, layout in self._pending_imports():
            self._import(name, layout, report)
        self.backend.record_cycle()  # the cycle's allocations are made: older snapshots miss them
        if self.faults.roll("skip_exports", self.faults.skip_exports_rate):
            log.warning("cycle %d: exports skipped (injected)", report.cycle)
            return report
        self._export_all(report)
        log.info(
            "BlueCherry cycle %d: %d import files, applied %s, %d rejected, %d exports",
            report.cycle,
            len(report.imported_files),
            report.applied,
            len(report.rejected),
            len(report.exports),
        )
        return report

    def _pending_imports(self) -> list[tuple[str, Layout]]:
        pending = []
        for name in file_names(self.import_folder):
            if is_temporary(name):
                continue
            layout = next((layout for layout in self.layouts.imports.values() if layout.owns(name)), None)
            if layout is None:
                log.warning("import folder: %s matches no import layout; left alone", name)
                continue
            pending.append((name, layout))
        # File names carry the write time: apply in the order they were written.
        return sorted(pending, key=lambda pair: (_stamp(pair[0]), pair[0]))

    def _import(self, name: str, layout: Layout, report: CycleReport) -> None:
        source = self.import_folder.describe(name)
        if self.faults.roll("crash_before_apply", self.faults.crash_before_apply_rate):
            raise CycleCrash(f"injected crash before applying {source}")
        errors: list[str] = []
        try:
            rows = layout.decode(self.import_folder.read(name), source=source)
            parsed = documents_from_rows(
                IMPORT_SHAPES[layout.name], rows, envelope_fields=("idempotency_key",)
            )
        except LayoutError as exc:
            errors.append(str(exc))
            parsed = []
        for item in parsed:
            key = item.envelope.get("idempotency_key")
            if item.error or item.document is None:
                errors.append(f"data row {item.first_row}: {item.error}")
                continue
            if not key:
                errors.append(f"data row {item.first_row}: no idempotency key")
                continue
            try:
                result = self._apply(layout.name, item.document, key)
            except EmulatorError as exc:
                errors.append(f"data row {item.first_row}: {type(exc).__name__}: {exc}")
                continue
            counter = f"{result.kind}:{result.outcome}"
            report.applied[counter] = report.applied.get(counter, 0) + 1
        if self.faults.roll("crash_after_apply", self.faults.crash_after_apply_rate):
            raise CycleCrash(f"injected crash after applying {source}, before archiving it")
        data = self.import_folder.read(name)
        if errors:
            self.rejected.write_atomic(name, data)
            self.rejected.write_atomic(name + ".errors.txt", ("\n".join(errors) + "\n").encode())
            report.rejected += [f"{name}: {error}" for error in errors]
            log.warning("import %s: %d document(s) rejected, first: %s", source, len(errors), errors[0])
        else:
            self.processed.write_atomic(name, data)
        self.import_folder.delete(name, missing_ok=True)
        report.imported_files.append(name)

    def _apply(self, layout_name: str, document, key: str):
        if layout_name == "sales_orders":
            return self.backend.upsert_sales_order(document, idempotency_key=key)
        if layout_name == "shipment_confirmations":
            return self.backend.confirm_shipment(document, idempotency_key=key)
        if layout_name == "journal_entries":
            return self.backend.post_journal_entry(document, idempotency_key=key)
        if layout_name == "cash_receipts":
            return self.backend.record_cash_receipt(document, idempotency_key=key)
        raise LayoutError(f"no handler for import layout {layout_name!r}")

    # --- exports ---------------------------------------------------------------------------

    # Master data changes rarely: like a nightly job, these are rewritten only when the newest
    # export is older than half its maximum age (or missing).
    MASTER_DATA = ("items", "price_lists", "customers", "gl_accounts")

    def _export_all(self, report: CycleReport) -> None:
        now = self.backend.clock.now()
        sources = {
            "items": lambda: (self.backend.list_items(), now),
            "price_lists": lambda: (
                [
                    entry
                    for name in self.backend.list_price_lists()
                    for entry in self.backend.get_price_list(name)
                ],
                now,
            ),
            "customers": lambda: (self.backend.list_customers(), now),
            "sales_orders": lambda: (self.backend.list_sales_orders(), now),
            "shipments": lambda: (self.backend.list_shipments(confirmed_since=now - timedelta(days=30)), now),
            "invoices": lambda: (self.backend.list_invoices(since=now.date() - timedelta(days=120)), now),
            "ats": lambda: _ats(self.backend),
            "gl_accounts": lambda: (self.backend.list_gl_accounts(), now),
            "ledger": lambda: (
                [
                    line
                    for period in self.backend.list_periods()
                    for line in self.backend.list_ledger_lines(period)
                ],
                now,
            ),
            "open_ar": lambda: (self.backend.list_open_ar(), now),
        }
        for name, layout in self.layouts.exports.items():
            if name not in sources:
                log.warning("export layout %s has no emulator source; skipped", name)
                continue
            if name in self.MASTER_DATA and self._fresh(layout, now):
                continue
            if name in self.faults.skip_layouts:
                log.warning("cycle %d: %s export skipped (injected)", report.cycle, name)
                continue
            documents, snapshot_at = sources[name]()
            report.exports.append(self.write_export(layout, documents, snapshot_at, report.cycle))
            self._prune(layout)

    def _fresh(self, layout: Layout, now: datetime) -> bool:
        names = set(file_names(self.export_folder))
        complete = sorted(name for name in names if layout.owns(name) and manifest_name(name) in names)
        if not complete or layout.max_age_minutes is None:
            return False
        manifest = Manifest.model_validate_json(self.export_folder.read(manifest_name(complete[-1])))
        return now - manifest.snapshot_at < timedelta(minutes=layout.max_age_minutes / 2)

    def write_export(self, layout: Layout, documents: list, snapshot_at: datetime, sequence: int) -> str:
        """Data file first (atomically), then its manifest: the manifest marks the export complete."""
        rows = rows_from_documents(EXPORT_SHAPES[layout.name], documents)
        data = layout.encode(rows)
        data_file = layout.file_name(snapshot_at, f"{sequence:06d}")
        manifest = Manifest.describe(layout.name, data_file, data, len(rows), snapshot_at, sequence)
        if self.faults.roll("truncate_export", self.faults.truncate_export_rate):
            data = data[: max(1, len(data) // 2)]
        self.export_folder.write_atomic(data_file, data)
        self.export_folder.write_atomic(manifest_name(data_file), manifest.to_bytes())
        return data_file

    def _prune(self, layout: Layout) -> None:
        names = set(file_names(self.export_folder))
        data_files = sorted(name for name in names if layout.owns(name))
        complete = [name for name in data_files if manifest_name(name) in names]
        for name in complete[: -self.keep_exports]:
            self.export_folder.delete(manifest_name(name), missing_ok=True)
            self.export_folder.delete(name, missing_ok=True)
        kept = complete[-self.keep_exports :]
        # A data file whose manifest never came (a crashed export) is garbage once older than every kept export.
        for name in data_files:
            if kept and name not in complete and name < kept[0]:
                self.export_folder.delete(name, missing_ok=True)


def _ats(backend: Backend) -> tuple[list, datetime]:
    snapshot = backend.get_ats()
    return snapshot.rows, snapshot.snapshot_at
