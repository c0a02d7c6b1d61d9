"""The retry table, request by request (respx): what is retried, how long it waits, what it
raises, and that a POST is resent only when it never left."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest
import respx
from hypothesis import given
from hypothesis import strategies as st

from adapters.base import (
    OutcomeUnknown,
    PortalChanged,
    PortalUnavailable,
    RateLimited,
    SessionExpired,
)
from adapters.http import ERROR_TABLE, Outcome, RetryPolicy, classify, make_client, send
from adapters.http.parse import expect_json
from adapters.http.policy import retry_after_seconds

BASE = "https://portal.example"
POLICY = RetryPolicy(
    max_attempts=4, max_total_seconds=30, initial_backoff=0.5, max_backoff=4, retry_after_cap=10
)


class Sleeps:
    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
async def client():
    async with make_client(BASE) as c:
        yield c


@respx.mock
async def test_success_is_returned_at_once(client: httpx.AsyncClient, sleeps: Sleeps) -> None:
    route = respx.get(f"{BASE}/cases").respond(200, json={"items": []})
    response = await send(client, "GET", "/cases", policy=POLICY, sleep=sleeps)
    assert response.status_code == 200
    assert route.call_count == 1 and sleeps.calls == []


@respx.mock
@pytest.mark.parametrize(
    "failure",
    [
        httpx.ReadTimeout("read timed out"),
        httpx.ConnectTimeout("connect timed out"),
        httpx.ConnectError("connection refused"),
        httpx.RemoteProtocolError("peer closed connection without sending complete message body"),
        httpx.ReadError("connection reset by peer"),
        httpx.Response(502),
        httpx.Response(503, text="<html>Service Unavailable</html>"),
    ],
)
async def test_transient_failures_of_a_get_are_retried_with_backoff(
    client: httpx.AsyncClient, sleeps: Sleeps, failure: httpx.Response | Exception
) -> None:
    route = respx.get(f"{BASE}/cases").mock(
        side_effect=[failure, failure, httpx.Response(200, json={})]
    )
    response = await send(client, "GET", "/cases", policy=POLICY, sleep=sleeps)
    assert response.status_code == 200
    assert route.call_count == 3
    assert len(sleeps.calls) == 2
    assert 0.25 <= sleeps.calls[0] <= 0.5 and 0.5 <= sleeps.calls[1] <= 1.0  # exponential, jittered


@respx.mock
async def test_retries_are_bounded_in_attempts(client: httpx.AsyncClient, sleeps: Sleeps) -> None:
    route = respx.get(f"{BASE}/cases").respond(500)
    with pytest.raises(PortalUnavailable, match="failed after retries"):
        await send(client, "GET", "/cases", policy=POLICY, sleep=sleeps)
    assert route.call_count == POLICY.max_attempts
    assert len(sleeps.calls) == POLICY.max_attempts - 1


@respx.mock
async def test_retries_stop_before_crossing_the_time_budget(
    client: httpx.AsyncClient, sleeps: Sleeps
) -> None:
    route = respx.get(f"{BASE}/cases").respond(429, headers={"Retry-After": "8"})
    policy = RetryPolicy(max_attempts=10, max_total_seconds=5, retry_after_cap=10)
    with pytest.raises(RateLimited) as caught:
        await send(client, "GET", "/cases", policy=policy, sleep=sleeps)
    # An 8 s wait would cross the 5 s budget: give up before sleeping at all.
    assert route.call_count == 1 and sleeps.calls == []
    assert caught.value.retry_after == 8


@respx.mock
async def test_429_honours_retry_after_up_to_the_cap(
    client: httpx.AsyncClient, sleeps: Sleeps
) -> None:
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=3), usegmt=True)
    respx.get(f"{BASE}/cases").mock(
        side_effect=[
            httpx.Response(429, headers={"Retry-After": "2"}),
            httpx.Response(429, headers={"Retry-After": "3600"}),
            httpx.Response(429, headers={"Retry-After": later}),
            httpx.Response(200, json={}),
        ]
    )
    response = await send(client, "GET", "/cases", policy=POLICY, sleep=sleeps)
    assert response.status_code == 200
    assert sleeps.calls[0] == 2
    assert sleeps.calls[1] == POLICY.retry_after_cap
    assert 1.0 <= sleeps.calls[2] <= 3.0


@respx.mock
async def test_429_without_retry_after_gets_the_normal_backoff(
    client: httpx.AsyncClient, sleeps: Sleeps
) -> None:
    respx.get(f"{BASE}/cases").mock(side_effect=[httpx.Response(429), httpx.Response(200, json={})])
    await send(client, "GET", "/cases", policy=POLICY, sleep=sleeps)
    assert len(sleeps.calls) == 1 and 0.25 <= sleeps.calls[0] <= 0.5


@respx.mock
@pytest.mark.parametrize("status", [401, 403, 404, 400])
async def test_client_errors_are_never_retried(
    client: httpx.AsyncClient, sleeps: Sleeps, status: int
) -> None:
    route = respx.get(f"{BASE}/cases").respond(status)
    response = await send(client, "GET", "/cases", policy=POLICY, sleep=sleeps)
    assert response.status_code == status
    assert route.call_count == 1 and sleeps.calls == []
    assert classify(response)[0] == (Outcome.FAIL_AUTH if status == 401 else Outcome.FAIL)


@respx.mock
async def test_a_post_that_never_left_is_resent(client: httpx.AsyncClient, sleeps: Sleeps) -> None:
    route = respx.post(f"{BASE}/comments").mock(
        side_effect=[httpx.ConnectError("refused"), httpx.Response(201, json={"id": "c1"})]
    )
    response = await send(
        client, "POST", "/comments", json={"body": "x"}, policy=POLICY, sleep=sleeps
    )
    assert response.status_code == 201 and route.call_count == 2


@respx.mock
@pytest.mark.parametrize(
    "failure",
    [
        httpx.ReadTimeout("response lost"),
        httpx.RemoteProtocolError("server disconnected"),
        httpx.Response(502),
        httpx.Response(429, headers={"Retry-After": "1"}),
    ],
)
async def test_a_post_whose_response_was_lost_is_not_resent(
    client: httpx.AsyncClient, sleeps: Sleeps, failure: httpx.Response | Exception
) -> None:
    route = respx.post(f"{BASE}/comments").mock(side_effect=[failure, httpx.Response(201)])
    with pytest.raises(OutcomeUnknown, match=r"check before resending|may have reached"):
        await send(client, "POST", "/comments", json={"body": "x"}, policy=POLICY, sleep=sleeps)
    assert route.call_count == 1 and sleeps.calls == []


@respx.mock
async def test_malformed_json_and_html_where_json_was_expected(client: httpx.AsyncClient) -> None:
    respx.get(f"{BASE}/bad").respond(
        200, text='{"items": [', headers={"content-type": "application/json"}
    )
    respx.get(f"{BASE}/html").respond(200, html="<html><body>Maintenance</body></html>")
    respx.get(f"{BASE}/login").respond(200, html='<form action="/Account/Login"></form>')
    respx.get(f"{BASE}/redirect").respond(302, headers={"Location": "/Account/Login"})
    with pytest.raises(PortalChanged, match="not valid JSON"):
        expect_json(await send(client, "GET", "/bad"), "the case list")
    with pytest.raises(PortalChanged, match="expected JSON, got text/html"):
        expect_json(await send(client, "GET", "/html"), "the case list")

    def login_page(r: httpx.Response) -> bool:
        return "/Account/Login" in r.text

    with pytest.raises(SessionExpired):
        expect_json(await send(client, "GET", "/login"), "the case list", is_login_page=login_page)
    with pytest.raises(SessionExpired):
        expect_json(await send(client, "GET", "/redirect"), "the case list")


@given(st.integers(min_value=0, max_value=10**6))
def test_retry_after_seconds_parses_delta_seconds(value: int) -> None:
    assert retry_after_seconds(httpx.Response(429, headers={"Retry-After": str(value)})) == value


@given(st.text(max_size=30))
def test_retry_after_never_crashes_on_garbage(value: str) -> None:
    try:
        response = httpx.Response(429, headers={"Retry-After": value})
    except (UnicodeEncodeError, ValueError):
        return
    result = retry_after_seconds(response)
    assert result is None or result >= 0


def test_backoff_grows_and_is_capped() -> None:
    policy = RetryPolicy(initial_backoff=1, max_backoff=8)
    for attempt, ceiling in [(1, 1), (2, 2), (3, 4), (4, 8), (9, 8)]:
        value = policy.backoff(attempt)
        assert ceiling / 2 <= value <= ceiling


def test_the_table_calls_every_answer_below_400_ok() -> None:
    # `send` takes that shortcut for the default table without walking it.
    for status in range(100, 600):
        outcome, _ = classify(httpx.Response(status), ERROR_TABLE)
        assert (outcome is Outcome.OK) == (status < 400), status
