"""The sealing sink's pipeline (hash and seal of one chunk while the previous one is stored and
the next one arrives) stores every chunk once, in order, sealed as its position says, whatever
the sizes of the pieces that arrive and however slow the store; a store's failure is the
download's, and nothing is still writing once `settle` returns."""

from __future__ import annotations

import asyncio
import hashlib
import os
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connector.files.sealing import SealingSink
from vault.stream import AccountFileKey, ChunkCipher, chunk_count


class SlowWriter:
    """A blob writer that takes its time (yielding to the event loop) and keeps copies."""

    def __init__(self, *, fail_at: int | None = None, seed: int = 0) -> None:
        self.records: list[tuple[int, bytes]] = []
        self.fail_at = fail_at
        self.writing = 0
        self.committed = False
        self.truncations = 0
        self._chance = random.Random(seed)

    async def append(self, index: int, record: memoryview) -> None:
        self.writing += 1
        try:
            for _ in range(self._chance.randint(0, 3)):
                await asyncio.sleep(0)
            if index == self.fail_at:
                raise OSError("the disk is full")
            self.records.append((index, bytes(record)))
        finally:
            self.writing -= 1

    async def truncate(self) -> None:
        self.records.clear()
        self.truncations += 1

    async def commit(self) -> None:
        self.committed = True

    async def discard(self) -> None:
        self.records.clear()


def opened(cipher: ChunkCipher, records: list[tuple[int, bytes]]) -> bytes:
    assert [index for index, _ in records] == list(range(len(records)))
    last = len(records) - 1
    return b"".join(cipher.open(i, record, last=i == last) for i, record in records)


def sink_for(writer: SlowWriter, chunk_size: int) -> tuple[SealingSink, ChunkCipher]:
    cipher = ChunkCipher(os.urandom(32), "acc_1", "blob_1")
    key = AccountFileKey(AccountFileKey.new_secret(), "acc_1")
    return SealingSink(cipher, writer, key, chunk_size), cipher


@settings(max_examples=60, deadline=None)
@given(
    content=st.binary(max_size=300),
    cuts=st.lists(st.integers(min_value=1, max_value=40), max_size=30),
    chunk_size=st.integers(min_value=1, max_value=64),
    seed=st.integers(min_value=0, max_value=1000),
)
def test_every_chunk_is_stored_once_in_order_and_opens_to_the_content(
    content: bytes, cuts: list[int], chunk_size: int, seed: int
) -> None:
    async def run() -> None:
        writer = SlowWriter(seed=seed)
        sink, cipher = sink_for(writer, chunk_size)
        at = 0
        for cut in cuts:
            await sink.write(content[at : at + cut])
            at += cut
        await sink.write(content[at:])
        sealed = await sink.finish()
        assert writer.committed and writer.writing == 0
        assert sealed.size == len(content)
        assert sealed.chunk_count == chunk_count(len(content), chunk_size)
        assert sealed.sha256 == hashlib.sha256(content).digest()
        assert opened(cipher, writer.records) == content

    asyncio.run(run())


def test_a_restart_with_chunks_in_flight_stores_only_the_new_bytes() -> None:
    async def run() -> None:
        writer = SlowWriter(seed=3)
        sink, cipher = sink_for(writer, 16)
        await sink.write(os.urandom(100))  # several chunks handed over, some still storing
        await sink.restart()
        assert writer.truncations == 1 and writer.writing == 0 and sink.received == 0
        content = os.urandom(90)
        await sink.write(content)
        sealed = await sink.finish()
        assert sealed.sha256 == hashlib.sha256(content).digest()
        assert opened(cipher, writer.records) == content

    asyncio.run(run())


@pytest.mark.parametrize("fail_at", [0, 1, 2, 5])
def test_a_store_failure_fails_the_download_and_settle_leaves_nothing_writing(
    fail_at: int,
) -> None:
    async def run() -> None:
        writer = SlowWriter(fail_at=fail_at, seed=fail_at)
        sink, _ = sink_for(writer, 8)

        async def download() -> None:
            for _ in range(20):
                await sink.write(os.urandom(8))
            await sink.finish()

        with pytest.raises(OSError, match="disk is full"):
            await download()
        await sink.settle()
        assert writer.writing == 0
        assert not writer.committed
        assert [i for i, _ in writer.records] == list(range(fail_at))

    asyncio.run(run())


def test_a_cancelled_download_leaves_its_stores_to_settle() -> None:
    async def run() -> None:
        writer = SlowWriter(seed=9)
        sink, _ = sink_for(writer, 8)

        async def download() -> None:
            while True:
                await sink.write(os.urandom(8))

        task = asyncio.ensure_future(download())
        for _ in range(30):
            await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await sink.settle()
        assert writer.writing == 0
        stored = [i for i, _ in writer.records]
        assert stored == list(range(len(stored)))

    asyncio.run(run())
