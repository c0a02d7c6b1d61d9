"""Envelope encryption, key-encryption-key providers, rotation support and secret types.

Named `vault` rather than `secrets`: a top-level `secrets` package would shadow Python's
standard-library module of that name.
"""

from vault.envelope import FORMAT_VERSION, Purpose, SealedRecord, associated_data
from vault.errors import VaultError
from vault.keys import EnvKeyring, KeyProvider, Keyring, LocalKeyFile, check_key_file_mode
from vault.secret import MASK, PendingSecret, Secret
from vault.vault import AuditReceipt, AuditSink, Decryption, Vault

__all__ = [
    "FORMAT_VERSION",
    "MASK",
    "AuditReceipt",
    "AuditSink",
    "Decryption",
    "EnvKeyring",
    "KeyProvider",
    "Keyring",
    "LocalKeyFile",
    "PendingSecret",
    "Purpose",
    "SealedRecord",
    "Secret",
    "Vault",
    "VaultError",
    "associated_data",
    "check_key_file_mode",
]
