"""Retention: health data is not kept longer than needed.

- Cases the portal no longer shows (`removed_at` set by a complete full listing) are kept for
  `sync.removed_case_retention_days`, then purged with their setups and comments.
- Events (and their webhook deliveries) older than `sync.event_retention_days` are purged,
  except those still waiting for delivery: the change feed then starts at the oldest kept.
- Sync runs and login attempts older than the same event retention are purged too (they hold no
  health data, but they need not grow forever).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
import structlog

from connector.clock import utcnow
from connector.settings import Settings
from connector.store.database import Store
from connector.store.schema import cases, events, login_attempts, sync_runs, webhook_deliveries

_log = structlog.get_logger("connector.retention")
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
    attempts = await _delete_in_batches(
        store, login_attempts, login_attempts.c.id, login_attempts.c.at < now - event_retention
    )
    result = Purged(removed, old_events, runs, attempts)
    if any((removed, old_events, runs, attempts)):
        _log.info(
            "retention.purged", cases=removed, events=old_events, runs=runs, login_attempts=attempts
        )
    return result


async def purge_expired(store: Store, settings: Settings) -> Purged:
    """`purge` with the configured retention periods."""
    return await purge(
        store,
        now=utcnow(),
        removed_case_retention=timedelta(days=settings.sync.removed_case_retention_days),
        event_retention=timedelta(days=settings.sync.event_retention_days),
    )
