"""An account whose portal has nothing new costs little: counted by the portal and the database.

After a first sync, a second run on an unchanged portal makes no sign-in (the sandbox's
counter), no more requests than the listing needs plus one, two database transactions (one
that starts the run, one that ends it; nothing for pages of unchanged cases), never decrypts the
password, and does not re-seal a session whose state did not change.
"""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from connector.store import Store
from connector.store.schema import audit_log, browser_sessions
from connector.sync import sync_account
from sandbox.clearcorrect.admin_client import ClearCorrectAdmin
from tests.conftest import BOTH_DATABASES, PortalFactory
from tests.sync.support import add, make_services, make_vault

VENDOR = "clearcorrect"


def count_transactions(store: Store) -> list[int]:
    """A list whose length is the number of transactions begun on the store's engine."""
    begun: list[int] = []

    def begin(conn: Any) -> None:
        begun.append(1)

    sa.event.listen(store.engine.sync_engine, "begin", begin)
    return begun


@BOTH_DATABASES
@pytest.mark.parametrize("variant", ["webforms", "aspnetcore-json"])
async def test_an_unchanged_account_is_cheap(
    store: Store, start_portals: PortalFactory, variant: str
) -> None:
    portal = start_portals(VENDOR, practices=2, cases=6, seed=4)
    with ClearCorrectAdmin(portal.url) as admin:
        admin.variant(variant)
    state = portal.admin.state()
    login = next(x for x in state["logins"] if x["username"].startswith("tps."))
    vault = make_vault(store)
    services = make_services(store, vault, {VENDOR: portal.url})
    account = await add(store, vault, VENDOR, login)
    first = await sync_account(services, account.id)
    assert first.outcome == "succeeded", first
    async with store.read() as conn:
        sealed = (await conn.execute(sa.select(browser_sessions))).one()
        audits = len((await conn.execute(sa.select(audit_log.c.id))).all())

    # The listing alone, as the portal counts it: one run that only lists.
    attempts = portal.admin.logins()[login["username"]]["attempts"]
    portal.admin.reset_requests()
    begun = count_transactions(store)
    again = await sync_account(services, account.id)
    assert again.outcome == "succeeded", again
    requests = portal.admin.requests()["total_by_user"][login["username"]]

    assert portal.admin.logins()[login["username"]]["attempts"] == attempts  # no sign-in
    assert requests <= LISTING_REQUESTS[variant] + 1
    # Taking the lease with the run's start, the stored cases, the gate's decision and the saved
    # session (its decryption audited first); and one closing transaction that stores the
    # session (when its state changed) and gives the lease back.
    assert len(begun) <= 2, len(begun)
    async with store.read() as conn:
        # The session's cookies did not change (the JSON app's request-token cookie, renewed
        # on every call, is not part of a saved session): it is not sealed again.
        assert (await conn.execute(sa.select(browser_sessions))).one() == sealed
        decrypted = [
            row.purpose
            for row in (await conn.execute(sa.select(audit_log).order_by(audit_log.c.id))).all()[
                audits:
            ]
        ]
    assert decrypted == ["browser_session"]  # the saved session, audited; never the password


#: Requests a listing of a few cases takes: WebForms, the list page and a postback for each
#: other status group; the JSON app, one page. The `+ 1` above is the access check.
LISTING_REQUESTS = {"webforms": 3, "aspnetcore-json": 1}
