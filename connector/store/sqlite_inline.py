"""SQLite connections that run each call on the event loop's thread.

aiosqlite runs every call (cursor, execute, fetch, close) on a worker thread and hands the
result back through the event loop. Measured here, each of those hand-offs costs about 100 µs of
CPU, while the SQLite statement itself takes 2 µs: a synced case's write transaction of some
fifteen statements spent nearly all its time crossing threads, and since SQLite has one writer,
that time capped the sync rate of the whole process at about 90 cases per second.

Run directly on the loop's thread, a statement costs microseconds plus SQLAlchemy's own work.
The one call that can take long is waiting for the write lock while another process holds it
(the CLI beside `serve`, for example). Every call is tried at once with no busy timeout; when
the database is busy it is retried on a worker thread with the usual timeout, so the event loop
never stalls behind another process.

A commit that triggers SQLite's automatic WAL checkpoint (every 4 MB of WAL) copies pages and
syncs the file inline: a pause of milliseconds, a few times over a large first sync.

Reads run inline too. Threads would let SQLite's C code overlap Python work, but measured with
the API benchmark (100,000 cases, 50 clients) inline reads were faster: first-page p95 725 ms
threaded against 405 ms inline, server CPU per request 8.8 ms against 6.0 ms.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from typing import Any

import aiosqlite

#: How long a call waits for another process's lock before giving up (as `PRAGMA busy_timeout`).
BUSY_TIMEOUT_MS = 30_000


def _is_busy(error: BaseException) -> bool:
    return isinstance(error, sqlite3.OperationalError) and getattr(
        error, "sqlite_errorcode", None
    ) in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


class _InlineCalls:
    """Stands in for aiosqlite's queue to its worker thread: runs each call at once."""

    def __init__(self, connection: InlineConnection) -> None:
        self._connection = connection

    def put_nowait(self, item: tuple[asyncio.Future[Any] | None, Callable[[], Any]]) -> None:
        future, function = item
        try:
            result = function()
        except BaseException as error:  # handed to the awaiting caller, as aiosqlite does
            if future is None:
                return
            if _is_busy(error):
                self._wait_in_thread(future, function)
                return
            future.set_exception(error)
            return
        if future is not None:
            future.set_result(result)

    def _wait_in_thread(self, future: asyncio.Future[Any], function: Callable[[], Any]) -> None:
        raw = self._connection._connection

        def waiting() -> Any:
            if raw is None:
                return function()
            raw.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            try:
                return function()
            finally:
                raw.execute("PRAGMA busy_timeout=0")

        task = asyncio.get_running_loop().run_in_executor(None, waiting)

        def relay(done: asyncio.Future[Any]) -> None:
            if future.done():
                return  # the caller was cancelled meanwhile
            if done.cancelled():
                future.cancel()
            elif (error := done.exception()) is not None:
                future.set_exception(error)
            else:
                future.set_result(done.result())

        task.add_done_callback(relay)


class InlineConnection(aiosqlite.Connection):
    """An aiosqlite connection without a worker thread (see the module docstring)."""

    def __init__(self, connector: Callable[[], sqlite3.Connection]) -> None:
        super().__init__(connector, iter_chunk_size=64)
        self._tx = _InlineCalls(self)  # type: ignore[assignment]

    def __await__(self) -> Any:
        return self._connect().__await__()  # no thread to start


def inline_creator(database: str) -> Callable[[], Any]:
    """An `async_creator` for SQLAlchemy's aiosqlite dialect opening `database` inline."""

    def connector() -> sqlite3.Connection:
        # Another thread runs a call only while waiting for a lock, and never concurrently.
        raw = sqlite3.connect(database, check_same_thread=False)
        raw.execute("PRAGMA busy_timeout=0")
        return raw

    async def create() -> InlineConnection:
        connection = InlineConnection(connector)
        await connection._connect()
        return connection

    return create
