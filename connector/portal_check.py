"""`portal check` for one account: what the adapter relies on, checked on the live portal.

It touches the portal the way a sync does and no further: it takes the account's lease (no
sync or action runs meanwhile), asks the same gate (a locked account, a rejected password or a
spent budget is not tried, and the report says why), restores the saved session and signs in
only when that session no longer works, then lets the vendor's check walk the pages read-only.
A rejected password or a lockout met while signing in counts for the account exactly as in a
sync (`record_error`). The session it used is kept for the next sync.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import structlog

from adapters.base import AdapterError, PortalChanged, SignInRefused, no_code
from adapters.base.check import CheckReport, Recorder, Walk, keep_words
from adapters.base.register import load_register
from adapters.registry import portal_check as vendor_check
from connector.accounts.gate import AttemptSource
from connector.accounts.lease import LeaseBusy, account_lease
from connector.errors import InputError
from connector.store import accounts as account_rows
from connector.sync.portal import keep_session, open_session, record_error
from connector.sync.services import SyncServices

_log = structlog.get_logger("connector.portal_check")

#: How long a check waits for a running sync of the account to finish.
LEASE_WAIT = timedelta(seconds=30)


async def check_account(
    services: SyncServices, account_id: str, *, record: Path | None = None
) -> CheckReport:
    """Check the account's portal; `record` receives the sanitized pages and a manifest."""
    try:
        async with account_lease(
            services.store,
            account_id,
            holder=services.holder,
            ttl=services.lease_ttl,
            wait=LEASE_WAIT,
            keep_alive=True,
        ):
            return await _check(services, account_id, record)
    except LeaseBusy:
        raise InputError(
            f"account {account_id} is busy (a sync or an action holds it); try again shortly"
        ) from None


async def _check(services: SyncServices, account_id: str, record: Path | None) -> CheckReport:
    async with services.store.read() as conn:
        account = await account_rows.get_account(conn, account_id)
    adapter = services.adapters.get(account.vendor)
    if adapter is None:
        raise InputError(f"no adapter for {account.vendor}")
    facts, walk_portal = vendor_check(account.vendor)
    register = load_register(account.vendor)
    walk = Walk(facts, register)
    recorder = Recorder(record, keep_words(facts, register)) if record is not None else None
    try:
        session = await open_session(
            services, account, no_code, reason="portal check", source=AttemptSource.CHECK
        )
    except SignInRefused as refused:
        _log.info("portal_check.refused", account_id=account_id, why=refused.why)
        return CheckReport(account.vendor, None, (), refused=f"{refused.why}: {refused}")
    except PortalChanged as changed:
        for fact in changed.facts:
            walk.differs(fact, "signing in failed here")
        if not changed.facts:
            walk.parser_errors.append(f"sign-in: {changed.detail}")
        return _finish(walk, recorder)
    except AdapterError as error:
        await record_error(services, account_id, error, policy=services.policy)
        return CheckReport(account.vendor, None, (), refused=f"{error.reason}: {error}")
    try:
        await walk_portal(adapter, session, walk, recorder)
        await keep_session(services, account, session)
    finally:
        await session.close()
    return _finish(walk, recorder)


def _finish(walk: Walk, recorder: Recorder | None) -> CheckReport:
    report = walk.report()
    if recorder is not None:
        recorder.finish(report)
    return report
