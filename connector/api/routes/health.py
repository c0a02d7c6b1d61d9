"""`/healthz` (the process answers), `/readyz` (it can do its job), `/metrics` (Prometheus)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from connector.api.state import context
from connector.metrics import REGISTRY, refresh_gauges

router = APIRouter(tags=["health"])


@router.get(
    "/healthz",
    summary="Liveness",
    responses={200: {"content": {"application/json": {"example": {"status": "ok"}}}}},
)
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    summary="Readiness: the database answers and the keys are loaded",
    responses={
        503: {
            "description": "Not ready",
            "content": {
                "application/json": {
                    "example": {"status": "unavailable", "checks": {"database": "unavailable"}}
                }
            },
        }
    },
)
async def readyz(request: Request) -> JSONResponse:
    ctx = context(request)
    checks: dict[str, Any] = {}
    try:
        await ctx.runtime.store.ping()
        checks["database"] = "ok"
    except Exception:
        checks["database"] = "unavailable"
    checks["keys"] = "ok" if ctx.runtime.vault.keys.kids() else "missing"
    for name, probe in getattr(request.app.state, "readiness", {}).items():
        try:
            checks[name] = await probe(ctx)
        except Exception:
            checks[name] = "unavailable"
    ready = all(v == "ok" for v in checks.values())
    return JSONResponse(
        {"status": "ok" if ready else "unavailable", "checks": checks},
        status_code=200 if ready else 503,
    )


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}}},
)
async def metrics(request: Request) -> Response:
    await refresh_gauges(context(request).runtime.store)
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
