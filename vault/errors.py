"""The vault's one error type. Messages name what failed, never a key or a plaintext."""


class VaultError(Exception):
    """A record could not be sealed or opened, or a key is missing or unsafe."""
