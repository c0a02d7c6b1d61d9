"""A connector (API in-process) wired to the real vendor adapters and the sandbox portals over
HTTP: what the acceptance tests of files share."""

from __future__ import annotations

import base64
import os
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest_asyncio
import sqlalchemy as sa

from adapters.browser import BrowserPool
from adapters.registry import AdapterParts, build_adapter
from connector.api.state import ApiContext
from connector.clock import utcnow
from connector.domain import Account
from connector.files import FilesServices, TurnResult, fetch_account, files_services
from connector.settings import Settings
from connector.store import Store
from connector.store import files as file_rows
from connector.store.schema import cases
from connector.sync import SyncServices, sync_account
from sandbox.common.server import PortalHandle
from sandbox.scenarios import scenario
from tests.inprocess import in_process_api
from tests.sync.support import FAST, add

TOKEN = "files-sandbox-token-0123456789"
ALL_KINDS = ["stl", "pdf", "photo", "xray", "archive"]


@dataclass
class Connected:
    settings: Settings
    ctx: ApiContext
    client: httpx.AsyncClient
    services: FilesServices
    portal: PortalHandle
    case_ids: list[str] = field(default_factory=list)

    @property
    def store(self) -> Store:
        return self.ctx.runtime.store

    async def add_and_sync(self, vendor: str, login: str = "good") -> Account:
        account = await add(self.store, self.ctx.runtime.vault, vendor, scenario(vendor, login))
        result = await sync_account(self.services.sync, account.id, full=True)
        assert result.counts["cases_listed"] > 0, result
        return account

    async def list_everything(self, account: Account) -> list[str]:
        """Queue a listing that fetches what the policy allows, for every case."""
        async with self.store.transaction() as conn:
            ids = (
                (await conn.execute(sa.select(cases.c.id).where(cases.c.account_id == account.id)))
                .scalars()
                .all()
            )
            for case_id in ids:
                await file_rows.request_listing(conn, case_id, account.id, utcnow(), eager=True)
        self.case_ids = list(ids)
        return self.case_ids

    async def turns(self, account: Account) -> list[TurnResult]:
        results = []
        for _ in range(30):
            result = await fetch_account(self.services, account.id)
            results.append(result)
            if result.outcome != "more":
                return results
        raise AssertionError("download turns never finished")

    async def files_of(self, case_ids: list[str]) -> list[dict[str, Any]]:
        items = []
        for case_id in case_ids:
            response = await self.client.get(f"/v1/cases/{case_id}/files")
            assert response.status_code == 200, response.text
            items += [{**item, "case": case_id} for item in response.json()["items"]]
        return items


def sandbox_settings(tmp_path: Path, database_url: str, blob_store: str) -> Settings:
    key = base64.b64encode(os.urandom(32)).decode()
    every_kind = {"kinds": ALL_KINDS, "eager": True}
    return Settings(
        data_dir=tmp_path / "data",
        database={"url": database_url},
        vault={"provider": "env", "keys": f"k1:{key}"},
        api={"tokens": [TOKEN]},
        files={
            "store": blob_store, "chunk_kib": 64,
            "clearcorrect": every_kind, "invisalign": every_kind,
        },
    )  # fmt: skip


@pytest_asyncio.fixture
async def connect(
    tmp_path: Path, chromium_options: dict[str, Any]
) -> AsyncIterator[Callable[..., Any]]:
    """`await connect(portal, database_url, blob_store)` -> a `Connected`."""
    async with AsyncExitStack() as stack:
        pool = BrowserPool(executable_path=chromium_options.get("executable_path"))
        stack.push_async_callback(pool.close)

        async def make(portal: PortalHandle, database_url: str, blob_store: str) -> Connected:
            settings = sandbox_settings(tmp_path, database_url, blob_store)
            _, ctx, client = await in_process_api(stack, settings, TOKEN)
            adapter = build_adapter(
                portal.vendor, AdapterParts(base_url=portal.url, pool=pool, policy=FAST)
            )
            sync = SyncServices(ctx.runtime.store, ctx.runtime.vault, {portal.vendor: adapter})
            return Connected(settings, ctx, client, files_services(settings, sync), portal)

        yield make
