"""The outbox: events written in the same transaction as the data they describe."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from connector.store.ids import new_id
from connector.store.schema import events


@dataclass(frozen=True)
class Event:
    seq: int
    id: str
    type: str
    account_id: str | None
    subject_id: str | None
    data: dict[str, Any]
    created_at: datetime

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
    type: str,
    account_id: str | None,
    subject_id: str | None,
    data: dict[str, Any],
    now: datetime,
) -> str:
    event_id = new_id("evt")
    await conn.execute(
        events.insert().values(
            id=event_id,
            type=type,
            account_id=account_id,
            subject_id=subject_id,
            data=data,
            created_at=now,
        )
    )
    return event_id


async def read_events(
    conn: AsyncConnection, *, after_seq: int = 0, limit: int = 100
) -> list[Event]:
    query = sa.select(events).where(events.c.seq > after_seq).order_by(events.c.seq).limit(limit)
    return [
        Event(r.seq, r.id, r.type, r.account_id, r.subject_id, dict(r.data), r.created_at)
        for r in (await conn.execute(query)).all()
    ]
