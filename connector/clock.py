"""The one place the connector asks for the time.

`shift()` is for tests only: they move the connector's clock and a sandbox portal's wall clock
(`SandboxConfig.wall`) by the same offset, so "wait 21 minutes" or "the lockout ended" takes no
time. Nothing in the connector calls it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

_offset = timedelta(0)


def utcnow() -> datetime:
    return datetime.now(UTC) + _offset


def offset() -> timedelta:
    return _offset


def shift(delta: timedelta) -> None:
    """Move the connector's time forward (tests only)."""
    global _offset
    _offset += delta


def reset() -> None:
    """Back to real time (tests only)."""
    global _offset
    _offset = timedelta(0)
