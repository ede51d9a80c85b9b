"""Amazon's 24-hour 855 window and overdue 997s, watched per document in the store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from amazon_bluecherry.flows.so_to_poa_steps import monitor_windows
from amazon_bluecherry.settings import Settings
from amazon_bluecherry.store.models import OutboundDocument

RECEIVED = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(home=tmp_path, poa_alert_lead_hours=4, ack_timeout_hours=4)


def purchase_order(store, po_number: str) -> int:
    transaction_id = store.add_transaction("850", direction="in", partner="AMAZON", business_key=po_number)
    store.set_deadline(transaction_id, "poa_due", RECEIVED + timedelta(hours=24), business_key=po_number)
    return transaction_id


def send_855(store, po_transaction_id: int, sent_at: datetime, file_name: str = "VENDR855.000000001") -> int:
    raw_id, _ = store.save_raw_document(file_name.encode(), partner="AMAZON", transport="sftp", direction="out")
    ack_id = store.add_transaction("855", direction="out", partner="AMAZON", raw_document_id=raw_id, status="sent")
    store.link(po_transaction_id, ack_id, "acknowledgement")
    with store.session() as db:
        outbound = OutboundDocument(partner="AMAZON", doc_type="855", raw_document_id=raw_id, isa13=file_name[-9:],
                                    gs06="1", st02_list=["0001"], file_name=file_name, status="sent", sent_at=sent_at)
        db.add(outbound)
        db.flush()
        return outbound.id


def test_window_at_risk_alerts_once_then_missed(store, settings, caplog):
    purchase_order(store, "PO-LATE")
    assert monitor_windows(store, settings, now=RECEIVED + timedelta(hours=10)).at_risk == []
    early = monitor_windows(store, settings, now=RECEIVED + timedelta(hours=21))
    assert early.at_risk == ["PO-LATE"]
    (risk,) = store.list_exceptions(type="poa_window_at_risk")
    assert risk.owner == "wholesale" and "closes at 2026-11-27 08:00 UTC (in 3.0 h)" in risk.message
    assert "poa_window_at_risk" in caplog.text, "the exception is logged; its alert goes out with alert_owners"
    assert monitor_windows(store, settings, now=RECEIVED + timedelta(hours=22)).at_risk == [], "alerted once"
    late = monitor_windows(store, settings, now=RECEIVED + timedelta(hours=25))
    assert late.missed == ["PO-LATE"]
    (missed,) = store.list_exceptions(type="poa_window_missed")
    assert missed.severity == "critical" and "has not been sent" in missed.message
    assert monitor_windows(store, settings, now=RECEIVED + timedelta(hours=30)).missed == [], "recorded once"


def test_855_sent_in_time_meets_the_window(store, settings):
    transaction_id = purchase_order(store, "PO-OK")
    send_855(store, transaction_id, RECEIVED + timedelta(hours=2))
    result = monitor_windows(store, settings, now=RECEIVED + timedelta(hours=3))
    assert result.met == ["PO-OK"] and not store.list_exceptions(type="poa_window_missed")


def test_855_sent_after_the_window_is_recorded_as_missed(store, settings):
    transaction_id = purchase_order(store, "PO-SLOW")
    send_855(store, transaction_id, RECEIVED + timedelta(hours=26))
    assert monitor_windows(store, settings, now=RECEIVED + timedelta(hours=27)).missed == ["PO-SLOW"]
    (missed,) = store.list_exceptions(type="poa_window_missed")
    assert "went at 2026-11-27 10:00 UTC" in missed.message


def test_sent_file_without_a_997_is_flagged_unacknowledged(store, settings):
    transaction_id = purchase_order(store, "PO-ACK")
    outbound_id = send_855(store, transaction_id, RECEIVED)
    assert monitor_windows(store, settings, now=RECEIVED + timedelta(hours=3)).unacknowledged == []
    result = monitor_windows(store, settings, now=RECEIVED + timedelta(hours=5))
    assert result.unacknowledged == ["VENDR855.000000001"]
    (exception,) = store.list_exceptions(type="transmission_unacknowledged")
    assert exception.owner == "integration"
    with store.session() as db:
        assert db.get(OutboundDocument, outbound_id).status == "unacknowledged"
    assert monitor_windows(store, settings, now=RECEIVED + timedelta(hours=6)).unacknowledged == []


def test_an_855_amazon_rejected_does_not_meet_the_window(store, settings):
    from amazon_bluecherry.flows.intake import _reopen_windows
    from amazon_bluecherry.store.models import Transaction

    transaction_id = purchase_order(store, "PO-REJ")
    outbound_id = send_855(store, transaction_id, RECEIVED + timedelta(hours=1))
    assert monitor_windows(store, settings, now=RECEIVED + timedelta(hours=2)).met == ["PO-REJ"]
    # Amazon's 997 rejects the 855: the window is open again and runs out.
    with store.session() as db:
        db.get(OutboundDocument, outbound_id).status = "rejected"
        (ack,) = [t for t in db.query(Transaction).filter(Transaction.doc_type == "855")]
        ack.status = "rejected_by_partner"
        _reopen_windows(db, ack.id)
    assert monitor_windows(store, settings, now=RECEIVED + timedelta(hours=21)).at_risk == ["PO-REJ"]
    assert monitor_windows(store, settings, now=RECEIVED + timedelta(hours=25)).missed == ["PO-REJ"]


# --- fulfilment_to_asn: 30 minutes from departure, and Amazon's 997 for every 856 ----------

DEPARTED = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)


def departed_shipment(store, shipment_id: str) -> None:
    """A shipment the carrier collected at DEPARTED, as prepare_ship_notices records it."""
    from amazon_bluecherry.store.models import ShipNotice

    transaction_id = store.add_transaction("shipment", direction="in", partner="BLUECHERRY",
                                           business_key=shipment_id, status="departed")
    store.set_deadline(transaction_id, "asn_due", DEPARTED + timedelta(minutes=30), business_key=shipment_id)
    with store.session() as db:
        db.add(ShipNotice(shipment_id=shipment_id, partner="AMAZON", status="held", departed_at=DEPARTED,
                          asn_due_at=DEPARTED + timedelta(minutes=30), shipment_transaction_id=transaction_id))


def send_856(store, shipment_id: str, sent_at: datetime, file_name: str = "VENDR856.000000007") -> int:
    from sqlalchemy import select

    from amazon_bluecherry.store.models import ShipNotice

    raw_id, _ = store.save_raw_document(file_name.encode(), partner="AMAZON", transport="sftp", direction="out")
    with store.session() as db:
        outbound = OutboundDocument(partner="AMAZON", doc_type="856", raw_document_id=raw_id, isa13=file_name[-9:],
                                    gs06="7", st02_list=["0001"], file_name=file_name, status="sent", sent_at=sent_at)
        db.add(outbound)
        db.flush()
        row = db.scalar(select(ShipNotice).where(ShipNotice.shipment_id == shipment_id))
        row.status, row.outbound_document_id = "confirmed", outbound.id
        return outbound.id


def test_asn_window_at_risk_then_missed_for_a_held_shipment(store, settings):
    from amazon_bluecherry.flows.fulfilment_to_asn_steps import monitor_asn_windows

    departed_shipment(store, "SH-HELD")
    lead = Settings(home=settings.home, asn_alert_lead_minutes=10, ack_timeout_hours=4)
    assert monitor_asn_windows(store, lead, now=DEPARTED + timedelta(minutes=5)).at_risk == []
    assert monitor_asn_windows(store, lead, now=DEPARTED + timedelta(minutes=22)).at_risk == ["SH-HELD"]
    (risk,) = store.list_exceptions(type="asn_window_at_risk")
    assert risk.owner == "warehouse" and risk.business_key == "SH-HELD"
    assert "no ASN yet and Amazon's window closes at 2026-11-26 14:30 UTC (in 8 min)" in risk.message
    assert monitor_asn_windows(store, lead, now=DEPARTED + timedelta(minutes=25)).at_risk == [], "alerted once"
    assert monitor_asn_windows(store, lead, now=DEPARTED + timedelta(minutes=31)).missed == ["SH-HELD"]
    (missed,) = store.list_exceptions(type="asn_window_missed")
    assert missed.severity == "critical" and "the ASN was due 2026-11-26 14:30 UTC and has not been sent" \
        in missed.message
    assert monitor_asn_windows(store, lead, now=DEPARTED + timedelta(hours=2)).missed == [], "recorded once"


def test_asn_sent_late_is_a_missed_window_and_in_time_is_met(store, settings):
    from amazon_bluecherry.flows.fulfilment_to_asn_steps import monitor_asn_windows

    departed_shipment(store, "SH-LATE")
    departed_shipment(store, "SH-OK")
    send_856(store, "SH-LATE", DEPARTED + timedelta(minutes=45), "VENDR856.000000008")
    send_856(store, "SH-OK", DEPARTED + timedelta(minutes=20), "VENDR856.000000009")
    result = monitor_asn_windows(store, settings, now=DEPARTED + timedelta(minutes=50))
    assert (result.met, result.missed) == (["SH-OK"], ["SH-LATE"])
    (missed,) = store.list_exceptions(type="asn_window_missed")
    assert missed.business_key == "SH-LATE" and "went at 2026-11-26 14:45 UTC" in missed.message


def test_an_856_without_amazons_997_is_flagged_unacknowledged(store, settings):
    from amazon_bluecherry.flows.fulfilment_to_asn_steps import monitor_asn_windows

    departed_shipment(store, "SH-ACK")
    outbound_id = send_856(store, "SH-ACK", DEPARTED + timedelta(minutes=10))
    assert monitor_asn_windows(store, settings, now=DEPARTED + timedelta(hours=3)).unacknowledged == []
    result = monitor_asn_windows(store, settings, now=DEPARTED + timedelta(hours=5))
    assert result.unacknowledged == ["VENDR856.000000007"]
    (exception,) = store.list_exceptions(type="transmission_unacknowledged")
    assert exception.owner == "integration" and "VENDR856.000000007 (856)" in exception.message
    with store.session() as db:
        assert db.get(OutboundDocument, outbound_id).status == "unacknowledged"
