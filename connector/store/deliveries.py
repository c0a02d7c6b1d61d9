"""The delivery queue: one `webhook_deliveries` row per event and endpoint, in the database.

Rows are created from the change feed (by position, so an event committed late is never missed),
claimed for an attempt, and settled as delivered, retried or failed. Several processes may run
the loop on one PostgreSQL database:

- creating rows: each endpoint's row in `webhook_endpoints` is locked (`FOR UPDATE`) while its
  deliveries are created, and the unique (event, endpoint) pair makes a repeat harmless;
- claiming: due rows are selected `FOR UPDATE SKIP LOCKED`, and the same short transaction moves
  their `next_attempt_at` past the attempt's time limit. No transaction stays open during the
  HTTP request, and a process that dies mid-attempt only delays that delivery until the claim
  runs out (at-least-once).

SQLite has one writer at a time (`BEGIN IMMEDIATE`), which gives the same guarantees.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from connector.errors import InputError, NotFoundError
from connector.settings import WebhookEndpointSettings, WebhooksSettings
from connector.store.database import Store
from connector.store.dialect import upsert
from connector.store.events import Event
from connector.store.feed import read_feed_events
from connector.store.schema import events, feed_state, webhook_deliveries, webhook_endpoints

ENQUEUE_BATCH = 500

deliveries = webhook_deliveries


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


@dataclass(frozen=True)
class Delivery:
    """A claimed delivery: what to send where, and how many attempts it has had (this one too)."""

    id: int
    endpoint: str
    attempts: int
    expires_at: datetime
    event: Event


@dataclass(frozen=True)
class EndpointStatus:
    endpoint: str
    configured: bool
    pending: int
    delivered: int
    failed: int
    # The time of the oldest event still waiting for this endpoint.
    oldest_pending_at: datetime | None

    def to_json(self) -> dict[str, Any]:
        return {
            "endpoint": self.endpoint,
            "configured": self.configured,
            "pending": self.pending,
            "delivered": self.delivered,
            "failed": self.failed,
            "oldest_pending_at": (
                self.oldest_pending_at.isoformat().replace("+00:00", "Z")
                if self.oldest_pending_at
                else None
            ),
        }


def _new_row(event: Event, endpoint: str, now: datetime, max_age: timedelta) -> dict[str, Any]:
    return {
        "event_id": event.id,
        "endpoint": endpoint,
        "status": DeliveryStatus.PENDING,
        "attempts": 0,
        "next_attempt_at": now,
        "expires_at": event.created_at + max_age,
        "created_at": now,
        "updated_at": now,
    }


async def _enqueue_batch(
    store: Store, endpoint: WebhookEndpointSettings, now: datetime, max_age: timedelta
) -> tuple[int, bool]:
    async with store.transaction() as conn:
        await conn.execute(
            upsert(conn, webhook_endpoints)
            .values(name=endpoint.name, last_position=0, created_at=now, updated_at=now)
            .on_conflict_do_nothing(index_elements=["name"])
        )
        last = await conn.scalar(
            sa.select(webhook_endpoints.c.last_position)
            .where(webhook_endpoints.c.name == endpoint.name)
            .with_for_update()
        )
        # The counter first, then the events: every position up to `head` committed with it, so
        # the read below sees them all (READ COMMITTED takes a new snapshot per statement).
        head = await conn.scalar(sa.select(feed_state.c.last_position)) or 0
        batch = await read_feed_events(conn, after_position=last or 0, limit=ENQUEUE_BATCH)
        if not batch:
            # The newest events were deleted (with their account): catch up with the counter,
            # so that the next pass does not open this transaction again for nothing.
            await conn.execute(
                webhook_endpoints.update()
                .where(webhook_endpoints.c.name == endpoint.name)
                .values(last_position=max(head, last or 0), updated_at=now)
            )
            return 0, False
        # An endpoint configured late still gets the events it can get in time, not older ones.
        rows = [
            _new_row(event, endpoint.name, now, max_age)
            for event in batch
            if endpoint.accepts(event.type) and event.created_at + max_age > now
        ]
        if rows:
            await conn.execute(
                upsert(conn, deliveries).on_conflict_do_nothing(
                    index_elements=["event_id", "endpoint"]
                ),
                rows,
            )
        await conn.execute(
            webhook_endpoints.update()
            .where(webhook_endpoints.c.name == endpoint.name)
            .values(last_position=batch[-1].position, updated_at=now)
        )
    return len(rows), len(batch) == ENQUEUE_BATCH


async def enqueue_new_events(store: Store, webhooks: WebhooksSettings, now: datetime) -> int:
    """Create pending deliveries for stamped events each endpoint has not had yet."""
    if not webhooks.endpoints:
        return 0
    async with store.read() as conn:
        head = await conn.scalar(sa.select(feed_state.c.last_position)) or 0
        query = sa.select(webhook_endpoints.c.name, webhook_endpoints.c.last_position)
        known: dict[str, int] = {name: last for name, last in (await conn.execute(query)).all()}
    max_age = timedelta(hours=webhooks.max_age_hours)
    created = 0
    for endpoint in webhooks.endpoints:
        if known.get(endpoint.name, -1) >= head:
            continue  # nothing new: no write transaction
        more = True
        while more:
            count, more = await _enqueue_batch(store, endpoint, now, max_age)
            created += count
    return created


async def claim_due(
    store: Store, endpoints: Sequence[str], *, now: datetime, limit: int, claim_for: timedelta
) -> list[Delivery]:
    """Take up to `limit` due deliveries for an attempt; nobody else takes them until `now +
    claim_for` (when the attempt is settled earlier, as it normally is, that time is replaced)."""
    if not endpoints:
        return []
    async with store.transaction() as conn:
        due = (
            sa.select(deliveries.c.id)
            .where(
                deliveries.c.status == DeliveryStatus.PENDING,
                deliveries.c.next_attempt_at <= now,
                deliveries.c.endpoint.in_(list(endpoints)),
            )
            .order_by(deliveries.c.next_attempt_at, deliveries.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        ids = list((await conn.execute(due)).scalars())
        if not ids:
            return []
        await conn.execute(
            deliveries.update()
            .where(deliveries.c.id.in_(ids))
            .values(
                attempts=deliveries.c.attempts + 1,
                next_attempt_at=now + claim_for,
                last_attempt_at=now,
                updated_at=now,
            )
        )
        query = (
            sa.select(
                deliveries.c.id.label("delivery_id"),
                deliveries.c.endpoint,
                deliveries.c.attempts,
                deliveries.c.expires_at,
                *events.c,
            )
            .join(events, events.c.id == deliveries.c.event_id)
            .where(deliveries.c.id.in_(ids))
            .order_by(events.c.position, deliveries.c.id)
        )
        rows = (await conn.execute(query)).all()
    return [
        Delivery(row.delivery_id, row.endpoint, row.attempts, row.expires_at, Event.from_row(row))
        for row in rows
    ]


async def mark_delivered(
    store: Store, delivery_id: int, *, status_code: int, now: datetime
) -> None:
    async with store.transaction() as conn:
        await conn.execute(
            deliveries.update()
            .where(deliveries.c.id == delivery_id, deliveries.c.status == DeliveryStatus.PENDING)
            .values(
                status=DeliveryStatus.DELIVERED,
                delivered_at=now,
                last_status_code=status_code,
                last_error=None,
                updated_at=now,
            )
        )


async def mark_attempt_failed(
    store: Store,
    delivery_id: int,
    *,
    status_code: int | None,
    error: str,
    retry_at: datetime | None,
    now: datetime,
) -> None:
    """Record a failed attempt: retried at `retry_at`, or given up (`failed`) when it is None."""
    values: dict[str, Any] = {
        "last_status_code": status_code,
        "last_error": error[:200],
        "updated_at": now,
    }
    if retry_at is None:
        values.update(status=DeliveryStatus.FAILED, next_attempt_at=now)
    else:
        values.update(next_attempt_at=retry_at)
    async with store.transaction() as conn:
        await conn.execute(
            deliveries.update()
            .where(deliveries.c.id == delivery_id, deliveries.c.status == DeliveryStatus.PENDING)
            .values(**values)
        )


async def replay_deliveries(
    store: Store,
    webhooks: WebhooksSettings,
    *,
    event_id: str | None = None,
    failed: bool = False,
    endpoint: str | None = None,
    now: datetime,
) -> int:
    """Queue deliveries again; returns how many. What the CLI and the API call.

    - `failed`: every failed delivery (of `event_id` only, when given);
    - `event_id` alone: that event to every configured endpoint whose `types` take it, whether
      it was delivered, failed, or never queued for that endpoint (one configured later);
    - `endpoint`: only that endpoint.
    A re-queued delivery starts a fresh retry window of `max_age_hours`. Deliveries already
    pending are left as they are, and endpoints no longer configured are skipped.
    """
    if event_id is None and not failed:
        raise InputError("say what to replay: an event id, or all failed deliveries")
    configured = [e for e in webhooks.endpoints if endpoint is None or e.name == endpoint]
    if endpoint is not None and not configured:
        raise InputError(f"no webhook endpoint named {endpoint!r} is configured")
    if not configured:
        return 0
    names = [e.name for e in configured]
    requeue = {
        "status": DeliveryStatus.PENDING,
        "attempts": 0,
        "next_attempt_at": now,
        "expires_at": now + timedelta(hours=webhooks.max_age_hours),
        "last_error": None,
        "last_status_code": None,
        "delivered_at": None,
        "updated_at": now,
    }
    async with store.transaction() as conn:
        event: Event | None = None
        if event_id is not None:
            row = (await conn.execute(sa.select(events).where(events.c.id == event_id))).first()
            if row is None:
                raise NotFoundError(f"event {event_id} not found")
            event = Event.from_row(row)
        statuses = [DeliveryStatus.FAILED] if failed else list(DeliveryStatus)
        statuses = [s for s in statuses if s is not DeliveryStatus.PENDING]
        conditions: list[sa.ColumnElement[bool]] = [
            deliveries.c.endpoint.in_(names),
            deliveries.c.status.in_(statuses),
        ]
        if event is not None:
            conditions.append(deliveries.c.event_id == event.id)
        result = await conn.execute(deliveries.update().where(*conditions).values(**requeue))
        count = result.rowcount or 0
        if event is not None and not failed:
            count += await _add_missing(conn, event, configured, now, requeue)
    return count


async def _add_missing(
    conn: AsyncConnection,
    event: Event,
    configured: list[WebhookEndpointSettings],
    now: datetime,
    requeue: dict[str, Any],
) -> int:
    existing = set(
        (
            await conn.execute(
                sa.select(deliveries.c.endpoint).where(deliveries.c.event_id == event.id)
            )
        ).scalars()
    )
    rows = [
        {**requeue, "event_id": event.id, "endpoint": e.name, "created_at": now}
        for e in configured
        if e.name not in existing and e.accepts(event.type)
    ]
    if rows:
        await conn.execute(
            upsert(conn, deliveries).on_conflict_do_nothing(
                index_elements=["event_id", "endpoint"]
            ),
            rows,
        )
    return len(rows)


async def delivery_status(store: Store, webhooks: WebhooksSettings) -> list[EndpointStatus]:
    """Counts per endpoint and status, and the oldest waiting event, configured endpoints first."""
    async with store.read() as conn:
        counts = (
            await conn.execute(
                sa.select(deliveries.c.endpoint, deliveries.c.status, sa.func.count()).group_by(
                    deliveries.c.endpoint, deliveries.c.status
                )
            )
        ).all()
        # min() keeps the column's type, so these come back as aware UTC datetimes.
        oldest_query = (
            sa.select(deliveries.c.endpoint, sa.func.min(events.c.created_at))
            .join(events, events.c.id == deliveries.c.event_id)
            .where(deliveries.c.status == DeliveryStatus.PENDING)
            .group_by(deliveries.c.endpoint)
        )
        oldest: dict[str, datetime] = {
            name: at for name, at in (await conn.execute(oldest_query)).all()
        }
    per_endpoint: dict[str, dict[str, int]] = {e.name: {} for e in webhooks.endpoints}
    for name, status, count in counts:
        per_endpoint.setdefault(name, {})[status] = count
    configured = {e.name for e in webhooks.endpoints}
    order = [e.name for e in webhooks.endpoints] + sorted(set(per_endpoint) - configured)
    return [
        EndpointStatus(
            endpoint=name,
            configured=name in configured,
            pending=per_endpoint[name].get(DeliveryStatus.PENDING, 0),
            delivered=per_endpoint[name].get(DeliveryStatus.DELIVERED, 0),
            failed=per_endpoint[name].get(DeliveryStatus.FAILED, 0),
            oldest_pending_at=oldest.get(name),
        )
        for name in order
    ]
