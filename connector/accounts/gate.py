"""The one gate before every portal sign-in (DESIGN section 5, "never lock a dentist out").

Every path that could reach a sign-in (a sync, the form, an outbound action, a portal check)
asks `decide()` first, and every password or code an adapter sends goes through
`GatedSignIns.attempt()`, which asks `decide()` again and commits a *pending* attempt in the same
transaction, under a row lock on the portal login, so two processes cannot both pass. The
decision reads the portal login's own state, which outlives accounts and credential versions:

- the account is paused (not for the form: the dentist is the one acting there);
- the portal's lockout has not ended (`locked_until`);
- this credential failed before (one failed attempt per credential version, ever);
- a first attempt of this credential is still waiting for its answer;
- the budget: at most `MAX_FAILURES` failed sign-ins since the login's last success, whatever
  the time (ClearCorrect, like ASP.NET Identity, counts consecutive failures without decay),
  pending attempts counted as failures; only a success or the dentist's confirmation (in the
  form) that they signed in on the portal themselves resets it.

An attempt is settled when its answer comes. One whose answer never came (lost response,
timeout, killed process) counts as a failure when its credential never signed in successfully,
and as transient when it has; the gate settles pending attempts of dead processes itself.
"""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

import structlog

from adapters.base import SignInAttempt, SignInRefused, SignInStep
from connector import metrics
from connector.accounts.meaning import (
    RefusalReason,
    SignInEffect,
    lockout_end,
    rejects_credential,
    sign_in_effect,
)
from connector.clock import utcnow
from connector.domain import Account, AccountStatus, CredentialState
from connector.store import Connection, signins
from connector.store import accounts as account_rows
from connector.store import credentials as credential_rows
from connector.store.credentials import CredentialVersion
from connector.store.database import Store
from connector.store.signins import Attempt, AttemptOutcome, PortalLogin

_log = structlog.get_logger("connector.gate")

#: Failed sign-ins allowed since a portal login's last success: ClearCorrect locks on the third.
MAX_FAILURES = 2
#: No sign-in step takes this long (HTTP and browser timeouts end sooner): a pending attempt
#: this old lost its answer, whichever process sent it.
STALE_ATTEMPT = timedelta(minutes=10)


class AttemptSource(StrEnum):
    FORM = "form"
    SYNC = "sync"
    ACTION = "action"
    CHECK = "check"
    FILES = "files"


@dataclass(frozen=True)
class Permit:
    """The portal may be touched now."""


@dataclass(frozen=True)
class Refusal:
    """The portal must not be touched now; `retry_at` when waiting is enough."""

    why: RefusalReason
    message: str
    retry_at: datetime | None = None

    def error(self) -> SignInRefused:
        return SignInRefused(str(self.why), self.message, self.retry_at)


Decision = Permit | Refusal


@dataclass(frozen=True)
class SignInSubject:
    """Who would sign in: the portal login, and which credential of it."""

    vendor: str
    username: str
    source: AttemptSource
    account_id: str | None = None
    #: A stored credential version (its row id and number) ...
    credential_id: str | None = None
    credential_version: int | None = None
    #: ... or a credential typed into the form and not stored yet.
    trial: str | None = None
    #: The stored credential carries a TOTP seed.
    has_totp: bool = False

    @property
    def credential_ref(self) -> str:
        return self.credential_id or f"trial:{self.trial}"


def process_holder() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _dead_local(holder: str) -> bool:
    host, _, rest = holder.partition(":")
    pid = rest.split(":", 1)[0]
    if host != socket.gethostname() or not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


async def subject_for_account(
    conn: Connection, account_id: str, source: AttemptSource, *, account: Account | None = None
) -> SignInSubject | Refusal:
    """The subject of an account's stored login (its current credential version); `account`
    when the caller read it in this transaction already."""
    found = await login_for_account(conn, account_id, source, account=account)
    return found if isinstance(found, Refusal) else found[0]


async def login_for_account(
    conn: Connection, account_id: str, source: AttemptSource, *, account: Account | None = None
) -> tuple[SignInSubject, CredentialVersion] | Refusal:
    """`subject_for_account`, with the credential version it names (for `decide`)."""
    if account is None:
        account = await account_rows.get_account(conn, account_id)
    current = await credential_rows.credential_in_state(conn, account_id, CredentialState.CURRENT)
    if current is None:
        return Refusal(RefusalReason.NO_CREDENTIALS, "the account has no stored login")
    return SignInSubject(
        vendor=account.vendor,
        username=current.username,
        source=source,
        account_id=account.id,
        credential_id=current.id,
        credential_version=current.version,
        has_totp=current.has_totp,
    ), current


async def decide(
    conn: Connection,
    subject: SignInSubject,
    now: datetime,
    *,
    account: Account | None = None,
    credential: CredentialVersion | None = None,
) -> Decision:
    """May `subject` sign in now? Call inside a write transaction (it locks the portal login's
    row and settles attempts whose process died). `account`: the subject's account, when the
    caller read it in this transaction already (only its pause is looked at). `credential`:
    the subject's stored credential, likewise: it is not read again (the login's lock does not
    cover the credential's row, so a read after it would see no more; on SQLite the write
    transaction holds the database)."""
    login = await signins.portal_login(conn, subject.vendor, subject.username, now, lock=True)
    pending = await signins.pending_attempts(conn, subject.vendor, subject.username)
    if await _settle_stale(conn, pending, now):
        login = await signins.portal_login(conn, subject.vendor, subject.username, now)
        pending = await signins.pending_attempts(conn, subject.vendor, subject.username)
    if subject.account_id is not None and subject.source is not AttemptSource.FORM:
        if account is None or account.id != subject.account_id:
            account = await account_rows.get_account(conn, subject.account_id)
        if account.status is AccountStatus.DISABLED:
            return Refusal(RefusalReason.PAUSED, "the account is paused; resume it first")
    if login.locked_until is not None and login.locked_until > now:
        return Refusal(
            RefusalReason.LOCKED,
            "the portal locked this login until "
            f"{login.locked_until.isoformat(timespec='minutes')}; nothing is tried before then",
            login.locked_until,
        )
    # A stored credential: read once for both questions. A typed one in the form is tried once
    # by the one verification that holds it, so it needs no record.
    if subject.credential_id is None:
        credential = None
    elif credential is None or credential.id != subject.credential_id:
        credential = await credential_rows.get_credential(conn, subject.credential_id)
    signed_in_before = credential is not None and credential.signed_in_at is not None
    if subject.credential_id is not None and (
        credential is None or credential.rejected_at is not None
    ):
        # The portal rejected it (or its answer was lost on a first try).
        return Refusal(
            RefusalReason.CREDENTIALS_REJECTED,
            "the portal rejected this password (or its answer was lost on a first try); it is "
            "never sent again: enter the login again",
        )
    # The pending attempts read under the login's lock: no other decider adds one meanwhile.
    if not signed_in_before and any(p.credential_ref == subject.credential_ref for p in pending):
        return Refusal(
            RefusalReason.IN_FLIGHT, "a first sign-in with this password is still under way"
        )
    if login.failures + len(pending) >= MAX_FAILURES:
        return Refusal(RefusalReason.BUDGET_SPENT, budget_message(login, len(pending)))
    return Permit()


def budget_message(login: PortalLogin, pending: int) -> str:
    return (
        f"{login.failures + pending} sign-ins failed (or went unanswered) since this login last "
        "signed in; to keep the portal from locking it, nothing more is tried until the dentist "
        "signs in on the portal themselves and confirms it in the form"
    )


async def _settle_stale(conn: Connection, pending: list[Attempt], now: datetime) -> bool:
    """Settle the pending attempts of processes that died or answers that never came."""
    settled = False
    for attempt in pending:
        if _dead_local(attempt.holder) or attempt.at < now - STALE_ATTEMPT:
            await settle(conn, attempt, SignInEffect.UNKNOWN, "no_answer", now)
            settled = True
    return settled


async def settle(
    conn: Connection,
    attempt: Attempt,
    effect: SignInEffect,
    reason: str | None,
    now: datetime,
    *,
    signed_in: bool = False,
    reject: bool = False,
    locked_until: datetime | None = None,
) -> AttemptOutcome:
    """Record what became of a pending attempt, with its effect on the portal login and the
    credential, once (an attempt settled already is left as it is)."""
    credential = (
        await credential_rows.get_credential(conn, attempt.credential_ref)
        if not attempt.credential_ref.startswith("trial:")
        else None
    )
    outcome = {
        SignInEffect.FAILED: AttemptOutcome.FAILED,
        SignInEffect.ACCEPTED: AttemptOutcome.ACCEPTED,
        SignInEffect.NOT_COUNTED: AttemptOutcome.NOT_COUNTED,
    }.get(effect, AttemptOutcome.TRANSIENT)
    if signed_in:
        outcome = AttemptOutcome.SUCCEEDED
    elif effect is SignInEffect.UNKNOWN and (credential is None or credential.signed_in_at is None):
        # The answer never came and this password never worked: it may have been a failure,
        # so it counts as one, and the password is not sent again.
        outcome, reject = AttemptOutcome.FAILED, True
    if not await signins.settle_attempt(conn, attempt.id, outcome, reason, now):
        return outcome
    login = await signins.portal_login(conn, attempt.vendor, attempt.login_key, now)
    if outcome is AttemptOutcome.SUCCEEDED:
        await signins.update_portal_login(
            conn,
            attempt.vendor,
            attempt.login_key,
            now,
            failures=0,
            last_success_at=now,
            locked_until=None,
        )
        if credential is not None:
            await credential_rows.mark_signed_in(conn, credential.id, now)
    elif outcome is AttemptOutcome.FAILED:
        values: dict[str, object] = {"failures": login.failures + 1, "last_failure_at": now}
        if locked_until is not None:
            values["locked_until"] = locked_until
        await signins.update_portal_login(conn, attempt.vendor, attempt.login_key, now, **values)
        if reject and credential is not None and credential.rejected_at is None:
            await credential_rows.mark_rejected(conn, credential.id, now)
    elif reject and credential is not None and credential.rejected_at is None:
        await credential_rows.mark_rejected(conn, credential.id, now)
    _log.info(
        "signin.settled",
        vendor=attempt.vendor,
        account_id=attempt.account_id,
        step=attempt.step,
        source=attempt.source,
        outcome=str(outcome),
        reason=reason,
    )
    return outcome


async def check(store: Store, subject: SignInSubject) -> Refusal | None:
    """The gate's decision before anything is opened (nothing is recorded but the settlement
    of dead processes' attempts)."""
    async with store.transaction() as conn:
        decision = await decide(conn, subject, utcnow())
    return decision if isinstance(decision, Refusal) else None


async def confirm_own_sign_in(store: Store, vendor: str, username: str) -> None:
    """The dentist confirmed signing in on the portal themselves: the portal's failure count is
    reset, and so is the budget. A lockout is not lifted (it ends when the portal says)."""
    now = utcnow()
    async with store.transaction() as conn:
        await signins.portal_login(conn, vendor, username, now, lock=True)
        await signins.update_portal_login(conn, vendor, username, now, failures=0, confirmed_at=now)
    _log.info("signin.budget_reset_by_dentist", vendor=vendor)


@dataclass
class _Attempt:
    completed: bool = False

    def signed_in(self) -> None:
        self.completed = True


@dataclass
class GatedSignIns:
    """The connector's `SignInGuard`: every attempt is decided by the gate and written ahead."""

    store: Store
    subject: SignInSubject
    holder: str = field(default_factory=process_holder)
    #: Outcomes of this guard's attempts, in order (for the run's counts).
    outcomes: list[AttemptOutcome] = field(default_factory=list)
    #: Decrypts the login into the credentials the adapter holds; run once, on first need.
    unlock: Callable[[], Awaitable[None]] | None = None

    def attempt(self, step: SignInStep) -> AbstractAsyncContextManager[SignInAttempt]:
        return self._attempt(step)

    async def prepare(self) -> None:
        if self.unlock is not None:
            await self.unlock()
            self.unlock = None

    @asynccontextmanager
    async def _attempt(self, step: SignInStep) -> AsyncIterator[SignInAttempt]:
        now = utcnow()
        async with self.store.transaction() as conn:
            decision = await decide(conn, self.subject, now)
            if isinstance(decision, Refusal):
                _log.info(
                    "signin.refused",
                    vendor=self.subject.vendor,
                    account_id=self.subject.account_id,
                    why=str(decision.why),
                )
                raise decision.error()
            attempt_id = await signins.insert_attempt(
                conn,
                vendor=self.subject.vendor,
                username=self.subject.username,
                account_id=self.subject.account_id,
                credential_ref=self.subject.credential_ref,
                credential_version=self.subject.credential_version,
                source=str(self.subject.source),
                step=str(step),
                holder=self.holder,
                now=now,
            )
        progress = _Attempt()
        try:
            yield progress
        except BaseException as error:
            effect = sign_in_effect(error)
            reason = getattr(error, "reason", None) or type(error).__name__
            await asyncio.shield(
                self._settle(
                    attempt_id,
                    effect,
                    str(reason)[:64],
                    reject=rejects_credential(error),
                    locked_until=lockout_end(error, utcnow()),
                )
            )
            raise
        effect = SignInEffect.ACCEPTED
        await asyncio.shield(self._settle(attempt_id, effect, None, signed_in=progress.completed))

    async def _settle(
        self,
        attempt_id: int,
        effect: SignInEffect,
        reason: str | None,
        *,
        signed_in: bool = False,
        reject: bool = False,
        locked_until: datetime | None = None,
    ) -> None:
        now = utcnow()
        async with self.store.transaction() as conn:
            attempt = await signins.get_attempt(conn, attempt_id)
            outcome = await settle(
                conn,
                attempt,
                effect,
                reason,
                now,
                signed_in=signed_in,
                reject=reject,
                locked_until=locked_until,
            )
        self.outcomes.append(outcome)
        metrics.count_sign_ins(self.subject.vendor, [str(outcome)])
