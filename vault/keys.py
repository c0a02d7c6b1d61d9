"""Key-encryption keys (KEKs) and the providers that hold them.

A provider only wraps and unwraps data keys; it never hands a KEK out. That is the interface a
KMS offers (HashiCorp Vault transit's encrypt/decrypt, AWS KMS Encrypt/Decrypt), so one can be
added later as another provider without touching the envelope format or the store.

Two providers ship:
- `LocalKeyFile`: a JSON file in the data dir, created with mode 0600 on first run in embedded
  mode; loading refuses a file that group or others can read. Every process re-reads it when it
  changes on disk (checked before sealing and when a record names a key it does not hold), so a
  key added by `keys generate` in another process is used at once, without a restart.
- `EnvKeyring`: keys from a setting (usually the environment): `kid:base64,kid:base64`, the first
  being primary. Suits deployments whose secret store injects environment variables.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
import secrets
import stat
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import structlog
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from vault.errors import VaultError
from vault.secret import Secret

KEY_BYTES = 32
NONCE_BYTES = 12
_log = structlog.get_logger("vault")
_KID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


class KeyProvider(Protocol):
    """Wraps data keys with the primary KEK and unwraps them with whichever KEK a record names."""

    @property
    def primary_kid(self) -> str: ...

    def kids(self) -> tuple[str, ...]:
        """Every KEK id this provider can unwrap with, primary first."""
        ...

    async def wrap(self, data_key: bytes, aad: bytes) -> tuple[str, bytes]:
        """Wrap with the primary KEK; returns (kek id, wrapped key)."""
        ...

    async def unwrap(self, kid: str, wrapped: bytes, aad: bytes) -> bytes: ...


def new_kid(now: datetime | None = None) -> str:
    """A readable, unique key id: creation date plus randomness (`kek-20261123-a1b2c3`)."""
    moment = now or datetime.now(UTC)
    return f"kek-{moment:%Y%m%d}-{secrets.token_hex(3)}"


def validate_kid(kid: str) -> str:
    if not _KID.match(kid):
        raise VaultError("a key id must be 1-64 characters of letters, digits, '.', '_' or '-'")
    return kid


class Keyring:
    """KEKs held in memory: AES-256-GCM key wrapping with a random nonce and associated data."""

    def __init__(self, keys: Mapping[str, bytes], primary: str) -> None:
        if not keys:
            raise VaultError("no key-encryption key is configured")
        if primary not in keys:
            raise VaultError(f"primary key id {primary!r} is not among the configured keys")
        for kid, key in keys.items():
            validate_kid(kid)
            if len(key) != KEY_BYTES:
                raise VaultError(f"key {kid!r} must be {KEY_BYTES} bytes (256 bits)")
        self._keys = {kid: AESGCM(key) for kid, key in keys.items()}
        self._order = (primary, *(k for k in keys if k != primary))

    @property
    def primary_kid(self) -> str:
        return self._order[0]

    def kids(self) -> tuple[str, ...]:
        return self._order

    def __repr__(self) -> str:
        return f"{type(self).__name__}(kids={list(self._order)!r})"

    def refresh(self) -> bool:
        """Pick up keys changed by another process; True when something new was loaded. Keys held
        in memory only (the environment provider) never change."""
        return False

    async def wrap(self, data_key: bytes, aad: bytes) -> tuple[str, bytes]:
        self.refresh()
        nonce = os.urandom(NONCE_BYTES)
        kid = self._order[0]
        return kid, nonce + self._keys[kid].encrypt(nonce, data_key, aad)

    async def unwrap(self, kid: str, wrapped: bytes, aad: bytes) -> bytes:
        aead = self._keys.get(kid)
        if aead is None and self.refresh():
            aead = self._keys.get(kid)
        if aead is None:
            raise VaultError(
                f"the key-encryption key {kid!r} is not configured in this process: every "
                "process needs every key that records use (see 'Rotating keys' in the README)"
            )
        if len(wrapped) != NONCE_BYTES + KEY_BYTES + 16:
            raise VaultError("the wrapped data key has the wrong length")
        try:
            return aead.decrypt(wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], aad)
        except InvalidTag:
            raise VaultError(
                f"the data key does not unwrap with key {kid!r}: the record was altered, "
                "moved to another account or purpose, or the key is wrong"
            ) from None


# --- the environment provider ---------------------------------------------------------------


def parse_keyring(value: Secret) -> tuple[dict[str, bytes], str]:
    """Parse `kid:base64[,kid:base64...]` (commas or newlines); the first key is primary."""
    keys: dict[str, bytes] = {}
    entries = [e.strip() for e in re.split(r"[,\n]", value.reveal()) if e.strip()]
    for position, entry in enumerate(entries, start=1):
        kid, sep, encoded = entry.partition(":")
        if not sep:
            raise VaultError(f"key entry {position} must look like kid:base64")
        validate_kid(kid.strip())
        try:
            key = base64.b64decode(encoded.strip(), validate=True)
        except (binascii.Error, ValueError):
            raise VaultError(f"key {kid.strip()!r} is not valid base64") from None
        if kid.strip() in keys:
            raise VaultError(f"key id {kid.strip()!r} appears twice")
        keys[kid.strip()] = key
    if not keys:
        raise VaultError("the key setting holds no key")
    return keys, next(iter(keys))


class EnvKeyring(Keyring):
    """Keys from a setting such as `CONNECTOR_VAULT__KEYS`; rotate by prepending a new key."""

    def __init__(self, value: Secret) -> None:
        keys, primary = parse_keyring(value)
        super().__init__(keys, primary)


# --- the key-file provider ------------------------------------------------------------------


KEY_FILE_FORMAT = 1


def check_key_file_mode(path: Path) -> None:
    """Refuse a key file (or its directory entry) that group or others can read or write."""
    mode = path.stat().st_mode
    if stat.S_IMODE(mode) & 0o077:
        raise VaultError(
            f"key file {path} is accessible by group or others "
            f"(mode {stat.S_IMODE(mode):04o}); run: chmod 600 {path}"
        )


def _encode_file(primary: str, keys: Mapping[str, tuple[bytes, str]]) -> bytes:
    doc: dict[str, Any] = {
        "format": KEY_FILE_FORMAT,
        "primary": primary,
        "keys": [
            {"kid": kid, "key": base64.b64encode(key).decode(), "created_at": created}
            for kid, (key, created) in keys.items()
        ],
    }
    return (json.dumps(doc, indent=2) + "\n").encode()


def _file_signature(path: Path) -> tuple[int, int, int] | None:
    """What tells a changed file apart: a rewrite (ours renames a new file in place, as do
    platforms that mount secrets) changes the inode; an edit in place changes size or time."""
    try:
        info = path.stat()
    except OSError:
        return None
    return info.st_ino, info.st_size, info.st_mtime_ns


def _write_private(path: Path, payload: bytes) -> None:
    """Write atomically with mode 0600 from the first byte (never a world-readable moment)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


class LocalKeyFile(Keyring):
    """KEKs in a local JSON file with mode 0600 (the embedded default).

    The file is re-read when it changes on disk (its inode, size or modification time), before
    each seal and when a record names an unknown key: `keys generate` in one process (or a new
    secret mounted by the platform) reaches every running process without a restart, so new
    records are sealed under the new primary key and `keys retire` can finish. A file that turns
    unreadable or disappears while running leaves the keys already loaded in use.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._seen = _file_signature(path)
        primary, entries = self._read(path)
        super().__init__({kid: key for kid, (key, _) in entries.items()}, primary)
        self._entries = entries

    @property
    def primary_kid(self) -> str:
        self.refresh()
        return self._order[0]

    def kids(self) -> tuple[str, ...]:
        self.refresh()
        return self._order

    def refresh(self) -> bool:
        seen = _file_signature(self.path)
        if seen is None or seen == self._seen:
            return False
        try:
            primary, entries = self._read(self.path)
            Keyring.__init__(self, {kid: key for kid, (key, _) in entries.items()}, primary)
        except VaultError as exc:
            _log.warning("vault.key_file_unreadable", path=str(self.path), error=str(exc))
            self._seen = seen  # warned once per change; the keys loaded before stay in use
            return False
        self._entries = entries
        self._seen = seen
        _log.info("vault.key_file_reloaded", path=str(self.path), primary=primary)
        return True

    @staticmethod
    def _read(path: Path) -> tuple[str, dict[str, tuple[bytes, str]]]:
        if not path.is_file():
            raise VaultError(
                f"key file {path} does not exist; create it with `tps-connector keys generate`"
            )
        check_key_file_mode(path)
        try:
            doc = json.loads(path.read_bytes())
            if doc.get("format") != KEY_FILE_FORMAT:
                raise VaultError(f"key file {path} has an unknown format")
            entries = {
                validate_kid(str(e["kid"])): (
                    base64.b64decode(e["key"], validate=True),
                    str(e.get("created_at", "")),
                )
                for e in doc["keys"]
            }
            primary = str(doc["primary"])
        except VaultError:
            raise
        except (ValueError, KeyError, TypeError, binascii.Error):
            raise VaultError(f"key file {path} is not a valid key file") from None
        return primary, entries

    @classmethod
    def generate(cls, path: Path) -> LocalKeyFile:
        """Create a key file with one fresh key; refuses to overwrite an existing one."""
        if path.exists():
            raise VaultError(f"key file {path} already exists")
        kid = new_kid()
        now = datetime.now(UTC).isoformat()
        _write_private(path, _encode_file(kid, {kid: (secrets.token_bytes(KEY_BYTES), now)}))
        return cls(path)

    @classmethod
    def open_or_generate(cls, path: Path) -> LocalKeyFile:
        return cls(path) if path.exists() else cls.generate(path)

    def add_primary(self) -> str:
        """Add a fresh key and make it primary (old keys stay, to unwrap existing records)."""
        self.refresh()
        kid = new_kid()
        entries = {kid: (secrets.token_bytes(KEY_BYTES), datetime.now(UTC).isoformat())}
        entries.update(self._entries)
        _write_private(self.path, _encode_file(kid, entries))
        self.refresh()
        return kid

    def remove(self, kid: str) -> None:
        """Drop a retired key from the file. The caller checks that no record still uses it."""
        self.refresh()
        if kid == self.primary_kid:
            raise VaultError(f"key {kid!r} is the primary key and cannot be retired")
        if kid not in self._entries:
            raise VaultError(f"key {kid!r} is not in {self.path}")
        entries = {k: v for k, v in self._entries.items() if k != kid}
        _write_private(self.path, _encode_file(self.primary_kid, entries))
        self.refresh()
