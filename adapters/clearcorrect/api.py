"""The JSON fast path: the ASP.NET Core Identity app's API (register variant `aspnetcore-json`),
used when the portal answers it (detected at run time, see `adapter.py`).

No public source confirms this API; it is faster than the pages (an incremental listing asks
for `updatedSince`) and it is never what the adapter depends on: a portal without it is read
from its pages.

Rules kept here: one new login when the portal ends the session, one fresh anti-forgery token
when it refuses the token (both refusals happen before the portal acts, so sending again cannot
double a post); the listing pages by offset and restarts (bounded) when the list changes under
it, so a completed listing has seen every case.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Any

import httpx
import structlog

from adapters.base import (
    Access,
    ActionRefused,
    AdapterError,
    CaseDetail,
    CasePage,
    CaseSummary,
    NotFound,
    PasswordExpired,
    PortalChanged,
    PortalUnavailable,
    PostResult,
    SessionExpired,
    has_marker,
    with_marker,
)
from adapters.clearcorrect import cursor as cursors
from adapters.clearcorrect.channel import Channel
from adapters.clearcorrect.cursor import Cursor
from adapters.clearcorrect.site import app as site

_log = structlog.get_logger("adapters.clearcorrect")

#: A listing whose case count keeps changing is restarted this many times, then given up.
MAX_LISTING_RESTARTS = 3


def _json(response: httpx.Response, what: str) -> Any:
    if response.status_code not in (200, 201):
        raise PortalChanged(f"{what} answered HTTP {response.status_code}")
    return site.json_of(response, what)


class ApiReader:
    """Cases, setups and chat through the JSON API of one signed-in session."""

    def __init__(self, channel: Channel) -> None:
        self._channel = channel
        self._account: site.Account | None = None  # read by the probe or restore, used once

    # ---- the channel --------------------------------------------------------------------------

    async def _api(
        self,
        method: str,
        url: str,
        what: str,
        *,
        params: dict[str, str] | None = None,
        body: dict[str, Any] | None = None,
    ) -> httpx.Response:
        write = method != "GET"
        relogged = refreshed = False
        while True:
            generation = self._channel.generation
            headers = {site.TOKEN_HEADER: await self._request_token()} if write else None
            response = await self._channel.send(
                method, url, params=params, json=body, headers=headers
            )
            if site.session_ended(response):
                if relogged:
                    raise SessionExpired(
                        f"the portal ended the session again right after a new login ({what})"
                    )
                relogged = True
                await self._channel.relogin(generation)
                continue
            if site.password_expired(response):
                raise PasswordExpired("the portal says the password has expired")
            if write and not refreshed and site.antiforgery_refused(response):
                refreshed = True
                await self._refresh_token()
                continue
            return response

    async def _request_token(self) -> str:
        token = self._channel.cookie(site.XSRF_COOKIE)
        if token is None:
            await self._refresh_token()
            token = self._channel.cookie(site.XSRF_COOKIE)
        if token is None:
            raise PortalChanged(f"the account page set no {site.XSRF_COOKIE} cookie")
        return token

    async def _refresh_token(self) -> None:
        """`GET /api/account` refreshes the user-bound request token cookie."""
        self._channel.forget_cookie(site.XSRF_COOKIE)
        response = await self._api("GET", site.ACCOUNT_API, "account")
        self._account = site.parse_account(_json(response, "account"))

    # ---- the probe and saved sessions ------------------------------------------------------------

    async def probe(self, username: str) -> bool:
        """Whether this portal answers the API for this signed-in login (one request)."""
        response = await self._channel.send("GET", site.ACCOUNT_API)
        if response.status_code != 200:
            return False
        try:
            account = site.parse_account(site.json_of(response, "account"))
        except (PortalChanged, SessionExpired):
            return False
        if account.email.casefold() != username.casefold():
            return False
        self._account = account
        return True

    async def still_signed_in(self, username: str) -> bool:
        """Whether a restored session still works for `username` (one request)."""
        response = await self._channel.send("GET", site.ACCOUNT_API)
        if site.session_ended(response):
            return False
        if site.password_expired(response):
            raise PasswordExpired("the portal says the password has expired")
        account = site.parse_account(_json(response, "account"))
        if account.email.casefold() != username.casefold():
            return False
        self._account = account
        return True

    # ---- reading ------------------------------------------------------------------------------

    async def check_access(self) -> Access:
        account, self._account = self._account, None
        if account is None:
            response = await self._api("GET", site.ACCOUNT_API, "account")
            account = site.parse_account(_json(response, "account"))
        return site.access_of(account)

    async def _case_page(self, position: Cursor) -> site.CaseListPage:
        params = site.case_list_params(position.page, position.since)
        response = await self._api("GET", site.CASES_API, "case list", params=params)
        listing = site.parse_case_list(_json(response, "case list"))
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

        The API pages by offset, so the list can shift while it is read. A case updated
        meanwhile moves to page 1 (the next page repeats one: harmless, filtered here). A case
        unshared meanwhile shifts the rest up, so one would be skipped: a changed `totalCount`
        restarts the listing from page 1 (bounded), and a listing that ends having seen fewer
        distinct cases than `totalCount` first catches up on the cases updated since it began,
        then restarts. A listing that completes has seen every case.
        """
        position = cursors.decode(cursor)
        yielded: dict[str, CaseSummary] = {}
        seen: set[str] = set()
        carried = position.seen

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
                if items:
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

    async def _get(self, url: str, what: str) -> Any:
        response = await self._api("GET", url, what)
        if response.status_code == 404:
            raise NotFound("the case does not exist or is no longer shared with this login")
        return _json(response, what)

    async def get_case(self, vendor_case_id: str) -> CaseDetail:
        case = site.parse_case(
            await self._get(site.case_api(vendor_case_id), "case"), self._channel.base_url
        )
        comments = site.parse_comments(
            await self._get(site.comments_api(vendor_case_id), "comments")
        )
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
        text = with_marker(body, marker)
        if not body.strip():
            raise ActionRefused("an empty comment is not posted")
        if len(text) > site.MAX_COMMENT:
            raise ActionRefused(f"the portal takes comments of up to {site.MAX_COMMENT} characters")
        response = await self._api(
            "POST", site.comments_api(vendor_case_id), "comment", body={site.POST_BODY: text}
        )
        if response.status_code not in (200, 201):
            raise self._refused(response, "comment")
        return PostResult(_posted_id(response, site.posted_comment_id, "comment"))

    async def reject_setup(
        self, vendor_case_id: str, vendor_setup_id: str, reason: str, marker: str
    ) -> PostResult:
        text = with_marker(reason, marker)
        if not reason.strip():
            raise ActionRefused("a setup is not declined without a reason")
        if len(text) > site.MAX_REASON:
            raise ActionRefused(f"the portal takes reasons of up to {site.MAX_REASON} characters")
        url = site.decline_api(vendor_case_id, vendor_setup_id)
        response = await self._api("POST", url, "setup decline", body={site.POST_REASON: text})
        if response.status_code == 403:
            raise ActionRefused(
                "the portal refused to decline the setup: this login lacks Decline Treatment "
                f"Setups from the case's doctor ({site.problem_text(response)})"
            )
        if response.status_code != 200:
            raise self._refused(response, "setup decline")
        return PostResult(_posted_id(response, site.declined_setup_id, "setup decline"))

    async def find_marker(self, vendor_case_id: str, marker: str) -> bool:
        case = site.parse_case(
            await self._get(site.case_api(vendor_case_id), "case"), self._channel.base_url
        )
        if any(has_marker(reason, marker) for reason in case.decline_reasons):
            return True
        comments = site.parse_comments(
            await self._get(site.comments_api(vendor_case_id), "comments")
        )
        return any(has_marker(comment.body, marker) for comment in comments)


def _posted_id(response: httpx.Response, parse: Callable[[Any], str], what: str) -> str | None:
    """The portal accepted the post: an answer we cannot read must not turn it into a failure
    (a retry would post twice), so the id is then simply unknown."""
    try:
        return parse(site.json_of(response, what))
    except PortalChanged:
        _log.warning("clearcorrect.posted_answer_unreadable", what=what)
        return None
