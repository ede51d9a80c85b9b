"""fulfilment_to_asn business rules: a shipment the carrier collected becomes Amazon's 856.

Pure functions, no Airflow, no I/O. Two inputs are checked by the same rules:

* a BlueCherry shipment before its ASN is built (:func:`facts_from_shipment`), and
* an 856 file someone hands us (:func:`facts_from_notice`, the ``asn lint`` command).

Rules (Amazon's numbers are data: ``amazon/rules.yaml`` ``ship_notice``, ``carriers.csv``):
the carrier's SCAC is approved; tracking is known (and looks like the carrier's); every
carton's SSCC-18 has a valid GS1 check digit and was not used within 365 days; the bill
of lading is unique, never a date, and when not a 17-digit physical (VICS) BOL it is the
vendor code followed by at least 8 digits; the shipment id is not reused; the ship date
lies within the past 7 days or up to 2 days ahead; cartons hold something and add up to
what BlueCherry shipped and to what the 855 accepted; product ids echo the PO's; one ASN
per truck, FC and arrival day. A shipment that breaks one is held; each finding says what
to fix in BlueCherry.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from amazon_bluecherry.edi.documents import (
    CarrierDetails,
    PartyIdentification,
    ProductId,
    ShipmentItem,
    ShipmentMeasurements,
    ShipmentOrder,
    ShipmentPack,
    ShipmentTare,
    ShipNotice,
)
from amazon_bluecherry.edi.gs1 import is_valid_sscc

# The rule names other tools read (``asn lint --json``): keep them exactly.
LINT_RULES = (
    "sscc_check_digit", "sscc_reused", "scac_not_approved", "bol_is_date", "bol_format",
    "ship_date_out_of_range", "carton_quantity_mismatch", "missing_tracking",
)

# What to fix in BlueCherry (or where) for each rule: the second half of every message.
FIXES = {
    "missing_tracking": "enter the carrier's tracking / PRO number on the shipment in BlueCherry",
    "tracking_format": "correct the tracking / PRO number on the shipment in BlueCherry (it does not look like "
                       "this carrier's)",
    "scac_not_approved": "ship with an approved carrier (include/mappings/carriers.csv) or correct the SCAC on "
                         "the shipment in BlueCherry",
    "sscc_check_digit": "reprint the carton label with a valid SSCC-18 and correct the carton in BlueCherry",
    "sscc_reused": "relabel the carton with a new SSCC (the label printer's serial may have been reset) and "
                   "correct the carton in BlueCherry",
    "bol_is_date": "replace the bill of lading number in BlueCherry: it must never be a date or time",
    "bol_format": "use the physical BOL number (17 digits) or the vendor code followed by at least 8 digits "
                  "as the shipment's BOL in BlueCherry",
    "bol_reused": "give the shipment its own bill of lading number in BlueCherry (one BOL per truck)",
    "shipment_id_reused": "BlueCherry re-used a shipment id: create the shipment again under a new id",
    "ship_date_out_of_range": "correct the ship date in BlueCherry (Amazon accepts the past 7 days up to 2 days "
                              "ahead)",
    "carton_quantity_mismatch": "recount the cartons and correct their contents in BlueCherry",
    "quantity_exceeds_855": "ship no more than the 855 accepted: take the extra units off the shipment in "
                            "BlueCherry",
    "unknown_purchase_order": "check the customer PO on the BlueCherry order: Amazon never sent it, or it was "
                              "not acknowledged yet",
    "product_id_not_on_po": "the carton holds an item that is not on the purchase order: correct the pick",
    "ship_to_mismatch": "split the shipment in BlueCherry: one ASN per truck and fulfilment centre",
    "ship_to_unknown": "add the shipment's store to include/mappings/ship_to.csv",
    "ship_from_unknown": "add the shipment's warehouse to include/mappings/ship_from.csv",
    "partners_mixed": "split the shipment in BlueCherry: one ASN goes to one trading partner, and these POs "
                      "came from several",
}

VICS_BOL_DIGITS = 17


@dataclass(frozen=True)
class Finding:
    rule: str
    message: str

    def to_dict(self) -> dict:
        return {"rule": self.rule, "message": self.message}

    @property
    def fix(self) -> str:
        return FIXES.get(self.rule, "")


@dataclass(frozen=True)
class CartonLine:
    purchase_order: str
    line_number: str | None
    quantity: int                      # eaches
    product_ids: tuple[tuple[str, str], ...] = ()
    sku: str | None = None


@dataclass(frozen=True)
class CartonFacts:
    sscc: str | None
    lines: tuple[CartonLine, ...]
    pallet_sscc: str | None = None


@dataclass(frozen=True)
class AsnFacts:
    """What the rules look at, whether it came from BlueCherry or from an 856 file."""

    shipment_id: str
    scac: str | None
    tracking: str | None
    bill_of_lading: str | None
    ship_date: dt.date | None
    cartons: tuple[CartonFacts, ...]
    lading_quantity: int | None = None


@dataclass(frozen=True)
class OrderLineFacts:
    line_number: str
    product_ids: tuple[tuple[str, str], ...]
    unit: str                  # as ordered: EA or CA
    case_pack: int             # eaches per ordered unit
    accepted_eaches: int       # what the 855 accepted (IA), in eaches
    cost_each: Decimal | None  # the 855 price per each: what we invoice
    sku: str | None = None


@dataclass(frozen=True)
class OrderFacts:
    """A purchase order as Amazon sent it and as our 855 answered it."""

    purchase_order: str
    order_date: dt.date | None
    ship_to: tuple[str, str] | None       # (bc_customer, bc_store) from translation
    lines: dict[str, OrderLineFacts] = field(default_factory=dict)
    partner: str | None = None            # the registry's trading partner the 850 came from


# --- facts ------------------------------------------------------------------------------


def facts_from_shipment(shipment, orders: dict[str, OrderFacts] | None = None) -> AsnFacts:
    """A BlueCherry shipment (``bluecherry.models.Shipment``) as the rules see it."""
    orders = orders or {}
    cartons = []
    for carton in shipment.cartons:
        lines = []
        for item in carton.items:
            order = orders.get(item.customer_po)
            line = order.lines.get(str(item.line_number)) if order else None
            lines.append(CartonLine(purchase_order=item.customer_po, line_number=str(item.line_number),
                                    quantity=item.qty_eaches, product_ids=line.product_ids if line else (),
                                    sku=item.sku))
        cartons.append(CartonFacts(sscc=carton.sscc, lines=tuple(lines),
                                   pallet_sscc=getattr(carton, "pallet_sscc", None)))
    return AsnFacts(shipment_id=shipment.shipment_id, scac=shipment.carrier_scac, tracking=shipment.tracking_number,
                    bill_of_lading=shipment.bol_number, ship_date=shipment.ship_date, cartons=tuple(cartons),
                    lading_quantity=len(shipment.cartons))


def facts_from_notice(notice: ShipNotice) -> AsnFacts:
    """An 856 (parsed) as the rules see it; quantities in the file's units (eaches expected)."""
    cartons = []
    for order in notice.orders:
        po = order.purchase_order_number

        def lines_of(items: Iterable[ShipmentItem], po=po) -> tuple[CartonLine, ...]:
            return tuple(CartonLine(purchase_order=po, line_number=item.line_number, quantity=item.shipped_quantity,
                                    product_ids=tuple((p.qualifier, p.value) for p in item.product_ids))
                         for item in items)

        for tare in order.tares:
            cartons += [CartonFacts(sscc=pack.sscc, lines=lines_of(pack.items), pallet_sscc=tare.sscc)
                        for pack in tare.packs]
            if tare.items:
                cartons.append(CartonFacts(sscc=tare.sscc, lines=lines_of(tare.items)))
        cartons += [CartonFacts(sscc=pack.sscc, lines=lines_of(pack.items)) for pack in order.packs]
        if order.items:
            cartons.append(CartonFacts(sscc=None, lines=lines_of(order.items)))
    return AsnFacts(
        shipment_id=notice.shipment_id,
        scac=notice.carrier.scac if notice.carrier else None,
        tracking=notice.carrier_reference,
        bill_of_lading=notice.bill_of_lading,
        ship_date=notice.shipped_date or notice.shipment_date,
        cartons=tuple(cartons),
        lading_quantity=notice.measurements.lading_quantity if notice.measurements else None,
    )


# --- rules ------------------------------------------------------------------------------

_DIGIT_DATE_FORMATS = {
    6: ("%y%m%d", "%m%d%y"),
    8: ("%Y%m%d", "%m%d%Y", "%d%m%Y"),
    10: ("%y%m%d%H%M",),
    12: ("%Y%m%d%H%M", "%m%d%Y%H%M"),
    14: ("%Y%m%d%H%M%S",),
}
_SEPARATED_DATE = re.compile(r"\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}")


def _strip_vendor_code(value: str, vendor_code: str) -> str:
    if vendor_code and value.upper().startswith(vendor_code.upper()):
        return value[len(vendor_code):]
    return value


def bol_is_date(bill_of_lading: str, vendor_code: str = "") -> bool:
    """True when the BOL (vendor-code prefix aside) reads as a date or date-time, years 2000-2099."""
    rest = _strip_vendor_code(bill_of_lading.strip(), vendor_code)
    if _SEPARATED_DATE.search(rest):
        return True
    if not rest.isdigit():
        return False
    for pattern in _DIGIT_DATE_FORMATS.get(len(rest), ()):
        try:
            parsed = dt.datetime.strptime(rest, pattern)
        except ValueError:
            continue
        if 2000 <= parsed.year <= 2099:
            return True
    return False


def bol_format_problem(bill_of_lading: str, vendor_code: str, min_digits: int) -> str | None:
    bol = bill_of_lading.strip()
    if bol.isdigit() and len(bol) == VICS_BOL_DIGITS:
        return None  # a physical (VICS) bill of lading number
    rest = _strip_vendor_code(bol, vendor_code)
    if rest == bol:
        return (f"BOL {bol!r} is neither a 17-digit bill of lading nor the vendor code {vendor_code} "
                f"followed by at least {min_digits} digits")
    if not rest.isdigit() or len(rest) < min_digits:
        return f"BOL {bol!r}: after the vendor code {vendor_code} there must be at least {min_digits} digits only"
    return None


def check_facts(
    facts: AsnFacts,
    *,
    approved_scacs: dict,
    vendor_code: str,
    today: dt.date,
    rules: dict,
    sscc_used_elsewhere: Callable[[str], str | None] | None = None,
    bol_used_elsewhere: Callable[[str], str | None] | None = None,
) -> list[Finding]:
    """The rules that need only the shipment itself (and the store's memory of used ids).

    ``approved_scacs``: SCAC -> carrier row (``tracking_ok(number)``) or None;
    ``rules``: ``amazon/rules.yaml`` ``ship_notice``.
    """
    found: list[Finding] = []

    def finding(rule: str, message: str) -> None:
        found.append(Finding(rule, f"{message}; {FIXES[rule]}" if rule in FIXES else message))

    carrier = approved_scacs.get(facts.scac or "")
    if not facts.scac or carrier is None:
        finding("scac_not_approved", f"carrier SCAC {facts.scac!r} is not on the approved list"
                if facts.scac else "no carrier SCAC")
    if not (facts.tracking or "").strip():
        finding("missing_tracking", f"shipment {facts.shipment_id} has no tracking / PRO number")
    elif carrier is not None and hasattr(carrier, "tracking_ok") and not carrier.tracking_ok(facts.tracking.strip()):
        finding("tracking_format", f"tracking {facts.tracking!r} does not match {carrier.name}'s pattern "
                                   f"{carrier.tracking_pattern}")

    seen: dict[str, int] = {}
    for number, carton in enumerate(facts.cartons, start=1):
        if not carton.sscc or not is_valid_sscc(carton.sscc):
            finding("sscc_check_digit", f"carton {number}: SSCC {carton.sscc!r} is not 18 digits with a valid "
                                        "GS1 check digit" if carton.sscc else f"carton {number} has no SSCC")
            continue
        if carton.sscc in seen:
            finding("sscc_reused", f"SSCC {carton.sscc} is on cartons {seen[carton.sscc]} and {number} of this "
                                   "shipment")
        else:
            seen[carton.sscc] = number
            other = sscc_used_elsewhere(carton.sscc) if sscc_used_elsewhere else None
            if other:
                finding("sscc_reused", f"SSCC {carton.sscc} (carton {number}) is already on {other} (SSCCs are "
                                       f"unique for {rules['sscc_unique_days']} days)")
        if not carton.lines or any(line.quantity <= 0 for line in carton.lines):
            finding("carton_quantity_mismatch", f"carton {number} ({carton.sscc}) is empty or holds a quantity "
                                                "of zero")
    if facts.lading_quantity is not None and facts.lading_quantity != len(facts.cartons):
        finding("carton_quantity_mismatch", f"the shipment says {facts.lading_quantity} cartons (TD102) but "
                                            f"lists {len(facts.cartons)}")

    bol = (facts.bill_of_lading or "").strip()
    if not bol:
        finding("bol_format", "no bill of lading number")
    elif bol_is_date(bol, vendor_code):
        finding("bol_is_date", f"BOL {bol!r} reads as a date or time")
    else:
        problem = bol_format_problem(bol, vendor_code, int(rules["bol_min_digits"]))
        if problem:
            finding("bol_format", problem)
    if bol and bol_used_elsewhere:
        other = bol_used_elsewhere(bol)
        if other:
            finding("bol_reused", f"BOL {bol} was already sent for shipment {other}")

    if facts.ship_date is None:
        finding("ship_date_out_of_range", "no ship date")
    else:
        earliest = today - dt.timedelta(days=int(rules["ship_date_past_days"]))
        latest = today + dt.timedelta(days=int(rules["ship_date_future_days"]))
        if not earliest <= facts.ship_date <= latest:
            finding("ship_date_out_of_range", f"ship date {facts.ship_date:%Y-%m-%d} is outside "
                                              f"{earliest:%Y-%m-%d} .. {latest:%Y-%m-%d}")
    return found


def check_against_orders(
    facts: AsnFacts,
    orders: dict[str, OrderFacts],
    *,
    ship_to: tuple[str, str],
    already_in_asns: dict[tuple[str, str], int],
    shipped_in_bluecherry: dict[tuple[str, str], int] | None = None,
) -> list[Finding]:
    """Cartons against the POs and 855s: known PO, same FC and trading partner, items on the PO,
    within the 855.

    ``already_in_asns``: (PO, line) -> eaches in ASNs sent before for other shipments;
    ``shipped_in_bluecherry``: (PO, line) -> eaches BlueCherry says it shipped in total.
    """
    found: list[Finding] = []

    def finding(rule: str, message: str) -> None:
        found.append(Finding(rule, f"{message}; {FIXES[rule]}"))

    in_this: dict[tuple[str, str], int] = defaultdict(int)
    for number, carton in enumerate(facts.cartons, start=1):
        for line in carton.lines:
            order = orders.get(line.purchase_order)
            if order is None:
                continue
            po_line = order.lines.get(line.line_number or "")
            if po_line is None or (line.sku and po_line.sku and line.sku != po_line.sku):
                finding("product_id_not_on_po", f"carton {number} ({carton.sscc}): {line.sku or line.product_ids} "
                                                f"is not line {line.line_number} of PO {line.purchase_order}")
                continue
            in_this[(line.purchase_order, po_line.line_number)] += line.quantity
    for po in sorted({line.purchase_order for carton in facts.cartons for line in carton.lines}):
        order = orders.get(po)
        if order is None:
            finding("unknown_purchase_order", f"PO {po} on the shipment has no acknowledged 850 in the store")
        elif order.ship_to is not None and order.ship_to != ship_to:
            finding("ship_to_mismatch", f"PO {po} goes to {order.ship_to[1]}, the shipment to {ship_to[1]}")
    partners = {order.partner for order in orders.values() if order.partner}
    if len(partners) > 1:  # one 856 goes to one partner, in that partner's version
        finding("partners_mixed", f"the shipment's POs came from {', '.join(sorted(partners))}")
    for (po, line_number), quantity in sorted(in_this.items()):
        po_line = orders[po].lines[line_number]
        total = quantity + already_in_asns.get((po, line_number), 0)
        if total > po_line.accepted_eaches:
            finding("quantity_exceeds_855", f"PO {po} line {line_number}: {total} eaches in ASNs, the 855 accepted "
                                            f"{po_line.accepted_eaches}")
        if shipped_in_bluecherry is not None and total > shipped_in_bluecherry.get((po, line_number), 0):
            finding("carton_quantity_mismatch", f"PO {po} line {line_number}: cartons hold {total} eaches, "
                                                f"BlueCherry shipped {shipped_in_bluecherry.get((po, line_number), 0)}")
    return found


# --- the 856 --------------------------------------------------------------------------------


def build_ship_notice(
    shipment,
    orders: dict[str, OrderFacts],
    *,
    transportation_method: str,
    ship_from: dict,
    ship_to: tuple[str, str, str],
    created_at: dt.datetime,
    default_transit_days: int = 3,
) -> ShipNotice:
    """The 856 for a BlueCherry shipment: S-O-P-I, or S-O-T-P-I when cartons are on pallets.

    Product ids are the PO's (echoed exactly), quantities in eaches; the SSCCs are
    BlueCherry's; ``ship_to`` is (N1*ST qualifier, id, name); ``ship_from`` the N1*SF row.
    """
    departed = shipment.departed_at
    by_order: dict[str, list] = defaultdict(list)
    for carton in shipment.cartons:
        for po in dict.fromkeys(item.customer_po for item in carton.items):
            by_order[po].append(carton)

    def items_of(carton, po: str) -> list[ShipmentItem]:
        order = orders[po]
        out = []
        for item in carton.items:
            if item.customer_po != po:
                continue
            line = order.lines[str(item.line_number)]
            out.append(ShipmentItem(line_number=line.line_number,
                                    product_ids=[ProductId(qualifier=q, value=v) for q, v in line.product_ids],
                                    shipped_quantity=item.qty_eaches, unit="EA"))
        return out

    shipment_orders = []
    for po in shipment.customer_pos:
        cartons = by_order.get(po, [])
        pallets: dict[str, list] = defaultdict(list)
        loose = []
        for carton in cartons:
            (pallets[carton.pallet_sscc] if getattr(carton, "pallet_sscc", None) else loose).append(carton)
        tares = [ShipmentTare(sscc=pallet, packs=[ShipmentPack(sscc=c.sscc, items=items_of(c, po)) for c in members])
                 for pallet, members in pallets.items()]
        packs = [ShipmentPack(sscc=c.sscc, items=items_of(c, po)) for c in loose]
        shipment_orders.append(ShipmentOrder(purchase_order_number=po, purchase_order_date=orders[po].order_date,
                                             tares=tares, packs=packs))
    weight = shipment.total_weight_lb
    ship_to_qualifier, ship_to_code, ship_to_name = ship_to
    estimated = shipment.estimated_delivery or (shipment.ship_date + dt.timedelta(days=default_transit_days))
    return ShipNotice(
        shipment_id=shipment.shipment_id,
        shipment_date=created_at.date(),
        shipment_time=created_at.time().replace(second=0, microsecond=0),
        measurements=ShipmentMeasurements(
            packaging_code="CTN25", lading_quantity=len(shipment.cartons),
            weight_qualifier="G" if weight else None, weight=weight if weight else None,
            weight_unit="LB" if weight else None),
        carrier=CarrierDetails(routing_sequence="B", id_qualifier="2", scac=shipment.carrier_scac,
                               transportation_method=transportation_method),
        bill_of_lading=shipment.bol_number,
        carrier_reference=shipment.tracking_number,
        shipped_date=departed.date() if departed else shipment.ship_date,
        shipped_time=departed.time().replace(second=0, microsecond=0) if departed else None,
        estimated_delivery_date=estimated,
        parties=[
            PartyIdentification(role="SF", name=ship_from["name"], id_qualifier="92",
                                id_code=ship_from["bc_warehouse"],
                                address_lines=[ship_from["address_line"]] if ship_from.get("address_line") else [],
                                city=ship_from.get("city") or None, state=ship_from.get("state") or None,
                                postal_code=ship_from.get("postal_code") or None,
                                country=ship_from.get("country") or None),
            PartyIdentification(role="ST", name=ship_to_name or None, id_qualifier=ship_to_qualifier,
                                id_code=ship_to_code),
        ],
        orders=shipment_orders,
    )


def structure_of(notice: ShipNotice) -> str:
    return "pallet" if any(order.tares for order in notice.orders) else "carton"


def carton_contents(notice: ShipNotice) -> dict[str, list[dict]]:
    """SSCC -> what the ASN says is in the carton (kept with the carton and printed on its label)."""
    contents: dict[str, list[dict]] = defaultdict(list)
    for order in notice.orders:
        packs = list(order.packs) + [pack for tare in order.tares for pack in tare.packs]
        for pack in packs:
            for item in pack.items:
                contents[pack.sscc].append({
                    "purchase_order": order.purchase_order_number, "line_number": item.line_number,
                    "product_ids": [[p.qualifier, p.value] for p in item.product_ids],
                    "quantity": item.shipped_quantity, "unit": str(item.unit)})
    return dict(contents)


def pallet_of(notice: ShipNotice) -> dict[str, str]:
    return {pack.sscc: tare.sscc for order in notice.orders for tare in order.tares for pack in tare.packs
            if tare.sscc and pack.sscc}
