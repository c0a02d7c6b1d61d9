"""A peer's script, written from the facts register alone: Chromium signs in, opens the cases of
each status group, opens a case, switches the case submission's versions and lists the STL
files with their arch, in English, German and Polish.

It knows the portal only through the register's literals (paths, selectors, field names,
words per language) and checks what it reads against the sandbox's state dump. It imports
nothing of the adapter.
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import Page, async_playwright, expect

from adapters.base.register import Register, load_register
from sandbox.clearcorrect.scenarios import scenario
from sandbox.common.server import PortalHandle

pytestmark = pytest.mark.browser

REGISTER = load_register("clearcorrect")


def fact(fact_id: str, lang: str | None = None, index: int = 0) -> str:
    """A literal of the register: the `index`-th of the fact's row (in `lang`)."""
    rows = [r for r in REGISTER.rows_of(fact_id) if lang is None or r.lang in (lang, "*")]
    assert rows, f"the register has no {fact_id} ({lang})"
    return rows[0].literals[index]


def words(register: Register, fact_id: str, lang: str) -> list[str]:
    """Every word the register gives for a fact in `lang` (and in English)."""
    return [
        literal.casefold()
        for row in register.rows_of(fact_id)
        if row.lang in (lang, "en")
        for literal in row.literals
    ]


def ids(selector: str) -> str:
    return selector.split("#", 1)[1]


async def read_group(page: Page, group: str) -> list[str]:
    """The case numbers of one group, every page of it."""
    dropdown = f'select[name="{fact("cc.wf.list.status-dropdown")}"]'
    async with page.expect_navigation():
        await page.select_option(dropdown, group)
    grid = fact("cc.wf.list.grid")
    link = fact("cc.wf.list.case-link").split("<", 1)[0]  # detail/case.aspx?id=
    found: list[str] = []
    number = 1
    while True:
        hrefs = await page.locator(f'{grid} a[href*="{link}"]').evaluate_all(
            "links => links.map(a => a.getAttribute('href'))"
        )
        found += [h.split("id=", 1)[1] for h in hrefs]
        pager = fact("cc.wf.list.pager").split("'")[3].replace("<n>", str(number + 1))
        following = page.locator(f'{grid} a[href*="{pager}"]')
        if not await following.count():
            return found
        async with page.expect_navigation():
            await following.first.click()
        number += 1


async def stl_files(page: Page, lang: str) -> list[tuple[str, str]]:
    """(name, arch) of every STL link in the Files grid, the arch read as the public code reads
    it: the type cell holds an upper/maxillary or lower/mandibular word."""
    upper = words(REGISTER, "cc.wf.setup.arch-upper", lang) + words(
        REGISTER, "cc.wf.setup.arch-max", lang
    )
    lower = words(REGISTER, "cc.wf.setup.arch-lower", lang) + words(
        REGISTER, "cc.wf.setup.arch-mand", lang
    )
    rows = page.locator(f"{fact('cc.wf.setup.files-grid')} tr")
    found = []
    for index in range(1, await rows.count()):  # the first row is the header
        row = rows.nth(index)
        link = row.locator(fact("cc.wf.setup.files-link"))
        if not await link.count():
            continue  # a photo
        kind = (await row.locator("td:nth-child(2)").inner_text()).strip().casefold()
        arch = (
            "upper"
            if any(w in kind for w in upper)
            else "lower"
            if any(w in kind for w in lower)
            else "arch"
        )
        found.append(((await link.inner_text()).strip(), arch))
    return found


@pytest.mark.parametrize("lang", ["en", "de", "pl"])
async def test_a_peer_reads_groups_cases_versions_and_stl_files_from_the_register(
    wf_portal: PortalHandle, chromium_options: dict[str, Any], lang: str
) -> None:
    login = scenario("good")  # follows the browser's language
    state = wf_portal.admin.state()
    visible = next(x for x in state["logins"] if x["username"] == login.username)
    mine = {c["case_id"]: c for c in state["cases"] if c["case_id"] in visible["visible_case_ids"]}
    revised = next(c for c in mine.values() if len(c["submissions"]) > 1)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(**chromium_options)
        try:
            context = await browser.new_context(
                locale={"en": "en-US", "de": "de-DE", "pl": "pl-PL"}[lang]
            )
            page = await context.new_page()
            await page.goto(wf_portal.url + fact("cc.wf.signin.page-path"))
            await page.fill(f'input[name="{fact("cc.wf.signin.username-field")}"]', login.username)
            await page.fill(f'input[name="{fact("cc.wf.signin.password-field")}"]', login.password)
            async with page.expect_navigation():
                await page.click(f'input[name="{fact("cc.wf.signin.submit-field")}"]')
            greeting = page.locator(fact("cc.wf.signin.signed-in-user"))
            await expect(greeting).to_contain_text(login.username)
            assert (await greeting.inner_text()).startswith(
                fact("cc.wf.signin.welcome-prefix", lang).strip()
            )
            assert await page.locator("html").get_attribute("lang") == lang

            codes = fact("cc.wf.list.status-codes").split(", ")
            listed = {code: await read_group(page, code) for code in codes}
            for code, cases in listed.items():
                assert sorted(cases) == sorted(
                    c["case_id"] for c in mine.values() if c["group"] == code
                )

            case_path = fact("cc.wf.case.path").split("<", 1)[0]
            await page.goto(wf_portal.url + case_path + revised["case_id"])
            number = page.locator(fact("cc.wf.case.number-label"))
            await expect(number).to_contain_text(revised["case_id"])
            submissions = page.locator(fact("cc.wf.case.submission-link"))
            async with page.expect_navigation():
                # The last row is the newest submission; clicked from script, as the public
                # code does it (its tab may not be the one showing).
                await submissions.last.evaluate("image => image.click()")
            await expect(page.locator(fact("cc.wf.setup.tab-container"))).to_be_attached()
            await page.click(fact("cc.wf.setup.files-tab"))
            newest = revised["submissions"][-1]
            expected = [(f["name"], f["arch"]) for f in newest["files"] if f["kind"] == "stl"]
            assert await stl_files(page, lang) == expected

            dropdown = page.locator(fact("cc.wf.setup.version-dropdown"))
            revision = fact("cc.wf.setup.version-revision", lang)
            options = await dropdown.locator("option").evaluate_all(
                "options => options.map(o => [o.value, o.textContent, o.selected])"
            )
            dated = [(value, text) for value, text, _ in options if revision not in text]
            assert len(dated) == len(revised["submissions"])
            older = dated[1][0]
            async with page.expect_navigation():
                await dropdown.select_option(older)  # __doPostBack on change
            await page.click(fact("cc.wf.setup.files-tab"))
            previous = next(s for s in revised["submissions"] if s["submission_id"] == older)
            expected = [(f["name"], f["arch"]) for f in previous["files"] if f["kind"] == "stl"]
            assert await stl_files(page, lang) == expected
            await context.close()
        finally:
            await browser.close()
