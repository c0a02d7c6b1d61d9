"""Per-account sync leases: one sync per account at a time, in every mode.

The embedded scheduler and distributed workers both take the same row, so whatever runs a sync,
two of them never overlap on one account. A lease expires, so a holder that dies without
releasing it blocks the account only until `expires_at`.
"""

from __future__ import annotations

import os
import socket
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from connector.store.dialect import upsert
from connector.store.driver import driver_plan
from connector.store.schema import sync_leases, sync_runs


def _dead_local_holder(holder: str) -> bool:
    """A holder `host:pid:...` on this machine whose process no longer exists."""
    parts = holder.split(":")
    if len(parts) < 2 or parts[0] != socket.gethostname() or not parts[1].isdigit():
        return False
    pid = int(parts[1])
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


#: Built once, like `_RENEW` (every lease taken reads it).
_HOLDER = sa.select(sync_leases.c.holder).where(
    sync_leases.c.account_id == sa.bindparam("b_account")
)
_RELEASE = sync_leases.delete().where(
    sync_leases.c.account_id == sa.bindparam("b_account"),
    sync_leases.c.holder == sa.bindparam("b_holder"),
)


async def reap_dead_holder(conn: AsyncConnection, account_id: str, now: datetime) -> bool:
    """Free a lease whose holder died on this machine (a killed process cannot release it),
    and mark that holder's unfinished run abandoned. Holders on other machines are left to
    their lease's expiry."""
    row = await driver_plan(_HOLDER, conn.dialect).first(conn, {"b_account": account_id})
    if row is None or not _dead_local_holder(row["holder"]):
        return False
    holder = row["holder"]
    await conn.execute(
        sync_leases.delete().where(
            sync_leases.c.account_id == account_id, sync_leases.c.holder == holder
        )
    )
    await conn.execute(
        sync_runs.update()
        .where(
            sync_runs.c.account_id == account_id,
            sync_runs.c.holder == holder,
            sync_runs.c.outcome == "running",
        )
        .values(outcome="abandoned", error="the process holding the lease died", finished_at=now)
    )
    return True


async def acquire_lease(
    conn: AsyncConnection, account_id: str, holder: str, ttl: timedelta, now: datetime
) -> bool:
    """Take (or re-take) the lease; False when another holder's lease has not expired."""
    statement = _ACQUIRE.get(conn.dialect.name)
    if statement is None:
        statement = _ACQUIRE[conn.dialect.name] = _acquire(conn)
    params = {"v_account": account_id, "v_holder": holder, "v_at": now, "v_expires": now + ttl}
    rows = await driver_plan(statement, conn.dialect).rows(conn, params)
    return bool(rows) and rows[0][0] == holder


def _acquire(conn: AsyncConnection) -> Any:
    insert = upsert(conn, sync_leases).values(
        account_id=sa.bindparam("v_account"),
        holder=sa.bindparam("v_holder"),
        acquired_at=sa.bindparam("v_at"),
        expires_at=sa.bindparam("v_expires"),
    )
    return insert.on_conflict_do_update(
        index_elements=[sync_leases.c.account_id],
        set_={
            "holder": insert.excluded.holder,
            "acquired_at": insert.excluded.acquired_at,
            "expires_at": insert.excluded.expires_at,
        },
        where=(sync_leases.c.expires_at <= insert.excluded.acquired_at)
        | (sync_leases.c.holder == insert.excluded.holder),
    ).returning(sync_leases.c.holder)


#: `acquire_lease`'s upsert per dialect, built once (its construction and cache key cost more
#: than running it on SQLite).
_ACQUIRE: dict[str, Any] = {}


_RENEW = (
    sync_leases.update()
    .where(
        sync_leases.c.account_id == sa.bindparam("b_account"),
        sync_leases.c.holder == sa.bindparam("b_holder"),
    )
    .values(expires_at=sa.bindparam("b_expires"))
)


async def renew_lease(
    conn: AsyncConnection, account_id: str, holder: str, ttl: timedelta, now: datetime
) -> bool:
    """Extend our lease; False when it is no longer ours. Runs once per synced case, so the
    statement is built once."""
    params = {"b_account": account_id, "b_holder": holder, "b_expires": now + ttl}
    return bool(await driver_plan(_RENEW, conn.dialect).rowcount(conn, params))


async def release_lease(conn: AsyncConnection, account_id: str, holder: str) -> bool:
    params = {"b_account": account_id, "b_holder": holder}
    return bool(await driver_plan(_RELEASE, conn.dialect).rowcount(conn, params))
