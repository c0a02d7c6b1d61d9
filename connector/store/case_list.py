"""The case list as the API serves it: one keyset page, read the way it is written out.

`GET /v1/cases` is the API's busiest read (a TPS polls it), so this query hands back rows that
need no more work than JSON encoding: times come out of the database as RFC 3339 text
(`rfc3339_text`: no `datetime` parsed and formatted again per value), booleans as booleans, and
each row takes the public shape `case_fields` defines (the columns and their order are read
from it), so the list and an event's `data` cannot drift apart. One statement per combination
of filters is built once per dialect and reused with parameters: building and compiling it
per request cost more CPU than SQLite's work.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.base import CaseStatus
from connector.store.cases import case_fields
from connector.store.dialect import rfc3339_text
from connector.store.schema import cases
from connector.store.types import UtcDateTime

_TIMES = ("vendor_created_at", "vendor_updated_at", "created_at", "updated_at", "removed_at")
#: The filters a page may combine, each a column compared for equality with its parameter.
_EQUALS = ("practice_id", "vendor", "account_id", "status", "action_required")

Row = Sequence[Any]


class _ColumnNames(dict[str, str]):
    """A row whose every value is its own column name: `case_fields` of it is the shape of a
    case with column names where the values go."""

    def __missing__(self, key: str) -> str:
        return key


def _shape() -> tuple[list[str], Callable[[Row], dict[str, Any]]]:
    """The columns to select, in the order `case_fields` writes them, and a function that
    builds `case_fields`' dict from a row of them (about 1 us a row against 2 us for a
    mapping handed to `case_fields`: a page has 100)."""
    template = case_fields(_ColumnNames())
    columns: list[str] = []
    # (key, None) for a column; (key, inner keys) for a nested object of several columns.
    layout: list[tuple[str, tuple[str, ...] | None]] = []
    for key, value in template.items():
        if isinstance(value, dict):
            columns.extend(value.values())
            layout.append((key, tuple(value)))
        else:
            columns.append(value)
            layout.append((key, None))
    # Runs of plain keys are zipped in one call; each nested object is one dict.
    steps: list[tuple[str | None, tuple[str, ...], int, int]] = []
    start = 0
    for key, inner in layout:
        width = 1 if inner is None else len(inner)
        if inner is None and steps and steps[-1][0] is None:
            _, keys, first, _ = steps[-1]
            steps[-1] = (None, (*keys, key), first, start + 1)
        elif inner is None:
            steps.append((None, (key,), start, start + 1))
        else:
            steps.append((key, inner, start, start + width))
        start += width

    def build(row: Row) -> dict[str, Any]:
        fields: dict[str, Any] = {}
        for nested, keys, first, end in steps:
            if nested is None:
                fields.update(zip(keys, row[first:end], strict=True))
            else:
                fields[nested] = dict(zip(keys, row[first:end], strict=True))
        return fields

    return columns, build


_COLUMNS, _build = _shape()


@cache
def _statement(dialect: str, filters: frozenset[str]) -> sa.Select[Any]:
    """The page query for one dialect and one set of filters, with bound parameters
    (`b_<filter>`, `b_updated_since`, `b_after_t`/`b_after_i`, `b_limit`)."""
    columns = [
        rfc3339_text(cases.c[name], dialect).label(name) if name in _TIMES else cases.c[name]
        for name in _COLUMNS
    ]
    query = (
        sa.select(*columns)
        .order_by(cases.c.updated_at, cases.c.id)
        .limit(sa.bindparam("b_limit", type_=sa.Integer))
    )
    for name in _EQUALS:
        if name in filters:
            column = cases.c[name]
            query = query.where(column == sa.bindparam(f"b_{name}", type_=column.type))
    if "updated_since" in filters:
        since = sa.bindparam("b_updated_since", type_=UtcDateTime)
        query = query.where(cases.c.updated_at >= since)
    if "include_removed" not in filters:
        query = query.where(cases.c.removed_at.is_(None))
    if "after" in filters:
        after = sa.tuple_(
            sa.bindparam("b_after_t", type_=UtcDateTime),
            sa.bindparam("b_after_i", type_=cases.c.id.type),
        )
        query = query.where(sa.tuple_(cases.c.updated_at, cases.c.id) > after)
    return query


async def list_case_page(
    conn: AsyncConnection,
    *,
    practice_id: str | None = None,
    vendor: str | None = None,
    account_id: str | None = None,
    status: CaseStatus | None = None,
    action_required: bool | None = None,
    updated_since: datetime | None = None,
    include_removed: bool = False,
    after: tuple[datetime, str] | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """Cases ordered by (`updated_at`, `id`), after the keyset `after`, in their public shape
    with times as RFC 3339 text (the same text `case_json` writes)."""
    values: dict[str, Any] = {
        "practice_id": practice_id,
        "vendor": vendor,
        "account_id": account_id,
        "status": None if status is None else str(status),
        "action_required": action_required,
        "updated_since": updated_since,
    }
    params: dict[str, Any] = {f"b_{k}": v for k, v in values.items() if v is not None}
    filters = {k for k, v in values.items() if v is not None}
    if include_removed:
        filters.add("include_removed")
    if after is not None:
        filters.add("after")
        params["b_after_t"], params["b_after_i"] = after
    params["b_limit"] = limit
    result = await conn.execute(_statement(conn.dialect.name, frozenset(filters)), params)
    return [_build(row) for row in result.all()]
