"""Opening an account's portal session and accounting for what happened, shared by syncs,
outbound actions and rechecks: they sign in the same way, through the same gate, and a rejected
password or a lockout must affect the account identically whichever of them met it."""

from __future__ import annotations

import contextlib
import hmac
from dataclasses import dataclass
from datetime import datetime
from weakref import WeakKeyDictionary

from adapters.base import AdapterError, CodeProvider, Credentials, PortalSession
from connector.accounts import gate, service
from connector.accounts.gate import AttemptSource, Decision, GatedSignIns, Refusal, SignInSubject
from connector.accounts.meaning import (
    AccountOutcome,
    outcome_of_error,
    outcome_of_local_failure,
)
from connector.clock import utcnow
from connector.credentials import reveal_login
from connector.domain import Account, CredentialState
from connector.sessions import (
    SavedSession,
    saved_session_in,
    seal_session_state,
    store_sealed_session,
)
from connector.store import Connection
from connector.store import accounts as account_rows
from connector.store import credentials as credential_rows
from connector.sync.schedule import SchedulePolicy
from connector.sync.services import SyncServices
from vault import PendingSecret, SealedRecord, Secret


@dataclass(frozen=True)
class Opening:
    """The gate's decision for an account's stored login and, when it permits, the saved
    session read (its decryption audited) in the same transaction: everything opening the
    portal session needs from the database."""

    subject: SignInSubject | None
    decision: Decision
    saved: SavedSession | None = None


async def decide_opening(
    conn: Connection, account: Account, source: AttemptSource, now: datetime
) -> Opening:
    """Ask the gate and read the saved session inside the caller's write transaction (the
    lock on the portal login is held to its end, the audit row commits with it). `account` is
    the account as read in that transaction."""
    found = await gate.login_for_account(conn, account.id, source, account=account)
    if isinstance(found, Refusal):
        return Opening(None, found)
    subject, credential = found
    decision = await gate.decide(conn, subject, now, account=account, credential=credential)
    if isinstance(decision, Refusal):
        return Opening(subject, decision)
    assert subject.credential_version is not None  # an account's subject has one
    return Opening(
        subject, decision, await saved_session_in(conn, account.id, subject.credential_version)
    )


async def open_session(
    services: SyncServices,
    account: Account,
    code_provider: CodeProvider,
    *,
    reason: str,
    source: AttemptSource,
    opening: Opening | None = None,
) -> PortalSession:
    """Ask the gate, restore the saved session and open the portal session, in one
    transaction (or with the `opening` a caller decided in a transaction of its own); every
    sign-in it makes, now or later, goes through the gate again.

    The saved session's decryption is audited in that transaction. The password is decrypted
    (audited on its own) only when the adapter is about to sign in (`guard.prepare()`), so a
    run that reuses a valid session never decrypts it.

    Raises `SignInRefused` (before anything is decrypted) when the gate says no."""
    adapter = services.adapters.get(account.vendor)
    if adapter is None:
        raise LookupError(f"no adapter for {account.vendor}")
    if opening is None:
        async with services.store.transaction() as conn:
            current = await account_rows.get_account(conn, account.id)
            opening = await decide_opening(conn, current, source, utcnow())
    if isinstance(opening.decision, Refusal):
        raise opening.decision.error()
    subject = opening.subject
    assert subject is not None  # a permit has one
    saved = opening.saved
    state = await saved.open(services.vault) if saved is not None else None
    password = PendingSecret()
    totp = PendingSecret() if subject.has_totp else None
    credentials = Credentials(subject.username, password, totp)

    async def unlock() -> None:
        login = await reveal_login(
            services.store,
            services.vault,
            account.id,
            reason=reason,
            version=subject.credential_version,
        )
        password.fill(login.password)
        if totp is not None and login.totp_secret is not None:
            totp.fill(login.totp_secret)

    guard = GatedSignIns(services.store, subject, holder=services.holder, unlock=unlock)
    session = await adapter.open(credentials, state, code_provider, guard=guard)
    if state is not None:
        _remember(session, state)
    return session


def _remember(session: PortalSession, state: Secret) -> None:
    with contextlib.suppress(TypeError):  # a session that is not weakly hashable: always saved
        _restored[session] = state


#: The state each open session was restored from, so an unchanged one is not sealed again.
_restored: WeakKeyDictionary[PortalSession, Secret] = WeakKeyDictionary()


@dataclass(frozen=True)
class SessionToKeep:
    """A session's state sealed for storing (before the transaction that stores it: sealing
    needs no database)."""

    session: PortalSession
    state: Secret
    record: SealedRecord


async def seal_session(
    services: SyncServices, account: Account, session: PortalSession
) -> SessionToKeep | None:
    """The session's state, sealed; None when it equals the state the session was restored
    from, which is stored already (no write, no new ciphertext)."""
    state = await session.export_state()
    with contextlib.suppress(TypeError):
        restored = _restored.get(session)
        if restored is not None and hmac.compare_digest(
            restored.reveal_bytes(), state.reveal_bytes()
        ):
            return None
    return SessionToKeep(
        session, state, await seal_session_state(services.vault, account.id, state)
    )


async def store_session_in(conn: Connection, account: Account, keep: SessionToKeep) -> None:
    """Store a sealed session in the caller's transaction; `kept()` once it committed."""
    await store_sealed_session(conn, account.id, account.credential_version, keep.record)


def kept(keep: SessionToKeep) -> None:
    """The sealed session committed: it is now the state the session was restored from."""
    _remember(keep.session, keep.state)


async def keep_session(services: SyncServices, account: Account, session: PortalSession) -> None:
    """Seal and store the session's state, so the next run needs no login; a state equal to
    the one the session was restored from is already stored (no write, no new ciphertext)."""
    keep = await seal_session(services, account, session)
    if keep is None:
        return
    async with services.store.transaction() as conn:
        await store_session_in(conn, account, keep)
    kept(keep)


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
