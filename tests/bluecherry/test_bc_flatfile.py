"""The flat-file adapter's own rules: completed files only, stale and partial exports refused, layouts as data."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from amazon_bluecherry.bluecherry.flatfile import FlatFileGateway
from amazon_bluecherry.bluecherry.gateway import (
    GatewayError,
    PartialExportError,
    StaleExportError,
    TransientGatewayError,
)
from amazon_bluecherry.bluecherry.layouts import (
    LayoutError,
    Layouts,
    Manifest,
    default_layouts_path,
    manifest_name,
)
from sandbox.bluecherry.backend import Backend
from sandbox.bluecherry.files import FileFace, FileFaults
from sandbox.bluecherry.server import seeded_database


@pytest.fixture
def erp(tmp_path, emulator_template):
    """The emulator's backend and file face, without HTTP."""
    backend = Backend(seeded_database(emulator_template, tmp_path / "bc.sqlite"))
    face = FileFace(backend, tmp_path / "import", tmp_path / "export")
    yield face
    backend.dispose()


def newest(folder: Path, prefix: str) -> Path:
    return sorted(p for p in folder.iterdir() if p.name.startswith(prefix + "_") and p.suffix == ".csv")[-1]


def test_orders_go_in_as_one_completed_file_with_the_layout(erp, tmp_path, draft_for):
    gateway = FlatFileGateway(tmp_path / "import", tmp_path / "export")
    items = erp.backend.list_items()[:2]
    drafts = [draft_for(items, [6, 12]) for _ in range(3)]
    results = gateway.upsert_sales_orders([(d, "k-" + d.customer_po) for d in drafts])
    assert {r.outcome for r in results} == {"queued"}

    files = [p for p in (tmp_path / "import").iterdir() if p.is_file()]
    assert len(files) == 1 and files[0].name.startswith("SO_IMPORT_") and not files[0].name.startswith(".")
    rows = list(csv.reader(io.StringIO(files[0].read_text())))
    layout = Layouts.load().imports["sales_orders"]
    assert rows[0] == [column.header for column in layout.columns]
    assert len(rows) == 1 + 6  # three orders of two lines, the header repeated on each line
    header = dict(zip(rows[0], rows[1], strict=True))
    assert (
        header["PO Num"] == drafts[0].customer_po
        and header["Idempotency Key"] == "k-" + drafts[0].customer_po
    )
    assert header["Start Date"] == drafts[0].ship_window_start.strftime("%m/%d/%Y")

    report = erp.run_cycle()
    assert report.applied == {"sales_order:created": 3} and report.rejected == []
    assert not [p for p in (tmp_path / "import").iterdir() if p.is_file()]
    assert (tmp_path / "import" / "processed" / files[0].name).exists()
    assert {o.customer_po for o in gateway.list_sales_orders()} >= {d.customer_po for d in drafts}


def test_a_bad_document_is_rejected_with_an_error_file_and_the_rest_applied(erp, tmp_path, draft_for):
    gateway = FlatFileGateway(tmp_path / "import", tmp_path / "export")
    items = erp.backend.list_items()[:1]
    good = draft_for(items, [6])
    bad = draft_for(items, [6]).model_copy(update={"bc_store": "NO-SUCH-FC"})
    gateway.upsert_sales_orders([(good, "good"), (bad, "bad")])
    report = erp.run_cycle()
    assert report.applied == {"sales_order:created": 1}
    (rejected,) = report.rejected
    assert "NO-SUCH-FC" in rejected
    errors = next((tmp_path / "import" / "rejected").glob("*.errors.txt")).read_text()
    assert "data row 2" in errors and "NO-SUCH-FC" in errors


def test_a_half_written_export_is_never_read(erp, tmp_path):
    erp.run_cycle()
    export = tmp_path / "export"
    gateway = FlatFileGateway(tmp_path / "import", export)
    complete = gateway.get_ats()

    # The ERP is writing the next ATS export: data file there (half of it), manifest not yet.
    layout = Layouts.load().exports["ats"]
    later = datetime.now(UTC) + timedelta(seconds=5)
    half = newest(export, "ATS").read_bytes()[:1000]
    (export / layout.file_name(later, "999999")).write_bytes(half)
    (export / (".ATS_in_progress.csv.part")).write_bytes(b"garbage")
    assert gateway.get_ats() == complete

    # With only unfinished files, there is nothing to read: that is stale, not an empty stock list.
    for path in export.glob("ATS_*"):
        if path.name.endswith(".manifest.json"):
            path.unlink()
    with pytest.raises(StaleExportError, match="no complete BlueCherry ats export"):
        FlatFileGateway(tmp_path / "import", export).get_ats()


def test_a_stale_export_raises_instead_of_being_used(erp, tmp_path):
    erp.run_cycle()
    now = datetime.now(UTC)
    fresh = FlatFileGateway(
        tmp_path / "import", tmp_path / "export", clock=lambda: now + timedelta(minutes=239)
    )
    assert fresh.get_ats().rows
    later = FlatFileGateway(
        tmp_path / "import", tmp_path / "export", clock=lambda: now + timedelta(minutes=241)
    )
    with pytest.raises(StaleExportError, match="is stale") as caught:
        later.get_ats()
    assert isinstance(caught.value, TransientGatewayError)  # Airflow retries; the next cycle may fix it
    # Master data may be older (its layout allows two days); max_age overrides every layout.
    assert later.list_items()
    strict = FlatFileGateway(
        tmp_path / "import",
        tmp_path / "export",
        max_age=timedelta(seconds=1),
        clock=lambda: now + timedelta(seconds=30),
    )
    with pytest.raises(StaleExportError):
        strict.list_items()


def test_exports_skipped_by_the_erp_go_stale(erp, tmp_path):
    erp.run_cycle()
    erp.faults = FileFaults(skip_exports_rate=1.0)
    erp.backend.clock.advance(timedelta(hours=5))
    erp.run_cycle()
    gateway = FlatFileGateway(tmp_path / "import", tmp_path / "export", clock=erp.backend.clock.now)
    with pytest.raises(StaleExportError):
        gateway.get_ats()


def test_a_partial_export_raises(erp, tmp_path):
    erp.run_cycle()
    export = tmp_path / "export"
    data_file = newest(export, "ATS")
    data = data_file.read_bytes()

    data_file.write_bytes(data[: len(data) // 2])
    with pytest.raises(PartialExportError, match="partial or altered"):
        FlatFileGateway(tmp_path / "import", export).get_ats()

    # Rows missing while the manifest's checksum was made for the short file: the row count catches it.
    short = data.splitlines(keepends=True)[0]
    data_file.write_bytes(short)
    manifest_path = export / manifest_name(data_file.name)
    manifest = Manifest.model_validate_json(manifest_path.read_bytes())
    patched = Manifest.describe(
        manifest.layout, manifest.data_file, short, manifest.rows, manifest.snapshot_at, manifest.sequence
    )
    manifest_path.write_bytes(patched.to_bytes())
    with pytest.raises(PartialExportError, match="has 0 rows, its manifest says"):
        FlatFileGateway(tmp_path / "import", export).get_ats()


def test_a_truncated_export_from_the_erp_raises(erp, tmp_path):
    erp.faults = FileFaults(truncate_export_rate=1.0)
    erp.run_cycle()
    with pytest.raises(PartialExportError):
        FlatFileGateway(tmp_path / "import", tmp_path / "export").get_ats()


def test_old_exports_are_pruned_and_the_newest_is_read(erp, tmp_path, draft_for):
    gateway = FlatFileGateway(tmp_path / "import", tmp_path / "export")
    items = erp.backend.list_items()[:1]
    pos = []
    for _ in range(5):
        draft = draft_for(items, [6])
        gateway.upsert_sales_order(draft, idempotency_key=draft.customer_po)
        erp.run_cycle()
        pos.append(draft.customer_po)
        assert {o.customer_po for o in gateway.list_sales_orders(customer_pos=pos)} == set(pos)
    status_files = sorted((tmp_path / "export").glob("ORDER_STATUS_*.csv"))
    assert len(status_files) == 3 and all(
        (tmp_path / "export" / manifest_name(p.name)).exists() for p in status_files
    )


def test_layouts_are_data_renamed_headers_still_round_trip(erp, tmp_path, draft_for):
    document = yaml.safe_load(default_layouts_path().read_text())
    for spec in [*document["imports"].values(), *document["exports"].values()]:
        spec["delimiter"] = "|"
        for column in spec["columns"]:
            column["header"] = "X " + column["header"].upper()
    custom = tmp_path / "site_layouts.yaml"
    custom.write_text(yaml.safe_dump(document))
    layouts = Layouts.load(custom)
    face = FileFace(erp.backend, tmp_path / "imp2", tmp_path / "exp2", layouts)
    gateway = FlatFileGateway(tmp_path / "imp2", tmp_path / "exp2", custom)
    items = erp.backend.list_items()[:2]
    draft = draft_for(items, [6, 6])
    gateway.upsert_sales_order(draft, idempotency_key="custom")
    face.run_cycle()
    order = gateway.get_sales_order(draft.customer_po)
    assert [line.sku for line in order.lines] == [item.sku for item in items]
    assert newest(tmp_path / "exp2", "ATS").read_text().splitlines()[0].startswith("X SKU|X STYLE")


def test_layout_errors_name_the_file_line_and_column(tmp_path):
    layout = Layouts.load().exports["ats"]
    good = layout.encode([])
    bad = good + "\t".join(["S-1", "S", "C", "M", "", "NJ01", "ten", "0", "0", "0", ""]).encode() + b"\r\n"
    with pytest.raises(LayoutError, match=r"ats\.csv line 2, column 'On Hand'"):
        layout.decode(bad, source="ats.csv")
    with pytest.raises(LayoutError, match="header lacks columns"):
        layout.decode(b"SKU\tStyle\r\n", source="ats.csv")
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        yaml.safe_dump(
            {
                "format_version": 1,
                "exports": {
                    "ats": {"file_prefix": "ATS", "columns": [{"header": "A", "field": "a", "type": "money"}]}
                },
            }
        )
    )
    with pytest.raises(LayoutError, match="unknown type 'money'"):
        Layouts.load(broken)


def test_the_usual_ats_export_and_a_padded_quoted_one_decode_to_the_same_columns():
    """decode_frame reads a plain export with the C parser's own integers, and one with quotes or
    padded cells the careful way: same columns, same lines (blank lines skipped), same refusals."""
    import pandas as pd

    layout = Layouts.load().exports["ats"]
    rows = [["S1-BLK-M", "S1", "BLK", "M", "028877450001", "NJ01", "5", "1", "0", "4", "", ""],
            ["S2-RED-L", "S2", "RED", "L", "", "CA01", "0", "2", "1", "-3", "7", "11/30/2026"]]
    header = "\t".join(column.header for column in layout.columns)
    plain = "\r\n".join([header, "\t".join(rows[0]), "", "\t".join(rows[1]), ""]).encode()
    padded = "\r\n".join([header, "\t".join(f" {cell} " for cell in rows[0]), "\t" * 11,
                           "\t".join(f'"{cell}"' for cell in rows[1]), ""]).encode()
    fast, careful = layout.decode_frame(plain, source="ats.csv"), layout.decode_frame(padded, source="ats.csv")
    pd.testing.assert_frame_equal(fast, careful)
    assert fast["line"].tolist() == [2, 4] and str(fast["on_hand"].dtype) == "Int64"
    assert pd.isna(fast["incoming"].iloc[0]) and fast["upc"].tolist() == ["028877450001", ""]
    for data in (plain.replace(b"\t1\t0\t4", b"\t1.5\t0\t4"), padded.replace(b" 1 ", b" 1.5 ")):
        with pytest.raises(LayoutError, match=r"ats\.csv line 2, column 'Allocated': cannot read '1\.5' as int"):
            layout.decode_frame(data, source="ats.csv")


def test_money_never_goes_through_float(tmp_path):
    layout = Layouts.load().imports["journal_entries"]
    with pytest.raises(LayoutError, match="Decimal, not float"):
        layout.encode([{"line.debit": 1.1}])
    # The manifest is JSON with the figures a reader checks.
    manifest = json.loads(Manifest.describe("ats", "f.csv", b"abc", 0, datetime.now(UTC), 1).to_bytes())
    assert manifest["sha256"] == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


# --- the ATS export as columns (stock_to_846) -----------------------------------------------


def test_the_ats_table_refuses_stale_and_partial_exports_like_the_models(erp, tmp_path):
    erp.run_cycle()
    now = datetime.now(UTC)
    later = FlatFileGateway(tmp_path / "import", tmp_path / "export", clock=lambda: now + timedelta(minutes=241))
    with pytest.raises(StaleExportError, match="is stale"):
        later.get_ats_table()
    data_file = newest(tmp_path / "export", "ATS")
    data_file.write_bytes(data_file.read_bytes()[:-200])
    with pytest.raises(PartialExportError, match="partial or altered"):
        FlatFileGateway(tmp_path / "import", tmp_path / "export").get_ats_table()


def test_an_ats_export_behind_the_newest_cycle_shows_in_last_cycle_at(erp, tmp_path):
    erp.run_cycle()
    gateway = FlatFileGateway(tmp_path / "import", tmp_path / "export", clock=erp.backend.clock.now)
    current = gateway.get_ats_table()
    assert current.last_cycle_at is not None and current.last_cycle_at <= current.snapshot_at

    # The next cycle applies its imports and writes every export but the ATS (a failed job).
    erp.faults = FileFaults(skip_layouts=("ats",))
    erp.backend.clock.advance(timedelta(minutes=20))
    erp.run_cycle()
    behind = gateway.get_ats_table()
    assert behind.snapshot_at == current.snapshot_at and behind.fingerprint == current.fingerprint
    assert behind.last_cycle_at > behind.snapshot_at


def _rewrite_ats(export: Path, edit) -> None:
    """Change the newest ATS export's text and write a manifest that matches it (the ERP's own mistake)."""
    data_file = newest(export, "ATS")
    text = edit(data_file.read_bytes().decode())
    data = text.encode()
    data_file.write_bytes(data)
    manifest_path = export / manifest_name(data_file.name)
    manifest = Manifest.model_validate_json(manifest_path.read_bytes())
    rows = len([line for line in text.splitlines()[1:] if line.strip()])
    manifest_path.write_bytes(Manifest.describe(manifest.layout, manifest.data_file, data, rows,
                                                manifest.snapshot_at, manifest.sequence).to_bytes())


def test_an_unreadable_number_in_the_ats_export_names_its_line_and_column(erp, tmp_path):
    erp.run_cycle()
    export = tmp_path / "export"

    def thousands(text: str) -> str:
        lines = text.split("\r\n")
        cells = lines[3].split("\t")
        cells[6] = "1,234"  # On Hand
        lines[3] = "\t".join(cells)
        return "\r\n".join(lines)

    _rewrite_ats(export, thousands)
    with pytest.raises(GatewayError, match=r"line 4, column 'On Hand': cannot read '1,234' as int"):
        FlatFileGateway(tmp_path / "import", export).get_ats_table()


def test_an_ats_row_that_does_not_add_up_is_refused(erp, tmp_path):
    erp.run_cycle()
    export = tmp_path / "export"

    def off_by_one(text: str) -> str:
        lines = text.split("\r\n")
        header = lines[0].split("\t")
        cells = lines[2].split("\t")
        column = header.index("ATS")
        cells[column] = str(int(cells[column]) + 1)
        lines[2] = "\t".join(cells)
        return "\r\n".join(lines)

    _rewrite_ats(export, off_by_one)
    with pytest.raises(GatewayError, match=r"line 3: available .* != on_hand .* - on_hold"):
        FlatFileGateway(tmp_path / "import", export).get_ats_table()
