"""`tps-connector db upgrade`."""

from __future__ import annotations

import typer

from connector.cli.common import ConfigOption, run, settings_for, stdout
from connector.runtime import connect_store
from connector.store import upgrade
from connector.worker.jobs import install_procrastinate

app = typer.Typer(help="Database schema.", no_args_is_help=True)


@app.command("upgrade")
def upgrade_command(config: ConfigOption = None) -> None:
    """Apply pending migrations (and, on PostgreSQL, install the job queue's tables once)."""
    settings = settings_for(config)

    async def go() -> tuple[str | None, str | None, bool]:
        store = await connect_store(settings)
        try:
            before, after = await upgrade(store)
            queue = await install_procrastinate(store, settings.database_url)
            return before, after, queue
        finally:
            await store.close()

    before, after, queue = run(go)
    if before == after:
        stdout.print(f"database is up to date (revision {after})")
    else:
        stdout.print(f"database upgraded from {before or 'empty'} to {after}")
    if queue:
        stdout.print("installed the job queue's tables (procrastinate) for workers")
