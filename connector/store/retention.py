"""Retention purges in small batches (see `connector.retention` for the policy)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from connector.store.database import Store
from connector.store.schema import cases, events, login_attempts, sync_runs, webhook_deliveries

BATCH = 1000


@dataclass(frozen=True)
class Purged:
    cases: int
    events: int
    runs: int
    login_attempts: int


async def _delete_in_batches(
    store: Store, table: sa.Table, key: sa.Column[object], where: sa.ColumnElement[bool]
) -> int:
    """Delete in small transactions, so a large purge never holds the write lock for long."""
    total = 0
    while True:
        async with store.transaction() as conn:
            ids = (await conn.execute(sa.select(key).where(where).limit(BATCH))).scalars().all()
            if not ids:
                return total
            await conn.execute(table.delete().where(key.in_(ids)))
        total += len(ids)


async def purge(
    store: Store, *, now: datetime, removed_case_retention: timedelta, event_retention: timedelta
) -> Purged:
    removed = await _delete_in_batches(
        store,
        cases,
        cases.c.id,
        sa.and_(cases.c.removed_at.is_not(None), cases.c.removed_at < now - removed_case_retention),
    )
    pending = sa.select(webhook_deliveries.c.event_id).where(
        webhook_deliveries.c.status == "pending"
    )
    old_events = await _delete_in_batches(
        store,
        events,
        events.c.seq,
        sa.and_(events.c.created_at < now - event_retention, events.c.id.not_in(pending)),
    )
    runs = await _delete_in_batches(
        store,
        sync_runs,
        sync_runs.c.id,
        sa.and_(sync_runs.c.started_at < now - event_retention, sync_runs.c.outcome != "running"),
    )
    # The budget lives on `portal_logins`: settled history can go; a pending attempt is a
    # decision still to be made, and stays.
    attempts = await _delete_in_batches(
        store,
        login_attempts,
        login_attempts.c.id,
        sa.and_(login_attempts.c.at < now - event_retention, login_attempts.c.outcome != "pending"),
    )
    return Purged(removed, old_events, runs, attempts)
