"""The Invisalign Doctor Site adapter: sign in through the hosted login with a real browser, read
the pages a person sees, and use the JSON those pages might load only when it answers.

Two paths to the same data:

- **The primary path reads the pages** (`reader`, `pages`): the patient list's cards in their
  open shadow root (or the classic table), the Action required filter and its markers, the
  patient file at its confirmed URL. These stand on facts public code written against the real
  site confirms. What the sync needs beyond them (a card's last activity, plans, comments,
  roles) is read by assumed readers flagged unverified (`site.UNVERIFIED`).
- **The fast path reads JSON** (`fastpath`) from `/v3/api/...`: an API no public source shows,
  so it is *detected at run time* (one profile request after the sign-in or the restore) and used
  only while it answers as expected; on a 404, HTML, or JSON of another shape the session drops
  it and reads the pages. `fast_path=False` never tries it.

Rules this module keeps:

- **One password per `open()`** and at most one more after a full expiry (`signin`); a password
  is typed only on an allowed login host.
- **Saved session first.** A restored state is checked with one request and no browser (the
  profile JSON, or the confirmed entry page's redirect); only when the app session is gone is the
  browser used, and the password only when the saved login ("Keep me signed in", assumed) is
  gone too (`logins` counts them).
- **An expired session mid-sync is renewed once per request**, and the request is sent once more;
  a second expiry is `SessionExpired`.
- **A fault is not a portal change**: a page whose own requests failed, a timeout or a login page
  whose script did not load is `PortalUnavailable` after bounded retries (`browsing`).
- **No approve.** There is no code path to approving, and outbound actions are refused in the
  adapter too when the login could approve (a doctor's login or Treatment management) or holds
  a role the adapter does not know.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx
import structlog
from playwright.async_api import BrowserContext

from adapters.base import (
    Access,
    ActionRefused,
    Capability,
    CaseDetail,
    CasePage,
    CaseStatus,
    CaseSummary,
    CodeProvider,
    Credentials,
    Downloaded,
    FileKind,
    FileRef,
    FileSink,
    NotFound,
    OutcomeUnknown,
    PortalChanged,
    PortalUnavailable,
    PostResult,
    SessionExpired,
    SignInGuard,
    StatusTable,
    has_marker,
    utc,
    with_marker,
)
from adapters.browser import BrowserPool, StorageState
from adapters.http import (
    DEFAULT_POLICY,
    ConnectionPool,
    RetryPolicy,
    fetch_to_sink,
    make_client,
    send,
)
from adapters.http.parse import expect_json
from adapters.invisalign import fastpath, site
from adapters.invisalign.browsing import Tab
from adapters.invisalign.fastpath import Profile
from adapters.invisalign.pages import Row
from adapters.invisalign.reader import DomReader, SignedOut
from adapters.invisalign.signin import Hosts, SignIn, Step, allowed_login_hosts, foreign_login
from adapters.invisalign.status import STATUS_TABLE, access_of, case_status
from vault import Secret

_log = structlog.get_logger("adapters.invisalign")

VENDOR = "invisalign"
#: Password logins one session may make in its life: the first, plus one after a full expiry.
MAX_PASSWORD_LOGINS = 2
#: Incremental listings re-read this much before the watermark, so an activity stamped a little
#: late (or at the boundary) is not missed. Re-reading a case is harmless: the engine upserts.
DEFAULT_OVERLAP = timedelta(seconds=60)
#: How often a full listing restarts when the list shifts under it before giving up.
MAX_LISTING_RESTARTS = 3
#: How long a page may take to render, and how long a list that rendered something unknown is
#: given to show known cards before it counts as changed.
RENDER_TIMEOUT = 30.0
SETTLE_TIMEOUT = 5.0

T = TypeVar("T")


class InvisalignAdapter:
    """The Invisalign Doctor Site (vip.invisalign.com, or a sandbox at `base_url`)."""

    vendor = VENDOR
    status_table: StatusTable = STATUS_TABLE
    #: ClinCheck plan files (`list_files`, `download`), with the session's cookies.
    offers_files = True

    def __init__(
        self,
        base_url: str,
        pool: BrowserPool,
        *,
        policy: RetryPolicy = DEFAULT_POLICY,
        page_size: int = site.API_MAX_PAGE_SIZE,
        overlap: timedelta = DEFAULT_OVERLAP,
        max_listing_restarts: int = MAX_LISTING_RESTARTS,
        transport: httpx.AsyncBaseTransport | None = None,
        connections: ConnectionPool | None = None,
        login_hosts: tuple[str, ...] = (),
        fast_path: bool = True,
        render_timeout: float = RENDER_TIMEOUT,
        settle_timeout: float = SETTLE_TIMEOUT,
    ) -> None:
        """`login_hosts`: further hosts the sign-in page may be on (the vendor's and, for a
        loopback sandbox, its login host are always allowed). `fast_path`: try the JSON."""
        if not 1 <= page_size <= site.API_MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be from 1 to {site.API_MAX_PAGE_SIZE}")
        self.base_url = base_url.rstrip("/")
        self.pool = pool
        self.policy = policy
        self.page_size = page_size
        self.overlap = overlap
        self.max_listing_restarts = max_listing_restarts
        self.fast_path = fast_path
        self.render_timeout = render_timeout
        self.settle_timeout = settle_timeout
        self.hosts = Hosts(
            (urlsplit(self.base_url).hostname or "").lower(),
            allowed_login_hosts(self.base_url, login_hosts),
        )
        self._transport = transport
        self._connections = connections

    def __repr__(self) -> str:
        return f"InvisalignAdapter({self.base_url!r})"

    def http_client(self) -> httpx.AsyncClient:
        return make_client(self.base_url, transport=self._transport, connections=self._connections)

    async def open(
        self,
        credentials: Credentials,
        session_state: Secret | None,
        code_provider: CodeProvider,
        *,
        guard: SignInGuard,
    ) -> InvisalignSession:
        """Restore `session_state` when it still works (one request, no browser); else renew it
        through the saved login; else sign in with the password, once."""
        session = InvisalignSession(
            self, credentials, code_provider, guard, _read_state(session_state)
        )
        try:
            await session._start()
        except BaseException:
            await session.close()
            raise
        return session


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
    watermark: the newest last activity the listing saw), plus `page`, `top` and `total` inside
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


class _Expired(Exception):
    """A download was answered with the sign-in (the session ended before it started)."""


#: Plan files rest on an assumed download URL and kind rule.
_FILE_FACTS = ("ids.plan.file-download", "ids.plan.file-kinds")
_KINDS = {".pdf": FileKind.PDF, ".zip": FileKind.ARCHIVE, ".stl": FileKind.STL}


def _file_kind(name: str) -> FileKind:
    """By the name's extension (`ids.plan.file-kinds`): the kind text is localized."""
    dot = name.rfind(".")
    return _KINDS.get(name[dot:].lower() if dot >= 0 else "", FileKind.ARCHIVE)


class _FastPathGone(Exception):
    """The JSON stopped answering as expected: the session reads the pages from now on."""


# The session ------------------------------------------------------------------------------------


class InvisalignSession:
    """One account's session. Holds the browser only when one is needed (a sign-in, a renewal,
    or reading the pages), so a restored, valid state on the fast path costs no browser."""

    def __init__(
        self,
        adapter: InvisalignAdapter,
        credentials: Credentials,
        code_provider: CodeProvider,
        guard: SignInGuard,
        state: StorageState | None,
    ) -> None:
        self.logins = 0
        #: Whether the JSON fast path answers (None: not tried yet).
        self.fast: bool | None = None if adapter.fast_path else False
        #: Status words the adapter did not recognise (kept raw as `unknown`), and how often.
        self.unknown_labels: Counter[str] = Counter()
        self._adapter = adapter
        self._credentials = credentials
        self._code_provider = code_provider
        self._guard = guard
        self._state = state
        self._stack = AsyncExitStack()
        self._context: BrowserContext | None = None
        self._tab: Tab | None = None
        self._reader: DomReader | None = None
        self._http = adapter.http_client()
        self._csrf = ""
        self._profile: Profile | None = None
        self._summaries: dict[str, CaseSummary] = {}
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
            if await self._state_is_live():
                _log.info("invisalign.session_restored", fast_path=self.fast)
                return
        await self._renew("open")

    async def _state_is_live(self) -> bool:
        """The one cheap request that checks a restored state: the profile JSON where the fast
        path may answer (its answer also decides the fast path and serves `check_access`), else
        where the confirmed entry page redirects."""
        if not self._csrf:
            self.fast = False  # the JSON needs its CSRF pair
        if self.fast is not False:
            response = await self._get(site.API_PROFILE, json_headers=True)
            if self._expired(response):
                return False
            profile = self._profile_of(response)
            self.fast = profile is not None
            if profile is not None:
                if profile.user_name.casefold() != self._credentials.username.strip().casefold():
                    # A state saved for other credentials: never use another login's session.
                    _log.warning("invisalign.session_state_of_another_login")
                    self._state = None
                    self._use_cookies([])
                    return False
                self._profile, self.fast = profile, True
                return True
        return await self._entry_is_live()

    async def _entry_is_live(self) -> bool:
        response = await self._get(site.ENTRY_PAGE)
        await response.aclose()
        if response.status_code == 200:
            return True
        if response.is_redirect:
            return not self._adapter.hosts.is_login_redirect(response)
        if response.status_code in (401, 403):
            return False
        raise PortalChanged(f"the entry page answered {response.status_code}", ("ids.login.entry",))

    async def _detect_fast_path(self) -> None:
        """One request decides whether the JSON answers (only after a sign-in: a restore
        decided it already)."""
        if self.fast is not None or not self._csrf:
            self.fast = bool(self.fast)
            return
        response = await self._get(site.API_PROFILE, json_headers=True)
        self._profile = None if self._expired(response) else self._profile_of(response)
        self.fast = self._profile is not None
        _log.info("invisalign.fast_path", answers=self.fast)

    def _profile_of(self, response: httpx.Response) -> Profile | None:
        """The profile JSON, or None when the fast path does not answer (404, HTML, another
        shape): then the pages are read instead."""
        if response.status_code != 200:
            return None
        try:
            return fastpath.parse_profile(self._json(response, "user profile"))
        except PortalChanged:
            _log.info("invisalign.fast_path_absent")
            return None

    async def _page_tab(self) -> Tab:
        if self._tab is not None:
            return self._tab
        if self._closed:
            raise SessionExpired("the session is closed")
        context = await self._stack.enter_async_context(self._adapter.pool.context(self._state))
        self._context = context
        page = await context.new_page()
        adapter = self._adapter
        self._tab = Tab(page, adapter.policy, adapter.render_timeout, adapter.settle_timeout)
        self._reader = DomReader(self._tab, adapter.base_url, adapter.hosts)
        return self._tab

    async def _dom(self) -> DomReader:
        """The reader of the pages, in a signed-in browser tab."""
        tab = await self._page_tab()
        if self._adapter.hosts.step_of(tab.url) is not Step.APP:
            async with self._renewing:
                if self._adapter.hosts.step_of(tab.url) is not Step.APP:
                    await self._renew("browser")
        assert self._reader is not None
        return self._reader

    async def _on_pages(self, what: str, run: Callable[[DomReader], Awaitable[T]]) -> T:
        """Read or act on the pages; a session that ended meanwhile is renewed once (the
        sign-in page sent nothing yet, so the step is safe to repeat)."""
        for attempt in (1, 2):
            reader = await self._dom()
            try:
                return await run(reader)
            except SignedOut:
                if attempt == 2:
                    raise SessionExpired(
                        f"the portal ended the session again right away ({what})"
                    ) from None
                _log.info("invisalign.session_expired", what=what)
                async with self._renewing:
                    await self._renew(what)
        raise AssertionError("unreachable")

    async def browser_page(self) -> Any:
        """The session's signed-in browser page: for measurements and diagnostics."""
        await self._dom()
        assert self._tab is not None
        return self._tab.page

    async def _renew(self, why: str) -> None:
        """Get a live app session: the saved login if it still works, else the password."""
        tab = await self._page_tab()
        started = time.monotonic()
        mark = tab.mark()
        response = await tab.goto(self._adapter.base_url + site.ENTRY_PAGE)
        hosts = self._adapter.hosts
        step = hosts.step_of(tab.url)
        via = "saved_login"
        if step is Step.LOGIN:
            via = "password"
            if self.logins >= MAX_PASSWORD_LOGINS:
                raise SessionExpired(
                    "the session ended again; not logging in with the password again"
                )
            self.logins += 1  # counted once the password may leave, whatever the answer
            signin = SignIn(tab, hosts, self._credentials, self._guard, self._code_provider)
            await signin.run(mark)
        elif step is Step.FOREIGN_LOGIN:
            raise foreign_login(tab.url)
        elif step is not Step.APP or response.status != 200:
            raise PortalChanged(
                f"opening the site ended on an unexpected page ({response.status})",
                ("ids.login.entry", "ids.host.redirect-to-login"),
            )
        await self._take_browser_cookies()
        self._generation += 1
        await self._detect_fast_path()
        _log.info(
            "invisalign.session_renewed",
            why=why,
            via=via,
            fast_path=self.fast,
            seconds=round(time.monotonic() - started, 3),
        )

    # Cookies and requests ---------------------------------------------------------------------

    async def _take_browser_cookies(self) -> None:
        assert self._context is not None
        cookies = await self._context.cookies([self._adapter.base_url])
        self._use_cookies(list(cookies))
        if site.SESSION_COOKIE not in {c.get("name") for c in cookies}:
            raise PortalChanged(
                "the session cookie is not where it was after the login", ("ids.session.cookie",)
            )

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

    def _headers(self, json_headers: bool) -> dict[str, str]:
        if not json_headers:
            return {"Accept": "text/html"}
        return {"Accept": "application/json", site.CSRF_HEADER: self._csrf}

    async def _get(self, path: str, *, json_headers: bool = False) -> httpx.Response:
        return await send(
            self._http,
            "GET",
            path,
            policy=self._adapter.policy,
            headers=self._headers(json_headers),
        )

    def _expired(self, response: httpx.Response) -> bool:
        if response.status_code == 401 or self._adapter.hosts.is_login_redirect(response):
            return True
        return fastpath.is_csrf_refusal(response)

    async def _call(
        self, method: str, path: str, what: str, body: dict[str, str] | None = None
    ) -> httpx.Response:
        """One JSON request; an expired session is renewed once and the request sent once more.

        Resending a POST after a 401 is safe: the portal refuses an unauthenticated request
        before it acts on it. Anything else that leaves a POST's fate open raises
        `OutcomeUnknown` from `send()`, and the caller checks for its marker.
        """
        for attempt in (1, 2):
            generation = self._generation
            kwargs: dict[str, Any] = {"headers": self._headers(json_headers=True)}
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
        return expect_json(response, what, is_login_page=self._adapter.hosts.is_login_redirect)

    def _refused(self, response: httpx.Response, what: str) -> Exception:
        error = fastpath.api_error(response)
        if response.status_code == 404 and not self._json_api_error(response):
            return PortalChanged(f"{what}: the JSON is not there any more", ("ids.api.patients",))
        if response.status_code == 404:
            return NotFound(f"{what}: {error.message or 'not found'}")
        if response.status_code in (400, 403, 409):
            return ActionRefused(f"{what}: {error.message or error.code}")
        return PortalChanged(f"{what} answered {response.status_code}", ("ids.api.patients",))

    async def _fast(self, call: Callable[[], Awaitable[T]], *, reads: bool = True) -> T | None:
        """Run a fast-path call; None (and the pages from now on) when the JSON stopped
        answering as expected. Typed answers of the portal (not found, refused) stand. A
        post (`reads=False`) falls back only when it certainly did nothing (`_FastPathGone`)."""
        if not self.fast:
            return None
        dropped: tuple[type[Exception], ...] = (
            (PortalChanged, _FastPathGone) if reads else (_FastPathGone,)
        )
        try:
            return await call()
        except dropped as gone:
            self.fast = False
            _log.warning("invisalign.fast_path_dropped", detail=str(gone))
            return None

    # The protocol -----------------------------------------------------------------------------

    async def export_state(self) -> Secret:
        state: dict[str, Any]
        if self._context is not None:
            state = dict(await self._context.storage_state())
        else:
            state = self._state or {"cookies": [], "origins": []}
        return Secret(json.dumps(state, separators=(",", ":")))

    async def check_access(self) -> Access:
        """Roles from the profile (JSON, or the profile page: assumed, unverified); a doctor's
        own login is known on the pages by the tabs only doctors see (confirmed rule)."""
        profile = self._profile or await self._fast(self._fetch_profile)
        if profile is not None:
            self._profile = profile
            return access_of(profile.account_type, profile.roles)
        doctor, view = await self._on_pages("profile", lambda reader: reader.profile())
        if doctor or view is None:
            return access_of("doctor", ())
        return access_of("staff", view.roles)

    async def _fetch_profile(self) -> Profile:
        response = await self._call("GET", site.API_PROFILE, "user profile")
        if response.status_code != 200:
            raise _FastPathGone(f"the profile answered {response.status_code}")
        return fastpath.parse_profile(self._json(response, "user profile"))

    async def list_cases(self, cursor: str | None) -> AsyncIterator[CasePage]:
        """Pages of case summaries, newest activity first.

        Full listing (no watermark): every page, then one look at the head of the list for
        cases whose activity moved them to the front while we paged. Incremental (a watermark):
        pages until the cases are older than the watermark minus the overlap. Either restarts
        (bounded) when the list shifted under it, and yields a patient again only with newer
        activity than it already yielded. When the JSON stops answering mid-listing, the
        listing starts over on the pages (what it yielded is not yielded twice).
        """
        start = ListingCursor.decode(cursor)
        state = start
        seen: dict[str, datetime | None] = {}
        restarts = renewals = 0
        while True:
            fast = bool(self.fast)
            try:
                listing = self._json_pass(state, seen) if fast else self._dom_pass(state, seen)
                async for page in listing:
                    yield page
                return
            except PortalChanged as changed:
                if not fast:
                    raise
                self.fast = False
                _log.warning("invisalign.fast_path_dropped", detail=str(changed))
                state = ListingCursor(since=start.since)
            except SignedOut:
                renewals += 1
                if renewals > 1:
                    raise SessionExpired(
                        "the portal ended the session again right away (patient list)"
                    ) from None
                _log.info("invisalign.session_expired", what="patient list")
                async with self._renewing:
                    await self._renew("patient list")
                state = ListingCursor(since=start.since)
            except _Shifted:
                restarts += 1
                if restarts > self._adapter.max_listing_restarts:
                    raise PortalUnavailable(
                        "the patient list kept changing while it was read; try again later"
                    ) from None
                _log.info("invisalign.listing_restarted", restarts=restarts)
                state = ListingCursor(since=start.since)

    async def _json_pass(
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
            kept = [i for i in page.items if floor is None or _after(i, floor)]
            reached_old = len(kept) < len(page.items)
            items = _fresh(kept, seen)
            self._count_unknown(items)
            if not (reached_old or number >= page.total_pages):
                next_cursor = ListingCursor(state.since, number + 1, top, total)
                yield CasePage(tuple(items), next_cursor.encode())
                number += 1
                continue
            if state.since is None and top is not None:
                items += await self._json_catch_up(top, seen)
            yield CasePage(tuple(items), None, _watermark(seen, top, state.since))
            return

    async def _json_catch_up(
        self, top: datetime, seen: dict[str, datetime | None]
    ) -> list[CaseSummary]:
        """Cases whose activity moved them to the front of the list while a full listing paged
        (their last activity is at or after the newest one of the first page)."""
        found: list[CaseSummary] = []
        number = 1
        while True:
            page = await self._patients_page(number)
            newer = [i for i in page.items if _after(i, top)]
            found += _fresh(newer, seen)
            if len(newer) < len(page.items) or number >= page.total_pages:
                return found
            number += 1

    async def _patients_page(self, number: int) -> fastpath.PatientPage:
        path = site.api_patients_page(number, self._adapter.page_size)
        response = await self._call("GET", path, "patient list")
        if response.status_code != 200:
            raise self._refused(response, "patient list")
        return fastpath.parse_patient_page(self._json(response, "patient list"))

    async def _dom_pass(
        self, state: ListingCursor, seen: dict[str, datetime | None]
    ) -> AsyncIterator[CasePage]:
        """The listing on the pages: the Action required list first (its patients are the ones
        waiting), then every patient, one list page at a time."""
        reader = await self._dom()
        floor = state.since - self._adapter.overlap if state.since else None
        waiting: set[str] = set()
        async for view in reader.list_pages(action=True):
            recent = [r for r in view.rows if _row_after(r, floor)]
            waiting |= {r.patient_id for r in recent}
            if len(recent) < len(view.rows):
                break
        number, top = state.page, state.top
        async for view in reader.list_pages(action=False, start=number):
            summaries = [self._summary(r, r.patient_id in waiting) for r in view.rows]
            if top is None and summaries:
                top = summaries[0].updated_at
            kept = [s for s in summaries if floor is None or _after(s, floor)]
            reached_old = len(kept) < len(summaries)
            items = _fresh(kept, seen)
            self._count_unknown(items)
            if not (reached_old or not view.has_next):
                next_cursor = ListingCursor(state.since, number + 1, top)
                yield CasePage(tuple(items), next_cursor.encode())
                number += 1
                continue
            if state.since is None and top is not None:
                async for head in reader.list_pages(action=False):
                    moved = [
                        self._summary(r, r.patient_id in waiting)
                        for r in head.rows
                        if r.last_activity is not None and r.last_activity >= top
                    ]
                    items += _fresh(moved, seen)
                    if len(moved) < len(head.rows):
                        break
            yield CasePage(tuple(items), None, _watermark(seen, top, state.since))
            return

    def _summary(self, row: Row, action_required: bool) -> CaseSummary:
        summary = CaseSummary(
            vendor_case_id=row.patient_id,
            patient_name=row.name,
            patient_id=f"#{row.patient_id}",  # as the portal shows it
            vendor_doctor_id=None,  # the pages do not show it
            vendor_doctor_name=row.doctor_name,
            status=case_status(row.status),
            vendor_status=row.status,
            action_required=action_required,
            unread_comments=row.unread,
            updated_at=row.last_activity,
        )
        self._summaries[row.patient_id] = summary
        return summary

    def _count_unknown(self, items: list[CaseSummary]) -> None:
        for item in items:
            if item.status is CaseStatus.UNKNOWN:
                if item.vendor_status not in self.unknown_labels:
                    _log.warning("invisalign.unknown_status", label=item.vendor_status)
                self.unknown_labels[item.vendor_status] += 1

    async def get_case(self, vendor_case_id: str) -> CaseDetail:
        if not vendor_case_id.isdigit() or not 1 <= len(vendor_case_id) <= 12:
            raise NotFound("not a patient number of this portal")
        detail = await self._fast(lambda: self._json_case(vendor_case_id))
        if detail is not None:
            return detail
        found = await self._on_pages(
            "patient file", lambda reader: reader.patient_file(vendor_case_id)
        )
        summary = self._summaries.get(vendor_case_id) or CaseSummary(
            vendor_case_id=vendor_case_id,
            patient_name=found.name,
            patient_id=f"#{vendor_case_id}",
            vendor_doctor_id=None,
            vendor_doctor_name=found.doctor_name,
            status=case_status(found.status),
            vendor_status=found.status,
            action_required=found.action_required,
            unread_comments=sum(c.unread for c in found.comments),
            updated_at=found.latest,
        )
        return CaseDetail(summary, None, found.setups, found.comments)

    async def _json_case(self, vendor_case_id: str) -> CaseDetail:
        path = site.api_patient(vendor_case_id)
        response = await self._call("GET", path, "patient detail")
        if response.status_code != 200:
            raise self._refused(response, "patient detail")
        return fastpath.parse_detail(self._json(response, "patient detail"), self._adapter.base_url)

    # Files (adapters.base.FileAccess) -----------------------------------------------------------

    async def list_files(self, vendor_case_id: str) -> tuple[FileRef, ...]:
        """The files of every ClinCheck plan, as the patient file lists them (JSON or page);
        each downloads from an assumed URL (`ids.plan.file-download`): all are unverified."""
        detail = await self.get_case(vendor_case_id)
        return tuple(
            FileRef(
                ref=site.plan_file_url(vendor_case_id, plan.vendor_setup_id, file.name),
                kind=_file_kind(file.name),
                name=file.name,
                size=file.size,
                setup_version=plan.version,
                vendor_setup_id=plan.vendor_setup_id,
                assumed_facts=_FILE_FACTS,
            )
            for plan in detail.setups
            for file in plan.files
        )

    async def download(self, file: FileRef, sink: FileSink) -> Downloaded:
        """A GET with the session's cookies (the browser's, where it signed in); an expired
        session is renewed once and the download starts over."""

        def check(response: httpx.Response) -> None:
            if self._expired(response):
                raise _Expired

        for attempt in (1, 2):
            generation = self._generation
            try:
                return await fetch_to_sink(
                    self._http, file.ref, sink, expected_size=file.size,
                    checksum=file.checksum, check=check, policy=self._adapter.policy,
                )  # fmt: skip
            except _Expired:
                if attempt == 2:
                    raise SessionExpired(
                        "the portal ended the session again right away (a download)"
                    ) from None
                async with self._renewing:
                    if self._generation == generation:
                        await self._renew("download")
        raise AssertionError("unreachable")

    async def post_comment(self, vendor_case_id: str, body: str, marker: str) -> PostResult:
        await self._require(Capability.POST_COMMENT, vendor_case_id)
        text = with_marker(body, marker)

        async def by_json() -> PostResult:
            path = site.api_comments(vendor_case_id)
            response = await self._call("POST", path, "comment", {site.Field.BODY: text})
            return self._posted(response, "comment")

        posted = await self._fast(by_json, reads=False)
        if posted is not None:
            return posted
        posted_id = await self._on_pages(
            "comment", lambda reader: reader.post(vendor_case_id, text, marker)
        )
        return PostResult(posted_id)

    async def reject_setup(
        self, vendor_case_id: str, vendor_setup_id: str, reason: str, marker: str
    ) -> PostResult:
        """Request a modification of the ClinCheck plan (the case goes to "Modification
        requested"). Only the current plan in "Ready for review" can be sent back."""
        await self._require(Capability.REJECT_SETUP, vendor_case_id)
        text = with_marker(reason, marker)

        async def by_json() -> PostResult:
            path = site.api_modification(vendor_case_id, vendor_setup_id)
            body = {site.Field.INSTRUCTIONS: text}
            response = await self._call("POST", path, "modification request", body)
            return self._posted(response, "modification request")

        posted = await self._fast(by_json, reads=False)
        if posted is not None:
            return posted
        posted_id = await self._on_pages(
            "modification request",
            lambda reader: reader.post(vendor_case_id, text, marker, vendor_setup_id),
        )
        return PostResult(posted_id)

    def _posted(self, response: httpx.Response, what: str) -> PostResult:
        """What a POST of the fast path did. A path that is not there did nothing (the pages
        take over); once the portal took it, an unreadable answer is "posted, id unknown"."""
        if response.status_code == 404 and not self._json_api_error(response):
            raise _FastPathGone(f"the {what} endpoint is not there")
        if response.status_code not in (200, 201):
            refused = self._refused(response, what)
            if isinstance(refused, PortalChanged):
                raise OutcomeUnknown(f"the {what} was answered {response.status_code}")
            raise refused
        try:
            return PostResult(fastpath.parse_posted(self._json(response, what), what))
        except PortalChanged:
            _log.warning("invisalign.posted_without_id", what=what)
            return PostResult(None)

    @staticmethod
    def _json_api_error(response: httpx.Response) -> bool:
        """A 404 of the API itself ("no such patient"), not of a path that does not exist."""
        return fastpath.api_error(response).code != f"http_{response.status_code}"

    async def find_marker(self, vendor_case_id: str, marker: str) -> bool:
        """Whether a comment or modification request on the case carries `marker` (both are in
        the case's comment thread)."""
        detail = await self.get_case(vendor_case_id)
        return any(has_marker(c.body, marker) for c in detail.comments)

    async def _require(self, capability: Capability, vendor_case_id: str) -> None:
        if not vendor_case_id.isdigit() or not 1 <= len(vendor_case_id) <= 12:
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
        if self.unknown_labels:
            _log.info("invisalign.unknown_labels", labels=dict(self.unknown_labels))
        try:
            await self._http.aclose()
        finally:
            self._tab = None
            self._reader = None
            self._context = None
            await self._stack.aclose()


def _after(item: CaseSummary, moment: datetime) -> bool:
    """At or after `moment`; a case without a last-activity time is always read again."""
    return item.updated_at is None or item.updated_at >= moment


def _row_after(row: Row, floor: datetime | None) -> bool:
    return floor is None or row.last_activity is None or row.last_activity >= floor


def _watermark(
    seen: dict[str, datetime | None], top: datetime | None, since: datetime | None
) -> str:
    moments = [m for m in (*seen.values(), top, since) if m is not None]
    return ListingCursor(since=max(moments, default=None)).encode()


def _fresh(items: list[CaseSummary], seen: dict[str, datetime | None]) -> list[CaseSummary]:
    """Items not yielded yet in this listing, or yielded with older activity."""
    fresh = []
    for item in items:
        key = item.vendor_case_id
        if key in seen:
            before = seen[key]
            if before is None or item.updated_at is None or item.updated_at <= before:
                continue
        seen[key] = item.updated_at
        fresh.append(item)
    return fresh
