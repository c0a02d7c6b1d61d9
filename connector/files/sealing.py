"""Sealing a download into a blob as it streams in, and opening a blob (or a byte range of it)
as it streams out. Nothing here holds more than one chunk of a file.

The sink seals a chunk only once the next byte has arrived (or the download ended), because the
last chunk is sealed as such. The blob's SHA-256 runs alongside; the account's dedup key is the
HMAC, under the account's own key, of that digest, so a stored value confirms nothing without
the key. The digest itself is kept sealed under the account's key as well.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from connector.clock import utcnow
from connector.files.blobs import BlobBackend, BlobWriter
from connector.store import files as file_rows
from connector.store.database import Store
from connector.store.files import Blob
from vault import KeyProvider, VaultError
from vault.stream import (
    FILE_FORMAT,
    AccountFileKey,
    ChunkCipher,
    chunk_count,
    chunk_span,
    record_size,
    unwrap_account_key,
    unwrap_blob_key,
    wrap_account_key,
)


async def account_file_key(store: Store, keys: KeyProvider, account_id: str) -> AccountFileKey:
    """The account's file key, made on first use (concurrent first uses agree on one)."""
    async with store.read() as conn:
        stored = await file_rows.account_key(conn, account_id)
    if stored is None:
        secret = AccountFileKey.new_secret()
        kek_id, wrapped = await wrap_account_key(keys, secret, account_id)
        async with store.transaction() as conn:
            stored = await file_rows.insert_account_key(
                conn,
                account_id=account_id,
                format_version=FILE_FORMAT,
                kek_id=kek_id,
                wrapped_key=wrapped,
                now=utcnow(),
            )
    return await unwrap_account_key(keys, stored.kek_id, stored.wrapped_key, account_id)


@dataclass(frozen=True)
class SealedContent:
    size: int
    chunk_count: int
    content_mac: str
    sha256: bytes


class SealingSink:
    """A `FileSink` that seals what it receives into a blob, chunk by chunk.

    Each byte is copied once, into a chunk buffer. A full chunk goes down a two-stage pipeline
    while the event loop receives into the other chunk buffer:

    1. it is hashed (SHA-256) and sealed (`ChunkCipher.seal_into`, into one of two record
       buffers) on a worker thread; both release the GIL over a buffer this size. Then its
       chunk buffer is free again;
    2. its record is handed to the store (the filesystem store's write releases the GIL too),
       after the previous chunk's record: chunks are stored one at a time and in order.

    So chunk k is stored while chunk k+1 is hashed and sealed and chunk k+2 arrives: two
    chunks and two records in hand, never more. With hash, seal and store of a chunk in one
    stage, the event loop spent most of a download waiting for it (3.1 s of a 3.6 s pass over
    the files benchmark's 831 MB). Hashing and sealing on two threads at once measured no
    better than one: each hand-off to a thread waits for the GIL.

    A chunk is sealed only once the next byte has arrived (or the download ended), because the
    last chunk is sealed as such."""

    def __init__(
        self,
        cipher: ChunkCipher,
        writer: BlobWriter,
        key: AccountFileKey,
        chunk_size: int,
        *,
        progress: Callable[[int], None] | None = None,
    ) -> None:
        self._cipher = cipher
        self._writer = writer
        self._key = key
        self._chunk_size = chunk_size
        self._progress = progress
        self._chunk = bytearray(chunk_size)
        self._spare = bytearray(chunk_size)
        self._records = (bytearray(record_size(chunk_size)), bytearray(record_size(chunk_size)))
        #: The chunks handed over and not yet known stored: (its store, its stage 1 done).
        self._pending: list[tuple[asyncio.Future[None], asyncio.Future[None]]] = []
        self._reset()

    def _reset(self) -> None:
        self._filled = 0
        self._index = 0
        self._received = 0
        self._sha = hashlib.sha256()

    def __repr__(self) -> str:
        return f"SealingSink(received={self._received})"

    @property
    def received(self) -> int:
        return self._received

    @property
    def writer(self) -> BlobWriter:
        return self._writer

    async def _hash_and_seal(
        self, index: int, plain: memoryview, record: bytearray, last: bool
    ) -> memoryview:
        """Stage 1, on a worker thread; returns once it let go of `plain`."""

        def work() -> memoryview:
            self._sha.update(plain)
            size = self._cipher.seal_into(index, plain, memoryview(record), last=last)
            return memoryview(record)[:size]

        return await asyncio.to_thread(work)

    async def _store(
        self,
        index: int,
        plain: memoryview,
        last: bool,
        before: asyncio.Future[None] | None,
        released: asyncio.Future[None],
    ) -> None:
        try:
            record = await self._hash_and_seal(index, plain, self._records[index % 2], last)
        finally:
            released.set_result(None)
        if before is not None:
            await before  # in order; a failed earlier chunk fails this one too
        await self._writer.append(index, record)

    async def _ready(self) -> None:
        """Wait until the buffers of the next chunk are free: the previous chunk's buffer
        (its stage 1 done) and the record of the chunk before it (stored). A store's error is
        the caller's. Shielded: a cancelled caller leaves the stores to finish, for `settle`
        to wait on."""
        if len(self._pending) == 2:
            await self._oldest_stored()
        if self._pending:
            storing, released = self._pending[0]
            await asyncio.shield(released)
            if storing.done():
                storing.result()

    async def _stored(self) -> None:
        """Wait for every chunk handed over to be stored; the first error is the caller's."""
        while self._pending:
            await self._oldest_stored()

    async def _oldest_stored(self) -> None:
        """Wait for the oldest chunk handed over to be stored (shielded, as `_ready` says);
        its error is the caller's."""
        storing, _ = self._pending[0]
        await asyncio.shield(storing)
        del self._pending[0]

    async def _seal(self, last: bool) -> None:
        """Hand the buffered chunk over to be hashed, sealed and stored (the last one only
        when the download ended) and receive into the other buffer meanwhile."""
        await self._ready()
        plain = memoryview(self._chunk)[: self._filled]
        self._chunk, self._spare = self._spare, self._chunk
        before = self._pending[-1][0] if self._pending else None
        released: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        storing = asyncio.ensure_future(self._store(self._index, plain, last, before, released))
        self._pending.append((storing, released))
        self._index += 1
        self._filled = 0

    async def write(self, data: bytes) -> None:
        self._received += len(data)
        view = memoryview(data)
        size = self._chunk_size
        while view:
            if self._filled == size:  # more follows: the full chunk is not the last
                await self._seal(last=False)
            take = min(size - self._filled, len(view))
            self._chunk[self._filled : self._filled + take] = view[:take]
            self._filled += take
            view = view[take:]
        if self._progress is not None:
            self._progress(len(data))

    async def settle(self) -> None:
        """Let the chunks being stored finish, whatever their outcome: call before discarding
        the blob, so that no worker writes into what is being removed."""
        pending, self._pending = self._pending, []
        if pending:
            await asyncio.wait([storing for storing, _ in pending])
            for storing, _ in pending:
                if not storing.cancelled():
                    storing.exception()  # seen: the download's own error is the one reported

    async def restart(self) -> None:
        await self._stored()
        await self._writer.truncate()
        if self._progress is not None:
            self._progress(-self._received)
        self._reset()

    async def finish(self) -> SealedContent:
        await self._seal(last=True)
        await self._stored()
        await self._writer.commit()
        count = self._index
        if count != chunk_count(self._received, self._chunk_size):
            raise VaultError("the blob's chunks do not add up to its size")
        digest = self._sha.digest()
        mac = self._key.content_mac()
        mac.update(digest)
        return SealedContent(self._received, count, mac.hexdigest(), digest)


async def blob_cipher(keys: KeyProvider, blob: Blob) -> ChunkCipher:
    if blob.format_version != FILE_FORMAT:
        raise VaultError(f"unknown blob format version {blob.format_version}")
    data_key = await unwrap_blob_key(keys, blob.kek_id, blob.wrapped_key, blob.account_id, blob.id)
    return ChunkCipher(data_key, blob.account_id, blob.id)


async def open_range(
    backend: BlobBackend, cipher: ChunkCipher, blob: Blob, first: int, last: int
) -> AsyncIterator[bytes]:
    """Plaintext bytes `first`..`last` (inclusive) of a stored blob, chunk by chunk; every chunk
    touched is authenticated (position, blob, account, and whether it is the last)."""
    if blob.state != "stored" or blob.size is None or blob.chunk_count is None:
        raise VaultError("the blob is not stored")
    if blob.size == 0:
        first_index = last_index = 0
    else:
        first_index, last_index = chunk_span(first, last, blob.chunk_size)
    size = blob.chunk_size
    index = first_index
    async for record in backend.read(
        blob.account_id, blob.id, first_index, last_index, record_size(size)
    ):
        # Inline: AES-GCM opens a chunk in a fraction of a thread hand-off's cost.
        plain = cipher.open(index, record, last=index == blob.chunk_count - 1)
        start = first - index * size if index == first_index else 0
        end = last - index * size + 1 if index == last_index else len(plain)
        if start == 0 and end == len(plain):
            if plain:
                yield plain
        else:
            yield plain[start:end]
        index += 1
    if index != last_index + 1:
        raise VaultError("the blob is cut short: a chunk is missing")
