"""Saved portal sessions: which sealed record holds an account's session, and for which
credential version (a session belongs to the login that made it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from connector.store import sealed
from connector.store.dialect import upsert
from connector.store.schema import browser_sessions
from vault import Purpose, SealedRecord


@dataclass(frozen=True)
class SavedSession:
    sealed_id: str
    credential_version: int
    saved_at: datetime


async def saved_session(conn: AsyncConnection, account_id: str) -> SavedSession | None:
    row = (
        await conn.execute(
            sa.select(browser_sessions).where(browser_sessions.c.account_id == account_id)
        )
    ).first()
    if row is None:
        return None
    return SavedSession(row.sealed_id, row.credential_version, row.saved_at)


async def replace_session(
    conn: AsyncConnection,
    account_id: str,
    credential_version: int,
    record: SealedRecord,
    sealed_id: str,
    now: datetime,
) -> None:
    """Store a sealed session for the account, shredding the one it replaces."""
    old = await saved_session(conn, account_id)
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
        await sealed.delete_sealed(conn, old.sealed_id)


async def forget_session(conn: AsyncConnection, account_id: str) -> None:
    """A saved portal session belongs to the login that made it: drop it with that login."""
    old = await saved_session(conn, account_id)
    if old is not None:
        await conn.execute(
            browser_sessions.delete().where(browser_sessions.c.account_id == account_id)
        )
        await sealed.delete_sealed(conn, old.sealed_id)
