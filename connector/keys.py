"""Key-encryption keys from the operator's side: which provider, status, rotation, retirement.

Rotation never touches a ciphertext: each record's data key is unwrapped with its old KEK and
wrapped again with the primary one. It works in batches, each committed on its own and guarded by
the old KEK id, so an interrupted rotation resumes where it stopped by simply running again, and
a rotation racing a credential update never overwrites the newer record.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import structlog

from connector.clock import utcnow
from connector.domain import KekUsage
from connector.errors import ConfigError, ConflictError
from connector.files.rotation import rewrap_file_keys
from connector.settings import Settings
from connector.store import files as file_rows
from connector.store import sealed
from connector.store.database import Store
from vault import EnvKeyring, KeyProvider, LocalKeyFile, SealedRecord, Vault, VaultError

_log = structlog.get_logger("connector.keys")


def key_provider(settings: Settings, *, create: bool = False) -> KeyProvider:
    """The configured KEK provider. `create` makes the key file when missing (embedded mode)."""
    try:
        if settings.vault.provider == "env":
            if settings.vault.keys is None:
                raise ConfigError("vault.keys is not set")
            return EnvKeyring(settings.vault.keys)
        path = settings.key_file
        if create and not path.exists():
            _log.info("vault.key_file_generated", path=str(path))
            return LocalKeyFile.generate(path)
        return LocalKeyFile(path)
    except VaultError as exc:
        raise ConfigError(str(exc)) from None


def generate_key(settings: Settings) -> tuple[str, bool]:
    """Create the key file, or add a new primary key to it. Returns (kid, created_file)."""
    if settings.vault.provider != "file":
        raise ConfigError(
            "keys generate manages the key file; with vault.provider = 'env', prepend a new "
            "`kid:base64` key to vault.keys instead (`openssl rand -base64 32` makes one)"
        )
    path = settings.key_file
    try:
        if not path.exists():
            return LocalKeyFile.generate(path).primary_kid, True
        return LocalKeyFile(path).add_primary(), False
    except VaultError as exc:
        raise ConfigError(str(exc)) from None


async def _wrapped_counts(store: Store) -> dict[str, int]:
    """Data keys per KEK: sealed records, and file keys (account and blob keys)."""
    async with store.read() as conn:
        counts = await sealed.kek_counts(conn)
        for kid, n in (await file_rows.file_kek_counts(conn)).items():
            counts[kid] = counts.get(kid, 0) + n
    return counts


async def kek_usage(store: Store, keys: KeyProvider) -> list[KekUsage]:
    counts = await _wrapped_counts(store)
    configured = keys.kids()
    kids = list(configured) + sorted(k for k in counts if k not in configured)
    return [
        KekUsage(kid, counts.get(kid, 0), kid == keys.primary_kid, kid in configured)
        for kid in kids
    ]


@dataclass(frozen=True)
class RotationResult:
    rewrapped: int
    remaining: int
    primary: str


async def rotate(
    store: Store,
    vault: Vault,
    *,
    batch_size: int = 500,
    progress: Callable[[int, int], None] | None = None,
) -> RotationResult:
    """Rewrap every data key not yet on the primary KEK. Safe to interrupt and run again."""
    primary = vault.keys.primary_kid
    total = sum(n for kid, n in (await _wrapped_counts(store)).items() if kid != primary)
    done = 0
    after: str | None = None
    while True:
        async with store.read() as conn:
            batch = await sealed.batch_not_on(conn, primary, after_id=after, limit=batch_size)
        if not batch:
            break
        after = batch[-1].id
        rewrapped: list[tuple[sealed.StoredSecret, SealedRecord]] = []
        for row in batch:
            new = await vault.rewrap(row.record, row.account_id, row.purpose)
            rewrapped.append((row, new))
        async with store.transaction() as conn:
            done += await sealed.update_wrapping(conn, rewrapped, utcnow())
        if progress is not None:
            progress(done, total)
    sealed_done = done

    def report_files(rewrapped: int) -> None:
        if progress is not None:
            progress(sealed_done + rewrapped, total)

    done += await rewrap_file_keys(store, vault.keys, batch_size=batch_size, progress=report_files)
    remaining = sum(n for kid, n in (await _wrapped_counts(store)).items() if kid != primary)
    _log.info("vault.rotated", rewrapped=done, remaining=remaining, primary=primary)
    return RotationResult(done, remaining, primary)


async def retire_key(store: Store, settings: Settings, kid: str) -> None:
    """Remove an old KEK from the key file, refusing while any record still uses it."""
    keys = key_provider(settings)
    if not isinstance(keys, LocalKeyFile):
        raise ConfigError(
            "with vault.provider = 'env', retire a key by removing it from vault.keys "
            "(after `keys status` shows no row on it)"
        )
    in_use = (await _wrapped_counts(store)).get(kid, 0)
    if in_use:
        raise ConflictError(
            f"key {kid} still wraps {in_use} record(s); run `tps-connector keys rotate` first"
        )
    try:
        keys.remove(kid)
    except VaultError as exc:
        raise ConflictError(str(exc)) from None
