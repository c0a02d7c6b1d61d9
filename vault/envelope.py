"""Envelope encryption of one secret record.

Each record gets a fresh 256-bit data key; the plaintext is sealed with AES-256-GCM under that
key with a random 96-bit nonce, and the data key is wrapped by the primary key-encryption key.
Both layers carry associated data that binds the record to its format version, account and
purpose, so a record copied onto another account, or a browser session passed off as a login,
fails to open instead of decrypting under the wrong owner.

Rotation rewraps the data key only: the nonce and ciphertext stay byte-identical, which is what
makes rotating 100,000 records cheap and safe to resume.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from enum import StrEnum

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from vault.errors import VaultError
from vault.keys import KEY_BYTES, NONCE_BYTES, KeyProvider
from vault.secret import Secret

FORMAT_VERSION = 1
_AAD_MAGIC = b"tpsc"


class Purpose(StrEnum):
    """What a sealed record is for; part of its associated data."""

    PORTAL_LOGIN = "portal_login"  # password and TOTP secret of a vendor login
    BROWSER_SESSION = "browser_session"  # cookies / storage state of a portal session


@dataclass(frozen=True, repr=False)
class SealedRecord:
    """What is stored: everything needed to open the record, given the KEK named by `kek_id`."""

    format_version: int
    kek_id: str
    wrapped_key: bytes
    nonce: bytes
    ciphertext: bytes

    def __repr__(self) -> str:
        # Ciphertext is not secret, but it has no business in logs either.
        return f"SealedRecord(v{self.format_version}, kek_id={self.kek_id!r})"


def _field(value: str) -> bytes:
    raw = value.encode("utf-8")
    if len(raw) > 0xFFFF:
        raise VaultError("an associated-data field is too long")
    return struct.pack(">H", len(raw)) + raw


def associated_data(format_version: int, account_id: str, purpose: Purpose | str) -> bytes:
    """Canonical, unambiguous encoding: magic, version byte, then length-prefixed fields."""
    if not account_id:
        raise VaultError("a sealed record needs an account id")
    return (
        _AAD_MAGIC
        + struct.pack(">B", format_version)
        + _field(account_id)
        + _field(str(Purpose(purpose)))
    )


def _wrap_aad(aad: bytes) -> bytes:
    return b"dek:" + aad


async def seal(
    keys: KeyProvider, plaintext: Secret, account_id: str, purpose: Purpose
) -> SealedRecord:
    aad = associated_data(FORMAT_VERSION, account_id, purpose)
    data_key = AESGCM.generate_key(bit_length=KEY_BYTES * 8)
    nonce = os.urandom(NONCE_BYTES)
    ciphertext = AESGCM(data_key).encrypt(nonce, plaintext.reveal_bytes(), aad)
    kek_id, wrapped = await keys.wrap(data_key, _wrap_aad(aad))
    return SealedRecord(FORMAT_VERSION, kek_id, wrapped, nonce, ciphertext)


async def unseal(
    keys: KeyProvider, record: SealedRecord, account_id: str, purpose: Purpose
) -> Secret:
    if record.format_version != FORMAT_VERSION:
        raise VaultError(f"unknown sealed-record format version {record.format_version}")
    if len(record.nonce) != NONCE_BYTES:
        raise VaultError("the sealed record's nonce has the wrong length")
    aad = associated_data(record.format_version, account_id, purpose)
    data_key = await keys.unwrap(record.kek_id, record.wrapped_key, _wrap_aad(aad))
    try:
        plaintext = AESGCM(data_key).decrypt(record.nonce, record.ciphertext, aad)
    except InvalidTag:
        raise VaultError(
            "the sealed record does not authenticate: it was altered, or it belongs to "
            "another account or purpose"
        ) from None
    try:
        return Secret(plaintext.decode("utf-8"))
    except UnicodeDecodeError:
        raise VaultError("the sealed record does not hold text") from None


async def rewrap(
    keys: KeyProvider, record: SealedRecord, account_id: str, purpose: Purpose
) -> SealedRecord:
    """Re-wrap the data key under the primary KEK; nonce and ciphertext are kept as they are."""
    aad = _wrap_aad(associated_data(record.format_version, account_id, purpose))
    data_key = await keys.unwrap(record.kek_id, record.wrapped_key, aad)
    kek_id, wrapped = await keys.wrap(data_key, aad)
    return SealedRecord(record.format_version, kek_id, wrapped, record.nonce, record.ciphertext)
