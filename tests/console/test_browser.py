"""A person in a browser: headless Chromium (Debian's package, no browser download) driven by
Playwright logs into the Airflow UI, opens the exceptions console from the navigation,
acknowledges an exception with a note, opens the daily data-quality report, and leaves
screenshots (``AB_SCREENSHOT_DIR``, default a temporary folder).

Runs when /usr/bin/chromium is installed (.ci/run installs it); skipped with the reason
otherwise."""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.timeout(1500)]

CHROMIUM = os.environ.get("AB_CHROMIUM", "/usr/bin/chromium")


@pytest.fixture
def browser():
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        pytest.skip(f"Chromium not installed at {CHROMIUM} (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                             args=["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"])
        yield browser
        browser.close()


@pytest.fixture
def screenshots(tmp_path) -> Path:
    folder = Path(os.environ.get("AB_SCREENSHOT_DIR") or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def test_a_person_logs_in_opens_the_console_acknowledges_and_reads_the_report(airflow_server, browser,
                                                                               screenshots):
    from amazon_bluecherry.flows.exceptions import open_exception
    from amazon_bluecherry.quality.report import build_report, store_report
    from amazon_bluecherry.settings import Settings
    from amazon_bluecherry.store import Store

    store = Store(airflow_server.store_url)
    exception_id = open_exception(store, "unknown_item", "PO BROWSER1 line 2: UPC 999999999993 is not in items.csv",
                                  business_key="BROWSER1")
    yesterday = datetime.now(UTC).date() - timedelta(days=1)
    store_report(store, build_report(store, yesterday, Settings(console_url=f"{airflow_server.url}/exceptions-console/")))

    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.set_default_timeout(60_000)
    page.goto(f"{airflow_server.url}/")
    page.wait_for_selector("input[name='username']")
    page.screenshot(path=str(screenshots / "01-login.png"))
    page.fill("input[name='username']", airflow_server.username)
    page.fill("input[name='password']", airflow_server.password)
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: "login" not in url)
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(screenshots / "02-airflow-home.png"))

    # The console inside the Airflow UI (the plugin's navigation entry embeds it).
    page.goto(f"{airflow_server.url}/plugin/exceptions")
    frame = page.frame_locator("iframe")
    frame.locator("table#exceptions").wait_for()
    assert frame.locator(f"tr[data-id='{exception_id}']").count() == 1
    page.screenshot(path=str(screenshots / "03-console-in-airflow.png"))

    # Filter by team and search, then open the exception and acknowledge it with a note.
    console = browser.new_page(viewport={"width": 1400, "height": 1000}, storage_state=page.context.storage_state())
    console.set_default_timeout(60_000)
    console.goto(f"{airflow_server.url}/exceptions-console/?owner=wholesale&q=browser1")
    assert console.locator("table#exceptions tr[data-id]").count() == 1
    console.click(f"tr[data-id='{exception_id}'] a >> nth=0")
    console.wait_for_selector("text=Data path")
    console.fill("form[action$='/acknowledge'] input[name='note']", "looking at the UPC with the buyer")
    console.click("button[name='acknowledge']")
    console.wait_for_selector(".done")
    assert "acknowledged" in console.inner_text(".done")
    assert "looking at the UPC with the buyer" in console.inner_text("table#trail")
    console.screenshot(path=str(screenshots / "04-exception-acknowledged.png"), full_page=True)
    (record,) = [r for r in store.list_exceptions(status=None) if r.id == exception_id]
    assert record.status == "acknowledged"
    (event,) = store.events(entity_type="exception", entity_id=exception_id, kind="exception.acknowledged")
    assert event.payload["by"] == f"airflow:{airflow_server.username}"

    # Yesterday's data-quality report, from the console's list of reports.
    console.goto(f"{airflow_server.url}/exceptions-console/reports/")
    console.click(f"text={yesterday.isoformat()}")
    console.wait_for_selector("text=Volumes per flow")
    assert console.locator("svg").count() >= 1 or "no data yet" in console.content()
    console.screenshot(path=str(screenshots / "05-quality-report.png"), full_page=True)
    store.dispose()
    assert sorted(p.name for p in screenshots.glob("*.png")) == [
        "01-login.png", "02-airflow-home.png", "03-console-in-airflow.png", "04-exception-acknowledged.png",
        "05-quality-report.png"]
