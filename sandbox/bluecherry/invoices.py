"""Invoices: one per order in a shipment, posted to the GL (Dr AR, Cr Sales).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from amazon_bluecherry.bluecherry import models as m
from sandbox.bluecherry import schema as t
from sandbox.bluecherry.core import CENT, ZERO, BackendCore, log
from sandbox.bluecherry.errors import NotFound

__all__ = ["InvoicesBackend"]


class InvoicesBackend(BackendCore):
    """Invoices of shipped orders; posting goes through the ledger."""

    def invoice_shipment(self, shipment_id: str) -> list[m.Invoice]:
        """One invoice per order in the shipment (idempotent), posted to the GL (Dr AR, Cr Sales)."""
        with self._write() as session:
            shipment = session.get(t.ShipmentRow, shipment_id)
            if shipment is None:
                raise NotFound(f"no shipment {shipment_id!r}")
            shipped: dict[str, dict[int, int]] = {}
            for carton in shipment.cartons:
                for item in carton.items:
                    per_order = shipped.setdefault(item.order_number, {})
                    per_order[item.line_number] = per_order.get(item.line_number, 0) + item.qty
            invoices = []
            for order_number, quantities in sorted(shipped.items()):
                existing = session.scalar(
                    select(t.InvoiceRow).where(
                        t.InvoiceRow.shipment_id == shipment_id, t.InvoiceRow.order_number == order_number
                    )
                )
                if existing is None:
                    existing = self._invoice(
                        session, shipment, session.get(t.SalesOrderRow, order_number), quantities
                    )
                invoices.append(existing)
            session.flush()
            return [_invoice(row) for row in invoices]

    def _invoice(
        self, session: Session, shipment: t.ShipmentRow, order: t.SalesOrderRow, quantities: dict[int, int]
    ) -> t.InvoiceRow:
        customer = session.get(t.CustomerRow, order.bc_customer)
        invoice_date = self.clock.today()
        number = f"INV{self._next(session, 'invoice'):07d}"
        lines = []
        for line in order.lines:
            qty = quantities.get(line.line_number)
            if not qty:
                continue
            sku = session.get(t.Sku, line.sku)
            lines.append(
                t.InvoiceLineRow(
                    invoice_number=number,
                    line_number=line.line_number,
                    sku=line.sku,
                    style=line.style,
                    color=line.color,
                    size=line.size,
                    upc=sku.upc if sku else None,
                    product_id=line.product_id,
                    product_id_qualifier=line.product_id_qualifier,
                    qty=qty,
                    unit_price=line.unit_price,
                    amount=(line.unit_price * qty).quantize(CENT),
                )
            )
        subtotal = sum((line.amount for line in lines), ZERO)
        invoice = t.InvoiceRow(
            invoice_number=number,
            invoice_date=invoice_date,
            customer_po=order.customer_po,
            order_number=order.order_number,
            shipment_id=shipment.shipment_id,
            bc_customer=order.bc_customer,
            bc_store=order.bc_store,
            currency=order.currency,
            terms_code=customer.terms_code,
            discount_percent=customer.discount_percent,
            discount_days=customer.discount_days,
            net_days=customer.net_days,
            due_date=invoice_date + timedelta(days=customer.net_days),
            subtotal=subtotal,
            freight=ZERO,
            total=subtotal,
            open_amount=subtotal,
        )
        session.add(invoice)
        session.add_all(lines)
        self._post(
            session,
            invoice_date,
            reference=number,
            description=f"Invoice {number} PO {order.customer_po}",
            source="AR-INVOICE",
            currency=order.currency,
            lines=[
                (
                    "1200",
                    subtotal,
                    ZERO,
                    f"Invoice {number}",
                    {"customer": order.bc_customer, "invoice": number},
                ),
                (
                    "4000",
                    ZERO,
                    subtotal,
                    f"Invoice {number}",
                    {"customer": order.bc_customer, "invoice": number},
                ),
            ],
        )
        log.info("invoiced %s: %s %s for PO %s", number, subtotal, order.currency, order.customer_po)
        return invoice

    def list_invoices(
        self,
        *,
        customer_pos: Sequence[str] | None = None,
        shipment_id: str | None = None,
        since: date | None = None,
    ) -> list[m.Invoice]:
        with self._read() as session:
            query = select(t.InvoiceRow).order_by(t.InvoiceRow.invoice_number)
            if customer_pos is not None:
                query = query.where(t.InvoiceRow.customer_po.in_(list(customer_pos)))
            if shipment_id is not None:
                query = query.where(t.InvoiceRow.shipment_id == shipment_id)
            if since is not None:
                query = query.where(t.InvoiceRow.invoice_date >= since)
            return [_invoice(row) for row in session.scalars(query)]

    def get_invoice(self, invoice_number: str) -> m.Invoice:
        with self._read() as session:
            row = session.get(t.InvoiceRow, invoice_number)
            if row is None:
                raise NotFound(f"no invoice {invoice_number!r}")
            return _invoice(row)


def _invoice(row: t.InvoiceRow) -> m.Invoice:
    return m.Invoice.model_validate(row, from_attributes=True)
