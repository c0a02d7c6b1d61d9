"""`tps-connector demo`: the connector on embedded defaults against the sandbox portals.

It uses the real code paths: the embedded data dir (SQLite plus a generated key file), both
sandbox portals on loopback, the demo accounts stored through the credential code, and the sync
engine with progress bars.
"""

from __future__ import annotations

import threading
from contextlib import ExitStack
from typing import Annotated, Any

import sqlalchemy as sa
import typer
from rich.table import Table

from connector.cli.common import ConfigOption, run, settings_for, stdout
from connector.cli.sync import results_table, sync_with_progress
from connector.credentials import add_account, update_credentials
from connector.domain import Account
from connector.runtime import Runtime, open_runtime, open_sync_services
from connector.settings import Settings
from connector.store import accounts as account_rows
from connector.store.schema import cases, setups
from sandbox import VENDORS
from sandbox.common.config import SandboxConfig
from sandbox.common.server import PortalHandle, start_portal
from sandbox.scenarios import scenario
from vault import Secret

DEMO_PRACTICES = 4
DEMO_CASES = 12


def demo_logins(vendor: str, portal: PortalHandle) -> list[tuple[str, str, str | None]]:
    """(username, password, practice) of the demo accounts: the good scenario login, and at
    ClearCorrect also the TPS-wide partner login that several doctors share cases with."""
    good = scenario(vendor, "good")
    logins: list[tuple[str, str, str | None]] = [(good.username, good.password, f"demo-{vendor}")]
    if vendor == "clearcorrect":
        state = portal.admin.state()
        shared = state.get("tps_wide_partner")
        login = next((x for x in state["logins"] if x["username"] == shared), None)
        if login is not None:
            logins.append((login["username"], login["password"], None))
    return logins


async def store_demo_accounts(rt: Runtime, portals: dict[str, PortalHandle]) -> list[Account]:
    """Store the demo logins (updating them when a previous demo stored them)."""
    stored: list[Account] = []
    for vendor, portal in portals.items():
        for username, password, practice in demo_logins(vendor, portal):
            async with rt.store.read() as conn:
                existing = await account_rows.find_account(conn, vendor, username)
            if existing is None:
                account = await add_account(
                    rt.store, rt.vault, vendor=vendor, username=username,
                    password=Secret(password), practice_id=practice,
                )  # fmt: skip
            else:
                account = await update_credentials(
                    rt.store, rt.vault, existing.id, password=Secret(password)
                )
            stored.append(account)
    return stored


async def summary(rt: Runtime, accounts: list[Account]) -> Table:
    table = Table("vendor", "account", "cases", "setups awaiting review", "unread comments",
                  title="What the TPS now knows")  # fmt: skip
    async with rt.store.read() as conn:
        for account in accounts:
            live = sa.and_(cases.c.account_id == account.id, cases.c.removed_at.is_(None))
            count = (await conn.execute(sa.select(sa.func.count()).where(live))).scalar_one()
            unread = (
                await conn.execute(
                    sa.select(sa.func.coalesce(sa.func.sum(cases.c.unread_comments), 0)).where(live)
                )
            ).scalar_one()
            review = (
                await conn.execute(
                    sa.select(sa.func.count())
                    .select_from(setups.join(cases, setups.c.case_id == cases.c.id))
                    .where(live, setups.c.state == "in_review")
                )
            ).scalar_one()
            table.add_row(account.vendor, account.username, str(count), str(review), str(unread))
    return table


def demo_settings(settings: Settings, portals: dict[str, PortalHandle]) -> Settings:
    vendors: dict[str, Any] = settings.vendors.model_dump()
    for vendor, portal in portals.items():
        vendors[vendor]["base_url"] = portal.url
    return settings.model_copy(update={"vendors": type(settings.vendors).model_validate(vendors)})


def demo_command(
    config: ConfigOption = None,
    once: Annotated[bool, typer.Option("--once", help="Exit after the summary.")] = False,
) -> None:
    """Run the connector on embedded defaults against both sandbox portals."""
    base_settings = settings_for(config)
    with ExitStack() as stack:
        portals = {
            vendor: stack.enter_context(
                start_portal(
                    vendor, SandboxConfig(practices=DEMO_PRACTICES, cases=DEMO_CASES, admin=True)
                )
            )
            for vendor in VENDORS
        }
        settings = demo_settings(base_settings, portals)

        async def go() -> tuple[Table, Table]:
            async with open_runtime(settings) as rt:
                accounts = await store_demo_accounts(rt, portals)
                async with open_sync_services(rt) as services:
                    results = await sync_with_progress(
                        services, accounts, full=True, concurrency=settings.sync.concurrency
                    )
                return results_table({a.id: a for a in accounts}, results), await summary(
                    rt, accounts
                )

        synced, known = run(go)
        stdout.print(synced)
        stdout.print(known)
        stdout.print(f"data dir: {settings.data_dir} (SQLite and key file)")
        for vendor, portal in portals.items():
            stdout.print(f"{vendor} sandbox: {portal.url}/  (admin: {portal.url}/__sandbox/state)")
        stdout.print(
            "not built yet: the HTTP API and the update-credentials form (so no API docs or form "
            "link to show); `tps-connector sync` and `actions` work on this data dir."
        )
        if once:
            return
        stdout.print("sandboxes are serving; press Ctrl-C to stop")
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            stdout.print("stopped")
