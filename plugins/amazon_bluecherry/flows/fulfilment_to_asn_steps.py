"""fulfilment_to_asn steps over the store and the BlueCherry gateway (no Airflow).

    BlueCherry shipment --prepare--> waiting (no collection / tracking yet) | held (a rule broke:
        exception for the warehouse) | drafted (856 built, labels rendered)
    drafted --check (GX, its own task)--> checked | held (asn_quality_check_failed)
    checked --stage--> staged (X12 stored, pending upload; SSCC/BOL/shipment id now taken)
    staged + file sent --confirm--> confirmed (BlueCherry knows the ASN reference)
    deadline asn_due = departure + 30 min --monitor--> met | at risk | missed

A shipment's row is unique in ``ship_notices``: once staged, no run builds a second ASN
for it, whatever died between the upload and BlueCherry's confirmation; the next run only
confirms. Invoices follow in :mod:`amazon_bluecherry.flows.invoicing_steps`.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import delete, select

from amazon_bluecherry.amazon.rules import amazon_rules
from amazon_bluecherry.edi.build import write_documents
from amazon_bluecherry.edi.documents import PurchaseOrder, PurchaseOrderAcknowledgement, ShipNotice
from amazon_bluecherry.edi.guide import GuideRegistry, default_registry
from amazon_bluecherry.edi.parse import DocumentError, parse_file
from amazon_bluecherry.edi.validator import validate_file
from amazon_bluecherry.edi.writer import InMemoryControlNumbers
from amazon_bluecherry.flows.exceptions import open_exception
from amazon_bluecherry.flows.fulfilment_mappings import FulfilmentMappings
from amazon_bluecherry.flows.fulfilment_to_asn import (
    FIXES,
    Finding,
    OrderFacts,
    OrderLineFacts,
    build_ship_notice,
    carton_contents,
    check_against_orders,
    check_facts,
    facts_from_shipment,
    pallet_of,
    structure_of,
)
from amazon_bluecherry.flows.outbound import pending_outbound_ids
from amazon_bluecherry.flows.po_to_so import CASE_UNITS, line_number_of
from amazon_bluecherry.flows.po_to_so_steps import load_purchase_orders
from amazon_bluecherry.flows.windows import MonitorResult, Window, watch_windows
from amazon_bluecherry.settings import Settings
from amazon_bluecherry.store import Store
from amazon_bluecherry.store.fulfilment import USED_STATUSES, bill_of_lading_taken, sscc_taken
from amazon_bluecherry.store.models import (
    OutboundDocument,
    QualityResult,
    RawDocument,
    ShipNoticeCarton,
    Transaction,
    utcnow,
)
from amazon_bluecherry.store.models import (
    ShipNotice as ShipNoticeRow,
)

log = logging.getLogger(__name__)

ACKNOWLEDGED = ("acknowledged",)


@dataclass
class PrepareResult:
    drafted: list[int] = field(default_factory=list)       # ship_notices ids
    waiting: list[str] = field(default_factory=list)
    held: list[str] = field(default_factory=list)
    already_sent: list[str] = field(default_factory=list)
    exception_ids: list[int] = field(default_factory=list)


@dataclass
class CheckResult:
    passed: list[int] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    quality_result_id: int | None = None
    exception_ids: list[int] = field(default_factory=list)


# --- what Amazon ordered and what our 855 said ---------------------------------------------


def order_facts(store: Store, purchase_orders: list[str], *, session,
                registry: GuideRegistry | None = None) -> dict[str, OrderFacts]:
    """The acknowledged 850 and its sent 855 for each PO number (latest copy wins), with the
    trading partner (``registry.yaml``) the 850 came from."""
    registry = registry or default_registry()
    transactions = list(session.scalars(
        select(Transaction).where(Transaction.doc_type == "850", Transaction.direction == "in",
                                  Transaction.business_key.in_(list(purchase_orders)),
                                  Transaction.status.in_(ACKNOWLEDGED)).order_by(Transaction.id)))
    latest = {t.business_key: t for t in transactions}
    documents = load_purchase_orders(list(latest.values()), session=session)
    acknowledgements: dict[int, list] = {}
    facts: dict[str, OrderFacts] = {}
    for po_number, transaction in latest.items():
        purchase_order = documents.get(transaction.id)
        if purchase_order is None or isinstance(purchase_order, DocumentError):
            continue
        data = dict(transaction.data or {})
        translation = data.get("translation", {})
        ack_id = (data.get("acknowledgement") or {}).get("transaction_id")
        acknowledgement = _acknowledgement(session, ack_id, po_number, acknowledgements) if ack_id else None
        if acknowledgement is None:
            continue
        packs = {str(line["line_number"]): int(line.get("case_pack_qty") or 1) for line in translation.get("lines", [])}
        skus = {str(line["line_number"]): line.get("sku") for line in translation.get("lines", [])}
        acked = {}
        for position, line in enumerate(acknowledgement.lines, start=1):
            acked[str(line_number_of(line, position))] = line
        lines = {}
        for position, po_line in enumerate(purchase_order.lines, start=1):
            number = str(line_number_of(po_line, position))
            pack = packs.get(number, 1) if str(po_line.unit) in CASE_UNITS else 1
            ack_line = acked.get(number)
            accepted = sum(a.quantity for a in ack_line.acknowledgements if str(a.status) == "IA") if ack_line else 0
            lines[number] = OrderLineFacts(
                line_number=po_line.line_number or number,
                product_ids=tuple((p.qualifier, p.value) for p in po_line.product_ids),
                unit=str(po_line.unit), case_pack=pack, accepted_eaches=accepted * pack,
                cost_each=ack_line.unit_price if ack_line else None, sku=skus.get(number))
        facts[po_number] = OrderFacts(
            purchase_order=po_number, order_date=purchase_order.order_date,
            ship_to=(translation.get("bc_customer"), translation.get("bc_store")) if translation.get("bc_store") else None,
            lines=lines, partner=partner_of(purchase_order, registry))
    return facts


def partner_of(purchase_order: PurchaseOrder, registry: GuideRegistry) -> str:
    """The registry's trading partner of an 850, by its interchange's ISA06 / ISA08."""
    envelope = purchase_order.envelope
    if envelope is None:
        return registry.default_partner
    return registry.partner_for(envelope.sender_id or "", envelope.receiver_id or "")


def asn_x12_version(orders: dict[str, OrderFacts], registry: GuideRegistry, default: str) -> str:
    """GS08 of a shipment's 856: what the partner its POs came from agreed in the registry,
    else the deployment default (``AB_ASN_X12_VERSION``). A shipment mixing partners is held
    before this is asked."""
    for partner in sorted({order.partner for order in orders.values() if order.partner}):
        version = registry.outbound_version(partner, "856")
        if version:
            return version
    return default


def _acknowledgement(session, transaction_id: int, po_number: str, cache: dict) -> PurchaseOrderAcknowledgement | None:
    transaction = session.get(Transaction, transaction_id)
    if transaction is None:
        return None
    if transaction.raw_document_id not in cache:
        raw = session.get(RawDocument, transaction.raw_document_id)
        cache[transaction.raw_document_id] = [d for d in parse_file(raw.content)
                                              if isinstance(d, PurchaseOrderAcknowledgement)]
    return next((d for d in cache[transaction.raw_document_id] if d.purchase_order_number == po_number), None)


def _in_earlier_asns(session, purchase_orders: list[str], shipment_id: str) -> dict[tuple[str, str], int]:
    """(PO, line) -> eaches in ASNs already staged or sent for other shipments."""
    totals: dict[tuple[str, str], int] = defaultdict(int)
    rows = session.execute(
        select(ShipNoticeCarton.contents).join(ShipNoticeRow, ShipNoticeRow.id == ShipNoticeCarton.ship_notice_id)
        .where(ShipNoticeRow.status.in_(USED_STATUSES), ShipNoticeRow.shipment_id != shipment_id))
    wanted = set(purchase_orders)
    for (contents,) in rows:
        for item in contents or []:
            if item["purchase_order"] in wanted:
                totals[(item["purchase_order"], str(item["line_number"]))] += int(item["quantity"])
    return totals


def _shipped_in_bluecherry(gateway, shipment) -> dict[tuple[str, str], int] | None:
    from amazon_bluecherry.bluecherry.gateway import GatewayError, TransientGatewayError

    try:
        orders = gateway.list_sales_orders(customer_pos=list(shipment.customer_pos), bc_customer=shipment.bc_customer)
    except TransientGatewayError:
        raise
    except GatewayError as exc:  # the check is skipped, the others still hold
        log.warning("BlueCherry refused the sales orders of shipment %s: %s", shipment.shipment_id, exc)
        return None
    return {(order.customer_po, str(line.line_number)): line.qty_shipped for order in orders for line in order.lines}


# --- prepare ---------------------------------------------------------------------------------


def _fingerprint(payload) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def prepare_ship_notices(store: Store, gateway, settings: Settings, mappings: FulfilmentMappings, *,
                         now: datetime, registry: GuideRegistry | None = None) -> PrepareResult:
    """Read BlueCherry's shipments; check each against Amazon's rules; draft the 856s that pass.

    A shipment whose ASN went out is left to the confirm step; one the carrier has not
    collected (or given a tracking number for) waits; one that breaks a rule is held for the
    warehouse; the others get their 856 and labels drafted.
    """
    rules = amazon_rules()["ship_notice"]
    registry = registry or default_registry()
    result = PrepareResult()
    claimed = _ssccs_of_unsent_asns(store)
    for shipment in sorted(gateway.list_shipments_ready(), key=lambda s: s.shipment_id):
        with store.session() as db:
            row = db.scalar(select(ShipNoticeRow).where(ShipNoticeRow.shipment_id == shipment.shipment_id))
            if row is not None and row.status in USED_STATUSES:
                _already_sent(store, db, row, shipment, result)
                continue
            row = _record_shipment(store, db, row, shipment, settings, rules, now)
            if shipment.departed_at is None or not (shipment.tracking_number or "").strip():
                _wait_for_carrier(store, db, row, shipment, settings, now, result)
                continue
            orders = order_facts(store, list(shipment.customer_pos), session=db, registry=registry)
            ship_to = mappings.ship_to_of(shipment.bc_customer, shipment.bc_store)
            ship_from = mappings.ship_from.get(shipment.bc_warehouse)
            findings = _rule_findings(db, gateway, shipment, orders, mappings, settings, rules, now, claimed,
                                      ship_to=ship_to, ship_from=ship_from)
            if findings:
                _hold(store, db, row, shipment, findings, result)
                continue
            _draft(db, row, shipment, orders, mappings, settings, rules, now, claimed,
                   ship_to=ship_to, ship_from=ship_from,
                   x12_version=asn_x12_version(orders, registry, settings.asn_x12_version))
            result.drafted.append(row.id)
    log.info("ASNs drafted %s, waiting %s, held %s, already sent %s", len(result.drafted), len(result.waiting),
             len(result.held), len(result.already_sent))
    return result


def _already_sent(store: Store, db, row: ShipNoticeRow, shipment, result: PrepareResult) -> None:
    """The shipment's ASN went: the confirm step finishes it, unless its id now names another shipment."""
    if _same_shipment(db, row, shipment):
        result.already_sent.append(shipment.shipment_id)
        return
    # BlueCherry handed out the id of a shipment whose ASN already went: a second ASN
    # under it would be refused by Amazon (ids are unique for 365 days) and overwrite
    # our record of the first. Held, never silently skipped.
    result.held.append(shipment.shipment_id)
    result.exception_ids.append(_shipment_id_reused(store, db, row, shipment))


def _same_shipment(db, row: ShipNoticeRow, shipment) -> bool:
    """Is BlueCherry's ``shipment`` the one ``row``'s ASN was built for (same BOL, same cartons)?"""
    ssccs = set(db.scalars(select(ShipNoticeCarton.sscc).where(ShipNoticeCarton.ship_notice_id == row.id)))
    return (row.bill_of_lading or "") == (shipment.bol_number or "") and (
        not ssccs or ssccs == {carton.sscc for carton in shipment.cartons})


def _shipment_id_reused(store: Store, db, row: ShipNoticeRow, shipment) -> int:
    sent = row.confirmed_at or row.updated_at or row.first_seen_at
    finding = {"rule": "shipment_id_reused",
               "message": f"shipment id {shipment.shipment_id} already has an ASN "
                          f"({row.asn_reference or 'staged'}, {sent:%Y-%m-%d}, BOL {row.bill_of_lading}) but "
                          f"BlueCherry now shows BOL {shipment.bol_number} and other cartons: the id was re-used, "
                          "or the shipment changed after its ASN went; Amazon refuses a shipment id used within "
                          f"365 days; {FIXES['shipment_id_reused']}"}
    return open_exception(
        store, "asn_check_failed",
        f"shipment {shipment.shipment_id} (PO {', '.join(shipment.customer_pos)}) is held, no ASN sent: "
        f"[{finding['rule']}] {finding['message']}",
        business_key=shipment.shipment_id, details={"findings": [finding]},
        dedupe_key=f"asn_check_failed:{shipment.shipment_id}:reused:"
                   f"{_fingerprint([shipment.bol_number, sorted(c.sscc for c in shipment.cartons)])[:16]}",
        session=db)


def _ssccs_of_unsent_asns(store: Store) -> dict[str, str]:
    """SSCC -> shipment, for ASNs drafted but not staged yet (this run or an interrupted one):
    first come keeps them."""
    with store.session() as db:
        return dict(db.execute(
            select(ShipNoticeCarton.sscc, ShipNoticeRow.shipment_id)
            .join(ShipNoticeRow, ShipNoticeRow.id == ShipNoticeCarton.ship_notice_id)
            .where(ShipNoticeRow.status.in_(("drafted", "checked")))).all())


def _record_shipment(store: Store, db, row: ShipNoticeRow | None, shipment, settings: Settings, rules: dict,
                     now: datetime) -> ShipNoticeRow:
    """The shipment as BlueCherry has it now; once it departed, its transaction and the ASN's deadline."""
    if row is None:
        row = ShipNoticeRow(shipment_id=shipment.shipment_id, partner=settings.partner_id, status="waiting",
                            purchase_orders=list(shipment.customer_pos), first_seen_at=now)
        db.add(row)
    row.bc_customer, row.bc_store, row.bc_warehouse = shipment.bc_customer, shipment.bc_store, shipment.bc_warehouse
    row.carrier_scac, row.tracking_number = shipment.carrier_scac[:4], shipment.tracking_number
    row.bill_of_lading, row.ship_date, row.departed_at = shipment.bol_number, shipment.ship_date, shipment.departed_at
    row.purchase_orders = list(shipment.customer_pos)
    db.flush()
    if shipment.departed_at is not None and row.shipment_transaction_id is None:
        row.shipment_transaction_id = store.add_transaction(
            "shipment", direction="in", partner="BLUECHERRY", business_key=shipment.shipment_id,
            status="departed", data={"departed_at": shipment.departed_at.isoformat()}, session=db)
        row.asn_due_at = shipment.departed_at + timedelta(minutes=int(rules["departure_window_minutes"]))
        store.set_deadline(row.shipment_transaction_id, "asn_due", row.asn_due_at,
                           business_key=shipment.shipment_id, session=db)
    return row


def _wait_for_carrier(store: Store, db, row: ShipNoticeRow, shipment, settings: Settings, now: datetime,
                      result: PrepareResult) -> None:
    """No ASN before the carrier collected and gave a tracking number; past the wait, tell the warehouse."""
    row.status = "waiting"
    result.waiting.append(shipment.shipment_id)
    waited = now - (shipment.departed_at or row.first_seen_at)
    if waited < timedelta(minutes=settings.asn_carrier_wait_minutes):
        return
    missing, fix = (
        ("collection", "Confirm the pickup (and the tracking number) in BlueCherry")
        if shipment.departed_at is None else
        ("tracking / PRO number", "Enter the carrier's tracking / PRO number on the shipment in BlueCherry"))
    result.exception_ids.append(open_exception(
        store, "asn_waiting_for_carrier",
        f"shipment {shipment.shipment_id} (BOL {shipment.bol_number}, {shipment.carrier_scac}) has "
        f"waited {waited.total_seconds() / 60:.0f} min for the carrier's {missing}; no ASN can go "
        f"before it. {fix}.",
        business_key=shipment.shipment_id, transaction_id=row.shipment_transaction_id,
        dedupe_key=f"asn_waiting_for_carrier:{shipment.shipment_id}:{missing}", session=db))


def _rule_findings(db, gateway, shipment, orders: dict[str, OrderFacts], mappings: FulfilmentMappings,
                   settings: Settings, rules: dict, now: datetime, claimed: dict[str, str], *, ship_to,
                   ship_from) -> list[Finding]:
    """Every Amazon rule the shipment breaks: its own facts, our mappings, its POs and BlueCherry's lines."""
    facts = facts_from_shipment(shipment, orders)
    since = now - timedelta(days=int(rules["sscc_unique_days"]))

    def sscc_elsewhere(sscc: str) -> str | None:
        if claimed.get(sscc, shipment.shipment_id) != shipment.shipment_id:
            return f"shipment {claimed[sscc]}'s ASN, built in this run"
        taken = sscc_taken(db, sscc, shipment_id=shipment.shipment_id, since=since)
        return f"shipment {taken[0]}'s ASN of {taken[1]:%Y-%m-%d}" if taken else None

    findings = check_facts(
        facts, approved_scacs=mappings.carriers, vendor_code=settings.vendor_code, today=now.date(),
        rules=rules, sscc_used_elsewhere=sscc_elsewhere,
        bol_used_elsewhere=lambda bol: bill_of_lading_taken(db, bol, shipment_id=shipment.shipment_id))
    if ship_to is None:
        findings.append(Finding("ship_to_unknown", f"store {shipment.bc_customer}/{shipment.bc_store} has no "
                                                   f"Amazon id; {FIXES['ship_to_unknown']}"))
    if ship_from is None:
        findings.append(Finding("ship_from_unknown", f"warehouse {shipment.bc_warehouse} has no ship-from "
                                                     f"row; {FIXES['ship_from_unknown']}"))
    findings += check_against_orders(
        facts, orders, ship_to=(shipment.bc_customer, shipment.bc_store),
        already_in_asns=_in_earlier_asns(db, list(shipment.customer_pos), shipment.shipment_id),
        shipped_in_bluecherry=_shipped_in_bluecherry(gateway, shipment))
    return findings


def _hold(store: Store, db, row: ShipNoticeRow, shipment, findings: list[Finding], result: PrepareResult) -> None:
    """No ASN: the warehouse gets one exception naming every broken rule."""
    row.status = "held"
    row.findings = [f.to_dict() for f in findings]
    result.held.append(shipment.shipment_id)
    result.exception_ids.append(open_exception(
        store, "asn_check_failed",
        f"shipment {shipment.shipment_id} (PO {', '.join(shipment.customer_pos)}) is held, no ASN sent: "
        + " | ".join(f"[{f.rule}] {f.message}" for f in findings),
        business_key=shipment.shipment_id, transaction_id=row.shipment_transaction_id,
        details={"findings": row.findings},
        dedupe_key=f"asn_check_failed:{shipment.shipment_id}:{_fingerprint(row.findings)[:16]}",
        session=db))


def _draft(db, row: ShipNoticeRow, shipment, orders: dict[str, OrderFacts], mappings: FulfilmentMappings,
           settings: Settings, rules: dict, now: datetime, claimed: dict[str, str], *, ship_to, ship_from,
           x12_version: str) -> None:
    """The 856 and one GS1-128 label per carton; the cartons' SSCCs are claimed for this shipment."""
    from amazon_bluecherry.flows.labels import render_labels

    carrier = mappings.carriers[shipment.carrier_scac]
    notice = build_ship_notice(
        shipment, orders, transportation_method=carrier.transportation_method, ship_from=ship_from.model_dump(),
        ship_to=ship_to, created_at=now, default_transit_days=int(rules.get("default_transit_days", 3)))
    row.status = "drafted"
    row.findings = []
    row.document = notice.model_dump(mode="json")
    row.structure = structure_of(notice)
    row.x12_version = x12_version
    row.ship_to_qualifier, row.ship_to_code = ship_to[0], ship_to[1]
    row.fingerprint = _fingerprint(notice.model_dump(mode="json", exclude={"shipment_date", "shipment_time"}))
    db.execute(delete(ShipNoticeCarton).where(ShipNoticeCarton.ship_notice_id == row.id))
    contents = carton_contents(notice)
    pallets = pallet_of(notice)
    labels = render_labels(notice, shipment, ship_from=ship_from.model_dump(), ship_to=ship_to,
                           carrier_name=carrier.name)
    for carton in shipment.cartons:
        claimed[carton.sscc] = shipment.shipment_id
        zpl, pdf = labels[carton.sscc]
        db.add(ShipNoticeCarton(ship_notice_id=row.id, sscc=carton.sscc, carton_number=carton.carton_number,
                                pallet_sscc=pallets.get(carton.sscc), contents=contents.get(carton.sscc, []),
                                label_zpl=zpl, label_pdf=pdf))


# --- the batch checkpoint ---------------------------------------------------------------------


def ship_notice_frame(notices: list[tuple[ShipNoticeRow, ShipNotice]], orders: dict[str, OrderFacts],
                      carriers: dict, *, now: datetime, rules: dict):
    """One row per carton line of the 856s as they will leave (rendered and parsed back)."""
    import pandas as pd

    from amazon_bluecherry.edi.gs1 import is_valid_sscc
    from amazon_bluecherry.flows.fulfilment_to_asn import bol_is_date

    rows = []
    sscc_count: dict[str, int] = defaultdict(int)
    for _, notice in notices:
        for order in notice.orders:
            for pack in list(order.packs) + [p for tare in order.tares for p in tare.packs]:
                sscc_count[pack.sscc or ""] += 1
    earliest = now.date() - timedelta(days=int(rules["ship_date_past_days"]))
    latest = now.date() + timedelta(days=int(rules["ship_date_future_days"]))
    for _row, notice in notices:
        shipped = notice.shipped_date or notice.shipment_date
        for order in notice.orders:
            facts = orders.get(order.purchase_order_number)
            for pack in list(order.packs) + [p for tare in order.tares for p in tare.packs]:
                for item in pack.items:
                    line = facts.lines.get(item.line_number or "") if facts else None
                    rows.append({
                        "shipment_id": notice.shipment_id,
                        "sscc": pack.sscc or "",
                        "sscc_valid": bool(pack.sscc and is_valid_sscc(pack.sscc)),
                        "sscc_cartons_in_batch": sscc_count[pack.sscc or ""],
                        "scac_approved": bool(notice.carrier and notice.carrier.scac in carriers),
                        "has_tracking": bool(notice.carrier_reference),
                        "bol_not_a_date": bool(notice.bill_of_lading) and not bol_is_date(notice.bill_of_lading),
                        "ship_date_in_range": earliest <= shipped <= latest,
                        "purchase_order": order.purchase_order_number,
                        "line_number": item.line_number or "",
                        "shipped_eaches": item.shipped_quantity,
                        "accepted_eaches": line.accepted_eaches if line else 0,
                        "product_id_echoed": bool(line) and [(p.qualifier, p.value) for p in item.product_ids]
                        == list(line.product_ids),
                    })
    columns = ["shipment_id", "sscc", "sscc_valid", "sscc_cartons_in_batch", "scac_approved", "has_tracking",
               "bol_not_a_date", "ship_date_in_range", "purchase_order", "line_number", "shipped_eaches",
               "accepted_eaches", "product_id_echoed"]
    return pd.DataFrame(rows, columns=columns)


def check_ship_notices(store: Store, settings: Settings, mappings: FulfilmentMappings, *, now: datetime,
                       run_key: str = "", notice_ids: list[int] | None = None) -> CheckResult:
    """The GX gate over the batch of drafted ASNs, read back from the X12 they will be."""
    from amazon_bluecherry.quality.checkpoint import run_checkpoint
    from amazon_bluecherry.quality.suites import ship_notice_suite

    rules = amazon_rules()["ship_notice"]
    result = CheckResult()
    with store.session() as db:
        query = select(ShipNoticeRow).where(ShipNoticeRow.status == "drafted")
        if notice_ids is not None:
            query = query.where(ShipNoticeRow.id.in_(list(notice_ids)))
        rows = list(db.scalars(query.order_by(ShipNoticeRow.id)))
        if not rows:
            return result
        # Rendered as they will leave (each in its partner's version), validated by the same
        # engine Amazon's side uses, parsed back.
        by_version: dict[str, list[ShipNoticeRow]] = defaultdict(list)
        for row in rows:
            by_version[row.x12_version or settings.asn_x12_version].append(row)
        rows = [row for group in by_version.values() for row in group]
        drafts = [ShipNotice.model_validate(row.document) for row in rows]
        numbers, start = InMemoryControlNumbers(), 0
        raw = b""
        for version, group in by_version.items():
            raw += write_documents(drafts[start:start + len(group)], sender="VENDOR", receiver="AMAZON",
                                   control_numbers=numbers, versions={"856": version})
            start += len(group)
        report = validate_file(raw)
        edi_problems = {}
        for (_, _, verdict), draft in zip(report.sets(), drafts, strict=True):
            if verdict.status == "R":
                edi_problems[draft.shipment_id] = "; ".join(i.message for i in verdict.errors[:5])
        rendered = parse_file(raw)
        orders = order_facts(store, sorted({po for row in rows for po in row.purchase_orders}), session=db)
        frame = ship_notice_frame(list(zip(rows, rendered, strict=True)), orders, mappings.carriers, now=now,
                                  rules=rules)
        outcome = run_checkpoint("ship_notices", frame, ship_notice_suite(), key_columns=["shipment_id", "sscc"])
        quality = QualityResult(suite=outcome.suite, run_key=run_key or now.isoformat(), success=outcome.success
                                and not edi_problems, evaluated=outcome.evaluated,
                                failed=len(outcome.failures) + len(edi_problems), results=outcome.to_dict())
        db.add(quality)
        db.flush()
        result.quality_result_id = quality.id
        blocked = outcome.failed_keys("shipment_id") | set(edi_problems)
        for row in rows:
            if row.shipment_id not in blocked:
                row.status = "checked"
                result.passed.append(row.id)
                continue
            reasons = sorted({f.description for f in outcome.failures
                              if any(key["shipment_id"] == row.shipment_id for key in f.keys)})
            if row.shipment_id in edi_problems:
                reasons.append(f"X12 validation: {edi_problems[row.shipment_id]}")
            row.status = "held"
            row.findings = [{"rule": "quality_check", "message": reason} for reason in reasons]
            result.blocked.append(row.shipment_id)
            result.exception_ids.append(open_exception(
                store, "asn_quality_check_failed",
                f"shipment {row.shipment_id}: the ASN was not sent: {'; '.join(reasons)}",
                business_key=row.shipment_id, transaction_id=row.shipment_transaction_id,
                dedupe_key=f"asn_quality_check_failed:{row.shipment_id}:{row.fingerprint[:16]}", session=db))
    return result


# --- stage, confirm ---------------------------------------------------------------------------


def stage_ship_notices(store: Store, settings: Settings, *, now: datetime,
                       notice_ids: list[int] | None = None) -> list[int]:
    """Store each checked ASN as its own pending file (one interchange per shipment); outbound ids to send."""
    with store.session() as db:
        query = select(ShipNoticeRow).where(ShipNoticeRow.status == "checked")
        if notice_ids is not None:
            query = query.where(ShipNoticeRow.id.in_(list(notice_ids)))
        for row in db.scalars(query.order_by(ShipNoticeRow.id)):
            notice = ShipNotice.model_validate(row.document)
            staged = _stage_one(store, settings, notice, row, db)
            row.status = "staged"
            row.transaction_id = staged.sets[0].transaction_id
            row.outbound_document_id = staged.outbound_document_id
            for carton in db.scalars(select(ShipNoticeCarton).where(ShipNoticeCarton.ship_notice_id == row.id)):
                carton.used_at = now
            if row.shipment_transaction_id:
                store.link(row.shipment_transaction_id, row.transaction_id, "ship_notice", session=db)
            for purchase_order in db.scalars(select(Transaction.id).where(
                    Transaction.doc_type == "850", Transaction.business_key.in_(list(row.purchase_orders)),
                    Transaction.status.in_(ACKNOWLEDGED))):
                store.link(purchase_order, row.transaction_id, "ship_notice", session=db)
        return pending_outbound_ids(store, doc_type="856", session=db)


def _stage_one(store: Store, settings: Settings, notice: ShipNotice, row: ShipNoticeRow, db):
    from amazon_bluecherry.flows.outbound import parties, stage_x12

    us, amazon = parties(settings)
    raw = write_documents([notice], sender=us, receiver=amazon, usage=settings.usage_indicator,
                          control_numbers=store.control_numbers(settings.partner_id, session=db),
                          versions={"856": row.x12_version or settings.asn_x12_version})
    return stage_x12(store, raw, business_keys=[row.shipment_id], settings=settings, session=db,
                     data=[{"fingerprint": row.fingerprint}])


@dataclass
class ConfirmResult:
    confirmed: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    exception_ids: list[int] = field(default_factory=list)


def confirm_shipments(store: Store, gateway) -> ConfirmResult:
    """Tell BlueCherry about every ASN that left: idempotent, so a retry or a second run is harmless."""
    from amazon_bluecherry.bluecherry.gateway import (
        GatewayError,
        TransientGatewayError,
        derive_idempotency_key,
    )

    result = ConfirmResult()
    with store.session() as db:
        pending = list(db.execute(
            select(ShipNoticeRow, OutboundDocument).join(
                OutboundDocument, OutboundDocument.id == ShipNoticeRow.outbound_document_id)
            .where(ShipNoticeRow.status == "staged", OutboundDocument.sent_at.is_not(None))))
    for row, outbound in pending:
        reference = outbound.file_name
        try:
            gateway.confirm_shipment(row.shipment_id, asn_reference=reference,
                                     idempotency_key=derive_idempotency_key("asn", row.shipment_id, outbound.isa13))
        except TransientGatewayError:
            raise
        except GatewayError as exc:
            result.failed.append(row.shipment_id)
            result.exception_ids.append(open_exception(
                store, "shipment_confirmation_failed",
                f"shipment {row.shipment_id}: the ASN {reference} was sent to Amazon but BlueCherry refused the "
                f"confirmation: {exc}", business_key=row.shipment_id,
                dedupe_key=f"shipment_confirmation_failed:{row.shipment_id}:{reference}"))
            continue
        with store.session() as db:
            fresh = db.get(ShipNoticeRow, row.id)
            fresh.status, fresh.asn_reference, fresh.confirmed_at = "confirmed", reference, utcnow()
            store.record_event("ship_notice.confirmed", entity_type="ship_notice", entity_id=row.id,
                               payload={"shipment_id": row.shipment_id, "asn_reference": reference}, session=db)
        result.confirmed.append(row.shipment_id)
    return result


# --- windows -----------------------------------------------------------------------------------


def _asn_sent_at(session, deadline) -> datetime | None:
    return session.scalar(
        select(OutboundDocument.sent_at).join(ShipNoticeRow, ShipNoticeRow.outbound_document_id == OutboundDocument.id)
        .where(ShipNoticeRow.shipment_transaction_id == deadline.transaction_id, OutboundDocument.sent_at.is_not(None),
               OutboundDocument.status != "rejected"))


def monitor_asn_windows(store: Store, settings: Settings, *, now: datetime) -> MonitorResult:
    """Amazon's 30-minute ASN window from departure, and 997s overdue for what we sent."""
    window = Window(kind="asn_due", at_risk_type="asn_window_at_risk", missed_type="asn_window_missed",
                    lead=timedelta(minutes=settings.asn_alert_lead_minutes), subject="shipment", document="ASN",
                    sent_at=_asn_sent_at)
    return watch_windows(store, settings, [window], now=now)


def money(value) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))
