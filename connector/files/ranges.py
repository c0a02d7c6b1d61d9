"""HTTP byte ranges of a stored file (RFC 9110 section 14): one range, or the whole file.

A Range header that cannot be parsed is ignored (the whole file is served), and so is one with
several ranges (allowed: a server may answer with the whole representation). A syntactically
valid single range that no byte satisfies is refused with 416.
"""

from __future__ import annotations

import re

_RANGE = re.compile(r"^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$", re.IGNORECASE)


class RangeNotSatisfiable(Exception):
    """The one range asked for lies outside the file."""


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """(first, last) inclusive for a single satisfiable range; None for the whole file."""
    if not header or "," in header:
        return None
    match = _RANGE.match(header)
    if match is None:
        return None
    start, end = match.group(1), match.group(2)
    if not start and not end:
        return None
    if not start:  # a suffix: the last N bytes
        length = int(end)
        if length == 0 or size == 0:
            raise RangeNotSatisfiable
        return max(0, size - length), size - 1
    first = int(start)
    last = int(end) if end else size - 1
    if end and last < first:
        return None  # invalid: ignored
    if first >= size:
        raise RangeNotSatisfiable
    return first, min(last, size - 1)
