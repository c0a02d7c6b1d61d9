"""The API's database pool: sized by the settings, not pinging PostgreSQL before every use,
and still answering after the server dropped a pooled connection."""

from __future__ import annotations

import asyncio
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa

from connector.store import Store
from tests.api.conftest import Api, seed_cases
from tests.conftest import PG_ADMIN_DSN


async def _backend_pid(store: Store) -> int:
    async with store.read() as conn:
        pid = await conn.scalar(sa.text("SELECT pg_backend_pid()"))
    assert isinstance(pid, int)
    return pid


async def _terminate(pid: int) -> None:
    """Kill a backend from outside, and wait until the server has let it go."""
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as admin:
        assert admin.execute("SELECT pg_terminate_backend(%s)", [pid]).fetchone() == (True,)
        for _ in range(200):
            row = admin.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [pid])
            if row.fetchone() == (0,):
                return
            await asyncio.sleep(0.01)
    raise AssertionError("the backend did not go away")


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_a_request_after_the_server_killed_its_connection_succeeds(
    api_factory: Any, database_url: str
) -> None:
    api: Api = await api_factory(database_url=database_url, database={"pool_size": 1})
    pool: Any = api.store.engine.pool
    assert pool.size() == 1 and pool._pre_ping is False
    account = await api.add_account("pool@tps.example")
    await seed_cases(api.store, account["id"], range(3))
    first = await api.client.get("/v1/cases")
    assert first.status_code == 200 and len(first.json()["items"]) == 3

    pooled = await _backend_pid(api.store)  # the one connection the pool keeps
    await _terminate(pooled)

    second = await api.client.get("/v1/cases")
    assert second.status_code == 200, second.text
    assert second.json() == first.json()
    replacement = await _backend_pid(api.store)
    assert replacement != pooled
    assert pool.checkedout() == 0 and pool.checkedin() == 1


async def test_the_pool_size_is_a_setting(api_factory: Any) -> None:
    api: Api = await api_factory(database={"pool_size": 7})
    pool: Any = api.store.engine.pool
    assert pool.size() == 7
