"""`/healthz` (the process answers), `/readyz` (it can do its job), `/metrics` (Prometheus).

Readiness needs the database to answer and every key that sealed records use to be held by this
process: a process that cannot open the logins it would sync is not ready, whatever else works.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST

from connector.api.state import context
from connector.metrics import render
from connector.runtime import missing_keys

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
    summary="Readiness: the database answers and every key that records use is configured",
    responses={
        503: {
            "description": "Not ready",
            "content": {
                "application/json": {
                    "example": {
                        "status": "unavailable",
                        "checks": {"database": "ok", "keys": "missing kek-20260301-a1b2c3 (19)"},
                    }
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
        missing = await missing_keys(ctx.runtime.store, ctx.runtime.vault.keys)
        checks["keys"] = (
            "missing " + ", ".join(f"{kid} ({n})" for kid, n in missing.items())
            if missing
            else "ok"
        )
    except Exception:
        checks.setdefault("database", "unavailable")
        checks["keys"] = "unknown"
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
    return Response(await render(context(request).runtime.store), media_type=CONTENT_TYPE_LATEST)
