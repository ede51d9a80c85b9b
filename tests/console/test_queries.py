"""What the exceptions console shows, read from the store: filters and search, the Amazon
window at risk, the data path in Amazon's order with what decided each step, the audit trail,
and which documents can be re-sent or replayed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from amazon_bluecherry.console.queries import exception_detail, exception_rows
from amazon_bluecherry.flows.exceptions import open_exception
from amazon_bluecherry.store.models import OutboundDocument

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def _order_path(store):
    """850 (held, translated with a mapping row) -> sales order -> 855 sent, unacknowledged."""
    po = store.add_transaction("850", direction="in", partner="AMAZON", business_key="PATH1", status="held", data={
        "verdict": {"status": "A", "errors": []},
        "translation": {"bc_customer": "AMAZON", "bc_store": "ABE2", "bc_warehouse": "NJ01", "held": True,
                        "lines": [{"line_number": 1, "product_id_qualifier": "UP", "product_id": "028877454078",
                                   "style": "TEE100", "color": "BLK", "size": "M", "amazon_qty": 2,
                                   "amazon_uom": "CA", "case_pack_qty": 12, "qty_eaches": 24, "unit_price": "6.00",
                                   "bc_unit_cost": "6.50"}],
                        "issues": [{"type": "price_mismatch", "message": "line 1: 6.00 vs unit_cost 6.50"}]}})
    store.set_deadline(po, "poa_due", NOW + timedelta(hours=3), business_key="PATH1")
    order = store.add_transaction("sales_order", direction="out", partner="BLUECHERRY", business_key="PATH1",
                                  status="created")
    raw_id, _ = store.save_raw_document(b"ISA*855 PATH1", partner="AMAZON", transport="sftp", direction="out")
    ack = store.add_transaction("855", direction="out", partner="AMAZON", business_key="PATH1",
                                raw_document_id=raw_id, status="sent")
    store.link(po, order, "sales_order")
    store.link(po, ack, "acknowledgement")
    with store.session() as db:
        outbound = OutboundDocument(partner="AMAZON", doc_type="855", raw_document_id=raw_id, isa13="000000077",
                                    gs06="77", st02_list=["0001"], file_name="VENDR855.000000077",
                                    status="unacknowledged", sent_at=NOW - timedelta(hours=6))
        db.add(outbound)
    return po


def test_filters_search_and_window_at_risk(store):
    po = _order_path(store)
    held = open_exception(store, "price_mismatch", "PO PATH1 line 1: Amazon pays 6.00, unit_cost 6.50",
                          business_key="PATH1", transaction_id=po)
    other = open_exception(store, "not_x12", "raw document 9 is not X12")
    rows, counts, types = exception_rows(store=store, now=NOW)
    assert {row["id"] for row in rows} == {held, other}
    assert counts == {"wholesale": 1, "integration": 1} and types == ["not_x12", "price_mismatch"]
    assert [r["id"] for r in exception_rows(store=store, owner="wholesale", now=NOW)[0]] == [held]
    assert [r["id"] for r in exception_rows(store=store, q="x12", now=NOW)[0]] == [other]
    at_risk = exception_rows(store=store, at_risk_hours=4, now=NOW)[0]
    assert [(r["id"], r["due_at"]) for r in at_risk] == [(held, NOW + timedelta(hours=3))]
    assert exception_rows(store=store, at_risk_hours=2, now=NOW)[0] == []
    store.update_exception(other, status="resolved", note="junk")
    assert [r["id"] for r in exception_rows(store=store, now=NOW)[0]] == [held]
    assert [r["id"] for r in exception_rows(store=store, status="resolved", now=NOW)[0]] == [other]


def test_detail_has_the_data_path_in_order_with_what_decided_each_step(store):
    po = _order_path(store)
    held = open_exception(store, "price_mismatch", "PO PATH1 line 1: price", business_key="PATH1",
                          transaction_id=po)
    store.update_exception(held, status="acknowledged", note="asking the buyer", actor="airflow:ana")
    found = exception_detail(held, store=store, now=NOW)
    assert [step["doc_type"] for step in found["path"]] == ["850", "sales_order", "855"]
    facts = " | ".join(found["path"][0]["decided_by"])
    assert "ship_to.csv: N1*ST -> customer AMAZON / store ABE2 / warehouse NJ01" in facts
    assert "items.csv: line 1 UP 028877454078 -> TEE100-BLK-M, 2 CA x pack 12 = 24 eaches" in facts
    assert "rule price_mismatch: line 1: 6.00 vs unit_cost 6.50" in facts
    assert found["path"][2]["outbound"]["file_name"] == "VENDR855.000000077"
    assert found["window"].startswith("855 due 2026-11-30 12:00 UTC: closes in 3 h")
    assert [(e["kind"], e.get("by")) for e in found["trail"]] == [("exception.opened", None),
                                                                  ("exception.acknowledged", "airflow:ana")]
    assert [o["file_name"] for o in found["resendable"]] == ["VENDR855.000000077"]
    assert found["retranslatable"] == "PATH1"
