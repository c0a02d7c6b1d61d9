"""A changed portal is news once per vendor: the health route and one `vendor.health_changed`."""

from __future__ import annotations

import sqlalchemy as sa

from connector.domain import AccountStatus
from connector.store import Store
from connector.store import accounts as account_rows
from connector.store.schema import events
from connector.sync import sync_account, vendor_health
from tests.conftest import PortalFactory
from tests.sync.support import add, make_services, make_vault

VENDOR = "clearcorrect"


async def _health_events(store: Store) -> list[dict[str, object]]:
    async with store.read() as conn:
        rows = (
            await conn.execute(
                sa.select(events.c.data).where(events.c.type == "vendor.health_changed")
            )
        ).all()
    return [dict(r.data) for r in rows]


async def test_a_changed_layout_is_one_event_per_vendor_and_shows_in_health(
    store: Store, start_portals: PortalFactory
) -> None:
    portal = start_portals(VENDOR, practices=3, cases=3)
    vault = make_vault(store)
    services = make_services(store, vault, {VENDOR: portal.url})
    logins = [x for x in portal.admin.state()["logins"] if x["username"].startswith("tps.")]
    accounts = [await add(store, vault, VENDOR, login) for login in logins]
    for account in accounts:
        assert (await sync_account(services, account.id)).status is AccountStatus.ACTIVE
    assert (await vendor_health.current(store, VENDOR))["state"] == "ok"
    assert await _health_events(store) == []

    portal.admin.faults(layout_version=2)
    for account in accounts:
        result = await sync_account(services, account.id, full=True)
        assert result.status is AccountStatus.PORTAL_CHANGED
    changed = await _health_events(store)
    assert len(changed) == 1 and changed[0]["state"] == "changed"
    health = await vendor_health.current(store, VENDOR)
    assert health["state"] == "changed"
    # The failing register facts, by name: the orders grid layout 2 renamed.
    assert "cc.wf.list.grid" in health["failing_facts"]
    assert changed[0]["failing_facts"] == health["failing_facts"]
    async with store.read() as conn:
        shown = [await account_rows.get_account(conn, a.id) for a in accounts]
    assert all("cc.wf.list.grid" in (a.status_message or "") for a in shown)
    assert health["recent"]["portal_changed"] == len(accounts)
    assert 0 < health["recent"]["portal_changed_share"] < 1  # the earlier good runs count too

    portal.admin.faults(layout_version=1)
    for account in accounts:
        assert (await sync_account(services, account.id)).status is AccountStatus.ACTIVE
    after = await _health_events(store)
    assert [e["state"] for e in after] == ["changed", "ok"]
    assert (await vendor_health.current(store, "invisalign"))["state"] == "ok"
