"""Opening an account's portal session and accounting for what happened, shared by syncs,
outbound actions and rechecks: they sign in the same way, through the same gate, and a rejected
password or a lockout must affect the account identically whichever of them met it."""

from __future__ import annotations

import hmac
from datetime import datetime
from weakref import WeakKeyDictionary

from adapters.base import AdapterError, CodeProvider, Credentials, PortalSession
from connector.accounts import gate, service
from connector.accounts.gate import AttemptSource, GatedSignIns, Refusal
from connector.accounts.meaning import (
    AccountOutcome,
    outcome_of_error,
    outcome_of_local_failure,
)
from connector.clock import utcnow
from connector.credentials import reveal_login
from connector.domain import Account, CredentialState
from connector.sessions import load_session_state, save_session_state
from connector.store import accounts as account_rows
from connector.store import credentials as credential_rows
from connector.sync.schedule import SchedulePolicy
from connector.sync.services import SyncServices
from vault import Secret


async def open_session(
    services: SyncServices,
    account: Account,
    code_provider: CodeProvider,
    *,
    reason: str,
    source: AttemptSource,
) -> PortalSession:
    """Ask the gate, then decrypt the login (audited), restore the saved session and open the
    portal session; every sign-in it makes, now or later, goes through the gate again.

    Raises `SignInRefused` (before anything is decrypted) when the gate says no."""
    adapter = services.adapters.get(account.vendor)
    if adapter is None:
        raise LookupError(f"no adapter for {account.vendor}")
    async with services.store.transaction() as conn:
        subject = await gate.subject_for_account(conn, account.id, source)
        decision = (
            subject if isinstance(subject, Refusal) else await gate.decide(conn, subject, utcnow())
        )
    if isinstance(decision, Refusal):
        raise decision.error()
    assert not isinstance(subject, Refusal)
    login = await reveal_login(services.store, services.vault, account.id, reason=reason)
    state = await load_session_state(
        services.store, services.vault, account.id, account.credential_version
    )
    credentials = Credentials(login.username, login.password, login.totp_secret)
    guard = GatedSignIns(services.store, subject, holder=services.holder)
    session = await adapter.open(credentials, state, code_provider, guard=guard)
    if state is not None:
        _restored[session] = state
    return session


#: The state each open session was restored from, so an unchanged one is not sealed again.
_restored: WeakKeyDictionary[PortalSession, Secret] = WeakKeyDictionary()


async def keep_session(services: SyncServices, account: Account, session: PortalSession) -> None:
    """Seal and store the session's state, so the next run needs no login; a state equal to
    the one the session was restored from is already stored (no write, no new ciphertext)."""
    state = await session.export_state()
    restored = _restored.get(session)
    if restored is not None and hmac.compare_digest(restored.reveal_bytes(), state.reveal_bytes()):
        return
    await save_session_state(
        services.store, services.vault, account.id, account.credential_version, state
    )
    _restored[session] = state


async def record_error(
    services: SyncServices,
    account_id: str,
    error: AdapterError,
    *,
    policy: SchedulePolicy,
) -> tuple[AccountOutcome, bool]:
    """Account for an adapter error that ended a run: rejected credential, status, next due
    time (the sign-in attempt itself was recorded by the gate when it was made).

    Returns the outcome and whether the account's status changed.
    """
    now = utcnow()
    outcome = outcome_of_error(error, now)
    async with services.store.transaction() as conn:
        current = await account_rows.get_account(conn, account_id, lock=True)
        if outcome.reject_credential:
            credential = await credential_rows.credential_in_state(
                conn, account_id, CredentialState.CURRENT
            )
            if credential is not None and credential.rejected_at is None:
                await credential_rows.mark_rejected(conn, credential.id, now)
        failures = current.failure_count + (1 if outcome.transient else 0)
        due = policy.next_due(
            outcome.status,
            now,
            failures=failures,
            locked_until=outcome.locked_until,
            transient=outcome.transient,
        )
        _, changed = await service.change_status(
            conn,
            current,
            now,
            status=outcome.status,
            reason=outcome.reason,
            message=outcome.message,
            failure_count=failures,
            last_error=outcome.message,
            next_sync_at=due,
        )
    return outcome, changed


async def record_local_failure(
    services: SyncServices,
    account_id: str,
    error: Exception,
    *,
    policy: SchedulePolicy,
) -> AccountOutcome:
    """Account for a failure that is not the portal's (`meaning.LOCAL_FAILURES`): the status
    stays, the reason and message say why, and the next try backs off like any failure."""
    now = utcnow()
    async with services.store.transaction() as conn:
        current = await account_rows.get_account(conn, account_id, lock=True)
        outcome = outcome_of_local_failure(error, current.status)
        failures = current.failure_count + 1
        due = policy.next_due(
            current.status,
            now,
            failures=failures,
            locked_until=current.locked_until,
            transient=True,
        )
        await service.change_status(
            conn,
            current,
            now,
            status=outcome.status,
            reason=outcome.reason,
            message=outcome.message,
            failure_count=failures,
            last_error=outcome.message,
            next_sync_at=due,
        )
    return outcome


async def record_refusal(
    services: SyncServices, account: Account, refusal: Refusal, now: datetime
) -> bool:
    """The gate refused (nothing was sent): the account shows why and when it may go on."""
    change = service.refusal_change(refusal, services.policy.lock_margin)
    async with services.store.transaction() as conn:
        current = await account_rows.get_account(conn, account.id, lock=True)
        _, changed = await service.change_status(
            conn,
            current,
            now,
            status=change.status,
            reason=change.reason,
            message=change.message,
            next_sync_at=change.next_sync_at,
        )
    return changed
