"""Chromium's launch: one renderer per context, and Playwright's own disabled features kept.

Chromium reads only the last `--disable-features`, so the launch repeats Playwright's list
before adding its own: the list must match the installed driver's, and a navigation must still
behave as Playwright set it up (plain HTTP stays HTTP).
"""

from __future__ import annotations

import asyncio
import os
import re
from pathlib import Path
from typing import Any

import playwright
import pytest
from playwright.async_api import BrowserContext, Route

from adapters.browser import BrowserPool
from adapters.browser.executable import PLAYWRIGHT_DISABLED_FEATURES
from bench.browser_bench import kind_of
from bench.procs import descendants

#: Two sites, as the portal and its sign-in host are (answered by the context, no server).
PORTAL = "http://portal.example/patients"
SIGN_IN = "http://signin.example/u/login"


def test_the_launch_repeats_playwrights_disabled_features() -> None:
    bundle = Path(playwright.__file__).parent / "driver/package/lib/coreBundle.js"
    source = bundle.read_text(encoding="utf-8")
    found = re.search(r"disabledFeatures = \[(.*?)\]\.filter\(Boolean\)", source, re.S)
    assert found is not None, "Playwright's driver no longer lists its disabled features there"
    listed = re.findall(r'^\s*"([A-Za-z0-9]+)",?\s*$', found.group(1), re.M)
    assert listed and tuple(listed) == PLAYWRIGHT_DISABLED_FEATURES


def _renderers() -> set[int]:
    return {pid for pid in descendants(os.getpid()) if kind_of(pid) == "renderer"}


async def _watch(seen: set[int], stop: asyncio.Event) -> None:
    """Every renderer that ever ran, even for a moment."""
    while not stop.is_set():
        seen |= await asyncio.to_thread(_renderers)
        await asyncio.sleep(0.01)


async def _browse(context: BrowserContext, requested: list[str]) -> None:
    async def answer(route: Route) -> None:
        requested.append(route.request.url)
        await route.fulfill(status=200, content_type="text/html", body="<p>ok</p>")

    await context.route("**/*", answer)
    page = await context.new_page()
    for url in (PORTAL, SIGN_IN, PORTAL):
        await page.goto(url)
        await page.evaluate("localStorage.setItem('seen', location.host)")
    # Saving the session reads the sign-in host's storage too, whose page is not open
    # (Playwright opens one for it).
    state = await context.storage_state()
    assert len(state["origins"]) == 2


@pytest.mark.browser
async def test_one_renderer_per_context(chromium_options: dict[str, Any]) -> None:
    pool = BrowserPool(executable_path=chromium_options.get("executable_path"), max_contexts=3)
    requested: list[str] = []
    seen: set[int] = set()
    stop = asyncio.Event()
    watching = asyncio.create_task(_watch(seen, stop))
    try:
        async with pool.context() as first, pool.context() as second, pool.context() as third:
            for context in (first, second, third):
                await _browse(context, requested)
            await asyncio.sleep(0.3)
            assert len(_renderers()) == 3
    finally:
        stop.set()
        await watching
        await pool.close()
    assert len(seen) == 3  # none started for a navigation between the hosts, or for the save
    # Playwright's list still applies: plain HTTP was not upgraded to HTTPS.
    assert requested and all(url.startswith("http://") for url in requested)
