"""Retention: health data is not kept longer than needed.

- Cases the portal no longer shows (`removed_at` set by a complete full listing) are kept for
  `sync.removed_case_retention_days`, then purged with their setups and comments.
- Events (and their webhook deliveries) older than `sync.event_retention_days` are purged,
  except those still waiting for delivery: the change feed then starts at the oldest kept.
- Files of purged cases go with them; their blobs, no longer referenced, are then removed
  (`connector.files.sweep`), and so is the filesystem directory of any deleted account.
- Sync runs and settled login attempts older than the same event retention are purged too (they
  hold no health data, but they need not grow forever; the failure budget and lockout live on
  the portal login, not in this history).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import structlog

from connector.clock import utcnow
from connector.files import blob_stores, sweep
from connector.settings import Settings
from connector.store import retention
from connector.store.database import Store
from connector.store.retention import Purged

__all__ = ["Purged", "purge", "purge_expired"]

_log = structlog.get_logger("connector.retention")


async def purge(
    store: Store, *, now: datetime, removed_case_retention: timedelta, event_retention: timedelta
) -> Purged:
    result = await retention.purge(
        store,
        now=now,
        removed_case_retention=removed_case_retention,
        event_retention=event_retention,
    )
    if any((result.cases, result.events, result.runs, result.login_attempts)):
        _log.info(
            "retention.purged",
            cases=result.cases,
            events=result.events,
            runs=result.runs,
            login_attempts=result.login_attempts,
        )
    return result


async def purge_expired(store: Store, settings: Settings) -> Purged:
    """`purge` with the configured retention periods, then the blobs nothing refers to."""
    result = await purge(
        store,
        now=utcnow(),
        removed_case_retention=timedelta(days=settings.sync.removed_case_retention_days),
        event_retention=timedelta(days=settings.sync.event_retention_days),
    )
    await sweep(store, blob_stores(settings, store))
    return result
