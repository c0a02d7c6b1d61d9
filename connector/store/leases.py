"""Per-account sync leases: one sync per account at a time, in every mode.

The embedded scheduler and distributed workers both take the same row, so whatever runs a sync,
two of them never overlap on one account. A lease expires, so a holder that dies without
releasing it blocks the account only until `expires_at`.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncConnection

from connector.store.dialect import upsert
from connector.store.schema import sync_leases


async def acquire_lease(
    conn: AsyncConnection, account_id: str, holder: str, ttl: timedelta, now: datetime
) -> bool:
    """Take (or re-take) the lease; False when another holder's lease has not expired."""
    statement = upsert(conn, sync_leases).values(
        account_id=account_id, holder=holder, acquired_at=now, expires_at=now + ttl
    )
    statement = statement.on_conflict_do_update(
        index_elements=[sync_leases.c.account_id],
        set_={
            "holder": statement.excluded.holder,
            "acquired_at": statement.excluded.acquired_at,
            "expires_at": statement.excluded.expires_at,
        },
        where=(sync_leases.c.expires_at <= now) | (sync_leases.c.holder == holder),
    ).returning(sync_leases.c.holder)
    row = (await conn.execute(statement)).first()
    return row is not None and row[0] == holder


async def renew_lease(
    conn: AsyncConnection, account_id: str, holder: str, ttl: timedelta, now: datetime
) -> bool:
    result = await conn.execute(
        sync_leases.update()
        .where(sync_leases.c.account_id == account_id, sync_leases.c.holder == holder)
        .values(expires_at=now + ttl)
    )
    return bool(result.rowcount)


async def release_lease(conn: AsyncConnection, account_id: str, holder: str) -> bool:
    result = await conn.execute(
        sync_leases.delete().where(
            sync_leases.c.account_id == account_id, sync_leases.c.holder == holder
        )
    )
    return bool(result.rowcount)
