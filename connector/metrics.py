"""Prometheus metrics: sync outcomes and durations per vendor, login attempts, webhook
deliveries, queue depth. Labels never carry account ids, usernames or patient data."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from connector.clock import utcnow
from connector.store import stats
from connector.store.database import Store

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
        gauges = await stats.gauges(conn, utcnow())
    ACCOUNTS.clear()
    for (vendor, status), count in gauges.accounts.items():
        ACCOUNTS.labels(vendor=vendor, status=status).set(count)
    DUE.set(gauges.due)
    OPEN_ACTIONS.set(gauges.open_actions)
    if not store.is_sqlite:
        from connector.store.jobs import live_workers, waiting_jobs

        WORKERS.set(await live_workers(store))
        JOBS_WAITING.clear()
        for queue, count in (await waiting_jobs(store)).items():
            JOBS_WAITING.labels(queue=queue).set(count)
