"""Paging for `/v1` lists: `{items, next_cursor}`, a `limit`, and opaque keyset cursors.

A cursor is base64url JSON naming the list it belongs to and the sort key of the last item
returned (`{"k": "cases", "t": "<updated_at>", "i": "<id>"}`). Keyset paging, not offsets: a
row inserted or removed while a client pages neither shifts the pages after it (no duplicates,
no gaps among the rows that were there) nor makes the query slower the deeper it goes.

Clients must not build or parse cursors; one that does not decode, or that belongs to another
list, is a 422 whose message does not repeat it.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Query

from connector.errors import InputError

DEFAULT_LIMIT = 100
MAX_LIMIT = 500
MAX_CURSOR = 512
CURSOR_PATTERN = r"^[A-Za-z0-9_-]{1,512}$"

Limit = Annotated[
    int,
    Query(ge=1, le=MAX_LIMIT, description=f"Items per page (1-{MAX_LIMIT}).", examples=[100]),
]
Cursor = Annotated[
    str | None,
    Query(
        max_length=MAX_CURSOR,
        pattern=CURSOR_PATTERN,
        description="The `next_cursor` of the previous page; omit for the first page.",
    ),
]

_INVALID = "cursor is not valid: pass the next_cursor of an earlier response of this list"


def encode_cursor(kind: str, **values: str) -> str:
    raw = json.dumps({"k": kind, **values}, separators=(",", ":"), sort_keys=True)
    return base64.urlsafe_b64encode(raw.encode()).decode("ascii").rstrip("=")


def decode_cursor(cursor: str, kind: str, fields: tuple[str, ...]) -> dict[str, str]:
    """The values of a cursor of list `kind`; every one of `fields` is a short string."""
    if len(cursor) > MAX_CURSOR:
        raise InputError(_INVALID)
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data: Any = json.loads(raw.decode("utf-8"))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise InputError(_INVALID) from None
    if not isinstance(data, dict) or data.get("k") != kind or set(data) != {"k", *fields}:
        raise InputError(_INVALID)
    values = {name: data[name] for name in fields}
    for value in values.values():
        if not isinstance(value, str) or not 0 < len(value) <= 200 or "\x00" in value:
            raise InputError(_INVALID)
    return values


def cursor_time(value: str) -> datetime:
    """A time stored in a cursor (always written by `time_text`)."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise InputError(_INVALID) from None
    if parsed.tzinfo is None:
        raise InputError(_INVALID)
    return utc(parsed)


def time_text(value: datetime) -> str:
    return value.astimezone(UTC).isoformat()


def utc(value: datetime, what: str = "cursor") -> datetime:
    """An aware UTC datetime; a naive one is taken as UTC. 422 when it cannot be one."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except (OverflowError, ValueError):
        raise InputError(f"{what} is out of range") from None


def page(rows: list[Any], limit: int, key: Any, kind: str) -> tuple[list[Any], str | None]:
    """Split a `limit + 1` fetch into the page and the cursor to the next one (None at the end).

    `key(row)` gives the cursor values of a row (a dict of strings).
    """
    if len(rows) <= limit:
        return rows, None
    items = rows[:limit]
    return items, encode_cursor(kind, **key(items[-1]))
