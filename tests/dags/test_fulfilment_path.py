"""fulfilment_to_asn runs for real (dag.test) after the order path: the Amazon simulator's
POs -> sales orders -> 855s -> the emulator's warehouse picks, packs and ships on the day
that lands the truck in the PO's delivery window, the carrier collects -> ASNs, labels,
invoices that the simulator accepts -> the truck arrives, Amazon scans every carton's
label and receives: nothing charged. Broken shipments are held and nothing of them sent; an
invoice that breaks an 810 rule is held for finance and never sent."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from sqlalchemy import select

from amazon_bluecherry.edi.parse import parse_file
from amazon_bluecherry.store.models import (
    Invoice,
    OutboundDocument,
    RawDocument,
    ShipNotice,
    ShipNoticeCarton,
)
from sandbox.dock import departure_for, load_truck, on_the_day
from tests.conftest import REPO_ROOT
from tests.dags.conftest import run_dag, task_states

MAPPINGS = REPO_ROOT / "include" / "mappings"

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


def fully_allocated(backend, purchase_orders):
    """Orders BlueCherry allocated in full, so the 855 accepted every unit the warehouse will pick
    (a part-allocated case line is acknowledged as backordered: shipping it is held, rightly)."""
    return [order for order in orders_with_stock(backend, purchase_orders)
            if all(line.qty_allocated == line.qty_ordered for line in order.lines)]


def departure_in_window(amazon, backend, purchase_order: str) -> dt.datetime:
    """When the warehouse ships ``purchase_order`` so that the carrier delivers inside its window."""
    po = amazon.purchase_order(purchase_order)
    departure = departure_for(po.window_start, transit_days=backend.config.transit_days, now=dt.datetime.now(dt.UTC))
    arrival = departure.date() + dt.timedelta(days=backend.config.transit_days)
    assert po.window_start <= arrival <= po.window_end, (po.window_start, po.window_end, arrival)
    return departure


def arrival_of(shipment) -> dt.datetime:
    """Late morning of the carrier's estimated delivery day (Amazon's dock opens at 10:00)."""
    return dt.datetime.combine(shipment.estimated_delivery, dt.time(11), tzinfo=dt.UTC)


def sandbox_amazon(capsys, *argv):
    """``amazon-bluecherry sandbox amazon ARGV --json``, in process; its JSON answer."""
    from amazon_bluecherry.cli import main

    capsys.readouterr()
    code = main(["sandbox", "amazon", *argv, "--json"] if argv[0] != "deliver" else ["sandbox", "amazon", *argv])
    out = capsys.readouterr().out
    assert code == 0, out
    if argv[0] == "deliver":
        return out
    start = re.search(r"^\{", out, re.M)
    return json.JSONDecoder().raw_decode(out[start.start():])[0]


def reloaded(amazon):
    """The simulator as its saved state now says (after CLI actions)."""
    from sandbox.amazon.partner import AmazonSimulator

    return AmazonSimulator(amazon.store.state_dir, amazon.mailbox, clock=amazon.clock, catalogue=amazon.catalogue,
                           identity=amazon.identity)


def test_shipments_become_asns_labels_and_invoices_amazon_accepts_and_receives(dagbag, parties, tmp_path, capsys,
                                                                              monkeypatch):
    from amazon_bluecherry.flows.fulfilment_to_asn import FIXES
    from amazon_bluecherry.settings import reset_settings_cache

    monkeypatch.setenv("AB_ASN_CARRIER_WAIT_MINUTES", "0")  # a shipment that waits is reported at once
    reset_settings_cache()
    mailbox, emulator, store = parties
    amazon, numbers = simulated_orders(parties, tmp_path, 7)
    for dag_id in ("po_to_so", "so_to_poa"):
        assert set(task_states(run_dag(dagbag, dag_id)).values()) == {"success"}
    assert amazon.process_uploads().findings == []
    backend = emulator.backend
    (clean, zero_invoice, *_) = fully_allocated(backend, numbers)
    others = [o for o in orders_with_stock(backend, numbers)
              if o.customer_po not in (clean.customer_po, zero_invoice.customer_po)]
    assert len(others) >= 5, "the simulator's POs are mostly in stock"
    bad_scac, no_tracking, waiting, date_bol, duplicate = others[:5]

    # The warehouse ships on the day that lands the clean PO in its delivery window.
    with on_the_day(departure_in_window(amazon, backend, clean.customer_po)) as clock:
        shipments = {}
        for order, options in ((clean, {}), (bad_scac, {"carrier_scac": "ZZZZ"}),
                               (date_bol, {"bol_number": "VENDR20261130"}), (zero_invoice, {})):
            backend.pick_and_pack(order.order_number)
            shipments[order.customer_po] = backend.ship([order.order_number], **options)
        backend.pick_and_pack(no_tracking.order_number)
        loaded = backend.ship([no_tracking.order_number], picked_up=False)
        backend.carrier_pickup(loaded.shipment_id, tracking_number="")       # collected, tracking unknown
        backend.pick_and_pack(waiting.order_number)
        at_dock = backend.ship([waiting.order_number], picked_up=False)       # still at the dock
        backend.reset_label_serial(0)                                         # the label printer restarted
        backend.pick_and_pack(duplicate.order_number)
        shipments[duplicate.customer_po] = backend.ship([duplicate.order_number])
        backend.invoice_shipment(shipments[clean.customer_po].shipment_id)
        # A clean shipment whose BlueCherry invoice was keyed at zero: its ASN goes, its 810 never.
        (zeroed,) = backend.invoice_shipment(shipments[zero_invoice.customer_po].shipment_id)
        zero_bluecherry_invoice(backend, zeroed.invoice_number)

        run = run_dag(dagbag, "fulfilment_to_asn")
        assert set(task_states(run).values()) == {"success"}, task_states(run)

        # The two clean shipments' ASNs and one invoice left: the clean one's.
        received = mailbox.received()
        asn_files = [name for name in received if "856" in name]
        invoice_files = [name for name in received if "810" in name]
        with store.session() as db:
            debug = [(r.shipment_id, r.status, r.findings) for r in db.scalars(select(ShipNotice))]
        debug += [(e.type, e.message[:300]) for e in store.list_exceptions()]
        assert len(asn_files) == 2 and len(invoice_files) == 1, debug
        notices = {n.shipment_id: n for name in asn_files for n in parse_file(received[name])}
        assert set(notices) == {shipments[po].shipment_id for po in (clean.customer_po, zero_invoice.customer_po)}
        notice = notices[shipments[clean.customer_po].shipment_id]
        assert notice.envelope.version == "005010"
        (invoice,) = parse_file(mailbox.received()[invoice_files[0]])
        assert invoice.purchase_order_number == clean.customer_po and invoice.total_amount > 0
        assert_zero_invoice_held(store, zero_invoice.customer_po, zeroed.invoice_number)

        # Held, each with a clear exception for the warehouse; BlueCherry knows the clean one went.
        held = {(e.type, e.business_key): e for e in store.list_exceptions()}
        for order, rule in ((bad_scac, "scac_not_approved"), (date_bol, "bol_is_date"), (duplicate, "sscc_reused")):
            exception = held[("asn_check_failed", shipments[order.customer_po].shipment_id)]
            assert exception.owner == "warehouse" and f"[{rule}]" in exception.message, exception.message
            assert FIXES[rule] in exception.message, "the message says what to fix in BlueCherry"
        # Collected without a tracking number, or not collected at all: waits, and the warehouse is told.
        for shipment, missing in ((loaded, "tracking / PRO number"), (at_dock, "collection")):
            exception = held[("asn_waiting_for_carrier", shipment.shipment_id)]
            assert exception.owner == "warehouse" and f"carrier's {missing}" in exception.message, exception.message
        with store.session() as db:
            statuses = {row.shipment_id: row.status for row in db.scalars(select(ShipNotice))}
            clean_row = db.scalar(select(ShipNotice).where(
                ShipNotice.shipment_id == shipments[clean.customer_po].shipment_id))
            cartons = list(db.scalars(select(ShipNoticeCarton).where(ShipNoticeCarton.ship_notice_id == clean_row.id)))
            assert {i.purchase_order: i.status for i in db.scalars(select(Invoice))} == {
                clean.customer_po: "sent", zero_invoice.customer_po: "held"}
        assert statuses[loaded.shipment_id] == statuses[at_dock.shipment_id] == "waiting"
        assert statuses[shipments[clean.customer_po].shipment_id] == "confirmed"
        assert backend.get_shipment(shipments[clean.customer_po].shipment_id).status == "confirmed"
        sent_ssccs = {pack.sscc for order in notice.orders for pack in order.packs}
        assert sent_ssccs == {c.sscc for c in cartons if c.used_at is not None}
        assert all(c.label_pdf.startswith(b"%PDF") and c.sscc in c.label_zpl for c in cartons if c.used_at)

        # Amazon, driven by its CLI as an operator would, accepts the ASN (within 30 minutes of
        # departure) and the invoice and finds nothing.
        simulator = ["--state", str(tmp_path / "amazon"), "--mappings", str(MAPPINGS)]
        review = sandbox_amazon(capsys, "process-uploads", *simulator, "--mailbox-root", str(tmp_path / "mailbox"))
        assert review["rejected_sets"] == [] and review["findings"] == [], review["findings"]
        assert review["documents"] == {"856": 2, "810": 1}

        # The truck arrives in the window: its cartons as BlueCherry packed them, wearing the PDF
        # labels our store holds; receiving scans every one.
        shipped = backend.get_shipment(shipments[clean.customer_po].shipment_id)
        clock.move_to(arrival_of(shipped))
        sandbox_amazon(capsys, "deliver", *simulator, "--shipment", shipped.shipment_id,
                       "--bluecherry-db", str(tmp_path / "bluecherry.sqlite"), "--labels", "pdf")
        receiving = sandbox_amazon(capsys, "run-receiving", *simulator)
        (receipt,) = [r for r in receiving["receipts"] if r["shipment_id"] == shipped.shipment_id]
        assert {c["sscc"] for c in receipt["cartons"]} == sent_ssccs
        assert all(c["received_eaches"] == c["asn_eaches"] for c in receipt["cartons"])
        amazon = reloaded(amazon)
        about_clean = [f for f in amazon.findings()
                       if clean.customer_po in (f.purchase_order or "") or f.shipment_id == shipped.shipment_id]
        assert about_clean == [], [(f.rule, f.detail) for f in about_clean]
        po = amazon.purchase_order(clean.customer_po)
        assert sum(line.received for line in po.lines) == sum(line.shipped for line in po.lines) > 0
        # Zero chargebacks for the clean shipment; the held POs only pay for never being filled.
        charged = amazon.chargeback_ledger()
        assert [e for e in charged if e.purchase_order == clean.customer_po or e.shipment_id == shipped.shipment_id] \
            == []
        assert {e.rule for e in charged} <= {"po_not_filled"}, [(e.rule, e.cause) for e in charged]

        # Amazon's 997s close the loop; a replay sends nothing again.
        run_dag(dagbag, "po_to_so")
        with store.session() as db:
            acked = {o.doc_type: o.status for o in db.scalars(select(OutboundDocument))
                     if o.doc_type in ("856", "810")}
        assert acked == {"856": "accepted", "810": "accepted"}
        assert set(task_states(run_dag(dagbag, "fulfilment_to_asn")).values()) == {"success"}
        assert [name for name in mailbox.received() if "856" in name or "810" in name] == [], "nothing sent twice"
        assert_zero_invoice_held(store, zero_invoice.customer_po, zeroed.invoice_number)  # re-checked, still held
        assert zeroed.invoice_number not in reloaded(amazon).state.invoices, "Amazon never saw the zero invoice"


def zero_bluecherry_invoice(backend, invoice_number: str) -> None:
    """Finance keyed the invoice at zero in BlueCherry (every price, and so the total)."""
    from sqlalchemy import update
    from sqlalchemy.orm import Session

    from sandbox.bluecherry.schema import InvoiceLineRow, InvoiceRow

    with Session(backend.engine) as session, session.begin():
        session.execute(update(InvoiceLineRow).where(InvoiceLineRow.invoice_number == invoice_number)
                        .values(unit_price=0, amount=0))
        session.execute(update(InvoiceRow).where(InvoiceRow.invoice_number == invoice_number)
                        .values(subtotal=0, total=0, open_amount=0))


def assert_zero_invoice_held(store, purchase_order: str, invoice_number: str) -> None:
    """One invoice_check_failed exception for finance, and no 810 of it stored to send."""
    (exception,) = [e for e in store.list_exceptions(type="invoice_check_failed")]
    assert exception.owner == "finance" and exception.business_key == purchase_order, exception.message
    assert "[invoice_zero_total]" in exception.message, exception.message
    with store.session() as db:
        held = db.scalar(select(Invoice).where(Invoice.purchase_order == purchase_order))
        assert held.status == "held" and held.outbound_document_id is None and held.transaction_id is None
        outbound_810s = [db.get(RawDocument, o.raw_document_id).content
                         for o in db.scalars(select(OutboundDocument).where(OutboundDocument.doc_type == "810"))]
    assert len(outbound_810s) == 1, "only the clean invoice was staged"
    assert all(purchase_order.encode() not in raw and invoice_number.encode() not in raw for raw in outbound_810s)


def test_pallets_in_004010_with_invoices_from_the_asn_and_a_badly_packed_truck(dagbag, parties, tmp_path,
                                                                               monkeypatch):
    """S-O-T-P-I in 004010, 810s built from the ASN; one truck arrives as the ASN says, the
    other with a carton short one unit and a carton wearing a stale label."""
    from amazon_bluecherry.edi.validator import validate_file
    from amazon_bluecherry.settings import get_settings, reset_settings_cache
    from sandbox.amazon.rulebook import load_rulebook

    monkeypatch.setenv("AB_ASN_X12_VERSION", "004010")
    monkeypatch.setenv("AB_INVOICE_SOURCE", "asn")
    reset_settings_cache()
    prefix = get_settings().invoice_number_prefix
    mailbox, emulator, store = parties
    amazon, numbers = simulated_orders(parties, tmp_path, 6)
    for dag_id in ("po_to_so", "so_to_poa"):
        assert set(task_states(run_dag(dagbag, dag_id)).values()) == {"success"}
    assert amazon.process_uploads().findings == []
    backend = emulator.backend
    backend.config.cartons_per_pallet = 2  # several pallets per truck
    orders = fully_allocated(backend, numbers)[:2]
    assert len(orders) == 2
    departures = sorted((departure_in_window(amazon, backend, o.customer_po), o.customer_po, o) for o in orders)

    shipped, notices, invoices = {}, {}, {}
    with on_the_day(departures[0][0]) as clock:
        for departure, po_number, order in departures:
            clock.move_to(max(departure, dt.datetime.now(dt.UTC)))
            backend.pick_and_pack(order.order_number)
            shipment = backend.ship([order.order_number], palletize=True, carrier_scac="ODFL")
            assert len({c.pallet_sscc for c in shipment.cartons}) == -(-len(shipment.cartons) // 2)
            run = run_dag(dagbag, "fulfilment_to_asn")
            assert set(task_states(run).values()) == {"success"}, [(e.type, e.message) for e in store.list_exceptions()]
            files = mailbox.received()
            (asn_name,) = [name for name in files if "856" in name]
            (invoice_name,) = [name for name in files if "810" in name]
            for name in (asn_name, invoice_name):  # our engine accepts what we sent, as Amazon will
                assert [verdict.status for _, _, verdict in validate_file(files[name]).sets()] == ["A"]
            (notice,) = parse_file(files[asn_name])
            (invoice,) = parse_file(files[invoice_name])
            review = amazon.process_uploads()
            assert review.rejected_sets == [] and review.findings == [], [f.detail for f in review.findings]
            assert review.documents["856"] == 1 and review.documents["810"] == 1
            shipped[po_number], notices[po_number], invoices[po_number] = shipment, notice, invoice

        for po_number, notice in notices.items():
            shipment = shipped[po_number]
            assert notice.envelope.version == "004010"
            # Shipment -> order -> tare (pallet) -> pack (carton) -> item, as BlueCherry palletised it.
            (order,) = notice.orders
            assert order.packs == [] and order.tares
            assert {tare.sscc: {pack.sscc for pack in tare.packs} for tare in order.tares} == {
                pallet: {c.sscc for c in shipment.cartons if c.pallet_sscc == pallet}
                for pallet in {c.pallet_sscc for c in shipment.cartons}}
            received = amazon.state.ship_notices[shipment.shipment_id]
            assert {c.sscc for c in received.cartons} == {c.sscc for c in shipment.cartons}
            # The 810 comes from the ASN: our number, the ASN's eaches at the 855's cost.
            invoice = invoices[po_number]
            assert invoice.invoice_number.startswith(prefix)
            assert backend.list_invoices(shipment_id=shipment.shipment_id) == []  # BlueCherry never invoiced
            asn_eaches = {item.line_number: 0 for tare in order.tares for pack in tare.packs for item in pack.items}
            for tare in order.tares:
                for pack in tare.packs:
                    for item in pack.items:
                        asn_eaches[item.line_number] += item.shipped_quantity
            assert {line.line_number: line.quantity for line in invoice.lines} == asn_eaches
            assert amazon.state.invoices[invoice.invoice_number].status == "open"

        # Both trucks arrive; the one with more cartons badly packed.
        (good_po, good), (bad_po, bad) = sorted(shipped.items(), key=lambda kv: len(kv[1].cartons))
        assert len(bad.cartons) >= 2
        clock.move_to(max(arrival_of(good), arrival_of(bad)))
        amazon.deliver(good.shipment_id, load_truck(good, store, form="zpl"))
        stale = shipped[good_po].cartons[0].sscc  # a label left over from the other truck
        amazon.deliver(bad.shipment_id, load_truck(bad, store, form="pdf", short_packed={1: 1},
                                                   relabelled={2: stale}))
        receiving = amazon.run_receiving()
        assert len(receiving.receipts) == 2
        findings = {(f.shipment_id, f.rule): f for f in receiving.findings}
        assert set(findings) == {(bad.shipment_id, "receipt_carton_mismatch"),
                                 (bad.shipment_id, "receipt_carton_label_mismatch")}, findings
        assert bad.cartons[0].sscc in findings[(bad.shipment_id, "receipt_carton_mismatch")].detail
        assert stale in findings[(bad.shipment_id, "receipt_carton_label_mismatch")].detail
        rates = load_rulebook().rate_card.chargebacks
        today = clock_today()
        assert sorted((e.rule, e.amount) for e in amazon.chargeback_ledger()) == sorted([
            ("receipt_carton_mismatch", -rates["carton_content_accuracy"].rate_on(today)),        # 1 defect
            ("receipt_carton_label_mismatch", -rates["no_carton_content_label"].rate_on(today)),  # 1 carton
        ])
        assert all(e.shipment_id == bad.shipment_id for e in amazon.chargeback_ledger())

        # At payment the unit missing from carton 1 is claimed short at the invoiced cost, nothing else.
        short_line = str(bad.cartons[0].items[0].line_number)
        clock.move_to(dt.datetime.now(dt.UTC) + dt.timedelta(days=61))
        amazon.issue_remittance(min(o.order_date for o in amazon.state.purchase_orders.values()), clock_today())
        claims = amazon.chargeback_ledger(kind="shortage_claim")
        cost = next(line.unit_price for line in invoices[bad_po].lines if line.line_number == short_line)
        assert [(c.reference, c.amount) for c in claims] == [(f"{invoices[bad_po].invoice_number}SC", -cost)]


def clock_today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()
