"""A person in Chromium: log in through the form, read the cases table with its collaborator
bubble, open a case and post in the chat (which the page script sends to the JSON API)."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import async_playwright, expect

from sandbox.clearcorrect.scenarios import scenario
from sandbox.common.server import PortalHandle

pytestmark = pytest.mark.browser


async def test_person_logs_in_reads_cases_and_chats(
    portal: PortalHandle, chromium_options: dict[str, Any]
) -> None:
    login = scenario("good")
    async with async_playwright() as p:
        browser = await p.chromium.launch(**chromium_options)
        try:
            page = await browser.new_page()
            await page.goto(f"{portal.url}/Cases?group=InProgress")
            await expect(page).to_have_url(
                f"{portal.url}/Identity/Account/Login?ReturnUrl=%2FCases%3Fgroup%3DInProgress"
            )
            await page.get_by_label("Email").fill(login.username)
            await page.get_by_label("Password").fill(login.password)
            await page.get_by_role("button", name="Log in").click()
            await expect(page).to_have_url(f"{portal.url}/Cases?group=InProgress")

            table = page.locator("#cases-table")
            await expect(
                table.get_by_role("columnheader", name="Collaborator Status")
            ).to_be_visible()
            rows = table.locator("tbody tr[data-case-number]")
            await expect(rows.first).to_be_visible()
            bubbled = rows.filter(has=page.locator(".comment-bubble"))
            await expect(bubbled.first).to_be_visible()
            row = bubbled.first
            case_number = await row.get_attribute("data-case-number")
            unread = int(await row.locator(".comment-bubble").inner_text())
            assert unread >= 1

            await row.locator("td.patient a").click()
            await expect(page).to_have_url(f"{portal.url}/Cases/{case_number}")
            await expect(page.locator("#chat-messages .comment.unread")).to_have_count(unread)

            message = "Setup reviewed by the TPS: please reduce IPR on 32-42."
            await page.get_by_label("Message").fill(message)
            async with page.expect_response(f"**/api/cases/{case_number}/comments") as posted:
                await page.get_by_role("button", name="Send").click()
            assert (await posted.value).status == 201
            await expect(page.locator("#chat-messages .comment .body").last).to_have_text(message)
            await expect(page.locator("#chat-status")).to_have_text("Message sent.")

            await page.reload()
            await expect(page.locator("#chat-messages .comment .body").last).to_have_text(message)
            await expect(page.locator("#chat-messages .comment.unread")).to_have_count(unread)
        finally:
            await browser.close()
    posts = [p for p in portal.admin.posted() if p["kind"] == "comment"]
    assert [(p["case_id"], p["body"], p["accepted"]) for p in posts] == [
        (case_number, message, True)
    ]
