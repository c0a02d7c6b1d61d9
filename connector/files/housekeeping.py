"""Removing what no file needs any more: blobs of purged files, and every blob of a deleted
account.

Deleting an account deletes its file keys and blob rows in the database (ON DELETE CASCADE:
crypto-shredding, and the `postgresql` store's chunks go with them); `forget_account` then
removes its directory from the filesystem store. `sweep` does the same for any account
directory whose account is gone (deleted by another process, or a removal interrupted before
the directory went), and removes blobs no file points at once retention purged their files.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import structlog

from connector.files.blobs import BlobStores
from connector.store import files as file_rows
from connector.store.database import Store

_log = structlog.get_logger("connector.files")

BATCH = 200


@dataclass(frozen=True)
class Swept:
    blobs: int
    accounts: int


async def forget_account(blobs: BlobStores, account_id: str) -> None:
    """Remove a deleted account's blobs from every store (its rows are already gone)."""
    for backend in blobs.all():
        await backend.delete_account(account_id)


def blob_remover(blobs: BlobStores) -> Callable[[str], Awaitable[None]]:
    """What `accounts.service.remove_account` calls to remove a deleted account's blobs."""

    async def remove(account_id: str) -> None:
        await forget_account(blobs, account_id)

    return remove


async def sweep(store: Store, blobs: BlobStores) -> Swept:
    removed = 0
    while True:
        async with store.read() as conn:
            orphans = await file_rows.unreferenced_blobs(conn, limit=BATCH)
        if not orphans:
            break
        async with store.transaction() as conn:
            await file_rows.delete_blobs(conn, [b.id for b in orphans])
        for blob in orphans:
            await blobs.backend(blob.backend).delete(blob.account_id, blob.id)
        removed += len(orphans)
    directories = blobs.filesystem.account_ids()
    async with store.read() as conn:
        alive = await file_rows.existing_accounts(conn, directories)
    gone = [a for a in directories if a not in alive]
    for account_id in gone:
        await blobs.filesystem.delete_account(account_id)
    if removed or gone:
        _log.info("files.swept", blobs=removed, accounts=len(gone))
    return Swept(removed, len(gone))
