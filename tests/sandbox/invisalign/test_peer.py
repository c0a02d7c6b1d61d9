"""A peer's script against the sandbox, written only from the facts register: what public code
written against the real Invisalign Doctor Site does, with the register's selectors and words
and nothing of the connector's adapter.

The flow public monitors use: open the entry page, land on the hosted login on its own host,
fill `username` and `password`, submit, open the patient list, switch Action required on through
the filter control the page has (the dropdown, or the legacy `#tab-action` tab), see the
active-filter marker, read names, `#ids` and statuses in the page's language, search a patient,
and see the empty state for a search that matches nothing. Each language runs once and each
variant once; the full language x variant matrix runs on the parsers against recorded pages.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

import pytest
import pytest_asyncio
from playwright.async_api import Browser, Page, async_playwright, expect

from adapters.base.register import Register, load_register
from sandbox.common.server import PortalHandle
from sandbox.scenarios import scenario

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="module")]

REGISTER: Register = load_register("invisalign")
GOOD = scenario("invisalign", "good")


def fact(fact_id: str, lang: str = "*") -> str:
    """The register's (first) literal for a fact, in a language."""
    for row in REGISTER.rows_of(fact_id):
        if row.lang == lang and row.literals:
            return row.literals[0]
    raise KeyError(f"{fact_id} ({lang})")


def words(prefix: str, lang: str) -> dict[str, str]:
    """fact id -> literal, in `lang`, for every fact under `prefix`."""
    return {
        row.id: row.literals[0]
        for row in REGISTER.rows
        if row.id.startswith(prefix) and row.lang == lang and row.literals
    }


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def browser(chromium_options: dict[str, Any]) -> AsyncIterator[Browser]:
    async with async_playwright() as p:
        launched = await p.chromium.launch(**chromium_options)
        yield launched
        await launched.close()


async def sign_in(page: Page, app_url: str) -> None:
    """S3's sign-in: the entry page leads to `/u/login` on the login's own host."""
    await page.goto(app_url + fact("ids.login.entry"))
    await expect(page).to_have_url(re.compile(re.escape(fact("ids.login.path"))))
    login_host = urlsplit(page.url).hostname
    assert login_host == fact("ids.host.sandbox-login") != urlsplit(app_url).hostname
    await page.locator(fact("ids.login.username-field")).fill(GOOD.username)
    await page.locator(fact("ids.login.password-field")).fill(GOOD.password)
    await page.locator(fact("ids.login.submit")).first.click()
    await page.wait_for_url(lambda url: urlsplit(url).hostname != login_host)


async def action_required_on(page: Page, lang: str) -> None:
    """S2's filter: the dropdown and its markers, or the legacy tab."""
    container = page.locator(fact("ids.list.filter-container"))
    if await container.count():
        tag = page.locator(fact("ids.list.filter-tag-action"))
        if not await tag.count():  # the filter may already be on (it persists)
            await page.locator(fact("ids.list.filter-button")).click()
            await page.locator(fact("ids.list.filter-option-action")).click()
        await expect(tag).to_have_count(1)
        marker = page.locator(fact("ids.list.active-filters"))
        await expect(marker).to_contain_text(fact("ids.list.filter-label-action", lang))
        button = page.locator(fact("ids.list.filter-button"))
        await expect(button).to_have_text(
            re.compile("^" + re.escape(fact("ids.list.filter-count", lang)))
        )
        return
    tab = page.locator(fact("ids.list.legacy-tab"))
    await tab.click()
    await expect(page.locator(fact("ids.list.legacy-tab-on"))).to_have_count(1)


async def shown_patients(page: Page, lang: str) -> list[tuple[str, str, str]]:
    """(name, id, status) of every card, or of every row of the classic table."""
    cards = page.locator(fact("ids.list.card"))
    table = page.locator(fact("ids.list.container") + " " + fact("ids.list.classic-table"))
    await expect(cards.or_(table).first).to_be_attached()
    if await cards.count():
        found = []
        for index in range(await cards.count()):
            card = cards.nth(index)
            found.append(
                (
                    (await card.locator(fact("ids.list.name")).inner_text()).strip(),
                    (await card.locator(fact("ids.list.id")).inner_text()).strip(),
                    (await card.locator(fact("ids.list.status")).inner_text()).strip(),
                )
            )
        return found
    headers = [h.strip() for h in await table.locator("th").all_inner_texts()]
    patient = headers.index(fact("ids.list.classic-col.patient", lang))
    order = headers.index(fact("ids.list.classic-col.order-status", lang))
    found = []
    for row in await table.locator("tbody tr").all():
        cells = [c.strip() for c in await row.locator("td").all_inner_texts()]
        match = re.fullmatch(r"(.+?)\s*\((#[0-9]+)\)(?:\s.*)?", cells[patient], re.S)
        assert match, "the patient cell reads 'Name (#id)'"
        found.append((match.group(1), match.group(2), cells[order]))
    return found


async def search(page: Page, text: str) -> None:
    box = page.locator(fact("ids.list.container") + " " + fact("ids.list.search"))
    await box.fill(text)
    await box.press("Enter")


@pytest.mark.parametrize(
    ("lang", "variant", "browser_locale"),
    [
        pytest.param("en", "filter-dropdown", None, id="en-filter-dropdown"),
        pytest.param("de", "legacy-tab", None, id="de-legacy-tab"),
        pytest.param("pl", "classic-table", None, id="pl-classic-table"),
        # A Korean browser and a login without a profile language: Korean, by Accept-Language.
        pytest.param("ko", "filter-dropdown", "ko-KR", id="ko-browser-filter-dropdown"),
    ],
)
async def test_a_peer_script_reads_action_required_patients(
    lang: str,
    variant: str,
    browser_locale: str | None,
    start_portals: Any,
    browser: Browser,
) -> None:
    profile_language = None if browser_locale else lang
    portal: PortalHandle = start_portals(
        "invisalign", practices=0, cases=0, variant=variant, language=profile_language
    )
    context = await browser.new_context(locale=browser_locale or "en-US")
    context.set_default_timeout(10_000)
    page = await context.new_page()
    try:
        await sign_in(page, portal.url)
        await page.goto(portal.url + fact("ids.list.url"))
        assert await page.locator("html").get_attribute("lang") == lang
        # The list is a script app: it renders after the page loaded (S2 waits for it).
        rendered = page.locator(fact("ids.list.card")).or_(page.locator("tbody tr"))
        await expect(rendered.first).to_be_attached()
        await action_required_on(page, lang)
        await expect(
            page.locator(fact("ids.list.card")).or_(page.locator("tbody tr")).first
        ).to_be_attached()
        shown = await shown_patients(page, lang)

        # What the portal holds, in the register's words for this language.
        state = portal.admin.state()
        login = next(x for x in state["logins"] if x["username"] == GOOD.username)
        english = words("ids.status.", "en")
        local = words("ids.status.", lang)
        waiting = {
            c["case_id"]: c
            for c in state["cases"]
            if c["case_id"] in login["visible_case_ids"] and c["action_required"]
        }
        assert {i for _, i, _ in shown} == {f"#{c}" for c in waiting} and waiting
        # A patient can have several cards (treatments); the first is the current one
        # (ids.list.treatment-order).
        first = {shown_id: (name, status) for name, shown_id, status in reversed(shown)}
        for shown_id, (name, status) in first.items():
            case = waiting[shown_id[1:]]
            status_fact = next(f for f, w in english.items() if w == case["status"])
            assert (name, status) == (case["patient_name"], local[status_fact])
            assert status in local.values()

        # Search a patient by given name (public scripts' advice for Korean names too).
        target = next(iter(waiting.values()))
        await search(page, target["patient_name"].split()[0])
        await expect(page.get_by_text(f"#{target['case_id']}").first).to_be_attached()
        await search(page, "Zzyzx")
        empty = page.locator(fact("ids.list.empty-text"))
        await expect(empty).to_contain_text(fact("ids.list.empty-message", lang))
        await expect(page.locator(fact("ids.list.empty-container"))).to_have_count(1)
    finally:
        await context.close()
