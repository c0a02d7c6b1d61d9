"""Procrastinate's tables beside ours: whether they exist, live workers, waiting jobs."""

from __future__ import annotations

import sqlalchemy as sa

from connector.store.database import Store


async def procrastinate_installed(store: Store) -> bool:
    async with store.read() as conn:
        found = await conn.execute(sa.text("SELECT to_regclass('procrastinate_jobs') IS NOT NULL"))
        return bool(found.scalar_one())


async def live_workers(store: Store, seconds: float = 30) -> int:
    """Workers with a heartbeat in the last `seconds` (0 when procrastinate is not installed)."""
    if store.is_sqlite or not await procrastinate_installed(store):
        return 0
    async with store.read() as conn:
        found = await conn.execute(
            sa.text(
                "SELECT count(*) FROM procrastinate_workers "
                "WHERE last_heartbeat > now() - make_interval(secs => :s)"
            ),
            {"s": seconds},
        )
        return int(found.scalar_one())


async def waiting_jobs(store: Store) -> dict[str, int]:
    """Jobs waiting per queue (the distributed queue depth)."""
    if store.is_sqlite or not await procrastinate_installed(store):
        return {}
    async with store.read() as conn:
        rows = await conn.execute(
            sa.text(
                "SELECT queue_name, count(*) FROM procrastinate_jobs "
                "WHERE status = 'todo' GROUP BY queue_name"
            )
        )
        return {str(queue): int(n) for queue, n in rows.all()}
