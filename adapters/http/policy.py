"""The one retry policy: an error-mapping table (in the style of Airbyte's) and `send()`.

`classify()` maps an exception or a response to an `Outcome` through `ERROR_TABLE`, an ordered
list of rules that an adapter can extend (prepend its own rules) without changing the policy.
`send()` performs one request with that policy:

- RETRY: connect errors, timeouts, dropped connections, 5xx. For a GET (idempotent) they are
  retried with exponential backoff and jitter. For a POST only a connect error is retried (the
  request never left); anything else raises `OutcomeUnknown` so the caller checks the portal for
  its marker first.
- RATE_LIMITED: 429. Waits Retry-After (capped) when given, the normal backoff otherwise.
- FAIL_AUTH: 401. Never retried here: the adapter treats it as an expired session and logs in
  again at most once.
- OK / FAIL: returned to the adapter, which knows what a 403 or 404 means on its portal.

Attempts are bounded (`max_attempts`) and so is total time: tenacity's `stop_before_delay`
gives up *before* a sleep that would cross the budget, where `stop_after_delay` would overshoot.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from enum import StrEnum

import httpx
import structlog
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    stop_after_attempt,
    stop_before_delay,
)

from adapters.base.errors import OutcomeUnknown, PortalUnavailable, RateLimited

_log = structlog.get_logger("adapters.http")


class Outcome(StrEnum):
    OK = "ok"
    RETRY = "retry"
    RATE_LIMITED = "rate_limited"
    FAIL_AUTH = "fail_auth"
    FAIL = "fail"


Subject = httpx.Response | BaseException


@dataclass(frozen=True)
class Rule:
    """`matches(subject)` true -> `outcome`. Rules are tried in order; the first match wins."""

    name: str
    matches: Callable[[Subject], bool]
    outcome: Outcome


def _status(*codes: int) -> Callable[[Subject], bool]:
    return lambda s: isinstance(s, httpx.Response) and s.status_code in codes


def _status_range(low: int, high: int) -> Callable[[Subject], bool]:
    return lambda s: isinstance(s, httpx.Response) and low <= s.status_code <= high


def _error(*types: type[BaseException]) -> Callable[[Subject], bool]:
    return lambda s: isinstance(s, types)


ERROR_TABLE: tuple[Rule, ...] = (
    Rule("connect error", _error(httpx.ConnectError, httpx.ConnectTimeout), Outcome.RETRY),
    Rule("pool timeout", _error(httpx.PoolTimeout), Outcome.RETRY),
    Rule("read/write timeout", _error(httpx.ReadTimeout, httpx.WriteTimeout), Outcome.RETRY),
    Rule(
        "connection dropped",
        _error(httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError),
        Outcome.RETRY,
    ),
    Rule("rate limited", _status(429), Outcome.RATE_LIMITED),
    Rule("server error", _status_range(500, 599), Outcome.RETRY),
    Rule("unauthorized", _status(401), Outcome.FAIL_AUTH),
    Rule("client error", _status_range(400, 499), Outcome.FAIL),
    Rule("success or redirect", _status_range(100, 399), Outcome.OK),
)

#: A request extension: the caller reads the body piece by piece (a download that resumes
#: from the last byte it got), so the transport must not read it whole first.
STREAMED = "streamed"

#: Exceptions that prove the request never reached the server: safe to resend even a POST.
NEVER_SENT: tuple[type[BaseException], ...] = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
)


def classify(subject: Subject, table: Sequence[Rule] = ERROR_TABLE) -> tuple[Outcome, str]:
    for rule in table:
        if rule.matches(subject):
            return rule.outcome, rule.name
    if isinstance(subject, BaseException):
        raise subject
    return Outcome.FAIL, "unmatched"


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5
    max_total_seconds: float = 60.0
    initial_backoff: float = 0.5
    max_backoff: float = 15.0
    retry_after_cap: float = 60.0

    def backoff(self, attempt: int) -> float:
        """Exponential backoff with full jitter (attempt 1 is the first retry)."""
        ceiling = min(self.max_backoff, self.initial_backoff * 2 ** (attempt - 1))
        return random.uniform(ceiling / 2, ceiling)


DEFAULT_POLICY = RetryPolicy()


class _Transient(Exception):
    """One attempt failed in a way worth retrying."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


def retry_after_seconds(response: httpx.Response, now: datetime | None = None) -> float | None:
    """Retry-After as seconds (delta-seconds or an HTTP date); None when absent or unreadable."""
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def _wait(policy: RetryPolicy) -> Callable[[RetryCallState], float]:
    def wait(state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, _Transient) and error.retry_after is not None:
            return min(error.retry_after, policy.retry_after_cap)
        return policy.backoff(state.attempt_number)

    return wait


async def send(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    policy: RetryPolicy = DEFAULT_POLICY,
    table: Sequence[Rule] = ERROR_TABLE,
    idempotent: bool | None = None,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    stream: bool = False,
    **kwargs: object,
) -> httpx.Response:
    """Send one request under the policy; return the response for OK, FAIL and FAIL_AUTH.

    With `stream=True` the body is not read: the caller iterates it and closes the response
    (downloads; see `adapters.http.download`). Responses the policy retries are closed here.

    Raises `RateLimited`, `PortalUnavailable` (retries exhausted) or `OutcomeUnknown` (a
    non-idempotent request that may have landed).
    """
    safe = idempotent if idempotent is not None else method.upper() in ("GET", "HEAD", "OPTIONS")
    last_rate_limit: float | None = None

    async def attempt() -> httpx.Response:
        nonlocal last_rate_limit
        try:
            if stream:
                request = client.build_request(
                    method,
                    url,
                    extensions={STREAMED: True},
                    **kwargs,  # type: ignore[arg-type]
                )
                response = await client.send(request, stream=True)
            else:
                response = await client.request(method, url, **kwargs)  # type: ignore[arg-type]
        except httpx.HTTPError as exc:
            outcome, reason = classify(exc, table)
            if outcome is not Outcome.RETRY:
                raise
            if not safe and not isinstance(exc, NEVER_SENT):
                raise OutcomeUnknown(
                    f"{method} {url} may have reached the portal ({reason})"
                ) from None
            raise _Transient(reason) from None
        if table is ERROR_TABLE and response.status_code < 400:
            return response  # what the table says of every answer below 400, without its walk
        outcome, reason = classify(response, table)
        if outcome is Outcome.RATE_LIMITED:
            last_rate_limit = retry_after_seconds(response)
            await response.aclose()
            if not safe:
                raise OutcomeUnknown(f"{method} {url} was answered 429; check before resending")
            raise _Transient(reason, last_rate_limit)
        if outcome is Outcome.RETRY:
            await response.aclose()
            if not safe:
                raise OutcomeUnknown(
                    f"{method} {url} was answered {response.status_code}; check before resending"
                )
            raise _Transient(f"{reason} {response.status_code}")
        return response

    # Most requests succeed at once: the first attempt runs without building a retry
    # controller (about a tenth of a request's client CPU). Only a transient failure hands over
    # to tenacity, which replays that failure as its own first attempt, so attempt numbers,
    # waits and the stop rules are the same as if it had run from the start.
    started = time.monotonic()
    try:
        return await attempt()
    except _Transient as exc:
        first_failure: _Transient | None = exc
    # The time budget counts from the first attempt, not from the hand-over.
    budget = policy.max_total_seconds - (time.monotonic() - started)

    async def again() -> httpx.Response:
        nonlocal first_failure
        if first_failure is not None:
            failure, first_failure = first_failure, None
            raise failure
        return await attempt()

    retrying = AsyncRetrying(
        stop=stop_after_attempt(policy.max_attempts) | stop_before_delay(budget),
        wait=_wait(policy),
        retry=retry_if_exception_type(_Transient),
        sleep=sleep,
        reraise=True,
        before_sleep=lambda s: _log.info(
            "http.retry",
            method=method,
            path=httpx.URL(url).path,
            attempt=s.attempt_number,
            reason=str(s.outcome.exception()) if s.outcome else None,
        ),
    )
    try:
        return await retrying(again)
    except _Transient as exc:
        if exc.reason == "rate limited":
            raise RateLimited(last_rate_limit) from None
        raise PortalUnavailable(
            f"{method} {httpx.URL(url).path} failed after retries ({exc.reason})"
        ) from None
