"""Typed adapter errors. Each carries what the account status and the form need, and nothing
secret: messages are fit for logs and for people."""

from __future__ import annotations

from datetime import datetime


class AdapterError(Exception):
    """Base of everything an adapter raises on purpose."""

    #: The short machine word stored as the account's `status_reason`.
    reason = "adapter_error"


class InvalidCredentials(AdapterError):
    """The portal rejected the username or password. Never retried with the same credentials."""

    reason = "invalid_credentials"


class MalformedCredentials(InvalidCredentials):
    """The credentials cannot be right for this portal (not an e-mail, a password outside the
    portal's length rule, an unusable TOTP secret), so nothing was tried, or the portal refused
    them before counting an attempt. Never retried, and never counted as a failed login."""

    reason = "malformed_credentials"


class PasswordExpired(AdapterError):
    """The portal wants a new password before it lets the login in."""

    reason = "password_expired"


class MfaRequired(AdapterError):
    """A verification code is needed and none could be obtained without a person."""

    reason = "mfa_required"

    def __init__(self, channel: str, message: str | None = None) -> None:
        self.channel = channel  # "email" or "totp"
        super().__init__(message or f"the portal asks for a {channel} verification code")


class VerificationCodeRejected(MfaRequired):
    """The portal refused the verification code (wrong, expired, or malformed).

    Never retried: portals count a wrong code toward their lockout like a wrong password, so
    the account waits for a person to enter a fresh code.
    """

    reason = "mfa_code_rejected"

    def __init__(self, channel: str) -> None:
        super().__init__(
            channel,
            f"the portal refused the {channel} verification code; a wrong code counts toward "
            "the lockout, so it is not retried: enter a new code",
        )


class AccountLocked(AdapterError):
    """The portal locked the login (too many failed attempts). Resume after `until`."""

    reason = "account_locked"

    def __init__(self, until: datetime | None, message: str | None = None) -> None:
        self.until = until
        when = until.isoformat(timespec="minutes") if until else "an unknown time"
        super().__init__(message or f"the portal locked this login until {when}")


class PortalUnavailable(AdapterError):
    """Transient: the portal did not answer properly after bounded retries."""

    reason = "portal_unavailable"


class OutcomeUnknown(PortalUnavailable):
    """A non-idempotent request may or may not have reached the portal: look for its marker
    before trying again."""

    reason = "outcome_unknown"


class RateLimited(PortalUnavailable):
    """The portal kept answering 429. `retry_after` is its last hint in seconds, if any."""

    reason = "rate_limited"

    def __init__(self, retry_after: float | None, message: str | None = None) -> None:
        self.retry_after = retry_after
        super().__init__(message or "the portal is rate limiting requests")


class SessionExpired(AdapterError):
    """The saved or current session is no longer valid; one new login may fix it."""

    reason = "session_expired"


class PortalChanged(AdapterError):
    """A page or response no longer parses as expected: the adapter needs an update.

    `facts` names the register facts (`docs/portal-facts/`) that no longer hold, so a
    maintainer knows what to look at without seeing a page."""

    reason = "portal_changed"

    def __init__(self, detail: str, facts: tuple[str, ...] = ()) -> None:
        self.detail = detail
        self.facts = facts
        named = f" [{', '.join(facts)}]" if facts else ""
        super().__init__(f"the portal's pages changed: {detail}{named}")


class ActionRefused(AdapterError):
    """The portal refused an outbound action (for example 403 without the needed permission)."""

    reason = "action_refused"


class NotFound(AdapterError):
    """The case or setup does not exist (or is no longer shared with this login)."""

    reason = "not_found"


class FilesUnavailable(AdapterError):
    """The vendor's adapter, or this login on the portal, offers no file downloads (a missing
    capability, not a fault): the connector lists no files for it and does not ask again."""

    reason = "files_unavailable"


class DownloadCorrupt(AdapterError):
    """A download ended with other bytes than the portal announced (size or checksum): what
    arrived is discarded, and the file is tried again later. Says nothing about the account."""

    reason = "download_corrupt"
