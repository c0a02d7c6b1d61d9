"""Counts for the gauges `/metrics` shows (no account or patient data)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from connector.store.schema import (
    accounts,
    actions,
    cases,
    events,
    setups,
    webhook_deliveries,
)


@dataclass(frozen=True)
class Gauges:
    accounts: dict[tuple[str, str], int]  # (vendor, status) -> accounts
    due: int  # accounts whose sync is due now
    open_actions: int  # actions pending or running
    last_sync: dict[str, datetime]  # vendor -> the latest successful sync of any of its accounts


async def gauges(conn: AsyncConnection, now: datetime) -> Gauges:
    rows = (
        await conn.execute(
            sa.select(accounts.c.vendor, accounts.c.status, sa.func.count()).group_by(
                accounts.c.vendor, accounts.c.status
            )
        )
    ).all()
    due = await conn.execute(
        sa.select(sa.func.count()).where(
            accounts.c.next_sync_at.is_not(None), accounts.c.next_sync_at <= now
        )
    )
    open_actions = await conn.execute(
        sa.select(sa.func.count()).where(actions.c.status.in_(["pending", "running"]))
    )
    last = await conn.execute(
        sa.select(accounts.c.vendor, sa.func.max(accounts.c.last_sync_at))
        .where(accounts.c.last_sync_at.is_not(None))
        .group_by(accounts.c.vendor)
    )
    return Gauges(
        {(str(v), str(s)): int(c) for v, s, c in rows},
        int(due.scalar_one()),
        int(open_actions.scalar_one()),
        {str(v): at for v, at in last.all() if at is not None},
    )


async def webhook_backlog(conn: AsyncConnection) -> dict[str, tuple[int, datetime]]:
    """Per endpoint: deliveries waiting, and the time of the oldest event among them."""
    query = (
        sa.select(webhook_deliveries.c.endpoint, sa.func.count(), sa.func.min(events.c.created_at))
        .select_from(webhook_deliveries.join(events, webhook_deliveries.c.event_id == events.c.id))
        .where(webhook_deliveries.c.status == "pending")
        .group_by(webhook_deliveries.c.endpoint)
    )
    return {str(e): (int(n), oldest) for e, n, oldest in (await conn.execute(query)).all()}


@dataclass(frozen=True)
class AccountSummary:
    cases: int
    setups_in_review: int
    unread_comments: int


async def account_summary(conn: AsyncConnection, account_id: str) -> AccountSummary:
    """What the TPS knows of one account: live cases, setups awaiting review, unread comments."""
    live = sa.and_(cases.c.account_id == account_id, cases.c.removed_at.is_(None))
    count = (await conn.execute(sa.select(sa.func.count()).where(live))).scalar_one()
    unread = (
        await conn.execute(
            sa.select(sa.func.coalesce(sa.func.sum(cases.c.unread_comments), 0)).where(live)
        )
    ).scalar_one()
    review = (
        await conn.execute(
            sa.select(sa.func.count())
            .select_from(setups.join(cases, setups.c.case_id == cases.c.id))
            .where(live, setups.c.state == "in_review")
        )
    ).scalar_one()
    return AccountSummary(int(count), int(review), int(unread))
