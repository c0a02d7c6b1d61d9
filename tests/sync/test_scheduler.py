"""The embedded scheduler: due accounts are synced and rescheduled, failures back off, and a
shutdown cancels running syncs cleanly (run abandoned, lease released, nothing half-written)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta

import sqlalchemy as sa

from connector.clock import utcnow
from connector.domain import AccountStatus
from connector.store import Store
from connector.store import accounts as account_rows
from connector.store.schema import sync_leases, sync_runs
from connector.sync import SchedulePolicy, Scheduler, sync_account
from tests.conftest import PortalFactory
from tests.sync.support import add, make_services, make_vault, portal_snapshot, store_snapshot

VENDOR = "clearcorrect"


async def _wait_for(condition: Callable[[], Awaitable[bool]], seconds: float = 30.0) -> None:
    """Poll the database (the state under test lives there, not in an event we could await)."""
    async with asyncio.timeout(seconds):
        while not await condition():  # noqa: ASYNC110
            await asyncio.sleep(0.05)


async def test_due_accounts_are_synced_and_rescheduled(
    store: Store, start_portals: PortalFactory
) -> None:
    portal = start_portals(VENDOR, practices=3, cases=4)
    state = portal.admin.state()
    vault = make_vault(store)
    services = make_services(store, vault, {VENDOR: portal.url})
    services.policy = SchedulePolicy(interval=timedelta(minutes=15), jitter=0)
    logins = [x for x in state["logins"] if x["username"].startswith("tps.")]
    accounts = [await add(store, vault, VENDOR, login) for login in logins]

    scheduler = Scheduler(services, poll_seconds=0.05, concurrency=2)
    stop = asyncio.Event()
    runner = asyncio.create_task(scheduler.run(stop))

    async def all_synced() -> bool:
        async with store.read() as conn:
            found = [await account_rows.get_account(conn, a.id) for a in accounts]
        return all(a.last_sync_at is not None for a in found)

    await _wait_for(all_synced)
    stop.set()
    await runner
    now = utcnow()
    for account, login in zip(accounts, logins, strict=True):
        async with store.read() as conn:
            current = await account_rows.get_account(conn, account.id)
        assert current.status is AccountStatus.ACTIVE
        assert current.next_sync_at is not None
        assert timedelta(minutes=14) < current.next_sync_at - now <= timedelta(minutes=15)
        assert await store_snapshot(store, account.id) == portal_snapshot(state, login["username"])
    assert sorted(r.account_id for r in scheduler.results) == sorted(a.id for a in accounts)


async def test_transient_failures_back_off_exponentially(
    store: Store, start_portals: PortalFactory
) -> None:
    portal = start_portals(VENDOR, practices=1, cases=2)
    vault = make_vault(store)
    services = make_services(store, vault, {VENDOR: portal.url})
    login = next(x for x in portal.admin.state()["logins"] if x["username"].startswith("tps."))
    account = await add(store, vault, VENDOR, login)
    portal.admin.faults(error_rate=1.0)
    delays = []
    for _ in range(4):
        result = await sync_account(services, account.id)
        assert result.status is AccountStatus.PORTAL_UNAVAILABLE
        async with store.read() as conn:
            current = await account_rows.get_account(conn, account.id)
        assert current.next_sync_at is not None
        delays.append((current.next_sync_at - utcnow()).total_seconds())
    assert current.failure_count == 4
    # 1, 2, 4, 8 minutes, each jittered into [half, full].
    for n, delay in enumerate(delays):
        assert 60 * 2**n / 2 - 1 <= delay <= 60 * 2**n
    portal.admin.clear_faults()
    result = await sync_account(services, account.id)
    assert result.status is AccountStatus.ACTIVE
    async with store.read() as conn:
        assert (await account_rows.get_account(conn, account.id)).failure_count == 0


async def test_shutdown_cancels_running_syncs_cleanly(
    store: Store, start_portals: PortalFactory
) -> None:
    portal = start_portals(VENDOR, practices=1, cases=40)
    vault = make_vault(store)
    services = make_services(store, vault, {VENDOR: portal.url})
    login = next(x for x in portal.admin.state()["logins"] if x["username"].startswith("tps."))
    account = await add(store, vault, VENDOR, login)
    portal.admin.faults(latency_ms=100)

    scheduler = Scheduler(services, poll_seconds=0.05, grace_seconds=0.3)
    stop = asyncio.Event()
    runner = asyncio.create_task(scheduler.run(stop))

    async def running() -> bool:
        async with store.read() as conn:
            return bool((await conn.execute(sa.select(sync_leases))).first())

    await _wait_for(running)
    await asyncio.sleep(0.5)
    stop.set()
    await asyncio.wait_for(runner, timeout=10)
    async with store.read() as conn:
        assert (await conn.execute(sa.select(sync_leases))).first() is None
        outcomes = [r.outcome for r in (await conn.execute(sa.select(sync_runs))).all()]
        current = await account_rows.get_account(conn, account.id)
    assert outcomes == ["abandoned"]
    assert current.sync_cursor is None  # the cursor never moved for a listing that did not finish

    portal.admin.clear_faults()
    result = await sync_account(services, account.id)
    assert result.outcome == "succeeded"
    assert len(await store_snapshot(store, account.id)) == 40
