"""The committed OpenAPI document of our BlueCherry endpoints is exactly what the app serves."""

from __future__ import annotations

import json
from pathlib import Path

from sandbox.bluecherry.app import openapi_document

DOCUMENT = Path(__file__).resolve().parents[2] / "docs" / "bluecherry-openapi.json"


def test_committed_openapi_matches_the_app():
    assert DOCUMENT.read_text(encoding="utf-8") == openapi_document(), (
        "docs/bluecherry-openapi.json drifted from the emulator's routes: run "
        "`amazon-bluecherry sandbox bluecherry export-openapi --out docs/bluecherry-openapi.json`"
    )


def test_the_document_covers_every_gateway_operation_and_no_admin_route():
    document = json.loads(DOCUMENT.read_text(encoding="utf-8"))
    assert document["info"]["description"].startswith("Emulator-defined; map to your BlueCherry installation")
    assert not [path for path in document["paths"] if not path.startswith("/v1/")]
    operations = {(method.upper(), path) for path, item in document["paths"].items() for method in item}
    assert {
        ("POST", "/v1/sales-orders"),
        ("GET", "/v1/sales-orders"),
        ("GET", "/v1/shipments"),
        ("POST", "/v1/shipments/{shipment_id}/confirmation"),
        ("GET", "/v1/invoices"),
        ("GET", "/v1/inventory/ats"),
        ("GET", "/v1/items"),
        ("GET", "/v1/price-lists/{price_list}"),
        ("GET", "/v1/customers"),
        ("POST", "/v1/gl/journal-entries"),
        ("POST", "/v1/ar/cash-receipts"),
        ("GET", "/v1/ar/open-items"),
        ("GET", "/v1/gl/ledger-lines"),
    } <= operations
    writes = [item["post"] for item in document["paths"].values() if "post" in item]
    assert all(
        any(p["name"] == "Idempotency-Key" and p["required"] for p in op["parameters"]) for op in writes
    )
    assert document["components"]["securitySchemes"]["ApiKey"] == {
        "type": "apiKey",
        "in": "header",
        "name": "X-API-Key",
    }
