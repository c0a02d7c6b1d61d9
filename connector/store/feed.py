"""The change feed: events in commit order, after an opaque cursor.

Why not read by `seq`: PostgreSQL assigns `seq` when a row is inserted, but transactions commit in
any order. Writer A inserts seq 7 and is still running when writer B inserts seq 8 and commits; a
reader sees 8, remembers "after 8", and never sees 7 once A commits. SQLite serializes writers, so
there seq order happens to be commit order, but the code below does not rely on it.

The fix: a feed *position* is stamped on each event **after** its transaction committed, by
`stamp_positions`, and readers read `position > cursor ORDER BY position`.

- The stamper only ever sees committed rows (READ COMMITTED on PostgreSQL; SQLite has no dirty
  reads), and gives every unstamped row it sees the next positions from a counter (`feed_state`).
- One stamper at a time: a PostgreSQL transaction-level advisory lock (SQLite: the write lock of
  `BEGIN IMMEDIATE`). A stamper takes the lock before it reads, and PostgreSQL makes a commit
  visible before it releases that commit's locks, so the next stamper's statements see the
  previous stamper's positions and counter.
- So positions are handed out in increasing order, each stamper's batch commits atomically, and
  batches commit one after the other: at any moment the visible positions are exactly 1..N (minus
  events deleted with their account). A reader that has seen position p has seen every position
  below p, and an event that commits later is stamped later, with a position above every position
  visible when it committed. No event is skipped, none is seen twice.
- The counter, not max(position), hands out positions: deleting an account deletes its events,
  possibly the newest ones, and a position must never be reused behind a reader's cursor.

Positions therefore follow the order in which events became visible to the stamper; events that
committed between two stamper runs are ordered by `seq` among themselves, which no reader can
tell apart from commit order. A variant that also waits for every older transaction to finish
(`txid < pg_snapshot_xmin(...)`) is not needed for this guarantee and would stall the whole feed
behind any long transaction on the server.
"""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from connector.errors import InputError
from connector.store.database import Store
from connector.store.events import Event
from connector.store.schema import events, feed_state

MAX_LIMIT = 1000
STAMP_BATCH = 1000
# pg_advisory_xact_lock key of the one stamper: the ASCII bytes of "tps_feed".
STAMPER_LOCK_KEY = 0x7470735F66656564

#: A feed cursor: `p` and a feed position. Every string this pattern matches is a cursor the
#: feed accepts (the API's schema says so: 18 digits stay within a 64-bit position).
CURSOR_PATTERN = r"^p(?:0|[1-9][0-9]{0,17})$"
_CURSOR = re.compile(r"p(0|[1-9][0-9]{0,18})")
_MAX_POSITION = 2**63 - 1


def encode_cursor(position: int) -> str:
    """A cursor for "after this position" (clients must treat it as opaque)."""
    return f"p{position}"


def decode_cursor(cursor: str) -> int:
    """The position a cursor stands for; `InputError` (without echoing it) when it is not ours."""
    match = _CURSOR.fullmatch(cursor)
    if match is None or int(match.group(1)) > _MAX_POSITION:
        raise InputError("cursor is not valid: pass the next_cursor of an earlier response")
    return int(match.group(1))


async def _has_unstamped(store: Store) -> bool:
    async with store.read() as conn:
        query = sa.select(events.c.seq).where(events.c.position.is_(None)).limit(1)
        return (await conn.execute(query)).first() is not None


async def _take_stamper_lock(store: Store, conn: AsyncConnection) -> bool:
    if store.is_sqlite:
        return True  # BEGIN IMMEDIATE already made this the only writer
    query = sa.select(sa.func.pg_try_advisory_xact_lock(STAMPER_LOCK_KEY))
    return bool(await conn.scalar(query))


async def _stamp_batch(store: Store, batch_size: int) -> int:
    async with store.transaction() as conn:
        if not await _take_stamper_lock(store, conn):
            return 0  # another process is stamping right now; its positions will show up
        last = await conn.scalar(sa.select(feed_state.c.last_position).where(feed_state.c.id == 1))
        if last is None:  # the migration creates the row; be forgiving of a hand-made schema
            await conn.execute(feed_state.insert().values(id=1, last_position=0))
            last = 0
        query = (
            sa.select(events.c.seq)
            .where(events.c.position.is_(None))
            .order_by(events.c.seq)
            .limit(batch_size)
        )
        seqs = list((await conn.execute(query)).scalars())
        if not seqs:
            return 0
        params: list[dict[str, Any]] = [
            {"b_seq": seq, "b_position": last + n} for n, seq in enumerate(seqs, start=1)
        ]
        await conn.execute(
            events.update()
            .where(events.c.seq == sa.bindparam("b_seq"))
            .values(position=sa.bindparam("b_position")),
            params,
        )
        await conn.execute(
            feed_state.update().where(feed_state.c.id == 1).values(last_position=last + len(seqs))
        )
    return len(seqs)


async def stamp_positions(store: Store, *, batch_size: int = STAMP_BATCH) -> int:
    """Give feed positions to committed events that have none; returns how many were stamped.

    Cheap when there is nothing to do (one indexed read, no write lock). Safe to call from any
    number of processes at once: only one stamps, the others return 0.
    """
    if not await _has_unstamped(store):
        return 0
    total = 0
    while True:
        stamped = await _stamp_batch(store, batch_size)
        total += stamped
        if stamped < batch_size:
            return total


async def read_feed(
    store: Store, cursor: str | None, limit: int = 100, *, stamp: bool = True
) -> tuple[list[dict[str, Any]], str]:
    """Events after `cursor` in commit order, as `{id, type, created_at, data}`, and the cursor
    to pass next time.

    No cursor: from the oldest event kept. The returned cursor is never None: a client keeps
    polling with it, and an empty page returns the cursor it was given. `stamp` first stamps
    events committed since the last stamping (the delivery loop stamps too).
    """
    after = 0 if cursor is None else decode_cursor(cursor)
    if not 1 <= limit <= MAX_LIMIT:
        raise InputError(f"limit must be between 1 and {MAX_LIMIT}")
    if stamp:
        await stamp_positions(store)
    async with store.read() as conn:
        page = await read_feed_events(conn, after_position=after, limit=limit)
    if not page:
        return [], encode_cursor(after)
    last = page[-1].position
    assert last is not None
    return [event.to_json() for event in page], encode_cursor(last)


async def read_feed_events(
    conn: AsyncConnection, *, after_position: int, limit: int
) -> list[Event]:
    """Stamped events after a position, in feed order (for the webhook queue)."""
    query = (
        sa.select(events)
        .where(events.c.position > after_position)
        .order_by(events.c.position)
        .limit(limit)
    )
    return [Event.from_row(row) for row in (await conn.execute(query)).all()]
