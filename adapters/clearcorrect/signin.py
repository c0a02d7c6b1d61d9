"""Signing in: once per `open()` (and at most once again when the portal ends the session),
through the guard, on whichever sign-in the portal has.

The WebForms sign-in (`/Login.aspx`) is tried first; a portal without that page (HTTP 404) is
signed in on the ASP.NET Core Identity form instead (register variant `aspnetcore-json`). Both
send the password at most once and a verification code at most once, each inside
`guard.attempt(...)` covering the post and the reading of its answer. A lost answer surfaces as
`OutcomeUnknown` (`send()` resends a POST only after a connect error), never as a second post.
Credentials the portal's own rules refuse (not an e-mail address, a password outside 8 to 16
characters) are never sent.
"""

from __future__ import annotations

import binascii
from enum import StrEnum

import httpx
import pyotp

from adapters.base import (
    CodeProvider,
    Credentials,
    MalformedCredentials,
    MfaRequired,
    PortalChanged,
    SignInGuard,
    SignInStep,
    VerificationCodeRejected,
)
from adapters.clearcorrect.channel import Channel
from adapters.clearcorrect.site import app, webforms

#: The portal's documented password rule (`cc.signin.password-rule`).
PASSWORD_MIN = 8
PASSWORD_MAX = 16


class Site(StrEnum):
    """Which sign-in (and which cookies) the portal has."""

    WEBFORMS = "webforms"
    IDENTITY = "identity"


def password_acceptable(password: str) -> bool:
    return PASSWORD_MIN <= len(password) <= PASSWORD_MAX


def email_acceptable(email: str) -> bool:
    """The username is the account's e-mail address (`cc.signin.username-is-email`)."""
    name, _, domain = email.partition("@")
    return (
        bool(name) and "." in domain and "@" not in domain and not any(c.isspace() for c in email)
    )


def normalize_code(code: str) -> str | None:
    """The six digits a code form takes (people type spaces and dashes), or None."""
    digits = code.replace(" ", "").replace("-", "")
    return digits if len(digits) == 6 and digits.isascii() and digits.isdigit() else None


def session_cookie(site: Site) -> str:
    return webforms.AUTH_COOKIE if site is Site.WEBFORMS else app.SESSION_COOKIE


def _check(credentials: Credentials) -> None:
    if not email_acceptable(credentials.username):
        raise MalformedCredentials("the login is not an e-mail address; nothing was sent")
    if not password_acceptable(credentials.password.reveal()):
        raise MalformedCredentials(
            "the portal takes passwords of 8 to 16 characters and this one is not; nothing was sent"
        )


class SignInFlow:
    """One sign-in on one channel: the password post, then (when asked) one code post."""

    def __init__(
        self,
        channel: Channel,
        credentials: Credentials,
        code_provider: CodeProvider,
        guard: SignInGuard,
    ) -> None:
        self._channel = channel
        self._credentials = credentials
        self._code_provider = code_provider
        self._guard = guard

    async def sign_in(self, site: Site | None) -> tuple[Site, bool]:
        """Sign in on `site` (None: find out which the portal has). Returns the site and
        whether a second factor was asked for."""
        await self._guard.prepare()
        _check(self._credentials)
        if site is not Site.IDENTITY:
            page = await self._channel.send("GET", webforms.LOGIN_PATH)
            if page.status_code != 404 or site is Site.WEBFORMS:
                return Site.WEBFORMS, await self._webforms(page)
        return Site.IDENTITY, await self._identity()

    def _require_cookie(self, site: Site) -> None:
        if self._channel.cookie(session_cookie(site)) is None:
            raise PortalChanged(
                "the sign-in succeeded but set no session cookie",
                facts=("cc.wf.session.auth-cookie",) if site is Site.WEBFORMS else (),
            )

    # ---- WebForms --------------------------------------------------------------------------

    async def _webforms(self, page: httpx.Response) -> bool:
        login = webforms.parse_login_page(page, self._channel.base_url)
        credentials = self._credentials
        async with self._guard.attempt(SignInStep.PASSWORD) as attempt:
            response = await self._channel.send(
                "POST",
                login.form.action,
                data=login.fields(credentials.username, credentials.password.reveal()),
            )
            step = webforms.sign_in_outcome(response, self._channel.now())
            if step is webforms.SignIn.SIGNED_IN:
                self._require_cookie(Site.WEBFORMS)
                attempt.signed_in()
        if step is webforms.SignIn.SECOND_FACTOR:
            location = response.headers.get("location", "")
            code_page = await self._channel.send("GET", location or webforms.CODE_PATH)
            form = webforms.parse_code_page(code_page, self._channel.base_url)
            code = await self._code(form.channel)
            async with self._guard.attempt(SignInStep.CODE) as attempt:
                answer = await self._channel.send("POST", form.form.action, data=form.fields(code))
                webforms.code_outcome(answer, form.channel, self._channel.now())
                self._require_cookie(Site.WEBFORMS)
                attempt.signed_in()
            return True
        return False

    # ---- the Identity app (variant aspnetcore-json) ---------------------------------------------

    async def _identity(self) -> bool:
        channel = self._channel
        credentials = self._credentials
        params = {app.RETURN_PARAM: app.RETURN_URL}
        page = await channel.send("GET", app.LOGIN_PATH, params=params)
        form = app.parse_login_form(page)
        async with self._guard.attempt(SignInStep.PASSWORD) as attempt:
            response = await channel.send(
                "POST",
                form.action,
                data=form.fields(credentials.username, credentials.password.reveal()),
            )
            step = app.sign_in_outcome(response, channel.now())
            if step is app.SignIn.SIGNED_IN:
                self._require_cookie(Site.IDENTITY)
                attempt.signed_in()
        if step is not app.SignIn.SECOND_FACTOR:
            return False
        page = await channel.send("GET", app.TWO_FACTOR_PATH, params=params)
        code_form = app.parse_code_form(page)
        code = await self._code(code_form.channel)
        async with self._guard.attempt(SignInStep.CODE) as attempt:
            answer = await channel.send("POST", code_form.action, data=code_form.fields(code))
            app.code_outcome(answer, code_form.channel, channel.now())
            self._require_cookie(Site.IDENTITY)
            attempt.signed_in()
        return True

    async def _code(self, channel: str) -> str:
        """A code from the stored TOTP secret, else from the code provider (a person)."""
        secret = self._credentials.totp_secret
        if channel == "totp" and secret is not None:
            try:
                return str(pyotp.TOTP(secret.reveal()).now())
            except (binascii.Error, ValueError, TypeError):
                raise MalformedCredentials(
                    "the stored TOTP secret is not a base32 secret"
                ) from None
        given = await self._code_provider(channel)
        if given is None:
            raise MfaRequired(channel)
        code = normalize_code(given.reveal())
        if code is None:  # the portal would refuse it: do not spend a post on it
            raise VerificationCodeRejected(channel)
        return code
