"""The login flow: authorization server, hosted login page, second step, callback, logout.

The shape follows the real site, whose app redirects to an Auth0-style authorization server:

    /v3/auth/... (no session) -> /authorize?...&state=<return path>
      -> saved login ("auth0" cookie) still allowed? -> /v3/auth/callback?code=...  (no password)
      -> otherwise /u/login?state=<transaction>: username + password (+ the page's script
         answers a challenge into a hidden field, so a bare form POST is refused)
      -> optional /u/mfa-email-challenge or /u/mfa-otp-challenge
      -> /u/change-password when the password has expired
      -> /v3/auth/callback?code=... sets JSESSIONID and CSRF-TOKEN and returns to the page.

Brute-force protection counts consecutive wrong passwords per username (in the recorder, so the
admin API shows them) and blocks the login after `LOCKOUT_THRESHOLD`.
"""

from __future__ import annotations

import hmac
import re
import secrets
from importlib import resources

import pyotp
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from sandbox.invisalign import pages
from sandbox.invisalign.access import (
    CALLBACK,
    DEVICE_COOKIE,
    SAVED_LOGIN_COOKIE,
    SESSION_COOKIE,
    authorize_url,
    clear_session_cookies,
    return_path,
    set_session_cookies,
)
from sandbox.invisalign.data import Login
from sandbox.invisalign.portal import InvisalignPortal
from sandbox.invisalign.sessions import CODE_TTL, LoginTransaction, Stage

WRONG_CREDENTIALS = "Wrong email or password."
BLOCKED = (
    "Your account has been blocked after multiple consecutive login attempts. "
    "We've sent you an email with instructions on how to unblock it."
)
JAVASCRIPT_REQUIRED = (
    "Something went wrong: JavaScript is required to log in. Please enable JavaScript in your "
    "browser and try again."
)
INVALID_CODE = "The code you entered is invalid."
MAX_CODE_FAILURES = 5
LOGIN_SCRIPT = resources.files("sandbox.invisalign").joinpath("assets/login.js").read_text()


def solve_challenge(challenge: str, state: str) -> str:
    """What the login page's script writes into the hidden `captcha` field (FNV-1a, 64 rounds)."""
    value = 0x811C9DC5
    text = f"{challenge}|{state}"
    for _ in range(64):
        for char in text:
            value ^= ord(char)
            value = (value * 0x01000193) & 0xFFFFFFFF
    return f"{value:08x}"


def password_policy_error(new: str, confirm: str, old: str) -> str | None:
    """Why a new password is refused, or None (12+ characters, letters and digits, new)."""
    if new != confirm:
        return "The passwords do not match."
    if len(new) < 12 or not re.search(r"[A-Za-z]", new) or not re.search(r"[0-9]", new):
        return "Your password must have at least 12 characters, with letters and numbers."
    if len(new) > 128:
        return "Your password must have at most 128 characters."
    if new == old:
        return "Your new password must be different from your current password."
    return None


def mask_email(address: str) -> str:
    local, _, domain = address.partition("@")
    return f"{local[:1]}***@{domain}" if domain else "***"


def auth_routes(portal: InvisalignPortal) -> list[Route]:
    sessions = portal.sessions

    def html(body: str, status: int = 200) -> HTMLResponse:
        return HTMLResponse(body, status_code=status, headers={"Cache-Control": "no-store"})

    def restart(return_to: str = "/v3/auth/patient/patientList.action") -> RedirectResponse:
        return RedirectResponse(authorize_url(return_to), status_code=302)

    async def authorize(request: Request) -> Response:
        target = return_path(request.query_params.get("state"))
        token = request.cookies.get(SAVED_LOGIN_COOKIE)
        username = sessions.use_saved_login(token)
        login = portal.data.login(username) if username else None
        if login is not None and not login.password_expired and not portal.blocked(login.username):
            code = sessions.issue_code(login.username, False, target)
            return RedirectResponse(f"{CALLBACK}?code={code}", status_code=302)
        txn = sessions.begin(target)
        response = RedirectResponse(f"/u/login?state={txn.state}", status_code=302)
        if token:
            response.delete_cookie(SAVED_LOGIN_COOKIE, path="/")
        return response

    async def transaction_of(request: Request) -> tuple[LoginTransaction | None, dict[str, str]]:
        form: dict[str, str] = {}
        if request.method == "POST":
            raw = await request.form()
            form = {k: v for k, v in raw.items() if isinstance(v, str)}
        state = request.query_params.get("state") or form.get("state")
        return sessions.transaction(state), form

    async def login(request: Request) -> Response:
        txn, form = await transaction_of(request)
        if txn is None:
            return restart()
        if request.method == "GET":
            response = html(pages.login_page(txn))
            if DEVICE_COOKIE not in request.cookies:
                age = 365 * 86_400
                response.set_cookie(DEVICE_COOKIE, secrets.token_urlsafe(18), max_age=age)
            return response
        username = form.get("username", "").strip()
        password = form.get("password", "")
        expected = solve_challenge(txn.challenge, txn.state)
        if not hmac.compare_digest(form.get("captcha", "").encode(), expected.encode()):
            page = pages.login_page(txn, username, "javascript-required", JAVASCRIPT_REQUIRED)
            return html(page, 400)
        if not username or not password:
            page = pages.login_page(
                txn, username, "missing-fields", "Enter your email and password."
            )
            return html(page, 400)
        request.state.sandbox_user = username.lower()
        counter = portal.recorder.login(username)
        counter.attempts += 1
        if portal.blocked(username):
            return html(pages.login_page(txn, username, "user-blocked", BLOCKED), 400)
        user = portal.data.login(username)
        if user is None or not hmac.compare_digest(password.encode(), user.password.encode()):
            if portal.login_failed(username):
                return html(pages.login_page(txn, username, "user-blocked", BLOCKED), 400)
            page = pages.login_page(txn, username, "wrong-credentials", WRONG_CREDENTIALS)
            return html(page, 400)
        portal.login_succeeded(username)
        txn.username = user.username
        txn.remember = form.get("remember") == "true"
        if user.mfa == "email":
            send_code(txn, user)
            return next_step(txn, "mfa_email", "/u/mfa-email-challenge")
        if user.mfa == "totp":
            return next_step(txn, "mfa_totp", "/u/mfa-otp-challenge")
        return after_second_step(txn, user)

    def next_step(txn: LoginTransaction, stage: Stage, path: str) -> Response:
        txn.stage = stage
        return RedirectResponse(f"{path}?state={txn.state}", status_code=302)

    def after_second_step(txn: LoginTransaction, user: Login) -> Response:
        if user.password_expired:
            return next_step(txn, "change_password", "/u/change-password")
        code = sessions.finish(txn)
        return RedirectResponse(f"{CALLBACK}?code={code}", status_code=302)

    def send_code(txn: LoginTransaction, user: Login) -> None:
        txn.email_code = f"{secrets.randbelow(1_000_000):06d}"
        txn.code_sent_at = portal.wall()
        portal.send_mail(
            user.username,
            "Your Invisalign Doctor Site verification code",
            f"Your verification code is {txn.email_code}. It expires in 10 minutes.",
            code=txn.email_code,
        )

    def stage_user(txn: LoginTransaction | None, stage: str) -> Login | None:
        if txn is None or txn.stage != stage or txn.username is None:
            return None
        return portal.data.login(txn.username)

    def code_failed(txn: LoginTransaction) -> Response | None:
        txn.code_failures += 1
        if txn.code_failures < MAX_CODE_FAILURES:
            return None
        sessions.abandon(txn)
        page = pages.error_page(400, "Too many attempts", "Too many wrong codes. Log in again.")
        return html(page, 400)

    async def email_challenge(request: Request) -> Response:
        txn, form = await transaction_of(request)
        user = stage_user(txn, "mfa_email")
        if txn is None or user is None:
            return restart()
        masked = mask_email(user.username)
        if request.method == "GET":
            return html(pages.email_code_page(txn, masked))
        request.state.sandbox_user = user.username
        code = form.get("code", "").strip()
        fresh = portal.wall() - txn.code_sent_at < CODE_TTL
        if txn.email_code and fresh and hmac.compare_digest(code.encode(), txn.email_code.encode()):
            return after_second_step(txn, user)
        return code_failed(txn) or html(pages.email_code_page(txn, masked, INVALID_CODE), 400)

    async def otp_challenge(request: Request) -> Response:
        txn, form = await transaction_of(request)
        user = stage_user(txn, "mfa_totp")
        if txn is None or user is None or user.totp_secret is None:
            return restart()
        if request.method == "GET":
            return html(pages.totp_page(txn))
        request.state.sandbox_user = user.username
        code = form.get("code", "").strip()
        if re.fullmatch(r"[0-9]{6}", code) and pyotp.TOTP(user.totp_secret).verify(
            code, valid_window=1
        ):
            return after_second_step(txn, user)
        return code_failed(txn) or html(pages.totp_page(txn, INVALID_CODE), 400)

    async def change_password(request: Request) -> Response:
        txn, form = await transaction_of(request)
        user = stage_user(txn, "change_password")
        if txn is None or user is None:
            return restart()
        if request.method == "GET":
            return html(pages.change_password_page(txn))
        request.state.sandbox_user = user.username
        new = form.get("new-password", "")
        problem = password_policy_error(new, form.get("confirm-new-password", ""), user.password)
        if problem:
            return html(pages.change_password_page(txn, problem), 400)
        user.password = new
        user.password_expired = False
        portal.recorder.record_post("password_change", user.username, accepted=True)
        code = sessions.finish(txn)
        return RedirectResponse(f"{CALLBACK}?code={code}", status_code=302)

    async def callback(request: Request) -> Response:
        redeemed = sessions.redeem_code(request.query_params.get("code"))
        if redeemed is None:
            return restart()
        username, remember, target = redeemed
        session = sessions.open_session(username)
        request.state.sandbox_user = username
        response = RedirectResponse(target, status_code=302)
        set_session_cookies(response, session)
        if remember:
            saved = sessions.save_login(username)
            max_age = int(portal.config.saved_login_max_age_seconds)
            response.set_cookie(SAVED_LOGIN_COOKIE, saved.token, max_age=max_age, httponly=True)
        return response

    async def logout(request: Request) -> Response:
        session_id = request.cookies.get(SESSION_COOKIE)
        if session_id:
            sessions.drop(session_id)
        sessions.forget_saved_login(request.cookies.get(SAVED_LOGIN_COOKIE))
        response = RedirectResponse("/v3/auth/patients.action", status_code=302)
        clear_session_cookies(response)
        return response

    async def login_script(request: Request) -> Response:
        return Response(LOGIN_SCRIPT, media_type="application/javascript")

    both = ["GET", "POST"]
    return [
        Route("/authorize", authorize, methods=["GET"]),
        Route("/u/login", login, methods=both),
        Route("/u/mfa-email-challenge", email_challenge, methods=both),
        Route("/u/mfa-otp-challenge", otp_challenge, methods=both),
        Route("/u/change-password", change_password, methods=both),
        Route("/u/assets/login.js", login_script, methods=["GET"]),
        Route(CALLBACK, callback, methods=["GET"]),
        Route("/v3/auth/logout.action", logout, methods=both),
    ]
