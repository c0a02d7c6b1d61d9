"""The sync engine against the ClearCorrect sandbox: first sync, incremental sync after a tick,
restored sessions, wrong passwords, lockouts, and never deleting on doubt; full syncs in
English, German and Polish and on every variant (over real HTTP once each, the rest on pages
recorded from the sandbox and replayed without it)."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from adapters.base import PortalUnavailable
from adapters.clearcorrect import ClearCorrectAdapter
from connector.accounts.service import update_credentials
from connector.clock import utcnow
from connector.domain import AccountStatus
from connector.store import Store, practices, upgrade
from connector.store import accounts as account_rows
from connector.store.schema import cases, login_attempts
from connector.sync import Scheduler, SyncResult, SyncServices, sync_account
from sandbox.clearcorrect import IDENTITY_JSON, WEBFORMS, create_app, labels
from sandbox.clearcorrect.admin_client import ClearCorrectAdmin
from sandbox.common.config import SandboxConfig
from sandbox.scenarios import scenario
from tests.adapters.clearcorrect.recording import Recording, RecordingTransport, ReplayTransport
from tests.conftest import BOTH_DATABASES, PortalFactory
from tests.sync.support import (
    FAST,
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
RECORDED = "https://portal.recorded.example"


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
    # My Account (the saved session's check, and the rights), then Manage Orders' three groups.
    assert requests["total_by_user"].get(good.username, 0) <= 4
    assert requests["total"] <= 4
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
    portal.admin.faults(error_rate=1.0, path_prefixes=["/cases.aspx"])
    result = await sync_account(services, account.id, full=True)
    assert result.outcome == "failed"
    assert result.status is AccountStatus.PORTAL_UNAVAILABLE
    assert await store_snapshot(store, account.id) == stored
    async with store.read() as conn:
        current = await account_rows.get_account(conn, account.id)
    assert current.failure_count == 1
    assert current.next_sync_at is not None and current.next_sync_at > utcnow()
    assert isinstance(PortalUnavailable("x"), Exception)


# ---- every language, every variant -----------------------------------------------------------


def _expected(state: dict[str, Any], username: str, lang: str, pages: bool) -> dict[str, Any]:
    """The portal's state for one login, with the status words the login reads."""
    snapshot = portal_snapshot(state, username)
    statuses = {c["case_id"]: c["status"] for c in state["cases"]}
    for case_id, entry in snapshot.items():
        if pages:
            entry["vendor_status"] = labels.status(statuses[case_id], lang)
    return snapshot


async def _sync_with(
    store: Store, adapter: ClearCorrectAdapter, login: dict[str, Any]
) -> tuple[str, SyncResult]:
    vault = make_vault(store)
    services = SyncServices(store, vault, {VENDOR: adapter})
    account = await add(store, vault, VENDOR, login)
    return account.id, await sync_account(services, account.id)


async def test_full_syncs_read_german_and_polish_pages(
    store: Store, start_portals: PortalFactory
) -> None:
    """Real HTTP: a German and a Polish partner login on the WebForms pages."""
    portal = start_portals(VENDOR, practices=4, cases=6, seed=11)
    state = portal.admin.state()
    wide = state["tps_wide_partner"]
    partner = next(x["username"] for x in state["logins"] if x["username"].startswith("tps."))
    with ClearCorrectAdmin(portal.url) as admin:
        admin.language(wide, "de")
        admin.language(partner, "pl")
    state = portal.admin.state()
    vault = make_vault(store)
    services = make_services(store, vault, {VENDOR: portal.url})
    for username, lang in ((wide, "de"), (partner, "pl")):
        login = next(x for x in state["logins"] if x["username"] == username)
        account = await add(store, vault, VENDOR, login)
        result = await sync_account(services, account.id)
        assert result.outcome == "succeeded", result
        assert await store_snapshot(store, account.id) == _expected(state, username, lang, True)
    assert portal.admin.state()["logins"] == state["logins"]  # no language was changed


async def test_a_full_sync_on_the_identity_app_reads_its_json_api(
    store: Store, start_portals: PortalFactory
) -> None:
    """Real HTTP: the assumed variant (Identity sign-in, JSON API), for a German login."""
    portal = start_portals(VENDOR, practices=3, cases=6, seed=2)
    with ClearCorrectAdmin(portal.url) as admin:
        admin.variant(IDENTITY_JSON)
        admin.language(TPS_WIDE, "de")
    state = portal.admin.state()
    vault = make_vault(store)
    services = make_services(store, vault, {VENDOR: portal.url})
    login = next(x for x in state["logins"] if x["username"] == TPS_WIDE)
    account = await add(store, vault, VENDOR, login)
    result = await sync_account(services, account.id)
    assert result.outcome == "succeeded", result
    assert "GET /api/cases" in portal.admin.requests()["by_endpoint"]
    assert await store_snapshot(store, account.id) == _expected(state, TPS_WIDE, "de", False)


@pytest.mark.parametrize(
    ("variant", "json_api", "lang"),
    [
        (IDENTITY_JSON, False, "en"),
        (IDENTITY_JSON, False, "pl"),
        (WEBFORMS, True, "de"),
        (WEBFORMS, False, "en"),
    ],
)
async def test_full_syncs_on_recorded_pages(
    store: Store, tmp_path: Path, variant: str, json_api: bool, lang: str
) -> None:
    """The sandbox answers one sync in-process while its pages are recorded; a second sync,
    into a fresh store, is answered from the recording alone. Both match the state dump."""
    app = create_app(SandboxConfig(admin=True, practices=3, cases=5, seed=8))
    portal = app.state.portal
    portal.seed(3, 5, 8, variant=variant, json_api=json_api, language=lang)
    state = portal.dump()
    login = next(x for x in state["logins"] if x["username"] == TPS_WIDE)
    expected = _expected(state, TPS_WIDE, lang, variant == WEBFORMS and not json_api)
    recording = Recording()
    recorder = RecordingTransport(httpx.ASGITransport(app=app), recording)
    account_id, result = await _sync_with(
        store, ClearCorrectAdapter(RECORDED, policy=FAST, transport=recorder), login
    )
    assert result.outcome == "succeeded", result
    assert await store_snapshot(store, account_id) == expected
    replay = ReplayTransport(recording)
    fresh = Store.connect(f"sqlite+aiosqlite:///{tmp_path / 'replayed.db'}")
    await upgrade(fresh)
    try:
        replayed_id, replayed = await _sync_with(
            fresh, ClearCorrectAdapter(RECORDED, policy=FAST, transport=replay), login
        )
        assert replayed.outcome == "succeeded", replayed
        assert await store_snapshot(fresh, replayed_id) == expected
        assert replay.left == 0
    finally:
        await fresh.close()
