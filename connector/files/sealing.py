"""Sealing a download into a blob as it streams in, and opening a blob (or a byte range of it)
as it streams out. Nothing here holds more than one chunk of a file.

The sink seals a chunk only once the next byte has arrived (or the download ended), because the
last chunk is sealed as such. The blob's SHA-256 runs alongside; the account's dedup key is the
HMAC, under the account's own key, of that digest, so a stored value confirms nothing without
the key. The digest itself is kept sealed under the account's key as well.
"""

from __future__ import annotations

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

    Each byte is copied once, into a preallocated chunk buffer; a full chunk is hashed and
    sealed into a preallocated record buffer (`ChunkCipher.seal_into`) and handed to the
    store, inline: hashing and AES-GCM cost about a millisecond per MiB, less than handing
    the chunk to a thread and back (which also fights the event loop for the GIL), and the
    socket's buffer keeps the network busy meanwhile. One chunk and one record in hand."""

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
        self._record = bytearray(record_size(chunk_size))
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

    async def _seal(self, last: bool) -> None:
        """Seal the buffered chunk (the last one only when the download ended) and store it."""
        plain = memoryview(self._chunk)[: self._filled]
        self._sha.update(plain)
        size = self._cipher.seal_into(self._index, plain, memoryview(self._record), last=last)
        await self._writer.append(self._index, memoryview(self._record)[:size])
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

    async def restart(self) -> None:
        await self._writer.truncate()
        if self._progress is not None:
            self._progress(-self._received)
        self._reset()

    async def finish(self) -> SealedContent:
        await self._seal(last=True)
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
