"""The files people give stock_to_846: the buffer policy (YAML) and an ATS sheet (CSV, often from Excel).

Both readers refuse bad input with one message naming the file, the line and the column,
because a half-read policy or stock sheet would publish wrong quantities to Amazon.

The ATS sheet (``amazon-bluecherry inventory plan --ats``) has the columns
``style,color,size,upc,warehouse,on_hand,allocated,on_hold,incoming,snapshot_at``. What
Excel does to a CSV is handled: Windows-1252 or UTF-8 with a byte-order mark, CRLF line
ends, ``;`` or tab as the separator, thousands separators (``1,234``), whole numbers
written ``12.0``, a blank ``incoming`` (none), UPCs that lost their leading zero. What
cannot be trusted is refused: a UPC Excel turned into ``8.4E+11``, a wrong check digit,
a blank count, a negative one, a fraction.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from amazon_bluecherry.edi.gs1 import gs1_check_digit
from amazon_bluecherry.flows.mappings import MappingError
from amazon_bluecherry.flows.stock_to_846 import BufferPolicy, BufferRule

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["ATS_SHEET_COLUMNS", "AtsSheet", "InputFileError", "load_buffer_policy", "read_ats_sheet"]

ATS_SHEET_COLUMNS = ("style", "color", "size", "upc", "warehouse", "on_hand", "allocated", "on_hold", "incoming",
                     "snapshot_at")
_COUNTS = ("on_hand", "allocated", "on_hold", "incoming")


class InputFileError(MappingError):
    """A file cannot be used: ``file line N, column C: what``."""

    def __init__(self, file: str, line: int, column: str | int | None, message: str):
        where = f"{file} line {line}" + (f", column {column}" if column not in (None, "") else "")
        super().__init__(f"{where}: {message}")
        self.file, self.line, self.column = file, line, column


# --- the buffer policy ----------------------------------------------------------------------


def load_buffer_policy(path: str | Path) -> BufferPolicy:
    """``inventory_buffer.yaml``: ``default: {percent: 10}``, ``styles: {STYLE: {units: 5}}``,
    ``skus: {UPC: {units: 0}}``. Keys are read as written (a UPC keeps its leading zero)."""
    path = Path(path)
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputFileError(str(path), 0, None, "file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputFileError(str(path), 0, None, f"cannot be read ({exc})") from exc
    try:
        root = yaml.compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise InputFileError(name, mark.line + 1 if mark else 0, mark.column + 1 if mark else None,
                             f"not valid YAML ({getattr(exc, 'problem', exc)})") from exc
    if not isinstance(root, yaml.MappingNode):
        raise InputFileError(name, root.start_mark.line + 1 if root else 1, None,
                             "expected a mapping with default, styles and skus")
    sections = _mapping(name, root, "the file")
    unknown = [key for key in sections if key not in ("default", "styles", "skus")]
    if unknown:
        key_node = sections[unknown[0]][0]
        raise InputFileError(name, key_node.start_mark.line + 1, key_node.start_mark.column + 1,
                             f"unknown section {unknown[0]!r}; expected default, styles and skus")
    if "default" not in sections:
        raise InputFileError(name, 1, None, "no default rule (e.g. default: {percent: 10})")
    default = _rule(name, sections["default"][1], "default")
    styles = {key: _rule(name, node, f"styles.{key}")
              for key, (_, node) in _mapping(name, sections["styles"][1], "styles").items()} \
        if "styles" in sections else {}
    skus = {}
    if "skus" in sections:
        for key, (key_node, node) in _mapping(name, sections["skus"][1], "skus").items():
            upc = _gtin(key)
            if upc is None:
                raise InputFileError(name, key_node.start_mark.line + 1, key_node.start_mark.column + 1,
                                     f"skus key {key!r} is not a UPC/EAN with a valid check digit")
            skus[upc] = _rule(name, node, f"skus.{key}")
    return BufferPolicy(default=default, styles=styles, skus=skus, source=str(path))


def _mapping(name: str, node, what: str) -> dict[str, tuple]:
    if isinstance(node, yaml.ScalarNode) and node.value in ("", "~", "null"):
        return {}  # "styles:" with nothing under it
    if not isinstance(node, yaml.MappingNode):
        raise InputFileError(name, node.start_mark.line + 1, node.start_mark.column + 1, f"{what} must be a mapping")
    found: dict[str, tuple] = {}
    for key_node, value_node in node.value:
        if not isinstance(key_node, yaml.ScalarNode):
            raise InputFileError(name, key_node.start_mark.line + 1, key_node.start_mark.column + 1,
                                 f"{what}: keys must be plain text")
        key = key_node.value.strip()
        if key in found:
            raise InputFileError(name, key_node.start_mark.line + 1, key_node.start_mark.column + 1,
                                 f"{what}: {key!r} appears twice (first on line {found[key][0].start_mark.line + 1})")
        found[key] = (key_node, value_node)
    return found


def _rule(name: str, node, what: str) -> BufferRule:
    fields = _mapping(name, node, what)
    line, column = node.start_mark.line + 1, node.start_mark.column + 1
    if set(fields) not in ({"units"}, {"percent"}):
        raise InputFileError(name, line, column, f"{what} needs exactly one of units or percent "
                             f"(got {', '.join(sorted(fields)) or 'nothing'})")
    kind, (_, value_node) = next(iter(fields.items()))
    raw = str(value_node.value).strip()
    at = (value_node.start_mark.line + 1, value_node.start_mark.column + 1)
    try:
        number = Decimal(raw)
    except InvalidOperation:
        raise InputFileError(name, *at, f"{what}.{kind}: {raw!r} is not a number") from None
    if kind == "units":
        if number != number.to_integral_value() or number < 0:
            raise InputFileError(name, *at, f"{what}.units must be a whole number of units, 0 or more (got {raw})")
        return BufferRule(units=int(number))
    if not Decimal(0) <= number <= Decimal(100):
        raise InputFileError(name, *at, f"{what}.percent must be between 0 and 100 (got {raw})")
    return BufferRule(percent=number)


def _gtin(text: str) -> str | None:
    """A UPC/EAN/GTIN with a valid check digit, an 11-digit UPC given its leading zero back; else None."""
    value = text.strip()
    if not value.isascii() or not value.isdigit():
        return None
    if len(value) == 11:
        value = "0" + value
    if len(value) not in (8, 12, 13, 14) or gs1_check_digit(value[:-1]) != int(value[-1]):
        return None
    return value


# --- an ATS sheet ---------------------------------------------------------------------------


@dataclass(frozen=True)
class AtsSheet:
    """An ATS sheet read and checked: ``frame`` has the AtsTable columns (``sku`` = style-color-size)."""

    frame: pd.DataFrame
    snapshot_at: datetime  # the oldest row's: a sheet is as old as its oldest figure
    source: str


_THOUSANDS = re.compile(r"-?\d{1,3}(,\d{3})+")
_WHOLE = re.compile(r"-?\d+(\.0+)?")
_SCIENTIFIC = re.compile(r"[+-]?\d+(\.\d+)?[eE][+-]?\d+")
_US_DATETIME = ("%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M", "%m/%d/%Y")


def read_ats_sheet(path: str | Path) -> AtsSheet:
    """Read and check an ATS sheet; :class:`InputFileError` names file, line and column."""
    import pandas as pd

    path = Path(path)
    name = str(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputFileError(name, 0, None, "file not found") from None
    except OSError as exc:
        raise InputFileError(name, 0, None, f"cannot be read ({exc})") from exc
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")  # Excel's "CSV" on Windows
    first_line = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        raise InputFileError(name, 1, None, f"empty file; expected the columns {','.join(ATS_SHEET_COLUMNS)}") \
            from None
    header = [cell.strip().lstrip("\ufeff").strip().lower().replace(" ", "_") for cell in header]
    for column in ATS_SHEET_COLUMNS:
        if column not in header:
            raise InputFileError(name, 1, column, f"missing column; the header must name "
                                 f"{','.join(ATS_SHEET_COLUMNS)}")
    position = {column: header.index(column) for column in ATS_SHEET_COLUMNS}

    records: dict[str, list] = {column: [] for column in (*ATS_SHEET_COLUMNS, "sku")}
    seen: dict[tuple[str, str], int] = {}
    for cells in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in cells):
            continue
        cell = {column: (cells[index].strip() if index < len(cells) else "") for column, index in position.items()}
        for column in ("style", "color", "size", "warehouse"):
            if not cell[column]:
                raise InputFileError(name, line, column, "blank")
        upc = _sheet_upc(name, line, cell["upc"])
        key = (upc, cell["warehouse"])
        if key in seen:
            raise InputFileError(name, line, "upc", f"{upc} in {cell['warehouse']} appears twice "
                                 f"(first on line {seen[key]})")
        seen[key] = line
        for column in ("style", "color", "size", "warehouse"):
            records[column].append(cell[column])
        records["upc"].append(upc)
        records["sku"].append(f"{cell['style']}-{cell['color']}-{cell['size']}")
        for column in _COUNTS:
            records[column].append(_count(name, line, column, cell[column]))
        records["snapshot_at"].append(_when(name, line, cell["snapshot_at"]))
    if not records["upc"]:
        raise InputFileError(name, 2, None, "no stock rows; an empty sheet is not a stock level of zero")
    frame = pd.DataFrame({
        **{column: records[column] for column in ("sku", "style", "color", "size", "upc", "warehouse")},
        **{column: pd.array(records[column], dtype="int64") for column in _COUNTS},
    })
    return AtsSheet(frame=frame, snapshot_at=min(records["snapshot_at"]), source=name)


def _sheet_upc(name: str, line: int, cell: str) -> str:
    if not cell:
        raise InputFileError(name, line, "upc", "blank")
    if _SCIENTIFIC.fullmatch(cell):
        raise InputFileError(name, line, "upc", f"{cell!r} is in scientific notation: Excel turned the UPC "
                             "into a number and lost digits; format the column as text and export again")
    upc = _gtin(cell)
    if upc is None:
        raise InputFileError(name, line, "upc", f"{cell!r} is not a UPC/EAN with a valid check digit")
    return upc


def _count(name: str, line: int, column: str, cell: str) -> int:
    if cell == "":
        if column == "incoming":
            return 0  # nothing incoming
        raise InputFileError(name, line, column, "blank; give a number (0 if none)")
    text = cell.replace(" ", "").replace("\u00a0", "")
    if _THOUSANDS.fullmatch(text):
        text = text.replace(",", "")
    if not _WHOLE.fullmatch(text):
        raise InputFileError(name, line, column, f"cannot read {cell!r} as a whole number of units")
    value = int(Decimal(text))
    if value < 0:
        what = "on-hand" if column == "on_hand" else column.replace("_", " ")
        raise InputFileError(name, line, column, f"negative {what} ({value})")
    return value


def _when(name: str, line: int, cell: str) -> datetime:
    if not cell:
        raise InputFileError(name, line, "snapshot_at", "blank; give the time BlueCherry took the snapshot")
    try:
        value = datetime.fromisoformat(cell)
    except ValueError:
        value = None
        for pattern in _US_DATETIME:  # Excel re-formats ISO times as 11/30/2026 10:00
            try:
                value = datetime.strptime(cell, pattern)
                break
            except ValueError:
                continue
        if value is None:
            raise InputFileError(name, line, "snapshot_at", f"cannot read {cell!r} as a time "
                                 "(ISO 8601, e.g. 2026-11-30T10:00:00Z, or MM/DD/YYYY HH:MM in UTC)") from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
