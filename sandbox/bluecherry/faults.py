"""Faults at the emulator's HTTP edge: latency, 5xx, 429 with Retry-After, dropped connections.

Injected by an ASGI middleware around ``/v1``, never inside the backend; switchable at run
time through ``PUT /admin/faults``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import threading
from typing import Literal

from pydantic import BaseModel, Field

__all__ = ["FAULT_KINDS", "FaultInjector", "FaultMiddleware", "FaultSettings"]

log = logging.getLogger("sandbox.bluecherry.app")

FAULT_KINDS = ("error_500", "error_503", "rate_limit", "drop")


class FaultSettings(BaseModel):
    """What the edge does to ``/v1`` requests; switchable at run time via ``PUT /admin/faults``."""

    error_rate: float = Field(default=0.0, ge=0, le=1, description="share of requests that fail")
    kinds: dict[Literal["error_500", "error_503", "rate_limit", "drop"], float] = Field(
        default_factory=lambda: dict.fromkeys(FAULT_KINDS, 1.0), description="relative weight of each fault"
    )
    after_share: float = Field(
        default=0.5,
        ge=0,
        le=1,
        description="share of 5xx and dropped-connection faults injected AFTER the request was applied",
    )
    latency_ms: int = Field(default=0, ge=0, description="added to every /v1 request")
    latency_jitter_ms: int = Field(default=0, ge=0)
    retry_after_seconds: int = Field(default=1, ge=0, description="Retry-After of injected 429s")
    seed: int | None = Field(default=None, description="for repeatable fault sequences")


class FaultInjector:
    """Decides, per request, whether and how to fail; counts what it did."""

    def __init__(self, settings: FaultSettings | None = None):
        self._lock = threading.Lock()
        self.configure(settings or FaultSettings())

    def configure(self, settings: FaultSettings) -> None:
        with self._lock:
            self.settings = settings
            self._random = random.Random(settings.seed)
            self.counts: dict[str, int] = {"requests": 0} | {
                f"{k}_{p}": 0 for k in FAULT_KINDS for p in ("before", "after")
            }

    def decide(self) -> tuple[str, str] | None:
        with self._lock:
            self.counts["requests"] += 1
            settings = self.settings
            if settings.error_rate <= 0 or self._random.random() >= settings.error_rate:
                return None
            kinds = [(k, w) for k, w in settings.kinds.items() if w > 0]
            if not kinds:
                return None
            kind = self._random.choices([k for k, _ in kinds], weights=[w for _, w in kinds])[0]
            # A 429 means "not processed"; 5xx and drops may happen after the work was done.
            phase = (
                "after" if kind != "rate_limit" and self._random.random() < settings.after_share else "before"
            )
            self.counts[f"{kind}_{phase}"] += 1
            return kind, phase

    def latency(self) -> float:
        with self._lock:
            settings = self.settings
            jitter = self._random.uniform(0, settings.latency_jitter_ms) if settings.latency_jitter_ms else 0
            return (settings.latency_ms + jitter) / 1000

    def stats(self) -> dict[str, int]:
        with self._lock:
            return dict(self.counts)


class FaultMiddleware:
    """ASGI middleware: latency, 5xx, 429 with Retry-After, dropped connections on ``/v1``."""

    def __init__(self, app, injector: FaultInjector):
        self.app = app
        self.injector = injector

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or not scope["path"].startswith("/v1/"):
            await self.app(scope, receive, send)
            return
        delay = self.injector.latency()
        if delay:
            await asyncio.sleep(delay)
        decision = self.injector.decide()
        if decision is None:
            await self.app(scope, receive, send)
            return
        kind, phase = decision
        if phase == "after":

            async def swallow(message):  # the work is done, but its answer is lost
                return None

            await self.app(scope, receive, swallow)
        log.info("injected fault %s (%s) on %s %s", kind, phase, scope["method"], scope["path"])
        await self._fail(kind, send)

    async def _fail(self, kind: str, send) -> None:
        if kind == "drop":
            # Promise a body, send part of it, stop: the server closes the connection mid-response.
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", b"4096")],
                }
            )
            await send({"type": "http.response.body", "body": b'{"data": [', "more_body": True})
            return
        status = {"error_500": 500, "error_503": 503, "rate_limit": 429}[kind]
        headers = [(b"content-type", b"application/json")]
        if kind == "rate_limit":
            headers.append((b"retry-after", str(self.injector.settings.retry_after_seconds).encode()))
        body = json.dumps({"detail": f"injected fault: {kind}"}).encode()
        headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
