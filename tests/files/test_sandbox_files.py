"""Files end to end against the sandbox portals over HTTP, with the real adapters: every file of
a seeded practice arrives through download turns (while the portal drops connections at random
bytes), `GET /v1/files/{id}/content` gives the sandbox's original bytes whole and by range, and
nothing of them rests in the clear on disk or in the database.

The originals are what the sandbox says it serves (`GET /__sandbox/files`); that connections
dropped and downloads resumed is the sandbox's own tally of transfers."""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from connector.store.schema import blob_chunks, blobs, events, files
from sandbox.common.server import PortalHandle
from sandbox.common.stl import read_triangle_count
from tests.conftest import PortalFactory
from tests.files.sandbox_env import Connected

STORES = pytest.mark.parametrize(
    ("database_url", "blob_store"),
    [
        ("sqlite", "filesystem"),
        pytest.param("postgresql", "postgresql", marks=pytest.mark.postgres),
    ],
    indirect=["database_url"],
)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _files_under(root: Path) -> list[bytes]:
    return [p.read_bytes() for p in root.rglob("*") if p.is_file()]


async def _at_rest(env: Connected) -> list[bytes]:
    """Every byte of the connector's state: the data dir's files and the database's rows."""
    found = _files_under(Path(env.settings.data_dir))
    async with env.store.read() as conn:
        for table in (blob_chunks, blobs, files, events):
            for row in (await conn.execute(sa.select(table))).all():
                found.append(b"".join(v if isinstance(v, bytes) else repr(v).encode() for v in row))
    return found


async def _arrive_and_serve(
    env: Connected, vendor: str
) -> tuple[list[dict[str, Any]], dict[str, bytes]]:
    """Sync the good login, list every case, run turns; every listed file is served as the
    sandbox made it, whole and by range. Returns the sandbox's originals and, by kind and
    name, what the connector served."""
    account = await env.add_and_sync(vendor)
    case_ids = await env.list_everything(account)
    results = await env.turns(account)
    assert all(r.outcome in ("done", "more") for r in results), results
    originals = env.portal.admin.files()
    listed = await env.files_of(case_ids)
    # Every file of every case the login sees arrived, none twice, none missing.
    assert listed and all(item["available"] for item in listed), [
        (i["kind"], i["available"]) for i in listed
    ]
    made = {(o["name"], o["sha256"]) for o in originals}
    by_name = {o["name"]: o for o in originals}
    assert {(i["name"], i["sha256"]) for i in listed} <= made
    served = {}
    for item in listed:
        original = by_name[item["name"]]
        whole = await env.client.get(f"/v1/files/{item['id']}/content")
        assert whole.status_code == 200
        assert sha(whole.content) == original["sha256"] and len(whole.content) == original["size"]
        assert item["name"] in whole.headers["Content-Disposition"]
        first, last = original["size"] // 3, original["size"] - 7
        part = await env.client.get(
            f"/v1/files/{item['id']}/content", headers={"Range": f"bytes={first}-{last}"}
        )
        assert part.status_code == 206
        assert sha(part.content) == sha(whole.content[first : last + 1])
        served[f"{item['kind']}:{item['name']}"] = whole.content
    return originals, served


def _resumed(portal: PortalHandle, at_least: int) -> None:
    """Connections dropped mid-file, and downloads resumed with ranges (the portal's tally)."""
    transfers = portal.admin.requests()["transfers"]
    assert transfers.get("dropped", 0) >= at_least, transfers
    assert transfers.get("ranged", 0) >= at_least, transfers


async def _nothing_in_the_clear(env: Connected, originals: list[dict[str, Any]]) -> None:
    """No file rests in the clear: neither a run from its middle nor its digest."""
    everything = await _at_rest(env)
    for original in originals:
        for secret in (bytes.fromhex(original["sample"]), bytes.fromhex(original["sha256"])):
            assert not any(secret in blob for blob in everything), original["name"]


@STORES
async def test_clearcorrect_files_arrive_byte_identical_over_dropped_connections(
    start_portals: PortalFactory, connect: Any, database_url: str, blob_store: str
) -> None:
    portal = start_portals("clearcorrect", practices=1, cases=4, seed=5)
    portal.admin.faults(transfer_drop_rate=0.5, seed=2, path_prefixes=["/files/"])
    env: Connected = await connect(portal, database_url, blob_store)
    originals, served = await _arrive_and_serve(env, "clearcorrect")

    _resumed(portal, at_least=3)
    # Scans are meshes a viewer opens (size = header + 50 bytes per declared triangle), photos
    # are JPEGs; both kinds arrived.
    meshes = [body for key, body in served.items() if key.startswith("stl:")]
    photos = [body for key, body in served.items() if key.startswith("photo:")]
    assert meshes and photos
    assert all(len(b) == 84 + 50 * read_triangle_count(b[:84]) for b in meshes)
    assert all(b[:2] == b"\xff\xd8" and b[-2:] == b"\xff\xd9" for b in photos)

    await _nothing_in_the_clear(env, originals)


async def test_invisalign_plan_files_arrive_with_the_browsers_session(
    start_portals: PortalFactory, connect: Any, tmp_path: Path
) -> None:
    portal = start_portals("invisalign", practices=1, cases=3, seed=4)
    portal.admin.faults(transfer_drop_rate=0.5, seed=1, path_prefixes=["/v3/auth/clincheck/"])
    env: Connected = await connect(portal, f"sqlite+aiosqlite:///{tmp_path / 'c.db'}", "filesystem")
    originals, served = await _arrive_and_serve(env, "invisalign")

    _resumed(portal, at_least=1)
    pdfs = [body for key, body in served.items() if key.startswith("pdf:")]
    archives = [body for key, body in served.items() if key.startswith("archive:")]
    assert pdfs and archives
    assert all(b.startswith(b"%PDF-1.4") and b.rstrip().endswith(b"%%EOF") for b in pdfs)
    for body in archives:  # the staging models: a zip of binary STL meshes
        with zipfile.ZipFile(io.BytesIO(body)) as archive:
            assert archive.testzip() is None
            names = archive.namelist()
            assert names and all(n.endswith(".stl") for n in names)
    # Plan files rest on an assumed download URL: the API says so.
    listed = await env.files_of(env.case_ids)
    assert all(i["unverified"] and "ids.plan.file-download" in i["assumed_facts"] for i in listed)
    await _nothing_in_the_clear(env, originals)
