"""Liveness, readiness and metrics endpoints for load balancers and Prometheus."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from fastapi import APIRouter, Depends, Request
from starlette.responses import JSONResponse, Response

from ops.guards import public
from ops.metrics import Metrics

Probe = Callable[[], Awaitable[None]]
PROBE_TIMEOUT_SECONDS = 2.0
logger = logging.getLogger("liveclass.health")


@dataclass
class Readiness:
    """Named checks that must all pass for the node to take traffic, except `degradable`
    ones: while one of those fails the node still serves (status "degraded", HTTP 200)."""

    probes: dict[str, Probe] = field(default_factory=dict)
    degradable: set[str] = field(default_factory=set)
    draining: bool = False

    async def check(self) -> dict[str, str]:
        """Run every probe concurrently; map each name to ``ok`` or the failure."""
        names = list(self.probes)
        results = await asyncio.gather(*(self._run(self.probes[n]) for n in names))
        return dict(zip(names, results, strict=True))

    async def _run(self, probe: Probe) -> str:
        try:
            await asyncio.wait_for(probe(), PROBE_TIMEOUT_SECONDS)
        except Exception as exc:  # a probe may fail in any way; report, never raise
            logger.warning("readiness probe failed", extra={"error": repr(exc)})
            return f"error: {type(exc).__name__}"
        return "ok"


def build_router(readiness: Readiness, metrics: Metrics) -> APIRouter:
    """The unauthenticated operational endpoints."""
    router = APIRouter(tags=["operations"], dependencies=[Depends(public)])

    @router.get("/healthz", summary="The process is up")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/readyz", summary="Database and broker reachable", response_model=None)
    async def readyz(request: Request) -> Response:
        checks = await readiness.check()
        failed = {name for name, outcome in checks.items() if outcome != "ok"}
        ready = not readiness.draining and failed <= readiness.degradable
        status = "ready" if not failed else "degraded" if ready else "unavailable"
        body = {"status": "draining" if readiness.draining else status, "checks": checks}
        return JSONResponse(body, status_code=200 if ready else 503)

    @router.get("/metrics", summary="Prometheus metrics", response_class=Response)
    async def prometheus() -> Response:
        return Response(metrics.render(), media_type="text/plain; version=0.0.4")

    return router
