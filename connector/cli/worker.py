"""`tps-connector worker`: a distributed sync worker (PostgreSQL store required)."""

from __future__ import annotations

from typing import Annotated

import typer

from connector.cli.common import ConfigOption, run, settings_for, stdout
from connector.collector import collector_set_for_work
from connector.errors import ConfigError
from connector.runtime import bind_listener, open_runtime, open_sync_services
from connector.store.jobs import procrastinate_installed
from connector.worker import WorkerContext, build_app
from connector.worker.http import serve_metrics


def worker_command(
    config: ConfigOption = None,
    concurrency: Annotated[
        int | None, typer.Option(min=1, max=256, help="Jobs at once (default: sync.concurrency).")
    ] = None,
    metrics_port: Annotated[
        int | None,
        typer.Option(
            min=0,
            max=65535,
            help="Port of this worker's /metrics and /healthz (default: worker.metrics_port; "
            "0: none).",
        ),
    ] = None,
) -> None:
    """Run sync, action and webhook-delivery jobs from the PostgreSQL queue until SIGTERM."""
    settings = settings_for(config, long_running=True)
    if settings.embedded:
        raise ConfigError(
            "worker needs PostgreSQL: set database.url to postgresql+psycopg://... "
            "(the embedded SQLite mode runs its scheduler inside `serve`)"
        )
    port = settings.worker.metrics_port if metrics_port is None else metrics_port
    host = settings.worker.metrics_host
    listener = bind_listener(host, port, "the worker's /metrics") if port else None

    async def go() -> None:
        async with (
            open_runtime(settings) as rt,
            open_sync_services(rt, check=True) as services,
        ):
            if not await procrastinate_installed(rt.store):
                raise ConfigError(
                    "the job queue's tables are missing: run `tps-connector db upgrade`"
                )
            app = build_app(settings.database_url)
            where = f"; metrics on http://{host}:{port}/metrics" if listener else ""
            stdout.print(f"worker {services.holder} started (Ctrl-C or SIGTERM stops it){where}")
            with collector_set_for_work():
                async with app.open_async(), serve_metrics(rt.store, listener):
                    await app.run_worker_async(
                        name=services.holder,
                        concurrency=concurrency or settings.sync.concurrency,
                        additional_context={"worker": WorkerContext(settings, services)},
                        shutdown_graceful_timeout=settings.sync.grace_seconds,
                        install_signal_handlers=True,
                        fetch_job_polling_interval=2.0,
                        delete_jobs="successful",
                    )
        stdout.print("worker stopped")

    try:
        run(go)
    finally:
        if listener is not None:
            listener.close()
