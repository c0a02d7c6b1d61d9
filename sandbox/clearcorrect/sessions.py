"""Signed-in sessions and half-finished (second-factor) sign-ins, on wall time.

The session cookie (`.ASPXAUTH` on the WebForms pages, `.AspNetCore.Identity.Application` in
the Identity app) names a server-side ticket (the real
portal encrypts the ticket into the cookie; a server-side one lets the admin API expire
sessions and the faults drop them). Expiry is *sliding*, like ASP.NET Core's cookie
authentication default: each use pushes the end `ttl` seconds further, so an idle session dies
`session_ttl_seconds` after its last request. Every lookup asks the faults whether to drop it.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

from sandbox.clearcorrect.data import MfaChannel
from sandbox.common.faults import Faults

SESSION_COOKIE = ".AspNetCore.Identity.Application"
TWO_FACTOR_COOKIE = "Identity.TwoFactorUserId"
# A code step must be finished within this time, as ASP.NET Identity's two-factor cookie.
TWO_FACTOR_SECONDS = 5 * 60
EMAIL_CODE_SECONDS = 10 * 60

Clock = Callable[[], float]


def ticket() -> str:
    """An opaque cookie value shaped like ASP.NET Core data-protection output."""
    return "CfDJ8" + secrets.token_urlsafe(96)


def forms_ticket() -> str:
    """An opaque value shaped like a WebForms forms-authentication ticket (upper-case hex)."""
    return secrets.token_hex(80).upper()


@dataclass
class Session:
    token: str
    username: str
    expires_at: float
    # A user whose password expired is signed in only as far as the change-password page.
    password_expired: bool = False


@dataclass
class PendingSignIn:
    """A sign-in waiting for its second factor (password already checked)."""

    token: str
    username: str
    channel: MfaChannel
    return_url: str
    remember: bool
    expires_at: float
    email_code: str | None = None
    code_expires_at: float = 0.0


class SessionStore:
    def __init__(self, ttl_seconds: float, faults: Faults, clock: Clock = time.time) -> None:
        self._ttl = ttl_seconds
        self._faults = faults
        self._clock = clock
        self._sessions: dict[str, Session] = {}
        self._pending: dict[str, PendingSignIn] = {}

    def clear(self) -> None:
        self._sessions.clear()
        self._pending.clear()

    def create(
        self, username: str, password_expired: bool = False, token: str | None = None
    ) -> Session:
        session = Session(token or ticket(), username, self._clock() + self._ttl, password_expired)
        self._sessions[session.token] = session
        return session

    def lookup(self, token: str | None) -> Session | None:
        """The live session for a cookie value, sliding its expiry; None forces a new login."""
        if not token:
            return None
        session = self._sessions.get(token)
        if session is None:
            return None
        now = self._clock()
        if session.expires_at <= now or self._faults.should_drop_session():
            del self._sessions[token]
            return None
        session.expires_at = now + self._ttl
        return session

    def end(self, token: str | None) -> None:
        if token:
            self._sessions.pop(token, None)

    def expire(self, username: str | None) -> int:
        """End every session (of one user, or of all); returns how many ended."""
        doomed = [
            t for t, s in self._sessions.items() if username is None or s.username == username
        ]
        for token in doomed:
            del self._sessions[token]
        return len(doomed)

    def start_pending(
        self, username: str, channel: MfaChannel, return_url: str, remember: bool
    ) -> PendingSignIn:
        for token in [t for t, p in self._pending.items() if p.username == username]:
            del self._pending[token]  # a new sign-in replaces an earlier half-finished one
        pending = PendingSignIn(
            ticket(), username, channel, return_url, remember, self._clock() + TWO_FACTOR_SECONDS
        )
        if channel == "email":
            pending.email_code = f"{secrets.randbelow(1_000_000):06d}"
            pending.code_expires_at = self._clock() + EMAIL_CODE_SECONDS
        self._pending[pending.token] = pending
        return pending

    def pending(self, token: str | None) -> PendingSignIn | None:
        if not token:
            return None
        pending = self._pending.get(token)
        if pending is None or pending.expires_at <= self._clock():
            self._pending.pop(token or "", None)
            return None
        return pending

    def finish_pending(self, token: str) -> None:
        self._pending.pop(token, None)

    def now(self) -> float:
        return self._clock()
