"""One table from an adapter's error (or the gate's refusal) to what it means.

In the spirit of Airbyte CDK's error mapping, and the account-level sibling of the HTTP retry
table in `adapters/http/policy.py` (which decides, per request, what to retry): here each error
type maps to the account status it leads to, the short reason word, the form's verdict, what the
portal counted when the error ended a sign-in step, whether the credential may never be tried
again, and whether the failure is transient (retried later with backoff). The sync, the form,
outbound actions and the gate all read this table; nothing else decides these things.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from adapters.base import (
    Access,
    AccountLocked,
    AdapterError,
    InvalidCredentials,
    MalformedCredentials,
    MfaRequired,
    PasswordExpired,
    PortalChanged,
    PortalUnavailable,
    SessionExpired,
    SignInRefused,
    VerificationCodeRejected,
)
from connector.domain import AccountStatus
from vault import VaultError

#: The portal's lockout when it does not say how long (ClearCorrect: 20 minutes).
DEFAULT_LOCKOUT = timedelta(minutes=20)


class SignInEffect(StrEnum):
    """What the portal counted when an error ended a sign-in step."""

    FAILED = "failed"  # a failed sign-in (toward its lockout, and so toward our budget)
    ACCEPTED = "accepted"  # the password was right, but the sign-in cannot finish
    UNKNOWN = "unknown"  # no answer we can read: it may have been either
    NOT_COUNTED = "not_counted"  # refused before the portal judged the login


class Verdict(StrEnum):
    """What a verification found, in the update-credentials form's terms."""

    CONNECTED = "connected"  # logged in, sees cases, no excessive right (maybe limited)
    EXCESS_PERMISSIONS = "excess_permissions"
    INSUFFICIENT_PERMISSIONS = "insufficient_permissions"
    WRONG_PASSWORD = "wrong_password"  # noqa: S105 (a word, not a password)
    PASSWORD_EXPIRED = "password_expired"  # noqa: S105
    CODE_NEEDED = "code_needed"  # a code was asked for and none came in time
    CODE_REFUSED = "code_refused"
    LOCKED = "locked"
    PORTAL_UNAVAILABLE = "portal_unavailable"
    PORTAL_CHANGED = "portal_changed"
    BUDGET_EXHAUSTED = "budget_exhausted"  # not tried: the failure budget is spent
    CREDENTIALS_REJECTED = "credentials_rejected"  # not tried: this password failed before
    PAUSED = "paused"  # not tried: the account is paused
    BUSY = "busy"  # not tried: a sync of the account kept running
    CONFLICT = "conflict"  # not tried: the username belongs to another practice's account


class RefusalReason(StrEnum):
    """Why the gate did not let a sign-in reach the portal (see `connector.accounts.gate`)."""

    PAUSED = "paused"
    LOCKED = "locked"
    CREDENTIALS_REJECTED = "credentials_rejected"
    BUDGET_SPENT = "login_budget_spent"
    IN_FLIGHT = "sign_in_in_flight"
    NO_CREDENTIALS = "no_credentials"


@dataclass(frozen=True)
class AccountOutcome:
    """What one error (or a successful access check) does to an account."""

    status: AccountStatus
    reason: str
    message: str
    verdict: Verdict = Verdict.CONNECTED
    locked_until: datetime | None = None
    #: What the portal counted, when this ended a sign-in step.
    sign_in: SignInEffect = SignInEffect.NOT_COUNTED
    #: This credential version must never be tried again.
    reject_credential: bool = False
    #: Worth retrying on its own after a backoff.
    transient: bool = False

    @property
    def failed_login(self) -> bool:
        return self.sign_in is SignInEffect.FAILED


Message = Callable[[AdapterError, datetime], str]


@dataclass(frozen=True)
class _Row:
    error: type[AdapterError]
    outcome: AccountOutcome
    message: Message


def _fixed(text: str) -> Message:
    return lambda error, now: text


def _lockout_end(error: AdapterError, now: datetime) -> datetime:
    until = error.until if isinstance(error, AccountLocked) else None
    return until or now + DEFAULT_LOCKOUT


_LS = AccountStatus.LOGIN_REQUIRED
_UNAVAILABLE = AccountOutcome(
    AccountStatus.PORTAL_UNAVAILABLE,
    "portal_unavailable",
    "",
    Verdict.PORTAL_UNAVAILABLE,
    sign_in=SignInEffect.UNKNOWN,
    transient=True,
)

#: Ordered: the first row whose type matches wins (subclasses before their bases).
ERROR_TABLE: tuple[_Row, ...] = (
    _Row(
        MalformedCredentials,
        AccountOutcome(
            _LS,
            "malformed_credentials",
            "",
            Verdict.WRONG_PASSWORD,
            reject_credential=True,
        ),
        lambda e, now: (
            f"These credentials cannot work on this portal ({e}); nothing was tried. "
            "Enter the login again."
        ),
    ),
    _Row(
        InvalidCredentials,
        AccountOutcome(
            _LS,
            "invalid_credentials",
            "",
            Verdict.WRONG_PASSWORD,
            sign_in=SignInEffect.FAILED,
            reject_credential=True,
        ),
        _fixed(
            "The portal rejected the login. Enter the current password again; the connector "
            "will not retry this one."
        ),
    ),
    _Row(
        PasswordExpired,
        AccountOutcome(
            _LS,
            "password_expired",
            "",
            Verdict.PASSWORD_EXPIRED,
            sign_in=SignInEffect.ACCEPTED,
            reject_credential=True,
        ),
        _fixed(
            "The portal says the password has expired. Change it on the portal, then enter the "
            "new one here."
        ),
    ),
    _Row(
        VerificationCodeRejected,
        AccountOutcome(
            AccountStatus.MFA_REQUIRED,
            "mfa_code_rejected",
            "",
            Verdict.CODE_REFUSED,
            sign_in=SignInEffect.FAILED,
        ),
        lambda e, now: (
            f"The portal refused the {getattr(e, 'channel', '')} verification code. A "
            "wrong code counts toward the portal's lockout, so it is not retried: open the form "
            "link to enter a new one."
        ),
    ),
    _Row(
        MfaRequired,
        AccountOutcome(AccountStatus.MFA_REQUIRED, "mfa_required", "", Verdict.CODE_NEEDED),
        lambda e, now: (
            f"The portal asks for a {getattr(e, 'channel', '')} verification code. "
            "Open the form link to enter it, or store the TOTP secret with the login."
        ),
    ),
    _Row(
        AccountLocked,
        AccountOutcome(
            AccountStatus.LOCKED,
            "account_locked",
            "",
            Verdict.LOCKED,
            sign_in=SignInEffect.FAILED,
        ),
        lambda e, now: (
            "The portal locked this login until "
            f"{_lockout_end(e, now).isoformat(timespec='minutes')}. The connector waits and does "
            "not try before then."
        ),
    ),
    _Row(
        PortalChanged,
        AccountOutcome(
            AccountStatus.PORTAL_CHANGED,
            "portal_changed",
            "",
            Verdict.PORTAL_CHANGED,
            sign_in=SignInEffect.UNKNOWN,
            transient=True,
        ),
        lambda e, now: (
            "A portal page no longer reads as expected "
            f"({getattr(e, 'detail', e)}){_failed_facts(e)}; the adapter needs an update."
        ),
    ),
    _Row(
        SessionExpired,
        replace(_UNAVAILABLE, reason="session_expired"),
        lambda e, now: f"The portal is not answering properly ({e}); retrying with backoff.",
    ),
    _Row(
        PortalUnavailable,
        _UNAVAILABLE,
        lambda e, now: f"The portal is not answering properly ({e}); retrying with backoff.",
    ),
)

#: What each of the gate's refusals does to the account (nothing was sent to the portal).
REFUSALS: dict[RefusalReason, AccountOutcome] = {
    RefusalReason.PAUSED: AccountOutcome(AccountStatus.DISABLED, "paused", "", Verdict.PAUSED),
    RefusalReason.LOCKED: AccountOutcome(
        AccountStatus.LOCKED, "account_locked", "", Verdict.LOCKED
    ),
    RefusalReason.CREDENTIALS_REJECTED: AccountOutcome(
        _LS, "credentials_rejected", "", Verdict.CREDENTIALS_REJECTED
    ),
    RefusalReason.BUDGET_SPENT: AccountOutcome(
        _LS, "login_budget_spent", "", Verdict.BUDGET_EXHAUSTED
    ),
    RefusalReason.NO_CREDENTIALS: AccountOutcome(
        _LS, "no_credentials", "", Verdict.CREDENTIALS_REJECTED
    ),
    RefusalReason.IN_FLIGHT: AccountOutcome(
        AccountStatus.VERIFYING, "sign_in_in_flight", "", Verdict.BUSY, transient=True
    ),
}


def _row(error: AdapterError) -> _Row | None:
    for row in ERROR_TABLE:
        if isinstance(error, row.error):
            return row
    return None


def _failed_facts(error: BaseException) -> str:
    """The register facts a `PortalChanged` names, for the account's status message."""
    facts = getattr(error, "facts", ())
    return f" [register facts: {', '.join(facts)}]" if facts else ""


def outcome_of_error(error: AdapterError, now: datetime) -> AccountOutcome:
    """The meaning of `error` for the account, with its sentence for people."""
    if isinstance(error, SignInRefused):
        base = REFUSALS[RefusalReason(error.why)]
        return replace(base, message=str(error), locked_until=error.retry_at)
    row = _row(error)
    if row is None:
        return replace(_UNAVAILABLE, reason=error.reason, message=str(error))
    locked = _lockout_end(error, now) if row.error is AccountLocked else None
    reason = f"mfa_{error.channel}" if type(error) is MfaRequired else row.outcome.reason
    return replace(row.outcome, reason=reason, message=row.message(error, now), locked_until=locked)


def sign_in_effect(error: BaseException) -> SignInEffect:
    """What the portal counted when `error` ended a sign-in step: anything that is not an
    adapter error (a timeout, a cancelled task, a bug) means the answer is unknown."""
    if not isinstance(error, AdapterError) or isinstance(error, SignInRefused):
        return SignInEffect.UNKNOWN
    row = _row(error)
    return row.outcome.sign_in if row is not None else SignInEffect.UNKNOWN


def rejects_credential(error: BaseException) -> bool:
    """Whether `error`, ending a sign-in step, means this credential must never be tried again."""
    row = _row(error) if isinstance(error, AdapterError) else None
    return row is not None and row.outcome.reject_credential


def lockout_end(error: BaseException, now: datetime) -> datetime | None:
    """When the portal's lockout ends, if `error` says the login is locked."""
    return _lockout_end(error, now) if isinstance(error, AccountLocked) else None


def outcome_of_access(access: Access) -> AccountOutcome:
    if access.insufficient:
        return AccountOutcome(
            AccountStatus.INSUFFICIENT_PERMISSIONS,
            "insufficient_permissions",
            access.insufficient,
            Verdict.INSUFFICIENT_PERMISSIONS,
        )
    if access.excessive:
        return AccountOutcome(
            AccountStatus.EXCESS_PERMISSIONS,
            "excess_permissions",
            access.excessive,
            Verdict.EXCESS_PERMISSIONS,
        )
    return AccountOutcome(AccountStatus.ACTIVE, "ok", "Connected.")


# --- failures that are not the portal's ------------------------------------------------------


@dataclass(frozen=True)
class _LocalRow:
    error: type[Exception]
    reason: str
    message: Callable[[Exception], str]


#: A sync that fails for a reason of the connector's own (its keys, say) says nothing about the
#: login: the account keeps its status, `status_reason` says why, and the sync backs off like
#: after any transient failure. Ordered like `ERROR_TABLE`.
LOCAL_FAILURES: tuple[_LocalRow, ...] = (
    _LocalRow(
        VaultError,
        "key_unavailable",
        lambda e: (
            f"The connector cannot open this login's stored secrets: {e}. Retrying with backoff."
        ),
    ),
)

#: The exception types `LOCAL_FAILURES` covers, for `except` clauses.
LOCAL_ERRORS: tuple[type[Exception], ...] = tuple(row.error for row in LOCAL_FAILURES)


def outcome_of_local_failure(error: Exception, status: AccountStatus) -> AccountOutcome:
    """The meaning of a local failure for an account whose status is `status` (kept)."""
    for row in LOCAL_FAILURES:
        if isinstance(error, row.error):
            return AccountOutcome(status, row.reason, row.message(error), transient=True)
    return AccountOutcome(status, "internal_error", type(error).__name__, transient=True)
