"""A key rotation reaches running processes: `serve` (its embedded scheduler) and a `worker`
on PostgreSQL share a key file and keep syncing; a new key is added to the file and `keys
rotate` runs; both keep syncing without a restart, no sync fails, records sealed afterwards use
the new key, and the old one can be retired.

Before, processes held the key file as it was at start-up: after the rotation every sync of a
running worker failed (`the key-encryption key ... is not configured`) every few seconds.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from connector.accounts.service import create_account
from connector.credentials import store_audit_sink
from connector.store import Store
from sandbox.common.server import free_port
from tests.conftest import PortalFactory, require, throwaway_pg_database
from tests.ops.support import CLI, clean_env
from vault import LocalKeyFile, Secret, Vault

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

ACCOUNTS = 8


def _cli(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args, "--config", str(config)],
        capture_output=True, text=True, env=clean_env(), timeout=120,
    )  # fmt: skip


def _start(config: Path, *args: str, **env: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [*CLI, *args, "--config", str(config)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=clean_env(**env),
        start_new_session=True,
    )  # fmt: skip


def _runs(dsn: str) -> list[tuple[str, str, datetime, str]]:
    with psycopg.connect(dsn) as conn:
        return list(conn.execute("SELECT account_id, holder, started_at, outcome FROM sync_runs"))


async def _add(url: str, key_file: Path, logins: list[dict[str, Any]]) -> list[str]:
    store = Store.connect(url)
    try:
        vault = Vault(LocalKeyFile(key_file), store_audit_sink(store))
        return [
            (
                await create_account(
                    store, vault, vendor="clearcorrect", username=login["username"],
                    password=Secret(login["password"]),
                )
            ).id
            for login in logins
        ]  # fmt: skip
    finally:
        await store.close()


async def _until(check: Any, within: float, what: str) -> None:
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {within} s: {what}")
        await asyncio.sleep(0.5)


def _get(url: str) -> tuple[int, str]:
    response = httpx.get(url, timeout=5)
    return response.status_code, response.text


async def test_both_processes_keep_syncing_through_a_rotation(
    tmp_path: Path, start_portals: PortalFactory, pg_available: bool
) -> None:
    require(pg_available, "PostgreSQL at 127.0.0.1:5432")
    portal = start_portals("clearcorrect", practices=ACCOUNTS, cases=2)
    portal.admin.faults(latency_ms=50)
    logins = [x for x in portal.admin.state()["logins"] if x["username"].startswith("tps.")]
    key_file = tmp_path / "keys.json"
    api_port, metrics_port = free_port(), free_port()
    with throwaway_pg_database() as url:
        dsn = url.replace("postgresql+psycopg://", "postgresql://")
        config = tmp_path / "connector.toml"
        config.write_text(
            f'[database]\nurl = "{url}"\n[vault]\nkey_file = "{key_file}"\n'
            f'[vendors.clearcorrect]\nbase_url = "{portal.url}"\n'
            "[sync]\ninterval_seconds = 10\njitter = 0\nconcurrency = 1\n"
            f"[api]\nport = {api_port}\n"
        )
        assert _cli(config, "keys", "generate").returncode == 0
        assert _cli(config, "db", "upgrade").returncode == 0
        accounts = await _add(url, key_file, logins)
        old_kid = LocalKeyFile(key_file).primary_kid
        serve = _start(config, "serve")
        worker = _start(config, "worker", "--concurrency", "4", "--metrics-port", str(metrics_port))
        holders = {f"{socket.gethostname()}:{p.pid}:" for p in (serve, worker)}
        try:
            await _until(
                lambda: {r[0] for r in _runs(dsn) if r[3] == "succeeded"} >= set(accounts),
                90,
                "every account synced once",
            )
            added = _cli(config, "keys", "generate")
            assert added.returncode == 0, added.stderr
            new_kid = LocalKeyFile(key_file).primary_kid
            assert new_kid != old_kid
            rotated = _cli(config, "keys", "rotate")
            assert rotated.returncode == 0, rotated.stderr
            rotated_at = datetime.now().astimezone()

            def synced_after_rotation() -> set[str]:
                return {r[0] for r in _runs(dsn) if r[3] == "succeeded" and r[2] > rotated_at}

            def holders_after_rotation() -> set[str]:
                return {
                    h
                    for account, holder, at, outcome in _runs(dsn)
                    for h in holders
                    if outcome == "succeeded" and at > rotated_at and holder.startswith(h)
                }

            await _until(
                lambda: (
                    synced_after_rotation() >= set(accounts) and holders_after_rotation() == holders
                ),
                90,
                "every account synced again, by both processes, after the rotation",
            )
            status = json.loads(_cli(config, "keys", "status", "--json").stdout)
            rows = {s["kek_id"]: s["rows"] for s in status}
            assert rows[old_kid] == 0, status  # nothing was sealed under the old key since
            assert rows[new_kid] >= len(accounts) * 2  # logins and the new saved sessions
            retired = _cli(config, "keys", "retire", old_kid)
            assert retired.returncode == 0, retired.stderr

            assert _get(f"http://127.0.0.1:{api_port}/readyz")[0] == 200
            code, text = _get(f"http://127.0.0.1:{metrics_port}/metrics")
            assert code == 200
            assert 'connector_syncs_total{outcome="succeeded",vendor="clearcorrect"}' in text
            assert _get(f"http://127.0.0.1:{metrics_port}/healthz") == (200, '{"status":"ok"}')
        finally:
            for process in (serve, worker):
                if process.poll() is None:
                    os.killpg(process.pid, signal.SIGTERM)
            for process in (serve, worker):
                process.wait(timeout=60)
        outcomes = {r[3] for r in _runs(dsn)}
        assert "failed" not in outcomes, outcomes
        # Both stopped cleanly on SIGTERM (uvicorn re-raises it once its shutdown is done).
        assert serve.returncode in (0, -signal.SIGTERM) and worker.returncode == 0
