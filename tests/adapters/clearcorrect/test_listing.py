"""Listing and reading cases against the running sandbox, compared with its state dump, on the
WebForms pages (in English, German and Polish), on the WebForms site's JSON API and on the
Identity app: full and incremental listings, resuming, a list that changes while it is read,
a changed layout, and faults."""

from __future__ import annotations

import json
from typing import Any

import pytest

from adapters.base import NotFound, PortalChanged, RecordedSignIns, SessionExpired, no_code, utc
from adapters.clearcorrect import ClearCorrectAdapter, ClearCorrectSession
from sandbox.common.server import PortalHandle
from tests.adapters.clearcorrect.conftest import (
    FAST,
    IDENTITY,
    PAGES,
    WEBFORMS_API,
    PortalFactory,
    actual_detail,
    actual_summary,
    choose,
    collect,
    credentials_of,
    expected_detail,
    expected_summary,
    language_of,
    login_of,
    partner_of,
    scenario_credentials,
    set_language,
    unshare,
    visible_cases,
)


def _logins_to_check(state: dict[str, Any]) -> list[str]:
    """The TPS-wide partner (several doctors), one per-practice partner and the scenario one."""
    wide = state["tps_wide_partner"]
    doctors = {c["doctor_id"] for c in visible_cases(state, wide).values()}
    assert len(doctors) >= 2, "the TPS-wide partner should see several doctors' cases"
    generated = sorted(d["doctor_id"] for d in state["doctors"] if d["doctor_id"] != "20417")
    return [wide, partner_of(state, generated[0]), "good.partner@tps-sandbox.example"]


@pytest.mark.parametrize("path", [PAGES, WEBFORMS_API, IDENTITY])
async def test_full_listing_and_details_match_the_portal_state(
    portal: PortalHandle, adapter: ClearCorrectAdapter, path: str
) -> None:
    """Three logins, one per language: the TPS-wide partner (several doctors) reads German
    pages, a per-practice partner Polish ones, the scenario partner English ones."""
    choose(portal, path)
    logins = _logins_to_check(portal.admin.state())
    for username, lang in zip(logins, ("de", "pl", None), strict=True):
        set_language(portal, username, lang)
    state = portal.admin.state()
    for username in logins:
        lang = language_of(state, username)
        credentials = (
            scenario_credentials("good")
            if username.startswith("good.")
            else credentials_of(state, username)
        )
        expected = visible_cases(state, username)
        assert expected
        async with await adapter.open(
            credentials, None, no_code, guard=RecordedSignIns()
        ) as session:
            pages, items = await collect(session)
            assert pages[-1].next_cursor is None and pages[-1].resume_cursor is not None
            assert sum(len(p.items) for p in pages) == len(items)  # no duplicates
            assert session.uses_api is (path != PAGES)
            assert {k: actual_summary(v) for k, v in items.items()} == {
                k: expected_summary(c, username, lang, path) for k, c in expected.items()
            }
            for number, case in expected.items():
                detail = await session.get_case(number)
                assert actual_detail(detail) == expected_detail(
                    case, username, portal.url, lang, path
                )
    # Reading lists, cases and chats never marks anything read, nor changes a language.
    assert not [p for p in portal.admin.posted() if p["kind"] == "mark_read"]
    assert portal.admin.state()["cases"] == state["cases"]
    assert portal.admin.state()["logins"] == state["logins"]


async def test_the_pages_are_read_25_at_a_time_by_postback(start_portals: PortalFactory) -> None:
    portal = start_portals("clearcorrect", practices=1, cases=90, seed=5)
    state = portal.admin.state()
    username = partner_of(state, state["doctors"][1]["doctor_id"])
    adapter = ClearCorrectAdapter(portal.url, policy=FAST)
    async with await adapter.open(
        credentials_of(state, username), None, no_code, guard=RecordedSignIns()
    ) as session:
        portal.admin.reset_requests()
        pages, items = await collect(session)
    assert max(len(p.items) for p in pages) == 25
    assert set(items) == set(login_of(state, username)["visible_case_ids"])
    assert sum(len(p.items) for p in pages) == len(items)
    # One GET of Manage Orders; every other page is a postback (group or pager).
    assert portal.admin.requests()["by_endpoint"] == {
        "GET /cases.aspx": 1,
        "POST /cases.aspx": len(pages) - 1,
    }
    cursors = [json.loads(p.next_cursor) for p in pages[:-1] if p.next_cursor]
    assert {c["g"] for c in cursors} <= {"ActionNeeded", "InProgress", "Closed"}


async def test_a_listing_of_more_than_one_page_uses_the_largest_page_size(
    start_portals: PortalFactory,
) -> None:
    portal = start_portals("clearcorrect", practices=1, cases=230, seed=5)
    choose(portal, IDENTITY)
    state = portal.admin.state()
    username = partner_of(state, state["doctors"][1]["doctor_id"])
    adapter = ClearCorrectAdapter(portal.url, policy=FAST)
    async with await adapter.open(
        credentials_of(state, username), None, no_code, guard=RecordedSignIns()
    ) as session:
        portal.admin.reset_requests()
        pages, items = await collect(session)
    assert [len(p.items) for p in pages] == [100, 100, 30]
    assert set(items) == set(login_of(state, username)["visible_case_ids"])
    assert portal.admin.requests()["by_endpoint"] == {"GET /api/cases": 3}
    cursors = [json.loads(p.next_cursor) for p in pages[:-1] if p.next_cursor]
    assert [c["page"] for c in cursors] == [2, 3]


async def test_incremental_listing_returns_what_the_tick_changed(
    portal: PortalHandle, adapter: ClearCorrectAdapter
) -> None:
    choose(portal, IDENTITY)
    state = portal.admin.state()
    username = state["tps_wide_partner"]
    async with await adapter.open(
        credentials_of(state, username), None, no_code, guard=RecordedSignIns()
    ) as session:
        pages, _ = await collect(session)
        resume = pages[-1].resume_cursor
        assert resume is not None
        assert json.loads(resume)["since"] == max(
            c["updated_at"] for c in visible_cases(state, username).values()
        )
        # Unchanged account: one request, and only the cases at the boundary second come back.
        portal.admin.reset_requests()
        pages, unchanged = await collect(session, resume)
        assert portal.admin.requests()["total"] == 1
        assert pages[-1].resume_cursor == resume
        since = json.loads(resume)["since"]
        assert unchanged and all(i.updated_at == utc(since) for i in unchanged.values())
        touched: set[str] = set()
        for _ in range(20):  # tick until something this login sees has changed
            for change in portal.admin.tick(1)["changes"]:
                if change["kind"] != "case_unshared":
                    touched.add(change["case_id"])
            after = portal.admin.state()
            touched &= set(visible_cases(after, username))
            if touched:
                break
        assert touched
        pages, changed = await collect(session, resume)
        assert touched <= set(changed)
        visible_now = visible_cases(after, username)
        for number, item in changed.items():
            assert actual_summary(item) == expected_summary(visible_now[number], username)
            assert number in touched or number in unchanged  # nothing else
        # And the next incremental listing starts at the newest change it saw.
        assert json.loads(pages[-1].resume_cursor or "{}")["since"] == max(
            c["updated_at"] for c in visible_now.values()
        )


async def test_an_incremental_listing_of_the_pages_stops_at_the_watermark(
    start_portals: PortalFactory,
) -> None:
    portal = start_portals("clearcorrect", practices=1, cases=90, seed=5)
    adapter = ClearCorrectAdapter(portal.url, policy=FAST)
    state = portal.admin.state()
    username = partner_of(state, state["doctors"][1]["doctor_id"])
    async with await adapter.open(
        credentials_of(state, username), None, no_code, guard=RecordedSignIns()
    ) as session:
        pages, everything = await collect(session)
        resume = pages[-1].resume_cursor
        assert resume is not None
        touched: set[str] = set()
        for _ in range(20):
            for change in portal.admin.tick(1)["changes"]:
                if change["kind"] != "case_unshared":
                    touched.add(change["case_id"])
            after = portal.admin.state()
            touched &= set(visible_cases(after, username))
            if touched:
                break
        assert touched
        portal.admin.reset_requests()
        pages, changed = await collect(session, resume)
        requests = portal.admin.requests()["total"]
        portal.admin.reset_requests()
        await collect(session)
        full = portal.admin.requests()["total"]
    assert touched <= set(changed)
    visible_now = visible_cases(after, username)
    lang = language_of(after, username)
    for number, item in changed.items():
        assert actual_summary(item) == expected_summary(visible_now[number], username, lang)
    assert len(changed) < len(everything) and requests < full  # older pages were not read
    assert json.loads(pages[-1].resume_cursor or "{}")["since"] >= json.loads(resume)["since"]


async def test_a_case_unshared_during_the_listing_restarts_it_and_none_is_missed(
    start_portals: PortalFactory,
) -> None:
    portal = start_portals("clearcorrect", practices=1, cases=150, seed=5)
    choose(portal, IDENTITY)
    state = portal.admin.state()
    doctor_id = state["doctors"][1]["doctor_id"]
    username = partner_of(state, doctor_id)
    doctor = next(d for d in state["logins"] if d["doctor_id"] == doctor_id)
    adapter = ClearCorrectAdapter(portal.url, policy=FAST)
    async with await adapter.open(
        credentials_of(state, username), None, no_code, guard=RecordedSignIns()
    ) as session:
        listing = session.list_cases(None)
        first = await anext(listing)
        assert len(first.items) == 100 and first.next_cursor is not None
        # The doctor unshares a case the listing has already passed: every later case moves up
        # one place, so page 2 alone would skip the case that was first on it.
        gone = first.items[10].vendor_case_id
        await unshare(portal, credentials_of(state, doctor["username"]), gone, username)
        rest = [page async for page in listing]
    seen = {i.vendor_case_id for p in [first, *rest] for i in p.items}
    after = set(login_of(portal.admin.state(), username)["visible_case_ids"])
    assert len(after) == 149
    assert after <= seen  # every case still shared was listed
    assert portal.admin.requests()["by_endpoint"]["GET /api/cases"] == 4  # 2 + restart 2


@pytest.mark.parametrize("path", [PAGES, IDENTITY])
async def test_resuming_from_a_page_cursor_finishes_the_listing(
    start_portals: PortalFactory, path: str
) -> None:
    portal = start_portals("clearcorrect", practices=1, cases=150, seed=5)
    choose(portal, path)
    state = portal.admin.state()
    username = partner_of(state, state["doctors"][1]["doctor_id"])
    adapter = ClearCorrectAdapter(portal.url, policy=FAST)
    credentials = credentials_of(state, username)
    async with await adapter.open(credentials, None, no_code, guard=RecordedSignIns()) as session:
        first = await anext(session.list_cases(None))
        saved = await session.export_state()
    async with await adapter.open(credentials, saved, no_code, guard=RecordedSignIns()) as session:
        assert session.logins == 0
        pages, rest = await collect(session, first.next_cursor)
    seen = {i.vendor_case_id for i in first.items} | set(rest)
    assert seen == set(login_of(state, username)["visible_case_ids"])
    assert pages[-1].resume_cursor is not None


async def test_a_changed_page_layout_is_portal_changed_naming_the_facts(
    portal: PortalHandle, adapter: ClearCorrectAdapter
) -> None:
    credentials = scenario_credentials("good")
    async with await adapter.open(credentials, None, no_code, guard=RecordedSignIns()) as session:
        portal.admin.faults(layout_version=2)
        with pytest.raises(PortalChanged) as listing:
            await collect(session)
        assert listing.value.facts == ("cc.wf.list.grid",)
        number = next(iter(visible_cases(portal.admin.state(), credentials.username)))
        with pytest.raises(PortalChanged) as case:
            await session.get_case(number)
        assert case.value.facts == ("cc.wf.case.notes-grid",)


async def test_a_changed_layout_is_portal_changed_not_an_empty_listing(
    portal: PortalHandle, adapter: ClearCorrectAdapter
) -> None:
    choose(portal, IDENTITY)
    credentials = scenario_credentials("good")
    async with await adapter.open(credentials, None, no_code, guard=RecordedSignIns()) as session:
        saved = await session.export_state()
        portal.admin.faults(layout_version=2)
        with pytest.raises(PortalChanged, match="items"):
            await collect(session)
        with pytest.raises(PortalChanged, match="userType"):
            await session.check_access()
        number = visible_cases(portal.admin.state(), credentials.username)
        with pytest.raises(PortalChanged, match="caseNumber"):
            await session.get_case(next(iter(number)))
    with pytest.raises(PortalChanged):  # a saved session is checked with the same strictness
        await adapter.open(credentials, saved, no_code, guard=RecordedSignIns())


async def test_unknown_and_unshared_cases_are_not_found(
    portal: PortalHandle, adapter: ClearCorrectAdapter
) -> None:
    state = portal.admin.state()
    good = "good.partner@tps-sandbox.example"
    elsewhere = next(
        c["case_id"] for c in state["cases"] if c["case_id"] not in visible_cases(state, good)
    )
    async with await adapter.open(
        scenario_credentials("good"), None, no_code, guard=RecordedSignIns()
    ) as session:
        for number in ("999999", elsewhere, "../account"):
            with pytest.raises(NotFound):
                await session.get_case(number)


@pytest.mark.parametrize("path", [PAGES, IDENTITY])
async def test_with_faults_on_a_full_listing_is_complete_and_correct(
    portal: PortalHandle, path: str
) -> None:
    """30% server errors, 10% 429 (Retry-After: 0), 20 ms latency and 5% dropped sessions on
    the pages or the API. Every page, navigating postback and case read is retried under the
    policy, every dropped session gets one new login, and what comes out equals the portal's
    state.

    The login pages are left out of the error faults: a login post answered 5xx is
    `OutcomeUnknown` by rule (never resent), which would end the run rather than test the
    listing; `test_one_open_never_makes_two_attempts_even_with_faults` covers that side.
    """
    choose(portal, path)
    state = portal.admin.state()
    username = state["tps_wide_partner"]
    expected = visible_cases(state, username)
    adapter = ClearCorrectAdapter(portal.url, policy=FAST)
    session: ClearCorrectSession = await adapter.open(
        credentials_of(state, username), None, no_code, guard=RecordedSignIns()
    )
    prefixes = ["/api/"] if path == IDENTITY else ["/cases.aspx", "/detail/", "/account.aspx"]
    portal.admin.faults(
        error_rate=0.3,
        rate_limit_rate=0.1,
        retry_after_seconds=0,
        latency_ms=20,
        session_drop_rate=0.05,
        path_prefixes=prefixes,
        seed=9,
    )
    items: dict[str, Any] = {}
    details: dict[str, Any] = {}
    cursor: str | None = None
    listed = False
    sessions_ended = 0
    try:
        while True:  # what the sync engine does after SessionExpired: resume from the cursor
            try:
                if not listed:
                    async for page in session.list_cases(cursor):
                        items.update({i.vendor_case_id: i for i in page.items})
                        cursor = page.next_cursor
                    listed = True
                for number in expected:
                    if number not in details:
                        details[number] = await session.get_case(number)
                break
            except SessionExpired:
                sessions_ended += 1
                assert sessions_ended <= 3
    finally:
        await session.close()
    requests = portal.admin.requests()
    portal.admin.clear_faults()
    assert {k: actual_summary(v) for k, v in items.items()} == {
        k: expected_summary(c, username, "en", path) for k, c in expected.items()
    }
    for number, case in expected.items():
        assert actual_detail(details[number]) == expected_detail(
            case, username, portal.url, "en", path
        )
    assert session.logins >= 1
    reads = sum(v for k, v in requests["by_endpoint"].items() if "Login" not in k)
    setups = sum(len(c["setups"]) for c in expected.values())
    assert reads < 10 * (4 + 2 * len(expected) + setups)  # bounded: max_attempts each
