"""SIGKILL in the middle of a download from the ClearCorrect sandbox, with the real adapter:
nothing of the partial file is visible (no file points at it, the API answers 202), and the
account's next turns discard the leftovers and complete every file byte-identical to what the
sandbox serves. The sandbox's `transfer_pause_ms` keeps the download slow enough to be caught."""

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

from connector.store.schema import blobs, files
from tests.conftest import PortalFactory
from tests.files.sandbox_env import Connected

ROOT = Path(__file__).resolve().parents[2]

STORES = pytest.mark.parametrize(
    ("database_url", "blob_store"),
    [
        ("sqlite", "filesystem"),
        pytest.param("postgresql", "postgresql", marks=pytest.mark.postgres),
    ],
    indirect=["database_url"],
)


def _kill_mid_download(env: Connected, account_id: str, after_bytes: int) -> None:
    """Run a download turn in a child process and SIGKILL it once `after_bytes` arrived."""
    assert env.settings.vault.keys is not None
    settings = {
        "data_dir": str(env.settings.data_dir),
        "database": {"url": env.settings.database.url},
        "vault": {"provider": "env", "keys": env.settings.vault.keys.reveal()},
        "files": env.settings.files.model_dump(mode="json"),
    }
    args = {
        "settings": settings,
        "server_url": env.portal.url,
        "vendor": env.portal.vendor,
        "account_id": account_id,
        "after_bytes": after_bytes,
    }
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.files.killed_download", json.dumps(args)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert child.stdout is not None
        lines = []
        for line in child.stdout:
            lines.append(line)
            if line.strip() in ("receiving", "finished"):
                break
        assert lines and lines[-1].strip() == "receiving", lines
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.kill()
        child.wait(timeout=10)


@pytest.mark.slow
@STORES
async def test_sigkill_mid_download_from_the_sandbox_then_the_next_turns_complete(
    start_portals: PortalFactory, connect: Any, database_url: str, blob_store: str
) -> None:
    portal = start_portals(
        "clearcorrect", practices=1, cases=2, seed=5, file_sizes=(3_000_000, 3_500_000)
    )
    env: Connected = await connect(portal, database_url, blob_store)
    account = await env.add_and_sync("clearcorrect")
    case_ids = await env.list_everything(account)
    # About 2.5 MB/s: the child is caught with a file half received.
    portal.admin.faults(transfer_pause_ms=100, path_prefixes=["/files/"])
    _kill_mid_download(env, account.id, after_bytes=1_000_000)

    async with env.store.read() as conn:
        writing = (
            (await conn.execute(sa.select(blobs.c.id).where(blobs.c.state == "writing")))
            .scalars()
            .all()
        )
        pointed = (
            (await conn.execute(sa.select(files.c.blob_id).where(files.c.blob_id.is_not(None))))
            .scalars()
            .all()
        )
    assert len(writing) == 1 and writing[0] not in pointed  # the partial exists, unseen
    listed = await env.files_of(case_ids)
    unfinished = [i for i in listed if not i["available"]]
    assert unfinished
    for item in unfinished:
        answer = await env.client.get(f"/v1/files/{item['id']}/content")
        assert answer.status_code == 202

    portal.admin.clear_faults()
    results = await env.turns(account)
    assert all(r.outcome in ("done", "more") for r in results), results
    originals = {o["name"]: o for o in portal.admin.files()}
    listed = await env.files_of(case_ids)
    assert listed and all(i["available"] for i in listed)
    for item in listed:
        whole = await env.client.get(f"/v1/files/{item['id']}/content")
        assert whole.status_code == 200
        assert item["sha256"] == originals[item["name"]]["sha256"]
        assert len(whole.content) == originals[item["name"]]["size"]
    async with env.store.read() as conn:
        states = set((await conn.execute(sa.select(blobs.c.state))).scalars().all())
    assert states == {"stored"}  # the partial was discarded
    if blob_store == "filesystem":
        partials = env.settings.files_path / account.id / ".partial"
        assert not partials.exists() or list(partials.iterdir()) == []
