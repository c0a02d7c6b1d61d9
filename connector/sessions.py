"""Saved portal sessions (cookies, storage state), sealed per account like passwords.

A session belongs to the credential version that made it: one saved under older credentials is
ignored (and dropped when the credentials change).
"""

from __future__ import annotations

from connector.clock import utcnow
from connector.store import browser_sessions, sealed
from connector.store.database import Store
from connector.store.ids import new_id
from vault import Purpose, Secret, Vault


async def load_session_state(
    store: Store, vault: Vault, account_id: str, credential_version: int
) -> Secret | None:
    async with store.read() as conn:
        saved = await browser_sessions.saved_session(conn, account_id)
        if saved is None or saved.credential_version != credential_version:
            return None
        stored = await sealed.load_sealed(conn, saved.sealed_id)
    return await vault.open(
        stored.record, account_id, Purpose.BROWSER_SESSION, reason="restore portal session"
    )


async def save_session_state(
    store: Store, vault: Vault, account_id: str, credential_version: int, state: Secret
) -> None:
    record = await vault.seal(state, account_id, Purpose.BROWSER_SESSION)
    async with store.transaction() as conn:
        await browser_sessions.replace_session(
            conn, account_id, credential_version, record, new_id("sec"), utcnow()
        )
