"""Dispute packets: for every shortage claim and chargeback, the evidence and its deadline.

Amazon allows a limited window (commonly cited as 30 days; ``AB_DISPUTE_WINDOW_DAYS``) to
dispute a deduction. For each such line of a posted remittance:

- ``open_claims`` records the claim (``dispute_claims``), a ``deduction`` transaction in
  the data path (820 -> deduction <- 810, 856, 850) and its deadline (``deadlines``,
  kind ``dispute_due``), so ``amazon-bluecherry trace <claim>`` walks to the documents;
- ``assemble_packet`` writes one folder per claim: ``packet.pdf`` (the claim, the
  deadline and the facts that answer it), the raw documents exactly as exchanged (820,
  850, 855, 856, Amazon's 997 for the ASN, 810), the carton labels (PDF and ZPL) and a
  ``manifest.json`` with each file's SHA-256 and what could not be found;
- ``watch_dispute_windows`` alerts at day 20 and 25 (``AB_DISPUTE_ALERT_DAYS``) while a
  claim is still open; ``remit dispute`` / ``remit accept`` close it.

Evidence comes from the store (what fulfilment_to_asn sent and Amazon acknowledged:
``store.fulfilment.dispute_documents``), never from memory: the same store, the same packet.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select

from amazon_bluecherry.flows.exceptions import open_exception
from amazon_bluecherry.flows.remit_codes import DISPUTABLE_TYPES
from amazon_bluecherry.store import Store
from amazon_bluecherry.store.models import (
    DisputeClaim,
    ExceptionRecord,
    OutboundDocument,
    RawDocument,
    Remittance,
    RemittanceLine,
    Transaction,
    utcnow,
)

log = logging.getLogger(__name__)

EVIDENCE = (
    ("820", "the remittance (820) with the deduction"),
    ("850", "the purchase order (850)"),
    ("855", "our acknowledgement (855)"),
    ("856", "our ASN (856) with cartons and SSCCs"),
    ("bill_of_lading", "bill of lading number"),
    ("tracking", "carrier and tracking number"),
    ("997", "Amazon's 997 accepting the ASN"),
    ("810", "our invoice (810)"),
    ("labels", "the carton labels (GS1-128)"),
)


def _safe(text: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in text)[:80] or "claim"


# --- claims ----------------------------------------------------------------------------------


def open_claims(store: Store, settings, *, now: dt.datetime) -> list[int]:
    """A claim (with its data-path node and deadline) for every disputable line of the posted remittances."""
    window = dt.timedelta(days=settings.dispute_window_days)
    created = []
    with store.session() as db:
        lines = list(db.execute(
            select(RemittanceLine, Remittance)
            .join(Remittance, Remittance.id == RemittanceLine.remittance_id)
            .outerjoin(DisputeClaim, DisputeClaim.remittance_line_id == RemittanceLine.id)
            .where(Remittance.status == "posted", RemittanceLine.deduction_type.in_(DISPUTABLE_TYPES),
                   DisputeClaim.id.is_(None))
            .order_by(RemittanceLine.id)))
        for line, remittance in lines:
            remitted_on = remittance.payment_date or remittance.received_at.date()
            due_at = dt.datetime.combine(remitted_on + window, dt.time(), tzinfo=dt.UTC)
            node = store.add_transaction(
                "deduction", direction="in", partner=settings.partner_id, business_key=line.reference,
                status="open", data={"trace_number": remittance.trace_number, "line_number": line.line_number,
                                     "deduction_type": line.deduction_type, "amount": str(line.amount),
                                     "description": line.description}, session=db)
            claim = DisputeClaim(remittance_line_id=line.id, transaction_id=node, claim_reference=line.reference,
                                 deduction_type=line.deduction_type, amount=line.amount,
                                 trace_number=remittance.trace_number, remitted_on=remitted_on, due_at=due_at,
                                 status="open" if now < due_at else "expired", alerts_sent=[])
            db.add(claim)
            db.flush()
            store.link(remittance.transaction_id, node, "deduction", session=db)
            for parent in _documents_of(db, line):
                store.link(parent, node, "claimed_against", session=db)
            store.set_deadline(node, "dispute_due", due_at, business_key=line.reference, session=db)
            store.record_event("dispute_claim.opened", entity_type="dispute_claim", entity_id=claim.id,
                               payload={"reference": line.reference, "amount": str(line.amount),
                                        "due_at": due_at.isoformat()}, session=db)
            created.append(claim.id)
    if created:
        log.info("%s dispute claim(s) opened", len(created))
    return created


def _keys(line: RemittanceLine) -> tuple[str | None, str | None, str | None]:
    return line.invoice_number, line.shipment_id, line.purchase_order


def _documents_of(db, line: RemittanceLine) -> list[int]:
    """Transactions of the documents a claim is about: the 810, the 856 and the 850."""
    from amazon_bluecherry.store.models import Invoice, ShipNotice

    invoice_number, shipment_id, purchase_order = _keys(line)
    found: list[int] = []
    invoices = []
    if invoice_number:
        invoices = list(db.scalars(select(Invoice).where(Invoice.invoice_number == invoice_number)))
        found += list(db.scalars(select(Transaction.id).where(Transaction.doc_type == "810",
                                                               Transaction.business_key == invoice_number)))
    shipments = {shipment_id} if shipment_id else {invoice.shipment_id for invoice in invoices}
    for notice in db.scalars(select(ShipNotice).where(ShipNotice.shipment_id.in_(sorted(s for s in shipments if s)))):
        if notice.transaction_id:
            found.append(notice.transaction_id)
        if not purchase_order and notice.purchase_orders:
            purchase_order = notice.purchase_orders[0]
    purchase_order = purchase_order or next((invoice.purchase_order for invoice in invoices), None)
    if purchase_order:
        order = _purchase_order(db, purchase_order)
        if order is not None:
            found.append(order.id)
    return sorted(set(found))


def _purchase_order(db, number: str) -> Transaction | None:
    """The 850 of a PO: the newest copy that went on (not superseded, not rejected), else the newest."""
    copies = list(db.scalars(select(Transaction).where(Transaction.doc_type == "850", Transaction.direction == "in",
                                                       Transaction.business_key == number).order_by(Transaction.id)))
    live = [t for t in copies if t.status not in ("superseded", "rejected")]
    return (live or copies or [None])[-1]


# --- the packet ------------------------------------------------------------------------------


@dataclass
class Packet:
    claim_reference: str
    folder: Path
    files: dict[str, str] = field(default_factory=dict)        # relative path -> sha256
    missing: list[str] = field(default_factory=list)          # evidence keys not found
    facts: dict = field(default_factory=dict)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(json.dumps(self.files, sort_keys=True).encode()).hexdigest()

    def keep(self, name: str, content: bytes | None) -> bool:
        """Write one piece of evidence into the folder (and its hash into the manifest); False if there is none."""
        if not content:
            return False
        (self.folder / name).parent.mkdir(parents=True, exist_ok=True)
        (self.folder / name).write_bytes(content)
        self.files[name] = hashlib.sha256(content).hexdigest()
        return True


def assemble_packet(store: Store, claim_id: int, out_dir: Path, *, now: dt.datetime | None = None) -> Packet:
    """Write the claim's folder under ``out_dir``: packet.pdf, the raw documents, labels, manifest.

    The evidence is what the claim is about (its invoice, shipment or PO): the 820 that
    deducted, the 850 and our 855, the 856 with its labels and Amazon's 997, the 810s; what
    cannot be found is listed as missing, in the PDF and the manifest.
    """
    now = now or utcnow()
    with store.session() as db:
        claim = db.get(DisputeClaim, claim_id)
        line = db.get(RemittanceLine, claim.remittance_line_id)
        remittance = db.get(Remittance, line.remittance_id)
        packet = Packet(claim.claim_reference, Path(out_dir) / _safe(claim.claim_reference))
        packet.folder.mkdir(parents=True, exist_ok=True)
        invoice_number, shipment_id, purchase_order = _keys(line)
        evidence = _shipment_evidence(store, db, invoice_number, shipment_id, purchase_order)
        if evidence is not None and not purchase_order:
            purchase_order = (evidence.purchase_orders or [None])[0] or next(
                (i["purchase_order"] for i in evidence.invoices), None)
        found = set()
        raw_820 = db.get(RawDocument, remittance.raw_document_id) if remittance.raw_document_id else None
        if packet.keep(f"820-{_safe(remittance.trace_number)}.edi", raw_820.content if raw_820 else None):
            found.add("820")
        facts: dict = {
            "claim": {"reference": claim.claim_reference, "type": claim.deduction_type, "amount": str(claim.amount),
                      "remittance": remittance.trace_number, "remitted_on": claim.remitted_on.isoformat(),
                      "due": claim.due_at.date().isoformat(), "days_left": (claim.due_at - now).days,
                      "amazon_says": line.description or "", "adjustment": line.adjustment_codes or "",
                      "about": {"invoice": invoice_number, "shipment": shipment_id, "purchase_order": purchase_order}},
        }
        order = _purchase_order(db, purchase_order) if purchase_order else None
        if order is not None:
            found |= _keep_order_evidence(db, packet, order, facts)
        if evidence is not None:
            found |= _keep_shipment_evidence(db, packet, evidence, facts)
        packet.missing = [key for key, _ in EVIDENCE if key not in found]
        facts["missing"] = [text for key, text in EVIDENCE if key in packet.missing]
        packet.facts = facts
    _write_pdf_and_manifest(packet)
    return packet


def _shipment_evidence(store: Store, db, invoice_number, shipment_id, purchase_order):
    """The shipment's documents, found by the first key the claim names: invoice, shipment, then PO."""
    from amazon_bluecherry.store.fulfilment import dispute_documents

    for key, value in (("invoice_number", invoice_number), ("shipment_id", shipment_id),
                       ("purchase_order", purchase_order)):
        if value:
            evidence = dispute_documents(store, session=db, **{key: value})
            if evidence is not None:
                return evidence
    return None


def _keep_order_evidence(db, packet: Packet, order: Transaction, facts: dict) -> set[str]:
    """The 850 and the newest 855 we sent for its PO number."""
    found = set()
    raw_850 = db.get(RawDocument, order.raw_document_id)
    if packet.keep(f"850-{_safe(order.business_key)}.edi", raw_850.content):
        found.add("850")
    facts["purchase_order"] = {"number": order.business_key, "status": order.status,
                               "received_at": raw_850.received_at.isoformat()}
    # Whichever copy of the PO it answered: a copy Amazon re-sent later (held, say) may have
    # no 855 of its own, and the earlier copy's 855 is still what Amazon got.
    copies = select(Transaction.id).where(Transaction.doc_type == "850", Transaction.direction == "in",
                                          Transaction.business_key == order.business_key)
    acknowledgement = db.scalar(
        select(Transaction).join(_link(), _link().c.child_id == Transaction.id)
        .where(_link().c.parent_id.in_(copies), _link().c.relation == "acknowledgement")
        .order_by(Transaction.id.desc()).limit(1))
    if acknowledgement is not None and acknowledgement.raw_document_id:
        sent = db.scalar(select(OutboundDocument).where(
            OutboundDocument.raw_document_id == acknowledgement.raw_document_id))
        if packet.keep(f"855-{_safe(order.business_key)}.edi",
                       db.get(RawDocument, acknowledgement.raw_document_id).content):
            found.add("855")
        facts["acknowledgement"] = {"status": acknowledgement.status,
                                    "sent_at": sent.sent_at.isoformat() if sent and sent.sent_at else None}
    return found


def _keep_shipment_evidence(db, packet: Packet, evidence, facts: dict) -> set[str]:
    """The 856 with its BOL, tracking and carton labels, Amazon's 997 for it, and the 810s."""
    found = set()
    if packet.keep(f"856-{_safe(evidence.shipment_id or 'asn')}.edi", evidence.ship_notice_x12):
        found.add("856")
    if evidence.bill_of_lading:
        found.add("bill_of_lading")
    if evidence.tracking_number or evidence.carrier_scac:
        found.add("tracking")
    facts["ship_notice"] = {
        "shipment_id": evidence.shipment_id, "purchase_orders": evidence.purchase_orders,
        "bill_of_lading": evidence.bill_of_lading, "carrier_scac": evidence.carrier_scac,
        "tracking_number": evidence.tracking_number,
        "departed_at": evidence.departed_at.isoformat() if evidence.departed_at else None,
        "sent_at": evidence.ship_notice_sent_at.isoformat() if evidence.ship_notice_sent_at else None,
        "cartons": [{"sscc": c.sscc, "carton_number": c.carton_number, "pallet_sscc": c.pallet_sscc,
                     "contents": c.contents} for c in evidence.cartons]}
    labels = 0
    for carton in evidence.cartons:
        labels += packet.keep(f"labels/{carton.sscc}.pdf", carton.label_pdf)
        labels += packet.keep(f"labels/{carton.sscc}.zpl", carton.label_zpl.encode() if carton.label_zpl else None)
    if labels:
        found.add("labels")
    acknowledged = _asn_997(db, evidence.shipment_id)
    if acknowledged is not None:
        status, acked_at, raw = acknowledged
        if packet.keep(f"997-{_safe(evidence.shipment_id or 'asn')}.edi", raw):
            found.add("997")
        facts["asn_997"] = {"status": status, "acknowledged_at": acked_at.isoformat() if acked_at else None}
    invoices = []
    for invoice in evidence.invoices:
        if packet.keep(f"810-{_safe(invoice['invoice_number'] or 'invoice')}.edi", invoice.get("x12")):
            found.add("810")
        invoices.append({key: (str(value) if isinstance(value, Decimal | dt.date | dt.datetime) else value)
                         for key, value in invoice.items() if key != "x12"})
    facts["invoices"] = invoices
    return found


def _write_pdf_and_manifest(packet: Packet) -> None:
    pdf = render_packet_pdf(packet)
    (packet.folder / "packet.pdf").write_bytes(pdf)
    packet.files["packet.pdf"] = hashlib.sha256(pdf).hexdigest()
    manifest = {"claim": packet.facts["claim"], "files": packet.files, "missing": packet.facts["missing"],
                "evidence": [{"key": key, "what": text, "found": key not in packet.missing} for key, text in EVIDENCE]}
    (packet.folder / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True), encoding="utf-8")


def _link():
    from amazon_bluecherry.store.models import DocumentLink

    return DocumentLink.__table__


def _asn_997(db, shipment_id: str | None):
    """(AK9 status, when, Amazon's 997 raw bytes) for the file that carried the shipment's ASN."""
    from amazon_bluecherry.store.models import ShipNotice

    if not shipment_id:
        return None
    notice = db.scalar(select(ShipNotice).where(ShipNotice.shipment_id == shipment_id))
    if notice is None or notice.outbound_document_id is None:
        return None
    sent = db.get(OutboundDocument, notice.outbound_document_id)
    if sent.ack_status is None:
        return None
    answer = db.scalar(select(Transaction).where(
        Transaction.doc_type == "997", Transaction.direction == "in", Transaction.business_key == sent.gs06,
        Transaction.partner == sent.partner).order_by(Transaction.id.desc()).limit(1))
    raw = db.get(RawDocument, answer.raw_document_id).content if answer is not None and answer.raw_document_id else None
    return sent.ack_status, sent.acked_at, raw


def render_packet_pdf(packet: Packet) -> bytes:
    """The packet's cover: the claim, its deadline, and the facts that answer it (reportlab)."""
    import io

    from reportlab.lib import colors
    from reportlab.lib.pagesizes import LETTER
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import inch
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    styles = getSampleStyleSheet()
    facts = packet.facts
    claim = facts["claim"]
    buffer = io.BytesIO()
    document = SimpleDocTemplate(buffer, pagesize=LETTER, title=f"Dispute packet {packet.claim_reference}",
                                 author="amazon-bluecherry", invariant=True, leftMargin=0.7 * inch,
                                 rightMargin=0.7 * inch)

    def table(rows, widths=None):
        flowable = Table([[Paragraph(str(cell), styles["BodyText"]) for cell in row] for row in rows],
                         colWidths=widths, hAlign="LEFT")
        flowable.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                                      ("VALIGN", (0, 0), (-1, -1), "TOP")]))
        return flowable

    story = [Paragraph(f"Dispute packet: {claim['reference']}", styles["Title"]),
             table([["Deduction type", claim["type"]], ["Amount deducted", claim["amount"]],
                    ["Remittance (TRN)", claim["remittance"]], ["Remitted on", claim["remitted_on"]],
                    ["Dispute by", f"{claim['due']} ({claim['days_left']} day(s) left when assembled)"],
                    ["Amazon's reason", claim["amazon_says"] or "-"],
                    ["About", ", ".join(f"{k} {v}" for k, v in claim["about"].items() if v) or "-"]],
                   [1.8 * inch, 5.0 * inch]),
             Spacer(1, 12)]
    if "purchase_order" in facts:
        order = facts["purchase_order"]
        ack = facts.get("acknowledgement", {})
        story += [Paragraph("Purchase order and acknowledgement", styles["Heading2"]),
                  table([["PO", order["number"]], ["Received", order["received_at"]], ["Status", order["status"]],
                         ["855 sent", ack.get("sent_at") or "-"]], [1.8 * inch, 5.0 * inch])]
    if "ship_notice" in facts:
        notice = facts["ship_notice"]
        ack = facts.get("asn_997", {})
        story += [Paragraph("Shipment and ASN", styles["Heading2"]),
                  table([["Shipment", notice["shipment_id"]], ["POs", ", ".join(notice["purchase_orders"])],
                         ["Bill of lading", notice["bill_of_lading"] or "-"],
                         ["Carrier / tracking", f"{notice['carrier_scac'] or '-'} / {notice['tracking_number'] or '-'}"],
                         ["Departed", notice["departed_at"] or "-"], ["ASN sent", notice["sent_at"] or "-"],
                         ["Amazon's 997 for the ASN", f"{ack.get('status', '-')} at {ack.get('acknowledged_at') or '-'}"]],
                        [1.8 * inch, 5.0 * inch]),
                  Spacer(1, 6), Paragraph(f"Cartons ({len(notice['cartons'])})", styles["Heading3"])]
        rows = [["#", "SSCC", "contents (PO line: quantity)"]]
        for carton in notice["cartons"]:
            contents = "; ".join(f"{item.get('purchase_order', '')} line {item.get('line_number', '')}: "
                                 f"{item.get('quantity', item.get('qty_eaches', ''))}" for item in carton["contents"])
            rows.append([carton["carton_number"], carton["sscc"], contents])
        story.append(table(rows, [0.4 * inch, 1.9 * inch, 4.5 * inch]))
    for invoice in facts.get("invoices", []):
        story += [Paragraph(f"Invoice {invoice.get('invoice_number')}", styles["Heading2"]),
                  table([["PO", invoice.get("purchase_order")], ["Date", invoice.get("invoice_date")],
                         ["Total", f"{invoice.get('total_amount')} {invoice.get('currency')}"],
                         ["Sent", invoice.get("sent_at") or "-"]], [1.8 * inch, 5.0 * inch])]
    story += [Paragraph("Files in this packet", styles["Heading2"]),
              table([["file", "SHA-256"]] + [[name, digest] for name, digest in sorted(packet.files.items())],
                    [2.2 * inch, 4.6 * inch])]
    if facts["missing"]:
        story += [Paragraph("Not found in our records", styles["Heading2"]),
                  *[Paragraph(f"- {text}", styles["BodyText"]) for text in facts["missing"]]]
    document.build(story)
    return buffer.getvalue()


# --- the task: packets for every open claim -------------------------------------------------------


@dataclass
class PacketsResult:
    opened: list[int] = field(default_factory=list)
    assembled: list[int] = field(default_factory=list)
    incomplete: list[int] = field(default_factory=list)
    failed: dict[int, str] = field(default_factory=dict)
    exception_ids: list[int] = field(default_factory=list)


def assemble_packets(store: Store, settings, *, now: dt.datetime) -> PacketsResult:
    """Open the new claims; (re)build the packet of every open claim not complete yet."""
    result = PacketsResult(opened=open_claims(store, settings, now=now))
    out_dir = settings.effective_dispute_packets_dir
    with store.session() as db:
        work = [claim.id for claim in db.scalars(select(DisputeClaim).where(DisputeClaim.status == "open")
                                                 .order_by(DisputeClaim.id))
                if claim.packet_path is None or claim.missing]
    for claim_id in work:
        try:
            packet = assemble_packet(store, claim_id, out_dir, now=now)
        except Exception as exc:  # noqa: BLE001 - one claim's packet must not stop the others
            log.exception("dispute packet of claim %s failed", claim_id)
            result.failed[claim_id] = str(exc)
            continue
        result.assembled.append(claim_id)
        with store.session() as db:
            claim = db.get(DisputeClaim, claim_id)
            claim.packet_path, claim.packet_sha256, claim.missing = str(packet.folder), packet.sha256, packet.missing
            dedupe = (f"dispute_packet_incomplete:{claim_id}:" + ",".join(packet.missing))[:200]
            # One open exception per claim: what an earlier build lacked is superseded by this one.
            for earlier in list(db.scalars(select(ExceptionRecord).where(
                    ExceptionRecord.type == "dispute_packet_incomplete", ExceptionRecord.status != "resolved",
                    ExceptionRecord.transaction_id == claim.transaction_id,
                    ExceptionRecord.dedupe_key != dedupe))):
                store.update_exception(earlier.id, status="resolved", session=db, actor="remit_to_journals",
                                       note="the packet was rebuilt: " + (
                                           f"it now lacks {', '.join(packet.missing)}" if packet.missing
                                           else "it is complete"))
            if packet.missing:
                result.incomplete.append(claim_id)
                message = (f"dispute packet for {claim.claim_reference} ({claim.deduction_type} {claim.amount}, dispute "
                           f"by {claim.due_at:%Y-%m-%d}) lacks: {', '.join(packet.facts['missing'])}. "
                           f"Packet: {packet.folder}")
                result.exception_ids.append(open_exception(  # announced by the run's alert_owners task
                    store, "dispute_packet_incomplete", message, business_key=claim.claim_reference,
                    transaction_id=claim.transaction_id, dedupe_key=dedupe, session=db,
                    details={"missing": packet.missing, "packet": str(packet.folder)}))
    log.info("dispute packets: %s claim(s) opened, %s packet(s) assembled (%s incomplete), %s failed",
             len(result.opened), len(result.assembled), len(result.incomplete), len(result.failed))
    return result


def watch_dispute_windows(store: Store, settings, *, now: dt.datetime) -> dict[str, list[str]]:
    """Alerts at day 20 and 25 for every claim still open; past its window it is ``expired``."""
    days = sorted(set(settings.dispute_alert_days))
    alerted, expired = [], []
    with store.session() as db:
        for claim in db.scalars(select(DisputeClaim).where(DisputeClaim.status == "open").order_by(DisputeClaim.id)):
            if now >= claim.due_at:
                claim.status = "expired"
                expired.append(claim.claim_reference)
                store.record_event("dispute_claim.expired", entity_type="dispute_claim", entity_id=claim.id,
                                   payload={"reference": claim.claim_reference}, session=db)
                if claim.transaction_id:
                    store.set_transaction_status(claim.transaction_id, "expired", session=db)
                continue
            age = (now.date() - claim.remitted_on).days
            due = [day for day in days if age >= day and day not in (claim.alerts_sent or [])]
            if not due:
                continue
            day = due[-1]  # found late: one alert, for the latest day reached
            claim.alerts_sent = sorted({*(claim.alerts_sent or []), *due})
            left = (claim.due_at - now).days
            message = (f"{claim.deduction_type} {claim.claim_reference} ({claim.amount}, remittance "
                       f"{claim.trace_number}) is open at day {day}: Amazon's dispute window closes "
                       f"{claim.due_at:%Y-%m-%d} ({left} day(s) left). Packet: {claim.packet_path or 'not assembled'}")
            open_exception(store, "dispute_window_closing", message, business_key=claim.claim_reference,
                           transaction_id=claim.transaction_id, dedupe_key=f"dispute_window_closing:{claim.id}:{day}",
                           session=db)
            alerted.append(claim.claim_reference)
    return {"alerted": alerted, "expired": expired}


def close_claim(store: Store, claim_reference: str, *, status: str, note: str) -> int:
    """Finance's decision: ``disputed`` (case opened with Amazon) or ``accepted`` (no dispute)."""
    if status not in ("disputed", "accepted"):
        raise ValueError(f"status must be disputed or accepted, not {status!r}")
    with store.session() as db:
        claim = db.scalar(select(DisputeClaim).where(DisputeClaim.claim_reference == claim_reference)
                          .order_by(DisputeClaim.id.desc()).limit(1))
        if claim is None:
            raise ValueError(f"no claim {claim_reference}")
        claim.status = status
        if claim.transaction_id:
            store.set_transaction_status(claim.transaction_id, status, session=db)
        store.record_event(f"dispute_claim.{status}", entity_type="dispute_claim", entity_id=claim.id,
                           payload={"reference": claim_reference, "note": note}, session=db)
        for exception in db.scalars(select(ExceptionRecord).where(
                ExceptionRecord.business_key == claim_reference, ExceptionRecord.status != "resolved",
                ExceptionRecord.type.in_(("dispute_window_closing", "dispute_packet_incomplete")))):
            store.update_exception(exception.id, status="resolved", note=f"claim {status}: {note}", session=db)
        return claim.id
