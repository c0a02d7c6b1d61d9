"""Opening an account's portal session and accounting for what happened, shared by syncs and
outbound actions: both log in the same way, and a rejected password or a lockout must affect
the account identically whichever of them met it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.base import (
    AccountLocked,
    AdapterError,
    CodeProvider,
    Credentials,
    InvalidCredentials,
    MalformedCredentials,
    MfaRequired,
    PasswordExpired,
    PortalSession,
)
from connector.clock import utcnow
from connector.credentials import reveal_login
from connector.domain import Account, CredentialState
from connector.sessions import load_session_state, save_session_state
from connector.store import accounts as account_rows
from connector.store import credentials as credential_rows
from connector.store import events
from connector.sync import budget
from connector.sync.outcomes import AccountOutcome, outcome_of_error
from connector.sync.schedule import SchedulePolicy
from connector.sync.services import SyncServices


def login_related(error: AdapterError) -> bool:
    """Errors that mean the portal judged a login attempt (and may have counted it)."""
    if isinstance(error, MalformedCredentials):
        return False  # refused before (or without) an attempt the portal counts
    return isinstance(error, InvalidCredentials | AccountLocked | PasswordExpired | MfaRequired)


async def open_session(
    services: SyncServices, account: Account, code_provider: CodeProvider, *, reason: str
) -> PortalSession:
    """Decrypt the login (audited), restore the saved session, open the portal session."""
    adapter = services.adapters.get(account.vendor)
    if adapter is None:
        raise LookupError(f"no adapter for {account.vendor}")
    login = await reveal_login(services.store, services.vault, account.id, reason=reason)
    state = await load_session_state(
        services.store, services.vault, account.id, account.credential_version
    )
    credentials = Credentials(login.username, login.password, login.totp_secret)
    return await adapter.open(credentials, state, code_provider)


async def keep_session(services: SyncServices, account: Account, session: PortalSession) -> None:
    """Seal and store the session's state, so the next run needs no login."""
    await save_session_state(
        services.store,
        services.vault,
        account.id,
        account.credential_version,
        await session.export_state(),
    )


async def set_status(
    conn: AsyncConnection,
    account: Account,
    outcome: AccountOutcome,
    now: datetime,
    **extra: Any,
) -> tuple[Account, bool]:
    """Write the outcome on the account; one `account.status_changed` per real transition."""
    updated = await account_rows.update_account(
        conn,
        account.id,
        now=now,
        status=outcome.status,
        status_reason=outcome.reason,
        status_message=outcome.message,
        locked_until=outcome.locked_until,
        **extra,
    )
    changed = updated.status != account.status
    if changed:
        await events.append_event(
            conn,
            type="account.status_changed",
            account_id=account.id,
            subject_id=account.id,
            data=updated.to_json(),
            now=now,
        )
    return updated, changed


async def record_error(
    services: SyncServices,
    account_id: str,
    error: AdapterError,
    *,
    source: str,
    policy: SchedulePolicy,
) -> tuple[AccountOutcome, bool]:
    """Account for an adapter error: login attempt, rejected credential, status, next due time.

    Returns the outcome and whether the account's status changed.
    """
    now = utcnow()
    outcome = outcome_of_error(error, now)
    async with services.store.transaction() as conn:
        current = await account_rows.get_account(conn, account_id, lock=True)
        if login_related(error):
            await budget.record_attempt(
                conn,
                account_id,
                source=source,
                outcome=outcome.reason,
                credential_version=current.credential_version,
                now=now,
            )
        if outcome.reject_credential:
            credential = await credential_rows.credential_in_state(
                conn, account_id, CredentialState.CURRENT
            )
            if credential is not None and credential.version == current.credential_version:
                await credential_rows.mark_rejected(conn, credential.id, now)
        failures = current.failure_count + (1 if outcome.transient else 0)
        _, changed = await set_status(
            conn,
            current,
            outcome,
            now,
            failure_count=failures,
            last_error=outcome.message,
            next_sync_at=policy.next_due(
                outcome.status,
                now,
                failures=failures,
                locked_until=outcome.locked_until,
                transient=outcome.transient,
            ),
        )
    return outcome, changed


async def record_logins(
    services: SyncServices, account: Account, count: int, *, source: str
) -> None:
    """Successful logins count too: the budget looks only at failures, the audit at all."""
    if count <= 0:
        return
    now = utcnow()
    async with services.store.transaction() as conn:
        for _ in range(count):
            await budget.record_attempt(
                conn,
                account.id,
                source=source,
                outcome="ok",
                credential_version=account.credential_version,
                now=now,
            )
