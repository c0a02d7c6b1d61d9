"""HTTP for adapters: one client factory and ONE retry policy (DESIGN section 5).

Every adapter request goes through `send()`, which applies the error-mapping table: transient
failures are retried per request with exponential backoff and jitter, bounded in attempts and in
total time; 429 honours Retry-After up to a cap; a POST is retried blindly only when it never
left (connect error); authentication failures are never retried.
"""

from adapters.http.client import DEFAULT_USER_AGENT, connection_pool, make_client
from adapters.http.download import fetch_to_sink
from adapters.http.policy import (
    DEFAULT_POLICY,
    ERROR_TABLE,
    Outcome,
    RetryPolicy,
    Rule,
    classify,
    send,
)
from adapters.http.redirects import redirect_chain
from adapters.http.transport import ConnectionPool

__all__ = [
    "DEFAULT_POLICY",
    "DEFAULT_USER_AGENT",
    "ERROR_TABLE",
    "ConnectionPool",
    "Outcome",
    "RetryPolicy",
    "Rule",
    "classify",
    "connection_pool",
    "fetch_to_sink",
    "make_client",
    "redirect_chain",
    "send",
]
