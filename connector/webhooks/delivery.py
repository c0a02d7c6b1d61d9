"""Sending webhooks: at least once, signed, retried with backoff, then kept as failed.

One pass (`deliver_due`): stamp feed positions, create deliveries for new events, claim the due
ones, POST them with bounded concurrency, settle each. A 2xx answer is delivered; any other
answer or a transport error (refused, reset, timeout) is retried after an exponential backoff
with jitter until `max_age_hours` after the event, and then marked `failed` (still replayable).

Logs name the event id and type, the endpoint, the status code and the attempt: never the event
data (it can name patients), the URL (it may carry a receiver's token), a secret or a signature.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

import httpx
import structlog

from connector import metrics
from connector.clock import utcnow
from connector.settings import WebhookEndpointSettings, WebhooksSettings
from connector.store.database import Store
from connector.store.deliveries import (
    Delivery,
    claim_due,
    enqueue_new_events,
    mark_attempt_failed,
    mark_delivered,
)
from connector.store.events import Event
from connector.store.feed import stamp_positions
from connector.webhooks.signature import EVENT_ID_HEADER, SIGNATURE_HEADER, signature_header

_log = structlog.get_logger("connector.webhooks")

USER_AGENT = "tps-connector-webhooks/1"
Clock = Callable[[], datetime]


@dataclass
class DeliveryCounters:
    """What a metrics endpoint would expose: totals since the process started."""

    delivered: int = 0
    retried: int = 0
    failed: int = 0
    enqueued: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def event_body(event: Event) -> bytes:
    """The exact bytes POSTed (and signed): `{id, type, created_at, data}` as compact JSON."""
    return json.dumps(event.to_json(), separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def retry_delay(
    attempts: int, webhooks: WebhooksSettings, rng: random.Random | None = None
) -> float:
    """Seconds before the next attempt after `attempts` failed ones: base * 2^(n-1), capped, and
    spread over its upper half so that many failed deliveries do not come back all at once."""
    exponent = min(max(attempts - 1, 0), 40)
    ceiling = min(webhooks.backoff_max_seconds, webhooks.backoff_base_seconds * 2.0**exponent)
    return ceiling * (rng or random).uniform(0.5, 1.0)


def _retry_after(response: httpx.Response, cap: float) -> float | None:
    if response.status_code not in (429, 503):
        return None
    value = response.headers.get("retry-after", "").strip()
    if not value.isascii() or not value.isdigit():
        return None
    return min(float(value), cap)


def _claim_time(webhooks: WebhooksSettings, batch: int) -> timedelta:
    """Long enough for a whole claimed batch to be attempted, with room to spare."""
    rounds = -(-batch // webhooks.concurrency)
    return timedelta(seconds=rounds * webhooks.timeout_seconds + 60)


async def _post(
    client: httpx.AsyncClient,
    endpoint: WebhookEndpointSettings,
    delivery: Delivery,
    webhooks: WebhooksSettings,
    clock: Clock,
) -> tuple[int | None, str | None, float | None]:
    """One attempt: (status code, error code or None when delivered, server-asked delay)."""
    body = event_body(delivery.event)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        EVENT_ID_HEADER: delivery.event.id,
        SIGNATURE_HEADER: signature_header(body, endpoint.secrets, int(clock().timestamp())),
    }
    try:
        response = await client.post(
            endpoint.url, content=body, headers=headers, timeout=webhooks.timeout_seconds
        )
    except httpx.HTTPError as exc:
        # The class name only: httpx messages can quote the URL.
        return None, type(exc).__name__, None
    except httpx.InvalidURL:
        return None, "InvalidURL", None
    if 200 <= response.status_code < 300:
        return response.status_code, None, None
    # The response body is never kept: a receiver may echo the request (patient data) back.
    return (
        response.status_code,
        f"HTTP {response.status_code}",
        _retry_after(response, webhooks.backoff_max_seconds),
    )


async def _attempt(
    store: Store,
    client: httpx.AsyncClient,
    webhooks: WebhooksSettings,
    delivery: Delivery,
    counters: DeliveryCounters,
    clock: Clock,
) -> None:
    endpoint = webhooks.endpoint(delivery.endpoint)
    if endpoint is None:  # claimed for configured endpoints only; the config cannot change mid-pass
        return
    started = time.monotonic()
    status_code, error, asked_delay = await _post(client, endpoint, delivery, webhooks, clock)
    now = clock()
    fields = {
        "event_id": delivery.event.id,
        "event_type": delivery.event.type,
        "endpoint": endpoint.name,
        "status_code": status_code,
        "attempt": delivery.attempts,
        "duration_ms": round((time.monotonic() - started) * 1000),
    }
    if error is None:
        assert status_code is not None
        await mark_delivered(store, delivery.id, status_code=status_code, now=now)
        counters.delivered += 1
        lag = (now - delivery.event.created_at).total_seconds()
        metrics.count_delivery(endpoint.name, "delivered", lag)
        _log.info("webhook.delivered", **fields)
        return
    if now >= delivery.expires_at:
        await mark_attempt_failed(
            store, delivery.id, status_code=status_code, error=error, retry_at=None, now=now
        )
        counters.failed += 1
        metrics.count_delivery(endpoint.name, "failed")
        _log.warning("webhook.failed", error=error, **fields)
        return
    delay = max(retry_delay(delivery.attempts, webhooks), asked_delay or 0.0)
    retry_at = min(now + timedelta(seconds=delay), delivery.expires_at)
    await mark_attempt_failed(
        store, delivery.id, status_code=status_code, error=error, retry_at=retry_at, now=now
    )
    counters.retried += 1
    metrics.count_delivery(endpoint.name, "retrying")
    _log.info(
        "webhook.retrying",
        error=error,
        retry_in_s=round((retry_at - now).total_seconds(), 3),
        **fields,
    )


def claim_batch_size(webhooks: WebhooksSettings) -> int:
    return webhooks.concurrency * 2


async def deliver_due(
    store: Store,
    webhooks: WebhooksSettings,
    client: httpx.AsyncClient,
    *,
    counters: DeliveryCounters | None = None,
    clock: Clock = utcnow,
) -> int:
    """One delivery pass; returns how many deliveries were attempted.

    Safe to run in several processes at once on one PostgreSQL database (see `queue`).
    """
    counters = counters if counters is not None else DeliveryCounters()
    await stamp_positions(store)
    if not webhooks.endpoints:
        return 0
    now = clock()
    counters.enqueued += await enqueue_new_events(store, webhooks, now)
    batch = claim_batch_size(webhooks)
    claimed = await claim_due(
        store,
        [e.name for e in webhooks.endpoints],
        now=now,
        limit=batch,
        claim_for=_claim_time(webhooks, batch),
    )
    if not claimed:
        return 0
    limit = asyncio.Semaphore(webhooks.concurrency)

    async def attempt(delivery: Delivery) -> None:
        async with limit:
            await _attempt(store, client, webhooks, delivery, counters, clock)

    async with asyncio.TaskGroup() as group:
        for delivery in claimed:
            group.create_task(attempt(delivery))
    return len(claimed)


def new_client(webhooks: WebhooksSettings) -> httpx.AsyncClient:
    """The HTTP client deliveries use: no redirects followed (a 3xx is a failed attempt)."""
    return httpx.AsyncClient(
        follow_redirects=False,
        timeout=webhooks.timeout_seconds,
        headers={"User-Agent": USER_AGENT},
        limits=httpx.Limits(max_connections=webhooks.concurrency * 2),
    )


class DeliveryLoop:
    """Runs delivery passes until told to stop (for `serve` and `worker`).

    Passes follow each other at once while there is a backlog, otherwise every `poll_seconds`.
    A failing pass (the database restarting, say) is logged and tried again next time.
    """

    def __init__(
        self,
        store: Store,
        webhooks: WebhooksSettings,
        *,
        client: httpx.AsyncClient | None = None,
        clock: Clock = utcnow,
    ) -> None:
        self.store = store
        self.webhooks = webhooks
        self.counters = DeliveryCounters()
        self._client = client
        self._clock = clock
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Something was queued (a replay, say): look at once, not at the next poll."""
        self._wake.set()

    async def run_once(self, client: httpx.AsyncClient) -> int:
        return await deliver_due(
            self.store, self.webhooks, client, counters=self.counters, clock=self._clock
        )

    async def run(self, stop: asyncio.Event) -> None:
        client = self._client or new_client(self.webhooks)
        try:
            while not stop.is_set():
                self._wake.clear()
                try:
                    attempted = await self.run_once(client)
                except Exception as exc:
                    _log.warning("webhook.pass_failed", error=type(exc).__name__, exc_info=True)
                    attempted = 0
                if attempted >= claim_batch_size(self.webhooks):
                    continue  # a backlog: next batch at once
                waiters = [
                    asyncio.ensure_future(stop.wait()),
                    asyncio.ensure_future(self._wake.wait()),
                ]
                await asyncio.wait(
                    waiters, timeout=self.webhooks.poll_seconds, return_when=asyncio.FIRST_COMPLETED
                )
                for waiter in waiters:
                    waiter.cancel()
        finally:
            if self._client is None:
                await client.aclose()
