"""Measure reading Invisalign cases (listing + every case's detail) on the adapter's two paths:

- pages (the primary path): the patient list's cards in their open shadow root, read through the
  Action required filter and the pager, and each patient file, in Chromium;
- JSON (the optional fast path): the API calls the pages themselves might make, sent with httpx
  and the browser's cookies, used only when they answer at run time.

Both run against a local sandbox after one browser login each. Prints page loads, HTTP requests
the portal counted, and wall time. Not a test (no timed assertions); run it by hand:

    .venv/bin/python bench/invisalign_dom_vs_json.py [--cases 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from adapters.base import CaseSummary, Credentials, RecordedSignIns, no_code
from adapters.browser import BrowserPool, chromium_launch_options
from adapters.invisalign import InvisalignAdapter
from sandbox.common.config import SandboxConfig
from sandbox.common.server import PortalHandle, start_portal
from vault import Secret


def _requests(portal: PortalHandle) -> tuple[int, int]:
    """(all requests, page loads: the HTML documents of the app) the portal counted."""
    counts: dict[str, int] = portal.admin.requests()["by_endpoint"]
    total = sum(counts.values())
    pages = sum(n for key, n in counts.items() if key.endswith(".action"))
    return total, pages


async def _read(portal: PortalHandle, pool: BrowserPool, fast: bool, login: dict[str, Any]) -> Any:
    credentials = Credentials(login["username"], Secret(login["password"]))
    adapter = InvisalignAdapter(portal.url, pool, fast_path=fast)
    session = await adapter.open(credentials, None, no_code, guard=RecordedSignIns())
    try:
        portal.admin.reset_requests()
        started = time.perf_counter()
        summaries: list[CaseSummary] = []
        async for page in session.list_cases(None):
            summaries += page.items
        listed = time.perf_counter() - started
        for summary in summaries:
            await session.get_case(summary.vendor_case_id)
        total = time.perf_counter() - started
    finally:
        await session.close()
    requests, pages = _requests(portal)
    return {
        "cases": len(summaries),
        "page_loads": pages,
        "requests": requests,
        "list_seconds": round(listed, 2),
        "total_seconds": round(total, 2),
    }


async def measure(cases: int) -> dict[str, Any]:
    config = SandboxConfig(admin=True, practices=1, cases=cases)
    with start_portal("invisalign", config) as portal:
        login = next(
            entry
            for entry in portal.admin.state()["logins"]
            if entry["kind"] == "staff"
            and entry["scenario"] is None
            and entry["doctor_id"] != "100001"
        )
        pool = BrowserPool(executable_path=chromium_launch_options().get("executable_path"))
        try:
            async with pool.context():  # start the browser first
                pass
            return {
                "pages": await _read(portal, pool, False, login),
                "json": await _read(portal, pool, True, login),
            }
        finally:
            await pool.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=1000)
    args = parser.parse_args()
    results = asyncio.run(measure(args.cases))
    for mode in ("pages", "json"):
        r = results[mode]
        print(
            f"{mode:5}: {r['cases']} cases, {r['page_loads']} page loads, {r['requests']} "
            f"requests, listing {r['list_seconds']} s, listing + details {r['total_seconds']} s"
        )


if __name__ == "__main__":
    main()
