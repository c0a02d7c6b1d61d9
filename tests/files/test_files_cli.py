"""`tps-connector files fetch`: lists a case, fetches what the policy allows, shows progress
bars (bytes and rate) and a summary table; without anything waiting it says so."""

from __future__ import annotations

import asyncio
import base64
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from adapters.base import CaseStatus, CaseSummary, FileKind, FileRef
from connector.accounts.service import create_account
from connector.cli import files as files_cli
from connector.cli.app import app
from connector.clock import utcnow
from connector.runtime import Runtime, open_runtime
from connector.settings import load_settings
from connector.store import files as file_rows
from connector.sync import SyncServices
from tests.files.fileserver import FileServer
from tests.files.support import FakeFilesAdapter, write_files
from tests.seeding import seed_case
from vault import Secret


def test_files_fetch_with_progress(
    tmp_path: Path, portal_files: tuple[FileServer, str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, url, root = portal_files
    made = write_files(root, {"upper.stl": 400_000, "plan.pdf": 50_000, "face.jpg": 9_000})
    config = tmp_path / "connector.toml"
    key = base64.b64encode(os.urandom(32)).decode()
    config.write_text(
        f'data_dir = "{tmp_path / "data"}"\n[vault]\nprovider = "env"\nkeys = "k1:{key}"\n'
        '[log]\nlevel = "warning"\n'
    )
    settings = load_settings(config)
    kinds = {"stl": FileKind.STL, "pdf": FileKind.PDF, "jpg": FileKind.PHOTO}
    listing = [FileRef(name, kinds[name[-3:]], name, len(data)) for name, data in made.items()]
    adapter = FakeFilesAdapter("clearcorrect", url, {"CC-1": listing})

    async def seed() -> str:
        async with open_runtime(settings) as rt:
            account = await create_account(
                rt.store, rt.vault, vendor="clearcorrect",
                username="cli@tps-planning.example", password=Secret("Cli-password-1234"),
            )  # fmt: skip
            now = utcnow()
            async with rt.store.transaction() as conn:
                case_id, _ = await seed_case(
                    conn, account_id=account.id, vendor="clearcorrect", now=now,
                    summary=CaseSummary("CC-1", "P", "1", None, None, CaseStatus.IN_TREATMENT,
                                        "In treatment", False, 0, now),
                    vendor_created_at=now,
                )  # fmt: skip
            return case_id

    case_id = asyncio.run(seed())

    @asynccontextmanager
    async def fake_services(rt: Runtime) -> AsyncIterator[SyncServices]:
        yield SyncServices(rt.store, rt.vault, {"clearcorrect": adapter})

    monkeypatch.setattr(files_cli, "open_sync_services", fake_services)
    runner = CliRunner()
    result = runner.invoke(app, ["files", "fetch", "--case", case_id, "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert ("Files" in result.output and "MB/s" in result.output) or "kB/s" in result.output
    assert "fetched" in result.output

    async def stored() -> dict[str, Any]:
        async with open_runtime(settings) as rt, rt.store.read() as conn:
            return {f.name: f.blob_id for f in await file_rows.case_files(conn, case_id)}

    found = asyncio.run(stored())
    assert found["upper.stl"] and found["plan.pdf"] and found["face.jpg"] is None

    again = runner.invoke(app, ["files", "fetch", "--config", str(config)])
    assert again.exit_code != 0 and "no file is waiting" in str(again.exception or again.output)
