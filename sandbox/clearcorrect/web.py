"""What every handler needs from a request: the signed-in user, anti-forgery tokens, cookies
and the safe return URL. Pages, the sign-in flow and the JSON API share these so the rules
(sliding sessions, dropped sessions, user-bound tokens) hold the same everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from sandbox.clearcorrect import antiforgery
from sandbox.clearcorrect.data import Login
from sandbox.clearcorrect.layout import Layout, layout
from sandbox.clearcorrect.markup import LOGIN_PATH
from sandbox.clearcorrect.portal import ClearCorrectPortal
from sandbox.clearcorrect.sessions import SESSION_COOKIE, Session
from sandbox.common.recorder import STATE_USER_KEY

DEFAULT_RETURN = "/Cases"


@dataclass(frozen=True)
class Visitor:
    """A request's signed-in user."""

    session: Session
    login: Login


def current_layout(portal: ClearCorrectPortal) -> Layout:
    return layout(portal.faults.layout_version)


#: The WebForms site's forms-authentication cookie: with the JSON API switched on there, the API
#: answers that session too.
FORMS_AUTH_COOKIE = ".ASPXAUTH"


def visitor(portal: ClearCorrectPortal, request: Request) -> Visitor | None:
    """The signed-in user, or None (no cookie, expired, dropped by a fault, or unknown)."""
    cookie = request.cookies.get(SESSION_COOKIE) or request.cookies.get(FORMS_AUTH_COOKIE)
    session = portal.sessions.lookup(cookie)
    if session is None:
        return None
    login = portal.data.logins.get(session.username)
    if login is None:
        return None
    request.scope.setdefault("state", {})[STATE_USER_KEY] = login.username
    return Visitor(session, login)


def safe_return_url(value: str | None) -> str:
    """Only local paths: `//host` and absolute URLs would be an open redirect."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return DEFAULT_RETURN
    return value


def login_redirect(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"{LOGIN_PATH}?{urlencode({'ReturnUrl': target})}", status_code=302)


@dataclass
class Tokens:
    """A request token for a page, and the cookie token to set if the browser had none."""

    request_token: str
    new_cookie: str | None


def tokens(portal: ClearCorrectPortal, request: Request, username: str | None) -> Tokens:
    cookie = request.cookies.get(antiforgery.COOKIE)
    new_cookie = None
    if not cookie:
        cookie = new_cookie = portal.antiforgery.new_cookie_token()
    return Tokens(portal.antiforgery.request_token(cookie, username), new_cookie)


def with_tokens(response: Response, issued: Tokens, xsrf_cookie: bool = False) -> Response:
    """Set the anti-forgery cookie if it was new; app pages also refresh `XSRF-TOKEN`."""
    if issued.new_cookie is not None:
        response.set_cookie(
            antiforgery.COOKIE, issued.new_cookie, path="/", httponly=True, samesite="strict"
        )
    if xsrf_cookie:
        # Readable by the page script (not HttpOnly): the value goes in the request header.
        response.set_cookie(
            antiforgery.XSRF_COOKIE,
            issued.request_token,
            path="/",
            httponly=False,
            samesite="strict",
        )
    return response


def token_valid(
    portal: ClearCorrectPortal, request: Request, request_token: str | None, username: str | None
) -> bool:
    return portal.antiforgery.valid(
        request.cookies.get(antiforgery.COOKIE), request_token, username
    )


def set_session_cookie(
    response: Response, session: Session, remember: bool, max_age: float
) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        session.token,
        max_age=int(max_age) if remember else None,
        path="/",
        httponly=True,
        samesite="lax",
    )
