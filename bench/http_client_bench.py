"""HTTP client benchmark: client CPU per request against the ClearCorrect sandbox's JSON API.

The sandbox runs in its own process (no latency), so this process's CPU is the client's. One
signed-in login's case details are fetched N times, 8 at a time, by:

- bare aiohttp with the same cookies (the baseline: no httpx at all);
- httpx with its own transport (httpcore), the client httpx users get by default;
- `make_client` (`PortalClient` on `H1Transport`), and the same under the retry policy
  (`adapters.http.send`), which is how adapters send;

then an account's worth of work, a new client, one GET and its close, without and with a
shared `ConnectionPool` (what a sync run pays per account). Figures are microseconds of CPU
per request (or per account) and the ratio to bare aiohttp in the same run.

Usage: python bench/http_client_bench.py [--requests 3000] [--accounts 300]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp
import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from adapters.http import connection_pool, make_client, send  # noqa: E402
from bench.sync_bench import admin, free_port, sign_in_bare, start_json_sandbox  # noqa: E402


async def sign_in(portal: str) -> tuple[dict[str, str], list[str]]:
    """A partner login's cookies and the case numbers it sees."""
    state = admin(portal, "GET", "/state")
    login = next(x for x in state["logins"] if x["username"].startswith("tps."))
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(base_url=portal, cookie_jar=jar) as http:
        await sign_in_bare(http, login)
        async with http.get("/api/cases", params={"page": "1", "pageSize": "100"}) as r:
            numbers = [item["caseNumber"] for item in (await r.json())["items"]]
    return {c.key: c.value for c in jar}, numbers


async def per_request(
    paths: list[str], get: Callable[[str], Awaitable[None]], concurrency: int = 8
) -> float:
    """Microseconds of this process's CPU per request."""
    limit = asyncio.Semaphore(concurrency)

    async def one(path: str) -> None:
        async with limit:
            await get(path)

    started = time.process_time()
    await asyncio.gather(*(one(p) for p in paths))
    return 1e6 * (time.process_time() - started) / len(paths)


async def measure(portal: str, requests: int, accounts: int) -> None:
    cookies, numbers = await sign_in(portal)
    paths = [f"/api/cases/{numbers[i % len(numbers)]}" for i in range(requests)]
    header = "; ".join(f"{k}={v}" for k, v in cookies.items())
    figures: dict[str, float] = {}

    async with aiohttp.ClientSession(
        base_url=portal, cookie_jar=aiohttp.DummyCookieJar(), headers={"Cookie": header}
    ) as bare:

        async def bare_get(path: str) -> None:
            async with bare.get(path) as response:
                assert response.status == 200
                await response.read()

        figures["bare aiohttp (baseline)"] = await per_request(paths, bare_get)

    async with httpx.AsyncClient(base_url=portal, cookies=cookies) as plain:

        async def plain_get(path: str) -> None:
            assert (await plain.get(path)).status_code == 200

        figures["httpx, default transport"] = await per_request(paths, plain_get)

    async with make_client(portal, cookies=httpx.Cookies(cookies)) as ours:

        async def our_get(path: str) -> None:
            assert (await ours.get(path)).status_code == 200

        async def policy_get(path: str) -> None:
            assert (await send(ours, "GET", path)).status_code == 200

        figures["make_client (lean path, H1Transport)"] = await per_request(paths, our_get)
        figures["the same under the retry policy"] = await per_request(paths, policy_get)

    baseline = figures["bare aiohttp (baseline)"]
    for name, value in figures.items():
        print(f"  {name:36s} {value:7.0f} us/request  {value / baseline:5.2f}x")

    async def accounts_cpu(pool: object | None) -> float:
        started = time.process_time()
        for _ in range(accounts):
            client = make_client(portal, connections=pool)  # type: ignore[arg-type]
            assert (await client.get("/Identity/Account/Login")).status_code == 200
            await client.aclose()
        return 1e6 * (time.process_time() - started) / accounts

    alone = await accounts_cpu(None)
    pool = connection_pool()
    try:
        shared = await accounts_cpu(pool)
    finally:
        await pool.close()
    print(f"  new client + GET + close, own connections  {alone:7.0f} us/account")
    print(
        f"  new client + GET + close, shared pool      {shared:7.0f} us/account  "
        f"{shared / alone:5.2f}x"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--accounts", type=int, default=300)
    args = parser.parse_args()
    port = free_port()
    portal = f"http://127.0.0.1:{port}"
    sandbox = start_json_sandbox(port, "--practices", "2", "--cases", "50")
    try:
        load = os.getloadavg()
        print(
            f"{args.requests:,} requests, {args.accounts} accounts; load average "
            f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} cores"
        )
        asyncio.run(measure(portal, args.requests, args.accounts))
    finally:
        os.killpg(sandbox.pid, 15)
        sandbox.wait(timeout=30)


if __name__ == "__main__":
    main()
