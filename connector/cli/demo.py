"""`tps-connector demo`: the connector on embedded defaults against the sandbox portals.

It uses the real code paths: the embedded data dir (SQLite plus a generated key file), both
sandbox portals on loopback, the demo accounts stored through the credential code, the sync
engine with progress bars, then the API, the form and the scheduler as `serve` runs them (with
a one-off bearer token printed for trying the API).

It never touches what the settings point at: its data dir is `./.connector/` (SQLite and its
own key file, whatever `data_dir`, `database.url` and `vault` say), it sends no webhooks and
launches its own browser. Of the settings it honours only where the API listens (`api.host`,
`api.port`; a free port when unset), logging, and how to launch Chromium on this machine
(`browser.executable_path`, `browser.sandbox`), and it says in one line what it ignored.
"""

from __future__ import annotations

import asyncio
import secrets
import socket
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Annotated

import httpx
import typer
import uvicorn
from fastapi import FastAPI
from rich.table import Table

from connector.accounts import service
from connector.api.app import create_app
from connector.cli.common import ConfigOption, run, settings_for, stdout
from connector.cli.serve import background
from connector.cli.sync import results_table, sync_with_progress
from connector.domain import Account
from connector.errors import ConnectorError
from connector.runtime import Runtime, bind_listener, open_runtime, open_sync_services
from connector.settings import Settings, VaultSettings, settings_without_environment
from connector.store import accounts as account_rows
from connector.store import stats
from sandbox import VENDORS
from sandbox.common.config import SandboxConfig
from sandbox.common.server import PortalHandle, start_portal
from sandbox.scenarios import scenario
from vault import Secret

DEMO_PRACTICES = 4
DEMO_CASES = 12
#: DESIGN section 4: the demo's own state, in the folder it runs from.
DEMO_DATA_DIR = Path(".connector")


def demo_logins(vendor: str, portal: PortalHandle) -> list[tuple[str, Secret, str | None]]:
    """(username, password, practice) of the demo accounts: the good scenario login, and at
    ClearCorrect also the TPS-wide partner login that several doctors share cases with."""
    good = scenario(vendor, "good")
    logins: list[tuple[str, Secret, str | None]] = [
        (good.username, Secret(good.password), f"demo-{vendor}")
    ]
    if vendor == "clearcorrect":
        state = portal.admin.state()
        shared = state.get("tps_wide_partner")
        login = next((x for x in state["logins"] if x["username"] == shared), None)
        if login is not None:
            logins.append((login["username"], Secret(login["password"]), None))
    return logins


async def store_demo_accounts(rt: Runtime, portals: dict[str, PortalHandle]) -> list[Account]:
    """Store the demo logins (updating them when a previous demo stored them)."""
    stored: list[Account] = []
    for vendor, portal in portals.items():
        for username, password, practice in demo_logins(vendor, portal):
            async with rt.store.read() as conn:
                existing = await account_rows.find_account(conn, vendor, username)
            if existing is None:
                account = await service.create_account(
                    rt.store, rt.vault, vendor=vendor, username=username,
                    password=password, practice_id=practice,
                )  # fmt: skip
            else:
                account = await service.update_credentials(
                    rt.store, rt.vault, existing.id, password=password
                )
            stored.append(account)
    return stored


async def summary(rt: Runtime, accounts: list[Account]) -> Table:
    table = Table("vendor", "account", "cases", "setups awaiting review", "unread comments",
                  title="What the TPS now knows")  # fmt: skip
    async with rt.store.read() as conn:
        for account in accounts:
            known = await stats.account_summary(conn, account.id)
            table.add_row(
                account.vendor,
                account.username,
                str(known.cases),
                str(known.setups_in_review),
                str(known.unread_comments),
            )
    return table


def ignored_settings(settings: Settings, data_dir: Path) -> list[str]:
    """The settings the demo leaves alone although they are set."""
    checks = {
        "data_dir": settings.data_dir.resolve() != data_dir,
        "database.url": bool(settings.database.url),
        "vault": settings.vault != VaultSettings(),
        "webhooks.endpoints": bool(settings.webhooks.endpoints),
        "browser.ws_endpoint": bool(settings.browser.ws_endpoint),
        "api.tokens": bool(settings.api.tokens),
    }
    return [name for name, is_set in checks.items() if is_set]


def demo_settings(
    settings: Settings, portals: dict[str, PortalHandle], port: int, token: str
) -> Settings:
    """The embedded defaults (never the environment's), pointed at the sandboxes, with a one-off
    API token; from `settings` only the API's address, logging and the local browser."""
    host = settings.api.host
    return settings_without_environment(
        data_dir=DEMO_DATA_DIR.resolve(),
        vendors={vendor: {"base_url": portal.url} for vendor, portal in portals.items()},
        api={"host": host, "port": port, "tokens": [token]},
        log=settings.log.model_dump(),
        browser={
            "executable_path": settings.browser.executable_path,
            "sandbox": settings.browser.sandbox,
        },
    )


class _Server(uvicorn.Server):
    """uvicorn's server that says when its start-up has ended, whether it started or not."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.ready = threading.Event()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        try:
            await super().startup(sockets=sockets)
        finally:
            self.ready.set()


@contextmanager
def serve_in_thread(app: FastAPI, listener: socket.socket) -> Iterator[None]:
    """Serve `app` on a bound socket from a thread (the demo's main thread waits for Ctrl-C)."""
    server = _Server(uvicorn.Config(app, log_config=None, access_log=False, server_header=False))

    def serve() -> None:
        try:
            asyncio.run(server.serve(sockets=[listener]))
        finally:
            server.ready.set()  # it ended before or without its start-up

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    if not server.ready.wait(timeout=60) or not server.started:
        server.should_exit = True
        raise ConnectorError("the demo's API did not start")
    try:
        yield
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def form_link(api_url: str, token: str, vendor: str) -> str:
    """A fresh update-credentials form link, asked for the way a TPS app asks for one."""
    response = httpx.post(
        f"{api_url}/v1/form-sessions",
        json={"vendor": vendor, "practice_id": "demo-new-practice", "locale": "en"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    response.raise_for_status()
    return str(response.json()["url"])


def demo_command(
    config: ConfigOption = None,
    once: Annotated[bool, typer.Option("--once", help="Exit after the summary.")] = False,
) -> None:
    """Run the connector on embedded defaults against both sandbox portals, in ./.connector/
    (it never uses the configured database, keys, webhooks or remote browser)."""
    base_settings = settings_for(config)
    ignored = ignored_settings(base_settings, DEMO_DATA_DIR.resolve())
    if ignored:
        stdout.print(
            f"demo: ignoring {', '.join(ignored)} from the settings; it runs on its own data "
            f"in {DEMO_DATA_DIR.resolve()}"
        )
    api_port = base_settings.api.port if "port" in base_settings.api.model_fields_set else 0
    listener = bind_listener(base_settings.api.host, api_port, "the demo's API")
    port = listener.getsockname()[1]
    with ExitStack() as stack:
        stack.callback(listener.close)
        portals = {
            vendor: stack.enter_context(
                start_portal(
                    vendor, SandboxConfig(practices=DEMO_PRACTICES, cases=DEMO_CASES, admin=True)
                )
            )
            for vendor in VENDORS
        }
        token = secrets.token_urlsafe(24)
        settings = demo_settings(base_settings, portals, port, token)

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
        app = create_app(settings, on_start=background(settings, scheduler=True))
        stack.enter_context(serve_in_thread(app, listener))
        api_url = settings.api.public_base_url  # http://<api.host>:<port>
        stdout.print(f"data dir: {settings.data_dir} (SQLite and key file)")
        stdout.print(f"API docs: {api_url}/docs  (demo bearer token: {token})")
        stdout.print(f"  try: curl -H 'Authorization: Bearer {token}' {api_url}/v1/cases?limit=3")
        stdout.print(
            f"update-credentials form (Invisalign): {form_link(api_url, token, 'invisalign')}"
        )
        for vendor, portal in portals.items():
            stdout.print(f"{vendor} sandbox: {portal.url}/  (admin: {portal.url}/__sandbox/state)")
        if once:
            return
        stdout.print("the connector and the sandboxes are serving; press Ctrl-C to stop")
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            stdout.print("stopped")
