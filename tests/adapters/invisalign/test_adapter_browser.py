"""The Invisalign adapter in real Chromium against the running sandbox (app on 127.0.0.1, hosted
login on 127.0.0.2): scenario logins, one password per `open()` and only on an allowed login
host, listings that match the portal's state on the pages (the primary path) and through the
JSON (the fast path, detected at run time), incremental syncs, posting with markers on both
paths, a changed layout, faults that are unavailability and never a changed portal, restored
sessions, and no secret in logs or errors.

One browser serves the whole module (a module-scoped pool on a module-scoped event loop); each
test starts its own seeded portal, so posts and faults never leak between tests.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, cast
from urllib.parse import urljoin

import httpx
import pytest
import pytest_asyncio
import structlog
from playwright.async_api import BrowserContext, Route

from adapters.base import (
    AccountLocked,
    ActionRefused,
    AuthorRole,
    Capability,
    CaseStatus,
    CodeProvider,
    Credentials,
    InvalidCredentials,
    MfaRequired,
    PasswordExpired,
    PortalChanged,
    PortalUnavailable,
    RecordedSignIns,
    SessionExpired,
    SetupState,
    SignInStep,
    no_code,
    utc,
)
from adapters.browser import BrowserPool, StorageState
from adapters.http import RetryPolicy
from adapters.invisalign import InvisalignAdapter, InvisalignSession, site
from sandbox.common.server import PortalHandle
from sandbox.invisalign import i18n
from sandbox.invisalign.scenarios import SCENARIOS
from vault import Secret

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="module")]

FAST = RetryPolicy(max_attempts=10, max_total_seconds=30, initial_backoff=0.005, max_backoff=0.05)
SCENARIO = {s.name: s for s in SCENARIOS}
GOOD = SCENARIO["good"]
COORDINATOR = ("coordinator@smile-dental.example", "Coordinator-View-2026")
PATHS = [pytest.param(True, id="fast-path"), pytest.param(False, id="pages")]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def pool(chromium_options: dict[str, Any]) -> AsyncIterator[BrowserPool]:
    shared = BrowserPool(executable_path=chromium_options.get("executable_path"), max_contexts=4)
    try:
        yield shared
    finally:
        await shared.close()


@pytest.fixture
def portal(start_portals: Any) -> PortalHandle:
    handle: PortalHandle = start_portals("invisalign", practices=2, cases=5)
    return handle


def credentials(username: str, password: str, totp: str | None = None) -> Credentials:
    return Credentials(username, Secret(password), Secret(totp) if totp else None)


def good() -> Credentials:
    return credentials(GOOD.username, GOOD.password)


def adapter_for(portal: PortalHandle, pool: BrowserPool, **options: Any) -> InvisalignAdapter:
    options.setdefault("policy", FAST)
    options.setdefault("render_timeout", 10.0)
    options.setdefault("settle_timeout", 1.0)
    return InvisalignAdapter(portal.url, pool, **options)


def site_settings(portal: PortalHandle, **changes: Any) -> None:
    httpx.put(f"{portal.url}/__sandbox/site", json=changes, timeout=10).raise_for_status()


def set_language(portal: PortalHandle, username: str, lang: str | None) -> None:
    url = f"{portal.url}/__sandbox/logins/{username}/language"
    httpx.put(url, json={"language": lang}, timeout=10).raise_for_status()


def mailbox_codes(portal: PortalHandle, username: str) -> CodeProvider:
    async def provide(channel: str) -> Secret | None:
        assert channel == "email"
        messages = [m for m in portal.admin.mailbox(to=username) if m.get("code")]
        return Secret(messages[-1]["code"]) if messages else None

    return provide


def attempts(portal: PortalHandle, username: str) -> int:
    counter = portal.admin.logins().get(username.lower(), {})
    return int(counter.get("attempts", 0))


@asynccontextmanager
async def opened(
    adapter: InvisalignAdapter,
    creds: Credentials,
    state: Secret | None = None,
    codes: CodeProvider = no_code,
) -> AsyncIterator[InvisalignSession]:
    session = await adapter.open(creds, state, codes, guard=RecordedSignIns())
    try:
        yield session
    finally:
        await session.close()


async def listing(session: InvisalignSession, cursor: str | None = None) -> tuple[list[Any], Any]:
    items: list[Any] = []
    last = None
    async for page in session.list_cases(cursor):
        items += page.items
        last = page
    assert last is not None and last.next_cursor is None
    return items, last.resume_cursor


def login_of(state: dict[str, Any], username: str) -> dict[str, Any]:
    return next(entry for entry in state["logins"] if entry["username"] == username)


def assert_matches_state(
    portal: PortalHandle,
    username: str,
    summaries: list[Any],
    details: dict[str, Any],
    *,
    pages: bool,
    lang: str = "en",
) -> None:
    """Every case, plan and comment exactly as the portal holds them for this login (the pages
    show neither the doctor's id nor a case's creation time)."""
    state = portal.admin.state()
    login = login_of(state, username)
    cases = {c["case_id"]: c for c in state["cases"]}
    assert [s.vendor_case_id for s in summaries] == login["visible_case_ids"]
    for summary in summaries:
        case = cases[summary.vendor_case_id]
        unread = [username.lower() not in c["read_by"] for c in case["comments"]]
        assert summary.patient_name == case["patient_name"]
        assert summary.patient_id == case["patient_id"]
        assert summary.vendor_doctor_id == (None if pages else case["doctor_id"])
        assert summary.vendor_doctor_name == case["doctor_name"]
        assert summary.vendor_status == i18n.status(case["status"], lang)
        assert summary.status is not CaseStatus.UNKNOWN
        assert summary.action_required == case["action_required"]
        assert summary.updated_at == utc(case["updated_at"])
        assert summary.unread_comments == sum(unread)
        detail = details[summary.vendor_case_id]
        assert detail.summary == summary
        assert detail.created_at == (None if pages else utc(case["created_at"]))
        assert [
            (
                s.vendor_setup_id,
                s.version,
                s.created_at,
                s.vendor_state,
                s.viewer_url,
                [(f.name, f.kind, f.size) for f in s.files],
            )
            for s in detail.setups
        ] == [
            (
                s["setup_id"],
                s["version"],
                utc(s["created_at"]),
                i18n.plan_state(s["state"], lang),
                urljoin(portal.url, s["viewer_url"]),
                [(f["name"], f["kind"], f["size"]) for f in s["files"]],
            )
            for s in case["setups"]
        ]
        assert [
            (c.vendor_comment_id, c.author_role.value, c.author_name, c.body, c.created_at)
            for c in detail.comments
        ] == [
            (c["comment_id"], c["author_role"], c["author_name"], c["body"], utc(c["created_at"]))
            for c in case["comments"]
        ]
        assert [c.unread for c in detail.comments] == unread


async def read_everything(session: InvisalignSession) -> tuple[list[Any], dict[str, Any], Any]:
    summaries, resume = await listing(session)
    details = {s.vendor_case_id: await session.get_case(s.vendor_case_id) for s in summaries}
    return summaries, details, resume


# Scenario logins --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "outcome"),
    [
        ("good", "ok"),
        ("email_code", "ok"),
        ("totp", "ok"),
        ("locked", AccountLocked),
        ("excess", "excessive"),
        ("no_view", "insufficient"),
        ("expired", PasswordExpired),
    ],
)
async def test_scenario_logins(
    name: str, outcome: Any, portal: PortalHandle, pool: BrowserPool
) -> None:
    scenario = SCENARIO[name]
    creds = credentials(scenario.username, scenario.password, scenario.totp_secret)
    codes = mailbox_codes(portal, scenario.username) if name == "email_code" else no_code
    adapter = adapter_for(portal, pool)
    if not isinstance(outcome, str):
        with pytest.raises(outcome) as caught:
            await adapter.open(creds, None, codes, guard=RecordedSignIns())
        assert scenario.password not in str(caught.value)
        if isinstance(caught.value, AccountLocked):
            assert caught.value.until is None  # the page shows no time
        # One attempt, on top of the ten failures the sandbox seeds for the blocked login.
        assert attempts(portal, scenario.username) == (10 if name == "locked" else 0) + 1
        return
    async with opened(adapter, creds, codes=codes) as session:
        access = await session.check_access()
        assert session.logins == 1
    assert attempts(portal, scenario.username) == 1
    if outcome == "ok":
        assert access.ok, access
        assert access.roles == ("Prescription management",)
        assert Capability.REJECT_SETUP in access.capabilities
        assert Capability.APPROVE not in access.capabilities
    elif outcome == "excessive":
        assert access.excessive is not None and "Treatment management" in access.excessive
        assert Capability.APPROVE in access.capabilities
    else:
        assert access.insufficient is not None
        assert access.roles == ("Payment management", "Training access")
        assert Capability.READ_CASES not in access.capabilities


@pytest.mark.parametrize("lang", ["pl", "ko"])
async def test_rights_are_read_on_the_pages_in_the_logins_language(
    lang: str, portal: PortalHandle, pool: BrowserPool
) -> None:
    """Without the JSON: roles from the profile page in the login's language, and a doctor's
    own login known by the account tabs only doctors see."""
    for username in (GOOD.username, SCENARIO["excess"].username, "dr.morgan@smile-dental.example"):
        set_language(portal, username, lang)
    adapter = adapter_for(portal, pool, fast_path=False)
    async with opened(adapter, good()) as session:
        access = await session.check_access()
    assert access.ok and access.roles == (i18n.role("Prescription management", lang),)
    excess = SCENARIO["excess"]
    async with opened(adapter, credentials(excess.username, excess.password)) as session:
        assert (await session.check_access()).excessive is not None
    doctor = credentials("dr.morgan@smile-dental.example", "Morgan-Doctor-2026")
    async with opened(adapter, doctor) as session:
        access = await session.check_access()
    assert access.account_type == "doctor" and access.excessive is not None


async def test_a_code_page_without_a_code_submits_nothing(
    portal: PortalHandle, pool: BrowserPool
) -> None:
    adapter = adapter_for(portal, pool)
    email = SCENARIO["email_code"]
    with pytest.raises(MfaRequired) as caught:
        await adapter.open(
            credentials(email.username, email.password), None, no_code, guard=RecordedSignIns()
        )
    assert caught.value.channel == "email"
    totp = SCENARIO["totp"]  # without its secret and without a person
    with pytest.raises(MfaRequired) as caught:
        await adapter.open(
            credentials(totp.username, totp.password), None, no_code, guard=RecordedSignIns()
        )
    assert caught.value.channel == "totp"


async def test_read_only_coordinator_reads_but_cannot_act(
    portal: PortalHandle, pool: BrowserPool
) -> None:
    async with opened(adapter_for(portal, pool), credentials(*COORDINATOR)) as session:
        access = await session.check_access()
        items, _ = await listing(session)
        with pytest.raises(ActionRefused):
            await session.post_comment(items[0].vendor_case_id, "Hi", "[ref:act_0123456789]")
    assert access.insufficient is None  # it can see cases: syncs go on
    assert access.capabilities == {Capability.READ_CASES}
    assert len(items) == 6
    assert not [p for p in portal.admin.posted() if p["kind"] == "comment"]


async def test_a_wrong_password_costs_exactly_one_attempt(
    portal: PortalHandle, pool: BrowserPool
) -> None:
    wrong = "Wrong-Password-12345"
    guard = RecordedSignIns()
    with pytest.raises(InvalidCredentials) as caught:
        await adapter_for(portal, pool).open(
            credentials(GOOD.username, wrong), None, no_code, guard=guard
        )
    assert attempts(portal, GOOD.username) == 1
    assert guard.count(SignInStep.PASSWORD) == 1
    assert portal.admin.logins()[GOOD.username]["failures"] == 1
    assert wrong not in str(caught.value) and wrong not in repr(caught.value)


async def test_a_password_is_typed_only_on_an_allowed_login_host(
    start_portals: Any, pool: BrowserPool
) -> None:
    """A portal whose sign-in page sits on a host the adapter does not know gets no password."""
    portal: PortalHandle = start_portals("invisalign", practices=0, cases=0, login_host="127.0.0.3")
    guard = RecordedSignIns()
    with pytest.raises(PortalChanged) as caught:
        await adapter_for(portal, pool).open(good(), None, no_code, guard=guard)
    assert caught.value.facts == ("ids.host.login",)
    assert guard.count() == 0
    assert attempts(portal, GOOD.username) == 0


class FailingLoginPost:
    """A pool whose contexts answer the password POST with 503 (before the portal sees it)."""

    def __init__(self, inner: BrowserPool) -> None:
        self.inner = inner
        self.posts = 0

    @asynccontextmanager
    async def context(
        self, storage_state: StorageState | None = None
    ) -> AsyncIterator[BrowserContext]:
        async with self.inner.context(storage_state) as context:

            async def fail(route: Route) -> None:
                if route.request.method == "POST":
                    self.posts += 1
                    await route.fulfill(status=503, body="Service Unavailable")
                else:
                    await route.continue_()

            await context.route("**/u/login?*", fail)
            yield context


async def test_a_5xx_on_the_password_post_is_never_followed_by_a_second_submit(
    portal: PortalHandle, pool: BrowserPool
) -> None:
    failing = FailingLoginPost(pool)
    adapter = adapter_for(portal, cast(BrowserPool, failing))
    with pytest.raises(PortalUnavailable, match="not resent"):
        await adapter.open(good(), None, no_code, guard=RecordedSignIns())
    assert failing.posts == 1


async def test_a_failing_callback_is_retried_as_a_page_load_not_as_a_login(
    portal: PortalHandle, pool: BrowserPool
) -> None:
    portal.admin.faults(error_rate=1.0, path_prefixes=["/v3/auth/callback"])
    with pytest.raises(PortalUnavailable):
        await adapter_for(portal, pool).open(good(), None, no_code, guard=RecordedSignIns())
    assert attempts(portal, GOOD.username) == 1
    assert portal.admin.requests()["by_endpoint"]["GET /v3/auth/callback"] == FAST.max_attempts


async def test_a_login_page_whose_script_fails_is_unavailable_and_gets_no_password(
    portal: PortalHandle, pool: BrowserPool
) -> None:
    """The challenge cannot be answered while its script does not load: a fault, not a change,
    and no password is sent into a form that could not be submitted properly."""
    portal.admin.faults(error_rate=1.0, path_prefixes=["/u/assets/"])
    guard = RecordedSignIns()
    adapter = adapter_for(portal, pool, policy=RetryPolicy(3, 10, 0.005, 0.01))
    with pytest.raises(PortalUnavailable):
        await adapter.open(good(), None, no_code, guard=guard)
    assert guard.count() == 0
    assert attempts(portal, GOOD.username) == 0


# Reading ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("fast", PATHS)
async def test_full_listing_matches_the_portal_state(
    fast: bool, portal: PortalHandle, pool: BrowserPool
) -> None:
    async with opened(adapter_for(portal, pool, fast_path=fast), good()) as session:
        summaries, details, resume = await read_everything(session)
        assert session.fast is fast
    assert len(summaries) == 6
    assert any(d.setups for d in details.values()) and any(d.comments for d in details.values())
    assert_matches_state(portal, GOOD.username, summaries, details, pages=not fast)
    newest = max(s.updated_at for s in summaries)
    assert json.loads(resume) == {"v": 1, "since": newest.strftime("%Y-%m-%dT%H:%M:%SZ")}
    assert not [p for p in portal.admin.posted() if p["kind"] == "mark_read"]  # never marked read


async def test_without_the_json_the_fast_path_falls_back_to_the_pages(
    portal: PortalHandle, pool: BrowserPool
) -> None:
    site_settings(portal, json_api=False)
    async with opened(adapter_for(portal, pool), good()) as session:
        assert session.fast is False  # detected at run time
        summaries, details, _ = await read_everything(session)
    assert_matches_state(portal, GOOD.username, summaries, details, pages=True)


async def test_incremental_listing_across_ticks_with_paging(
    start_portals: Any, pool: BrowserPool
) -> None:
    portal: PortalHandle = start_portals("invisalign", practices=1, cases=40)
    state = portal.admin.state()
    staff = next(
        entry
        for entry in state["logins"]
        if entry["kind"] == "staff" and entry["scenario"] is None and entry["doctor_id"] != "100001"
    )
    visible = set(staff["visible_case_ids"])
    adapter = adapter_for(portal, pool, page_size=7)
    async with opened(adapter, credentials(staff["username"], staff["password"])) as session:
        pages = [page async for page in session.list_cases(None)]
        assert len(pages) == 6 and [len(p.items) for p in pages] == [7, 7, 7, 7, 7, 5]
        assert {s.vendor_case_id for p in pages for s in p.items} == visible
        cursor = pages[-1].resume_cursor
        touched: set[str] = set()
        for _ in range(50):  # a tick changes about 5% of cases: tick until ours are touched
            changed = {c["case_id"] for c in portal.admin.tick(steps=3)["changes"]}
            mine = set(login_of(portal.admin.state(), staff["username"])["visible_case_ids"])
            touched |= changed & mine
            if len(touched) >= 2:
                break
        portal.admin.reset_requests()
        items, resume = await listing(session, cursor)
        requests = portal.admin.requests()["by_endpoint"]["GET /v3/api/patients"]
    assert touched and touched <= {s.vendor_case_id for s in items}
    assert requests < 6  # stopped paging at the watermark
    after = portal.admin.state()
    cases = {c["case_id"]: c for c in after["cases"]}
    for item in items:
        assert item.updated_at == utc(cases[item.vendor_case_id]["updated_at"])
        assert item.vendor_status == cases[item.vendor_case_id]["status"]
    now_visible = login_of(after, staff["username"])["visible_case_ids"]
    assert json.loads(resume)["since"] == max(cases[i]["updated_at"] for i in now_visible)


async def test_the_pages_page_through_the_list_and_stop_at_the_watermark(
    start_portals: Any, pool: BrowserPool
) -> None:
    """The primary path turns the list's pages (20 cards each) and, incrementally, stops once
    the cards are older than the watermark."""
    portal: PortalHandle = start_portals("invisalign", practices=1, cases=30)
    staff = next(
        entry
        for entry in portal.admin.state()["logins"]
        if entry["kind"] == "staff" and entry["scenario"] is None and entry["doctor_id"] != "100001"
    )
    adapter = adapter_for(portal, pool, fast_path=False)
    async with opened(adapter, credentials(staff["username"], staff["password"])) as session:
        first = [page async for page in session.list_cases(None)]
        assert len(first) >= 2  # 30 patients, more cards: more than one page
        assert [s.vendor_case_id for p in first for s in p.items] == staff["visible_case_ids"]
        before = portal.admin.state()
        for _ in range(50):
            changed = {c["case_id"] for c in portal.admin.tick(steps=2)["changes"]}
            if changed & set(staff["visible_case_ids"]):
                break
        after = {c["case_id"]: c for c in portal.admin.state()["cases"]}
        moved = {
            c["case_id"]
            for c in before["cases"]
            if c["case_id"] in staff["visible_case_ids"]
            and after[c["case_id"]]["updated_at"] != c["updated_at"]
        }
        items, _ = await listing(session, first[-1].resume_cursor)
    assert moved and moved <= {i.vendor_case_id for i in items}
    assert len(items) < len(staff["visible_case_ids"])


# Posting ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("fast", PATHS)
async def test_comment_and_modification_request_carry_their_markers(
    fast: bool, portal: PortalHandle, pool: BrowserPool
) -> None:
    state = portal.admin.state()
    visible = login_of(state, GOOD.username)["visible_case_ids"]
    case = next(
        c
        for c in state["cases"]
        if c["case_id"] in visible and c["status"] == "ClinCheck ready for review"
    )
    case_id, plan_id = case["case_id"], case["setups"][-1]["setup_id"]
    comment_marker, reject_marker = "[ref:act_comment0001]", "[ref:act_reject00001]"
    async with opened(adapter_for(portal, pool, fast_path=fast), good()) as session:
        posted = await session.post_comment(case_id, "Please check the midline.", comment_marker)
        assert posted.vendor_id
        assert await session.find_marker(case_id, comment_marker)
        assert not await session.find_marker(case_id, "[ref:act_unknown0001]")
        rejected = await session.reject_setup(
            case_id, plan_id, "Reduce IPR on the lower incisors.", reject_marker
        )
        assert rejected.vendor_id
        assert await session.find_marker(case_id, reject_marker)
        detail = await session.get_case(case_id)
        with pytest.raises(ActionRefused):
            await session.reject_setup(case_id, plan_id, "Again.", "[ref:act_reject00002]")
    assert detail.summary.status is CaseStatus.AWAITING_SETUP
    assert detail.setups[-1].state is SetupState.REJECTED
    assert detail.comments[-1].author_role is AuthorRole.STAFF
    log = [p for p in portal.admin.posted() if p["accepted"]]
    assert [p["kind"] for p in log] == ["comment", "modification_request"]
    assert log[0]["body"] == f"Please check the midline.\n\n{comment_marker}"
    assert log[1]["instructions"].endswith(reject_marker)
    after = next(c for c in portal.admin.state()["cases"] if c["case_id"] == case_id)
    assert after["status"] == "Modification requested"
    assert not [p for p in portal.admin.posted() if p["kind"] == "approve"]


# A changed portal, faults -----------------------------------------------------------------------


async def test_layout_2_is_a_portal_change_not_empty_data(
    portal: PortalHandle, pool: BrowserPool
) -> None:
    adapter = adapter_for(portal, pool)
    async with opened(adapter, good()) as session:
        portal.admin.faults(layout_version=2)
        with pytest.raises(PortalChanged) as caught:
            await listing(session)
        assert caught.value.facts  # names the facts that no longer hold
        assert session.fast is False  # the JSON changed too: the pages were read, and failed
        with pytest.raises(PortalChanged):
            await session.get_case(
                login_of(portal.admin.state(), GOOD.username)["visible_case_ids"][0]
            )
    assert attempts(portal, GOOD.username) == 1


@pytest.mark.parametrize("fast", PATHS)
async def test_listing_is_complete_and_correct_under_faults(
    fast: bool, portal: PortalHandle, pool: BrowserPool
) -> None:
    async with opened(adapter_for(portal, pool, fast_path=fast), good()) as session:
        portal.admin.faults(
            error_rate=0.3,
            rate_limit_rate=0.1,
            retry_after_seconds=0,
            latency_ms=20,
            session_drop_rate=0.05,
            seed=11,
        )
        summaries, details, _ = await read_everything(session)
        portal.admin.clear_faults()
        assert session.logins == 1  # dropped sessions came back through the saved login
    assert_matches_state(portal, GOOD.username, summaries, details, pages=not fast)
    assert attempts(portal, GOOD.username) == 1


async def test_a_page_that_never_finishes_loading_is_unavailable_not_changed(
    portal: PortalHandle, pool: BrowserPool
) -> None:
    """The list's data arrives after the render timeout: a slow portal, retried, then
    `PortalUnavailable`; never a `PortalChanged` that would stop the account."""
    policy = RetryPolicy(2, 10, 0.005, 0.01)
    adapter = adapter_for(portal, pool, fast_path=False, policy=policy, render_timeout=0.5)
    async with opened(adapter, good()) as session:
        portal.admin.faults(response_latency_ms=1500, path_prefixes=["/v3/ui-data/", "/v3/api/"])
        with pytest.raises(PortalUnavailable):
            await listing(session)
        portal.admin.clear_faults()


# Sessions ---------------------------------------------------------------------------------------


async def test_restored_state_needs_no_login_and_expiry_costs_one(
    portal: PortalHandle, pool: BrowserPool
) -> None:
    adapter = adapter_for(portal, pool)
    async with opened(adapter, good()) as session:
        state = await session.export_state()
    cookies = {(c["domain"], c["name"]) for c in json.loads(state.reveal())["cookies"]}
    # The app's cookies on the app host, the saved login on the login host: apart, as in
    # production.
    assert {("127.0.0.1", site.SESSION_COOKIE), ("127.0.0.1", site.CSRF_COOKIE)} <= cookies
    assert ("127.0.0.2", site.SAVED_LOGIN_COOKIE) in cookies
    assert ("127.0.0.1", site.SAVED_LOGIN_COOKIE) not in cookies
    assert attempts(portal, GOOD.username) == 1

    portal.admin.reset_requests()
    async with opened(adapter, good(), state) as session:
        assert session.logins == 0
        assert portal.admin.requests()["by_endpoint"] == {"GET /v3/api/user/profile": 1}
        assert (await session.check_access()).ok
        portal.admin.expire_sessions()
        items, _ = await listing(session)
        assert len(items) == 6
        assert session.logins == 1
        state = await session.export_state()
    assert attempts(portal, GOOD.username) == 2

    async with opened(adapter, good(), state) as session:
        assert session.logins == 0
    assert attempts(portal, GOOD.username) == 2


async def test_a_restored_state_without_the_json_is_checked_at_the_entry_page(
    portal: PortalHandle, pool: BrowserPool
) -> None:
    adapter = adapter_for(portal, pool, fast_path=False)
    async with opened(adapter, good()) as session:
        state = await session.export_state()
    portal.admin.reset_requests()
    async with opened(adapter, good(), state) as session:
        assert session.logins == 0
        assert portal.admin.requests()["by_endpoint"] == {"GET /v3/auth/patients.action": 1}
        items, _ = await listing(session)
    assert len(items) == 6 and attempts(portal, GOOD.username) == 1


async def test_a_session_ended_while_reading_the_pages_is_renewed_once(
    portal: PortalHandle, pool: BrowserPool
) -> None:
    """The app sends the tab to the sign-in page: one new sign-in (the saved login is gone
    too), then the read goes on; never a "changed portal". A second full expiry finds the
    session's one renewal spent: `SessionExpired`, and no third password."""
    adapter = adapter_for(portal, pool, fast_path=False)
    async with opened(adapter, good()) as session:
        items, _ = await listing(session)
        portal.admin.expire_sessions()  # app sessions and saved logins
        detail = await session.get_case(items[0].vendor_case_id)
        again, _ = await listing(session)
        assert session.logins == 2
        portal.admin.expire_sessions()
        with pytest.raises(SessionExpired):
            await listing(session)
    assert detail.summary.vendor_case_id == items[0].vendor_case_id
    assert [i.vendor_case_id for i in again] == [i.vendor_case_id for i in items]
    assert attempts(portal, GOOD.username) == 2


async def test_an_expired_app_session_is_renewed_through_the_saved_login(
    portal: PortalHandle, pool: BrowserPool
) -> None:
    adapter = adapter_for(portal, pool)
    async with opened(adapter, good()) as session:
        exported = json.loads((await session.export_state()).reveal())
    for cookie in exported["cookies"]:
        if cookie["name"] == site.SESSION_COOKIE:
            cookie["value"] = "EXPIRED0000"
    async with opened(adapter, good(), Secret(json.dumps(exported))) as session:
        assert session.logins == 0
        items, _ = await listing(session)
    assert len(items) == 6
    assert attempts(portal, GOOD.username) == 1


# Secrets ----------------------------------------------------------------------------------------


async def test_no_password_in_logs_errors_or_reprs(
    portal: PortalHandle,
    pool: BrowserPool,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = "Mistyped-Password-2026"
    adapter = adapter_for(portal, pool)
    with structlog.testing.capture_logs() as captured:
        with pytest.raises(InvalidCredentials) as caught:
            await adapter.open(
                credentials(GOOD.username, wrong), None, no_code, guard=RecordedSignIns()
            )
        async with opened(adapter, good()) as session:
            await listing(session)
            state = await session.export_state()
            shown = f"{session!r} {adapter!r} {good()!r} {state!r} {state}"
        totp = SCENARIO["totp"]
        async with opened(
            adapter, credentials(totp.username, totp.password, totp.totp_secret)
        ) as session:
            pass
    out = capsys.readouterr()
    text = "\n".join(
        [caplog.text, json.dumps(captured, default=str), out.out, out.err, str(caught.value), shown]
    )
    for secret in (wrong, GOOD.password, totp.password, totp.totp_secret or "-"):
        assert secret not in text
    cookie_values = [c["value"] for c in json.loads(state.reveal())["cookies"]]
    assert not [v for v in cookie_values if len(v) >= 12 and v in text]
    assert captured  # the adapter did log (without secrets)
