"""The sync engine with the Invisalign adapter (real Chromium): restored sessions cost no login."""

from __future__ import annotations

from typing import Any

import pytest

from adapters.browser import BrowserPool
from connector.domain import AccountStatus
from connector.store import Store
from connector.sync import sync_account
from sandbox.scenarios import scenario
from tests.conftest import PortalFactory
from tests.sync.support import add, make_services, make_vault, portal_snapshot, store_snapshot

pytestmark = pytest.mark.browser
VENDOR = "invisalign"


async def test_restored_session_and_excess_rights(
    store: Store, start_portals: PortalFactory, chromium_options: dict[str, Any]
) -> None:
    portal = start_portals(VENDOR, practices=1, cases=6)
    pool = BrowserPool(executable_path=chromium_options.get("executable_path"))
    try:
        vault = make_vault(store)
        services = make_services(store, vault, {VENDOR: portal.url}, pool)
        good = scenario(VENDOR, "good")
        account = await add(store, vault, VENDOR, good)
        first = await sync_account(services, account.id)
        assert first.status is AccountStatus.ACTIVE
        assert first.counts["logins"] == 1
        assert await store_snapshot(store, account.id) == portal_snapshot(
            portal.admin.state(), good.username
        )
        portal.admin.reset_requests()
        attempts = portal.admin.logins()[good.username]["attempts"]
        second = await sync_account(services, account.id)
        assert second.outcome == "succeeded"
        assert second.counts.get("logins", 0) == 0
        assert portal.admin.requests()["total"] <= 3
        assert portal.admin.logins()[good.username]["attempts"] == attempts

        # A login that can approve plans: reads go on, the account says what to remove.
        excess = await add(store, vault, VENDOR, scenario(VENDOR, "excess"))
        result = await sync_account(services, excess.id)
        assert result.status is AccountStatus.EXCESS_PERMISSIONS
        assert result.counts["cases_listed"] > 0
    finally:
        await pool.close()
