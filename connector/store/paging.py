"""Keyset paging: the rows after a cursor's sort key."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa


def after_key(
    columns: tuple[sa.ColumnElement[Any], ...], values: tuple[Any, ...], *, descending: bool = False
) -> sa.ColumnElement[bool]:
    """`(a, b) > (x, y)` (`<` when the list is sorted descending): the rows after a cursor.

    A row-value comparison, which both PostgreSQL and SQLite answer from an index on (a, b).
    The values are bound with their columns' types (times go through `UtcDateTime`).
    """
    left = sa.tuple_(*columns)
    right = sa.tuple_(*(sa.literal(v, c.type) for c, v in zip(columns, values, strict=True)))
    return left < right if descending else left > right
