"""The vault: sealing and opening secret records, with every decryption audited."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import structlog

from vault.envelope import Purpose, SealedRecord, rewrap, seal, unseal
from vault.errors import VaultError
from vault.keys import KeyProvider
from vault.secret import Secret

_log = structlog.get_logger("vault")


@dataclass(frozen=True)
class Decryption:
    """One audited decryption: what was opened and why (never the value)."""

    account_id: str
    purpose: Purpose
    kek_id: str
    reason: str


AuditSink = Callable[[Decryption], Awaitable[None]]


@dataclass
class AuditReceipt:
    """Proof that one decryption's audit row is already stored: the caller wrote it in a
    transaction of its own work (one commit instead of two) and hands the receipt to `open`
    after that transaction committed. Good for exactly that decryption, once."""

    event: Decryption
    used: bool = False


class Vault:
    """Seals and opens records with a key provider; tells `audit` about every decryption.

    The audit sink is awaited before the plaintext exists, so a decryption that cannot be
    recorded does not happen.
    """

    def __init__(self, keys: KeyProvider, audit: AuditSink) -> None:
        self.keys = keys
        self._audit = audit

    def __repr__(self) -> str:
        return f"Vault(primary={self.keys.primary_kid!r})"

    async def seal(self, plaintext: Secret, account_id: str, purpose: Purpose) -> SealedRecord:
        return await seal(self.keys, plaintext, account_id, purpose)

    async def open(
        self,
        record: SealedRecord,
        account_id: str,
        purpose: Purpose,
        *,
        reason: str,
        receipt: AuditReceipt | None = None,
    ) -> Secret:
        """Decrypt a record; audited first, by the sink or (already) by `receipt`."""
        event = Decryption(account_id, Purpose(purpose), record.kek_id, reason)
        if receipt is None:
            await self._audit(event)
        elif receipt.used or receipt.event != event:
            raise VaultError("the audit receipt is not for this decryption (or was used)")
        else:
            receipt.used = True
        _log.info(
            "secret.decrypted",
            account_id=account_id,
            purpose=str(event.purpose),
            kek_id=record.kek_id,
            reason=reason,
        )
        return await unseal(self.keys, record, account_id, purpose)

    async def rewrap(self, record: SealedRecord, account_id: str, purpose: Purpose) -> SealedRecord:
        """Move a record's data key to the primary KEK (a no-op copy when already there)."""
        if record.kek_id == self.keys.primary_kid:
            return record
        return await rewrap(self.keys, record, account_id, purpose)
