"""Chunked file encryption: round trips, and every way a chunk, a blob or a wrapped key can be
moved, reordered, cut short or extended fails to open."""

from __future__ import annotations

import os

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vault import Keyring, VaultError
from vault.stream import (
    AccountFileKey,
    ChunkCipher,
    chunk_count,
    chunk_span,
    new_data_key,
    rewrap_account_key,
    rewrap_blob_key,
    unwrap_account_key,
    unwrap_blob_key,
    wrap_account_key,
    wrap_blob_key,
)

KEY = new_data_key()


def seal_all(cipher: ChunkCipher, data: bytes, size: int) -> list[bytes]:
    pieces = [data[i : i + size] for i in range(0, len(data), size)] or [b""]
    return [cipher.seal(i, p, last=i == len(pieces) - 1) for i, p in enumerate(pieces)]


def open_all(cipher: ChunkCipher, records: list[bytes]) -> bytes:
    return b"".join(cipher.open(i, r, last=i == len(records) - 1) for i, r in enumerate(records))


@given(st.binary(max_size=5000), st.integers(min_value=1, max_value=700))
def test_round_trip_and_chunk_count(data: bytes, size: int) -> None:
    cipher = ChunkCipher(KEY, "acc_1", "blob_1")
    records = seal_all(cipher, data, size)
    assert len(records) == chunk_count(len(data), size)
    assert open_all(cipher, records) == data


def test_moved_reordered_truncated_or_extended_chunks_fail() -> None:
    data = os.urandom(10_000)
    cipher = ChunkCipher(KEY, "acc_1", "blob_1")
    records = seal_all(cipher, data, 1000)
    with pytest.raises(VaultError):  # reordered
        open_all(cipher, [records[1], records[0], *records[2:]])
    with pytest.raises(VaultError):  # cut short at a chunk boundary
        open_all(cipher, records[:-1])
    with pytest.raises(VaultError):  # extended
        open_all(cipher, [*records, records[-1]])
    with pytest.raises(VaultError):  # a flipped bit
        open_all(cipher, [records[0][:-1] + bytes([records[0][-1] ^ 1]), *records[1:]])
    with pytest.raises(VaultError):  # moved to another blob of the same account
        open_all(ChunkCipher(KEY, "acc_1", "blob_2"), records)
    with pytest.raises(VaultError):  # moved to another account
        open_all(ChunkCipher(KEY, "acc_2", "blob_1"), records)
    other = seal_all(ChunkCipher(KEY, "acc_1", "blob_2"), os.urandom(10_000), 1000)
    with pytest.raises(VaultError):  # one chunk copied in from another blob
        open_all(cipher, [other[0], *records[1:]])


async def test_wrapped_keys_are_bound_to_account_and_blob_and_rewrap() -> None:
    k1 = os.urandom(32)
    old = Keyring({"k1": k1}, primary="k1")
    kid, wrapped = await wrap_blob_key(old, KEY, "acc_1", "blob_1")
    assert await unwrap_blob_key(old, kid, wrapped, "acc_1", "blob_1") == KEY
    for account, blob in (("acc_2", "blob_1"), ("acc_1", "blob_2")):
        with pytest.raises(VaultError):
            await unwrap_blob_key(old, kid, wrapped, account, blob)
    both = Keyring({"k2": os.urandom(32), "k1": k1}, primary="k2")
    kid2, rewrapped = await rewrap_blob_key(both, kid, wrapped, "acc_1", "blob_1")
    assert kid2 == "k2" and await unwrap_blob_key(both, kid2, rewrapped, "acc_1", "blob_1") == KEY

    secret = AccountFileKey.new_secret()
    kid, wrapped = await wrap_account_key(old, secret, "acc_1")
    with pytest.raises(VaultError):
        await unwrap_account_key(old, kid, wrapped, "acc_2")
    kid2, rewrapped = await rewrap_account_key(both, kid, wrapped, "acc_1")
    key = await unwrap_account_key(both, kid2, rewrapped, "acc_1")
    sealed = key.seal_digest("blob_1", b"d" * 32)
    assert key.open_digest("blob_1", sealed) == b"d" * 32
    with pytest.raises(VaultError):
        key.open_digest("blob_2", sealed)


def test_the_dedup_hash_is_keyed_per_account() -> None:
    one, two = AccountFileKey(os.urandom(32), "acc_1"), AccountFileKey(os.urandom(32), "acc_2")
    digests = []
    for key in (one, one, two):
        mac = key.content_mac()
        mac.update(b"same content digest")
        digests.append(mac.hexdigest())
    assert digests[0] == digests[1] != digests[2]


@given(st.integers(0, 10_000), st.integers(0, 10_000), st.integers(1, 999))
def test_chunk_span_covers_exactly_the_range(a: int, b: int, size: int) -> None:
    first, last = min(a, b), max(a, b)
    lo, hi = chunk_span(first, last, size)
    assert lo * size <= first < (lo + 1) * size
    assert hi * size <= last < (hi + 1) * size
