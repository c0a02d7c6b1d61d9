"""Where sealed chunks rest: the filesystem store and the database (`postgresql`) store.

Both only ever see sealed records (`vault.stream`); neither knows a key. A blob is written
append-only and becomes visible only when a file row points at it (`connector.files.sealing`),
so an interrupted write leaves nothing a reader can reach:

- `filesystem`: `<root>/<account id>/.partial/<blob id>.part` while writing, then fsynced and
  renamed to `<root>/<account id>/<blob id>.blob`. Names are random blob ids, never content
  hashes. One directory per account, so deleting an account removes one directory. Works on a
  volume shared between machines (rename is atomic within a directory tree on one volume).
- `postgresql`: one `blob_chunks` row per sealed chunk, inserted a few at a time; the chunks go
  with their blob row (ON DELETE CASCADE). Works on SQLite too (tests).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import BinaryIO, Protocol

from connector.store import files as file_rows
from connector.store.database import Store
from vault import VaultError

#: Sealed chunks the database store inserts per transaction (a few MiB).
DB_BATCH = 4


class BlobWriter(Protocol):
    async def append(self, index: int, record: memoryview) -> None:
        """Store sealed record `index`. The caller reuses the buffer once this returns."""
        ...

    async def truncate(self) -> None:
        """Drop everything written so far (the download restarts from byte 0)."""
        ...

    async def commit(self) -> None:
        """Make the written records durable and readable under the blob's id."""
        ...

    async def discard(self) -> None: ...


class BlobBackend(Protocol):
    name: str

    async def writer(self, account_id: str, blob_id: str) -> BlobWriter: ...

    def read(
        self, account_id: str, blob_id: str, first: int, last: int, record_size: int
    ) -> AsyncIterator[bytes | memoryview]:
        """Sealed records `first`..`last` (inclusive), in order; each one is valid until the
        next is asked for (a store may read them into one reused buffer)."""
        ...

    async def delete(self, account_id: str, blob_id: str) -> None: ...

    async def delete_account(self, account_id: str) -> None: ...

    async def discard_partials(self, account_id: str) -> None:
        """Remove unfinished writes of the account (call only while holding its lease)."""
        ...


# --- filesystem -------------------------------------------------------------------------------


#: Records written between two early flushes of a blob file (see `_FileWriter`).
FLUSH_EVERY = 8


class _FileWriter:
    """Appends records to the partial file. Every `FLUSH_EVERY` records a flush to the disk
    starts on a worker thread (`fdatasync`, not waited for), so the disk writes while the
    download goes on and the fsync at `commit` finds little left: with files of tens of MB,
    that fsync alone cost 10-25 ms per file, more than the transfer of the file itself."""

    def __init__(self, handle: BinaryIO, partial: Path, final: Path) -> None:
        self._handle = handle
        self._partial = partial
        self._final = final
        self._next = 0
        self._flushing: asyncio.Future[None] | None = None

    async def append(self, index: int, record: memoryview) -> None:
        if index != self._next:
            raise VaultError("chunks are written in order")
        # On a worker thread: a write into the page cache costs about 0.7 ms per MiB of
        # kernel time on the benchmark's machine, which the event loop spends receiving.
        await asyncio.to_thread(self._handle.write, record)
        self._next += 1
        if self._next % FLUSH_EVERY == 0 and (self._flushing is None or self._flushing.done()):
            await self._flushed()
            self._flushing = asyncio.ensure_future(
                asyncio.to_thread(os.fdatasync, self._handle.fileno())
            )

    async def _flushed(self) -> None:
        flushing, self._flushing = self._flushing, None
        if flushing is not None:
            await flushing

    async def truncate(self) -> None:
        await self._flushed()
        self._handle.seek(0)
        self._handle.truncate()
        self._next = 0

    async def commit(self) -> None:
        await self._flushed()
        handle = self._handle

        def durable() -> None:
            handle.flush()
            os.fsync(handle.fileno())
            handle.close()
            os.replace(self._partial, self._final)
            directory = os.open(self._final.parent, os.O_RDONLY)
            try:
                os.fsync(directory)
            finally:
                os.close(directory)

        await asyncio.to_thread(durable)

    async def discard(self) -> None:
        with contextlib.suppress(OSError):
            await self._flushed()
        with contextlib.suppress(OSError):
            self._handle.close()
        self._partial.unlink(missing_ok=True)


class FilesystemBlobs:
    """Sealed blobs as files under `root` (the data dir, or a shared volume)."""

    name = "filesystem"

    def __init__(self, root: Path) -> None:
        self.root = root

    def __repr__(self) -> str:
        return f"FilesystemBlobs({str(self.root)!r})"

    def _account_dir(self, account_id: str) -> Path:
        if not account_id or "/" in account_id or account_id.startswith("."):
            raise ValueError("not an account id")
        return self.root / account_id

    def path(self, account_id: str, blob_id: str) -> Path:
        return self._account_dir(account_id) / f"{blob_id}.blob"

    def _partial(self, account_id: str, blob_id: str) -> Path:
        return self._account_dir(account_id) / ".partial" / f"{blob_id}.part"

    async def writer(self, account_id: str, blob_id: str) -> BlobWriter:
        partial = self._partial(account_id, blob_id)
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        partial.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        return _FileWriter(os.fdopen(descriptor, "wb"), partial, self.path(account_id, blob_id))

    async def read(
        self, account_id: str, blob_id: str, first: int, last: int, record_size: int
    ) -> AsyncIterator[bytes | memoryview]:
        try:
            handle = self.path(account_id, blob_id).open("rb", buffering=0)
        except FileNotFoundError:
            raise VaultError("the blob's file is missing") from None
        buffer = bytearray(record_size)
        view = memoryview(buffer)
        with handle:
            handle.seek(first * record_size)
            for _ in range(first, last + 1):
                size = handle.readinto(buffer)  # the last record may be shorter
                if not size:
                    return
                yield view[:size]

    async def delete(self, account_id: str, blob_id: str) -> None:
        self.path(account_id, blob_id).unlink(missing_ok=True)
        self._partial(account_id, blob_id).unlink(missing_ok=True)

    async def delete_account(self, account_id: str) -> None:
        await asyncio.to_thread(shutil.rmtree, self._account_dir(account_id), True)

    async def discard_partials(self, account_id: str) -> None:
        partials = self._account_dir(account_id) / ".partial"
        if partials.is_dir():
            for leftover in partials.iterdir():
                leftover.unlink(missing_ok=True)

    def account_ids(self) -> list[str]:
        """Accounts that have a directory here (for the sweep of deleted accounts)."""
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if p.is_dir() and "_" in p.name)

    def blob_ids(self, account_id: str) -> list[str]:
        directory = self._account_dir(account_id)
        if not directory.is_dir():
            return []
        return sorted(p.stem for p in directory.glob("*.blob"))


# --- database ---------------------------------------------------------------------------------


class _DatabaseWriter:
    def __init__(self, store: Store, blob_id: str) -> None:
        self._store = store
        self._blob_id = blob_id
        self._pending: list[tuple[int, bytes]] = []

    async def _flush(self) -> None:
        if self._pending:
            async with self._store.transaction() as conn:
                await file_rows.insert_chunks(conn, self._blob_id, self._pending)
            self._pending = []

    async def append(self, index: int, record: memoryview) -> None:
        self._pending.append((index, bytes(record)))
        if len(self._pending) >= DB_BATCH:
            await self._flush()

    async def truncate(self) -> None:
        self._pending = []
        async with self._store.transaction() as conn:
            await file_rows.delete_chunks(conn, self._blob_id)

    async def commit(self) -> None:
        await self._flush()

    async def discard(self) -> None:
        self._pending = []
        async with self._store.transaction() as conn:
            await file_rows.delete_chunks(conn, self._blob_id)


class DatabaseBlobs:
    """Sealed chunks as rows of `blob_chunks` (the `postgresql` store)."""

    name = "postgresql"

    def __init__(self, store: Store) -> None:
        self.store = store

    def __repr__(self) -> str:
        return "DatabaseBlobs()"

    async def writer(self, account_id: str, blob_id: str) -> BlobWriter:
        return _DatabaseWriter(self.store, blob_id)

    async def read(
        self, account_id: str, blob_id: str, first: int, last: int, record_size: int
    ) -> AsyncIterator[bytes | memoryview]:
        index = first
        while index <= last:
            async with self.store.read() as conn:
                rows = await file_rows.read_chunks(
                    conn, blob_id, index, min(last, index + DB_BATCH - 1)
                )
            if not rows:
                return
            for found, record in rows:
                if found != index:
                    return  # a missing chunk: the reader reports the blob cut short
                yield record
                index += 1

    async def delete(self, account_id: str, blob_id: str) -> None:
        async with self.store.transaction() as conn:
            await file_rows.delete_chunks(conn, blob_id)

    async def delete_account(self, account_id: str) -> None:
        """Nothing to do: the account's blob rows, and their chunks, cascade with it."""

    async def discard_partials(self, account_id: str) -> None:
        """Nothing to do: unfinished chunks go with their `writing` blob row."""


class BlobStores:
    """Every store a blob may be in (each blob names its own), and the one new blobs go to."""

    def __init__(self, filesystem: FilesystemBlobs, database: DatabaseBlobs, current: str) -> None:
        self.filesystem = filesystem
        self.database = database
        self.current: BlobBackend = self.backend(current)

    def backend(self, name: str) -> BlobBackend:
        if name == "filesystem":
            return self.filesystem
        if name == "postgresql":
            return self.database
        raise ValueError(f"unknown blob store {name!r}")

    def all(self) -> tuple[BlobBackend, ...]:
        return (self.filesystem, self.database)
