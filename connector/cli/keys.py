"""`tps-connector keys generate | rotate | status | retire`."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from connector.cli.common import ConfigOption, JsonOption, print_json, run, settings_for, stdout
from connector.domain import KekUsage
from connector.keys import generate_key, kek_usage, retire_key, rotate
from connector.runtime import open_runtime

app = typer.Typer(
    help="Key-encryption keys: create, rotate, inspect, retire.", no_args_is_help=True
)


@app.command("generate")
def generate_command(config: ConfigOption = None) -> None:
    """Create the key file (mode 0600), or add a new primary key to it.

    After adding a key, run `keys rotate` to rewrap existing records onto it.
    """
    settings = settings_for(config)
    kid, created = generate_key(settings)
    if created:
        stdout.print(f"created key file {settings.key_file} with primary key {kid}")
        stdout.print("back this file up somewhere safe: without it, stored logins are lost")
    else:
        stdout.print(f"added primary key {kid} to {settings.key_file}")
        stdout.print("run `tps-connector keys rotate` to rewrap existing records onto it")


@app.command("status")
def status_command(config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """Show each key id, whether it is primary, and how many records it wraps."""
    settings = settings_for(config)

    async def go() -> list[KekUsage]:
        async with open_runtime(settings, read_only=True) as rt:
            return await kek_usage(rt.store, rt.vault.keys)

    usage = run(go)
    if as_json:
        print_json(
            [
                {
                    "kek_id": u.kek_id,
                    "primary": u.primary,
                    "configured": u.configured,
                    "rows": u.rows,
                }
                for u in usage
            ]
        )
        return
    table = Table("key id", "primary", "configured", "records")
    for u in usage:
        table.add_row(
            u.kek_id, "yes" if u.primary else "", "yes" if u.configured else "MISSING", str(u.rows)
        )
    stdout.print(table)


@app.command("rotate")
def rotate_command(
    config: ConfigOption = None,
    batch_size: Annotated[int, typer.Option(min=1, max=10_000, help="Records per commit.")] = 500,
) -> None:
    """Rewrap every data key onto the primary key (ciphertexts are untouched; resumable)."""
    settings = settings_for(config)

    async def go() -> tuple[int, int, str]:
        async with open_runtime(settings) as rt:
            with Progress(
                TextColumn("rewrapping"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=stdout,
                transient=True,
            ) as progress:
                task = progress.add_task("rotate", total=None)

                def report(done: int, total: int) -> None:
                    progress.update(task, completed=done, total=total)

                result = await rotate(rt.store, rt.vault, batch_size=batch_size, progress=report)
            return result.rewrapped, result.remaining, result.primary

    rewrapped, remaining, primary = run(go)
    stdout.print(f"rewrapped {rewrapped} record(s) onto {primary}; {remaining} left on other keys")
    if remaining:
        raise typer.Exit(1)


@app.command("retire")
def retire_command(kid: str, config: ConfigOption = None) -> None:
    """Remove an old key from the key file; refused while any record still uses it."""
    settings = settings_for(config)

    async def go() -> None:
        async with open_runtime(settings) as rt:
            await retire_key(rt.store, settings, kid)

    run(go)
    stdout.print(f"retired key {kid}")
