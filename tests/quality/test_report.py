"""The daily data-quality report from what the store holds: volumes against the trailing
average (drops and spikes flagged), GX results, exceptions by team and age, Amazon's windows,
and a flow with no data yet said plainly; as HTML with inline SVG charts, stored once per day."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, date, datetime, timedelta

import pytest

from amazon_bluecherry.flows.exceptions import open_exception
from amazon_bluecherry.quality.report import build_report, store_report
from amazon_bluecherry.settings import Settings
from amazon_bluecherry.store.models import QualityReport, QualityResult, Transaction

DAY = date(2026, 11, 29)


def _at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def _orders(store, day: date, count: int) -> None:
    with store.session() as db:
        for number in range(count):
            db.add(Transaction(doc_type="850", direction="in", partner="AMAZON",
                               business_key=f"PO-{day:%m%d}-{number}", created_at=_at(day)))


@pytest.fixture
def settings(tmp_path):
    return Settings(home=tmp_path, quality_trailing_days=7, quality_volume_tolerance=0.5,
                    console_url="http://airflow.test/exceptions-console/")


def test_order_volume_drop_is_flagged_against_the_trailing_average(store, settings):
    for offset in range(1, 8):
        _orders(store, DAY - timedelta(days=offset), 10)
    _orders(store, DAY, 3)
    report = build_report(store, DAY, settings)
    (orders,) = [row for row in report.volumes if row.flow == "po_to_so"]
    assert (orders.today, orders.average, orders.flag) == (3, 10.0, "drop")
    assert any("850 purchase orders received: 3" in flag and "drop" in flag for flag in report.flags)
    assert "<svg" in report.html and "drop" in report.html


def test_a_normal_day_and_a_spike(store, settings):
    for offset in range(1, 8):
        _orders(store, DAY - timedelta(days=offset), 10)
    _orders(store, DAY, 11)
    assert build_report(store, DAY, settings).volumes[0].flag is None
    _orders(store, DAY, 20)
    assert build_report(store, DAY, settings).volumes[0].flag == "spike"


def test_flows_without_data_say_so(store, settings):
    report = build_report(store, DAY, settings)
    assert all(row.today == 0 and row.average is None and row.flag is None for row in report.volumes)
    assert report.html.count("no data yet") >= 4
    assert "No remittance data yet" in report.html and report.deductions is None
    assert report.flags == []


def test_gx_results_exceptions_and_windows(store, settings):
    with store.session() as db:
        db.add(QualityResult(suite="purchase_order_lines", run_key="r1", success=False, evaluated=8, failed=1,
                             results={"rows": 40, "failures": [{"expectation": "expect_column_values_to_be_between",
                                                                "description": "price per each within tolerance",
                                                                "unexpected_count": 2, "keys": []}]},
                             created_at=_at(DAY, 9)))
        db.add(QualityResult(suite="purchase_order_lines", run_key="r2", success=True, evaluated=8, failed=0,
                             results={"rows": 60, "failures": []}, created_at=_at(DAY, 11)))
    held = open_exception(store, "price_mismatch", "PO-1 price", business_key="PO-1")
    open_exception(store, "not_x12", "junk file")
    store.update_exception(held, status="resolved", note="accepted")
    on_time = store.add_transaction("850", direction="in", partner="AMAZON", business_key="PO-A")
    late = store.add_transaction("850", direction="in", partner="AMAZON", business_key="PO-B")
    store.set_deadline(on_time, "poa_due", _at(DAY, 12), business_key="PO-A")
    store.set_deadline(late, "poa_due", _at(DAY, 13), business_key="PO-B")
    from amazon_bluecherry.store.models import Deadline

    with store.session() as db:
        for deadline in db.query(Deadline):
            if deadline.business_key == "PO-A":
                deadline.met_at = _at(DAY, 11)
            else:
                deadline.missed_at = _at(DAY, 13)
    today = datetime.now(UTC).date()
    report = build_report(store, DAY, settings)
    (suite,) = report.quality
    assert (suite["runs"], suite["failed_runs"], suite["rows"]) == (2, 1, 100)
    assert suite["failed_expectations"] == {"price per each within tolerance": 2}
    (poa,) = [w for w in report.windows if w["kind"] == "poa_due"]
    assert (poa["due"], poa["met"], poa["missed"], poa["compliance"]) == (2, 1, 1, 50.0)
    assert any("855 within 24 h" in flag and "1 missed" in flag for flag in report.flags)
    # The exceptions were opened today (now), not on DAY: a report of today counts them.
    today_report = build_report(store, today, settings)
    assert today_report.exceptions["opened"]["wholesale"] == 1 and today_report.exceptions["opened"]["integration"] == 1
    assert today_report.exceptions["closed"]["wholesale"] == 1
    assert sum(today_report.exceptions["open_by_age"]["integration"].values()) == 1
    assert "price per each within tolerance (2)" in report.html and "50.0 %" in report.html


def test_stored_once_per_day(store, settings):
    _orders(store, DAY, 2)
    first = store_report(store, build_report(store, DAY, settings))
    second = store_report(store, build_report(store, DAY, settings))
    assert first == second
    with store.session() as db:
        (row,) = db.query(QualityReport).all()
        assert row.report_date == "2026-11-29" and row.summary["volumes"]["850 purchase orders received"]["today"] == 2


def test_cli_writes_the_html(tmp_path, sqlite_url):
    from amazon_bluecherry.store import Store

    store = Store(sqlite_url)
    store.migrate()
    _orders(store, DAY, 4)
    out = tmp_path / "report.html"
    completed = subprocess.run(
        [sys.executable, "-m", "amazon_bluecherry", "quality", "report", "--date", "2026-11-29", "--out", str(out)],
        env={"AB_DATABASE_URL": sqlite_url, "AB_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
        capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr
    assert "data-quality report of 2026-11-29" in completed.stdout
    text = out.read_text()
    assert "Data-quality report: 2026-11-29" in text and "<svg" in text and "<script" not in text


def test_deductions_by_type_once_remittances_flow(store, settings):
    from decimal import Decimal

    from amazon_bluecherry.store.models import Remittance, RemittanceLine

    transaction_id = store.add_transaction("820", direction="in", partner="AMAZON", business_key="TRN-1")
    with store.session() as db:
        remittance = Remittance(transaction_id=transaction_id, trace_number="TRN-1", payment_amount=Decimal("900.00"),
                                received_at=_at(DAY))
        db.add(remittance)
        db.flush()
        for number, (kind, amount) in enumerate([("invoice_payment", "1000.00"), ("co_op", "-60.00"),
                                                 ("shortage", "-25.50"), ("shortage", "-14.50")], start=1):
            db.add(RemittanceLine(remittance_id=remittance.id, line_number=number, reference=f"R{number}",
                                  amount=Decimal(amount), deduction_type=kind, gl_account="6000", owner="finance"))
    report = build_report(store, DAY, settings)
    assert report.deductions == [{"type": "co_op", "count": 1, "amount": 60.0},
                                 {"type": "shortage", "count": 2, "amount": 40.0}]
    assert "Deductions by type" in report.html and "co_op" in report.html and "60.00" in report.html
    assert build_report(store, DAY - timedelta(days=1), settings).deductions == []
