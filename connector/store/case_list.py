"""The case list as the API serves it: one keyset page, read the way it is written out.

`GET /v1/cases` is the API's busiest read (a TPS polls it), so this query hands back rows that
need no more work than JSON encoding: times come out of the database as RFC 3339 text
(`rfc3339_text`: no `datetime` parsed and formatted again per value), booleans as booleans, and
each row takes the public shape `case_fields` defines (the columns and their order are read
from it), so the list and an event's `data` cannot drift apart. One statement per combination
of filters is built and compiled once per dialect and then run with bound parameters on the
driver's connection (`connector.store.driver`): building and compiling it per request cost more CPU
than SQLite's work, and SQLAlchemy's execution and `Row`s more again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from functools import cache
from typing import Any, TypedDict, Unpack

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.base import CaseStatus
from connector.store.cases import case_fields
from connector.store.dialect import rfc3339_text
from connector.store.driver import DriverPlan, driver_plan
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


def _shape() -> tuple[list[str], Callable[[Row], dict[str, Any]], list[tuple[str, ...]]]:
    """The columns to select, in the order `case_fields` writes them, and a function that
    builds `case_fields`' dict from a row of them: plain keys, one nested object (the doctor),
    plain keys, each part zipped in one call (0.15 ms for a page of 100 against 0.22 ms for a
    loop over the parts, and more for a mapping per row handed to `case_fields`)."""
    template = case_fields(_ColumnNames())
    nested = [key for key, value in template.items() if isinstance(value, dict)]
    if len(nested) != 1:
        raise RuntimeError("case_fields changed shape: update the case list's row builder")
    keys = list(template)
    at = keys.index(nested[0])
    head, inner, tail = keys[:at], template[nested[0]], keys[at + 1 :]
    columns = [template[k] for k in head] + list(inner.values()) + [template[k] for k in tail]
    name, inner_keys = nested[0], tuple(inner)
    start, end = len(head), len(head) + len(inner)

    # zip without `strict`: the slices have the keys' lengths by construction, and passing the
    # keyword (even `strict=False`) cost 0.06 ms a page.
    def build(row: Row) -> dict[str, Any]:
        fields = dict(zip(head, row[:start]))  # noqa: B905
        fields[name] = dict(zip(inner_keys, row[start:end]))  # noqa: B905
        fields.update(zip(tail, row[end:]))  # noqa: B905
        return fields

    #: Where each column's value lands in the dict: a key, or the nested object's key and its own.
    places: list[tuple[str, ...]] = [(k,) for k in head]
    places += [(name, k) for k in inner_keys]
    places += [(k,) for k in tail]
    return columns, build, places


_COLUMNS, _build, _PLACES = _shape()


def _value(name: str, dialect: str) -> sa.ColumnElement[Any]:
    """A column as the list shows it: times as RFC 3339 text, the rest as stored."""
    column = cases.c[name]
    return rfc3339_text(column, dialect).label(name) if name in _TIMES else column


def _object(shape: dict[str, Any]) -> sa.ColumnElement[str]:
    """`case_fields`' shape (keys to column names, or to a nested shape) as the JSON object
    SQLite's `json_object` writes: the bytes orjson writes for the same values, escapes and
    non-ASCII text included (a test holds them to it). Booleans, stored as 0 or 1, are
    written as JSON's."""
    pairs: list[sa.ColumnElement[Any]] = []
    for key, value in shape.items():
        pairs.append(sa.literal(key))
        if isinstance(value, dict):
            pairs.append(_object(value))
            continue
        column = cases.c[value]
        if isinstance(column.type, sa.Boolean):
            flag = sa.case((column.is_(None), None), (column, "true"), else_="false")
            pairs.append(sa.func.json(flag, type_=sa.Text))
        else:
            pairs.append(_value(value, "sqlite"))
    return sa.func.json_object(*pairs, type_=sa.Text)


@cache
def _statement(dialect: str, filters: frozenset[str], rendered: bool = False) -> sa.Select[Any]:
    """The page query for one dialect and one set of filters, with bound parameters
    (`b_<filter>`, `b_updated_since`, `b_after_t`/`b_after_i`, `b_limit`). `rendered` (SQLite):
    each row is the case's JSON text, its `updated_at` text and its id (`list_case_page_json`)."""
    columns: list[sa.ColumnElement[Any]]
    if rendered:
        item = _object(case_fields(_ColumnNames()))
        columns = [item, _value("updated_at", dialect), cases.c.id]
    else:
        columns = [_value(name, dialect) for name in _COLUMNS]
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


def _plan(dialect: Dialect, filters: frozenset[str], rendered: bool = False) -> DriverPlan:
    """`_statement` compiled once for a dialect and run on the driver's own connection
    (`connector.store.driver`): SQLAlchemy's `execute` of the prebuilt statement cost 0.54-0.59
    ms for a first page on SQLite (measured in-process, 2,000 pages) against 0.35-0.47 ms on
    the driver, and it makes a `Row` per row that the garbage collector then walks."""
    return driver_plan(_statement(dialect.name, filters, rendered), dialect)


def _convert(plan: DriverPlan, items: list[dict[str, Any]]) -> None:
    """The columns' result processors (SQLite's 0/1 made a boolean) applied to the built rows,
    in place: cheaper than converting each row before building it."""
    for at, process in plan.converters:
        place = _PLACES[at]
        if len(place) == 1:
            (key,) = place
            for item in items:
                item[key] = process(item[key])
        else:
            outer, key = place
            for item in items:
                item[outer][key] = process(item[outer][key])


class CasePage(TypedDict, total=False):
    """Which page of the case list: filters combined with AND (None: not filtered), removed
    cases or not, the keyset to start after, and how many rows (100 when not given)."""

    practice_id: str | None
    vendor: str | None
    account_id: str | None
    status: CaseStatus | None
    action_required: bool | None
    updated_since: datetime | None
    include_removed: bool
    after: tuple[datetime, str] | None
    limit: int


def _page_query(page: CasePage) -> tuple[frozenset[str], dict[str, Any]]:
    """The filters a page combines and the parameters to bind."""
    status = page.get("status")
    values: dict[str, Any] = {
        "practice_id": page.get("practice_id"),
        "vendor": page.get("vendor"),
        "account_id": page.get("account_id"),
        "status": None if status is None else str(status),
        "action_required": page.get("action_required"),
        "updated_since": page.get("updated_since"),
    }
    params: dict[str, Any] = {f"b_{k}": v for k, v in values.items() if v is not None}
    filters = {k for k, v in values.items() if v is not None}
    if page.get("include_removed", False):
        filters.add("include_removed")
    after = page.get("after")
    if after is not None:
        filters.add("after")
        params["b_after_t"], params["b_after_i"] = after
    params["b_limit"] = page.get("limit", 100)
    return frozenset(filters), params


async def list_case_page(conn: AsyncConnection, **page: Unpack[CasePage]) -> list[dict[str, Any]]:
    """Cases ordered by (`updated_at`, `id`), after the keyset `after`, in their public shape
    with times as RFC 3339 text (the same text `case_json` writes)."""
    filters, params = _page_query(page)
    plan = _plan(conn.dialect, filters)
    items = [_build(row) for row in await plan.raw_rows(conn, params)]
    _convert(plan, items)
    return items


async def list_case_page_json(
    conn: AsyncConnection, **page: Unpack[CasePage]
) -> list[tuple[Any, ...]]:
    """`list_case_page` written out: per case, its JSON text (the bytes orjson writes for
    `list_case_page`'s dict), its `updated_at` as RFC 3339 text and its id (a cursor's values).

    On SQLite the database writes the JSON (`_object`): no value becomes a Python object, no
    dict is built, nothing is encoded in the server; a page of 100 took 0.65 ms of CPU against
    0.79 ms for the values, their dicts and orjson (measured in-process, 1,000 pages). On
    PostgreSQL the server builds the dicts and orjson writes them: `row_to_json` (over a row
    of labelled values per case and one per doctor; `json_build_object` puts spaces after
    its colons and commas) cut the server's CPU per first page from 1.03-1.07 ms to
    0.73-0.79 ms but raised the backends' from 0.39-0.47 ms to 0.91-0.98 ms (in-process,
    2,000 pages at 50 at a time): more CPU in all, on the same machine."""
    if conn.dialect.name == "postgresql":
        items = await list_case_page(conn, **page)
        return [(orjson.dumps(item).decode(), item["updated_at"], item["id"]) for item in items]
    filters, params = _page_query(page)
    # The database wrote every value as text: no column needs a result processor.
    return await _plan(conn.dialect, filters, True).raw_rows(conn, params)
