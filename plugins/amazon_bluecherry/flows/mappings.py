"""Mapping files operations teams edit (``include/mappings/``), loaded and checked.

Loaded at task start, never at DAG-parse time. A bad row stops the load with one clear
message naming the file, the line and the column, because translating orders against a
half-read item master would be worse than not translating them.

The files are read as Excel saves them: UTF-8 with or without a byte-order mark ("CSV
UTF-8"), UTF-16 with its byte-order mark ("Unicode Text", tab separated), or Windows-1252
("CSV (Comma delimited)" on a Western Windows); commas, tabs or semicolons; CRLF or LF.
Anything else is refused naming the line and column of the first byte that cannot be
read. Product ids are checked for the damage Excel does to them: ``8.4E+11`` (a number
shown in scientific notation, its digits lost), a UPC without its leading zero (a
number, not text), a wrong GS1 check digit.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    field_validator,
)

from amazon_bluecherry.edi.gs1 import gs1_check_digit

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


NUL = b"\x00"


def decode_mapping_file(path: Path, data: bytes) -> tuple[str, str]:
    """``(text, encoding)`` of a mapping file as Excel saves it, or :class:`MappingError`.

    A byte-order mark decides (UTF-8, UTF-16 LE/BE). Without one the file is UTF-8 when it
    decodes as UTF-8, else Windows-1252; a file that mixes the two, or holds a byte
    Windows-1252 does not define, or NUL bytes (UTF-16 without its mark), is refused
    naming the line and column of the first such byte.
    """
    for bom, encoding in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
                          (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            try:
                return data.decode(encoding), encoding
            except UnicodeDecodeError as exc:
                # position in the UTF-16 text: count code units back to lines and columns
                raise MappingError(f"{path.name} {_where(data[: exc.start], encoding)}: not valid {encoding} "
                                   f"after its byte-order mark ({exc.reason})") from exc
    if NUL in data:
        raise MappingError(f"{path.name} {_where(data[: data.index(NUL)], 'latin-1')}: a NUL byte; the file "
                           "looks like UTF-16 without its byte-order mark. Save it from Excel as \"CSV UTF-8\"")
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as exc:
        if any(byte >= 0x80 for byte in data[: exc.start]):  # valid UTF-8 before, something else here
            raise MappingError(
                f"{path.name} {_where(data[: exc.start], 'utf-8')}: byte 0x{data[exc.start]:02X} is not UTF-8, "
                "but earlier characters are: the file mixes two encodings. Save it again from Excel as "
                "\"CSV UTF-8\"") from exc
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError as exc:
        raise MappingError(
            f"{path.name} {_where(data[: exc.start], 'cp1252')}: byte 0x{data[exc.start]:02X} is neither UTF-8 "
            "nor Windows-1252. Save it from Excel as \"CSV UTF-8\"") from exc


def _where(before: bytes, encoding: str) -> str:
    """'line L, column C' of the character that follows ``before`` (1-based, in characters)."""
    text = before.decode(encoding, errors="replace")
    line = text.count("\n") + 1
    column = len(text) - (text.rfind("\n") + 1) + 1
    return f"line {line}, column {column}"


_DECIMAL_COMMA = re.compile(r"-?[0-9]+,[0-9]+")


def _delimiter(header_line: str, columns: tuple[str, ...]) -> str:
    """The separator that splits the header into the expected columns (comma, tab, semicolon)."""
    for candidate in (",", "\t", ";"):
        if tuple(name.strip() for name in header_line.split(candidate)) == columns:
            return candidate
    return ","


def _read_rows(path: Path, columns: tuple[str, ...], model: type[BaseModel]) -> list[tuple[int, Any]]:
    if not path.is_file():
        raise MappingError(f"{path}: file not found")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise MappingError(f"{path}: cannot be read ({exc})") from exc
    text, _ = decode_mapping_file(path, data)
    first_line = text.split("\n", 1)[0].rstrip("\r")
    delimiter = _delimiter(first_line, columns)
    # An Excel that separates with ; (or saves Unicode Text) writes decimals with a comma: 6,50.
    decimal_comma = {name for name, field in model.model_fields.items() if field.annotation is Decimal} \
        if delimiter != "," else set()
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = tuple(name.strip() for name in (reader.fieldnames or ()))
        if header != columns:
            raise MappingError(f"{path.name} line 1: columns must be exactly {','.join(columns)} "
                               f"(got {','.join(header)})")
        rows = []
        for record in reader:
            line = reader.line_num
            if None in record or any(value is None for value in record.values()):
                raise MappingError(f"{path.name} line {line}: expected {len(columns)} columns")
            if not any(value.strip() for value in record.values()):
                continue  # blank line
            values = {key.strip(): value.strip() for key, value in record.items()}
            for name in decimal_comma:
                if _DECIMAL_COMMA.fullmatch(values.get(name, "")):
                    values[name] = values[name].replace(",", ".")
            try:
                rows.append((line, model.model_validate(values)))
            except ValidationError as exc:
                first = exc.errors()[0]
                column = first["loc"][0] if first["loc"] else "?"
                got = record.get(str(column), "")
                raise MappingError(f"{path.name} line {line}, column {column}: {first['msg']} (got {got!r})") from exc
    except csv.Error as exc:
        raise MappingError(f"{path.name} line {reader.line_num}: {exc}") from exc
    return rows


@cache
def _item_rows_adapter() -> TypeAdapter[list[ItemRow]]:
    return TypeAdapter(list[ItemRow])


def _read_item_rows(path: Path) -> list[tuple[int, ItemRow]]:
    """What ``_read_rows(path, ITEM_COLUMNS, ItemRow)`` returns, with every row validated in one call.

    Anything irregular (unreadable file, header, column count, a row pydantic refuses) goes
    back to ``_read_rows``, which stops at the first problem in file order and names it.
    """
    def row_by_row() -> list[tuple[int, ItemRow]]:
        return _read_rows(path, ITEM_COLUMNS, ItemRow)

    try:
        text, _ = decode_mapping_file(path, path.read_bytes())
    except (OSError, MappingError):
        return row_by_row()
    delimiter = _delimiter(text.partition("\n")[0].rstrip("\r"), ITEM_COLUMNS)
    unit_cost = ITEM_COLUMNS.index("unit_cost") if delimiter != "," else None  # 6,50 where ; or tab separates
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    lines, records = [], []
    try:
        if tuple(name.strip() for name in next(reader, ())) != ITEM_COLUMNS:
            return row_by_row()
        for cells in reader:
            if not cells:
                continue  # what DictReader skips
            if len(cells) != len(ITEM_COLUMNS):
                return row_by_row()
            values = [cell.strip() for cell in cells]
            if not any(values):
                continue  # blank line
            if unit_cost is not None and _DECIMAL_COMMA.fullmatch(values[unit_cost]):
                values[unit_cost] = values[unit_cost].replace(",", ".")
            lines.append(reader.line_num)
            records.append(dict(zip(ITEM_COLUMNS, values, strict=True)))
    except csv.Error:
        return row_by_row()
    try:
        items = _item_rows_adapter().validate_python(records)
    except ValidationError:
        return row_by_row()
    return list(zip(lines, items, strict=True))


# --- product ids as Excel leaves them -----------------------------------------------------

# Digits of each GTIN kind (with the GS1 check digit).
GTIN_LENGTHS = {"UP": 12, "EN": 13, "UK": 14}
_GTIN_NAMES = {"UP": "UPC-A", "EN": "EAN-13", "UK": "GTIN-14"}
_ARTICLES = {"UP": "a", "EN": "an", "UK": "a"}
_SCIENTIFIC = re.compile(r"[0-9]+(?:[.,][0-9]+)?[Ee][+-]?[0-9]+")
ASIN = re.compile(r"[A-Z0-9]{10}")


def product_id_problem(qualifier: str, value: str) -> str | None:
    """What is wrong with ``value`` as a product id of ``qualifier``, in words that say what Excel did."""
    if _SCIENTIFIC.fullmatch(value):
        return (f"{value!r} is a number in scientific notation: Excel turned the id into a number and its "
                "digits are lost. Format the column as Text and type the ids again")
    if qualifier in GTIN_LENGTHS:
        length, name = GTIN_LENGTHS[qualifier], _GTIN_NAMES[qualifier]
        a = _ARTICLES[qualifier]
        if re.fullmatch(r"[0-9]+\.0+", value):
            return (f"{value!r} has a decimal part: Excel saved the id as a number. Format the column as Text "
                    "and type the ids again")
        if not value.isascii() or not value.isdigit():
            return f"{value!r} is not {a} {name}: {length} digits expected"
        if len(value) < length and _check_digit_ok(value.zfill(length)):
            return (f"{value!r} has {len(value)} digits, {a} {name} has {length}: Excel dropped its leading "
                    f"zero{'s' if length - len(value) > 1 else ''} (it was probably {value.zfill(length)}). "
                    "Format the column as Text and type the id with its zeros")
        if len(value) != length:
            return f"{value!r} has {len(value)} digits, {a} {name} has {length}"
        if not _check_digit_ok(value):
            return f"{value!r} has a wrong check digit: {a} {name} ending in {gs1_check_digit(value[:-1])} expected"
    if qualifier == "IB" and not _isbn_ok(value):
        return f"{value!r} is not an ISBN (10 characters with its check character, or 13 digits)"
    return None


def asin_problem(value: str) -> str | None:
    if _SCIENTIFIC.fullmatch(value):
        return f"{value!r} is a number in scientific notation: Excel changed the ASIN. Format the column as Text"
    if not ASIN.fullmatch(value):
        return f"{value!r} is not an ASIN: 10 letters or digits expected (e.g. B082R7Q1MN)"
    return None


def _ids_clean(rows: list[tuple[int, ItemRow]]) -> bool:
    """True when :func:`product_id_problem` and :func:`asin_problem` find nothing in any row.

    The GTIN kinds (most of a real item master) are checked a column at a time: exact length
    of ASCII digits, then the GS1 check digits as one array.
    """
    import numpy as np

    by_qualifier: dict[str, list[str]] = {}
    asins = []
    for _, row in rows:
        by_qualifier.setdefault(row.product_id_qualifier, []).append(row.product_id)
        if row.asin:
            asins.append(row.asin)
    for qualifier, values in by_qualifier.items():
        length = GTIN_LENGTHS.get(qualifier)
        if length is None:
            if any(product_id_problem(qualifier, value) for value in values):
                return False
            continue
        joined = "\n".join(values) + "\n"
        if not re.fullmatch(f"(?:[0-9]{{{length}}}\n)*", joined):
            return False
        digits = np.frombuffer(joined.encode("ascii"), dtype=np.uint8).reshape(-1, length + 1)[:, :length]
        digits = digits.astype(np.int64) - ord("0")
        # gs1_check_digit: weights 3, 1, 3 ... from the rightmost digit of the body
        weights = np.array([3 if (length - 2 - i) % 2 == 0 else 1 for i in range(length - 1)])
        if not ((10 - (digits[:, :-1] @ weights) % 10) % 10 == digits[:, -1]).all():
            return False
    return not any(asin_problem(asin) for asin in asins)


def _check_digit_ok(digits: str) -> bool:
    return digits.isdigit() and gs1_check_digit(digits[:-1]) == int(digits[-1])


def _isbn_ok(value: str) -> bool:
    if len(value) == 13 and value.isdigit():
        return value.startswith(("978", "979")) and _check_digit_ok(value)
    if len(value) == 10 and value[:9].isdigit() and (value[9].isdigit() or value[9] == "X"):
        total = sum((10 - i) * int(d) for i, d in enumerate(value[:9])) + (10 if value[9] == "X" else int(value[9]))
        return total % 11 == 0
    return False


def load_items(path: Path) -> ItemMaster:
    """items.csv as an :class:`ItemMaster`, or :class:`MappingError` naming file, line and column.

    Checked as a whole where it can be (100,000 rows in a fraction of a second): every row
    through pydantic in one call, the product ids of each GTIN kind as one array. Only when
    those find something does it go row by row, so the error is the one a row-by-row read
    gives first, with the same message.
    """
    rows = _read_item_rows(path)
    return _index_items(path, rows, check_ids=not _ids_clean(rows))


def _index_items(path: Path, rows: list[tuple[int, ItemRow]], *, check_ids: bool) -> ItemMaster:
    """Index the rows; the first product id, duplicate or disagreement in file order stops it."""
    by_product_id: dict[tuple[str, str], ItemRow] = {}
    by_asin: dict[str, ItemRow] = {}
    first_line: dict[object, int] = {}  # product id key / ASIN / SKU -> the line that brought it
    skus: dict[str, ItemRow] = {}
    for line, row in rows:
        if check_ids:
            where = f"{path.name} line {line}"
            problem = product_id_problem(row.product_id_qualifier, row.product_id)
            if problem:
                raise MappingError(f"{where}, column product_id: {problem}")
            if row.asin and (problem := asin_problem(row.asin)):
                raise MappingError(f"{where}, column asin: {problem}")
        key = (row.product_id_qualifier, row.product_id)
        if key in by_product_id:
            raise MappingError(f"{path.name} lines {first_line[key]} and {line}, column product_id: "
                               f"{row.product_id_qualifier} {row.product_id} appears twice (line {first_line[key]}: "
                               f"{by_product_id[key].sku}, line {line}: {row.sku}); keep one row")
        sku = row.sku
        known = skus.get(sku)
        if known is not None:
            for column in ("case_pack_qty", "unit_cost"):
                before, now = getattr(known, column), getattr(row, column)
                if before != now:
                    raise MappingError(
                        f"{path.name} lines {first_line[row.sku]} and {line}, column {column}: {row.sku} has "
                        f"{column} {before} on line {first_line[row.sku]} and {now} on line {line}; every row of "
                        "a SKU must agree (one of them was edited)")
        if row.asin:
            other = by_asin.get(row.asin)
            if other is not None and other.sku != sku:
                raise MappingError(
                    f"{path.name} lines {first_line[('asin', row.asin)]} and {line}, column asin: ASIN {row.asin} "
                    f"is on two SKUs ({other.sku} on line {first_line[('asin', row.asin)]}, {row.sku} on line "
                    f"{line}); one ASIN is one SKU")
            by_asin.setdefault(row.asin, row)
            first_line.setdefault(("asin", row.asin), line)
        skus.setdefault(sku, row)
        first_line.setdefault(sku, line)
        first_line[key] = line
        by_product_id[key] = row
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
