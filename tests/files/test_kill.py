"""SIGKILL in the middle of a download: nothing is visible (no file points at the partial
blob; the API still answers 202), and the account's next turn discards the leftovers and
completes the file byte-identical."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from connector.files import fetch_account
from connector.store import files as file_rows
from connector.store.schema import blob_chunks, blobs
from tests.files.conftest import Env
from tests.files.support import sha

ROOT = Path(__file__).resolve().parents[2]

STORES = pytest.mark.parametrize(
    ("database_url", "blob_store"),
    [
        ("sqlite", "filesystem"),
        pytest.param("postgresql", "postgresql", marks=pytest.mark.postgres),
    ],
    indirect=["database_url"],
)


@pytest.mark.slow
@STORES
async def test_sigkill_mid_download_leaves_nothing_visible_and_the_next_turn_completes(
    env_factory: Any, database_url: str, blob_store: str
) -> None:
    env: Env = await env_factory(database_url, blob_store)
    env.server.drop_rate = 0.0
    account = await env.add_account()
    case_id = await env.add_case(
        account, 1, in_review=False, files=[("big.stl", "stl", 6_000_000, 1)]
    )
    await env.client.get(f"/v1/cases/{case_id}/files")  # queues the listing
    await fetch_account(env.services, account.id)
    async with env.store.read() as conn:
        (file,) = await file_rows.case_files(conn, case_id)
    assert (await env.client.get(f"/v1/files/{file.id}/content")).status_code == 202

    env.server.pause = 0.02  # about 3 MB/s: the child is caught in the middle
    assert env.settings.vault.keys is not None
    settings = {
        "data_dir": str(env.settings.data_dir),
        "database": {"url": env.settings.database.url},
        "vault": {"provider": "env", "keys": env.settings.vault.keys.reveal()},
        "files": env.settings.files.model_dump(mode="json"),
    }
    args = {
        "settings": settings,
        "server_url": env.adapter.base_url,
        "account_id": account.id,
        "after_bytes": 2_000_000,
    }
    child = subprocess.Popen(  # noqa: ASYNC220 - a child to kill, not one to wait for
        [sys.executable, "-m", "tests.files.killed_download", json.dumps(args)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert child.stdout is not None
        lines = []
        for line in child.stdout:  # the child's log lines, then our marker
            lines.append(line)
            if line.strip() in ("receiving", "finished"):
                break
        assert lines and lines[-1].strip() == "receiving", lines
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.kill()
        child.wait(timeout=10)
    env.server.pause = 0.0

    async with env.store.read() as conn:
        stored = await file_rows.get_file(conn, file.id)
        writing = (
            await conn.execute(sa.select(blobs.c.id).where(blobs.c.state == "writing"))
        ).all()
        chunks = (await conn.execute(sa.select(sa.func.count()).select_from(blob_chunks))).scalar()
    assert stored.blob_id is None and len(writing) == 1  # the partial exists, nothing points at it
    partials = env.settings.files_path / account.id / ".partial"
    if blob_store == "filesystem":
        assert [p.stat().st_size > 0 for p in partials.iterdir()] == [True]
    else:
        assert chunks and chunks > 0
    assert (await env.client.get(f"/v1/files/{file.id}/content")).status_code == 202

    result = await fetch_account(env.services, account.id)
    assert result.fetched == 1, result
    response = await env.client.get(f"/v1/files/{file.id}/content")
    assert response.status_code == 200
    assert sha(response.content) == sha(env.originals["1-big.stl"])
    async with env.store.read() as conn:
        states = (await conn.execute(sa.select(blobs.c.state))).scalars().all()
    assert states == ["stored"]
    if blob_store == "filesystem":
        assert list(partials.iterdir()) == []
        assert len(env.services.blobs.filesystem.blob_ids(account.id)) == 1
