"""The form as a dentist uses it: Chromium, JavaScript off, every scenario login of both
sandboxes in English, German and Polish, then the TPS's round trip and the lockout guard."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pyotp
import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from connector.forms.guidance import guidance_for
from connector.forms.texts import LANGUAGES, Texts
from sandbox.common.scenarios import Outcome, ScenarioLogin
from sandbox.invisalign.generator import SCENARIO_COORDINATOR
from sandbox.scenarios import SCENARIOS, scenario
from tests.forms.conftest import Connector

pytestmark = pytest.mark.browser

#: What each scenario ends as: the heading's text key and the account's status (None: the
#: portal did not let the login in, so nothing was stored).
EXPECTED: dict[Outcome, tuple[str, str | None]] = {
    Outcome.CONNECTED: ("connected_title", "active"),
    Outcome.MFA_EMAIL: ("connected_title", "active"),
    Outcome.MFA_TOTP: ("connected_title", "active"),
    Outcome.LOCKED: ("locked_title", None),
    Outcome.EXCESS_PERMISSIONS: ("excess_title", "excess_permissions"),
    Outcome.INSUFFICIENT_PERMISSIONS: ("insufficient_title", "insufficient_permissions"),
    Outcome.PASSWORD_EXPIRED: ("password_expired_title", None),
    Outcome.WRONG_PASSWORD: ("wrong_password_title", None),
}


@pytest.fixture(scope="module")
def browser(chromium_options: dict[str, Any]) -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(**chromium_options)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def page(browser: Browser) -> Iterator[Page]:
    """One tab for the module (opening tabs costs more than the form flows): each test starts
    by opening a new link. No JavaScript: the form must work without it."""
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    yield page
    context.close()


def texts(vendor: str, lang: str) -> Texts:
    return Texts.of(lang, portal=guidance_for(vendor).portal, tps="Planwerk TPS")


def seen(connector: Connector, page: Page) -> str:
    html = page.content()
    connector.bodies.append(html)
    return html


def submit(page: Page, button: str = "#submit") -> None:
    with page.expect_navigation():
        page.click(button)


def fill_login(
    connector: Connector, page: Page, username: str, password: str, totp: str | None = None
) -> None:
    connector.typed.add(password)
    page.fill("#username", username)
    page.fill("#password", password)
    if totp:
        connector.typed.add(totp)
        page.fill("#totp_secret", totp)
    submit(page)


def message_title(page: Page) -> str:
    return page.locator("#message h1, #message h2").first.inner_text().strip()


def latest_code(connector: Connector, vendor: str, username: str) -> str:
    mail = connector.portals[vendor].admin.mailbox(to=username)
    assert mail, "the portal sent no code"
    code: str = max(mail, key=lambda m: m["sent_at"])["code"]
    return code


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("login", SCENARIOS, ids=lambda s: f"{s.vendor}-{s.name}")
def test_every_scenario_login_in_every_language(
    connector: Connector, page: Page, login: ScenarioLogin, lang: str
) -> None:
    t = texts(login.vendor, lang)
    title_key, status = EXPECTED[login.outcome]
    created = connector.create_session(vendor=login.vendor, locale=lang)
    try:
        page.goto(created["url"])
        assert page.locator("html").get_attribute("lang") == lang
        assert page.locator("h1").inner_text() == t("heading")
        # The vendor's guidance, in this language.
        assert guidance_for(login.vendor).steps_in(lang)[0] in seen(connector, page)
        fill_login(connector, page, login.username, login.password, login.totp_secret)
        if login.outcome is Outcome.MFA_EMAIL:
            assert page.locator("h1").inner_text() == t("code_title")
            assert t("code_email_body") in seen(connector, page)
            page.fill("#code", latest_code(connector, login.vendor, login.username))
            submit(page, "#code-submit")
        html = seen(connector, page)
        assert message_title(page) == t(title_key)
        assert login.password not in html
        assert page.locator("#password").count() == 0 or page.input_value("#password") == ""
        account = connector.account(login.vendor, login.username)
        if status is None:
            assert account is None
        else:
            assert account is not None and account["status"] == status
        if status == "active":
            count = int(page.locator("#cases").inner_text().split()[-1])
            assert count > 0
            assert page.locator("#cases").inner_text() == t("connected_cases", count=count)
        if status in ("excess_permissions", "insufficient_permissions"):
            # Which right to remove or add, in this language.
            advice = page.locator("#advice").inner_text()
            guide = guidance_for(login.vendor)
            assert advice in {guide.access_sentence(s, lang) for s in guide.access_texts}
        attempts = connector.login_attempts(login.vendor, login.username)
        assert attempts and {a["source"] for a in attempts} == {"form"}
        assert all(a["outcome"] != "pending" for a in attempts)
    finally:
        connector.remove_account(login.vendor, login.username)


def test_the_tps_round_trip_lands_on_the_return_url(connector: Connector, page: Page) -> None:
    login = scenario("clearcorrect", "good")
    created = connector.create_session(
        vendor="clearcorrect",
        practice_id="practice-7",
        locale="en",
        return_url=connector.return_url,
    )
    try:
        page.goto(created["url"])
        fill_login(connector, page, login.username, login.password)
        assert message_title(page) == texts("clearcorrect", "en")("connected_title")
        with page.expect_navigation():
            page.click("#back")
        landed = urlsplit(page.url)
        assert (
            f"{landed.scheme}://{landed.netloc}{landed.path}" == connector.return_url.split("?")[0]
        )
        assert page.locator("h1").inner_text() == "Planwerk TPS settings"
        query = parse_qs(landed.query)
        account = connector.account("clearcorrect", login.username)
        assert account is not None and account["practice_id"] == "practice-7"
        assert query == {"tab": ["logins"], "account_id": [account["id"]], "status": ["active"]}
        # The link was consumed by the outcome.
        response = page.goto(created["url"])
        assert response is not None and response.status == 410
    finally:
        connector.remove_account("clearcorrect", login.username)


def test_give_up_returns_to_the_tps_with_the_status(connector: Connector, page: Page) -> None:
    created = connector.create_session(
        vendor="invisalign", locale="de", return_url=connector.return_url
    )
    page.goto(created["url"])
    with page.expect_navigation():
        page.click("#give-up")
    query = parse_qs(urlsplit(page.url).query)
    assert page.url.startswith(connector.return_prefix + "aligners?")
    assert page.locator("h1").inner_text() == "Planwerk TPS settings"
    assert query == {"tab": ["logins"], "status": ["cancelled"]}
    response = page.goto(created["url"])
    assert response is not None and response.status == 410
    assert message_title(page) == Texts.of("de")("used_title")


def test_three_wrong_passwords_never_lock_the_clearcorrect_account(
    connector: Connector, page: Page
) -> None:
    login = scenario("clearcorrect", "good")
    admin = connector.portals["clearcorrect"].admin
    admin.unlock(login.username)
    before = admin.logins().get(login.username, {"failures": 0, "attempts": 0})
    t = texts("clearcorrect", "en")
    sealed_before = connector.sealed_logins()
    created = connector.create_session(vendor="clearcorrect", locale="en")
    page.goto(created["url"])
    try:
        for attempt, password in enumerate(
            ("Wrong#Guess2026", "Wrong#Guess2027", "Wrong#Guess2028")
        ):
            fill_login(connector, page, login.username, password)
            html = seen(connector, page)
            assert password not in html
            assert page.input_value("#password") == ""
            assert page.input_value("#username") == login.username
            # The message is announced and focused.
            assert page.locator("#messages[aria-live]").count() == 1
            assert page.locator("#message:focus").count() == 1
            if attempt < 2:
                assert message_title(page) == t("wrong_password_title")
                assert page.locator("#confirmed_sign_in").count() == 0
            else:
                assert message_title(page) == t("budget_title")
                assert (
                    t("confirm_label") == page.locator("label[for=confirmed_sign_in]").inner_text()
                )
        after = admin.logins()[login.username]
        assert after["failures"] - before["failures"] == 2
        assert after["attempts"] - before["attempts"] == 2
        assert after["locked_until"] is None
        # Nothing the portal refused was stored: no account, no sealed password.
        assert connector.account("clearcorrect", login.username) is None
        assert connector.sealed_logins() == sealed_before
        attempts = connector.login_attempts("clearcorrect", login.username)
        assert [(a["outcome"], a["reason"]) for a in attempts] == [
            ("failed", "invalid_credentials"),
            ("failed", "invalid_credentials"),
        ]
        # The link still works: a wrong password does not consume it.
        assert connector.form_session(created["url"])["consumed_at"] is None  # type: ignore[index]
        # The dentist signs in on the portal (the portal's count resets), ticks the box, and
        # the right password gets in.
        admin.unlock(login.username)
        page.check("#confirmed_sign_in")
        fill_login(connector, page, login.username, login.password)
        assert message_title(page) == t("connected_title")
        account = connector.account("clearcorrect", login.username)
        assert account is not None and account["status"] == "active"
    finally:
        connector.remove_account("clearcorrect", login.username)
        admin.unlock(login.username)


def test_browser_language_decides_without_a_session_locale(
    connector: Connector, browser: Browser
) -> None:
    cases: list[tuple[dict[str, Any], str]] = [
        ({"locale": "pl-PL"}, "pl"),
        ({"extra_http_headers": {"Accept-Language": "fr-FR, de;q=0.8, en;q=0.5"}}, "de"),
        ({"extra_http_headers": {"Accept-Language": "fr-FR, es;q=0.8"}}, "en"),
    ]
    for options, lang in cases:
        context = browser.new_context(java_script_enabled=False, **options)
        try:
            page = context.new_page()
            page.goto(connector.create_session(vendor="clearcorrect")["url"])
            assert page.locator("html").get_attribute("lang") == lang
            assert page.locator("h1").inner_text() == texts("clearcorrect", lang)("heading")
        finally:
            context.close()


@pytest.mark.parametrize("lang", ["en", "pl"])
def test_a_read_only_invisalign_login_is_connected_with_advice(
    connector: Connector, page: Page, lang: str
) -> None:
    login = SCENARIO_COORDINATOR
    t = texts("invisalign", lang)
    page.goto(connector.create_session(vendor="invisalign", locale=lang)["url"])
    try:
        fill_login(connector, page, login.username, login.password)
        assert message_title(page) == t("connected_title")
        from adapters.invisalign.status import READ_ONLY

        expected = guidance_for("invisalign").access_sentence(READ_ONLY, lang)
        assert page.locator("#advice").inner_text() == expected
        account = connector.account("invisalign", login.username)
        assert account is not None and account["status"] == "active"
        assert "post_comment" not in account["capabilities"]
    finally:
        connector.remove_account("invisalign", login.username)


@pytest.mark.parametrize("vendor", ["invisalign", "clearcorrect"])
def test_an_authenticator_code_typed_on_the_code_page(
    connector: Connector, page: Page, vendor: str
) -> None:
    login = scenario(vendor, "totp")
    assert login.totp_secret
    t = texts(vendor, "en")
    page.goto(connector.create_session(vendor=vendor, locale="en")["url"])
    try:
        fill_login(connector, page, login.username, login.password)  # no secret given
        assert page.locator("h1").inner_text() == t("code_title")
        assert t("code_totp_body") in seen(connector, page)
        page.fill("#code", pyotp.TOTP(login.totp_secret).now())
        submit(page, "#code-submit")
        assert message_title(page) == t("connected_title")
        account = connector.account(vendor, login.username)
        assert account is not None and account["status"] == "active"
    finally:
        connector.remove_account(vendor, login.username)


def test_nothing_typed_leaked_from_the_browser_flows(connector: Connector) -> None:
    connector.scan_for_leaks()
