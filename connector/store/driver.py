"""Running SQL on the database driver's own connection, inside SQLAlchemy's transaction.

A few hot paths (a page of the case list, COPY of new rows) skip SQLAlchemy's execution layer
for the driver's, which costs a fraction per statement. They keep what callers rely on: the
statement runs on the connection (and in the transaction) of the `AsyncConnection` given, and
a driver error is raised as SQLAlchemy's, as `execute` raises it, with the parameters hidden
(they are health data).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection


async def driver_connection(conn: AsyncConnection) -> Any:
    """The driver's connection under `conn` (aiosqlite's or psycopg's)."""
    return (await conn.get_raw_connection()).driver_connection


@contextmanager
def sqlalchemy_errors(conn: AsyncConnection, sql: str) -> Iterator[None]:
    """Driver errors inside the block come out as SQLAlchemy's (`IntegrityError`, ...)."""
    dbapi = conn.dialect.loaded_dbapi
    try:
        yield
    except dbapi.Error as error:
        raise sa.exc.DBAPIError.instance(
            sql, None, error, dbapi.Error, hide_parameters=True, dialect=conn.dialect
        ) from error
