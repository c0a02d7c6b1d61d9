"""The browser pool in real Chromium: isolated contexts, storage state round trip, bounded
concurrency, and a remote browser through `playwright launch-server`."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from adapters.browser import BrowserPool
from sandbox.common.server import RunningServer, serve

pytestmark = pytest.mark.browser


async def page(request: Request) -> HTMLResponse:
    who = request.cookies.get("who", "nobody")
    response = HTMLResponse(f"<p id='who'>{who}</p>")
    if "set" in request.query_params:
        response.set_cookie("who", request.query_params["set"], httponly=True)
    return response


@pytest.fixture
def site() -> Iterator[RunningServer]:
    with serve(Starlette(routes=[Route("/", page)])) as running:
        yield running


async def test_contexts_are_isolated_and_state_round_trips(
    site: RunningServer, chromium_options: dict[str, Any]
) -> None:
    pool = BrowserPool(executable_path=chromium_options.get("executable_path"), max_contexts=2)
    try:
        async with pool.context() as alice:
            tab = await alice.new_page()
            await tab.goto(f"{site.url}/?set=alice")
            await tab.goto(site.url)
            assert await tab.inner_text("#who") == "alice"
            state = await alice.storage_state()
        async with pool.context() as other:
            tab = await other.new_page()
            await tab.goto(site.url)
            assert await tab.inner_text("#who") == "nobody"
        async with pool.context(json.loads(json.dumps(state))) as restored:
            tab = await restored.new_page()
            await tab.goto(site.url)
            assert await tab.inner_text("#who") == "alice"
        assert pool.launches == 1
    finally:
        await pool.close()


async def test_concurrency_is_bounded(
    site: RunningServer, chromium_options: dict[str, Any]
) -> None:
    pool = BrowserPool(executable_path=chromium_options.get("executable_path"), max_contexts=2)
    open_now = 0
    peak = 0

    async def use(n: int) -> str:
        nonlocal open_now, peak
        async with pool.context() as ctx:
            open_now += 1
            peak = max(peak, open_now)
            tab = await ctx.new_page()
            await tab.goto(f"{site.url}/?set=u{n}")
            await tab.goto(site.url)
            text = await tab.inner_text("#who")
            open_now -= 1
            return text

    try:
        results = await asyncio.gather(*(use(n) for n in range(5)))
    finally:
        await pool.close()
    assert results == [f"u{n}" for n in range(5)]
    assert peak == 2


async def test_remote_browser_through_launch_server(
    site: RunningServer, chromium_options: dict[str, Any], tmp_path: Path
) -> None:
    config = {"headless": True, "args": chromium_options["args"], "host": "127.0.0.1", "port": 0}
    if "executable_path" in chromium_options:
        config["executablePath"] = chromium_options["executable_path"]
    config_file = tmp_path / "server.json"
    config_file.write_text(json.dumps(config))
    server = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "playwright",
        "launch-server",
        "--browser",
        "chromium",
        "--config",
        str(config_file),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        assert server.stdout is not None
        line = (await asyncio.wait_for(server.stdout.readline(), timeout=30)).decode()
        match = re.search(r"ws://\S+", line)
        assert match, line
        pool = BrowserPool(ws_endpoint=match.group(0), max_contexts=1)
        try:
            async with pool.context() as ctx:
                tab = await ctx.new_page()
                await tab.goto(f"{site.url}/?set=remote")
                await tab.goto(site.url)
                assert await tab.inner_text("#who") == "remote"
        finally:
            await pool.close()
    finally:
        # The server's Node child and its browser survive a plain kill: stop the whole group.
        os.killpg(server.pid, signal.SIGTERM)
        await asyncio.wait_for(server.wait(), timeout=15)
