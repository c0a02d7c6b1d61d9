"""Files end to end: listed and fetched by download turns (through the gate, under the account's
lease, over connections that drop at random bytes), encrypted at rest in either blob store,
served byte-identical whole and by range, deduplicated per account, gone with their account,
rewrapped by `keys rotate`, and never readable once moved to another blob or account."""

from __future__ import annotations

import asyncio
import base64
import os
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from connector.accounts.service import remove_account
from connector.clock import utcnow
from connector.files import fetch_account, forget_account, queue_eager_listings, sweep
from connector.files.service import Content, read_content
from connector.keys import kek_usage, rotate
from connector.retention import purge
from connector.store import files as file_rows
from connector.store.schema import blob_chunks, blobs, cases, events, file_account_keys, files
from tests.files.conftest import PASSWORD, Env
from tests.files.support import sha
from vault import EnvKeyring, Secret, Vault, VaultError

STORES = pytest.mark.parametrize(
    ("database_url", "blob_store"),
    [
        ("sqlite", "filesystem"),
        ("sqlite", "postgresql"),
        pytest.param("postgresql", "postgresql", marks=pytest.mark.postgres),
        pytest.param("postgresql", "filesystem", marks=pytest.mark.postgres),
    ],
    indirect=["database_url"],
)


async def turn_until_done(env: Env, account_id: str, case_id: str | None = None) -> list[Any]:
    results = []
    for _ in range(20):
        result = await fetch_account(env.services, account_id, case_id=case_id)
        results.append(result)
        if result.outcome != "more":
            return results
    raise AssertionError("download turns never finished")


async def listed(env: Env, case_id: str) -> dict[str, dict[str, Any]]:
    response = await env.client.get(f"/v1/cases/{case_id}/files")
    assert response.status_code == 200, response.text
    return {item["name"]: item for item in response.json()["items"]}


async def content(env: Env, file_id: str, **headers: str) -> Any:
    return await env.client.get(f"/v1/files/{file_id}/content", headers=headers)


@STORES
async def test_eager_setup_files_arrive_and_serve_byte_identical(
    env_factory: Any, database_url: str, blob_store: str
) -> None:
    env: Env = await env_factory(database_url, blob_store)
    account = await env.add_account()
    case_id = await env.add_case(account, 1)
    assert await queue_eager_listings(env.services) == 1
    results = await turn_until_done(env, account.id)
    assert results[0].listed == 1 and sum(r.fetched for r in results) == 4
    assert env.adapter.opened == len(results)  # one session per turn, through the gate
    drops = [r for r in env.server.requests if r[1] is not None]
    assert drops, "the file server dropped no connection: nothing resumed"

    items = await listed(env, case_id)
    for name in ("upper.stl", "lower.stl", "plan.pdf", "empty.stl"):
        original = env.originals[f"1-{name}"]
        item = items[name]
        assert item["available"] and item["sha256"] == sha(original)
        assert item["size"] == len(original) and not item["unverified"]
        whole = await content(env, item["id"])
        assert whole.status_code == 200
        assert sha(whole.content) == sha(original)
        assert whole.headers["Accept-Ranges"] == "bytes"
        assert name in whole.headers["Content-Disposition"]
        if original:
            first, last = len(original) // 3, len(original) - 2
            part = await content(env, item["id"], Range=f"bytes={first}-{last}")
            assert part.status_code == 206
            assert part.content == original[first : last + 1]
            assert part.headers["Content-Range"] == f"bytes {first}-{last}/{len(original)}"
            tail = await content(env, item["id"], Range="bytes=-1000")
            assert tail.content == original[-1000:]
            beyond = await content(env, item["id"], Range=f"bytes={len(original)}-")
            assert beyond.status_code == 416
            stale = await content(env, item["id"], Range="bytes=0-9", **{"If-Range": '"other"'})
            assert stale.status_code == 200 and sha(stale.content) == sha(original)
        again = await content(env, item["id"], **{"If-None-Match": whole.headers["ETag"]})
        assert again.status_code == 304
    # Photos show faces: listed (flagged unverified: an assumed fact), never fetched by default.
    photo = items["smile.jpg"]
    assert not photo["available"] and photo["unverified"] and photo["assumed_facts"]
    refused = await content(env, photo["id"])
    assert refused.status_code == 409 and "photo" in refused.json()["error"]["message"]

    feed = await env.client.get("/v1/changes", params={"limit": 200})
    available = [e for e in feed.json()["items"] if e["type"] == "file.available"]
    assert len(available) == 4
    assert {e["data"]["name"] for e in available} == {
        "upper.stl", "lower.stl", "plan.pdf", "empty.stl"
    }  # fmt: skip
    assert all(e["data"]["sha256"] is None and e["data"]["available"] for e in available)


@STORES
async def test_a_file_not_fetched_answers_202_then_arrives(
    env_factory: Any, database_url: str, blob_store: str
) -> None:
    env: Env = await env_factory(database_url, blob_store)
    account = await env.add_account()
    case_id = await env.add_case(account, 2, in_review=False)
    first = await env.client.get(f"/v1/cases/{case_id}/files")
    assert first.json() == {"items": [], "next_cursor": None, "listed": None}
    await turn_until_done(env, account.id)  # lists, fetches nothing: no setup in review
    items = await listed(env, case_id)
    assert len(items) == len(env.adapter.listing["CC-000002"])
    assert not any(i["available"] for i in items.values())
    pending = await content(env, items["plan.pdf"]["id"])
    assert pending.status_code == 202
    assert pending.headers["Retry-After"] == "5" and pending.json()["fetch_pending"]
    await turn_until_done(env, account.id)
    ready = await content(env, items["plan.pdf"]["id"])
    assert ready.status_code == 200 and sha(ready.content) == sha(env.originals["2-plan.pdf"])
    assert (await listed(env, case_id))["upper.stl"]["available"] is False  # only what was asked


def _files_under(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


async def _at_rest(env: Env) -> list[bytes]:
    """Every byte of the connector's state: the data dir's files and the database's rows."""
    found = [p.read_bytes() for p in _files_under(Path(env.settings.data_dir))]
    async with env.store.read() as conn:
        for table in (blob_chunks, blobs, files, events, file_account_keys):
            for row in (await conn.execute(sa.select(table))).all():
                found.append(repr(tuple(row)).encode())
    return found


@STORES
async def test_no_plaintext_at_rest_and_moved_blobs_fail(
    env_factory: Any, database_url: str, blob_store: str
) -> None:
    env: Env = await env_factory(database_url, blob_store)
    one, two = await env.add_account(), await env.add_account("other@tps-planning.example")
    await env.add_case(one, 3)
    await env.add_case(two, 4)
    await queue_eager_listings(env.services)
    for account in (one, two):
        await turn_until_done(env, account.id)
    everything = await _at_rest(env)
    for name, data in env.originals.items():
        if len(data) < 64:
            continue
        marker = data[:40]  # "PLAINTEXT-MARKER-..." and the noise after it
        assert not any(marker in blob for blob in everything), name
        if not name.endswith(".stl"):  # STL listings carry the portal's own checksum
            assert not any(sha(data).encode() in blob for blob in everything), name
    assert not any(PASSWORD.encode() in blob for blob in everything)

    async with env.store.read() as conn:
        rows = {
            (f.account_id, f.name): f
            for f in [*await file_rows.case_files(conn, (await _case(conn, one.id))),
                      *await file_rows.case_files(conn, (await _case(conn, two.id)))]
        }  # fmt: skip
        mine = await file_rows.get_blob(conn, rows[(one.id, "upper.stl")].blob_id or "")
        sibling = await file_rows.get_blob(conn, rows[(one.id, "lower.stl")].blob_id or "")
        theirs = await file_rows.get_blob(conn, rows[(two.id, "upper.stl")].blob_id or "")
    keys, blobs_ = env.ctx.runtime.vault.keys, env.services.blobs

    async def read(blob: Any, first: int = 0, last: int | None = None) -> bytes:
        target = Content(rows[(blob.account_id, "upper.stl")], blob)
        end = blob.size - 1 if last is None else last
        return b"".join(
            [
                p
                async for p in read_content(
                    env.store, keys, blobs_, target, first, end, reason="test"
                )
            ]
        )

    assert sha(await read(mine)) == sha(env.originals["3-upper.stl"])
    # The sibling's sealed chunks put in place of this blob's: another blob id in the AAD.
    await _copy_blob(env, sibling, mine)
    with pytest.raises(VaultError):
        await read(mine, 0, 10)
    # Another account's blob copied over this one (same id, other account's chunks).
    await _copy_blob(env, theirs, mine, keep_account=True)
    with pytest.raises(VaultError):
        await read(mine, 0, 10)
    # Or the blob's row and chunks handed to the other account: its key no longer unwraps.
    moved = type(mine)(**{**mine.__dict__, "account_id": two.id})
    with pytest.raises(VaultError):
        await read(moved, 0, 10)


async def _case(conn: Any, account_id: str) -> str:
    return str(
        (await conn.execute(sa.select(cases.c.id).where(cases.c.account_id == account_id))).scalar()
    )


async def _copy_blob(env: Env, source: Any, target: Any, *, keep_account: bool = False) -> None:
    """Overwrite `target`'s sealed chunks with `source`'s (a copy at rest, by an attacker)."""
    if target.backend == "filesystem":
        fs = env.services.blobs.filesystem
        fs.path(target.account_id, target.id).write_bytes(
            fs.path(source.account_id, source.id).read_bytes()
        )
        return
    async with env.store.transaction() as conn:
        await conn.execute(blob_chunks.delete().where(blob_chunks.c.blob_id == target.id))
        rows = (
            await conn.execute(sa.select(blob_chunks).where(blob_chunks.c.blob_id == source.id))
        ).all()
        await conn.execute(
            blob_chunks.insert(),
            [{"blob_id": target.id, "chunk_index": r.chunk_index, "data": r.data} for r in rows],
        )


@STORES
async def test_duplicates_share_a_blob_per_account_only(
    env_factory: Any, database_url: str, blob_store: str
) -> None:
    env: Env = await env_factory(database_url, blob_store)
    one, two = await env.add_account(), await env.add_account("other@tps-planning.example")
    same = [("upper.stl", __import__("adapters.base").base.FileKind.STL, 300_000, 1)]
    await env.add_case(one, 5, files=same)
    env.adapter.listing["CC-000006"] = env.adapter.listing["CC-000005"]
    env.adapter.listing["CC-000007"] = env.adapter.listing["CC-000005"]
    await env.add_case(one, 6, files=same)
    env.adapter.listing["CC-000006"] = env.adapter.listing["CC-000005"]
    await env.add_case(two, 7, files=same)
    env.adapter.listing["CC-000007"] = env.adapter.listing["CC-000005"]
    await queue_eager_listings(env.services)
    for account in (one, two):
        await turn_until_done(env, account.id)
    async with env.store.read() as conn:
        rows = (await conn.execute(sa.select(blobs))).all()
        pointed = (await conn.execute(sa.select(files.c.account_id, files.c.blob_id))).all()
    assert len(pointed) == 3 and all(b for _, b in pointed)
    assert sorted(r.account_id for r in rows) == sorted([one.id, two.id])
    assert rows[0].content_mac != rows[1].content_mac  # keyed per account
    if blob_store == "filesystem":
        assert len(env.services.blobs.filesystem.blob_ids(one.id)) == 1


class _HeldWriter:
    """A blob writer whose first commit waits until it is cancelled."""

    def __init__(self, inner: Any, held: asyncio.Event) -> None:
        self._inner = inner
        self._held = held

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def commit(self) -> None:
        if not self._held.is_set():
            self._held.set()
            await asyncio.Event().wait()
        await self._inner.commit()


@STORES
async def test_a_turn_cancelled_while_a_file_lands_shows_nothing_then_completes(
    env_factory: Any, database_url: str, blob_store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file lands (flush, rename, transaction) while the next one is received: a turn
    cancelled then discards both blobs, shows no file, and the next turn fetches them."""
    env: Env = await env_factory(database_url, blob_store)
    account = await env.add_account()
    await env.add_case(account, 3)
    await queue_eager_listings(env.services)
    backend = env.services.blobs.current
    held = asyncio.Event()
    writer = backend.writer

    async def held_writer(account_id: str, blob_id: str) -> Any:
        return _HeldWriter(await writer(account_id, blob_id), held)

    monkeypatch.setattr(backend, "writer", held_writer)
    turn = asyncio.create_task(fetch_account(env.services, account.id))
    await asyncio.wait_for(held.wait(), 30)
    for _ in range(300):  # the next file is received while the first one lands
        if len({name for name, _, _ in env.server.requests}) > 1:
            break
        await asyncio.sleep(0.01)
    else:
        raise AssertionError("no file was received while one landed")
    turn.cancel()
    with pytest.raises(asyncio.CancelledError):
        await turn
    async with env.store.read() as conn:
        assert (await conn.execute(sa.select(blobs))).all() == []
        pointed = (await conn.execute(sa.select(files.c.blob_id))).scalars().all()
    assert pointed and not any(pointed)
    assert _files_under(env.settings.files_path) == []
    monkeypatch.undo()
    results = await turn_until_done(env, account.id)
    assert sum(r.fetched for r in results) == 4
    async with env.store.read() as conn:
        pointed = (await conn.execute(sa.select(files.c.blob_id))).scalars().all()
    assert sum(1 for b in pointed if b) == 4


@STORES
async def test_deleting_an_account_leaves_no_blob_and_no_key(
    env_factory: Any, database_url: str, blob_store: str
) -> None:
    env: Env = await env_factory(database_url, blob_store)
    gone, kept = await env.add_account(), await env.add_account("other@tps-planning.example")
    await env.add_case(gone, 8)
    await env.add_case(kept, 9)
    await queue_eager_listings(env.services)
    for account in (gone, kept):
        await turn_until_done(env, account.id)
    root = env.settings.files_path
    await remove_account(env.store, gone.id, reason="test")
    await forget_account(env.services.blobs, gone.id)
    assert not (root / gone.id).exists()
    await sweep(env.store, env.services.blobs)  # also without forget_account: the sweep finds it
    async with env.store.read() as conn:
        for table in (blobs, file_account_keys, files):
            left = (await conn.execute(sa.select(table).where(table.c.account_id == gone.id))).all()
            assert left == [], table.name
        chunks = (await conn.execute(sa.select(sa.func.count()).select_from(blob_chunks))).scalar()
        kept_blobs = (await conn.execute(sa.select(sa.func.count()).select_from(blobs))).scalar()
    assert kept_blobs == 4
    if blob_store == "postgresql":
        assert chunks and chunks > 0
    else:
        assert chunks == 0 and len(env.services.blobs.filesystem.blob_ids(kept.id)) == 4


@STORES
async def test_removed_cases_files_follow_retention(
    env_factory: Any, database_url: str, blob_store: str
) -> None:
    env: Env = await env_factory(database_url, blob_store)
    account = await env.add_account()
    case_id = await env.add_case(account, 10)
    await queue_eager_listings(env.services)
    await turn_until_done(env, account.id)
    async with env.store.transaction() as conn:
        await conn.execute(cases.update().where(cases.c.id == case_id).values(removed_at=utcnow()))
    from datetime import timedelta

    await purge(
        env.store,
        now=utcnow() + timedelta(days=31),
        removed_case_retention=timedelta(days=30),
        event_retention=timedelta(days=365),
    )
    swept = await sweep(env.store, env.services.blobs)
    assert swept.blobs == 4
    async with env.store.read() as conn:
        assert (await conn.execute(sa.select(sa.func.count()).select_from(blobs))).scalar() == 0
    assert env.services.blobs.filesystem.blob_ids(account.id) == []


@STORES
async def test_keys_rotate_rewraps_file_keys(
    env_factory: Any, database_url: str, blob_store: str
) -> None:
    env: Env = await env_factory(database_url, blob_store)
    account = await env.add_account()
    case_id = await env.add_case(account, 11)
    await queue_eager_listings(env.services)
    await turn_until_done(env, account.id)
    old = env.settings.vault.keys
    assert old is not None
    new_key = base64.b64encode(os.urandom(32)).decode()
    keys = EnvKeyring(Secret(f"k2:{new_key},{old.reveal()}"))

    async def audit(_: object) -> None:
        return None

    vault = Vault(keys, audit)
    before = {u.kek_id: u.rows for u in await kek_usage(env.store, keys)}
    assert before["k1"] >= 1 + 4 + 1  # the login, 4 blob keys, the account file key
    result = await rotate(env.store, vault, batch_size=2)
    assert result.remaining == 0
    after = {u.kek_id: u.rows for u in await kek_usage(env.store, keys)}
    assert after.get("k1", 0) == 0 and after["k2"] == before["k1"]
    async with env.store.read() as conn:
        stored = [f for f in await file_rows.case_files(conn, case_id) if f.blob_id]
        blob = await file_rows.get_blob(conn, stored[0].blob_id or "")
    only_new = EnvKeyring(Secret(f"k2:{new_key}"))
    data = b"".join(
        [p async for p in read_content(env.store, only_new, env.services.blobs,
                                        Content(stored[0], blob), 0, (blob.size or 1) - 1,
                                        reason="test")]
    )  # fmt: skip
    assert sha(data) == sha(env.originals[f"11-{stored[0].name}"])


async def test_an_adapter_without_the_capability_spends_no_sign_in(
    env_factory: Any, tmp_path: Path
) -> None:
    env: Env = await env_factory(f"sqlite+aiosqlite:///{tmp_path / 'c.db'}", "filesystem")
    env.adapter.offers_files = False
    account = await env.add_account()
    case_id = await env.add_case(account, 12)
    assert await queue_eager_listings(env.services) == 0
    response = await env.client.get(f"/v1/cases/{case_id}/files")
    assert response.json()["listed"] is None
    result = await fetch_account(env.services, account.id)
    assert result.outcome == "failed" and result.errors == ["files_unavailable"]
    assert env.adapter.opened == 0
    async with env.store.read() as conn:
        listing = await file_rows.get_listing(conn, case_id)
    assert listing is not None and listing.requested_at is None
    assert listing.last_error and "does not download" in listing.last_error
