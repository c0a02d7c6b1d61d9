"""`tps-connector sandbox`: run the local vendor portals (demo, tests, benchmarks).

The sandboxes are the other side of the wire; only this command and `demo` start them.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Annotated

import typer
from rich.table import Table

from connector.cli.common import ConfigOption, settings_for, stdout
from connector.errors import InputError
from sandbox import VENDORS
from sandbox.common.config import SandboxConfig
from sandbox.common.faults import Faults
from sandbox.common.server import start_portal
from sandbox.scenarios import for_vendor


def scenario_table(vendors: tuple[str, ...]) -> Table:
    table = Table("vendor", "scenario", "username", "password", "outcome", title="Sandbox logins")
    for vendor in vendors:
        for s in for_vendor(vendor):
            table.add_row(vendor, s.name, s.username, s.password, str(s.outcome))
    return table


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

    with contextlib.ExitStack() as portals, contextlib.suppress(KeyboardInterrupt):
        # start_portal returns once the portal accepts connections: the URLs printed below are
        # never ahead of the servers.
        for v in vendors:
            try:
                portals.enter_context(start_portal(v, configs[v], host, ports[v]))
            except RuntimeError as error:
                raise InputError(f"{error} (is port {ports[v]} in use?)") from None
        for v in vendors:
            note = f"  (admin API: http://{host}:{ports[v]}/__sandbox/state)" if admin else ""
            stdout.print(f"{v} sandbox: http://{host}:{ports[v]}/{note}")
        stdout.print(scenario_table(vendors))
        stdout.print("press Ctrl-C to stop")
        threading.Event().wait()  # until Ctrl-C; leaving the stack stops the portals
