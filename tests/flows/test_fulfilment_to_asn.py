"""fulfilment_to_asn rules without Airflow: the asn lint CLI (JSON shape, rule names, exit
codes), the pre-send rules, GS1-128 labels whose barcodes decode to the ASN's SSCCs, and a
re-used shipment id."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from types import SimpleNamespace

import pytest

from amazon_bluecherry.edi.build import write_documents
from amazon_bluecherry.edi.documents import (
    CarrierDetails,
    PartyIdentification,
    ProductId,
    ShipmentItem,
    ShipmentMeasurements,
    ShipmentOrder,
    ShipmentPack,
    ShipNotice,
)
from amazon_bluecherry.edi.gs1 import make_sscc
from amazon_bluecherry.edi.writer import InMemoryControlNumbers
from amazon_bluecherry.flows.fulfilment_to_asn import bol_format_problem, bol_is_date
from amazon_bluecherry.flows.labels import render_labels
from amazon_bluecherry.settings import REPO_ROOT
from tests.bluecherry.conftest import emulator, emulator_template  # noqa: F401

MAPPINGS = REPO_ROOT / "include" / "mappings"
TODAY = dt.datetime.now(dt.UTC).date()


def notice(shipment_id="SH1", *, ssccs=None, scac="UPSN", tracking="1Z0000000000000001", bol="VENDR00000001",
           shipped=TODAY, lading=None) -> ShipNotice:
    ssccs = ssccs or [make_sscc(0, "0614141", n) for n in (1, 2)]
    packs = [ShipmentPack(sscc=sscc, items=[ShipmentItem(line_number="1", shipped_quantity=12, unit="EA",
                                                         product_ids=[ProductId(qualifier="UP", value="614141100019")])])
             for sscc in ssccs]
    return ShipNotice(
        shipment_id=shipment_id, shipment_date=TODAY, shipment_time=dt.time(9, 0),
        measurements=ShipmentMeasurements(packaging_code="CTN25", lading_quantity=lading or len(packs)),
        carrier=CarrierDetails(routing_sequence="B", id_qualifier="2", scac=scac, transportation_method="U"),
        bill_of_lading=bol, carrier_reference=tracking, shipped_date=shipped, shipped_time=dt.time(9, 0),
        estimated_delivery_date=TODAY + dt.timedelta(days=3),
        parties=[PartyIdentification(role="SF", name="Edison DC", id_qualifier="92", id_code="NJ01"),
                 PartyIdentification(role="ST", id_qualifier="92", id_code="ABE2")],
        orders=[ShipmentOrder(purchase_order_number="PO1", packs=packs)])


def lint(tmp_path, *notices: ShipNotice, raw: bytes | None = None):
    path = tmp_path / "asn.edi"
    path.write_bytes(raw if raw is not None else write_documents(
        list(notices), sender="VENDOR", receiver="AMAZON", control_numbers=InMemoryControlNumbers()))
    done = subprocess.run([sys.executable, "-m", "amazon_bluecherry", "asn", "lint", str(path), "--mappings",
                           str(MAPPINGS), "--json"], capture_output=True, text=True, timeout=120)
    return done.returncode, (json.loads(done.stdout) if done.stdout.strip().startswith("{") else done.stderr)


def test_a_clean_asn_has_no_findings(tmp_path):
    code, report = lint(tmp_path, notice())
    assert code == 0
    assert report == {"shipments": [{"shipment_id": "SH1", "findings": []}]}


def test_every_rule_by_its_name(tmp_path):
    good = make_sscc(0, "0614141", 3)
    bad_digit = good[:-1] + str((int(good[-1]) + 1) % 10)
    reused = make_sscc(0, "0614141", 9)
    raw = write_documents(
        [notice("SH1", scac="ZZZZ", tracking=None, bol="20261130", shipped=TODAY - dt.timedelta(days=9),
                ssccs=[reused, good], lading=3),
         notice("SH2", ssccs=[reused, make_sscc(0, "0614141", 10)], bol="ACME-1")],
        sender="VENDOR", receiver="AMAZON", control_numbers=InMemoryControlNumbers())
    code, report = lint(tmp_path, raw=raw.replace(good.encode(), bad_digit.encode()))
    assert code == 1
    assert [s["shipment_id"] for s in report["shipments"]] == ["SH1", "SH2"]
    first = {f["rule"] for f in report["shipments"][0]["findings"]}
    assert first == {"scac_not_approved", "missing_tracking", "bol_is_date", "ship_date_out_of_range",
                     "sscc_check_digit", "carton_quantity_mismatch"}
    second = {f["rule"] for f in report["shipments"][1]["findings"]}
    assert second == {"sscc_reused", "bol_format"}
    assert all(set(f) == {"rule", "message"} for s in report["shipments"] for f in s["findings"])


def test_unreadable_input_exits_2(tmp_path):
    code, _ = lint(tmp_path, raw=b"%PDF-1.4 not an edi file")
    assert code == 2


def test_only_the_856_sets_are_linted_and_a_file_without_one_says_what_it_holds(tmp_path, capsys):
    from amazon_bluecherry.cli import main

    purchase_order = (REPO_ROOT / "include" / "edi_samples" / "generic_850_4010VICS__node-x12__850.edi").read_bytes()
    mixed = tmp_path / "mixed.edi"
    mixed.write_bytes(purchase_order.rstrip() + b"\n" + write_documents(
        [notice()], sender="VENDOR", receiver="AMAZON", control_numbers=InMemoryControlNumbers()))
    # The sample 850 does not map to our PO model (BEG02 'SA'): none of asn lint's business.
    assert main(["asn", "lint", str(mixed), "--mappings", str(MAPPINGS), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"shipments": [{"shipment_id": "SH1", "findings": []}]}
    only_850 = tmp_path / "po.edi"
    only_850.write_bytes(purchase_order)
    assert main(["asn", "lint", str(only_850), "--mappings", str(MAPPINGS)]) == 2
    assert "no 856 ship notice in the file (it holds 1 x 850)" in capsys.readouterr().err


@pytest.mark.parametrize(("bol", "is_date"), [("20261130", True), ("VENDR20261130", True), ("11/30/2026", True),
                                                ("VENDR00000001", False), ("12345678901234567", False)])
def test_bol_that_reads_as_a_date(bol, is_date):
    assert bol_is_date(bol, "VENDR") is is_date


def test_bol_format():
    assert bol_format_problem("VENDR00000001", "VENDR", 8) is None
    assert bol_format_problem("12345678901234567", "VENDR", 8) is None  # a physical VICS BOL
    assert bol_format_problem("VENDR1234", "VENDR", 8)
    assert bol_format_problem("ACME00000001", "VENDR", 8)


def test_every_label_decodes_to_the_sscc_of_the_asn():
    pdfium = pytest.importorskip("pypdfium2")
    zxingcpp = pytest.importorskip("zxingcpp")
    asn = notice(ssccs=[make_sscc(0, "0614141", n) for n in (11, 12, 13)])
    shipment = SimpleNamespace(cartons=[SimpleNamespace(sscc=p.sscc, carton_number=i)
                                        for i, p in enumerate(asn.orders[0].packs, start=1)])
    labels = render_labels(asn, shipment, ship_from={"name": "Edison DC", "address_line": "100 Distribution Way",
                                                     "city": "Edison", "state": "NJ", "postal_code": "08817"},
                           ship_to=("92", "ABE2", "Amazon ABE2"), carrier_name="UPS")
    assert set(labels) == {p.sscc for p in asn.orders[0].packs}
    for sscc, (zpl, pdf) in labels.items():
        assert f"^FD>;>800{sscc}^FS" in zpl and zpl.startswith("^XA") and zpl.rstrip().endswith("^XZ")
        page = pdfium.PdfDocument(pdf)[0]
        image = page.render(scale=4).to_pil() if hasattr(page.render(scale=1), "to_pil") else None
        array = page.render(scale=4).to_numpy() if image is None else None
        found = zxingcpp.read_barcodes(image if image is not None else array)
        codes = [b for b in found if b.format == zxingcpp.BarcodeFormat.Code128]
        assert len(codes) == 1, found
        # GS1-128: the reader reports the symbology identifier ]C1 and the AI 00 + SSCC-18.
        assert codes[0].text == f"(00){sscc}"
        assert codes[0].symbology_identifier == "]C1"


def test_the_rules_that_need_the_po_the_855_and_the_store():
    """Pre-send rules beyond the lint's: tracking shape, a BOL sent before, cartons against the
    PO and what the 855 accepted, one FC per ASN."""
    from decimal import Decimal

    from amazon_bluecherry.amazon.rules import amazon_rules
    from amazon_bluecherry.flows.fulfilment_mappings import load_carriers
    from amazon_bluecherry.flows.fulfilment_to_asn import (
        FIXES,
        AsnFacts,
        CartonFacts,
        CartonLine,
        OrderFacts,
        OrderLineFacts,
        check_against_orders,
        check_facts,
    )

    def order(po: str, store: str, partner: str | None = None) -> OrderFacts:
        line = OrderLineFacts(line_number="1", product_ids=(("UP", "614141100019"),), unit="EA", case_pack=1,
                              accepted_eaches=12, cost_each=Decimal("6.50"), sku="TEE-BLK-M")
        return OrderFacts(purchase_order=po, order_date=TODAY, ship_to=("AMAZON", store), lines={"1": line},
                          partner=partner)

    sscc = [make_sscc(0, "0614141", n) for n in range(1, 5)]
    facts = AsnFacts(shipment_id="SH9", scac="UPSN", tracking="123456", bill_of_lading="VENDR00000007",
                     ship_date=TODAY, lading_quantity=4, cartons=(
                         CartonFacts(sscc[0], (CartonLine("PO1", "1", 12, sku="TEE-BLK-M"),)),  # + 6 sent before
                         CartonFacts(sscc[1], (CartonLine("PO1", "2", 1),)),                    # no line 2
                         CartonFacts(sscc[2], (CartonLine("PO9", "1", 1),)),                    # never ordered
                         CartonFacts(sscc[3], (CartonLine("PO2", "1", 1, sku="TEE-BLK-M"),))))  # for PHX6
    own = check_facts(facts, approved_scacs=load_carriers(MAPPINGS / "carriers.csv"), vendor_code="VENDR",
                      today=TODAY, rules=amazon_rules()["ship_notice"], bol_used_elsewhere=lambda bol: "SH1")
    assert {f.rule for f in own} == {"tracking_format", "bol_reused"}
    against = check_against_orders(facts, {"PO1": order("PO1", "ABE2"), "PO2": order("PO2", "PHX6")},
                                   ship_to=("AMAZON", "ABE2"), already_in_asns={("PO1", "1"): 6},
                                   shipped_in_bluecherry={("PO1", "1"): 12, ("PO2", "1"): 1})
    by_rule = {f.rule: f.message for f in against}
    assert set(by_rule) == {"quantity_exceeds_855", "product_id_not_on_po", "unknown_purchase_order",
                            "ship_to_mismatch", "carton_quantity_mismatch"}
    assert "PO PO1 line 1: 18 eaches in ASNs, the 855 accepted 12" in by_rule["quantity_exceeds_855"]
    assert "BlueCherry shipped 12" in by_rule["carton_quantity_mismatch"]
    assert "PO PO2 goes to PHX6, the shipment to ABE2" in by_rule["ship_to_mismatch"]
    # POs from two trading partners of the registry: one 856 cannot answer both.
    mixed = check_against_orders(facts, {"PO1": order("PO1", "ABE2", "amazon"),
                                         "PO2": order("PO2", "ABE2", "amazon_legacy")},
                                 ship_to=("AMAZON", "ABE2"), already_in_asns={})
    assert "the shipment's POs came from amazon, amazon_legacy" in {f.rule: f.message for f in mixed}["partners_mixed"]
    against += mixed
    assert all(FIXES[f.rule] in f.message for f in own + against), "each says what to fix"


def test_a_shipment_id_bluecherry_reuses_is_held_and_the_same_shipment_is_not(store, emulator, tmp_path):  # noqa: F811
    """A shipment whose id already carries a sent ASN: the same shipment only waits for its
    confirmation; another one under that id is held for the warehouse, never silently skipped."""
    from amazon_bluecherry.bluecherry.rest import RestGateway
    from amazon_bluecherry.flows.fulfilment_mappings import load_fulfilment_mappings
    from amazon_bluecherry.flows.fulfilment_to_asn import FIXES
    from amazon_bluecherry.flows.fulfilment_to_asn_steps import prepare_ship_notices
    from amazon_bluecherry.settings import Settings
    from amazon_bluecherry.store.models import ShipNotice as ShipNoticeRow
    from amazon_bluecherry.store.models import ShipNoticeCarton
    from tests.flows.remittances import invoiced

    (invoice,) = invoiced(emulator, 1)
    shipment = emulator.backend.get_shipment(invoice.shipment_id)
    now = dt.datetime.now(dt.UTC)
    with store.session() as db:  # last spring's ASN under the same id: another BOL, another carton
        row = ShipNoticeRow(shipment_id=shipment.shipment_id, partner="AMAZON", status="confirmed",
                            bill_of_lading="VENDR00000099", asn_reference="VENDR856.000000042",
                            confirmed_at=now - dt.timedelta(days=200), first_seen_at=now - dt.timedelta(days=200))
        db.add(row)
        db.flush()
        db.add(ShipNoticeCarton(ship_notice_id=row.id, sscc=make_sscc(0, "0614141", 99), carton_number=1))
    gateway = RestGateway(emulator.url, emulator.api_key, timeout=10, max_retries=1, backoff=0.01)
    mappings = load_fulfilment_mappings(MAPPINGS)
    try:
        result = prepare_ship_notices(store, gateway, Settings(home=tmp_path), mappings, now=now)
        assert (result.held, result.already_sent) == ([shipment.shipment_id], [])
        (held,) = store.list_exceptions(type="asn_check_failed")
        assert held.owner == "warehouse" and "[shipment_id_reused]" in held.message, held.message
        assert "VENDR856.000000042" in held.message and FIXES["shipment_id_reused"] in held.message
        with store.session() as db:  # the old ASN's record is untouched
            assert db.get(ShipNoticeRow, row.id).bill_of_lading == "VENDR00000099"
            # Now the row is this shipment's own ASN, sent and not yet confirmed in BlueCherry.
            mine = db.get(ShipNoticeRow, row.id)
            mine.status, mine.bill_of_lading = "sent", shipment.bol_number
            db.query(ShipNoticeCarton).filter(ShipNoticeCarton.ship_notice_id == row.id).delete()
            db.add_all(ShipNoticeCarton(ship_notice_id=row.id, sscc=c.sscc, carton_number=c.carton_number)
                       for c in shipment.cartons)
        again = prepare_ship_notices(store, gateway, Settings(home=tmp_path), mappings, now=now)
        assert (again.held, again.already_sent) == ([], [shipment.shipment_id])
        assert len(store.list_exceptions(type="asn_check_failed")) == 1
    finally:
        gateway.close()


def test_each_810_rule_holds_the_invoice_and_says_what_finance_fixes():
    from decimal import Decimal

    from amazon_bluecherry.edi.documents import ChargeAllowance
    from amazon_bluecherry.flows.fulfilment_to_asn import OrderFacts, OrderLineFacts
    from amazon_bluecherry.flows.invoicing import build_invoice, check_invoice
    from amazon_bluecherry.settings import Settings

    line = OrderLineFacts(line_number="1", product_ids=(("UP", "614141100019"),), unit="EA", case_pack=1,
                          accepted_eaches=12, cost_each=Decimal("6.50"))
    order = OrderFacts(purchase_order="PO1", order_date=TODAY, ship_to=("AMAZON", "ABE2"), lines={"1": line})
    settings = Settings()

    def invoice(quantity=12, cost="6.50", charges=()):
        return build_invoice(number="INV0000001", invoice_date=TODAY, order=order, quantities={"1": quantity},
                             unit_costs={"1": Decimal(cost)}, charges=list(charges), settings=settings,
                             ship_to=("92", "ABE2"))

    def rules(draft, **kwargs):
        options = {"asn_quantities": {"1": 12}, "number_used_by": None, "stated_total": None, "settings": settings}
        return {f.rule for f in check_invoice(draft, order, **(options | kwargs))}

    clean = invoice()
    assert clean.total_amount == Decimal("78.00") and rules(clean) == set()
    assert rules(clean, number_used_by="shipment SH1") == {"invoice_number_reused"}
    assert rules(clean, stated_total=Decimal("80.00")) == {"invoice_total_mismatch"}
    assert rules(invoice(cost="6.75")) == {"invoice_cost_mismatch"}
    assert rules(invoice(quantity=13)) == {"invoice_quantity_mismatch"}
    allowance = ChargeAllowance(indicator="A", code="C310", amount=Decimal("78.00"))
    assert "invoice_zero_total" in rules(invoice(charges=[allowance]))
    foreign = clean.model_copy(update={"lines": [clean.lines[0].model_copy(update={"product_ids": []})]})
    assert "invoice_item_not_on_po" in rules(foreign)
    assert rules(clean, settings=Settings(invoice_bill_to_name="")) == {"invoice_bill_to_missing"}


def test_each_trading_partner_gets_its_856_version_from_the_registry(store, tmp_path):
    """Two partners in the registry: POs from the one still on 004010 get a 004010 856, Amazon
    retail's the deployment default (005010); each staged file passes our validator."""
    import yaml

    from amazon_bluecherry.edi.guide import GUIDES_DIR, GuideRegistry
    from amazon_bluecherry.edi.parse import parse_file
    from amazon_bluecherry.edi.validator import validate_file
    from amazon_bluecherry.flows.fulfilment_to_asn import OrderFacts
    from amazon_bluecherry.flows.fulfilment_to_asn_steps import (
        asn_x12_version,
        partner_of,
        stage_ship_notices,
    )
    from amazon_bluecherry.settings import Settings
    from amazon_bluecherry.store.models import OutboundDocument, RawDocument
    from amazon_bluecherry.store.models import ShipNotice as ShipNoticeRow
    from tests.flows.conftest import make_850

    data = yaml.safe_load((GUIDES_DIR / "registry.yaml").read_text())
    data["partners"]["amazon_legacy"] = {**data["partners"]["amazon"], "interchange_ids": ["AMZNLEGACY"],
                                         "outbound_versions": {"856": "004010"}}
    (tmp_path / "registry.yaml").write_text(yaml.safe_dump(data))
    registry = GuideRegistry(GUIDES_DIR, str(tmp_path / "registry.yaml"))
    retail_850 = make_850("PORETAIL")
    legacy_850 = make_850("POLEGACY", control="000012912").replace(b"*ZZ*AMAZON         *", b"*ZZ*AMZNLEGACY     *")

    settings = Settings(home=tmp_path)
    assert settings.asn_x12_version == "005010"
    versions = {}
    for raw in (retail_850, legacy_850):
        (purchase_order,) = parse_file(raw)
        orders = {purchase_order.purchase_order_number: OrderFacts(
            purchase_order=purchase_order.purchase_order_number, order_date=None, ship_to=None,
            partner=partner_of(purchase_order, registry))}
        versions[purchase_order.purchase_order_number] = asn_x12_version(orders, registry, settings.asn_x12_version)
        if purchase_order.purchase_order_number == "PORETAIL":  # silent registry: the deployment default
            assert asn_x12_version(orders, registry, "004010") == "004010"
    assert versions == {"PORETAIL": "005010", "POLEGACY": "004010"}, "the registry beats the deployment default"

    with store.session() as db:
        for n, po_number in enumerate(versions, start=1):
            shipped = notice(f"SH{n}", ssccs=[make_sscc(0, "0614141", 10 * n + k) for k in (1, 2)],
                             bol=f"VENDR0000000{n}")
            shipped.orders[0].purchase_order_number = po_number
            db.add(ShipNoticeRow(shipment_id=f"SH{n}", partner="AMAZON", status="checked", purchase_orders=[po_number],
                                 document=shipped.model_dump(mode="json"), x12_version=versions[po_number],
                                 fingerprint=f"{n:064d}"))
    stage_ship_notices(store, settings, now=dt.datetime.now(dt.UTC))
    with store.session() as db:
        files = [db.get(RawDocument, o.raw_document_id).content for o in db.query(OutboundDocument).all()]
    sent = {}
    for raw in files:
        verdicts = [verdict for _, _, verdict in validate_file(raw).sets()]
        assert [verdict.status for verdict in verdicts] == ["A"], [verdict.describe() for verdict in verdicts]
        (asn,) = parse_file(raw)
        sent[asn.orders[0].purchase_order_number] = asn.envelope.version
    assert sent == versions
