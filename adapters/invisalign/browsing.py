"""The session's browser tab: page loads under the retry policy, waiting for a page to render,
and snapshots of what it shows (open shadow roots included) for the readers in `pages`.

Why a page that failed is *unavailable*, not *changed*: under a fault (a 5xx on the page script,
a 429 on the data the script loads, a dropped connection) a page renders nothing or an error
panel, which would look like a changed portal to a parser. The tab watches every request of the
page it loads; a page whose own requests failed is reloaded under the retry policy and, when
that does not help, reported as `PortalUnavailable` (or `RateLimited`). Only a page that loaded
cleanly and still shows nothing known is a `PortalChanged`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

import httpx
import structlog
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Page, Request
from playwright.async_api import Response as PageResponse

from adapters.base import PortalChanged, PortalUnavailable, RateLimited
from adapters.http import Outcome, RetryPolicy, classify
from adapters.http.policy import retry_after_seconds
from adapters.invisalign.html import Element, parse

_log = structlog.get_logger("adapters.invisalign")

T = TypeVar("T")

#: Serializes the page with its open shadow roots inline (`<template shadowrootmode>`), the way
#: Playwright's CSS engine sees it; `document.querySelector` would not pierce them.
_SNAPSHOT = """() => {
  const roots = [];
  const walk = (node) => {
    for (const element of node.querySelectorAll("*")) {
      if (element.shadowRoot) { roots.push(element.shadowRoot); walk(element.shadowRoot); }
    }
  };
  walk(document);
  const lang = document.documentElement.getAttribute("lang") || "";
  const body = document.body.getHTML
    ? document.body.getHTML({ shadowRoots: roots }) : document.body.innerHTML;
  return [lang, body];
}"""


class Broken(Exception):
    """This load of the page failed in a way a reload may fix (its own requests failed, or it
    shows its error panel)."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


@dataclass(frozen=True)
class Snapshot:
    lang: str
    html: str

    def root(self) -> Element:
        return parse(self.html)


class Tab:
    """One browser page of a session, with what its requests did."""

    def __init__(
        self, page: Page, policy: RetryPolicy, render_timeout: float, settle_timeout: float
    ) -> None:
        self.page = page
        self.policy = policy
        self.render_timeout = render_timeout
        self.settle_timeout = settle_timeout
        self.failures = 0
        self.last_failure: tuple[str, float | None] = ("", None)
        self.in_flight = 0
        page.on("request", self._started)
        page.on("requestfinished", self._finished)
        page.on("response", self._response)
        page.on("requestfailed", self._failed)

    def _started(self, request: Request) -> None:
        self.in_flight += 1

    def _finished(self, request: Request) -> None:
        self.in_flight = max(0, self.in_flight - 1)

    def _response(self, response: PageResponse) -> None:
        if response.status >= 500 or response.status == 429:
            retry_after = None
            if response.status == 429:
                retry_after = retry_after_seconds(httpx.Response(429, headers=response.headers))
            self.failures += 1
            self.last_failure = (f"a request answered {response.status}", retry_after)

    def _failed(self, request: Request) -> None:
        self.in_flight = max(0, self.in_flight - 1)
        if "ERR_ABORTED" in (request.failure or ""):
            return  # left behind by a navigation: not a failure of the portal
        self.failures += 1
        self.last_failure = ("a request failed", None)

    @property
    def url(self) -> str:
        return self.page.url

    # Loading ----------------------------------------------------------------------------------

    async def goto(self, url: str, *, tried: int = 0) -> PageResponse:
        """A page load under the retry policy: 5xx, 429 (Retry-After, capped) and connection
        failures are retried with backoff, bounded in attempts and time. A failure in the middle
        of a redirect chain is retried from the URL that failed, so each hop gets its attempts.
        `tried`: attempts this URL already had (a form's redirect that failed)."""
        policy = self.policy
        started = time.monotonic()
        attempts = total_attempts = tried
        if tried:
            await asyncio.sleep(policy.backoff(tried))
        last_retry_after: float | None = None
        reason = "no answer"
        while True:
            attempts += 1
            total_attempts += 1
            failed_at = url
            try:
                response = await self.page.goto(url, wait_until="domcontentloaded")
            except PlaywrightError:
                response, reason, last_retry_after = None, "the page did not load", None
            if response is not None:
                headers = response.headers
                outcome, reason = classify(httpx.Response(response.status, headers=headers))
                if outcome not in (Outcome.RETRY, Outcome.RATE_LIMITED):
                    return response
                last_retry_after = (
                    retry_after_seconds(httpx.Response(429, headers=headers))
                    if outcome is Outcome.RATE_LIMITED
                    else None
                )
                failed_at = response.url
            if failed_at != url:
                url, attempts = failed_at, 1  # progress along the redirect chain
            delay = self._delay(last_retry_after, attempts)
            elapsed = time.monotonic() - started
            if (
                attempts >= policy.max_attempts
                or total_attempts >= policy.max_attempts * 4
                or elapsed + delay > policy.max_total_seconds
            ):
                break
            _log.info("invisalign.page_retry", attempt=attempts, reason=reason)
            await asyncio.sleep(delay)
        if last_retry_after is not None or reason == "rate limited":
            raise RateLimited(last_retry_after)
        raise PortalUnavailable(f"a page of the portal did not load after retries ({reason})")

    def _delay(self, retry_after: float | None, attempts: int) -> float:
        if retry_after is not None:
            return min(retry_after, self.policy.retry_after_cap)
        return self.policy.backoff(attempts)

    async def until(
        self,
        step: Callable[[int], Awaitable[T]],
        what: str,
    ) -> T:
        """Run `step(attempt)` until it does not raise `Broken`, under the retry policy (attempt
        0 first); a step that stays broken is `PortalUnavailable` (`RateLimited` after 429s)."""
        started = time.monotonic()
        attempt = 0
        while True:
            try:
                return await step(attempt)
            except Broken as broken:
                attempt += 1
                delay = self._delay(broken.retry_after, attempt)
                if (
                    attempt >= self.policy.max_attempts
                    or time.monotonic() - started + delay > self.policy.max_total_seconds
                ):
                    if broken.retry_after is not None:
                        raise RateLimited(broken.retry_after) from None
                    raise PortalUnavailable(f"{what} did not load after retries") from None
                _log.info("invisalign.page_retry", what=what, attempt=attempt, reason=broken.reason)
                await asyncio.sleep(delay)

    def mark(self) -> int:
        """Remember the failure count: `broken_since(mark)` tells whether this load failed."""
        return self.failures

    def broken_since(self, mark: int) -> Broken | None:
        if self.failures == mark:
            return None
        reason, retry_after = self.last_failure
        return Broken(reason, retry_after)

    # Waiting and reading ----------------------------------------------------------------------

    async def rendered(
        self,
        selector: str,
        mark: int,
        what: str,
        facts: tuple[str, ...],
        within: float | None = None,
    ) -> None:
        """Wait until something matching `selector` is on the page. A request of the page that
        failed meanwhile makes it `Broken` at once; nothing after the timeout while every request
        of the page succeeded and none is pending is a changed portal."""
        deadline = time.monotonic() + (self.render_timeout if within is None else within)
        marker = self.page.locator(selector).first
        while True:
            step = max(0.05, min(0.25, deadline - time.monotonic()))
            try:
                await marker.wait_for(state="attached", timeout=step * 1000)
                return
            except PlaywrightError:
                pass
            self.check(mark, deadline, what, facts)

    def check(self, mark: int, deadline: float, what: str, facts: tuple[str, ...]) -> None:
        """Between two looks at a page: `Broken` if its requests failed; at the deadline,
        `Broken` while requests are still on their way, else `PortalChanged`."""
        broken = self.broken_since(mark)
        if broken is not None:
            raise broken
        if time.monotonic() < deadline:
            return
        if self.in_flight:
            raise Broken("the page is still loading")
        raise PortalChanged(f"{what}: the page did not show what it used to", facts)

    async def snapshot(self) -> Snapshot:
        try:
            lang, html = await self.page.evaluate(_SNAPSHOT)
        except PlaywrightError:
            raise Broken("the page went away while it was read") from None
        return Snapshot(str(lang), str(html))

    async def click(self, selector: str, what: str, facts: tuple[str, ...]) -> None:
        try:
            await self.page.locator(selector).first.click(timeout=self.render_timeout * 1000)
        except PlaywrightError:
            raise PortalChanged(f"{what}: could not click what it used to", facts) from None
