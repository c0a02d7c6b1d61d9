"""A connector with the API in-process, a fake vendor adapter whose sessions download from a
local file server (through the shared streaming piece), an account and cases with files."""

from __future__ import annotations

import base64
import os
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AsyncExitStack, ExitStack
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from adapters.base import CaseSummary, Checksum, FileKind, FileRef, Setup, SetupState
from connector.accounts.service import create_account
from connector.api.state import ApiContext
from connector.clock import utcnow
from connector.domain import Account, CaseStatus
from connector.files import FilesServices, files_services
from connector.settings import Settings
from connector.store import Store
from connector.sync import SyncServices
from sandbox.common.server import serve
from tests.files.fileserver import FileServer
from tests.files.sandbox_env import connect  # noqa: F401 (a fixture of the sandbox tests)
from tests.files.support import FakeFilesAdapter, sha, write_files
from tests.inprocess import in_process_api
from tests.seeding import seed_case
from vault import Secret

TOKEN = "files-test-token-0123456789"
VENDOR = "clearcorrect"
PASSWORD = "Pw-files-correct-7731"

#: The portal's files of every case: (name, kind, size, setup version).
PORTAL_FILES = [
    ("upper.stl", FileKind.STL, 900_000, 2),
    ("lower.stl", FileKind.STL, 650_001, 2),
    ("plan.pdf", FileKind.PDF, 120_000, 2),
    ("smile.jpg", FileKind.PHOTO, 80_000, None),
    ("empty.stl", FileKind.STL, 0, 1),
]


@dataclass
class Env:
    settings: Settings
    ctx: ApiContext
    client: httpx.AsyncClient
    adapter: FakeFilesAdapter
    services: FilesServices
    server: FileServer
    portal_dir: Path
    originals: dict[str, bytes]

    @property
    def store(self) -> Store:
        return self.ctx.runtime.store

    async def add_account(self, username: str = "partner@tps-planning.example") -> Account:
        return await create_account(
            self.store,
            self.ctx.runtime.vault,
            vendor=VENDOR,
            username=username,
            password=Secret(PASSWORD),
        )

    async def add_case(
        self, account: Account, n: int, *, in_review: bool = True, files: list[Any] | None = None
    ) -> str:
        """A case CC-<n> whose portal listing offers `files` (default: PORTAL_FILES, with
        content unique to the case)."""
        now = utcnow()
        summary = CaseSummary(
            f"CC-{n:06d}", f"Patient {n}", str(100000 + n), "dr-1", "Dr. One",
            CaseStatus.SETUP_IN_REVIEW if in_review else CaseStatus.IN_TREATMENT,
            "Awaiting approval", in_review, 0, now,
        )  # fmt: skip
        async with self.store.transaction() as conn:
            state = SetupState.IN_REVIEW if in_review else SetupState.APPROVED
            case_id, _ = await seed_case(
                conn, account_id=account.id, vendor=VENDOR, summary=summary, now=now,
                vendor_created_at=now - timedelta(days=1),
                setups=[Setup(f"S-{n}-2", 2, now, state, "Awaiting approval", None)],
            )  # fmt: skip
        refs = []
        for name, kind, size, version in files or PORTAL_FILES:
            stored_name = f"{n}-{name}"
            if stored_name not in self.originals:
                self.originals.update(write_files(self.portal_dir, {stored_name: size}, seed=n))
            data = self.originals[stored_name]
            kind = FileKind(kind)
            refs.append(
                FileRef(
                    ref=stored_name, kind=kind, name=name, size=size, setup_version=version,
                    vendor_setup_id=f"S-{n}-2" if version else None,
                    checksum=Checksum("sha256", sha(data)) if kind is FileKind.STL else None,
                    assumed_facts=("test.assumed-fact",) if kind is FileKind.PHOTO else (),
                )
            )  # fmt: skip
        self.adapter.listing[f"CC-{n:06d}"] = refs
        return case_id


def files_settings(tmp_path: Path, database_url: str, store: str, **files: Any) -> Settings:
    key = base64.b64encode(os.urandom(32)).decode()
    return Settings(
        data_dir=tmp_path / "data",
        database={"url": database_url},
        vault={"provider": "env", "keys": f"k1:{key}"},
        api={"tokens": [TOKEN]},
        files={"store": store, "chunk_kib": 64, **files},
    )


@pytest.fixture
def portal_files(tmp_path: Path) -> Iterator[tuple[FileServer, str, Path]]:
    root = tmp_path / "portal"
    root.mkdir()
    app = FileServer(root, drop_rate=0.25, seed=3)
    with ExitStack() as stack:
        server = stack.enter_context(serve(app))
        yield app, server.url, root


@pytest_asyncio.fixture
async def env_factory(
    tmp_path: Path, portal_files: tuple[FileServer, str, Path]
) -> AsyncIterator[Callable[..., Any]]:
    app_server, url, root = portal_files
    async with AsyncExitStack() as stack:

        async def make(database_url: str, blob_store: str, **files: Any) -> Env:
            settings = files_settings(tmp_path, database_url, blob_store, **files)
            _, ctx, client = await in_process_api(stack, settings, TOKEN)
            adapter = FakeFilesAdapter(VENDOR, url)
            sync = SyncServices(ctx.runtime.store, ctx.runtime.vault, {VENDOR: adapter})
            services = files_services(settings, sync)
            return Env(settings, ctx, client, adapter, services, app_server, root, {})

        yield make
