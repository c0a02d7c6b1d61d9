"""The shape of a scenario login (Plaid-style sandbox credentials with a documented outcome)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Outcome(StrEnum):
    """What a client sees when it logs in with a scenario login."""

    CONNECTED = "connected"  # logs in, least-privilege rights, sees cases
    WRONG_PASSWORD = "wrong_password"  # the portal rejects the password
    MFA_EMAIL = "mfa_email"  # a code is emailed (read it from the sandbox mailbox)
    MFA_TOTP = "mfa_totp"  # a TOTP code from `totp_secret` is asked for
    LOCKED = "locked"  # the account is locked by the portal
    EXCESS_PERMISSIONS = "excess_permissions"  # can approve plans, or is a doctor's own login
    INSUFFICIENT_PERMISSIONS = "insufficient_permissions"  # cannot see cases
    PASSWORD_EXPIRED = "password_expired"  # sent to a change-password page


@dataclass(frozen=True)
class ScenarioLogin:
    """One fixed login present in every seeded sandbox, whatever the generator's size."""

    vendor: str
    name: str
    username: str
    password: str
    outcome: Outcome
    description: str
    totp_secret: str | None = None
