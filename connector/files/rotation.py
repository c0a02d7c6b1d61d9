"""`keys rotate` for file keys: rewrap every account file key and blob data key that is not on
the primary KEK. No chunk is touched. Batches commit on their own, guarded by the old KEK id,
so an interrupted rotation resumes by running again."""

from __future__ import annotations

from collections.abc import Callable

from connector.clock import utcnow
from connector.store import files as file_rows
from connector.store.database import Store
from connector.store.files import WrappedKey
from vault import KeyProvider
from vault.stream import rewrap_account_key, rewrap_blob_key


async def file_keys_not_on_primary(store: Store, keys: KeyProvider) -> int:
    async with store.read() as conn:
        counts = await file_rows.file_kek_counts(conn)
    return sum(n for kid, n in counts.items() if kid != keys.primary_kid)


async def rewrap_file_keys(
    store: Store,
    keys: KeyProvider,
    *,
    batch_size: int = 500,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Rewrap file keys onto the primary KEK; returns how many were rewrapped."""
    primary = keys.primary_kid
    done = 0
    for blob_keys in (False, True):
        after: str | None = None
        while True:
            async with store.read() as conn:
                fetch = file_rows.blob_keys_not_on if blob_keys else file_rows.account_keys_not_on
                batch: list[WrappedKey] = await fetch(
                    conn, primary, after_id=after, limit=batch_size
                )
            if not batch:
                break
            after = batch[-1].owner_id
            rows: list[tuple[WrappedKey, str, bytes]] = []
            for old in batch:
                if blob_keys:
                    kid, wrapped = await rewrap_blob_key(
                        keys, old.kek_id, old.wrapped_key, old.account_id, old.owner_id
                    )
                else:
                    kid, wrapped = await rewrap_account_key(
                        keys, old.kek_id, old.wrapped_key, old.account_id
                    )
                rows.append((old, kid, wrapped))
            async with store.transaction() as conn:
                done += await file_rows.update_file_key_wrapping(
                    conn, blob_keys=blob_keys, rows=rows, now=utcnow()
                )
            if progress is not None:
                progress(done)
    return done
