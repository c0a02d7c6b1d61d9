"""What the sign-in flows and the two readers need from a session: its HTTP channel to the
portal, under the one retry policy, and the one new login it may make when the portal ends it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

import httpx


class Channel(Protocol):
    #: The portal's origin (`https://…`, no trailing slash).
    base_url: str
    #: Bumped by every sign-in: tells a request that saw the session end whether another
    #: request already signed in again meanwhile.
    generation: int

    def now(self) -> datetime: ...

    async def send(
        self, method: str, url: str, *, idempotent: bool | None = None, **kwargs: Any
    ) -> httpx.Response:
        """One request through `adapters.http.send` (the one retry policy)."""
        ...

    async def relogin(self, seen_generation: int) -> None:
        """Sign in again once, because the portal ended the session (shared by concurrent
        requests; raises `SessionExpired` when that may not happen again)."""
        ...

    def cookie(self, name: str) -> str | None: ...

    def forget_cookie(self, name: str) -> None: ...
