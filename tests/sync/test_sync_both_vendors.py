"""The sync acceptance: both sandboxes seeded with 20 practices x 30 cases, every generated
login synced (one ClearCorrect partner login shared by several doctors among them). The first
sync stores exactly what the portals hold; after a tick the next sync stores exactly the changes
and emits exactly the events the change logs imply."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import pytest

from adapters.browser import BrowserPool
from connector.store import Store
from connector.sync import sync_account
from tests.conftest import PortalFactory
from tests.sync.support import (
    add,
    event_counts,
    expected_events,
    last_seq,
    make_services,
    make_vault,
    portal_snapshot,
    store_snapshot,
)

pytestmark = pytest.mark.browser

PRACTICES = 20
CASES = 30


def generated_logins(state: dict[str, Any]) -> list[dict[str, Any]]:
    """The staff/partner logins the generator made (not the doctors', not the scenarios')."""
    return [
        x for x in state["logins"]
        if x["kind"] in ("staff", "partner") and x["scenario"] is None
        and x["visible_case_ids"] and not x.get("mfa") and not x.get("password_expired")
    ]  # fmt: skip


async def test_twenty_practices_on_both_vendors(
    store: Store, start_portals: PortalFactory, chromium_options: dict[str, Any]
) -> None:
    portals = {
        vendor: start_portals(vendor, practices=PRACTICES, cases=CASES, seed=7)
        for vendor in ("invisalign", "clearcorrect")
    }
    states = {vendor: portal.admin.state() for vendor, portal in portals.items()}
    pool = BrowserPool(executable_path=chromium_options.get("executable_path"), max_contexts=4)
    vault = make_vault(store)
    services = make_services(store, vault, {v: p.url for v, p in portals.items()}, pool)
    accounts: list[tuple[str, str, str]] = []  # (vendor, username, account id)
    try:
        for vendor, state in states.items():
            for login in generated_logins(state):
                account = await add(store, vault, vendor, login)
                accounts.append((vendor, login["username"], account.id))
        shared = [
            a for a in accounts
            if a[1] == "cases@tps-planning.example"
        ]  # fmt: skip
        assert len(shared) == 1
        shared_login = next(
            x for x in states["clearcorrect"]["logins"] if x["username"] == shared[0][1]
        )
        doctors = {
            c["doctor_id"]
            for c in states["clearcorrect"]["cases"]
            if c["case_id"] in shared_login["visible_case_ids"]
        }
        assert len(doctors) >= 3  # one partner login shared by several doctors
        assert sum(1 for a in accounts if a[0] == "invisalign") >= PRACTICES

        limit = asyncio.Semaphore(6)

        async def sync_all(full: bool) -> None:
            async def one(account_id: str) -> None:
                async with limit:
                    result = await sync_account(services, account_id, full=full)
                assert result.outcome == "succeeded", result

            await asyncio.gather(*(one(a[2]) for a in accounts))

        await sync_all(full=False)
        total_cases = 0
        for vendor, username, account_id in accounts:
            expected = portal_snapshot(states[vendor], username)
            assert await store_snapshot(store, account_id) == expected, (vendor, username)
            total_cases += len(expected)
            events = await event_counts(store, account_id)
            assert events == Counter(
                {("case.created", c): 1 for c in expected}
                | {("account.status_changed", account_id): 1}
            )
        assert total_cases >= 2 * PRACTICES * CASES

        seq = await last_seq(store)
        ticks = {v: p.admin.tick(steps=4) for v, p in portals.items()}
        after = {v: p.admin.state() for v, p in portals.items()}
        logs = {v: p.admin.changes(since_tick=0) for v, p in portals.items()}
        assert all(t["changes"] for t in ticks.values())
        await sync_all(full=True)
        for vendor, username, account_id in accounts:
            assert await store_snapshot(store, account_id) == portal_snapshot(
                after[vendor], username
            )
            expected_counts = expected_events(
                logs[vendor], states[vendor], after[vendor], username, full=True
            )
            assert await event_counts(store, account_id, after_seq=seq) == expected_counts, (
                vendor,
                username,
            )
    finally:
        await pool.close()
