"""The session's API side with respx, no browser: a restored state is checked with one request;
listings page, stop at the watermark, survive shifts and de-duplicate; expiries renew once;
outbound actions map the portal's answers and are never resent blindly.

A restored, valid state needs no browser at all, so these tests run the real session code
against a mocked portal; where a renewal would need the browser it is replaced by a stub.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import respx

from adapters.base import (
    ActionRefused,
    CaseStatus,
    Credentials,
    NotFound,
    OutcomeUnknown,
    PortalUnavailable,
    RecordedSignIns,
    SessionExpired,
    no_code,
)
from adapters.browser import BrowserPool
from adapters.http import RetryPolicy
from adapters.invisalign import InvisalignAdapter, InvisalignSession, ListingCursor
from sandbox.invisalign.layout import fields
from tests.adapters.invisalign.test_fastpath import detail_json, summary_json
from vault import Secret

BASE = "https://vip.example"
LOGIN_HOST = "myaccount-us.aligntech.com"
FAST = RetryPolicy(max_attempts=4, max_total_seconds=5, initial_backoff=0.001, max_backoff=0.002)
T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
STAFF = {
    "userName": "rx@x",
    "firstName": "R",
    "lastName": "X",
    "accountType": "STAFF",
    "roles": ["Prescription management"],
    "doctor": {"doctorId": "100001", "name": "Dr. Alex Morgan"},
    "practice": "Smile Dental",
}


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


class FakeList:
    """The portal's patient list: sorted by last activity (ties: higher id first), paged."""

    def __init__(self, count: int) -> None:
        self.items = {
            str(1_000_000 + n): summary_json(
                patientId=str(1_000_000 + n), lastActivity=iso(T0 + timedelta(minutes=n))
            )
            for n in range(count)
        }
        self.calls = 0
        self.before_call: Callable[[int], None] | None = None

    def touch(self, patient_id: str, at: datetime) -> None:
        self.items[patient_id] = self.items[patient_id] | {"lastActivity": iso(at)}

    def ordered(self) -> list[dict[str, Any]]:
        return sorted(
            self.items.values(), key=lambda i: (i["lastActivity"], i["patientId"]), reverse=True
        )

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        if self.before_call is not None:
            self.before_call(self.calls)
        assert request.headers["X-CSRF-TOKEN"] == "csrf-1"
        assert "JSESSIONID=session-1" in request.headers["cookie"]
        page, size = int(request.url.params["page"]), int(request.url.params["pageSize"])
        rows = self.ordered()
        body = {
            "page": page,
            "pageSize": size,
            "filter": "ALL",
            "totalCount": len(rows),
            "totalPages": -(-len(rows) // size),
            "counts": {"all": len(rows), "actionRequired": 0},
            "patients": rows[(page - 1) * size : page * size],
        }
        return httpx.Response(200, json=body)


def restored_state() -> Secret:
    cookies = [
        {"name": "JSESSIONID", "value": "session-1", "domain": "vip.example", "path": "/"},
        {"name": "CSRF-TOKEN", "value": "csrf-1", "domain": "vip.example", "path": "/"},
        {"name": "auth0", "value": "saved-1", "domain": "vip.example", "path": "/"},
    ]
    return Secret(json.dumps({"cookies": cookies, "origins": []}))


@pytest.fixture
def portal() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=BASE, assert_all_called=False) as router:
        router.get("/v3/api/user/profile", name="profile").respond(json=STAFF)
        yield router


async def open_session(
    page_size: int = 3, overlap: timedelta = timedelta(0), profile: dict[str, Any] | None = None
) -> InvisalignSession:
    adapter = InvisalignAdapter(
        BASE, BrowserPool(), policy=FAST, page_size=page_size, overlap=overlap
    )
    credentials = Credentials("rx@x", Secret("Never-Sent-Password-1"))
    return await adapter.open(credentials, restored_state(), no_code, guard=RecordedSignIns())


@pytest.fixture
async def session(portal: respx.MockRouter) -> AsyncIterator[InvisalignSession]:
    opened = await open_session()
    try:
        yield opened
    finally:
        await opened.close()


async def read_all(session: InvisalignSession, cursor: str | None = None) -> tuple[list[Any], Any]:
    items: list[Any] = []
    pages = []
    async for page in session.list_cases(cursor):
        items += page.items
        pages.append(page)
    return items, pages


def stub_renewal(session: InvisalignSession, counter: list[str]) -> None:
    async def renew(why: str) -> None:
        counter.append(why)
        session._generation += 1

    session._renew = renew  # type: ignore[method-assign]


async def test_restored_state_costs_one_request_and_no_login(
    portal: respx.MockRouter, session: InvisalignSession
) -> None:
    assert session.logins == 0
    assert portal["profile"].call_count == 1
    access = await session.check_access()  # answered from the restore check
    assert access.ok
    assert portal["profile"].call_count == 1
    exported = json.loads((await session.export_state()).reveal())
    assert {c["name"] for c in exported["cookies"]} == {"JSESSIONID", "CSRF-TOKEN", "auth0"}


async def test_a_state_saved_for_another_login_is_not_used(
    portal: respx.MockRouter, monkeypatch: pytest.MonkeyPatch
) -> None:
    renewals: list[str] = []

    async def renew(self: InvisalignSession, why: str) -> None:
        renewals.append(why)

    monkeypatch.setattr(InvisalignSession, "_renew", renew)
    adapter = InvisalignAdapter(BASE, BrowserPool(), policy=FAST)
    other = Credentials("new.staff@x", Secret("Another-Password-1"))
    session = await adapter.open(other, restored_state(), no_code, guard=RecordedSignIns())
    try:
        assert renewals == ["open"]  # a fresh login, not the saved one of "rx@x"
        assert json.loads((await session.export_state()).reveal())["cookies"] == []
    finally:
        await session.close()


async def test_full_listing_reads_every_page_and_returns_the_watermark(
    portal: respx.MockRouter, session: InvisalignSession
) -> None:
    fake = FakeList(10)
    portal.get("/v3/api/patients").mock(side_effect=fake.handler)
    items, pages = await read_all(session)
    assert sorted(i.vendor_case_id for i in items) == sorted(fake.items)
    assert [len(p.items) for p in pages] == [3, 3, 3, 1]
    assert all(p.next_cursor for p in pages[:-1]) and pages[-1].next_cursor is None
    assert all(p.resume_cursor is None for p in pages[:-1])
    assert ListingCursor.decode(pages[-1].resume_cursor).since == T0 + timedelta(minutes=9)
    assert fake.calls == 4 + 1  # four pages and one look at the head for moved cases


async def test_incremental_listing_stops_at_the_watermark(
    portal: respx.MockRouter, session: InvisalignSession
) -> None:
    fake = FakeList(10)
    portal.get("/v3/api/patients").mock(side_effect=fake.handler)
    since = ListingCursor(since=T0 + timedelta(minutes=8)).encode()
    items, pages = await read_all(session, since)
    assert [i.vendor_case_id for i in items] == ["1000009", "1000008"]  # the boundary is kept
    assert fake.calls == 1
    assert ListingCursor.decode(pages[-1].resume_cursor).since == T0 + timedelta(minutes=9)


async def test_incremental_listing_rereads_the_overlap(portal: respx.MockRouter) -> None:
    fake = FakeList(10)
    portal.get("/v3/api/patients").mock(side_effect=fake.handler)
    session = await open_session(overlap=timedelta(minutes=3))
    try:
        since = ListingCursor(since=T0 + timedelta(minutes=8)).encode()
        items, _ = await read_all(session, since)
    finally:
        await session.close()
    assert [i.vendor_case_id for i in items] == [str(1_000_000 + n) for n in (9, 8, 7, 6, 5)]


async def test_nothing_new_keeps_the_watermark(
    portal: respx.MockRouter, session: InvisalignSession
) -> None:
    fake = FakeList(4)
    portal.get("/v3/api/patients").mock(side_effect=fake.handler)
    watermark = T0 + timedelta(hours=1)
    items, pages = await read_all(session, ListingCursor(since=watermark).encode())
    assert items == []
    assert ListingCursor.decode(pages[-1].resume_cursor).since == watermark


async def test_a_case_moving_to_the_front_mid_listing_is_not_missed(
    portal: respx.MockRouter, session: InvisalignSession
) -> None:
    fake = FakeList(10)
    moved_at = T0 + timedelta(hours=2)

    def move(call: int) -> None:
        if call == 2:  # after page 1 was read, the oldest case gets new activity
            fake.touch("1000000", moved_at)

    fake.before_call = move
    portal.get("/v3/api/patients").mock(side_effect=fake.handler)
    items, pages = await read_all(session)
    assert set(i.vendor_case_id for i in items) == set(fake.items)
    latest = {i.vendor_case_id: i.updated_at for i in items}
    assert latest["1000000"] == moved_at
    pairs = [(i.vendor_case_id, i.updated_at) for i in items]
    assert len(pairs) == len(set(pairs))  # de-duplicated
    assert ListingCursor.decode(pages[-1].resume_cursor).since == moved_at


async def test_a_shrinking_list_restarts_and_completes(
    portal: respx.MockRouter, session: InvisalignSession
) -> None:
    fake = FakeList(10)

    def remove(call: int) -> None:
        if call == 3:
            del fake.items["1000009"]  # the newest: everything after it shifts up a place

    fake.before_call = remove
    portal.get("/v3/api/patients").mock(side_effect=fake.handler)
    items, _ = await read_all(session)
    assert set(fake.items) <= {i.vendor_case_id for i in items}
    ids = [i.vendor_case_id for i in items]
    assert len(ids) == len(set(ids))


async def test_a_list_that_never_settles_gives_up(
    portal: respx.MockRouter, session: InvisalignSession
) -> None:
    fake = FakeList(10)
    counter = iter(range(100, 1000))

    def grow(call: int) -> None:
        n = next(counter)
        fake.items[str(2_000_000 + n)] = summary_json(
            patientId=str(2_000_000 + n), lastActivity=iso(T0 + timedelta(days=1, minutes=n))
        )

    fake.before_call = grow
    portal.get("/v3/api/patients").mock(side_effect=fake.handler)
    with pytest.raises(PortalUnavailable, match="kept changing"):
        await read_all(session)


async def test_transient_errors_are_retried_per_request(
    portal: respx.MockRouter, session: InvisalignSession
) -> None:
    fake = FakeList(2)
    answers = iter(
        [httpx.Response(503), httpx.Response(429, headers={"Retry-After": "0"}), None, None]
    )

    def flaky(request: httpx.Request) -> httpx.Response:
        answer = next(answers)
        return answer if answer is not None else fake.handler(request)

    route = portal.get("/v3/api/patients").mock(side_effect=flaky)
    items, _ = await read_all(session)
    assert len(items) == 2
    assert route.call_count == 4  # 503, 429, the page, the head check


async def test_an_expired_session_is_renewed_once(
    portal: respx.MockRouter, session: InvisalignSession
) -> None:
    renewals: list[str] = []
    stub_renewal(session, renewals)
    unauthorized = httpx.Response(401, json={"error": "unauthorized", "message": "expired"})
    route = portal.get("/v3/api/patients/8109470").mock(
        side_effect=[unauthorized, httpx.Response(200, json=detail_json())]
    )
    detail = await session.get_case("8109470")
    assert detail.summary.vendor_case_id == "8109470"
    assert renewals == ["patient detail"] and route.call_count == 2

    route.side_effect = None
    route.return_value = unauthorized
    with pytest.raises(SessionExpired):
        await session.get_case("8109470")
    assert len(renewals) == 2  # one renewal, then a second expiry is reported


async def test_a_redirect_to_the_login_or_a_stale_csrf_token_is_an_expiry(
    portal: respx.MockRouter, session: InvisalignSession
) -> None:
    renewals: list[str] = []
    stub_renewal(session, renewals)
    portal.get("/v3/api/patients/8109470").mock(
        side_effect=[
            httpx.Response(
                302, headers={"Location": f"https://{LOGIN_HOST}/authorize?client_id=x"}
            ),
            httpx.Response(403, json={"error": "invalid_csrf_token", "message": "m"}),
            httpx.Response(200, json=detail_json()),
        ]
    )
    with pytest.raises(SessionExpired):  # the redirect renewed; the 403 was a second expiry
        await session.get_case("8109470")
    assert len(renewals) == 1
    await session.get_case("8109470")


async def test_not_found_and_no_view_rights(
    portal: respx.MockRouter, session: InvisalignSession
) -> None:
    route = portal.get("/v3/api/patients/1234567").respond(
        404, json={"error": "not_found", "message": "Patient not found."}
    )
    with pytest.raises(NotFound):
        await session.get_case("1234567")
    with pytest.raises(NotFound):
        await session.get_case("../user/profile")
    assert route.call_count == 1
    portal.get("/v3/api/patients").respond(403, json={"error": "forbidden", "message": "No."})
    with pytest.raises(ActionRefused):
        await read_all(session)


class PagesRead(Exception):
    """Raised by the stand-in for the page reader: the session fell back to the pages."""


def stub_pages(session: InvisalignSession) -> None:
    async def dom() -> Any:
        raise PagesRead

    session._dom = dom  # type: ignore[method-assign]


async def test_json_of_another_shape_drops_the_fast_path_for_the_pages(
    portal: respx.MockRouter, session: InvisalignSession
) -> None:
    """The JSON is an assumed fast path: renamed fields mean "read the pages", which in a real
    portal change fail too (and raise `PortalChanged` there)."""
    fake = FakeList(3)
    portal.get("/v3/api/patients").mock(
        side_effect=lambda request: httpx.Response(
            200, json=fields(2, json.loads(fake.handler(request).content))
        )
    )
    stub_pages(session)
    assert session.fast is True
    with pytest.raises(PagesRead):
        await read_all(session)
    assert session.fast is False


async def test_html_instead_of_json_drops_the_fast_path_for_the_pages(
    portal: respx.MockRouter, session: InvisalignSession
) -> None:
    route = portal.get("/v3/api/patients/8109470").respond(200, html="<html>maintenance</html>")
    stub_pages(session)
    with pytest.raises(PagesRead):
        await session.get_case("8109470")
    with pytest.raises(PagesRead):
        await session.get_case("8109470")
    assert route.call_count == 1  # dropped for the rest of the session


async def test_a_json_api_that_is_not_there_is_left_for_the_pages(
    portal: respx.MockRouter,
) -> None:
    """A restored state on a portal without the JSON: checked at the confirmed entry page,
    and the session reads the pages."""
    portal["profile"].respond(404, text="Not found")
    entry = portal.get("/v3/auth/patients.action").respond(
        302, headers={"Location": f"{BASE}/v3/auth/patient/patientList.action"}
    )
    opened = await open_session()
    try:
        assert opened.logins == 0 and opened.fast is False
        assert entry.call_count == 1
        stub_pages(opened)
        with pytest.raises(PagesRead):
            await opened.check_access()
    finally:
        await opened.close()


async def test_an_entry_page_sending_to_the_login_host_means_a_new_session(
    portal: respx.MockRouter, monkeypatch: pytest.MonkeyPatch
) -> None:
    portal["profile"].respond(404, text="Not found")
    portal.get("/v3/auth/patients.action").respond(
        302, headers={"Location": f"https://{LOGIN_HOST}/authorize?state=x"}
    )
    renewals: list[str] = []

    async def renew(self: InvisalignSession, why: str) -> None:
        renewals.append(why)

    monkeypatch.setattr(InvisalignSession, "_renew", renew)
    opened = await open_session()
    await opened.close()
    assert renewals == ["open"]


COMMENT_CREATED = {
    "message": "Your comment has been posted.",
    "comment": {"commentId": "C-9", "body": "x"},
}


async def test_post_comment_sends_the_marker_once(
    portal: respx.MockRouter, session: InvisalignSession
) -> None:
    route = portal.post("/v3/api/patients/8109470/comments").respond(201, json=COMMENT_CREATED)
    result = await session.post_comment("8109470", "Please check 13.", "[ref:act_0123456789]")
    assert result.vendor_id == "C-9"
    sent = json.loads(route.calls.last.request.content)
    assert sent == {"body": "Please check 13.\n\n[ref:act_0123456789]"}
    assert route.calls.last.request.headers["X-CSRF-TOKEN"] == "csrf-1"


async def test_a_post_is_resent_only_when_it_never_left(
    portal: respx.MockRouter, session: InvisalignSession
) -> None:
    route = portal.post("/v3/api/patients/8109470/comments").mock(
        side_effect=[httpx.ConnectError("refused"), httpx.Response(201, json=COMMENT_CREATED)]
    )
    await session.post_comment("8109470", "Hello", "[ref:act_0123456789]")
    assert route.call_count == 2

    route.side_effect = None
    route.return_value = httpx.Response(502)
    with pytest.raises(OutcomeUnknown):
        await session.post_comment("8109470", "Hello", "[ref:act_0123456789]")
    assert route.call_count == 3  # not resent


async def test_reject_setup_maps_refusals(
    portal: respx.MockRouter, session: InvisalignSession
) -> None:
    path = "/v3/api/patients/8109470/clincheck/CC-2/modification"
    route = portal.post(path).respond(
        201,
        json={
            "message": "Your modification request has been sent.",
            "trackerStatus": "Modification requested",
            "comment": {"commentId": "C-10"},
        },
    )
    result = await session.reject_setup("8109470", "CC-2", "Less IPR.", "[ref:act_0123456789]")
    assert result.vendor_id == "C-10"
    assert json.loads(route.calls.last.request.content)["instructions"].endswith(
        "\n\n[ref:act_0123456789]"
    )
    route.return_value = httpx.Response(
        409,
        json={"error": "plan_not_reviewable", "message": "This plan is not waiting for review."},
    )
    with pytest.raises(ActionRefused, match="not waiting for review"):
        await session.reject_setup("8109470", "CC-2", "Less IPR.", "[ref:act_0123456789]")
    route.return_value = httpx.Response(403, json={"error": "forbidden", "message": "No."})
    with pytest.raises(ActionRefused):
        await session.reject_setup("8109470", "CC-2", "Less IPR.", "[ref:act_0123456789]")


async def test_find_marker_reads_comments_and_modification_requests(
    portal: respx.MockRouter, session: InvisalignSession
) -> None:
    detail = detail_json()
    detail["comments"][0]["body"] = "Less IPR please\n\n[ref:act_0123456789]"
    portal.get("/v3/api/patients/8109470").respond(200, json=detail)
    assert await session.find_marker("8109470", "[ref:act_0123456789]")
    assert not await session.find_marker("8109470", "[ref:act_9999999999]")


async def test_an_approving_login_posts_nothing(portal: respx.MockRouter) -> None:
    portal.get("/v3/api/user/profile", name="profile").respond(
        json=STAFF | {"roles": ["Prescription management", "Treatment management"]}
    )
    route = portal.post("/v3/api/patients/8109470/comments").respond(201, json=COMMENT_CREATED)
    session = await open_session()
    try:
        with pytest.raises(ActionRefused, match="Treatment management"):
            await session.post_comment("8109470", "Hello", "[ref:act_0123456789]")
    finally:
        await session.close()
    assert route.call_count == 0


async def test_a_comment_endpoint_that_is_not_there_leaves_the_post_to_the_pages(
    portal: respx.MockRouter, session: InvisalignSession
) -> None:
    """A plain 404 (no JSON error) means the path does not exist: nothing was posted, so the
    pages may post it; a JSON 404 is the portal's "no such patient" and stands."""
    route = portal.post("/v3/api/patients/8109470/comments").respond(404, text="Not found")
    stub_pages(session)
    with pytest.raises(PagesRead):
        await session.post_comment("8109470", "Hi", "[ref:act_0123456789]")
    assert route.call_count == 1 and session.fast is False


async def test_a_post_the_portal_took_is_never_posted_again_on_the_pages(
    portal: respx.MockRouter, session: InvisalignSession
) -> None:
    route = portal.post("/v3/api/patients/8109470/comments").respond(
        201, html="<html>posted</html>"
    )
    stub_pages(session)
    result = await session.post_comment("8109470", "Hi", "[ref:act_0123456789]")
    assert result.vendor_id is None  # posted; its id is found later through the marker
    assert route.call_count == 1
    missing = portal.post("/v3/api/patients/1234567/comments").respond(
        404, json={"error": "not_found", "message": "Patient not found."}
    )
    with pytest.raises(NotFound):
        await session.post_comment("1234567", "Hi", "[ref:act_0123456780]")
    assert missing.call_count == 1


async def test_unknown_status_words_are_kept_raw_and_counted(
    portal: respx.MockRouter, session: InvisalignSession
) -> None:
    fake = FakeList(3)
    for patient_id in list(fake.items)[:2]:
        fake.items[patient_id] = fake.items[patient_id] | {"trackerStatus": "Retainer ordered"}
    portal.get("/v3/api/patients").mock(side_effect=fake.handler)
    items, _ = await read_all(session)
    unknown = [i for i in items if i.vendor_status == "Retainer ordered"]
    assert len(unknown) == 2 and all(i.status is CaseStatus.UNKNOWN for i in unknown)
    assert session.unknown_labels == {"Retainer ordered": 2}
