"""The listing cursor: this adapter's own, opaque to the sync engine.

Compact JSON, versioned:

- `{"v": 1}` or no cursor at all: a full listing;
- `{"v": 1, "since": "<iso>"}`: an incremental listing of the cases whose `updatedAt` is at or
  after `since` (the portal's `updatedSince` is inclusive, so a case updated in the same second
  as the last one seen is not missed);
- mid-listing (a page's `next_cursor`) it also carries the next `page`, the `totalCount` the
  listing started with (`total`, to notice the list changing under it), the watermark `mark`
  taken from the portal's own `updatedAt` values when the listing started, how many distinct
  cases it has seen (`seen`) and how many times it restarted (`r`); a listing of the pages also
  names the status group it is in (`g`).

Both readers (the JSON API and the pages) write and read the same cursor, so a portal that
stops (or starts) answering the API mid-way costs at most a longer listing.

An unreadable cursor (corrupted, or written by a future version) means a full listing: that
costs requests, never data.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import datetime

import structlog

from adapters.base import utc

_log = structlog.get_logger("adapters.clearcorrect")

VERSION = 1


@dataclass(frozen=True)
class Cursor:
    since: datetime | None = None
    page: int = 1
    total: int | None = None
    mark: datetime | None = None
    seen: int = 0
    restarts: int = 0
    group: str | None = None

    @property
    def at_start(self) -> bool:
        return self.page == 1

    def restarted(self) -> Cursor:
        return Cursor(since=self.since, mark=self.mark, restarts=self.restarts + 1)

    def next_page(self, total: int, mark: datetime | None, seen: int) -> Cursor:
        return replace(self, page=self.page + 1, total=total, mark=mark, seen=seen)

    def resume(self) -> Cursor:
        """Where the next incremental listing starts once this one completed."""
        return Cursor(since=self.mark or self.since)


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def encode(cursor: Cursor) -> str:
    data: dict[str, object] = {"v": VERSION}
    if cursor.since is not None:
        data["since"] = _iso(cursor.since)
    if cursor.page != 1:
        data["page"] = cursor.page
    if cursor.total is not None:
        data["total"] = cursor.total
    if cursor.mark is not None:
        data["mark"] = _iso(cursor.mark)
    if cursor.seen:
        data["seen"] = cursor.seen
    if cursor.restarts:
        data["r"] = cursor.restarts
    if cursor.group is not None:
        data["g"] = cursor.group
    return json.dumps(data, separators=(",", ":"))


def _count(value: object, low: int) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and value >= low:
        return value
    return None


def _time(value: object) -> datetime | None:
    if not isinstance(value, str):
        raise ValueError("not a time")
    moment = utc(value)
    if moment is None:
        raise ValueError("not a time")
    return moment


def decode(text: str | None) -> Cursor:
    """The cursor `text` stands for; a full listing for None or anything unreadable."""
    if text is None:
        return Cursor()
    try:
        data = json.loads(text)
        if not isinstance(data, dict) or data.get("v") != VERSION:
            raise ValueError("not a version 1 cursor")
        since = _time(data["since"]) if "since" in data else None
        mark = _time(data["mark"]) if "mark" in data else None
        page = _count(data.get("page", 1), 1)
        total = _count(data["total"], 0) if "total" in data else None
        seen = _count(data.get("seen", 0), 0)
        restarts = _count(data.get("r", 0), 0)
        if page is None or seen is None or restarts is None or ("total" in data and total is None):
            raise ValueError("bad numbers")
        group = data.get("g")
        if group is not None and (not isinstance(group, str) or not group.isalnum()):
            raise ValueError("not a group")
        if page > 1 and total is None and group is None:
            raise ValueError("a mid-listing cursor without its total")
    except (ValueError, TypeError, KeyError, OverflowError):
        _log.warning("clearcorrect.cursor_unreadable", action="full listing")
        return Cursor()
    return Cursor(since, page, total, mark, seen, restarts, group)
