"""`/v1/accounts`: create, list, get, credentials update and rollback, pause, resume, sync, runs,
delete. Secrets go in and never come out; the API never logs in itself, it wakes the scheduler."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from connector.clock import utcnow
from connector.credentials import reveal_login
from connector.domain import CredentialState
from connector.store import accounts as account_rows
from connector.store import credentials as credential_rows
from connector.store import signins
from connector.store.schema import (
    actions,
    audit_log,
    browser_sessions,
    cases,
    comments,
    credentials,
    events,
    sealed_secrets,
    setups,
)
from connector.sync import sync_account
from sandbox.scenarios import scenario
from tests.api.conftest import PASSWORD, VENDOR, Api, seed_cases
from tests.conftest import PortalFactory
from tests.sync.support import make_services


def _no_secret(body: str, *secrets: str) -> None:
    for secret in (PASSWORD, *secrets):
        assert secret not in body


async def _status_events(api: Api, account_id: str) -> list[dict[str, Any]]:
    async with api.store.read() as conn:
        rows = (
            await conn.execute(
                sa.select(events.c.data)
                .where(events.c.account_id == account_id, events.c.type == "account.status_changed")
                .order_by(events.c.seq)
            )
        ).all()
    return [dict(r.data) for r in rows]


async def test_create_get_list_and_conflict(api: Api) -> None:
    before = utcnow()
    response = await api.client.post(
        "/v1/accounts",
        json={
            "vendor": VENDOR,
            "username": "Partner@TPS-planning.example",
            "password": PASSWORD,
            "totp_secret": "JBSW Y3DP EHPK 3PXP",
            "practice_id": "practice-1",
        },
    )
    assert response.status_code == 201, response.text
    _no_secret(response.text, "JBSWY3DPEHPK3PXP", "JBSW Y3DP")
    account = response.json()
    assert account["id"].startswith("acc_")
    assert account["status"] == "verifying"
    assert account["practice_id"] == "practice-1"
    assert account["credential_version"] == 1
    assert "password" not in account and "totp_secret" not in account
    # Due now, and the scheduler was told: the sync (not this request) verifies the login.
    assert before - timedelta(seconds=1) <= _time(account["next_sync_at"]) <= utcnow()
    assert api.sync_wakes.count == 1

    got = await api.client.get(f"/v1/accounts/{account['id']}")
    assert got.status_code == 200 and got.json() == account
    listed = await api.client.get("/v1/accounts")
    assert listed.json() == {"items": [account], "next_cursor": None}

    # The secret is stored, sealed, and is what was sent.
    login = await reveal_login(api.store, api.ctx.runtime.vault, account["id"], reason="test")
    assert login.password.reveal() == PASSWORD
    assert login.totp_secret is not None and login.totp_secret.reveal() == "JBSWY3DPEHPK3PXP"

    # (vendor, username) is unique, whatever the case of the address.
    again = await api.client.post(
        "/v1/accounts",
        json={"vendor": VENDOR, "username": "partner@tps-planning.example ", "password": "x" * 12},
    )
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "conflict"
    # The other vendor is another login.
    other = await api.client.post(
        "/v1/accounts",
        json={"vendor": "invisalign", "username": "partner@tps-planning.example", "password": "y"},
    )
    assert other.status_code == 201
    assert len((await api.client.get("/v1/accounts")).json()["items"]) == 2

    missing = await api.client.get("/v1/accounts/acc_doesnotexist")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"


def _time(value: str) -> Any:
    from datetime import datetime

    return datetime.fromisoformat(value)


async def test_bad_input_is_refused_and_changes_nothing(api: Api) -> None:
    bodies: list[Any] = [
        {"vendor": "lightforce", "username": "u@x.example", "password": PASSWORD},
        {"vendor": "ClearCorrect", "username": "u@x.example", "password": PASSWORD},
        {"vendor": VENDOR, "username": "", "password": PASSWORD},
        {"vendor": VENDOR, "username": "   ", "password": PASSWORD},
        {"vendor": VENDOR, "username": "u\n@x.example", "password": PASSWORD},
        {"vendor": VENDOR, "username": "u@x.example", "password": ""},
        {"vendor": VENDOR, "username": "u@x.example", "password": "p" * 1025},
        {"vendor": VENDOR, "username": "u@x.example", "password": PASSWORD, "totp_secret": "1!"},
        {"vendor": VENDOR, "username": "u@x.example", "password": PASSWORD, "practice_id": ""},
        {"vendor": VENDOR, "username": "u@x.example", "password": PASSWORD, "admin": True},
        {"vendor": VENDOR, "username": "u@x.example"},
        [],
    ]
    for body in bodies:
        response = await api.client.post("/v1/accounts", json=body)
        assert response.status_code == 422, (body, response.text)
        assert set(response.json()) == {"error"}
        _no_secret(response.text)
    assert (await api.client.get("/v1/accounts")).json()["items"] == []
    async with api.store.read() as conn:
        assert (await conn.scalar(sa.select(sa.func.count()).select_from(sealed_secrets))) == 0
    assert api.sync_wakes.count == 0


async def test_update_credentials_and_roll_back(api: Api) -> None:
    account = await api.add_account()
    account_id = account["id"]
    wakes = api.sync_wakes.count

    response = await api.client.put(
        f"/v1/accounts/{account_id}/credentials",
        json={"password": "Second-password-4491", "username": "new-partner@tps.example"},
    )
    assert response.status_code == 202, response.text
    _no_secret(response.text, "Second-password-4491")
    updated = response.json()
    assert updated["id"] == account_id  # update mode: the same account
    assert updated["credential_version"] == 2
    assert updated["username"] == "new-partner@tps.example"
    assert updated["status"] == "verifying"
    assert updated["status_reason"] == "credentials_updated"
    assert api.sync_wakes.count == wakes + 1
    login = await reveal_login(api.store, api.ctx.runtime.vault, account_id, reason="test")
    assert login.password.reveal() == "Second-password-4491"

    rolled = await api.client.post(f"/v1/accounts/{account_id}/credentials/rollback")
    assert rolled.status_code == 202, rolled.text
    assert rolled.json()["credential_version"] == 1
    assert rolled.json()["username"] == "partner@tps-planning.example"
    login = await reveal_login(api.store, api.ctx.runtime.vault, account_id, reason="test")
    assert login.password.reveal() == PASSWORD
    # A rollback can itself be undone.
    undone = await api.client.post(f"/v1/accounts/{account_id}/credentials/rollback")
    assert undone.json()["credential_version"] == 2

    # Bad bodies: refused, nothing changes.
    for body in ({}, {"password": ""}, {"password": PASSWORD, "vendor": VENDOR}, {"password": 1}):
        bad = await api.client.put(f"/v1/accounts/{account_id}/credentials", json=body)
        assert bad.status_code == 422, bad.text
        _no_secret(bad.text)
    assert (await api.client.get(f"/v1/accounts/{account_id}")).json()["credential_version"] == 2

    # Another account's username is taken.
    await api.add_account("third@tps.example")
    clash = await api.client.put(
        f"/v1/accounts/{account_id}/credentials",
        json={"password": PASSWORD, "username": "Third@tps.example"},
    )
    assert clash.status_code == 409
    missing = await api.client.put(
        "/v1/accounts/acc_missing/credentials", json={"password": PASSWORD}
    )
    assert missing.status_code == 404


async def test_rollback_without_a_previous_version_is_a_conflict(api: Api) -> None:
    account = await api.add_account()
    response = await api.client.post(f"/v1/accounts/{account['id']}/credentials/rollback")
    assert response.status_code == 409
    assert "previous" in response.json()["error"]["message"]


async def test_pause_resume_and_sync(api: Api) -> None:
    account = await api.add_account()
    account_id = account["id"]

    paused = await api.client.post(f"/v1/accounts/{account_id}/pause")
    assert paused.status_code == 202
    assert paused.json()["status"] == "disabled"
    assert [e["status"] for e in await _status_events(api, account_id)] == ["disabled"]
    # Pausing again changes nothing (no second event).
    assert (await api.client.post(f"/v1/accounts/{account_id}/pause")).json()["status"] == (
        "disabled"
    )
    assert len(await _status_events(api, account_id)) == 1
    refused = await api.client.post(f"/v1/accounts/{account_id}/sync")
    assert refused.status_code == 409
    assert "paused" in refused.json()["error"]["message"]

    wakes = api.sync_wakes.count
    resumed = await api.client.post(f"/v1/accounts/{account_id}/resume")
    assert resumed.status_code == 202
    assert resumed.json()["status"] == "verifying"
    assert _time(resumed.json()["next_sync_at"]) <= utcnow()
    assert api.sync_wakes.count == wakes + 1
    assert [e["status"] for e in await _status_events(api, account_id)] == [
        "disabled",
        "verifying",
    ]
    # Resuming an account that is not paused changes nothing.
    again = await api.client.post(f"/v1/accounts/{account_id}/resume")
    assert again.json()["status"] == "verifying"
    assert len(await _status_events(api, account_id)) == 2

    later = utcnow() + timedelta(hours=1)
    async with api.store.transaction() as conn:
        await account_rows.update_account(conn, account_id, now=utcnow(), next_sync_at=later)
    synced = await api.client.post(f"/v1/accounts/{account_id}/sync")
    assert synced.status_code == 202
    assert _time(synced.json()["next_sync_at"]) <= utcnow()
    assert api.sync_wakes.count == wakes + 2

    for action in ("pause", "resume", "sync"):
        assert (await api.client.post(f"/v1/accounts/acc_nope/{action}")).status_code == 404


async def test_resume_never_retries_a_rejected_password_or_a_lockout(api: Api) -> None:
    rejected = await api.add_account("rejected@tps.example")
    locked = await api.add_account("locked@tps.example")
    until = utcnow() + timedelta(minutes=20)
    async with api.store.transaction() as conn:
        current = await credential_rows.credential_in_state(
            conn, rejected["id"], CredentialState.CURRENT
        )
        assert current is not None
        await credential_rows.mark_rejected(conn, current.id, utcnow())
        await signins.portal_login(conn, "clearcorrect", locked["username"], utcnow())
        await signins.update_portal_login(
            conn, "clearcorrect", locked["username"], utcnow(), locked_until=until
        )
    for account in (rejected, locked):
        await api.client.post(f"/v1/accounts/{account['id']}/pause")
        await api.client.post(f"/v1/accounts/{account['id']}/resume")

    after = (await api.client.get(f"/v1/accounts/{rejected['id']}")).json()
    assert after["status"] == "login_required"
    assert after["next_sync_at"] is None
    after = (await api.client.get(f"/v1/accounts/{locked['id']}")).json()
    assert after["status"] == "locked"
    assert _time(after["next_sync_at"]) >= until
    assert after["sign_in"]["blocked_by"] == "portal_lockout"
    assert _time(after["sign_in"]["next_attempt_at"]) == until


async def test_list_filters_and_paging(api: Api) -> None:
    made = []
    for n in range(7):
        made.append(await api.add_account(f"p{n}@tps.example", practice_id=f"practice-{n % 2}"))
    await api.client.post(f"/v1/accounts/{made[0]['id']}/pause")

    pages = await api.pages("/v1/accounts", limit=3)
    assert [len(p) for p in pages] == [3, 3, 1]
    ids = [a["id"] for p in pages for a in p]
    assert sorted(ids) == sorted(a["id"] for a in made) and len(set(ids)) == 7

    even = await api.pages("/v1/accounts", practice_id="practice-0", limit=2)
    assert {a["username"] for p in even for a in p} == {f"p{n}@tps.example" for n in (0, 2, 4, 6)}
    disabled = (await api.client.get("/v1/accounts", params={"status": "disabled"})).json()
    assert [a["id"] for a in disabled["items"]] == [made[0]["id"]]
    assert (await api.client.get("/v1/accounts", params={"vendor": "invisalign"})).json()[
        "items"
    ] == []

    for params in (
        {"status": "sleeping"},
        {"vendor": "lightforce"},
        {"limit": 0},
        {"limit": 501},
        {"cursor": "not-a-cursor"},
        {"cursor": "eyJrIjoiY2FzZXMiLCJ0IjoiMjAyNiIsImkiOiJ4In0"},  # a cases cursor
    ):
        response = await api.client.get("/v1/accounts", params=params)
        assert response.status_code == 422, (params, response.text)


async def test_delete_shreds_secrets_and_purges_synced_data(api: Api) -> None:
    keep = await api.add_account("keep@tps.example")
    gone = await api.add_account()
    await api.client.put(f"/v1/accounts/{gone['id']}/credentials", json={"password": "b" * 14})
    (case_id,) = await seed_cases(api.store, gone["id"], [1], setups=True)
    await seed_cases(api.store, keep["id"], [2], setups=True)
    posted = await api.client.post(
        f"/v1/cases/{case_id}/comments", json={"body": "hello"}, headers={"Idempotency-Key": "k1"}
    )
    assert posted.status_code == 202

    response = await api.client.delete(f"/v1/accounts/{gone['id']}")
    assert response.status_code == 204
    assert response.content == b""
    assert (await api.client.get(f"/v1/accounts/{gone['id']}")).status_code == 404
    assert (await api.client.get(f"/v1/cases/{case_id}")).status_code == 404
    assert (await api.client.delete(f"/v1/accounts/{gone['id']}")).status_code == 404

    async with api.store.read() as conn:
        for table in (sealed_secrets, credentials, cases, actions, events, browser_sessions):
            count = await conn.scalar(
                sa.select(sa.func.count())
                .select_from(table)
                .where(table.c.account_id == gone["id"])
            )
            assert count == 0, table.name
        for table in (setups, comments):
            assert (
                await conn.scalar(
                    sa.select(sa.func.count()).select_from(table).where(table.c.case_id == case_id)
                )
                == 0
            )
        shred = (
            await conn.execute(
                sa.select(audit_log.c.action).where(audit_log.c.account_id == gone["id"])
            )
        ).scalars()
        assert "shred" in list(shred)
        # The other account is untouched.
        assert (
            await conn.scalar(
                sa.select(sa.func.count())
                .select_from(sealed_secrets)
                .where(sealed_secrets.c.account_id == keep["id"])
            )
            == 1
        )
    listed = (await api.client.get("/v1/cases")).json()["items"]
    assert [c["account_id"] for c in listed] == [keep["id"]]


async def test_sync_history_after_a_sandbox_sync(
    api_factory: Any, start_portals: PortalFactory
) -> None:
    portal = start_portals(VENDOR, practices=3, cases=4, seed=11)
    api: Api = await api_factory(vendors={VENDOR: {"base_url": portal.url}})
    login = scenario(VENDOR, "good")
    account = await api.add_account(login.username, login.password)
    assert (await api.client.get(f"/v1/accounts/{account['id']}/runs")).json() == {
        "items": [],
        "next_cursor": None,
    }

    services = make_services(api.store, api.ctx.runtime.vault, {VENDOR: portal.url})
    for _ in range(3):
        result = await sync_account(services, account["id"], full=True)
        assert result.outcome == "succeeded", result

    after = (await api.client.get(f"/v1/accounts/{account['id']}")).json()
    assert after["status"] == "active"
    assert after["last_sync_at"] is not None
    pages = await api.pages(f"/v1/accounts/{account['id']}/runs", limit=2)
    runs = [r for p in pages for r in p]
    assert [len(p) for p in pages] == [2, 1]
    assert [r["outcome"] for r in runs] == ["succeeded"] * 3
    assert runs == sorted(runs, key=lambda r: (r["started_at"], r["id"]), reverse=True)
    assert runs[0]["counts"]["cases_listed"] > 0
    assert set(runs[0]) == {
        "id",
        "account_id",
        "full",
        "started_at",
        "finished_at",
        "outcome",
        "counts",
        "error",
        "failed_facts",
        "unknown_labels",
    }
    assert runs[0]["failed_facts"] == [] and runs[0]["unknown_labels"] == []
    assert (await api.client.get("/v1/accounts/acc_missing/runs")).status_code == 404


async def test_vendor_health_is_served_per_vendor(api: Api) -> None:
    response = await api.client.get("/v1/vendors/clearcorrect/health")
    assert response.status_code == 200
    body = response.json()
    assert body["vendor"] == "clearcorrect" and body["state"] == "ok"
    assert body["recent"]["runs"] == 0 and body["failing_facts"] == []
    assert (await api.client.get("/v1/vendors/lightforce/health")).status_code == 422
