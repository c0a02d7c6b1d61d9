"""Prometheus metrics. Labels are vendors, outcomes, statuses and webhook endpoint names: never
account ids, usernames or patient data.

Counters count what this process did (each `serve` and `worker` serves its own `/metrics`), so
sum them over instances. Gauges are read from the database when scraped and are the same in every
process: take `max` over instances, not the sum.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from connector.clock import utcnow
from connector.store import stats
from connector.store.database import Store

REGISTRY = CollectorRegistry(auto_describe=True)

SYNCS = Counter(
    "connector_syncs_total",
    "Finished sync runs by vendor and outcome (succeeded, failed, skipped, abandoned).",
    ["vendor", "outcome"],
    registry=REGISTRY,
)
SYNC_SECONDS = Histogram(
    "connector_sync_duration_seconds",
    "Duration of sync runs that tried something (succeeded or failed), by vendor.",
    ["vendor"],
    buckets=(0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800),
    registry=REGISTRY,
)
LOGINS = Counter(
    "connector_portal_logins_total",
    "Sign-in steps (password or code) syncs sent to a portal, by vendor and outcome "
    "(succeeded, accepted, failed, transient, not_counted).",
    ["vendor", "outcome"],
    registry=REGISTRY,
)
WEBHOOKS = Counter(
    "connector_webhook_deliveries_total",
    "Webhook delivery attempts by endpoint and outcome (delivered, retrying, failed).",
    ["endpoint", "outcome"],
    registry=REGISTRY,
)
WEBHOOK_LAG = Histogram(
    "connector_webhook_delivery_lag_seconds",
    "Time from an event to its successful delivery, by endpoint.",
    ["endpoint"],
    buckets=(0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600, 21600, 86400),
    registry=REGISTRY,
)
ACCOUNTS = Gauge(
    "connector_accounts", "Accounts by vendor and status.", ["vendor", "status"], registry=REGISTRY
)
DUE = Gauge(
    "connector_sync_queue_depth", "Accounts whose sync is due now (not yet started).",
    registry=REGISTRY,
)  # fmt: skip
LAST_SYNC_AGE = Gauge(
    "connector_last_sync_age_seconds",
    "Seconds since the last successful sync of any account of the vendor.",
    ["vendor"],
    registry=REGISTRY,
)
WEBHOOKS_PENDING = Gauge(
    "connector_webhook_deliveries_pending",
    "Deliveries waiting (new or to be retried) by endpoint.",
    ["endpoint"],
    registry=REGISTRY,
)
WEBHOOK_OLDEST = Gauge(
    "connector_webhook_oldest_pending_seconds",
    "Age of the oldest event still waiting for delivery, by endpoint.",
    ["endpoint"],
    registry=REGISTRY,
)
WORKERS = Gauge(
    "connector_workers_alive", "Workers with a heartbeat in the last 30 s.", registry=REGISTRY
)
JOBS_WAITING = Gauge(
    "connector_jobs_waiting", "Jobs waiting in the distributed queue.", ["queue"],
    registry=REGISTRY,
)  # fmt: skip
OPEN_ACTIONS = Gauge("connector_open_actions", "Actions pending or running.", registry=REGISTRY)

#: Outcomes of runs that tried something: their duration is worth a histogram.
_TIMED_OUTCOMES = frozenset({"succeeded", "failed"})


def count_sync(vendor: str, outcome: str, seconds: float) -> None:
    SYNCS.labels(vendor=vendor, outcome=outcome).inc()
    if outcome in _TIMED_OUTCOMES:
        SYNC_SECONDS.labels(vendor=vendor).observe(seconds)


def count_sign_ins(vendor: str, outcomes: list[str]) -> None:
    for outcome in outcomes:
        LOGINS.labels(vendor=vendor, outcome=outcome).inc()


def count_delivery(endpoint: str, outcome: str, lag_seconds: float | None = None) -> None:
    WEBHOOKS.labels(endpoint=endpoint, outcome=outcome).inc()
    if lag_seconds is not None:
        WEBHOOK_LAG.labels(endpoint=endpoint).observe(max(lag_seconds, 0.0))


async def refresh_gauges(store: Store) -> None:
    """Gauges are read from the database at scrape time (every process sees the same numbers)."""
    now = utcnow()
    async with store.read() as conn:
        gauges = await stats.gauges(conn, now)
        backlog = await stats.webhook_backlog(conn)
    ACCOUNTS.clear()
    for (vendor, status), count in gauges.accounts.items():
        ACCOUNTS.labels(vendor=vendor, status=status).set(count)
    DUE.set(gauges.due)
    OPEN_ACTIONS.set(gauges.open_actions)
    LAST_SYNC_AGE.clear()
    for vendor, last in gauges.last_sync.items():
        LAST_SYNC_AGE.labels(vendor=vendor).set(max((now - last).total_seconds(), 0.0))
    WEBHOOKS_PENDING.clear()
    WEBHOOK_OLDEST.clear()
    for endpoint, (pending, oldest) in backlog.items():
        WEBHOOKS_PENDING.labels(endpoint=endpoint).set(pending)
        WEBHOOK_OLDEST.labels(endpoint=endpoint).set(max((now - oldest).total_seconds(), 0.0))
    if not store.is_sqlite:
        from connector.store.jobs import live_workers, waiting_jobs

        WORKERS.set(await live_workers(store))
        JOBS_WAITING.clear()
        for queue, count in (await waiting_jobs(store)).items():
            JOBS_WAITING.labels(queue=queue).set(count)


async def render(store: Store) -> bytes:
    """The Prometheus text page: gauges refreshed now, counters as this process has them."""
    await refresh_gauges(store)
    return generate_latest(REGISTRY)
