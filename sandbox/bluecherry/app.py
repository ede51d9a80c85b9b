"""The emulator's HTTP face: one ``APIRouter`` per tag (``routes/``) that only translates to
:class:`Backend` calls, and the emulator's own errors mapped to their status codes.

Emulator-defined; map to your BlueCherry installation. ``/v1/...`` are the endpoints the
product's ``RestGateway`` calls (documented in ``docs/bluecherry-openapi.json``);
``/admin/...`` drive the emulator (faults, clock, warehouse actions) and exist only here.
Faults are injected at the edge, by an ASGI middleware (``faults.py``), never inside the backend.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from sandbox.bluecherry.backend import Backend
from sandbox.bluecherry.errors import EmulatorError
from sandbox.bluecherry.faults import FaultInjector, FaultMiddleware, FaultSettings
from sandbox.bluecherry.routes import (
    admin,
    finance,
    fulfilment,
    inventory,
    master_data,
    plumbing,
    sales_orders,
)

__all__ = ["FaultInjector", "FaultSettings", "create_app", "gateway_openapi", "openapi_document"]

DESCRIPTION = (
    "Emulator-defined; map to your BlueCherry installation. CGS publishes no BlueCherry API: "
    "these endpoints are the integration layer's own contract, implemented by the emulator in "
    "sandbox/bluecherry. Authenticate with the X-API-Key header; send an Idempotency-Key header "
    "with every POST (the same key with the same body returns the first result; with another body, 409)."
)


COMMON_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"description": "Missing or wrong X-API-Key."},
    404: {"description": "No such document."},
    409: {"description": "Idempotency key reused with another body, or the document can no longer change."},
    429: {"description": "Rate limited: retry after the Retry-After header's seconds."},
    503: {
        "description": "Temporarily unavailable: retry with backoff (writes with the same Idempotency-Key)."
    },
}
# In this order: the OpenAPI document lists the paths as the routers add them.
ROUTERS = (plumbing, master_data, sales_orders, fulfilment, inventory, finance, admin)


def create_app(
    backend: Backend, *, api_key: str, injector: FaultInjector | None = None, files=None
) -> FastAPI:
    """The emulator's FastAPI app around ``backend`` (``files``: a :class:`FileFace` for /admin/files/cycle)."""
    app = FastAPI(
        title="BlueCherry gateway API (emulator-defined)",
        version="1.0.0",
        description=DESCRIPTION,
        responses=COMMON_RESPONSES,
    )
    app.state.backend = backend
    app.state.api_key = api_key
    app.state.injector = injector or FaultInjector()
    app.state.files = files
    app.add_middleware(FaultMiddleware, injector=app.state.injector)

    @app.exception_handler(EmulatorError)
    async def _refused(request: Request, exc: EmulatorError):
        return JSONResponse(status_code=exc.status_code, content={"detail": str(exc)})

    for module in ROUTERS:
        app.include_router(module.router)
    return app


def gateway_openapi(app: FastAPI) -> dict[str, Any]:
    """The OpenAPI document of the gateway contract only (``/v1``), without the emulator's admin routes."""
    document = json.loads(json.dumps(app.openapi()))
    document["paths"] = {path: item for path, item in document["paths"].items() if path.startswith("/v1/")}
    # Drop schemas only the admin routes use.
    used: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
                name = ref.rsplit("/", 1)[1]
                if name not in used:
                    used.add(name)
                    walk(document["components"]["schemas"].get(name, {}))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(document["paths"])
    schemas = document.get("components", {}).get("schemas", {})
    document["components"]["schemas"] = {name: schemas[name] for name in sorted(used)}
    return document


def openapi_document() -> str:
    """``docs/bluecherry-openapi.json``: the gateway contract as the app generates it."""
    app = create_app(None, api_key="unused")  # type: ignore[arg-type] - the schema needs no backend
    return json.dumps(gateway_openapi(app), indent=2, ensure_ascii=False) + "\n"
