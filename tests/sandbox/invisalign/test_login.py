"""The login flow over plain HTTP: hosted page, second steps, lockout, sessions, saved logins."""

from __future__ import annotations

import html
from collections.abc import Callable

import pyotp

from sandbox.common.server import PortalHandle
from sandbox.invisalign.auth import BLOCKED, JAVASCRIPT_REQUIRED, WRONG_CREDENTIALS
from tests.sandbox.invisalign.conftest import WalledPortal, scenario
from tests.sandbox.invisalign.ids_client import HOME, LOGIN_HOST, IdsClient, error_code

GOOD = scenario("good")
DAY = 86_400.0


def test_a_visitor_without_session_is_sent_to_the_hosted_login(
    portal: PortalHandle, clients: Callable[[str], IdsClient]
) -> None:
    client = clients(portal.url)
    response = client.http.get(HOME, follow_redirects=False)
    assert response.status_code == 302
    login_host = f"http://{LOGIN_HOST}:{response.url.port}"
    assert response.headers["location"].startswith(f"{login_host}/authorize?")
    page = client.login_page()
    assert 'name="username"' in page.text
    assert 'name="password"' in page.text
    assert "state=" in str(page.url)
    # The login's device cookie lives on the login host, never on the app's.
    assert client.cookie_names(LOGIN_HOST) == {"did"}
    assert client.cookie_names() == set()
    # Each host answers its own paths only.
    assert client.http.get(f"{login_host}{HOME}").status_code == 404
    assert client.http.get(f"{portal.url}/u/login?state=x").status_code == 404


def test_a_bare_form_post_is_refused_as_needing_javascript(
    portal: PortalHandle, clients: Callable[[str], IdsClient]
) -> None:
    client = clients(portal.url)
    response = client.submit_password(GOOD.username, GOOD.password, solve=False)
    assert response.status_code == 400
    assert error_code(response) == "javascript-required"
    assert "enable JavaScript" in JAVASCRIPT_REQUIRED
    assert JAVASCRIPT_REQUIRED in response.text
    assert "JSESSIONID" not in client.http.cookies
    # The refused post never reached the password check, so it counts as no attempt.
    assert GOOD.username not in portal.admin.logins()


def test_good_login_lands_on_the_patient_list_with_session_cookies(
    portal: PortalHandle, clients: Callable[[str], IdsClient]
) -> None:
    client = clients(portal.url)
    response = client.login(GOOD.username, GOOD.password)
    assert 'class="shadow-root-container"' in response.text
    assert client.cookie_names() == {"JSESSIONID", "CSRF-TOKEN"}
    assert client.cookie_names(LOGIN_HOST) == {"did"}  # auth0 only with "Keep me signed in"
    counters = portal.admin.logins()[GOOD.username]
    assert counters["attempts"] == counters["successes"] == 1


def test_wrong_password_re_renders_the_page_with_the_sites_message(
    portal: PortalHandle, clients: Callable[[str], IdsClient]
) -> None:
    response = clients(portal.url).submit_password(GOOD.username, "Not-The-Password-1")
    assert response.status_code == 400
    assert response.url.path == "/u/login"
    assert WRONG_CREDENTIALS in response.text
    assert f'value="{GOOD.username}"' in response.text
    unknown = clients(portal.url).submit_password("nobody@example.com", "Whatever-12345")
    assert WRONG_CREDENTIALS in unknown.text  # no hint whether the user exists


def test_ten_failures_block_the_login_until_unlocked(
    portal: PortalHandle, clients: Callable[[str], IdsClient]
) -> None:
    client = clients(portal.url)
    for attempt in range(1, 11):
        response = client.submit_password(GOOD.username, f"wrong-password-{attempt}")
        expected = "user-blocked" if attempt == 10 else "wrong-credentials"
        assert error_code(response) == expected, attempt
    counters = portal.admin.logins()[GOOD.username]
    assert counters["consecutive_failures"] == 10
    assert counters["failures"] == 10
    assert counters["locked_until"] is not None

    blocked = client.submit_password(GOOD.username, GOOD.password)
    assert error_code(blocked) == "user-blocked"
    assert html.escape(BLOCKED) in blocked.text
    assert "JSESSIONID" not in client.http.cookies
    assert any("blocked" in m["subject"] for m in portal.admin.mailbox(GOOD.username))

    portal.admin.unlock(GOOD.username)
    assert portal.admin.logins()[GOOD.username]["locked_until"] is None
    client.login(GOOD.username, GOOD.password)


def test_a_success_resets_the_consecutive_failures(
    portal: PortalHandle, clients: Callable[[str], IdsClient]
) -> None:
    client = clients(portal.url)
    for _ in range(9):
        client.submit_password(GOOD.username, "wrong-password-x")
    client.login(GOOD.username, GOOD.password)
    counters = portal.admin.logins()[GOOD.username]
    assert counters["consecutive_failures"] == 0
    assert counters["failures"] == 9


def test_the_locked_scenario_is_blocked_from_the_start(
    portal: PortalHandle, clients: Callable[[str], IdsClient]
) -> None:
    locked = scenario("locked")
    assert portal.admin.logins()[locked.username]["locked_until"] is not None
    response = clients(portal.url).submit_password(locked.username, locked.password)
    assert error_code(response) == "user-blocked"
    portal.admin.unlock(locked.username)
    clients(portal.url).login(locked.username, locked.password)


def test_email_code_login_reads_the_code_from_the_mailbox(
    portal: PortalHandle, clients: Callable[[str], IdsClient]
) -> None:
    login = scenario("email_code")
    client = clients(portal.url)
    page = client.submit_password(login.username, login.password)
    assert page.url.path == "/u/mfa-email-challenge"
    assert "m***@smile-dental.example" in page.text
    [message] = portal.admin.mailbox(login.username)
    assert message["code"] in message["body"]
    wrong = client.submit_code(page, f"{(int(message['code']) + 1) % 1_000_000:06d}")
    assert wrong.status_code == 400
    assert "invalid" in wrong.text
    done = client.submit_code(page, message["code"])
    assert done.url.path == HOME


def test_totp_login_accepts_the_authenticator_code(
    portal: PortalHandle, clients: Callable[[str], IdsClient]
) -> None:
    login = scenario("totp")
    assert login.totp_secret
    client = clients(portal.url)
    page = client.submit_password(login.username, login.password)
    assert page.url.path == "/u/mfa-otp-challenge"
    assert client.submit_code(page, "12345").status_code == 400
    done = client.submit_code(page, pyotp.TOTP(login.totp_secret).now())
    assert done.url.path == HOME


def test_an_expired_password_leads_to_the_change_password_page(
    portal: PortalHandle, clients: Callable[[str], IdsClient]
) -> None:
    login = scenario("expired")
    client = clients(portal.url)
    page = client.submit_password(login.username, login.password)
    assert page.url.path == "/u/change-password"
    assert "Your password has expired" in page.text
    assert "JSESSIONID" not in client.cookie_names()
    # Reaching the app needs a new password; the change is recorded (a connector must never).
    state = page.url.params["state"]
    short = {"state": state, "new-password": "short1", "confirm-new-password": "short1"}
    assert client.http.post(page.url, data=short).status_code == 400
    new = "Brand-New-Password-42"
    form = {"state": state, "new-password": new, "confirm-new-password": new}
    done = client.http.post(page.url, data=form)
    assert done.url.path == HOME
    assert [p["kind"] for p in portal.admin.posted()] == ["password_change"]
    assert new not in str(portal.admin.posted())


def test_logged_out_json_is_401_and_pages_redirect(
    portal: PortalHandle, clients: Callable[[str], IdsClient]
) -> None:
    client = clients(portal.url)
    response = client.api_get("/v3/api/patients")
    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized"
    page = client.http.get("/v3/auth/account/profile.action", follow_redirects=False)
    assert page.status_code == 302
    assert page.headers["location"].startswith(f"http://{LOGIN_HOST}:")


def test_login_returns_to_the_page_first_asked_for(
    portal: PortalHandle, clients: Callable[[str], IdsClient]
) -> None:
    client = clients(portal.url)
    first = client.http.get("/v3/auth/account/profile.action")
    assert first.url.path == "/u/login"
    done = client.submit_password(GOOD.username, GOOD.password, page=first)
    assert done.url.path == "/v3/auth/account/profile.action"


def test_logout_ends_the_session(
    portal: PortalHandle, client_for: Callable[[str], IdsClient]
) -> None:
    client = client_for("good")
    assert client.api_get("/v3/api/patients").status_code == 200
    csrf = client.csrf
    assert client.http.get("/v3/auth/logout.action").url.path == "/u/login"
    response = client.http.get("/v3/api/patients", headers={"X-CSRF-TOKEN": csrf})
    assert response.status_code == 401


def test_admin_expiry_forces_a_new_login(
    portal: PortalHandle, client_for: Callable[[str], IdsClient]
) -> None:
    client = client_for("good")
    assert portal.admin.expire_sessions(GOOD.username) == 1
    assert client.api_get("/v3/api/patients").status_code == 401
    assert client.http.get(HOME).url.path == "/u/login"


def test_sessions_end_after_the_idle_timeout(
    walled_portal: Callable[..., WalledPortal], clients: Callable[[str], IdsClient]
) -> None:
    portal = walled_portal(session_ttl_seconds=60)
    client = clients(portal.url)
    client.login(GOOD.username, GOOD.password)
    for _ in range(3):  # requests keep the session alive
        portal.wall.advance(50)
        assert client.api_get("/v3/api/patients").status_code == 200
    portal.wall.advance(61)
    assert client.api_get("/v3/api/patients").status_code == 401
    assert client.http.get(HOME).url.path == "/u/login"


def test_a_saved_login_renews_the_session_without_the_password(
    walled_portal: Callable[..., WalledPortal], clients: Callable[[str], IdsClient]
) -> None:
    portal = walled_portal(session_ttl_seconds=60)
    client = clients(portal.url)
    client.login(GOOD.username, GOOD.password, remember=True)
    assert "auth0" in client.cookie_names(LOGIN_HOST)
    assert "auth0" not in client.cookie_names()
    first_session = client.http.cookies.get("JSESSIONID", domain="127.0.0.1")
    portal.wall.advance(3600)
    assert client.api_get("/v3/api/patients").status_code == 401
    page = client.http.get(HOME)
    assert page.url.path == HOME  # no login page on the way
    assert client.http.cookies.get("JSESSIONID", domain="127.0.0.1") != first_session
    assert client.api_get("/v3/api/patients").status_code == 200
    assert portal.admin.logins()[GOOD.username]["attempts"] == 1


def test_a_saved_login_ends_after_30_idle_days(
    walled_portal: Callable[..., WalledPortal], clients: Callable[[str], IdsClient]
) -> None:
    portal = walled_portal()
    client = clients(portal.url)
    client.login(GOOD.username, GOOD.password, remember=True)
    portal.wall.advance(29 * DAY)
    assert client.http.get(HOME).url.path == HOME
    portal.wall.advance(30 * DAY + 1)
    assert client.http.get(HOME).url.path == "/u/login"


def test_a_saved_login_ends_after_90_days_even_when_used(
    walled_portal: Callable[..., WalledPortal], clients: Callable[[str], IdsClient]
) -> None:
    portal = walled_portal()
    client = clients(portal.url)
    client.login(GOOD.username, GOOD.password, remember=True)
    for _ in range(3):  # day 29, 58, 87: each use renews the session, not the saved login
        portal.wall.advance(29 * DAY)
        assert client.http.get(HOME).url.path == HOME
    portal.wall.advance(3 * DAY)
    assert client.http.get(HOME).url.path == "/u/login"


def test_a_dropped_session_needs_a_new_login_unless_saved(
    walled_portal: Callable[..., WalledPortal], clients: Callable[[str], IdsClient]
) -> None:
    portal = walled_portal()
    plain, saved = clients(portal.url), clients(portal.url)
    plain.login(GOOD.username, GOOD.password)
    saved.login(GOOD.username, GOOD.password, remember=True)
    portal.admin.faults(session_drop_rate=1.0)
    assert plain.api_get("/v3/api/patients").status_code == 401
    assert plain.http.get(HOME).url.path == "/u/login"
    assert saved.api_get("/v3/api/patients").status_code == 401
    portal.admin.faults(session_drop_rate=0.0)
    assert saved.http.get(HOME).url.path == HOME
    assert saved.api_get("/v3/api/patients").status_code == 200


def test_a_block_ends_on_its_own_after_a_day(
    walled_portal: Callable[..., WalledPortal], clients: Callable[[str], IdsClient]
) -> None:
    portal = walled_portal()
    locked = scenario("locked")
    client = clients(portal.url)
    assert error_code(client.submit_password(locked.username, locked.password)) == "user-blocked"
    portal.wall.advance(DAY + 1)
    client.login(locked.username, locked.password)
