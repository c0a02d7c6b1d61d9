"""Sessions on wall time (sliding expiry, admin expiry, dropped sessions) and injected faults."""

from __future__ import annotations

import time
from collections.abc import Callable

from sandbox.clearcorrect.scenarios import scenario
from sandbox.common.server import PortalHandle
from tests.sandbox.clearcorrect.conftest import identity_app
from tests.sandbox.clearcorrect.portal_client import LOGIN, PortalClient


def test_idle_session_expires_after_the_ttl_and_use_slides_it(
    start_portals: Callable[..., PortalHandle],
) -> None:
    portal = identity_app(
        start_portals("clearcorrect", practices=1, cases=1, session_ttl_seconds=1.0)
    )
    login = scenario("good")
    with PortalClient(portal.url) as client:
        client.login(login.username, login.password)
        # Sliding: requests closer together than the TTL keep the session alive past it.
        started = time.monotonic()
        while time.monotonic() - started < 1.6:
            assert client.http.get("/api/account").status_code == 200
            time.sleep(0.2)
        idle_from = time.monotonic()
        time.sleep(1.1)  # idle longer than the TTL: the wall-time rule under test
        assert time.monotonic() - idle_from >= 1.0
        assert client.http.get("/api/account").status_code == 401
        page = client.http.get("/Cases")
        assert page.status_code == 302
        assert page.headers["location"].startswith(LOGIN)
        client.login(login.username, login.password)
        assert client.http.get("/api/account").status_code == 200


def test_admin_can_expire_one_users_sessions(
    portal: PortalHandle, good: PortalClient, client_for: Callable[..., PortalClient]
) -> None:
    doctor = client_for(scenario("excess").username, scenario("excess").password)
    assert portal.admin.expire_sessions(scenario("good").username) == 1
    assert good.http.get("/api/cases").status_code == 401
    assert doctor.http.get("/api/cases").status_code == 200


def test_dropped_sessions_force_a_new_login(portal: PortalHandle, good: PortalClient) -> None:
    portal.admin.faults(session_drop_rate=1.0)
    assert good.http.get("/api/cases").status_code == 401
    portal.admin.clear_faults()
    assert good.http.get("/Cases").headers["location"].startswith(LOGIN)
    login = scenario("good")
    good.login(login.username, login.password)
    assert good.http.get("/api/cases").status_code == 200


def test_faults_give_5xx_and_429_with_retry_after(portal: PortalHandle, good: PortalClient) -> None:
    portal.admin.faults(error_rate=1.0)
    for _ in range(5):
        response = good.http.get("/api/cases")
        assert response.status_code in {500, 502, 503}
    assert portal.admin.state()["vendor"] == "clearcorrect"  # the admin API is never faulted
    portal.admin.faults(error_rate=0.0, rate_limit_rate=1.0, retry_after_seconds=7)
    limited = good.http.get("/Cases")
    assert limited.status_code == 429
    assert limited.headers["retry-after"] == "7"
    portal.admin.faults(path_prefixes=["/api/"])
    assert good.http.get("/Cases").status_code == 200
    assert good.http.get("/api/cases").status_code == 429
    portal.admin.clear_faults()
    assert good.http.get("/api/cases").status_code == 200


def test_requests_are_counted_per_endpoint_and_user(
    portal: PortalHandle, good: PortalClient
) -> None:
    portal.admin.reset_requests()
    number = good.cases()["items"][0]["caseNumber"]
    good.get(f"/api/cases/{number}")
    good.get(f"/api/cases/{number}/comments")
    counts = portal.admin.requests()
    assert counts["by_endpoint"]["GET /api/cases/{id}"] == 1
    assert counts["total_by_user"][scenario("good").username] == 3
