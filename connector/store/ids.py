"""Server-made ids: a type prefix and 26 characters that sort by creation time.

Time-ordered ids keep index inserts local (good for both SQLite and PostgreSQL b-trees) and make
logs readable; the prefix tells a person what an id names (`acc_...` is an account).
"""

from __future__ import annotations

import base64
import os
import time

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford base32, lower case
#: RFC 4648's base32 letters to Crockford's: the C encoder does the bit work of each id.
_TO_CROCKFORD = bytes.maketrans(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", _ALPHABET.encode())

PREFIXES = frozenset(
    {"acc", "cred", "sec", "case", "setup", "cmt", "act", "evt", "run", "fs", "file", "blob"}
)


def new_id(prefix: str) -> str:
    if prefix not in PREFIXES:
        raise ValueError(f"unknown id prefix {prefix!r}")
    milliseconds = int(time.time() * 1000)
    return f"{prefix}_{encode_id((milliseconds << 80) | int.from_bytes(os.urandom(10), 'big'))}"


def encode_id(value: int) -> str:
    """26 Crockford base32 digits of a 128-bit value, most significant first (130 bits: the
    first digit's top bits are zero). Shifted left by 6 bits the value fills 17 bytes whose
    first 26 base32 digits are exactly these."""
    digits = base64.b32encode((value << 6).to_bytes(17, "big"))[:26]
    return digits.translate(_TO_CROCKFORD).decode("ascii")
