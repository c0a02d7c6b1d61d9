"""The ClearCorrect Doctor Portal flow over httpx: sign in once, restore saved sessions, list
cases, read a case, comment, and decline a 3D setup. There is no approve.

Which portal it meets is found out at run time, and remembered in the saved session:

- the sign-in: the WebForms page `/Login.aspx` (the primary path), or, where the portal has no
  such page, the ASP.NET Core Identity form (register variant `aspnetcore-json`);
- the reader: after a WebForms sign-in, one `GET /api/account` asks whether the portal also
  answers the JSON API (a faster, optional path: `api.py`); where it does not, the pages are
  read (`pages.py`). The Identity app is read through its API.

Rules this module keeps (DESIGN section 5):

- One `open()` posts the password at most once and a verification code at most once
  (`signin.py`), always through the guard.
- Every request goes through `adapters.http.send`, which retries one request (a GET, a page, a
  postback that only navigates) under the shared policy.
- A session the portal ended gets one new login with the credentials held in memory and the
  step is run once more; ending again right after is `SessionExpired`. Concurrent requests
  that all see the end share one new login, and a failed new login is never tried again by the
  same session.
- A saved session is checked with one cheap request before it is trusted.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from http.cookiejar import Cookie
from typing import Any, Protocol

import httpx
import structlog

from adapters.base import (
    Access,
    AdapterError,
    CaseDetail,
    CasePage,
    CodeProvider,
    Credentials,
    Downloaded,
    FileRef,
    FileSink,
    FilesUnavailable,
    PortalUnavailable,
    PostResult,
    SessionExpired,
    SignInGuard,
)
from adapters.clearcorrect.api import ApiReader
from adapters.clearcorrect.pages import PagesReader
from adapters.clearcorrect.signin import SignInFlow, Site, session_cookie
from adapters.clearcorrect.site import app, webforms
from adapters.clearcorrect.status import STATUS_TABLE
from adapters.http import DEFAULT_POLICY, ConnectionPool, RetryPolicy, make_client, send
from vault import Secret

_log = structlog.get_logger("adapters.clearcorrect")

VENDOR = "clearcorrect"
#: New logins one session may make after the portal ended it, before it gives up.
MAX_RELOGINS = 10
STATE_VERSION = 2


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _state_cookie(site: Site, name: str) -> bool:
    """The cookies a saved session consists of (a half-finished sign-in's are not)."""
    if site is Site.WEBFORMS:
        return name in (webforms.AUTH_COOKIE, webforms.SESSION_STATE_COOKIE) or app.is_state_cookie(
            name
        )
    return app.is_state_cookie(name)


class Reader(Protocol):
    async def check_access(self) -> Access: ...

    def list_cases(self, cursor: str | None) -> AsyncIterator[CasePage]: ...

    async def get_case(self, vendor_case_id: str) -> CaseDetail: ...

    async def post_comment(self, vendor_case_id: str, body: str, marker: str) -> PostResult: ...

    async def reject_setup(
        self, vendor_case_id: str, vendor_setup_id: str, reason: str, marker: str
    ) -> PostResult: ...

    async def find_marker(self, vendor_case_id: str, marker: str) -> bool: ...


class ClearCorrectAdapter:
    """The ClearCorrect Doctor Portal at `base_url` (the real portal or the sandbox)."""

    vendor = VENDOR
    status_table = STATUS_TABLE
    #: Scans and photos of the Files grid (`list_files`, `download`): the WebForms pages only.
    offers_files = True

    def __init__(
        self,
        base_url: str,
        *,
        policy: RetryPolicy = DEFAULT_POLICY,
        transport: httpx.AsyncBaseTransport | None = None,
        connections: ConnectionPool | None = None,
        max_relogins: int = MAX_RELOGINS,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.policy = policy
        self.max_relogins = max_relogins
        self.clock = clock
        self._transport = transport
        self._connections = connections

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
        client = make_client(
            self.base_url, transport=self._transport, connections=self._connections
        )
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
        self.base_url = adapter.base_url
        self.generation = 0
        self._adapter = adapter
        self._client = client
        self._credentials = credentials
        self._flow = SignInFlow(self, credentials, code_provider, guard)
        self._requests = 0
        self._relogins = 0
        self._relogin_failed = False  # a failed new login ends the session for good
        self._login_lock = asyncio.Lock()
        self._site: Site | None = None
        self._uses_api = False
        self._reader: Reader = PagesReader(self, credentials.username)
        self._files_reader: PagesReader | None = None

    def __repr__(self) -> str:
        return f"ClearCorrectSession(username={self._credentials.username!r})"

    async def __aenter__(self) -> ClearCorrectSession:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the connection pool. No sign-out: the session stays valid for `export_state`."""
        await self._client.aclose()

    @property
    def uses_api(self) -> bool:
        """Whether this session reads through the JSON fast path (else the pages)."""
        return self._uses_api

    # ---- the channel (adapters.clearcorrect.channel.Channel) ----------------------------------

    def now(self) -> datetime:
        return self._adapter.clock()

    async def send(
        self, method: str, url: str, *, idempotent: bool | None = None, **kwargs: Any
    ) -> httpx.Response:
        self._requests += 1
        return await send(
            self._client, method, url, policy=self._adapter.policy, idempotent=idempotent, **kwargs
        )

    def cookie(self, name: str) -> str | None:
        found = None
        for cookie in self._client.cookies.jar:
            if cookie.name == name:
                found = cookie.value
        return found

    def forget_cookie(self, name: str) -> None:
        for cookie in list(self._client.cookies.jar):
            if cookie.name == name:
                self._client.cookies.jar.clear(cookie.domain, cookie.path, cookie.name)

    # ---- signing in ---------------------------------------------------------------------------

    async def _login(self) -> None:
        """One sign-in (at most one password post and one code post), then the reader."""
        try:
            site, second_factor = await self._flow.sign_in(self._site)
        except AdapterError as error:
            _log.info("clearcorrect.sign_in_failed", reason=error.reason)
            raise
        first = self._site is None
        self._site = site
        self.logins += 1
        self.generation += 1
        _log.info("clearcorrect.signed_in", second_factor=second_factor, logins=self.logins)
        if first:
            await self._choose_reader()

    async def _choose_reader(self) -> None:
        """The Identity app is read through its API; after a WebForms sign-in, one request
        asks whether the portal answers the API too (the optional fast path)."""
        api = ApiReader(self)
        if self._site is Site.IDENTITY or await api.probe(self._credentials.username):
            self._uses_api = True
            self._reader = api
        else:
            self._uses_api = False
            self._reader = PagesReader(self, self._credentials.username)
        _log.info("clearcorrect.reader", site=str(self._site), api=self._uses_api)

    async def relogin(self, seen_generation: int) -> None:
        async with self._login_lock:
            if self.generation != seen_generation:
                return  # a concurrent request already signed in again
            if self._relogin_failed:
                # Never a second try from the same session: with a password changed on the
                # portal, every further request would otherwise cost a failed attempt.
                raise SessionExpired("a new login failed earlier; open a new session")
            if self._relogins >= self._relogin_allowance():
                raise SessionExpired("the portal keeps ending this session; giving up for now")
            _log.info("clearcorrect.session_ended", action="sign in again")
            if self._site is not None:
                self.forget_cookie(session_cookie(self._site))
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
        """The session's cookies, site and reader as JSON inside a `Secret` (to keep encrypted)."""
        site = self._site or Site.WEBFORMS
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
            if _state_cookie(site, c.name) and c.value is not None
        ]
        state = {
            "v": STATE_VERSION,
            "username": self._credentials.username,
            "site": str(site),
            "api": self._uses_api,
            "cookies": cookies,
        }
        return Secret(json.dumps(state, separators=(",", ":")))

    def _saved(self, state: Secret) -> tuple[Site, bool, list[Cookie]] | None:
        try:
            data = json.loads(state.reveal())
            if not isinstance(data, dict) or data.get("v") != STATE_VERSION:
                raise ValueError("unknown state version")
            username = data.get("username")
            if not isinstance(username, str) or (
                username.casefold() != self._credentials.username.casefold()
            ):
                return None  # saved for another login
            site = Site(data["site"])
            uses_api = data["api"]
            if not isinstance(uses_api, bool):
                raise ValueError("api is not a flag")
            now = time.time()
            cookies = []
            for raw in data["cookies"]:
                name, value, domain, path = (raw[k] for k in ("name", "value", "domain", "path"))
                expires = raw.get("expires")
                if not all(isinstance(v, str) for v in (name, value, domain, path)):
                    raise ValueError("a cookie field is not text")
                if expires is not None and (not isinstance(expires, int) or expires <= now):
                    continue
                if _state_cookie(site, name):
                    secure = raw.get("secure") is True
                    cookies.append(_cookie(name, value, domain, path, expires, secure))
            return site, uses_api, cookies
        except (ValueError, TypeError, KeyError):
            _log.warning("clearcorrect.state_unreadable", action="sign in")
            return None

    async def _restore(self, state: Secret) -> bool:
        """Put the saved cookies back and ask the portal, once, whether they still work."""
        saved = self._saved(state)
        if saved is None:
            return False
        site, uses_api, cookies = saved
        if not any(c.name == session_cookie(site) for c in cookies):
            return False
        for cookie in cookies:
            self._client.cookies.jar.set_cookie(cookie)
        self._site = site
        username = self._credentials.username
        if uses_api:
            api = ApiReader(self)
            alive = await api.still_signed_in(username)
            reader: Reader = api
        else:
            pages = PagesReader(self, username)
            alive = await pages.still_signed_in()
            reader = pages
        if not alive:
            _log.info("clearcorrect.saved_session_ended", action="sign in")
            self._client.cookies.clear()
            self._site = None
            return False
        self._uses_api, self._reader = uses_api, reader
        _log.info("clearcorrect.session_restored", api=uses_api)
        return True

    # ---- reading and acting (adapters.base.PortalSession) -------------------------------------

    async def check_access(self) -> Access:
        return await self._reader.check_access()

    def list_cases(self, cursor: str | None) -> AsyncIterator[CasePage]:
        return self._reader.list_cases(cursor)

    async def get_case(self, vendor_case_id: str) -> CaseDetail:
        return await self._reader.get_case(vendor_case_id)

    async def post_comment(self, vendor_case_id: str, body: str, marker: str) -> PostResult:
        return await self._reader.post_comment(vendor_case_id, body, marker)

    async def reject_setup(
        self, vendor_case_id: str, vendor_setup_id: str, reason: str, marker: str
    ) -> PostResult:
        return await self._reader.reject_setup(vendor_case_id, vendor_setup_id, reason, marker)

    async def find_marker(self, vendor_case_id: str, marker: str) -> bool:
        return await self._reader.find_marker(vendor_case_id, marker)

    # ---- files (adapters.base.FileAccess) -----------------------------------------------------

    def _pages(self) -> PagesReader:
        """The files are read on the WebForms pages whichever reader lists cases: the JSON
        fast path shows no download links. The Identity app shows none at all."""
        if self._site is Site.IDENTITY:
            raise FilesUnavailable("this portal's pages link no files")
        if isinstance(self._reader, PagesReader):
            return self._reader
        if self._files_reader is None:
            self._files_reader = PagesReader(self, self._credentials.username)
        return self._files_reader

    async def list_files(self, vendor_case_id: str) -> tuple[FileRef, ...]:
        return await self._pages().list_files(vendor_case_id)

    async def download(self, file: FileRef, sink: FileSink) -> Downloaded:
        self._requests += 1
        return await self._pages().download(self._client, file, sink, self._adapter.policy)


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
        rest={"HttpOnly": ""} if name != app.XSRF_COOKIE else {},
    )
