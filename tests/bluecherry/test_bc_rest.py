"""The REST adapter's own rules: retries, Retry-After, idempotency keys, errors, secrets kept out of logs."""

from __future__ import annotations

import logging
import socket
import time
from datetime import date
from decimal import Decimal

import httpx
import pytest

from amazon_bluecherry.bluecherry.gateway import (
    AuthenticationFailed,
    Conflict,
    NotFound,
    Rejected,
    TransientGatewayError,
)
from amazon_bluecherry.bluecherry.models import CashReceipt, ReceiptApplication
from amazon_bluecherry.bluecherry.rest import API_KEY_HEADER, IDEMPOTENCY_HEADER, RestGateway


@pytest.fixture
def emulator(shared_emulator):
    """These tests share one emulator (distinct POs and keys); faults are reset after each."""
    return shared_emulator


def fast_gateway(emulator, **options) -> RestGateway:
    # The circuit breaker has tests of its own; elsewhere it stays out of the way.
    settings = {"timeout": 5, "max_retries": 3, "backoff": 0.01, "max_backoff": 0.05,
                "circuit_breaker_threshold": 50} | options
    return RestGateway(emulator.url, emulator.api_key, **settings)


def test_429_is_retried_after_the_servers_retry_after(emulator):
    gateway = fast_gateway(emulator, max_retries=2)
    emulator.set_faults(error_rate=1.0, kinds={"rate_limit": 1}, retry_after_seconds=1)
    started = time.monotonic()
    with pytest.raises(TransientGatewayError, match="failed 3 times; last: HTTP 429"):
        gateway.list_gl_accounts()
    elapsed = time.monotonic() - started
    assert emulator.injector.stats()["rate_limit_before"] == 3
    assert elapsed >= 2.0  # two waits of Retry-After: 1, although the backoff alone would be ~0.03 s


def test_server_errors_and_dropped_connections_are_retried_until_success(emulator):
    gateway = fast_gateway(emulator, max_retries=10)
    emulator.set_faults(error_rate=0.5, kinds={"error_503": 1, "drop": 1}, seed=3)
    accounts = gateway.list_gl_accounts()
    for _ in range(5):
        assert gateway.list_gl_accounts() == accounts
    stats = emulator.injector.stats()
    assert (
        stats["drop_before"] + stats["drop_after"] >= 1
        and stats["error_503_before"] + stats["error_503_after"] >= 1
    )


def test_a_write_retried_after_the_server_applied_it_is_not_applied_twice(emulator, items_with, draft_for):
    gateway = fast_gateway(emulator, max_retries=5)
    draft = draft_for(items_with(emulator, count=1, min_available=50), [12])
    # Every first attempt is applied and its answer lost; the retry must get the stored answer.
    emulator.set_faults(error_rate=1.0, kinds={"error_500": 1}, after_share=1.0)
    with pytest.raises(TransientGatewayError):
        gateway.upsert_sales_order(draft, idempotency_key="lost-answers")
    assert emulator.injector.stats()["error_500_after"] == 6  # all attempts applied-then-lost
    emulator.clear_faults()
    result = gateway.upsert_sales_order(draft, idempotency_key="lost-answers")
    assert result.outcome == "created" and result.revision == 1  # the first attempt's answer, replayed
    assert emulator.backend.count_sales_orders(draft.customer_po) == 1


def test_every_write_carries_an_idempotency_key(emulator, draft_for, items_with):
    draft = draft_for(items_with(emulator, count=1, min_available=10), [6])
    with httpx.Client(base_url=emulator.url, headers={API_KEY_HEADER: emulator.api_key}) as client:
        refused = client.post("/v1/sales-orders", json=draft.model_dump(mode="json"))
        assert refused.status_code == 422 and IDEMPOTENCY_HEADER in refused.text
        first = client.post(
            "/v1/sales-orders", json=draft.model_dump(mode="json"), headers={IDEMPOTENCY_HEADER: "k1"}
        )
        again = client.post(
            "/v1/sales-orders", json=draft.model_dump(mode="json"), headers={IDEMPOTENCY_HEADER: "k1"}
        )
    assert first.status_code == 201 and again.json() == first.json()
    assert emulator.backend.count_sales_orders(draft.customer_po) == 1
    with pytest.raises(ValueError, match="idempotency key"):
        fast_gateway(emulator).upsert_sales_order(draft, idempotency_key="")


def test_a_key_reused_for_other_content_is_a_conflict(emulator, draft_for, items_with):
    gateway = fast_gateway(emulator)
    items = items_with(emulator, count=1, min_available=50)
    gateway.upsert_sales_order(draft_for(items, [6]), idempotency_key="reused")
    with pytest.raises(Conflict, match="already used"):
        gateway.upsert_sales_order(draft_for(items, [12]), idempotency_key="reused")


def test_refusals_map_to_gateway_errors(emulator, draft_for, items_with):
    gateway = fast_gateway(emulator)
    with pytest.raises(NotFound):
        gateway.get_invoice("INV-NO-SUCH")
    with pytest.raises(NotFound):
        gateway.get_price_list("NOPE")
    draft = draft_for(items_with(emulator, count=1, min_available=10), [6]).model_copy(
        update={"bc_customer": "NOBODY"}
    )
    with pytest.raises(Rejected, match="unknown customer"):
        gateway.upsert_sales_order(draft, idempotency_key="nobody")
    receipt = CashReceipt(
        receipt_number="R-1",
        receipt_date=date.today(),
        bc_customer="AMAZON",
        amount=Decimal("10.00"),
        applications=[ReceiptApplication(invoice_number="INV-NO-SUCH", amount_applied=Decimal("10.00"))],
    )
    with pytest.raises(Rejected, match="no invoice INV-NO-SUCH"):
        gateway.record_cash_receipt(receipt, idempotency_key="r-1")


def test_an_unbalanced_journal_is_refused_by_the_erp(emulator):
    body = {
        "posting_date": date.today().isoformat(),
        "reference": "raw-unbalanced",
        "lines": [{"account": "6110", "debit": "10.00"}, {"account": "1200", "credit": "9.00"}],
    }
    with httpx.Client(base_url=emulator.url, headers={API_KEY_HEADER: emulator.api_key}) as client:
        response = client.post("/v1/gl/journal-entries", json=body, headers={IDEMPOTENCY_HEADER: "raw"})
    assert response.status_code == 422 and "unbalanced" in response.text


def test_a_wrong_key_is_refused_and_no_key_is_ever_logged(emulator, caplog):
    caplog.set_level(logging.DEBUG)
    wrong = RestGateway(emulator.url, "not-the-key", max_retries=0)
    with pytest.raises(AuthenticationFailed):
        wrong.ping()
    gateway = fast_gateway(emulator, max_retries=6)
    emulator.set_faults(error_rate=0.5, seed=1, retry_after_seconds=0)
    for _ in range(6):
        gateway.list_gl_accounts()
    emulator.clear_faults()
    assert "retry" in caplog.text  # the faults were logged ...
    assert emulator.api_key not in caplog.text  # ... without the key
    assert emulator.api_key not in repr(gateway) and "not-the-key" not in repr(wrong)


def test_nobody_listening_is_a_transient_error(emulator):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    gateway = RestGateway(f"http://127.0.0.1:{port}", "key", max_retries=1, backoff=0.01)
    with pytest.raises(TransientGatewayError, match="ConnectError") as caught:
        gateway.ping()
    assert isinstance(caught.value.__cause__, httpx.ConnectError)


def test_a_slow_server_times_out_and_is_retried(emulator):
    emulator.set_faults(latency_ms=400)
    impatient = fast_gateway(emulator, timeout=0.1, max_retries=1)
    with pytest.raises(TransientGatewayError, match="ReadTimeout"):
        impatient.ping()
    fast_gateway(emulator, timeout=2).ping()


def test_lists_are_read_page_by_page(emulator):
    gateway = fast_gateway(emulator, page_size=700)
    items = gateway.list_items()
    assert len(items) == len(emulator.backend.list_items()) > 2 * 700
    assert len({item.sku for item in items}) == len(items)


def test_the_circuit_opens_after_k_consecutive_failures_and_then_no_call_is_made(emulator):
    from amazon_bluecherry.bluecherry.gateway import BlueCherryUnavailable

    gateway = fast_gateway(emulator, max_retries=10, circuit_breaker_threshold=3)
    emulator.set_faults(error_rate=1.0, kinds={"error_503": 1})
    with pytest.raises(BlueCherryUnavailable, match="3 consecutive transient failures.*HTTP 503"):
        gateway.list_gl_accounts()
    assert emulator.injector.stats()["requests"] == 3, "three attempts, not eleven"
    emulator.clear_faults()
    with pytest.raises(BlueCherryUnavailable, match="circuit open"):
        gateway.ping()  # fails fast: the emulator is healthy again but is not asked
    assert emulator.injector.stats()["requests"] == 0
    fast_gateway(emulator, circuit_breaker_threshold=3).ping()  # the next run's gateway starts closed


def test_a_success_resets_the_count_of_consecutive_failures(emulator):
    gateway = fast_gateway(emulator, max_retries=10, circuit_breaker_threshold=5)
    emulator.set_faults(error_rate=0.3, kinds={"error_500": 1}, after_share=0.0, seed=11)
    for _ in range(30):  # failures come in short runs, each ended by a success
        gateway.list_gl_accounts()
    stats = emulator.injector.stats()
    assert stats["error_500_before"] >= 10 and not gateway.breaker.is_open


def test_a_stopped_server_opens_the_circuit_within_seconds(tmp_path, emulator_template):
    from amazon_bluecherry.bluecherry.gateway import BlueCherryUnavailable
    from sandbox.bluecherry.server import seeded_database, start_emulator

    stopped = start_emulator(seeded_database(emulator_template, tmp_path / "bc.sqlite"))
    gateway = RestGateway(stopped.url, stopped.api_key, max_retries=5, backoff=0.05, max_backoff=0.2,
                          circuit_breaker_threshold=6)
    gateway.ping()
    stopped.stop()
    started = time.monotonic()
    with pytest.raises(BlueCherryUnavailable, match="ConnectError"):
        for _ in range(100):  # a load of 100 POs against a dead server
            gateway.ping()
    assert time.monotonic() - started < 5


def test_a_batch_answers_each_draft_and_a_refusal_stops_no_other(emulator, items_with, draft_for, new_po):
    gateway = fast_gateway(emulator, batch_size=3, max_concurrency=2)
    items = items_with(emulator, count=2, min_available=60)
    good = [(draft_for(items, [6, 6], po=new_po("B")), f"batch-good-{n}-{new_po()}") for n in range(7)]
    refused = (draft_for(items, [6, 6]).model_copy(update={"bc_customer": "NOBODY"}), f"batch-bad-{new_po()}")
    orders = [*good[:4], refused, *good[4:]]
    results = gateway.upsert_sales_orders(orders)
    assert [type(r).__name__ for r in results] == ["WriteResult"] * 4 + ["Rejected"] + ["WriteResult"] * 3
    assert "unknown customer" in str(results[4])
    assert {r.key for r in results if not isinstance(r, Exception)} == {d.customer_po for d, _ in good}
    # A retried batch (same keys) creates nothing new: each draft's first answer comes back.
    emulator.set_faults(error_rate=0.3, kinds={"error_500": 1, "drop": 1}, after_share=1.0, seed=5)
    again = fast_gateway(emulator, batch_size=3, max_retries=8).upsert_sales_orders(orders)
    emulator.clear_faults()
    assert [getattr(r, "document_number", None) for r in again] == [getattr(r, "document_number", None)
                                                                    for r in results]
    for draft, _ in good:
        assert emulator.backend.count_sales_orders(draft.customer_po) == 1
