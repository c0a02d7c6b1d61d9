"""Measure reading 1,000 Invisalign cases (listing + every case's detail) two ways:

- JSON: the API calls the site's own page script makes, sent with httpx and the browser's cookies
  (what `InvisalignAdapter` does);
- DOM: loading the list pages and each patient's detail page in Chromium and reading the cards
  and sections out of the open shadow root (`site.read_list_page` / `site.read_detail_page`).

Both run against a local sandbox after one browser login. Prints page loads, HTTP requests the
portal counted, and wall time. Not a test (no timed assertions); run it by hand:

    .venv/bin/python bench/invisalign_dom_vs_json.py [--cases 1000]

`bench/adapter_bench.py` reuses `measure` for its DOM figure.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from typing import Any

from adapters.base import CaseSummary, Credentials, RecordedSignIns, no_code
from adapters.browser import BrowserPool, chromium_launch_options
from adapters.invisalign import InvisalignAdapter, site
from sandbox.common.config import SandboxConfig
from sandbox.common.server import PortalHandle, start_portal
from vault import Secret


def _requests(portal: PortalHandle) -> tuple[int, int]:
    """(all requests, page loads: the HTML documents of the app) the portal counted."""
    counts: dict[str, int] = portal.admin.requests()["by_endpoint"]
    total = sum(counts.values())
    pages = sum(n for key, n in counts.items() if key.endswith(".action"))
    return total, pages


async def measure(cases: int) -> dict[str, Any]:
    results: dict[str, Any] = {}
    with start_portal("invisalign", SandboxConfig(admin=True, practices=1, cases=cases)) as portal:
        state = portal.admin.state()
        login = next(
            entry
            for entry in state["logins"]
            if entry["kind"] == "staff"
            and entry["scenario"] is None
            and entry["doctor_id"] != "100001"
        )
        credentials = Credentials(login["username"], Secret(login["password"]))
        pool = BrowserPool(executable_path=chromium_launch_options().get("executable_path"))
        adapter = InvisalignAdapter(portal.url, pool)
        try:
            async with pool.context():  # start the browser first: login time is the login's
                pass
            started = time.perf_counter()
            session = await adapter.open(credentials, None, no_code, guard=RecordedSignIns())
            results["login_seconds"] = round(time.perf_counter() - started, 3)
            try:
                # JSON ----------------------------------------------------------------------
                portal.admin.reset_requests()
                started = time.perf_counter()
                summaries: list[CaseSummary] = []
                async for page in session.list_cases(None):
                    summaries += page.items
                listed = time.perf_counter() - started
                for summary in summaries:
                    await session.get_case(summary.vendor_case_id)
                total = time.perf_counter() - started
                requests, pages = _requests(portal)
                results["json"] = {
                    "cases": len(summaries),
                    "page_loads": pages,
                    "requests": requests,
                    "list_seconds": round(listed, 2),
                    "total_seconds": round(total, 2),
                }
                # DOM -----------------------------------------------------------------------
                tab = await session.browser_page()
                portal.admin.reset_requests()
                started = time.perf_counter()
                cards: list[CaseSummary] = []
                number, last = 1, 1
                while number <= last:
                    await tab.goto(portal.url + site.list_page(number))
                    view = await site.read_list_page(tab)
                    cards += view.items
                    last = view.total_pages
                    number += 1
                listed = time.perf_counter() - started
                for card in cards:
                    await tab.goto(portal.url + site.detail_page(card.vendor_case_id))
                    await site.read_detail_page(tab, card, portal.url)
                total = time.perf_counter() - started
                requests, pages = _requests(portal)
                results["dom"] = {
                    "cases": len(cards),
                    "page_loads": pages,
                    "requests": requests,
                    "list_seconds": round(listed, 2),
                    "total_seconds": round(total, 2),
                }
            finally:
                await session.close()
        finally:
            await pool.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=1000)
    args = parser.parse_args()
    results = asyncio.run(measure(args.cases))
    print(f"login (browser, hosted page + challenge): {results['login_seconds']} s")
    for mode in ("json", "dom"):
        r = results[mode]
        print(
            f"{mode:4}: {r['cases']} cases, {r['page_loads']} page loads, {r['requests']} "
            f"requests, listing {r['list_seconds']} s, listing + details {r['total_seconds']} s"
        )


if __name__ == "__main__":
    main()
