"""Recorded portal pages: record what a portal answered a run, then answer a later run from the
recording alone, strictly in order.

A recording is taken through any transport (the sandbox app in-process, or real HTTP); the
replay refuses a request the recorded run did not make in that place (method, path, query and
body must match), so a replayed run proves the adapter reads the recorded pages the same way,
with no portal behind them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx


@dataclass(frozen=True)
class Exchange:
    method: str
    target: str  # path and query
    body: bytes
    status: int
    headers: tuple[tuple[str, str], ...]
    content: bytes


@dataclass
class Recording:
    exchanges: list[Exchange] = field(default_factory=list)

    @property
    def pages(self) -> int:
        return len(self.exchanges)


def _target(request: httpx.Request) -> str:
    return request.url.raw_path.decode()


class RecordingTransport(httpx.AsyncBaseTransport):
    """Forwards to `inner` and keeps every exchange."""

    def __init__(self, inner: httpx.AsyncBaseTransport, recording: Recording) -> None:
        self._inner = inner
        self._recording = recording

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        response = await self._inner.handle_async_request(request)
        content = await response.aread()
        self._recording.exchanges.append(
            Exchange(
                request.method,
                _target(request),
                body,
                response.status_code,
                tuple(response.headers.multi_items()),
                content,
            )
        )
        return httpx.Response(
            response.status_code, headers=response.headers, content=content, request=request
        )

    async def aclose(self) -> None:
        await self._inner.aclose()


class ReplayTransport(httpx.AsyncBaseTransport):
    """Answers from a recording, in the order recorded; anything else fails the run."""

    def __init__(self, recording: Recording) -> None:
        self._pending = list(recording.exchanges)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        if not self._pending:
            raise AssertionError(f"no recorded answer for {request.method} {_target(request)}")
        exchange = self._pending.pop(0)
        asked = (request.method, _target(request), body)
        if asked != (exchange.method, exchange.target, exchange.body):
            raise AssertionError(
                f"the run asked {request.method} {_target(request)} where the recording has "
                f"{exchange.method} {exchange.target}"
            )
        headers = [(k, v) for k, v in exchange.headers if k.lower() != "content-length"]
        return httpx.Response(
            exchange.status, headers=headers, content=exchange.content, request=request
        )

    @property
    def left(self) -> int:
        return len(self._pending)
