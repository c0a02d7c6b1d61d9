"""The sign-in flow, through real HTTP the way a client meets it."""

from __future__ import annotations

import time
from collections.abc import Callable

import pyotp
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sandbox.clearcorrect.scenarios import SCENARIOS, scenario
from sandbox.common.scenarios import Outcome
from sandbox.common.server import PortalHandle
from tests.sandbox.clearcorrect.conftest import identity_app
from tests.sandbox.clearcorrect.portal_client import (
    CHANGE_PASSWORD,
    LOGIN,
    TWO_FACTOR,
    PortalClient,
    form_token,
)

INVALID = "Invalid login attempt."
LOCKED = "Your account has been locked because of too many failed login attempts."


def test_scenario_table_is_complete_and_follows_the_password_rule() -> None:
    names = [s.name for s in SCENARIOS]
    assert names == ["good", "email_code", "totp", "locked", "excess", "no_view", "expired"]
    assert {s.vendor for s in SCENARIOS} == {"clearcorrect"}
    assert all(12 <= len(s.password) <= 16 for s in SCENARIOS)
    assert {s.outcome for s in SCENARIOS} == set(Outcome) - {Outcome.WRONG_PASSWORD}
    secret = scenario("totp").totp_secret
    assert secret is not None
    assert len(pyotp.TOTP(secret).now()) == 6


def test_logged_out_pages_redirect_and_json_is_401(client_for: Callable[..., PortalClient]) -> None:
    client = client_for()
    page = client.http.get("/Cases", params={"group": "Closed"})
    assert page.status_code == 302
    assert page.headers["location"] == f"{LOGIN}?ReturnUrl=%2FCases%3Fgroup%3DClosed"
    api = client.http.get("/api/cases")
    assert api.status_code == 401
    assert api.headers["content-type"].startswith("application/problem+json")
    assert api.json()["status"] == 401


def test_login_form_sets_antiforgery_cookie_and_realistic_names(
    client_for: Callable[..., PortalClient],
) -> None:
    client = client_for()
    html = client.login_page()
    assert 'name="Input.Email"' in html
    assert 'name="Input.Password"' in html
    assert form_token(html).startswith("CfDJ8")
    assert any(name.startswith(".AspNetCore.Antiforgery.") for name in client.http.cookies)
    response = client.submit_login(scenario("good").username, scenario("good").password)
    assert response.status_code == 302
    assert ".AspNetCore.Identity.Application" in client.http.cookies


@pytest.mark.parametrize("name", [s.name for s in SCENARIOS])
def test_every_scenario_login_gives_its_outcome(
    name: str, portal: PortalHandle, client_for: Callable[..., PortalClient]
) -> None:
    login = scenario(name)
    client = client_for()
    response = client.submit_login(login.username, login.password)
    if login.outcome == Outcome.LOCKED:
        assert response.status_code == 200
        assert LOCKED in response.text
        assert "try again in 20 minutes" in response.text
        assert portal.admin.logins()[login.username]["locked_until"] is not None
        return
    if login.outcome == Outcome.PASSWORD_EXPIRED:
        assert response.status_code == 302
        assert response.headers["location"] == CHANGE_PASSWORD
        page = client.http.get(CHANGE_PASSWORD)
        assert "Your password has expired" in page.text
        assert client.http.get("/Cases").headers["location"] == CHANGE_PASSWORD
        assert client.http.get("/api/cases").status_code == 403
        return
    if login.outcome == Outcome.MFA_EMAIL:
        assert response.headers["location"].startswith(TWO_FACTOR)
        assert "We sent a security code" in client.http.get(TWO_FACTOR).text
        assert client.http.get("/api/account").status_code == 401
        mail = portal.admin.mailbox(login.username)
        assert len(mail) == 1
        assert mail[0]["code"] in mail[0]["body"]
        response = client.submit_code(mail[0]["code"])
    elif login.outcome == Outcome.MFA_TOTP:
        assert response.headers["location"].startswith(TWO_FACTOR)
        assert "authenticator" in client.http.get(TWO_FACTOR).text
        assert login.totp_secret is not None
        response = client.submit_code(pyotp.TOTP(login.totp_secret).now())
    assert response.status_code == 302
    assert response.headers["location"] == "/Cases"
    account = client.http.get("/api/account").json()
    cases = client.cases()
    if login.outcome == Outcome.EXCESS_PERMISSIONS:
        assert account["userType"] == "Doctor"
        assert account["canApproveSetups"] is True
        assert cases["totalCount"] == 5
    elif login.outcome == Outcome.INSUFFICIENT_PERMISSIONS:
        assert account["userType"] == "Partner"
        assert [p["permissions"] for p in account["partnerships"]] == [[]]
        assert cases["totalCount"] == 0
    else:
        assert account["userType"] == "Partner"
        assert account["canApproveSetups"] is False
        assert [p["permissions"] for p in account["partnerships"]] == [["View", "RejectSetups"]]
        assert cases["totalCount"] == 5


def test_wrong_email_code_is_refused_and_counted(
    portal: PortalHandle, client_for: Callable[..., PortalClient]
) -> None:
    login = scenario("email_code")
    client = client_for()
    client.submit_login(login.username, login.password)
    code = portal.admin.mailbox(login.username)[-1]["code"]
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    refused = client.submit_code(wrong)
    assert refused.status_code == 200
    assert "Invalid verification code." in refused.text
    assert portal.admin.logins()[login.username]["consecutive_failures"] == 1
    assert client.submit_code(code).headers["location"] == "/Cases"
    assert portal.admin.logins()[login.username]["consecutive_failures"] == 0


def test_three_wrong_passwords_lock_the_account_until_unlocked(
    portal: PortalHandle, client_for: Callable[..., PortalClient]
) -> None:
    login = scenario("good")
    client = client_for()
    for attempt in (1, 2):
        response = client.submit_login(login.username, "Wrong#Password1")
        assert INVALID in response.text
        assert portal.admin.logins()[login.username]["consecutive_failures"] == attempt
    third = client.submit_login(login.username, "Wrong#Password1")
    assert LOCKED in third.text
    assert "20 minutes" in third.text
    counters = portal.admin.logins()[login.username]
    assert counters["failures"] == 3
    assert counters["locked_until"] is not None
    # While locked, even the right password is refused, and counted.
    right = client.submit_login(login.username, login.password)
    assert right.status_code == 200
    assert LOCKED in right.text
    counters = portal.admin.logins()[login.username]
    assert (counters["attempts"], counters["failures"], counters["successes"]) == (4, 4, 0)
    portal.admin.unlock(login.username)
    assert portal.admin.logins()[login.username]["locked_until"] is None
    assert client.submit_login(login.username, login.password).headers["location"] == "/Cases"


def test_lockout_ends_by_itself_after_lockout_seconds(
    start_portals: Callable[..., PortalHandle],
) -> None:
    portal = identity_app(start_portals("clearcorrect", practices=1, cases=1, lockout_seconds=0.6))
    login = scenario("good")
    with PortalClient(portal.url) as client:
        for _ in range(3):
            client.submit_login(login.username, "Wrong#Password1")
        assert LOCKED in client.submit_login(login.username, login.password).text
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            response = client.submit_login(login.username, login.password)
            if response.status_code == 302:
                break
            assert LOCKED in response.text
            time.sleep(0.1)  # wall-time rule: poll until it ends
        assert response.status_code == 302
    assert portal.admin.logins()[login.username]["consecutive_failures"] == 0


def test_form_post_without_a_valid_antiforgery_token_is_refused(
    portal: PortalHandle, client_for: Callable[..., PortalClient]
) -> None:
    login = scenario("good")
    client = client_for()
    client.login_page()
    data = {"Input.Email": login.username, "Input.Password": login.password}
    assert client.http.post(LOGIN, data=data).status_code == 400
    forged = {**data, "__RequestVerificationToken": "CfDJ8forged"}
    assert client.http.post(LOGIN, data=forged).status_code == 400
    # A token from another browser's form does not match this browser's cookie.
    other = client_for()
    stolen = {**data, "__RequestVerificationToken": form_token(other.login_page())}
    assert client.http.post(LOGIN, data=stolen).status_code == 400
    assert login.username not in portal.admin.logins()


def test_json_post_needs_the_user_bound_token(good: PortalClient, portal: PortalHandle) -> None:
    number = good.cases()["items"][0]["caseNumber"]
    path = f"/api/cases/{number}/comments"
    assert good.http.post(path, json={"body": "no token"}).status_code == 400
    anonymous = form_token(good.login_page())  # a login-page token is for an anonymous user
    headers = {"RequestVerificationToken": anonymous}
    assert good.http.post(path, json={"body": "x"}, headers=headers).status_code == 400
    xsrf = good.http.cookies["XSRF-TOKEN"]
    headers = {"RequestVerificationToken": xsrf}
    assert good.http.post(path, json={"body": "cookie"}, headers=headers).status_code == 201
    assert [p["body"] for p in portal.admin.posted()] == ["cookie"]


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    password=st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=7)
    | st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=17, max_size=40)
)
def test_password_outside_8_to_16_gets_the_form_message_and_is_not_an_attempt(
    password: str, portal: PortalHandle, client_for: Callable[..., PortalClient]
) -> None:
    login = scenario("good")
    client = client_for()
    response = client.submit_login(login.username, password)
    assert response.status_code == 200
    expected = "The Password field is required." if not password else "at least 8 and at max 16"
    assert expected in response.text
    assert login.username not in portal.admin.logins()


def test_password_within_8_to_16_is_checked(
    portal: PortalHandle, client_for: Callable[..., PortalClient]
) -> None:
    login = scenario("good")
    for password in ("x" * 8, "y" * 16):
        assert INVALID in client_for().submit_login(login.username, password).text
    assert portal.admin.logins()[login.username]["failures"] == 2


def test_expired_password_can_be_changed_then_the_app_opens(
    client_for: Callable[..., PortalClient],
) -> None:
    login = scenario("expired")
    client = client_for()
    assert client.submit_login(login.username, login.password).status_code == 302
    page = client.http.get(CHANGE_PASSWORD).text
    data = {
        "Input.OldPassword": login.password,
        "Input.NewPassword": "short",
        "Input.ConfirmPassword": "short",
        "__RequestVerificationToken": form_token(page),
    }
    assert "at least 8 and at max 16" in client.http.post(CHANGE_PASSWORD, data=data).text
    data["Input.NewPassword"] = data["Input.ConfirmPassword"] = "Renewed#Pass26"
    changed = client.http.post(CHANGE_PASSWORD, data=data)
    assert changed.status_code == 302
    assert changed.headers["location"] == "/Cases"
    assert client.http.get("/Cases").status_code == 200
    with client_for() as fresh:
        fresh.login(login.username, "Renewed#Pass26")


def test_logout_ends_the_session(good: PortalClient) -> None:
    token = good.refresh_token()
    response = good.http.post(
        "/Identity/Account/Logout", data={"__RequestVerificationToken": token}
    )
    assert response.status_code == 302
    assert good.http.get("/api/account").status_code == 401


def test_layout_2_renames_the_login_fields(
    portal: PortalHandle, client_for: Callable[..., PortalClient]
) -> None:
    portal.admin.faults(layout_version=2)
    login = scenario("good")
    client = client_for()
    html = client.login_page()
    assert 'name="Input.Email"' not in html
    assert 'name="UserName"' in html
    stale = client.submit_login(login.username, login.password)
    assert stale.status_code == 200
    assert "The Email field is required." in stale.text
    assert login.username not in portal.admin.logins()  # not an attempt
    current = client.submit_login(login.username, login.password, "UserName", "Password")
    assert current.headers["location"] == "/Cases"
