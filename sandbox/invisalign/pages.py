"""HTML of the site's pages: the hosted login pages and the app's server-rendered pages.

Pure functions from values to markup; every value is escaped. The patient list and patient detail
are only shells here: their content is rendered by the page script inside a shadow root.
"""

from __future__ import annotations

from html import escape

from sandbox.invisalign.data import Case, Doctor, Login, Setup, iso
from sandbox.invisalign.sessions import LoginTransaction

BRAND = "Invisalign Doctor Site"

_CSS = """
body{margin:0;font:15px/1.5 system-ui,sans-serif;color:#1d2433;background:#f4f6f9}
a{color:#00758f}
.topbar{display:flex;gap:20px;align-items:center;padding:10px 24px;background:#003a5d;color:#fff}
.topbar a{color:#fff;text-decoration:none}.topbar .spacer{flex:1}
main{max-width:1100px;margin:24px auto;padding:0 24px}
.auth{max-width:400px;margin:60px auto;background:#fff;padding:40px;border-radius:6px;
box-shadow:0 2px 12px rgba(0,0,0,.1)}
.auth h1{font-size:24px;margin:0 0 8px}.auth label{display:block;margin:16px 0 4px}
.auth input[type=text],.auth input[type=password],.auth input[type=email]{width:100%;
padding:10px;box-sizing:border-box;font:inherit}
.auth button{margin-top:20px;width:100%;padding:12px;background:#00758f;color:#fff;border:0;
border-radius:4px;font:inherit;cursor:pointer}
.ulp-input-error-message{display:block;color:#a4000f;margin-top:12px}
dl.profile dt{font-weight:600;margin-top:12px}
"""


def document(title: str, body: str, scripts: tuple[str, ...] = ()) -> str:
    tags = "".join(f'<script src="{escape(src)}" defer></script>' for src in scripts)
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_CSS}</style>{tags}</head>"
        f"<body>{body}</body></html>"
    )


def error_page(status: int, title: str, message: str) -> str:
    body = (
        f'<main class="auth" role="alert"><h1>{escape(title)}</h1>'
        f'<p id="error-message" data-status="{status}">{escape(message)}</p>'
        '<p><a href="/v3/auth/patients.action">Back to the Invisalign Doctor Site</a></p></main>'
    )
    return document(f"{title} | {BRAND}", body)


# Hosted login (Universal Login style) ----------------------------------------------------------


def _auth_page(title: str, inner: str, scripts: tuple[str, ...] = ()) -> str:
    header = f'<header><p class="brand">{BRAND}</p><h1>{escape(title)}</h1></header>'
    return document(f"{title} | {BRAND}", f'<main class="auth">{header}{inner}</main>', scripts)


def _error(code: str | None, message: str | None) -> str:
    if not message:
        return ""
    return (
        f'<span id="error-element" class="ulp-input-error-message" role="alert" '
        f'data-error-code="{escape(code or "error")}">{escape(message)}</span>'
    )


def login_page(
    txn: LoginTransaction,
    username: str = "",
    error_code: str | None = None,
    error: str | None = None,
) -> str:
    state = escape(txn.state)
    inner = (
        f"<p>Log in to {BRAND} to continue.</p>"
        f'<form method="POST" action="/u/login?state={state}" data-challenge="'
        f'{escape(txn.challenge)}" data-form-primary="true">'
        f'<input type="hidden" name="state" value="{state}">'
        '<input type="hidden" name="captcha" value="">'
        '<label for="username">Email address</label>'
        '<input type="text" id="username" name="username" autocomplete="username" '
        f'inputmode="email" autocapitalize="none" spellcheck="false" '
        f'value="{escape(username)}" required autofocus>'
        '<label for="password">Password</label>'
        '<input type="password" id="password" name="password" '
        'autocomplete="current-password" required>'
        '<label class="remember"><input type="checkbox" name="remember" value="true"> '
        "Keep me signed in</label>"
        f"{_error(error_code, error)}"
        '<button type="submit" name="action" value="default">Continue</button>'
        "</form>"
        "<noscript><p>JavaScript is required to log in. Please enable JavaScript in your "
        "browser.</p></noscript>"
    )
    return _auth_page("Welcome", inner, ("/u/assets/login.js",))


def _code_form(action: str, txn: LoginTransaction, label: str, error: str | None) -> str:
    state = escape(txn.state)
    return (
        f'<form method="POST" action="{action}?state={state}">'
        f'<input type="hidden" name="state" value="{state}">'
        f'<label for="code">{escape(label)}</label>'
        '<input type="text" id="code" name="code" inputmode="numeric" '
        'autocomplete="one-time-code" pattern="[0-9]*" maxlength="6" required autofocus>'
        f"{_error('invalid-code', error)}"
        '<button type="submit" name="action" value="default">Continue</button></form>'
    )


def email_code_page(txn: LoginTransaction, masked_email: str, error: str | None = None) -> str:
    inner = (
        f"<p>We've sent an email with your code to <strong>{escape(masked_email)}</strong>.</p>"
        + _code_form("/u/mfa-email-challenge", txn, "Enter the code", error)
    )
    return _auth_page("Verify Your Identity", inner)


def totp_page(txn: LoginTransaction, error: str | None = None) -> str:
    inner = "<p>Check your preferred one-time password application for a code.</p>" + _code_form(
        "/u/mfa-otp-challenge", txn, "Enter your one-time code", error
    )
    return _auth_page("Verify Your Identity", inner)


def change_password_page(txn: LoginTransaction, error: str | None = None) -> str:
    state = escape(txn.state)
    inner = (
        '<p id="password-expired" role="alert">Your password has expired. '
        "Please create a new password to continue.</p>"
        f'<form method="POST" action="/u/change-password?state={state}">'
        f'<input type="hidden" name="state" value="{state}">'
        '<label for="new-password">New password</label>'
        '<input type="password" id="new-password" name="new-password" '
        'autocomplete="new-password" required>'
        '<label for="confirm-new-password">Re-enter new password</label>'
        '<input type="password" id="confirm-new-password" name="confirm-new-password" '
        'autocomplete="new-password" required>'
        "<p>At least 12 characters, with letters and numbers.</p>"
        f"{_error('password-policy', error)}"
        '<button type="submit" name="action" value="default">Change password</button></form>'
    )
    return _auth_page("Change Your Password", inner)


# The app ----------------------------------------------------------------------------------------


def _app_page(title: str, login: Login, ids: dict[str, str], main: str, bundle: str = "") -> str:
    account = "Doctor" if login.kind == "doctor" else "Staff"
    topbar = (
        '<nav class="topbar" aria-label="Main">'
        f'<strong>{BRAND}</strong><a href="/v3/auth/patient/patientList.action">Patients</a>'
        '<span class="spacer"></span>'
        f'<a href="/v3/auth/account/profile.action" data-testid="{ids["userMenu"]}" '
        f'title="{account} account">{escape(login.display_name)}</a>'
        '<a href="/v3/auth/logout.action">Log out</a></nav>'
    )
    scripts = (f"/v3/assets/{bundle}",) if bundle else ()
    return document(f"{title} | {BRAND}", f"{topbar}<main>{main}</main>", scripts)


def patient_list_page(login: Login, ids: dict[str, str], bundle: str, page_size: int) -> str:
    main = (
        "<h1>Patients</h1>"
        f'<ids-patient-list page-size="{page_size}"></ids-patient-list>'
        "<noscript>This page requires JavaScript.</noscript>"
    )
    return _app_page("Patients", login, ids, main, bundle)


def patient_detail_page(login: Login, ids: dict[str, str], bundle: str, patient_id: str) -> str:
    main = (
        f'<ids-patient-detail patient-id="{escape(patient_id)}"></ids-patient-detail>'
        "<noscript>This page requires JavaScript.</noscript>"
    )
    return _app_page("Patient details", login, ids, main, bundle)


def profile_page(login: Login, doctor: Doctor, ids: dict[str, str]) -> str:
    account = "Doctor" if login.kind == "doctor" else "Staff"
    if login.kind == "doctor":
        roles = f'<li data-testid="{ids["profileRole"]}">All (account owner)</li>'
    else:
        roles = "".join(
            f'<li data-testid="{ids["profileRole"]}">{escape(role)}</li>' for role in login.roles
        )
    main = (
        '<h1>My profile</h1><dl class="profile">'
        f'<dt>Name</dt><dd data-testid="{ids["profileName"]}">{escape(login.display_name)}</dd>'
        f'<dt>Email</dt><dd data-testid="{ids["profileEmail"]}">{escape(login.username)}</dd>'
        f'<dt>Account type</dt><dd data-testid="{ids["profileType"]}">{account}</dd>'
        f'<dt>Doctor</dt><dd data-testid="{ids["profileDoctor"]}">{escape(doctor.name)} '
        f"({escape(doctor.practice)})</dd>"
        f'<dt>Roles</dt><dd><ul class="roles">{roles}</ul></dd></dl>'
    )
    return _app_page("My profile", login, ids, main)


def viewer_page(login: Login, ids: dict[str, str], case: Case, setup: Setup) -> str:
    main = (
        f"<h1>ClinCheck Pro: {escape(case.patient_name)} (#{escape(case.case_id)})</h1>"
        f'<p id="plan" data-plan-id="{escape(setup.setup_id)}" data-version="{setup.version}">'
        f"ClinCheck plan version {setup.version}, {escape(setup.state)}, created "
        f'<time datetime="{iso(setup.created_at)}">{iso(setup.created_at)}</time></p>'
        '<div id="clincheck-viewer" role="img" aria-label="3D treatment plan">'
        "The 3D viewer needs WebGL.</div>"
    )
    return _app_page("ClinCheck viewer", login, ids, main)
