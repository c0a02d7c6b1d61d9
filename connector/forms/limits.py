"""Rate limits on form submissions, per link and per client address.

Kept in memory, per process (documented in the README and `config.example.toml`): they slow
down someone hammering one link or trying many links from one address. What actually protects
the dentist from a portal lockout is the per-account login-failure budget in the database
(`connector.sync.budget`), which every process and every sync share.
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable


class SlidingWindow:
    """At most `limit` hits per key within `window` seconds."""

    def __init__(
        self,
        limit: int,
        window: float,
        *,
        max_keys: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self.window = window
        self.max_keys = max_keys
        self._clock = clock
        self._hits: OrderedDict[str, deque[float]] = OrderedDict()

    def _recent(self, key: str, now: float) -> deque[float]:
        hits = self._hits.get(key)
        if hits is None:
            return deque()
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        if not hits:
            del self._hits[key]
        return hits

    def retry_after(self, key: str) -> float | None:
        """Seconds until `key` may hit again, or None when it may now."""
        now = self._clock()
        hits = self._recent(key, now)
        if len(hits) < self.limit:
            return None
        return max(0.0, hits[-self.limit] + self.window - now)

    def hit(self, key: str) -> None:
        now = self._clock()
        hits = self._recent(key, now)
        if key not in self._hits:
            self._hits[key] = hits
        self._hits.move_to_end(key)
        hits.append(now)
        while len(self._hits) > self.max_keys:
            self._hits.popitem(last=False)


class FormLimits:
    """Both limits together: a submission counts only when both allow it."""

    def __init__(
        self,
        *,
        per_token: int,
        per_address: int,
        window: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.tokens = SlidingWindow(per_token, window, clock=clock)
        self.addresses = SlidingWindow(per_address, window, clock=clock)

    def attempt(self, session_id: str, address: str) -> float | None:
        """Count a submission; None when allowed, else seconds until one would be."""
        waits = [
            wait
            for wait in (self.tokens.retry_after(session_id), self.addresses.retry_after(address))
            if wait is not None
        ]
        if waits:
            return max(waits)
        self.tokens.hit(session_id)
        self.addresses.hit(address)
        return None
