"""Signing in through the hosted login (the Align account's Auth0 Universal Login, on a host of
its own), in the session's browser tab.

Rules kept here:

- **A password is typed only on an allowed login host** (`myaccount-us.aligntech.com`, the
  operator's additions, and a local sandbox's login host next to a loopback app). A login page
  anywhere else is a `PortalChanged` naming `ids.host.login`, and nothing is typed.
- **One password per sign-in, sent inside `guard.attempt()`**: the form is submitted at most
  once; whatever happens after (a 5xx, a 429, a timeout, a login page again) is reported, never
  "fixed" by submitting again.
- **Username and password on one page** (confirmed), or the username first (a step public code
  hedges for): both are handled; the first step sends no password.
- "Keep me signed in" is ticked when the page has it (assumed: no source shows the box).
- A login page whose own scripts failed to load is reloaded before anything is typed: a
  challenge left unanswered by a fault is unavailability, not a changed portal.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from urllib.parse import urlsplit

import httpx
import pyotp
import structlog
from playwright.async_api import Error as PlaywrightError

from adapters.base import (
    AccountLocked,
    AdapterError,
    CodeProvider,
    Credentials,
    InvalidCredentials,
    MalformedCredentials,
    MfaRequired,
    PasswordExpired,
    PortalChanged,
    PortalUnavailable,
    RateLimited,
    SignInGuard,
    SignInStep,
    VerificationCodeRejected,
    utc,
)
from adapters.http import Outcome, classify
from adapters.http.policy import retry_after_seconds
from adapters.invisalign import site
from adapters.invisalign.browsing import Tab

_log = structlog.get_logger("adapters.invisalign")

#: Codes a person (or the TOTP secret) may try per second step before we give up.
MAX_CODE_ATTEMPTS = 3
_LOGIN_FACTS = ("ids.login.path", "ids.login.username-field", "ids.login.password-field")


class Step(StrEnum):
    """Where a navigation of the sign-in ended."""

    APP = "app"
    LOGIN = "login"
    MFA_EMAIL = "mfa_email"
    MFA_TOTP = "mfa_totp"
    CHANGE_PASSWORD = "change_password"  # noqa: S105 (a step name)
    FOREIGN_LOGIN = "foreign_login"
    OTHER = "other"


_STEP_PATHS = {
    site.LOGIN_PATH: Step.LOGIN,
    site.MFA_EMAIL_PATH: Step.MFA_EMAIL,
    site.MFA_OTP_PATH: Step.MFA_TOTP,
    site.CHANGE_PASSWORD_PATH: Step.CHANGE_PASSWORD,
}
_NOT_APP = (site.CALLBACK_PATH, site.LOGOUT_PATH)


@dataclass(frozen=True)
class Hosts:
    """The app's host and the hosts a password may be typed on."""

    app: str
    login: frozenset[str]

    def step_of(self, url: str) -> Step:
        parts = urlsplit(url)
        host, path = (parts.hostname or "").lower(), parts.path
        if host == self.app and path.startswith(site.APP_PREFIX) and path not in _NOT_APP:
            return Step.APP
        if path in _STEP_PATHS:
            return _STEP_PATHS[path] if host in self.login else Step.FOREIGN_LOGIN
        return Step.OTHER

    def is_login_redirect(self, response: httpx.Response) -> bool:
        """An app request sent elsewhere (the login host, `/authorize`): the session is gone."""
        if not response.is_redirect:
            return False
        target = urlsplit(str(response.url.join(response.headers.get("location", ""))))
        return (target.hostname or "").lower() != self.app or target.path in _STEP_PATHS


def allowed_login_hosts(base_url: str, extra: tuple[str, ...] = ()) -> frozenset[str]:
    """The vendor's login hosts, the operator's `extra`, and for a portal on a loopback address
    (the local sandbox) the sandbox's login host beside it: a password never leaves the machine
    there, and nowhere else does it go but to the vendor's own login."""
    hosts = {h.lower() for h in (*site.LOGIN_HOSTS, *extra)}
    if (urlsplit(base_url).hostname or "").startswith("127."):
        hosts.add(site.SANDBOX_LOGIN_HOST)
    return frozenset(hosts)


def foreign_login(url: str) -> PortalChanged:
    host = urlsplit(url).hostname or "?"
    return PortalChanged(
        f"the sign-in page is on {host}, which is not an allowed login host; nothing was typed",
        ("ids.host.login",),
    )


@dataclass(frozen=True)
class LoginError:
    code: str | None
    locked_until: datetime | None = None


async def login_error(tab: Tab) -> LoginError:
    """The error a hosted login page shows (its error code), or code None without one. A lock
    time is read from a `<time datetime>` inside the message if the portal ever shows one."""
    element = tab.page.locator(site.ERROR_ELEMENT)
    try:
        if await element.count() == 0:
            return LoginError(None)
        code = await element.first.get_attribute(site.ERROR_CODE_ATTRIBUTE)
        until = None
        times = element.first.locator(site.LOCK_TIME)
        if await times.count():
            raw = await times.first.get_attribute("datetime")
            until = utc(raw) if raw else None
    except (PlaywrightError, ValueError):
        raise PortalChanged(
            "the login page's error message could not be read", ("ids.login.error-element",)
        ) from None
    return LoginError(code, until)


def refusal(error: LoginError, scripts_failed: bool = False) -> AdapterError:
    """The typed error for what the password step of the hosted login page answered."""
    if error.code == site.WRONG_CREDENTIALS:
        return InvalidCredentials("the portal rejected the username or password")
    if error.code == site.USER_BLOCKED:
        return AccountLocked(
            error.locked_until,
            "the portal blocked this login after repeated failed attempts; the account owner "
            "was emailed instructions to unblock it",
        )
    if error.code == site.JAVASCRIPT_REQUIRED:
        if scripts_failed:
            return PortalUnavailable("the login page's script did not load; not resent")
        return PortalChanged(
            "the login page refused the form: its challenge was not answered",
            ("ids.login.error.javascript-required",),
        )
    if error.code == site.MISSING_FIELDS:
        return PortalChanged(
            "the login page did not receive the username and password fields", _LOGIN_FACTS
        )
    if error.code is None:
        return PortalChanged("the login page came back without an error code", _LOGIN_FACTS)
    return PortalChanged(
        f"the login page shows an unknown error code {error.code!r}",
        ("ids.login.error-code-attribute",),
    )


def password_expired() -> PasswordExpired:
    return PasswordExpired("the portal asks for a new password before it lets this login in")


class SignIn:
    """One sign-in through the hosted login, from its first page to the app."""

    def __init__(
        self,
        tab: Tab,
        hosts: Hosts,
        credentials: Credentials,
        guard: SignInGuard,
        code_provider: CodeProvider,
    ) -> None:
        self.tab = tab
        self.hosts = hosts
        self.credentials = credentials
        self.guard = guard
        self.code_provider = code_provider

    async def run(self, mark: int) -> None:
        """Sign in from the login page the tab shows (loaded since `mark`)."""
        await self.guard.prepare()
        username = self.credentials.username.strip()
        if not username or not self.credentials.password:
            raise MalformedCredentials("the username or password is empty")
        await self._ready(mark)
        page = self.tab.page
        try:
            if await page.locator(site.PASSWORD_FIELD).count() == 0:
                await self._username_first(username)
            for selector in (site.USERNAME_FIELD, site.PASSWORD_FIELD, site.SUBMIT_BUTTON):
                if await page.locator(selector).count() < 1:
                    raise PortalChanged(f"the login page has no {selector!r}", _LOGIN_FACTS)
            self._check_host()
            username_field = page.locator(site.USERNAME_FIELD).first
            if await username_field.is_editable():
                await username_field.fill(username)
            await page.locator(site.PASSWORD_FIELD).first.fill(self.credentials.password.reveal())
            if await page.locator(site.REMEMBER_CHECKBOX).count() == 1:
                await page.check(site.REMEMBER_CHECKBOX)
        except PlaywrightError:
            raise PortalChanged(
                "the login form's fields are not where they were", _LOGIN_FACTS
            ) from None
        mark = self.tab.mark()
        async with self.guard.attempt(SignInStep.PASSWORD) as attempt:
            post_status, step = await self.submit("login form")
            if step is Step.LOGIN:
                if post_status == 400:
                    error = await login_error(self.tab)
                    raise refusal(error, self.tab.broken_since(mark) is not None)
                raise PortalUnavailable(
                    "the login did not complete; the password is not submitted twice"
                )
            if step is Step.APP:
                attempt.signed_in()
            elif step is Step.CHANGE_PASSWORD:
                raise password_expired()
            elif step is Step.FOREIGN_LOGIN:
                raise foreign_login(self.tab.url)
            elif step not in (Step.MFA_EMAIL, Step.MFA_TOTP):
                raise PortalChanged("the login ended on an unexpected page", _LOGIN_FACTS)
        step = await self._second_step(step)
        if step is Step.CHANGE_PASSWORD:
            raise password_expired()
        if step is not Step.APP:
            raise PortalChanged("the login ended on an unexpected page", _LOGIN_FACTS)

    def _check_host(self) -> None:
        if self.hosts.step_of(self.tab.url) is not Step.LOGIN:
            raise foreign_login(self.tab.url)

    async def _ready(self, mark: int) -> None:
        """A login page whose scripts failed is loaded again before anything is typed."""
        if self.tab.broken_since(mark) is None:
            return
        url = self.tab.url

        async def reload(attempt: int) -> None:
            again = self.tab.mark()
            await self.tab.goto(url)
            broken = self.tab.broken_since(again)
            if broken is not None:
                raise broken

        await self.tab.until(reload, "the login page")

    async def _username_first(self, username: str) -> None:
        """A login that asks for the username alone first ("Continue", then the password)."""
        page = self.tab.page
        if await page.locator(site.USERNAME_FIELD).count() != 1:
            raise PortalChanged("the login page has no username field", _LOGIN_FACTS)
        self._check_host()
        await page.locator(site.USERNAME_FIELD).fill(username)
        _, step = await self.submit("username")
        if step is not Step.LOGIN:
            raise PortalChanged("the username step led elsewhere", _LOGIN_FACTS)

    async def _second_step(self, step: Step) -> Step:
        while step in (Step.MFA_EMAIL, Step.MFA_TOTP):
            channel = "email" if step is Step.MFA_EMAIL else "totp"
            for tried in range(MAX_CODE_ATTEMPTS):
                code = await self._code(channel, tried)
                if code is None:
                    raise MfaRequired(channel)
                try:
                    next_step = await self._submit_code(step, channel, code)
                except VerificationCodeRejected:
                    _log.info("invisalign.code_refused", channel=channel, attempt=tried + 1)
                    continue
                step = next_step
                break
            else:
                raise VerificationCodeRejected(channel)
        return step

    async def _submit_code(self, step: Step, channel: str, code: str) -> Step:
        """One verification code, through the guard: where the portal went next."""
        if self.hosts.step_of(self.tab.url) is not step:
            raise foreign_login(self.tab.url)
        async with self.guard.attempt(SignInStep.CODE) as attempt:
            try:
                await self.tab.page.fill(site.CODE_INPUT, code)
            except PlaywrightError:
                raise PortalChanged(
                    "the verification page has no code field", ("ids.login.code-field",)
                ) from None
            post_status, next_step = await self.submit("verification code")
            if next_step is step and post_status == 400:
                error = await login_error(self.tab)
                if error.code == site.INVALID_CODE:
                    raise VerificationCodeRejected(channel)
                raise refusal(error)
            if next_step is Step.APP:
                attempt.signed_in()
            return next_step

    async def _code(self, channel: str, attempt: int) -> str | None:
        secret = self.credentials.totp_secret
        if channel == "totp" and attempt == 0 and secret:
            try:
                return str(pyotp.TOTP(secret.reveal()).now())
            except (ValueError, TypeError):
                raise MalformedCredentials("the stored TOTP secret is not a valid secret") from None
        provided = await self.code_provider(channel)
        if provided is None:
            return None
        code = "".join(provided.reveal().split())
        return code or None

    async def submit(self, what: str) -> tuple[int | None, Step]:
        """Submit the page's form once and follow it: (status of the POST, where it ended).

        The POST is never repeated. A 5xx or 429 on the POST itself is reported as such; a 5xx
        on a GET the POST redirected to (callback, landing page) is retried as a page load.
        """
        page = self.tab.page
        try:
            async with page.expect_navigation(wait_until="load") as navigation:
                await page.locator(site.SUBMIT_BUTTON).first.click()
            response = await navigation.value
        except PlaywrightError:
            raise PortalUnavailable(f"the portal did not answer the {what}") from None
        if response is None:
            raise PortalChanged(f"the {what} did not navigate", _LOGIN_FACTS)
        first = response.request
        while first.redirected_from is not None:
            first = first.redirected_from
        posted = response if first is response.request else await first.response()
        post_status = posted.status if posted is not None else None
        if first.method != "POST" or posted is None or post_status is None:
            raise PortalChanged(f"the {what} was not sent as a form POST", _LOGIN_FACTS)
        answer = httpx.Response(post_status, headers=posted.headers)
        outcome, _ = classify(answer)
        if outcome is Outcome.RATE_LIMITED:
            retry_after = retry_after_seconds(answer)
            raise RateLimited(retry_after, f"the portal answered the {what} with 429; not resent")
        if outcome is Outcome.RETRY:
            raise PortalUnavailable(
                f"the portal answered the {what} with {post_status}; not resent"
            )
        if response is not posted and response.status >= 400:
            response = await self.tab.goto(response.url, tried=1)
        return post_status, self.hosts.step_of(page.url)
