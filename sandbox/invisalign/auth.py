"""The login flow: authorization server and hosted login pages (login host), callback and
logout (app host).

The shape follows the real site, whose app sends a visitor to the Align account login, an
Auth0-style Universal Login on its own host:

    app host /v3/auth/... (no session) -> login host /authorize?...&redirect_uri=<app callback>
      -> saved login ("auth0" cookie, login host) still allowed? -> app callback?code=...
      -> otherwise /u/login?state=<transaction>: username + password (+ the page's script
         answers a challenge into a hidden field, so a bare form POST is refused)
      -> optional /u/mfa-email-challenge or /u/mfa-otp-challenge
      -> /u/change-password when the password has expired
      -> app host /v3/auth/callback?code=... sets JSESSIONID and CSRF-TOKEN and returns to the
         page first asked for.

The login pages speak the browser's language (`Accept-Language`), and the login's profile
language once the login is known. Brute-force protection counts consecutive wrong passwords per
username (in the recorder, so the admin API shows them) and blocks the login after
`LOCKOUT_THRESHOLD`.
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

from sandbox.invisalign import i18n, pages
from sandbox.invisalign.access import (
    CALLBACK,
    DEVICE_COOKIE,
    SAVED_LOGIN_COOKIE,
    SESSION_COOKIE,
    clear_session_cookies,
    current_viewer,
    return_path,
    set_session_cookies,
    valid_callback,
)
from sandbox.invisalign.data import Login
from sandbox.invisalign.portal import InvisalignPortal
from sandbox.invisalign.sessions import CODE_TTL, LoginTransaction, Stage

WRONG_CREDENTIALS = i18n.text("ids.login.msg.wrong-credentials", "en")
BLOCKED = i18n.text("ids.login.msg.user-blocked", "en")
JAVASCRIPT_REQUIRED = i18n.text("ids.login.msg.javascript-required", "en")
INVALID_CODE = i18n.text("ids.login.msg.invalid-code", "en")
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


def password_policy_error(new: str, confirm: str, old: str, lang: str = "en") -> str | None:
    """Why a new password is refused, or None (12+ characters, letters and digits, new)."""
    if new != confirm:
        return i18n.text("ids.login.msg.policy-mismatch", lang)
    if len(new) < 12 or not re.search(r"[A-Za-z]", new) or not re.search(r"[0-9]", new):
        return i18n.text("ids.login.msg.policy-weak", lang)
    if len(new) > 128:
        return i18n.text("ids.login.msg.policy-long", lang)
    if new == old:
        return i18n.text("ids.login.msg.policy-reused", lang)
    return None


def mask_email(address: str) -> str:
    local, _, domain = address.partition("@")
    return f"{local[:1]}***@{domain}" if domain else "***"


def auth_routes(portal: InvisalignPortal) -> list[Route]:
    sessions = portal.sessions
    login_host = portal.config.login_host

    def html(body: str, status: int = 200) -> HTMLResponse:
        return HTMLResponse(body, status_code=status, headers={"Cache-Control": "no-store"})

    def lang_of(request: Request, user: Login | None = None) -> str:
        return i18n.choose(user.language if user else None, request.headers.get("accept-language"))

    def invalid_state(request: Request) -> HTMLResponse:
        return html(pages.invalid_state_page(lang_of(request)), 400)

    async def authorize(request: Request) -> Response:
        callback = valid_callback(request.query_params.get("redirect_uri"), request, login_host)
        if callback is None:
            return invalid_state(request)
        target = return_path(request.query_params.get("state"))
        token = request.cookies.get(SAVED_LOGIN_COOKIE)
        username = sessions.use_saved_login(token)
        login = portal.data.login(username) if username else None
        if login is not None and not login.password_expired and not portal.blocked(login.username):
            code = sessions.issue_code(login.username, False, target)
            return RedirectResponse(f"{callback}?code={code}", status_code=302)
        txn = sessions.begin(target, callback)
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

    def to_app(txn: LoginTransaction, code: str) -> RedirectResponse:
        """Back to the app's callback. "Keep me signed in" leaves the saved login's cookie on
        the login host, as Auth0 keeps its session on its own domain."""
        response = RedirectResponse(f"{txn.callback}?code={code}", status_code=302)
        if txn.remember and txn.username is not None:
            saved = sessions.save_login(txn.username)
            max_age = int(portal.config.saved_login_max_age_seconds)
            response.set_cookie(SAVED_LOGIN_COOKIE, saved.token, max_age=max_age, httponly=True)
        return response

    async def login(request: Request) -> Response:
        txn, form = await transaction_of(request)
        lang = lang_of(request)
        if txn is None:
            return invalid_state(request)
        if request.method == "GET":
            response = html(pages.login_page(txn, lang))
            if DEVICE_COOKIE not in request.cookies:
                age = 365 * 86_400
                response.set_cookie(DEVICE_COOKIE, secrets.token_urlsafe(18), max_age=age)
            return response
        username = form.get("username", "").strip()
        password = form.get("password", "")

        def refused(code: str, fact: str) -> HTMLResponse:
            message = i18n.text(fact, lang)
            return html(pages.login_page(txn, lang, username, code, message), 400)

        expected = solve_challenge(txn.challenge, txn.state)
        if not hmac.compare_digest(form.get("captcha", "").encode(), expected.encode()):
            return refused("javascript-required", "ids.login.msg.javascript-required")
        if not username or not password:
            return refused("missing-fields", "ids.login.msg.missing-fields")
        request.state.sandbox_user = username.lower()
        counter = portal.recorder.login(username)
        counter.attempts += 1
        if portal.blocked(username):
            return refused("user-blocked", "ids.login.msg.user-blocked")
        user = portal.data.login(username)
        if user is None or not hmac.compare_digest(password.encode(), user.password.encode()):
            if portal.login_failed(username):
                return refused("user-blocked", "ids.login.msg.user-blocked")
            return refused("wrong-credentials", "ids.login.msg.wrong-credentials")
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
        return to_app(txn, sessions.finish(txn))

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

    def code_failed(txn: LoginTransaction, lang: str) -> Response | None:
        txn.code_failures += 1
        if txn.code_failures < MAX_CODE_FAILURES:
            return None
        sessions.abandon(txn)
        message = i18n.text("ids.login.msg.too-many-codes", lang)
        return html(pages.error_page(400, "ids.login.msg.too-many-title", message, lang), 400)

    async def email_challenge(request: Request) -> Response:
        txn, form = await transaction_of(request)
        user = stage_user(txn, "mfa_email")
        if txn is None or user is None:
            return invalid_state(request)
        lang = lang_of(request, user)
        masked = mask_email(user.username)
        if request.method == "GET":
            return html(pages.email_code_page(txn, masked, lang))
        request.state.sandbox_user = user.username
        code = form.get("code", "").strip()
        fresh = portal.wall() - txn.code_sent_at < CODE_TTL
        if txn.email_code and fresh and hmac.compare_digest(code.encode(), txn.email_code.encode()):
            return after_second_step(txn, user)
        invalid = i18n.text("ids.login.msg.invalid-code", lang)
        return code_failed(txn, lang) or html(
            pages.email_code_page(txn, masked, lang, invalid), 400
        )

    async def otp_challenge(request: Request) -> Response:
        txn, form = await transaction_of(request)
        user = stage_user(txn, "mfa_totp")
        if txn is None or user is None or user.totp_secret is None:
            return invalid_state(request)
        lang = lang_of(request, user)
        if request.method == "GET":
            return html(pages.totp_page(txn, lang))
        request.state.sandbox_user = user.username
        code = form.get("code", "").strip()
        if re.fullmatch(r"[0-9]{6}", code) and pyotp.TOTP(user.totp_secret).verify(
            code, valid_window=1
        ):
            return after_second_step(txn, user)
        invalid = i18n.text("ids.login.msg.invalid-code", lang)
        return code_failed(txn, lang) or html(pages.totp_page(txn, lang, invalid), 400)

    async def change_password(request: Request) -> Response:
        txn, form = await transaction_of(request)
        user = stage_user(txn, "change_password")
        if txn is None or user is None:
            return invalid_state(request)
        lang = lang_of(request, user)
        if request.method == "GET":
            return html(pages.change_password_page(txn, lang))
        request.state.sandbox_user = user.username
        new = form.get("new-password", "")
        confirm = form.get("confirm-new-password", "")
        problem = password_policy_error(new, confirm, user.password, lang)
        if problem:
            return html(pages.change_password_page(txn, lang, problem), 400)
        user.password = new
        user.password_expired = False
        portal.recorder.record_post("password_change", user.username, accepted=True)
        return to_app(txn, sessions.finish(txn))

    async def callback(request: Request) -> Response:
        redeemed = sessions.redeem_code(request.query_params.get("code"))
        if redeemed is None:
            return RedirectResponse("/v3/auth/patients.action", status_code=302)
        username, _, target = redeemed
        session = sessions.open_session(username)
        request.state.sandbox_user = username
        response = RedirectResponse(target, status_code=302)
        set_session_cookies(response, session)
        return response

    async def logout(request: Request) -> Response:
        viewer = current_viewer(portal, request)
        if viewer is not None:
            sessions.drop(viewer.session.session_id)
            sessions.forget_saved_logins_of(viewer.login.username)
        else:
            session_id = request.cookies.get(SESSION_COOKIE)
            if session_id:
                sessions.drop(session_id)
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
