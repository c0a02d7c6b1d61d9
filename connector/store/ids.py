"""Server-made ids: a type prefix and 26 characters that sort by creation time.

Time-ordered ids keep index inserts local (good for both SQLite and PostgreSQL b-trees) and make
logs readable; the prefix tells a person what an id names (`acc_...` is an account).
"""

from __future__ import annotations

import os
import time

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford base32, lower case

PREFIXES = frozenset(
    {"acc", "cred", "sec", "case", "setup", "cmt", "act", "evt", "run", "fs", "file", "blob"}
)


def new_id(prefix: str) -> str:
    if prefix not in PREFIXES:
        raise ValueError(f"unknown id prefix {prefix!r}")
    value = (int(time.time() * 1000) << 80) | int.from_bytes(os.urandom(10), "big")
    chars = []
    for _ in range(26):
        chars.append(_ALPHABET[value & 31])
        value >>= 5
    return f"{prefix}_{''.join(reversed(chars))}"
