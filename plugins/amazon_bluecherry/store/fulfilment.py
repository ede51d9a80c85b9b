"""The store's memory of shipments, ASNs, cartons, labels and invoices (fulfilment_to_asn).

Tables (``store/models.py``, section fulfilment_to_asn; migration 0004):

* ``ship_notices`` -- one row per BlueCherry shipment (``shipment_id`` unique, also the
  856's BSN02): carrier (SCAC, tracking, BOL), departure, the ASN's deadline, the 856
  transaction and outbound file, BlueCherry's confirmation. One row per shipment is what
  makes a second ASN for the same shipment impossible.
* ``ship_notice_cartons`` -- per carton: SSCC-18, what the ASN says is in it (PO, line,
  product ids, quantity) and the GS1-128 label exactly as printed (ZPL and PDF).
* ``invoices`` -- one 810 per shipment and PO; ``invoice_number`` unique for ever.

Data path (``document_links``): 850 -> ``ship_notice`` -> 856; BlueCherry ``shipment``
transaction -> ``ship_notice`` -> 856; 856 -> ``invoice`` -> 810; 850 -> ``invoice`` -> 810.
So ``Store.data_path`` from an 810 (or a remittance line linked to it) reaches the ASN,
the PO and the 855.

API for other flows (remit_to_journals matches remittances against these invoices and
builds dispute packets from the ASNs, labels and BOLs):

* :func:`invoice_by_number` -- the invoice row for an invoice number (as Amazon quotes it
  on an 820, without suffixes such as ``SC``), or None.
* :func:`dispute_documents` -- everything Amazon may ask for in a dispute about an
  invoice, a shipment or a PO: the invoice(s), the ASN (BOL, SCAC, tracking, departure),
  every carton with its contents and its label (PDF bytes, ZPL), and the raw X12 of the
  856 and 810 exactly as sent.
* :func:`sscc_taken`, :func:`bill_of_lading_taken` -- reuse checks (365 days for SSCCs,
  for ever for bills of lading), counting only ASNs that were staged or sent.

Nothing here imports Airflow.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from amazon_bluecherry.store.models import (
    Invoice,
    OutboundDocument,
    RawDocument,
    ShipNotice,
    ShipNoticeCarton,
)
from amazon_bluecherry.store.store import Store

__all__ = [
    "USED_STATUSES",
    "CartonDocuments",
    "DisputeDocuments",
    "bill_of_lading_taken",
    "dispute_documents",
    "invoice_by_number",
    "sscc_taken",
]

# A ship notice in one of these statuses has used its SSCCs, BOL and shipment id.
USED_STATUSES = ("staged", "sent", "confirmed")


def sscc_taken(session: Session, sscc: str, *, shipment_id: str, since: datetime) -> tuple[str, datetime] | None:
    """``(shipment_id, used_at)`` of another shipment's ASN that used ``sscc`` since ``since``."""
    row = session.execute(
        select(ShipNotice.shipment_id, ShipNoticeCarton.used_at)
        .join(ShipNotice, ShipNotice.id == ShipNoticeCarton.ship_notice_id)
        .where(ShipNoticeCarton.sscc == sscc, ShipNotice.shipment_id != shipment_id,
               ShipNotice.status.in_(USED_STATUSES), ShipNoticeCarton.used_at >= since)
        .order_by(ShipNoticeCarton.used_at.desc())
        .limit(1)
    ).first()
    return (row[0], row[1]) if row else None


def bill_of_lading_taken(session: Session, bill_of_lading: str, *, shipment_id: str) -> str | None:
    """The other shipment whose ASN already carried ``bill_of_lading`` (BOLs are unique for ever)."""
    return session.scalar(
        select(ShipNotice.shipment_id).where(
            ShipNotice.bill_of_lading == bill_of_lading, ShipNotice.shipment_id != shipment_id,
            ShipNotice.status.in_(USED_STATUSES)).limit(1))


def invoice_by_number(store: Store, invoice_number: str, *, session: Session | None = None) -> Invoice | None:
    with store.use_session(session) as db:
        return db.scalar(select(Invoice).where(Invoice.invoice_number == invoice_number))


@dataclass
class CartonDocuments:
    sscc: str
    carton_number: int
    pallet_sscc: str | None
    contents: list[dict]
    label_pdf: bytes | None
    label_zpl: str | None


@dataclass
class DisputeDocuments:
    """What proves what we shipped and billed: for a chargeback or shortage dispute."""

    shipment_id: str | None = None
    purchase_orders: list[str] = field(default_factory=list)
    bill_of_lading: str | None = None
    carrier_scac: str | None = None
    tracking_number: str | None = None
    departed_at: datetime | None = None
    ship_notice_sent_at: datetime | None = None
    ship_notice_x12: bytes | None = None
    cartons: list[CartonDocuments] = field(default_factory=list)
    invoices: list[dict] = field(default_factory=list)  # number, PO, total, status, sent_at, x12


def dispute_documents(
    store: Store,
    *,
    invoice_number: str | None = None,
    shipment_id: str | None = None,
    purchase_order: str | None = None,
    session: Session | None = None,
) -> DisputeDocuments | None:
    """The ASN, its cartons and labels, and the invoices for one invoice, shipment or PO.

    Give one of the three keys. For a PO shipped in several shipments, the first shipment
    is described and every invoice of the PO listed; ask per shipment for the others.
    Returns None when nothing matches.
    """
    with store.use_session(session) as db:
        notice = None
        invoices: list[Invoice] = []
        if invoice_number is not None:
            invoice = db.scalar(select(Invoice).where(Invoice.invoice_number == invoice_number))
            if invoice is None:
                return None
            invoices = [invoice]
            shipment_id = invoice.shipment_id
        if shipment_id is not None:
            notice = db.scalar(select(ShipNotice).where(ShipNotice.shipment_id == shipment_id))
            if not invoices:
                invoices = list(db.scalars(select(Invoice).where(Invoice.shipment_id == shipment_id)))
        elif purchase_order is not None:
            invoices = list(db.scalars(select(Invoice).where(Invoice.purchase_order == purchase_order)))
            notices = [n for n in db.scalars(select(ShipNotice).order_by(ShipNotice.id))
                       if purchase_order in (n.purchase_orders or [])]
            notice = notices[0] if notices else None
        if notice is None and not invoices:
            return None
        packet = DisputeDocuments(invoices=[_invoice_summary(db, invoice) for invoice in invoices])
        if notice is not None:
            packet.shipment_id = notice.shipment_id
            packet.purchase_orders = list(notice.purchase_orders or [])
            packet.bill_of_lading = notice.bill_of_lading
            packet.carrier_scac = notice.carrier_scac
            packet.tracking_number = notice.tracking_number
            packet.departed_at = notice.departed_at
            if notice.outbound_document_id is not None:
                outbound = db.get(OutboundDocument, notice.outbound_document_id)
                packet.ship_notice_sent_at = outbound.sent_at
                packet.ship_notice_x12 = db.get(RawDocument, outbound.raw_document_id).content
            packet.cartons = [
                CartonDocuments(sscc=carton.sscc, carton_number=carton.carton_number, pallet_sscc=carton.pallet_sscc,
                                contents=list(carton.contents or []), label_pdf=carton.label_pdf,
                                label_zpl=carton.label_zpl)
                for carton in db.scalars(select(ShipNoticeCarton).where(ShipNoticeCarton.ship_notice_id == notice.id)
                                         .order_by(ShipNoticeCarton.carton_number))
            ]
        return packet


def _invoice_summary(db: Session, invoice: Invoice) -> dict:
    sent_at, content = None, None
    if invoice.outbound_document_id is not None:
        outbound = db.get(OutboundDocument, invoice.outbound_document_id)
        sent_at = outbound.sent_at
        content = db.get(RawDocument, outbound.raw_document_id).content
    return {
        "invoice_number": invoice.invoice_number, "purchase_order": invoice.purchase_order,
        "shipment_id": invoice.shipment_id, "status": invoice.status,
        "total_amount": Decimal(invoice.total_amount) if invoice.total_amount is not None else None,
        "currency": invoice.currency, "invoice_date": invoice.invoice_date, "sent_at": sent_at, "x12": content,
    }
