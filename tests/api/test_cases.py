"""`/v1/cases`: filters, keyset paging (no duplicates, no gaps, stable under inserts), removed
cases, one case with its setups and comments, and the data a real sandbox sync stored."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import sqlalchemy as sa

from connector.api.models import CaseOut
from connector.clock import utcnow
from connector.domain import CaseStatus
from connector.store import cases as case_rows
from connector.store.case_list import list_case_page
from connector.store.schema import cases
from connector.sync import sync_account
from sandbox.scenarios import scenario
from tests.api.conftest import VENDOR, Api, seed_cases
from tests.conftest import BOTH_DATABASES, PortalFactory
from tests.sync.support import make_services, portal_snapshot


def _ids(pages: list[list[dict[str, Any]]]) -> list[str]:
    return [c["id"] for p in pages for c in p]


async def _two_accounts(api: Api) -> tuple[dict[str, Any], dict[str, Any]]:
    shared = await api.add_account("shared@tps.example")
    own = await api.add_account("own@tps.example", practice_id="practice-own")
    return shared, own


async def test_filters_combine(api: Api) -> None:
    shared, own = await _two_accounts(api)
    review = await seed_cases(
        api.store,
        shared["id"],
        range(0, 6),
        practice_id="p1",
        status=CaseStatus.SETUP_IN_REVIEW,
        action_required=True,
    )
    waiting = await seed_cases(api.store, shared["id"], range(6, 10), practice_id="p2")
    owned = await seed_cases(api.store, own["id"], range(10, 13), practice_id="practice-own")
    everything = review + waiting + owned

    async def ids(**params: Any) -> set[str]:
        return set(_ids(await api.pages("/v1/cases", limit=4, **params)))

    assert await ids() == set(everything)
    assert await ids(account_id=shared["id"]) == set(review + waiting)
    assert await ids(practice_id="p1") == set(review)
    assert await ids(status="setup_in_review") == set(review)
    assert await ids(action_required="true") == set(review)
    assert await ids(action_required="false") == set(waiting + owned)
    assert await ids(status="awaiting_setup", practice_id="p2") == set(waiting)
    assert await ids(vendor=VENDOR) == set(everything)
    assert await ids(vendor="invisalign") == set()
    assert await ids(account_id="acc_unknown") == set()

    # updated_since: at or after the time given (cases touched later are included).
    cutoff = utcnow()
    (touched,) = await seed_cases(
        api.store, own["id"], [10], practice_id="practice-own", note=" (renamed)"
    )
    assert touched == owned[0]
    assert await ids(updated_since=cutoff.isoformat()) == {touched}
    assert await ids(updated_since=cutoff.isoformat().replace("+00:00", "Z")) == {touched}
    assert await ids(updated_since=(cutoff + timedelta(hours=1)).isoformat()) == set()
    # A valid RFC 3339 time before what UTC can hold is the earliest time there is.
    assert await ids(updated_since="0001-01-01T00:00:00+01:00") == await ids()

    for params in (
        {"status": "lost"},
        {"action_required": "maybe"},
        {"updated_since": "yesterday"},
        {"vendor": "lightforce"},
        {"practice_id": "a\x00b"},
        {"account_id": "acc x"},
        {"limit": 0},
        {"limit": 501},
        {"updated_since": "1700000000"},  # unix seconds: not RFC 3339
        {"updated_since": "2026-01-01"},
        {"updated_since": "2026-01-01T00:00:00"},  # no offset: ambiguous
    ):
        response = await api.client.get("/v1/cases", params=params)
        assert response.status_code == 422, (params, response.text)
        assert set(response.json()) == {"error"}


async def test_paging_has_no_duplicates_or_gaps_and_is_ordered(api: Api) -> None:
    shared, _ = await _two_accounts(api)
    made = await seed_cases(api.store, shared["id"], range(23))
    pages = await api.pages("/v1/cases", limit=5)
    assert [len(p) for p in pages] == [5, 5, 5, 5, 3]
    ids = _ids(pages)
    assert sorted(ids) == sorted(made) and len(set(ids)) == len(made)
    keys = [(c["updated_at"], c["id"]) for p in pages for c in p]
    assert keys == sorted(keys)
    # A page of exactly `limit` at the end says so with a null cursor, not an empty extra page.
    exact = await api.pages("/v1/cases", limit=23)
    assert [len(p) for p in exact] == [23]
    assert len(await api.pages("/v1/cases", limit=500)) == 1


async def test_paging_is_stable_while_cases_are_inserted(api: Api) -> None:
    shared, own = await _two_accounts(api)
    original = await seed_cases(api.store, shared["id"], range(20))
    seen: list[str] = []
    cursor: str | None = None
    inserted: list[str] = []
    batch = 100
    while True:
        params: dict[str, Any] = {"limit": 6}
        if cursor:
            params["cursor"] = cursor
        body = (await api.client.get("/v1/cases", params=params)).json()
        seen.extend(c["id"] for c in body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            break
        # Between every two pages, other syncs insert cases (on both accounts).
        inserted += await seed_cases(api.store, own["id"], range(batch, batch + 2))
        inserted += await seed_cases(api.store, shared["id"], range(batch + 2, batch + 3))
        batch += 3
    assert len(seen) == len(set(seen)), "a case came twice"
    assert set(original) <= set(seen), "a case was skipped"
    # New cases sort after every case that existed: a client that keeps paging sees them too.
    assert set(seen) - set(original) <= set(inserted)
    # The cases that were there come first, in the order they were written.
    assert seen[: len(original)] == original


async def test_removed_cases_are_left_out_unless_asked_for(api: Api) -> None:
    shared, _ = await _two_accounts(api)
    made = await seed_cases(api.store, shared["id"], range(4))
    async with api.store.transaction() as conn:
        gone = await case_rows.mark_removed(
            conn, shared["id"], ["CC-000000", "CC-000001", "CC-000002"], utcnow()
        )
    assert gone == [made[3]]
    live = _ids(await api.pages("/v1/cases"))
    assert live == made[:3]
    every = _ids(await api.pages("/v1/cases", include_removed="true"))
    assert set(every) == set(made)
    removed = (await api.client.get(f"/v1/cases/{made[3]}")).json()
    assert removed["removed_at"] is not None


async def test_bad_cursors_are_422_without_echo(api: Api) -> None:
    shared, _ = await _two_accounts(api)
    await seed_cases(api.store, shared["id"], range(3))
    first = (await api.client.get("/v1/cases", params={"limit": 1})).json()
    good = first["next_cursor"]
    assert (await api.client.get("/v1/cases", params={"cursor": good})).status_code == 200
    tag, micros, case_id = good.split(".")
    bad = [
        "x",
        "!!!!",
        f"a.{case_id}",  # an accounts cursor
        f"r.{micros}.{case_id}",  # a runs cursor
        f"{tag}.yesterday.{case_id}",
        f"{tag}.{micros}",
        f"{tag}.{micros}.{case_id}.extra",
        f"{tag}.{'9' * 17}.{case_id}",  # beyond what a time can be
        f"{tag}.{micros}.case x",
        "eyJrIjoiY2FzZXMiLCJ0IjoiMjAyNiIsImkiOiJ4In0",  # the old base64 JSON format
        "A" * 600,
    ]
    for cursor in bad:
        response = await api.client.get("/v1/cases", params={"cursor": cursor})
        assert response.status_code == 422, (cursor, response.text)
        assert len(cursor) < 4 or cursor not in response.text


async def test_every_cursor_the_schema_admits_is_a_position(api: Api) -> None:
    """The schema's pattern is the whole rule: any cursor matching it pages from somewhere."""
    shared, _ = await _two_accounts(api)
    await seed_cases(api.store, shared["id"], range(3))
    for cursor in ("c.0.a", "c.9999999999999999.zzz", "c.1767225600000000.case_0"):
        response = await api.client.get("/v1/cases", params={"cursor": cursor})
        assert response.status_code == 200, (cursor, response.text)
    everything = (await api.client.get("/v1/cases", params={"cursor": "c.0.0"})).json()
    assert len(everything["items"]) == 3
    nothing = await api.client.get("/v1/cases", params={"cursor": "c.9999999999999999.z"})
    assert nothing.json() == {"items": [], "next_cursor": None}


async def test_one_case_with_setups_and_comments(api: Api) -> None:
    shared, _ = await _two_accounts(api)
    (case_id,) = await seed_cases(api.store, shared["id"], [7], setups=True)
    response = await api.client.get(f"/v1/cases/{case_id}")
    assert response.status_code == 200
    case = response.json()
    assert case["id"] == case_id and case["vendor_case_id"] == "CC-000007"
    assert case["doctor"] == {"vendor_id": "dr-1", "name": "Dr. dr-1"}
    assert [s["version"] for s in case["setups"]] == [1, 2]
    assert [s["state"] for s in case["setups"]] == ["superseded", "in_review"]
    assert [c["body"] for c in case["comments"]] == ["Setup ready."]
    assert case["comments"][0]["unread"] is True

    setups = (await api.client.get(f"/v1/cases/{case_id}/setups")).json()
    assert setups == {"items": case["setups"], "next_cursor": None}
    comments = (await api.client.get(f"/v1/cases/{case_id}/comments")).json()
    assert comments == {"items": case["comments"], "next_cursor": None}
    without = {k: v for k, v in case.items() if k not in ("setups", "comments")}
    listed = (await api.client.get("/v1/cases")).json()["items"]
    assert listed == [without]

    for path in (
        "/v1/cases/case_nope",
        "/v1/cases/case_nope/setups",
        "/v1/cases/case_nope/comments",
    ):
        response = await api.client.get(path)
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"


async def test_serves_what_a_sandbox_sync_stored(
    api_factory: Any, start_portals: PortalFactory
) -> None:
    portal = start_portals(VENDOR, practices=2, cases=4, seed=5)
    api: Api = await api_factory()
    login = scenario(VENDOR, "good")
    account = await api.add_account(login.username, login.password, practice_id="hart")
    services = make_services(api.store, api.ctx.runtime.vault, {VENDOR: portal.url})
    result = await sync_account(services, account["id"])
    assert result.outcome == "succeeded", result

    expected = portal_snapshot(portal.admin.state(), login.username)
    pages = await api.pages("/v1/cases", account_id=account["id"], limit=2)
    listed = [c for p in pages for c in p]
    assert {c["vendor_case_id"] for c in listed} == set(expected)
    assert {c["practice_id"] for c in listed} == {"hart"}
    for case in listed:
        detail = (await api.client.get(f"/v1/cases/{case['id']}")).json()
        want = expected[case["vendor_case_id"]]
        assert detail["patient_name"] == want["patient_name"]
        assert detail["vendor_status"] == want["vendor_status"]
        assert {s["vendor_setup_id"]: s["version"] for s in detail["setups"]} == want["setups"]
        assert {
            c["vendor_comment_id"]: (c["body"], c["unread"]) for c in detail["comments"]
        } == want["comments"]
    async with api.store.read() as conn:
        stored = await conn.scalar(sa.select(sa.func.count()).select_from(cases))
    assert stored == len(listed)


async def test_list_items_are_the_event_shape(api: Api) -> None:
    """The list renders rows itself (for speed); it must equal `case_json`, the events' data."""
    shared, _ = await _two_accounts(api)
    await seed_cases(api.store, shared["id"], range(3), practice_id="p")
    async with api.store.transaction() as conn:
        await case_rows.mark_removed(conn, shared["id"], ["CC-000000"], utcnow())
    listed = (await api.client.get("/v1/cases", params={"include_removed": "true"})).json()
    async with api.store.read() as conn:
        rows = (await conn.execute(sa.select(cases).order_by(cases.c.updated_at, cases.c.id))).all()
    expected = [
        CaseOut.model_validate(case_rows.case_json(r)).model_dump(mode="json") for r in rows
    ]
    assert listed["items"] == expected
    assert {c["removed_at"] is None for c in listed["items"]} == {True, False}


#: Times whose text is easy to get wrong: no fraction, one microsecond, the last one of a day,
#: before 1970, a fraction with trailing zeros.
_EDGE_TIMES = [
    datetime(2026, 1, 1, tzinfo=UTC),
    datetime(2026, 1, 1, 0, 0, 0, 1, tzinfo=UTC),
    datetime(2026, 1, 1, 23, 59, 59, 999_999, tzinfo=UTC),
    datetime(1969, 7, 20, 20, 17, 40, 120_000, tzinfo=UTC),
    datetime(2999, 12, 31, 23, 59, 59, 500_000, tzinfo=UTC),
]


@BOTH_DATABASES
async def test_list_renders_times_as_the_events_do(api_factory: Any, database_url: str) -> None:
    """The database writes the list's times (once, as stored): the text must be `case_json`'s
    on both databases, whatever the session's time zone, and the cursors built from it must
    page without gaps."""
    api: Api = await api_factory(database_url=database_url)
    account = await api.add_account("times@tps.example")
    made = await seed_cases(api.store, account["id"], range(len(_EDGE_TIMES)))
    async with api.store.transaction() as conn:
        for n, (case_id, when) in enumerate(zip(made, _EDGE_TIMES, strict=True)):
            later = _EDGE_TIMES[(n + 1) % len(_EDGE_TIMES)]
            await conn.execute(
                cases.update()
                .where(cases.c.id == case_id)
                .values(
                    vendor_created_at=when,
                    vendor_updated_at=later,
                    # Paged on: every updated_at after 1970, two of them equal (the id breaks it).
                    updated_at=max(when, _EDGE_TIMES[0]),
                    removed_at=later if n % 2 else None,
                )
            )
    if api.store.dialect == "postgresql":
        name = database_url.rsplit("/", 1)[1]
        async with api.store.transaction() as conn:
            await conn.execute(sa.text(f"ALTER DATABASE \"{name}\" SET timezone = 'Asia/Kolkata'"))
        await api.store.engine.dispose()  # new sessions start in that zone

    pages = await api.pages("/v1/cases", include_removed="true", limit=2)
    listed = [c for p in pages for c in p]
    async with api.store.read() as conn:
        if api.store.dialect == "postgresql":
            assert await conn.scalar(sa.text("SHOW timezone")) == "Asia/Kolkata"
        rows = (await conn.execute(sa.select(cases).order_by(cases.c.updated_at, cases.c.id))).all()
    assert [len(p) for p in pages] == [2, 2, 1]
    assert listed == [case_rows.case_json(r) for r in rows]
    assert listed == [CaseOut.model_validate(c).model_dump(mode="json") for c in listed]
    assert {c["vendor_created_at"] for c in listed} == {
        "2026-01-01T00:00:00Z",
        "2026-01-01T00:00:00.000001Z",
        "2026-01-01T23:59:59.999999Z",
        "1969-07-20T20:17:40.120000Z",
        "2999-12-31T23:59:59.500000Z",
    }


#: Text whose JSON is easy to get wrong: every control character, quotes and backslashes, a
#: slash, DEL, non-ASCII letters, a line separator, an emoji (outside the BMP).
_AWKWARD_TEXT = "".join(map(chr, range(1, 32))) + "\"\\/\x7f é ü 漢 \u2028 😀 'x'"


@BOTH_DATABASES
async def test_the_database_writes_the_bytes_orjson_writes(
    api_factory: Any, database_url: str
) -> None:
    """The list's JSON is written by the database; each page's body must be, byte for byte,
    what orjson makes of the same page in its dict form (`list_case_page`), whatever the text
    holds, nulls, booleans and numbers included."""
    api: Api = await api_factory(database_url=database_url)
    account = await api.add_account("bytes@tps.example")
    made = await seed_cases(api.store, account["id"], range(4))
    async with api.store.transaction() as conn:
        for n, case_id in enumerate(made):
            await conn.execute(
                cases.update()
                .where(cases.c.id == case_id)
                .values(
                    patient_name=_AWKWARD_TEXT[n:],
                    vendor_doctor_name=None if n % 2 else _AWKWARD_TEXT[::-1],
                    vendor_status=_AWKWARD_TEXT,
                    action_required=n % 2 == 0,
                    unread_comments=n * 1000,
                )
            )
    cursor: str | None = None
    after = None
    bodies = 0
    while True:
        params = {"limit": "3", **({"cursor": cursor} if cursor else {})}
        response = await api.client.get("/v1/cases", params=params)
        async with api.store.read() as conn:
            rows = await list_case_page(conn, after=after, limit=4)
        page = rows[:3]
        cursor = response.json()["next_cursor"]
        expected = {"items": page, "next_cursor": cursor if len(rows) > 3 else None}
        assert response.content == orjson.dumps(expected)
        bodies += 1
        if cursor is None:
            break
        last = page[-1]
        after = (datetime.fromisoformat(last["updated_at"]), last["id"])
    assert bodies == 2
