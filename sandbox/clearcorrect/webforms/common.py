"""What every WebForms handler needs: the two cookies (session state and the forms
authentication ticket), the signed-in user, the page's language, the sign-in redirect, reading
a postback, and the error answers. Sign-in pages and app pages share these, so the rules
(sliding sessions, dropped sessions, view state bound to page and user) hold the same
everywhere.
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from sandbox.clearcorrect import labels
from sandbox.clearcorrect.data import Login
from sandbox.clearcorrect.portal import WEBFORMS, ClearCorrectPortal
from sandbox.clearcorrect.sessions import Session
from sandbox.clearcorrect.webforms import markup
from sandbox.clearcorrect.webforms.viewstate import (
    EVENTARGUMENT,
    EVENTTARGET,
    EVENTVALIDATION,
    VIEWSTATE,
    Signer,
    postback_valid,
)
from sandbox.common.recorder import STATE_USER_KEY

#: ASP.NET session state (set on the first answer) and the forms authentication ticket.
SESSION_STATE_COOKIE = "ASP.NET_SessionId"
AUTH_COOKIE = ".ASPXAUTH"

LOGIN_PATH = "/Login.aspx"
CODE_PATH = "/LoginVerify.aspx"
CHANGE_PASSWORD_PATH = "/ChangePassword.aspx"
LOGOUT_PATH = "/Logout.aspx"
CASES_PATH = "/cases.aspx"
CASE_PATH = "/detail/case.aspx"
SETUP_PATH = "/detail/setup.aspx"
ACCOUNT_PATH = "/account.aspx"
DOWNLOAD_PATH = "/files/download.aspx"
RETURN_PARAM = "ReturnUrl"

_SESSION_ALPHABET = string.ascii_lowercase + "012345"


@dataclass(frozen=True)
class Visitor:
    session: Session
    login: Login


def active(portal: ClearCorrectPortal) -> bool:
    return portal.variant == WEBFORMS


def not_found() -> Response:
    return HTMLResponse(
        markup.server_error(
            "The resource cannot be found.",
            "HTTP 404. The resource you are looking for might have been removed, had its name "
            "changed, or is temporarily unavailable.",
        ),
        status_code=404,
    )


def invalid_viewstate() -> Response:
    return HTMLResponse(
        markup.server_error(
            "Validation of viewstate MAC failed.",
            "The page you posted back was not served to this user, or was changed.",
        ),
        status_code=500,
    )


def invalid_postback() -> Response:
    return HTMLResponse(
        markup.server_error(
            "Invalid postback or callback argument.",
            "Event validation is enabled: the postback names a control or a value the page did "
            "not render.",
        ),
        status_code=500,
    )


def session_state_id(request: Request) -> str | None:
    return request.cookies.get(SESSION_STATE_COOKIE)


def new_session_state_id() -> str:
    return "".join(secrets.choice(_SESSION_ALPHABET) for _ in range(24))


def with_session_state(
    request: Request, response: Response, state_id: str | None = None
) -> Response:
    """Give a browser without one its `ASP.NET_SessionId` (HttpOnly, for the whole site)."""
    if session_state_id(request) is None:
        response.set_cookie(
            SESSION_STATE_COOKIE,
            state_id or new_session_state_id(),
            path="/",
            httponly=True,
            samesite="lax",
        )
    return response


def visitor(portal: ClearCorrectPortal, request: Request) -> Visitor | None:
    session = portal.sessions.lookup(request.cookies.get(AUTH_COOKIE))
    if session is None:
        return None
    login = portal.data.logins.get(session.username)
    if login is None:
        return None
    request.scope.setdefault("state", {})[STATE_USER_KEY] = login.username
    return Visitor(session, login)


def language(request: Request, login: Login | None) -> str:
    return labels.language_of(login, request.headers.get("accept-language"))


def here(request: Request) -> str:
    """The path and query of this request, as ReturnUrl carries it."""
    return request.url.path + (f"?{request.url.query}" if request.url.query else "")


def login_redirect(request: Request) -> Response:
    """Forms authentication's answer to a signed-out request, page or postback alike."""
    target = f"{LOGIN_PATH}?{RETURN_PARAM}={quote(here(request), safe='').lower()}"
    return RedirectResponse(target, status_code=302)


def safe_return_url(value: str | None) -> str:
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return CASES_PATH
    return value


def form_text(form: FormData | Mapping[str, Any], name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def plain(form: FormData) -> dict[str, str]:
    """The posted fields (the first of repeated names), as text."""
    fields: dict[str, str] = {}
    for key, value in form.multi_items():
        if isinstance(value, str):
            fields.setdefault(key, value)
    return fields


@dataclass(frozen=True)
class Postback:
    """A verified postback: what the page remembered, and what was posted."""

    state: dict[str, Any]
    allowed: dict[str, list[str]]
    fields: dict[str, str]

    @property
    def target(self) -> str:
        return self.fields.get(EVENTTARGET, "")

    @property
    def argument(self) -> str:
        return self.fields.get(EVENTARGUMENT, "")

    def pressed(self, button: str) -> bool:
        """A submit button the page rendered and the browser posted (the one clicked)."""
        return button in self.fields and button in self.allowed

    def text(self, name: str) -> str:
        return self.fields.get(name, "") if name in self.allowed else ""


def read_postback(
    signer: Signer, request: Request, user: str | None, fields: dict[str, str]
) -> Postback | Response:
    """The verified postback; the error page (500) when its view state or event validation
    does not verify, before anything is acted on."""
    path = request.url.path
    state = signer.open("viewstate", path, user, fields.get(VIEWSTATE))
    if not isinstance(state, dict):
        return invalid_viewstate()
    allowed = signer.open("eventvalidation", path, user, fields.get(EVENTVALIDATION))
    if not isinstance(allowed, dict) or not postback_valid(allowed, fields):
        return invalid_postback()
    return Postback(state, allowed, fields)


def html(page: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(page, status_code=status)
