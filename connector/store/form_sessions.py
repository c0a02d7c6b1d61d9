"""Form sessions in the database (`form_sessions`): one row per link, found by token hash."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from connector.store.ids import new_id
from connector.store.schema import form_sessions

#: Expired rows are kept this long (a late click still gets "expired", not "not valid").
KEEP_EXPIRED = timedelta(days=7)


@dataclass(frozen=True)
class FormSession:
    id: str
    vendor: str
    practice_id: str | None
    account_id: str | None
    locale: str | None
    return_url: str | None
    outcome: str | None
    created_at: datetime
    expires_at: datetime
    consumed_at: datetime | None
    #: The dentist's IANA time zone, when the TPS gave it (else the language's).
    timezone: str | None = None

    def expired(self, now: datetime) -> bool:
        return now >= self.expires_at

    @property
    def consumed(self) -> bool:
        return self.consumed_at is not None

    def __repr__(self) -> str:  # the return URL is the TPS's business; keep reprs short
        return f"FormSession({self.id!r}, vendor={self.vendor!r})"


def token_hash(token: str) -> str:
    """Only this hash of a link's token is stored: the token itself is a capability."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def _session(row: sa.Row[Any]) -> FormSession:
    m = row._mapping
    return FormSession(
        id=m["id"],
        vendor=m["vendor"],
        practice_id=m["practice_id"],
        account_id=m["account_id"],
        locale=m["locale"],
        return_url=m["return_url"],
        outcome=m["outcome"],
        created_at=m["created_at"],
        expires_at=m["expires_at"],
        consumed_at=m["consumed_at"],
        timezone=m["timezone"],
    )


async def insert_session(
    conn: AsyncConnection,
    *,
    token: str,
    vendor: str,
    practice_id: str | None,
    account_id: str | None,
    locale: str | None,
    return_url: str | None,
    now: datetime,
    ttl: timedelta,
    timezone: str | None = None,
) -> FormSession:
    session_id = new_id("fs")
    await conn.execute(
        form_sessions.insert().values(
            id=session_id,
            token_hash=token_hash(token),
            vendor=vendor,
            practice_id=practice_id,
            account_id=account_id,
            locale=locale,
            return_url=return_url,
            timezone=timezone,
            created_at=now,
            updated_at=now,
            expires_at=now + ttl,
        )
    )
    found = await get_session(conn, session_id)
    assert found is not None
    return found


async def get_session(conn: AsyncConnection, session_id: str) -> FormSession | None:
    row = (
        await conn.execute(sa.select(form_sessions).where(form_sessions.c.id == session_id))
    ).first()
    return _session(row) if row else None


async def find_by_token(conn: AsyncConnection, token: str) -> FormSession | None:
    if not token or len(token) > 200:
        return None
    query = sa.select(form_sessions).where(form_sessions.c.token_hash == token_hash(token))
    row = (await conn.execute(query)).first()
    return _session(row) if row else None


async def set_account(
    conn: AsyncConnection, session_id: str, account_id: str, now: datetime
) -> None:
    await conn.execute(
        form_sessions.update()
        .where(form_sessions.c.id == session_id)
        .values(account_id=account_id, updated_at=now)
    )


async def record_outcome(
    conn: AsyncConnection, session_id: str, outcome: str, now: datetime, *, final: bool
) -> bool:
    """Write the outcome; a final one consumes the link. False when it was already consumed."""
    values: dict[str, Any] = {"outcome": outcome, "updated_at": now}
    if final:
        values["consumed_at"] = now
    result = await conn.execute(
        form_sessions.update()
        .where(form_sessions.c.id == session_id, form_sessions.c.consumed_at.is_(None))
        .values(**values)
    )
    return bool(result.rowcount)


async def purge_expired(conn: AsyncConnection, now: datetime) -> int:
    result = await conn.execute(
        form_sessions.delete().where(form_sessions.c.expires_at < now - KEEP_EXPIRED)
    )
    return int(result.rowcount or 0)
