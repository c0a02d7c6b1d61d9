"""The form and its link API over plain HTTP: what the TPS gets, what a stale, forged or hostile
request gets, and that nothing typed ever comes back."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from connector.forms.pages import CSRF_COOKIE
from connector.forms.texts import Texts
from connector.logs import REDACTED, scrub_text
from connector.store.form_sessions import token_hash
from sandbox.scenarios import scenario
from tests.forms.conftest import OTHER_TPS, Connector, FormClient

CC = "ClearCorrect Doctor Portal"


def t(lang: str = "en") -> Texts:
    return Texts.of(lang, portal=CC, tps="Planwerk TPS")


def title_of(html: str) -> str:
    match = re.search(r'<div id="message"[^>]*>\s*<h[12]>([^<]*)</h[12]>', html)
    assert match, "the page shows no message"
    return match.group(1)


def assert_secure_headers(response: httpx.Response) -> None:
    headers = response.headers
    csp = headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src" not in csp
    assert "frame-ancestors 'none'" in csp
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["cache-control"] == "no-store"
    assert headers["x-content-type-options"] == "nosniff"
    assert "<script" not in response.text.lower()


# --- the link API ------------------------------------------------------------------------------


def test_a_link_is_random_short_lived_and_stored_only_as_a_hash(connector: Connector) -> None:
    before = datetime.now(UTC)
    created = connector.create_session(vendor="invisalign", locale="de-AT")
    assert set(created) == {"url", "expires_at"}
    prefix = f"{connector.settings.api.public_base_url}/forms/"
    assert created["url"].startswith(prefix)
    token = created["url"].removeprefix(prefix)
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", token)  # 32 random bytes: 256 bits
    expires = datetime.fromisoformat(created["expires_at"].replace("Z", "+00:00"))
    assert timedelta(minutes=29) < expires - before <= timedelta(minutes=30, seconds=5)
    row = connector.form_session(created["url"])
    assert row is not None
    assert row["token_hash"] == hashlib.sha256(token.encode()).hexdigest()
    assert row["locale"] == "de"
    assert not any(token in str(value) for value in row.values())
    assert token not in connector.log.getvalue()
    assert connector.create_session(vendor="invisalign")["url"] != created["url"]


def test_the_link_api_needs_the_bearer_token(connector: Connector) -> None:
    with httpx.Client(base_url=connector.url) as client:
        assert client.post("/v1/form-sessions", json={"vendor": "invisalign"}).status_code == 401
        wrong = {"Authorization": "Bearer not-the-token-at-all-0000"}
        response = client.post("/v1/form-sessions", json={"vendor": "invisalign"}, headers=wrong)
        assert response.status_code == 401


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"vendor": "straumann-MARKER"}, 422),
        ({"vendor": "invisalign", "locale": "fr-MARKER"}, 422),
        (
            {"vendor": "invisalign", "return_url": "https://evil.example/MARKER"},
            403,
        ),  # well formed; the allow-list says no
        ({"vendor": "invisalign", "return_url": "javascript:alert('MARKER')"}, 422),
        (
            {"vendor": "invisalign", "return_url": "{tps}.evil.example/settings/MARKER"},
            403,
        ),  # well formed; the allow-list says no
        (
            {"vendor": "invisalign", "return_url": "{tps}/settingsMARKER"},
            403,
        ),  # well formed; the allow-list says no
        (
            {"vendor": "invisalign", "return_url": "{tps}/settings/../admin/MARKER"},
            403,
        ),  # well formed; the allow-list says no
        (
            {"vendor": "invisalign", "return_url": "{tps}/settings/%2e%2e/MARKER"},
            403,
        ),  # well formed; the allow-list says no
        ({"vendor": "invisalign", "return_url": "http://user@{host}/settings/MARKER"}, 422),
        ({"vendor": "invisalign", "unknown": "MARKER"}, 422),
        ({"vendor": "invisalign", "account_id": "acc_00000000000000000000000000"}, 404),
        ({"vendor": "invisalign", "account_id": "MARKER"}, 404),
        ({"vendor": "invisalign", "account_id": "<MARKER>"}, 422),
        ({"vendor": "invisalign", "practice_id": "a\u0007MARKER"}, 422),
        ({"vendor": "invisalign", "timezone": "Mars/MARKER"}, 422),
        ({"vendor": "invisalign", "timezone": "../MARKER"}, 422),
    ],
)
def test_bad_link_requests_are_refused_without_echo(
    connector: Connector, body: dict[str, Any], status: int
) -> None:
    host = connector.tps_url.removeprefix("http://")
    body = {k: v.format(tps=connector.tps_url, host=host) for k, v in body.items()}
    with connector.api() as client:
        response = client.post("/v1/form-sessions", json=body)
    assert response.status_code == status, response.text
    assert set(response.json()) == {"error"}
    assert "MARKER" not in response.text


def test_allowed_return_urls_and_account_links(connector: Connector) -> None:
    for url in (connector.return_url, connector.return_prefix, f"{OTHER_TPS}/any/where?x=1"):
        assert connector.create_session(vendor="clearcorrect", return_url=url)
    login = scenario("clearcorrect", "excess")
    client_session = connector.create_session(vendor="clearcorrect", practice_id="p-1")
    http = httpx.Client(base_url=connector.url, timeout=60)
    form = FormClient(connector, client_session["url"], http)
    try:
        form.post(username=login.username, password=login.password)
        account = connector.account("clearcorrect", login.username)
        assert account is not None
        with connector.api() as api:
            other_vendor = api.post(
                "/v1/form-sessions", json={"vendor": "invisalign", "account_id": account["id"]}
            )
            other_practice = api.post(
                "/v1/form-sessions",
                json={"vendor": "clearcorrect", "account_id": account["id"], "practice_id": "p-2"},
            )
        assert other_vendor.status_code == 409
        assert other_practice.status_code == 409
        linked = connector.create_session(vendor="clearcorrect", account_id=account["id"])
        assert connector.form_session(linked["url"])["practice_id"] == "p-1"  # type: ignore[index]
    finally:
        http.close()
        connector.remove_account("clearcorrect", login.username)


def test_openapi_declares_the_link_route(connector: Connector) -> None:
    with httpx.Client(base_url=connector.url) as client:
        spec = client.get("/openapi.json").json()
    operation = spec["paths"]["/v1/form-sessions"]["post"]
    assert {"201", "401", "404", "409", "422"} <= set(operation["responses"])
    for status in ("401", "404", "409", "422"):
        assert operation["responses"][status]["content"]["application/json"]["example"]["error"]
    assert "forms" in operation["tags"]
    assert not any(path.startswith("/forms") for path in spec["paths"])


# --- stale, forged and hostile requests --------------------------------------------------------


def test_an_unknown_token_gets_a_clear_404(connector: Connector) -> None:
    with httpx.Client(base_url=connector.url) as client:
        for method in ("GET", "POST"):
            response = client.request(method, "/forms/not-a-real-token-at-all")
            assert response.status_code == 404
            assert title_of(response.text) == t()("not_found_title")
            assert_secure_headers(response)


def test_an_expired_link_is_refused_and_changes_nothing(
    connector: Connector, form_client: Any
) -> None:
    login = scenario("clearcorrect", "good")
    form: FormClient = form_client(vendor="clearcorrect", locale="pl")
    csrf = form.csrf()
    attempts = connector.portals["clearcorrect"].admin.logins().get(login.username, {})
    connector.execute(
        "UPDATE form_sessions SET expires_at = ? WHERE token_hash = ?",
        (datetime.now(UTC) - timedelta(minutes=1)).strftime("%Y-%m-%d %H:%M:%S.%f"),
        token_hash(form.url.rsplit("/", 1)[-1]),
    )
    for action in ("", "code", "cancel", "recheck"):
        response = form.post(action, username=login.username, password=login.password, csrf=csrf)
        assert response.status_code == 410
        assert title_of(response.text) == t("pl")("expired_title")
    assert form.get().status_code == 410
    assert connector.account("clearcorrect", login.username) is None
    assert connector.portals["clearcorrect"].admin.logins().get(login.username, {}) == attempts


def test_a_connected_link_is_consumed(connector: Connector, form_client: Any) -> None:
    login = scenario("clearcorrect", "good")
    form: FormClient = form_client(vendor="clearcorrect")
    csrf = form.csrf()
    try:
        response = form.post(username=login.username, password=login.password, csrf=csrf)
        assert title_of(response.text) == t()("connected_title")
        assert_secure_headers(response)
        for action in ("", "code", "cancel", "recheck"):
            refused = form.post(
                action, username=login.username, password="Other#Pass2026", csrf=csrf
            )
            assert refused.status_code == 410
            assert title_of(refused.text) == t()("used_title")
        account = connector.account("clearcorrect", login.username)
        assert account is not None and account["credential_version"] == 1
        assert connector.form_session(form.url)["outcome"] == "connected"  # type: ignore[index]
    finally:
        connector.remove_account("clearcorrect", login.username)


def test_missing_or_wrong_csrf_is_refused(connector: Connector, form_client: Any) -> None:
    login = scenario("clearcorrect", "good")
    form: FormClient = form_client(vendor="clearcorrect")
    other: FormClient = form_client(vendor="clearcorrect")
    attempts = connector.portals["clearcorrect"].admin.logins().get(login.username, {})
    good = form.csrf()
    fields = {"username": login.username, "password": login.password}
    # No field, a wrong field, another link's field, and a forged request without the cookie.
    assert form.post(csrf="", **fields).status_code == 403
    assert form.post(csrf="0" * 64, **fields).status_code == 403
    assert form.post(csrf=other.csrf(), **fields).status_code == 403
    with httpx.Client(base_url=connector.url) as stranger:
        forged = stranger.post(form.path, data={"csrf": good, **fields})
    assert forged.status_code == 403
    assert title_of(forged.text) == t()("csrf_title")
    assert_secure_headers(forged)
    for action in ("code", "cancel", "recheck"):
        assert form.post(action, csrf="x").status_code == 403
    assert connector.account("clearcorrect", login.username) is None
    assert connector.portals["clearcorrect"].admin.logins().get(login.username, {}) == attempts
    assert connector.form_session(form.url)["consumed_at"] is None  # type: ignore[index]


def test_the_cookie_and_headers(connector: Connector, form_client: Any) -> None:
    form: FormClient = form_client(vendor="invisalign", return_url=connector.return_url)
    response = form.get()
    assert_secure_headers(response)
    assert f"form-action 'self' {connector.tps_url}" in response.headers["content-security-policy"]
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{CSRF_COOKIE}=")
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/forms" in cookie
    assert CSRF_COOKIE not in {"XSRF-TOKEN", "CSRF-TOKEN"}
    # The cookie is set once; later pages reuse it.
    assert "set-cookie" not in form.get().headers
    css = httpx.get(f"{connector.url}/forms/assets/form.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")


XSS = '"><script>alert(1)</script><img src=x onerror=alert(2)>'


def test_hostile_input_is_escaped_in_every_page(connector: Connector, form_client: Any) -> None:
    form: FormClient = form_client(vendor="clearcorrect")
    username = f"{XSS}@x.example"
    pages = [
        form.post(username=username, password=""),  # 422: a field is missing
        form.post(username=username, password="Hostile#Pass2026", totp_secret=f"T{XSS}"),
        form.post(username=username, password="Hostile#Pass2026"),  # the portal's answer
        form.get(),
        form.post("code", code=f"C{XSS}"),  # no sign-in waits for a code
    ]
    try:
        for response in pages:
            assert "<script>" not in response.text
            assert "<img" not in response.text
            assert_secure_headers(response)
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in pages[2].text
        assert pages[0].status_code == pages[1].status_code == 422
        assert f"T{XSS}" not in pages[1].text  # a typed TOTP secret is never shown again
    finally:
        connector.remove_account("clearcorrect", username)


def test_a_failed_attempt_never_writes_the_password_back(
    connector: Connector, form_client: Any
) -> None:
    form: FormClient = form_client(vendor="invisalign")
    username = "nobody.at.all@smile-dental.example"
    password = "Never-Shown-Again-2026"
    totp = "JBSWY3DPEHPK3PXPKRUGS43JONUXG5DF"
    try:
        response = form.post(username=username, password=password, totp_secret=totp)
        assert title_of(response.text) == Texts.of("en", portal="Invisalign Doctor Site")(
            "wrong_password_title"
        )
        assert password not in response.text and totp not in response.text
        assert re.search(r'<input id="password"[^>]*>', response.text)
        assert 'value="' not in re.search(r'<input id="password"[^>]*>', response.text).group(0)  # type: ignore[union-attr]
        assert f'value="{username}"' in response.text
        assert password not in form.get().text
    finally:
        connector.remove_account("invisalign", username)


# --- flows --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("locale", "timezone", "shown"),
    [("pl", "Europe/Warsaw", "godz."), ("de", None, "(Europe/Berlin)"), ("en", "Asia/Seoul", "")],
)
def test_a_lockout_ends_at_a_time_the_dentist_reads_in_their_zone(
    connector: Connector, form_client: Any, locale: str, timezone: str | None, shown: str
) -> None:
    login = scenario("clearcorrect", "locked")
    body: dict[str, Any] = {"vendor": "clearcorrect", "locale": locale}
    if timezone:
        body["timezone"] = timezone
    form: FormClient = form_client(**body)
    try:
        page = form.post(username=login.username, password=login.password)
        zone = timezone or "Europe/Berlin"
        assert f"({zone})" in page.text and shown in page.text
        assert " UTC" not in page.text
    finally:
        connector.remove_account("clearcorrect", login.username)


def test_an_emailed_code_and_a_wrong_code(connector: Connector, form_client: Any) -> None:
    login = scenario("clearcorrect", "email_code")
    admin = connector.portals["clearcorrect"].admin
    form: FormClient = form_client(vendor="clearcorrect", locale="de")
    de = Texts.of("de", portal=CC, tps="Planwerk TPS")
    try:
        response = form.post(username=login.username, password=login.password)
        assert de("code_title") in response.text and 'id="code"' in response.text
        # A reload while the sign-in waits shows the code page again (same process).
        assert de("code_title") in form.get().text
        assert form.post("code", code="12ab").status_code == 422  # not sent to the portal
        code = max(admin.mailbox(to=login.username), key=lambda m: m["sent_at"])["code"]
        wrong = "000000" if code != "000000" else "111111"
        refused = form.post("code", code=wrong)
        assert title_of(refused.text) == de("code_refused_title")
        # The sign-in did not complete: nothing is stored.
        assert connector.account("clearcorrect", login.username) is None
        # Sign in again: a new code, and this time the right one.
        response = form.post(username=login.username, password=login.password)
        assert de("code_title") in response.text
        code = max(admin.mailbox(to=login.username), key=lambda m: m["sent_at"])["code"]
        done = form.post("code", code=f" {code[:3]} {code[3:]} ")
        assert title_of(done.text) == de("connected_title")
        account = connector.account("clearcorrect", login.username)
        assert account is not None and account["status"] == "active"
        assert account["credential_version"] == 1
        steps = [
            (a["step"], a["outcome"])
            for a in connector.login_attempts("clearcorrect", login.username)
        ]
        assert steps == [
            ("password", "accepted"),
            ("code", "failed"),
            ("password", "accepted"),
            ("code", "succeeded"),
        ]
    finally:
        connector.remove_account("clearcorrect", login.username)
        admin.unlock(login.username)


def test_give_up_without_a_return_url(connector: Connector, form_client: Any) -> None:
    form: FormClient = form_client(vendor="clearcorrect", locale="pl")
    response = form.post("cancel")
    assert response.status_code == 200
    assert title_of(response.text) == t("pl")("stopped_title")
    assert connector.form_session(form.url)["outcome"] == "cancelled"  # type: ignore[index]
    assert form.get().status_code == 410


def test_give_up_after_a_wrong_password_leaves_nothing_stored(
    connector: Connector, form_client: Any
) -> None:
    login = scenario("clearcorrect", "no_view")
    form: FormClient = form_client(vendor="clearcorrect", return_url=connector.return_url)
    sealed = connector.sealed_logins()
    try:
        form.post(username=login.username, password="Wrong#NoView26")
        assert connector.account("clearcorrect", login.username) is None
        response = form.post("cancel")
        assert response.status_code == 303
        assert response.headers["location"] == (
            f"{connector.return_prefix}aligners?tab=logins&status=cancelled"
        )
        assert connector.sealed_logins() == sealed
        assert connector.tps_url in response.headers["content-security-policy"]
    finally:
        connector.remove_account("clearcorrect", login.username)
        connector.portals["clearcorrect"].admin.unlock(login.username)


def test_check_again_reuses_the_saved_session(connector: Connector, form_client: Any) -> None:
    login = scenario("clearcorrect", "excess")
    admin = connector.portals["clearcorrect"].admin
    form: FormClient = form_client(vendor="clearcorrect")
    try:
        first = form.post(username=login.username, password=login.password)
        assert title_of(first.text) == t()("excess_title")
        assert 'id="check-again"' in first.text
        attempts = admin.logins()[login.username]["attempts"]
        again = form.post("recheck")
        assert title_of(again.text) == t()("excess_title")
        assert admin.logins()[login.username]["attempts"] == attempts  # no new login
        assert connector.form_session(form.url)["consumed_at"] is None  # type: ignore[index]
    finally:
        connector.remove_account("clearcorrect", login.username)


def test_a_username_of_another_practice_is_not_taken_over(
    connector: Connector, form_client: Any
) -> None:
    login = scenario("clearcorrect", "good")
    admin = connector.portals["clearcorrect"].admin
    owner: FormClient = form_client(vendor="clearcorrect", practice_id="practice-a")
    intruder: FormClient = form_client(vendor="clearcorrect", practice_id="practice-b")
    try:
        owner.post(username=login.username, password=login.password)
        account = connector.account("clearcorrect", login.username)
        assert account is not None and account["status"] == "active"
        attempts = admin.logins()[login.username]["attempts"]
        response = intruder.post(username=login.username, password="Takeover#2026")
        assert title_of(response.text) == t()("conflict_title")
        assert admin.logins()[login.username]["attempts"] == attempts
        assert connector.account("clearcorrect", login.username) == account
    finally:
        connector.remove_account("clearcorrect", login.username)


def test_form_paths_are_scrubbed_from_access_logs() -> None:
    token = "Zm9ybS10b2tlbi0xMjM0NTY3ODkwYWJjZGVmZ2hpams"
    for path in ("", "/code", "/cancel", "/recheck"):
        line = scrub_text(f'127.0.0.1:5000 - "POST /forms/{token}{path} HTTP/1.1" 200')
        assert token not in line and f"/forms/{REDACTED}{path}" in line


def test_nothing_typed_leaked_from_the_http_flows(connector: Connector) -> None:
    connector.scan_for_leaks()
