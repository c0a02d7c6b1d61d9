"""`tps-connector accounts list | show | add | pause | resume | remove`."""

from __future__ import annotations

import getpass
import sys
from typing import Annotated

import typer
from rich.table import Table

from connector.accounts import service
from connector.cli.common import ConfigOption, JsonOption, print_json, run, settings_for, stdout
from connector.domain import Account, AccountStatus
from connector.errors import InputError
from connector.files import blob_remover, blob_stores
from connector.runtime import open_runtime
from connector.store import accounts as account_rows
from vault import Secret

app = typer.Typer(help="Vendor logins the connector syncs.", no_args_is_help=True)


def _table(items: list[Account]) -> Table:
    table = Table("id", "vendor", "username", "practice", "status", "last sync")
    for a in items:
        table.add_row(
            a.id,
            a.vendor,
            a.username,
            a.practice_id or "",
            str(a.status),
            a.last_sync_at.isoformat(timespec="seconds") if a.last_sync_at else "never",
        )
    return table


@app.command("list")
def list_command(
    config: ConfigOption = None,
    as_json: JsonOption = False,
    vendor: Annotated[str | None, typer.Option(help="Only this vendor.")] = None,
    practice: Annotated[str | None, typer.Option(help="Only this practice id.")] = None,
    status: Annotated[AccountStatus | None, typer.Option(help="Only this status.")] = None,
) -> None:
    """List accounts (never their passwords)."""
    settings = settings_for(config)

    async def go() -> list[Account]:
        async with open_runtime(settings, read_only=True) as rt:
            found = await service.list_all(
                rt.store, vendor=vendor, practice_id=practice, status=status
            )
            return list(found)

    items = run(go)
    if as_json:
        print_json({"items": [a.to_json() for a in items]})
    elif items:
        stdout.print(_table(items))
    else:
        stdout.print("no accounts")


@app.command("show")
def show_command(account_id: str, config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """Show one account."""
    settings = settings_for(config)

    async def go() -> Account:
        async with open_runtime(settings, read_only=True) as rt, rt.store.read() as conn:
            return await account_rows.get_account(conn, account_id)

    account = run(go)
    if as_json:
        print_json(account.to_json())
        return
    table = Table("field", "value", show_header=False)
    for key, value in account.to_json().items():
        table.add_row(key, "" if value is None else str(value))
    stdout.print(table)


def _read_secret(prompt: str, *, confirm: bool) -> Secret:
    """From a terminal: a hidden prompt. Otherwise: one line of stdin (never an argument)."""
    if sys.stdin.isatty():
        first = getpass.getpass(f"{prompt}: ")
        if confirm and getpass.getpass(f"{prompt} (again): ") != first:
            raise InputError("the two entries do not match")
        return Secret(first)
    line = sys.stdin.readline()
    if not line:
        raise InputError(f"expected the {prompt.lower()} on standard input")
    return Secret(line.rstrip("\r\n"))


@app.command("add")
def add_command(
    vendor: Annotated[str, typer.Option(help="invisalign or clearcorrect.")],
    username: Annotated[str, typer.Option(help="The staff or partner login (an email).")],
    practice: Annotated[
        str | None, typer.Option(help="The TPS's practice id, when the login serves one.")
    ] = None,
    totp: Annotated[
        bool, typer.Option("--totp", help="Also read a TOTP secret (next prompt or stdin line).")
    ] = False,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Store a vendor login, encrypted. The password comes from a prompt or stdin."""
    settings = settings_for(config)
    password = _read_secret("Password", confirm=True)
    totp_secret = _read_secret("TOTP secret", confirm=False) if totp else None

    async def go() -> Account:
        async with open_runtime(settings) as rt:
            return await service.create_account(
                rt.store,
                rt.vault,
                vendor=vendor,
                username=username,
                password=password,
                totp_secret=totp_secret,
                practice_id=practice,
            )

    account = run(go)
    if as_json:
        print_json(account.to_json())
    else:
        stdout.print(f"added {account.vendor} account {account.id} (status {account.status})")


def _set_paused(account_id: str, config: ConfigOption, paused: bool) -> Account:
    settings = settings_for(config)

    async def go() -> Account:
        async with open_runtime(settings) as rt:
            change = service.pause if paused else service.resume
            account, _ = await change(rt.store, account_id)
            return account

    return run(go)


@app.command("pause")
def pause_command(account_id: str, config: ConfigOption = None) -> None:
    """Stop syncing an account (status `disabled`) until resumed."""
    account = _set_paused(account_id, config, paused=True)
    stdout.print(f"paused {account.id}")


@app.command("resume")
def resume_command(account_id: str, config: ConfigOption = None) -> None:
    """Resume a paused account: its next sync verifies the login, unless the portal's lockout is
    still running (then `locked`, due when it ends) or the stored password was rejected or the
    failure budget is spent (then `login_required`)."""
    account = _set_paused(account_id, config, paused=False)
    stdout.print(f"resumed {account.id} (status {account.status})")


@app.command("remove")
def remove_command(
    account_id: str,
    config: ConfigOption = None,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete an account: crypto-shreds its keys and purges its synced data.

    Asks at a terminal; anywhere else (a script, a pipe) `--yes` is required."""
    settings = settings_for(config)
    if not yes:
        if not (sys.stdin.isatty() and sys.stdout.isatty()):
            raise InputError(
                "accounts remove deletes for good: pass --yes (no terminal to confirm at)"
            )
        typer.confirm(f"delete {account_id} and purge its synced data?", abort=True)

    async def go() -> None:
        async with open_runtime(settings) as rt:
            await service.remove_account(
                rt.store,
                account_id,
                reason="cli accounts remove",
                remove_blobs=blob_remover(blob_stores(settings, rt.store)),
            )

    run(go)
    stdout.print(f"removed {account_id}; its keys are destroyed and its data purged")
