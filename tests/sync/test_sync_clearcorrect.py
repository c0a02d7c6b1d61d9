"""The sync engine against the ClearCorrect sandbox: first sync, incremental sync after a tick,
restored sessions, wrong passwords, lockouts, and never deleting on doubt."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import sqlalchemy as sa

from adapters.base import PortalUnavailable
from connector.accounts.service import update_credentials
from connector.clock import utcnow
from connector.domain import AccountStatus
from connector.store import Store, practices
from connector.store import accounts as account_rows
from connector.store.schema import cases, login_attempts
from connector.sync import Scheduler, sync_account
from sandbox.scenarios import scenario
from tests.conftest import BOTH_DATABASES, PortalFactory
from tests.sync.support import (
    add,
    end_lockout,
    event_counts,
    expected_events,
    last_seq,
    make_services,
    make_vault,
    portal_snapshot,
    store_snapshot,
)
from vault import Secret

VENDOR = "clearcorrect"
TPS_WIDE = "cases@tps-planning.example"


@BOTH_DATABASES
async def test_first_sync_then_a_tick(store: Store, start_portals: PortalFactory) -> None:
    portal = start_portals(VENDOR, practices=7, cases=8, seed=3)
    state = portal.admin.state()
    vault = make_vault(store)
    services = make_services(store, vault, {VENDOR: portal.url})
    login = next(x for x in state["logins"] if x["username"] == TPS_WIDE)
    account = await add(store, vault, VENDOR, login)
    doctors = {c["doctor_id"] for c in state["cases"] if c["case_id"] in login["visible_case_ids"]}
    assert len(doctors) >= 2  # one login, several doctors
    mapped_doctor = sorted(doctors)[0]
    async with store.transaction() as conn:
        await practices.put_mapping(conn, VENDOR, mapped_doctor, "practice-x", utcnow())

    result = await sync_account(services, account.id)
    assert result.outcome == "succeeded", result
    assert result.status is AccountStatus.ACTIVE
    assert await store_snapshot(store, account.id) == portal_snapshot(state, TPS_WIDE)
    first_events = await event_counts(store, account.id)
    # The first sync announces each case once, plus the account becoming active: no history.
    assert first_events == Counter(
        {("case.created", c): 1 for c in login["visible_case_ids"]}
        | {("account.status_changed", account.id): 1}
    )
    async with store.read() as conn:
        rows = (await conn.execute(sa.select(cases.c.vendor_doctor_id, cases.c.practice_id))).all()
    assert {r.practice_id for r in rows if r.vendor_doctor_id == mapped_doctor} == {"practice-x"}
    assert {r.practice_id for r in rows if r.vendor_doctor_id != mapped_doctor} == {None}

    seq = await last_seq(store)
    before = state
    ticks = portal.admin.changes(since_tick=0)
    assert ticks == []
    portal.admin.tick(steps=6)
    after = portal.admin.state()
    ticks = portal.admin.changes(since_tick=0)
    result = await sync_account(services, account.id, full=True)
    assert result.outcome == "succeeded", result
    assert await store_snapshot(store, account.id) == portal_snapshot(after, TPS_WIDE)
    expected = expected_events(ticks, before, after, TPS_WIDE, full=True)
    assert sum(expected.values()) > 0
    assert await event_counts(store, account.id, after_seq=seq) == expected


async def test_unchanged_account_restores_its_session(
    store: Store, start_portals: PortalFactory
) -> None:
    portal = start_portals(VENDOR, practices=2, cases=5)
    vault = make_vault(store)
    services = make_services(store, vault, {VENDOR: portal.url})
    good = scenario(VENDOR, "good")
    account = await add(store, vault, VENDOR, good)
    first = await sync_account(services, account.id)
    assert first.counts["logins"] == 1
    portal.admin.reset_requests()
    attempts_before = portal.admin.logins()[good.username]["attempts"]

    second = await sync_account(services, account.id)
    assert second.outcome == "succeeded"
    assert second.counts.get("logins", 0) == 0
    assert second.counts.get("details_fetched", 0) == 0
    requests = portal.admin.requests()
    assert requests["total_by_user"].get(good.username, 0) <= 3
    assert requests["total"] <= 3
    assert portal.admin.logins()[good.username]["attempts"] == attempts_before

    # An expired portal session costs exactly one new login, not more.
    portal.admin.expire_sessions(good.username)
    third = await sync_account(services, account.id)
    assert third.outcome == "succeeded"
    assert third.counts["logins"] == 1


async def test_wrong_password_costs_one_attempt_until_new_credentials(
    store: Store, start_portals: PortalFactory
) -> None:
    portal = start_portals(VENDOR, practices=1, cases=3)
    vault = make_vault(store)
    services = make_services(store, vault, {VENDOR: portal.url})
    good = scenario(VENDOR, "good")
    account = await add(
        store, vault, VENDOR, {"username": good.username, "password": "Wrong#Pass2026"}
    )

    result = await sync_account(services, account.id)
    assert result.status is AccountStatus.LOGIN_REQUIRED
    assert result.reason == "invalid_credentials"
    assert portal.admin.logins()[good.username]["failures"] == 1

    # Many scheduler rounds later: no further attempt (the account is not even due).
    scheduler = Scheduler(services, poll_seconds=0.01)
    async with store.transaction() as conn:
        await account_rows.update_account(conn, account.id, now=utcnow(), next_sync_at=utcnow())
    for _ in range(5):
        assert await scheduler.tick() == 0  # login_required is never due
        result = await sync_account(services, account.id)  # even when forced: skipped
        assert result.reason == "credentials_rejected"
    assert portal.admin.logins()[good.username]["attempts"] == 1
    async with store.read() as conn:
        current = await account_rows.get_account(conn, account.id)
        attempts = (await conn.execute(sa.select(login_attempts))).all()
    assert current.status is AccountStatus.LOGIN_REQUIRED
    assert [(a.outcome, a.reason) for a in attempts] == [("failed", "invalid_credentials")]

    # New credentials bring it back.
    await update_credentials(store, vault, account.id, password=Secret(good.password))
    result = await sync_account(services, account.id)
    assert result.status is AccountStatus.ACTIVE
    assert portal.admin.logins()[good.username]["failures"] == 1


async def test_a_lockout_is_waited_out_not_hammered(
    store: Store, start_portals: PortalFactory
) -> None:
    portal = start_portals(VENDOR, practices=1, cases=3)
    vault = make_vault(store)
    services = make_services(store, vault, {VENDOR: portal.url})
    locked = scenario(VENDOR, "locked")
    account = await add(store, vault, VENDOR, locked)

    result = await sync_account(services, account.id)
    assert result.status is AccountStatus.LOCKED
    attempts = portal.admin.logins()[locked.username]["attempts"]
    async with store.read() as conn:
        current = await account_rows.get_account(conn, account.id)
    assert current.locked_until is not None
    assert current.locked_until > utcnow() + timedelta(minutes=15)
    assert current.next_sync_at is not None and current.next_sync_at >= current.locked_until

    scheduler = Scheduler(services)
    for _ in range(5):
        assert await scheduler.tick() == 0  # not due before the lockout ends
        result = await sync_account(services, account.id)  # even when forced: skipped
        assert result.outcome == "skipped" and result.reason == "locked"
    assert portal.admin.logins()[locked.username]["attempts"] == attempts

    # The lockout ends (the portal's and ours): the next sync logs in.
    portal.admin.unlock(locked.username)
    await end_lockout(store, VENDOR, locked.username)
    result = await sync_account(services, account.id)
    assert result.status is AccountStatus.ACTIVE


async def test_failed_logins_stay_within_the_budget(
    store: Store, start_portals: PortalFactory
) -> None:
    portal = start_portals(VENDOR, practices=1, cases=2)
    vault = make_vault(store)
    services = make_services(store, vault, {VENDOR: portal.url})
    good = scenario(VENDOR, "good")
    account = await add(
        store, vault, VENDOR, {"username": good.username, "password": "Wrong#Pass2026"}
    )
    for password in ("Wrong#Pass2027", "Wrong#Pass2028"):
        await sync_account(services, account.id)
        await update_credentials(store, vault, account.id, password=Secret(password))
    # Two failures since the last success: the third credential is not tried, at any time.
    result = await sync_account(services, account.id)
    assert result.outcome == "skipped"
    assert result.reason == "login_budget_spent"
    assert result.status is AccountStatus.LOGIN_REQUIRED
    assert portal.admin.logins()[good.username]["failures"] == 2
    assert portal.admin.logins()[good.username]["locked_until"] is None


async def test_a_failed_listing_never_removes_cases(
    store: Store, start_portals: PortalFactory
) -> None:
    portal = start_portals(VENDOR, practices=2, cases=30)
    vault = make_vault(store)
    services = make_services(store, vault, {VENDOR: portal.url})
    login = next(x for x in portal.admin.state()["logins"] if x["username"].startswith("tps."))
    account = await add(store, vault, VENDOR, login)
    assert (await sync_account(services, account.id)).outcome == "succeeded"
    stored = await store_snapshot(store, account.id)
    assert len(stored) == 30

    # Every listing request now fails: the full sync fails and nothing is marked removed.
    portal.admin.faults(error_rate=1.0, path_prefixes=["/api/cases"])
    result = await sync_account(services, account.id, full=True)
    assert result.outcome == "failed"
    assert result.status is AccountStatus.PORTAL_UNAVAILABLE
    assert await store_snapshot(store, account.id) == stored
    async with store.read() as conn:
        current = await account_rows.get_account(conn, account.id)
    assert current.failure_count == 1
    assert current.next_sync_at is not None and current.next_sync_at > utcnow()
    assert isinstance(PortalUnavailable("x"), Exception)
