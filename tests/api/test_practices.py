"""`/v1/practice-mappings`: a mapping assigns its practice to the doctor's synced cases on
accounts that serve several practices, with a `case.updated` event each, in one transaction."""

from __future__ import annotations

from typing import Any

from connector.clock import utcnow
from connector.store import cases as case_rows
from tests.api.conftest import VENDOR, Api, seed_cases, summary
from tests.seeding import seed_case


async def _changes(api: Api) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for items in await api.pages_feed():
        found.extend(items)
    return found


async def test_mapping_assigns_cases_and_emits_events(api: Api) -> None:
    shared = await api.add_account("shared@tps.example")
    own = await api.add_account("own@tps.example", practice_id="practice-own")
    dr1 = await seed_cases(api.store, shared["id"], range(3), doctor="dr-1")
    dr2 = await seed_cases(api.store, shared["id"], range(3, 5), doctor="dr-2")
    owned = await seed_cases(
        api.store, own["id"], range(5, 7), doctor="dr-1", practice_id="practice-own"
    )
    removed = await seed_cases(api.store, shared["id"], [7], doctor="dr-1")
    async with api.store.transaction() as conn:
        await case_rows.mark_removed(
            conn, shared["id"], [f"CC-{n:06d}" for n in range(7)], utcnow()
        )
    feed_before = len(await _changes(api))

    response = await api.client.put(
        f"/v1/practice-mappings/{VENDOR}/dr-1", json={"practice_id": "practice-9"}
    )
    assert response.status_code == 200, response.text
    mapping = response.json()
    assert mapping["practice_id"] == "practice-9" and mapping["cases_assigned"] == 3
    assert (mapping["vendor"], mapping["vendor_doctor_id"]) == (VENDOR, "dr-1")

    assigned = await api.pages("/v1/cases", practice_id="practice-9")
    assert sorted(c["id"] for p in assigned for c in p) == sorted(dr1)
    # Accounts with their own practice keep it; other doctors and removed cases are untouched.
    own_cases = await api.pages("/v1/cases", account_id=own["id"])
    assert {c["practice_id"] for p in own_cases for c in p} == {"practice-own"}
    for case_id in dr2 + removed:
        assert (await api.client.get(f"/v1/cases/{case_id}")).json()["practice_id"] is None
    assert {c["id"] for p in own_cases for c in p} == set(owned)

    new_events = (await _changes(api))[feed_before:]
    assert sorted(e["data"]["id"] for e in new_events) == sorted(dr1)
    assert {e["type"] for e in new_events} == {"case.updated"}
    assert {e["data"]["practice_id"] for e in new_events} == {"practice-9"}

    # The same mapping again changes nothing and says so.
    again = await api.client.put(
        f"/v1/practice-mappings/{VENDOR}/dr-1", json={"practice_id": "practice-9"}
    )
    assert again.json()["cases_assigned"] == 0
    assert len(await _changes(api)) == feed_before + 3

    # The next sync sees the same content: no change of its own, no extra event.
    async with api.store.transaction() as conn:
        _, change = await seed_case(
            conn,
            account_id=shared["id"],
            vendor=VENDOR,
            practice_id="practice-9",
            summary=summary(0, doctor="dr-1"),
            vendor_created_at=await _created_at(conn, dr1[0]),
            now=utcnow(),
        )
    assert change is case_rows.Change.UNCHANGED

    # A new practice for the doctor moves the cases again.
    moved = await api.client.put(
        f"/v1/practice-mappings/{VENDOR}/dr-1", json={"practice_id": "practice-10"}
    )
    assert moved.json()["cases_assigned"] == 3


async def _created_at(conn: Any, case_id: str) -> Any:
    import sqlalchemy as sa

    from connector.store.schema import cases

    return await conn.scalar(sa.select(cases.c.vendor_created_at).where(cases.c.id == case_id))


async def test_list_mappings_and_bad_input(api: Api) -> None:
    for n in range(5):
        put = await api.client.put(
            f"/v1/practice-mappings/{VENDOR}/dr-{n}", json={"practice_id": f"p-{n}"}
        )
        assert put.status_code == 200
    await api.client.put("/v1/practice-mappings/invisalign/77", json={"practice_id": "p-x"})

    pages = await api.pages("/v1/practice-mappings", limit=2)
    assert [len(p) for p in pages] == [2, 2, 2]
    keys = [(m["vendor"], m["vendor_doctor_id"]) for p in pages for m in p]
    assert keys == sorted(keys) and len(keys) == 6
    only = await api.pages("/v1/practice-mappings", vendor="invisalign")
    assert [m["practice_id"] for p in only for m in p] == ["p-x"]
    assert all(m["cases_assigned"] is None for p in pages for m in p)

    for path, body in (
        ("/v1/practice-mappings/lightforce/dr-1", {"practice_id": "p"}),
        (f"/v1/practice-mappings/{VENDOR}/dr-1", {"practice_id": ""}),
        (f"/v1/practice-mappings/{VENDOR}/dr-1", {"practice_id": "   "}),
        (f"/v1/practice-mappings/{VENDOR}/dr-1", {"practice_id": "a\tb"}),
        (f"/v1/practice-mappings/{VENDOR}/dr-1", {"practice_id": "p" * 201}),
        (f"/v1/practice-mappings/{VENDOR}/dr-1", {}),
        (f"/v1/practice-mappings/{VENDOR}/{'d' * 101}", {"practice_id": "p"}),
    ):
        response = await api.client.put(path, json=body)
        assert response.status_code == 422, (path, body, response.text)
    listed = await api.pages("/v1/practice-mappings", vendor=VENDOR)
    assert [m["practice_id"] for p in listed for m in p] == [f"p-{n}" for n in range(5)]
    bad = await api.client.get("/v1/practice-mappings", params={"cursor": "bm9wZQ"})
    assert bad.status_code == 422
