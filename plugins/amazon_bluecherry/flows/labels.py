"""GS1-128 carton labels, rendered from the ASN itself: ZPL for the thermal printer and PDF.

One 4 x 6 in label per carton with Amazon's zones: A ship from, B ship to (the FC), D the
carrier, its tracking/PRO and the BOL, E the purchase order(s) with quantities and
"carton n of N", F the SSCC as a GS1-128 barcode (FNC1, application identifier 00, the
18 digits) with its human-readable line. Both renderings come from the same label data,
taken from the 856 about to be sent, so the SSCC printed is the SSCC in MAN*GM.
The barcode is drawn by reportlab (Code 128 with FNC1); the ZPL asks the printer for the
same symbol (``^BC`` with ``>;>8``: subset C, FNC1).
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from amazon_bluecherry.edi.documents import ShipNotice
from amazon_bluecherry.edi.gs1 import SSCC_AI

FNC1 = "\xf1"
LABEL_WIDTH_IN, LABEL_HEIGHT_IN = 4, 6


@dataclass(frozen=True)
class LabelData:
    sscc: str
    carton_number: int
    carton_count: int
    ship_from: list[str]
    ship_to: list[str]
    carrier: str
    tracking: str
    bill_of_lading: str
    purchase_orders: list[str]          # "PO 123: 24 units"

    @property
    def human_readable(self) -> str:
        return f"({SSCC_AI}) {self.sscc[0]} {self.sscc[1:8]} {self.sscc[8:17]} {self.sscc[17]}"


def label_data(notice: ShipNotice, shipment, *, ship_from: dict, ship_to: tuple[str, str, str],
               carrier_name: str) -> list[LabelData]:
    """One label per carton of the shipment, with what the 856 says about it."""
    per_carton: dict[str, dict[str, int]] = {}
    for order in notice.orders:
        packs = list(order.packs) + [pack for tare in order.tares for pack in tare.packs]
        for pack in packs:
            counts = per_carton.setdefault(pack.sscc, {})
            counts[order.purchase_order_number] = counts.get(order.purchase_order_number, 0) + sum(
                item.shipped_quantity for item in pack.items)
    sender = [ship_from["name"], ship_from.get("address_line", ""),
              f"{ship_from.get('city', '')} {ship_from.get('state', '')} {ship_from.get('postal_code', '')}".strip()]
    receiver = [ship_to[2] or "Amazon.com", f"FC {ship_to[1]}"]
    total = len(shipment.cartons)
    return [
        LabelData(sscc=carton.sscc, carton_number=carton.carton_number, carton_count=total,
                  ship_from=[line for line in sender if line], ship_to=receiver,
                  carrier=f"{carrier_name} ({notice.carrier.scac if notice.carrier else ''})",
                  tracking=notice.carrier_reference or "", bill_of_lading=notice.bill_of_lading or "",
                  purchase_orders=[f"PO {po}: {qty} units" for po, qty in per_carton.get(carton.sscc, {}).items()])
        for carton in shipment.cartons
    ]


def zpl(label: LabelData) -> str:
    """The label for a 203 dpi thermal printer (812 x 1218 dots)."""
    def text(x: int, y: int, value: str, size: int = 28) -> str:
        safe = value.replace("^", " ").replace("~", " ")
        return f"^FO{x},{y}^A0N,{size},{size}^FD{safe}^FS"

    parts = ["^XA", "^CI28", "^PW812", "^LL1218"]
    parts += [text(30, 30, "FROM:", 24)] + [text(30, 60 + 30 * i, line) for i, line in enumerate(label.ship_from)]
    parts += [text(430, 30, "TO:", 24)] + [text(430, 60 + 34 * i, line, 32) for i, line in enumerate(label.ship_to)]
    parts += ["^FO20,190^GB772,3,3^FS", text(30, 210, f"CARRIER: {label.carrier}"),
              text(30, 250, f"PRO/TRACKING: {label.tracking}"), text(30, 290, f"BOL: {label.bill_of_lading}"),
              "^FO20,335^GB772,3,3^FS"]
    parts += [text(30, 355 + 34 * i, po) for i, po in enumerate(label.purchase_orders[:6])]
    parts += [text(30, 580, f"CARTON {label.carton_number} OF {label.carton_count}", 36), "^FO20,640^GB772,3,3^FS",
              text(30, 660, "SSCC", 24),
              # GS1-128: subset C (>;), FNC1 (>8), AI 00 and the SSCC-18
              f"^FO60,700^BY3^BCN,320,N,N,N^FD>;>8{SSCC_AI}{label.sscc}^FS",
              text(110, 1050, label.human_readable, 40), "^XZ"]
    return "\n".join(parts) + "\n"


def pdf(label: LabelData) -> bytes:
    """The same label as a 4 x 6 in PDF page (for a laser printer, and for disputes)."""
    from reportlab.graphics.barcode.code128 import Code128
    from reportlab.lib.units import inch
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    width, height = LABEL_WIDTH_IN * inch, LABEL_HEIGHT_IN * inch
    page = canvas.Canvas(buffer, pagesize=(width, height), invariant=1)
    page.setTitle(f"SSCC {label.sscc}")
    y = height - 0.3 * inch
    page.setFont("Helvetica-Bold", 7)
    page.drawString(0.15 * inch, y, "FROM:")
    page.drawString(2.1 * inch, y, "TO:")
    page.setFont("Helvetica", 8)
    for i, line in enumerate(label.ship_from):
        page.drawString(0.15 * inch, y - 0.14 * inch * (i + 1), line[:40])
    page.setFont("Helvetica-Bold", 10)
    for i, line in enumerate(label.ship_to):
        page.drawString(2.1 * inch, y - 0.17 * inch * (i + 1), line[:28])
    page.line(0.1 * inch, height - 1.0 * inch, width - 0.1 * inch, height - 1.0 * inch)
    page.setFont("Helvetica", 9)
    for i, line in enumerate([f"CARRIER: {label.carrier}", f"PRO/TRACKING: {label.tracking}",
                              f"BOL: {label.bill_of_lading}"]):
        page.drawString(0.15 * inch, height - 1.2 * inch - 0.17 * inch * i, line)
    page.line(0.1 * inch, height - 1.7 * inch, width - 0.1 * inch, height - 1.7 * inch)
    for i, line in enumerate(label.purchase_orders[:6]):
        page.drawString(0.15 * inch, height - 1.9 * inch - 0.16 * inch * i, line)
    page.setFont("Helvetica-Bold", 12)
    page.drawString(0.15 * inch, height - 3.0 * inch, f"CARTON {label.carton_number} OF {label.carton_count}")
    page.line(0.1 * inch, height - 3.15 * inch, width - 0.1 * inch, height - 3.15 * inch)
    page.setFont("Helvetica", 7)
    page.drawString(0.15 * inch, height - 3.3 * inch, "SSCC")
    barcode = Code128(FNC1 + SSCC_AI + label.sscc, barHeight=1.5 * inch, barWidth=0.0135 * inch, quiet=True)
    barcode.drawOn(page, (width - barcode.width) / 2, 0.75 * inch)
    page.setFont("Helvetica-Bold", 12)
    page.drawCentredString(width / 2, 0.45 * inch, label.human_readable)
    page.showPage()
    page.save()
    return buffer.getvalue()


def render_labels(notice: ShipNotice, shipment, *, ship_from: dict, ship_to: tuple[str, str, str],
                  carrier_name: str) -> dict[str, tuple[str, bytes]]:
    """SSCC -> (ZPL, PDF) for every carton of ``shipment``."""
    return {label.sscc: (zpl(label), pdf(label))
            for label in label_data(notice, shipment, ship_from=ship_from, ship_to=ship_to, carrier_name=carrier_name)}
