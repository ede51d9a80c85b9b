"""Flat-file layouts (``include/mappings/bluecherry_layouts.yaml``) and export manifests.

Emulator-defined; map to your BlueCherry installation. A layout names the file prefix,
delimiter and columns (header text in the file -> field name in the code) of one import
or export. The flat-file gateway and the emulator's file face both read and write files
through this module, so the YAML is the one place the file format is defined.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import AwareDatetime, BaseModel, Field

__all__ = [
    "Column",
    "Layout",
    "LayoutError",
    "Layouts",
    "Manifest",
    "MANIFEST_SUFFIX",
    "default_layouts_path",
    "manifest_name",
]

MANIFEST_SUFFIX = ".manifest.json"
FIELD_TYPES = ("str", "int", "decimal", "date", "datetime", "bool", "dict")


class LayoutError(ValueError):
    """A layout file or a data file does not fit its layout; the message names file, row and column."""


def default_layouts_path() -> Path:
    from amazon_bluecherry.settings import get_settings

    return get_settings().mappings_dir / "bluecherry_layouts.yaml"


@dataclass(frozen=True)
class Column:
    header: str
    field: str
    type: str = "str"


@dataclass(frozen=True)
class Layout:
    """One file layout: how rows (dicts keyed by field name) become bytes and back."""

    name: str
    direction: Literal["import", "export"]
    file_prefix: str
    extension: str
    delimiter: str
    columns: tuple[Column, ...]
    date_format: str
    datetime_format: str
    encoding: str = "utf-8"
    max_age_minutes: int | None = None
    description: str = ""
    fields: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "fields", frozenset(column.field for column in self.columns))

    # --- names ---------------------------------------------------------------------------

    def file_name(self, stamp: datetime, tag: str) -> str:
        """``<PREFIX>_<YYYYMMDDTHHMMSSffffff>Z_<tag><ext>``: sortable by time, unique by tag."""
        return f"{self.file_prefix}_{stamp.astimezone(UTC):%Y%m%dT%H%M%S%f}Z_{tag}{self.extension}"

    def owns(self, name: str) -> bool:
        """True for a completed data file of this layout (temporary and manifest names excluded)."""
        return (
            name.startswith(self.file_prefix + "_")
            and name.endswith(self.extension)
            and not name.startswith(".")
        )

    # --- encoding ------------------------------------------------------------------------

    def encode(self, rows: Iterable[Mapping[str, Any]]) -> bytes:
        """Header row plus one line per row; fields not in the layout are left out."""
        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter=self.delimiter, lineterminator="\r\n")
        writer.writerow([column.header for column in self.columns])
        for number, row in enumerate(rows, start=1):
            cells = []
            for column in self.columns:
                try:
                    cells.append(self._format(column, row.get(column.field)))
                except (TypeError, ValueError) as exc:
                    raise LayoutError(f"{self.name} row {number}, column {column.header!r}: {exc}") from exc
            writer.writerow(cells)
        return buffer.getvalue().encode(self.encoding)

    def decode(self, data: bytes, *, source: str) -> list[dict[str, Any]]:
        """Rows of a data file as dicts keyed by field name; empty cells become None."""
        try:
            text = data.decode(self.encoding)
        except UnicodeDecodeError as exc:
            raise LayoutError(f"{source}: not {self.encoding} text ({exc})") from exc
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=self.delimiter)
        try:
            header = next(reader)
        except StopIteration:
            raise LayoutError(f"{source}: empty file, expected a header row") from None
        header = [cell.lstrip("\ufeff").strip() for cell in header]
        by_header = {column.header: column for column in self.columns}
        missing = [column.header for column in self.columns if column.header not in header]
        if missing:
            raise LayoutError(f"{source}: header lacks columns {missing} of layout {self.name}")
        positions = [(index, by_header[name]) for index, name in enumerate(header) if name in by_header]
        rows: list[dict[str, Any]] = []
        for line_number, cells in enumerate(reader, start=2):
            if not cells or all(not cell.strip() for cell in cells):
                continue
            row: dict[str, Any] = {}
            for index, column in positions:
                cell = cells[index] if index < len(cells) else ""
                try:
                    row[column.field] = self._parse(column, cell)
                except (ValueError, InvalidOperation) as exc:
                    raise LayoutError(
                        f"{source} line {line_number}, column {column.header!r}: cannot read {cell!r} as "
                        f"{column.type} ({exc})"
                    ) from exc
            rows.append(row)
        return rows

    def decode_frame(self, data: bytes, *, source: str):
        """Rows as a pandas DataFrame keyed by field name: the fast path for big exports.

        ``int`` columns become nullable integers (a blank cell is ``<NA>``); other columns
        stay text (``""`` when blank). A ``line`` column gives each row's line in the file.
        Wholly blank lines are skipped, as :meth:`decode` does. Errors name file, line and
        column like :meth:`decode`.
        """
        import pandas as pd

        try:
            text = data.decode(self.encoding)
        except UnicodeDecodeError as exc:
            raise LayoutError(f"{source}: not {self.encoding} text ({exc})") from exc
        frame = self._plain_frame(text)
        if frame is not None:
            return frame
        try:
            raw = pd.read_csv(io.StringIO(text.lstrip("\ufeff")), sep=self.delimiter, dtype=str,
                              keep_default_na=False, skip_blank_lines=False, quoting=csv.QUOTE_MINIMAL)
        except pd.errors.EmptyDataError:
            raise LayoutError(f"{source}: empty file, expected a header row") from None
        except pd.errors.ParserError as exc:
            raise LayoutError(f"{source}: {exc}") from exc
        raw.columns = [str(name).strip() for name in raw.columns]
        missing = [column.header for column in self.columns if column.header not in raw.columns]
        if missing:
            raise LayoutError(f"{source}: header lacks columns {missing} of layout {self.name}")
        raw = raw[[column.header for column in self.columns]].apply(lambda cells: cells.str.strip())
        lines = pd.Series(range(2, len(raw) + 2), index=raw.index)
        keep = (raw != "").any(axis=1)
        raw, lines = raw[keep].reset_index(drop=True), lines[keep].reset_index(drop=True)
        frame = pd.DataFrame({"line": lines})
        for column in self.columns:
            cells = raw[column.header]
            if column.type != "int":
                frame[column.field] = cells
                continue
            numbers = pd.to_numeric(cells.where(cells != ""), errors="coerce")
            bad = numbers.isna() & (cells != "") | (numbers.notna() & (numbers % 1 != 0))
            if bad.any():
                at = bad.to_numpy().nonzero()[0][0]
                raise LayoutError(f"{source} line {lines.iloc[at]}, column {column.header!r}: cannot read "
                                  f"{cells.iloc[at]!r} as int")
            frame[column.field] = numbers.astype("Int64")
        return frame

    def _plain_frame(self, text: str):
        """:meth:`decode_frame`'s result straight from the C parser, for the usual export.

        Only for text with no quotes and no cell to strip, where the parser's own integer
        columns read what the careful path reads; anything else (a quote, padding, a cell
        that is not a whole number, a missing header) returns None for the careful path,
        which names the problem.
        """
        import pandas as pd

        text = text.lstrip("\ufeff")
        if _cells_need_strip(text, self.delimiter):
            return None
        ints = [column.header for column in self.columns if column.type == "int"]
        try:
            raw = pd.read_csv(io.StringIO(text), sep=self.delimiter,
                              dtype={c.header: "Int64" if c.type == "int" else str for c in self.columns},
                              keep_default_na=False, na_values=dict.fromkeys(ints, [""]), skip_blank_lines=False,
                              quoting=csv.QUOTE_NONE)
            raw = raw[[column.header for column in self.columns]]
        except (KeyError, ValueError, TypeError, OverflowError, pd.errors.ParserError):
            return None
        lines = pd.Series(range(2, len(raw) + 2), index=raw.index)
        blank = _blank_rows(raw)
        if blank is not None:
            raw, lines = raw[~blank].reset_index(drop=True), lines[~blank].reset_index(drop=True)
        frame = pd.DataFrame({"line": lines})
        for column in self.columns:
            frame[column.field] = raw[column.header]
        return frame

    def _format(self, column: Column, value: Any) -> str:
        if value is None:
            return ""
        kind = column.type
        if kind == "str":
            return value if isinstance(value, str) else str(value)
        if kind == "date":
            return _format_date(value, self.date_format)
        if kind == "datetime":
            if value.tzinfo is None:
                raise ValueError(f"naive datetime {value!r}")
            return _format_date(value.astimezone(UTC), self.datetime_format)
        if kind == "bool":
            return "Y" if value else "N"
        if kind == "decimal":
            if isinstance(value, float):
                raise TypeError(f"money must be Decimal, not float ({value!r})")
            return str(Decimal(value))
        if kind == "int":
            return str(int(value))
        if kind == "dict":
            parts = []
            for key, item in sorted(value.items()):
                if any(ch in f"{key}{item}" for ch in ";="):
                    raise ValueError(f"dimension {key}={item} contains ';' or '='")
                parts.append(f"{key}={item}")
            return ";".join(parts)
        return str(value)

    def _parse(self, column: Column, cell: str) -> Any:
        cell = cell.strip()
        if cell == "":
            return None
        kind = column.type
        if kind == "str":
            return cell
        if kind == "date":
            return _parse_datetime(cell, self.date_format).date()
        if kind == "datetime":
            return _parse_datetime(cell, self.datetime_format).replace(tzinfo=UTC)
        if kind == "bool":
            if cell.upper() not in ("Y", "N"):
                raise ValueError("expected Y or N")
            return cell.upper() == "Y"
        if kind == "decimal":
            return Decimal(cell)
        if kind == "int":
            return int(cell)
        if kind == "dict":
            pairs = [part.split("=", 1) for part in cell.split(";") if part]
            if any(len(pair) != 2 for pair in pairs):
                raise ValueError("expected key=value;key=value")
            return {key: item for key, item in pairs}
        return cell


_ODD_SPACE = re.compile(r"[^\S \t\r\n]")  # whitespace str.strip removes, other than these four


def _cells_need_strip(text: str, delimiter: str) -> bool:
    """True unless no cell of ``text`` can start or end with whitespace (or hide it in quotes)."""
    if '"' in text:
        return True
    if text.isascii():
        if any(space in text for space in "\x0b\x0c\x1c\x1d\x1e\x1f"):
            return True
    elif _ODD_SPACE.search(text):
        return True
    spaces = tuple(space for space in (" ", "\t") if space != delimiter and space in text)
    edges = (delimiter, "\r", "\n")
    return (text.startswith(spaces) or text.endswith(spaces)
            or any(space + edge in text or edge + space in text for space in spaces for edge in edges))


def _blank_rows(raw):
    """Rows of wholly blank lines (every cell empty), or None when there are none; cheap when none."""
    first = raw.iloc[:, 0]
    maybe = first.isna() if first.dtype == "Int64" else first == ""
    if not maybe.any():
        return None
    blank = maybe.copy()
    for name in raw.columns[1:]:
        cells = raw.loc[blank, name]
        blank.loc[blank] = cells.isna() if cells.dtype == "Int64" else cells == ""
    return blank if blank.any() else None


# Exports repeat the same few dates on thousands of rows; strptime/strftime are the slow part.
@lru_cache(maxsize=4096)
def _parse_datetime(cell: str, fmt: str) -> datetime:
    return datetime.strptime(cell, fmt)


@lru_cache(maxsize=4096)
def _format_date(value, fmt: str) -> str:
    return value.strftime(fmt)


@dataclass(frozen=True)
class Layouts:
    imports: dict[str, Layout]
    exports: dict[str, Layout]
    source: str = ""

    @classmethod
    def load(cls, path: str | Path | None = None) -> Layouts:
        """Read and check a layouts YAML; errors name the file and the layout."""
        path = Path(path) if path is not None else default_layouts_path()
        try:
            document = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise LayoutError(f"cannot read layouts {path}: {exc}") from exc
        if not isinstance(document, dict) or document.get("format_version") != 1:
            raise LayoutError(f"{path}: expected a mapping with format_version: 1")
        common = {
            "date_format": document.get("date_format", "%m/%d/%Y"),
            "datetime_format": document.get("datetime_format", "%m/%d/%Y %H:%M:%S"),
            "encoding": document.get("encoding", "utf-8"),
        }
        sections: dict[str, dict[str, Layout]] = {}
        for direction in ("imports", "exports"):
            sections[direction] = {}
            for name, spec in (document.get(direction) or {}).items():
                sections[direction][name] = _layout(path, direction[:-1], name, spec, common)
        return cls(imports=sections["imports"], exports=sections["exports"], source=str(path))


def _layout(path: Path, direction: str, name: str, spec: Any, common: dict[str, str]) -> Layout:
    where = f"{path}: {direction} layout {name!r}"
    if not isinstance(spec, dict):
        raise LayoutError(f"{where}: expected a mapping")
    try:
        columns = tuple(
            Column(header=str(c["header"]), field=str(c["field"]), type=str(c.get("type", "str")))
            for c in spec["columns"]
        )
        prefix = str(spec["file_prefix"])
    except (KeyError, TypeError) as exc:
        raise LayoutError(f"{where}: needs file_prefix and columns of header/field ({exc})") from exc
    for column in columns:
        if column.type not in FIELD_TYPES:
            raise LayoutError(f"{where}: column {column.header!r} has unknown type {column.type!r}")
    for attribute in ("header", "field"):
        values = [getattr(column, attribute) for column in columns]
        if len(values) != len(set(values)):
            raise LayoutError(f"{where}: a column {attribute} repeats")
    delimiter = str(spec.get("delimiter", ","))
    if len(delimiter) != 1:
        raise LayoutError(f"{where}: delimiter must be one character, got {delimiter!r}")
    max_age = spec.get("max_age_minutes")
    return Layout(
        name=name,
        direction=direction,  # type: ignore[arg-type]
        file_prefix=prefix,
        extension=str(spec.get("extension", ".csv")),
        delimiter=delimiter,
        columns=columns,
        max_age_minutes=int(max_age) if max_age is not None else None,
        description=str(spec.get("description", "")),
        **common,
    )


class Manifest(BaseModel):
    """Written after an export's data file: the export is complete only when this exists."""

    format: Literal["bluecherry-export-manifest/1"] = "bluecherry-export-manifest/1"
    layout: str
    data_file: str
    rows: int = Field(ge=0)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    snapshot_at: AwareDatetime
    sequence: int = Field(ge=0, description="the ERP's export cycle number; the highest is the newest")

    @classmethod
    def describe(
        cls, layout: str, data_file: str, data: bytes, rows: int, snapshot_at: datetime, sequence: int
    ):
        return cls(
            layout=layout,
            data_file=data_file,
            rows=rows,
            sha256=hashlib.sha256(data).hexdigest(),
            snapshot_at=snapshot_at,
            sequence=sequence,
        )

    def to_bytes(self) -> bytes:
        return json.dumps(self.model_dump(mode="json"), indent=2).encode()


def manifest_name(data_file: str) -> str:
    return data_file + MANIFEST_SUFFIX
