"""Available to sell per SKU and warehouse (tag "inventory")."""

from __future__ import annotations

from fastapi import APIRouter, Response

from amazon_bluecherry.bluecherry import models as m
from sandbox.bluecherry.routes.common import AUTH, BackendDep

router = APIRouter(dependencies=AUTH, tags=["inventory"])


@router.get("/v1/inventory/ats", response_model=m.AtsSnapshot)
def get_ats(backend: BackendDep, warehouse: str | None = None) -> Response:
    """Available to sell (on hand - allocated - on hold) per SKU and warehouse, in one snapshot; incoming
    separate; with the time BlueCherry last finished a batch cycle."""
    return Response(backend.get_ats(warehouse=warehouse).model_dump_json(), media_type="application/json")
