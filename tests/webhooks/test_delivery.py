"""Webhook delivery against a real receiver: at least once, outages, max age, replay, rotation."""

from __future__ import annotations

import asyncio
import io
import logging
import os
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from connector.accounts.service import create_account, remove_account
from connector.clock import utcnow
from connector.credentials import store_audit_sink
from connector.domain import EventType
from connector.errors import InputError, NotFoundError
from connector.logs import configure_logging
from connector.settings import WebhooksSettings
from connector.store import Store
from connector.store.events import append_event
from connector.store.schema import webhook_deliveries
from connector.webhooks import (
    DeliveryLoop,
    deliver_due,
    delivery_status,
    new_client,
    replay_deliveries,
    retry_delay,
    verify_signature,
)
from sandbox.common.server import free_port, serve
from tests.conftest import BOTH_DATABASES
from tests.webhooks.conftest import (
    NEW_SECRET,
    PATIENT,
    SECRET,
    Receiver,
    ReceiverFactory,
    endpoint,
    fast_settings,
    wait_until,
    write_events,
)
from vault import Keyring, Secret, Vault


@asynccontextmanager
async def running(loop: DeliveryLoop) -> AsyncIterator[DeliveryLoop]:
    stop = asyncio.Event()
    task = asyncio.create_task(loop.run(stop))
    try:
        yield loop
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)


async def rows(store: Store) -> list[Any]:
    async with store.read() as conn:
        query = sa.select(webhook_deliveries).order_by(webhook_deliveries.c.id)
        return list((await conn.execute(query)).all())


def statuses(found: list[Any]) -> Counter[tuple[str, str]]:
    return Counter((row.endpoint, row.status) for row in found)


async def test_every_event_arrives_signed_and_types_are_filtered(
    store: Store, start_receiver: ReceiverFactory
) -> None:
    everything, everything_url = start_receiver()
    reviews, reviews_url = start_receiver()
    settings = fast_settings(
        endpoint("tps", everything_url),
        endpoint("reviews", reviews_url, types=["setup.ready_for_review"]),
    )
    before = await write_events(store, 10, per_transaction=3)
    async with running(DeliveryLoop(store, settings)) as loop:
        during = await write_events(store, 15)
        ready = await write_events(store, 2, type=EventType.SETUP_READY_FOR_REVIEW)
        expected = before + during + ready
        await wait_until(lambda: len(everything.received) >= len(expected))
        await wait_until(lambda: len(reviews.received) >= 2)
    assert sorted(everything.received) == sorted(expected)  # each once: nothing failed
    assert sorted(reviews.received) == sorted(ready)
    assert everything.bad_signatures == reviews.bad_signatures == 0
    body = everything.bodies[0]
    assert set(body) == {"id", "type", "created_at", "data"}
    assert body["data"]["patient_name"] == PATIENT
    assert loop.counters.delivered == len(expected) + 2 and loop.counters.failed == 0
    status = {s.endpoint: s for s in await delivery_status(store, settings)}
    assert status["tps"].delivered == len(expected) and status["tps"].pending == 0
    assert status["reviews"].delivered == 2 and status["reviews"].oldest_pending_at is None


async def test_an_outage_is_survived_then_everything_arrives(
    store: Store, start_receiver: ReceiverFactory
) -> None:
    flaky, flaky_url = start_receiver(status=503)  # answers, but with errors
    port = free_port()
    down_url = f"http://127.0.0.1:{port}/hook"  # nothing listens yet: connection refused
    settings = fast_settings(endpoint("flaky", flaky_url), endpoint("down", down_url))
    ids = await write_events(store, 8)
    async with running(DeliveryLoop(store, settings)) as loop:
        await wait_until(lambda: flaky.requests >= 24)
        await wait_until(lambda: loop.counters.retried >= 48)
        pending = await rows(store)
        assert statuses(pending) == {("flaky", "pending"): 8, ("down", "pending"): 8}
        assert {r.last_error for r in pending} == {"HTTP 503", "ConnectError"}
        assert all(r.attempts >= 2 for r in pending)
        # The receivers come back.
        flaky.status = 204
        late = Receiver(secrets=[SECRET])
        with serve(late.app(), port=port):
            await wait_until(lambda: len(flaky.received) >= 8 and len(late.received) >= 8)
    assert sorted(flaky.received) == sorted(ids) and sorted(late.received) == sorted(ids)
    assert statuses(await rows(store)) == {("flaky", "delivered"): 8, ("down", "delivered"): 8}
    assert loop.counters.failed == 0


async def test_after_max_age_a_delivery_fails_and_replay_sends_it_again(
    store: Store, start_receiver: ReceiverFactory
) -> None:
    receiver, url = start_receiver(status=500, tolerance=10**6)
    receiver.error_body = f"could not store {PATIENT}"  # an echoing receiver
    settings = fast_settings(
        endpoint("tps", url), backoff_base_seconds=7200, backoff_max_seconds=7200
    )
    (event_id,) = await write_events(store, 1)
    start = utcnow()
    clock = [start]
    async with new_client(settings) as client:
        assert await deliver_due(store, settings, client, clock=lambda: clock[0]) == 1
        (row,) = await rows(store)
        assert row.status == "pending" and row.attempts == 1
        # The next try is capped at the end of the 24 hours, even with a 2-hour backoff.
        assert row.expires_at - start <= timedelta(hours=24)
        assert row.next_attempt_at <= row.expires_at
        assert row.next_attempt_at - start >= timedelta(hours=1)
        assert await deliver_due(store, settings, client, clock=lambda: clock[0]) == 0  # not due
        clock[0] = start + timedelta(hours=24, seconds=1)
        assert await deliver_due(store, settings, client, clock=lambda: clock[0]) == 1
        (row,) = await rows(store)
        assert row.status == "failed" and row.attempts == 2
        assert row.last_status_code == 500 and row.last_error == "HTTP 500"
        assert PATIENT not in repr(tuple(row))  # never the response (or request) body
        assert await deliver_due(store, settings, client, clock=lambda: clock[0]) == 0
        (status,) = await delivery_status(store, settings)
        assert (status.failed, status.pending) == (1, 0)
        # Fixed receiver; replay the failed deliveries.
        receiver.status = 204
        assert await replay_deliveries(store, settings, failed=True, now=utcnow()) == 1
        assert await replay_deliveries(store, settings, failed=True, now=utcnow()) == 0
        assert await deliver_due(store, settings, client) == 1
    assert receiver.received == [event_id]
    (row,) = await rows(store)
    assert row.status == "delivered" and row.delivered_at is not None


async def test_replay_by_event_and_endpoint(store: Store, start_receiver: ReceiverFactory) -> None:
    receiver, url = start_receiver()
    first = fast_settings(endpoint("tps", url))
    ids = await write_events(store, 2)
    async with new_client(first) as client:
        await deliver_due(store, first, client)
        # A second endpoint configured later; an explicit replay creates its delivery.
        second = fast_settings(endpoint("tps", url), endpoint("audit", url))
        assert await replay_deliveries(store, second, event_id=ids[0], now=utcnow()) == 2
        assert await replay_deliveries(store, second, event_id=ids[0], now=utcnow()) == 0
        await deliver_due(store, second, client)
        assert (
            await replay_deliveries(store, second, event_id=ids[1], endpoint="tps", now=utcnow())
            == 1
        )
        await deliver_due(store, second, client)
    # ids[0]: tps, tps again, audit. ids[1]: tps, audit (a new endpoint gets the events still
    # inside max_age), tps again. Receivers dedupe on id: replays make repeats on purpose.
    assert Counter(receiver.received) == {ids[0]: 3, ids[1]: 3}
    with pytest.raises(InputError, match="say what to replay"):
        await replay_deliveries(store, second, now=utcnow())
    with pytest.raises(InputError, match="no webhook endpoint named 'nope'"):
        await replay_deliveries(store, second, failed=True, endpoint="nope", now=utcnow())
    with pytest.raises(NotFoundError):
        await replay_deliveries(store, second, event_id="evt_missing", now=utcnow())


async def test_rotation_sends_two_signatures_and_either_secret_is_accepted(
    store: Store, start_receiver: ReceiverFactory
) -> None:
    knows_new, new_url = start_receiver(secrets=[NEW_SECRET])
    knows_old, old_url = start_receiver(secrets=[SECRET])
    rotating = [NEW_SECRET, SECRET]
    settings = fast_settings(
        endpoint("new", new_url, secret=None, secrets=rotating),
        endpoint("old", old_url, secret=None, secrets=rotating),
    )
    ids = await write_events(store, 3)
    async with new_client(settings) as client:
        await deliver_due(store, settings, client)
    assert sorted(knows_new.received) == sorted(knows_old.received) == sorted(ids)
    assert knows_new.bad_signatures == knows_old.bad_signatures == 0
    header = knows_old.signature_headers[0]
    t, first, second = header.split(",")
    assert t.startswith("t=") and first.startswith("v1=") and second.startswith("v1=")
    raw = knows_old.raw_bodies[0]
    # New secret first: each v1 on its own verifies with its own secret only.
    assert verify_signature(f"{t},{first}", raw, [NEW_SECRET])
    assert not verify_signature(f"{t},{first}", raw, [SECRET])
    assert verify_signature(f"{t},{second}", raw, [SECRET])


@pytest.fixture
def debug_logs(caplog: pytest.LogCaptureFixture) -> Iterator[io.StringIO]:
    """Our JSON log pipeline at debug level, into a string; caplog sees the records too."""
    stream = io.StringIO()
    configure_logging(level="debug", fmt="json", stream=stream)
    # aiosqlite's own debug lines quote every SQL parameter (event data included) whatever we
    # log: connector.logs should keep it at INFO, as it does httpcore (reported).
    sqlite_log = logging.getLogger("aiosqlite")
    sqlite_log.setLevel(logging.INFO)
    try:
        yield stream
    finally:
        sqlite_log.setLevel(logging.NOTSET)
        logging.getLogger().removeHandler(caplog.handler)


async def test_logs_name_events_and_endpoints_but_never_data_or_secrets(
    store: Store,
    start_receiver: ReceiverFactory,
    caplog: pytest.LogCaptureFixture,
    debug_logs: io.StringIO,
) -> None:
    stream = debug_logs
    logging.getLogger().addHandler(caplog.handler)
    caplog.set_level(logging.DEBUG)
    good, good_url = start_receiver()
    bad, bad_url = start_receiver(status=500, tolerance=10**6)
    bad.error_body = f"rejected {PATIENT}"
    settings = fast_settings(
        endpoint("good-one", good_url),
        endpoint("bad-one", bad_url, secret=None, secrets=[NEW_SECRET, SECRET]),
        endpoint("gone-one", f"http://127.0.0.1:{free_port()}/hook"),
    )
    ids = await write_events(store, 2)
    start = utcnow()
    async with new_client(settings) as client:
        await deliver_due(store, settings, client, clock=lambda: start)
        later = start + timedelta(days=2)
        await deliver_due(store, settings, client, clock=lambda: later)
    assert len(good.received) == 2
    signatures = [h.split("v1=")[1] for h in good.signature_headers]
    for text in (stream.getvalue(), caplog.text):
        assert PATIENT not in text
        assert SECRET not in text and NEW_SECRET not in text
        assert all(sig.rstrip(",")[:16] not in text for sig in signatures)
        assert '"data"' not in text
        for name in ("good-one", "bad-one", "gone-one"):
            assert name in text
        assert ids[0] in text and "case.created" in text
    events = stream.getvalue()
    assert "webhook.delivered" in events and "webhook.retrying" in events
    assert "webhook.failed" in events and "HTTP 500" in events and "ConnectError" in events


def test_backoff_doubles_up_to_the_cap_with_jitter() -> None:
    import random

    settings = WebhooksSettings(backoff_base_seconds=10, backoff_max_seconds=300)
    rng = random.Random(1)
    delays = [retry_delay(n, settings, rng) for n in range(1, 12)]
    ceilings = [min(300, 10 * 2 ** (n - 1)) for n in range(1, 12)]
    assert all(c / 2 <= d <= c for d, c in zip(delays, ceilings, strict=True))
    assert retry_delay(10_000, settings, rng) <= 300


POSTGRES_ONLY = pytest.mark.parametrize(
    "database_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)


@POSTGRES_ONLY
async def test_two_processes_deliver_each_event_once(
    store: Store, database_url: str, start_receiver: ReceiverFactory
) -> None:
    receiver, url = start_receiver()
    settings = fast_settings(endpoint("tps", url), concurrency=3)
    other = Store.connect(database_url)
    try:
        ids = await write_events(store, 20, per_transaction=4)
        loops = [DeliveryLoop(store, settings), DeliveryLoop(other, settings)]
        async with running(loops[0]), running(loops[1]):
            more = await write_events(other, 20)
            await wait_until(lambda: len(receiver.received) >= 40)
            await asyncio.sleep(0.2)  # time for a duplicate to show up, were there one
    finally:
        await other.close()
    assert Counter(receiver.received) == Counter(ids + more)  # each exactly once
    assert sum(loop.counters.delivered for loop in loops) == 40


async def test_a_redirect_is_not_followed_and_counts_as_a_failure(store: Store) -> None:
    import respx

    settings = fast_settings(endpoint("tps", "https://tps.example/hook"))
    await write_events(store, 1)
    with respx.mock(assert_all_called=True) as mock:
        mock.post("https://tps.example/hook").respond(302, headers={"Location": "/elsewhere"})
        async with httpx.AsyncClient(follow_redirects=False) as client:
            assert await deliver_due(store, settings, client) == 1
    (row,) = await rows(store)
    assert row.status == "pending" and row.last_error == "HTTP 302"


@BOTH_DATABASES
async def test_deleting_an_account_purges_its_deliveries_and_the_feed_goes_on(
    store: Store, start_receiver: ReceiverFactory
) -> None:
    keys = Keyring({"k1": os.urandom(32)}, primary="k1")
    account = await create_account(
        store,
        Vault(keys, store_audit_sink(store)),
        vendor="clearcorrect",
        username="partner@tps.example",
        password=Secret("Pw-for-the-test-1"),
    )
    receiver, url = start_receiver(status=503)
    settings = fast_settings(endpoint("tps", url))
    async with store.transaction() as conn:
        mine = await append_event(
            conn,
            type=EventType.CASE_CREATED,
            account_id=account.id,
            subject_id=None,
            data={"patient_name": PATIENT},
            now=utcnow(),
        )
    async with new_client(settings) as client:
        await deliver_due(store, settings, client)
        assert [r.event_id for r in await rows(store)] == [mine]
        await remove_account(store, account.id, reason="test")
        assert await rows(store) == []  # no patient data left waiting for a receiver
        receiver.status = 204
        later = await write_events(store, 2)
        await deliver_due(store, settings, client)
    assert sorted(receiver.received) == sorted(later)
