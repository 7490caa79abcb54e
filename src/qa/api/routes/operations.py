"""Operations routes: liveness, readiness and Prometheus metrics."""

# No `from __future__ import annotations`: FastAPI evaluates route annotations at runtime.

from typing import cast

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from qa.api.deps import ServiceDep
from qa.api.errors import error_responses
from qa.api.metrics import METRICS_CONTENT_TYPE, HTTPMetrics
from qa.models import IndexInfo


class Health(BaseModel):
    status: str = Field("ok", description="Always `ok` while the process serves requests.")


class Readiness(BaseModel):
    ready: bool = Field(description="True when the index is loaded and queries can run.")
    index: IndexInfo


def operations_router() -> APIRouter:
    """`/healthz`, `/readyz` and `/metrics`."""
    router = APIRouter(tags=["operations"])

    @router.get("/healthz", response_model=Health)
    async def healthz() -> Health:
        """Liveness: the process is up. Never requires the API key."""
        return Health()

    @router.get(
        "/readyz",
        response_model=Readiness,
        responses=error_responses(401, 503),
    )
    async def readyz(service: ServiceDep) -> Readiness:
        """Readiness: the index is loaded (503 until `qa ingest` has built one)."""
        status = await run_in_threadpool(service.info)
        return Readiness(ready=True, index=status)

    @router.get(
        "/metrics",
        response_class=Response,
        responses={200: {"content": {"text/plain": {}}, "description": "Prometheus metrics."}},
    )
    async def metrics(request: Request) -> Response:
        """Prometheus metrics: requests, latency, passage count and index version."""
        registry = cast(HTTPMetrics, request.app.state.metrics)
        body = await run_in_threadpool(registry.render)
        return Response(body, media_type=METRICS_CONTENT_TYPE)

    return router
