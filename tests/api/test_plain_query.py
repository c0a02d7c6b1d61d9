"""Routes that read plain query strings themselves (`PlainQueryRoute`) answer exactly as
FastAPI's standard handling does, take the plain path only for plain values, and never skip a
dependency they do not know."""

from __future__ import annotations

from typing import Annotated, Any

import fastapi.routing
import httpx
import pytest
from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request, Response

from connector.api.plain_query import PlainQueryRoute
from connector.domain import CaseStatus
from tests.api.conftest import Api, seed_cases

#: Query strings of the case list: plain ones, and every kind the plain reader leaves to FastAPI.
CASE_QUERIES = [
    ("", True),
    ("limit=100", True),
    ("limit=2&practice_id=p1", True),
    ("limit=2&practice_id=p1&action_required=true&status=setup_in_review", True),
    ("action_required=false&include_removed=true&limit=500", True),
    ("account_id=acc_unknown", True),
    ("limit=2&limit=3", True),
    ("limit=1&unknown=x", True),
    ("cursor=c.1767225660000000.case_x", True),
    ("practice_id=%C3%A9t%C3%A9", True),
    ("limit=05", False),
    ("limit=+5", False),
    ("limit=%205", False),
    ("limit=0", False),
    ("limit=501", False),
    ("limit=1e2", False),
    ("limit=", False),
    ("action_required=1", False),
    ("action_required=True", False),
    ("action_required=maybe", False),
    ("include_removed=yes", False),
    ("status=SETUP_IN_REVIEW", False),
    ("status=lost", False),
    ("practice_id=", False),
    ("practice_id=%20", False),
    ("practice_id=a%00b", False),
    ("practice_id=" + "x" * 201, False),
    ("account_id=acc%20x", False),
    ("account_id=" + "a" * 41, False),
    ("cursor=bad", False),
    ("cursor=c.1.a%0A", False),
    ("vendor=clearcorrect", False),
    ("vendor=lightforce", False),
    ("updated_since=2026-01-01T00:00:00Z", False),
    ("updated_since=yesterday", False),
]


@pytest.fixture
def standard_calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the requests FastAPI's standard handler solved (its dependencies, parameters)."""
    calls: list[int] = []
    solve = getattr(fastapi.routing, "solve_dependencies")  # noqa: B009 (not re-exported)

    async def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return await solve(*args, **kwargs)

    monkeypatch.setattr(fastapi.routing, "solve_dependencies", counted)
    return calls


async def test_case_list_answers_as_fastapi_does(api: Api, standard_calls: list[int]) -> None:
    account = await api.add_account("shared@tps.example")
    await seed_cases(
        api.store,
        account["id"],
        range(3),
        practice_id="p1",
        status=CaseStatus.SETUP_IN_REVIEW,
        action_required=True,
    )
    await seed_cases(api.store, account["id"], range(3, 5), practice_id="été")
    for query, plain in CASE_QUERIES:
        standard_calls.clear()
        api.app.dependency_overrides = {}
        answer = await api.client.get(f"/v1/cases?{query}")
        assert bool(standard_calls) is not plain, query
        # Any dependency override sends every request the standard way.
        api.app.dependency_overrides = {_unused: lambda: None}
        standard = await api.client.get(f"/v1/cases?{query}")
        assert len(standard_calls) >= 1, query
        api.app.dependency_overrides = {}
        assert answer.status_code == standard.status_code, (query, answer.text)
        assert answer.content == standard.content, query
        assert answer.headers == standard.headers, query
        assert answer.status_code in (200, 422), (query, answer.text)


async def test_plain_path_still_checks_the_token(api: Api) -> None:
    """The token middleware refuses first; the route's own check stays in the plain path."""
    transport = httpx.ASGITransport(app=api.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic x"}):
            response = await client.get("/v1/cases?limit=1", headers=headers)
            assert response.status_code == 401
            assert response.json()["error"]["code"] == "unauthorized"


def _unused() -> None:
    pass


def _refuse(request: Request) -> None:
    raise HTTPException(403, "refused by a dependency the plain reader does not know")


async def test_unknown_dependency_keeps_the_standard_path() -> None:
    router = APIRouter(route_class=PlainQueryRoute)

    @router.get("/items")
    async def items(request: Request, limit: Annotated[int, Query(ge=1)] = 5) -> Response:
        return Response(str(limit))

    guarded = FastAPI()
    guarded.include_router(router, dependencies=[Depends(_refuse)])
    open_app = FastAPI()
    open_app.include_router(router)
    for app, expected in ((guarded, (403, None)), (open_app, (200, b"7"))):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            response = await client.get("/items?limit=7")
        assert response.status_code == expected[0]
        if expected[1] is not None:
            assert response.content == expected[1]


async def test_other_endpoints_keep_the_standard_handler(standard_calls: list[int]) -> None:
    router = APIRouter(route_class=PlainQueryRoute)

    @router.get("/model")
    async def model(limit: int = 5) -> dict[str, int]:  # FastAPI serializes the value
        return {"limit": limit}

    @router.get("/path/{name}")
    async def path(name: str) -> Response:
        return Response(name)

    app = FastAPI()
    app.include_router(router)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        assert (await client.get("/model?limit=3")).json() == {"limit": 3}
        assert (await client.get("/path/x")).content == b"x"
    assert len(standard_calls) == 2
