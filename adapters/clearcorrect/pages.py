"""The primary path: reading and acting on the WebForms pages (register variant `webforms`).

Every page is fetched and posted back as a browser would: the page's one form with every field
it rendered, `__EVENTTARGET` / `__EVENTARGUMENT` for a `__doPostBack`, or the clicked button.

- A postback that only navigates (the Status drop-down, the grid's pager) changes nothing on
  the portal: it goes through `send(..., idempotent=True)`, so the one retry policy may resend
  it like a GET.
- A postback that changes something (Add Note, Decline) is sent once: a lost answer is
  `OutcomeUnknown` and the connector looks for its `[ref:…]` marker before anything else.
- A page or postback the portal answers with the sign-in page never acted (forms
  authentication redirects before the page runs): the session signs in again once and the
  step starts over from a fresh page (a view state from before the new sign-in is not reused).

Reading never marks a note read; the sync reads each case page only when its summary changed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import urlsplit

import httpx
import structlog

from adapters.base import (
    Access,
    ActionRefused,
    CaseDetail,
    CasePage,
    CaseSummary,
    NotFound,
    PortalChanged,
    PostResult,
    SessionExpired,
    Setup,
    SetupState,
    has_marker,
    with_marker,
)
from adapters.base.files import Downloaded, FileKind, FileRef, FileSink
from adapters.clearcorrect import cursor as cursors
from adapters.clearcorrect.channel import Channel
from adapters.clearcorrect.cursor import Cursor
from adapters.clearcorrect.site import html, webforms
from adapters.http import RetryPolicy, fetch_to_sink

_log = structlog.get_logger("adapters.clearcorrect")

T = TypeVar("T")


class _SignedOut(Exception):
    """The portal answered with its sign-in page: the session ended before the page acted."""


@dataclass(frozen=True)
class _Shown:
    """The list page the session shows now (its form posts the next page back)."""

    generation: int
    listing: webforms.ListPage
    form: webforms.Form


class PagesReader:
    """Cases, setups and notes from the WebForms pages of one signed-in session."""

    def __init__(self, channel: Channel, username: str) -> None:
        self._channel = channel
        self._username = username
        self._account: html.Document | None = None  # read by the restore check, used once
        self._shown: _Shown | None = None

    # ---- requests -----------------------------------------------------------------------------

    async def _get(self, url: str) -> httpx.Response:
        response = await self._channel.send("GET", url)
        if webforms.signed_out(response):
            raise _SignedOut
        return response

    async def _post(
        self, form: webforms.Form, data: dict[str, str], *, changes: bool
    ) -> httpx.Response:
        response = await self._channel.send("POST", form.action, data=data, idempotent=not changes)
        if webforms.signed_out(response):
            raise _SignedOut
        return response

    async def _step(self, what: str, step: Callable[[int], Awaitable[T]]) -> T:
        """Run `step` (given the sign-in generation it runs under); when the portal ended the
        session, sign in again once and run it again from the start."""
        relogged = False
        while True:
            generation = self._channel.generation
            try:
                return await step(generation)
            except _SignedOut:
                if relogged:
                    raise SessionExpired(
                        f"the portal ended the session again right after a new login ({what})"
                    ) from None
                relogged = True
                await self._channel.relogin(generation)

    @staticmethod
    def _page(response: httpx.Response, what: str, missing: str | None = None) -> html.Document:
        if response.status_code == 404 and missing is not None:
            raise NotFound(missing)
        return webforms.document(response, what)

    # ---- the session and its rights -----------------------------------------------------------

    async def still_signed_in(self) -> bool:
        """Whether a restored session still works for this login (one request: My Account,
        kept for `check_access`). The greeting `#ctl00_lblUserName` names whose it is."""
        response = await self._channel.send("GET", webforms.ACCOUNT_PATH)
        if webforms.signed_out(response):
            return False
        doc = self._page(response, "My Account")
        shown = webforms.signed_in_as(doc)
        if shown is None or shown.casefold() != self._username.casefold():
            return False
        self._account = doc
        return True

    async def check_access(self) -> Access:
        doc, self._account = self._account, None
        if doc is None:

            async def read(_: int) -> html.Document:
                return self._page(await self._get(webforms.ACCOUNT_PATH), "My Account")

            doc = await self._step("My Account", read)
        return webforms.parse_access(doc)

    # ---- Manage Orders ------------------------------------------------------------------------

    async def _show(self, group: str, number: int) -> webforms.ListPage:
        """Manage Orders at `group`, page `number`, from the list page shown (the list itself
        after a new sign-in): the Status drop-down's postback, then the pager's."""

        async def load(generation: int) -> _Shown:
            shown = self._shown
            if shown is None or shown.generation != generation:
                shown = self._read_list(await self._get(webforms.CASES_PATH), generation)
            if shown.listing.group != group:
                data = shown.form.postback(
                    webforms.STATUS_DROPDOWN, "", **{webforms.STATUS_DROPDOWN: group}
                )
                response = await self._post(shown.form, data, changes=False)
                shown = self._read_list(response, generation)
            if shown.listing.page != number:
                argument = f"{webforms.PAGE_PREFIX}{number}"
                data = shown.form.postback(webforms.PAGER_TARGET, argument)
                response = await self._post(shown.form, data, changes=False)
                shown = self._read_list(response, generation)
            return shown

        shown = await self._step("Manage Orders", load)
        if shown.listing.group != group or shown.listing.page != number:
            raise PortalChanged(
                "Manage Orders did not show the group and page asked for",
                facts=("cc.wf.list.status-dropdown", "cc.wf.list.pager"),
            )
        self._shown = shown
        return shown.listing

    def _read_list(self, response: httpx.Response, generation: int) -> _Shown:
        doc = self._page(response, "Manage Orders")
        form = webforms.postback_form(doc, str(response.url), self._channel.base_url)
        return _Shown(generation, webforms.parse_list(doc), form)

    async def list_cases(self, cursor: str | None) -> AsyncIterator[CasePage]:
        """Every status group, page by page, newest Last Activity first.

        The pages cannot be asked for what changed since the cursor; they are sorted by Last
        Activity, so an incremental listing stops reading a group at the first row older than
        its watermark. The watermark for the next listing is the newest Last Activity on the
        first page this listing read: anything that changes later has a later time. A case
        that moves between groups while the groups are read may be missed by one listing; the
        sync then notices it at its next one (and never records a removal from a listing, a
        missing case's own page decides).
        """
        position = cursors.decode(cursor)
        since = position.since
        groups = webforms.GROUPS
        first_group = position.group if position.group in groups else groups[0]
        start = groups.index(first_group)
        mark = position.mark
        fresh_listing = position.group is None
        yielded: dict[str, CaseSummary] = {}

        def new(items: tuple[CaseSummary, ...]) -> tuple[CaseSummary, ...]:
            found = []
            for item in items:
                if yielded.get(item.vendor_case_id) != item:
                    yielded[item.vendor_case_id] = item
                    found.append(item)
            return tuple(found)

        for index in range(start, len(groups)):
            group = groups[index]
            number = position.page if index == start and not fresh_listing else 1
            while True:
                listing = await self._show(group, number)
                if fresh_listing and mark is None and index == start and number == 1:
                    mark = max((i.updated_at for i in listing.items if i.updated_at), default=None)
                older = since is not None and any(
                    i.updated_at is not None and i.updated_at < since for i in listing.items
                )
                done = listing.next_page is None or older
                if done and index == len(groups) - 1:
                    resume = cursors.encode(Cursor(since=mark or since))
                    yield CasePage(new(listing.items), next_cursor=None, resume_cursor=resume)
                    return
                if done:
                    following = Cursor(since, 1, None, mark, group=groups[index + 1])
                else:
                    assert listing.next_page is not None
                    following = Cursor(since, listing.next_page, None, mark, group=group)
                yield CasePage(new(listing.items), next_cursor=cursors.encode(following))
                if done:
                    break
                assert listing.next_page is not None
                number = listing.next_page

    # ---- a case -------------------------------------------------------------------------------

    async def _case(self, vendor_case_id: str) -> html.Document:
        url = webforms.case_url(
            self._channel.base_url, webforms.number(vendor_case_id, "case number")
        )

        async def read(_: int) -> html.Document:
            return self._page(
                await self._get(url),
                "the case page",
                "the case does not exist or is no longer shared with this login",
            )

        return await self._step("the case page", read)

    async def _setup(self, setup_id: str) -> tuple[html.Document, str]:
        url = webforms.setup_url(self._channel.base_url, webforms.number(setup_id, "setup id"))

        async def read(_: int) -> tuple[html.Document, str]:
            response = await self._get(url)
            doc = self._page(response, "the setup page", "the setup does not exist")
            return doc, str(response.url)

        return await self._step("the setup page", read)

    async def get_case(self, vendor_case_id: str) -> CaseDetail:
        """The case page (summary, setups, notes) and each setup's page (its STL files)."""
        page = webforms.parse_case(await self._case(vendor_case_id), vendor_case_id)
        setups = []
        for row in reversed(page.setups):  # oldest first, as the sync stores them
            doc, _ = await self._setup(row.setup_id)
            if webforms.setup_case_number(doc) != vendor_case_id:
                raise PortalChanged(
                    "a setup page shows another case", facts=("cc.wf.setup.header",)
                )
            setups.append(
                Setup(
                    vendor_setup_id=row.setup_id,
                    version=row.version,
                    created_at=row.created_at,
                    state=row.state,
                    vendor_state=row.vendor_state,
                    viewer_url=webforms.setup_url(self._channel.base_url, row.setup_id),
                    files=webforms.parse_files(doc),
                )
            )
        return CaseDetail(page.summary, None, tuple(setups), page.comments)

    # ---- files --------------------------------------------------------------------------------

    async def list_files(self, vendor_case_id: str) -> tuple[FileRef, ...]:
        """The files of every submission version: the case page's newest submission link
        opens the case submission pop-up; the version dropdown posts back for each older
        version (its values are submission ids: an unverified fact). Navigation only."""
        url = webforms.case_url(
            self._channel.base_url, webforms.number(vendor_case_id, "case number")
        )
        base = self._channel.base_url

        async def read(_: int) -> tuple[FileRef, ...]:
            response = await self._get(url)
            doc = self._page(
                response, "the case page", "the case does not exist or is no longer shared"
            )
            links = webforms.submission_links(doc)
            if not links:
                return ()
            form = webforms.postback_form(doc, str(response.url), base)
            response = await self._post(form, form.postback(links[-1]), changes=False)
            doc = self._page(response, "the case submission pop-up")
            name, versions = webforms.submission_versions(doc)
            shown = webforms.selected_version(doc) or versions[0]
            found: dict[str, FileRef] = {}
            for value in [shown, *[v for v in versions if v != shown]]:
                if value != shown:
                    form = webforms.postback_form(doc, str(response.url), base)
                    data = form.postback(name, "", **{name: value})
                    response = await self._post(form, data, changes=False)
                    doc = self._page(response, "the case submission pop-up")
                    if webforms.selected_version(doc) != value:
                        raise PortalChanged(
                            "the version dropdown did not show the version asked for",
                            facts=("cc.wf.setup.version-dropdown", "cc.wf.setup.version-values"),
                        )
                for row in webforms.parse_file_rows(doc, str(response.url), base):
                    found.setdefault(row.url, _file_ref(row, older=value != shown))
            return tuple(found.values())

        return await self._step("the Files grid", read)

    async def download(
        self, client: httpx.AsyncClient, file: FileRef, sink: FileSink, policy: RetryPolicy
    ) -> Downloaded:
        """A plain GET of the link (`cc.wf.files.stl-download`) with the session's cookies;
        the sign-in page instead of the file means the session ended: one new login, then
        the download starts over."""

        def check(response: httpx.Response) -> None:
            if webforms.signed_out(response):
                raise _SignedOut

        async def fetch(_: int) -> Downloaded:
            return await fetch_to_sink(
                client, file.ref, sink, expected_size=file.size, checksum=file.checksum,
                check=check, policy=policy,
            )  # fmt: skip

        return await self._step("a download", fetch)

    # ---- acting -------------------------------------------------------------------------------

    async def post_comment(self, vendor_case_id: str, body: str, marker: str) -> PostResult:
        """Add Note on the case page with `body` and the marker, once."""
        text = with_marker(body, marker)
        if not body.strip():
            raise ActionRefused("an empty comment is not posted")
        if len(text) > webforms.MAX_NOTE:
            raise ActionRefused(f"the portal takes notes of up to {webforms.MAX_NOTE} characters")
        url = webforms.case_url(
            self._channel.base_url, webforms.number(vendor_case_id, "case number")
        )

        async def post(_: int) -> httpx.Response:
            response = await self._get(url)
            doc = self._page(
                response, "the case page", "the case does not exist or is no longer shared"
            )
            form = webforms.postback_form(doc, str(response.url), self._channel.base_url)
            notes = webforms.note_form(doc)
            if notes is None:
                raise ActionRefused("this login's case page has no Notes form")
            return await self._post(form, notes.fields(form, text), changes=True)

        answer = await self._step("Add Note", post)
        try:
            doc = webforms.document(answer, "the Add Note answer")
            page = webforms.parse_case(doc, vendor_case_id)
        except PortalChanged:
            _log.warning("clearcorrect.posted_answer_unreadable", what="note")
            return PostResult(None)
        posted = next((c for c in page.comments if has_marker(c.body, marker)), None)
        if posted is not None:
            return PostResult(posted.vendor_comment_id)
        if webforms.note_refused(doc):
            raise ActionRefused("the portal refused the note")
        raise PortalChanged("the case page answered Add Note without the note or a message")

    async def reject_setup(
        self, vendor_case_id: str, vendor_setup_id: str, reason: str, marker: str
    ) -> PostResult:
        """Decline the setup on its page with `reason` and the marker, once: the case goes back
        to Awaiting Setup until the technician shares a new version."""
        text = with_marker(reason, marker)
        if not reason.strip():
            raise ActionRefused("a setup is not declined without a reason")
        if len(text) > webforms.MAX_REASON:
            raise ActionRefused(
                f"the portal takes reasons of up to {webforms.MAX_REASON} characters"
            )
        url = webforms.setup_url(
            self._channel.base_url, webforms.number(vendor_setup_id, "setup id")
        )
        webforms.number(vendor_case_id, "case number")

        async def post(_: int) -> httpx.Response:
            response = await self._get(url)
            doc = self._page(response, "the setup page", "the setup does not exist")
            if webforms.setup_case_number(doc) != vendor_case_id:
                raise NotFound("the setup is not one of this case's")
            page = webforms.parse_setup(
                doc, vendor_setup_id, str(response.url), self._channel.base_url
            )
            if page.state is not SetupState.IN_REVIEW:
                raise ActionRefused("the setup is not awaiting approval: nothing was declined")
            if not page.can_decline:
                raise ActionRefused(
                    "this login may not decline the setup: it lacks Decline Treatment Setups "
                    "from the case's doctor"
                )
            data = page.form.press(webforms.DECLINE_BUTTON, **{webforms.DECLINE_REASON: text})
            return await self._post(page.form, data, changes=True)

        answer = await self._step("Decline", post)
        try:
            doc = webforms.document(answer, "the Decline answer")
            page = webforms.parse_setup(
                doc, vendor_setup_id, str(answer.url), self._channel.base_url
            )
        except PortalChanged:
            _log.warning("clearcorrect.posted_answer_unreadable", what="decline")
            return PostResult(None)
        if page.message == "cc.wf.decline.msg-done" or page.state is SetupState.REJECTED:
            return PostResult(vendor_setup_id)
        if page.message in (
            "cc.wf.decline.msg-forbidden",
            "cc.wf.decline.msg-state",
            "cc.wf.decline.msg-reason",
        ):
            raise ActionRefused(f"the portal refused to decline the setup ({page.message})")
        raise PortalChanged("the setup page answered Decline without saying what it did")

    async def find_marker(self, vendor_case_id: str, marker: str) -> bool:
        """Whether a note, or a setup's decline reason, on this case carries `marker`."""
        page = webforms.parse_case(await self._case(vendor_case_id), vendor_case_id)
        if any(has_marker(row.decline_reason, marker) for row in page.setups):
            return True
        return any(has_marker(comment.body, marker) for comment in page.comments)


#: What a listed file rests on that no source confirms.
_PHOTO_FACTS = ("cc.wf.files.type-photo",)
_OLDER_VERSION_FACTS = ("cc.wf.setup.version-values",)


def _file_ref(row: webforms.FileRow, *, older: bool) -> FileRef:
    """A Files grid row as the connector lists it: scans are STL meshes of one arch, photos
    are photos. The grid shows no sizes and publishes no checksums."""
    assumed = (_PHOTO_FACTS if row.photo else ()) + (_OLDER_VERSION_FACTS if older else ())
    place = urlsplit(row.url)
    return FileRef(
        ref=f"{place.path}?{place.query}" if place.query else place.path,
        kind=FileKind.PHOTO if row.photo else FileKind.STL,
        name=row.name,
        size=None,
        assumed_facts=assumed,
    )
