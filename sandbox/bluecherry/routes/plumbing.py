"""Reachability: the unauthenticated health check and the authenticated ping."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel

from sandbox.bluecherry.routes.common import AUTH, BackendDep

router = APIRouter()


class Pong(BaseModel):
    status: Literal["ok"] = "ok"
    server_time: datetime


@router.get("/health", include_in_schema=False)
def health() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/v1/ping", dependencies=AUTH, tags=["plumbing"])
def ping(backend: BackendDep) -> Pong:
    """Check reachability and the API key."""
    return Pong(server_time=backend.clock.now())
