"""Each vendor's portal health: whether its pages look changed, and which register facts failed.

A portal change shows on every account of that vendor at once; the TPS should hear of it once
per vendor. The state is `changed` while some account's latest finished run met
`portal_changed`, and `ok` otherwise.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from connector.store.dialect import upsert
from connector.store.schema import accounts, sync_runs, vendor_health

PORTAL_CHANGED = "portal_changed"


@dataclass(frozen=True)
class Health:
    vendor: str
    state: str  # ok | changed
    facts: list[str]
    changed_at: datetime | None


@dataclass(frozen=True)
class Figures:
    """Finished runs of a vendor since some time, and those that met portal_changed."""

    runs: int
    portal_changed: int
    facts: dict[str, int]


async def stored(conn: AsyncConnection, vendor: str) -> Health:
    row = (
        await conn.execute(sa.select(vendor_health).where(vendor_health.c.vendor == vendor))
    ).first()
    if row is None:
        return Health(vendor, "ok", [], None)
    return Health(vendor, row.state, list(row.facts or []), row.changed_at)


async def _latest_runs(conn: AsyncConnection, vendor: str) -> list[Any]:
    """The latest finished run of each account of the vendor."""
    finished = sync_runs.c.outcome.in_(["succeeded", "failed"])
    newest = (
        sa.select(sync_runs.c.account_id, sa.func.max(sync_runs.c.started_at).label("at"))
        .join(accounts, accounts.c.id == sync_runs.c.account_id)
        .where(accounts.c.vendor == vendor, finished)
        .group_by(sync_runs.c.account_id)
        .subquery()
    )
    query = (
        sa.select(sync_runs.c.error, sync_runs.c.details)
        .join(
            newest,
            sa.and_(
                newest.c.account_id == sync_runs.c.account_id,
                newest.c.at == sync_runs.c.started_at,
            ),
        )
        .where(finished)
    )
    return list((await conn.execute(query)).all())


async def refresh(conn: AsyncConnection, vendor: str, now: datetime) -> Health | None:
    """Recompute the vendor's state from its accounts' latest runs; returns the new health when
    it changed (state or failing facts), None otherwise. Call in a write transaction."""
    # One decider at a time per vendor (two workers must not both announce the same change).
    await conn.execute(
        upsert(conn, vendor_health)
        .values(vendor=vendor, state="ok", facts=[], changed_at=now)
        .on_conflict_do_nothing(index_elements=[vendor_health.c.vendor])
    )
    await conn.execute(
        sa.select(vendor_health.c.vendor).where(vendor_health.c.vendor == vendor).with_for_update()
    )
    latest = await _latest_runs(conn, vendor)
    failing = [r for r in latest if r.error == PORTAL_CHANGED]
    facts = sorted({f for r in failing for f in (r.details or {}).get("failed_facts", [])})
    state = "changed" if failing else "ok"
    before = await stored(conn, vendor)
    if before.state == state and before.facts == facts:
        return None
    if before.changed_at is None and state == "ok":
        return None
    statement = upsert(conn, vendor_health).values(
        vendor=vendor, state=state, facts=facts, changed_at=now
    )
    await conn.execute(
        statement.on_conflict_do_update(
            index_elements=[vendor_health.c.vendor],
            set_={"state": state, "facts": facts, "changed_at": now},
        )
    )
    return Health(vendor, state, facts, now)


async def figures(conn: AsyncConnection, vendor: str, since: datetime) -> Figures:
    query = (
        sa.select(sync_runs.c.error, sync_runs.c.details)
        .join(accounts, accounts.c.id == sync_runs.c.account_id)
        .where(
            accounts.c.vendor == vendor,
            sync_runs.c.outcome.in_(["succeeded", "failed"]),
            sync_runs.c.started_at >= since,
        )
    )
    rows = (await conn.execute(query)).all()
    facts: Counter[str] = Counter()
    changed = 0
    for row in rows:
        if row.error == PORTAL_CHANGED:
            changed += 1
            facts.update((row.details or {}).get("failed_facts", []))
    return Figures(len(rows), changed, dict(facts))
