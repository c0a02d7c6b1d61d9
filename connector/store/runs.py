"""Sync runs: the history of every sync of an account (counts, duration, outcome, error)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from connector.domain import SyncRun
from connector.store.driver import driver_plan
from connector.store.paging import after_key
from connector.store.schema import sync_runs


def _run(row: sa.Row[Any]) -> SyncRun:
    m = row._mapping
    return SyncRun(
        id=m["id"],
        account_id=m["account_id"],
        holder=m["holder"],
        full=m["full"],
        started_at=m["started_at"],
        finished_at=m["finished_at"],
        outcome=m["outcome"],
        counts=dict(m["counts"] or {}),
        error=m["error"],
        details=dict(m["details"] or {}),
    )


async def start_run(
    conn: AsyncConnection, *, run_id: str, account_id: str, holder: str, full: bool, now: datetime
) -> None:
    await driver_plan(_INSERT, conn.dialect).rowcount(
        conn,
        {
            "id": run_id,
            "account_id": account_id,
            "holder": holder,
            "full": full,
            "started_at": now,
            "outcome": "running",
            "counts": {},
        },
    )


#: Built once (a run's start and end) and run as driver plans.
_INSERT = sync_runs.insert().values(
    {
        name: sa.bindparam(name)
        for name in ("id", "account_id", "holder", "full", "started_at", "outcome", "counts")
    }
)
_FINISH = (
    sync_runs.update()
    .where(sync_runs.c.id == sa.bindparam("b_id"))
    .values(
        {
            name: sa.bindparam(f"v_{name}")
            for name in ("outcome", "counts", "error", "finished_at", "details")
        }
    )
)


async def finish_run(
    conn: AsyncConnection,
    run_id: str,
    *,
    outcome: str,
    counts: dict[str, int],
    error: str | None,
    now: datetime,
    details: dict[str, list[str]] | None = None,
) -> None:
    await driver_plan(_FINISH, conn.dialect).rowcount(
        conn,
        {
            "b_id": run_id,
            "v_outcome": outcome,
            "v_counts": counts,
            "v_error": error,
            "v_finished_at": now,
            "v_details": details,
        },
    )


async def list_runs(
    conn: AsyncConnection,
    account_id: str,
    limit: int = 50,
    *,
    before: tuple[datetime, str] | None = None,
) -> list[SyncRun]:
    """An account's runs, newest first; `before` is the (started_at, id) of the last one seen."""
    query = (
        sa.select(sync_runs)
        .where(sync_runs.c.account_id == account_id)
        .order_by(sync_runs.c.started_at.desc(), sync_runs.c.id.desc())
        .limit(limit)
    )
    if before is not None:
        query = query.where(
            after_key((sync_runs.c.started_at, sync_runs.c.id), before, descending=True)
        )
    return [_run(r) for r in (await conn.execute(query)).all()]
