"""The outbox: events written in the same transaction as the data they describe.

`seq` is assigned at insert, so on PostgreSQL it is not commit order; the change feed and the
webhooks read events by `position`, stamped after commit (see `connector.store.feed`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from connector.domain import EventType
from connector.store.bulk import insert_rows
from connector.store.ids import new_id
from connector.store.schema import events

# Every event type the connector emits (DESIGN.md section 4); webhook endpoints filter on these.
EVENT_TYPES = tuple(str(t) for t in EventType)


@dataclass(frozen=True)
class Event:
    seq: int
    id: str
    type: str
    account_id: str | None
    subject_id: str | None
    data: dict[str, Any]
    created_at: datetime
    # The feed position, once stamped (None until then).
    position: int | None = None

    @classmethod
    def from_row(cls, row: Any) -> Event:
        return cls(
            row.seq,
            row.id,
            row.type,
            row.account_id,
            row.subject_id,
            dict(row.data),
            row.created_at,
            row.position,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": self.type,
            "created_at": self.created_at.isoformat().replace("+00:00", "Z"),
            "data": self.data,
        }


async def append_event(
    conn: AsyncConnection,
    *,
    type: EventType,
    account_id: str | None,
    subject_id: str | None,
    data: dict[str, Any],
    now: datetime,
) -> str:
    event_id = new_id("evt")
    # A constant statement with parameters: compiled once, not rebuilt for every event.
    await conn.execute(
        events.insert(),
        {
            "id": event_id,
            "type": str(type),
            "account_id": account_id,
            "subject_id": subject_id,
            "data": data,
            "created_at": now,
        },
    )
    return event_id


async def append_events(
    conn: AsyncConnection,
    *,
    account_id: str | None,
    items: Sequence[tuple[EventType, str | None, dict[str, Any]]],
    now: datetime,
) -> list[str]:
    """Append several events of one account in one statement (the sync writes a page's)."""
    rows: list[dict[str, Any]] = [
        {
            "id": new_id("evt"),
            "type": str(kind),
            "account_id": account_id,
            "subject_id": subject_id,
            "data": data,
            "created_at": now,
        }
        for kind, subject_id, data in items
    ]
    await insert_rows(conn, events, rows)
    return [str(row["id"]) for row in rows]


async def read_events(
    conn: AsyncConnection, *, after_seq: int = 0, limit: int = 100
) -> list[Event]:
    """Events by insert order. Not for a reader that must see every event once: on PostgreSQL a
    smaller seq can commit after a larger one was read. Use `connector.store.feed.read_feed`."""
    query = sa.select(events).where(events.c.seq > after_seq).order_by(events.c.seq).limit(limit)
    return [Event.from_row(r) for r in (await conn.execute(query)).all()]
