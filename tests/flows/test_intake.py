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
