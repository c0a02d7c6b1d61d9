"""`/metrics` counts what happened: a scrape after a sync, a sign-in the portal refused and a
webhook delivery finds each counter moved (before, the counters were declared and never
incremented), and the gauges read from the database. No account or patient data in labels."""

from __future__ import annotations

from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from connector.sync import sync_account
from connector.webhooks import deliver_due, new_client
from sandbox.scenarios import scenario
from tests.api.conftest import Api
from tests.conftest import PortalFactory
from tests.sync.support import make_services
from tests.webhooks.conftest import SECRET, ReceiverFactory, wait_until

VENDOR = "clearcorrect"
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


async def _scrape(api: Api) -> tuple[Samples, str]:
    response = await api.client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    samples: Samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples, response.text


def _value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


async def test_a_scrape_after_a_sync_a_refused_sign_in_and_a_delivery(
    api_factory: Any, start_portals: PortalFactory, start_receiver: ReceiverFactory
) -> None:
    portal = start_portals(VENDOR, practices=2, cases=3)
    receiver, url = start_receiver()
    api: Api = await api_factory(
        vendors={VENDOR: {"base_url": portal.url}},
        webhooks={
            "endpoints": [{"name": "tps", "url": url, "secret": SECRET}],
            "backoff_base_seconds": 0.05,
            "timeout_seconds": 5,
        },
    )
    before, _ = await _scrape(api)

    good = scenario(VENDOR, "good")
    wrong = scenario(VENDOR, "no_view")
    synced = await api.add_account(good.username, good.password)
    # A wrong password of the length the portal requires (8-16 characters).
    refused = await api.add_account(wrong.username, "Wrong#Pass2026")
    services = make_services(api.store, api.ctx.runtime.vault, {VENDOR: portal.url})
    assert (await sync_account(services, synced["id"])).outcome == "succeeded"
    failed = await sync_account(services, refused["id"])
    assert (failed.outcome, failed.reason) == ("failed", "invalid_credentials")
    settings = api.ctx.settings.webhooks
    async with new_client(settings) as client:
        await deliver_due(api.store, settings, client)
    await wait_until(lambda: len(receiver.received) > 0)

    after, text = await _scrape(api)

    def moved(name: str, **labels: str) -> float:
        return _value(after, name, **labels) - _value(before, name, **labels)

    assert moved("connector_syncs_total", vendor=VENDOR, outcome="succeeded") == 1
    assert moved("connector_syncs_total", vendor=VENDOR, outcome="failed") == 1
    assert moved("connector_sync_duration_seconds_count", vendor=VENDOR) == 2
    assert moved("connector_portal_logins_total", vendor=VENDOR, outcome="succeeded") == 1
    assert moved("connector_portal_logins_total", vendor=VENDOR, outcome="failed") == 1
    delivered = moved("connector_webhook_deliveries_total", endpoint="tps", outcome="delivered")
    assert delivered == len(receiver.received) >= 1
    assert moved("connector_webhook_delivery_lag_seconds_count", endpoint="tps") == delivered
    # Gauges, from the database.
    assert _value(after, "connector_accounts", vendor=VENDOR, status="active") == 1
    assert _value(after, "connector_accounts", vendor=VENDOR, status="login_required") == 1
    assert 0 <= _value(after, "connector_last_sync_age_seconds", vendor=VENDOR) < 60
    # Labels name vendors, outcomes, statuses and endpoints: never a login or a patient.
    assert good.username not in text and wrong.username not in text
    assert synced["id"] not in text and "Patient" not in text
