"""Saved sessions and expiry against the running sandbox: a restored session makes no login
(checked with one request: My Account on the pages, the account API on the fast path), an
ended one gets exactly one new login, and saved state is never trusted blindly."""

from __future__ import annotations

import json

import pytest

from adapters.base import Adapter, Credentials, PortalSession, RecordedSignIns, no_code
from adapters.base.marker import marker_for
from adapters.clearcorrect import STATUS_TABLE, ClearCorrectAdapter, ClearCorrectSession
from sandbox.common.server import PortalHandle
from tests.adapters.clearcorrect.conftest import (
    IDENTITY,
    PAGES,
    WEBFORMS_API,
    attempts,
    choose,
    collect,
    scenario_credentials,
    visible_cases,
)
from vault import Secret

RESTORED = {
    PAGES: (
        {".ASPXAUTH", "ASP.NET_SessionId"},
        # My Account (the check, kept for check_access), the list and two group postbacks.
        {"GET /account.aspx": 1, "GET /cases.aspx": 1, "POST /cases.aspx": 2},
    ),
    WEBFORMS_API: (
        {".ASPXAUTH", "ASP.NET_SessionId", ".AspNetCore.Antiforgery.Q5hN2ktDqvY"},
        {"GET /api/account": 1, "GET /api/cases": 1},
    ),
    IDENTITY: (
        {".AspNetCore.Identity.Application", ".AspNetCore.Antiforgery.Q5hN2ktDqvY"},
        {"GET /api/account": 1, "GET /api/cases": 1},
    ),
}


@pytest.mark.parametrize("path", [PAGES, WEBFORMS_API, IDENTITY])
async def test_a_restored_session_makes_no_login(
    portal: PortalHandle, adapter: ClearCorrectAdapter, path: str
) -> None:
    choose(portal, path)
    credentials = scenario_credentials("good")
    async with await adapter.open(credentials, None, no_code, guard=RecordedSignIns()) as session:
        assert session.uses_api is (path != PAGES)
        state = await session.export_state()
    saved = json.loads(state.reveal())
    cookies, requests = RESTORED[path]
    assert {c["name"] for c in saved["cookies"]} == cookies
    assert all({"domain", "path", "expires"} <= set(c) for c in saved["cookies"])
    assert attempts(portal, credentials.username) == 1
    portal.admin.reset_requests()
    async with await adapter.open(credentials, state, no_code, guard=RecordedSignIns()) as session:
        assert session.logins == 0
        assert (await session.check_access()).ok  # answered by the restore check itself
        _, items = await collect(session)
        assert len(items) == 5
    assert attempts(portal, credentials.username) == 1
    assert portal.admin.requests()["by_endpoint"] == requests


@pytest.mark.parametrize("path", [WEBFORMS_API, IDENTITY])
async def test_a_run_that_changed_nothing_exports_the_state_it_restored(
    portal: PortalHandle, adapter: ClearCorrectAdapter, path: str
) -> None:
    """The account API hands a new request token cookie with every answer; a saved session
    leaves it out, so a run that read and changed nothing has nothing new to seal. A write on
    such a session asks for a fresh token and lands once."""
    choose(portal, path)
    credentials = scenario_credentials("good")
    async with await adapter.open(credentials, None, no_code, guard=RecordedSignIns()) as session:
        state = await session.export_state()
    async with await adapter.open(credentials, state, no_code, guard=RecordedSignIns()) as session:
        await collect(session)
        assert (await session.export_state()).reveal() == state.reveal()
        number = next(iter(visible_cases(portal.admin.state(), credentials.username)))
        marker = marker_for("act_0123456789abcdef")
        result = await session.post_comment(number, "Bitte IPR 13/14 prüfen.", marker)
        assert session.logins == 0
    posted = [p for p in portal.admin.posted() if p["kind"] == "comment"]
    assert len(posted) == 1 and posted[0]["accepted"]
    assert result.vendor_id == posted[0]["comment_id"]
    assert attempts(portal, credentials.username) == 1


async def test_an_ended_session_gets_exactly_one_new_login(
    portal: PortalHandle, adapter: ClearCorrectAdapter
) -> None:
    credentials = scenario_credentials("good")
    async with await adapter.open(credentials, None, no_code, guard=RecordedSignIns()) as session:
        state = await session.export_state()
    async with await adapter.open(credentials, state, no_code, guard=RecordedSignIns()) as session:
        assert session.logins == 0
        assert portal.admin.expire_sessions(credentials.username) == 1
        _, items = await collect(session)
        assert len(items) == 5
        assert session.logins == 1
        await session.get_case(next(iter(items)))
        assert session.logins == 1
        # The renewed session is what gets saved next.
        renewed = await session.export_state()
    assert attempts(portal, credentials.username) == 2
    async with await adapter.open(
        credentials, renewed, no_code, guard=RecordedSignIns()
    ) as session:
        assert session.logins == 0


async def test_a_saved_session_the_portal_forgot_leads_to_one_login(
    portal: PortalHandle, adapter: ClearCorrectAdapter
) -> None:
    credentials = scenario_credentials("good")
    async with await adapter.open(credentials, None, no_code, guard=RecordedSignIns()) as session:
        state = await session.export_state()
    portal.admin.expire_sessions()
    portal.admin.reset_requests()
    async with await adapter.open(credentials, state, no_code, guard=RecordedSignIns()) as session:
        assert session.logins == 1
    by_endpoint = portal.admin.requests()["by_endpoint"]
    assert by_endpoint["GET /account.aspx"] == 1
    assert by_endpoint["POST /Login.aspx"] == 1


async def test_saved_state_of_another_login_or_unreadable_is_not_used(
    portal: PortalHandle, adapter: ClearCorrectAdapter
) -> None:
    good = scenario_credentials("good")
    async with await adapter.open(good, None, no_code, guard=RecordedSignIns()) as session:
        state = await session.export_state()
    other = scenario_credentials("no_view")
    for saved in (state, Secret("not json"), Secret('{"v": 9}'), Secret('{"v":1,"cookies":3}')):
        portal.admin.reset_requests()
        async with await adapter.open(other, saved, no_code, guard=RecordedSignIns()) as session:
            assert session.logins == 1
        # Not even checked with the portal: the cookies were never put in the jar.
        assert "GET /account.aspx" not in portal.admin.requests()["by_endpoint"]


async def test_session_cookies_never_show_in_reprs(
    portal: PortalHandle, adapter: ClearCorrectAdapter
) -> None:
    credentials = scenario_credentials("good")
    async with await adapter.open(credentials, None, no_code, guard=RecordedSignIns()) as session:
        state = await session.export_state()
        assert repr(session) == f"ClearCorrectSession(username={credentials.username!r})"
    for cookie in json.loads(state.reveal())["cookies"]:
        assert cookie["value"] not in repr(state) + str(state) + repr(session)
    assert "Good#Partner26" not in repr(Credentials(credentials.username, credentials.password))


def _as_portal_session(session: ClearCorrectSession) -> PortalSession:
    return session  # mypy checks the session against the protocol here


def test_the_adapter_implements_the_protocol() -> None:
    adapter: Adapter = ClearCorrectAdapter("https://cc.example/")
    assert adapter.vendor == "clearcorrect"
    assert adapter.status_table is STATUS_TABLE
    assert repr(adapter) == "ClearCorrectAdapter('https://cc.example')"
