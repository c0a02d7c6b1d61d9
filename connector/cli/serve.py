"""`tps-connector serve`: the API, the form and (unless `--no-scheduler`) the embedded scheduler,
the action loop and webhook delivery, in one process."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Annotated

import structlog
import typer
import uvicorn

from connector.actions import ActionLoop
from connector.api.app import create_app
from connector.api.state import ApiContext
from connector.cli.common import ConfigOption, run, settings_for, stdout
from connector.errors import ConfigError
from connector.files import FilesLoop, files_services
from connector.retention import purge_expired
from connector.runtime import bind_listener, open_runtime, probe_browser
from connector.settings import Settings
from connector.store.jobs import live_workers
from connector.sync import Scheduler
from connector.webhooks import DeliveryLoop

_log = structlog.get_logger("connector.serve")


async def retention_loop(ctx: ApiContext, settings: Settings, stop: asyncio.Event) -> None:
    """Purge expired health data hourly (workers do the same in their periodic job)."""
    while not stop.is_set():
        try:
            await purge_expired(ctx.runtime.store, settings)
        except Exception:
            _log.exception("retention.failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=3600)


def background(
    settings: Settings, *, scheduler: bool
) -> Callable[[ApiContext], AbstractAsyncContextManager[None]]:
    """The loops `serve` runs beside the API, started and stopped with the app's lifespan."""

    @asynccontextmanager
    async def run(ctx: ApiContext) -> AsyncIterator[None]:
        stop = asyncio.Event()
        tasks: list[asyncio.Task[None]] = []
        delivery = DeliveryLoop(ctx.runtime.store, settings.webhooks)
        tasks.append(asyncio.create_task(delivery.run(stop), name="webhooks"))
        if scheduler:
            sync_loop = Scheduler(
                ctx.services,
                concurrency=settings.sync.concurrency,
                vendor_concurrency={
                    v: settings.vendors.for_vendor(v).concurrency for v in ctx.services.adapters
                },
                poll_seconds=settings.sync.poll_seconds,
                grace_seconds=settings.sync.grace_seconds,
            )
            action_loop = ActionLoop(ctx.services)
            ctx.wakers.scheduler.append(sync_loop)
            ctx.wakers.actions_loops.append(action_loop)
            tasks.append(asyncio.create_task(sync_loop.run(stop), name="scheduler"))
            tasks.append(asyncio.create_task(action_loop.run(stop), name="actions"))
            tasks.append(asyncio.create_task(retention_loop(ctx, settings, stop), name="retention"))
            files_loop = FilesLoop(
                files_services(settings, ctx.services),
                concurrency=settings.files.concurrency,
                poll_seconds=settings.files.poll_seconds,
            )
            tasks.append(asyncio.create_task(files_loop.run(stop), name="files"))
        _log.info("serve.started", scheduler=scheduler, webhooks=len(settings.webhooks.endpoints))
        try:
            yield
        finally:
            stop.set()
            await asyncio.gather(*tasks, return_exceptions=True)
            _log.info("serve.stopped")

    return run


def serve_command(
    config: ConfigOption = None,
    no_scheduler: Annotated[
        bool,
        typer.Option("--no-scheduler", help="Leave syncs and actions to `tps-connector worker`."),
    ] = False,
) -> None:
    """Serve the API (/v1), the update-credentials form (/forms) and, unless told otherwise,
    the embedded scheduler.

    The port is bound, and the database and keys opened, before anything starts: a port in use
    or a missing key is one line and an exit code, not a half-started server."""
    settings = settings_for(config, long_running=True)
    if no_scheduler and settings.embedded:
        raise ConfigError(
            "--no-scheduler leaves syncs to workers, which need PostgreSQL (database.url)"
        )
    listener = bind_listener(settings.api.host, settings.api.port)

    async def go() -> None:
        async with open_runtime(settings) as rt:
            await probe_browser(settings)
            app = create_app(
                settings, runtime=rt, on_start=background(settings, scheduler=not no_scheduler)
            )
            if no_scheduler:

                async def workers(ctx: ApiContext) -> str:
                    return "ok" if await live_workers(ctx.runtime.store) else "no live worker"

                app.state.readiness = {"workers": workers}
            server = uvicorn.Server(
                uvicorn.Config(
                    app,
                    log_config=None,  # our redacting pipeline owns the loggers
                    access_log=True,
                    server_header=False,
                    proxy_headers=True,
                    forwarded_allow_ips=settings.api.forwarded_allow_ips,
                    timeout_graceful_shutdown=int(settings.sync.grace_seconds) + 5,
                )
            )
            stdout.print(
                f"serving on http://{settings.api.host}:{settings.api.port} "
                f"(API docs: /docs; forms at {settings.api.public_base_url}/forms/...)"
            )
            await server.serve(sockets=[listener])

    try:
        run(go)
    finally:
        listener.close()
