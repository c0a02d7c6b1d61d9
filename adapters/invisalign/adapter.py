"""The Invisalign Doctor Site adapter: log in with a real browser, read and post through the JSON
API the site's own pages use.

Why both: the hosted login page answers a challenge in its page script, so only a browser can
log in; after that, every case listing and case detail is a JSON call the page script would make
anyway, sent with the browser's cookies (and the `X-CSRF-TOKEN` header the script copies from the
`CSRF-TOKEN` cookie) through `adapters.http.send`, the one retry policy. Measured on 1,000 cases
(`tests/adapters/invisalign/measure_dom_vs_json.py`, local sandbox): JSON takes 0 page loads,
1,011 requests and about 4 s for the listing and every case's detail; the DOM takes 1,050 page
loads, 2,101 requests and about 6 minutes. The JSON also carries fields the pages do not show
(doctor id, creation time), and it is what the pages themselves render, so it is no less robust.

Rules this module keeps:

- **One password per `open()`.** The password form is submitted at most once; whatever happens
  after (a 5xx, a 429, a timeout, a login page again) is reported, never "fixed" by submitting
  again. Page loads (GETs) are retried, bounded, on 5xx/429 and connection failures.
- **Saved login first.** "Keep me signed in" is ticked, so the `auth0` cookie in the exported
  state lets a later sync get a new app session without the password. A restored state is checked
  with one API call; only when the app session *and* the saved login are gone is the password
  used (`logins` counts those).
- **An expired session mid-sync is renewed once per request** (saved login, or one password
  login), and the request is sent once more; a second expiry is `SessionExpired`.
- **No approve.** There is no code path to the approve endpoint, and outbound actions are refused
  in the adapter too when the login could approve (a doctor's login or Treatment management).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
import pyotp
import structlog
from playwright.async_api import BrowserContext, Page
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Response as PageResponse

from adapters.base import (
    Access,
    ActionRefused,
    Capability,
    CaseDetail,
    CasePage,
    CaseSummary,
    CodeProvider,
    Credentials,
    MalformedCredentials,
    MfaRequired,
    NotFound,
    PasswordExpired,
    PortalChanged,
    PortalUnavailable,
    PostResult,
    RateLimited,
    SessionExpired,
    SignInGuard,
    SignInStep,
    StatusTable,
    VerificationCodeRejected,
    has_marker,
    utc,
    with_marker,
)
from adapters.browser import BrowserPool, StorageState
from adapters.http import DEFAULT_POLICY, Outcome, RetryPolicy, classify, make_client, send
from adapters.http.parse import expect_json
from adapters.http.policy import retry_after_seconds
from adapters.invisalign import site
from adapters.invisalign.site import Profile, Step
from adapters.invisalign.status import STATUS_TABLE, access_of
from vault import Secret

_log = structlog.get_logger("adapters.invisalign")

VENDOR = "invisalign"
#: Codes a person (or the TOTP secret) may try per second step before we give up.
MAX_CODE_ATTEMPTS = 3
#: Password logins one session may make in its life: the first, plus one after a full expiry.
MAX_PASSWORD_LOGINS = 2
#: Incremental listings re-read this much before the watermark, so an activity stamped a little
#: late (or at the boundary) is not missed. Re-reading a case is harmless: the engine upserts.
DEFAULT_OVERLAP = timedelta(seconds=60)
#: How often a full listing restarts when the list shifts under it before giving up.
MAX_LISTING_RESTARTS = 3


class InvisalignAdapter:
    """The Invisalign Doctor Site (vip.invisalign.com or a sandbox at `base_url`)."""

    vendor = VENDOR
    status_table: StatusTable = STATUS_TABLE

    def __init__(
        self,
        base_url: str,
        pool: BrowserPool,
        *,
        policy: RetryPolicy = DEFAULT_POLICY,
        page_size: int = site.MAX_PAGE_SIZE,
        overlap: timedelta = DEFAULT_OVERLAP,
        max_listing_restarts: int = MAX_LISTING_RESTARTS,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if not 1 <= page_size <= site.MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be from 1 to {site.MAX_PAGE_SIZE}")
        self.base_url = base_url.rstrip("/")
        self.pool = pool
        self.policy = policy
        self.page_size = page_size
        self.overlap = overlap
        self.max_listing_restarts = max_listing_restarts
        self._transport = transport

    def __repr__(self) -> str:
        return f"InvisalignAdapter({self.base_url!r})"

    def http_client(self) -> httpx.AsyncClient:
        return make_client(self.base_url, transport=self._transport)

    async def open(
        self,
        credentials: Credentials,
        session_state: Secret | None,
        code_provider: CodeProvider,
        *,
        guard: SignInGuard,
    ) -> InvisalignSession:
        """Restore `session_state` when it still works (one API call, no page load); else renew
        it through the saved login; else log in with the password, once."""
        session = InvisalignSession(
            self, credentials, code_provider, guard, _read_state(session_state)
        )
        try:
            await session._start()
        except BaseException:
            await session.close()
            raise
        return session


def _password_expired() -> PasswordExpired:
    return PasswordExpired("the portal asks for a new password before it lets this login in")


def _read_state(session_state: Secret | None) -> StorageState | None:
    if session_state is None:
        return None
    try:
        state = json.loads(session_state.reveal())
    except (ValueError, UnicodeDecodeError):
        state = None
    if not isinstance(state, dict) or not isinstance(state.get("cookies"), list):
        _log.warning("invisalign.session_state_unreadable")
        return None
    return state


# Listing cursor ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ListingCursor:
    """The opaque cursor, as compact JSON: `{"v": 1, "since": ISO | null}` between syncs (the
    watermark: the newest `lastActivity` the listing saw), plus `page`, `top` and `total` inside
    a listing (`next_cursor`: resume at that page of the same pass)."""

    since: datetime | None = None
    page: int = 1
    top: datetime | None = None
    total: int | None = None

    def encode(self) -> str:
        data: dict[str, Any] = {"v": 1, "since": _iso(self.since)}
        if self.page > 1:
            data |= {"page": self.page, "top": _iso(self.top), "total": self.total}
        return json.dumps(data, separators=(",", ":"))

    @classmethod
    def decode(cls, cursor: str | None) -> ListingCursor:
        """A cursor this adapter wrote; anything else reads as "list everything" (a full
        listing is always correct, only slower)."""
        if cursor is None:
            return cls()
        try:
            data = json.loads(cursor)
            if not isinstance(data, dict) or data.get("v") != 1:
                raise ValueError("unknown cursor version")
            page = data.get("page", 1)
            total = data.get("total")
            if not isinstance(page, int) or page < 1:
                raise ValueError("bad page")
            if total is not None and (not isinstance(total, int) or total < 0):
                raise ValueError("bad total")
            return cls(utc(data.get("since")), page, utc(data.get("top")), total)
        except (ValueError, TypeError, AttributeError):
            _log.warning("invisalign.cursor_unreadable")
            return cls()


def _iso(moment: datetime | None) -> str | None:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


class _Shifted(Exception):
    """The patient list changed under a listing (total count or page sizes): start over."""


# The session ------------------------------------------------------------------------------------


class InvisalignSession:
    """One account's session. Holds the browser context only when one is needed (login or
    renewal), so a restored, valid state costs no browser at all."""

    def __init__(
        self,
        adapter: InvisalignAdapter,
        credentials: Credentials,
        code_provider: CodeProvider,
        guard: SignInGuard,
        state: StorageState | None,
    ) -> None:
        self.logins = 0
        self._adapter = adapter
        self._credentials = credentials
        self._code_provider = code_provider
        self._guard = guard
        self._state = state
        self._stack = AsyncExitStack()
        self._context: BrowserContext | None = None
        self._page: Page | None = None
        self._http = adapter.http_client()
        self._csrf = ""
        self._profile: Profile | None = None
        self._closed = False
        # Concurrent requests that all see an expired session renew it once, not once each.
        self._renewing = asyncio.Lock()
        self._generation = 0

    def __repr__(self) -> str:
        return f"InvisalignSession({self._adapter.base_url!r}, logins={self.logins})"

    # Opening ----------------------------------------------------------------------------------

    async def _start(self) -> None:
        if self._state is not None:
            self._use_cookies(self._state.get("cookies", []))
            if self._csrf and await self._state_is_live():
                _log.info("invisalign.session_restored")
                return
        await self._renew("open")

    async def _state_is_live(self) -> bool:
        """The one cheap request that checks a restored state (its answer is kept for
        `check_access`)."""
        response = await send(
            self._http,
            "GET",
            site.PROFILE_API,
            policy=self._adapter.policy,
            headers=self._headers(),
        )
        if self._expired(response):
            return False
        profile = self._parse_profile(response)
        if profile.user_name.casefold() != self._credentials.username.strip().casefold():
            # A state saved for other credentials (the dentist changed the login): never use
            # another login's session; start from a clean browser instead.
            _log.warning("invisalign.session_state_of_another_login")
            self._state = None
            self._use_cookies([])
            return False
        self._profile = profile
        return True

    async def _ensure_page(self) -> Page:
        if self._page is not None:
            return self._page
        if self._closed:
            raise SessionExpired("the session is closed")
        context = await self._stack.enter_async_context(self._adapter.pool.context(self._state))
        self._context = context
        self._page = await context.new_page()
        return self._page

    async def browser_page(self) -> Page:
        """The session's browser tab (logged in): for the DOM reader and diagnostics."""
        page = await self._ensure_page()
        if site.step_of(page.url) is not Step.APP:
            async with self._renewing:
                await self._renew("browser page")
        return page

    async def _renew(self, why: str) -> None:
        """Get a live app session: the saved login if it still works, else the password."""
        page = await self._ensure_page()
        started = time.monotonic()
        response = await self._goto(site.ENTRY_PAGE)
        step = site.step_of(page.url)
        via = "saved_login"
        if step is Step.LOGIN:
            via = "password"
            await self._password_login()
        elif step is not Step.APP or response.status != 200:
            raise PortalChanged(f"opening the site ended on an unexpected page ({response.status})")
        await self._take_browser_cookies()
        self._generation += 1
        _log.info(
            "invisalign.session_renewed",
            why=why,
            via=via,
            seconds=round(time.monotonic() - started, 3),
        )

    async def _password_login(self) -> None:
        if self.logins >= MAX_PASSWORD_LOGINS:
            raise SessionExpired("the session ended again; not logging in with the password again")
        username = self._credentials.username.strip()
        if not username or not self._credentials.password:
            raise MalformedCredentials("the username or password is empty")
        page = await self._ensure_page()
        try:
            for selector in (
                site.LOGIN_FORM,
                site.USERNAME_INPUT,
                site.PASSWORD_INPUT,
                site.REMEMBER_CHECKBOX,
                site.SUBMIT_BUTTON,
            ):
                if await page.locator(selector).count() != 1:
                    raise PortalChanged(f"the login page has no {selector!r}")
            await page.fill(site.USERNAME_INPUT, username)
            await page.fill(site.PASSWORD_INPUT, self._credentials.password.reveal())
            await page.check(site.REMEMBER_CHECKBOX)
        except PlaywrightError:
            raise PortalChanged("the login form's fields are not where they were") from None
        self.logins += 1  # the password leaves now: it counts whatever the answer
        async with self._guard.attempt(SignInStep.PASSWORD) as attempt:
            post_status, step = await self._submit("login form")
            if step is Step.LOGIN:
                if post_status == 400:
                    raise site.refusal(await site.login_error(page))
                raise PortalUnavailable(
                    "the login did not complete; the password is not submitted twice"
                )
            if step is Step.APP:
                attempt.signed_in()
            elif step is Step.CHANGE_PASSWORD:
                raise _password_expired()
            elif step not in (Step.MFA_EMAIL, Step.MFA_TOTP):
                raise PortalChanged("the login ended on an unexpected page")
        step = await self._second_step(step)
        if step is Step.CHANGE_PASSWORD:
            raise _password_expired()
        if step is not Step.APP:
            raise PortalChanged("the login ended on an unexpected page")

    async def _second_step(self, step: Step) -> Step:
        while step in (Step.MFA_EMAIL, Step.MFA_TOTP):
            channel = "email" if step is Step.MFA_EMAIL else "totp"
            page = await self._ensure_page()
            for tried in range(MAX_CODE_ATTEMPTS):
                code = await self._code(channel, tried)
                if code is None:
                    raise MfaRequired(channel)
                try:
                    next_step = await self._submit_code(page, step, channel, code)
                except VerificationCodeRejected:
                    _log.info("invisalign.code_refused", channel=channel, attempt=tried + 1)
                    continue
                step = next_step
                break
            else:
                raise VerificationCodeRejected(channel)
        return step

    async def _submit_code(self, page: Page, step: Step, channel: str, code: str) -> Step:
        """One verification code, through the guard: where the portal went next."""
        async with self._guard.attempt(SignInStep.CODE) as attempt:
            try:
                await page.fill(site.CODE_INPUT, code)
            except PlaywrightError:
                raise PortalChanged("the verification page has no code field") from None
            post_status, next_step = await self._submit("verification code")
            if next_step is step and post_status == 400:
                error = await site.login_error(page)
                if error.code == site.INVALID_CODE:
                    raise VerificationCodeRejected(channel)
                raise site.refusal(error)
            if next_step is Step.APP:
                attempt.signed_in()
            return next_step

    async def _code(self, channel: str, attempt: int) -> str | None:
        secret = self._credentials.totp_secret
        if channel == "totp" and attempt == 0 and secret:
            try:
                return str(pyotp.TOTP(secret.reveal()).now())
            except (ValueError, TypeError):
                raise MalformedCredentials("the stored TOTP secret is not a valid secret") from None
        provided = await self._code_provider(channel)
        if provided is None:
            return None
        code = "".join(provided.reveal().split())
        return code or None

    async def _submit(self, what: str) -> tuple[int | None, Step]:
        """Submit the page's form once and follow it: (status of the POST, where it ended).

        The POST is never repeated. A 5xx or 429 on the POST itself is reported as such; a 5xx
        on a GET the POST redirected to (callback, landing page) is retried as a page load.
        """
        page = await self._ensure_page()
        try:
            async with page.expect_navigation(wait_until="load") as navigation:
                await page.click(site.SUBMIT_BUTTON)
            response = await navigation.value
        except PlaywrightError:
            raise PortalUnavailable(f"the portal did not answer the {what}") from None
        if response is None:
            raise PortalChanged(f"the {what} did not navigate")
        first = response.request
        while first.redirected_from is not None:
            first = first.redirected_from
        posted = response if first is response.request else await first.response()
        post_status = posted.status if posted is not None else None
        if first.method != "POST" or posted is None or post_status is None:
            raise PortalChanged(f"the {what} was not sent as a form POST")
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
            response = await self._goto(response.url, absolute=True, tried=1)
        return post_status, site.step_of(page.url)

    async def _goto(self, path: str, *, absolute: bool = False, tried: int = 0) -> PageResponse:
        """A page load under the retry policy: 5xx, 429 (Retry-After, capped) and connection
        failures are retried with backoff, bounded in attempts and time. A failure in the middle
        of a redirect chain is retried from the URL that failed, so each hop gets its attempts.
        `tried`: attempts this URL already had (a form's redirect that failed)."""
        page = await self._ensure_page()
        policy = self._adapter.policy
        url = path if absolute else f"{self._adapter.base_url}{path}"
        started = time.monotonic()
        attempts = total_attempts = tried
        if tried:
            await asyncio.sleep(policy.backoff(tried))
        last_retry_after: float | None = None
        reason = "no answer"
        while True:
            attempts += 1
            total_attempts += 1
            failed_at = url
            try:
                response = await page.goto(url, wait_until="load")
            except PlaywrightError:
                response, reason, last_retry_after = None, "the page did not load", None
            if response is not None:
                headers = response.headers
                outcome, reason = classify(httpx.Response(response.status, headers=headers))
                if outcome not in (Outcome.RETRY, Outcome.RATE_LIMITED):
                    return response
                last_retry_after = (
                    retry_after_seconds(httpx.Response(429, headers=headers))
                    if outcome is Outcome.RATE_LIMITED
                    else None
                )
                failed_at = response.url
            if failed_at != url:
                url, attempts = failed_at, 1  # progress along the redirect chain
            delay = (
                min(last_retry_after, policy.retry_after_cap)
                if last_retry_after is not None
                else policy.backoff(attempts)
            )
            elapsed = time.monotonic() - started
            if (
                attempts >= policy.max_attempts
                or total_attempts >= policy.max_attempts * 4
                or elapsed + delay > policy.max_total_seconds
            ):
                break
            _log.info("invisalign.page_retry", attempt=attempts, reason=reason)
            await asyncio.sleep(delay)
        if last_retry_after is not None or reason == "rate limited":
            raise RateLimited(last_retry_after)
        raise PortalUnavailable(f"a page of the portal did not load after retries ({reason})")

    # Cookies and API calls --------------------------------------------------------------------

    async def _take_browser_cookies(self) -> None:
        assert self._context is not None
        cookies = await self._context.cookies([self._adapter.base_url])
        self._use_cookies(list(cookies))
        names = {c.get("name") for c in cookies}
        if site.SESSION_COOKIE not in names or not self._csrf:
            raise PortalChanged("the session cookies are not where they were after the login")

    def _use_cookies(self, cookies: list[Any]) -> None:
        jar = httpx.Cookies()
        csrf = ""
        for cookie in cookies:
            if not isinstance(cookie, dict):
                continue
            name, value = cookie.get("name"), cookie.get("value")
            if not isinstance(name, str) or not isinstance(value, str):
                continue
            jar.set(name, value, domain=str(cookie.get("domain", "")), path=cookie.get("path", "/"))
            if name == site.CSRF_COOKIE:
                csrf = value
        self._http.cookies = jar
        self._csrf = csrf

    def _headers(self) -> dict[str, str]:
        return {"Accept": "application/json", site.CSRF_HEADER: self._csrf}

    @staticmethod
    def _expired(response: httpx.Response) -> bool:
        if response.status_code == 401 or site.is_login_redirect(response):
            return True
        return response.status_code == 403 and site.api_error(response).code == site.INVALID_CSRF

    async def _call(
        self, method: str, path: str, what: str, body: dict[str, str] | None = None
    ) -> httpx.Response:
        """One API request; an expired session is renewed once and the request sent once more.

        Resending a POST after a 401 is safe: the portal refuses an unauthenticated request
        before it acts on it. Anything else that leaves a POST's fate open raises
        `OutcomeUnknown` from `send()`, and the caller checks for its marker.
        """
        for attempt in (1, 2):
            generation = self._generation
            kwargs: dict[str, Any] = {"headers": self._headers()}
            if body is not None:
                kwargs["json"] = body
            response = await send(self._http, method, path, policy=self._adapter.policy, **kwargs)
            if not self._expired(response):
                return response
            await response.aclose()
            if attempt == 2:
                raise SessionExpired(f"the portal ended the session again right away ({what})")
            _log.info("invisalign.session_expired", what=what)
            async with self._renewing:
                if self._generation == generation:  # nobody renewed it meanwhile
                    await self._renew(what)
        raise AssertionError("unreachable")

    def _json(self, response: httpx.Response, what: str) -> Any:
        return expect_json(response, what, is_login_page=site.is_login_redirect)

    def _parse_profile(self, response: httpx.Response) -> Profile:
        if response.status_code != 200:
            raise PortalChanged(f"the user profile answered {response.status_code}")
        return site.parse_profile(self._json(response, "user profile"))

    def _refused(self, response: httpx.Response, what: str) -> Exception:
        error = site.api_error(response)
        if response.status_code == 404:
            return NotFound(f"{what}: {error.message or 'not found'}")
        if response.status_code in (400, 403, 409):
            return ActionRefused(f"{what}: {error.message or error.code}")
        return PortalChanged(f"{what} answered {response.status_code}")

    # The protocol -----------------------------------------------------------------------------

    async def export_state(self) -> Secret:
        state: dict[str, Any]
        if self._context is not None:
            state = dict(await self._context.storage_state())
        else:
            state = self._state or {"cookies": [], "origins": []}
        return Secret(json.dumps(state, separators=(",", ":")))

    async def check_access(self) -> Access:
        if self._profile is None:
            response = await self._call("GET", site.PROFILE_API, "user profile")
            self._profile = self._parse_profile(response)
        return access_of(self._profile.account_type, self._profile.roles)

    async def list_cases(self, cursor: str | None) -> AsyncIterator[CasePage]:
        """Pages of case summaries, newest activity first.

        Full listing (no watermark): every page, then one look at the head of the list for
        cases whose activity moved them to the front while we paged. Incremental (a watermark):
        pages until the cases are older than the watermark minus the overlap. Either restarts
        (bounded) when the total count or a page's size shows the list shifted under it, and
        yields a patient again only with newer activity than it already yielded.
        """
        start = ListingCursor.decode(cursor)
        state = start
        seen: dict[str, datetime | None] = {}
        restarts = 0
        while True:
            try:
                async for page in self._listing_pass(state, seen):
                    yield page
                return
            except _Shifted:
                restarts += 1
                if restarts > self._adapter.max_listing_restarts:
                    raise PortalUnavailable(
                        "the patient list kept changing while it was read; try again later"
                    ) from None
                _log.info("invisalign.listing_restarted", restarts=restarts)
                state = ListingCursor(since=start.since)

    async def _listing_pass(
        self, state: ListingCursor, seen: dict[str, datetime | None]
    ) -> AsyncIterator[CasePage]:
        size = self._adapter.page_size
        floor = state.since - self._adapter.overlap if state.since else None
        number, total, top = state.page, state.total, state.top
        while True:
            page = await self._patients_page(number)
            if total is None:
                total = page.total_count
            expected = max(0, min(size, total - (number - 1) * size))
            if page.total_count != total or len(page.items) != expected:
                raise _Shifted
            if top is None and page.items:
                top = page.items[0].updated_at
            kept = [i for i in page.items if floor is None or _at(i) >= floor]
            reached_old = len(kept) < len(page.items)
            items = _fresh(kept, seen)
            if not (reached_old or number >= page.total_pages):
                next_cursor = ListingCursor(state.since, number + 1, top, total)
                yield CasePage(tuple(items), next_cursor.encode())
                number += 1
                continue
            if state.since is None and top is not None:
                items += await self._catch_up(top, seen)
            moments = [m for m in (*seen.values(), top, state.since) if m is not None]
            watermark = ListingCursor(since=max(moments, default=None))
            yield CasePage(tuple(items), None, watermark.encode())
            return

    async def _catch_up(self, top: datetime, seen: dict[str, datetime | None]) -> list[CaseSummary]:
        """Cases whose activity moved them to the front of the list while a full listing paged
        (their last activity is at or after the newest one of the first page)."""
        found: list[CaseSummary] = []
        number = 1
        while True:
            page = await self._patients_page(number)
            newer = [i for i in page.items if _at(i) >= top]
            found += _fresh(newer, seen)
            if len(newer) < len(page.items) or number >= page.total_pages:
                return found
            number += 1

    async def _patients_page(self, number: int) -> site.PatientPage:
        path = f"{site.PATIENTS_API}?page={number}&pageSize={self._adapter.page_size}&filter=ALL"
        response = await self._call("GET", path, "patient list")
        if response.status_code != 200:
            raise self._refused(response, "patient list")
        return site.parse_patient_page(self._json(response, "patient list"))

    async def get_case(self, vendor_case_id: str) -> CaseDetail:
        if not site.valid_patient_id(vendor_case_id):
            raise NotFound("not a patient number of this portal")
        response = await self._call("GET", site.patient_api(vendor_case_id), "patient detail")
        if response.status_code != 200:
            raise self._refused(response, "patient detail")
        return site.parse_detail(self._json(response, "patient detail"), self._adapter.base_url)

    async def post_comment(self, vendor_case_id: str, body: str, marker: str) -> PostResult:
        await self._require(Capability.POST_COMMENT, vendor_case_id)
        text = with_marker(body, marker)
        response = await self._call(
            "POST", site.comments_api(vendor_case_id), "comment", {"body": text}
        )
        if response.status_code not in (200, 201):
            raise self._refused(response, "comment")
        return PostResult(site.parse_posted(self._json(response, "comment"), "posted comment"))

    async def reject_setup(
        self, vendor_case_id: str, vendor_setup_id: str, reason: str, marker: str
    ) -> PostResult:
        """Request a modification of the ClinCheck plan (the case goes to "Modification
        requested"). Only the current plan in "Ready for review" can be sent back (409 else)."""
        await self._require(Capability.REJECT_SETUP, vendor_case_id)
        text = with_marker(reason, marker)
        path = site.modification_api(vendor_case_id, vendor_setup_id)
        response = await self._call("POST", path, "modification request", {"instructions": text})
        if response.status_code not in (200, 201):
            raise self._refused(response, "modification request")
        data = self._json(response, "modification request")
        return PostResult(site.parse_posted(data, "posted modification request"))

    async def find_marker(self, vendor_case_id: str, marker: str) -> bool:
        """Whether a comment or modification request on the case carries `marker` (both are in
        the case's comment thread)."""
        detail = await self.get_case(vendor_case_id)
        return any(has_marker(c.body, marker) for c in detail.comments)

    async def _require(self, capability: Capability, vendor_case_id: str) -> None:
        if not site.valid_patient_id(vendor_case_id):
            raise NotFound("not a patient number of this portal")
        access = await self.check_access()
        if access.excessive is not None:
            raise ActionRefused(f"outbound actions are refused for this login: {access.excessive}")
        if capability not in access.capabilities:
            raise ActionRefused(
                f"this login lacks the right to {capability.value.replace('_', ' ')}"
            )

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            await self._http.aclose()
        finally:
            self._page = None
            self._context = None
            await self._stack.aclose()


def _at(item: CaseSummary) -> datetime:
    if item.updated_at is None:  # the parser requires lastActivity; this is for the type checker
        raise PortalChanged("a patient has no last-activity time")
    return item.updated_at


def _fresh(items: list[CaseSummary], seen: dict[str, datetime | None]) -> list[CaseSummary]:
    """Items not yielded yet in this listing, or yielded with older activity."""
    fresh = []
    for item in items:
        key = item.vendor_case_id
        if key in seen and (seen[key] is None or _at(item) <= seen[key]):  # type: ignore[operator]
            continue
        seen[key] = item.updated_at
        fresh.append(item)
    return fresh
