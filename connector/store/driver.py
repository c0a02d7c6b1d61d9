"""Running SQL on the database driver's own connection, inside SQLAlchemy's transaction.

A few hot paths (a page of the case list, COPY of new rows) skip SQLAlchemy's execution layer
for the driver's, which costs a fraction per statement. They keep what callers rely on: the
statement runs on the connection (and in the transaction) of the `AsyncConnection` given, and
a driver error is raised as SQLAlchemy's, as `execute` raises it, with the parameters hidden
(they are health data).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.compiler import SQLCompiler


async def driver_connection(conn: AsyncConnection) -> Any:
    """The driver's connection under `conn` (aiosqlite's or psycopg's).

    A connection in use holds its DBAPI connection, and reading it then does no IO: it is read
    directly (`get_raw_connection` reads it inside a greenlet: 9.7 µs against 0.5 µs on
    SQLite, per statement). Only a closed or invalidated one goes through SQLAlchemy, which
    raises or reconnects as it does for `execute`."""
    sync = conn.sync_connection
    if sync is not None and not sync.closed and not sync.invalidated:
        return sync.connection.driver_connection
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


@dataclass(frozen=True)
class DriverPlan:
    """A statement compiled once for a dialect and run on the driver's own connection.

    For the small statements every sync runs (a lease taken, an account read, a run recorded),
    SQLAlchemy's `execute` of a prebuilt statement costs several times SQLite's own work: its
    execution context, the cache lookup of the compiled form, a `CursorResult` and a `Row`
    per row. A plan keeps what callers rely on from it: each parameter goes through its type's
    bind processor and each column through its result processor (both asked of the types
    themselves), the literals the statement carries are bound as SQLAlchemy binds them, the
    statement runs in the `AsyncConnection`'s transaction, and a driver error is raised as
    SQLAlchemy's (`sqlalchemy_errors`).
    """

    sql: str
    #: The parameters' names in the order of the SQL's placeholders; None for named ones.
    order: tuple[str, ...] | None
    #: The parameters the statement always binds the same (its literals).
    fixed: dict[str, Any]
    binders: tuple[tuple[str, Callable[[Any], Any]], ...]
    #: The result's column names, and the result processors by column position.
    keys: tuple[str, ...]
    converters: tuple[tuple[int, Callable[[Any], Any]], ...]

    def parameters(self, values: dict[str, Any]) -> Any:
        values = {**self.fixed, **values}
        for name, process in self.binders:
            if name in values:
                values[name] = process(values[name])
        return values if self.order is None else tuple(values[name] for name in self.order)

    async def raw_rows(
        self, conn: AsyncConnection, values: dict[str, Any]
    ) -> list[tuple[Any, ...]]:
        """Every row of the result as the driver returns it: for a caller that applies
        `converters` itself (on what it builds of the rows), or whose columns need none."""
        rows, _ = await self._run(conn, values)
        return rows

    async def rows(self, conn: AsyncConnection, values: dict[str, Any]) -> list[tuple[Any, ...]]:
        """Every row of the result, each value through its column's result processor."""
        rows, _ = await self._run(conn, values)
        if not self.converters:
            return rows
        converted = []
        for row in rows:
            items = list(row)
            for at, process in self.converters:
                items[at] = process(items[at])
            converted.append(tuple(items))
        return converted

    async def mappings(self, conn: AsyncConnection, values: dict[str, Any]) -> list[dict[str, Any]]:
        """`rows` as dicts by column name."""
        keys = self.keys
        return [dict(zip(keys, row, strict=True)) for row in await self.rows(conn, values)]

    async def first(self, conn: AsyncConnection, values: dict[str, Any]) -> dict[str, Any] | None:
        found = await self.mappings(conn, values)
        return found[0] if found else None

    async def rowcount(self, conn: AsyncConnection, values: dict[str, Any]) -> int:
        """Run a statement that returns no rows; the rows it matched."""
        _, count = await self._run(conn, values)
        return count

    async def _run(
        self, conn: AsyncConnection, values: dict[str, Any]
    ) -> tuple[list[tuple[Any, ...]], int]:
        driver = await driver_connection(conn)
        parameters = self.parameters(values)
        with sqlalchemy_errors(conn, self.sql):
            if conn.dialect.name == "sqlite":
                cursor = await driver.execute(self.sql, parameters)
                try:
                    rows = list(await cursor.fetchall()) if self.keys else []
                    return rows, cursor.rowcount
                finally:
                    await cursor.close()
            async with driver.cursor() as cursor:
                await cursor.execute(self.sql, parameters)
                rows = list(await cursor.fetchall()) if self.keys else []
                return rows, cursor.rowcount


@lru_cache(maxsize=256)  # module-level statements, per engine's dialect
def driver_plan(statement: sa.ClauseElement, dialect: Dialect) -> DriverPlan:
    """`statement` (built once, with `bindparam`s for what varies) compiled for `dialect`."""
    compiled = cast(SQLCompiler, statement.compile(dialect=dialect))
    # Every bind parameter without a value of its own is given one: what remains are literals.
    given = {name: None for name, bind in compiled.binds.items() if bind.required}
    everything = compiled.construct_params(given, _check=False) or {}
    binders = []
    for name, bind in compiled.binds.items():
        process = bind.type.dialect_impl(dialect).bind_processor(dialect)
        if process is not None and name in everything:
            binders.append((name, process))
    columns = list(getattr(statement, "exported_columns", ()))
    converters = []
    for at, column in enumerate(columns):
        process = column.type.dialect_impl(dialect).result_processor(dialect, None)
        if process is not None:
            converters.append((at, process))
    order = tuple(compiled.positiontup) if compiled.positiontup is not None else None
    return DriverPlan(
        sql=compiled.string,
        order=order,
        fixed={k: v for k, v in everything.items() if k not in given},
        binders=tuple(binders),
        keys=tuple(str(column.key) for column in columns),
        converters=tuple(converters),
    )
