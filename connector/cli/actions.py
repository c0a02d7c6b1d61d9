"""`tps-connector actions list | show | comment | reject | run`."""

from __future__ import annotations

import asyncio
import sys
import time
from typing import Annotated

import typer
from rich.table import Table

from connector.actions import request_action, run_due_actions
from connector.cli.common import ConfigOption, JsonOption, print_json, run, settings_for, stdout
from connector.domain import ActionKind, ActionStatus
from connector.errors import InputError
from connector.runtime import open_runtime, open_sync_services
from connector.store import actions as action_rows

app = typer.Typer(
    help="Outbound actions: comments and setup rejections, exactly once.", no_args_is_help=True
)

KeyOption = Annotated[
    str, typer.Option("--idempotency-key", help="The same key twice never acts twice.")
]


def _read_text(what: str) -> str:
    if sys.stdin.isatty():
        return str(typer.prompt(what))
    text = sys.stdin.read()
    if not text.strip():
        raise InputError(f"expected the {what.lower()} on standard input")
    return text


def _table(items: list[action_rows.Action]) -> Table:
    table = Table("id", "kind", "case", "status", "attempts", "error")
    for a in items:
        table.add_row(a.id, str(a.kind), a.case_id, str(a.status), str(a.attempts), a.error or "")
    return table


@app.command("list")
def list_command(
    config: ConfigOption = None,
    as_json: JsonOption = False,
    case: Annotated[str | None, typer.Option(help="Only this case id.")] = None,
) -> None:
    """List recent actions, newest first."""
    settings = settings_for(config)

    async def go() -> list[action_rows.Action]:
        async with open_runtime(settings, read_only=True) as rt, rt.store.read() as conn:
            return await action_rows.list_actions(conn, case_id=case)

    items = run(go)
    if as_json:
        print_json({"items": [a.to_json() for a in items]})
    else:
        stdout.print(_table(items) if items else "no actions")


@app.command("show")
def show_command(action_id: str, config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """Show one action."""
    settings = settings_for(config)

    async def go() -> action_rows.Action:
        async with open_runtime(settings, read_only=True) as rt, rt.store.read() as conn:
            return await action_rows.get_action(conn, action_id)

    action = run(go)
    if as_json:
        print_json(action.to_json())
    else:
        stdout.print(_table([action]))


def _request(
    kind: ActionKind,
    case_id: str,
    setup_id: str | None,
    key: str,
    config: ConfigOption,
    as_json: bool,
) -> None:
    settings = settings_for(config)
    body = _read_text("Comment" if kind is ActionKind.COMMENT else "Reason")

    async def go() -> tuple[action_rows.Action, bool]:
        async with open_runtime(settings) as rt:
            return await request_action(
                rt.store,
                kind=kind,
                case_id=case_id,
                setup_id=setup_id,
                body=body,
                idempotency_key=key,
            )

    action, created = run(go)
    if as_json:
        print_json(action.to_json())
    else:
        verb = "recorded" if created else "already recorded under this key:"
        stdout.print(f"{verb} action {action.id} ({action.status})")


@app.command("comment")
def comment_command(
    case_id: str,
    idempotency_key: KeyOption,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Queue a comment on a case (text from a prompt or stdin). `actions run` posts it."""
    _request(ActionKind.COMMENT, case_id, None, idempotency_key, config, as_json)


@app.command("reject")
def reject_command(
    case_id: str,
    setup_id: str,
    idempotency_key: KeyOption,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Queue the rejection of a setup with a reason (from a prompt or stdin)."""
    _request(ActionKind.REJECT_SETUP, case_id, setup_id, idempotency_key, config, as_json)


@app.command("run")
def run_command(
    config: ConfigOption = None,
    wait: Annotated[
        float, typer.Option(help="Keep retrying due actions for up to this many seconds.")
    ] = 0.0,
) -> None:
    """Run the actions that are due (what the embedded loop does), then report them."""
    settings = settings_for(config, long_running=True)

    async def go() -> list[action_rows.Action]:
        deadline = time.monotonic() + wait
        done: dict[str, action_rows.Action] = {}
        async with open_runtime(settings) as rt, open_sync_services(rt, check=True) as services:
            while True:
                for action in await run_due_actions(services):
                    done[action.id] = action
                async with rt.store.read() as conn:
                    still_open = await action_rows.open_actions(conn)
                if not still_open or time.monotonic() >= deadline:
                    return list(done.values())
                await asyncio.sleep(1)

    results = run(go)
    stdout.print(_table(results) if results else "no action was due")
    if any(a.status is ActionStatus.FAILED for a in results):
        raise typer.Exit(1)
