"""Signing webhooks, and the reference check a receiver runs.

`Connector-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`. The
timestamp is inside the signed text, so a captured request cannot be replayed later with a fresh
`t`; receivers refuse a `t` more than five minutes away from their clock. While a secret
rotates, the header carries two `v1=` values (new secret first) and a receiver that knows
either secret accepts the request.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from collections.abc import Iterable
from datetime import datetime

from vault import Secret

SIGNATURE_HEADER = "Connector-Signature"
EVENT_ID_HEADER = "Connector-Event-Id"
DEFAULT_TOLERANCE_SECONDS = 300
MAX_HEADER_LENGTH = 1024

_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_HEX_SHA256 = re.compile(r"[0-9a-f]{64}")


def _digest(secret: str | Secret, timestamp: str, body: bytes) -> str:
    key = secret.reveal_bytes() if isinstance(secret, Secret) else secret.encode("utf-8")
    return hmac.new(key, timestamp.encode("ascii") + b"." + body, hashlib.sha256).hexdigest()


def signature_header(body: bytes, secrets: Iterable[Secret], timestamp: int) -> str:
    """The `Connector-Signature` value for `body`: one `v1=` per secret, in the order given."""
    t = str(int(timestamp))
    signatures = [f"v1={_digest(secret, t, body)}" for secret in secrets]
    if not signatures:
        raise ValueError("at least one secret is needed to sign")
    return ",".join([f"t={t}", *signatures])


def verify_signature(
    header: str | None,
    body: bytes,
    secrets: Iterable[str | Secret],
    now: float | datetime | None = None,
    tolerance: int = DEFAULT_TOLERANCE_SECONDS,
) -> bool:
    """The reference receiver check: True when `header` signs `body` with one of `secrets`
    and its `t` is within `tolerance` seconds of `now` (default: the current time).

    `body` must be the raw request body, byte for byte, before any JSON parsing. Any malformed
    header is simply rejected (False), never an exception. Unknown `key=value` parts are
    ignored, so a later scheme (`v2=`) can be added beside `v1=`.
    """
    if not isinstance(header, str) or not header or len(header) > MAX_HEADER_LENGTH:
        return False
    timestamp: str | None = None
    candidates: list[str] = []
    for part in header.split(","):
        key, sep, value = part.strip().partition("=")
        if not sep:
            return False
        if key == "t":
            if timestamp is not None or not _TIMESTAMP.fullmatch(value):
                return False
            timestamp = value
        elif key == "v1":
            if not _HEX_SHA256.fullmatch(value):
                return False
            candidates.append(value)
    if timestamp is None or not candidates:
        return False
    if now is None:
        current = time.time()
    elif isinstance(now, datetime):
        current = now.timestamp()
    else:
        current = float(now)
    if abs(current - int(timestamp)) > tolerance:
        return False
    accepted = False
    for secret in secrets:
        expected = _digest(secret, timestamp, body)
        for candidate in candidates:
            # No early exit: the time taken does not tell which secret or signature matched.
            accepted |= hmac.compare_digest(expected, candidate)
    return accepted
