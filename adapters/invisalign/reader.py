"""The adapter's primary path: reading and acting through the pages a person sees, in a browser.

- The patient list: opened at its confirmed URL; Action required switched on and off through the
  filter dropdown (`Filter-buttonContainer` > `Button-button` > `Filter-option-...`), the legacy
  `#tab-action` tab or the classic table's `display.filter` parameter, whichever the page has;
  its state read from the markers public code checks (never assumed: the filter persists);
  pages turned with the pager (assumed) or the table's `display.pageNumber`.
- The patient file at `patientFile.action?patientId=` (confirmed URL; content assumed).
- The profile page and the account menu for the login's rights (assumed markup, confirmed rule).
- Comments and modification requests typed into the patient file's forms (assumed).

Every step runs under the retry policy through `Tab.until`: a page whose own requests failed is
loaded again, from the list's URL if a click left it broken.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable

from playwright.async_api import Error as PlaywrightError

from adapters.base import (
    ActionRefused,
    NotFound,
    OutcomeUnknown,
    PortalChanged,
    SessionExpired,
    has_marker,
)
from adapters.invisalign import pages, site
from adapters.invisalign.browsing import Broken, Tab
from adapters.invisalign.pages import ListView, PatientFile, ProfileView
from adapters.invisalign.signin import Hosts, Step

LIST_READY = ", ".join(
    (
        site.CARD,
        site.EMPTY_CONTAINER,
        site.LIST_ROOT,
        site.NO_ACCESS,
        site.LOAD_ERROR,
        f"{site.LIST_CONTAINER} {site.TABLE}",
    )
)
_LIST_FACTS = ("ids.list.card", "ids.list.root", "ids.list.classic-table")
_FILTER_FACTS = ("ids.list.filter-container", "ids.list.legacy-tab", "ids.list.param.filter")
CASE_READY = ", ".join(
    (
        site.CASE_DOCTOR,
        site.ERROR_PAGE,
        site.NO_ACCESS,
        site.LOAD_ERROR,
        # Rendered anything but the spinner (an unknown markup is then seen at once).
        f"{site.CASE_HOST} {site.APP_ROOT} > :not({site.LOADING})",
    )
)
_CASE_FACTS = ("ids.case.url", "ids.case.doctor")
#: How often a page is looked at again while it settles.
_POLL = 0.1


class SignedOut(Exception):
    """The app sent the tab to the sign-in: the session ended (the caller renews it once)."""


class DomReader:
    """One session's reading of the pages, on its tab (`Tab`)."""

    def __init__(self, tab: Tab, base_url: str, hosts: Hosts) -> None:
        self.tab = tab
        self.base_url = base_url
        self.hosts = hosts
        #: Where the list stands after the last step: (Action required on, page number).
        self._position: tuple[bool, int] | None = None
        self._layout: str | None = None

    # The patient list --------------------------------------------------------------------------

    async def list_pages(self, action: bool, start: int = 1) -> AsyncIterator[ListView]:
        """The list's pages from `start`, with Action required on or off."""
        number = start
        while True:

            async def reach(attempt: int, n: int = number) -> ListView:
                return await self._reach(action, n, cheap=attempt == 0)

            view = await self.tab.until(reach, "the patient list")
            self._position = (action, number)
            yield view
            if not view.has_next:
                return
            number += 1

    async def _reach(self, action: bool, number: int, *, cheap: bool) -> ListView:
        """Page `number` of the list with Action required `action`: from the current page when
        it is the one before (one click), else from the list's URL."""
        if cheap and self._position == (action, number - 1) and self._layout == "cards":
            return await self._next_card_page(action)
        self._position = None
        if self._layout == "table":  # the old list takes its filter and page in its URL
            code = site.FILTER_ACTION if action else site.FILTER_CURRENT
            mark = self.tab.mark()
            await self.tab.goto(self.base_url + site.list_table_url(code, number))
            return await self._settled(mark, lambda v: v.action_filter_on == action)
        mark = self.tab.mark()
        await self.tab.goto(self.base_url + site.LIST_PAGE)
        view = await self._settled(mark, lambda v: True)
        self._layout = view.layout
        if view.layout == "table":
            if view.action_filter_on != action or number > 1:
                code = site.FILTER_ACTION if action else site.FILTER_CURRENT
                mark = self.tab.mark()
                await self.tab.goto(self.base_url + site.list_table_url(code, number))
                view = await self._settled(mark, lambda v: v.action_filter_on == action)
            return view
        if view.action_filter_on != action:
            view = await self._switch(view, action)
        for _ in range(number - 1):
            view = await self._next_card_page(action, view)
        return view

    def _signed_in(self) -> None:
        if self.hosts.step_of(self.tab.url) is not Step.APP:
            self._position = None
            raise SignedOut

    async def _switch(self, view: ListView, action: bool) -> ListView:
        mark = self.tab.mark()
        if view.control == "dropdown":
            await self.tab.click(site.FILTER_BUTTON, "filter", ("ids.list.filter-button",))
            option, fact = (
                (site.FILTER_OPTION_ACTION, "ids.list.filter-option-action")
                if action
                else (site.FILTER_OPTION_ALL, "ids.list.filter-option-all")
            )
            await self.tab.click(option, "filter", (fact,))
        elif view.control == "tabs":
            tab, fact = (
                (site.LEGACY_TAB, "ids.list.legacy-tab")
                if action
                else (site.LEGACY_TAB_CURRENT, "ids.list.legacy-tab-current")
            )
            await self.tab.click(tab, "filter", (fact,))
        else:
            raise PortalChanged("patient list: no filter control", _FILTER_FACTS)
        return await self._settled(mark, lambda v: v.action_filter_on == action)

    async def _next_card_page(self, action: bool, view: ListView | None = None) -> ListView:
        if view is None:
            mark = self.tab.mark()
            view = await self._settled(mark, lambda v: True)
        if not view.has_next:
            raise Broken("the list has fewer pages than it had")
        before = view.page_info
        mark = self.tab.mark()
        await self.tab.click(site.PAGE_NEXT, "patient list pager", ("ids.list.page-next",))
        return await self._settled(
            mark, lambda v: v.page_info != before and v.action_filter_on == action
        )

    async def _settled(self, mark: int, done: Callable[[ListView], bool]) -> ListView:
        """The list once it rendered and shows what `done` expects."""
        what = "patient list"
        self._signed_in()
        await self.tab.rendered(LIST_READY, mark, what, _LIST_FACTS)
        deadline = time.monotonic() + self.tab.render_timeout
        unknown_since: float | None = None
        while True:
            try:
                view = pages.read_list((await self.tab.snapshot()).root())
            except PortalChanged:
                # Rendered without known cards: give a slow page its settle time, no more.
                now = time.monotonic()
                unknown_since = unknown_since or now
                if now - unknown_since >= self.tab.settle_timeout:
                    raise
                view = pages.ListView("pending")
            if view.state == "load_error":
                raise Broken("the list shows its load error")
            if view.state == "no_access":
                raise ActionRefused("the patient list says this login may not see patients")
            if view.state != "pending" and done(view):
                return view
            self._signed_in()  # the page script reloads the page when its session ended
            self.tab.check(mark, deadline, what, _LIST_FACTS)
            await asyncio.sleep(_POLL)

    # The patient file ---------------------------------------------------------------------------

    async def patient_file(self, patient_id: str) -> PatientFile:
        return await self.tab.until(lambda _: self._patient_file(patient_id), "a patient file")

    async def _patient_file(self, patient_id: str) -> PatientFile:
        self._position = None
        mark = self.tab.mark()
        response = await self.tab.goto(self.base_url + site.case_page(patient_id))
        if response.status == 404:
            raise NotFound("the portal has no such patient for this login")
        if response.status >= 400:
            raise PortalChanged(f"the patient file answered {response.status}", _CASE_FACTS)
        self._signed_in()
        what = "patient file"
        await self.tab.rendered(CASE_READY, mark, what, _CASE_FACTS)
        deadline = time.monotonic() + self.tab.render_timeout
        while True:
            found = pages.read_patient_file((await self.tab.snapshot()).root(), self.base_url)
            if found.state == "load_error":
                raise Broken("the patient file shows its load error")
            if found.state in ("not_found", "no_access"):
                raise NotFound("the portal has no such patient for this login")
            if found.state == "ok":
                if found.patient_id != patient_id:
                    raise PortalChanged(f"{what}: it shows another patient", ("ids.case.id",))
                return found
            self._signed_in()
            self.tab.check(mark, deadline, what, _CASE_FACTS)
            await asyncio.sleep(_POLL)

    # Who the login is ---------------------------------------------------------------------------

    async def profile(self) -> tuple[bool, ProfileView | None]:
        """(doctor, the profile's roles): a doctor is known by the tabs only doctors see."""
        return await self.tab.until(lambda _: self._profile(), "the profile page")

    async def _profile(self) -> tuple[bool, ProfileView | None]:
        self._position = None
        mark = self.tab.mark()
        response = await self.tab.goto(self.base_url + site.PROFILE_PAGE)
        self._signed_in()
        broken = self.tab.broken_since(mark)
        if broken is not None:
            raise broken
        if response.status >= 400:
            raise PortalChanged(
                f"the profile page answered {response.status}", ("ids.profile.url",)
            )
        root = (await self.tab.snapshot()).root()
        if pages.doctor_only_tabs(root):
            return True, None
        return False, pages.read_profile(root)

    # Comments and modification requests ---------------------------------------------------------

    async def post(
        self, patient_id: str, text: str, marker: str, plan_id: str | None = None
    ) -> str | None:
        """Type `text` into the patient file's comment form (or, with `plan_id`, that plan's
        modification form) and send it once; the id of what it created, when the page shows it.

        Sent at most once: once the POST may have left, any failure is `OutcomeUnknown` and the
        caller looks for `marker` before trying again."""
        await self.patient_file(patient_id)
        page = self.tab.page
        if plan_id is None:
            scope = ""
            field, button = site.COMMENT_INPUT, site.COMMENT_SUBMIT
            what, facts = "comment", ("ids.comment.input", "ids.comment.submit")
        else:
            scope = f'{site.PLAN}[{site.PLAN_ID_ATTRIBUTE}="{plan_id}"] '
            field, button = site.MODIFICATION_INPUT, site.MODIFICATION_SUBMIT
            what = "modification request"
            facts = ("ids.comment.modification-input", "ids.comment.modification-submit")
        form = page.locator(scope + field)
        if await form.count() != 1:
            # The page offers no such form: no right to post, or the plan is not up for review.
            raise ActionRefused(f"{what}: the patient file offers no form for it")
        try:
            await form.fill(text)
        except PlaywrightError:
            raise PortalChanged(f"{what}: the form could not be filled", facts) from None
        try:
            async with page.expect_response(
                lambda r: r.request.method == "POST", timeout=self.tab.render_timeout * 1000
            ) as answer:
                await page.locator(scope + button).first.click()
            response = await answer.value
        except PlaywrightError:
            raise OutcomeUnknown(f"the {what} may have reached the portal") from None
        status = response.status
        if status == 401:
            raise SessionExpired(f"the session ended before the {what} was taken")
        if status == 404:
            raise NotFound(f"{what}: the portal has no such patient or plan")
        if status in (400, 403, 409):
            raise ActionRefused(f"{what}: the portal refused it ({status})")
        if status >= 300:
            raise OutcomeUnknown(f"the {what} was answered {status}; check before resending")
        try:
            created = await self.patient_file(patient_id)
        except (Broken, PortalChanged):
            return None  # posted; the id is found later through the marker
        mine = [c for c in created.comments if has_marker(c.body, marker)]
        return mine[-1].vendor_comment_id if mine else None
