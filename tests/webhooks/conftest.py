"""A real webhook receiver on loopback, and helpers to write events."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from connector.clock import utcnow
from connector.domain import EventType
from connector.settings import WebhookEndpointSettings, WebhooksSettings
from connector.store import Store
from connector.store.events import append_event
from connector.webhooks import SIGNATURE_HEADER, verify_signature
from sandbox.common.server import RunningServer, serve

SECRET = "whsec-test-0123456789abcdef"
NEW_SECRET = "whsec-new-fedcba9876543210"
PATIENT = "Zelda Quixote-Marsh"  # stands for health data: must never reach a log


@dataclass
class Receiver:
    """Verifies every request's signature with the reference check; records what it accepted.

    `status` is what it answers to a well-signed request (set 503 to simulate an outage).
    """

    secrets: list[str]
    status: int = 204
    received: list[str] = field(default_factory=list)
    bodies: list[dict[str, Any]] = field(default_factory=list)
    signature_headers: list[str] = field(default_factory=list)
    raw_bodies: list[bytes] = field(default_factory=list)
    requests: int = 0
    bad_signatures: int = 0
    error_body: str = ""
    tolerance: int = 300
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle(self, request: Request) -> Response:
        body = await request.body()
        header = request.headers.get(SIGNATURE_HEADER, "")
        with self.lock:
            self.requests += 1
            if not verify_signature(header, body, self.secrets, tolerance=self.tolerance):
                self.bad_signatures += 1
                return Response("bad signature", status_code=400)
            if self.status >= 300:
                # A receiver that echoes the request back in its error: must not be stored.
                return Response(self.error_body or "unavailable", status_code=self.status)
            event = json.loads(body)
            assert request.headers["content-type"] == "application/json"
            assert request.headers["connector-event-id"] == event["id"]
            self.received.append(event["id"])
            self.bodies.append(event)
            self.signature_headers.append(header)
            self.raw_bodies.append(body)
        return Response(status_code=self.status)

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/hook", self.handle, methods=["POST"])])


ReceiverFactory = Callable[..., tuple[Receiver, str]]


@pytest.fixture
def start_receiver() -> Iterator[ReceiverFactory]:
    """`receiver, url = start_receiver(secrets=[...])`: served until the test ends."""
    from contextlib import ExitStack

    with ExitStack() as stack:

        def start(secrets: list[str] | None = None, **kwargs: Any) -> tuple[Receiver, str]:
            receiver = Receiver(secrets=secrets or [SECRET], **kwargs)
            running: RunningServer = stack.enter_context(serve(receiver.app()))
            return receiver, f"{running.url}/hook"

        yield start


def endpoint(name: str, url: str, **kwargs: Any) -> WebhookEndpointSettings:
    kwargs.setdefault("secret", SECRET)
    return WebhookEndpointSettings(name=name, url=url, **kwargs)


def fast_settings(*endpoints: WebhookEndpointSettings, **kwargs: Any) -> WebhooksSettings:
    values: dict[str, Any] = {
        "backoff_base_seconds": 0.05,
        "backoff_max_seconds": 0.2,
        "timeout_seconds": 2,
        "poll_seconds": 0.05,
        "concurrency": 4,
    }
    values.update(kwargs)
    return WebhooksSettings(endpoints=list(endpoints), **values)


async def write_events(
    store: Store,
    count: int,
    *,
    type: EventType = EventType.CASE_CREATED,
    per_transaction: int = 1,
) -> list[str]:
    ids: list[str] = []
    for start in range(0, count, per_transaction):
        async with store.transaction() as conn:
            for n in range(start, min(start + per_transaction, count)):
                ids.append(
                    await append_event(
                        conn,
                        type=type,
                        account_id=None,
                        subject_id=None,
                        data={"n": n, "patient_name": PATIENT},
                        now=utcnow(),
                    )
                )
    return ids


async def wait_until(predicate: Callable[[], bool], within: float = 10.0) -> None:
    deadline = time.monotonic() + within
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.02)
