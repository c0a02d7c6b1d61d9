"""`demo` runs on its own data: with a production environment loaded (a database, keys and a
webhook receiver configured), it stores, syncs and sends nothing there.

Before, `demo --once` reused the production database: its accounts were synced against fresh
demo sandboxes, cases were marked removed and `case.removed` webhooks went to the TPS.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path
from typing import Any

from connector.accounts.service import create_account
from connector.credentials import store_audit_sink
from connector.store import Store, upgrade
from sandbox.scenarios import scenario
from tests.api.conftest import seed_cases
from tests.ops.support import cli
from tests.webhooks.conftest import SECRET, ReceiverFactory
from vault import LocalKeyFile, Secret, Vault


async def _production(db: Path, key_file: Path) -> str:
    """A production database whose account is a login the demo also uses, with a case the
    demo's sandbox does not have (a demo sync would mark it removed)."""
    store = Store.connect(f"sqlite+aiosqlite:///{db}")
    try:
        await upgrade(store)
        vault = Vault(LocalKeyFile.generate(key_file), store_audit_sink(store))
        login = scenario("clearcorrect", "good")
        account = await create_account(
            store, vault, vendor="clearcorrect", username=login.username,
            password=Secret(login.password), practice_id="prod-practice",
        )  # fmt: skip
        await seed_cases(store, account.id, [424242])
        return account.id
    finally:
        await store.close()


def _snapshot(db: Path) -> dict[str, Any]:
    with sqlite3.connect(db) as conn:
        return {
            table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608
            for table in ("accounts", "cases", "events", "sync_runs", "sealed_secrets", "audit_log")
        } | {
            "removed": conn.execute(
                "SELECT count(*) FROM cases WHERE removed_at IS NOT NULL"
            ).fetchone()[0],
            "versions": conn.execute("SELECT credential_version FROM accounts").fetchall(),
        }


def test_demo_ignores_the_production_settings(
    tmp_path: Path, chromium_options: dict[str, Any], start_receiver: ReceiverFactory
) -> None:
    production = tmp_path / "production"
    production.mkdir()
    db, key_file = production / "connector.db", production / "keys.json"
    asyncio.run(_production(db, key_file))
    before = _snapshot(db)
    receiver, url = start_receiver()
    env = {
        "CONNECTOR_DATABASE__URL": f"sqlite+aiosqlite:///{db}",
        "CONNECTOR_VAULT__KEY_FILE": str(key_file),
        "CONNECTOR_WEBHOOKS__ENDPOINTS": json.dumps(
            [{"name": "tps", "url": url, "secret": SECRET}]
        ),
        "CONNECTOR_WEBHOOKS__POLL_SECONDS": "0.1",
        "CONNECTOR_BROWSER__WS_ENDPOINT": "ws://127.0.0.1:9/not-a-browser",
    }
    elsewhere = tmp_path / "demo"
    elsewhere.mkdir()

    result = cli("demo", "--once", cwd=elsewhere, env=env)

    assert result.returncode == 0, result.stderr
    assert (
        "demo: ignoring database.url, vault, webhooks.endpoints, browser.ws_endpoint "
        "from the settings" in result.stdout
    )
    assert "succeeded" in result.stdout  # it did sync: its own accounts, in its own data dir
    assert _snapshot(db) == before
    assert receiver.requests == 0
    assert (elsewhere / ".connector" / "connector.db").is_file()
    assert (elsewhere / ".connector" / "keys.json").is_file()
    assert (
        LocalKeyFile(elsewhere / ".connector" / "keys.json").kids() != LocalKeyFile(key_file).kids()
    )
