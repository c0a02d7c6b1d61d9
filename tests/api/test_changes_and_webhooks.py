"""`/v1/changes` (the change feed, in commit order, paged by an opaque cursor) and
`/v1/webhooks` (delivery status, replay)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from connector.clock import utcnow
from connector.webhooks import deliver_due, new_client
from tests.api.conftest import Api, seed_cases
from tests.webhooks.conftest import SECRET, ReceiverFactory, start_receiver

__all__ = ["start_receiver"]  # the fixture, used by name


async def test_change_feed_pages_in_order(api: Api) -> None:
    first = (await api.client.get("/v1/changes")).json()
    assert first["items"] == [] and first["next_cursor"]
    accounts = [await api.add_account(f"a{n}@tps.example") for n in range(3)]
    for account in accounts:
        await api.client.post(f"/v1/accounts/{account['id']}/pause")
        await api.client.post(f"/v1/accounts/{account['id']}/resume")
    # The cursor of the empty page picks up what came after it.
    after = (await api.client.get("/v1/changes", params={"cursor": first["next_cursor"]})).json()
    assert len(after["items"]) == 6

    pages = await api.pages_feed(limit=4)
    assert [len(p) for p in pages] == [4, 2]
    events = [e for p in pages for e in p]
    assert [e["id"] for e in events] == [e["id"] for e in after["items"]]
    assert [(e["data"]["id"], e["data"]["status"]) for e in events] == [
        (a["id"], status) for a in accounts for status in ("disabled", "verifying")
    ]
    assert {e["type"] for e in events} == {"account.status_changed"}
    assert set(events[0]) == {"id", "type", "created_at", "data"}
    assert "password" not in str(events)

    # The cursor of the last page, asked again, is an empty page with the same cursor.
    last = (await api.client.get("/v1/changes", params={"cursor": after["next_cursor"]})).json()
    assert last == {"items": [], "next_cursor": after["next_cursor"]}

    for params in (
        {"cursor": "garbage"},
        {"cursor": "eyJrIjoiY2FzZXMifQ"},
        {"cursor": "x" * 65},
        {"limit": 0},
        {"limit": 501},
    ):
        response = await api.client.get("/v1/changes", params=params)
        assert response.status_code == 422, (params, response.text)


async def test_webhook_status_and_replay(api_factory: Any, start_receiver: ReceiverFactory) -> None:
    receiver, url = start_receiver()
    api: Api = await api_factory(
        webhooks={
            "endpoints": [{"name": "tps", "url": url, "secret": SECRET}],
            "backoff_base_seconds": 0.05,
            "backoff_max_seconds": 0.2,
            "timeout_seconds": 2,
        }
    )
    webhooks = api.ctx.settings.webhooks
    account = await api.add_account()
    await seed_cases(api.store, account["id"], [1])
    await api.client.post(f"/v1/accounts/{account['id']}/pause")
    (event,) = [e for p in await api.pages_feed() for e in p]

    status = (await api.client.get("/v1/webhooks")).json()
    assert status == {
        "items": [
            {
                "endpoint": "tps",
                "configured": True,
                "pending": 0,
                "delivered": 0,
                "failed": 0,
                "oldest_pending_at": None,
            }
        ],
        "next_cursor": None,
    }
    async with new_client(webhooks) as client:
        await deliver_due(api.store, webhooks, client)
    assert receiver.received == [event["id"]]
    assert (await api.client.get("/v1/webhooks")).json()["items"][0]["delivered"] == 1

    replayed = await api.client.post("/v1/webhooks/replay", json={"event_id": event["id"]})
    assert replayed.status_code == 202 and replayed.json() == {"replayed": 1}
    assert (await api.client.get("/v1/webhooks")).json()["items"][0]["pending"] == 1
    async with new_client(webhooks) as client:
        await deliver_due(api.store, webhooks, client)
    assert receiver.received == [event["id"], event["id"]]

    # A delivery that keeps failing past its window is kept as failed, and can be replayed.
    receiver.status = 503
    await api.client.post(f"/v1/accounts/{account['id']}/resume")
    late = utcnow() + timedelta(days=2)
    async with new_client(webhooks) as client:
        await deliver_due(api.store, webhooks, client)  # queued, answered 503: retrying
        await deliver_due(api.store, webhooks, client, clock=lambda: late)
    assert (await api.client.get("/v1/webhooks")).json()["items"][0]["failed"] == 1
    retried = await api.client.post("/v1/webhooks/replay", json={"failed": True})
    assert retried.json() == {"replayed": 1}
    receiver.status = 204
    async with new_client(webhooks) as client:
        await deliver_due(api.store, webhooks, client)
    counts = (await api.client.get("/v1/webhooks")).json()["items"][0]
    assert (counts["delivered"], counts["failed"], counts["pending"]) == (2, 0, 0)

    for body, code in (
        ({}, 422),
        ({"failed": False}, 422),
        ({"event_id": "evt_missing"}, 404),
        ({"failed": True, "endpoint": "nope"}, 404),
        ({"failed": True, "everything": True}, 422),
        ({"failed": "yes please"}, 422),
    ):
        response = await api.client.post("/v1/webhooks/replay", json=body)
        assert response.status_code == code, (body, response.text)
