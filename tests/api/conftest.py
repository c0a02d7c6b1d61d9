"""The API in-process: the app's own lifespan (engines, vault), a throwaway data dir, and an
httpx client with a valid token. Data is seeded through the store or a sandbox sync."""

from __future__ import annotations

import base64
import os
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI

from adapters.base import CaseSummary, Comment, Setup
from connector.api.app import create_app
from connector.api.state import ApiContext
from connector.clock import utcnow
from connector.domain import AuthorRole, CaseStatus, SetupState
from connector.settings import Settings
from connector.store import Store
from tests.inprocess import in_process_api
from tests.seeding import seed_case

TOKEN = "api-test-token-0123456789"
OTHER_TOKEN = "api-test-token-rotated-9876"
PASSWORD = "Pw-correct-horse-7731"  # 12+ characters: searched for in every response and log
VENDOR = "clearcorrect"


def settings_for(tmp_path: Path, database_url: str | None = None, **values: Any) -> Settings:
    key = base64.b64encode(os.urandom(32)).decode()
    values.setdefault("api", {"tokens": [TOKEN, OTHER_TOKEN]})
    database = {"url": database_url or "", **values.pop("database", {})}
    return Settings(
        data_dir=tmp_path,
        database=database,
        vault={"provider": "env", "keys": f"k1:{key}"},
        **values,
    )


@dataclass
class Nudges:
    """Stands in for the scheduler and the action loop: counts how often the API woke them."""

    count: int = 0

    def wake(self) -> None:
        self.count += 1


@dataclass
class Api:
    app: FastAPI
    client: httpx.AsyncClient
    ctx: ApiContext
    sync_wakes: Nudges = field(default_factory=Nudges)
    action_wakes: Nudges = field(default_factory=Nudges)

    @property
    def store(self) -> Store:
        return self.ctx.runtime.store

    async def add_account(
        self,
        username: str = "partner@tps-planning.example",
        password: str = PASSWORD,
        **values: Any,
    ) -> dict[str, Any]:
        body = {"vendor": VENDOR, "username": username, "password": password, **values}
        response = await self.client.post("/v1/accounts", json=body)
        assert response.status_code == 201, response.text
        account: dict[str, Any] = response.json()
        return account

    async def pages(self, path: str, **params: Any) -> list[list[dict[str, Any]]]:
        """Every page of a list, following `next_cursor`."""
        found: list[list[dict[str, Any]]] = []
        cursor: str | None = None
        while True:
            query = {**params, **({"cursor": cursor} if cursor else {})}
            response = await self.client.get(path, params=query)
            assert response.status_code == 200, response.text
            body = response.json()
            found.append(body["items"])
            cursor = body["next_cursor"]
            if cursor is None:
                return found

    async def pages_feed(self, limit: int = 50) -> list[list[dict[str, Any]]]:
        """The change feed from the start, page by page, until a page comes back empty."""
        found: list[list[dict[str, Any]]] = []
        cursor: str | None = None
        while True:
            params: dict[str, Any] = {"limit": limit, **({"cursor": cursor} if cursor else {})}
            response = await self.client.get("/v1/changes", params=params)
            assert response.status_code == 200, response.text
            body = response.json()
            if not body["items"]:
                assert body["next_cursor"] == (cursor or body["next_cursor"])
                return found
            found.append(body["items"])
            cursor = body["next_cursor"]


@pytest_asyncio.fixture
async def api_factory(
    tmp_path: Path,
) -> AsyncIterator[Callable[..., Any]]:
    """`api = await api_factory(database_url=..., **settings)`: each is closed after the test."""
    from contextlib import AsyncExitStack

    async with AsyncExitStack() as stack:

        async def make(database_url: str | None = None, **values: Any) -> Api:
            settings = settings_for(tmp_path, database_url, **values)
            app, ctx, client = await in_process_api(stack, settings, TOKEN)
            api = Api(app, client, ctx)
            ctx.wakers.scheduler.append(api.sync_wakes)
            ctx.wakers.actions_loops.append(api.action_wakes)
            return api

        yield make


@pytest_asyncio.fixture
async def api(api_factory: Callable[..., Any]) -> Api:
    made: Api = await api_factory()
    return made


# --- synthetic cases, written with the store's own upserts ------------------------------------


def summary(
    n: int,
    *,
    doctor: str = "dr-1",
    status: CaseStatus = CaseStatus.AWAITING_SETUP,
    action_required: bool = False,
    note: str = "",
) -> CaseSummary:
    return CaseSummary(
        vendor_case_id=f"CC-{n:06d}",
        patient_name=f"Patient {n}{note}",
        patient_id=str(100000 + n),
        vendor_doctor_id=doctor,
        vendor_doctor_name=f"Dr. {doctor}",
        status=status,
        vendor_status=str(status),
        action_required=action_required,
        unread_comments=0,
        updated_at=datetime(2026, 1, 1, tzinfo=utcnow().tzinfo) + timedelta(minutes=n),
    )


async def seed_cases(
    store: Store,
    account_id: str,
    numbers: Iterable[int],
    *,
    practice_id: str | None = None,
    setups: bool = False,
    **kwargs: Any,
) -> list[str]:
    """Insert (or update) cases CC-<n> on an account; returns their ids, in order."""
    ids: list[str] = []
    for n in numbers:
        async with store.transaction() as conn:
            now = utcnow()
            case_id, _ = await seed_case(
                conn,
                account_id=account_id,
                vendor=VENDOR,
                practice_id=practice_id,
                summary=summary(n, **kwargs),
                vendor_created_at=now - timedelta(days=3),
                now=now,
                setups=[
                    Setup(f"S-{n}-1", 1, now, SetupState.SUPERSEDED, "Superseded", None),
                    Setup(f"S-{n}-2", 2, now, SetupState.IN_REVIEW, "Awaiting approval", None),
                ]
                if setups
                else [],
                comments=[
                    Comment(f"M-{n}", AuthorRole.TECHNICIAN, "Tech", "Setup ready.", now, True)
                ]
                if setups
                else [],
            )
        ids.append(case_id)
    return ids


def app_operations(app: FastAPI) -> list[tuple[str, str]]:
    """(method, path) of every route the app serves, included routers flattened.

    FastAPI 0.16x keeps included routers as nested entries of `app.routes`; older ones copy
    their routes in. Either way every route answers here with its full path.
    """
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # FastAPI before included routers were nested
        routes: Iterable[Any] = app.routes
    else:
        routes = iter_route_contexts(app.routes)
    found = []
    for route in routes:
        path = getattr(route, "path", None)
        for method in sorted(getattr(route, "methods", None) or ()):
            if path and method != "HEAD":
                found.append((method, path))
    return sorted(found)


@pytest.fixture
def api_app_routes(tmp_path: Path) -> list[str]:
    """Every path the app serves (no lifespan needed to list them)."""
    app = create_app(settings_for(tmp_path))
    return [path for _, path in app_operations(app)]
