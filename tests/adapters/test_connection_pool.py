"""Keep-alive connections shared by the sessions of a process: sockets are shared, cookies and
each session's connection limit are not. Real loopback sockets, a tiny keep-alive server."""

from __future__ import annotations

import asyncio
import itertools

import httpx
import pytest

from adapters.http import connection_pool, make_client
from adapters.http.policy import STREAMED
from tests.adapters.test_http_transport import read_request, server


class KeepAlive:
    """Answers every request on a connection until the client closes it; notes which
    connection carried which request, the Cookie header it sent, and how many were in flight."""

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.connections = itertools.count(1)
        self.seen: list[tuple[int, str, str | None]] = []  # connection, path, Cookie header
        self.in_flight = 0
        self.most_in_flight = 0

    async def __call__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connection = next(self.connections)
        while True:
            try:
                head = await read_request(reader)
            except asyncio.IncompleteReadError:
                return
            lines = head.decode().split("\r\n")
            path = lines[0].split(" ")[1]
            cookie = next(
                (x.split(":", 1)[1].strip() for x in lines if x.lower().startswith("cookie:")), None
            )
            self.seen.append((connection, path, cookie))
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
            await asyncio.sleep(self.delay)
            self.in_flight -= 1
            tag = path.strip("/").split("/")[0]
            writer.write(
                b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"
                + f"Set-Cookie: sid={tag}; Path=/\r\n\r\nok".encode()
            )
            await writer.drain()


async def test_sessions_share_connections_but_never_cookies() -> None:
    handler = KeepAlive()
    async with server(handler) as url:
        pool = connection_pool()
        try:
            first = make_client(url, connections=pool)
            second = make_client(url, connections=pool)
            for path in ("/a/1", "/b/1", "/a/2", "/b/2"):
                client = first if path.startswith("/a") else second
                assert (await client.get(path)).status_code == 200
            await first.aclose()  # a session ending leaves the pool's connections
            assert (await second.get("/b/3")).status_code == 200
            await second.aclose()
        finally:
            await pool.close()
    assert [cookie for _, _, cookie in handler.seen] == [None, None, "sid=a", "sid=b", "sid=b"]
    assert {connection for connection, _, _ in handler.seen} == {1}


async def test_without_a_pool_each_session_opens_its_own() -> None:
    handler = KeepAlive()
    async with server(handler) as url:
        for tag in ("a", "b"):
            async with make_client(url) as client:
                await client.get(f"/{tag}/1")
    assert [connection for connection, _, _ in handler.seen] == [1, 2]


async def test_a_session_holds_at_most_its_own_connections() -> None:
    handler = KeepAlive(delay=0.05)
    async with server(handler) as url:
        pool = connection_pool()
        try:
            busy = make_client(url, connections=pool, max_connections=2)
            other = make_client(url, connections=pool, max_connections=2)
            answers = await asyncio.gather(
                *(busy.get(f"/a/{n}") for n in range(6)), other.get("/b/1")
            )
            assert [a.status_code for a in answers] == [200] * 7
            await busy.aclose()
            await other.aclose()
        finally:
            await pool.close()
    # Two of the busy session's requests at a time, and the other session's beside them.
    assert handler.most_in_flight == 3


async def test_a_streamed_answer_holds_its_slot_until_it_is_closed() -> None:
    handler = KeepAlive()
    async with server(handler) as url:
        pool = connection_pool()
        try:
            client = make_client(url, connections=pool, max_connections=1)
            request = client.build_request("GET", "/a/1", extensions={STREAMED: True})
            streamed = await client.send(request, stream=True)
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(client.get("/a/2"), timeout=0.2)
            await streamed.aclose()
            assert (await client.get("/a/3")).status_code == 200
            await client.aclose()
        finally:
            await pool.close()


async def test_a_failed_request_gives_its_slot_back() -> None:
    pool = connection_pool()
    try:
        client = make_client("http://127.0.0.1:9", connections=pool, max_connections=1)
        for _ in range(3):  # with the slot kept, the second would wait for ever
            with pytest.raises(httpx.ConnectError):
                await asyncio.wait_for(client.get("/"), timeout=5)
        await client.aclose()
    finally:
        await pool.close()


async def test_closing_the_pool_closes_its_idle_connections() -> None:
    ended = asyncio.Event()
    handler = KeepAlive()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await handler(reader, writer)  # returns when the client closes the connection
        ended.set()

    async with server(serve) as url:
        pool = connection_pool()
        client = make_client(url, connections=pool)
        assert (await client.get("/a/1")).status_code == 200
        await client.aclose()  # the connection stays in the pool, idle
        assert not ended.is_set()
        await pool.close()
        await asyncio.wait_for(ended.wait(), timeout=5)
