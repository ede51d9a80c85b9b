"""The 810 invoice per shipment and purchase order, after the ASN (part of fulfilment_to_asn).

Source (``AB_INVOICE_SOURCE``): ``bluecherry`` sends BlueCherry's own invoice of the
shipment and PO (its number, its lines); ``asn`` builds the invoice from the ASN's
cartons, numbered from the store's sequence (``AB_INVOICE_NUMBER_PREFIX`` + 7 digits).
Either way, before anything leaves: the cost per each equals the 855's, the quantities
equal what the ASN shipped, the items are the PO's (product ids echoed), the total is
positive and equals lines + charges - allowances, the number was never used (the store's
unique column enforces it for ever), bill-to and terms are the agreed ones (settings). A
failed invoice is held with an ``invoice_check_failed`` exception for finance, never sent.

    confirmed ASN --prepare--> held | drafted --check (GX, own task)--> checked | held
    checked --stage--> staged (one 810 file per batch) --upload--> sent
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select

from amazon_bluecherry.edi.build import write_documents
from amazon_bluecherry.edi.documents import (
    ChargeAllowance,
    Invoice,
    InvoiceLine,
    PartyIdentification,
    PaymentTerms,
    ProductId,
)
from amazon_bluecherry.edi.parse import parse_file
from amazon_bluecherry.edi.writer import InMemoryControlNumbers
from amazon_bluecherry.flows.exceptions import open_exception
from amazon_bluecherry.flows.fulfilment_to_asn import OrderFacts
from amazon_bluecherry.flows.outbound import pending_outbound_ids, stage_documents
from amazon_bluecherry.settings import Settings
from amazon_bluecherry.store import Store
from amazon_bluecherry.store.models import Invoice as InvoiceRow
from amazon_bluecherry.store.models import QualityResult, ShipNoticeCarton, Transaction
from amazon_bluecherry.store.models import ShipNotice as ShipNoticeRow

log = logging.getLogger(__name__)
CENT = Decimal("0.01")
FREIGHT = "D240"


@dataclass(frozen=True)
class InvoiceFinding:
    rule: str
    message: str

    def to_dict(self) -> dict:
        return {"rule": self.rule, "message": self.message}


def agreed_terms(settings: Settings) -> PaymentTerms:
    return PaymentTerms(type_code=settings.invoice_terms_type, basis_date_code="3",
                        discount_percent=settings.invoice_terms_discount_percent or None,
                        discount_days=settings.invoice_terms_discount_days or None,
                        net_days=settings.invoice_terms_net_days,
                        description=f"NET {settings.invoice_terms_net_days}")


def build_invoice(*, number: str, invoice_date, order: OrderFacts, quantities: dict[str, int],
                  unit_costs: dict[str, Decimal], charges: list[ChargeAllowance], settings: Settings,
                  ship_to: tuple[str, str] | None) -> Invoice:
    """The 810: one IT1 per PO line shipped, in eaches at the cost per each, Amazon's ids echoed."""
    lines = []
    for line_number, quantity in sorted(quantities.items(), key=lambda kv: int(kv[0]) if kv[0].isdigit() else 0):
        po_line = order.lines[line_number]
        lines.append(InvoiceLine(line_number=po_line.line_number, quantity=quantity, unit="EA",
                                 unit_price=unit_costs[line_number], price_basis="PE",
                                 product_ids=[ProductId(qualifier=q, value=v) for q, v in po_line.product_ids]))
    parties = [
        PartyIdentification(role="BT", name=settings.invoice_bill_to_name, id_qualifier=settings.invoice_bill_to_qualifier,
                            id_code=settings.invoice_bill_to_id),
        PartyIdentification(role="RI", name=settings.invoice_remit_to_name, id_qualifier="92",
                            id_code=settings.vendor_code),
    ]
    if ship_to:
        parties.append(PartyIdentification(role="ST", id_qualifier=ship_to[0], id_code=ship_to[1]))
    draft = Invoice(invoice_date=invoice_date, invoice_number=number, purchase_order_date=order.order_date,
                    purchase_order_number=order.purchase_order, currency="USD", parties=parties,
                    terms=agreed_terms(settings), lines=lines, charges=charges, total_amount=Decimal("0"))
    return draft.model_copy(update={"total_amount": draft.expected_total().quantize(CENT)})


def check_invoice(invoice: Invoice, order: OrderFacts, *, asn_quantities: dict[str, int],
                  number_used_by: str | None, stated_total: Decimal | None, settings: Settings) -> list[InvoiceFinding]:
    """Amazon's 810 rules on one invoice; each finding says what finance must fix."""
    found: list[InvoiceFinding] = []
    if number_used_by:
        found.append(InvoiceFinding("invoice_number_reused", f"invoice number {invoice.invoice_number} was already "
                                    f"used for {number_used_by}; invoice numbers are unique for ever: re-number "
                                    "the invoice in BlueCherry"))
    total = invoice.expected_total().quantize(CENT)
    if total <= 0:
        found.append(InvoiceFinding("invoice_zero_total", f"invoice {invoice.invoice_number} totals {total}: Amazon "
                                    "refuses zero-total invoices; cancel it in BlueCherry"))
    if stated_total is not None and stated_total.quantize(CENT) != total:
        found.append(InvoiceFinding("invoice_total_mismatch", f"BlueCherry's total {stated_total} is not lines + "
                                    f"charges - allowances = {total}: correct the invoice in BlueCherry"))
    invoiced: dict[str, int] = defaultdict(int)
    by_ids = {line.product_ids: number for number, line in order.lines.items()}
    for line in invoice.lines:
        ids = tuple((p.qualifier, p.value) for p in line.product_ids)
        number = by_ids.get(ids)
        if number is None:
            found.append(InvoiceFinding("invoice_item_not_on_po", f"line {line.line_number} ({ids}) is not on PO "
                                        f"{order.purchase_order}: take it off the invoice in BlueCherry"))
            continue
        invoiced[number] += line.quantity
        cost = order.lines[number].cost_each
        if cost is None or line.unit_price != cost:
            found.append(InvoiceFinding("invoice_cost_mismatch", f"PO {order.purchase_order} line {number}: invoiced "
                                        f"{line.unit_price} per each, the 855 confirmed {cost}: correct the price "
                                        "on the invoice in BlueCherry"))
    if dict(invoiced) != {k: v for k, v in asn_quantities.items() if v}:
        found.append(InvoiceFinding("invoice_quantity_mismatch", f"PO {order.purchase_order}: invoiced "
                                    f"{dict(invoiced)} eaches per line, the ASN shipped {asn_quantities}: invoice "
                                    "what was shipped"))
    if not settings.invoice_bill_to_name or not settings.invoice_bill_to_id:
        found.append(InvoiceFinding("invoice_bill_to_missing", "the agreed bill-to (AB_INVOICE_BILL_TO_NAME / "
                                    "AB_INVOICE_BILL_TO_ID) is not set"))
    return found


# --- steps -----------------------------------------------------------------------------------


@dataclass
class InvoiceBatch:
    drafted: list[int] = field(default_factory=list)
    held: list[str] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)
    passed: list[int] = field(default_factory=list)
    exception_ids: list[int] = field(default_factory=list)
    quality_result_id: int | None = None


def _asn_quantities(db, notice_id: int, purchase_order: str) -> dict[str, int]:
    totals: dict[str, int] = defaultdict(int)
    for contents in db.scalars(select(ShipNoticeCarton.contents).where(ShipNoticeCarton.ship_notice_id == notice_id)):
        for item in contents or []:
            if item["purchase_order"] == purchase_order:
                totals[str(item["line_number"])] += int(item["quantity"])
    return dict(totals)


def _hold(store, db, row: InvoiceRow, findings: list[InvoiceFinding], batch: InvoiceBatch, key: str) -> None:
    row.status = "held"
    row.findings = [f.to_dict() for f in findings]
    batch.held.append(key)
    batch.exception_ids.append(open_exception(
        store, "invoice_check_failed",
        f"invoice for shipment {row.shipment_id} PO {row.purchase_order} is held, not sent: "
        + " | ".join(f"[{f.rule}] {f.message}" for f in findings),
        business_key=row.purchase_order, details={"findings": row.findings},
        dedupe_key=f"invoice_check_failed:{row.shipment_id}:{row.purchase_order}:"
                   f"{'|'.join(sorted(f.rule for f in findings))}"[:200], session=db))


def prepare_invoices(store: Store, gateway, settings: Settings, *, now: datetime) -> InvoiceBatch:
    """Draft (or hold) one 810 per shipment and PO of every ASN that left and has no invoice yet.

    The invoice's terms come from BlueCherry's invoice (``AB_INVOICE_SOURCE=bluecherry``: wait
    for it) or from the ASN's quantities at the 855's costs; a finding holds it for finance.
    """
    from amazon_bluecherry.flows.fulfilment_to_asn_steps import order_facts

    batch = InvoiceBatch()
    with store.session() as db:
        notices = list(db.scalars(select(ShipNoticeRow).where(ShipNoticeRow.status == "confirmed")
                                  .order_by(ShipNoticeRow.id)))
    for notice in notices:
        bluecherry = None
        if settings.invoice_source == "bluecherry":
            bluecherry = {invoice.customer_po: invoice for invoice in gateway.list_invoices(shipment_id=notice.shipment_id)}
        with store.session() as db:
            orders = order_facts(store, list(notice.purchase_orders), session=db)
            for purchase_order in notice.purchase_orders:
                row = db.scalar(select(InvoiceRow).where(InvoiceRow.shipment_id == notice.shipment_id,
                                                         InvoiceRow.purchase_order == purchase_order))
                if row is not None and row.status in ("drafted", "checked"):
                    # A run that died before staging it: gated again by this run (kill -9 campaign).
                    row.status = "drafted"
                    batch.drafted.append(row.id)
                    continue
                if row is not None and row.status not in ("held",):
                    continue
                order = orders.get(purchase_order)
                asn = _asn_quantities(db, notice.id, purchase_order)
                if order is None or not asn:
                    continue
                if bluecherry is not None and purchase_order not in bluecherry:
                    batch.waiting.append(f"{notice.shipment_id}/{purchase_order}")
                    continue
                if row is None:
                    row = InvoiceRow(shipment_id=notice.shipment_id, purchase_order=purchase_order, status="drafted",
                                     source=settings.invoice_source, ship_notice_id=notice.id)
                    db.add(row)
                    db.flush()
                terms = (_terms_of_bluecherry_invoice(store, db, row, bluecherry[purchase_order], order, batch)
                         if bluecherry is not None else
                         _terms_of_our_own(store, db, row, order, asn, settings, now, batch))
                if terms is not None:
                    _draft(store, db, row, notice, order, asn, terms, settings, batch)
    return batch


@dataclass
class _InvoiceTerms:
    number: str
    invoice_date: object
    quantities: dict[str, int]
    unit_costs: dict[str, Decimal]
    charges: list = field(default_factory=list)
    stated_total: Decimal | None = None


def _terms_of_bluecherry_invoice(store: Store, db, row: InvoiceRow, source, order: OrderFacts,
                                 batch: InvoiceBatch) -> _InvoiceTerms | None:
    """BlueCherry's invoice as it is (number, date, lines, freight, total); held if it bills a line not on the PO."""
    row.bc_invoice_number = source.invoice_number
    terms = _InvoiceTerms(source.invoice_number, source.invoice_date, defaultdict(int), {}, stated_total=source.total)
    for line in source.lines:
        terms.quantities[str(line.line_number)] += line.qty_eaches
        terms.unit_costs[str(line.line_number)] = line.unit_price
    if source.freight:
        terms.charges.append(ChargeAllowance(indicator="C", code=FREIGHT, amount=source.freight,
                                             description="FREIGHT"))
    unknown = [n for n in terms.quantities if n not in order.lines]
    if unknown:
        _hold(store, db, row, [InvoiceFinding(
            "invoice_item_not_on_po", f"BlueCherry invoice {terms.number} has line(s) {unknown} that are not "
            f"on PO {row.purchase_order}: correct the invoice in BlueCherry")], batch, row.purchase_order)
        return None
    return terms


def _terms_of_our_own(store: Store, db, row: InvoiceRow, order: OrderFacts, asn: dict[str, int],
                      settings: Settings, now: datetime, batch: InvoiceBatch) -> _InvoiceTerms | None:
    """Our number (kept across re-tries), today, the ASN's quantities at the 855's costs; held
    if the 855 gave no cost for a shipped line."""
    number = row.data.get("requested_number") if row.data else None
    if not number:
        sequence = store.next_control_number(settings.partner_id, "INV", session=db)
        number = f"{settings.invoice_number_prefix}{sequence:07d}"
    quantities = dict(asn)
    costs = {n: order.lines[n].cost_each for n in quantities if order.lines[n].cost_each is not None}
    if len(costs) != len(quantities):
        _hold(store, db, row, [InvoiceFinding("invoice_cost_mismatch", f"PO {row.purchase_order}: the 855 "
              "gave no cost for a shipped line")], batch, row.purchase_order)
        return None
    return _InvoiceTerms(number, now.date(), quantities, costs)


def _draft(store: Store, db, row: InvoiceRow, notice: ShipNoticeRow, order: OrderFacts, asn: dict[str, int],
           terms: _InvoiceTerms, settings: Settings, batch: InvoiceBatch) -> None:
    """Build the 810 and check it (against the PO, the ASN, BlueCherry's total, numbers used): drafted or held."""
    invoice = build_invoice(number=terms.number, invoice_date=terms.invoice_date, order=order,
                            quantities=dict(terms.quantities), unit_costs=terms.unit_costs, charges=terms.charges,
                            settings=settings,
                            ship_to=(notice.ship_to_qualifier, notice.ship_to_code) if notice.ship_to_code else None)
    used_by = db.scalar(select(InvoiceRow.shipment_id).where(InvoiceRow.invoice_number == terms.number,
                                                            InvoiceRow.id != row.id))
    findings = check_invoice(invoice, order, asn_quantities=asn, stated_total=terms.stated_total,
                             number_used_by=f"shipment {used_by}" if used_by else None, settings=settings)
    row.data = {"document": invoice.model_dump(mode="json"), "requested_number": terms.number}
    row.invoice_date, row.total_amount = invoice.invoice_date, invoice.total_amount
    if findings:
        row.invoice_number = None
        _hold(store, db, row, findings, batch, row.purchase_order)
        return
    row.invoice_number = terms.number
    row.status, row.findings = "drafted", []
    batch.drafted.append(row.id)


def invoice_frame(invoices: list[tuple[InvoiceRow, Invoice]], orders: dict[str, OrderFacts], asn: dict, used: set[str]):
    import pandas as pd

    rows = []
    for _row, invoice in invoices:
        order = orders.get(invoice.purchase_order_number or "")
        by_ids = {line.product_ids: number for number, line in (order.lines.items() if order else [])}
        for line in invoice.lines:
            number = by_ids.get(tuple((p.qualifier, p.value) for p in line.product_ids))
            po_line = order.lines.get(number) if (order and number) else None
            rows.append({
                "invoice_number": invoice.invoice_number, "purchase_order": invoice.purchase_order_number,
                "line_number": line.line_number or "", "unit_cost": float(line.unit_price),
                "cost_855": float(po_line.cost_each) if po_line and po_line.cost_each is not None else -1.0,
                "quantity": line.quantity,
                "asn_eaches": asn.get((invoice.invoice_number, number), -1),
                "invoice_total": float(invoice.total_amount), "expected_total": float(invoice.expected_total()),
                "number_used_before": invoice.invoice_number in used,
            })
    columns = ["invoice_number", "purchase_order", "line_number", "unit_cost", "cost_855", "quantity", "asn_eaches",
               "invoice_total", "expected_total", "number_used_before"]
    return pd.DataFrame(rows, columns=columns)


def check_invoices(store: Store, settings: Settings, *, now: datetime, run_key: str = "",
                   invoice_ids: list[int] | None = None) -> InvoiceBatch:
    """The GX gate over the drafted invoices, read back from the X12 they will be."""
    from amazon_bluecherry.flows.fulfilment_to_asn_steps import order_facts
    from amazon_bluecherry.quality.checkpoint import run_checkpoint
    from amazon_bluecherry.quality.suites import invoice_suite

    batch = InvoiceBatch()
    with store.session() as db:
        query = select(InvoiceRow).where(InvoiceRow.status == "drafted")
        if invoice_ids is not None:
            query = query.where(InvoiceRow.id.in_(list(invoice_ids)))
        rows = list(db.scalars(query.order_by(InvoiceRow.id)))
        if not rows:
            return batch
        drafts = [Invoice.model_validate(row.data["document"]) for row in rows]
        rendered = parse_file(write_documents(drafts, sender="VENDOR", receiver="AMAZON",
                                              control_numbers=InMemoryControlNumbers()))
        orders = order_facts(store, sorted({row.purchase_order for row in rows}), session=db)
        asn = {}
        for row in rows:
            for number, quantity in _asn_quantities(db, row.ship_notice_id, row.purchase_order).items():
                asn[(row.invoice_number, number)] = quantity
        used = set(db.scalars(select(InvoiceRow.invoice_number).where(
            InvoiceRow.status.in_(("staged", "sent")), InvoiceRow.invoice_number.in_([r.invoice_number for r in rows]))))
        outcome = run_checkpoint("invoices", invoice_frame(list(zip(rows, rendered, strict=True)), orders, asn, used),
                                 invoice_suite(), key_columns=["invoice_number"])
        quality = QualityResult(suite=outcome.suite, run_key=run_key or now.isoformat(), success=outcome.success,
                                evaluated=outcome.evaluated, failed=len(outcome.failures), results=outcome.to_dict())
        db.add(quality)
        db.flush()
        batch.quality_result_id = quality.id
        blocked = outcome.failed_keys("invoice_number")
        for row in rows:
            if row.invoice_number not in blocked:
                row.status = "checked"
                batch.passed.append(row.id)
                continue
            reasons = sorted({f.description for f in outcome.failures
                              if any(k["invoice_number"] == row.invoice_number for k in f.keys)})
            _hold(store, db, row, [InvoiceFinding("quality_check", reason) for reason in reasons], batch,
                  row.purchase_order)
    return batch


def stage_invoices(store: Store, settings: Settings, *, invoice_ids: list[int] | None = None) -> list[int]:
    """One 810 file for the checked invoices of the batch; returns the pending 810 outbound ids."""
    with store.session() as db:
        query = select(InvoiceRow).where(InvoiceRow.status == "checked")
        if invoice_ids is not None:
            query = query.where(InvoiceRow.id.in_(list(invoice_ids)))
        rows = list(db.scalars(query.order_by(InvoiceRow.id)))
        if rows:
            documents = [Invoice.model_validate(row.data["document"]) for row in rows]
            staged = stage_documents(store, documents, business_keys=[row.invoice_number for row in rows],
                                     settings=settings, session=db)
            for row, staged_set in zip(rows, staged.sets, strict=True):
                row.status = "staged"
                row.transaction_id = staged_set.transaction_id
                row.outbound_document_id = staged.outbound_document_id
                notice = db.get(ShipNoticeRow, row.ship_notice_id)
                if notice is not None and notice.transaction_id:
                    store.link(notice.transaction_id, row.transaction_id, "invoice", session=db)
                for purchase_order in db.scalars(select(Transaction.id).where(
                        Transaction.doc_type == "850", Transaction.business_key == row.purchase_order,
                        Transaction.status == "acknowledged")):
                    store.link(purchase_order, row.transaction_id, "invoice", session=db)
        return pending_outbound_ids(store, doc_type="810", session=db)


def mark_sent(store: Store) -> int:
    """Invoices whose file went out are ``sent``."""
    from amazon_bluecherry.store.models import OutboundDocument

    with store.session() as db:
        rows = list(db.execute(select(InvoiceRow, OutboundDocument).join(
            OutboundDocument, OutboundDocument.id == InvoiceRow.outbound_document_id).where(
            InvoiceRow.status == "staged", OutboundDocument.sent_at.is_not(None))))
        for row, _ in rows:
            row.status = "sent"
        return len(rows)
