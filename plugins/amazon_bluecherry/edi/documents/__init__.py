"""Typed X12 documents: one pydantic model per transaction set Amazon exchanges with us.

``PurchaseOrder`` (850), ``PurchaseOrderAcknowledgement`` (855), ``ShipNotice`` (856),
``Invoice`` (810), ``InventoryAdvice`` (846), ``RemittanceAdvice`` (820) and
``FunctionalAcknowledgement`` (997), one module per set in this package, the shared pieces in
:mod:`.base` and the code lists in :mod:`.codes`. :mod:`.parse` builds them from transaction sets and
:mod:`.build` turns them back into segments; model -> X12 -> model is the identity.

Conventions:

* money and other X12 ``R``/``N2`` numbers are :class:`~decimal.Decimal` (N2 values such as
  TDS01 are held in currency units, not cents); quantities are ``int``; dates and times are
  real ``datetime.date`` / ``datetime.time`` objects.
* Codes whose value drives business logic and whose list Amazon fixes (BEG02 order type,
  BAK02, ACK01, 997 statuses ...) are strict enums. Qualifiers and units stay plain codes
  (``str``), with ``StrEnum`` constants for the Amazon values, because other partners and
  the public samples use many more; the implementation guides (validator) police those.
* The element a field comes from is declared once, in :mod:`amazon_bluecherry.edi.segments`
  (pyx12-style tables that parsing and building both read).
* ``other_references`` / ``other_dates`` keep the REF/DTM qualifiers a model has no named
  field for, so a document can be rebuilt without losing them.
* Every document carries ``envelope`` (:class:`EnvelopeRef`): where it came from or went,
  so the integration store can link it to the interchange, group and set.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated

from pydantic import Field, TypeAdapter

from amazon_bluecherry.edi.documents.acknowledgement import (
    AcknowledgementLine,
    LineAcknowledgement,
    PurchaseOrderAcknowledgement,
)
from amazon_bluecherry.edi.documents.base import (
    DateReference,
    EnvelopeRef,
    PartyIdentification,
    ProductId,
    Reference,
    _Document,
)
from amazon_bluecherry.edi.documents.codes import (
    AcknowledgementType,
    ChargeIndicator,
    DateQualifier,
    GroupAcknowledgementCode,
    InventoryQuantityQualifier,
    LineAcknowledgementStatus,
    PriceBasis,
    ProductIdQualifier,
    PurchaseOrderType,
    ReferenceQualifier,
    SetAcknowledgementCode,
    TransactionPurpose,
    UnitOfMeasure,
)
from amazon_bluecherry.edi.documents.functional_acknowledgement import (
    ElementError,
    FunctionalAcknowledgement,
    SegmentError,
    SetAcknowledgement,
)
from amazon_bluecherry.edi.documents.inventory import InventoryAdvice, InventoryItem, InventoryQuantity
from amazon_bluecherry.edi.documents.invoice import ChargeAllowance, Invoice, InvoiceLine, PaymentTerms, Tax
from amazon_bluecherry.edi.documents.purchase_order import FreightTerms, PurchaseOrder, PurchaseOrderLine
from amazon_bluecherry.edi.documents.remittance import (
    Adjustment,
    RemittanceAdvice,
    RemittanceEntry,
    RemittanceItem,
)
from amazon_bluecherry.edi.documents.ship_notice import (
    CarrierDetails,
    Mark,
    ShipmentItem,
    ShipmentMeasurements,
    ShipmentOrder,
    ShipmentPack,
    ShipmentTare,
    ShipNotice,
)

__all__ = [
    "AcknowledgementLine",
    "AcknowledgementType",
    "Adjustment",
    "CarrierDetails",
    "ChargeAllowance",
    "ChargeIndicator",
    "DateQualifier",
    "DateReference",
    "DOCUMENT_TYPES",
    "Document",
    "ElementError",
    "EnvelopeRef",
    "FreightTerms",
    "FunctionalAcknowledgement",
    "GroupAcknowledgementCode",
    "InventoryAdvice",
    "InventoryItem",
    "InventoryQuantity",
    "InventoryQuantityQualifier",
    "Invoice",
    "InvoiceLine",
    "LineAcknowledgement",
    "LineAcknowledgementStatus",
    "Mark",
    "PartyIdentification",
    "PaymentTerms",
    "PriceBasis",
    "ProductId",
    "ProductIdQualifier",
    "PurchaseOrder",
    "PurchaseOrderAcknowledgement",
    "PurchaseOrderLine",
    "PurchaseOrderType",
    "Reference",
    "ReferenceQualifier",
    "RemittanceAdvice",
    "RemittanceEntry",
    "RemittanceItem",
    "SegmentError",
    "SetAcknowledgement",
    "SetAcknowledgementCode",
    "ShipNotice",
    "ShipmentItem",
    "ShipmentMeasurements",
    "ShipmentOrder",
    "ShipmentPack",
    "ShipmentTare",
    "Tax",
    "TransactionPurpose",
    "UnitOfMeasure",
    "documents_from_json",
    "documents_to_json",
]

Document = Annotated[
    PurchaseOrder
    | PurchaseOrderAcknowledgement
    | ShipNotice
    | Invoice
    | InventoryAdvice
    | RemittanceAdvice
    | FunctionalAcknowledgement,
    Field(discriminator="type"),
]

# Transaction set id -> model class.
DOCUMENT_TYPES: dict[str, type[_Document]] = {
    cls.set_id: cls
    for cls in (
        PurchaseOrder,
        PurchaseOrderAcknowledgement,
        ShipNotice,
        Invoice,
        InventoryAdvice,
        RemittanceAdvice,
        FunctionalAcknowledgement,
    )
}

_DOCUMENT_LIST = TypeAdapter(list[Document])


def documents_to_json(documents: Iterable[_Document], *, indent: int | None = 2) -> str:
    """JSON of documents: a list, each with its ``type``; decimals as strings, dates ISO."""
    return _DOCUMENT_LIST.dump_json(list(documents), indent=indent).decode()  # type: ignore[arg-type]


def documents_from_json(text: str | bytes) -> list[_Document]:
    """The inverse of :func:`documents_to_json`."""
    return _DOCUMENT_LIST.validate_json(text)  # type: ignore[return-value]
