"""Prometheus metrics: sync outcomes and durations per vendor, login attempts, webhook
deliveries, queue depth. Labels never carry account ids, usernames or patient data."""

from __future__ import annotations

import sqlalchemy as sa
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from connector.clock import utcnow
from connector.store.database import Store
from connector.store.schema import accounts, actions

REGISTRY = CollectorRegistry(auto_describe=True)

SYNCS = Counter(
    "connector_syncs_total", "Finished syncs by vendor and outcome.", ["vendor", "outcome"],
    registry=REGISTRY,
)  # fmt: skip
SYNC_SECONDS = Histogram(
    "connector_sync_duration_seconds", "Duration of syncs by vendor.", ["vendor"],
    buckets=(0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600), registry=REGISTRY,
)  # fmt: skip
LOGINS = Counter(
    "connector_portal_logins_total",
    "Password logins by vendor and outcome.",
    ["vendor", "outcome"],
    registry=REGISTRY,
)
WEBHOOKS = Counter(
    "connector_webhook_deliveries_total", "Webhook delivery attempts by outcome.", ["outcome"],
    registry=REGISTRY,
)  # fmt: skip
ACCOUNTS = Gauge(
    "connector_accounts", "Accounts by vendor and status.", ["vendor", "status"], registry=REGISTRY
)
DUE = Gauge("connector_sync_queue_depth", "Accounts whose sync is due now.", registry=REGISTRY)
WORKERS = Gauge(
    "connector_workers_alive", "Workers with a heartbeat in the last 30 s.", registry=REGISTRY
)
JOBS_WAITING = Gauge(
    "connector_jobs_waiting", "Jobs waiting in the distributed queue.", ["queue"],
    registry=REGISTRY,
)  # fmt: skip
OPEN_ACTIONS = Gauge("connector_open_actions", "Actions pending or running.", registry=REGISTRY)


async def refresh_gauges(store: Store) -> None:
    """Gauges are read from the database at scrape time (every process sees the same numbers)."""
    async with store.read() as conn:
        ACCOUNTS.clear()
        rows = (
            await conn.execute(
                sa.select(accounts.c.vendor, accounts.c.status, sa.func.count()).group_by(
                    accounts.c.vendor, accounts.c.status
                )
            )
        ).all()
        for vendor, status, count in rows:
            ACCOUNTS.labels(vendor=vendor, status=status).set(count)
        due = await conn.execute(
            sa.select(sa.func.count()).where(
                accounts.c.next_sync_at.is_not(None), accounts.c.next_sync_at <= utcnow()
            )
        )
        DUE.set(due.scalar_one())
        open_actions = await conn.execute(
            sa.select(sa.func.count()).where(actions.c.status.in_(["pending", "running"]))
        )
        OPEN_ACTIONS.set(open_actions.scalar_one())
    if not store.is_sqlite:
        from connector.worker.schema import live_workers, waiting_jobs

        WORKERS.set(await live_workers(store))
        JOBS_WAITING.clear()
        for queue, count in (await waiting_jobs(store)).items():
            JOBS_WAITING.labels(queue=queue).set(count)
