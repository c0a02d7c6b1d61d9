"""The HTTP/1.1 transport over real loopback sockets: bodies, cookies, and errors by *when*.

The retry policy resends a POST only when it certainly never left, so the transport must call
a failure to connect a connect error and anything after the request was written something
else. Each case here is a tiny TCP server that misbehaves in one way.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import os
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import httpx
import pytest

from adapters.base import OutcomeUnknown, PortalUnavailable
from adapters.http.client import make_client
from adapters.http.policy import STREAMED, RetryPolicy, send
from adapters.http.transport import STREAM_BUFFER

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]
FAST = RetryPolicy(max_attempts=3, initial_backoff=0.01, max_backoff=0.02)


@asynccontextmanager
async def server(handler: Handler) -> AsyncIterator[str]:
    async def guarded(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await handler(reader, writer)
        finally:
            writer.close()

    listening = await asyncio.start_server(guarded, "127.0.0.1", 0)
    port = listening.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        listening.close()
        await listening.wait_closed()


async def read_request(reader: asyncio.StreamReader) -> bytes:
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    return head + (await reader.readexactly(length) if length else b"")


def answer(body: bytes, *, length: int | None = None, extra: bytes = b"") -> bytes:
    size = len(body) if length is None else length
    return (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
        + f"Content-Length: {size}\r\n".encode()
        + extra
        + b"\r\n"
        + body
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize("size", [10, STREAM_BUFFER - 1, STREAM_BUFFER * 3])
async def test_small_and_large_bodies_arrive_intact(size: int) -> None:
    body = os.urandom(size)

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(answer(body))
        await writer.drain()

    async with server(handler) as url, make_client(url) as client:
        response = await client.get("/file")
        assert hashlib.sha256(response.content).digest() == hashlib.sha256(body).digest()
        async with client.stream("GET", "/file") as streamed:
            chunks = [c async for c in streamed.aiter_bytes()]
        assert b"".join(chunks) == body


async def test_cookies_live_in_the_httpx_jar_only() -> None:
    seen: list[bytes] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            try:
                seen.append(await read_request(reader))
            except asyncio.IncompleteReadError:
                return
            writer.write(answer(b"ok", extra=b"Set-Cookie: sid=abc; Path=/\r\n"))
            await writer.drain()

    async with server(handler) as url, make_client(url) as client:
        await client.get("/login")
        client.cookies.clear()  # clearing the session means what it says
        await client.get("/cases")
        client.cookies.set("sid", "restored", domain="127.0.0.1")
        await client.get("/cases")
    assert b"cookie:" not in seen[1].lower()
    assert b"sid=restored" in seen[2]


async def test_a_refused_connection_is_a_connect_error_and_a_post_is_resent() -> None:
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens
    async with make_client(url) as client:
        with pytest.raises(httpx.ConnectError):
            await client.post("/comments", data={"text": "x"})
        # Never sent, so the policy may resend it; it gives up as unavailable, never unknown.
        with pytest.raises(PortalUnavailable):
            await send(client, "POST", "/comments", policy=FAST, data={"text": "x"})


async def test_a_connection_closed_after_the_request_is_not_a_connect_error() -> None:
    received: list[bytes] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        received.append(await read_request(reader))  # read it, then hang up without answering

    async with server(handler) as url, make_client(url) as client:
        with pytest.raises(httpx.TransportError) as raised:
            await client.post("/comments", data={"text": "x"})
        assert not isinstance(raised.value, httpx.ConnectError | httpx.ConnectTimeout)
        with pytest.raises(OutcomeUnknown):
            await send(client, "POST", "/comments", policy=FAST, data={"text": "x"})
    assert len(received) == 2  # the policy did not post it again


@pytest.mark.parametrize("size", [1000, STREAM_BUFFER * 2])
async def test_a_body_cut_short_is_a_protocol_error(size: int) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(answer(os.urandom(size // 2), length=size))
        await writer.drain()

    async with server(handler) as url, make_client(url) as client:
        with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
            await client.get("/file")


async def test_a_silent_server_is_a_read_timeout() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        await asyncio.sleep(5)

    timeout = httpx.Timeout(connect=1.0, read=0.3, write=1.0, pool=1.0)
    async with server(handler) as url, make_client(url, timeout=timeout) as client:
        with pytest.raises(httpx.ReadTimeout):
            await client.get("/slow")


async def test_a_streamed_small_body_hands_over_what_arrived_before_the_drop() -> None:
    # A download resumes from the last byte it got: the transport must not read it whole.
    body = os.urandom(40_000)

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(answer(body[:25_000], length=len(body)))
        await writer.drain()

    got = bytearray()

    async def read(response: httpx.Response) -> None:
        async for chunk in response.aiter_raw():
            got.extend(chunk)

    async with server(handler) as url, make_client(url) as client:
        request = client.build_request("GET", "/file", extensions={STREAMED: True})
        response = await client.send(request, stream=True)
        with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
            await read(response)
        await response.aclose()
    assert bytes(got) == body[:25_000]


class Connections:
    """A server that answers each connection's requests with `answers` in turn (a callable per
    request: it writes the answer, or returns False to hang up without answering), and counts
    connections and requests."""

    def __init__(self, *answers: Callable[[asyncio.StreamWriter], Awaitable[bool]]) -> None:
        self.answers = list(answers)
        self.connections = 0
        self.requests: list[bytes] = []

    async def __call__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        while self.answers:
            try:
                self.requests.append(await read_request(reader))
            except asyncio.IncompleteReadError:
                return
            if not await self.answers.pop(0)(writer):
                return
            await writer.drain()


def says(
    data: bytes, *, then_close: bool = False
) -> Callable[[asyncio.StreamWriter], Awaitable[bool]]:
    async def write(writer: asyncio.StreamWriter) -> bool:
        writer.write(data)
        return not then_close

    return write


async def hang_up(writer: asyncio.StreamWriter) -> bool:
    return False


async def test_a_get_on_a_connection_the_portal_dropped_goes_again_on_a_new_one() -> None:
    portal = Connections(says(answer(b"one")), hang_up, says(answer(b"two")))
    async with server(portal) as url, make_client(url) as client:
        assert (await client.get("/a")).content == b"one"
        assert (await client.get("/b")).content == b"two"
    assert portal.connections == 2
    assert [r.split(b" ")[1] for r in portal.requests] == [b"/a", b"/b", b"/b"]


async def test_a_post_on_a_connection_the_portal_dropped_is_not_sent_again() -> None:
    portal = Connections(says(answer(b"one")), hang_up, says(answer(b"two")))
    async with server(portal) as url, make_client(url) as client:
        await client.get("/a")
        with pytest.raises(OutcomeUnknown):
            await send(client, "POST", "/comments", policy=FAST, data={"text": "x"})
    assert [r.split(b" ")[1] for r in portal.requests] == [b"/a", b"/comments"]


async def test_connection_close_and_idle_expiry_open_new_connections(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    portal = Connections(
        says(answer(b"1", extra=b"Connection: close\r\n"), then_close=True),
        says(answer(b"2")),
        says(answer(b"3")),
        says(answer(b"4")),
    )
    async with server(portal) as url, make_client(url) as client:
        assert (await client.get("/")).content == b"1"
        assert (await client.get("/")).content == b"2"  # a new connection
        assert (await client.get("/")).content == b"3"  # kept alive
        assert portal.connections == 2
        monkeypatch.setattr("adapters.http.transport.KEEPALIVE_SECONDS", 0.05)
        await asyncio.sleep(0.1)
        assert (await client.get("/")).content == b"4"
        assert portal.connections == 3


async def test_chunked_close_delimited_head_204_and_informational_answers() -> None:
    chunked = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"5\r\nhello\r\n7\r\n, world\r\n0\r\n\r\n"
    )
    continued = b"HTTP/1.1 100 Continue\r\n\r\n" + answer(b"after continue")
    no_content = b"HTTP/1.1 204 No Content\r\n\r\n"
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"
    to_close = b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end"
    portal = Connections(
        says(chunked),
        says(continued),
        says(no_content),
        says(head),
        says(to_close, then_close=True),
    )
    async with server(portal) as url, make_client(url) as client:
        assert (await client.get("/")).content == b"hello, world"
        assert (await client.get("/")).content == b"after continue"
        assert (await client.get("/")).status_code == 204
        answered = await client.head("/")
        assert answered.headers["content-length"] == "1000" and answered.content == b""
        closing = await client.get("/")
        assert closing.content == b"until the end"
        assert closing.http_version == "HTTP/1.0"
    assert portal.connections == 2  # the HEAD answer's connection is not reused


async def test_an_answer_that_is_not_http_is_a_protocol_error() -> None:
    portal = Connections(says(b"SSH-2.0-OpenSSH_9.6\r\n\r\n", then_close=True))
    async with server(portal) as url, make_client(url) as client:
        with pytest.raises(httpx.RemoteProtocolError):
            await client.get("/")


async def test_a_header_with_a_line_break_is_refused_before_anything_is_sent() -> None:
    portal = Connections(says(answer(b"never")))
    async with server(portal) as url, make_client(url) as client:
        with pytest.raises(httpx.LocalProtocolError):
            await client.get("/", headers={"X-Note": "a\r\nInjected: yes"})
    assert portal.requests == []


async def test_a_streamed_answer_holds_the_portal_back_until_it_is_read() -> None:
    size = STREAM_BUFFER * 40
    body = os.urandom(size)
    written = asyncio.Event()

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(answer(body))
        await writer.drain()
        written.set()

    async with server(handler) as url, make_client(url) as client:
        request = client.build_request("GET", "/file", extensions={STREAMED: True})
        response = await client.send(request, stream=True)
        # Unread, the answer stops being read: the portal cannot hand it all over.
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(written.wait(), timeout=0.5)
        digest = hashlib.sha256()
        async for piece in response.aiter_raw():
            digest.update(piece)
        await response.aclose()
        assert digest.digest() == hashlib.sha256(body).digest()
        await asyncio.wait_for(written.wait(), timeout=5)


async def test_a_stalled_body_times_out_but_a_slow_reader_does_not() -> None:
    body = os.urandom(STREAM_BUFFER * 4)

    async def stalls(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(answer(body[:1000], length=len(body)))
        await writer.drain()
        await asyncio.sleep(5)

    timeout = httpx.Timeout(connect=1.0, read=0.3, write=1.0, pool=1.0)
    async with server(stalls) as url, make_client(url, timeout=timeout) as client:
        with pytest.raises(httpx.ReadTimeout):
            await client.get("/file")
        request = client.build_request("GET", "/file", extensions={STREAMED: True})
        response = await client.send(request, stream=True)

        async def drain() -> None:
            async for _ in response.aiter_raw():
                pass

        with pytest.raises(httpx.ReadTimeout):
            await drain()
        await response.aclose()

    async def sends_it_all(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(answer(body))
        await writer.drain()

    async with server(sends_it_all) as url, make_client(url, timeout=timeout) as client:
        request = client.build_request("GET", "/file", extensions={STREAMED: True})
        response = await client.send(request, stream=True)
        got = bytearray()
        async for piece in response.aiter_raw():
            got.extend(piece)
            await asyncio.sleep(0.1)  # longer than the read timeout in all, never while waiting
        await response.aclose()
        assert bytes(got) == body


@pytest.mark.parametrize("encoded", [False, True])
async def test_a_whole_answer_reads_as_httpx_reads_it(encoded: bool) -> None:
    body = b'{"caseNumber": "C-1", "patientName": "Zaz\\u00f3\\u0142\\u0107"}'
    if encoded:
        wire, extra = gzip.compress(body), b"Content-Encoding: gzip\r\n"
    else:
        wire, extra = body, b""

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            try:
                await read_request(reader)
            except asyncio.IncompleteReadError:
                return
            writer.write(answer(wire, extra=b"Content-Type: application/json\r\n" + extra))
            await writer.drain()

    async with (
        server(handler) as url,
        make_client(url) as ours,
        httpx.AsyncClient(base_url=url) as plain,
    ):
        got = [await client.get("/api/cases/C-1") for client in (ours, plain)]
    for response in got:
        assert response.content == body
        assert response.json()["patientName"] == "Zazółć"
        assert response.is_closed and response.is_stream_consumed
        assert response.num_bytes_downloaded == len(wire)
        assert [part async for part in response.aiter_bytes()] == [body]
        with pytest.raises(httpx.StreamConsumed):
            [part async for part in response.aiter_raw()]
