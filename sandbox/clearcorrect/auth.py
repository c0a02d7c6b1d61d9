"""The sign-in flow: login form, second factor, expired password, logout.

Modelled on ASP.NET Core Identity's Razor pages, which the portal's markup and cookies follow:
- Form validation runs before any sign-in: an e-mail that is not one, or a password outside
  the portal's 8..16 characters, re-renders the form with the field's message and is *not* a
  sign-in attempt (the password is never checked, nothing is counted), as model validation
  stops `PasswordSignInAsync` from running. A client can therefore never lock an account with
  a password the form rejects outright.
- A wrong password answers "Invalid login attempt." (the same for an unknown e-mail, so the
  form does not reveal which accounts exist). The `lockout_threshold`-th consecutive failure
  locks the account for `lockout_seconds` of wall time and says so; while locked, even the
  right password is refused with the same message and counted.
- A login with a second factor gets a short-lived `Identity.TwoFactorUserId` cookie and the
  code page; an emailed code goes to the sandbox mailbox. Wrong codes count like passwords.
- A login whose password expired is signed in only as far as the change-password page.
Form posts without a valid anti-forgery token are refused with 400 before anything else.
"""

from __future__ import annotations

import math
from urllib.parse import urlencode

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from sandbox.clearcorrect import antiforgery, labels, markup
from sandbox.clearcorrect.markup import (
    CHANGE_PASSWORD_PATH,
    LOGIN_PATH,
    LOGOUT_PATH,
    TWO_FACTOR_PATH,
)
from sandbox.clearcorrect.portal import ClearCorrectPortal, SignIn
from sandbox.clearcorrect.sessions import SESSION_COOKIE, TWO_FACTOR_COOKIE, TWO_FACTOR_SECONDS
from sandbox.clearcorrect.web import (
    current_layout,
    login_redirect,
    safe_return_url,
    set_session_cookie,
    token_valid,
    tokens,
    visitor,
    with_tokens,
)

PASSWORD_MIN = 8
PASSWORD_MAX = 16
INVALID_LOGIN = "Invalid login attempt."
INVALID_CODE = "Invalid verification code."
PASSWORD_LENGTH = (
    f"The Password must be at least {PASSWORD_MIN} and at max {PASSWORD_MAX} characters long."
)


def bad_request() -> Response:
    """What `[ValidateAntiForgeryToken]` answers: 400 and no detail."""
    return HTMLResponse(
        markup.error_page(400, "Bad Request", "The request could not be processed."),
        status_code=400,
    )


def password_error(password: str) -> str | None:
    if not password:
        return "The Password field is required."
    if not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        return PASSWORD_LENGTH
    return None


def email_error(email: str) -> str | None:
    if not email:
        return "The Email field is required."
    name, _, domain = email.partition("@")
    if not name or "." not in domain or any(ch.isspace() for ch in email) or "@" in domain:
        return "The Email field is not a valid e-mail address."
    return None


def browser_language(request: Request) -> str:
    """Pages before the sign-in speak the browser's language."""
    return labels.negotiate(request.headers.get("accept-language"))


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def auth_routes(portal: ClearCorrectPortal) -> list[Route]:
    def login_form(
        request: Request,
        return_url: str,
        email: str = "",
        errors: list[str] | None = None,
        field_errors: dict[str, str] | None = None,
    ) -> Response:
        issued = tokens(portal, request, None)
        page = markup.login_page(
            current_layout(portal),
            issued.request_token,
            return_url,
            email,
            errors or [],
            field_errors,
            browser_language(request),
        )
        response = with_tokens(HTMLResponse(page), issued)
        response.delete_cookie(TWO_FACTOR_COOKIE, path="/")
        return response

    def locked_form(request: Request, return_url: str, email: str, result: SignIn) -> Response:
        until = result.locked_until or portal.wall_now()
        minutes = max(1, math.ceil((until - portal.wall_now()).total_seconds() / 60))
        message = markup.lockout_message(minutes, browser_language(request))
        return login_form(request, return_url, email, [message])

    def signed_in(result: SignIn, return_url: str, remember: bool) -> Response:
        assert result.login is not None
        login = result.login
        session = portal.sessions.create(login.username, login.password_expired)
        target = CHANGE_PASSWORD_PATH if login.password_expired else return_url
        response = RedirectResponse(target, status_code=302)
        set_session_cookie(response, session, remember, portal.config.session_ttl_seconds)
        response.delete_cookie(TWO_FACTOR_COOKIE, path="/")
        return response

    async def login_page(request: Request) -> Response:
        return login_form(request, safe_return_url(request.query_params.get("ReturnUrl")))

    async def login_post(request: Request) -> Response:
        form = await request.form()
        if not token_valid(portal, request, _text(form, antiforgery.FORM_FIELD), None):
            return bad_request()
        layout = current_layout(portal)
        return_url = safe_return_url(request.query_params.get("ReturnUrl"))
        email = _text(form, layout.email_field).strip()
        password = _text(form, layout.password_field)
        remember = "true" in form.getlist(layout.remember_field)
        field_errors = {
            k: v
            for k, v in (("email", email_error(email)), ("password", password_error(password)))
            if v is not None
        }
        if field_errors:
            return login_form(request, return_url, email, [], field_errors)
        result = portal.check_password(email, password)
        if result.outcome == "locked":
            return locked_form(request, return_url, email, result)
        if result.outcome == "failed":
            invalid = labels.word("cc.app.signin.msg-invalid", browser_language(request))
            return login_form(request, return_url, email, [invalid])
        if result.outcome == "two_factor":
            assert result.login is not None
            assert result.login.mfa is not None
            pending = portal.sessions.start_pending(
                result.login.username, result.login.mfa, return_url, remember
            )
            if pending.channel == "email":
                portal.send_email_code(pending)
            target = f"{TWO_FACTOR_PATH}?{urlencode({'ReturnUrl': return_url})}"
            response = RedirectResponse(target, status_code=302)
            response.set_cookie(
                TWO_FACTOR_COOKIE,
                pending.token,
                max_age=TWO_FACTOR_SECONDS,
                path="/",
                httponly=True,
                samesite="lax",
            )
            return response
        return signed_in(result, return_url, remember)

    async def two_factor_page(request: Request) -> Response:
        pending = portal.sessions.pending(request.cookies.get(TWO_FACTOR_COOKIE))
        if pending is None:
            return RedirectResponse(LOGIN_PATH, status_code=302)
        issued = tokens(portal, request, None)
        page = markup.two_factor_page(
            current_layout(portal),
            issued.request_token,
            pending.channel,
            pending.username,
            pending.return_url,
        )
        return with_tokens(HTMLResponse(page), issued)

    async def two_factor_post(request: Request) -> Response:
        form = await request.form()
        if not token_valid(portal, request, _text(form, antiforgery.FORM_FIELD), None):
            return bad_request()
        pending = portal.sessions.pending(request.cookies.get(TWO_FACTOR_COOKIE))
        if pending is None:
            return RedirectResponse(LOGIN_PATH, status_code=302)
        layout = current_layout(portal)
        code = _text(form, layout.code_field).replace(" ", "").replace("-", "")

        def again(error: str) -> Response:
            issued = tokens(portal, request, None)
            page = markup.two_factor_page(
                layout,
                issued.request_token,
                pending.channel,
                pending.username,
                pending.return_url,
                [error],
            )
            return with_tokens(HTMLResponse(page), issued)

        if len(code) != 6 or not code.isdigit():
            return again("The code must be 6 digits.")
        result = portal.check_code(pending, code)
        if result.outcome == "locked":
            portal.sessions.finish_pending(pending.token)
            return locked_form(request, pending.return_url, pending.username, result)
        if result.outcome != "success":
            return again(INVALID_CODE)
        portal.sessions.finish_pending(pending.token)
        return signed_in(result, pending.return_url, pending.remember)

    async def logout(request: Request) -> Response:
        form = await request.form()
        current = visitor(portal, request)
        username = current.login.username if current else None
        if not token_valid(portal, request, _text(form, antiforgery.FORM_FIELD), username):
            return bad_request()
        if current is not None:
            portal.sessions.end(current.session.token)
        response = RedirectResponse(LOGIN_PATH, status_code=302)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    def change_form(request: Request, username: str, expired: bool, errors: list[str]) -> Response:
        issued = tokens(portal, request, username)
        page = markup.change_password_page(
            current_layout(portal), issued.request_token, expired, errors
        )
        return with_tokens(HTMLResponse(page), issued)

    async def change_password_page(request: Request) -> Response:
        current = visitor(portal, request)
        if current is None:
            return login_redirect(request)
        return change_form(request, current.login.username, current.session.password_expired, [])

    async def change_password_post(request: Request) -> Response:
        form = await request.form()
        current = visitor(portal, request)
        if current is None:
            return login_redirect(request)
        login = current.login
        if not token_valid(portal, request, _text(form, antiforgery.FORM_FIELD), login.username):
            return bad_request()
        layout = current_layout(portal)
        old = _text(form, layout.old_password_field)
        new = _text(form, layout.new_password_field)
        confirm = _text(form, layout.confirm_password_field)
        errors = []
        if old != login.password:
            errors.append("Incorrect password.")
        new_error = password_error(new)
        if new_error:
            errors.append(new_error.replace("The Password", "The New password"))
        elif new != confirm:
            errors.append("The new password and confirmation password do not match.")
        elif new == old:
            errors.append("The new password must be different from the current password.")
        if errors:
            return change_form(request, login.username, current.session.password_expired, errors)
        portal.change_password(login, new)
        current.session.password_expired = False
        return RedirectResponse("/Cases", status_code=302)

    return [
        Route(LOGIN_PATH, login_page, methods=["GET"]),
        Route(LOGIN_PATH, login_post, methods=["POST"]),
        Route(TWO_FACTOR_PATH, two_factor_page, methods=["GET"]),
        Route(TWO_FACTOR_PATH, two_factor_post, methods=["POST"]),
        Route(LOGOUT_PATH, logout, methods=["POST"]),
        Route(CHANGE_PASSWORD_PATH, change_password_page, methods=["GET"]),
        Route(CHANGE_PASSWORD_PATH, change_password_post, methods=["POST"]),
    ]
