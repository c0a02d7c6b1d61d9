"""One pass over the API on SQLite and on PostgreSQL: the same answers from both stores."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from connector.store.schema import sealed_secrets, setups
from tests.api.conftest import PASSWORD, VENDOR, Api, seed_cases
from tests.conftest import BOTH_DATABASES


@BOTH_DATABASES
async def test_api_smoke(api_factory: Any, database_url: str) -> None:
    api: Api = await api_factory(database_url=database_url)
    assert api.store.dialect == database_url.split("+")[0]
    shared = await api.add_account("shared@tps.example")
    own = await api.add_account("own@tps.example", practice_id="own")
    made = await seed_cases(api.store, shared["id"], range(9), setups=True, doctor="dr-5")
    await seed_cases(api.store, own["id"], range(9, 12), practice_id="own")

    pages = await api.pages("/v1/cases", limit=4)
    assert [len(p) for p in pages] == [4, 4, 4]
    filtered = await api.pages("/v1/cases", account_id=shared["id"], status="awaiting_setup")
    assert sorted(c["id"] for p in filtered for c in p) == sorted(made)
    since = pages[1][0]["updated_at"]
    later = await api.pages("/v1/cases", updated_since=since, limit=3)
    assert [c["id"] for p in later for c in p] == [c["id"] for p in pages[1:] for c in p]

    mapped = await api.client.put(
        f"/v1/practice-mappings/{VENDOR}/dr-5", json={"practice_id": "p5"}
    )
    assert mapped.status_code == 200 and mapped.json()["cases_assigned"] == 9
    events = [e for p in await api.pages_feed(limit=5) for e in p]
    assert [e["type"] for e in events] == ["case.updated"] * 9

    async with api.store.read() as conn:
        setup_id = await conn.scalar(
            sa.select(setups.c.id).where(setups.c.case_id == made[0], setups.c.version == 2)
        )
    rejected = await api.client.post(
        f"/v1/cases/{made[0]}/setups/{setup_id}/reject",
        json={"reason": "Open the bite."},
        headers={"Idempotency-Key": "r-1"},
    )
    assert rejected.status_code == 202
    again = await api.client.post(
        f"/v1/cases/{made[0]}/setups/{setup_id}/reject",
        json={"reason": "Open the bite."},
        headers={"Idempotency-Key": "r-1"},
    )
    assert again.json()["id"] == rejected.json()["id"]
    conflict = await api.client.post(
        f"/v1/cases/{made[0]}/setups/{setup_id}/reject",
        json={"reason": "Something else."},
        headers={"Idempotency-Key": "r-1"},
    )
    assert conflict.status_code == 409

    bad = await api.client.get("/v1/cases", params={"practice_id": "a\x00b"})
    assert bad.status_code == 422  # PostgreSQL would refuse the NUL: never a 500
    assert (await api.client.get("/v1/accounts/acc_x/runs")).status_code == 404
    updated = await api.client.put(
        f"/v1/accounts/{shared['id']}/credentials", json={"password": PASSWORD + "-2"}
    )
    assert updated.status_code == 202 and PASSWORD not in updated.text
    assert (await api.client.delete(f"/v1/accounts/{shared['id']}")).status_code == 204
    remaining = await api.pages("/v1/cases")
    assert {c["account_id"] for p in remaining for c in p} == {own["id"]}
    async with api.store.read() as conn:
        left = await conn.scalar(
            sa.select(sa.func.count())
            .select_from(sealed_secrets)
            .where(sealed_secrets.c.account_id == shared["id"])
        )
    assert left == 0
