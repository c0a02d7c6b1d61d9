"""Faults on demand: added latency, server errors, 429s, dropped sessions, downloads whose
connection drops mid-body, a changed layout.

Faults apply to portal routes only, never to `/__sandbox/`, so a test can always turn them off.
They draw from their own seeded random generator, independent of the data generator, so that
switching faults on does not change which data a seed produces.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import asdict, dataclass, field
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

ADMIN_PREFIX = "/__sandbox"

_ERROR_PAGE = (
    "<!doctype html><html><head><title>{status} {reason}</title></head>"
    "<body><h1>{status} {reason}</h1><p>The server is temporarily unable to service your "
    "request. Please try again later.</p></body></html>"
)
_REASONS = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}


@dataclass
class Faults:
    """Current fault settings of one portal; changed at run time through the admin API."""

    latency_ms: float = 0.0
    # Added after the portal handled the request, before its answer leaves: a client that
    # gives up (or dies) meanwhile has changed the portal without hearing so.
    response_latency_ms: float = 0.0
    error_rate: float = 0.0
    # Share of requests the portal HANDLES and then answers with a gateway error anyway (the
    # answer was "lost" on the way back): for exactly-once tests of non-idempotent requests.
    late_error_rate: float = 0.0
    error_statuses: tuple[int, ...] = (500, 502, 503)
    rate_limit_rate: float = 0.0
    retry_after_seconds: int | None = 1
    session_drop_rate: float = 0.0
    # Share of file downloads whose connection drops at a random byte of the body (the
    # client has part of the file and may resume it with a Range request).
    transfer_drop_rate: float = 0.0
    # Pause between two pieces (256 KiB) of a file's body: a slow transfer, caught in the middle.
    transfer_pause_ms: float = 0.0
    # 1 is the portal as documented; 2 renames markup and JSON fields parsers depend on.
    layout_version: int = 1
    # Empty means every portal route; otherwise only paths starting with one of these.
    path_prefixes: tuple[str, ...] = ()
    seed: int = 0
    _rng: random.Random = field(default_factory=random.Random, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._rng.seed(self.seed)
        self.validate()

    def validate(self) -> None:
        for name in (
            "error_rate",
            "late_error_rate",
            "rate_limit_rate",
            "session_drop_rate",
            "transfer_drop_rate",
        ):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1")
        if self.latency_ms < 0 or self.response_latency_ms < 0 or self.transfer_pause_ms < 0:
            raise ValueError("latencies must not be negative")
        if self.layout_version not in (1, 2):
            raise ValueError("layout_version must be 1 or 2")
        if any(s not in _REASONS for s in self.error_statuses) or not self.error_statuses:
            raise ValueError("error_statuses must be a non-empty subset of 500, 502, 503")
        if self.retry_after_seconds is not None and self.retry_after_seconds < 0:
            raise ValueError("retry_after_seconds must not be negative")

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("_rng")
        data["error_statuses"] = list(self.error_statuses)
        data["path_prefixes"] = list(self.path_prefixes)
        return data

    def update(self, changes: dict[str, Any]) -> None:
        """Apply a partial update from the admin API; unknown keys or bad values change nothing."""
        allowed = set(self.to_json())
        unknown = set(changes) - allowed
        if unknown:
            raise ValueError(f"unknown fault setting(s): {', '.join(sorted(unknown))}")
        candidate = {**self.to_json(), **changes}
        candidate["error_statuses"] = tuple(candidate["error_statuses"])
        candidate["path_prefixes"] = tuple(candidate["path_prefixes"])
        fresh = Faults(**candidate)  # validates
        for key in allowed:
            setattr(self, key, getattr(fresh, key))
        if "seed" in changes:
            self._rng.seed(self.seed)

    def reset(self) -> None:
        self.update({k: v for k, v in Faults().to_json().items() if k != "seed"})

    def applies_to(self, path: str) -> bool:
        if path.startswith(ADMIN_PREFIX):
            return False
        return not self.path_prefixes or path.startswith(self.path_prefixes)

    def roll(self, rate: float) -> bool:
        return rate > 0 and self._rng.random() < rate

    def should_drop_session(self) -> bool:
        """Vendor apps call this when they look a session up: True means forget it now."""
        return self.roll(self.session_drop_rate)

    def transfer_drop(self, first: int, last: int) -> int | None:
        """Where a file answer sending bytes `first`..`last` drops its connection (a byte
        offset in that span), or None to send it whole."""
        if last <= first or not self.roll(self.transfer_drop_rate):
            return None
        return self._rng.randint(first, last)


class FaultsMiddleware:
    """Injects latency, 5xx and 429 answers before the portal sees a request."""

    def __init__(self, app: ASGIApp, faults: Faults) -> None:
        self.app = app
        self.faults = faults

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.faults.applies_to(scope["path"]):
            await self.app(scope, receive, send)
            return
        faults = self.faults
        if faults.latency_ms > 0:
            await asyncio.sleep(faults.latency_ms / 1000)
        if faults.roll(faults.rate_limit_rate):
            headers = [(b"content-type", b"text/plain; charset=utf-8")]
            if faults.retry_after_seconds is not None:
                headers.append((b"retry-after", str(faults.retry_after_seconds).encode()))
            await _respond(send, 429, headers, b"Too Many Requests")
            return
        if faults.roll(faults.error_rate):
            status = faults._rng.choice(faults.error_statuses)
            body = _ERROR_PAGE.format(status=status, reason=_REASONS[status]).encode()
            await _respond(send, status, [(b"content-type", b"text/html; charset=utf-8")], body)
            return
        if faults.roll(faults.late_error_rate):
            await self.app(scope, receive, _discard)
            body = _ERROR_PAGE.format(status=502, reason=_REASONS[502]).encode()
            await _respond(send, 502, [(b"content-type", b"text/html; charset=utf-8")], body)
            return
        if faults.response_latency_ms > 0:
            delay = faults.response_latency_ms / 1000

            async def send_late(message: Message) -> None:
                if message["type"] == "http.response.start":
                    await asyncio.sleep(delay)
                await send(message)

            await self.app(scope, receive, send_late)
            return
        await self.app(scope, receive, send)


async def _discard(message: Message) -> None:
    """Swallow the portal's own answer (see `late_error_rate`)."""
    return None


async def _respond(
    send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes
) -> None:
    headers = [*headers, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
