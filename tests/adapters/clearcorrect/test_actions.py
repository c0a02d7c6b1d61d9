"""Outbound actions against the running sandbox, on the pages (Add Note, Decline) and on the
JSON fast path: a comment and a setup decline land once with their marker, `find_marker` sees
them, a lost answer is `OutcomeUnknown` and never resent, and the portal's refusals are typed."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from adapters.base import (
    ActionRefused,
    NotFound,
    OutcomeUnknown,
    RecordedSignIns,
    marker_for,
    no_code,
)
from adapters.clearcorrect import ClearCorrectAdapter, ClearCorrectSession
from sandbox.common.server import PortalHandle
from tests.adapters.clearcorrect.conftest import (
    FAST,
    IDENTITY,
    PAGES,
    choose,
    credentials_of,
    login_of,
    scenario_credentials,
    visible_cases,
)

GOOD = "good.partner@tps-sandbox.example"


def _case(state: dict[str, Any], case_id: str) -> dict[str, Any]:
    found: dict[str, Any] = next(c for c in state["cases"] if c["case_id"] == case_id)
    return found


def _awaiting(state: dict[str, Any], username: str, doctor_id: str | None = None) -> dict[str, Any]:
    """A visible case in Evaluating Treatment Setup whose latest setup awaits approval."""
    for case in visible_cases(state, username).values():
        if (
            case["status"] == "Evaluating Treatment Setup"
            and case["setups"]
            and case["setups"][-1]["state"] == "Awaiting approval"
            and (doctor_id is None or case["doctor_id"] == doctor_id)
        ):
            return case
    raise LookupError("no case awaiting a setup decision")


BOTH = pytest.mark.parametrize("path", [PAGES, IDENTITY])


@BOTH
async def test_post_comment_lands_once_with_its_marker(
    portal: PortalHandle, adapter: ClearCorrectAdapter, path: str
) -> None:
    choose(portal, path)
    state = portal.admin.state()
    number = next(iter(visible_cases(state, GOOD)))
    marker = marker_for("act_0123456789abcdef")
    async with await adapter.open(
        scenario_credentials("good"), None, no_code, guard=RecordedSignIns()
    ) as session:
        assert not await session.find_marker(number, marker)
        result = await session.post_comment(number, "Please check the IPR on 13/14.", marker)
        assert await session.find_marker(number, marker)
        assert not await session.find_marker(number, marker_for("act_fedcba9876543210"))
        detail = await session.get_case(number)
    posted = [p for p in portal.admin.posted() if p["kind"] == "comment"]
    assert len(posted) == 1 and posted[0]["accepted"]
    assert posted[0]["body"] == f"Please check the IPR on 13/14.\n\n{marker}"
    assert result.vendor_id == posted[0]["comment_id"] and not result.already_present
    mine = [c for c in detail.comments if c.vendor_comment_id == result.vendor_id]
    assert mine and not mine[0].unread  # the author's own message is read for the author
    assert not [p for p in portal.admin.posted() if p["kind"] == "mark_read"]


@BOTH
async def test_reject_setup_declines_it_and_the_case_awaits_a_new_setup(
    portal: PortalHandle, adapter: ClearCorrectAdapter, path: str
) -> None:
    choose(portal, path)
    state = portal.admin.state()
    case = _awaiting(state, GOOD)
    setup_id = case["setups"][-1]["setup_id"]
    marker = marker_for("act_00000000deadbeef")
    async with await adapter.open(
        scenario_credentials("good"), None, no_code, guard=RecordedSignIns()
    ) as session:
        result = await session.reject_setup(
            case["case_id"], setup_id, "Upper midline is 2 mm off.", marker
        )
        assert result.vendor_id == setup_id
        assert await session.find_marker(case["case_id"], marker)
        detail = await session.get_case(case["case_id"])
        # A second decline of the same setup is refused (by the page's state, or the API's
        # 409), never doubled.
        with pytest.raises(ActionRefused, match="declined"):
            await session.reject_setup(case["case_id"], setup_id, "again", marker)
    after = _case(portal.admin.state(), case["case_id"])
    assert after["status"] == "Awaiting Setup"
    assert after["setups"][-1]["state"] == "Declined"
    assert after["setups"][-1]["decline_reason"] == f"Upper midline is 2 mm off.\n\n{marker}"
    assert detail.summary.vendor_status == "Awaiting Setup"
    declines = [p for p in portal.admin.posted() if p["kind"] == "decline"]
    assert [d["accepted"] for d in declines] == ([True] if path == PAGES else [True, False])
    assert marker in declines[0]["reason"]
    assert not [p for p in portal.admin.posted() if p["kind"] == "approve"]


@BOTH
async def test_reject_without_reject_setups_from_that_doctor_is_refused(
    portal: PortalHandle, adapter: ClearCorrectAdapter, path: str
) -> None:
    choose(portal, path)
    state = portal.admin.state()
    wide = state["tps_wide_partner"]
    view_only = [
        doctor
        for doctor, granted in login_of(state, wide)["permissions"].items()
        if "reject_setups" not in granted
    ]
    assert view_only, "practice 3 grants the TPS-wide partner View only"
    for _ in range(100):  # until one of that doctor's cases awaits a decision
        try:
            case = _awaiting(state, wide, view_only[0])
            break
        except LookupError:
            portal.admin.tick(1)
            state = portal.admin.state()
    setup_id = case["setups"][-1]["setup_id"]
    async with await adapter.open(
        credentials_of(state, wide), None, no_code, guard=RecordedSignIns()
    ) as session:
        access = await session.check_access()
        assert access.ok and "reject_setup" in access.capabilities  # from another doctor
        with pytest.raises(ActionRefused, match="Decline Treatment Setups"):
            await session.reject_setup(case["case_id"], setup_id, "No.", marker_for("act_12345678"))
    assert portal.admin.state()["cases"] == state["cases"]


@BOTH
async def test_refusals_before_posting_and_not_found(
    portal: PortalHandle, adapter: ClearCorrectAdapter, path: str
) -> None:
    choose(portal, path)
    state = portal.admin.state()
    number = next(iter(visible_cases(state, GOOD)))
    marker = marker_for("act_12345678")
    async with await adapter.open(
        scenario_credentials("good"), None, no_code, guard=RecordedSignIns()
    ) as session:
        with pytest.raises(ActionRefused):
            await session.post_comment(number, "x" * 4000, marker)
        with pytest.raises(ActionRefused):
            await session.post_comment(number, "   ", marker)
        with pytest.raises(ActionRefused):
            await session.reject_setup(number, "7100001", "y" * 2000, marker)
        with pytest.raises(NotFound):
            await session.post_comment("999999", "Hello", marker)
        with pytest.raises(NotFound):
            await session.find_marker("999999", marker)
    # Nothing was posted; the API's handler saw (and refused) the post to an unknown case.
    assert [p["accepted"] for p in portal.admin.posted()] == ([] if path == PAGES else [False])


class _LosingTransport(httpx.AsyncHTTPTransport):
    """Delivers every request, but loses the answers to postbacks of the case page."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await super().handle_async_request(request)
        if request.method == "POST" and request.url.path == "/detail/case.aspx":
            await response.aclose()
            raise httpx.ReadTimeout("the answer was lost", request=request)
        return response


async def test_a_lost_answer_to_add_note_is_outcome_unknown_and_its_marker_is_found(
    portal: PortalHandle,
) -> None:
    number = next(iter(visible_cases(portal.admin.state(), GOOD)))
    marker = marker_for("act_5555333322221111")
    adapter = ClearCorrectAdapter(portal.url, policy=FAST, transport=_LosingTransport())
    async with await adapter.open(
        scenario_credentials("good"), None, no_code, guard=RecordedSignIns()
    ) as session:
        portal.admin.reset_requests()
        with pytest.raises(OutcomeUnknown):
            await session.post_comment(number, "Hello", marker)
        assert portal.admin.requests()["by_endpoint"]["POST /detail/case.aspx"] == 1
        assert await session.find_marker(number, marker)  # it landed: the caller posts no more
    assert len([p for p in portal.admin.posted() if p["kind"] == "comment"]) == 1


async def test_a_lost_answer_to_a_post_is_outcome_unknown_and_not_resent(
    portal: PortalHandle, adapter: ClearCorrectAdapter
) -> None:
    choose(portal, IDENTITY)
    state = portal.admin.state()
    number = next(iter(visible_cases(state, GOOD)))
    marker = marker_for("act_4444333322221111")
    session: ClearCorrectSession = await adapter.open(
        scenario_credentials("good"), None, no_code, guard=RecordedSignIns()
    )
    async with session:
        await session.check_access()  # the request token is at hand before the faults
        portal.admin.faults(error_rate=1.0, path_prefixes=["/api/cases"])
        portal.admin.reset_requests()
        with pytest.raises(OutcomeUnknown):
            await session.post_comment(number, "Hello", marker)
        assert portal.admin.requests()["by_endpoint"] == {"POST /api/cases/{id}/comments": 1}
        portal.admin.clear_faults()
        assert not await session.find_marker(number, marker)  # so the caller may post again


def test_there_is_no_approve_anywhere() -> None:
    names = dir(ClearCorrectSession) + dir(ClearCorrectAdapter)
    assert not [n for n in names if "approve" in n.lower()]
