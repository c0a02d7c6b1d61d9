"""`tps-connector demo`: the connector on embedded defaults against the sandbox portals.

It uses the real code paths: the embedded data dir (SQLite plus a generated key file), both
sandbox portals on loopback, and the demo accounts stored through the same credential code the
API and form use.
"""

from __future__ import annotations

import threading
from contextlib import ExitStack
from typing import Annotated

import typer
from rich.table import Table

from connector.cli.common import ConfigOption, run, settings_for, stdout
from connector.credentials import add_account, update_credentials
from connector.domain import Account
from connector.runtime import open_runtime
from connector.settings import Settings
from connector.store import accounts as account_rows
from sandbox import VENDORS
from sandbox.common.config import SandboxConfig
from sandbox.common.server import PortalHandle, start_portal
from sandbox.scenarios import scenario
from vault import Secret

DEMO_PRACTICES = 4
DEMO_CASES = 12


async def store_demo_accounts(
    settings: Settings, portals: dict[str, PortalHandle]
) -> list[Account]:
    """Store each vendor's good scenario login (updating it when a previous demo stored it)."""
    stored: list[Account] = []
    async with open_runtime(settings) as rt:
        for vendor in portals:
            login = scenario(vendor, "good")
            async with rt.store.read() as conn:
                existing = await account_rows.find_account(conn, vendor, login.username)
            if existing is None:
                account = await add_account(
                    rt.store,
                    rt.vault,
                    vendor=vendor,
                    username=login.username,
                    password=Secret(login.password),
                    practice_id=f"demo-{vendor}",
                )
            else:
                account = await update_credentials(
                    rt.store, rt.vault, existing.id, password=Secret(login.password)
                )
            stored.append(account)
    return stored


def demo_command(
    config: ConfigOption = None,
    once: Annotated[bool, typer.Option("--once", help="Exit after the summary.")] = False,
) -> None:
    """Run the connector on embedded defaults against both sandbox portals."""
    settings = settings_for(config)
    with ExitStack() as stack:
        portals = {
            vendor: stack.enter_context(
                start_portal(
                    vendor, SandboxConfig(practices=DEMO_PRACTICES, cases=DEMO_CASES, admin=True)
                )
            )
            for vendor in VENDORS
        }
        accounts = run(lambda: store_demo_accounts(settings, portals))
        table = Table("account", "vendor", "username", "status", title="Demo accounts")
        for account in accounts:
            table.add_row(account.id, account.vendor, account.username, str(account.status))
        stdout.print(table)
        stdout.print(f"data dir: {settings.data_dir} (SQLite and key file)")
        for vendor, portal in portals.items():
            stdout.print(f"{vendor} sandbox: {portal.url}/  (admin: {portal.url}/__sandbox/state)")
        stdout.print(
            "not built yet: vendor adapters, sync, the HTTP API and the credentials form. "
            "The accounts are stored encrypted and stay `verifying`; nothing has been synced."
        )
        if once:
            return
        stdout.print("sandboxes are serving; press Ctrl-C to stop")
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            stdout.print("stopped")
