"""Inbound X12 after pickup: every set recorded, a 997 for every group, 997s matched."""

from __future__ import annotations

import pytest

from amazon_bluecherry.edi.ack import parse_997
from amazon_bluecherry.edi.build import write_documents
from amazon_bluecherry.edi.parse import parse_file
from amazon_bluecherry.flows.intake import pending_raw_documents, process_inbound
from amazon_bluecherry.flows.outbound import pending_outbound_ids, stage_documents
from amazon_bluecherry.settings import Settings
from amazon_bluecherry.store.models import OutboundDocument, Transaction
from tests.flows.conftest import make_850


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(home=tmp_path, partner_id="AMAZON", vendor_id="VENDOR", vendor_code="VENDR")


def receive(store, content: bytes, name: str = "AMZN850.1") -> int:
    raw_id, _ = store.save_raw_document(content, partner="AMAZON", transport="sftp", remote_name=name)
    return raw_id


def transactions(store, **filters):
    from sqlalchemy import select

    with store.session() as db:
        query = select(Transaction).order_by(Transaction.id)
        for column, value in filters.items():
            query = query.where(getattr(Transaction, column) == value)
        return list(db.scalars(query))


def test_good_850_is_received_and_acknowledged_with_a_997(store, settings):
    raw_id = receive(store, make_850("PO1"))
    assert pending_raw_documents(store) == [raw_id]
    result = process_inbound(store, raw_id, settings)
    (po,) = transactions(store, doc_type="850")
    assert (po.status, po.business_key, po.isa13, po.st02) == ("received", "PO1", "000012911", "0001")
    assert result.accepted == {"850": [po.id]} and not result.rejected and not result.exception_ids
    assert pending_raw_documents(store) == []
    with store.session() as db:
        ack = db.get(OutboundDocument, result.ack_outbound_document_id)
        (functional_ack,) = parse_997(store.get_raw_document(ack.raw_document_id, session=db).content)
        assert (ack.doc_type, ack.status, ack.file_name) == ("997", "pending", f"VENDR997.{int(ack.isa13):09d}")
    assert (functional_ack.group_control_number, functional_ack.status) == ("12911", "A")
    assert pending_outbound_ids(store) == [result.ack_outbound_document_id]


def test_processing_twice_changes_nothing(store, settings):
    raw_id = receive(store, make_850("PO1"))
    first = process_inbound(store, raw_id, settings)
    second = process_inbound(store, raw_id, settings)
    assert first == second
    assert len(transactions(store, doc_type="850")) == 1 and len(pending_outbound_ids(store)) == 1


def test_set_with_wrong_segment_count_is_rejected_with_code_4_and_an_exception(store, settings):
    broken = make_850("BAD1").replace(b"SE*10*0001", b"SE*12*0001")
    assert b"SE*12*0001" in broken
    result = process_inbound(store, receive(store, broken), settings)
    (po,) = transactions(store, doc_type="850")
    assert po.status == "rejected" and result.rejected == [po.id]
    (exception,) = store.list_exceptions(type="edi_rejected")
    assert exception.owner == "integration" and exception.business_key == "BAD1"
    assert exception.transaction_id == po.id and "A 997 with the errors was sent" in exception.message
    with store.session() as db:
        raw = db.get(OutboundDocument, result.ack_outbound_document_id).raw_document_id
        (functional_ack,) = parse_997(store.get_raw_document(raw, session=db).content)
    assert functional_ack.status == "R"
    assert [(s.status, s.codes) for s in functional_ack.sets] == [("R", ["4"])]


def test_one_bad_set_does_not_block_the_other(store, settings):
    good = make_850("GOOD1").decode()
    bad = make_850("BAD2").decode().replace("SE*10*0001", "SE*12*0002").replace("ST*850*0001", "ST*850*0002")
    # Two sets in one group: splice the second ST..SE into the first file's group.
    second_set = bad[bad.index("ST*850"):bad.index("GE*")]
    combined = good.replace("GE*1*", second_set + "GE*2*")
    result = process_inbound(store, receive(store, combined.encode()), settings)
    statuses = {t.business_key: t.status for t in transactions(store, doc_type="850")}
    assert statuses == {"GOOD1": "received", "BAD2": "rejected"}
    assert len(result.accepted["850"]) == 1 and len(result.rejected) == 1


def test_duplicate_interchange_from_another_file_is_flagged(store, settings):
    process_inbound(store, receive(store, make_850("PO1")), settings)
    process_inbound(store, receive(store, make_850("PO2"), name="AMZN850.2"), settings)
    assert [e.type for e in store.list_exceptions()] == ["duplicate_interchange"]


def test_amazons_997_marks_our_855_file_accepted_or_rejected(store, settings):
    (po,) = parse_file(make_850("PO9"))
    from datetime import date

    from amazon_bluecherry.edi.documents import (
        AcknowledgementLine,
        LineAcknowledgement,
        PurchaseOrderAcknowledgement,
    )

    ack = PurchaseOrderAcknowledgement(
        acknowledgement_type="AD", purchase_order_number="PO9", purchase_order_date=date(2026, 11, 26),
        lines=[AcknowledgementLine(line_number="1", quantity=8, unit="EA", unit_price=6.5, price_basis="PE",
                                   product_ids=po.lines[0].product_ids,
                                   acknowledgements=[LineAcknowledgement(status="IA", quantity=8, unit="EA")])])
    staged = stage_documents(store, [ack], business_keys=["PO9"], settings=settings)
    with store.session() as db:
        outbound = db.get(OutboundDocument, staged.outbound_document_id)
        gs06, st02 = outbound.gs06, outbound.st02_list[0]
    amazon_997 = (
        "ISA*00*          *00*          *ZZ*AMAZON         *ZZ*VENDOR         *261126*0300*U*00401*000077001*0*P*>~"
        f"GS*FA*AMAZON*VENDOR*20261126*0300*77001*X*004010~ST*997*0001~AK1*PR*{gs06}~AK2*855*{st02}~AK5*R*5~"
        "AK9*R*1*1*0~SE*6*0001~GE*1*77001~IEA*1*000077001~").encode()
    result = process_inbound(store, receive(store, amazon_997, "AMZN997.1"), settings)
    assert result.ack_outbound_document_id is None, "a 997 is never acknowledged"
    with store.session() as db:
        outbound = db.get(OutboundDocument, staged.outbound_document_id)
        assert (outbound.status, outbound.ack_status) == ("rejected", "R")
    (sent,) = transactions(store, doc_type="855")
    assert sent.status == "rejected_by_partner"
    (exception,) = store.list_exceptions(type="transmission_rejected")
    assert exception.severity == "critical" and outbound.file_name in exception.message


def test_not_x12_content_is_refused_with_an_exception(store, settings):
    raw_id = receive(store, b"<html>login page</html>", "AMZN850.9")
    result = process_inbound(store, raw_id, settings)
    assert result.status == "not_x12"
    (exception,) = store.list_exceptions(type="not_x12")
    assert exception.raw_document_id == raw_id and store.get_raw_document(raw_id).status == "refused"


def test_written_documents_round_trip_through_intake(store, settings):
    # Our own writer's output must pass our own validator.
    (po,) = parse_file(make_850("RT1"))
    raw = write_documents([po], sender="AMAZON", receiver="VENDOR", control_numbers=store.control_numbers("X"))
    result = process_inbound(store, receive(store, raw), settings)
    assert list(result.accepted) == ["850"] and not result.rejected


# --- issue 14: TA1s, Direct Fulfillment, broken envelopes, re-sends ------------------------

def _staged_855(store, settings, po_number="PO9"):
    from datetime import date

    from amazon_bluecherry.edi.documents import (
        AcknowledgementLine,
        LineAcknowledgement,
        PurchaseOrderAcknowledgement,
    )

    (po,) = parse_file(make_850(po_number))
    ack = PurchaseOrderAcknowledgement(
        acknowledgement_type="AD", purchase_order_number=po_number, purchase_order_date=date(2026, 11, 26),
        lines=[AcknowledgementLine(line_number="1", quantity=8, unit="EA", unit_price=6.5, price_basis="PE",
                                   product_ids=po.lines[0].product_ids,
                                   acknowledgements=[LineAcknowledgement(status="IA", quantity=8, unit="EA")])])
    return stage_documents(store, [ack], business_keys=[po_number], settings=settings)


def _ta1_file(isa13: str, status: str, code: str, own: str = "000088001") -> bytes:
    return (f"ISA*00*          *00*          *ZZ*AMAZON         *ZZ*VENDOR         *261126*0300*U*00401*{own}*0*P*>~"
            f"TA1*{isa13}*261126*0250*{status}*{code}~IEA*0*{own}~").encode()


def test_a_ta1_rejecting_our_interchange_rejects_the_file_and_opens_an_exception(store, settings):
    from amazon_bluecherry.store.models import InterchangeAcknowledgement

    staged = _staged_855(store, settings)
    result = process_inbound(store, receive(store, _ta1_file(staged.isa13, "R", "006"), "AMZNTA1.1"), settings)
    assert result.status == "processed" and result.ack_outbound_document_id is None  # a TA1 is never answered
    with store.session() as db:
        outbound = db.get(OutboundDocument, staged.outbound_document_id)
        assert outbound.status == "rejected"
        [ta1] = db.query(InterchangeAcknowledgement).all()
        assert (ta1.control_number, ta1.status, ta1.code, ta1.outbound_document_id) == (
            staged.isa13, "R", "006", outbound.id)
    (sent,) = transactions(store, doc_type="855")
    assert sent.status == "rejected_by_partner"
    (exception,) = store.list_exceptions(type="transmission_rejected")
    assert "TA105 006" in exception.message and "invalid interchange sender ID" in exception.message
    assert [e.kind for e in store.events(entity_type="outbound_document", entity_id=outbound.id)][-1] == (
        "outbound.interchange_acknowledged")


def test_an_accepting_ta1_is_recorded_and_the_sets_still_wait_for_their_997(store, settings):
    from amazon_bluecherry.store.models import InterchangeAcknowledgement

    staged = _staged_855(store, settings)
    with store.session() as db:
        db.get(OutboundDocument, staged.outbound_document_id).status = "sent"
    process_inbound(store, receive(store, _ta1_file(staged.isa13, "A", "000"), "AMZNTA1.2"), settings)
    process_inbound(store, receive(store, _ta1_file("000999999", "A", "000", own="000088002"), "AMZNTA1.3"),
                    settings)
    with store.session() as db:
        assert db.get(OutboundDocument, staged.outbound_document_id).status == "sent"
        rows = db.query(InterchangeAcknowledgement).order_by(InterchangeAcknowledgement.id).all()
        assert [(r.control_number, r.outbound_document_id is not None) for r in rows] == [
            (staged.isa13, True), ("000999999", False)]  # the unmatched one is kept too
    assert store.list_exceptions() == []


def test_a_direct_fulfillment_interchange_gets_not_supported_and_one_exception(store, settings):
    from pathlib import Path

    sample = (Path(__file__).resolve().parents[2] / "include" / "edi_samples" /
              "amazon_DF_850__Stedi_starter-kit__jedi-850-to-orders-api_README.edi").read_bytes()
    raw_id = receive(store, sample, "AMZNDS850.1")
    result = process_inbound(store, raw_id, settings)
    (po,) = transactions(store, doc_type="850")
    assert po.status == "rejected" and result.rejected == [po.id]
    [exception] = store.list_exceptions()
    assert exception.type == "direct_fulfillment_unsupported" and exception.severity == "critical"
    assert "AMAZONDS" in exception.message and "850 0010" in exception.message
    with store.session() as db:
        ack = db.get(OutboundDocument, result.ack_outbound_document_id)
        (functional_ack,) = parse_997(store.get_raw_document(ack.raw_document_id, session=db).content)
    assert [(s.status, s.codes) for s in functional_ack.sets] == [("R", ["1"])]


def test_a_broken_envelope_without_groups_is_answered_with_a_ta1_not_a_crash(store, settings):
    from amazon_bluecherry.edi.ack import parse_ta1

    broken = (b"ISA*00*          *00*          *ZZ*AMAZON         *ZZ*VENDOR         *261126*1200*U*00401*"
              b"000000777*1*T*>~IEA*2*000000777~")
    result = process_inbound(store, receive(store, broken, "AMZN850.broken"), settings)
    with store.session() as db:
        ack = db.get(OutboundDocument, result.ack_outbound_document_id)
        assert (ack.doc_type, ack.file_name) == ("TA1", f"VENDR997.{int(ack.isa13):09d}")
        [ta1] = parse_ta1(store.get_raw_document(ack.raw_document_id, session=db).content)
    assert (ta1.control_number, ta1.status, ta1.code) == ("000000777", "R", "021")
    assert [e.type for e in store.list_exceptions()] == ["edi_interchange_rejected"]


def test_a_byte_identical_resend_is_acknowledged_again_without_processing_twice(store, settings):
    from amazon_bluecherry.flows.intake import pending_arrivals, reacknowledge
    from amazon_bluecherry.store.models import InboundArrival

    content = make_850("PO7")
    raw_id = receive(store, content)

    def arrive() -> int:  # what pickup records for each arrival of the file
        with store.session() as db:
            arrival = InboundArrival(raw_document_id=raw_id, location="amazon:/download", remote_name="AMZN850.7",
                                     size=len(content))
            db.add(arrival)
            db.flush()
            return arrival.id

    first_arrival = arrive()
    first = process_inbound(store, raw_id, settings)
    assert pending_arrivals(store) == []
    second_arrival = arrive()  # Amazon never got our 997 and sends the same bytes again
    assert pending_arrivals(store) == [second_arrival]
    again = reacknowledge(store, second_arrival, settings)
    assert reacknowledge(store, second_arrival, settings) == again  # once only
    assert pending_arrivals(store) == []

    assert len(transactions(store, doc_type="850")) == 1  # the PO is not recorded twice
    with store.session() as db:
        first_ack, second_ack = (db.get(OutboundDocument, i) for i in (first.ack_outbound_document_id, again))
        assert first_ack.isa13 != second_ack.isa13 and first_ack.gs06 != second_ack.gs06  # new control numbers
        verdicts = [parse_997(store.get_raw_document(a.raw_document_id, session=db).content)[0]
                    for a in (first_ack, second_ack)]
        assert [(v.group_control_number, v.status, [(s.control_number, s.status) for s in v.sets])
                for v in verdicts] == [("12911", "A", [("0001", "A")])] * 2  # the same verdicts, no "duplicate"
        assert [db.get(InboundArrival, i).ack_outbound_document_id for i in (first_arrival, second_arrival)] == [
            first_ack.id, second_ack.id]
    assert [e.payload["arrival_id"] for e in store.events(kind="raw_document.reacknowledged")] == [second_arrival]
    assert store.list_exceptions() == []


def test_another_file_reusing_the_control_numbers_is_still_a_duplicate(store, settings):
    process_inbound(store, receive(store, make_850("PO7")), settings)
    other = process_inbound(store, receive(store, make_850("PO8"), "AMZN850.8"), settings)  # same ISA13/GS06/ST02
    assert [e.type for e in store.list_exceptions()] == ["duplicate_interchange"]
    assert other.rejected and not other.accepted
