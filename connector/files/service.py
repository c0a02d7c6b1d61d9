"""What the API and the CLI ask of files: a case's list, and a file's content (or its fetch).

Routes and commands only translate; the rules live here: a case whose files were never listed
(or listed before it last changed) gets a listing queued; a file not fetched yet is requested
(the download turn fetches it) unless the vendor's policy never fetches its kind or size; every
content read is audited before a chunk is opened.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from connector.clock import utcnow
from connector.errors import ConflictError, NotFoundError
from connector.files.blobs import BlobStores
from connector.files.policy import FilePolicy
from connector.files.sealing import blob_cipher, open_range
from connector.files.views import file_json
from connector.store import audit
from connector.store import files as file_rows
from connector.store.database import Store
from connector.store.files import Blob, StoredFile
from vault import KeyProvider
from vault.stream import unwrap_account_key


@dataclass(frozen=True)
class CaseFiles:
    items: list[dict[str, Any]]
    #: True: listed since the case last changed; None: a listing is queued or running.
    listed: bool | None


async def case_files(store: Store, keys: KeyProvider, case_id: str) -> CaseFiles:
    """The case's files as the API shows them; queues a listing when none is current."""
    now = utcnow()
    async with store.transaction() as conn:
        case = await file_rows.case_of_files(conn, case_id)
        current = await file_rows.listing_is_current(conn, case)
        if current is False and case.removed_at is None:
            await file_rows.request_listing(conn, case.id, case.account_id, now, eager=False)
            current = None
        found = await file_rows.case_files(conn, case_id)
        stored = await file_rows.blobs_by_id(conn, [f.blob_id for f in found if f.blob_id])
        wrapped = await file_rows.account_key(conn, case.account_id) if stored else None
    digests: dict[str, str] = {}
    if wrapped is not None:
        key = await unwrap_account_key(keys, wrapped.kek_id, wrapped.wrapped_key, case.account_id)
        for blob in stored.values():
            if blob.sealed_digest is not None:
                digests[blob.id] = key.open_digest(blob.id, blob.sealed_digest).hex()
    items = [
        file_json(
            f,
            sha256=digests.get(f.blob_id or ""),
            stored_size=stored[f.blob_id].size if f.blob_id in stored else None,
        )
        for f in found
    ]
    return CaseFiles(items, current)


@dataclass(frozen=True)
class Content:
    file: StoredFile
    blob: Blob

    @property
    def size(self) -> int:
        return self.blob.size or 0

    @property
    def etag(self) -> str:
        """From the account's keyed hash: stable for the content, meaningless without the key."""
        return f'"{(self.blob.content_mac or self.blob.id)[:32]}"'


@dataclass(frozen=True)
class Pending:
    """The file is not fetched yet; its download is queued."""

    file: StoredFile


async def content_or_fetch(store: Store, policy: FilePolicy, file_id: str) -> Content | Pending:
    """The stored content, or a queued fetch (`ConflictError` when policy never fetches it).

    A stored file, what nearly every call finds, is read with its blob in one statement,
    without a transaction (on SQLite, no write lock for each content served); only a fetch
    to queue takes one."""
    async with store.statement() as conn:
        file, blob = await file_rows.file_and_blob(conn, file_id)
    if blob is not None:
        return Content(file, blob)
    now = utcnow()
    async with store.transaction() as conn:
        file = await file_rows.get_file(conn, file_id)
        if file.blob_id is not None:  # stored in between
            return Content(file, await file_rows.get_blob(conn, file.blob_id))
        case = await file_rows.case_of_files(conn, file.case_id)
        if file.gone_at is not None or case.removed_at is not None:
            raise NotFoundError("the portal no longer lists this file")
        refusal = policy.of(case.vendor).refusal(file.kind, file.size)
        if refusal is not None:
            raise ConflictError(refusal)
        await file_rows.request_files(conn, [file.id], now)
        return Pending(await file_rows.get_file(conn, file.id))


async def read_content(
    store: Store,
    keys: KeyProvider,
    blobs: BlobStores,
    content: Content,
    first: int,
    last: int,
    *,
    reason: str,
) -> AsyncIterator[bytes]:
    """Plaintext bytes `first`..`last` of a stored file; the read is audited first."""
    blob = content.blob
    async with store.transaction() as conn:
        await audit.insert_audit(
            conn,
            at=utcnow(),
            account_id=blob.account_id,
            action="decrypt",
            purpose="file",
            kek_id=blob.kek_id,
            reason=reason,
        )
    cipher = await blob_cipher(keys, blob)
    async for piece in open_range(blobs.backend(blob.backend), cipher, blob, first, last):
        yield piece
