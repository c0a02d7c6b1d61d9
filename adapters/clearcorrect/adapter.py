"""The ClearCorrect Doctor Portal flow over httpx: sign in once, restore saved sessions, list
cases incrementally, read a case, comment, and decline a 3D setup. There is no approve.

Rules this module keeps (DESIGN section 5):

- One `open()` posts the password at most once and a verification code at most once; a lost
  answer surfaces as `OutcomeUnknown`, never as a second post. `send()` resends a POST only
  after a connect error, when nothing left this machine.
- Every request goes through `adapters.http.send`, which retries one request (a GET, a page)
  under the shared policy. Nothing here loops around requests except the listing, page by page.
- A session the portal ended (401, or a redirect to the login page) gets one new login with the
  credentials held in memory and the request is sent once more; ending again right after is
  `SessionExpired`. Concurrent requests that all see the end share one new login.
- A saved session is checked with one cheap request before it is trusted, and a login happens
  only when the portal says the session is gone.
"""

from __future__ import annotations

import asyncio
import binascii
import json
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from http.cookiejar import Cookie
from typing import Any

import httpx
import pyotp
import structlog

from adapters.base import (
    Access,
    ActionRefused,
    AdapterError,
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
    SessionExpired,
    SignInGuard,
    SignInStep,
    VerificationCodeRejected,
    has_marker,
    with_marker,
)
from adapters.clearcorrect import cursor as cursors
from adapters.clearcorrect import site
from adapters.clearcorrect.cursor import Cursor
from adapters.clearcorrect.status import STATUS_TABLE
from adapters.http import DEFAULT_POLICY, RetryPolicy, make_client, send
from vault import Secret

_log = structlog.get_logger("adapters.clearcorrect")

VENDOR = "clearcorrect"
#: A listing whose case count keeps changing is restarted this many times, then given up.
MAX_LISTING_RESTARTS = 3
#: New logins one session may make after the portal ended it, before it gives up.
MAX_RELOGINS = 10
STATE_VERSION = 1


def _utc_now() -> datetime:
    return datetime.now(UTC)


class ClearCorrectAdapter:
    """The ClearCorrect Doctor Portal at `base_url` (the real portal or the sandbox)."""

    vendor = VENDOR
    status_table = STATUS_TABLE

    def __init__(
        self,
        base_url: str,
        *,
        policy: RetryPolicy = DEFAULT_POLICY,
        transport: httpx.AsyncBaseTransport | None = None,
        max_relogins: int = MAX_RELOGINS,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.policy = policy
        self.max_relogins = max_relogins
        self.clock = clock
        self._transport = transport

    def __repr__(self) -> str:
        return f"ClearCorrectAdapter({self.base_url!r})"

    async def open(
        self,
        credentials: Credentials,
        session_state: Secret | None,
        code_provider: CodeProvider,
        *,
        guard: SignInGuard,
    ) -> ClearCorrectSession:
        """Restore `session_state` if the portal still honours it; otherwise log in once."""
        client = make_client(self.base_url, transport=self._transport)
        session = ClearCorrectSession(self, client, credentials, code_provider, guard)
        try:
            if session_state is None or not await session._restore(session_state):
                await session._login()
        except BaseException:
            await client.aclose()
            raise
        return session


class ClearCorrectSession:
    """One account's session on the portal. Never shared between accounts."""

    def __init__(
        self,
        adapter: ClearCorrectAdapter,
        client: httpx.AsyncClient,
        credentials: Credentials,
        code_provider: CodeProvider,
        guard: SignInGuard,
    ) -> None:
        #: Logins this session made (0 when a saved session was restored and still valid).
        self.logins = 0
        self._adapter = adapter
        self._client = client
        self._credentials = credentials
        self._code_provider = code_provider
        self._guard = guard
        self._requests = 0
        self._generation = 0  # bumped by every login; tells concurrent requests one happened
        self._relogins = 0
        self._relogin_failed = False  # a failed new login ends the session for good
        self._login_lock = asyncio.Lock()
        self._account: site.Account | None = None  # read by the restore check, used once

    def __repr__(self) -> str:
        return f"ClearCorrectSession(username={self._credentials.username!r})"

    async def __aenter__(self) -> ClearCorrectSession:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the connection pool. No logout: the session stays valid for `export_state`."""
        await self._client.aclose()

    # ---- transport ----------------------------------------------------------------------------

    async def _send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        self._requests += 1
        return await send(self._client, method, url, policy=self._adapter.policy, **kwargs)

    def _cookie(self, name: str) -> str | None:
        found = None
        for cookie in self._client.cookies.jar:
            if cookie.name == name:
                found = cookie.value
        return found

    def _forget_cookie(self, name: str) -> None:
        for cookie in list(self._client.cookies.jar):
            if cookie.name == name:
                self._client.cookies.jar.clear(cookie.domain, cookie.path, cookie.name)

    @staticmethod
    def _json(response: httpx.Response, what: str) -> Any:
        if response.status_code not in (200, 201):
            raise PortalChanged(f"{what} answered HTTP {response.status_code}")
        return site.json_of(response, what)

    async def _api(
        self,
        method: str,
        url: str,
        what: str,
        *,
        params: dict[str, str] | None = None,
        body: dict[str, Any] | None = None,
    ) -> httpx.Response:
        """One API request in this session: one new login if the portal ended the session, one
        fresh anti-forgery token if it refused the token (both refusals happen before the
        portal acts, so sending again cannot double a post)."""
        write = method != "GET"
        relogged = refreshed = False
        while True:
            generation = self._generation
            headers = {site.TOKEN_HEADER: await self._request_token()} if write else None
            response = await self._send(method, url, params=params, json=body, headers=headers)
            if site.session_ended(response):
                if relogged:
                    raise SessionExpired(
                        f"the portal ended the session again right after a new login ({what})"
                    )
                relogged = True
                await self._relogin(generation)
                continue
            if site.password_expired(response):
                raise PasswordExpired("the portal says the password has expired")
            if write and not refreshed and site.antiforgery_refused(response):
                refreshed = True
                await self._refresh_token()
                continue
            return response

    async def _request_token(self) -> str:
        token = self._cookie(site.XSRF_COOKIE)
        if token is None:
            await self._refresh_token()
            token = self._cookie(site.XSRF_COOKIE)
        if token is None:
            raise PortalChanged(f"the account page set no {site.XSRF_COOKIE} cookie")
        return token

    async def _refresh_token(self) -> None:
        """`GET /api/account` refreshes the user-bound request token cookie."""
        self._forget_cookie(site.XSRF_COOKIE)
        response = await self._api("GET", site.ACCOUNT_API, "account")
        self._account = site.parse_account(self._json(response, "account"))

    # ---- signing in ---------------------------------------------------------------------------

    async def _login(self) -> None:
        """One sign-in: at most one password post, at most one code post."""
        try:
            second_factor = await self._sign_in()
        except AdapterError as error:
            _log.info("clearcorrect.sign_in_failed", reason=error.reason)
            raise
        self.logins += 1
        self._generation += 1
        _log.info("clearcorrect.signed_in", second_factor=second_factor, logins=self.logins)

    async def _sign_in(self) -> bool:
        credentials = self._credentials
        if not site.email_acceptable(credentials.username):
            raise MalformedCredentials("the login is not an e-mail address; nothing was sent")
        if not site.password_acceptable(credentials.password.reveal()):
            raise MalformedCredentials(
                "the portal takes passwords of 8 to 16 characters and this one is not; "
                "nothing was sent"
            )
        page = await self._send("GET", site.LOGIN_PATH, params={"ReturnUrl": site.RETURN_URL})
        form = site.parse_login_form(page)
        async with self._guard.attempt(SignInStep.PASSWORD) as attempt:
            response = await self._send(
                "POST",
                form.action,
                data=form.fields(credentials.username, credentials.password.reveal()),
            )
            step = site.sign_in_outcome(response, self._adapter.clock())
            if step is site.SignIn.SIGNED_IN:
                self._require_session_cookie()
                attempt.signed_in()
        if step is site.SignIn.SECOND_FACTOR:
            await self._second_factor()
        return step is site.SignIn.SECOND_FACTOR

    def _require_session_cookie(self) -> None:
        if self._cookie(site.SESSION_COOKIE) is None:
            raise PortalChanged("the sign-in succeeded but set no session cookie")

    async def _second_factor(self) -> None:
        page = await self._send("GET", site.TWO_FACTOR_PATH, params={"ReturnUrl": site.RETURN_URL})
        form = site.parse_code_form(page)
        code = await self._code(form.channel)
        async with self._guard.attempt(SignInStep.CODE) as attempt:
            response = await self._send("POST", form.action, data=form.fields(code))
            site.code_outcome(response, form.channel, self._adapter.clock())
            self._require_session_cookie()
            attempt.signed_in()

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
        code = site.normalize_code(given.reveal())
        if code is None:  # the portal would refuse it: do not spend a post on it
            raise VerificationCodeRejected(channel)
        return code

    async def _relogin(self, seen_generation: int) -> None:
        async with self._login_lock:
            if self._generation != seen_generation:
                return  # a concurrent request already signed in again
            if self._relogin_failed:
                # Never a second try from the same session: with a password changed on the
                # portal, every further request would otherwise cost a failed attempt.
                raise SessionExpired("a new login failed earlier; open a new session")
            if self._relogins >= self._relogin_allowance():
                raise SessionExpired("the portal keeps ending this session; giving up for now")
            _log.info("clearcorrect.session_ended", action="sign in again")
            self._forget_cookie(site.SESSION_COOKIE)
            try:
                await self._login()
                self._relogins += 1
            except PortalUnavailable:
                # No answer (or a 5xx/429): the guard has the attempt on record and decides
                # whether a later request may sign in again; the session itself is not spoilt.
                raise
            except BaseException:
                self._relogin_failed = True
                raise

    def _relogin_allowance(self) -> int:
        """New logins this session may make: `max_relogins`, plus one per 10 requests sent, so
        a long listing survives a portal that drops sessions now and then, while one that
        ends every session at once is given up on quickly. (Sign-ins whose answer was lost do
        not count here: the gate bounds those.)"""
        return self._adapter.max_relogins + self._requests // 10

    # ---- saved sessions -----------------------------------------------------------------------

    async def export_state(self) -> Secret:
        """The session's cookies as JSON inside a `Secret` (to be encrypted and kept)."""
        cookies = [
            {
                "name": c.name,
                "value": c.value,
                "domain": c.domain,
                "path": c.path,
                "expires": c.expires,
                "secure": c.secure,
            }
            for c in self._client.cookies.jar
            if site.is_state_cookie(c.name) and c.value is not None
        ]
        state = {"v": STATE_VERSION, "username": self._credentials.username, "cookies": cookies}
        return Secret(json.dumps(state, separators=(",", ":")))

    def _state_cookies(self, state: Secret) -> list[Cookie]:
        try:
            data = json.loads(state.reveal())
            if not isinstance(data, dict) or data.get("v") != STATE_VERSION:
                raise ValueError("unknown state version")
            username = data.get("username")
            if not isinstance(username, str) or (
                username.casefold() != self._credentials.username.casefold()
            ):
                return []  # saved for another login
            now = time.time()
            cookies = []
            for raw in data["cookies"]:
                name, value, domain, path = (raw[k] for k in ("name", "value", "domain", "path"))
                expires = raw.get("expires")
                if not all(isinstance(v, str) for v in (name, value, domain, path)):
                    raise ValueError("a cookie field is not text")
                if expires is not None and (not isinstance(expires, int) or expires <= now):
                    continue
                if site.is_state_cookie(name):
                    secure = raw.get("secure") is True
                    cookies.append(_cookie(name, value, domain, path, expires, secure))
            return cookies
        except (ValueError, TypeError, KeyError):
            _log.warning("clearcorrect.state_unreadable", action="sign in")
            return []

    async def _restore(self, state: Secret) -> bool:
        """Put the saved cookies back and ask the portal, once, whether they still work."""
        cookies = self._state_cookies(state)
        if not any(c.name == site.SESSION_COOKIE for c in cookies):
            return False
        for cookie in cookies:
            self._client.cookies.jar.set_cookie(cookie)
        response = await self._send("GET", site.ACCOUNT_API)
        if site.session_ended(response):
            _log.info("clearcorrect.saved_session_ended", action="sign in")
            self._client.cookies.clear()
            return False
        if site.password_expired(response):
            raise PasswordExpired("the portal says the password has expired")
        account = site.parse_account(self._json(response, "account"))
        if account.email.casefold() != self._credentials.username.casefold():
            self._client.cookies.clear()
            return False
        self._account = account
        _log.info("clearcorrect.session_restored")
        return True

    # ---- reading --------------------------------------------------------------------------------

    async def check_access(self) -> Access:
        """What this login may do, from `/api/account` (read fresh unless just read)."""
        account, self._account = self._account, None
        if account is None:
            response = await self._api("GET", site.ACCOUNT_API, "account")
            account = site.parse_account(self._json(response, "account"))
        return site.access_of(account)

    async def _case_page(self, position: Cursor) -> site.CaseListPage:
        params = site.case_list_params(position.page, position.since)
        response = await self._api("GET", site.CASES_API, "case list", params=params)
        listing = site.parse_case_list(self._json(response, "case list"))
        if listing.page != position.page:
            raise PortalChanged("case list: the portal answered another page than asked for")
        return listing

    def _restart(self, position: Cursor, why: str) -> Cursor:
        if position.restarts >= MAX_LISTING_RESTARTS:
            raise PortalUnavailable(
                "the case list kept changing while it was read; the listing will be tried again"
            )
        _log.info("clearcorrect.listing_restarted", why=why, restarts=position.restarts + 1)
        return position.restarted()

    async def list_cases(self, cursor: str | None) -> AsyncIterator[CasePage]:
        """Pages of the cases changed since `cursor` (None: all), newest first, 100 a page.

        The portal pages by offset, so the list can shift while it is read. A case updated
        meanwhile moves to page 1 (the next page repeats one: harmless, filtered here). A case
        unshared meanwhile shifts the rest up, so one would be skipped: a changed `totalCount`
        restarts the listing from page 1 (bounded), and a listing that ends having seen fewer
        distinct cases than `totalCount` first catches up on the cases updated since it began,
        then restarts. A listing that completes has seen every case.
        """
        position = cursors.decode(cursor)
        yielded: dict[str, CaseSummary] = {}  # what the caller already has, by case number
        seen: set[str] = set()  # distinct cases of the current pass, read by this generator
        carried = position.seen  # ...and those a resumed cursor says earlier pages had

        def fresh(items: tuple[CaseSummary, ...]) -> tuple[CaseSummary, ...]:
            new = []
            for item in items:
                seen.add(item.vendor_case_id)
                if yielded.get(item.vendor_case_id) != item:
                    yielded[item.vendor_case_id] = item
                    new.append(item)
            return tuple(new)

        while True:
            listing = await self._case_page(position)
            if position.total is not None and listing.total_count != position.total:
                position, seen, carried = self._restart(position, "count changed"), set(), 0
                continue
            last = position.page >= listing.total_pages
            if not listing.items and not last:
                position, seen, carried = self._restart(position, "empty page"), set(), 0
                continue
            if position.at_start and position.mark is None:
                # The watermark for the next incremental listing: the portal's own newest
                # `updatedAt` when this listing began (never the local clock).
                newest = max((i.updated_at for i in listing.items if i.updated_at), default=None)
                position = Cursor(position.since, 1, None, newest, 0, position.restarts)
            items = fresh(listing.items)
            if not last:
                count = carried + len(seen)
                position = position.next_page(listing.total_count, position.mark, count)
                yield CasePage(items, next_cursor=cursors.encode(position))
                continue
            if carried + len(seen) < listing.total_count and position.mark is not None:
                items += await self._catch_up(position.mark, fresh)
            if carried + len(seen) < listing.total_count:
                position, seen, carried = self._restart(position, "cases moved"), set(), 0
                if items:  # current data all the same; the caller may keep it
                    yield CasePage(items, next_cursor=cursors.encode(position))
                continue
            resume = cursors.encode(position.resume())
            yield CasePage(items, next_cursor=None, resume_cursor=resume)
            return

    async def _catch_up(
        self, mark: datetime, fresh: Callable[[tuple[CaseSummary, ...]], tuple[CaseSummary, ...]]
    ) -> tuple[CaseSummary, ...]:
        """The cases updated since the listing began: those that moved to page 1 under it."""
        found: tuple[CaseSummary, ...] = ()
        page = 1
        while True:
            listing = await self._case_page(Cursor(since=mark, page=page))
            found += fresh(listing.items)
            if page >= listing.total_pages or not listing.items:
                return found
            page += 1

    async def _case_json(self, vendor_case_id: str) -> Any:
        response = await self._api("GET", site.case_api(vendor_case_id), "case")
        if response.status_code == 404:
            raise NotFound("the case does not exist or is no longer shared with this login")
        return self._json(response, "case")

    async def _comments_json(self, vendor_case_id: str) -> Any:
        response = await self._api("GET", site.comments_api(vendor_case_id), "comments")
        if response.status_code == 404:
            raise NotFound("the case does not exist or is no longer shared with this login")
        return self._json(response, "comments")

    async def get_case(self, vendor_case_id: str) -> CaseDetail:
        """The case with its setups (and files) and its chat; reading never marks it read."""
        case = site.parse_case(await self._case_json(vendor_case_id), self._adapter.base_url)
        comments = site.parse_comments(await self._comments_json(vendor_case_id))
        return CaseDetail(case.summary, case.created_at, case.setups, comments)

    # ---- acting -------------------------------------------------------------------------------

    def _refused(self, response: httpx.Response, what: str) -> AdapterError:
        text = site.problem_text(response)
        if response.status_code == 404:
            return NotFound(f"{what}: {text}")
        if response.status_code in (400, 403, 409):
            return ActionRefused(f"the portal refused the {what}: {text}")
        return PortalChanged(f"the {what} answered HTTP {response.status_code}")

    async def post_comment(self, vendor_case_id: str, body: str, marker: str) -> PostResult:
        """Post `body` with the marker appended, once (a lost answer is `OutcomeUnknown`)."""
        text = with_marker(body, marker)
        if not body.strip():
            raise ActionRefused("an empty comment is not posted")
        if len(text) > site.MAX_COMMENT:
            raise ActionRefused(f"the portal takes comments of up to {site.MAX_COMMENT} characters")
        response = await self._api(
            "POST", site.comments_api(vendor_case_id), "comment", body={"body": text}
        )
        if response.status_code not in (200, 201):
            raise self._refused(response, "comment")
        return PostResult(self._posted_id(response, site.posted_comment_id, "comment"))

    async def reject_setup(
        self, vendor_case_id: str, vendor_setup_id: str, reason: str, marker: str
    ) -> PostResult:
        """Decline the 3D setup with `reason` (marker appended): the case goes back to Awaiting
        Setup until the technician shares a new version."""
        text = with_marker(reason, marker)
        if not reason.strip():
            raise ActionRefused("a setup is not declined without a reason")
        if len(text) > site.MAX_REASON:
            raise ActionRefused(f"the portal takes reasons of up to {site.MAX_REASON} characters")
        url = site.decline_api(vendor_case_id, vendor_setup_id)
        response = await self._api("POST", url, "setup decline", body={"reason": text})
        if response.status_code == 403:
            raise ActionRefused(
                "the portal refused to decline the setup: this login lacks Reject setups from "
                f"the case's doctor ({site.problem_text(response)})"
            )
        if response.status_code != 200:
            raise self._refused(response, "setup decline")
        return PostResult(self._posted_id(response, site.declined_setup_id, "setup decline"))

    @staticmethod
    def _posted_id(response: httpx.Response, parse: Callable[[Any], str], what: str) -> str | None:
        """The portal accepted the post: an answer we cannot read must not turn it into a
        failure (a retry would post twice), so the id is then simply unknown."""
        try:
            return parse(site.json_of(response, what))
        except PortalChanged:
            _log.warning("clearcorrect.posted_answer_unreadable", what=what)
            return None

    async def find_marker(self, vendor_case_id: str, marker: str) -> bool:
        """Whether a comment, or a setup's decline reason, on this case carries `marker`."""
        case = site.parse_case(await self._case_json(vendor_case_id), self._adapter.base_url)
        if any(has_marker(reason, marker) for reason in case.decline_reasons):
            return True
        comments = site.parse_comments(await self._comments_json(vendor_case_id))
        return any(has_marker(comment.body, marker) for comment in comments)


def _cookie(
    name: str, value: str, domain: str, path: str, expires: int | None, secure: bool
) -> Cookie:
    return Cookie(
        version=0,
        name=name,
        value=value,
        port=None,
        port_specified=False,
        domain=domain,
        domain_specified=False,
        domain_initial_dot=domain.startswith("."),
        path=path,
        path_specified=True,
        secure=secure,
        expires=expires,
        discard=expires is None,
        comment=None,
        comment_url=None,
        rest={"HttpOnly": ""} if name != site.XSRF_COOKIE else {},
    )
