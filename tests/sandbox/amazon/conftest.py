"""Fixtures of the Amazon simulator's tests: a simulator on a simulated clock over mailbox
folders, and the vendor's half of the conversation built with the product's models."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from amazon_bluecherry.edi.build import write_documents
from amazon_bluecherry.edi.documents import (
    AcknowledgementLine,
    CarrierDetails,
    Invoice,
    InvoiceLine,
    LineAcknowledgement,
    PartyIdentification,
    PaymentTerms,
    ProductId,
    PurchaseOrderAcknowledgement,
    ShipmentItem,
    ShipmentMeasurements,
    ShipmentOrder,
    ShipmentPack,
    ShipNotice,
)
from amazon_bluecherry.edi.gs1 import make_sscc
from amazon_bluecherry.edi.writer import InMemoryControlNumbers, Party
from sandbox.amazon.catalogue import ItemCatalogue
from sandbox.amazon.clock import SimulatedClock
from sandbox.amazon.mailbox import FolderMailbox, vendor_upload
from sandbox.amazon.partner import AmazonSimulator, PartnerIdentity
from sandbox.amazon.state import PurchaseOrderRecord

START = dt.datetime(2026, 3, 2, 6, 0)  # a Monday


@pytest.fixture(scope="session")
def catalogue() -> ItemCatalogue:
    return ItemCatalogue.from_bluecherry()


@pytest.fixture(scope="session")
def start() -> dt.datetime:
    return START


@pytest.fixture
def clock() -> SimulatedClock:
    return SimulatedClock(START)


@pytest.fixture
def folder_mailbox(tmp_path) -> FolderMailbox:
    return FolderMailbox(tmp_path / "mailbox")


@pytest.fixture
def simulator(tmp_path, folder_mailbox, clock, catalogue) -> AmazonSimulator:
    return AmazonSimulator(
        tmp_path / "state", folder_mailbox, clock, catalogue, identity=PartnerIdentity(), seed=1
    )


class VendorSide:
    """The vendor's half for rule tests: correct documents by default, each knob a mistake."""

    def __init__(self, simulator: AmazonSimulator):
        self.simulator = simulator
        self.control_numbers = InMemoryControlNumbers()
        self.files = 0
        self.serial = 0
        self.bol = 10_000_000
        self.catalogue = simulator.catalogue

    def upload(self, *documents) -> str:
        """Write ``documents`` as the vendor (VENDOR -> AMAZON) into the upload folder."""
        content = write_documents(
            documents,
            sender=Party("VENDOR"),
            receiver=Party("AMAZON"),
            control_numbers=self.control_numbers,
            usage="T",
            when=self.simulator.clock.now(),
        )
        return self.upload_bytes(documents[0].set_id, content)

    def upload_bytes(self, set_id: str, content: bytes) -> str:
        self.files += 1
        name = f"VENDR{set_id}.{self.files:09d}"
        vendor_upload(self.simulator.mailbox.upload_dir, name, content)
        return name

    def po(self, number: str) -> PurchaseOrderRecord:
        return self.simulator.purchase_order(number)

    # --- 855 ---------------------------------------------------------------------------
    def acknowledgement(
        self, number: str, *, lines=None, price_delta: Decimal = Decimal(0)
    ) -> PurchaseOrderAcknowledgement:
        """Every line accepted in full at the PO price (plus ``price_delta``), ids echoed."""
        po = self.po(number)
        ack_lines = lines or [
            AcknowledgementLine(
                line_number=line.line_number,
                quantity=line.quantity,
                unit=line.unit,
                unit_price=line.unit_price + price_delta,
                price_basis="PE",
                product_ids=[ProductId(qualifier=q, value=v) for q, v in line.product_ids],
                acknowledgements=[LineAcknowledgement(status="IA", quantity=line.quantity, unit=line.unit)],
            )
            for line in po.lines
        ]
        return PurchaseOrderAcknowledgement(
            acknowledgement_type="AD",
            purchase_order_number=number,
            purchase_order_date=po.order_date,
            acknowledgement_date=self.simulator.clock.now().date(),
            lines=ack_lines,
        )

    # --- 856 ---------------------------------------------------------------------------
    def next_sscc(self) -> str:
        self.serial += 1
        return make_sscc(0, "0614141", self.serial)

    def ship_notice(
        self,
        number: str,
        *,
        shipment_id: str | None = None,
        shipped_at: dt.datetime | None = None,
        scac: str | None = "ODFL",
        bol: str | None = None,
        ssccs: list[str] | None = None,
        estimated_delivery: dt.date | None = None,
    ) -> ShipNotice:
        """The whole PO in cartons of the item's case pack, departing now, arriving in the window."""
        po = self.po(number)
        shipped_at = shipped_at or self.simulator.clock.now()
        packs = []
        for line in po.lines:
            eaches = line.ordered_eaches
            pack = line.catalogue_case_pack or eaches
            while eaches > 0:
                quantity = min(pack, eaches)
                eaches -= quantity
                packs.append(
                    ShipmentPack(
                        sscc=self.next_sscc(),
                        items=[
                            ShipmentItem(
                                line_number=line.line_number,
                                product_ids=[ProductId(qualifier=q, value=v) for q, v in line.product_ids],
                                shipped_quantity=quantity,
                                unit="EA",
                            )
                        ],
                    )
                )
        for index, sscc in enumerate(ssccs or []):
            packs[index] = packs[index].model_copy(update={"sscc": sscc})
        if bol is None:
            self.bol += 1
            bol = f"VENDR00{self.bol}"
        return ShipNotice(
            shipment_id=shipment_id or f"SH{number}",
            shipment_date=shipped_at.date(),
            shipment_time=shipped_at.time(),
            measurements=ShipmentMeasurements(packaging_code="CTN25", lading_quantity=len(packs)),
            carrier=CarrierDetails(
                routing_sequence="B", id_qualifier="2", scac=scac, transportation_method="M"
            )
            if scac
            else None,
            bill_of_lading=bol,
            shipped_date=shipped_at.date(),
            shipped_time=shipped_at.time(),
            estimated_delivery_date=estimated_delivery
            or max(po.window_start, shipped_at.date() + dt.timedelta(days=1)),
            parties=[
                PartyIdentification(role="SF", name="VENDOR DC", id_qualifier="92", id_code="NJ01"),
                PartyIdentification(role="ST", id_qualifier=po.ship_to_qualifier, id_code=po.ship_to_id),
            ],
            orders=[
                ShipmentOrder(purchase_order_number=number, purchase_order_date=po.order_date, packs=packs)
            ],
        )

    # --- 810 ---------------------------------------------------------------------------
    def invoice(
        self,
        number: str,
        *,
        invoice_number: str | None = None,
        price_delta: Decimal = Decimal(0),
        extra_eaches: int = 0,
        net_days: int = 60,
    ) -> Invoice:
        """Every line in eaches at the confirmed (else PO) price; ``extra_eaches`` on line 1."""
        po = self.po(number)
        lines = []
        for index, line in enumerate(po.lines):
            price = (
                line.confirmed_price if line.confirmed_price is not None else line.unit_price
            ) + price_delta
            lines.append(
                InvoiceLine(
                    line_number=line.line_number,
                    quantity=line.ordered_eaches + (extra_eaches if index == 0 else 0),
                    unit="EA",
                    unit_price=price,
                    price_basis="PE",
                    product_ids=[ProductId(qualifier=q, value=v) for q, v in line.product_ids],
                )
            )
        total = sum((line.extended_amount for line in lines), Decimal(0)).quantize(Decimal("0.01"))
        return Invoice(
            invoice_date=self.simulator.clock.now().date(),
            invoice_number=invoice_number or f"IN{number}",
            purchase_order_date=po.order_date,
            purchase_order_number=number,
            currency="USD",
            terms=PaymentTerms(type_code="01", basis_date_code="3", net_days=net_days),
            lines=lines,
            total_amount=total,
        )


@pytest.fixture
def vendor(simulator) -> VendorSide:
    return VendorSide(simulator)


@pytest.fixture
def vendor_side() -> type[VendorSide]:
    """The class itself, for a test that makes its own simulator."""
    return VendorSide


@pytest.fixture
def one_po(simulator) -> str:
    """One correct purchase order sent at START; its number."""
    return simulator.send_purchase_orders(1, seed=11)[0].purchase_order
