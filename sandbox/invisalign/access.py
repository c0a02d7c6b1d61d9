"""Who is asking: hosts, cookies, the app session behind them, CSRF, and the way to the login.

The site lives on two hosts, as the real one does (vip.invisalign.com and the Align account
login, myaccount-us.aligntech.com): the app on the address the sandbox was started on, the hosted
login on `config.login_host` (127.0.0.2), same port. Browsers keep cookies per host, so the
login's cookies (`auth0`, `did`) and the app's (`JSESSIONID`, `CSRF-TOKEN`) stay apart, and a
client follows real cross-host redirects.

Cookie names are the site's own kind (a Java servlet session, Auth0-style login cookies, a CSRF
cookie the page script echoes as a header). They are also chosen to differ from the other sandbox
portal's (its ASP.NET pair is `XSRF-TOKEN`) and the connector's form, because all of them may share
127.0.0.1 and browsers keep cookies per host, not per port.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from sandbox.invisalign.data import Login
from sandbox.invisalign.portal import InvisalignPortal
from sandbox.invisalign.sessions import AppSession

SESSION_COOKIE = "JSESSIONID"
CSRF_COOKIE = "CSRF-TOKEN"
CSRF_HEADER = "X-CSRF-TOKEN"
CSRF_FORM_FIELD = "_csrf"
SAVED_LOGIN_COOKIE = "auth0"
DEVICE_COOKIE = "did"

HOME = "/v3/auth/patient/patientList.action"
CALLBACK = "/v3/auth/callback"
CLIENT_ID = "IDSv3WebClient"


@dataclass(frozen=True)
class Viewer:
    session: AppSession
    login: Login


def current_viewer(portal: InvisalignPortal, request: Request) -> Viewer | None:
    """The logged-in user, or None; the `session_drop_rate` fault may forget the session here."""
    session = portal.sessions.session(request.cookies.get(SESSION_COOKIE))
    if session is None:
        return None
    login = portal.data.login(session.username)
    if login is None or portal.faults.should_drop_session():
        portal.sessions.drop(session.session_id)
        return None
    request.state.sandbox_user = login.username
    return Viewer(session, login)


def csrf_valid(viewer: Viewer, request: Request, form_token: str | None = None) -> bool:
    sent = request.headers.get(CSRF_HEADER) or form_token or ""
    return hmac.compare_digest(sent.encode(), viewer.session.csrf_token.encode())


# Hosts -------------------------------------------------------------------------------------------

#: Paths of the hosted login; everything else (but the admin API) belongs to the app host.
LOGIN_PATHS = ("/authorize", "/u/")
_BOTH_HOSTS = ("/__sandbox/", "/favicon.ico")


def origin(scheme: str, host: str, port: int | None) -> str:
    return f"{scheme}://{host}:{port}" if port else f"{scheme}://{host}"


def login_origin(portal: InvisalignPortal, request: Request) -> str:
    """The hosted login's origin, as seen from a request on either host (same port)."""
    return origin(request.url.scheme, portal.config.login_host, request.url.port)


def app_origin(request: Request) -> str:
    return origin(request.url.scheme, request.url.hostname or "127.0.0.1", request.url.port)


class HostSplit:
    """Answers login paths only on the login host and app paths only on the app host (404)."""

    def __init__(self, app: ASGIApp, login_host: str) -> None:
        self.app = app
        self.login_host = login_host

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path: str = scope["path"]
            host = Request(scope).url.hostname
            on_login = path.startswith(LOGIN_PATHS)
            if not path.startswith(_BOTH_HOSTS) and on_login != (host == self.login_host):
                await Response("Not found", 404, media_type="text/plain")(scope, receive, send)
                return
        await self.app(scope, receive, send)


def valid_callback(redirect_uri: str | None, request: Request, login_host: str) -> str | None:
    """The app's callback URL from `/authorize`, if it is the app's own (same port, not the
    login host, the callback path); None otherwise (no open redirect)."""
    if not redirect_uri:
        return None
    parts = urlsplit(redirect_uri)
    if parts.scheme not in ("http", "https") or parts.path != CALLBACK or parts.query:
        return None
    if parts.hostname in (None, login_host) or parts.port != request.url.port:
        return None
    return redirect_uri


# The way to the login ----------------------------------------------------------------------------


def to_login(portal: InvisalignPortal, request: Request) -> RedirectResponse:
    """Send a visitor without a session to the authorization server, to come back here after."""
    target = request.url.path
    if request.url.query:
        target += "?" + request.url.query
    return RedirectResponse(authorize_url(portal, request, target), status_code=302)


def authorize_url(portal: InvisalignPortal, request: Request, return_to: str) -> str:
    """`/authorize` on the login host, with the app's callback and where to return after."""
    state = base64.urlsafe_b64encode(return_to.encode()).decode().rstrip("=")
    query = urlencode(
        {
            "client_id": CLIENT_ID,
            "response_type": "code",
            "redirect_uri": app_origin(request) + CALLBACK,
            "scope": "openid profile email",
            "state": state,
        }
    )
    return f"{login_origin(portal, request)}/authorize?{query}"


def return_path(state: str | None) -> str:
    """Decode the app's `state` back to a path on this site (anything else goes home)."""
    if not state:
        return HOME
    try:
        padded = state + "=" * (-len(state) % 4)
        path = base64.urlsafe_b64decode(padded.encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return HOME
    if not path.startswith("/v3/auth/") or "//" in path or "\\" in path:
        return HOME
    return path


def unauthorized() -> JSONResponse:
    body = {"error": "unauthorized", "message": "Your session has expired. Please log in again."}
    return JSONResponse(body, status_code=401)


def set_session_cookies(response: Response, session: AppSession) -> None:
    response.set_cookie(SESSION_COOKIE, session.session_id, path="/", httponly=True)
    # Read by the page script and echoed as the X-CSRF-TOKEN header: not HttpOnly.
    response.set_cookie(CSRF_COOKIE, session.csrf_token, path="/", httponly=False)


def clear_session_cookies(response: Response) -> None:
    for name in (SESSION_COOKIE, CSRF_COOKIE):
        response.delete_cookie(name, path="/")
