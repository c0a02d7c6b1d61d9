"""An httpx transport on aiohttp's connection pool and C-accelerated HTTP/1.1 parser.

Adapters keep httpx as their client API (requests, cookies, respx in tests); only the wire work
moves to aiohttp, which costs about a third of httpx's own transport per request (measured
against the sandbox on one core: httpx's default transport ~1,050 us of client CPU per request,
this one ~420 us, bare aiohttp ~140 us; see `adapters/http/client.py`).

Two things are deliberately this module's own rather than a general-purpose adapter's:
- aiohttp's cookie jar is off: httpx's jar is the only one, so clearing a session's cookies
  means what it says.
- Connections are shared by the sessions of a process when the caller hands a
  `ConnectionPool` over (the sync services do): each account's session keeps its own cookies
  (httpx's jar; the shared aiohttp session has none), so only the keep-alive sockets are shared.
  A run then opens no new connection to a portal it spoke to moments ago: on loopback a new
  client, one GET and its close cost 344-357 us of CPU with the pool against 752-786 us
  without (measured twice against the sandbox); over TLS it saves a handshake per account.
  Each transport still holds at most its own `max_connections` at once.
- Errors map by *when* they happened, because the retry policy resends a POST only when it
  certainly never left: a failure to connect is `ConnectError`/`ConnectTimeout`; anything after
  the request may have been written (a dropped connection, a read timeout) is `ReadError`,
  `RemoteProtocolError` or `ReadTimeout`, never a connect error.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache

import aiohttp
import httpx

from adapters.http.policy import STREAMED

#: Answers up to this size with a Content-Length are read whole (files above it stream).
WHOLE_BODY_LIMIT = 1024 * 1024


@contextmanager
def _reading_body() -> Iterator[None]:
    """Body errors as httpx's: the request has landed by now, so never a connect error."""
    try:
        yield
    except TimeoutError as exc:
        raise httpx.ReadTimeout(str(exc) or "timed out reading the body") from exc
    except aiohttp.ClientPayloadError as exc:
        raise httpx.RemoteProtocolError(str(exc) or "the body was cut short") from exc
    except aiohttp.ClientError as exc:
        raise httpx.ReadError(str(exc) or type(exc).__name__) from exc


async def _read_whole(response: aiohttp.ClientResponse, done: Callable[[], None]) -> bytes:
    try:
        with _reading_body():
            return await response.read()
    finally:
        response.release()
        done()


def _nothing() -> None:
    return None


class _Body(httpx.AsyncByteStream):
    def __init__(self, response: aiohttp.ClientResponse, done: Callable[[], None]) -> None:
        self._response = response
        self._done = done

    async def __aiter__(self) -> AsyncIterator[bytes]:
        # Each piece as it was read from the socket (at most the event loop's read size, and
        # aiohttp stops reading while its buffer is full): cutting them to a fixed size copied
        # every byte once more.
        with _reading_body():
            async for chunk in self._response.content.iter_any():
                yield chunk

    async def aclose(self) -> None:
        self._response.release()
        self._done()


def _session(ssl_context: ssl.SSLContext, limit: int) -> aiohttp.ClientSession:
    """aiohttp as this transport uses it: no cookie jar (httpx's is the one), bodies as sent,
    no headers of its own."""
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=limit, ssl=ssl_context),
        cookie_jar=aiohttp.DummyCookieJar(),
        auto_decompress=False,
        skip_auto_headers=("User-Agent", "Accept-Encoding", "Accept"),
    )


class ConnectionPool:
    """Keep-alive connections shared by every transport given this pool (one process's portal
    sessions). Its owner closes it, inside the event loop that used it."""

    def __init__(self, *, ssl_context: ssl.SSLContext, limit: int = 100) -> None:
        self._ssl = ssl_context
        self._limit = limit
        self._session: aiohttp.ClientSession | None = None

    def session(self) -> aiohttp.ClientSession:
        # Created on first use, inside the event loop that uses it.
        if self._session is None or self._session.closed:
            self._session = _session(self._ssl, self._limit)
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


@lru_cache(maxsize=16)
def _timeout(
    pool: float | None, connect: float | None, read: float | None
) -> aiohttp.ClientTimeout:
    """httpx's timeouts as aiohttp's; a client has one set, so this is built once."""
    return aiohttp.ClientTimeout(total=None, connect=pool, sock_connect=connect, sock_read=read)


class AiohttpTransport(httpx.AsyncBaseTransport):
    """One httpx client's transport: its own aiohttp session (its own connections), or the
    connections of a shared `ConnectionPool`, at most `max_connections` of them at once."""

    def __init__(
        self,
        *,
        ssl_context: ssl.SSLContext,
        max_connections: int = 10,
        pool: ConnectionPool | None = None,
    ) -> None:
        self._ssl = ssl_context
        self._limit = max_connections
        self._pool = pool
        self._session: aiohttp.ClientSession | None = None
        #: With a shared pool: this client's share of its connections (a slot is held from
        #: the request until its body is read or closed).
        self._slots = asyncio.Semaphore(max_connections) if pool is not None else None

    def _client(self) -> aiohttp.ClientSession:
        if self._pool is not None:
            return self._pool.session()
        # Created on first use, inside the event loop that uses it.
        if self._session is None:
            self._session = _session(self._ssl, self._limit)
        return self._session

    async def _slot(self) -> Callable[[], None]:
        """Wait for one of this client's connection slots; returns its release (idempotent)."""
        slots = self._slots
        if slots is None:
            return _nothing
        await slots.acquire()
        held = True

        def release() -> None:
            nonlocal held
            if held:
                held = False
                slots.release()

        return release

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            body: bytes | None = request.content or None
        except httpx.RequestNotRead:
            body = await request.aread() or None
        done = await self._slot()
        try:
            return await self._send(request, body, done)
        except BaseException:
            done()
            raise

    async def _send(
        self,
        request: httpx.Request,
        body: bytes | None,
        done: Callable[[], None],
    ) -> httpx.Response:
        """The request on aiohttp; `done` runs once its body is read whole or closed."""
        timeout = request.extensions.get("timeout", {})
        try:
            response = await self._client().request(
                request.method,
                str(request.url),
                headers=list(request.headers.multi_items()),
                data=body,
                allow_redirects=False,
                compress=None,
                timeout=_timeout(timeout.get("pool"), timeout.get("connect"), timeout.get("read")),
            )
        except aiohttp.ClientConnectorError as exc:
            raise httpx.ConnectError(str(exc), request=request) from exc
        except aiohttp.ConnectionTimeoutError as exc:
            raise httpx.ConnectTimeout(str(exc), request=request) from exc
        except aiohttp.ServerTimeoutError as exc:  # a read timeout: the request may have landed
            raise httpx.ReadTimeout(str(exc), request=request) from exc
        except TimeoutError as exc:
            raise httpx.ReadTimeout(str(exc) or "timed out", request=request) from exc
        except aiohttp.ServerDisconnectedError as exc:
            raise httpx.RemoteProtocolError(str(exc), request=request) from exc
        except aiohttp.ClientError as exc:
            raise httpx.ReadError(str(exc) or type(exc).__name__, request=request) from exc
        length = response.content_length
        if (
            length is not None
            and length <= WHOLE_BODY_LIMIT
            and not request.extensions.get(STREAMED)
        ):
            # A small answer of known length (a page, a JSON document) is read at once: one
            # await instead of httpx's chunk iteration, the connection freed at once.
            stream: httpx.AsyncByteStream = httpx.ByteStream(await _read_whole(response, done))
        else:
            stream = _Body(response, done)
        return httpx.Response(
            status_code=response.status,
            headers=response.raw_headers,
            stream=stream,
            request=request,
            extensions={"http_version": b"HTTP/1.1"},
        )

    async def aclose(self) -> None:
        # A shared pool's connections stay for the next session; its owner closes them.
        if self._session is not None:
            await self._session.close()
            self._session = None
