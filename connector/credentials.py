"""Vendor logins: validated, stored sealed, versioned, revealed only for the step that uses them.

A credential version holds the username and a sealed `portal_login` record (password and, when
given, TOTP secret). A new version keeps the account id (Plaid's update mode) and keeps the
previous version for a manual rollback; older versions are shredded. Revealing a login is
audit-logged before the plaintext exists. What an account's status becomes when its credentials
change is the service layer's business (`connector.accounts.service`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from connector.clock import utcnow
from connector.domain import CredentialState
from connector.errors import ConflictError, InputError, NotFoundError
from connector.store import Connection, audit, browser_sessions, sealed
from connector.store import credentials as credential_rows
from connector.store.database import Store
from connector.store.ids import new_id
from vault import AuditReceipt, Decryption, Purpose, SealedRecord, Secret, Vault

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


async def audit_in(conn: Connection, event: Decryption) -> AuditReceipt:
    """Store a decryption's audit row in the caller's transaction; the receipt lets the vault
    open that record once the transaction has committed."""
    await audit.insert_audit(
        conn,
        at=utcnow(),
        account_id=event.account_id,
        action="decrypt",
        purpose=str(event.purpose),
        kek_id=event.kek_id,
        reason=event.reason,
    )
    return AuditReceipt(event)


def store_audit_sink(store: Store) -> Callable[[Decryption], Awaitable[None]]:
    """Audit decryptions in the database, each in its own short transaction."""

    async def record(event: Decryption) -> None:
        async with store.transaction() as conn:
            await audit_in(conn, event)

    return record


def _new_version(
    account_id: str, version: int, username: str, has_totp: bool, now: datetime
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
        created_at=now,
    )


async def seal_login(
    vault: Vault, account_id: str, password: Secret, totp_secret: Secret | None
) -> SealedRecord:
    """Seal a login for the account (before the transaction that stores it: sealing does not
    depend on the version number)."""
    return await vault.seal(_login_payload(password, totp_secret), account_id, Purpose.PORTAL_LOGIN)


async def store_version(
    conn: Connection,
    account_id: str,
    username: str,
    record: SealedRecord,
    *,
    has_totp: bool,
    now: datetime,
) -> credential_rows.CredentialVersion:
    """Make a new credential version current. The one before becomes `previous` (kept for a
    manual rollback); anything older is shredded, and so is the saved portal session."""
    version = await credential_rows.max_version(conn, account_id) + 1
    credential = _new_version(account_id, version, username, has_totp, now)
    for old in await credential_rows.list_credentials(conn, account_id):
        if old.state == CredentialState.CURRENT:
            await credential_rows.set_state(conn, old.id, CredentialState.PREVIOUS)
        else:
            # Only one version back is kept: older ones are shredded.
            await credential_rows.delete_credential(conn, old.id)
            await sealed.delete_sealed(conn, old.sealed_id)
    await browser_sessions.forget_session(conn, account_id)
    await sealed.insert_sealed(
        conn,
        sealed_id=credential.sealed_id,
        account_id=account_id,
        purpose=Purpose.PORTAL_LOGIN,
        record=record,
        now=now,
    )
    await credential_rows.insert_credential(conn, credential)
    return credential


async def restore_previous(conn: Connection, account_id: str) -> credential_rows.CredentialVersion:
    """Make the previous credential version current again; the one rolled back from becomes
    `previous`, so a rollback can itself be undone."""
    previous = await credential_rows.credential_in_state(conn, account_id, CredentialState.PREVIOUS)
    current = await credential_rows.credential_in_state(conn, account_id, CredentialState.CURRENT)
    if previous is None or current is None:
        raise ConflictError("there is no previous credential version to roll back to")
    await credential_rows.set_state(conn, current.id, CredentialState.PREVIOUS)
    await credential_rows.set_state(conn, previous.id, CredentialState.CURRENT)
    await browser_sessions.forget_session(conn, account_id)
    return previous


async def reveal_login(
    store: Store, vault: Vault, account_id: str, *, reason: str, version: int | None = None
) -> PortalLogin:
    """Decrypt the current login of an account (audited), or the given version of it (a run
    that opened with one version signs in with that one). Use it at once; do not keep it."""
    async with store.read() as conn:
        if version is None:
            current = await credential_rows.credential_in_state(
                conn, account_id, CredentialState.CURRENT
            )
        else:
            current = next(
                (
                    c
                    for c in await credential_rows.list_credentials(conn, account_id)
                    if c.version == version
                ),
                None,
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
