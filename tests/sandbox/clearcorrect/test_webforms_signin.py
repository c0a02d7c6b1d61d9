"""Signing in on the WebForms pages: scenario outcomes, the 3-strikes lockout, validator
messages that are not attempts, view state that must verify, codes, expired passwords and the
language of the pages before the sign-in."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pyotp
import pytest

from sandbox.clearcorrect import LOGIN_PATH, labels
from sandbox.clearcorrect.scenarios import SCENARIOS, scenario
from sandbox.common.server import PortalHandle
from tests.sandbox.clearcorrect.webforms_client import PASSWORD, SIGN_IN, USERNAME, WebFormsClient

WRONG = "Wrong#Password1"


@pytest.fixture
def browser(wf_portal: PortalHandle) -> Iterator[Callable[..., WebFormsClient]]:
    made: list[WebFormsClient] = []

    def make(accept_language: str | None = None) -> WebFormsClient:
        client = WebFormsClient(wf_portal.url, accept_language)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


def counters(portal: PortalHandle, username: str) -> tuple[int, int, int]:
    found = portal.admin.logins().get(username, {})
    return (found.get("attempts", 0), found.get("failures", 0), found.get("successes", 0))


def test_signed_out_pages_and_postbacks_go_to_the_sign_in_with_their_return_url(
    browser: Callable[..., WebFormsClient],
) -> None:
    client = browser()
    page = client.http.get("/detail/case.aspx?id=123456")
    assert page.status_code == 302
    assert page.headers["location"] == "/Login.aspx?ReturnUrl=%2fdetail%2fcase.aspx%3fid%3d123456"
    assert client.http.post("/cases.aspx", data={}).headers["location"].startswith(LOGIN_PATH)
    first = client.get("/Login.aspx")
    assert "ASP.NET_SessionId" in first.cookies
    assert 'id="aspnetForm"' in first.text and 'name="__VIEWSTATE"' in first.text
    login = scenario("good")
    signed_in = client.sign_in(login.username, login.password, "%2fdetail%2fcase.aspx%3fid%3d1")
    assert signed_in.status_code == 302
    assert signed_in.headers["location"] == "/detail/case.aspx?id=1"
    assert ".ASPXAUTH" in signed_in.cookies


def test_every_scenario_login_gives_its_outcome(
    wf_portal: PortalHandle, browser: Callable[..., WebFormsClient]
) -> None:
    outcomes = {}
    for login in SCENARIOS:
        response = browser().sign_in(login.username, login.password)
        outcomes[login.name] = response.headers.get("location") or "page"
    assert outcomes == {
        "good": "/cases.aspx",
        "email_code": "/LoginVerify.aspx?ReturnUrl=%2fcases.aspx",
        "totp": "/LoginVerify.aspx?ReturnUrl=%2fcases.aspx",
        "locked": "page",
        "excess": "/cases.aspx",
        "no_view": "/cases.aspx",
        "expired": "/ChangePassword.aspx",
    }
    assert wf_portal.admin.mailbox(scenario("email_code").username)


def test_three_wrong_passwords_lock_even_the_right_one_until_unlocked(
    wf_portal: PortalHandle, browser: Callable[..., WebFormsClient]
) -> None:
    login = scenario("good")
    client = browser()
    client.sign_in(login.username, WRONG)
    assert client.error() == labels.word("cc.wf.signin.msg-invalid", "en")
    client.sign_in(login.username, WRONG)
    client.sign_in(login.username, WRONG)
    locked = labels.word("cc.wf.signin.msg-locked", "en").replace("{minutes}", "20")
    assert client.error() == locked
    right = client.sign_in(login.username, login.password)
    assert right.status_code == 200 and client.error() == locked
    assert counters(wf_portal, login.username) == (4, 4, 0)
    wf_portal.admin.unlock(login.username)
    assert client.sign_in(login.username, login.password).status_code == 302


@pytest.mark.parametrize(("lang", "header"), [("de", "de-DE,de;q=0.9"), ("pl", "pl")])
def test_pages_before_the_sign_in_speak_the_browsers_language(
    browser: Callable[..., WebFormsClient], lang: str, header: str
) -> None:
    client = browser(header)
    page = client.get("/Login.aspx")
    assert f'<html lang="{lang}"' in page.text
    assert labels.word("cc.signin.password-label", lang) in page.text
    client.sign_in(scenario("good").username, WRONG)
    assert client.error() == labels.word("cc.wf.signin.msg-invalid", lang)


def test_validator_messages_are_not_attempts(
    wf_portal: PortalHandle, browser: Callable[..., WebFormsClient]
) -> None:
    login = scenario("good")
    client = browser()
    client.sign_in("not-an-email", login.password)
    assert client.error() == labels.word("cc.wf.signin.msg-username-email", "en")
    for password in ("short", "x" * 17, ""):
        client.sign_in(login.username, password)
        assert client.error() == labels.word("cc.wf.signin.msg-password-length", "en")
    assert counters(wf_portal, login.username) == (0, 0, 0)


def test_a_postback_whose_view_state_does_not_verify_changes_nothing(
    wf_portal: PortalHandle, browser: Callable[..., WebFormsClient]
) -> None:
    login = scenario("good")
    client = browser()
    client.get("/Login.aspx")
    fields = {**client.form().fields, USERNAME: login.username, PASSWORD: login.password}
    fields[SIGN_IN] = "Sign In"
    forged = {**fields, "__VIEWSTATE": fields["__VIEWSTATE"][:-4] + "AAA="}
    assert client.http.post("/Login.aspx", data=forged).status_code == 500
    no_validation = {k: v for k, v in fields.items() if k != "__EVENTVALIDATION"}
    assert client.http.post("/Login.aspx", data=no_validation).status_code == 500
    assert counters(wf_portal, login.username) == (0, 0, 0)
    # A view state of the list page, signed for one user, does not verify for another.
    client.http.post("/Login.aspx", data=fields)
    client.get("/cases.aspx")
    theirs = client.form().fields
    other = browser()
    other.login(scenario("excess").username, scenario("excess").password)
    assert other.http.post("/cases.aspx", data=theirs).status_code == 500


def test_codes_count_like_passwords_and_a_right_one_signs_in(
    wf_portal: PortalHandle, browser: Callable[..., WebFormsClient]
) -> None:
    login = scenario("email_code")
    client = browser()
    client.get(client.sign_in(login.username, login.password).headers["location"])
    assert 'value="Email"' in client.html
    client.postback(press="ctl00$MainPH$btnVerify", **{"ctl00$MainPH$txtCode": "12ab"})
    assert labels.word("cc.wf.signin.msg-code-format", "en") in client.html
    code = wf_portal.admin.mailbox(login.username)[-1]["code"]
    wrong = "000000" if code != "000000" else "111111"
    client.postback(press="ctl00$MainPH$btnVerify", **{"ctl00$MainPH$txtCode": wrong})
    assert labels.word("cc.wf.signin.msg-invalid-code", "en") in client.html
    done = client.postback(press="ctl00$MainPH$btnVerify", **{"ctl00$MainPH$txtCode": code})
    assert done.status_code == 302 and done.headers["location"] == "/cases.aspx"
    assert counters(wf_portal, login.username) == (3, 1, 1)

    totp = scenario("totp")
    other = browser()
    other.get(other.sign_in(totp.username, totp.password).headers["location"])
    assert 'value="Authenticator"' in other.html
    assert totp.totp_secret is not None
    now = pyotp.TOTP(totp.totp_secret).now()
    signed = other.postback(press="ctl00$MainPH$btnVerify", **{"ctl00$MainPH$txtCode": now})
    assert signed.status_code == 302


def test_an_expired_password_is_changed_before_the_pages_open(
    browser: Callable[..., WebFormsClient],
) -> None:
    login = scenario("expired")
    client = browser()
    client.get(client.sign_in(login.username, login.password).headers["location"])
    assert labels.word("cc.wf.signin.msg-password-expired", "en") in client.html
    assert client.http.get("/cases.aspx").headers["location"] == "/ChangePassword.aspx"
    fields = {
        "ctl00$MainPH$txtOldPassword": login.password,
        "ctl00$MainPH$txtNewPassword": "Fresh#Pass2027",
        "ctl00$MainPH$txtConfirmPassword": "Fresh#Pass2027",
    }
    changed = client.postback(press="ctl00$MainPH$btnChangePassword", **fields)
    assert changed.headers["location"] == "/cases.aspx"
    assert client.get("/cases.aspx").status_code == 200
    assert re.search(r'id="ctl00_lblUserName">Welcome, expired\.partner@', client.html)
