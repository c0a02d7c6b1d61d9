"""Sessions on wall time: app sessions, saved logins and login transactions.

- An app session (`JSESSIONID`) ends after `ttl` seconds without a request, like a servlet
  container's session timeout.
- A saved login (the `auth0` cookie the login host sets when "Keep me signed in" is ticked) lets
  a returning browser get a new app session without the password, until it is older than
  `max_age` or has been idle for `max_idle` (90 and 30 days: an assumed rule, no source shows
  it; see ids.session.saved-login-life in the facts register).
- A login transaction is one pass through the hosted login page (`/u/login?state=...`): its
  challenge, who passed the password step and which second step is pending.

Wall time is injected (`wall`) so tests can move it without sleeping.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

Stage = Literal["password", "mfa_email", "mfa_totp", "change_password"]
TRANSACTION_TTL = 30 * 60
CODE_TTL = 10 * 60
MAX_TRANSACTIONS = 20_000


@dataclass
class AppSession:
    session_id: str
    username: str
    csrf_token: str
    created_at: float
    last_seen: float


@dataclass
class SavedLogin:
    token: str
    username: str
    created_at: float
    last_used: float


@dataclass
class LoginTransaction:
    state: str
    return_to: str
    challenge: str
    created_at: float
    #: The app's callback URL (on the app host) the finished login redirects to with a code.
    callback: str
    stage: Stage = "password"
    username: str | None = None
    remember: bool = False
    email_code: str | None = None
    code_sent_at: float = 0.0
    code_failures: int = 0


class Sessions:
    def __init__(
        self, wall: Callable[[], float], ttl: float, max_age: float, max_idle: float
    ) -> None:
        self.wall = wall
        self.ttl = ttl
        self.max_age = max_age
        self.max_idle = max_idle
        self._sessions: dict[str, AppSession] = {}
        self._saved: dict[str, SavedLogin] = {}
        self._transactions: dict[str, LoginTransaction] = {}
        self._codes: dict[str, tuple[str, bool, str, float]] = {}

    def clear(self) -> None:
        self._sessions.clear()
        self._saved.clear()
        self._transactions.clear()
        self._codes.clear()

    # App sessions -----------------------------------------------------------------------------

    def open_session(self, username: str) -> AppSession:
        now = self.wall()
        session_id, csrf = secrets.token_hex(16).upper(), secrets.token_urlsafe(24)
        session = AppSession(session_id, username, csrf, now, now)
        self._sessions[session.session_id] = session
        return session

    def session(self, session_id: str | None) -> AppSession | None:
        """The live session for a cookie value, refreshed; an idle one is forgotten."""
        if not session_id:
            return None
        session = self._sessions.get(session_id)
        if session is None:
            return None
        now = self.wall()
        if now - session.last_seen >= self.ttl:
            del self._sessions[session_id]
            return None
        session.last_seen = now
        return session

    def drop(self, session_id: str) -> None:
        self._sessions.pop(session_id, None)

    # Saved logins -----------------------------------------------------------------------------

    def save_login(self, username: str) -> SavedLogin:
        now = self.wall()
        saved = SavedLogin(secrets.token_urlsafe(32), username, now, now)
        self._saved[saved.token] = saved
        return saved

    def use_saved_login(self, token: str | None) -> str | None:
        """The username behind a saved login that is still allowed, else None (and forget it)."""
        if not token:
            return None
        saved = self._saved.get(token)
        if saved is None:
            return None
        now = self.wall()
        if now - saved.created_at >= self.max_age or now - saved.last_used >= self.max_idle:
            del self._saved[token]
            return None
        saved.last_used = now
        return saved.username

    def forget_saved_login(self, token: str | None) -> None:
        if token:
            self._saved.pop(token, None)

    def forget_saved_logins_of(self, username: str) -> None:
        """A log-out ends the user's saved logins too (the login host's cookie is not sent to
        the app host, so they are found by user)."""
        for key in [k for k, s in self._saved.items() if s.username.lower() == username.lower()]:
            del self._saved[key]

    def expire_user(self, username: str | None) -> int:
        """End app sessions and saved logins (of one user, or everyone): a full log-out."""

        def matches(name: str) -> bool:
            return username is None or name.lower() == username.lower()

        ended = [k for k, s in self._sessions.items() if matches(s.username)]
        forgotten = [k for k, s in self._saved.items() if matches(s.username)]
        for key in ended:
            del self._sessions[key]
        for key in forgotten:
            del self._saved[key]
        return len(ended) + len(forgotten)

    # Login transactions -----------------------------------------------------------------------

    def begin(self, return_to: str, callback: str) -> LoginTransaction:
        now = self.wall()
        if len(self._transactions) >= MAX_TRANSACTIONS:
            self._purge_transactions(now)
        state, challenge = secrets.token_urlsafe(24), secrets.token_hex(12)
        txn = LoginTransaction(state, return_to, challenge, now, callback)
        self._transactions[txn.state] = txn
        return txn

    def transaction(self, state: str | None) -> LoginTransaction | None:
        if not state:
            return None
        txn = self._transactions.get(state)
        if txn is not None and self.wall() - txn.created_at >= TRANSACTION_TTL:
            del self._transactions[state]
            return None
        return txn

    def finish(self, txn: LoginTransaction) -> str:
        """End a transaction that authenticated someone; return a one-time authorization code."""
        self._transactions.pop(txn.state, None)
        assert txn.username is not None
        return self.issue_code(txn.username, txn.remember, txn.return_to)

    def abandon(self, txn: LoginTransaction) -> None:
        self._transactions.pop(txn.state, None)

    def issue_code(self, username: str, remember: bool, return_to: str) -> str:
        code = secrets.token_urlsafe(16)
        self._codes[code] = (username, remember, return_to, self.wall())
        return code

    def redeem_code(self, code: str | None) -> tuple[str, bool, str] | None:
        """Exchange an authorization code once (the callback), within a minute of issue."""
        if not code or code not in self._codes:
            return None
        username, remember, return_to, issued = self._codes.pop(code)
        if self.wall() - issued > 60:
            return None
        return username, remember, return_to

    def _purge_transactions(self, now: float) -> None:
        stale = [k for k, t in self._transactions.items() if now - t.created_at >= TRANSACTION_TTL]
        for key in stale:
            del self._transactions[key]
        while len(self._transactions) >= MAX_TRANSACTIONS:
            del self._transactions[next(iter(self._transactions))]
