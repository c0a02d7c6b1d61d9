"""`tps-connector db upgrade`."""

from __future__ import annotations

import typer

from connector.cli.common import ConfigOption, run, settings_for, stdout
from connector.store import Store, upgrade

app = typer.Typer(help="Database schema.", no_args_is_help=True)


@app.command("upgrade")
def upgrade_command(config: ConfigOption = None) -> None:
    """Apply pending migrations to the configured database."""
    settings = settings_for(config)

    async def go() -> tuple[str | None, str | None]:
        store = Store.connect(settings.database_url)
        try:
            return await upgrade(store)
        finally:
            await store.close()

    before, after = run(go)
    if before == after:
        stdout.print(f"database is up to date (revision {after})")
    else:
        stdout.print(f"database upgraded from {before or 'empty'} to {after}")
