"""Saved portal sessions (cookies, storage state), sealed per account like passwords.

A session belongs to the credential version that made it: one saved under older credentials is
ignored (and dropped when the credentials change).
"""

from __future__ import annotations

import sqlalchemy as sa

from connector.clock import utcnow
from connector.store import sealed
from connector.store.database import Store
from connector.store.dialect import upsert
from connector.store.ids import new_id
from connector.store.schema import browser_sessions
from vault import Purpose, Secret, Vault


async def load_session_state(
    store: Store, vault: Vault, account_id: str, credential_version: int
) -> Secret | None:
    async with store.read() as conn:
        row = (
            await conn.execute(
                sa.select(browser_sessions).where(browser_sessions.c.account_id == account_id)
            )
        ).first()
        if row is None or row.credential_version != credential_version:
            return None
        stored = await sealed.load_sealed(conn, row.sealed_id)
    return await vault.open(
        stored.record, account_id, Purpose.BROWSER_SESSION, reason="restore portal session"
    )


async def save_session_state(
    store: Store, vault: Vault, account_id: str, credential_version: int, state: Secret
) -> None:
    record = await vault.seal(state, account_id, Purpose.BROWSER_SESSION)
    sealed_id = new_id("sec")
    now = utcnow()
    async with store.transaction() as conn:
        old = (
            await conn.execute(
                sa.select(browser_sessions.c.sealed_id).where(
                    browser_sessions.c.account_id == account_id
                )
            )
        ).scalar_one_or_none()
        await sealed.insert_sealed(
            conn,
            sealed_id=sealed_id,
            account_id=account_id,
            purpose=Purpose.BROWSER_SESSION,
            record=record,
            now=now,
        )
        statement = upsert(conn, browser_sessions).values(
            account_id=account_id,
            sealed_id=sealed_id,
            credential_version=credential_version,
            saved_at=now,
        )
        await conn.execute(
            statement.on_conflict_do_update(
                index_elements=[browser_sessions.c.account_id],
                set_={
                    "sealed_id": sealed_id,
                    "credential_version": credential_version,
                    "saved_at": now,
                },
            )
        )
        if old is not None:
            await sealed.delete_sealed(conn, old)
