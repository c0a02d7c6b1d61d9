"""A worker's own small HTTP server: `/metrics` for Prometheus and `/healthz` for probes.

Workers have no API, but their counters (syncs, sign-ins, webhook deliveries) exist only in
their own memory, so each one serves them on its port (`worker.metrics_port`). The server runs
on the worker's event loop and leaves signal handling to the job queue's worker, which owns the
graceful shutdown.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Iterator

import uvicorn
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from connector.metrics import render
from connector.store.database import Store


def metrics_app(store: Store) -> Starlette:
    async def metrics(request: Request) -> Response:
        return Response(await render(store), media_type=CONTENT_TYPE_LATEST)

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    return Starlette(routes=[Route("/metrics", metrics), Route("/healthz", healthz)])


class _QuietServer(uvicorn.Server):
    """uvicorn without its signal handlers: the worker's own handle SIGTERM and SIGINT."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@contextlib.asynccontextmanager
async def serve_metrics(store: Store, listener: socket.socket | None) -> AsyncIterator[None]:
    """Serve `/metrics` on an already bound socket while the block runs (nothing without one)."""
    if listener is None:
        yield
        return
    server = _QuietServer(
        uvicorn.Config(metrics_app(store), log_config=None, access_log=False, lifespan="off")
    )
    task = asyncio.create_task(server.serve(sockets=[listener]), name="worker metrics")
    try:
        yield
    finally:
        server.should_exit = True
        await asyncio.gather(task, return_exceptions=True)
