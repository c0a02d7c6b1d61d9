"""Pages recorded from the IDS sandbox, for the parsers' full language x variant matrix without
a browser (`test_pages.py`), and the helper that records them.

Each file `recorded/<lang>-<variant>.json` holds page snapshots (serialized the way the adapter
reads a page: open shadow roots inline), saved by a person clicking through the sandbox with
Playwright, and what the sandbox held meanwhile (`expected`). The sandbox is seeded with the
scenario practice only: generated names, no real patient data. Styles are left out.

Regenerate after a sandbox change (a browser test checks that the recordings still parse to
what a fresh recording shows):

    .venv/bin/python -m tests.adapters.invisalign.recorded
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
from pathlib import Path
from typing import Any

import httpx
from playwright.async_api import Page, async_playwright, expect

from adapters.browser import chromium_launch_options
from adapters.invisalign.browsing import _SNAPSHOT
from sandbox.common.config import SandboxConfig
from sandbox.common.server import PortalHandle, start_portal
from sandbox.invisalign import i18n
from sandbox.invisalign.scenarios import SCENARIOS
from sandbox.invisalign.variants import CLASSIC_TABLE, LEGACY_TAB, VARIANTS

DIRECTORY = Path(__file__).resolve().parent / "recorded"
GOOD = next(s for s in SCENARIOS if s.name == "good")
DOCTOR = ("dr.morgan@smile-dental.example", "Morgan-Doctor-2026")
NO_MATCH = "Zzyzx"
_STYLE = re.compile(r"<style>.*?</style>", re.S)


def path_of(lang: str, variant: str) -> Path:
    return DIRECTORY / f"{lang}-{variant}.json"


def load(lang: str, variant: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path_of(lang, variant).read_text(encoding="utf-8"))
    return data


async def snapshot(page: Page) -> str:
    lang, html = await page.evaluate(_SNAPSHOT)
    return f'<html lang="{lang}"><body>{_STYLE.sub("<style></style>", html)}</body></html>'


async def log_in(page: Page, url: str, username: str, password: str) -> None:
    await page.goto(url + "/v3/auth/patients.action")
    await page.locator('input[name="username"]').fill(username)
    await page.locator('input[name="password"]').fill(password)
    await page.locator('button[type="submit"]').click()
    await page.wait_for_url("**/patientList.action**")


async def list_shown(page: Page) -> None:
    ready = page.locator(
        '[data-testid="Card-patient"], [data-testid="EmptySearch-container"], table'
    ).first
    await ready.wait_for(state="attached")


def expected_of(portal: PortalHandle, lang: str) -> dict[str, Any]:
    """What the sandbox held for the good login, in the page's words."""
    state = portal.admin.state()
    login = next(x for x in state["logins"] if x["username"] == GOOD.username)
    cases = {c["case_id"]: c for c in state["cases"]}
    key = GOOD.username.lower()
    return {
        "visible": login["visible_case_ids"],
        "cases": {
            case_id: {
                "name": cases[case_id]["patient_name"],
                "status": i18n.status(cases[case_id]["status"], lang),
                "doctor": cases[case_id]["doctor_name"],
                "action_required": cases[case_id]["action_required"],
                "updated_at": cases[case_id]["updated_at"],
                "treatments": 1 + len(cases[case_id]["earlier_treatments"]),
                "setups": [
                    [
                        s["setup_id"],
                        s["version"],
                        i18n.plan_state(s["state"], lang),
                        len(s["files"]),
                    ]
                    for s in cases[case_id]["setups"]
                ],
                "comments": [
                    [c["comment_id"], c["author_role"], c["body"], key not in c["read_by"]]
                    for c in cases[case_id]["comments"]
                ],
            }
            for case_id in login["visible_case_ids"]
        },
        "roles": [i18n.role(r, lang) for r in login["roles"]],
    }


def choose_variant(portal: PortalHandle, variant: str) -> None:
    httpx.put(f"{portal.url}/__sandbox/site", json={"variant": variant}).raise_for_status()


async def record(page: Page, portal: PortalHandle, lang: str, variant: str) -> dict[str, Any]:
    """Click through the list, its filter, a search and the patient files as a person would."""
    choose_variant(portal, variant)
    pages: dict[str, str] = {}
    # The filter is kept per login: start from all patients.
    start = "?display.filter=CURRENT" if variant == CLASSIC_TABLE else "?filter=ALL"
    await page.goto(portal.url + "/v3/auth/patient/patientList.action" + start)
    await list_shown(page)
    pages["list"] = await snapshot(page)
    if variant == CLASSIC_TABLE:
        await page.locator("#tab-action").click()
        await page.wait_for_url("**display.filter=ACTION**")
    elif variant == LEGACY_TAB:
        await page.locator("#tab-action").click()
        await expect(page.locator('#tab-action[aria-selected="true"]')).to_have_count(1)
    else:
        await page.locator(
            '[data-testid="Filter-buttonContainer"] [data-testid="Button-button"]'
        ).click()
        await page.locator('[data-testid="Filter-option-ACTION_REQUIRED"]').click()
        await expect(page.locator('[data-testid="Tag-tag-ACTION_REQUIRED"]')).to_have_count(1)
    await list_shown(page)
    pages["list-action"] = await snapshot(page)
    search = page.locator('#patient-list input[type="search"]')
    await search.fill(NO_MATCH)
    await search.press("Enter")
    await expect(page.locator('[data-testid="EmptySearch-emptyText"]')).to_have_count(1)
    pages["list-empty"] = await snapshot(page)
    if variant == VARIANTS[0]:  # the patient file and the profile do not change with the list
        expected = expected_of(portal, lang)
        for case_id in expected["visible"]:
            await page.goto(f"{portal.url}/v3/auth/patient/patientFile.action?patientId={case_id}")
            await page.locator('[data-testid="Doctor-name"]').wait_for(state="attached")
            pages[f"patient-{case_id}"] = await snapshot(page)
        await page.goto(portal.url + "/v3/auth/account/profile.action")
        pages["profile"] = await snapshot(page)
    return pages


async def record_all(
    langs: tuple[str, ...] = i18n.LANGUAGES, variants: tuple[str, ...] = VARIANTS
) -> dict[tuple[str, str], dict[str, Any]]:
    found: dict[tuple[str, str], dict[str, Any]] = {}
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(**chromium_launch_options())
        try:
            for lang in langs:
                config = SandboxConfig(admin=True, practices=0, cases=0, language=lang)
                with start_portal("invisalign", config) as portal:
                    context = await browser.new_context()
                    page = await context.new_page()
                    await log_in(page, portal.url, GOOD.username, GOOD.password)
                    for variant in variants:
                        pages = await record(page, portal, lang, variant)
                        found[(lang, variant)] = {
                            "lang": lang,
                            "variant": variant,
                            "expected": expected_of(portal, lang),
                            "pages": pages,
                        }
                    await context.close()
                    doctor = await browser.new_context()
                    doctor_page = await doctor.new_page()
                    await log_in(doctor_page, portal.url, *DOCTOR)
                    await doctor_page.goto(portal.url + "/v3/auth/account/profile.action")
                    found[(lang, VARIANTS[0])]["pages"]["profile-doctor"] = await snapshot(
                        doctor_page
                    )
                    await doctor.close()
        finally:
            await browser.close()
    return found


def main() -> None:
    DIRECTORY.mkdir(exist_ok=True)
    for (lang, variant), data in asyncio.run(record_all()).items():
        text = json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True)
        path_of(lang, variant).write_text(text + "\n", encoding="utf-8")
        sys.stdout.write(f"recorded {path_of(lang, variant).name}: {len(data['pages'])} pages\n")


if __name__ == "__main__":
    main()
