"""Server-made ids: a type prefix and 26 characters that sort by creation time.

Time-ordered ids keep index inserts local (good for both SQLite and PostgreSQL b-trees) and make
logs readable; the prefix tells a person what an id names (`acc_...` is an account).

An id is the 128-bit value (milliseconds << 80 | 80 random bits) in 26 Crockford base32 digits.
Its top two bits are zero, so the first 10 digits are exactly the 48-bit time (the same for
every id of one millisecond) and the last 16 exactly the 10 random bytes: `new_id` encodes the
two parts apart, and the random digits in batches (base64's base32 encoder is Python code, and
encoding each id whole cost 2.9 us, some 20 us of a synced case's write).
"""

from __future__ import annotations

import base64
import os
import time
from collections import deque

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford base32, lower case
#: RFC 4648's base32 letters to Crockford's: the C encoder does the bit work of each id.
_TO_CROCKFORD = bytes.maketrans(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", _ALPHABET.encode())

PREFIXES = frozenset(
    {"acc", "cred", "sec", "case", "setup", "cmt", "act", "evt", "run", "fs", "file", "blob"}
)

#: Random parts encoded at a time (10 random bytes are 16 digits).
_BATCH = 256


class _RandomDigits:
    """16 base32 digits of 10 fresh random bytes per call, encoded `_BATCH` at a time.

    Taken from a deque (its `popleft` is atomic: threads never share a part; two threads that
    both find it empty each add a batch). A child process drops what the parent had encoded:
    ids made after a fork never repeat the parent's."""

    def __init__(self) -> None:
        self._parts: deque[str] = deque()

    def reset(self) -> None:
        self._parts.clear()

    def take(self) -> str:
        try:
            return self._parts.popleft()
        except IndexError:
            encoded = base64.b32encode(os.urandom(10 * _BATCH)).translate(_TO_CROCKFORD)
            digits = encoded.decode("ascii")
            self._parts.extend(digits[at : at + 16] for at in range(16, len(digits), 16))
            return digits[:16]


_random = _RandomDigits()
os.register_at_fork(after_in_child=_random.reset)
_last_time: tuple[int, str] = (-1, "")


def new_id(prefix: str) -> str:
    global _last_time
    if prefix not in PREFIXES:
        raise ValueError(f"unknown id prefix {prefix!r}")
    milliseconds = int(time.time() * 1000)
    known, digits = _last_time
    if milliseconds != known:
        digits = encode_id(milliseconds << 80)[:10]
        _last_time = (milliseconds, digits)
    return f"{prefix}_{digits}{_random.take()}"


def encode_id(value: int) -> str:
    """26 Crockford base32 digits of a 128-bit value, most significant first (130 bits: the
    first digit's top bits are zero). Shifted left by 6 bits the value fills 17 bytes whose
    first 26 base32 digits are exactly these."""
    digits = base64.b32encode((value << 6).to_bytes(17, "big"))[:26]
    return digits.translate(_TO_CROCKFORD).decode("ascii")
