"""The sandbox in real Chromium, used the way a person would use the site.

Locators by test id pierce the open shadow roots the patient pages render into. No fixed sleeps:
every step waits on an element, a URL or a response.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from typing import Any

import pyotp
import pytest
import pytest_asyncio
from playwright.async_api import Browser, Page, async_playwright, expect

from sandbox.common.scenarios import Outcome
from sandbox.common.server import PortalHandle
from sandbox.invisalign.generator import SCENARIO_DOCTOR
from sandbox.invisalign.scenarios import SCENARIOS
from tests.sandbox.invisalign.conftest import scenario

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="module")]

GOOD = scenario("good")
LIST = re.compile(r".*/v3/auth/patient/patientList\.action.*")


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def browser(chromium_options: dict[str, Any]) -> AsyncIterator[Browser]:
    """One Chromium for this module; each test opens (and closes) its own context."""
    async with async_playwright() as p:
        launched = await p.chromium.launch(**chromium_options)
        yield launched
        await launched.close()


@pytest_asyncio.fixture(loop_scope="module")
async def page(browser: Browser) -> AsyncIterator[Page]:
    context = await browser.new_context()
    context.set_default_timeout(10_000)
    yield await context.new_page()
    await context.close()


async def log_in(page: Page, base_url: str, username: str, password: str) -> None:
    await page.goto(base_url + "/v3/auth/patients.action")
    await expect(page).to_have_url(re.compile(r"http://127\.0\.0\.2:\d+/u/login\?state=.*"))
    await page.get_by_label("Email address").fill(username)
    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Log in").click()


def card_count(state: dict[str, Any], case_ids: list[str]) -> int:
    """One card per treatment: a patient in a second phase has two."""
    cases = {c["case_id"]: c for c in state["cases"]}
    return sum(1 + len(cases[i]["earlier_treatments"]) for i in case_ids)


async def test_good_login_list_filter_detail_and_comment(
    start_portals: Callable[..., PortalHandle], page: Page
) -> None:
    portal = start_portals("invisalign", practices=1, cases=4, seed=8)
    await log_in(page, portal.url, GOOD.username, GOOD.password)
    await expect(page).to_have_url(LIST)
    state = portal.admin.state()
    visible = next(x for x in state["logins"] if x["username"] == GOOD.username)
    cards = page.get_by_test_id("Card-patient")
    await expect(cards).to_have_count(card_count(state, visible["visible_case_ids"]))
    ids = await page.get_by_test_id("Patient-id").all_inner_texts()
    assert all(re.fullmatch(r"#[0-9]{7}", i) for i in ids)
    assert list(dict.fromkeys(i[1:] for i in ids)) == visible["visible_case_ids"]

    await page.get_by_test_id("Filter-buttonContainer").get_by_test_id("Button-button").click()
    await page.get_by_test_id("Filter-option-ACTION_REQUIRED").click()
    await expect(page).to_have_url(re.compile(r".*filter=ACTION_REQUIRED.*"))
    await expect(page.get_by_test_id("Tag-tag-ACTION_REQUIRED")).to_be_visible()
    statuses = page.get_by_test_id("Tracker-status")
    await expect(statuses.first).to_be_visible()
    waiting = {c["case_id"] for c in state["cases"] if c["action_required"]}
    shown = await page.get_by_test_id("Patient-id").all_inner_texts()
    assert {s[1:] for s in shown} == waiting & set(visible["visible_case_ids"])

    ready = page.get_by_test_id("Card-patient").filter(has_text="ClinCheck ready for review")
    await ready.first.get_by_test_id("Patient-link").click()
    await expect(page).to_have_url(re.compile(r".*patientFile\.action\?patientId=\d{7}"))
    await expect(page.get_by_test_id("ClinCheck-plan").first).to_be_visible()
    await expect(page.get_by_test_id("Approve-plan")).to_have_count(0)  # staff cannot approve
    await expect(page.get_by_test_id("Plan-file").first).to_be_visible()

    body = "Looks good to the TPS, one question on the IPR. [ref:browser-1]"
    await page.get_by_test_id("Comment-input").fill(body)
    async with page.expect_response(re.compile(r".*/comments$")) as posted:
        await page.get_by_test_id("Comment-submit").click()
    assert (await posted.value).status == 201
    await expect(page.get_by_test_id("Action-success")).to_be_visible()
    await expect(page.get_by_test_id("Comment-body").last).to_have_text(body)
    [record] = portal.admin.posted()
    assert record["kind"] == "comment"
    assert record["body"] == body

    # The session ends: the next load goes back through the login page (on its own host).
    portal.admin.expire_sessions(GOOD.username)
    await page.reload()
    await expect(page).to_have_url(re.compile(r"http://127\.0\.0\.2:\d+/u/login\?state=.*"))


async def test_paging_through_a_generated_practice(
    start_portals: Callable[..., PortalHandle], page: Page
) -> None:
    portal = start_portals("invisalign", practices=1, cases=45, seed=9)
    staff = next(
        x
        for x in portal.admin.state()["logins"]
        if x["kind"] == "staff" and x["doctor_id"] != SCENARIO_DOCTOR.doctor_id
    )
    await log_in(page, portal.url, staff["username"], staff["password"])
    await expect(page.get_by_test_id("Pagination-info")).to_have_text("Page 1 of 3")
    seen = await page.get_by_test_id("Patient-id").all_inner_texts()
    next_button = page.get_by_test_id("Pagination-next")
    for number in (2, 3):
        await next_button.click()
        await expect(page.get_by_test_id("Pagination-info")).to_have_text(f"Page {number} of 3")
        seen += await page.get_by_test_id("Patient-id").all_inner_texts()
    await expect(next_button).to_be_disabled()
    assert list(dict.fromkeys(s[1:] for s in seen)) == staff["visible_case_ids"]
    assert len(seen) == card_count(portal.admin.state(), staff["visible_case_ids"])


async def test_layout_2_changes_the_test_ids(
    start_portals: Callable[..., PortalHandle], page: Page
) -> None:
    portal = start_portals("invisalign", practices=0, cases=0)
    portal.admin.faults(layout_version=2)
    await log_in(page, portal.url, GOOD.username, GOOD.password)
    login = next(x for x in portal.admin.state()["logins"] if x["username"] == GOOD.username)
    expected = card_count(portal.admin.state(), login["visible_case_ids"])
    await expect(page.get_by_test_id("PatientCard")).to_have_count(expected)
    await expect(page.get_by_test_id("Card-patient")).to_have_count(0)


async def reach_outcome(page: Page, portal: PortalHandle, name: str) -> None:
    login = scenario(name)
    await log_in(page, portal.url, login.username, login.password)
    cards = page.get_by_test_id("Card-patient").first
    match login.outcome:
        case Outcome.CONNECTED:
            await expect(cards).to_be_visible()
        case Outcome.MFA_EMAIL:
            await expect(page.get_by_role("heading", name="Verify Your Identity")).to_be_visible()
            [message] = portal.admin.mailbox(login.username)
            await page.get_by_label("Enter the code").fill(message["code"])
            await page.get_by_role("button", name="Continue").click()
            await expect(cards).to_be_visible()
        case Outcome.MFA_TOTP:
            assert login.totp_secret
            await page.get_by_label("Enter your one-time code").fill(
                pyotp.TOTP(login.totp_secret).now()
            )
            await page.get_by_role("button", name="Continue").click()
            await expect(cards).to_be_visible()
        case Outcome.LOCKED:
            await expect(page.locator('[data-error-code="user-blocked"]')).to_contain_text(
                "Your account has been blocked after multiple consecutive login attempts."
            )
        case Outcome.EXCESS_PERMISSIONS:
            await expect(cards).to_be_visible()
            await page.get_by_test_id("User-menu-name").click()
            await expect(page.get_by_test_id("Profile-role")).to_contain_text(
                ["Prescription management", "Treatment management"]
            )
        case Outcome.INSUFFICIENT_PERMISSIONS:
            await expect(page.get_by_test_id("No-access")).to_be_visible()
            await expect(page.get_by_test_id("Card-patient")).to_have_count(0)
        case Outcome.PASSWORD_EXPIRED:
            await expect(page).to_have_url(re.compile(r".*/u/change-password\?state=.*"))
            await expect(page.locator("#password-expired")).to_contain_text("has expired")
        case _:
            raise AssertionError(f"no check for {login.outcome}")


@pytest.mark.parametrize("name", [s.name for s in SCENARIOS])
async def test_every_scenario_login_gives_its_outcome(
    start_portals: Callable[..., PortalHandle], page: Page, name: str
) -> None:
    portal = start_portals("invisalign", practices=0, cases=0)
    await reach_outcome(page, portal, name)
