"""The Invisalign Doctor Site's scenario logins (Plaid-style sandbox credentials).

Every seeded sandbox holds these logins, whatever the generator's size. They are staff accounts
(plus nothing else) of one small scenario practice, "Smile Dental" of Dr. Alex Morgan, whose
patients they see. How each login behaves (roles, second factor, pre-locked, expired password) is
decided by `sandbox.invisalign.generator.SCENARIO_PROFILES`; this table is what clients read.
"""

from __future__ import annotations

from sandbox.common.scenarios import Outcome, ScenarioLogin

VENDOR = "invisalign"
# A valid base32 secret (RFC 4648), as an authenticator app would be given in a QR code.
TOTP_SECRET = "JBSWY3DPEHPK3PXPKRUGS43JONUXG5DF"

SCENARIOS: tuple[ScenarioLogin, ...] = (
    ScenarioLogin(
        vendor=VENDOR,
        name="good",
        username="rx.staff@smile-dental.example",
        password="Aligner-Staff-2026",
        outcome=Outcome.CONNECTED,
        description="Staff account with Prescription management only: sees patients, can "
        "comment and request ClinCheck modifications, cannot approve.",
    ),
    ScenarioLogin(
        vendor=VENDOR,
        name="email_code",
        username="mfa.email@smile-dental.example",
        password="Aligner-Email-2026",
        outcome=Outcome.MFA_EMAIL,
        description="Staff account (Prescription management) that is asked for a 6-digit code "
        "sent by email; read it from /__sandbox/mailbox?to=<username>.",
    ),
    ScenarioLogin(
        vendor=VENDOR,
        name="totp",
        username="mfa.totp@smile-dental.example",
        password="Aligner-Totp-2026",
        outcome=Outcome.MFA_TOTP,
        description="Staff account (Prescription management) that is asked for a code from an "
        "authenticator app (TOTP from totp_secret).",
        totp_secret=TOTP_SECRET,
    ),
    ScenarioLogin(
        vendor=VENDOR,
        name="locked",
        username="locked@smile-dental.example",
        password="Aligner-Locked-2026",
        outcome=Outcome.LOCKED,
        description="Blocked after 10 consecutive failed logins: the right password is refused "
        "until POST /__sandbox/logins/<username>/unlock.",
    ),
    ScenarioLogin(
        vendor=VENDOR,
        name="excess",
        username="clinical.lead@smile-dental.example",
        password="Aligner-Excess-2026",
        outcome=Outcome.EXCESS_PERMISSIONS,
        description="Staff account with Prescription management and Treatment management: can "
        "approve ClinCheck plans, more than a TPS may hold.",
    ),
    ScenarioLogin(
        vendor=VENDOR,
        name="no_view",
        username="front.desk@smile-dental.example",
        password="Aligner-NoView-2026",
        outcome=Outcome.INSUFFICIENT_PERMISSIONS,
        description="Staff account with Payment management and Training access only: logs in "
        "but the patient list says it has no access (JSON 403).",
    ),
    ScenarioLogin(
        vendor=VENDOR,
        name="expired",
        username="expired.pw@smile-dental.example",
        password="Aligner-Expired-2026",
        outcome=Outcome.PASSWORD_EXPIRED,
        description="Right password, but the password has expired: the login ends on a "
        "change-password page instead of the app.",
    ),
)

__all__ = ["SCENARIOS", "TOTP_SECRET", "VENDOR"]
