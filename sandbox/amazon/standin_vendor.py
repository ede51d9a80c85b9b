"""A minimal stand-in for the vendor, so the simulator can run a month on its own.

It works on the mailbox folders directly: picks up Amazon's files, answers every file with
a 997, acknowledges each PO with an 855 a couple of hours later (accepting what its
catalogue knows, rejecting unknown items, wrong case packs and discontinued styles),
ships so the goods arrive inside the delivery window (856 with SSCC-labelled cartons, an
approved carrier and a vendor-code BOL, uploaded at departure) and invoices what it
shipped at the price it confirmed. The real integration (the Airflow DAGs) is tested
elsewhere; this exists to drive the Amazon side.

:class:`VendorBehaviour` turns on mistakes at chosen rates (late 855, missing or late
ASN, unapproved carrier, reused SSCC, date-like BOL, invoice price above the 855, more
units invoiced than shipped), so a simulated month has something to charge back. Each
mistake made is logged in ``mistakes`` with the document it went into.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from amazon_bluecherry.edi.ack import build_997
from amazon_bluecherry.edi.build import write_documents
from amazon_bluecherry.edi.documents import (
    AcknowledgementLine,
    CarrierDetails,
    Invoice,
    InvoiceLine,
    LineAcknowledgement,
    PartyIdentification,
    PaymentTerms,
    PurchaseOrder,
    PurchaseOrderAcknowledgement,
    ShipmentItem,
    ShipmentMeasurements,
    ShipmentOrder,
    ShipmentPack,
    ShipNotice,
)
from amazon_bluecherry.edi.gs1 import make_sscc
from amazon_bluecherry.edi.parse import iter_documents
from amazon_bluecherry.edi.validator import validate_file
from amazon_bluecherry.edi.writer import InMemoryControlNumbers, Party
from sandbox.amazon.catalogue import ItemCatalogue
from sandbox.amazon.mailbox import vendor_pick_up, vendor_upload

__all__ = ["StandInVendor", "VendorBehaviour"]

_CENT = Decimal("0.01")
SSCC_COMPANY_PREFIX = "0614141"  # GS1's example prefix, as the emulator's UPCs


@dataclass(frozen=True)
class VendorBehaviour:
    """How the stand-in vendor behaves; every rate is a probability per document."""

    ack_delay: dt.timedelta = dt.timedelta(hours=2)
    invoice_delay: dt.timedelta = dt.timedelta(hours=4)
    ship_hour: int = 14
    scac: str = "ODFL"
    net_days: int = 60
    late_855_rate: float = 0.0  # 855 after 30 h instead of 2 h
    missing_asn_rate: float = 0.0  # ship without an 856 (the truck just turns up)
    late_asn_rate: float = 0.0  # 856 three hours after departure
    unapproved_scac_rate: float = 0.0
    reused_sscc_rate: float = 0.0  # first carton reuses an SSCC of an earlier shipment
    date_bol_rate: float = 0.0  # BOL is the ship date
    invoice_price_error_rate: float = 0.0  # one line 5 % above the 855 price
    over_invoice_rate: float = 0.0  # one line invoiced one each more than shipped


@dataclass
class _Order:
    document: PurchaseOrder
    received_at: dt.datetime
    ack_due: dt.datetime
    acknowledged: bool = False
    accepted: dict[str, int] = field(default_factory=dict)  # line -> eaches
    prices: dict[str, Decimal] = field(default_factory=dict)  # line -> price per each
    ship_at: dt.datetime | None = None
    shipped: bool = False
    invoice_at: dt.datetime | None = None
    invoiced: bool = False


class StandInVendor:
    """The vendor's side of the mailbox, in memory, on the simulator's clock."""

    def __init__(
        self,
        download_dir,
        upload_dir,
        catalogue: ItemCatalogue,
        *,
        vendor_id: str = "VENDOR",
        amazon_id: str = "AMAZON",
        vendor_code: str = "VENDR",
        behaviour: VendorBehaviour | None = None,
        deliver: Callable[[str, dt.datetime, int], None] | None = None,
        seed: int = 0,
    ):
        """:param deliver: ``deliver(purchase_order, at, cartons)``, the truck turning up at the
        FC when no ASN was sent (the simulator's ``record_delivery``)."""
        self.download_dir = download_dir
        self.upload_dir = upload_dir
        self.catalogue = catalogue
        self.vendor = Party(id=vendor_id)
        self.amazon = Party(id=amazon_id)
        self.vendor_code = vendor_code
        self.behaviour = behaviour or VendorBehaviour()
        self.deliver = deliver
        self.rng = random.Random(seed)
        self.control_numbers = InMemoryControlNumbers()
        self.orders: dict[str, _Order] = {}
        self.remittances: list = []
        self.mistakes: list[tuple[str, str]] = []  # (kind, document)
        self._files = 0
        self._serial = 0
        self._used_ssccs: list[str] = []
        self._bol = 9_000_000_000
        self._pending_deliveries: list[tuple[dt.datetime, str, int]] = []
        self._delayed: list[tuple[dt.datetime, bytes]] = []  # 856s written but uploaded later

    # --- one step ----------------------------------------------------------------------
    def tick(self, now: dt.datetime) -> None:
        """Pick up, then do whatever is due by ``now``."""
        self._pick_up(now)
        for order in list(self.orders.values()):
            if not order.acknowledged and order.ack_due <= now:
                self._acknowledge(order, now)
            if order.acknowledged and not order.shipped and order.ship_at and order.ship_at <= now:
                self._ship(order, now)
            if order.shipped and not order.invoiced and order.invoice_at and order.invoice_at <= now:
                self._invoice(order, now)
        for due in [d for d in self._delayed if d[0] <= now]:
            self._delayed.remove(due)
            self._upload("856", due[1])
        for due in [d for d in self._pending_deliveries if d[0] <= now]:
            self._pending_deliveries.remove(due)
            if self.deliver is not None:
                self.deliver(due[1], due[0], due[2])

    def _upload(self, set_id: str, content: bytes) -> str:
        self._files += 1
        name = f"{self.vendor_code}{set_id}.{self._files:09d}"
        vendor_upload(self.upload_dir, name, content)
        return name

    def _write(self, documents: list, now: dt.datetime) -> bytes:
        return write_documents(
            documents,
            sender=self.vendor,
            receiver=self.amazon,
            control_numbers=self.control_numbers,
            usage="T",
            when=now,
        )

    def _roll(self, rate: float, kind: str, document: str) -> bool:
        if rate and self.rng.random() < rate:
            self.mistakes.append((kind, document))
            return True
        return False

    # --- inbound -----------------------------------------------------------------------
    def _pick_up(self, now: dt.datetime) -> None:
        for content in vendor_pick_up(self.download_dir).values():
            report = validate_file(content)
            ack = build_997(report, control_numbers=self.control_numbers, when=now)
            if ack:
                self._upload("997", ack)
            if not report.ok:
                continue
            for document in iter_documents(content, skip_unsupported=True):
                if isinstance(document, PurchaseOrder):
                    self._new_order(document, now)
                elif document.set_id == "820":
                    self.remittances.append(document)

    def _new_order(self, po: PurchaseOrder, now: dt.datetime) -> None:
        number = po.purchase_order_number
        existing = self.orders.get(number)
        if existing is not None and existing.shipped:
            return  # too late to change: it has left
        delay = self.behaviour.ack_delay
        if self._roll(self.behaviour.late_855_rate, "late_855", f"855 for PO {number}"):
            delay = dt.timedelta(hours=30)
        self.orders[number] = _Order(document=po, received_at=now, ack_due=now + delay)

    # --- 855 ---------------------------------------------------------------------------
    def _acknowledge(self, order: _Order, now: dt.datetime) -> None:
        po = order.document
        lines = []
        for line in po.lines:
            item = next(
                (
                    self.catalogue.lookup(p.qualifier, p.value)
                    for p in line.product_ids
                    if self.catalogue.lookup(p.qualifier, p.value)
                ),
                None,
            )
            pack = item.case_pack_qty if item else 1
            if (
                item is None
                or not item.active
                or (line.unit == "CA" and line.case_pack_qty not in (None, pack))
            ):
                status, price = "IR", item.unit_cost if item else line.unit_price
                reason = "InvalidProductIdentifier" if item is None or item.active else "ObsoleteProduct"
            else:
                status, price, reason = "IA", item.unit_cost, None
                order.accepted[line.line_number] = line.quantity * (pack if line.unit == "CA" else 1)
                order.prices[line.line_number] = item.unit_cost
            lines.append(
                AcknowledgementLine(
                    line_number=line.line_number,
                    quantity=line.quantity,
                    unit=line.unit,
                    unit_price=price,
                    price_basis="PE",
                    product_ids=line.product_ids,
                    acknowledgements=[
                        LineAcknowledgement(
                            status=status, quantity=line.quantity, unit=line.unit, reason_code=reason
                        )
                    ],
                )
            )
        all_accepted = all(line.acknowledgements[0].status == "IA" for line in lines)
        ack = PurchaseOrderAcknowledgement(
            acknowledgement_type="AD" if all_accepted else "AC",
            purchase_order_number=po.purchase_order_number,
            purchase_order_date=po.order_date,
            acknowledgement_date=now.date(),
            lines=lines,
        )
        self._upload("855", self._write([ack], now))
        order.acknowledged = True
        if order.accepted:
            tomorrow = now.date() + dt.timedelta(days=1)
            start = po.delivery_window_start or tomorrow + dt.timedelta(days=1)
            ship_day = max(tomorrow, start - dt.timedelta(days=2))
            order.ship_at = dt.datetime.combine(ship_day, dt.time(self.behaviour.ship_hour))
        else:
            order.shipped = order.invoiced = True  # nothing to send

    # --- 856 ---------------------------------------------------------------------------
    def _next_sscc(self) -> str:
        self._serial += 1
        sscc = make_sscc(0, SSCC_COMPANY_PREFIX, self._serial)
        self._used_ssccs.append(sscc)
        return sscc

    def _ship(self, order: _Order, now: dt.datetime) -> None:
        po = order.document
        number = po.purchase_order_number
        behaviour = self.behaviour
        order.shipped = True
        order.invoice_at = now + behaviour.invoice_delay
        arrival_day = max(po.delivery_window_start or now.date(), now.date() + dt.timedelta(days=1))
        packs = []
        for line in po.lines:
            eaches = order.accepted.get(line.line_number, 0)
            item = next(
                (
                    self.catalogue.lookup(p.qualifier, p.value)
                    for p in line.product_ids
                    if self.catalogue.lookup(p.qualifier, p.value)
                ),
                None,
            )
            pack = item.case_pack_qty if item else eaches
            while eaches > 0:
                in_carton = min(pack, eaches)
                eaches -= in_carton
                packs.append(
                    ShipmentPack(
                        sscc=self._next_sscc(),
                        items=[
                            ShipmentItem(
                                line_number=line.line_number,
                                product_ids=line.product_ids,
                                shipped_quantity=in_carton,
                                unit="EA",
                            )
                        ],
                    )
                )
        document = f"856 for PO {number}"
        if self._roll(behaviour.missing_asn_rate, "missing_asn", document):
            self._pending_deliveries.append(
                (dt.datetime.combine(arrival_day, dt.time(10)), number, len(packs))
            )
            return
        if len(self._used_ssccs) > len(packs) and self._roll(
            behaviour.reused_sscc_rate, "reused_sscc", document
        ):
            packs[0] = packs[0].model_copy(update={"sscc": self._used_ssccs[0]})
        scac = behaviour.scac
        if self._roll(behaviour.unapproved_scac_rate, "unapproved_scac", document):
            scac = "ZZZZ"
        self._bol += 1
        bol = f"{self.vendor_code}{self._bol}"
        if self._roll(behaviour.date_bol_rate, "date_bol", document):
            bol = now.strftime("%Y%m%d")
        ship_to = po.ship_to
        notice = ShipNotice(
            shipment_id=f"{number}S{self._serial:06d}",
            shipment_date=now.date(),
            shipment_time=now.time().replace(second=0, microsecond=0),
            measurements=ShipmentMeasurements(packaging_code="CTN25", lading_quantity=len(packs)),
            carrier=CarrierDetails(
                routing_sequence="B", id_qualifier="2", scac=scac, transportation_method="M"
            ),
            bill_of_lading=bol,
            shipped_date=now.date(),
            shipped_time=now.time().replace(second=0, microsecond=0),
            estimated_delivery_date=arrival_day,
            parties=[
                PartyIdentification(role="ST", id_qualifier=ship_to.id_qualifier, id_code=ship_to.id_code),
                PartyIdentification(role="SF", name="Vendor DC", id_qualifier="92", id_code="NJ01"),
            ],
            orders=[
                ShipmentOrder(purchase_order_number=number, purchase_order_date=po.order_date, packs=packs)
            ],
        )
        content = self._write([notice], now)
        if self._roll(behaviour.late_asn_rate, "late_asn", document):
            # Written now, seen by Amazon only once uploaded: hold it back three hours.
            self._delayed.append((now + dt.timedelta(hours=3), content))
            return
        self._upload("856", content)

    # --- 810 ---------------------------------------------------------------------------
    def _invoice(self, order: _Order, now: dt.datetime) -> None:
        po = order.document
        number = po.purchase_order_number
        lines = []
        priced_up = self._roll(
            self.behaviour.invoice_price_error_rate, "invoice_price_error", f"810 for PO {number}"
        )
        over = self._roll(self.behaviour.over_invoice_rate, "over_invoice", f"810 for PO {number}")
        for line in po.lines:
            eaches = order.accepted.get(line.line_number, 0)
            if not eaches:
                continue
            price = order.prices[line.line_number]
            if priced_up and not lines:
                price = (price * Decimal("1.05")).quantize(_CENT)
            if over and not lines:
                eaches += 1
            lines.append(
                InvoiceLine(
                    line_number=line.line_number,
                    quantity=eaches,
                    unit="EA",
                    unit_price=price,
                    price_basis="PE",
                    product_ids=line.product_ids,
                )
            )
        order.invoiced = True
        if not lines:
            return
        total = sum((line.extended_amount for line in lines), Decimal(0)).quantize(_CENT)
        invoice = Invoice(
            invoice_date=now.date(),
            invoice_number=f"IN{number}",
            purchase_order_date=po.order_date,
            purchase_order_number=number,
            currency="USD",
            terms=PaymentTerms(type_code="01", basis_date_code="3", net_days=self.behaviour.net_days),
            lines=lines,
            total_amount=total,
        )
        self._upload("810", self._write([invoice], now))
