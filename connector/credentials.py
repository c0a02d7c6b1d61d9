"""Vendor logins: stored sealed, versioned, revealed only for the step that uses them.

A credential version holds the username and a sealed `portal_login` record (password and, when
given, TOTP secret). Updating credentials keeps the account id (Plaid's update mode) and keeps
the previous version for a manual rollback; older versions are shredded. Revealing a login is
audit-logged before the plaintext exists.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import structlog
from sqlalchemy.ext.asyncio import AsyncConnection

from connector.clock import utcnow
from connector.domain import Account, AccountStatus, CredentialState
from connector.errors import ConflictError, InputError, NotFoundError
from connector.store import accounts as account_rows
from connector.store import audit, sealed
from connector.store import credentials as credential_rows
from connector.store.database import Store
from connector.store.ids import new_id
from connector.store.schema import browser_sessions
from connector.vendors import check_vendor
from vault import Decryption, Purpose, Secret, Vault

_log = structlog.get_logger("connector.credentials")

MAX_USERNAME = 320
MAX_PASSWORD = 1024
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_TOTP_SECRET = re.compile(r"^[A-Z2-7]{16,128}=*$")


@dataclass(frozen=True)
class PortalLogin:
    """A revealed login, for the one verify or sync step that needs it."""

    account_id: str
    version: int
    username: str
    password: Secret
    totp_secret: Secret | None

    def __repr__(self) -> str:
        return f"PortalLogin(account_id={self.account_id!r}, version={self.version})"


def check_username(username: str) -> str:
    cleaned = username.strip()
    if not cleaned:
        raise InputError("the username is empty")
    if len(cleaned) > MAX_USERNAME:
        raise InputError(f"the username is longer than {MAX_USERNAME} characters")
    if _CONTROL.search(cleaned):
        raise InputError("the username contains control characters")
    return cleaned


def check_password(password: Secret) -> Secret:
    value = password.reveal()
    if not value:
        raise InputError("the password is empty")
    if len(value) > MAX_PASSWORD:
        raise InputError(f"the password is longer than {MAX_PASSWORD} characters")
    if "\x00" in value:
        raise InputError("the password contains a NUL character")
    return password


def check_totp_secret(totp_secret: Secret | None) -> Secret | None:
    if totp_secret is None or not totp_secret.reveal().strip():
        return None
    normalized = totp_secret.reveal().replace(" ", "").upper()
    if not _TOTP_SECRET.match(normalized):
        raise InputError("the TOTP secret must be the base32 key the portal showed (A-Z, 2-7)")
    return Secret(normalized)


def check_practice_id(practice_id: str | None) -> str | None:
    if practice_id is None:
        return None
    cleaned = practice_id.strip()
    if not cleaned or len(cleaned) > 200 or _CONTROL.search(cleaned):
        raise InputError("the practice id must be 1-200 printable characters")
    return cleaned


def _login_payload(password: Secret, totp_secret: Secret | None) -> Secret:
    return Secret(
        json.dumps(
            {
                "password": password.reveal(),
                "totp_secret": totp_secret.reveal() if totp_secret else None,
            }
        )
    )


def store_audit_sink(store: Store) -> Callable[[Decryption], Awaitable[None]]:
    """Audit decryptions in the database, each in its own short transaction."""

    async def record(event: Decryption) -> None:
        async with store.transaction() as conn:
            await audit.insert_audit(
                conn,
                at=utcnow(),
                account_id=event.account_id,
                action="decrypt",
                purpose=str(event.purpose),
                kek_id=event.kek_id,
                reason=event.reason,
            )

    return record


def _new_version(
    account_id: str, version: int, username: str, has_totp: bool
) -> credential_rows.CredentialVersion:
    return credential_rows.CredentialVersion(
        id=new_id("cred"),
        account_id=account_id,
        version=version,
        username=username,
        sealed_id=new_id("sec"),
        has_totp=has_totp,
        state=CredentialState.CURRENT,
        rejected_at=None,
        created_at=utcnow(),
    )


async def add_account(
    store: Store,
    vault: Vault,
    *,
    vendor: str,
    username: str,
    password: Secret,
    totp_secret: Secret | None = None,
    practice_id: str | None = None,
    due: bool = True,
) -> Account:
    """Create an account with its first credential version, status `verifying`.

    `due=False` keeps the scheduler away until the caller (the form, verifying the login live)
    makes it due, so the same password is never tried twice at once."""
    vendor = check_vendor(vendor)
    username = check_username(username)
    password = check_password(password)
    totp_secret = check_totp_secret(totp_secret)
    practice_id = check_practice_id(practice_id)
    account_id = new_id("acc")
    record = await vault.seal(
        _login_payload(password, totp_secret), account_id, Purpose.PORTAL_LOGIN
    )
    credential = _new_version(account_id, 1, username, totp_secret is not None)
    now = utcnow()
    async with store.transaction() as conn:
        if await account_rows.find_account(conn, vendor, username) is not None:
            raise ConflictError(
                f"a {vendor} account with this username already exists; update its "
                "credentials instead"
            )
        await account_rows.insert_account(
            conn,
            account_id=account_id,
            vendor=vendor,
            username=username,
            practice_id=practice_id,
            status=AccountStatus.VERIFYING,
            now=now,
        )
        await sealed.insert_sealed(
            conn,
            sealed_id=credential.sealed_id,
            account_id=account_id,
            purpose=Purpose.PORTAL_LOGIN,
            record=record,
            now=now,
        )
        await credential_rows.insert_credential(conn, credential)
        account = await account_rows.update_account(conn, account_id, now=now, credential_version=1)
    _log.info("account.added", account_id=account_id, vendor=vendor)
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
    """Store a new credential version under the same account id; status goes to `verifying`.

    The version before it is kept (`previous`) for a manual rollback; anything older is shredded.
    """
    password = check_password(password)
    totp_secret = check_totp_secret(totp_secret)
    new_username = check_username(username) if username is not None else None
    # Sealing does not depend on the version number, so it happens outside the transaction.
    record = await vault.seal(
        _login_payload(password, totp_secret), account_id, Purpose.PORTAL_LOGIN
    )
    now = utcnow()
    async with store.transaction() as conn:
        account = await account_rows.get_account(conn, account_id, lock=True)
        new_username = new_username or account.username
        version = await credential_rows.max_version(conn, account_id) + 1
        credential = _new_version(account_id, version, new_username, totp_secret is not None)
        if new_username != account.username:
            clash = await account_rows.find_account(conn, account.vendor, new_username)
            if clash is not None and clash.id != account_id:
                raise ConflictError(f"another {account.vendor} account uses this username")
        for old in await credential_rows.list_credentials(conn, account_id):
            if old.state == CredentialState.CURRENT:
                await credential_rows.set_state(conn, old.id, CredentialState.PREVIOUS)
            else:
                # Only one version back is kept: older ones are shredded.
                await credential_rows.delete_credential(conn, old.id)
                await sealed.delete_sealed(conn, old.sealed_id)
        await _forget_browser_session(conn, account_id)
        await sealed.insert_sealed(
            conn,
            sealed_id=credential.sealed_id,
            account_id=account_id,
            purpose=Purpose.PORTAL_LOGIN,
            record=record,
            now=now,
        )
        await credential_rows.insert_credential(conn, credential)
        paused = account.status is AccountStatus.DISABLED
        account = await account_rows.update_account(
            conn,
            account_id,
            now=now,
            username=new_username,
            credential_version=version,
            # A pause is the TPS's decision: new credentials do not lift it.
            status=AccountStatus.DISABLED if paused else AccountStatus.VERIFYING,
            status_reason="paused" if paused else "credentials_updated",
            status_message=(
                "New credentials were saved; the account stays paused until resumed."
                if paused
                else "New credentials were saved and will be verified."
            ),
            locked_until=None,
        )
    _log.info("account.credentials_updated", account_id=account_id, version=version)
    return account


async def _forget_browser_session(conn: AsyncConnection, account_id: str) -> None:
    """A saved portal session belongs to the login that made it: drop it with that login."""
    row = (
        await conn.execute(
            browser_sessions.select().where(browser_sessions.c.account_id == account_id)
        )
    ).first()
    if row is not None:
        await conn.execute(
            browser_sessions.delete().where(browser_sessions.c.account_id == account_id)
        )
        await sealed.delete_sealed(conn, row.sealed_id)


async def rollback_credentials(store: Store, account_id: str) -> Account:
    """Make the previous credential version current again (a manual call, never automatic).

    The version rolled back from becomes `previous`, so a rollback can itself be undone.
    """
    now = utcnow()
    async with store.transaction() as conn:
        account = await account_rows.get_account(conn, account_id, lock=True)
        previous = await credential_rows.credential_in_state(
            conn, account_id, CredentialState.PREVIOUS
        )
        current = await credential_rows.credential_in_state(
            conn, account_id, CredentialState.CURRENT
        )
        if previous is None or current is None:
            raise ConflictError("there is no previous credential version to roll back to")
        clash = await account_rows.find_account(conn, account.vendor, previous.username)
        if clash is not None and clash.id != account_id:
            raise ConflictError(f"another {account.vendor} account now uses that username")
        await credential_rows.set_state(conn, current.id, CredentialState.PREVIOUS)
        await credential_rows.set_state(conn, previous.id, CredentialState.CURRENT)
        await _forget_browser_session(conn, account_id)
        account = await account_rows.update_account(
            conn,
            account_id,
            now=now,
            username=previous.username,
            credential_version=previous.version,
            status=AccountStatus.VERIFYING,
            status_reason="credentials_rolled_back",
            status_message="The previous credentials were restored and will be verified.",
            locked_until=None,
        )
    _log.info("account.credentials_rolled_back", account_id=account_id, version=previous.version)
    return account


async def reveal_login(store: Store, vault: Vault, account_id: str, *, reason: str) -> PortalLogin:
    """Decrypt the current login of an account (audited). Use it at once; do not keep it."""
    async with store.read() as conn:
        current = await credential_rows.credential_in_state(
            conn, account_id, CredentialState.CURRENT
        )
        if current is None:
            raise NotFoundError(f"account {account_id} has no stored credentials")
        stored = await sealed.load_sealed(conn, current.sealed_id)
    payload = await vault.open(stored.record, account_id, Purpose.PORTAL_LOGIN, reason=reason)
    values = json.loads(payload.reveal())
    totp = values.get("totp_secret")
    return PortalLogin(
        account_id=account_id,
        version=current.version,
        username=current.username,
        password=Secret(values["password"]),
        totp_secret=Secret(totp) if totp else None,
    )


async def remove_account(store: Store, account_id: str, *, reason: str) -> None:
    """Delete an account: its wrapped data keys are destroyed (crypto-shredding) and its synced
    data is purged by the database's cascades. The audit log keeps a row saying so."""
    now = utcnow()
    async with store.transaction() as conn:
        await account_rows.get_account(conn, account_id)
        await account_rows.delete_account(conn, account_id)
        await audit.insert_audit(conn, at=now, account_id=account_id, action="shred", reason=reason)
    _log.info("account.removed", account_id=account_id)
