"""Paging for `/v1` lists: `{items, next_cursor}`, a `limit`, and keyset cursors.

A cursor names the list it belongs to and the sort key of the last item returned, e.g.
`c.1767225660000000.case_01j9...` (cases: updated-at in microseconds, then the id). Keyset
paging, not offsets: a row inserted or removed while a client pages neither shifts the pages
after it (no duplicates, no gaps among the rows that were there) nor makes the query slower the
deeper it goes.

Each list's cursor pattern is in the OpenAPI document, and every string that matches it is a
valid position, so the schema says exactly which cursors are accepted: one that does not match
is a 422 whose message does not repeat it. Clients should still treat cursors as opaque and pass
back the `next_cursor` they were given; the format may change.

A list the store renders in its public shape (`page_response`), or the database writes out as
JSON (`written_page_response`), is sent as it is, without a pydantic model: the route declares
its `response_model` for the OpenAPI document, and a test holds the rendered items to that
model. Encoding a 100-case page, measured on the 2-CPU
development machine (min-max of 5 x 1,000 pages, same run): pydantic `model_validate` +
`model_dump_json` 0.46-0.56 ms, pydantic `TypeAdapter(dict).dump_json` (no validation)
0.11-0.14 ms, `json.dumps` as FastAPI's `JSONResponse` does it 0.30-0.32 ms, orjson
0.032-0.033 ms, hence orjson.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import orjson
from fastapi import Query
from fastapi.responses import Response

from adapters.registry import vendor_names
from connector.errors import InputError

DEFAULT_LIMIT = 100
MAX_LIMIT = 500

Limit = Annotated[
    int,
    Query(ge=1, le=MAX_LIMIT, description=f"Items per page (1-{MAX_LIMIT}).", examples=[100]),
]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_INVALID = "cursor is not valid: pass the next_cursor of an earlier response of this list"

#: How each kind of sort-key field is written in a cursor, as a pattern every value matches.
_FIELD_PATTERNS = {
    "t": "[0-9]{1,16}",  # a time: microseconds since 1970 (up to the year 2286)
    "i": "[A-Za-z0-9_]{1,40}",  # an id the server made
    "v": "(?:" + "|".join(re.escape(v) for v in vendor_names()) + ")",  # a vendor
    "d": "(?:[0-9a-f]{2}){1,400}",  # free text (a vendor's doctor id), as UTF-8 in hex
}


@dataclass(frozen=True)
class CursorKind:
    """One list's cursors: a tag, then its sort-key fields, separated by dots."""

    name: str
    tag: str
    fields: tuple[str, ...]

    @property
    def pattern(self) -> str:
        parts = [re.escape(self.tag), *(_FIELD_PATTERNS[f] for f in self.fields)]
        return "^" + r"\.".join(parts) + "$"

    @property
    def max_length(self) -> int:
        return 1 + sum({"t": 17, "i": 41, "v": 33, "d": 801}[f] for f in self.fields)


ACCOUNTS = CursorKind("accounts", "a", ("i",))
CASES = CursorKind("cases", "c", ("t", "i"))
RUNS = CursorKind("runs", "r", ("t", "i"))
MAPPINGS = CursorKind("mappings", "m", ("v", "d"))
KINDS = {kind.name: kind for kind in (ACCOUNTS, CASES, RUNS, MAPPINGS)}


def _cursor_parameter(kind: CursorKind) -> Any:
    """The `cursor` query parameter of one list, with its exact pattern."""
    return Query(
        max_length=kind.max_length,
        pattern=kind.pattern,
        description="The `next_cursor` of the previous page; omit for the first page.",
    )


AccountsCursor = Annotated[str | None, _cursor_parameter(ACCOUNTS)]
CasesCursor = Annotated[str | None, _cursor_parameter(CASES)]
RunsCursor = Annotated[str | None, _cursor_parameter(RUNS)]
MappingsCursor = Annotated[str | None, _cursor_parameter(MAPPINGS)]


def _micros(value: datetime) -> int:
    return (value.astimezone(UTC) - _EPOCH) // timedelta(microseconds=1)


def time_text(value: datetime) -> str:
    """A time as a cursor field."""
    return str(max(_micros(value), 0))


def encode_cursor(kind: str, **values: str | datetime) -> str:
    """The cursor of list `kind` after the row whose sort key is `values` (times may be given
    as datetimes or as `time_text`; free text as it is)."""
    spec = KINDS[kind]
    parts = [spec.tag]
    for name in spec.fields:
        value = values[name]
        if isinstance(value, datetime):
            parts.append(time_text(value))
        elif name == "d":
            parts.append(value.encode("utf-8").hex())
        else:
            parts.append(value)
    return ".".join(parts)


def decode_cursor(cursor: str, kind: CursorKind) -> tuple[Any, ...]:
    """The sort key a cursor of `kind` stands for: datetimes for times, text otherwise.
    `InputError` (without echoing it) when it is not one of this list's."""
    if len(cursor) > kind.max_length or not re.fullmatch(kind.pattern, cursor):
        raise InputError(_INVALID)
    values: list[Any] = []
    for name, text in zip(kind.fields, cursor.split(".")[1:], strict=True):
        if name == "t":
            values.append(_EPOCH + timedelta(microseconds=int(text)))
        elif name == "d":
            # Any bytes are a position in the list; what is not UTF-8 (or a NUL, which the
            # databases do not store in text) still sorts somewhere.
            values.append(bytes.fromhex(text).decode("utf-8", "replace").replace("\x00", "\ufffd"))
        else:
            values.append(text)
    return tuple(values)


def utc(value: datetime) -> datetime:
    """An aware UTC datetime; a naive one is taken as UTC. A time beyond what UTC can hold
    (year 1 with an eastern offset, say) is the earliest or latest time there is."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except (OverflowError, ValueError):
        offset = value.utcoffset() or timedelta(0)
        extreme = datetime.min if offset > timedelta(0) else datetime.max
        return extreme.replace(tzinfo=UTC)


def page(rows: list[Any], limit: int, key: Any, kind: str) -> tuple[list[Any], str | None]:
    """Split a `limit + 1` fetch into the page and the cursor to the next one (None at the end).

    `key(row)` gives the cursor values of a row (a dict).
    """
    if len(rows) <= limit:
        return rows, None
    items = rows[:limit]
    return items, encode_cursor(kind, **key(items[-1]))


def page_response(rows: list[Any], limit: int, key: Any, kind: str) -> Response:
    """`page`, written out as the JSON response `{items, next_cursor}` (rows already in their
    public JSON shape: strings, numbers, booleans, nulls, lists and dicts)."""
    items, next_cursor = page(rows, limit, key, kind)
    return Response(
        orjson.dumps({"items": items, "next_cursor": next_cursor}), media_type="application/json"
    )


def written_page_response(rows: list[Any], limit: int, key: Any, kind: str) -> Response:
    """`page_response` of rows the database wrote out: each row's first value is its item's
    JSON text (the bytes orjson writes for it), `key(row)` its cursor values. The body is the
    bytes `page_response` makes of the same items."""
    items, next_cursor = page(rows, limit, key, kind)
    body = b"".join(
        (
            b'{"items":[',
            ",".join([row[0] for row in items]).encode(),
            b'],"next_cursor":',
            orjson.dumps(next_cursor),
            b"}",
        )
    )
    return Response(body, media_type="application/json")
