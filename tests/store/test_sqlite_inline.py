"""SQLite connections run their calls on the event loop's thread (connector/store/sqlite_inline.py).

What must hold: writes land and roll back as before; a writer blocked by another process's
lock waits for it without stalling the event loop; SQL errors reach the caller unchanged.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from connector.clock import utcnow
from connector.store import Store, upgrade
from connector.store.schema import practice_mappings
from connector.store.sqlite_inline import InlineConnection

pytestmark = pytest.mark.asyncio


async def _count(store: Store) -> int:
    async with store.read() as conn:
        return int(
            (
                await conn.execute(sa.select(sa.func.count()).select_from(practice_mappings))
            ).scalar_one()
        )


def _mapping(doctor: str) -> dict[str, object]:
    at = utcnow()
    return {
        "vendor": "clearcorrect",
        "vendor_doctor_id": doctor,
        "practice_id": "p1",
        "created_at": at,
        "updated_at": at,
    }


async def test_writes_use_inline_connections_and_commit_or_roll_back(tmp_path: Path) -> None:
    store = Store.connect(f"sqlite+aiosqlite:///{tmp_path / 'c.db'}")
    await upgrade(store)
    try:
        async with store.transaction() as conn:
            raw = await conn.get_raw_connection()
            assert isinstance(raw.driver_connection, InlineConnection)
            await conn.execute(practice_mappings.insert(), [_mapping("d1"), _mapping("d2")])

        async def abandoned() -> None:
            async with store.transaction() as conn:
                await conn.execute(practice_mappings.insert(), _mapping("d3"))
                raise RuntimeError("abandon")

        async def duplicate() -> None:
            async with store.transaction() as conn:
                await conn.execute(practice_mappings.insert(), _mapping("d4"))
                await conn.execute(practice_mappings.insert(), _mapping("d1"))

        with pytest.raises(RuntimeError):
            await abandoned()
        assert await _count(store) == 2
        # A constraint violation surfaces as the usual IntegrityError and changes nothing.
        with pytest.raises(sa.exc.IntegrityError):
            await duplicate()
        assert await _count(store) == 2
    finally:
        await store.close()


async def test_waiting_for_another_process_lock_keeps_the_event_loop_running(
    tmp_path: Path,
) -> None:
    path = tmp_path / "c.db"
    store = Store.connect(f"sqlite+aiosqlite:///{path}")
    await upgrade(store)
    # Another process holds the write lock for a while (a plain sqlite3 connection on a thread).
    held = threading.Event()
    hold_seconds = 0.8

    def other_process() -> None:
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        held.set()
        time.sleep(hold_seconds)
        other.execute("COMMIT")
        other.close()

    holder = threading.Thread(target=other_process)
    holder.start()
    try:
        await asyncio.get_running_loop().run_in_executor(None, held.wait)
        ticks = 0
        stop = asyncio.Event()

        async def ticker() -> None:
            nonlocal ticks
            while not stop.is_set():
                ticks += 1
                await asyncio.sleep(0.01)

        ticking = asyncio.create_task(ticker())
        started = time.monotonic()
        async with store.transaction() as conn:
            waited = time.monotonic() - started
            await conn.execute(practice_mappings.insert(), _mapping("d1"))
        stop.set()
        await ticking
        assert waited >= hold_seconds * 0.5, "the writer did not wait for the other lock"
        # The loop kept running while the writer waited: many ticks, not one or two.
        assert ticks >= 20
        assert await _count(store) == 1
    finally:
        holder.join()
        await store.close()
