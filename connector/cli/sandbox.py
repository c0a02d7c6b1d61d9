"""`tps-connector sandbox`: run the local vendor portals (demo, tests, benchmarks).

The sandboxes are the other side of the wire; only this command and `demo` start them.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Annotated

import typer
import uvicorn
from rich.table import Table

from connector.cli.common import ConfigOption, settings_for, stdout
from connector.errors import InputError
from sandbox import VENDORS, create_app
from sandbox.common.config import SandboxConfig
from sandbox.common.faults import Faults
from sandbox.scenarios import for_vendor


def scenario_table(vendors: tuple[str, ...]) -> Table:
    table = Table("vendor", "scenario", "username", "password", "outcome", title="Sandbox logins")
    for vendor in vendors:
        for s in for_vendor(vendor):
            table.add_row(vendor, s.name, s.username, s.password, str(s.outcome))
    return table


async def serve_portals(
    configs: dict[str, SandboxConfig],
    host: str,
    ports: dict[str, int],
    on_ready: Callable[[], None] = lambda: None,
) -> None:
    """Serve every portal; `on_ready` runs once all of them accept connections (so the URLs
    printed are never ahead of the servers)."""
    servers = [
        uvicorn.Server(
            uvicorn.Config(
                create_app(vendor, config),
                host=host,
                port=ports[vendor],
                log_level="warning",
                access_log=False,
            )
        )
        for vendor, config in configs.items()
    ]
    running = [asyncio.create_task(server.serve()) for server in servers]
    while not all(server.started for server in servers):
        if any(task.done() for task in running):
            break  # a server could not start (its error is already logged)
        await asyncio.sleep(0.05)
    else:
        on_ready()
    await asyncio.gather(*running)


def sandbox_command(
    vendor: Annotated[
        str | None, typer.Option(help="invisalign or clearcorrect (default: both).")
    ] = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[
        int, typer.Option(min=1, max=65534, help="Port (both vendors: N and N+1).")
    ] = 8700,
    practices: Annotated[int, typer.Option(min=0, max=10_000, help="Generated practices.")] = 3,
    cases: Annotated[int, typer.Option(min=0, max=100_000, help="Cases per practice.")] = 10,
    seed: Annotated[int, typer.Option(min=0, help="Seed of the data generator.")] = 1,
    admin: Annotated[
        bool, typer.Option("--admin", help="Serve the /__sandbox/ admin API.")
    ] = False,
    session_ttl: Annotated[
        float, typer.Option(min=1, help="Seconds a portal session lives.")
    ] = 1800,
    latency_ms: Annotated[float, typer.Option(min=0, help="Added latency per request.")] = 0,
    error_rate: Annotated[
        float, typer.Option(min=0, max=1, help="Share of requests answered 500/502/503.")
    ] = 0,
    rate_limit_rate: Annotated[
        float, typer.Option(min=0, max=1, help="Share of requests answered 429.")
    ] = 0,
    retry_after: Annotated[int, typer.Option(min=0, help="Retry-After of those 429s.")] = 1,
    session_drop_rate: Annotated[
        float, typer.Option(min=0, max=1, help="Share of session look-ups that drop it.")
    ] = 0,
    layout_version: Annotated[
        int, typer.Option(min=1, max=2, help="2 renames markup and JSON fields.")
    ] = 1,
    config: ConfigOption = None,
) -> None:
    """Run the sandbox portals and print their URLs and scenario logins (Ctrl-C stops)."""
    settings_for(config)
    if vendor is not None and vendor not in VENDORS:
        raise InputError(f"unknown vendor {vendor!r}; expected one of {', '.join(VENDORS)}")
    vendors = (vendor,) if vendor else VENDORS
    ports = {v: port + i for i, v in enumerate(vendors)}
    configs = {
        v: SandboxConfig(
            practices=practices,
            cases=cases,
            seed=seed,
            admin=admin,
            session_ttl_seconds=session_ttl,
            faults=Faults(
                latency_ms=latency_ms,
                error_rate=error_rate,
                rate_limit_rate=rate_limit_rate,
                retry_after_seconds=retry_after,
                session_drop_rate=session_drop_rate,
                layout_version=layout_version,
            ),
        )
        for v in vendors
    }

    def banner() -> None:
        for v in vendors:
            note = f"  (admin API: http://{host}:{ports[v]}/__sandbox/state)" if admin else ""
            stdout.print(f"{v} sandbox: http://{host}:{ports[v]}/{note}")
        stdout.print(scenario_table(vendors))
        stdout.print("press Ctrl-C to stop")

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve_portals(configs, host, ports, banner))
