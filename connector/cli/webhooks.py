"""`tps-connector webhooks status | replay`."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from connector.cli.common import ConfigOption, JsonOption, print_json, run, settings_for, stdout
from connector.clock import utcnow
from connector.runtime import open_store
from connector.webhooks import EndpointStatus, delivery_status, replay_deliveries

app = typer.Typer(help="Webhook deliveries: inspect, send again.", no_args_is_help=True)


@app.command("status")
def status_command(config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """Deliveries per endpoint and status, and the oldest event still waiting."""
    settings = settings_for(config)

    async def go() -> list[EndpointStatus]:
        store = await open_store(settings, existing_only=True)
        try:
            return await delivery_status(store, settings.webhooks)
        finally:
            await store.close()

    items = run(go)
    if as_json:
        print_json({"items": [item.to_json() for item in items]})
        return
    if not items:
        stdout.print("no webhook endpoints configured and no deliveries recorded")
        return
    table = Table("endpoint", "pending", "delivered", "failed", "oldest pending")
    for item in items:
        name = item.endpoint if item.configured else f"{item.endpoint} (not configured)"
        oldest = (
            item.oldest_pending_at.isoformat(timespec="seconds") if item.oldest_pending_at else ""
        )
        table.add_row(name, str(item.pending), str(item.delivered), str(item.failed), oldest)
    stdout.print(table)


@app.command("replay")
def replay_command(
    config: ConfigOption = None,
    event: Annotated[
        str | None, typer.Option("--event", help="Send this event (evt_...) again.")
    ] = None,
    failed: Annotated[
        bool, typer.Option("--failed", help="Send every failed delivery again.")
    ] = False,
    endpoint: Annotated[
        str | None, typer.Option("--endpoint", help="Only to this endpoint (its name).")
    ] = None,
) -> None:
    """Queue deliveries again, with a fresh retry window; a running `serve` or `worker` sends them.

    With --event and --failed together: only that event's failed deliveries.
    """
    settings = settings_for(config)

    async def go() -> int:
        store = await open_store(settings)
        try:
            return await replay_deliveries(
                store,
                settings.webhooks,
                event_id=event,
                failed=failed,
                endpoint=endpoint,
                now=utcnow(),
            )
        finally:
            await store.close()

    count = run(go)
    stdout.print(f"queued {count} deliver{'y' if count == 1 else 'ies'} again")
