"""A portal that errs a lot (30% 5xx, 10% 429, 5% dropped sessions) still gets a first sync done
in one round, and the accounts' statuses do not flap.

The logins come from the form (which signs in, so each credential has signed in once): under
faults, a dropped session's new sign-in may lose its answer, which for a credential that has
signed in before is transient, not a failure; the details a passing fault took are fetched once
more at the end of the run.
"""

from __future__ import annotations

from typing import Any

from adapters.base import no_code
from connector.domain import RunOutcome
from connector.store import Store
from connector.sync import sync_account
from connector.verify import Login, Verdict, verify_login
from sandbox.common.server import PortalHandle
from tests.conftest import PortalFactory
from tests.sync.support import (
    event_counts,
    make_services,
    make_vault,
    portal_snapshot,
    store_snapshot,
)
from vault import Secret

VENDOR = "clearcorrect"
ACCOUNTS = 4
CASES = 80
FAULTS = {
    "error_rate": 0.3,
    "rate_limit_rate": 0.1,
    "retry_after_seconds": 0,  # honoured as given; a second each would only slow the test
    "session_drop_rate": 0.05,
}


async def _round(
    store: Store, portal: PortalHandle, faults: dict[str, Any]
) -> tuple[list[Any], int, dict[str, str]]:
    """Verify the partner logins through the form's code, then one sync round under `faults`."""
    vault = make_vault(store)
    services = make_services(store, vault, {VENDOR: portal.url})
    logins = [x for x in portal.admin.state()["logins"] if x["username"].startswith("tps.")]
    assert len(logins) == ACCOUNTS
    accounts: dict[str, str] = {}
    for login in logins:
        verified = await verify_login(
            services,
            vendor=VENDOR,
            login=Login(login["username"], Secret(login["password"])),
            code_provider=no_code,
        )
        assert verified.verdict is Verdict.CONNECTED and verified.account is not None
        accounts[verified.account.id] = login["username"]
    portal.admin.faults(**faults)
    # One account after the other, so the fault seed gives the same faults on every run.
    return_value = [await sync_account(services, account_id) for account_id in accounts]
    status_events = 0
    for account_id in accounts:
        events = await event_counts(store, account_id)
        status_events += sum(
            n for (kind, _), n in events.items() if kind == "account.status_changed"
        )
    return return_value, status_events, accounts


async def test_one_round_completes_a_first_sync_under_heavy_faults(
    store: Store, start_portals: PortalFactory
) -> None:
    clean = start_portals(VENDOR, practices=ACCOUNTS, cases=CASES, seed=21)
    _, clean_events, _ = await _round(store, clean, {})

    faulty = start_portals(VENDOR, practices=ACCOUNTS, cases=CASES, seed=22)
    results, events, accounts = await _round(store, faulty, {"seed": 2026, **FAULTS})
    assert [r.outcome for r in results] == [RunOutcome.SUCCEEDED] * ACCOUNTS, results
    assert sum(r.counts.get("details_fetched", 0) for r in results) >= ACCOUNTS * CASES
    assert abs(events - clean_events) <= 2, (events, clean_events)
    faulty.admin.faults(seed=0, error_rate=0, rate_limit_rate=0, session_drop_rate=0)
    state = faulty.admin.state()
    for account_id, username in accounts.items():
        stored = await store_snapshot(store, account_id)
        assert stored == portal_snapshot(state, username)
    # The portal's counters: every sign-in was the right password; nothing failed or locked.
    for username in accounts.values():
        counter = faulty.admin.logins()[username.lower()]
        assert counter["failures"] == 0 and counter["locked_until"] is None
