"""`tps-connector files fetch [--case ID] [--account ID]`: download turns now, with progress."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table

from connector.cli.common import ConfigOption, run, settings_for, stdout
from connector.clock import utcnow
from connector.errors import InputError
from connector.files import FilesServices, TurnResult, fetch_account, files_services
from connector.files.loop import accounts_due, queue_eager_listings
from connector.runtime import open_runtime, open_sync_services
from connector.store import files as file_rows

app = typer.Typer(help="Setup files and case records.", no_args_is_help=True)

#: Turns one account may take in one command before it stops (a portal that keeps failing).
MAX_TURNS = 50


async def _queue_case(services: FilesServices, case_id: str) -> str:
    """List the case again and fetch every file the policy allows; returns its account."""
    store = services.sync.store
    async with store.transaction() as conn:
        case = await file_rows.case_of_files(conn, case_id)
        await file_rows.request_listing(conn, case.id, case.account_id, utcnow(), eager=True)
    return case.account_id


async def fetch_with_progress(
    services: FilesServices, account_ids: list[str], case_id: str | None
) -> list[TurnResult]:
    results: list[TurnResult] = []
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=stdout,
        refresh_per_second=8,
    ) as progress:
        tasks: dict[str, TaskID] = {}

        def report(file_id: str, delta: int, size: int | None) -> None:
            task = tasks.get(file_id)
            if task is None:
                task = progress.add_task(file_id, total=size)
                tasks[file_id] = task
            progress.update(task, advance=delta)

        for account_id in account_ids:
            for _ in range(MAX_TURNS):
                result = await fetch_account(services, account_id, case_id=case_id, progress=report)
                results.append(result)
                if result.outcome != "more":
                    break
        for task in tasks.values():
            done = progress.tasks[task].completed
            progress.update(task, total=done, completed=done)
    return results


def _table(results: list[TurnResult]) -> Table:
    table = Table("account", "outcome", "listed", "fetched", "failed", "errors", title="Files")
    for r in results:
        table.add_row(
            r.account_id,
            r.outcome,
            str(r.listed),
            str(r.fetched),
            str(r.failed),
            ", ".join(sorted(set(r.errors))),
        )
    return table


@app.command("fetch")
def fetch_command(
    case: Annotated[
        str | None, typer.Option("--case", help="Only this case: list it and fetch its files.")
    ] = None,
    account: Annotated[str | None, typer.Option("--account", help="Only this account.")] = None,
    config: ConfigOption = None,
) -> None:
    """Fetch the files waiting for download (setups in review, requested files), with progress
    bars; with --case, list that case's files and fetch every one the policy allows."""
    settings = settings_for(config)

    async def go() -> list[TurnResult]:
        async with open_runtime(settings) as rt, open_sync_services(rt) as sync:
            services = files_services(settings, sync)
            if case is not None:
                accounts = [await _queue_case(services, case)]
            else:
                await queue_eager_listings(services)
                accounts = await accounts_due(services)
            if account is not None:
                accounts = [a for a in accounts if a == account] or [account]
            if not accounts:
                raise InputError("no file is waiting for download")
            return await fetch_with_progress(services, accounts, case)

    results = run(go)
    stdout.print(_table(results))
    if any(r.outcome == "failed" for r in results):
        raise typer.Exit(1)
