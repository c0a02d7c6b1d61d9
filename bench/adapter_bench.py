"""Adapter benchmark: what it costs to read a portal, against a hand-written script's way.

For each vendor, against a local sandbox (no added latency):
- the connector's first run: log in, list every case, fetch every case's detail;
- the connector's next run on an unchanged account: restore the saved session (no login) and
  list incrementally;
- the baseline, measured in the same run: the way hand-written portal scripts do it today
  (a fresh browser and a new login on every run, one page load per case, no session reuse),
  without their fixed sleeps so the comparison is fair.
For ClearCorrect the connector reads the WebForms pages (its primary path); the same run also
measures the JSON fast path it takes where the portal answers that API.
For Invisalign the connector runs twice, side by side: on its primary path (the pages a person
sees: the list's cards in their open shadow root, the Action required filter, each patient file)
and with its fast path (the JSON the pages might load, used only when it answers at run time).

Usage: python bench/adapter_bench.py [--cases 200]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from playwright.async_api import Page, async_playwright

from adapters.base import Adapter, Credentials, PortalSession, RecordedSignIns, no_code
from adapters.browser import BrowserPool, chromium_launch_options
from adapters.clearcorrect import ClearCorrectAdapter
from adapters.clearcorrect.site import webforms as cc_site
from adapters.invisalign import InvisalignAdapter
from adapters.invisalign import site as ids_site
from connector.logs import configure_logging
from sandbox.clearcorrect.admin_client import ClearCorrectAdmin
from sandbox.common.config import SandboxConfig
from sandbox.common.server import PortalHandle, start_portal
from vault import Secret


def login_of(portal: PortalHandle, kind: str) -> dict[str, Any]:
    state = portal.admin.state()
    return max(
        (x for x in state["logins"] if x["kind"] == kind and x["scenario"] is None),
        key=lambda x: len(x["visible_case_ids"]),
    )


def counted(portal: PortalHandle) -> int:
    return int(portal.admin.requests()["total"])


async def connector_runs(
    portal: PortalHandle, adapter: Adapter, login: dict[str, Any]
) -> dict[str, Any]:
    """First run (login, full listing, every detail), then an unchanged incremental run."""
    credentials = Credentials(login["username"], Secret(login["password"]))
    portal.admin.reset_requests()
    started = time.perf_counter()
    session = await adapter.open(credentials, None, no_code, guard=RecordedSignIns())
    login_seconds = time.perf_counter() - started
    cases, cursor = await read_all(session, None, details=True)
    first = time.perf_counter() - started
    state = await session.export_state()
    logins = session.logins
    await session.close()
    first_requests = counted(portal)

    portal.admin.reset_requests()
    started = time.perf_counter()
    session = await adapter.open(credentials, state, no_code, guard=RecordedSignIns())
    await session.check_access()
    unchanged, _ = await read_all(session, cursor, details=False)
    second = time.perf_counter() - started
    second_logins = session.logins
    await session.close()
    return {
        "cases": cases,
        "login_s": login_seconds,
        "first_s": first,
        "first_requests": first_requests,
        "first_logins": logins,
        "next_s": second,
        "next_requests": counted(portal),
        "next_logins": second_logins,
        "next_listed": unchanged,
    }


async def read_all(
    session: PortalSession, cursor: str | None, *, details: bool
) -> tuple[int, str | None]:
    seen: set[str] = set()
    resume = None
    async for page in session.list_cases(cursor):
        resume = page.resume_cursor or resume
        for summary in page.items:
            if summary.vendor_case_id in seen:
                continue
            seen.add(summary.vendor_case_id)
            if details:
                await session.get_case(summary.vendor_case_id)
    return len(seen), resume


async def browser_baseline(
    portal: PortalHandle, script: Callable[[Page], Awaitable[int]]
) -> dict[str, Any]:
    """A fresh browser, a new login and one page load per case, as scripts do it today."""
    portal.admin.reset_requests()
    started = time.perf_counter()
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(**chromium_launch_options())
        page = await browser.new_page()
        cases = await script(page)
        await browser.close()
    return {"cases": cases, "s": time.perf_counter() - started, "requests": counted(portal)}


def ids_script(portal: PortalHandle, login: dict[str, Any]) -> Callable[[Page], Awaitable[int]]:
    """What public monitor scripts do (without their fixed sleeps): sign in on the hosted login,
    read the list's cards page by page, open every patient file."""

    async def script(page: Page) -> int:
        await page.goto(portal.url + ids_site.ENTRY_PAGE)
        await page.locator(ids_site.USERNAME_FIELD).fill(login["username"])
        await page.locator(ids_site.PASSWORD_FIELD).fill(login["password"])
        await page.locator(ids_site.SUBMIT_BUTTON).click()
        await page.wait_for_url("**/patientList.action**")
        ids: list[str] = []
        while True:
            await page.locator(ids_site.CARD).first.wait_for(state="attached")
            info = await page.locator(ids_site.PAGE_INFO).inner_text()
            ids += [t.strip("# ") for t in await page.locator(ids_site.CARD_ID).all_inner_texts()]
            following = page.locator(ids_site.PAGE_NEXT)
            if await following.is_disabled():
                break
            await following.click()
            await page.locator(ids_site.PAGE_INFO).filter(has_not_text=info).wait_for()
        patients = list(dict.fromkeys(ids))  # a patient in a second phase has two cards
        for patient_id in patients:
            await page.goto(portal.url + ids_site.case_page(patient_id))
            await page.locator(ids_site.CASE_DOCTOR).wait_for(state="attached")
        return len(patients)

    return script


def ids_report(pages: dict[str, Any], fast: dict[str, Any], base: dict[str, Any]) -> None:
    """The primary path and the fast path side by side, against the hand-written script."""
    n = pages["cases"]
    print(f"\ninvisalign: {n} cases at one login")
    print(f"  {'':34}{'pages (primary)':>18}{'JSON (fast path)':>18}{'script baseline':>18}")
    rows = [
        ("login (s)", pages["login_s"], fast["login_s"], None),
        ("first run (s)", pages["first_s"], fast["first_s"], base["s"]),
        ("first run, ms per case", pages["first_s"] / n * 1000, fast["first_s"] / n * 1000,
         base["s"] / base["cases"] * 1000),
        ("first run, requests", pages["first_requests"], fast["first_requests"],
         base["requests"]),
        ("next run, unchanged (s)", pages["next_s"], fast["next_s"], base["s"]),
        ("next run, requests", pages["next_requests"], fast["next_requests"], base["requests"]),
        ("next run, logins", pages["next_logins"], fast["next_logins"], 1),
    ]  # fmt: skip
    for label, *values in rows:
        cells = "".join(
            f"{'-':>18}" if v is None else f"{v:>18.2f}" if isinstance(v, float) else f"{v:>18}"
            for v in values
        )
        print(f"  {label:<34}{cells}")
    print(
        f"  ratio baseline / connector, first run: pages {base['s'] / pages['first_s']:.1f}x, "
        f"JSON {base['s'] / fast['first_s']:.1f}x; next run: pages "
        f"{base['s'] / pages['next_s']:.0f}x, JSON {base['s'] / fast['next_s']:.0f}x"
    )


def cc_script(portal: PortalHandle, login: dict[str, Any]) -> Callable[[Page], Awaitable[int]]:
    """A hand-written script for the WebForms pages: sign in, walk every status group page by
    page (Status drop-down and pager postbacks), then load every case page."""

    async def script(page: Page) -> int:
        await page.goto(portal.url + cc_site.LOGIN_PATH)
        await page.fill(f'input[name="{cc_site.USERNAME_FIELD}"]', login["username"])
        await page.fill(f'input[name="{cc_site.PASSWORD_FIELD}"]', login["password"])
        async with page.expect_navigation():
            await page.click(f'input[name="{cc_site.SIGN_IN_BUTTON}"]')
        numbers: list[str] = []
        for group in cc_site.GROUPS:
            dropdown = f'select[name="{cc_site.STATUS_DROPDOWN}"]'
            if await page.locator(dropdown).input_value() != group:
                async with page.expect_navigation():
                    await page.select_option(dropdown, group)
            number = 1
            while True:
                links = page.locator(f"#{cc_site.CASES_GRID} a[href*='case.aspx?id=']")
                numbers += [
                    str(await links.nth(i).inner_text()) for i in range(await links.count())
                ]
                following = page.locator(
                    f"#{cc_site.CASES_GRID} a[href*='{cc_site.PAGE_PREFIX}{number + 1}']"
                )
                if not await following.count():
                    break
                async with page.expect_navigation():
                    await following.first.click()
                number += 1
        for case_number in numbers:
            await page.goto(cc_site.case_url(portal.url, case_number))
            await page.locator(f"#{cc_site.NOTES_GRID}").wait_for(state="attached")
        return len(numbers)

    return script


def report(vendor: str, run: dict[str, Any], base: dict[str, Any]) -> None:
    n = run["cases"]
    print(f"\n{vendor}: {n} cases at one login")
    print(f"  connector login                 {run['login_s']:8.2f} s")
    rate = n / run["first_s"]
    print(f"  connector first run             {run['first_s']:8.2f} s  {rate:7.0f} cases/s"
          f"  {run['first_requests']:6} requests  {run['first_logins']} login(s)"
          f"  {run['first_s'] / n * 1000:6.1f} ms/case")  # fmt: skip
    print(f"  connector next run, unchanged   {run['next_s']:8.2f} s"
          f"  {run['next_requests']:>21} requests  {run['next_logins']} login(s)")  # fmt: skip
    base_rate = base["cases"] / base["s"]
    print(f"  baseline (fresh browser+login)  {base['s']:8.2f} s  {base_rate:7.0f} cases/s"
          f"  {base['requests']:6} requests  1 login")  # fmt: skip
    print(f"  ratio baseline / connector: first run {base['s'] / run['first_s']:.1f}x, "
          f"next run {base['s'] / run['next_s']:.0f}x")  # fmt: skip


async def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=200)
    parser.add_argument("--clearcorrect-cases", type=int, default=1000)
    args = parser.parse_args()
    configure_logging(level="warning", fmt="console")
    executable = chromium_launch_options().get("executable_path")

    config = SandboxConfig(admin=True, practices=1, cases=args.cases)
    with start_portal("invisalign", config) as portal:
        login = login_of(portal, "staff")
        pool = BrowserPool(executable_path=executable)
        try:
            async with pool.context():  # the browser starts once per process, not per login
                pass
            runs = {
                fast: await connector_runs(
                    portal, InvisalignAdapter(portal.url, pool, fast_path=fast), login
                )
                for fast in (False, True)
            }
        finally:
            await pool.close()
        base = await browser_baseline(portal, ids_script(portal, login))
        ids_report(runs[False], runs[True], base)

    config = SandboxConfig(admin=True, practices=1, cases=args.clearcorrect_cases)
    with start_portal("clearcorrect", config) as portal, ClearCorrectAdmin(portal.url) as cc:
        login = login_of(portal, "partner")
        run = await connector_runs(portal, ClearCorrectAdapter(portal.url), login)
        cc.variant(json_api=True)  # the site also answers the JSON API: the fast path
        fast = await connector_runs(portal, ClearCorrectAdapter(portal.url), login)
        cc.variant(json_api=False)
        base = await browser_baseline(portal, cc_script(portal, login))
        report("clearcorrect (WebForms pages, the primary path)", run, base)
        print(f"  JSON fast path, first run        {fast['first_s']:8.2f} s"
              f"  {fast['first_requests']:>21} requests"
              f"  {fast['first_s'] / fast['cases'] * 1000:6.1f} ms/case")  # fmt: skip
        print(f"  JSON fast path, next run         {fast['next_s']:8.2f} s"
              f"  {fast['next_requests']:>21} requests")  # fmt: skip


if __name__ == "__main__":
    asyncio.run(main())
