"""820 builders for the remit_to_journals tests: Amazon-style remittances, written as X12."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal


@dataclass
class Line:
    """One RMR: ``invoice_amount`` set for an invoice being paid; ``adx`` (amount, code,
    qualifier, reference) adjustments under it; ``description`` as REF*ZZ."""

    reference: str
    amount: Decimal | str
    invoice_amount: Decimal | str | None = None
    adx: list[tuple] = field(default_factory=list)
    purchase_order: str | None = None
    description: str | None = None

    def segments(self) -> list[str]:
        amount = Decimal(self.amount)
        if self.invoice_amount is not None:
            rmr = f"RMR*IV*{self.reference}*PI*{amount}*{Decimal(self.invoice_amount)}"
        else:
            rmr = f"RMR*IV*{self.reference}**{amount}"
        out = [rmr]
        if self.purchase_order:
            out.append(f"REF*PO*{self.purchase_order}")
        if self.description:
            out.append(f"REF*ZZ**{self.description}")
        out.append("DTM*003*20261015")
        for adjustment in self.adx:
            value, code, *about = adjustment
            out.append(f"ADX*{Decimal(value)}*{code}" + (f"*{about[0]}*{about[1]}" if about else ""))
        return out


def invoice(number: str, amount: str, *, po: str | None = None) -> Line:
    return Line(number, amount, invoice_amount=amount, purchase_order=po)


def deduction(reference: str, amount: str, *, code: str = "ZZ", about: tuple[str, str] | None = None,
              description: str | None = None) -> Line:
    return Line(reference, amount, adx=[(amount, code, *(about or ()))], description=description)


def make_820(trace: str, lines: list[Line], *, payment: Decimal | str | None = None,
             paid_on: dt.date = dt.date(2026, 10, 23), control: int = 173, ent_adjustments: list[tuple] = ()) -> bytes:
    """An Amazon-style 820 interchange; BPR02 is the sum of the lines unless ``payment`` is given."""
    total = sum((Decimal(line.amount) for line in lines), Decimal(0))
    total += sum((Decimal(a[0]) for a in ent_adjustments), Decimal(0))
    amount = Decimal(payment) if payment is not None else total
    body = [
        f"BPR*C*{amount}*C*ACH*CTX***********{paid_on:%Y%m%d}",
        f"TRN*1*{trace}",
        "CUR*PR*USD",
        "REF*VR*VENDR",
        f"DTM*097*{paid_on:%Y%m%d}",
        "N1*PR*Amazon.com Services LLC*92*AMAZON",
        "N1*PE*VENDR*92*VENDR",
        "ENT*1",
        *[f"ADX*{Decimal(a[0])}*{a[1]}" + (f"*{a[2]}*{a[3]}" if len(a) > 2 else "") for a in ent_adjustments],
        *[segment for line in lines for segment in line.segments()],
    ]
    st = f"{control:04d}"
    segments = [f"ST*820*{st}", *body]
    segments.append(f"SE*{len(segments) + 1}*{st}")
    isa = ("ISA*00*          *00*          *ZZ*AMAZON         *ZZ*VENDOR         *261023*1600*U*00401*"
           f"{control:09d}*0*T*>")
    group = [f"GS*RA*AMAZON*VENDOR*20261023*1600*{control}*X*004010", *segments, f"GE*1*{control}"]
    return ("~".join([isa, *group, f"IEA*1*{control:09d}"]) + "~\n").encode()


def invoiced(emulator, count: int, *, eaches: int = 3) -> list:
    """``count`` Amazon orders in the BlueCherry emulator, shipped and invoiced (setup only)."""
    from tests.bluecherry.conftest import _draft_for, _items_with, _new_po

    items = _items_with(emulator, count=2, min_available=eaches * count + 1)
    invoices = []
    for _ in range(count):
        written = emulator.backend.upsert_sales_order(_draft_for(items, [eaches, eaches + 1], po=_new_po("R")),
                                                      idempotency_key=_new_po("key"))
        invoices += emulator.backend.fulfil(written.document_number)[1]
    return invoices


def receive(store, content: bytes, *, name: str = "AMZN820.1", settings=None, received_at=None) -> list[int]:
    """Store an 820 file as po_to_so's pickup would and run the real intake; the 820 transaction ids."""
    from amazon_bluecherry.flows.intake import process_inbound
    from amazon_bluecherry.settings import Settings

    raw_id, _ = store.save_raw_document(content, partner="AMAZON", transport="sftp", remote_name=name,
                                        received_at=received_at)
    result = process_inbound(store, raw_id, settings or Settings())
    return result.accepted.get("820", [])
