"""Saved portal sessions (cookies, storage state), sealed per account like passwords.

A session belongs to the credential version that made it: one saved under older credentials is
ignored (and dropped when the credentials change).
"""

from __future__ import annotations

from dataclasses import dataclass

from connector.clock import utcnow
from connector.credentials import audit_in
from connector.store import Connection, browser_sessions
from connector.store.database import Store
from connector.store.ids import new_id
from vault import AuditReceipt, Decryption, Purpose, SealedRecord, Secret, Vault

#: Why a saved session is decrypted (the audit row's reason).
RESTORE_REASON = "restore portal session"


@dataclass(frozen=True)
class SavedSession:
    """A saved session read, and its decryption audited, inside the caller's transaction."""

    account_id: str
    record: SealedRecord
    receipt: AuditReceipt

    async def open(self, vault: Vault) -> Secret:
        """Decrypt it; only after the transaction that read it has committed."""
        return await vault.open(
            self.record,
            self.account_id,
            Purpose.BROWSER_SESSION,
            reason=RESTORE_REASON,
            receipt=self.receipt,
        )


async def saved_session_in(
    conn: Connection, account_id: str, credential_version: int
) -> SavedSession | None:
    """The account's saved session for this credential version, its decryption audited in
    `conn`'s transaction; None when there is none."""
    found = await browser_sessions.saved_session_with_record(conn, account_id)
    if found is None or found[0].credential_version != credential_version:
        return None
    record = found[1]
    event = Decryption(account_id, Purpose.BROWSER_SESSION, record.kek_id, RESTORE_REASON)
    return SavedSession(account_id, record, await audit_in(conn, event))


async def load_session_state(
    store: Store, vault: Vault, account_id: str, credential_version: int
) -> Secret | None:
    async with store.transaction() as conn:
        saved = await saved_session_in(conn, account_id, credential_version)
    return await saved.open(vault) if saved is not None else None


async def seal_session_state(vault: Vault, account_id: str, state: Secret) -> SealedRecord:
    """Seal a session's state for the account (outside any transaction: sealing needs none)."""
    return await vault.seal(state, account_id, Purpose.BROWSER_SESSION)


async def store_sealed_session(
    conn: Connection, account_id: str, credential_version: int, record: SealedRecord
) -> None:
    """Make a sealed session the account's saved one in the caller's transaction, shredding
    the one it replaces."""
    await browser_sessions.replace_session(
        conn, account_id, credential_version, record, new_id("sec"), utcnow()
    )


async def save_session_state(
    store: Store, vault: Vault, account_id: str, credential_version: int, state: Secret
) -> None:
    record = await seal_session_state(vault, account_id, state)
    async with store.transaction() as conn:
        await store_sealed_session(conn, account_id, credential_version, record)
