"""Opening the database and running transactions the same way on SQLite and PostgreSQL.

SQLite (the embedded default) needs care to behave under concurrency: WAL so readers never
block the writer, writers queued in-process and waiting (off the event loop) for another
process's lock instead of failing, foreign keys on (SQLite's default is off), and `BEGIN
IMMEDIATE` for write transactions: a deferred transaction that reads and then writes fails with
"database is locked" at once when another writer got in between, instead of waiting. Its
connections run their calls on the event loop's thread (see `sqlite_inline` for why).

PostgreSQL connections rest in autocommit and a transaction says BEGIN itself (as on SQLite),
so that a lone read (`Store.statement`) runs as it is, with no per-use switch of the connection's
mode; a transaction costs the same round trips as psycopg's implicit BEGIN did.

The pool keeps `pool_size` connections open (`database.pool_size`: size it to what the process
does at once, API requests plus syncs), so a busy API reuses them instead of opening and closing
connections beyond the pool on every request (on SQLite each new one also runs four PRAGMAs).
The most recently returned connection is taken first (LIFO): a busy process keeps reusing a few
warm connections (SQLite's page cache is per connection) and the rest can sit idle.
PostgreSQL connections are not pinged before each use (`pool_pre_ping` cost a round trip per
transaction, 10-15% of the connector's CPU): a connection the server dropped while it sat in
the pool (a restart, `pg_terminate_backend`, an idle timeout) has its socket readable, with the
server's goodbye or end-of-file, and is replaced on checkout without a round trip; SQLAlchemy's
pool retries the checkout with a new connection. A connection lost in the middle of a statement
still fails that statement, and the pool then drops every connection older than the failure.
"""

from __future__ import annotations

import asyncio
import select
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.engine.url import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from connector.store.sqlite_inline import inline_creator

_IMMEDIATE = "connector_immediate"
_NO_TRANSACTION = "connector_no_transaction"

#: Connections kept open per process when the settings do not say (`database.pool_size`).
DEFAULT_POOL_SIZE = 20


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


def _dropped_by_server(dbapi_connection: Any) -> bool:
    """Whether the server closed this idle PostgreSQL connection: its socket is readable
    (an idle connection gets nothing unasked but the server's goodbye, or end-of-file) or
    psycopg already knows it is closed. No round trip: one `select` with a zero timeout."""
    raw = dbapi_connection._connection  # psycopg's AsyncConnection behind SQLAlchemy's adapter
    if raw.closed or raw.broken:
        return True
    try:
        socket = raw.pgconn.socket
    except Exception:  # psycopg raises when the connection has no socket any more
        return True
    readable, _, _ = select.select([socket], [], [], 0)
    return bool(readable)


def _replace_dropped(dbapi_connection: Any, record: Any, proxy: Any) -> None:
    if _dropped_by_server(dbapi_connection):
        # The pool invalidates this connection and checks out a new one in its place.
        raise DisconnectionError("the database server closed this connection")


def _begin(conn: Connection) -> None:
    """BEGIN for a transaction, said by us on both databases: pysqlite's implicit BEGIN is
    deferred, and PostgreSQL connections rest in autocommit (`Store.connect`), where a commit
    or rollback ends what BEGIN started, as psycopg's implicit BEGIN did."""
    options = conn.get_execution_options()
    if options.get(_NO_TRANSACTION, False):
        return
    conn.exec_driver_sql("BEGIN IMMEDIATE" if options.get(_IMMEDIATE, False) else "BEGIN")


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
        #: The same pool, for connections that run one statement outside any transaction.
        self._lone_statements = engine.execution_options(**{_NO_TRANSACTION: True})

    @classmethod
    def connect(cls, url: str, *, echo: bool = False, pool_size: int = DEFAULT_POOL_SIZE) -> Store:
        """An engine for `url` whose pool keeps `pool_size` connections; up to as many again
        are opened for a burst beyond it (and closed after), so code that holds two
        connections at once cannot starve the pool."""
        parsed = make_url(url)
        kwargs: dict[str, Any] = {"echo": echo, "hide_parameters": True}
        if parsed.get_backend_name() != "sqlite":
            kwargs.update(
                pool_size=pool_size,
                max_overflow=pool_size,
                pool_pre_ping=False,
                pool_use_lifo=True,
                isolation_level="AUTOCOMMIT",
            )
            engine = create_async_engine(parsed, **kwargs)
            event.listen(engine.sync_engine.pool, "checkout", _replace_dropped)
            event.listen(engine.sync_engine, "begin", _begin)
            return cls(engine)
        database = parsed.database
        if not database or database == ":memory:":
            raise ValueError("database.url: SQLite needs a file (an in-memory database is private)")
        Path(database).parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        engine = create_async_engine(
            parsed,
            async_creator=inline_creator(database),
            pool_size=pool_size,
            max_overflow=pool_size,
            pool_use_lifo=True,
            **kwargs,
        )
        event.listen(engine.sync_engine, "connect", _sqlite_connect)
        event.listen(engine.sync_engine, "begin", _begin)
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

    @asynccontextmanager
    async def statement(self) -> AsyncIterator[AsyncConnection]:
        """A connection for one read statement, outside any transaction: a lone SELECT sees
        one consistent state by itself, so it needs no BEGIN and COMMIT around it (two more
        round trips on PostgreSQL, two more statements on SQLite). Several statements that
        must agree with each other belong in `read()`.

        Nothing is switched per call: the connections come from an engine whose options say
        "no BEGIN" (set once), and on PostgreSQL they already rest in autocommit. Switching a
        PostgreSQL connection to autocommit for the statement and back when it returned to the
        pool cost about 5% of the case list's CPU."""
        async with self._lone_statements.connect() as conn:
            yield conn

    async def ping(self) -> None:
        """One round trip to the database (raises when it does not answer)."""
        async with self.read() as conn:
            await conn.execute(sa.text("SELECT 1"))

    async def close(self) -> None:
        await self.engine.dispose()
