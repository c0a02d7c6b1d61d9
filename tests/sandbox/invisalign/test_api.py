"""The JSON API over plain HTTP: CSRF, rights, posting, the status flow, layout 2 and faults."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from sandbox.common.config import SandboxConfig
from sandbox.common.server import PortalHandle, serve
from sandbox.invisalign import create_app
from tests.sandbox.invisalign.conftest import scenario
from tests.sandbox.invisalign.ids_client import IdsClient

GOOD = scenario("good")


def case_in(state: dict[str, Any], case_id: str) -> dict[str, Any]:
    found: dict[str, Any] = next(c for c in state["cases"] if c["case_id"] == case_id)
    return found


def ready_case(client: IdsClient) -> tuple[str, str]:
    """A patient of the scenario practice whose current ClinCheck plan waits for review."""
    listing = client.api_get("/v3/api/patients", filter="ACTION_REQUIRED").json()
    for item in listing["patients"]:
        if item["trackerStatus"] == "ClinCheck ready for review":
            detail = client.api_get(f"/v3/api/patients/{item['patientId']}").json()
            plan = detail["clinCheckPlans"][-1]
            assert plan["reviewable"]
            return item["patientId"], plan["planId"]
    raise AssertionError("no case waits for review")


def test_json_needs_the_session_and_the_csrf_header(
    portal: PortalHandle, client_for: Callable[[str], IdsClient]
) -> None:
    client = client_for("good")
    assert client.http.get("/v3/api/patients").status_code == 403
    wrong = client.http.get("/v3/api/patients", headers={"X-CSRF-TOKEN": "guess"})
    assert wrong.status_code == 403
    assert wrong.json()["error"] == "invalid_csrf_token"
    with httpx.Client(base_url=portal.url) as stranger:  # the header alone is not enough
        response = stranger.get("/v3/api/patients", headers={"X-CSRF-TOKEN": client.csrf})
        assert response.status_code == 401
    assert client.api_get("/v3/api/patients").status_code == 200


def test_the_list_is_sorted_by_last_activity_and_pages(
    portal: PortalHandle, client_for: Callable[[str], IdsClient]
) -> None:
    client = client_for("good")
    state = portal.admin.state()
    visible = next(x for x in state["logins"] if x["username"] == GOOD.username)
    first = client.api_get("/v3/api/patients", pageSize=4).json()
    second = client.api_get("/v3/api/patients", pageSize=4, page=2).json()
    assert first["totalCount"] == len(visible["visible_case_ids"]) == 6
    assert first["totalPages"] == 2
    items = first["patients"] + second["patients"]
    assert [i["patientId"] for i in items] == visible["visible_case_ids"]
    times = [i["lastActivity"] for i in items]
    assert times == sorted(times, reverse=True)
    for item in items:
        case = case_in(state, item["patientId"])
        assert item["lastActivity"] == case["updated_at"]
        assert item["patientName"] == case["patient_name"]
        assert item["trackerStatus"] == case["status"]
        assert len(item["patientId"]) == 7


def test_the_action_required_filter_lists_cases_waiting_on_the_doctor(
    client_for: Callable[[str], IdsClient],
) -> None:
    client = client_for("good")
    listing = client.api_get("/v3/api/patients", filter="ACTION_REQUIRED").json()
    reasons = {p["actionRequired"] for p in listing["patients"]}
    assert "ClinCheck treatment plan review" in reasons
    assert None not in reasons
    assert listing["counts"]["actionRequired"] == listing["totalCount"]
    assert client.api_get("/v3/api/patients", filter="SOMETHING").status_code == 400
    assert client.api_get("/v3/api/patients", pageSize="500").status_code == 400


def test_staff_without_view_roles_logs_in_but_sees_no_patients(
    portal: PortalHandle, client_for: Callable[[str], IdsClient]
) -> None:
    client = client_for("no_view")
    response = client.api_get("/v3/api/patients")
    assert response.status_code == 403
    assert "do not have access" in response.json()["message"]
    case_id = portal.admin.state()["cases"][0]["case_id"]
    assert client.api_get(f"/v3/api/patients/{case_id}").status_code == 403
    profile = client.http.get("/v3/auth/account/profile.action").text
    assert "Payment management" in profile
    assert "Training access" in profile


def test_the_profile_shows_account_type_and_roles(client_for: Callable[[str], IdsClient]) -> None:
    excess = client_for("excess")
    page = excess.http.get("/v3/auth/account/profile.action").text
    assert 'data-testid="Profile-account-type">Staff<' in page
    assert ">Treatment management<" in page
    assert ">Prescription management<" in page
    profile = excess.api_get("/v3/api/user/profile").json()
    assert profile["accountType"] == "STAFF"
    assert profile["roles"] == ["Prescription management", "Treatment management"]


def test_other_doctors_patients_are_not_found(
    portal: PortalHandle, client_for: Callable[[str], IdsClient]
) -> None:
    state = portal.admin.state()
    other = next(c for c in state["cases"] if c["doctor_id"] != "100001")
    client = client_for("good")
    assert client.api_get(f"/v3/api/patients/{other['case_id']}").status_code == 404
    assert client.api_get("/v3/api/patients/0000000").status_code == 404


def test_the_detail_matches_the_state_and_viewing_never_marks_read(
    portal: PortalHandle, client_for: Callable[[str], IdsClient]
) -> None:
    client = client_for("good")
    case_id, _ = ready_case(client)
    before = case_in(portal.admin.state(), case_id)
    detail = client.api_get(f"/v3/api/patients/{case_id}").json()
    assert [p["planId"] for p in detail["clinCheckPlans"]] == [
        s["setup_id"] for s in before["setups"]
    ]
    assert [h["status"] for h in detail["statusHistory"]] == [
        h["status"] for h in before["status_history"]
    ]
    assert detail["clinCheckPlans"][-1]["files"][0]["fileSize"] > 0
    assert detail["permissions"] == {
        "canComment": True,
        "canRequestModification": True,
        "canApprove": False,
    }
    unread = [c["commentId"] for c in detail["comments"] if c["unread"]]
    assert unread == [
        c["comment_id"] for c in before["comments"] if GOOD.username not in c["read_by"]
    ]
    after = case_in(portal.admin.state(), case_id)
    assert after["comments"] == before["comments"]

    marked = client.api_post(f"/v3/api/patients/{case_id}/comments/read").json()["marked"]
    assert marked == unread
    again = client.api_get(f"/v3/api/patients/{case_id}").json()
    assert not any(c["unread"] for c in again["comments"])
    assert portal.admin.posted()[-1]["kind"] == "mark_read"


def test_staff_cannot_approve(portal: PortalHandle, client_for: Callable[[str], IdsClient]) -> None:
    client = client_for("good")
    case_id, plan_id = ready_case(client)
    path = f"/v3/api/patients/{case_id}/clincheck/{plan_id}/approve"
    response = client.api_post(path)
    assert response.status_code == 403
    assert "Treatment management" in response.json()["message"]
    page = client.http.post(
        path,
        data={"_csrf": client.csrf},
        headers={"Accept": "text/html"},
    )
    assert page.status_code == 403
    assert "<html" in page.text
    assert case_in(portal.admin.state(), case_id)["status"] == "ClinCheck ready for review"
    assert [p["accepted"] for p in portal.admin.posted()] == [False, False]


def test_treatment_management_staff_can_approve(
    portal: PortalHandle, client_for: Callable[[str], IdsClient]
) -> None:
    client = client_for("excess")
    case_id, plan_id = ready_case(client)
    detail = client.api_get(f"/v3/api/patients/{case_id}").json()
    assert detail["permissions"]["canApprove"] is True
    path = f"/v3/api/patients/{case_id}/clincheck/{plan_id}/approve"
    assert client.api_post(path).json()["trackerStatus"] == "Approved"
    case = case_in(portal.admin.state(), case_id)
    assert case["status"] == "Approved"
    assert case["setups"][-1]["state"] == "Approved"
    assert client.api_post(path).status_code == 409  # no longer waiting for review


def test_posting_needs_prescription_management_and_the_csrf_header(
    portal: PortalHandle, client_for: Callable[[str], IdsClient]
) -> None:
    good = client_for("good")
    case_id, _ = ready_case(good)
    path = f"/v3/api/patients/{case_id}/comments"
    assert good.http.post(path, json={"body": "no token"}).status_code == 403
    assert good.api_post(path, {"body": "   "}).status_code == 400
    assert good.api_post(path, {"body": "x" * 4001}).status_code == 400
    assert portal.admin.posted() == []


def test_a_comment_is_posted_and_recorded_in_full(
    portal: PortalHandle, client_for: Callable[[str], IdsClient]
) -> None:
    client = client_for("good")
    case_id, _ = ready_case(client)
    body = "Please check the lower midline before we approve.\n[ref:act_123]"
    response = client.api_post(f"/v3/api/patients/{case_id}/comments", {"body": body})
    assert response.status_code == 201
    comment = response.json()["comment"]
    assert comment["body"] == body
    assert comment["authorRole"] == "staff"
    [posted] = portal.admin.posted()
    assert posted["kind"] == "comment"
    assert posted["accepted"] is True
    assert posted["body"] == body
    assert posted["user"] == GOOD.username
    stored = case_in(portal.admin.state(), case_id)["comments"][-1]
    assert stored["body"] == body
    assert stored["author_name"] == "Robin Ellis"
    assert stored["read_by"] == [GOOD.username]


def test_a_form_post_with_the_token_field_works_too(
    portal: PortalHandle, client_for: Callable[[str], IdsClient]
) -> None:
    client = client_for("good")
    case_id, _ = ready_case(client)
    response = client.http.post(
        f"/v3/api/patients/{case_id}/comments", data={"_csrf": client.csrf, "body": "Via a form"}
    )
    assert response.status_code == 201


def test_a_modification_request_sends_the_plan_back_and_ticks_bring_a_new_one(
    start_portals: Callable[..., PortalHandle], clients: Callable[[str], IdsClient]
) -> None:
    portal = start_portals("invisalign", practices=0, cases=0, seed=5)
    client = clients(portal.url)
    client.login(GOOD.username, GOOD.password)
    case_id, plan_id = ready_case(client)
    instructions = "Reduce IPR on 31/41 to 0.2 mm.\n[ref:act_9]"
    response = client.api_post(
        f"/v3/api/patients/{case_id}/clincheck/{plan_id}/modification",
        {"instructions": instructions},
    )
    assert response.status_code == 201
    assert response.json()["trackerStatus"] == "Modification requested"
    [posted] = portal.admin.posted()
    assert posted["kind"] == "modification_request"
    assert posted["instructions"] == instructions
    assert posted["plan_id"] == plan_id
    case = case_in(portal.admin.state(), case_id)
    assert case["status"] == "Modification requested"
    assert case["setups"][-1]["state"] == "Modification requested"
    assert case["comments"][-1]["kind"] == "modification_request"
    versions = len(case["setups"])

    seen: list[str] = []
    for _ in range(400):
        for change in portal.admin.tick(1)["changes"]:
            if change["case_id"] == case_id:
                seen.append(change["kind"])
        case = case_in(portal.admin.state(), case_id)
        if len(case["setups"]) > versions:
            break
    assert case["status"] == "ClinCheck ready for review"
    assert case["setups"][-1]["version"] == versions + 1
    assert "setup_added" in seen
    statuses = [h["status"] for h in case["status_history"]][-3:]
    assert statuses == [
        "Modification requested",
        "ClinCheck in progress",
        "ClinCheck ready for review",
    ]


def test_staff_without_prescription_management_can_view_but_not_post(
    portal: PortalHandle, clients: Callable[[str], IdsClient]
) -> None:
    """The scenario practice's coordinator holds Patient management (view) only."""
    state = portal.admin.state()
    coordinator = next(x for x in state["logins"] if x["username"].startswith("coordinator@"))
    client = clients(portal.url)
    client.login(coordinator["username"], coordinator["password"])
    case_id, plan_id = ready_case(client)
    detail = client.api_get(f"/v3/api/patients/{case_id}").json()
    assert not any(detail["permissions"].values())
    comment = client.api_post(f"/v3/api/patients/{case_id}/comments", {"body": "hello"})
    assert comment.status_code == 403
    modification = client.api_post(
        f"/v3/api/patients/{case_id}/clincheck/{plan_id}/modification", {"instructions": "x"}
    )
    assert modification.status_code == 403
    assert [p["accepted"] for p in portal.admin.posted()] == [False, False]
    assert case_in(portal.admin.state(), case_id)["status"] == "ClinCheck ready for review"


def test_layout_2_renames_markup_ids_and_json_fields(
    portal: PortalHandle, client_for: Callable[[str], IdsClient]
) -> None:
    client = client_for("good")
    v1 = client.api_get("/v3/api/patients").json()
    assert "patients" in v1
    assert "patientName" in v1["patients"][0]
    portal.admin.faults(layout_version=2)
    v2 = client.api_get("/v3/api/patients").json()
    assert "patients" not in v2
    assert "items" in v2
    item = v2["items"][0]
    assert {"id", "name", "status", "lastActivityAt"} <= set(item)
    assert "patientName" not in item
    detail = client.api_get(f"/v3/api/patients/{item['id']}").json()
    assert "treatmentPlans" in detail
    assert "messages" in detail
    page = client.http.get("/v3/auth/patient/patientList.action").text
    bundle = page.split('<script src="')[1].split('"')[0]
    script = client.http.get(bundle).text
    assert '"PatientCard"' in script
    assert '"Card-patient"' not in script
    assert portal.admin.state()["layout_version"] == 2


def test_faults_give_server_errors_and_rate_limits(
    portal: PortalHandle, client_for: Callable[[str], IdsClient]
) -> None:
    client = client_for("good")
    portal.admin.faults(error_rate=1.0, path_prefixes=["/v3/api/"])
    assert client.api_get("/v3/api/patients").status_code in (500, 502, 503)
    assert client.http.get("/v3/auth/account/profile.action").status_code == 200
    portal.admin.faults(error_rate=0.0, rate_limit_rate=1.0, retry_after_seconds=7)
    limited = client.api_get("/v3/api/patients")
    assert limited.status_code == 429
    assert limited.headers["Retry-After"] == "7"
    portal.admin.clear_faults()
    assert client.api_get("/v3/api/patients").status_code == 200
    counts = portal.admin.requests()["by_endpoint"]
    assert counts["GET /v3/api/patients"] == 3


def test_unreadable_bodies_are_400_only_after_the_csrf_check(
    client_for: Callable[[str], IdsClient],
) -> None:
    client = client_for("good")
    case_id, _ = ready_case(client)
    path = f"/v3/api/patients/{case_id}/comments"
    broken = {"Content-Type": "application/json"}
    assert client.http.post(path, content=b"{nope", headers=broken).status_code == 403
    with_token = {**broken, "X-CSRF-TOKEN": client.csrf}
    response = client.http.post(path, content=b"{nope", headers=with_token)
    assert response.status_code == 400
    assert client.http.post(path, content=b"[1]", headers=with_token).status_code == 400


def test_without_admin_there_is_no_sandbox_api() -> None:
    app = create_app(SandboxConfig(admin=False, practices=0, cases=0))
    with serve(app) as running, httpx.Client(base_url=running.url) as http:
        assert http.get("/__sandbox/state").status_code == 404
        assert http.get("/v3/auth/patients.action").status_code == 302
