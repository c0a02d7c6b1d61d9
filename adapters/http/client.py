"""The httpx client every HTTP adapter uses: timeouts, bounded pools, a lean transport.

Requests go over `adapters.http.transport.H1Transport` (keep-alive HTTP/1.1 connections on
asyncio, answers parsed by httptools) unless a caller passes its own transport (tests pass
httpx's or respx's). Measured on 2-core machines against the sandbox; client CPU per request,
8 requests at a time, no latency (`bench/http_client_bench.py` measures them again), and the
gross CPU of a full sync of 200 accounts x 50 cases at 20 ms of portal latency, 32 accounts at
a time (`bench/sync_bench.py`'s embedded run; each row beside the one above it in the same
minutes, two runs each):

| transport | us per request | full sync CPU |
|---|---|---|
| httpx default (httpcore, HTTP/2 on) | 1,102 / 1,009 (another machine) | |
| httpx default, HTTP/1.1 | 1,066 / 1,079 (another machine) | |
| httpx default | 883 / 930 | |
| httpx on aiohttp's pool and parser, `PortalClient`'s lean path | 138 / 148 | 11.1 / 11.1 s |
| httpx on `H1Transport`, the lean path | 114 / 116 | 8.9 / 9.3 s |
| the same, header lines reused (bare aiohttp 116 / 120 in those runs) | 85 / 85 | |
| bare aiohttp (no httpx) | 107 / 116 | |

Alone, the aiohttp transport was within a third of bare aiohttp; with 32 sessions waiting on
a slow portal its stream readers, timeout timers and connector bookkeeping per request made
it the largest part of a synced case's CPU, and the full sync spent a fifth more than it does
on `H1Transport`.

HTTP/2 is not offered: a session sends a handful of requests at a time, which keep-alive
HTTP/1.1 connections carry without queueing (the sync benchmark's wall time did not move), and
neither portal is known to need it.
"""

from __future__ import annotations

import re
import ssl
import time
import urllib.request
from functools import cache
from http.cookiejar import Cookie, CookieJar
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import httpx
from httpx import Timeout
from httpx._client import USE_CLIENT_DEFAULT, ClientState, UseClientDefault
from httpx._content import ByteStream

from adapters.http.transport import ConnectionPool, H1Transport, WholeBody


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


class SessionJar(CookieJar):
    """A session's cookie jar that remembers the `Cookie` header it gives each site.

    For every request the standard jar walks its policy rules for every cookie; a session
    sends many requests to one host between two cookie changes. While every cookie is an
    ordinary one for path `/` (no port, no RFC 2965 version) the answer depends only on the
    scheme and host, so it is computed once by the standard rules and reused until a cookie is
    set or cleared, or the first one expires. Anything else takes the standard path.
    """

    def __init__(self) -> None:
        super().__init__()
        self._headers: dict[tuple[str, str], str] = {}
        self._valid_until = 0.0

    def set_cookie(self, cookie: Cookie) -> None:
        self._headers.clear()
        super().set_cookie(cookie)

    def clear(
        self, domain: str | None = None, path: str | None = None, name: str | None = None
    ) -> None:
        self._headers.clear()
        super().clear(domain, path, name)

    def header_for(self, scheme: str, site: str) -> str | None:
        """The `Cookie` header the standard rules gave requests to this site (`host[:port]`)
        while it cannot have changed (empty: no cookie); None when that is not known."""
        if ":" in site.partition(":")[2] or time.time() >= self._valid_until:
            return None  # an IPv6 host is written another way in urllib's requests
        return self._headers.get((scheme, site))

    def add_cookie_header(self, request: urllib.request.Request) -> None:
        site = (request.type, request.host)
        known = self._headers.get(site)
        if (
            known is not None
            and time.time() < self._valid_until
            and not request.has_header("Cookie")
        ):
            if known:
                request.add_unredirected_header("Cookie", known)
            return
        had_header = request.has_header("Cookie")
        super().add_cookie_header(request)
        cookies = list(self)
        if had_header or not all(
            c.path == "/" and c.port is None and c.version == 0 for c in cookies
        ):
            return
        expiries = [c.expires for c in cookies if c.expires is not None]
        self._valid_until = min(expiries, default=float("inf"))
        self._headers[site] = request.unredirected_hdrs.get("Cookie", "")


class SessionCookies(httpx.Cookies):
    """The session's jar (a `SessionJar`), read only when an answer sets a cookie.

    httpx builds two urllib compatibility objects per response to look for `Set-Cookie`; most
    answers have none, and skipping them saves about a twentieth of a request's client CPU.
    """

    def __init__(self, cookies: httpx._types.CookieTypes | None = None) -> None:
        super().__init__(cookies)
        if not isinstance(self.jar, SessionJar):
            jar = SessionJar()
            for cookie in self.jar:
                jar.set_cookie(cookie)
            self.jar = jar

    def extract_cookies(self, response: httpx.Response) -> None:
        if "set-cookie" in response.headers:
            super().extract_cookies(response)


#: One header as httpx keeps it: the name as given, the name in lower case, the value.
_HeaderLine = tuple[bytes, bytes, bytes]

#: A path httpx would send exactly as written: unreserved and sub-delimiter characters only, no
#: percent sign (httpx re-quotes it), no segment starting with a dot (httpx removes `.`/`..`),
#: not starting with `//` (httpx reads a host there).
_SEGMENT = r"(?:[A-Za-z0-9\-_~!$&'()*+,;=:@][A-Za-z0-9\-._~!$&'()*+,;=:@]*)?"
_PLAIN_PATH = re.compile(rf"/(?!/){_SEGMENT}(?:/{_SEGMENT})*\Z")


class PortalClient(httpx.AsyncClient):
    """httpx's client with a lean path for the requests adapters send most.

    What the lean path skips, and why that is the same request and answer:

    - httpx merges the client's cookies into a fresh jar for every request, and the request
      copies that jar again before it matches cookies to the URL. Here the session's own jar is
      asked for the `Cookie` header of the site (`SessionJar.header_for`, the standard rules'
      answer, cached while it cannot change); when it cannot say, the jar is handed over as it
      is and the request matches it (domain, path, expiry: the same rules).
    - A relative path of plain characters (`_PLAIN_PATH`) is joined to the base URL without
      parsing it again: httpx would parse, validate and re-quote it to the same result.
    - `send` goes straight to the transport when there is nothing for httpx's auth flow,
      redirect loop and event hooks to do (no auth, redirects not followed, no hooks): the
      response gets the same request, cookies, encoding and `next_request` as httpx gives it
      (not `elapsed`, which nothing here reads).

    Measured against the ClearCorrect sandbox's JSON API (client CPU per request, two runs,
    on aiohttp's transport): httpx's own path 439 / 460 us, the lean path 238 / 252 us, bare
    aiohttp 158-243 us.

    Relies on httpx 0.28 internals (`_merge_cookies`, `_uri_reference`, `_transport_for_url`;
    pinned); `tests/adapters/test_http_client.py` checks that requests and answers are the
    ones plain httpx makes and fails if that changes.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._cookies = SessionCookies(self._cookies)
        self._template_key: tuple[object, ...] | None = None
        self._template: list[_HeaderLine] | None = None

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
        return self._cookies.jar

    def build_request(
        self,
        method: str,
        url: httpx.URL | str,
        *,
        content: httpx._types.RequestContent | None = None,
        data: httpx._types.RequestData | None = None,
        files: httpx._types.RequestFiles | None = None,
        json: Any | None = None,
        params: httpx._types.QueryParamTypes | None = None,
        headers: httpx._types.HeaderTypes | None = None,
        cookies: httpx._types.CookieTypes | None = None,
        timeout: httpx._types.TimeoutTypes | UseClientDefault = USE_CLIENT_DEFAULT,
        extensions: httpx._types.RequestExtensions | None = None,
    ) -> httpx.Request:
        base = self._base_url._uri_reference
        if (
            cookies
            or content is not None
            or data is not None
            or files
            or json is not None
            or not isinstance(url, str)
            or self._params
            or base.query is not None
            or _PLAIN_PATH.match(url) is None
        ):
            return super().build_request(
                method,
                url,
                content=content,
                data=data,
                files=files,
                json=json,
                params=params,
                headers=headers,
                cookies=cookies,
                timeout=timeout,
                extensions=extensions,
            )
        target = httpx.URL.__new__(httpx.URL)
        target._uri_reference = base._replace(path=(base.path or "/") + url[1:], fragment=None)
        if params:
            target = httpx.URL(target, params=params)
        if extensions is None or "timeout" not in extensions:
            chosen = self.timeout if isinstance(timeout, UseClientDefault) else Timeout(timeout)
            extensions = {**(extensions or {}), "timeout": chosen.as_dict()}
        jar = self._cookies.jar
        known = None
        if isinstance(jar, SessionJar):
            site = f"{base.host}:{base.port}" if base.port is not None else base.host
            known = jar.header_for(base.scheme, site)
        if known is not None and headers is None:
            template = self._header_template(method, target)
            if template is not None:
                return _request_from(method.upper(), target, template, known, extensions)
        merged = self._merge_headers(headers)
        if known is not None and (not isinstance(merged, httpx.Headers) or "cookie" in merged):
            known = None
        request = httpx.Request(
            method,
            target,
            headers=merged,
            cookies=jar if known is None else None,
            extensions=extensions,
        )
        if known:
            request.headers["Cookie"] = known
        return request

    def _header_template(self, method: str, target: httpx.URL) -> list[_HeaderLine] | None:
        """The header lines httpx gives a bodiless request of this method to this origin with
        the client's headers (before the `Cookie` line), worked out by httpx itself once and
        again whenever the client's headers change; None when they hold a `Cookie` line."""
        uri = target._uri_reference
        key = (method, uri.scheme, uri.host, uri.port, tuple(self._headers._list))
        if self._template_key != key:
            probe = httpx.Request(method, target, headers=self._merge_headers(None))
            lines = probe.headers._list
            self._template = None if any(k == b"cookie" for _, k, _ in lines) else lines
            self._template_key = key
        return self._template

    async def send(
        self,
        request: httpx.Request,
        *,
        stream: bool = False,
        auth: httpx._types.AuthTypes | UseClientDefault | None = USE_CLIENT_DEFAULT,
        follow_redirects: bool | UseClientDefault = USE_CLIENT_DEFAULT,
    ) -> httpx.Response:
        follow = (
            self.follow_redirects
            if isinstance(follow_redirects, UseClientDefault)
            else (follow_redirects)
        )
        if (
            follow
            or self._auth is not None
            or not isinstance(auth, UseClientDefault)
            or self._event_hooks["request"]
            or self._event_hooks["response"]
            or request.url.userinfo
            or self.is_closed
        ):
            return await super().send(
                request, stream=stream, auth=auth, follow_redirects=follow_redirects
            )
        self._state = ClientState.OPENED
        self._set_timeout(request)
        transport = self._transport_for_url(request.url)
        try:
            response = await transport.handle_async_request(request)
        except httpx.RequestError as exc:
            exc.request = request  # as httpx's request context does
            raise
        response.request = request
        self._cookies.extract_cookies(response)
        response.default_encoding = self._default_encoding
        response.history = []
        if response.has_redirect_location:
            response.next_request = self._build_redirect_request(request, response)
        if not stream:
            whole = response.stream
            if isinstance(whole, WholeBody) and "content-encoding" not in response.headers:
                _read_whole(response, whole.content)
                return response
            try:
                await response.aread()
            except BaseException:
                await response.aclose()
                raise
        return response


def _request_from(
    method: str,
    url: httpx.URL,
    template: list[_HeaderLine],
    cookie: str,
    extensions: httpx._types.RequestExtensions,
) -> httpx.Request:
    """The request `httpx.Request(method, url, headers=...)` makes with no body, from header
    lines it made before (`PortalClient._header_template`) and the `Cookie` line httpx's
    `headers["Cookie"] = ...` appends: building one anew parses and normalises every header
    again, a fifth of a request's client CPU."""
    request = httpx.Request.__new__(httpx.Request)
    request.method = method
    request.url = url
    headers = httpx.Headers.__new__(httpx.Headers)
    headers._list = [*template, (b"Cookie", b"cookie", cookie.encode())] if cookie else [*template]
    headers._encoding = None
    request.headers = headers
    request.extensions = dict(extensions)
    request.stream = ByteStream(b"")
    request._content = b""
    return request


def _read_whole(response: httpx.Response, content: bytes) -> None:
    """The state `Response.aread` leaves (content read, stream consumed and closed, bytes
    counted) for bytes in hand that need no decoding."""
    response._content = content
    response.is_stream_consumed = True
    response._num_bytes_downloaded = len(content)
    response.is_closed = True


def make_client(
    base_url: str,
    *,
    timeout: httpx.Timeout = DEFAULT_TIMEOUT,
    max_connections: int = 10,
    user_agent: str = DEFAULT_USER_AGENT,
    cookies: httpx.Cookies | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    connections: ConnectionPool | None = None,
) -> httpx.AsyncClient:
    """A client for one portal session. Redirects are not followed automatically: login flows
    need to see them, and a redirect to a login page is how many portals say "session expired".
    With `connections`, the client's requests use that pool's keep-alive connections (its
    cookies stay its own).
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
        or H1Transport(
            ssl_context=_ssl_context(), max_connections=max_connections, pool=connections
        ),
        verify=_ssl_context(),
    )


def connection_pool() -> ConnectionPool:
    """Connections for the portal sessions of one process, with the verified TLS context of
    every client; the caller closes it."""
    return ConnectionPool(ssl_context=_ssl_context())
