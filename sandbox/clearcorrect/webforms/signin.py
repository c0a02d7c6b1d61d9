"""Signing in on the WebForms pages: `/Login.aspx`, the code page, the change-password page and
signing out. No source shows the real sign-in page: its path, field names and messages are the
register's assumptions (`cc.wf.signin.*`); the rules are the documented ones.

- The username must be an e-mail address and the password 8 to 16 characters
  (`cc.signin.password-rule`): a form that breaks either is answered with the validator's
  message and is *not* a sign-in attempt (nothing is checked or counted), as WebForms
  validators stop the page before its click handler runs.
- The third consecutive failure locks the login for 20 minutes (`cc.signin.lockout`); while
  locked, even the right password is refused with the lockout message and counted, and the
  lockout is not extended.
- A login with a second factor goes on to `/LoginVerify.aspx`; the half-finished sign-in lives
  in the ASP.NET session state (`ASP.NET_SessionId`). Wrong codes count like wrong passwords.
- A login whose password expired is signed in only as far as `/ChangePassword.aspx`.
Pages before the sign-in speak the browser's language (`Accept-Language`).
"""

from __future__ import annotations

import math
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from sandbox.clearcorrect import labels
from sandbox.clearcorrect.auth import email_error, password_error
from sandbox.clearcorrect.portal import ClearCorrectPortal, SignIn
from sandbox.clearcorrect.sessions import PendingSignIn, forms_ticket
from sandbox.clearcorrect.webforms import markup
from sandbox.clearcorrect.webforms.common import (
    AUTH_COOKIE,
    CASES_PATH,
    CHANGE_PASSWORD_PATH,
    CODE_PATH,
    LOGIN_PATH,
    LOGOUT_PATH,
    RETURN_PARAM,
    Postback,
    active,
    html,
    language,
    login_redirect,
    new_session_state_id,
    not_found,
    plain,
    read_postback,
    safe_return_url,
    session_state_id,
    visitor,
    with_session_state,
)
from sandbox.clearcorrect.webforms.markup import Page, e
from sandbox.clearcorrect.webforms.viewstate import Signer

USERNAME_FIELD = "ctl00$MainPH$txtUserName"
PASSWORD_FIELD = "ctl00$MainPH$txtPassword"
LOGIN_BUTTON = "ctl00$MainPH$btnLogin"
ERROR_LABEL = "ctl00_MainPH_lblError"
CODE_FIELD = "ctl00$MainPH$txtCode"
PROVIDER_FIELD = "ctl00$MainPH$hfProvider"
CODE_BUTTON = "ctl00$MainPH$btnVerify"
OLD_PASSWORD_FIELD = "ctl00$MainPH$txtOldPassword"
NEW_PASSWORD_FIELD = "ctl00$MainPH$txtNewPassword"
CONFIRM_PASSWORD_FIELD = "ctl00$MainPH$txtConfirmPassword"
CHANGE_PASSWORD_BUTTON = "ctl00$MainPH$btnChangePassword"
EXPIRED_LABEL = "ctl00_MainPH_lblExpired"
PROVIDERS = {"email": "Email", "totp": "Authenticator"}


def signin_routes(portal: ClearCorrectPortal, signer: Signer) -> list[Route]:
    #: Half-finished sign-ins by `ASP.NET_SessionId` (the session state holding them).
    pending_by_state: dict[str, str] = {}

    def action(path: str, return_url: str) -> str:
        name = path.rsplit("/", 1)[-1]
        return f"./{name}?{RETURN_PARAM}={quote(return_url, safe='').lower()}"

    def error_line(message: str | None) -> str:
        return f"<p>{markup.label(ERROR_LABEL, message or '', 'error')}</p>" if message else ""

    def login_page(
        request: Request,
        return_url: str,
        username: str = "",
        message: str | None = None,
        state_id: str | None = None,
    ) -> Response:
        lang = language(request, None)
        page = Page(LOGIN_PATH, action(LOGIN_PATH, return_url), lang, None, {"p": "login"})
        w = page.w
        content = (
            f"<h1>{e(w('cc.signin.submit'))}</h1>"
            + error_line(message)
            + '<table class="login">'
            f'<tr><td><label for="ctl00_MainPH_txtUserName">{e(w("cc.signin.username-label"))}'
            "</label></td><td>"
            + markup.text_box(
                page, USERNAME_FIELD, value=username, extra=' autocomplete="username"'
            )
            + "</td></tr>"
            f'<tr><td><label for="ctl00_MainPH_txtPassword">{e(w("cc.signin.password-label"))}'
            "</label></td><td>"
            + markup.text_box(
                page, PASSWORD_FIELD, "password", extra=' autocomplete="current-password"'
            )
            + "</td></tr></table><p>"
            + markup.button(page, LOGIN_BUTTON, w("cc.signin.submit"))
            + "</p>"
            f'<p><a id="ctl00_MainPH_lnkForgotPassword" href="ForgotPassword.aspx">'
            f'{e(w("cc.signin.forgot-password"))}</a></p>'
        )  # fmt: skip
        body = markup.document(
            page, signer, w("cc.signin.submit"), content, markup.header(page, None)
        )
        return with_session_state(request, html(body), state_id)

    def locked_message(request: Request, result: SignIn) -> str:
        until = result.locked_until or portal.wall_now()
        minutes = max(1, math.ceil((until - portal.wall_now()).total_seconds() / 60))
        template = labels.word("cc.wf.signin.msg-locked", language(request, None))
        return template.replace("{minutes}", str(minutes))

    def signed_in(request: Request, result: SignIn, return_url: str) -> Response:
        assert result.login is not None
        login = result.login
        session = portal.sessions.create(login.username, login.password_expired, forms_ticket())
        target = CHANGE_PASSWORD_PATH if login.password_expired else return_url
        response = RedirectResponse(target, status_code=302)
        response.set_cookie(AUTH_COOKIE, session.token, path="/", httponly=True, samesite="lax")
        return with_session_state(request, response)

    async def login_get(request: Request) -> Response:
        if not active(portal):
            return not_found()
        return login_page(request, safe_return_url(request.query_params.get(RETURN_PARAM)))

    async def login_post(request: Request) -> Response:
        if not active(portal):
            return not_found()
        return_url = safe_return_url(request.query_params.get(RETURN_PARAM))
        posted = read_postback(signer, request, None, plain(await request.form()))
        if not isinstance(posted, Postback):
            return posted
        if not posted.pressed(LOGIN_BUTTON):
            return login_page(request, return_url)
        username = posted.text(USERNAME_FIELD).strip()
        password = posted.text(PASSWORD_FIELD)
        lang = language(request, None)
        if email_error(username):
            message = labels.word("cc.wf.signin.msg-username-email", lang)
            return login_page(request, return_url, username, message)
        if password_error(password):
            message = labels.word("cc.wf.signin.msg-password-length", lang)
            return login_page(request, return_url, username, message)
        result = portal.check_password(username, password)
        if result.outcome == "locked":
            return login_page(request, return_url, username, locked_message(request, result))
        if result.outcome == "failed":
            message = labels.word("cc.wf.signin.msg-invalid", lang)
            return login_page(request, return_url, username, message)
        if result.outcome == "two_factor":
            assert result.login is not None and result.login.mfa is not None
            pending = portal.sessions.start_pending(
                result.login.username, result.login.mfa, return_url, False
            )
            if pending.channel == "email":
                portal.send_email_code(pending)
            state_id = session_state_id(request) or new_session_state_id()
            pending_by_state[state_id] = pending.token
            response = RedirectResponse(action(CODE_PATH, return_url)[1:], status_code=302)
            return with_session_state(request, response, state_id)
        return signed_in(request, result, return_url)

    def pending_of(request: Request) -> PendingSignIn | None:
        state_id = session_state_id(request)
        token = pending_by_state.get(state_id or "")
        return portal.sessions.pending(token)

    def code_page(request: Request, pending: PendingSignIn, message: str | None = None) -> Response:
        lang = language(request, None)
        page = Page(CODE_PATH, action(CODE_PATH, pending.return_url), lang, None, {"p": "code"})
        w = page.w
        page.controls.text(PROVIDER_FIELD)
        provider = PROVIDERS[pending.channel]
        name, _, domain = pending.username.partition("@")
        to = f"{name[:1]}***@{domain}" if pending.channel == "email" else ""
        content = (
            f"<h1>{e(w('cc.wf.signin.code-label'))}</h1>"
            f'<p id="ctl00_MainPH_lblCodeSentTo">{e(to)}</p>'
            + error_line(message)
            + f'<input type="hidden" name="{PROVIDER_FIELD}" id="ctl00_MainPH_hfProvider" '
            f'value="{provider}">'
            f'<label for="ctl00_MainPH_txtCode">{e(w("cc.wf.signin.code-label"))}</label> '
            + markup.text_box(page, CODE_FIELD, extra=' autocomplete="one-time-code" maxlength="7"')
            + " "
            + markup.button(page, CODE_BUTTON, w("cc.wf.signin.code-submit-label"))
        )  # fmt: skip
        title = w("cc.wf.signin.code-label")
        return html(markup.document(page, signer, title, content, markup.header(page, None)))

    async def code_get(request: Request) -> Response:
        if not active(portal):
            return not_found()
        pending = pending_of(request)
        if pending is None:
            return RedirectResponse(LOGIN_PATH, status_code=302)
        return code_page(request, pending)

    async def code_post(request: Request) -> Response:
        if not active(portal):
            return not_found()
        posted = read_postback(signer, request, None, plain(await request.form()))
        if not isinstance(posted, Postback):
            return posted
        pending = pending_of(request)
        if pending is None:
            return RedirectResponse(LOGIN_PATH, status_code=302)
        if not posted.pressed(CODE_BUTTON):
            return code_page(request, pending)
        lang = language(request, None)
        code = posted.text(CODE_FIELD).replace(" ", "").replace("-", "")
        if len(code) != 6 or not code.isdigit():
            return code_page(request, pending, labels.word("cc.wf.signin.msg-code-format", lang))
        result = portal.check_code(pending, code)
        if result.outcome == "locked":
            portal.sessions.finish_pending(pending.token)
            message = locked_message(request, result)
            return login_page(request, pending.return_url, pending.username, message)
        if result.outcome != "success":
            return code_page(request, pending, labels.word("cc.wf.signin.msg-invalid-code", lang))
        portal.sessions.finish_pending(pending.token)
        return signed_in(request, result, pending.return_url)

    def change_page(request: Request, username: str, expired: bool, error: str | None) -> Response:
        current = visitor(portal, request)
        lang = language(request, current.login if current else None)
        page = Page(CHANGE_PASSWORD_PATH, "./ChangePassword.aspx", lang, username, {"p": "pw"})
        w = page.w
        notice = (
            f"<p>{markup.label(EXPIRED_LABEL, w('cc.wf.signin.msg-password-expired'), 'error')}</p>"
            if expired
            else ""
        )
        fields = "".join(
            f"<p>{markup.text_box(page, name, 'password')}</p>"
            for name in (OLD_PASSWORD_FIELD, NEW_PASSWORD_FIELD, CONFIRM_PASSWORD_FIELD)
        )
        content = (
            f"<h1>{e(w('cc.wf.signin.change-password-submit'))}</h1>{notice}"
            + error_line(error)
            + fields
            + markup.button(page, CHANGE_PASSWORD_BUTTON, w("cc.wf.signin.change-password-submit"))
        )
        title = w("cc.wf.signin.change-password-submit")
        return html(markup.document(page, signer, title, content, markup.header(page, username)))

    async def change_get(request: Request) -> Response:
        if not active(portal):
            return not_found()
        current = visitor(portal, request)
        if current is None:
            return login_redirect(request)
        return change_page(request, current.login.username, current.session.password_expired, None)

    async def change_post(request: Request) -> Response:
        if not active(portal):
            return not_found()
        current = visitor(portal, request)
        if current is None:
            return login_redirect(request)
        login = current.login
        posted = read_postback(signer, request, login.username, plain(await request.form()))
        if not isinstance(posted, Postback):
            return posted
        expired = current.session.password_expired
        if not posted.pressed(CHANGE_PASSWORD_BUTTON):
            return change_page(request, login.username, expired, None)
        lang = language(request, login)
        old = posted.text(OLD_PASSWORD_FIELD)
        new = posted.text(NEW_PASSWORD_FIELD)
        error = None
        if old != login.password:
            error = labels.word("cc.wf.signin.msg-password-wrong", lang)
        elif password_error(new) or new == old:
            error = labels.word("cc.wf.signin.msg-password-length", lang)
        elif new != posted.text(CONFIRM_PASSWORD_FIELD):
            error = labels.word("cc.wf.signin.msg-password-mismatch", lang)
        if error:
            return change_page(request, login.username, expired, error)
        portal.change_password(login, new)
        current.session.password_expired = False
        return RedirectResponse(CASES_PATH, status_code=302)

    async def logout(request: Request) -> Response:
        if not active(portal):
            return not_found()
        current = visitor(portal, request)
        if current is not None:
            portal.sessions.end(current.session.token)
        response = RedirectResponse(LOGIN_PATH, status_code=302)
        response.delete_cookie(AUTH_COOKIE, path="/")
        return response

    return [
        Route(LOGIN_PATH, login_get, methods=["GET"]),
        Route(LOGIN_PATH, login_post, methods=["POST"]),
        Route(CODE_PATH, code_get, methods=["GET"]),
        Route(CODE_PATH, code_post, methods=["POST"]),
        Route(CHANGE_PASSWORD_PATH, change_get, methods=["GET"]),
        Route(CHANGE_PASSWORD_PATH, change_post, methods=["POST"]),
        Route(LOGOUT_PATH, logout, methods=["GET"]),
    ]
