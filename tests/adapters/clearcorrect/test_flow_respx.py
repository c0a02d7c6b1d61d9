"""The JSON fast path's flow where the sandbox cannot produce the case (respx), on a portal with
the Identity sign-in (no `/Login.aspx`): a list that keeps changing under the listing, lost
answers to login posts, sessions ending twice, concurrent expiries, and answers that are not
what the portal normally sends."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import httpx
import pytest
import respx

from adapters.base import (
    CaseSummary,
    Credentials,
    InvalidCredentials,
    OutcomeUnknown,
    PortalChanged,
    PortalUnavailable,
    RecordedSignIns,
    SessionExpired,
    marker_for,
    no_code,
)
from adapters.clearcorrect import MAX_LISTING_RESTARTS, ClearCorrectAdapter, ClearCorrectSession
from adapters.clearcorrect.api import ApiReader
from adapters.clearcorrect.site import app
from adapters.http import RetryPolicy
from sandbox.clearcorrect import markup
from sandbox.clearcorrect.layout import V1
from vault import Secret

BASE = "https://cc.example"
INVALID = "Invalid login attempt."
POLICY = RetryPolicy(max_attempts=3, max_total_seconds=5, initial_backoff=0.001, max_backoff=0.002)
CREDENTIALS = Credentials("tps@partners.example", Secret("Good#Partner26"))
EPOCH = datetime(2026, 1, 5, 9, tzinfo=UTC)


def _html(body: str) -> httpx.Response:
    return httpx.Response(200, text=body, headers={"content-type": "text/html; charset=utf-8"})


def no_webforms(router: respx.MockRouter) -> None:
    """The portal has no WebForms sign-in page: the adapter signs in on the Identity form."""
    router.get(f"{BASE}/Login.aspx").mock(return_value=httpx.Response(404))


def mock_login(router: respx.MockRouter) -> respx.Route:
    """The login page and a successful login post; returns the post's route."""
    no_webforms(router)
    router.get(f"{BASE}/Identity/Account/Login").mock(
        return_value=_html(markup.login_page(V1, "CfDJ8token", "/Cases"))
    )
    return router.post(f"{BASE}/Identity/Account/Login").mock(side_effect=_signed_in)


def _signed_in(request: httpx.Request) -> httpx.Response:
    return httpx.Response(
        302,
        headers=[
            ("location", "/Cases"),
            ("set-cookie", ".AspNetCore.Identity.Application=CfDJ8session; path=/; httponly"),
            ("set-cookie", "XSRF-TOKEN=CfDJ8xsrf; path=/"),
        ],
    )


def case(number: int, updated: datetime) -> dict[str, Any]:
    return {
        "caseNumber": str(number),
        "patientName": "Pat Ient",
        "patientId": "1234567",
        "doctorId": "20417",
        "doctorName": "Dr. Amelia Hart",
        "status": "In Treatment",
        "group": "InProgress",
        "actionRequired": False,
        "createdAt": "2025-01-01T00:00:00Z",
        "updatedAt": updated.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "unreadComments": 0,
    }


class Portal:
    """A case list the test can change between page requests, answered like `/api/cases`."""

    def __init__(self, count: int) -> None:
        self.cases = [case(100_000 + i, EPOCH - timedelta(minutes=i)) for i in range(count)]
        self.calls: list[dict[str, str]] = []
        self.before_page: Any = None

    def handle(self, request: httpx.Request) -> httpx.Response:
        params = dict(request.url.params)
        self.calls.append(params)
        if self.before_page is not None:
            self.before_page(self, params)
        rows = self.cases
        if "updatedSince" in params:
            since = datetime.fromisoformat(params["updatedSince"].replace("Z", "+00:00"))
            rows = [
                c
                for c in rows
                if datetime.fromisoformat(c["updatedAt"].replace("Z", "+00:00")) >= since
            ]
        rows = sorted(rows, key=lambda c: (c["updatedAt"], c["caseNumber"]), reverse=True)
        page, size = int(params["page"]), int(params["pageSize"])
        body = {
            "items": rows[(page - 1) * size : page * size],
            "page": page,
            "pageSize": size,
            "totalCount": len(rows),
            "totalPages": (len(rows) + size - 1) // size,
        }
        return httpx.Response(200, json=body)


async def _open(router: respx.MockRouter) -> ClearCorrectSession:
    mock_login(router)
    return await ClearCorrectAdapter(BASE, policy=POLICY).open(
        CREDENTIALS, None, no_code, guard=RecordedSignIns()
    )


async def _all(session: ClearCorrectSession) -> tuple[list[Any], dict[str, CaseSummary]]:
    pages = [page async for page in session.list_cases(None)]
    return pages, {i.vendor_case_id: i for p in pages for i in p.items}


@respx.mock
async def test_a_count_that_changes_between_pages_restarts_the_listing() -> None:
    portal = Portal(250)
    respx.get(f"{BASE}/api/cases").mock(side_effect=portal.handle)
    gone = portal.cases[5]["caseNumber"]

    def unshare_once(p: Portal, params: dict[str, str]) -> None:
        if len(p.calls) == 2:  # between page 1 and page 2
            p.cases = [c for c in p.cases if c["caseNumber"] != gone]

    portal.before_page = unshare_once
    async with await _open(respx.mock) as session:
        pages, items = await _all(session)
    assert [c["page"] for c in portal.calls] == ["1", "2", "1", "2", "3"]
    assert set(items) == {c["caseNumber"] for c in portal.cases} | {gone}
    assert pages[-1].next_cursor is None
    assert json.loads(pages[-1].resume_cursor or "") == {"v": 1, "since": "2026-01-05T09:00:00Z"}
    # Without the restart the case first on page 2 would have been skipped:
    skipped = portal.cases[99]["caseNumber"]
    assert skipped in items


@respx.mock
async def test_a_list_that_never_settles_is_portal_unavailable_after_bounded_restarts() -> None:
    portal = Portal(150)
    respx.get(f"{BASE}/api/cases").mock(side_effect=portal.handle)

    def grow(p: Portal, params: dict[str, str]) -> None:
        p.cases.append(case(900_000 + len(p.calls), EPOCH - timedelta(days=30)))

    portal.before_page = grow
    async with await _open(respx.mock) as session:
        with pytest.raises(PortalUnavailable, match="kept changing"):
            await _all(session)
    assert len(portal.calls) == 2 * (MAX_LISTING_RESTARTS + 1)


@respx.mock
async def test_a_case_updated_past_the_pages_is_caught_up_without_a_restart() -> None:
    portal = Portal(150)
    respx.get(f"{BASE}/api/cases").mock(side_effect=portal.handle)
    moved = portal.cases[120]["caseNumber"]

    def update_once(p: Portal, params: dict[str, str]) -> None:
        if len(p.calls) == 2:  # a case on page 2 is updated: it moves to the top of page 1
            p.cases[120]["updatedAt"] = "2026-01-05T09:30:00Z"

    portal.before_page = update_once
    async with await _open(respx.mock) as session:
        pages, items = await _all(session)
    assert moved in items and len(items) == 150
    assert items[moved].updated_at == EPOCH + timedelta(minutes=30)
    assert portal.calls[-1] == {
        "page": "1",
        "pageSize": "100",
        "updatedSince": "2026-01-05T09:00:00Z",
    }
    assert len(portal.calls) == 3
    # The moved case is newer than the watermark, which stays where the listing began.
    assert json.loads(pages[-1].resume_cursor or "")["since"] == "2026-01-05T09:00:00Z"


@respx.mock
async def test_a_lost_answer_to_the_login_post_is_never_resent() -> None:
    no_webforms(respx.mock)
    respx.get(f"{BASE}/Identity/Account/Login").mock(
        return_value=_html(markup.login_page(V1, "CfDJ8token", "/Cases"))
    )
    post = respx.post(f"{BASE}/Identity/Account/Login")
    for failure in (httpx.Response(503), httpx.ReadTimeout("lost"), httpx.Response(429)):
        post.mock(side_effect=[failure])
        before = post.call_count
        with pytest.raises(OutcomeUnknown):
            await ClearCorrectAdapter(BASE, policy=POLICY).open(
                CREDENTIALS, None, no_code, guard=RecordedSignIns()
            )
        assert post.call_count == before + 1


@respx.mock
async def test_a_login_post_that_never_left_may_be_sent_again() -> None:
    no_webforms(respx.mock)
    respx.get(f"{BASE}/Identity/Account/Login").mock(
        return_value=_html(markup.login_page(V1, "CfDJ8token", "/Cases"))
    )
    answers = iter([None, "signed in"])

    def refused_then_signed_in(request: httpx.Request) -> httpx.Response:
        if next(answers) is None:
            raise httpx.ConnectError("refused", request=request)
        return _signed_in(request)

    post = respx.post(f"{BASE}/Identity/Account/Login").mock(side_effect=refused_then_signed_in)
    async with await ClearCorrectAdapter(BASE, policy=POLICY).open(
        CREDENTIALS, None, no_code, guard=RecordedSignIns()
    ) as session:
        assert session.logins == 1
    assert post.call_count == 2


@respx.mock
async def test_a_session_that_ends_again_right_after_a_new_login_is_session_expired() -> None:
    cases = respx.get(f"{BASE}/api/cases").mock(
        side_effect=[
            httpx.Response(302, headers={"location": "/Identity/Account/Login?ReturnUrl=%2F"}),
            httpx.Response(401, json={"title": "Unauthorized", "status": 401}),
        ]
    )
    session = await _open(respx.mock)
    async with session:
        with pytest.raises(SessionExpired):
            await _all(session)
        assert session.logins == 2  # the first login and exactly one more
    assert cases.call_count == 2


@respx.mock
async def test_concurrent_requests_that_see_the_end_share_one_new_login() -> None:
    ended = {"yes": True}

    def comments(request: httpx.Request) -> httpx.Response:
        if ended["yes"] and "CfDJ8session2" not in request.headers.get("cookie", ""):
            return httpx.Response(401, json={"status": 401})
        return httpx.Response(200, json={"items": [], "totalCount": 0, "unreadComments": 0})

    respx.get(url__regex=rf"{BASE}/api/cases/\d+/comments").mock(side_effect=comments)
    session = await _open(respx.mock)

    def second_login(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            302,
            headers=[
                ("location", "/Cases"),
                ("set-cookie", ".AspNetCore.Identity.Application=CfDJ8session2; path=/"),
            ],
        )

    post = respx.post(f"{BASE}/Identity/Account/Login").mock(side_effect=second_login)
    before = post.call_count
    async with session:
        reader = cast(ApiReader, session._reader)
        urls = [app.comments_api(str(100_000 + i)) for i in range(8)]
        await asyncio.gather(*(reader._get(url, "comments") for url in urls))
        assert session.logins == 2
    assert post.call_count == before + 1


@respx.mock
async def test_html_where_json_belongs_is_portal_changed() -> None:
    respx.get(f"{BASE}/api/cases").mock(return_value=_html("<html>Maintenance</html>"))
    async with await _open(respx.mock) as session:
        with pytest.raises(PortalChanged, match="expected JSON"):
            await _all(session)


@respx.mock
async def test_a_login_page_without_its_token_posts_nothing() -> None:
    page = markup.login_page(V1, "CfDJ8token", "/Cases").replace("__RequestVerificationToken", "x")
    no_webforms(respx.mock)
    respx.get(f"{BASE}/Identity/Account/Login").mock(return_value=_html(page))
    post = respx.post(f"{BASE}/Identity/Account/Login")
    with pytest.raises(PortalChanged):
        await ClearCorrectAdapter(BASE, policy=POLICY).open(
            CREDENTIALS, None, no_code, guard=RecordedSignIns()
        )
    assert post.call_count == 0


@respx.mock
async def test_an_accepted_post_with_an_unreadable_answer_is_still_a_success() -> None:
    respx.post(url__regex=rf"{BASE}/api/cases/\d+/comments").mock(
        return_value=httpx.Response(201, json={"id": 5})
    )
    async with await _open(respx.mock) as session:
        result = await session.post_comment("318274", "Hello", marker_for("act_12345678"))
    assert result.vendor_id is None


@respx.mock
async def test_a_refused_antiforgery_token_is_refreshed_once() -> None:
    account: dict[str, Any] = {
        "email": CREDENTIALS.username,
        "displayName": "TPS",
        "userType": "Partner",
        "doctorId": None,
        "practice": None,
        "canApproveSetups": False,
        "partnerships": [],
    }
    respx.get(f"{BASE}/api/account").mock(
        return_value=httpx.Response(
            200, json=account, headers={"set-cookie": "XSRF-TOKEN=CfDJ8fresh; path=/"}
        )
    )

    def comment(request: httpx.Request) -> httpx.Response:
        if request.headers.get("RequestVerificationToken") != "CfDJ8fresh":
            return httpx.Response(
                400,
                json={
                    "title": "Bad Request",
                    "detail": "The anti-forgery token is missing or invalid.",
                },
                headers={"content-type": "application/problem+json"},
            )
        return httpx.Response(201, json={"commentId": "9400099"})

    route = respx.post(url__regex=rf"{BASE}/api/cases/\d+/comments").mock(side_effect=comment)
    async with await _open(respx.mock) as session:
        result = await session.post_comment("318274", "Hello", marker_for("act_12345678"))
    assert result.vendor_id == "9400099"
    assert route.call_count == 2


@respx.mock
async def test_a_failed_new_login_is_never_tried_again_by_the_same_session() -> None:
    """The password changed on the portal mid-session: the new login fails once, and every
    later request of that session is `SessionExpired` instead of another failed attempt."""
    respx.get(f"{BASE}/api/cases").mock(return_value=httpx.Response(401, json={"status": 401}))
    session = await _open(respx.mock)
    refused = markup.login_page(V1, "CfDJ8token", "/Cases", CREDENTIALS.username, [INVALID])
    post = respx.post(f"{BASE}/Identity/Account/Login").mock(return_value=_html(refused))
    before = post.call_count
    async with session:
        with pytest.raises(InvalidCredentials):
            await _all(session)
        for _ in range(3):
            with pytest.raises(SessionExpired):
                await _all(session)
    assert post.call_count == before + 1
