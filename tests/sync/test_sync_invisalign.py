"""The sync engine with the Invisalign adapter (real Chromium): full syncs are complete and
correct against the sandbox's state in every language and every variant of the site, on the pages
(the primary path) and through the JSON (the fast path, detected at run time); restored sessions
cost no login.

Each language and each variant runs once for real here; the parsers' full language x variant
matrix runs on recorded pages (`tests/adapters/invisalign/test_pages.py`).
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from adapters.browser import BrowserPool
from adapters.invisalign import InvisalignAdapter
from connector.domain import AccountStatus
from connector.store import Store
from connector.sync import SyncServices, sync_account
from sandbox.common.server import PortalHandle
from sandbox.invisalign import i18n
from sandbox.scenarios import scenario
from tests.conftest import PortalFactory
from tests.sync.support import (
    FAST,
    add,
    make_services,
    make_vault,
    portal_snapshot,
    store_snapshot,
)

pytestmark = pytest.mark.browser
VENDOR = "invisalign"
GOOD = scenario(VENDOR, "good")


def expected_snapshot(
    state: dict[str, Any], username: str, lang: str, *, pages: bool
) -> dict[str, dict[str, Any]]:
    """The portal's cases for one login, as that login's language shows them; the pages show
    no doctor id."""
    expected = portal_snapshot(state, username)
    statuses = {c["case_id"]: c["status"] for c in state["cases"]}
    for case_id, case in expected.items():
        case["vendor_status"] = i18n.status(statuses[case_id], lang)
        if pages:
            case["doctor_id"] = None
    return expected


def answer_json(portal: PortalHandle, json_api: bool) -> None:
    httpx.put(f"{portal.url}/__sandbox/site", json={"json_api": json_api}).raise_for_status()


@pytest.mark.parametrize(
    ("lang", "variant", "fast", "json_api"),
    [
        pytest.param("en", "filter-dropdown", True, True, id="en-dropdown-fast"),
        pytest.param("de", "legacy-tab", False, True, id="de-legacy-tab-pages"),
        pytest.param("pl", "classic-table", False, True, id="pl-classic-table-pages"),
        pytest.param("ko", "filter-dropdown", False, True, id="ko-dropdown-pages"),
        pytest.param("pl", "filter-dropdown", True, False, id="pl-dropdown-fast-absent"),
        pytest.param("ko", "legacy-tab", True, True, id="ko-legacy-tab-fast"),
    ],
)
async def test_a_full_sync_is_complete_and_correct(
    lang: str,
    variant: str,
    fast: bool,
    json_api: bool,
    store: Store,
    start_portals: PortalFactory,
    chromium_options: dict[str, Any],
) -> None:
    portal: PortalHandle = start_portals(
        VENDOR, practices=0, cases=0, language=lang, variant=variant
    )
    answer_json(portal, json_api)
    pool = BrowserPool(executable_path=chromium_options.get("executable_path"))
    try:
        vault = make_vault(store)
        adapter = InvisalignAdapter(
            portal.url, pool, policy=FAST, fast_path=fast, render_timeout=15, settle_timeout=2
        )
        services = SyncServices(store, vault, {VENDOR: adapter})
        account = await add(store, vault, VENDOR, GOOD)
        result = await sync_account(services, account.id, full=True)
        assert result.status is AccountStatus.ACTIVE, result
        pages = not (fast and json_api)
        expected = expected_snapshot(portal.admin.state(), GOOD.username, lang, pages=pages)
        assert await store_snapshot(store, account.id) == expected
        assert result.counts["cases_listed"] == len(expected) == 6
        # Reading never marks a comment read, whichever way it read.
        assert not [p for p in portal.admin.posted() if p["kind"] == "mark_read"]
    finally:
        await pool.close()


async def test_restored_session_and_excess_rights(
    store: Store, start_portals: PortalFactory, chromium_options: dict[str, Any]
) -> None:
    portal = start_portals(VENDOR, practices=1, cases=6)
    pool = BrowserPool(executable_path=chromium_options.get("executable_path"))
    try:
        vault = make_vault(store)
        services = make_services(store, vault, {VENDOR: portal.url}, pool)
        account = await add(store, vault, VENDOR, GOOD)
        first = await sync_account(services, account.id)
        assert first.status is AccountStatus.ACTIVE
        assert first.counts["logins"] == 1
        assert await store_snapshot(store, account.id) == portal_snapshot(
            portal.admin.state(), GOOD.username
        )
        portal.admin.reset_requests()
        attempts = portal.admin.logins()[GOOD.username]["attempts"]
        second = await sync_account(services, account.id)
        assert second.outcome == "succeeded"
        assert second.counts.get("logins", 0) == 0
        assert portal.admin.requests()["total"] <= 3
        assert portal.admin.logins()[GOOD.username]["attempts"] == attempts

        # A login that can approve plans: reads go on, the account says what to remove.
        excess = await add(store, vault, VENDOR, scenario(VENDOR, "excess"))
        result = await sync_account(services, excess.id)
        assert result.status is AccountStatus.EXCESS_PERMISSIONS
        assert result.counts["cases_listed"] > 0
    finally:
        await pool.close()
