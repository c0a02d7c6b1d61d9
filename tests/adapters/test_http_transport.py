"""The aiohttp transport over real loopback sockets: bodies, cookies, and errors by *when*.

The retry policy resends a POST only when it certainly never left, so the transport must call
a failure to connect a connect error and anything after the request was written something
else. Each case here is a tiny TCP server that misbehaves in one way.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import httpx
import pytest

from adapters.base import OutcomeUnknown, PortalUnavailable
from adapters.http.client import make_client
from adapters.http.policy import RetryPolicy, send
from adapters.http.transport import WHOLE_BODY_LIMIT

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


@pytest.mark.parametrize("size", [10, WHOLE_BODY_LIMIT - 1, WHOLE_BODY_LIMIT * 3])
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


@pytest.mark.parametrize("size", [1000, WHOLE_BODY_LIMIT * 2])
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
