"""The generator and the tick: reproducible, and every change logged so a sync test can derive
what to expect."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sandbox.clearcorrect.scenarios import SCENARIO_DOCTOR_ID, SCENARIOS
from sandbox.common.server import PortalHandle
from tests.sandbox.clearcorrect.portal_client import PortalClient, login_of

KINDS = {
    "case_added",
    "case_unshared",
    "status_changed",
    "setup_added",
    "setup_state_changed",
    "comment_added",
}


def test_same_seed_and_ticks_give_identical_state(
    start_portals: Callable[..., PortalHandle],
) -> None:
    one = start_portals("clearcorrect", practices=5, cases=6, seed=11)
    two = start_portals("clearcorrect", practices=5, cases=6, seed=11)
    other = start_portals("clearcorrect", practices=5, cases=6, seed=12)
    for portal in (one, two, other):
        portal.admin.tick(4)
        portal.admin.tick(3)
    assert one.admin.state() == two.admin.state()
    assert one.admin.changes() == two.admin.changes()
    assert one.admin.state()["cases"] != other.admin.state()["cases"]
    # The scenario practice does not depend on the seed.
    fresh = [start_portals("clearcorrect", practices=2, cases=2, seed=s) for s in (1, 2)]
    scenario_cases = [
        [c for c in p.admin.state()["cases"] if c["doctor_id"] == SCENARIO_DOCTOR_ID] for p in fresh
    ]
    assert scenario_cases[0] == scenario_cases[1]
    assert len(scenario_cases[0]) == 5


def test_dump_has_the_documented_shape(portal: PortalHandle) -> None:
    state = portal.admin.state()
    assert state["vendor"] == "clearcorrect"
    assert (state["tick"], state["clock"], state["layout_version"]) == (
        0,
        "2026-01-05T09:00:00Z",
        1,
    )
    assert len(state["doctors"]) == 7
    assert len(state["cases"]) == 6 * 4 + 5
    scenario_logins = {s.username for s in SCENARIOS}
    assert scenario_logins <= {x["username"] for x in state["logins"]}
    kinds = {x["kind"] for x in state["logins"]}
    assert kinds == {"doctor", "partner"}
    case = state["cases"][0]
    assert set(case) >= {
        "case_id",
        "doctor_id",
        "doctor_name",
        "patient_name",
        "patient_id",
        "status",
        "group",
        "action_required",
        "created_at",
        "updated_at",
        "status_history",
        "setups",
        "comments",
        "shared_with",
    }
    statuses = {c["status"] for c in state["cases"]}
    assert len(statuses) >= 5
    for c in state["cases"]:
        assert c["status_history"][-1]["status"] == c["status"]
        assert c["updated_at"] >= c["created_at"]
        for comment in c["comments"]:
            assert comment["author_role"] in {"doctor", "partner", "technician"}


def test_seed_replaces_everything(portal: PortalHandle, good: PortalClient) -> None:
    good.post(f"/api/cases/{good.cases()['items'][0]['caseNumber']}/comments", {"body": "hi"})
    portal.admin.faults(layout_version=2)
    portal.admin.tick(2)
    summary = portal.admin.seed(practices=2, cases=3, seed=5)
    assert summary["cases"] == 2 * 3 + 5
    assert portal.admin.posted() == []
    assert portal.admin.faults()["layout_version"] == 1
    assert portal.admin.changes() == []
    counters = portal.admin.logins()
    assert list(counters) == ["locked.partner@tps-sandbox.example"]
    assert good.http.get("/api/account").status_code == 401  # sessions are gone too


def test_ticks_log_every_change_and_the_state_agrees(portal: PortalHandle) -> None:
    result = portal.admin.tick(40)
    assert result["tick"] == 40
    assert result["clock"] == "2026-01-07T01:00:00Z"
    log = portal.admin.changes()
    assert [entry["tick"] for entry in log] == list(range(1, 41))
    assert [c for e in log for c in e["changes"]] == [
        {k: v for k, v in c.items() if k != "tick"} for c in result["changes"]
    ]
    assert portal.admin.changes(since_tick=38) == log[38:]
    seen = {c["kind"] for e in log for c in e["changes"]}
    assert seen == KINDS
    state = portal.admin.state()
    cases = {c["case_id"]: c for c in state["cases"]}
    for entry in log:
        for change in entry["changes"]:
            _check_change(change, entry["clock"], cases, state)


def _check_change(
    change: dict[str, Any], clock: str, cases: dict[str, Any], state: dict[str, Any]
) -> None:
    case = cases[change["case_id"]]
    detail = change["detail"]
    if change["kind"] == "case_unshared":
        assert detail["username"] not in case["shared_with"]
        assert case["case_id"] not in login_of(state, detail["username"])["visible_case_ids"]
    elif change["kind"] == "setup_added":
        assert detail["setup_id"] in {s["setup_id"] for s in case["setups"]}
    elif change["kind"] == "comment_added":
        assert detail["comment_id"] in {c["comment_id"] for c in case["comments"]}
    elif change["kind"] == "status_changed":
        assert {"status": detail["to"], "at": clock} in case["status_history"]
    elif change["kind"] == "case_added":
        assert case["doctor_id"] == detail["doctor_id"]


def test_an_unshared_case_disappears_from_the_partners_list(
    portal: PortalHandle, client_for: Callable[..., PortalClient]
) -> None:
    state = portal.admin.state()
    usable = {
        x["username"]
        for x in state["logins"]
        if x["kind"] == "partner" and x["mfa"] is None and x["scenario"] in (None, "good")
    }
    found = None
    for _ in range(60):
        changes = portal.admin.tick(1)["changes"]
        found = next(
            (
                c
                for c in changes
                if c["kind"] == "case_unshared" and c["detail"]["username"] in usable
            ),
            None,
        )
        if found:
            break
    assert found is not None
    login = login_of(portal.admin.state(), found["detail"]["username"])
    client = client_for(login["username"], login["password"])
    assert found["case_id"] not in client.all_case_numbers()
    assert client.get(f"/api/cases/{found['case_id']}").status_code == 404
