"""An httpx transport: keep-alive HTTP/1.1 connections on asyncio, answers parsed by httptools.

Adapters keep httpx as their client API (requests, cookies, respx in tests); only the wire work
is this module's. Each connection is an `asyncio.Protocol` whose bytes go straight into
httptools' C parser (llhttp, the parser of Node.js and, through httptools, of uvicorn), and an
answer is handed to httpx as it arrives: no stream reader, no per-request timers of a general
client. Measured against the ClearCorrect sandbox's JSON API (`bench/http_client_bench.py`,
client CPU per request) and in a full sync of 10,000 cases (`bench/sync_bench.py`): see
`adapters/http/client.py`.

What it does, and deliberately no more:
- HTTP/1.1 (and 1.0 answers) over TCP or TLS (the process's verified context, SNI, no ALPN:
  neither portal is known to need HTTP/2). No proxies; no `Expect: 100-continue` (an
  informational answer is skipped if a server sends one anyway).
- Connections are kept alive and reused per origin, most recently used first; one idle longer
  than `KEEPALIVE_SECONDS`, or closed by the server, is dropped. When a `ConnectionPool` is
  handed over (the sync services do), the sessions of a process share its sockets, never
  cookies (httpx's jar is each session's own; this module keeps none). Each transport holds at
  most its own `max_connections` at once, a slot held until its answer is read or closed.
- A request that failed on a reused connection before any byte of an answer came back (the
  server had closed it while idle) is sent again once on a new connection, if its method is
  idempotent. Anything else is the caller's, with errors by *when* they happened, because the
  retry policy resends a POST only when it certainly never left: a failure to connect is
  `ConnectError`/`ConnectTimeout`; anything after the request may have been written is
  `ReadError`, `RemoteProtocolError` or `ReadTimeout`, never a connect error.
- A streamed answer (`STREAMED`, file downloads) is handed over piece by piece as read from
  the socket, and reading stops while `STREAM_BUFFER` bytes wait for the reader: memory stays
  flat for any file size. Every other answer is read whole, as httpx would read it.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections import deque
from collections.abc import AsyncIterator, Callable

import httptools
import httpx

from adapters.http.policy import STREAMED

#: Bytes of a streamed answer buffered before the socket stops being read.
STREAM_BUFFER = 1024 * 1024
#: An idle connection older than this is closed, not reused (servers close idle keep-alive
#: connections after 5 to 75 s; reusing one the server is closing costs a resend).
KEEPALIVE_SECONDS = 15.0
#: How long closing a pool waits for its idle connections to be closed.
CLOSE_SECONDS = 5.0
#: Methods sent again after a reused connection was found closed (RFC 9110 section 9.2.2).
IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"})

Origin = tuple[str, str, int]  # scheme, host, port
_DEFAULT_PORTS = {"http": 80, "https": 443}


class _Stale(Exception):
    """A reused connection ended before any byte of the answer arrived."""


class _Exchange:
    """One request's answer on a connection: its head, then its body pieces."""

    def __init__(self, connection: _Connection, method: str, streamed: bool) -> None:
        loop = asyncio.get_running_loop()
        self.connection = connection
        self.head_only = method == "HEAD"
        self.streamed = streamed
        self.head: asyncio.Future[None] = loop.create_future()
        self.status = 0
        self.reason = b""
        self.headers: list[tuple[bytes, bytes]] = []
        self.pieces: deque[bytes] = deque()
        self.buffered = 0
        self.complete = False
        self.keep_alive = False
        self.error: BaseException | None = None
        self.answered = False  # a byte of the answer arrived
        self._informational = False
        self._waiter: asyncio.Future[None] | None = None
        # The read timeout: one timer per answer, armed by the first wait (see `_expired`).
        self.loop = loop
        self._timer: asyncio.TimerHandle | None = None
        self._read_seconds = 0.0
        self._waiting_since = 0.0
        self.last_read = 0.0
        self._paused = False

    # --- from the connection (protocol callbacks) -------------------------------------------

    def begin(self) -> None:
        if self.complete:  # a second answer to one request: the connection is not to be trusted
            self.connection.close()
            return
        self.headers = []
        self._informational = False

    def head_done(self, status: int, reason: bytes) -> None:
        if 100 <= status < 200 and status != 101:
            self._informational = True  # skipped: the real answer follows
            return
        self.status, self.reason = status, reason
        if not self.head.done():
            self.head.set_result(None)
        if self.head_only:  # a HEAD answer has no body whatever its headers say
            self.finish(keep_alive=False)

    def body(self, piece: bytes) -> None:
        if self.complete:
            return
        self.pieces.append(piece)
        self.buffered += len(piece)
        if self.streamed and self.buffered > STREAM_BUFFER and not self._paused:
            self._paused = True
            self.connection.pause()
        self._wake()

    def message_done(self, keep_alive: bool) -> None:
        if self._informational:
            self._informational = False
            return
        self.finish(keep_alive=keep_alive)

    def finish(self, *, keep_alive: bool) -> None:
        if self.complete:
            return
        self.complete = True
        self.keep_alive = keep_alive and not self.head_only
        self.stop_timer()
        self._wake()

    def fail(self, error: BaseException) -> None:
        if self.complete or self.error is not None:
            return
        self.error = error
        self.stop_timer()
        if not self.head.done():
            self.head.set_exception(error)
            self.head.exception()  # retrieved by `wait_head`, or by nobody after a cancel
        self._wake()

    def lost(self, reason: Exception | None) -> None:
        """The connection closed: the end of a body read to the close, or a failure."""
        if self.complete or self.error is not None:
            return
        if self.head.done() and not self._framed():
            self.finish(keep_alive=False)  # an HTTP/1.0-style body ends with the connection
            return
        if not self.answered and self.connection.reused:
            self.fail(_Stale())
            return
        text = str(reason) if reason else "the portal closed the connection mid-answer"
        if reason is None or not self.answered:
            self.fail(httpx.RemoteProtocolError(text))
        else:
            self.fail(httpx.ReadError(text))

    def _framed(self) -> bool:
        """Whether the answer says where its body ends (else it ends with the connection)."""
        if self.status in (204, 304):
            return True
        for name, value in self.headers:
            lowered = name.lower()
            if lowered == b"content-length" or (
                lowered == b"transfer-encoding" and b"chunked" in value.lower()
            ):
                return True
        return False

    def _wake(self) -> None:
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    # --- from the reader ---------------------------------------------------------------------

    def _expired(self) -> None:
        """The timer: a reader waiting `read_seconds` since it began to wait and since the
        last bytes arrived fails with `ReadTimeout`; otherwise it looks again when that could
        be. A reader busy elsewhere (a streamed answer paused for it) is never timed out."""
        self._timer = None
        if self.complete or self.error is not None or not self._waiting_since:
            return
        since = max(self._waiting_since, self.last_read)
        due = since + self._read_seconds
        if self.loop.time() >= due:
            self.fail(httpx.ReadTimeout("timed out waiting for the portal's answer"))
            self.connection.close()
        else:
            self._timer = self.loop.call_at(due, self._expired)

    def stop_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    async def _until(self, future: asyncio.Future[None], read_seconds: float | None) -> None:
        """Wait for `future` (the head, or more of the body), at most `read_seconds` without
        a byte arriving."""
        if read_seconds is not None:
            self._read_seconds = read_seconds
            self._waiting_since = now = self.loop.time()
            if self._timer is None:
                self._timer = self.loop.call_at(now + read_seconds, self._expired)
        try:
            await future
        finally:
            self._waiting_since = 0.0

    async def _wait(self, read_seconds: float | None) -> None:
        self._waiter = self.loop.create_future()
        await self._until(self._waiter, read_seconds)

    async def wait_head(self, read_seconds: float | None) -> None:
        await self._until(self.head, read_seconds)

    async def next_piece(self, read_seconds: float | None) -> bytes | None:
        """The next body piece as it arrived; None at the end of the body."""
        while not self.pieces:
            if self.error is not None:
                raise self.error
            if self.complete:
                return None
            await self._wait(read_seconds)
        piece = self.pieces.popleft()
        self.buffered -= len(piece)
        if self._paused and self.buffered <= STREAM_BUFFER // 2:
            self._paused = False
            self.connection.resume()
        return piece

    async def whole_body(self, read_seconds: float | None) -> bytes:
        while not self.complete:
            if self.error is not None:
                raise self.error
            await self._wait(read_seconds)
        if self.error is not None:
            raise self.error
        body = b"".join(self.pieces)
        self.pieces.clear()
        self.buffered = 0
        return body


class _Connection(asyncio.Protocol):
    """One keep-alive connection to an origin, carrying one request at a time."""

    def __init__(self, origin: Origin) -> None:
        self.origin = origin
        self.parser = httptools.HttpResponseParser(self)
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.reused = False  # it carried a request before the current one
        self.idle_since = time.monotonic()
        self._exchange: _Exchange | None = None
        self._reason = b""
        #: Done once the transport is closed (`ConnectionPool.close` waits for it).
        self.gone: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    # --- asyncio -----------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        exchange = self._exchange
        if exchange is None:  # bytes nobody asked for: the connection cannot be trusted
            self.close()
            return
        exchange.answered = True
        exchange.last_read = exchange.loop.time()
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            exchange.fail(httpx.RemoteProtocolError("the portal switched protocols"))
            self.close()
        except httptools.HttpParserError as error:
            exchange.fail(httpx.RemoteProtocolError(f"the answer is not valid HTTP/1.1: {error}"))
            self.close()

    def eof_received(self) -> bool | None:
        return None  # close the transport: `connection_lost` follows

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if not self.gone.done():
            self.gone.set_result(None)
        exchange = self._exchange
        if exchange is not None:
            exchange.lost(exc)

    # --- httptools ---------------------------------------------------------------------------

    def on_message_begin(self) -> None:
        if self._exchange is not None:
            self._exchange.begin()

    def on_status(self, status: bytes) -> None:
        self._reason = status

    def on_header(self, name: bytes, value: bytes) -> None:
        if self._exchange is not None:
            self._exchange.headers.append((name, value))

    def on_headers_complete(self) -> None:
        if self._exchange is not None:
            self._exchange.head_done(self.parser.get_status_code(), self._reason)

    def on_body(self, body: bytes) -> None:
        if self._exchange is not None:
            self._exchange.body(body)

    def on_message_complete(self) -> None:
        if self._exchange is not None:
            self._exchange.message_done(self.parser.should_keep_alive())

    # --- the transport's side ----------------------------------------------------------------

    def send(self, message: bytes, method: str, streamed: bool) -> _Exchange:
        assert self.transport is not None
        exchange = _Exchange(self, method, streamed)
        self._exchange = exchange
        if self.closed:
            exchange.lost(None)
        else:
            self.transport.write(message)
        return exchange

    def usable_after(self, exchange: _Exchange) -> bool:
        """Whether the connection may carry another request once `exchange` ended."""
        return (
            exchange.complete
            and exchange.keep_alive
            and exchange.error is None
            and not self.closed
            and not exchange.pieces
        )

    def idle(self) -> None:
        self._exchange = None
        self.reused = True
        self.idle_since = time.monotonic()

    def pause(self) -> None:
        if self.transport is not None and not self.closed:
            self.transport.pause_reading()

    def resume(self) -> None:
        if self.transport is not None and not self.closed:
            self.transport.resume_reading()

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()


class Slots:
    """A count of free slots, handed out first come, first served: `asyncio.Semaphore`'s
    `acquire`, `release` and `locked`, one per pool and one per client.

    Python 3.11's semaphore checks every waiter for cancellation on each `acquire` and
    `locked`; with a session's cases fetched at once, dozens wait on a client's slots and
    those walks were 2% of a full sync's CPU. Here a release hands its slot to the first
    waiter still waiting, and a waiter cancelled after being handed one gives it back.
    """

    def __init__(self, free: int) -> None:
        self._free = free
        self._waiters: deque[asyncio.Future[None]] = deque()

    def locked(self) -> bool:
        """Whether an `acquire` now would wait."""
        return self._free == 0 or bool(self._waiters)

    async def acquire(self) -> None:
        if self._free > 0 and not self._waiters:
            self._free -= 1
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await waiter
        except BaseException:
            if waiter.done() and not waiter.cancelled():
                self.release()  # handed a slot, then cancelled before it could use it
            else:
                waiter.cancel()  # skipped by `release`
            raise

    def release(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return
        self._free += 1


class ConnectionPool:
    """Keep-alive connections shared by every transport given this pool (one process's portal
    sessions), at most `limit` of them in use at once. Its owner closes it, inside the event
    loop that used it."""

    def __init__(self, *, ssl_context: ssl.SSLContext, limit: int = 100) -> None:
        self._ssl = ssl_context
        self._in_use = Slots(limit)
        self._idle: dict[Origin, list[_Connection]] = {}
        self._closed = False

    async def connect(
        self, origin: Origin, connect_seconds: float | None, *, fresh: bool = False
    ) -> _Connection:
        """A connection to `origin` for one request: an idle one (unless `fresh`), or a new
        one."""
        await self._in_use.acquire()
        try:
            idle = self._idle.get(origin)
            now = time.monotonic()
            while idle and not fresh:
                connection = idle.pop()
                if not connection.closed and now - connection.idle_since < KEEPALIVE_SECONDS:
                    return connection
                connection.close()
            return await self._open(origin, connect_seconds)
        except BaseException:
            self._in_use.release()
            raise

    async def _open(self, origin: Origin, connect_seconds: float | None) -> _Connection:
        scheme, host, port = origin
        loop = asyncio.get_running_loop()
        tls = self._ssl if scheme == "https" else None
        try:
            async with asyncio.timeout(connect_seconds):
                _, connection = await loop.create_connection(
                    lambda: _Connection(origin),
                    host,
                    port,
                    ssl=tls,
                    server_hostname=host if tls is not None else None,
                )
        except TimeoutError:
            raise httpx.ConnectTimeout(f"timed out connecting to {host}:{port}") from None
        except OSError as error:  # refused, unreachable, unknown host, TLS handshake or cert
            raise httpx.ConnectError(f"cannot connect to {host}:{port}: {error}") from error
        return connection

    def give_back(self, connection: _Connection, exchange: _Exchange | None) -> None:
        """The request ended: keep the connection for the next one if it can carry it."""
        self._in_use.release()
        if exchange is None:
            connection.close()
            return
        exchange.stop_timer()
        if not self._closed and connection.usable_after(exchange):
            connection.idle()
            self._idle.setdefault(connection.origin, []).append(connection)
        else:
            connection.close()

    async def close(self) -> None:
        self._closed = True
        idle, self._idle = self._idle, {}
        closing = [connection for connections in idle.values() for connection in connections]
        for connection in closing:
            connection.close()
        if closing:  # a TLS close waits for the portal's reply: not for ever
            await asyncio.wait([c.gone for c in closing], timeout=CLOSE_SECONDS)


def _origin(url: httpx.URL) -> Origin:
    scheme = url.scheme
    if scheme not in _DEFAULT_PORTS:
        raise httpx.UnsupportedProtocol(f"{scheme!r} is not HTTP or HTTPS")
    return scheme, url.host, url.port or _DEFAULT_PORTS[scheme]


def _message(request: httpx.Request, body: bytes) -> bytes:
    """The request as it goes on the wire (origin-form target; httpx set Host and lengths)."""
    raw = request.headers.raw
    fields = b"\r\n".join([b"%s: %s" % pair for pair in raw])
    # Each line break in the block is one of ours: a name or value holding one is refused.
    if raw and (
        fields.count(b"\r") != len(raw) - 1
        or fields.count(b"\n") != len(raw) - 1
        or b"\0" in fields
    ):
        raise httpx.LocalProtocolError("a header holds a line break or a NUL byte")
    start = b"%s %s HTTP/1.1\r\n" % (request.method.encode("ascii"), request.url.raw_path)
    head = start + fields + b"\r\n\r\n" if raw else start + b"\r\n"
    if b"chunked" not in fields.lower() or not any(
        name.lower() == b"transfer-encoding" and b"chunked" in value.lower() for name, value in raw
    ):
        return head + body
    # The body was read whole: it goes as one chunk.
    return head + (b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body) if body else b"0\r\n\r\n")


class WholeBody(httpx.ByteStream):
    """An answer read whole by the transport: `PortalClient` hands its bytes to the response
    as httpx's `aread` would, without iterating them through its decoder and chunkers when
    the answer is not content-encoded."""

    def __init__(self, content: bytes) -> None:
        super().__init__(content)
        self.content = content


class _Body(httpx.AsyncByteStream):
    """A streamed answer's body, piece by piece; the connection goes back when it is closed."""

    def __init__(
        self, exchange: _Exchange, timeout: float | None, done: Callable[[], None]
    ) -> None:
        self._exchange = exchange
        self._timeout = timeout
        self._done: Callable[[], None] | None = done

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while (piece := await self._exchange.next_piece(self._timeout)) is not None:
            yield piece

    async def aclose(self) -> None:
        done, self._done = self._done, None
        if done is not None:
            done()


class H1Transport(httpx.AsyncBaseTransport):
    """One httpx client's transport: its own connections, or those of a shared
    `ConnectionPool`, at most `max_connections` of them at once."""

    def __init__(
        self,
        *,
        ssl_context: ssl.SSLContext,
        max_connections: int = 10,
        pool: ConnectionPool | None = None,
    ) -> None:
        self._own = pool is None
        self._pool = pool or ConnectionPool(ssl_context=ssl_context, limit=max_connections)
        self._slots = Slots(max_connections)

    async def _slot(self, pool_seconds: float | None) -> Callable[[], None]:
        """Wait for one of this client's connection slots; returns its release (idempotent)."""
        slots = self._slots
        if slots.locked():  # only a wait needs its timeout (a timer per request otherwise)
            try:
                async with asyncio.timeout(pool_seconds):
                    await slots.acquire()
            except TimeoutError:
                raise httpx.PoolTimeout("timed out waiting for a connection") from None
        else:
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
            body = request.content
        except httpx.RequestNotRead:
            body = await request.aread()
        timeouts = request.extensions.get("timeout", {})
        message = _message(request, body)
        origin = _origin(request.url)
        streamed = bool(request.extensions.get(STREAMED))
        release_slot = await self._slot(timeouts.get("pool"))
        try:
            return await self._exchange(request, message, origin, streamed, timeouts, release_slot)
        except BaseException:
            release_slot()
            raise

    async def _exchange(
        self,
        request: httpx.Request,
        message: bytes,
        origin: Origin,
        streamed: bool,
        timeouts: dict[str, float | None],
        release_slot: Callable[[], None],
    ) -> httpx.Response:
        pool, read = self._pool, timeouts.get("read")
        for fresh in (False, True):
            connection = await pool.connect(origin, timeouts.get("connect"), fresh=fresh)
            exchange: _Exchange | None = None
            try:
                exchange = connection.send(message, request.method, streamed)
                await exchange.wait_head(read)
                break
            except _Stale:
                pool.give_back(connection, None)
                if request.method not in IDEMPOTENT:
                    raise httpx.RemoteProtocolError(
                        "the portal closed a kept-alive connection as the request went out"
                    ) from None
            except BaseException:
                pool.give_back(connection, None)
                raise
        else:  # pragma: no cover - a new connection is never stale
            raise AssertionError("unreachable")
        extensions = {
            "http_version": b"HTTP/1.%d" % (connection.parser.get_http_version() == "1.1"),
            "reason_phrase": exchange.reason,
        }
        if streamed:

            def done() -> None:
                pool.give_back(connection, exchange)
                release_slot()

            return httpx.Response(
                exchange.status,
                headers=exchange.headers,
                stream=_Body(exchange, read, done),
                extensions=extensions,
            )
        try:
            content = await exchange.whole_body(read)
        finally:
            pool.give_back(connection, exchange)
            release_slot()
        return httpx.Response(
            exchange.status,
            headers=exchange.headers,
            stream=WholeBody(content),
            extensions=extensions,
        )

    async def aclose(self) -> None:
        # A shared pool's connections stay for the next session; its owner closes them.
        if self._own:
            await self._pool.close()
