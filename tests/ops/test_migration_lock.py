"""Migrations at start-up take a lock: processes starting together (a rolling restart, `serve`
and two workers) upgrade one after the other, and none fails on the tables another created."""

from __future__ import annotations

import asyncio

import pytest

from connector.store import Store, upgrade
from connector.store.migrate import current_revision, head_revision
from tests.conftest import BOTH_DATABASES


@BOTH_DATABASES
async def test_concurrent_upgrades_of_an_empty_database_all_succeed(database_url: str) -> None:
    stores = [Store.connect(database_url) for _ in range(4)]
    try:
        # Without a lock, PostgreSQL's upgrades block on each other's half-created tables.
        results = await asyncio.wait_for(
            asyncio.gather(*(upgrade(s) for s in stores), return_exceptions=True), timeout=60
        )
        failures = [r for r in results if isinstance(r, BaseException)]
        assert not failures, failures
        # Exactly one of them found the database empty; the others found it up to date.
        befores = sorted((r[0] or "") for r in results if not isinstance(r, BaseException))
        assert befores.count("") == 1
        assert await current_revision(stores[0]) == head_revision()
    finally:
        for store in stores:
            await store.close()


@pytest.mark.parametrize("rounds", [2])
async def test_upgrading_twice_is_a_no_op(tmp_path, rounds: int) -> None:
    store = Store.connect(f"sqlite+aiosqlite:///{tmp_path / 'c.db'}")
    try:
        for _ in range(rounds):
            await upgrade(store)
        before, after = await upgrade(store)
        assert before == after == head_revision()
    finally:
        await store.close()
