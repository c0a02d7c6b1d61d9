"""What an adapter's error or access result means for the account (DESIGN section 3 and 5).

One table, so the sync, the form and the scheduler all agree on what `InvalidCredentials` or a
lockout does to an account.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

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
    VerificationCodeRejected,
)
from connector.domain import AccountStatus

DEFAULT_LOCKOUT = timedelta(minutes=20)


@dataclass(frozen=True)
class AccountOutcome:
    status: AccountStatus
    reason: str
    message: str
    locked_until: datetime | None = None
    #: The portal counted a failed login (toward its lockout, and so toward our budget).
    failed_login: bool = False
    #: This credential version must never be tried again.
    reject_credential: bool = False
    #: Worth retrying on its own after a backoff.
    transient: bool = False


def outcome_of_error(error: AdapterError, now: datetime) -> AccountOutcome:
    if isinstance(error, MalformedCredentials):
        return AccountOutcome(
            AccountStatus.LOGIN_REQUIRED,
            "malformed_credentials",
            f"These credentials cannot work on this portal ({error}); nothing was tried. Enter "
            "the login again.",
            reject_credential=True,
        )
    if isinstance(error, InvalidCredentials):
        return AccountOutcome(
            AccountStatus.LOGIN_REQUIRED,
            "invalid_credentials",
            "The portal rejected the login. Enter the current password again; the connector "
            "will not retry this one.",
            failed_login=True,
            reject_credential=True,
        )
    if isinstance(error, PasswordExpired):
        return AccountOutcome(
            AccountStatus.LOGIN_REQUIRED,
            "password_expired",
            "The portal says the password has expired. Change it on the portal, then enter the "
            "new one here.",
            reject_credential=True,
        )
    if isinstance(error, VerificationCodeRejected):
        return AccountOutcome(
            AccountStatus.MFA_REQUIRED,
            "mfa_code_rejected",
            f"The portal refused the {error.channel} verification code. A wrong code counts "
            "toward the portal's lockout, so it is not retried: open the form link to enter a "
            "new one.",
            failed_login=True,
        )
    if isinstance(error, MfaRequired):
        return AccountOutcome(
            AccountStatus.MFA_REQUIRED,
            f"mfa_{error.channel}",
            f"The portal asks for a {error.channel} verification code. Open the form link to "
            "enter it, or store the TOTP secret with the login.",
        )
    if isinstance(error, AccountLocked):
        until = error.until or now + DEFAULT_LOCKOUT
        return AccountOutcome(
            AccountStatus.LOCKED,
            "account_locked",
            f"The portal locked this login until {until.isoformat(timespec='minutes')}. The "
            "connector waits and does not try before then.",
            locked_until=until,
            failed_login=True,
        )
    if isinstance(error, PortalChanged):
        return AccountOutcome(
            AccountStatus.PORTAL_CHANGED,
            "portal_changed",
            f"A portal page no longer reads as expected ({error.detail}); the adapter needs an "
            "update.",
            transient=True,
        )
    if isinstance(error, PortalUnavailable | SessionExpired):
        return AccountOutcome(
            AccountStatus.PORTAL_UNAVAILABLE,
            error.reason,
            f"The portal is not answering properly ({error}); retrying with backoff.",
            transient=True,
        )
    return AccountOutcome(
        AccountStatus.PORTAL_UNAVAILABLE, error.reason, str(error), transient=True
    )


def outcome_of_access(access: Access) -> AccountOutcome:
    if access.insufficient:
        return AccountOutcome(
            AccountStatus.INSUFFICIENT_PERMISSIONS, "insufficient_permissions", access.insufficient
        )
    if access.excessive:
        return AccountOutcome(
            AccountStatus.EXCESS_PERMISSIONS, "excess_permissions", access.excessive
        )
    return AccountOutcome(AccountStatus.ACTIVE, "ok", "Connected.")
