"""The generator, the tick and the state dump: deterministic, realistic, consistent."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import datetime

import pyotp

from sandbox.common.scenarios import Outcome
from sandbox.common.server import PortalHandle
from sandbox.invisalign.data import ROLES, STATUSES
from sandbox.invisalign.scenarios import SCENARIOS

CHANGE_KINDS = {
    "case_added",
    "status_changed",
    "setup_added",
    "comment_added",
    "setup_state_changed",
}


def test_scenario_table_is_complete_and_usable() -> None:
    names = [s.name for s in SCENARIOS]
    assert names == ["good", "email_code", "totp", "locked", "excess", "no_view", "expired"]
    assert {s.outcome for s in SCENARIOS} == set(Outcome) - {Outcome.WRONG_PASSWORD}
    assert all(s.vendor == "invisalign" and len(s.password) >= 12 for s in SCENARIOS)
    totp = next(s for s in SCENARIOS if s.name == "totp")
    assert totp.totp_secret
    assert len(pyotp.TOTP(totp.totp_secret).now()) == 6


def test_same_seed_and_ticks_give_identical_state(
    start_portals: Callable[..., PortalHandle],
) -> None:
    first = start_portals("invisalign", practices=3, cases=8, seed=11)
    second = start_portals("invisalign", practices=3, cases=8, seed=11)
    assert first.admin.state() == second.admin.state()
    assert first.admin.tick(25) == second.admin.tick(25)
    assert first.admin.state() == second.admin.state()
    assert first.admin.changes(10) == second.admin.changes(10)

    second.admin.seed(practices=3, cases=8, seed=12)
    assert first.admin.state()["cases"] != second.admin.state()["cases"]
    second.admin.seed(practices=3, cases=8, seed=11)
    first.admin.seed(practices=3, cases=8, seed=11)
    assert first.admin.state() == second.admin.state()


def test_the_dump_has_the_documented_shape(portal: PortalHandle) -> None:
    state = portal.admin.state()
    assert state["vendor"] == "invisalign"
    assert state["tick"] == 0
    assert state["layout_version"] == 1
    assert len(state["doctors"]) == 3
    assert len(state["cases"]) == 2 * 6 + 6
    by_name = {x["username"]: x for x in state["logins"]}
    for s in SCENARIOS:
        login = by_name[s.username]
        assert login["scenario"] == s.name
        assert login["kind"] == "staff"
        assert set(login["roles"]) <= set(ROLES)
    assert by_name["rx.staff@smile-dental.example"]["roles"] == ["Prescription management"]
    assert by_name["front.desk@smile-dental.example"]["visible_case_ids"] == []
    assert len(by_name["rx.staff@smile-dental.example"]["visible_case_ids"]) == 6
    kinds = Counter(x["kind"] for x in state["logins"] if x["scenario"] is None)
    assert kinds == {"doctor": 3, "staff": 3}  # each practice: a doctor and one staff login

    ids = [c["case_id"] for c in state["cases"]]
    assert len(set(ids)) == len(ids)
    for case in state["cases"]:
        assert len(case["case_id"]) == 7
        assert case["patient_id"] == f"#{case['case_id']}"
        assert case["status"] in STATUSES
        assert case["status_history"][0]["status"] == "Submitted"
        assert case["status_history"][-1]["status"] == case["status"]
        times = [datetime.fromisoformat(h["at"]) for h in case["status_history"]]
        assert times == sorted(times)
        assert case["updated_at"] >= case["created_at"]
        assert [s["version"] for s in case["setups"]] == list(range(1, len(case["setups"]) + 1))
        for setup in case["setups"]:
            assert setup["files"]
            assert setup["viewer_url"].startswith("/v3/auth/clincheck/")
        for comment in case["comments"]:
            assert comment["author_role"] in {"doctor", "staff", "technician"}
        assert case["action_required"] == (
            case["status"] in {"ClinCheck ready for review", "On hold"}
        )


def test_statuses_spread_over_the_flow(start_portals: Callable[..., PortalHandle]) -> None:
    portal = start_portals("invisalign", practices=10, cases=40, seed=2)
    statuses = Counter(c["status"] for c in portal.admin.state()["cases"])
    assert set(statuses) == set(STATUSES)
    assert statuses["ClinCheck ready for review"] > 20


def test_ticks_change_about_five_percent_and_log_every_change(
    start_portals: Callable[..., PortalHandle],
) -> None:
    portal = start_portals("invisalign", practices=10, cases=40, seed=4)
    before = {c["case_id"]: c for c in portal.admin.state()["cases"]}
    result = portal.admin.tick(10)
    assert result["tick"] == 10
    assert result["clock"] == "2026-01-05T19:00:00Z"
    log = portal.admin.changes(0)
    assert [entry["tick"] for entry in log] == list(range(1, 11))
    assert portal.admin.changes(9) == log[-1:]
    flat = [c for entry in log for c in entry["changes"]]
    assert flat == [{k: v for k, v in c.items() if k != "tick"} for c in result["changes"]]
    assert {c["kind"] for c in flat} <= CHANGE_KINDS
    touched_per_tick = [len({c["case_id"] for c in entry["changes"]}) for entry in log]
    assert 0.02 * len(before) < sum(touched_per_tick) / 10 < 0.12 * len(before)

    after = {c["case_id"]: c for c in portal.admin.state()["cases"]}
    changed = {c["case_id"] for c in flat}
    for case_id, case in after.items():
        if case_id not in before:
            assert case_id in changed  # a new patient is logged as case_added
            continue
        if case_id not in changed:
            assert case == before[case_id]
        else:
            assert case["updated_at"] > before[case_id]["updated_at"]
    for change in flat:
        if change["kind"] == "status_changed":
            assert after[change["case_id"]]["status_history"][-1]["at"] <= result["clock"]
