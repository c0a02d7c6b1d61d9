"""Sign-in attempts, asked for and written ahead (DESIGN section 5, "never lock a dentist out").

An adapter never sends a password or a verification code on its own authority. Right before it
does, it enters `guard.attempt(step)`; the connector's guard decides there, from the portal
login's own state (lockout, rejected credential, failure budget, pause), whether the portal may
be touched, and commits a *pending* attempt before answering. Whatever happens next, the attempt
is already on record: a lost answer, a timeout or a killed process leaves it pending, and the
connector counts it as the failure it may have been.

The block covers the request *and* the reading of its answer, so that leaving it tells the guard
what the portal said:

    async with guard.attempt(SignInStep.PASSWORD) as attempt:
        response = await post_the_form(...)
        outcome = read_the_answer(response)   # raises InvalidCredentials, AccountLocked, ...
        if outcome is SIGNED_IN:
            attempt.signed_in()

- leaving normally after `signed_in()`: the sign-in completed (the portal's failure count resets);
- leaving normally without it: the step was accepted and another follows (a code page);
- leaving with an adapter error: the connector's error table says what the portal counted;
- leaving with anything else (cancelled, timed out, a bug): the answer is unknown.

`RecordedSignIns` is a guard for adapter tests and benchmarks, which run without the connector's
store: it permits everything and remembers what happened. The connector never uses it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from adapters.base.errors import AdapterError


class SignInStep(StrEnum):
    PASSWORD = "password"  # noqa: S105 (a step's name, not a password)
    CODE = "code"


class SignInAttempt(Protocol):
    """The attempt in progress, handed to the block that sends it."""

    def signed_in(self) -> None:
        """The portal's answer proves the sign-in complete (a session exists now)."""
        ...


class SignInGuard(Protocol):
    """Asked before every password or code leaves for the portal."""

    def attempt(self, step: SignInStep) -> AbstractAsyncContextManager[SignInAttempt]:
        """Permit (and record, ahead) one attempt, or raise `SignInRefused`."""
        ...

    async def prepare(self) -> None:
        """Called by a sign-in before it reads the password: the connector decrypts the login
        only then (a run that reuses a saved session never does)."""
        ...


class SignInRefused(AdapterError):
    """The connector's gate did not let this sign-in reach the portal; nothing was sent."""

    reason = "sign_in_refused"

    def __init__(self, why: str, message: str, retry_at: datetime | None = None) -> None:
        #: A machine word: `locked`, `credentials_rejected`, `budget_spent`, `paused`, ...
        self.why = why
        #: When trying again may be permitted (a lockout's end); None when a person must act.
        self.retry_at = retry_at
        super().__init__(message)


@dataclass
class _Attempt:
    step: SignInStep
    completed: bool = False

    def signed_in(self) -> None:
        self.completed = True


@dataclass
class RecordedSignIns:
    """A guard that permits every attempt and keeps (step, outcome) pairs: `signed_in`,
    `accepted`, or the name of the exception the block ended with."""

    attempts: list[tuple[SignInStep, str]] = field(default_factory=list)

    @asynccontextmanager
    async def _attempt(self, step: SignInStep) -> AsyncIterator[SignInAttempt]:
        attempt = _Attempt(step)
        try:
            yield attempt
        except BaseException as error:
            self.attempts.append((step, type(error).__name__))
            raise
        self.attempts.append((step, "signed_in" if attempt.completed else "accepted"))

    def attempt(self, step: SignInStep) -> AbstractAsyncContextManager[SignInAttempt]:
        return self._attempt(step)

    async def prepare(self) -> None:
        """The credentials a test passes are at hand already."""

    def count(self, step: SignInStep | None = None) -> int:
        return sum(1 for s, _ in self.attempts if step is None or s is step)
