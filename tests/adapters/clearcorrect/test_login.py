"""Signing in against the running sandbox, on the WebForms sign-in and on the Identity form:
every scenario login, the lockout rules (one attempt per `open()`, even with faults on), second
factors, a changed sign-in page, and no leaked secrets."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta

import httpx
import pyotp
import pytest
import respx

from adapters.base import (
    AccountLocked,
    AdapterError,
    Capability,
    Credentials,
    InvalidCredentials,
    MfaRequired,
    OutcomeUnknown,
    PasswordExpired,
    PortalChanged,
    PortalUnavailable,
    RecordedSignIns,
    no_code,
)
from adapters.clearcorrect import ClearCorrectAdapter, VerificationCodeRejected
from sandbox.clearcorrect.scenarios import SCENARIOS, TOTP_SECRET, scenario
from sandbox.common.scenarios import Outcome, ScenarioLogin
from sandbox.common.server import PortalHandle
from tests.adapters.clearcorrect.conftest import (
    IDENTITY,
    PAGES,
    attempts,
    choose,
    code_posts,
    collect,
    login_posts,
    mailbox_code_provider,
    scenario_credentials,
)
from vault import Secret


@pytest.mark.parametrize("path", [PAGES, IDENTITY])
@pytest.mark.parametrize("login", SCENARIOS, ids=[s.name for s in SCENARIOS])
async def test_every_scenario_login_maps_to_its_outcome(
    portal: PortalHandle, adapter: ClearCorrectAdapter, login: ScenarioLogin, path: str
) -> None:
    choose(portal, path)
    name = login.name
    credentials = scenario_credentials(name)
    outcome = scenario(name).outcome
    code_provider = mailbox_code_provider(portal, credentials.username)
    if outcome is Outcome.LOCKED:
        before = datetime.now(UTC)
        with pytest.raises(AccountLocked) as locked:
            await adapter.open(credentials, None, code_provider, guard=RecordedSignIns())
        assert locked.value.until is not None
        assert before + timedelta(minutes=19) <= locked.value.until
        assert locked.value.until <= datetime.now(UTC) + timedelta(minutes=21)
        assert attempts(portal, credentials.username) == 1
        return
    if outcome is Outcome.PASSWORD_EXPIRED:
        with pytest.raises(PasswordExpired):
            await adapter.open(credentials, None, code_provider, guard=RecordedSignIns())
        assert attempts(portal, credentials.username) == 1
        return
    session = await adapter.open(credentials, None, code_provider, guard=RecordedSignIns())
    async with session:
        assert session.logins == 1
        access = await session.check_access()
    if outcome in (Outcome.CONNECTED, Outcome.MFA_EMAIL, Outcome.MFA_TOTP):
        assert access.ok
        assert access.account_type == "partner"
        assert {Capability.READ_CASES, Capability.REJECT_SETUP} <= access.capabilities
        assert Capability.APPROVE not in access.capabilities
        decline = "DeclineSetups" if path == PAGES else "RejectSetups"
        assert access.roles == ("20417:View", f"20417:{decline}")
    elif outcome is Outcome.EXCESS_PERMISSIONS:
        assert access.excessive is not None and "collaborator" in access.excessive.lower()
        assert access.account_type == "doctor"
        assert Capability.APPROVE in access.capabilities
    elif outcome is Outcome.INSUFFICIENT_PERMISSIONS:
        assert access.insufficient is not None and "shared" in access.insufficient
        assert access.excessive is None
        assert Capability.READ_CASES not in access.capabilities
    else:  # pragma: no cover - the table grew
        pytest.fail(f"no expectation for {outcome}")
    assert attempts(portal, credentials.username) == (2 if name in ("email_code", "totp") else 1)


@pytest.mark.parametrize("path", [PAGES, IDENTITY])
async def test_a_wrong_password_costs_exactly_one_attempt(
    portal: PortalHandle, adapter: ClearCorrectAdapter, path: str
) -> None:
    choose(portal, path)
    good = scenario("good")
    wrong = Credentials(good.username, Secret("Wrong#Passw0rd"))
    with pytest.raises(InvalidCredentials):
        await adapter.open(wrong, None, no_code, guard=RecordedSignIns())
    assert attempts(portal, good.username) == 1
    assert login_posts(portal) == 1
    # A second open() is a second attempt: that is the caller's decision, not the adapter's.
    with pytest.raises(InvalidCredentials):
        await adapter.open(wrong, None, no_code, guard=RecordedSignIns())
    assert attempts(portal, good.username) == 2
    assert portal.admin.logins()[good.username]["locked_until"] is None


async def test_one_open_never_makes_two_attempts_even_with_faults(
    portal: PortalHandle, adapter: ClearCorrectAdapter
) -> None:
    """Errors, 429s and drops everywhere, the login pages included: whatever each open()
    raises, it is a typed error and it cost at most one counted attempt."""
    good = scenario("good")
    wrong = Credentials(good.username, Secret("Wrong#Passw0rd"))
    portal.admin.faults(
        error_rate=0.5, rate_limit_rate=0.2, retry_after_seconds=0, session_drop_rate=0.2, seed=3
    )
    seen: set[type[AdapterError]] = set()
    for _ in range(40):
        before = attempts(portal, good.username)
        with pytest.raises((InvalidCredentials, PortalUnavailable)) as failure:
            await adapter.open(wrong, None, no_code, guard=RecordedSignIns())
        seen.add(type(failure.value))
        assert attempts(portal, good.username) - before <= 1
        portal.admin.unlock(good.username)
        if {InvalidCredentials, OutcomeUnknown} <= seen:
            break
    assert InvalidCredentials in seen
    assert OutcomeUnknown in seen  # a lost answer to the login post is never resent


async def test_a_password_outside_the_portals_rule_is_never_posted(
    portal: PortalHandle, adapter: ClearCorrectAdapter
) -> None:
    for password in ("short", "x" * 17, ""):
        with pytest.raises(InvalidCredentials):
            await adapter.open(
                Credentials("a@b.example", Secret(password)), None, no_code, guard=RecordedSignIns()
            )
    with pytest.raises(InvalidCredentials):
        await adapter.open(
            Credentials("not-an-email", Secret("Long#Enough1")),
            None,
            no_code,
            guard=RecordedSignIns(),
        )
    assert portal.admin.requests()["total"] == 0
    assert all(c["attempts"] == 0 for c in portal.admin.logins().values())


async def test_email_code_from_the_mailbox_connects(
    portal: PortalHandle, adapter: ClearCorrectAdapter
) -> None:
    credentials = scenario_credentials("email_code")
    asked: list[str] = []
    session = await adapter.open(
        credentials,
        None,
        mailbox_code_provider(portal, credentials.username, asked),
        guard=RecordedSignIns(),
    )
    async with session:
        assert asked == ["email"]
        _, items = await collect(session)
        assert len(items) == 5


async def test_email_code_without_a_person_is_mfa_required_and_posts_no_code(
    portal: PortalHandle, adapter: ClearCorrectAdapter
) -> None:
    credentials = scenario_credentials("email_code")
    with pytest.raises(MfaRequired) as required:
        await adapter.open(credentials, None, no_code, guard=RecordedSignIns())
    assert required.value.channel == "email"
    assert not isinstance(required.value, VerificationCodeRejected)
    assert attempts(portal, credentials.username) == 1  # the password only: no code was posted
    assert code_posts(portal) == 0


async def test_a_wrong_code_is_reported_once_and_never_retried(
    portal: PortalHandle, adapter: ClearCorrectAdapter
) -> None:
    credentials = scenario_credentials("email_code")

    async def wrong(channel: str) -> Secret | None:
        return Secret("000000")

    with pytest.raises(VerificationCodeRejected) as rejected:
        await adapter.open(credentials, None, wrong, guard=RecordedSignIns())
    assert rejected.value.channel == "email"
    assert isinstance(rejected.value, MfaRequired)
    counter = portal.admin.logins()[credentials.username]
    assert counter["attempts"] == 2 and counter["failures"] == 1  # password ok, one code


async def test_a_malformed_code_is_not_posted(
    portal: PortalHandle, adapter: ClearCorrectAdapter
) -> None:
    credentials = scenario_credentials("email_code")

    async def malformed(channel: str) -> Secret | None:
        return Secret("12ab56")

    with pytest.raises(VerificationCodeRejected):
        await adapter.open(credentials, None, malformed, guard=RecordedSignIns())
    assert attempts(portal, credentials.username) == 1


async def test_totp_from_the_stored_secret_or_from_a_person(
    portal: PortalHandle, adapter: ClearCorrectAdapter
) -> None:
    stored = scenario_credentials("totp")
    assert stored.totp_secret is not None
    async with await adapter.open(stored, None, no_code, guard=RecordedSignIns()) as session:
        assert session.logins == 1
    without_secret = Credentials(stored.username, stored.password)
    with pytest.raises(MfaRequired) as required:
        await adapter.open(without_secret, None, no_code, guard=RecordedSignIns())
    assert required.value.channel == "totp"
    asked: list[str] = []

    async def person(channel: str) -> Secret | None:
        asked.append(channel)
        return Secret(pyotp.TOTP(TOTP_SECRET).now())

    async with await adapter.open(without_secret, None, person, guard=RecordedSignIns()) as session:
        assert asked == ["totp"]
        assert (await session.check_access()).ok


async def test_a_changed_login_form_is_portal_changed_before_anything_is_posted(
    portal: PortalHandle, adapter: ClearCorrectAdapter
) -> None:
    choose(portal, IDENTITY)
    portal.admin.faults(layout_version=2)
    credentials = scenario_credentials("good")
    with pytest.raises(PortalChanged) as changed:
        await adapter.open(credentials, None, no_code, guard=RecordedSignIns())
    assert "Input.Email" in str(changed.value)
    assert attempts(portal, credentials.username) == 0
    assert login_posts(portal) == 0


@respx.mock
async def test_a_renamed_webforms_sign_in_field_is_portal_changed_and_posts_nothing() -> None:
    base = "https://portal.cc.example"
    page = (
        '<html><body><form method="post" action="./Login.aspx" id="aspnetForm">'
        '<input type="hidden" name="__VIEWSTATE" value="x">'
        '<input name="ctl00$MainPH$txtEmail" type="text">'
        '<input name="ctl00$MainPH$txtPassword" type="password">'
        '<input type="submit" name="ctl00$MainPH$btnLogin" value="Sign In"></form></body></html>'
    )
    respx.get(f"{base}/Login.aspx").mock(
        return_value=httpx.Response(200, text=page, headers={"content-type": "text/html"})
    )
    post = respx.post(f"{base}/Login.aspx")
    with pytest.raises(PortalChanged) as changed:
        await ClearCorrectAdapter(base).open(
            scenario_credentials("good"), None, no_code, guard=RecordedSignIns()
        )
    assert "cc.wf.signin.username-field" in changed.value.facts
    assert post.call_count == 0


async def test_no_secret_reaches_logs_errors_or_reprs(
    portal: PortalHandle,
    adapter: ClearCorrectAdapter,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    # As in production (connector.logs): httpcore's DEBUG lines print raw headers, cookies
    # included, whatever the adapter does, so the connector keeps that logger at INFO.
    caplog.set_level(logging.INFO, logger="httpcore")
    good = scenario("good")
    wrong_password = "Wrong#Secret99"
    texts: list[str] = []
    with pytest.raises(InvalidCredentials) as failure:
        await adapter.open(
            Credentials(good.username, Secret(wrong_password)),
            None,
            no_code,
            guard=RecordedSignIns(),
        )
    texts += [str(failure.value), repr(failure.value)]
    totp = scenario_credentials("totp")
    async with await adapter.open(totp, None, no_code, guard=RecordedSignIns()) as session:
        texts += [repr(session), repr(adapter), repr(totp)]
    credentials = scenario_credentials("good")
    async with await adapter.open(credentials, None, no_code, guard=RecordedSignIns()) as session:
        _, items = await collect(session)
        for number in items:
            await session.get_case(number)
        state = await session.export_state()
        texts += [repr(session), repr(state), str(state), repr(list(items.values()))]
    captured = capsys.readouterr()
    texts += [caplog.text, captured.out, captured.err]
    blob = "\n".join(texts)
    cookie_values = [c["value"] for c in json.loads(state.reveal())["cookies"]]
    secrets = [wrong_password, good.password, TOTP_SECRET, scenario("totp").password]
    secrets += [v for v in cookie_values if len(v) >= 12]
    for secret in secrets:
        assert secret not in blob
    dump = portal.admin.state()
    for case in dump["cases"]:
        if case["case_id"] in items:
            assert case["patient_name"] not in blob
            for comment in case["comments"]:
                assert comment["body"] not in blob
