"""Documents <-> flat rows: one row per innermost line, the document's header repeated.

A layout's dotted fields (``line.sku``, ``carton.item.qty_eaches``) are the nested lists
of a document; :data:`IMPORT_SHAPES` and :data:`EXPORT_SHAPES` say which list each prefix
is and which fields identify one document (consecutive rows with equal keys are one
document). Fields outside the models (the idempotency key of an import row) travel in an
``envelope`` dict.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from amazon_bluecherry.bluecherry import models as m

__all__ = ["EXPORT_SHAPES", "IMPORT_SHAPES", "Parsed", "Shape", "documents_from_rows", "rows_from_documents"]


@dataclass(frozen=True)
class Shape:
    model: type[BaseModel]
    key: tuple[str, ...]
    child: tuple[str, str, Shape] | None = None  # (model attribute, field prefix, shape)


@dataclass(frozen=True)
class Parsed:
    """One document read from rows: the model, or why it could not be built."""

    envelope: dict[str, Any]
    document: BaseModel | None
    error: str | None
    first_row: int


IMPORT_SHAPES: dict[str, Shape] = {
    "sales_orders": Shape(
        m.SalesOrderDraft,
        key=("idempotency_key",),
        child=("lines", "line.", Shape(m.SalesOrderLineDraft, key=("line_number",))),
    ),
    "shipment_confirmations": Shape(m.ShipmentConfirmation, key=("idempotency_key",)),
    "journal_entries": Shape(
        m.JournalEntry,
        key=("idempotency_key",),
        child=("lines", "line.", Shape(m.JournalLine, key=())),
    ),
    "cash_receipts": Shape(
        m.CashReceipt,
        key=("idempotency_key",),
        child=("applications", "application.", Shape(m.ReceiptApplication, key=("invoice_number",))),
    ),
}

EXPORT_SHAPES: dict[str, Shape] = {
    "items": Shape(m.Item, key=()),
    "price_lists": Shape(m.PriceListEntry, key=()),
    "customers": Shape(
        m.Customer,
        key=("bc_customer",),
        child=("stores", "store.", Shape(m.Store, key=("bc_store",))),
    ),
    "sales_orders": Shape(
        m.SalesOrder,
        key=("order_number",),
        child=("lines", "line.", Shape(m.SalesOrderLine, key=("line_number",))),
    ),
    "shipments": Shape(
        m.Shipment,
        key=("shipment_id",),
        child=(
            "cartons",
            "carton.",
            Shape(
                m.Carton,
                key=("sscc",),
                child=("items", "item.", Shape(m.CartonItem, key=("order_number", "line_number"))),
            ),
        ),
    ),
    "invoices": Shape(
        m.Invoice,
        key=("invoice_number",),
        child=("lines", "line.", Shape(m.InvoiceLine, key=("line_number",))),
    ),
    "ats": Shape(m.AtsRow, key=()),
    "gl_accounts": Shape(m.GlAccount, key=()),
    "ledger": Shape(m.LedgerLine, key=()),
    "open_ar": Shape(m.ArOpenItem, key=()),
}


def rows_from_documents(
    shape: Shape, documents: Iterable[BaseModel], envelopes: Iterable[Mapping[str, Any]] | None = None
) -> list[dict[str, Any]]:
    """Flatten documents (and per-document envelope fields) into rows."""
    rows: list[dict[str, Any]] = []
    envelope_list = list(envelopes) if envelopes is not None else None
    for index, document in enumerate(documents):
        extra = dict(envelope_list[index]) if envelope_list is not None else {}
        for row in _flatten(document, shape, ""):
            rows.append({**extra, **row})
    return rows


def _flatten(document: BaseModel, shape: Shape, prefix: str) -> list[dict[str, Any]]:
    child_attr = shape.child[0] if shape.child else None
    base = {
        prefix + name: getattr(document, name)
        for name in type(document).model_fields
        if name != child_attr and not isinstance(getattr(document, name), list)
    }
    if shape.child is None:
        return [base]
    attr, child_prefix, child_shape = shape.child
    children = getattr(document, attr)
    if not children:
        return [base]
    return [
        {**base, **row} for child in children for row in _flatten(child, child_shape, prefix + child_prefix)
    ]


def documents_from_rows(
    shape: Shape, rows: list[dict[str, Any]], *, envelope_fields: Iterable[str] = ()
) -> list[Parsed]:
    """Group rows into documents and validate each; a bad document does not stop the others."""
    envelope_fields = tuple(envelope_fields)
    parsed: list[Parsed] = []
    for first_row, group in _groups(rows, shape.key, ""):
        data = _unflatten_group(group, shape, "")
        envelope = {name: data.pop(name, None) for name in envelope_fields}
        if shape.model is m.Shipment:
            _derive_shipment_references(data)
        try:
            document = shape.model.model_validate(data)
        except ValidationError as exc:
            parsed.append(Parsed(envelope, None, _short(exc), first_row))
            continue
        parsed.append(Parsed(envelope, document, None, first_row))
    return parsed


def _groups(rows: list[dict[str, Any]], key: tuple[str, ...], prefix: str):
    """Consecutive rows with equal key fields; an empty key makes every row its own group."""
    groups: list[tuple[int, list[dict[str, Any]]]] = []
    previous: tuple | None = None
    for number, row in enumerate(rows, start=1):
        current = tuple(row.get(prefix + name) for name in key)
        if not key or not groups or current != previous:
            groups.append((number, [row]))
        else:
            groups[-1][1].append(row)
        previous = current
    return groups


def _unflatten_group(group: list[dict[str, Any]], shape: Shape, prefix: str) -> dict[str, Any]:
    first = group[0]
    data = {
        name[len(prefix) :]: value
        for name, value in first.items()
        if name.startswith(prefix) and "." not in name[len(prefix) :] and value is not None
    }
    if shape.child is not None:
        attr, child_prefix, child_shape = shape.child
        full = prefix + child_prefix
        with_child = [
            row for row in group if any(k.startswith(full) and v is not None for k, v in row.items())
        ]
        children = [
            _unflatten_group(child_group, child_shape, full)
            for _, child_group in _groups(with_child, child_shape.key, full)
        ]
        # A child field named like a header field (a store's bc_customer) is the header's value.
        inherited = [name for name in child_shape.model.model_fields if name in data]
        for child in children:
            for name in inherited:
                child.setdefault(name, data[name])
        data[attr] = children
    return data


def _derive_shipment_references(data: dict[str, Any]) -> None:
    """A shipment's PO and order lists are the union of its cartons' contents."""
    pos: list[str] = []
    orders: list[str] = []
    for carton in data.get("cartons", []):
        for item in carton.get("items", []):
            if item.get("customer_po") and item["customer_po"] not in pos:
                pos.append(item["customer_po"])
            if item.get("order_number") and item["order_number"] not in orders:
                orders.append(item["order_number"])
    data.setdefault("customer_pos", pos)
    data.setdefault("order_numbers", orders)


def _short(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in error['loc']) or 'document'}: {error['msg']}" for error in exc.errors()
    )
