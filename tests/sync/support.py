"""Helpers for sync tests: services against sandbox portals, and store-vs-portal snapshots."""

from __future__ import annotations

import os
from collections import Counter
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from adapters.base import Adapter
from adapters.browser import BrowserPool
from adapters.http import RetryPolicy
from adapters.registry import AdapterParts, build_adapter
from connector.accounts.service import create_account
from connector.clock import utcnow
from connector.credentials import store_audit_sink
from connector.domain import Account
from connector.store import Store, signins
from connector.store.schema import cases, comments, events, setups
from connector.sync import SyncServices
from vault import Keyring, Secret, Vault

FAST = RetryPolicy(max_attempts=6, max_total_seconds=20, initial_backoff=0.01, max_backoff=0.05)


def make_vault(store: Store) -> Vault:
    return Vault(Keyring({"k1": os.urandom(32)}, primary="k1"), store_audit_sink(store))


def make_services(
    store: Store, vault: Vault, urls: dict[str, str], pool: BrowserPool | None = None
) -> SyncServices:
    pool = pool or BrowserPool()
    adapters: dict[str, Adapter] = {
        vendor: build_adapter(
            vendor, AdapterParts(base_url=url, pool=pool, policy=FAST, clock=utcnow)
        )
        for vendor, url in urls.items()
    }
    return SyncServices(store, vault, adapters)


async def add(
    store: Store,
    vault: Vault,
    vendor: str,
    login: dict[str, Any] | Any,
    practice: str | None = None,
) -> Account:
    username = login["username"] if isinstance(login, dict) else login.username
    password = login["password"] if isinstance(login, dict) else login.password
    return await create_account(
        store,
        vault,
        vendor=vendor,
        username=username,
        password=Secret(password),
        practice_id=practice,
    )


def portal_snapshot(state: dict[str, Any], username: str) -> dict[str, dict[str, Any]]:
    """What the portal holds for one login, in the shape `store_snapshot` returns."""
    login = next(x for x in state["logins"] if x["username"] == username)
    visible = set(login["visible_case_ids"])
    result = {}
    for case in state["cases"]:
        if case["case_id"] not in visible:
            continue
        result[case["case_id"]] = {
            "patient_name": case["patient_name"],
            "patient_id": case["patient_id"],
            "doctor_id": case["doctor_id"],
            "vendor_status": case["status"],
            "setups": {s["setup_id"]: s["version"] for s in case["setups"]},
            "comments": {
                c["comment_id"]: (c["body"], username not in c["read_by"]) for c in case["comments"]
            },
        }
    return result


async def store_snapshot(store: Store, account_id: str) -> dict[str, dict[str, Any]]:
    """The live (not removed) cases of an account as stored."""
    async with store.read() as conn:
        rows = (
            await conn.execute(
                sa.select(cases).where(
                    cases.c.account_id == account_id, cases.c.removed_at.is_(None)
                )
            )
        ).all()
        result = {}
        for row in rows:
            setup_rows = (
                await conn.execute(sa.select(setups).where(setups.c.case_id == row.id))
            ).all()
            comment_rows = (
                await conn.execute(sa.select(comments).where(comments.c.case_id == row.id))
            ).all()
            result[row.vendor_case_id] = {
                "patient_name": row.patient_name,
                "patient_id": row.patient_id,
                "doctor_id": row.vendor_doctor_id,
                "vendor_status": row.vendor_status,
                "setups": {s.vendor_setup_id: s.version for s in setup_rows},
                "comments": {c.vendor_comment_id: (c.body, c.unread) for c in comment_rows},
            }
    return result


async def event_counts(
    store: Store, account_id: str, after_seq: int = 0
) -> Counter[tuple[str, str]]:
    """(type, vendor case id) of every event after `after_seq` (account events: the account id)."""
    found: Counter[tuple[str, str]] = Counter()
    async with store.read() as conn:
        rows = (
            await conn.execute(
                sa.select(events).where(events.c.account_id == account_id, events.c.seq > after_seq)
            )
        ).all()
        for row in rows:
            data = row.data
            if row.type.startswith("account."):
                key = account_id
            elif row.type.startswith("case."):
                key = data["vendor_case_id"]
            else:
                key = (
                    await conn.execute(
                        sa.select(cases.c.vendor_case_id).where(cases.c.id == data["case_id"])
                    )
                ).scalar_one()
            found[(row.type, key)] += 1
    return found


async def last_seq(store: Store) -> int:
    async with store.read() as conn:
        return int(
            (
                await conn.execute(sa.select(sa.func.coalesce(sa.func.max(events.c.seq), 0)))
            ).scalar_one()
        )


def expected_events(
    ticks: list[dict[str, Any]],
    before: dict[str, Any],
    after: dict[str, Any],
    username: str,
    *,
    full: bool,
) -> Counter[tuple[str, str]]:
    """The events a sync after these ticks must emit for one login, from the change log."""

    def visible(state: dict[str, Any]) -> set[str]:
        login = next(x for x in state["logins"] if x["username"] == username)
        return set(login["visible_case_ids"])

    visible_before, visible_after = visible(before), visible(after)
    setups_before = {s["setup_id"]: s["state"] for c in before["cases"] for s in c["setups"]}
    setups_after = {
        s["setup_id"]: (c["case_id"], s["state"]) for c in after["cases"] for s in c["setups"]
    }
    in_review = {"Awaiting approval", "Ready for review"}
    expected: Counter[tuple[str, str]] = Counter()
    for case_id in visible_after - visible_before:
        expected[("case.created", case_id)] = 1
    if full:
        for case_id in visible_before - visible_after:
            expected[("case.removed", case_id)] = 1
    touched: set[str] = set()
    for tick in ticks:
        for change in tick["changes"]:
            case_id = change["case_id"]
            if case_id not in visible_before or case_id not in visible_after:
                continue
            touched.add(case_id)
            if change["kind"] == "comment_added":
                expected[("comment.received", case_id)] += 1
    for case_id in touched:
        expected[("case.updated", case_id)] = 1
    # A setup is announced once when it becomes reviewable (new, or back in review).
    for setup_id, (case_id, state) in setups_after.items():
        if case_id not in touched or state not in in_review:
            continue
        if setups_before.get(setup_id) not in in_review:
            expected[("setup.ready_for_review", case_id)] += 1
    return expected


async def end_lockout(store: Store, vendor: str, username: str) -> None:
    """Our record of the portal's lockout ends (as it would when its time is up)."""
    now = utcnow()
    async with store.transaction() as conn:
        await signins.portal_login(conn, vendor, username, now)
        await signins.update_portal_login(
            conn, vendor, username, now, locked_until=now - timedelta(seconds=1)
        )
