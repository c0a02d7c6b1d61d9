"""Dialect-specific statements behind one function each."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection


def upsert(conn: AsyncConnection, table: sa.Table) -> Any:
    """`INSERT` with the dialect's `on_conflict_do_update` (same signature on both)."""
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


#: What a time with no microseconds looks like at the end of `rfc3339_text` before the `Z` is
#: tidied: `_iso`, pydantic and orjson all leave the fraction out when it is zero.
_NO_FRACTION = ".000000Z"


def rfc3339_text(column: sa.ColumnElement[Any], dialect: str) -> sa.ColumnElement[str]:
    """A `UtcDateTime` column rendered by the database as the API writes times
    (`2026-03-02T09:30:00Z`, `2026-03-02T09:30:00.120000Z`): the stored value is converted once,
    in SQL, instead of parsed into a `datetime` and formatted again per row.

    SQLite keeps what SQLAlchemy wrote (`2026-03-02 09:30:00.120000`, always six digits of
    fraction, UTC); PostgreSQL formats its timestamptz in UTC whatever the session's zone.
    """
    text: sa.ColumnElement[str]
    if dialect == "postgresql":
        text = sa.func.to_char(
            sa.func.timezone("UTC", column), 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"', type_=sa.Text
        )
    else:
        text = sa.func.replace(column, " ", "T", type_=sa.Text).concat("Z")
    return sa.func.replace(text, _NO_FRACTION, "Z", type_=sa.Text)
