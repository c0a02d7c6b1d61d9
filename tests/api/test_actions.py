"""Outbound actions through the API: recorded once per Idempotency-Key and route, a different
body under the same key is a 409, a missing key a clear 422; the action loop is woken."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from connector.clock import utcnow
from connector.store import cases as case_rows
from connector.store.schema import actions, setups
from tests.api.conftest import Api, seed_cases


async def _case_with_setup(api: Api) -> tuple[dict[str, Any], str, str]:
    account = await api.add_account()
    (case_id,) = await seed_cases(api.store, account["id"], [1], setups=True)
    async with api.store.read() as conn:
        setup_id = await conn.scalar(
            sa.select(setups.c.id).where(setups.c.case_id == case_id, setups.c.version == 2)
        )
    return account, case_id, str(setup_id)


async def _count(api: Api) -> int:
    async with api.store.read() as conn:
        return int(await conn.scalar(sa.select(sa.func.count()).select_from(actions)) or 0)


async def test_comment_is_recorded_once_per_key(api: Api) -> None:
    account, case_id, _ = await _case_with_setup(api)
    path = f"/v1/cases/{case_id}/comments"
    first = await api.client.post(
        path, json={"body": "Please add refinements."}, headers={"Idempotency-Key": "tps-1"}
    )
    assert first.status_code == 202, first.text
    action = first.json()
    assert action["kind"] == "comment" and action["status"] == "pending"
    assert action["case_id"] == case_id and action["account_id"] == account["id"]
    assert action["idempotency_key"] == "tps-1" and action["attempts"] == 0
    assert first.headers["location"] == f"/v1/actions/{action['id']}"
    assert api.action_wakes.count == 1

    # A retry (same key, same body) returns the same action and does not wake the loop again.
    retry = await api.client.post(
        path, json={"body": "Please add refinements."}, headers={"Idempotency-Key": "tps-1"}
    )
    assert retry.status_code == 202 and retry.json() == action
    assert api.action_wakes.count == 1
    assert await _count(api) == 1

    other = await api.client.post(
        path, json={"body": "Something else."}, headers={"Idempotency-Key": "tps-1"}
    )
    assert other.status_code == 409
    assert "Idempotency-Key" in other.json()["error"]["message"]
    assert "Something else" not in other.text
    assert await _count(api) == 1

    got = await api.client.get(f"/v1/actions/{action['id']}")
    assert got.status_code == 200 and got.json() == action
    assert (await api.client.get("/v1/actions/act_missing")).status_code == 404


async def test_reject_setup_and_its_key_scope(api: Api) -> None:
    _, case_id, setup_id = await _case_with_setup(api)
    path = f"/v1/cases/{case_id}/setups/{setup_id}/reject"
    response = await api.client.post(
        path, json={"reason": "Midline is off by 1 mm."}, headers={"Idempotency-Key": "k"}
    )
    assert response.status_code == 202, response.text
    rejection = response.json()
    assert rejection["kind"] == "reject_setup" and rejection["setup_id"] == setup_id
    assert rejection["body"] == "Midline is off by 1 mm."
    # The same key on another route is another action.
    comment = await api.client.post(
        f"/v1/cases/{case_id}/comments", json={"body": "x"}, headers={"Idempotency-Key": "k"}
    )
    assert comment.status_code == 202 and comment.json()["id"] != rejection["id"]
    assert api.action_wakes.count == 2

    # A setup of another case, or none at all: 404; nothing recorded.
    account = await api.add_account("other@tps.example")
    (other_case,) = await seed_cases(api.store, account["id"], [2])
    for bad in (
        f"/v1/cases/{other_case}/setups/{setup_id}/reject",
        f"/v1/cases/{case_id}/setups/setup_missing/reject",
        f"/v1/cases/case_missing/setups/{setup_id}/reject",
    ):
        missing = await api.client.post(
            bad, json={"reason": "r"}, headers={"Idempotency-Key": "k2"}
        )
        assert missing.status_code == 404, (bad, missing.text)
    assert await _count(api) == 2


async def test_missing_or_bad_keys_and_bodies_are_refused(api: Api) -> None:
    _, case_id, setup_id = await _case_with_setup(api)
    comment = f"/v1/cases/{case_id}/comments"
    reject = f"/v1/cases/{case_id}/setups/{setup_id}/reject"

    for path, body in ((comment, {"body": "hi"}), (reject, {"reason": "no"})):
        response = await api.client.post(path, json=body)
        assert response.status_code == 422
        message = response.json()["error"]["message"]
        assert "Idempotency-Key" in message and "required" in message

    for key in ("", "with space", "k" * 201, "tab\tkey"):
        response = await api.client.post(
            comment, json={"body": "hi"}, headers={"Idempotency-Key": key}
        )
        assert response.status_code == 422, (key, response.text)
    bad_bodies: list[tuple[str, dict[str, Any]]] = [
        (comment, {}),
        (comment, {"body": ""}),
        (comment, {"body": "   "}),
        (comment, {"body": "x" * 4001}),
        (comment, {"body": "hi", "approve": True}),
        (comment, {"text": "hi"}),
        (reject, {"reason": ""}),
        (reject, {"reason": "r" * 2001}),
        (reject, {"body": "wrong field"}),
    ]
    for path, body in bad_bodies:
        response = await api.client.post(path, json=body, headers={"Idempotency-Key": "k"})
        assert response.status_code == 422, (path, body, response.text)
    assert await _count(api) == 0
    assert api.action_wakes.count == 0


async def test_refused_actions_fail_at_once_and_removed_cases_conflict(api: Api) -> None:
    account, case_id, _ = await _case_with_setup(api)
    await api.client.post(f"/v1/accounts/{account['id']}/pause")
    response = await api.client.post(
        f"/v1/cases/{case_id}/comments", json={"body": "hi"}, headers={"Idempotency-Key": "p"}
    )
    assert response.status_code == 202
    assert response.json()["status"] == "failed"
    assert "paused" in response.json()["error"]

    async with api.store.transaction() as conn:
        await case_rows.mark_removed(conn, account["id"], [], utcnow())
    gone = await api.client.post(
        f"/v1/cases/{case_id}/comments", json={"body": "hi"}, headers={"Idempotency-Key": "q"}
    )
    assert gone.status_code == 409


def test_there_is_no_way_to_approve(api_app_routes: list[str]) -> None:
    assert "/v1/cases/{case_id}/setups/{setup_id}/reject" in api_app_routes
    assert not [path for path in api_app_routes if "approv" in path.lower()]
