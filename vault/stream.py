"""Files at rest: a data key per blob, AES-256-GCM in fixed-size chunks.

A blob of N bytes is cut into chunks of `chunk_size` bytes (the last one may be shorter; an empty
blob is one empty chunk), so a file streams in and out without ever being held in memory. Each
chunk is stored as one record: a random 96-bit nonce, the ciphertext and the 16-byte tag. Its
associated data binds it to the format version, the account, the blob, its index and whether it
is the last chunk. So a chunk moved to another position, blob or account fails to authenticate,
and a blob cut short at a chunk boundary or extended fails too (the new last chunk was sealed
as "not last", or the old last one is no longer at the end).

The blob's data key is wrapped by the key-encryption key with associated data naming the
account and the blob, exactly as sealed records wrap theirs: a wrapped key copied onto another
blob fails to unwrap, and `keys rotate` rewraps it without touching a chunk.

Each account has one more key of its own (the account file key, wrapped the same way). Two
subkeys derive from it with HKDF: one computes the keyed hash (HMAC-SHA256) that deduplicates
an account's blobs, so nothing stored can confirm that a known file is present; the other seals
each blob's SHA-256 (shown by the API) the same way. Deleting the account's key rows destroys
every file key of the account (crypto-shredding).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import struct

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from vault.errors import VaultError
from vault.keys import KEY_BYTES, NONCE_BYTES, KeyProvider

FILE_FORMAT = 1
DEFAULT_CHUNK_SIZE = 1 << 20  # 1 MiB: small against memory, large against per-chunk overhead
TAG_BYTES = 16
RECORD_OVERHEAD = NONCE_BYTES + TAG_BYTES
_CHUNK_MAGIC = b"tpsf"
_BLOB_KEY_MAGIC = b"tpsb"
_ACCOUNT_KEY_MAGIC = b"tpsa"


def _field(value: str) -> bytes:
    raw = value.encode("utf-8")
    if not raw:
        raise VaultError("an associated-data field is empty")
    if len(raw) > 0xFFFF:
        raise VaultError("an associated-data field is too long")
    return struct.pack(">H", len(raw)) + raw


def chunk_aad(account_id: str, blob_id: str, index: int, last: bool) -> bytes:
    """Canonical associated data of one chunk: magic, version, account, blob, index, last."""
    return (
        _CHUNK_MAGIC
        + struct.pack(">B", FILE_FORMAT)
        + _field(account_id)
        + _field(blob_id)
        + struct.pack(">QB", index, 1 if last else 0)
    )


def record_size(chunk_size: int) -> int:
    """Bytes one full chunk takes at rest."""
    return chunk_size + RECORD_OVERHEAD


def chunk_count(size: int, chunk_size: int) -> int:
    """Chunks of a blob of `size` bytes (an empty blob is one empty chunk)."""
    return max(1, -(-size // chunk_size))


def chunk_span(first: int, last: int, chunk_size: int) -> tuple[int, int]:
    """Indexes of the first and last chunk holding bytes `first`..`last` (inclusive)."""
    if first < 0 or last < first:
        raise ValueError("an empty or negative byte range")
    return first // chunk_size, last // chunk_size


class ChunkCipher:
    """Seals and opens the chunks of one blob with its data key."""

    def __init__(self, data_key: bytes, account_id: str, blob_id: str) -> None:
        if len(data_key) != KEY_BYTES:
            raise VaultError("a blob's data key must be 256 bits")
        self._aead = AESGCM(data_key)
        self.account_id = account_id
        self.blob_id = blob_id

    def __repr__(self) -> str:
        return f"ChunkCipher(blob={self.blob_id!r})"

    def seal(self, index: int, plaintext: bytes | memoryview, *, last: bool) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        aad = chunk_aad(self.account_id, self.blob_id, index, last)
        return nonce + self._aead.encrypt(nonce, plaintext, aad)

    def seal_into(
        self, index: int, plaintext: bytes | bytearray | memoryview, record: memoryview, *,
        last: bool,
    ) -> int:  # fmt: skip
        """`seal` into a buffer the caller reuses (`record`, at least `record_size` long): no
        copy of the chunk but the cipher's own. Returns the record's length."""
        nonce = os.urandom(NONCE_BYTES)
        record[:NONCE_BYTES] = nonce
        size = NONCE_BYTES + len(plaintext) + TAG_BYTES
        aad = chunk_aad(self.account_id, self.blob_id, index, last)
        self._aead.encrypt_into(nonce, plaintext, aad, record[NONCE_BYTES:size])
        return size

    def open(self, index: int, record: bytes | memoryview, *, last: bool) -> bytes:
        """The chunk's plaintext. `record` may be a view of a buffer the caller reuses: it is
        read in place, never copied."""
        if len(record) < RECORD_OVERHEAD:
            raise VaultError(f"chunk {index} of the blob is cut short")
        view = memoryview(record)
        aad = chunk_aad(self.account_id, self.blob_id, index, last)
        try:
            return self._aead.decrypt(view[:NONCE_BYTES], view[NONCE_BYTES:], aad)
        except InvalidTag:
            raise VaultError(
                f"chunk {index} of the blob does not authenticate: it was altered, moved, cut "
                "short, or belongs to another blob or account"
            ) from None


def new_data_key() -> bytes:
    return AESGCM.generate_key(bit_length=KEY_BYTES * 8)


def _blob_key_aad(account_id: str, blob_id: str) -> bytes:
    return _BLOB_KEY_MAGIC + struct.pack(">B", FILE_FORMAT) + _field(account_id) + _field(blob_id)


def _account_key_aad(account_id: str) -> bytes:
    return _ACCOUNT_KEY_MAGIC + struct.pack(">B", FILE_FORMAT) + _field(account_id)


async def wrap_blob_key(
    keys: KeyProvider, data_key: bytes, account_id: str, blob_id: str
) -> tuple[str, bytes]:
    return await keys.wrap(data_key, _blob_key_aad(account_id, blob_id))


async def unwrap_blob_key(
    keys: KeyProvider, kek_id: str, wrapped: bytes, account_id: str, blob_id: str
) -> bytes:
    return await keys.unwrap(kek_id, wrapped, _blob_key_aad(account_id, blob_id))


async def rewrap_blob_key(
    keys: KeyProvider, kek_id: str, wrapped: bytes, account_id: str, blob_id: str
) -> tuple[str, bytes]:
    """Move a blob's data key to the primary KEK; its chunks stay byte-identical."""
    aad = _blob_key_aad(account_id, blob_id)
    return await keys.wrap(await keys.unwrap(kek_id, wrapped, aad), aad)


class AccountFileKey:
    """An account's own file key: the dedup hash and the sealed digests derive from it."""

    def __init__(self, secret: bytes, account_id: str) -> None:
        if len(secret) != KEY_BYTES:
            raise VaultError("an account file key must be 256 bits")
        self.account_id = account_id
        self._mac_key = self._derive(secret, b"tps-connector file dedup v1")
        self._digests = AESGCM(self._derive(secret, b"tps-connector file digest v1"))

    @staticmethod
    def _derive(secret: bytes, info: bytes) -> bytes:
        return HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=info).derive(
            secret
        )

    @staticmethod
    def new_secret() -> bytes:
        return os.urandom(KEY_BYTES)

    def __repr__(self) -> str:
        return f"AccountFileKey({self.account_id!r})"

    def content_mac(self) -> hmac.HMAC:
        """A running keyed hash of a file's content: the account's dedup key for it."""
        return hmac.new(self._mac_key, digestmod=hashlib.sha256)

    def seal_digest(self, blob_id: str, sha256: bytes) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        aad = _blob_key_aad(self.account_id, blob_id)
        return nonce + self._digests.encrypt(nonce, sha256, aad)

    def open_digest(self, blob_id: str, sealed: bytes) -> bytes:
        aad = _blob_key_aad(self.account_id, blob_id)
        try:
            return self._digests.decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], aad)
        except InvalidTag:
            raise VaultError("a blob's sealed digest does not authenticate") from None


async def wrap_account_key(keys: KeyProvider, secret: bytes, account_id: str) -> tuple[str, bytes]:
    return await keys.wrap(secret, _account_key_aad(account_id))


async def unwrap_account_key(
    keys: KeyProvider, kek_id: str, wrapped: bytes, account_id: str
) -> AccountFileKey:
    secret = await keys.unwrap(kek_id, wrapped, _account_key_aad(account_id))
    return AccountFileKey(secret, account_id)


async def rewrap_account_key(
    keys: KeyProvider, kek_id: str, wrapped: bytes, account_id: str
) -> tuple[str, bytes]:
    aad = _account_key_aad(account_id)
    return await keys.wrap(await keys.unwrap(kek_id, wrapped, aad), aad)
