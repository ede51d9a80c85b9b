"""fulfilment_to_asn runs for real (dag.test) after the order path: the Amazon simulator's
POs -> sales orders -> 855s -> the emulator's warehouse picks, packs and ships, the carrier
collects -> ASNs, labels, invoices that the simulator accepts; broken shipments are held."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from amazon_bluecherry.edi.parse import parse_file
from amazon_bluecherry.store.models import Invoice, OutboundDocument, ShipNotice, ShipNoticeCarton
from tests.dags.conftest import run_dag, task_states

pytestmark = pytest.mark.slow


def simulated_orders(parties, tmp_path, count: int):
    from amazon_bluecherry.settings import REPO_ROOT
    from sandbox.amazon.catalogue import ItemCatalogue
    from sandbox.amazon.clock import WallClock
    from sandbox.amazon.partner import AmazonSimulator

    mailbox, _, _ = parties
    amazon = AmazonSimulator(tmp_path / "amazon", mailbox, clock=WallClock(), seed=3,
                             catalogue=ItemCatalogue.from_mappings(REPO_ROOT / "include" / "mappings"))
    sent = amazon.send_purchase_orders(count, defects_rate=0.0, seed=3)
    return amazon, [order.purchase_order for order in sent]


def orders_with_stock(backend, purchase_orders):
    orders = {o.customer_po: o for o in backend.list_sales_orders(customer_pos=purchase_orders)}
    return [orders[po] for po in purchase_orders if po in orders and any(line.qty_allocated for line in orders[po].lines)]


def test_shipments_become_asns_labels_and_invoices_amazon_accepts(dagbag, parties, tmp_path):
    mailbox, emulator, store = parties
    amazon, numbers = simulated_orders(parties, tmp_path, 7)
    for dag_id in ("po_to_so", "so_to_poa"):
        assert set(task_states(run_dag(dagbag, dag_id)).values()) == {"success"}
    assert amazon.process_uploads().findings == []
    backend = emulator.backend
    orders = orders_with_stock(backend, numbers)
    assert len(orders) >= 6, "the simulator's POs are mostly in stock"
    clean, bad_scac, no_tracking, waiting, date_bol, duplicate = orders[:6]

    shipments = {}
    for order, options in ((clean, {}), (bad_scac, {"carrier_scac": "ZZZZ"}),
                           (date_bol, {"bol_number": "VENDR20261130"})):
        backend.pick_and_pack(order.order_number)
        shipments[order.customer_po] = backend.ship([order.order_number], **options)
    backend.pick_and_pack(no_tracking.order_number)
    loaded = backend.ship([no_tracking.order_number], picked_up=False)
    backend.carrier_pickup(loaded.shipment_id, tracking_number="")       # collected, tracking unknown
    backend.pick_and_pack(waiting.order_number)
    backend.ship([waiting.order_number], picked_up=False)                 # still at the dock
    backend.reset_label_serial(0)                                         # the label printer restarted
    backend.pick_and_pack(duplicate.order_number)
    shipments[duplicate.customer_po] = backend.ship([duplicate.order_number])
    backend.invoice_shipment(shipments[clean.customer_po].shipment_id)

    run = run_dag(dagbag, "fulfilment_to_asn")
    assert set(task_states(run).values()) == {"success"}, task_states(run)

    # Exactly one ASN and one invoice left: the clean shipment's.
    asn_files = [name for name in mailbox.received() if "856" in name]
    invoice_files = [name for name in mailbox.received() if "810" in name]
    with store.session() as db:
        debug = [(r.shipment_id, r.status, r.findings) for r in db.scalars(select(ShipNotice))]
    debug += [(e.type, e.message[:300]) for e in store.list_exceptions()]
    assert len(asn_files) == 1 and len(invoice_files) == 1, debug
    (notice,) = parse_file(mailbox.received()[asn_files[0]])
    assert notice.shipment_id == shipments[clean.customer_po].shipment_id
    assert notice.envelope.version == "005010"
    (invoice,) = parse_file(mailbox.received()[invoice_files[0]])
    assert invoice.purchase_order_number == clean.customer_po and invoice.total_amount > 0

    # Held, each with a clear exception for the warehouse; BlueCherry knows the clean one went.
    held = {(e.type, e.business_key): e.message for e in store.list_exceptions()}
    assert "scac_not_approved" in held[("asn_check_failed", shipments[bad_scac.customer_po].shipment_id)]
    assert "bol_is_date" in held[("asn_check_failed", shipments[date_bol.customer_po].shipment_id)]
    assert "sscc_reused" in held[("asn_check_failed", shipments[duplicate.customer_po].shipment_id)]
    with store.session() as db:
        statuses = {row.shipment_id: row.status for row in db.scalars(select(ShipNotice))}
        cartons = list(db.scalars(select(ShipNoticeCarton)))
        assert {i.status for i in db.scalars(select(Invoice))} == {"sent"}
    assert statuses[loaded.shipment_id] == "waiting"
    assert statuses[shipments[clean.customer_po].shipment_id] == "confirmed"
    assert backend.get_shipment(shipments[clean.customer_po].shipment_id).status == "confirmed"
    sent_ssccs = {pack.sscc for order in notice.orders for pack in order.packs}
    assert sent_ssccs == {c.sscc for c in cartons if c.used_at is not None}
    assert all(c.label_pdf.startswith(b"%PDF") and c.sscc in c.label_zpl for c in cartons if c.used_at)

    # Amazon accepts the ASN and the invoice, finds nothing, charges nothing.
    review = amazon.process_uploads()
    assert review.rejected_sets == [] and review.findings == [], [f.detail for f in review.findings]
    assert review.documents["856"] == 1 and review.documents["810"] == 1
    assert amazon.chargeback_ledger() == []

    # Amazon's 997s close the loop; a replay sends nothing again.
    run_dag(dagbag, "po_to_so")
    with store.session() as db:
        acked = {o.doc_type: o.status for o in db.scalars(select(OutboundDocument)) if o.doc_type in ("856", "810")}
    assert acked == {"856": "accepted", "810": "accepted"}
    assert set(task_states(run_dag(dagbag, "fulfilment_to_asn")).values()) == {"success"}
    assert [name for name in mailbox.received() if "856" in name or "810" in name] == [], "nothing sent twice"
