"""Two `tps-connector worker` processes on PostgreSQL with 100 accounts: every account is synced
within its interval, no two syncs of one account overlap (from the sync-run records), and when
one worker is SIGKILLed mid-run its accounts are synced anyway."""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import socket
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest

from connector.accounts.service import create_account
from connector.credentials import store_audit_sink
from connector.store import Store
from tests.conftest import PortalFactory, require, throwaway_pg_database
from vault import LocalKeyFile, Secret, Vault

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

INTERVAL = 30  # seconds between syncs of an account
NO_METRICS = ["--metrics-port", "0"]


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONNECTOR_")}
    env["CONNECTOR_LOG__LEVEL"] = "warning"
    return env


def _cli(config: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "connector", *args, "--config", str(config)],
        input=stdin, capture_output=True, text=True, env=_env(), timeout=120,
    )  # fmt: skip


def _start_worker(config: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        # Two workers on one machine: no metrics port each.
        [sys.executable, "-m", "connector", "worker", "--config", str(config), *NO_METRICS],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=_env(),
        start_new_session=True,
    )


def _runs(dsn: str) -> list[tuple[str, str, datetime, datetime | None, str]]:
    with psycopg.connect(dsn) as conn:
        return list(
            conn.execute(
                "SELECT account_id, holder, started_at, finished_at, outcome FROM sync_runs "
                "ORDER BY started_at"
            )
        )


async def _add_accounts(url: str, key_file: Path, logins: list[dict[str, Any]]) -> list[str]:
    """Store the logins through the credential code (sealed with the worker's key file)."""
    store = Store.connect(url)
    try:
        vault = Vault(LocalKeyFile(key_file), store_audit_sink(store))
        ids = []
        for login in logins:
            account = await create_account(
                store, vault, vendor="clearcorrect", username=login["username"],
                password=Secret(login["password"]),
            )  # fmt: skip
            ids.append(account.id)
        return ids
    finally:
        await store.close()


async def test_two_workers_share_the_accounts_and_survive_a_kill(
    tmp_path: Path, start_portals: PortalFactory, pg_available: bool
) -> None:
    require(pg_available, "PostgreSQL at 127.0.0.1:5432")
    portal = start_portals("clearcorrect", practices=100, cases=2)
    logins = [x for x in portal.admin.state()["logins"] if x["username"].startswith("tps.")]
    assert len(logins) == 100
    with throwaway_pg_database() as url:
        dsn = url.replace("postgresql+psycopg://", "postgresql://")
        config = tmp_path / "connector.toml"
        config.write_text(
            f'[database]\nurl = "{url}"\n[vault]\nkey_file = "{tmp_path / "keys.json"}"\n'
            f'[vendors.clearcorrect]\nbase_url = "{portal.url}"\n'
            f"[sync]\ninterval_seconds = {INTERVAL}\njitter = 0\nconcurrency = 8\n"
        )
        assert _cli(config, "keys", "generate").returncode == 0
        assert _cli(config, "db", "upgrade").returncode == 0
        accounts = await _add_accounts(url, tmp_path / "keys.json", logins)
        assert len(accounts) == 100

        started = datetime.now().astimezone()
        workers = [_start_worker(config) for _ in range(2)]
        try:
            # Phase 1: every account synced within its interval of the start.
            deadline = time.monotonic() + INTERVAL + 15
            while time.monotonic() < deadline:
                done = {r[0] for r in _runs(dsn) if r[4] == "succeeded"}
                if done >= set(accounts):
                    break
                await asyncio.sleep(1)
            first: dict[str, datetime] = {}
            for account_id, _, at, _, outcome in _runs(dsn):
                if outcome == "succeeded":
                    first.setdefault(account_id, at)
            assert set(first) == set(accounts)
            assert max(first.values()) - started < timedelta(seconds=INTERVAL)
            holders = {r[1].split(":")[1] for r in _runs(dsn)}
            assert {str(w.pid) for w in workers} <= holders  # both workers took part

            # Phase 2: slow the portal, kill one worker in the middle of its syncs.
            portal.admin.faults(latency_ms=150)
            victim = workers[0]
            host = socket.gethostname()
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline:
                running = [
                    r
                    for r in _runs(dsn)
                    if r[4] == "running" and r[1].startswith(f"{host}:{victim.pid}:")
                ]
                if running:
                    break
                await asyncio.sleep(0.2)
            assert running, "the victim never started a sync"
            os.killpg(victim.pid, signal.SIGKILL)
            victim.wait(timeout=10)
            killed_at = datetime.now().astimezone()
            portal.admin.clear_faults()

            # Its accounts (and all the others) are synced anyway within a minute or two.
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                after = {r[0] for r in _runs(dsn) if r[4] == "succeeded" and r[2] > killed_at}
                if after >= set(accounts):
                    break
                await asyncio.sleep(1)
            assert after >= set(accounts)
        finally:
            for worker in workers:
                if worker.poll() is None:
                    os.killpg(worker.pid, signal.SIGTERM)
            for worker in workers:
                worker.wait(timeout=60)

        # No two syncs of one account overlapped, across both workers, ever.
        by_account: dict[str, list[tuple[datetime, datetime]]] = {}
        now = datetime.now().astimezone()
        for account_id, _, begin, end, outcome in _runs(dsn):
            if outcome == "skipped":
                continue
            by_account.setdefault(account_id, []).append((begin, end or now))
        for spans in by_account.values():
            spans.sort()
            for (_, end), (begin, _) in itertools.pairwise(spans):
                assert begin >= end, "two syncs of one account overlapped"
