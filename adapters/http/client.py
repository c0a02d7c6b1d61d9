"""The httpx client every HTTP adapter uses: timeouts, HTTP/2 where offered, bounded pools."""

from __future__ import annotations

import ssl
from functools import cache
from importlib.metadata import PackageNotFoundError, version

import httpx


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


def make_client(
    base_url: str,
    *,
    timeout: httpx.Timeout = DEFAULT_TIMEOUT,
    max_connections: int = 10,
    http2: bool = True,
    user_agent: str = DEFAULT_USER_AGENT,
    cookies: httpx.Cookies | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> httpx.AsyncClient:
    """A client for one portal session. Redirects are not followed automatically: login flows
    need to see them, and a redirect to a login page is how many portals say "session expired".
    """
    return httpx.AsyncClient(
        base_url=base_url,
        timeout=timeout,
        limits=httpx.Limits(
            max_connections=max_connections, max_keepalive_connections=max_connections
        ),
        http2=http2,
        headers={"User-Agent": user_agent},
        cookies=cookies,
        follow_redirects=False,
        transport=transport,
        verify=_ssl_context(),
    )
