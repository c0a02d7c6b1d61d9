"""ClearCorrect scenario logins: fixed credentials with a documented outcome (Plaid-style).

Each is present in every seeded portal, whatever the generator's size, in a small scenario
practice (Dr. Amelia Hart, five cases). Passwords follow the portal's 8 to 16 character rule.
"""

from __future__ import annotations

from sandbox.common.scenarios import Outcome, ScenarioLogin

VENDOR = "clearcorrect"

SCENARIO_DOCTOR_ID = "20417"
SCENARIO_DOCTOR_NAME = "Dr. Amelia Hart"
SCENARIO_PRACTICE = "Hart Family Orthodontics"
SCENARIO_CASES = 5

# Base32 of "The quick brown fox " (160 bits): a valid, stable TOTP secret.
TOTP_SECRET = "KRUGKIDROVUWG2ZAMJZG653OEBTG66BA"

SCENARIOS: tuple[ScenarioLogin, ...] = (
    ScenarioLogin(
        VENDOR,
        "good",
        "good.partner@tps-sandbox.example",
        "Good#Partner26",
        Outcome.CONNECTED,
        "Partner of Dr. Hart with View and Reject setups; sees the practice's cases.",
    ),
    ScenarioLogin(
        VENDOR,
        "email_code",
        "emailcode.partner@tps-sandbox.example",
        "Email#Code2026",
        Outcome.MFA_EMAIL,
        "Partner (View, Reject setups) whose login asks for a code emailed to the account.",
    ),
    ScenarioLogin(
        VENDOR,
        "totp",
        "totp.partner@tps-sandbox.example",
        "Totp#Partner26",
        Outcome.MFA_TOTP,
        "Partner (View, Reject setups) whose login asks for an authenticator (TOTP) code.",
        totp_secret=TOTP_SECRET,
    ),
    ScenarioLogin(
        VENDOR,
        "locked",
        "locked.partner@tps-sandbox.example",
        "Locked#Acct2026",
        Outcome.LOCKED,
        "Partner locked for 20 minutes at seed time (3 failed logins); admin unlock ends it.",
    ),
    ScenarioLogin(
        VENDOR,
        "excess",
        "amelia.hart@hartortho.example",
        "Doctor#Own2026",
        Outcome.EXCESS_PERMISSIONS,
        "Dr. Hart's own doctor login: owns the cases and can approve setups.",
    ),
    ScenarioLogin(
        VENDOR,
        "no_view",
        "noview.partner@tps-sandbox.example",
        "NoView#Part2026",
        Outcome.INSUFFICIENT_PERMISSIONS,
        "Partner added by Dr. Hart without the View permission and with nothing shared.",
    ),
    ScenarioLogin(
        VENDOR,
        "expired",
        "expired.partner@tps-sandbox.example",
        "Expired#Pw2026",
        Outcome.PASSWORD_EXPIRED,
        "Partner whose password has expired: sent to the change-password page.",
    ),
)


def scenario(name: str) -> ScenarioLogin:
    for login in SCENARIOS:
        if login.name == name:
            return login
    raise KeyError(f"no clearcorrect scenario login named {name!r}")
