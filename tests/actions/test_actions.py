"""Outbound actions against the ClearCorrect sandbox: recorded first, one per idempotency key,
posted once with their marker, never resent after a lost answer, refused when they must be."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from connector.actions import request_action, run_due_actions
from connector.domain import AccountStatus, ActionKind, ActionStatus
from connector.errors import ConflictError, InputError, NotFoundError
from connector.store import Store
from connector.store.schema import cases, comments, events, setups
from connector.sync import sync_account
from sandbox.clearcorrect import IDENTITY_JSON
from sandbox.clearcorrect.admin_client import ClearCorrectAdmin
from sandbox.scenarios import scenario
from tests.conftest import BOTH_DATABASES, PortalFactory
from tests.sync.support import add, make_services, make_vault

VENDOR = "clearcorrect"


async def _synced(store: Store, portal: Any, login: Any) -> tuple[Any, str]:
    vault = make_vault(store)
    services = make_services(store, vault, {VENDOR: portal.url})
    account = await add(store, vault, VENDOR, login)
    result = await sync_account(services, account.id)
    assert result.outcome == "succeeded"
    return services, account.id


async def _reviewable(store: Store, account_id: str) -> tuple[str, str, str]:
    """(case id, vendor case id, setup id) of a case whose latest setup awaits review."""
    async with store.read() as conn:
        row = (
            await conn.execute(
                sa.select(cases.c.id, cases.c.vendor_case_id, setups.c.id.label("setup_id"))
                .join(setups, setups.c.case_id == cases.c.id)
                .where(cases.c.account_id == account_id, setups.c.state == "in_review")
                .order_by(cases.c.id)
            )
        ).first()
    assert row is not None, "the seed has no setup in review"
    return row.id, row.vendor_case_id, row.setup_id


def _posts(portal: Any, marker: str) -> list[dict[str, Any]]:
    return [
        p for p in portal.admin.posted()
        if marker in (p.get("body") or "") + (p.get("reason") or "") and p.get("accepted")
    ]  # fmt: skip


@BOTH_DATABASES
async def test_one_action_per_key_and_route(store: Store, start_portals: PortalFactory) -> None:
    portal = start_portals(VENDOR, practices=1, cases=4)
    _, account_id = await _synced(store, portal, scenario(VENDOR, "good"))
    case_id, _, setup_id = await _reviewable(store, account_id)

    first, created = await request_action(
        store,
        kind=ActionKind.COMMENT,
        case_id=case_id,
        body="Please check 22.",
        idempotency_key="k-1",
    )
    again, created_again = await request_action(
        store,
        kind=ActionKind.COMMENT,
        case_id=case_id,
        body="Please check 22.",
        idempotency_key="k-1",
    )
    assert created and not created_again
    assert again.id == first.id
    with pytest.raises(ConflictError, match="different body"):
        await request_action(
            store,
            kind=ActionKind.COMMENT,
            case_id=case_id,
            body="Other text",
            idempotency_key="k-1",
        )
    # The same key on another route is another action.
    reject, created = await request_action(
        store, kind=ActionKind.REJECT_SETUP, case_id=case_id, setup_id=setup_id,
        body="Intrude 11 more.", idempotency_key="k-1",
    )  # fmt: skip
    assert created and reject.id != first.id
    for kwargs, error in [
        ({"body": " ", "idempotency_key": "k-2"}, InputError),
        ({"body": "x" * 4001, "idempotency_key": "k-2"}, InputError),
        ({"body": "ok", "idempotency_key": "has space"}, InputError),
        ({"body": "ok", "idempotency_key": ""}, InputError),
    ]:
        with pytest.raises(error):
            await request_action(store, kind=ActionKind.COMMENT, case_id=case_id, **kwargs)
    with pytest.raises(NotFoundError):
        await request_action(
            store, kind=ActionKind.COMMENT, case_id="case_missing", body="x", idempotency_key="k-3"
        )
    with pytest.raises(NotFoundError):
        await request_action(
            store, kind=ActionKind.REJECT_SETUP, case_id=case_id, setup_id="setup_other",
            body="x", idempotency_key="k-4",
        )  # fmt: skip


async def test_comment_and_rejection_land_once_with_their_marker(
    store: Store, start_portals: PortalFactory
) -> None:
    portal = start_portals(VENDOR, practices=1, cases=4)
    services, account_id = await _synced(store, portal, scenario(VENDOR, "good"))
    case_id, vendor_case_id, setup_id = await _reviewable(store, account_id)
    comment, _ = await request_action(
        store, kind=ActionKind.COMMENT, case_id=case_id, body="Staging looks off on 13.",
        idempotency_key="c-1",
    )  # fmt: skip
    reject, _ = await request_action(
        store, kind=ActionKind.REJECT_SETUP, case_id=case_id, setup_id=setup_id,
        body="Please reduce IPR between 31 and 41.", idempotency_key="r-1",
    )  # fmt: skip

    results = {a.id: a for a in await run_due_actions(services)}
    assert results[comment.id].status is ActionStatus.SUCCEEDED
    assert results[reject.id].status is ActionStatus.SUCCEEDED
    assert len(_posts(portal, f"[ref:{comment.id}]")) == 1
    assert len(_posts(portal, f"[ref:{reject.id}]")) == 1
    state = portal.admin.state()
    case = next(c for c in state["cases"] if c["case_id"] == vendor_case_id)
    assert case["status"] == "Awaiting Setup"
    assert await run_due_actions(services) == []  # nothing left to do: nothing posted again
    assert len(_posts(portal, f"[ref:{comment.id}]")) == 1

    async with store.read() as conn:
        types = [r.type for r in (await conn.execute(sa.select(events.c.type))).all()]
    assert types.count("action.succeeded") == 2

    # The next sync recognises the connector's own comment: stored, marked, not announced.
    seq_before = max(await _seqs(store), default=0)
    result = await sync_account(services, account_id)
    assert result.outcome == "succeeded"
    async with store.read() as conn:
        ours = (
            await conn.execute(sa.select(comments).where(comments.c.action_id == comment.id))
        ).one()
        new_types = [
            r.type
            for r in (
                await conn.execute(sa.select(events.c.type).where(events.c.seq > seq_before))
            ).all()
        ]
    assert ours.posted_by_connector
    assert "comment.received" not in new_types


async def _seqs(store: Store) -> list[int]:
    async with store.read() as conn:
        return [r.seq for r in (await conn.execute(sa.select(events.c.seq))).all()]


async def test_a_lost_answer_is_never_resent(store: Store, start_portals: PortalFactory) -> None:
    portal = start_portals(VENDOR, practices=1, cases=4)
    # The JSON API's comment path takes its own fault (the pages post back to the case page).
    with ClearCorrectAdmin(portal.url) as admin:
        admin.variant(IDENTITY_JSON)
    services, account_id = await _synced(store, portal, scenario(VENDOR, "good"))
    case_id, vendor_case_id, _ = await _reviewable(store, account_id)
    action, _ = await request_action(
        store, kind=ActionKind.COMMENT, case_id=case_id, body="Check the attachments.",
        idempotency_key="lost-1",
    )  # fmt: skip
    # The portal takes the comment, but the answer never comes back.
    portal.admin.faults(
        late_error_rate=1.0, path_prefixes=[f"/api/cases/{vendor_case_id}/comments"]
    )
    (after_first,) = await run_due_actions(services)
    assert after_first.status is ActionStatus.PENDING
    assert after_first.attempts == 1
    assert "outcome unknown" in (after_first.error or "")
    assert len(_posts(portal, f"[ref:{action.id}]")) == 1

    portal.admin.clear_faults()
    async with store.transaction() as conn:  # due now rather than after the retry delay
        await conn.execute(
            sa.text("UPDATE actions SET updated_at = :t WHERE id = :i"),
            {"t": after_first.created_at.replace(year=2000), "i": action.id},
        )
    (second,) = await run_due_actions(services)
    assert second.status is ActionStatus.SUCCEEDED
    assert second.result == {"vendor_id": None, "found_marker": True}
    assert len(_posts(portal, f"[ref:{action.id}]")) == 1


async def test_actions_are_refused_for_an_over_privileged_login(
    store: Store, start_portals: PortalFactory
) -> None:
    portal = start_portals(VENDOR, practices=1, cases=4)
    services, account_id = await _synced(store, portal, scenario(VENDOR, "excess"))
    async with store.read() as conn:
        status = (
            await conn.execute(
                sa.text("SELECT status FROM accounts WHERE id = :i"), {"i": account_id}
            )
        ).scalar_one()
        case_id = (await conn.execute(sa.select(cases.c.id).limit(1))).scalar_one()
    assert status == AccountStatus.EXCESS_PERMISSIONS
    action, _ = await request_action(
        store, kind=ActionKind.COMMENT, case_id=case_id, body="Hello", idempotency_key="x-1"
    )
    assert action.status is ActionStatus.FAILED
    assert action.error is not None and "more rights than it should" in action.error
    assert await run_due_actions(services) == []
    assert not [p for p in portal.admin.posted() if p["kind"] == "comment"]
    async with store.read() as conn:
        failed = (
            await conn.execute(sa.select(events).where(events.c.type == "action.failed"))
        ).one()
    assert failed.data["id"] == action.id
