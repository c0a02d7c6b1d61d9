"""`tps-connector portal check --account ID [--record DIR] [--json]`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from adapters.base.check import CheckReport, Verdict
from connector.cli.common import ConfigOption, JsonOption, print_json, run, settings_for, stdout
from connector.portal_check import check_account
from connector.runtime import open_runtime, open_sync_services

app = typer.Typer(help="What holds on a live vendor portal.", no_args_is_help=True)

#: Exit statuses: nothing differs (0), something differs (1), the portal was not touched (3).
NOT_CHECKED = 3


def _table(report: CheckReport) -> Table:
    table = Table(
        "fact", "expected", "found", "verdict",
        title=f"{report.vendor} portal check ({report.language or 'language unknown'})",
    )  # fmt: skip
    shown = report.of(Verdict.DIFFERS) + report.of(Verdict.HOLDS)
    for r in shown:
        mark = " (unverified)" if r.unverified else ""
        table.add_row(r.fact + mark, r.expected, r.found, str(r.verdict))
    return table


def _print(report: CheckReport) -> None:
    stdout.print(_table(report))
    missing = report.of(Verdict.NOT_REACHED)
    if missing:
        stdout.print(
            f"not reached ({len(missing)}, not a failure: the check met no page or data that "
            "shows them): " + ", ".join(r.fact for r in missing)
        )
    for detail in report.parser_errors:
        stdout.print(f"the adapter's parser refused: {detail}")
    if report.unknown_words:
        stdout.print("words the adapter does not know: " + "; ".join(report.unknown_words))
    differ = report.of(Verdict.DIFFERS)
    if report.differs:
        names = ", ".join(r.fact for r in differ) or "see the parser's refusals"
        stdout.print(f"differs: {names}")
    else:
        stdout.print("nothing differs")


@app.command("check")
def check_command(
    account: Annotated[str, typer.Option("--account", help="The account to check.")],
    record: Annotated[
        Path | None,
        typer.Option(
            "--record",
            help="Write the pages seen, sanitized, and manifest.json into this directory.",
            file_okay=False,
        ),
    ] = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Check which facts the adapter relies on hold on the account's portal (read-only)."""
    settings = settings_for(config)

    async def go() -> CheckReport:
        async with open_runtime(settings) as rt, open_sync_services(rt, check=True) as services:
            return await check_account(services, account, record=record)

    report = run(go)
    if as_json:
        print_json(report.to_json())
    elif report.refused is not None:
        stdout.print(f"not checked: the portal was not touched ({report.refused})")
    else:
        _print(report)
    if report.refused is not None:
        raise typer.Exit(NOT_CHECKED)
    if report.differs:
        raise typer.Exit(1)
