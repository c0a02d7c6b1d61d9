"""A Playwright browser pool: one Chromium per process, one context per account.

Contexts are the isolation unit: each account gets its own cookie jar and storage, restored from
(and exported to) a storage state that the caller encrypts with the vault. A semaphore bounds how
many contexts are open at once, since each costs a renderer process. The browser is either
launched locally (Playwright's build or Debian's Chromium) or reached over a websocket from a
remote `playwright launch-server`, which must run the same Playwright version.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import structlog
from playwright.async_api import Browser, BrowserContext, Playwright, async_playwright

from adapters.browser.executable import chromium_launch_options

_log = structlog.get_logger("adapters.browser")

StorageState = dict[str, Any]


class BrowserPool:
    """Lazily starts one browser and hands out isolated contexts, at most `max_contexts` at once."""

    def __init__(
        self,
        *,
        executable_path: str | None = None,
        ws_endpoint: str | None = None,
        max_contexts: int = 4,
        default_timeout_ms: float = 30_000,
        sandbox: bool = False,
        launch_options: Callable[[str | None], dict[str, Any]] = chromium_launch_options,
    ) -> None:
        if max_contexts < 1:
            raise ValueError("max_contexts must be at least 1")
        self._executable_path = executable_path
        self._ws_endpoint = ws_endpoint
        # Chromium's own sandbox (Playwright's default is off); some container runtimes' seccomp
        # profiles block it.
        self._sandbox = sandbox
        self._launch_options = launch_options
        self._slots = asyncio.Semaphore(max_contexts)
        self._start_lock = asyncio.Lock()
        self._playwright: Playwright | None = None
        self._browser: Browser | None = None
        self._default_timeout_ms = default_timeout_ms
        self.max_contexts = max_contexts
        self.launches = 0

    def __repr__(self) -> str:
        where = "remote" if self._ws_endpoint else "local"
        return f"BrowserPool({where}, max_contexts={self.max_contexts})"

    async def _ensure_browser(self) -> Browser:
        async with self._start_lock:
            if self._browser is not None and self._browser.is_connected():
                return self._browser
            if self._playwright is None:
                self._playwright = await async_playwright().start()
            if self._ws_endpoint:
                self._browser = await self._playwright.chromium.connect(self._ws_endpoint)
            else:
                options = self._launch_options(self._executable_path)
                options["chromium_sandbox"] = self._sandbox
                self._browser = await self._playwright.chromium.launch(**options)
            self.launches += 1
            _log.info(
                "browser.started", remote=bool(self._ws_endpoint), version=self._browser.version
            )
            return self._browser

    @asynccontextmanager
    async def context(
        self, storage_state: StorageState | None = None
    ) -> AsyncIterator[BrowserContext]:
        """An isolated context (cookie jar) for one account, closed when the block ends."""
        async with self._slots:
            browser = await self._ensure_browser()
            context = await browser.new_context(
                storage_state=storage_state,  # type: ignore[arg-type]
                locale="en-US",
                timezone_id="UTC",
                service_workers="block",
            )
            context.set_default_timeout(self._default_timeout_ms)
            try:
                yield context
            finally:
                await context.close()

    async def close(self) -> None:
        async with self._start_lock:
            if self._browser is not None:
                await self._browser.close()
                self._browser = None
            if self._playwright is not None:
                await self._playwright.stop()
                self._playwright = None
