"""Opening the database and running transactions the same way on SQLite and PostgreSQL.

SQLite (the embedded default) needs care to behave under concurrency: WAL so readers never
block the writer, writers queued in-process and waiting (off the event loop) for another
process's lock instead of failing, foreign keys on (SQLite's default is off), and `BEGIN
IMMEDIATE` for write transactions: a deferred transaction that reads and then writes fails with
"database is locked" at once when another writer got in between, instead of waiting. Its
connections run their calls on the event loop's thread (see `sqlite_inline` for why).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.engine.url import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from connector.store.sqlite_inline import inline_creator

_IMMEDIATE = "connector_immediate"


def _sqlite_connect(dbapi_connection: Any, connection_record: Any) -> None:
    # Let our `begin` listener emit BEGIN itself (pysqlite's implicit BEGIN is deferred).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    # Waiting for another process's lock happens on a thread (sqlite_inline), not in SQLite.
    cursor.execute("PRAGMA busy_timeout=0")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    immediate = conn.get_execution_options().get(_IMMEDIATE, False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


class Store:
    """The database: an async engine plus the two kinds of transaction the code uses.

    On SQLite, connections run their calls on the event loop's thread (`sqlite_inline`): no
    thread hand-off per statement.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        # SQLite has one writer at a time. Queueing writers here, in order, beats letting them
        # collide on the file lock, whose busy handler sleeps up to 100 ms per retry.
        self._sqlite_writer = asyncio.Lock()

    @classmethod
    def connect(cls, url: str, *, echo: bool = False, pool_size: int = 10) -> Store:
        parsed = make_url(url)
        kwargs: dict[str, Any] = {"echo": echo, "hide_parameters": True}
        if parsed.get_backend_name() != "sqlite":
            kwargs.update(pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)
            return cls(create_async_engine(parsed, **kwargs))
        database = parsed.database
        if not database or database == ":memory:":
            raise ValueError("database.url: SQLite needs a file (an in-memory database is private)")
        Path(database).parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        engine = create_async_engine(
            parsed,
            async_creator=inline_creator(database),
            pool_size=pool_size,
            max_overflow=pool_size,
            **kwargs,
        )
        event.listen(engine.sync_engine, "connect", _sqlite_connect)
        event.listen(engine.sync_engine, "begin", _sqlite_begin)
        return cls(engine)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    def __repr__(self) -> str:
        return f"Store({self.engine.url.render_as_string(hide_password=True)!r})"

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncConnection]:
        """A write transaction: committed when the block ends, rolled back on an exception.

        Never open one inside another in the same task: on SQLite the second would wait for
        the first forever.
        """
        if not self.is_sqlite:
            async with self.engine.connect() as conn, conn.begin():
                yield conn
            return
        async with self._sqlite_writer, self.engine.connect() as conn:
            conn = await conn.execution_options(**{_IMMEDIATE: True})
            async with conn.begin():
                yield conn

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        """A read-only transaction (never takes SQLite's write lock)."""
        async with self.engine.connect() as conn, conn.begin():
            yield conn

    async def ping(self) -> None:
        """One round trip to the database (raises when it does not answer)."""
        async with self.read() as conn:
            await conn.execute(sa.text("SELECT 1"))

    async def close(self) -> None:
        await self.engine.dispose()
