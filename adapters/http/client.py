"""The httpx client every HTTP adapter uses: timeouts, bounded pools, a lean transport.

Requests go over `adapters.http.transport.AiohttpTransport` (aiohttp's pool and C parser)
unless a caller passes its own transport (tests pass httpx's or respx's). Measured on this
2-core machine against the sandbox, client CPU per request, two runs each:

| transport | us per request |
|---|---|
| httpx default (httpcore, HTTP/2 on) | 1,102 / 1,009 |
| httpx default, HTTP/1.1 | 1,066 / 1,079 |
| httpx + aiohttp transport | 422 / 416 |
| bare aiohttp (no httpx) | 138 / 145 |

HTTP/2 is given up with it: a session sends a handful of requests at a time, which keep-alive
HTTP/1.1 connections carry without queueing (the sync benchmark's wall time did not move), and
neither portal is known to need it.
"""

from __future__ import annotations

import ssl
from functools import cache
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import httpx

from adapters.http.transport import AiohttpTransport


def _version() -> str:
    try:
        return version("tps-connector")
    except PackageNotFoundError:  # running from a source tree
        return "0"


DEFAULT_USER_AGENT = f"tps-connector/{_version()}"

DEFAULT_TIMEOUT = httpx.Timeout(connect=10.0, read=30.0, write=30.0, pool=30.0)


@cache
def _ssl_context() -> ssl.SSLContext:
    """One verified TLS context per process: loading the CA bundle costs ~35 ms of CPU, which
    would otherwise be paid by every session of every account."""
    return ssl.create_default_context()


class SessionCookies(httpx.Cookies):
    """The session's jar, read only when an answer sets a cookie.

    httpx builds two urllib compatibility objects per response to look for `Set-Cookie`; most
    answers have none, and skipping them saves about a twentieth of a request's client CPU.
    """

    def extract_cookies(self, response: httpx.Response) -> None:
        if "set-cookie" in response.headers:
            super().extract_cookies(response)


class PortalClient(httpx.AsyncClient):
    """httpx's client, minus its two copies of the whole cookie jar per request.

    httpx merges the client's cookies into a fresh jar for every request, and the request
    copies that jar again before it matches cookies to the URL. Without per-request cookies
    the session's own jar is handed over as it is: the request then only matches it (domain,
    path, expiry: the same rules). Relies on `httpx.AsyncClient._merge_cookies` (httpx 0.28,
    pinned; `tests/adapters/test_http_client.py` fails if that changes).
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._cookies = SessionCookies(self._cookies.jar)

    @property
    def cookies(self) -> httpx.Cookies:
        return self._cookies

    @cookies.setter
    def cookies(self, cookies: httpx._types.CookieTypes) -> None:
        self._cookies = SessionCookies(cookies)

    def _merge_cookies(
        self, cookies: httpx._types.CookieTypes | None = None
    ) -> httpx._types.CookieTypes | None:
        if cookies:
            return super()._merge_cookies(cookies)
        return self._cookies.jar if self._cookies else None


def make_client(
    base_url: str,
    *,
    timeout: httpx.Timeout = DEFAULT_TIMEOUT,
    max_connections: int = 10,
    user_agent: str = DEFAULT_USER_AGENT,
    cookies: httpx.Cookies | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> httpx.AsyncClient:
    """A client for one portal session. Redirects are not followed automatically: login flows
    need to see them, and a redirect to a login page is how many portals say "session expired".
    """
    return PortalClient(
        base_url=base_url,
        timeout=timeout,
        limits=httpx.Limits(
            max_connections=max_connections, max_keepalive_connections=max_connections
        ),
        headers={"User-Agent": user_agent},
        cookies=cookies,
        follow_redirects=False,
        transport=transport
        or AiohttpTransport(ssl_context=_ssl_context(), max_connections=max_connections),
        verify=_ssl_context(),
    )
