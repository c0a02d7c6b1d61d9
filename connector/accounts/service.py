"""The one service layer for account changes: the API, the CLI and the form call these functions,
and only translate input and output. Each change and its `account.status_changed` event are
written here, in one transaction, and nowhere else.

A portal lockout, a spent failure budget and a rejected credential belong to the portal login,
so creating, updating, rolling back and resuming an account all ask the gate where the login
stands (`_standing`) instead of assuming a fresh start: new credentials never lift a lockout the
portal is still running.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

import structlog

from connector.accounts import gate
from connector.accounts.gate import AttemptSource, Refusal, SignInSubject
from connector.accounts.meaning import REFUSALS, AccountOutcome, RefusalReason
from connector.clock import utcnow
from connector.credentials import (
    check_password,
    check_practice_id,
    check_totp_secret,
    check_username,
    restore_previous,
    seal_login,
    store_version,
)
from connector.domain import Account, AccountStatus, CredentialState, EventType
from connector.errors import ConflictError
from connector.store import Connection, audit, events
from connector.store import accounts as account_rows
from connector.store import credentials as credential_rows
from connector.store.database import Store
from connector.store.ids import new_id
from connector.vendors import check_vendor
from vault import Secret, Vault

_log = structlog.get_logger("connector.accounts")

#: After a portal lockout ends, wait this much more before the next try (clocks differ).
LOCK_MARGIN = timedelta(seconds=30)


@dataclass(frozen=True)
class StatusChange:
    """A status to write, with its reason word and sentence, and the next due time."""

    status: AccountStatus
    reason: str
    message: str
    next_sync_at: datetime | None = None


async def change_status(
    conn: Connection,
    before: Account,
    now: datetime,
    *,
    status: AccountStatus,
    reason: str,
    message: str,
    **values: Any,
) -> tuple[Account, bool]:
    """Write a status (and any other account fields); one `account.status_changed` event per
    real transition. The only writer of that event."""
    after = await account_rows.update_account(
        conn,
        before.id,
        now=now,
        status=status,
        status_reason=reason,
        status_message=message,
        **values,
    )
    changed = after.status != before.status
    if changed:
        _log.info(
            "account.status_changed",
            account_id=after.id,
            status=str(after.status),
            reason=after.status_reason,
        )
        await events.append_event(
            conn,
            type=EventType.ACCOUNT_STATUS_CHANGED,
            account_id=after.id,
            subject_id=after.id,
            data=after.to_json(),
            now=now,
        )
    return after, changed


async def apply_outcome(
    conn: Connection, before: Account, outcome: AccountOutcome, now: datetime, **values: Any
) -> tuple[Account, bool]:
    return await change_status(
        conn,
        before,
        now,
        status=outcome.status,
        reason=outcome.reason,
        message=outcome.message,
        **values,
    )


async def keep_status(
    conn: Connection, before: Account, outcome: AccountOutcome, now: datetime, **values: Any
) -> Account | None:
    """Write an outcome whose status is the one `before` has, without reading the row first:
    the update applies only while the stored status still is `before`'s (no transition, so no
    event). None when the status differs or changed meanwhile (or the account is gone): the
    caller then reads it locked and goes through `apply_outcome`."""
    if outcome.status is not before.status:
        return None
    fields = {
        "status": outcome.status,
        "status_reason": outcome.reason,
        "status_message": outcome.message,
        **values,
    }
    if not await account_rows.update_account_if_status(
        conn, before.id, before.status, now=now, **fields
    ):
        return None
    return replace(before, updated_at=now, **fields)


def refusal_change(refusal: Refusal, lock_margin: timedelta = LOCK_MARGIN) -> StatusChange:
    """What a gate refusal makes of the account: locked until the lockout ends, otherwise
    waiting for a person (new credentials, the dentist's confirmation, resume)."""
    outcome = REFUSALS[refusal.why]
    due = refusal.retry_at + lock_margin if refusal.retry_at is not None else None
    return StatusChange(outcome.status, outcome.reason, refusal.message, due)


async def _standing(
    conn: Connection, account: Account, now: datetime, *, ignore_pause: bool = False
) -> Refusal | None:
    """Where the account's portal login stands with the gate, for its current credential."""
    subject = await gate.subject_for_account(conn, account.id, AttemptSource.SYNC)
    if isinstance(subject, Refusal):
        return subject
    if ignore_pause:
        subject = SignInSubject(
            vendor=subject.vendor,
            username=subject.username,
            source=AttemptSource.FORM,  # the gate does not look at the pause for these
            account_id=subject.account_id,
            credential_id=subject.credential_id,
            credential_version=subject.credential_version,
        )
    decision = await gate.decide(conn, subject, now)
    if isinstance(decision, Refusal) and decision.why is not RefusalReason.IN_FLIGHT:
        return decision
    return None


async def _ready(
    conn: Connection,
    account: Account,
    now: datetime,
    *,
    reason: str,
    message: str,
    ignore_pause: bool = False,
) -> Account:
    """Make the account due for a sync that verifies its login, unless the gate would refuse
    it (then: the refusal's status and time)."""
    refusal = await _standing(conn, account, now, ignore_pause=ignore_pause)
    change = (
        refusal_change(refusal)
        if refusal is not None
        else StatusChange(AccountStatus.VERIFYING, reason, message, now)
    )
    updated, _ = await change_status(
        conn,
        account,
        now,
        status=change.status,
        reason=change.reason,
        message=change.message,
        next_sync_at=change.next_sync_at,
        failure_count=0,
    )
    return updated


async def create_account(
    store: Store,
    vault: Vault,
    *,
    vendor: str,
    username: str,
    password: Secret,
    totp_secret: Secret | None = None,
    practice_id: str | None = None,
) -> Account:
    """Store a login for a new account: status `verifying` and due now (the sync verifies it),
    or whatever the gate says of its portal login (a login removed and added again keeps its
    lockout and its failure budget)."""
    vendor = check_vendor(vendor)
    username = check_username(username)
    password = check_password(password)
    totp_secret = check_totp_secret(totp_secret)
    practice_id = check_practice_id(practice_id)
    account_id = new_id("acc")
    record = await seal_login(vault, account_id, password, totp_secret)
    now = utcnow()
    async with store.transaction() as conn:
        account = await account_rows.insert_account(
            conn,
            account_id=account_id,
            vendor=vendor,
            username=username,
            practice_id=practice_id,
            status=AccountStatus.VERIFYING,
            now=now,
        )
        credential = await store_version(
            conn, account_id, username, record, has_totp=totp_secret is not None, now=now
        )
        account = await account_rows.update_account(
            conn, account_id, now=now, credential_version=credential.version
        )
        account = await _ready(
            conn,
            account,
            now,
            reason="added",
            message="The login was stored and will be verified by the next sync.",
        )
    _log.info("account.added", account_id=account_id, vendor=vendor, status=str(account.status))
    return account


async def update_credentials(
    store: Store,
    vault: Vault,
    account_id: str,
    *,
    password: Secret,
    username: str | None = None,
    totp_secret: Secret | None = None,
) -> Account:
    """A new credential version under the same account id (Plaid's update mode), verified by the
    next sync. A pause stays (it is the TPS's decision); a running portal lockout stays (it is
    the portal's)."""
    password = check_password(password)
    totp_secret = check_totp_secret(totp_secret)
    new_username = check_username(username) if username is not None else None
    record = await seal_login(vault, account_id, password, totp_secret)
    now = utcnow()
    async with store.transaction() as conn:
        account = await account_rows.get_account(conn, account_id, lock=True)
        new_username = new_username or account.username
        await _check_username_free(conn, account, new_username)
        credential = await store_version(
            conn, account_id, new_username, record, has_totp=totp_secret is not None, now=now
        )
        account = await _switched(conn, account, credential, now, "credentials_updated")
    _log.info("account.credentials_updated", account_id=account_id, version=credential.version)
    return account


async def rollback_credentials(store: Store, account_id: str) -> Account:
    """Make the previous credential version current again (a manual call, never automatic)."""
    now = utcnow()
    async with store.transaction() as conn:
        account = await account_rows.get_account(conn, account_id, lock=True)
        previous = await credential_rows.credential_in_state(
            conn, account_id, CredentialState.PREVIOUS
        )
        if previous is not None:
            await _check_username_free(conn, account, previous.username)
        credential = await restore_previous(conn, account_id)
        account = await _switched(conn, account, credential, now, "credentials_rolled_back")
    _log.info("account.credentials_rolled_back", account_id=account_id, version=credential.version)
    return account


async def _check_username_free(conn: Connection, account: Account, username: str) -> None:
    clash = await account_rows.find_account(conn, account.vendor, username)
    if clash is not None and clash.id != account.id:
        raise ConflictError(f"another {account.vendor} account uses this username")


async def _switched(
    conn: Connection,
    account: Account,
    credential: credential_rows.CredentialVersion,
    now: datetime,
    reason: str,
) -> Account:
    account = await account_rows.update_account(
        conn,
        account.id,
        now=now,
        username=credential.username,
        credential_version=credential.version,
    )
    if account.status is AccountStatus.DISABLED:
        updated, _ = await change_status(
            conn,
            account,
            now,
            status=AccountStatus.DISABLED,
            reason="paused",
            message="New credentials were saved; the account stays paused until resumed.",
        )
        return updated
    words = "were restored" if reason == "credentials_rolled_back" else "were saved"
    return await _ready(
        conn,
        account,
        now,
        reason=reason,
        message=f"The credentials {words} and will be verified by the next sync.",
    )


async def pause(store: Store, account_id: str) -> tuple[Account, bool]:
    """Stop syncs and outbound actions until resumed (pausing a paused account changes nothing).
    Returns the account and whether it changed."""
    now = utcnow()
    async with store.transaction() as conn:
        account = await account_rows.get_account(conn, account_id, lock=True)
        if account.status is AccountStatus.DISABLED:
            return account, False
        return await change_status(
            conn,
            account,
            now,
            status=AccountStatus.DISABLED,
            reason="paused",
            message="Paused by the TPS; no sync runs until resumed.",
        )


async def resume(store: Store, account_id: str) -> tuple[Account, bool]:
    """Resume a paused account: `verifying` and due now, unless the gate refuses its login
    (`locked` until the portal's lockout ends, `login_required` when the password was rejected
    or the failure budget is spent). Resuming an account that is not paused changes nothing.
    Returns the account and whether it changed."""
    now = utcnow()
    async with store.transaction() as conn:
        account = await account_rows.get_account(conn, account_id, lock=True)
        if account.status is not AccountStatus.DISABLED:
            return account, False
        resumed = await _ready(
            conn,
            account,
            now,
            reason="resumed",
            message="Resumed; the next sync verifies the login.",
            ignore_pause=True,
        )
        return resumed, True


async def request_sync(store: Store, account_id: str) -> Account:
    """Make the account due now (`ConflictError` when paused)."""
    now = utcnow()
    async with store.transaction() as conn:
        account = await account_rows.get_account(conn, account_id, lock=True)
        if account.status is AccountStatus.DISABLED:
            raise ConflictError("the account is paused: resume it first")
        return await account_rows.update_account(conn, account_id, now=now, next_sync_at=now)


async def remove_account(
    store: Store,
    account_id: str,
    *,
    reason: str,
    remove_blobs: Callable[[str], Awaitable[None]] | None = None,
) -> None:
    """Delete an account: its wrapped data keys (file keys too) are destroyed (crypto-shredding)
    and its synced data is purged by the database's cascades; `remove_blobs` then removes its
    encrypted file blobs outside the database (a sweep would, later). Its portal login's budget
    and lockout stay (they are the portal's), and the audit log keeps a row saying so."""
    now = utcnow()
    async with store.transaction() as conn:
        await account_rows.get_account(conn, account_id)
        await account_rows.delete_account(conn, account_id)
        await audit.insert_audit(conn, at=now, account_id=account_id, action="shred", reason=reason)
    if remove_blobs is not None:
        await remove_blobs(account_id)
    _log.info("account.removed", account_id=account_id)


async def list_all(
    store: Store,
    *,
    vendor: str | None = None,
    practice_id: str | None = None,
    status: AccountStatus | None = None,
) -> Sequence[Account]:
    """Every account matching the filters, page by page."""
    found: list[Account] = []
    after: str | None = None
    async with store.read() as conn:
        while True:
            page = await account_rows.list_accounts(
                conn, vendor=vendor, practice_id=practice_id, status=status, after_id=after
            )
            found.extend(page)
            if len(page) < 100:
                return found
            after = page[-1].id
