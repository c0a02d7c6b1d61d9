"""Keys that cannot strand data.

- A key added to the key file by another process is used at once, without a restart.
- A record under a key this process does not hold is one clear line, the sync that met it keeps
  the account's status, says `key_unavailable` and backs off (before: `unexpected VaultError`
  every poll, account still `active`), and `/readyz` is not ready (before: "keys ok").
- A lost key file is never silently replaced while records need it (before: any command made a
  new one, and every sync failed).
"""

from __future__ import annotations

import base64
import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from connector.accounts.service import create_account
from connector.api.app import create_app
from connector.clock import utcnow
from connector.credentials import store_audit_sink
from connector.domain import AccountStatus
from connector.settings import Settings
from connector.store import Store, upgrade
from connector.store import accounts as account_rows
from connector.store import runs as run_rows
from connector.store.events import read_events
from connector.sync import sync_account
from sandbox.common.server import free_port
from tests.ops.support import cli, one_error_line
from tests.sync.support import make_services
from vault import EnvKeyring, LocalKeyFile, Purpose, Secret, Vault, VaultError
from vault.envelope import seal, unseal

PASSWORD = "Keys-test-password-77"


def _keyring(*kids: str) -> tuple[str, dict[str, str]]:
    keys = {kid: base64.b64encode(os.urandom(32)).decode() for kid in kids}
    return ",".join(f"{kid}:{key}" for kid, key in keys.items()), keys


async def test_a_key_added_by_another_process_is_used_without_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    running = LocalKeyFile.generate(path)  # a running serve or worker
    old = running.primary_kid
    elsewhere = LocalKeyFile(path)  # `tps-connector keys generate` in another process
    new = elsewhere.add_primary()

    sealed_here = await seal(running, Secret(PASSWORD), "acc_1", Purpose.PORTAL_LOGIN)
    assert sealed_here.kek_id == new  # sealed under the new primary at once
    sealed_there = await seal(elsewhere, Secret(PASSWORD), "acc_2", Purpose.PORTAL_LOGIN)
    assert (await unseal(running, sealed_there, "acc_2", Purpose.PORTAL_LOGIN)).reveal() == (
        PASSWORD
    )
    assert running.kids() == (new, old)


async def test_a_record_under_a_key_this_process_lacks_is_one_clear_line() -> None:
    old, _ = _keyring("k-old")
    only_new, _ = _keyring("k-new")
    record = await seal(EnvKeyring(Secret(old)), Secret(PASSWORD), "a", Purpose.PORTAL_LOGIN)
    with pytest.raises(VaultError) as caught:
        await unseal(EnvKeyring(Secret(only_new)), record, "a", Purpose.PORTAL_LOGIN)
    message = str(caught.value)
    assert "\n" not in message
    assert "'k-old' is not configured in this process" in message
    assert "every process needs every key" in message


@pytest.fixture
def two_keyrings(tmp_path: Path) -> dict[str, Any]:
    """Settings of a process holding k1 (which sealed the records) and one holding only k2."""
    k1, _ = _keyring("k1")
    k2, _ = _keyring("k2")
    url = f"sqlite+aiosqlite:///{tmp_path / 'connector.db'}"
    token = "ops-test-token-0123456789"

    def settings(keys: str) -> Settings:
        return Settings(
            data_dir=tmp_path,
            database={"url": url},
            vault={"provider": "env", "keys": keys},
            api={"tokens": [token]},
        )

    return {"url": url, "with_k1": settings(k1), "only_k2": settings(k2), "token": token}


async def test_a_sync_that_cannot_open_its_login_keeps_the_status_and_backs_off(
    two_keyrings: dict[str, Any],
) -> None:
    store = Store.connect(two_keyrings["url"])
    try:
        await upgrade(store)
        sealer = EnvKeyring(two_keyrings["with_k1"].vault.keys)
        account = await create_account(
            store, Vault(sealer, store_audit_sink(store)), vendor="clearcorrect",
            username="partner@tps.example", password=Secret(PASSWORD),
        )  # fmt: skip
        stranded = Vault(EnvKeyring(two_keyrings["only_k2"].vault.keys), store_audit_sink(store))
        # The portal is never reached: nothing listens there.
        services = make_services(store, stranded, {"clearcorrect": "http://127.0.0.1:9"})
        async with store.read() as conn:
            events_before = len(await read_events(conn, limit=1000))

        dues = []
        for attempt in (1, 2):
            started = utcnow()
            result = await sync_account(services, account.id)
            assert result.outcome == "failed"
            assert result.reason == "key_unavailable"
            async with store.read() as conn:
                after = await account_rows.get_account(conn, account.id)
            assert after.status is AccountStatus.VERIFYING  # kept: the login is not at fault
            assert after.status_reason == "key_unavailable"
            assert "'k1' is not configured" in (after.status_message or "")
            assert after.failure_count == attempt
            assert after.next_sync_at is not None
            assert after.next_sync_at >= started + timedelta(seconds=29)  # backed off
            dues.append(after.next_sync_at - started)
        assert dues[1] > timedelta(seconds=59)  # and backs off further

        async with store.read() as conn:
            runs = await run_rows.list_runs(conn, account.id, limit=10)
            events_after = len(await read_events(conn, limit=1000))
        assert [r.outcome for r in runs] == ["failed", "failed"]
        assert events_after == events_before  # the status did not change: no event
    finally:
        await store.close()


async def test_readyz_fails_while_records_use_a_key_this_process_lacks(
    two_keyrings: dict[str, Any],
) -> None:
    for settings, ready in ((two_keyrings["with_k1"], True), (two_keyrings["only_k2"], False)):
        app = create_app(settings)
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app),
                base_url="http://connector.test",
                headers={"Authorization": f"Bearer {two_keyrings['token']}"},
            ) as client,
        ):
            if ready:
                created = await client.post(
                    "/v1/accounts",
                    json={"vendor": "clearcorrect", "username": "a@b.example", "password": "pw"},
                )
                assert created.status_code == 201
            response = await client.get("/readyz")
            body = response.json()
            if ready:
                assert response.status_code == 200, body
                assert body["checks"]["keys"] == "ok"
            else:
                assert response.status_code == 503, body
                assert body["checks"]["keys"] == "missing k1 (1)"


def test_a_lost_key_file_is_never_replaced_while_records_need_it(tmp_path: Path) -> None:
    assert cli("keys", "generate", cwd=tmp_path).returncode == 0
    key_file = tmp_path / ".connector" / "keys.json"
    kid = LocalKeyFile(key_file).primary_kid
    added = cli(
        "accounts", "add", "--vendor", "clearcorrect", "--username", "p@tps.example",
        cwd=tmp_path, stdin=PASSWORD + "\n",
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    key_file.rename(tmp_path / "backup.json")  # lost, or vault.key_file names an unmounted path

    for args in (["accounts", "list"], ["sync"], ["keys", "status"], ["serve"]):
        result = cli(*args, cwd=tmp_path, env={"CONNECTOR_API__PORT": str(free_port())})
        assert result.returncode == 4, (args, result.stderr)
        line = one_error_line(result)
        assert f"the key file {key_file} is missing" in line
        assert f"sealed records use {kid} (1 record(s))" in line
        assert not key_file.exists()

    (tmp_path / "backup.json").rename(key_file)  # restored from the backup: all is well
    assert cli("accounts", "list", cwd=tmp_path).returncode == 0
