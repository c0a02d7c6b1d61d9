"""The portal's virtual clock for data.

Case data (setups, status changes, comments) is stamped with this clock, which only moves when
the admin API ticks it, so incremental-sync tests are reproducible. Sessions and lockouts use
wall time instead, because they model rules a client must respect in real time.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

EPOCH = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


class VirtualClock:
    """A monotonic clock that starts at a fixed instant and advances only when told."""

    def __init__(self, start: datetime = EPOCH) -> None:
        if start.tzinfo is None:
            raise ValueError("the virtual clock needs an aware datetime")
        self._now = start.astimezone(UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> datetime:
        if delta < timedelta(0):
            raise ValueError("the virtual clock never runs backwards")
        self._now += delta
        return self._now
