"""The change feed: commit order, opaque cursors, and no event missed by a polling reader."""

from __future__ import annotations

import asyncio
import random

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncConnection

from connector.clock import utcnow
from connector.domain import EventType
from connector.errors import InputError
from connector.store import Store
from connector.store.events import append_event, read_events
from connector.store.feed import (
    decode_cursor,
    encode_cursor,
    read_feed,
    stamp_positions,
)
from connector.store.schema import events
from tests.conftest import BOTH_DATABASES
from tests.webhooks.conftest import write_events

POSTGRES_ONLY = pytest.mark.parametrize(
    "database_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)


async def _insert(conn: AsyncConnection, n: int) -> str:
    return await append_event(
        conn,
        type=EventType.CASE_UPDATED,
        account_id=None,
        subject_id=None,
        data={"n": n},
        now=utcnow(),
    )


@BOTH_DATABASES
async def test_feed_pages_through_events_in_order(store: Store) -> None:
    ids = await write_events(store, 5, per_transaction=2)
    items, cursor = await read_feed(store, None, limit=2)
    seen = [item["id"] for item in items]
    assert set(items[0]) == {"id", "type", "created_at", "data"}
    assert items[0]["created_at"].endswith("Z") and items[0]["type"] == "case.created"
    while items:
        items, cursor = await read_feed(store, cursor, limit=2)
        seen += [item["id"] for item in items]
    assert seen == ids
    # An empty page hands the same cursor back; later events continue from it.
    assert (await read_feed(store, cursor))[1] == cursor
    later = await write_events(store, 1)
    items, _ = await read_feed(store, cursor)
    assert [item["id"] for item in items] == later


@BOTH_DATABASES
async def test_positions_are_never_reused_after_the_newest_events_are_deleted(
    store: Store,
) -> None:
    ids = await write_events(store, 3)
    items, cursor = await read_feed(store, None)
    assert [i["id"] for i in items] == ids
    # Deleting an account deletes its events, possibly the newest ones.
    async with store.transaction() as conn:
        await conn.execute(events.delete().where(events.c.id.in_(ids[1:])))
    later = await write_events(store, 2)
    items, _ = await read_feed(store, cursor)
    assert [i["id"] for i in items] == later


@BOTH_DATABASES
async def test_stamping_is_idempotent_and_cheap_when_idle(store: Store) -> None:
    await write_events(store, 4)
    assert await stamp_positions(store, batch_size=3) == 4
    assert await stamp_positions(store) == 0
    async with store.read() as conn:
        positions = (await conn.execute(sa.select(events.c.position).order_by(events.c.seq))).all()
    assert [p for (p,) in positions] == [1, 2, 3, 4]


async def test_bad_cursors_and_limits_are_input_errors(store: Store) -> None:
    for bad in ("", "x", "cDF", "!!!!", encode_cursor(5) + "A", "cC0x", "a" * 100):
        with pytest.raises(InputError, match="cursor is not valid") as caught:
            await read_feed(store, bad)
        if len(bad) > 4:
            assert bad not in str(caught.value)  # never echoed
    for limit in (0, 1001):
        with pytest.raises(InputError, match="limit"):
            await read_feed(store, None, limit=limit)


@given(st.text(max_size=50))
def test_cursor_decoding_accepts_only_its_own_cursors(text: str) -> None:
    try:
        position = decode_cursor(text)
    except InputError:
        return
    assert encode_cursor(position) == text


@given(st.integers(0, 2**63 - 1))
def test_cursors_round_trip(position: int) -> None:
    assert decode_cursor(encode_cursor(position)) == position


@POSTGRES_ONLY
async def test_a_transaction_committing_out_of_seq_order_is_not_skipped(store: Store) -> None:
    """Writer A inserts first (smaller seq) and commits last. A reader by seq misses it; the
    feed does not."""
    feed_seen: list[str] = []
    async with store.transaction() as writer_a:
        a_id = await _insert(writer_a, 1)
        async with store.transaction() as writer_b:
            b_id = await _insert(writer_b, 2)
        # B has committed, A has not. Both readers poll now.
        items, cursor = await read_feed(store, None)
        feed_seen += [i["id"] for i in items]
        async with store.read() as conn:
            naive = await read_events(conn, after_seq=0)
    assert [e.id for e in naive] == [b_id]
    naive_cursor = naive[-1].seq
    # A commits. Poll again.
    items, cursor = await read_feed(store, cursor)
    feed_seen += [i["id"] for i in items]
    async with store.read() as conn:
        naive_after = await read_events(conn, after_seq=naive_cursor)
    assert naive_after == []  # the hazard: reading by seq lost A's event for good
    assert feed_seen == [b_id, a_id]  # the feed: both, once each, in commit order
    assert (await read_feed(store, cursor))[0] == []


class _Rollback(Exception):
    pass


@BOTH_DATABASES
async def test_concurrent_writers_and_a_polling_reader_miss_nothing(store: Store) -> None:
    rng = random.Random(7)
    committed: list[str] = []
    writers_done = asyncio.Event()
    # The reader stops only once the other stamper stopped too: while that one holds the lock,
    # a reader's own stamping is skipped and the batch shows up a moment later (by design).
    quiet = asyncio.Event()

    async def writer(w: int) -> None:
        for i in range(12):
            try:
                async with store.transaction() as conn:
                    ids = [
                        await _insert(conn, w * 1000 + i * 10 + k) for k in range(rng.randint(1, 3))
                    ]
                    await asyncio.sleep(rng.uniform(0, 0.02))
                    if rng.random() < 0.1:
                        raise _Rollback
                committed.extend(ids)
            except _Rollback:
                pass

    async def reader() -> list[str]:
        seen: list[str] = []
        cursor: str | None = None
        while True:
            finished = quiet.is_set()
            items, cursor = await read_feed(store, cursor, limit=7)
            seen += [item["id"] for item in items]
            if not items:
                if finished:
                    return seen
                await asyncio.sleep(0.003)

    async def other_stamper() -> None:
        # A second process's delivery loop stamping at the same time as the reader.
        while not writers_done.is_set():
            await stamp_positions(store)
            await asyncio.sleep(0.002)

    reading = asyncio.create_task(reader())
    stamping = asyncio.create_task(other_stamper())
    await asyncio.gather(*(writer(w) for w in range(4)))
    writers_done.set()
    await stamping
    quiet.set()
    seen = await reading
    assert len(seen) == len(set(seen)), "an event was read twice"
    assert set(seen) == set(committed), "an event was missed"
    assert len(committed) > 40
    async with store.read() as conn:
        positions = sorted(p for (p,) in (await conn.execute(sa.select(events.c.position))).all())
    assert positions == list(range(1, len(committed) + 1))
