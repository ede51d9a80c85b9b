"""fulfilment_to_asn tables (migration 0004) on SQLite and PostgreSQL: what the flow relies on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.exc import IntegrityError

from amazon_bluecherry.store.fulfilment import bill_of_lading_taken, dispute_documents, sscc_taken
from amazon_bluecherry.store.models import Base, Invoice, ShipNotice, ShipNoticeCarton

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
FULFILMENT_TABLES = {"ship_notices", "ship_notice_cartons", "invoices"}


def test_migration_creates_the_tables_as_the_models_declare_them(store):
    with store.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)

    flat = [c for group in diff for c in (group if isinstance(group, list) else [group])]
    ours = [c for c in flat if any(t in repr(c) for t in FULFILMENT_TABLES)]
    assert ours == [], ours


def notice(db, shipment_id: str, *, status: str, bol: str, ssccs: list[str], used_at: datetime) -> ShipNotice:
    row = ShipNotice(shipment_id=shipment_id, partner="AMAZON", status=status, bill_of_lading=bol,
                     purchase_orders=["PO1"])
    db.add(row)
    db.flush()
    for number, sscc in enumerate(ssccs, start=1):
        db.add(ShipNoticeCarton(ship_notice_id=row.id, sscc=sscc, carton_number=number, contents=[],
                                used_at=used_at, label_pdf=b"%PDF-1.4 label", label_zpl="^XA^XZ"))
    db.flush()
    return row


def test_sscc_and_bol_reuse_count_only_asns_that_were_staged(store):
    with store.session() as db:
        notice(db, "SH1", status="sent", bol="VENDR00000001", ssccs=["006141410000000018"],
               used_at=NOW - timedelta(days=10))
        notice(db, "SH2", status="held", bol="VENDR00000002", ssccs=["006141410000000025"], used_at=NOW)
        notice(db, "SH0", status="confirmed", bol="VENDR00000003", ssccs=["006141410000000032"],
               used_at=NOW - timedelta(days=400))
    with store.session() as db:
        since = NOW - timedelta(days=365)
        taken = sscc_taken(db, "006141410000000018", shipment_id="SH9", since=since)
        assert taken is not None and taken[0] == "SH1"
        assert sscc_taken(db, "006141410000000018", shipment_id="SH1", since=since) is None, "its own ASN"
        assert sscc_taken(db, "006141410000000025", shipment_id="SH9", since=since) is None, "held: never used"
        assert sscc_taken(db, "006141410000000032", shipment_id="SH9", since=since) is None, "older than 365 days"
        assert bill_of_lading_taken(db, "VENDR00000001", shipment_id="SH9") == "SH1"
        assert bill_of_lading_taken(db, "VENDR00000003", shipment_id="SH9") == "SH0", "a BOL is unique for ever"
        assert bill_of_lading_taken(db, "VENDR00000002", shipment_id="SH9") is None


def test_invoice_numbers_are_unique_for_ever_and_one_per_shipment_and_po(store):
    with store.session() as db:
        db.add(Invoice(invoice_number="INV1", shipment_id="SH1", purchase_order="PO1", status="sent",
                       source="bluecherry", total_amount=Decimal("12.34")))
    with pytest.raises(IntegrityError), store.session() as db:
        db.add(Invoice(invoice_number="INV1", shipment_id="SH2", purchase_order="PO2", status="drafted",
                       source="bluecherry"))
    with pytest.raises(IntegrityError), store.session() as db:
        db.add(Invoice(invoice_number="INV2", shipment_id="SH1", purchase_order="PO1", status="drafted",
                       source="bluecherry"))
    with store.session() as db:  # held invoices without a number do not collide
        db.add(Invoice(invoice_number=None, shipment_id="SH3", purchase_order="PO3", status="held", source="asn"))
        db.add(Invoice(invoice_number=None, shipment_id="SH4", purchase_order="PO4", status="held", source="asn"))
    with store.session() as db:
        amount = db.query(Invoice).filter_by(invoice_number="INV1").one().total_amount
    assert Decimal(amount) == Decimal("12.34")


def test_dispute_documents_for_an_invoice(store):
    with store.session() as db:
        row = notice(db, "SH1", status="sent", bol="VENDR00000001", ssccs=["006141410000000018"], used_at=NOW)
        db.add(Invoice(invoice_number="INV1", shipment_id="SH1", purchase_order="PO1", status="sent",
                       source="bluecherry", total_amount=Decimal("10.00"), ship_notice_id=row.id))
    packet = dispute_documents(store, invoice_number="INV1")
    assert packet.shipment_id == "SH1" and packet.bill_of_lading == "VENDR00000001"
    assert [c.sscc for c in packet.cartons] == ["006141410000000018"]
    assert packet.cartons[0].label_pdf.startswith(b"%PDF")
    assert [i["invoice_number"] for i in packet.invoices] == ["INV1"]
    assert dispute_documents(store, purchase_order="PO1").shipment_id == "SH1"
    assert dispute_documents(store, invoice_number="NOPE") is None
