"""Saved portal sessions: which sealed record holds an account's session, and for which
credential version (a session belongs to the login that made it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from connector.store import sealed
from connector.store.dialect import upsert
from connector.store.driver import driver_plan
from connector.store.schema import browser_sessions, sealed_secrets
from vault import Purpose, SealedRecord


@dataclass(frozen=True)
class SavedSession:
    sealed_id: str
    credential_version: int
    saved_at: datetime


#: Built once: every run that restores a session reads it with its sealed record.
_WITH_RECORD = (
    sa.select(
        browser_sessions.c.sealed_id,
        browser_sessions.c.credential_version,
        browser_sessions.c.saved_at,
        sealed_secrets.c.format_version,
        sealed_secrets.c.kek_id,
        sealed_secrets.c.wrapped_key,
        sealed_secrets.c.nonce,
        sealed_secrets.c.ciphertext,
    )
    .select_from(
        browser_sessions.join(sealed_secrets, sealed_secrets.c.id == browser_sessions.c.sealed_id)
    )
    .where(browser_sessions.c.account_id == sa.bindparam("b_account"))
)
#: The upsert of `replace_session`, per dialect (each builds its own `ON CONFLICT`).
_UPSERTS: dict[str, Any] = {}


async def saved_session_with_record(
    conn: AsyncConnection, account_id: str
) -> tuple[SavedSession, SealedRecord] | None:
    """The account's saved session and its sealed record, in one read."""
    row = await driver_plan(_WITH_RECORD, conn.dialect).first(conn, {"b_account": account_id})
    if row is None:
        return None
    saved = SavedSession(row["sealed_id"], row["credential_version"], row["saved_at"])
    return saved, sealed.sealed_record(row)


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
    await sealed.insert_sealed(
        conn,
        sealed_id=sealed_id,
        account_id=account_id,
        purpose=Purpose.BROWSER_SESSION,
        record=record,
        now=now,
    )
    statement = _UPSERTS.get(conn.dialect.name)
    if statement is None:
        insert = upsert(conn, browser_sessions).values(
            {
                name: sa.bindparam(name)
                for name in ("account_id", "sealed_id", "credential_version", "saved_at")
            }
        )
        statement = insert.on_conflict_do_update(
            index_elements=[browser_sessions.c.account_id],
            set_={
                "sealed_id": insert.excluded.sealed_id,
                "credential_version": insert.excluded.credential_version,
                "saved_at": insert.excluded.saved_at,
            },
        )
        _UPSERTS[conn.dialect.name] = statement
    params = {
        "account_id": account_id,
        "sealed_id": sealed_id,
        "credential_version": credential_version,
        "saved_at": now,
    }
    await driver_plan(statement, conn.dialect).rowcount(conn, params)
    # The session row names the new record now: the one it replaced (an account has one saved
    # session) is shredded without reading its id first.
    await sealed.delete_others(conn, account_id, Purpose.BROWSER_SESSION, sealed_id)


async def forget_session(conn: AsyncConnection, account_id: str) -> None:
    """A saved portal session belongs to the login that made it: drop it with that login."""
    old = await saved_session(conn, account_id)
    if old is not None:
        await conn.execute(
            browser_sessions.delete().where(browser_sessions.c.account_id == account_id)
        )
        await sealed.delete_sealed(conn, old.sealed_id)
