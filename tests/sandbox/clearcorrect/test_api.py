"""The JSON API an adapter uses: listing, case detail, chat, decline/approve, shares."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from sandbox.clearcorrect.scenarios import SCENARIO_DOCTOR_ID, scenario
from sandbox.common.server import PortalHandle
from tests.sandbox.clearcorrect.portal_client import PortalClient, login_of

GROUPS = ("ActionNeeded", "InProgress", "Closed")


def _case_in(client: PortalClient, status: str) -> dict[str, Any]:
    for item in client.cases(pageSize=100)["items"]:
        if item["status"] == status:
            found: dict[str, Any] = item
            return found
    raise AssertionError(f"no case in {status}")


def test_good_login_lists_opens_and_comments(good: PortalClient, portal: PortalHandle) -> None:
    listing = good.cases()
    assert listing["totalCount"] == 5
    assert listing["page"] == 1
    item = listing["items"][0]
    assert set(item) >= {
        "caseNumber",
        "patientName",
        "doctorId",
        "doctorName",
        "status",
        "updatedAt",
        "unreadComments",
    }
    assert item["doctorId"] == SCENARIO_DOCTOR_ID
    updated = [i["updatedAt"] for i in listing["items"]]
    assert updated == sorted(updated, reverse=True)
    detail = good.get(f"/api/cases/{item['caseNumber']}").json()
    assert detail["statusHistory"][-1]["status"] == detail["status"]
    assert detail["permissions"] == ["View", "RejectSetups"]
    assert detail["canApprove"] is False
    evaluating = _case_in(good, "Evaluating Treatment Setup")
    setups = good.get(f"/api/cases/{evaluating['caseNumber']}").json()["setups"]
    assert setups[-1]["state"] == "Awaiting approval"
    assert {f["kind"] for f in setups[-1]["files"]} >= {"model", "report"}
    assert setups[-1]["viewerUrl"].endswith("/Viewer")
    assert good.http.get(setups[-1]["viewerUrl"]).status_code == 200
    body = "Please check the lower midline. [ref:abc123]"
    posted = good.post(f"/api/cases/{item['caseNumber']}/comments", {"body": body})
    assert posted.status_code == 201
    assert posted.json()["authorRole"] == "Partner"
    comments = good.get(f"/api/cases/{item['caseNumber']}/comments").json()["items"]
    assert comments[-1]["body"] == body
    assert comments[-1]["unread"] is False
    record = portal.admin.posted()[-1]
    assert record["kind"] == "comment"
    assert record["body"] == body
    assert record["case_id"] == item["caseNumber"]
    assert record["user"] == scenario("good").username


def test_groups_updated_since_and_paging(good: PortalClient) -> None:
    everything = good.all_case_numbers()
    by_group = {g: good.all_case_numbers(group=g) for g in GROUPS}
    assert sorted(n for numbers in by_group.values() for n in numbers) == sorted(everything)
    for group in GROUPS:
        for item in good.cases(group=group)["items"]:
            assert item["group"] == group
            assert item["actionRequired"] == (group == "ActionNeeded")
    assert good.cases(group="actionneeded")["totalCount"] == len(by_group["ActionNeeded"])
    items = good.cases(pageSize=100)["items"]
    middle = sorted(i["updatedAt"] for i in items)[2]
    recent = good.cases(updatedSince=middle)["items"]
    assert {i["caseNumber"] for i in recent} == {
        i["caseNumber"] for i in items if i["updatedAt"] >= middle
    }
    pages = [good.cases(page=p, pageSize=2) for p in (1, 2, 3, 4)]
    assert [p["totalPages"] for p in pages] == [3, 3, 3, 3]
    paged = [i["caseNumber"] for p in pages for i in p["items"]]
    assert paged == [i["caseNumber"] for i in items]
    assert pages[3]["items"] == []


_BAD_INT = st.one_of(
    st.integers(max_value=0).map(str),
    st.text(st.characters(codec="ascii"), min_size=1, max_size=8).filter(lambda s: not s.isdigit()),
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    name=st.sampled_from(["page", "pageSize", "updatedSince", "group"]),
    value=st.one_of(
        _BAD_INT,
        st.sampled_from(["101", "0", "-1", "yesterday", "2026-13-01", "Open", "1e3", "9" * 12]),
    ),
)
def test_bad_query_parameters_get_a_clear_400(good: PortalClient, name: str, value: str) -> None:
    assume(not _acceptable(name, value))
    response = good.http.get("/api/cases", params={name: value})
    assert response.status_code == 400, (name, value)
    problem = response.json()
    assert problem["status"] == 400
    assert list(problem["errors"]) == [name]


def _acceptable(name: str, value: str) -> bool:
    """The portal's rules, restated: which values a parameter accepts."""
    number = value.isascii() and value.isdigit() and len(value) <= 9
    if name == "page":
        return number and 1 <= int(value) <= 1_000_000
    if name == "pageSize":
        return number and 1 <= int(value) <= 100
    if name == "group":
        return value.lower() in {g.lower() for g in GROUPS}
    return _is_time(value)


def _is_time(value: str) -> bool:
    try:
        datetime.fromisoformat(value.strip())
    except ValueError:
        return False
    return True


def test_bad_input_changes_nothing(good: PortalClient, portal: PortalHandle) -> None:
    before = portal.admin.state()
    number = _case_in(good, "Evaluating Treatment Setup")["caseNumber"]
    setup_id = good.get(f"/api/cases/{number}").json()["setups"][-1]["setupId"]
    assert good.post(f"/api/cases/{number}/comments", {"body": "   "}).status_code == 400
    assert good.post(f"/api/cases/{number}/comments", {"body": "x" * 4001}).status_code == 400
    assert good.post(f"/api/cases/{number}/comments", {"text": "hi"}).status_code == 400
    decline = f"/api/cases/{number}/setups/{setup_id}/decline"
    assert good.post(decline, {"reason": ""}).status_code == 400
    bad_json = good.http.post(
        decline, content=b"{not json", headers={"RequestVerificationToken": good.api_token or ""}
    )
    assert bad_json.status_code == 400
    assert good.post("/api/cases/000000/comments", {"body": "hi"}).status_code == 404
    assert portal.admin.state() == before
    assert all(not p["accepted"] for p in portal.admin.posted())


def test_reading_comments_never_marks_them_read(good: PortalClient) -> None:
    unread = [i for i in good.cases(pageSize=100)["items"] if i["unreadComments"] > 0]
    assert unread, "the scenario practice has unread chat"
    number = unread[0]["caseNumber"]
    for _ in range(2):
        comments = good.get(f"/api/cases/{number}/comments").json()
        good.get(f"/api/cases/{number}")
        good.http.get(f"/Cases/{number}")
    assert comments["unreadComments"] == unread[0]["unreadComments"]
    assert good.cases(pageSize=100)["items"] == good.cases(pageSize=100)["items"]
    first_unread = next(c for c in comments["items"] if c["unread"])
    marked = good.post(
        f"/api/cases/{number}/comments/mark-read", {"commentIds": [first_unread["commentId"]]}
    ).json()
    assert marked == {"marked": 1, "unreadComments": comments["unreadComments"] - 1}
    good.post(f"/api/cases/{number}/comments/mark-read")
    assert good.get(f"/api/cases/{number}").json()["unreadComments"] == 0


def test_unread_state_is_per_viewer(
    good: PortalClient, client_for: Callable[..., PortalClient]
) -> None:
    doctor = scenario("excess")
    doctor_client = client_for(doctor.username, doctor.password)
    number = good.cases()["items"][0]["caseNumber"]
    good.post(f"/api/cases/{number}/comments", {"body": "From the TPS"})
    doctor_view = doctor_client.get(f"/api/cases/{number}/comments").json()
    assert doctor_view["items"][-1]["unread"] is True
    assert good.get(f"/api/cases/{number}/comments").json()["items"][-1]["unread"] is False


def test_approval_is_refused_for_partners_and_allowed_for_the_doctor(
    good: PortalClient, portal: PortalHandle, client_for: Callable[..., PortalClient]
) -> None:
    number = _case_in(good, "Evaluating Treatment Setup")["caseNumber"]
    setup_id = good.get(f"/api/cases/{number}").json()["setups"][-1]["setupId"]
    refused = good.post(f"/api/cases/{number}/setups/{setup_id}/approve")
    assert refused.status_code == 403
    assert "Only the primary doctor" in refused.json()["detail"]
    attempt = portal.admin.posted()[-1]
    assert (attempt["kind"], attempt["accepted"], attempt["setup_id"]) == (
        "approve",
        False,
        setup_id,
    )
    assert good.get(f"/api/cases/{number}").json()["status"] == "Evaluating Treatment Setup"
    doctor = client_for(scenario("excess").username, scenario("excess").password)
    approved = doctor.post(f"/api/cases/{number}/setups/{setup_id}/approve")
    assert approved.status_code == 200
    assert approved.json()["status"] == "Approved"
    assert approved.json()["setup"]["state"] == "Approved"


def test_decline_goes_to_awaiting_setup_and_a_tick_brings_a_new_setup(
    good: PortalClient, portal: PortalHandle
) -> None:
    number = _case_in(good, "Evaluating Treatment Setup")["caseNumber"]
    before = good.get(f"/api/cases/{number}").json()["setups"]
    setup_id = before[-1]["setupId"]
    reason = "Please reduce IPR on the lower anteriors. [ref:9f2]"
    declined = good.post(f"/api/cases/{number}/setups/{setup_id}/decline", {"reason": reason})
    assert declined.status_code == 200
    detail = good.get(f"/api/cases/{number}").json()
    assert detail["status"] == "Awaiting Setup"
    assert detail["group"] == "InProgress"
    assert detail["setups"][-1]["state"] == "Declined"
    assert detail["setups"][-1]["declineReason"] == reason
    again = good.post(f"/api/cases/{number}/setups/{setup_id}/decline", {"reason": reason})
    assert again.status_code == 409
    record = [p for p in portal.admin.posted() if p["kind"] == "decline"]
    assert [(r["reason"], r["setup_id"], r["accepted"]) for r in record] == [
        (reason, setup_id, True),
        (reason, setup_id, False),
    ]
    tick = portal.admin.tick(1)
    mine = [c for c in tick["changes"] if c["case_id"] == number]
    assert [c["kind"] for c in mine][:3] == ["setup_added", "status_changed", "comment_added"]
    after = good.get(f"/api/cases/{number}").json()
    assert after["status"] == "Evaluating Treatment Setup"
    assert after["setups"][-1]["version"] == before[-1]["version"] + 1
    assert after["setups"][-1]["state"] == "Awaiting approval"
    assert after["unreadComments"] >= 1


def test_the_doctor_can_reinstate_a_declined_setup(
    good: PortalClient, portal: PortalHandle, client_for: Callable[..., PortalClient]
) -> None:
    number = _case_in(good, "Evaluating Treatment Setup")["caseNumber"]
    setup_id = good.get(f"/api/cases/{number}").json()["setups"][-1]["setupId"]
    good.post(f"/api/cases/{number}/setups/{setup_id}/decline", {"reason": "Too much IPR"})
    reinstate = f"/api/cases/{number}/setups/{setup_id}/reinstate"
    assert good.post(reinstate).status_code == 403
    doctor = client_for(scenario("excess").username, scenario("excess").password)
    restored = doctor.post(reinstate)
    assert restored.status_code == 200
    assert restored.json()["status"] == "Evaluating Treatment Setup"
    assert restored.json()["setup"]["state"] == "Awaiting approval"
    portal.admin.tick(1)  # the technician no longer owes a new version
    setups = good.get(f"/api/cases/{number}").json()["setups"]
    assert setups[-1]["setupId"] == setup_id


def test_tps_wide_partner_sees_several_doctors_with_per_doctor_rights(
    portal: PortalHandle, client_for: Callable[..., PortalClient]
) -> None:
    state = portal.admin.state()
    wide = login_of(state, state["tps_wide_partner"])
    client = client_for(wide["username"], wide["password"])
    account = client.http.get("/api/account").json()
    rights = {p["doctorId"]: p["permissions"] for p in account["partnerships"]}
    assert len(rights) == 2  # practices 0 and 3 of six
    assert all(r[0] == "View" for r in rights.values())
    assert any("RejectSetups" not in r for r in rights.values())
    items = client.cases(pageSize=100)["items"]
    assert len({i["doctorId"] for i in items}) == 2
    assert sorted(i["caseNumber"] for i in items) == wide["visible_case_ids"]
    names = {d["doctor_id"]: d["name"] for d in state["doctors"]}
    assert all(i["doctorName"] == names[i["doctorId"]] for i in items)
    view_only = next(d for d, r in rights.items() if "RejectSetups" not in r)
    case = next(
        c for c in state["cases"] if c["doctor_id"] == view_only and c["setups"]
        and c["case_id"] in wide["visible_case_ids"]
    )  # fmt: skip
    setup_id = case["setups"][-1]["setup_id"]
    decline = f"/api/cases/{case['case_id']}/setups/{setup_id}/decline"
    refused = client.post(decline, {"reason": "Not allowed for this doctor"})
    assert refused.status_code == 403
    assert "permission" in refused.json()["detail"]


def test_cases_not_shared_are_404(good: PortalClient, portal: PortalHandle) -> None:
    state = portal.admin.state()
    hidden = next(c for c in state["cases"] if c["doctor_id"] != SCENARIO_DOCTOR_ID)
    assert good.get(f"/api/cases/{hidden['case_id']}").status_code == 404
    assert good.http.get(f"/Cases/{hidden['case_id']}").status_code == 404


def test_sharing_needs_patient_consent(
    portal: PortalHandle, client_for: Callable[..., PortalClient]
) -> None:
    doctor = client_for(scenario("excess").username, scenario("excess").password)
    good = client_for(scenario("good").username, scenario("good").password)
    number = good.cases()["items"][0]["caseNumber"]
    partner = scenario("good").username
    unshared = doctor.http.delete(
        f"/api/cases/{number}/shares/{partner}",
        headers={"RequestVerificationToken": doctor.api_token or ""},
    )
    assert unshared.status_code == 204
    assert good.get(f"/api/cases/{number}").status_code == 404
    share = f"/api/cases/{number}/shares"
    no_consent = doctor.post(share, {"partnerEmail": partner, "patientConsent": False})
    assert no_consent.status_code == 400
    assert "consent" in no_consent.json()["detail"]
    assert good.get(f"/api/cases/{number}").status_code == 404
    assert good.post(share, {"partnerEmail": partner, "patientConsent": True}).status_code == 404
    visible = good.cases()["items"][0]["caseNumber"]
    by_partner = good.post(
        f"/api/cases/{visible}/shares", {"partnerEmail": partner, "patientConsent": True}
    )
    assert by_partner.status_code == 403  # only the primary doctor shares
    shared = doctor.post(share, {"partnerEmail": partner, "patientConsent": True})
    assert shared.status_code == 201
    assert good.get(f"/api/cases/{number}").status_code == 200


def test_layout_2_renames_json_fields(good: PortalClient, portal: PortalHandle) -> None:
    portal.admin.faults(layout_version=2)
    listing = good.get("/api/cases").json()
    assert "items" not in listing
    item = listing["results"][0]
    assert "caseNumber" not in item
    assert {"caseId", "patient", "providerId", "providerName", "unreadCount"} <= set(item)
    page = good.http.get("/Cases", params={"group": "InProgress"}).text
    assert 'id="case-list"' in page
    assert "data-case-id=" in page
    assert 'id="cases-table"' not in page
    assert portal.admin.state()["layout_version"] == 2
