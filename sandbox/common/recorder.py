"""What clients did to a portal: request counts per endpoint and per user, login attempts, and
everything a client posted. Benchmarks count requests with it; exactly-once tests read the posts.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sandbox.common.faults import ADMIN_PREFIX

# Ids in paths are folded so counts are per endpoint, not per case.
_ID_SEGMENT = re.compile(r"/(?:[0-9]+|[0-9a-fA-F-]{16,}|[A-Z]{1,4}-?[0-9]{3,})(?=/|$)")
STATE_USER_KEY = "sandbox_user"


def endpoint_key(method: str, path: str) -> str:
    return f"{method} {_ID_SEGMENT.sub('/{id}', path)}"


@dataclass
class LoginCounter:
    attempts: int = 0
    failures: int = 0
    successes: int = 0
    consecutive_failures: int = 0
    locked_until: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "attempts": self.attempts,
            "failures": self.failures,
            "successes": self.successes,
            "consecutive_failures": self.consecutive_failures,
            "locked_until": self.locked_until.isoformat() if self.locked_until else None,
        }


@dataclass
class Recorder:
    """Thread-safe tallies (benchmarks read them from another thread while the server runs)."""

    requests: Counter[str] = field(default_factory=Counter)
    requests_by_user: dict[str, Counter[str]] = field(default_factory=dict)
    logins: dict[str, LoginCounter] = field(default_factory=dict)
    posted: list[dict[str, Any]] = field(default_factory=list)
    #: File answers by how they went: `whole`, `ranged` (206), `refused` (416), `dropped`.
    transfers: Counter[str] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def count_request(self, method: str, path: str, status: int, user: str | None) -> None:
        key = endpoint_key(method, path)
        with self._lock:
            self.requests[key] += 1
            if user is not None:
                self.requests_by_user.setdefault(user, Counter())[key] += 1

    def count_transfer(self, how: str) -> None:
        with self._lock:
            self.transfers[how] += 1

    def login(self, username: str) -> LoginCounter:
        """The counter of one username (created on first use); callers update it in place."""
        with self._lock:
            return self.logins.setdefault(username.lower(), LoginCounter())

    def record_post(self, kind: str, user: str, **details: Any) -> None:
        entry = {"kind": kind, "user": user, "at": datetime.now(UTC).isoformat(), **details}
        with self._lock:
            self.posted.append(entry)

    def reset(self) -> None:
        """Forget everything (a fresh seed): requests, login counters and posts."""
        with self._lock:
            self.requests.clear()
            self.requests_by_user.clear()
            self.transfers.clear()
            self.logins.clear()
            self.posted.clear()

    def reset_requests(self) -> None:
        with self._lock:
            self.requests.clear()
            self.requests_by_user.clear()
            self.transfers.clear()

    def requests_json(self) -> dict[str, Any]:
        with self._lock:
            return {
                "total": sum(self.requests.values()),
                "by_endpoint": dict(self.requests),
                "by_user": {u: dict(c) for u, c in self.requests_by_user.items()},
                "total_by_user": {u: sum(c.values()) for u, c in self.requests_by_user.items()},
                "transfers": dict(self.transfers),
            }

    def logins_json(self) -> dict[str, Any]:
        with self._lock:
            return {u: c.to_json() for u, c in self.logins.items()}


class RecorderMiddleware:
    """Counts every portal request once its response starts (admin routes are not counted).

    Vendor apps attribute a request to a user by setting `request.state.sandbox_user`.
    """

    def __init__(self, app: ASGIApp, recorder: Recorder) -> None:
        self.app = app
        self.recorder = recorder

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(ADMIN_PREFIX):
            await self.app(scope, receive, send)
            return
        scope.setdefault("state", {})

        async def send_and_count(message: Message) -> None:
            if message["type"] == "http.response.start":
                user = scope["state"].get(STATE_USER_KEY)
                self.recorder.count_request(scope["method"], scope["path"], message["status"], user)
            await send(message)

        await self.app(scope, receive, send_and_count)
