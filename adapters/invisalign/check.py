"""`portal check` on the Invisalign Doctor Site: walk what the adapter relies on, read-only.

With the session the gate let open (a saved one when it still works): the sign-in's redirects
and form as a browser without a session sees them (no password is typed), the session cookie,
the patient list (frame, filter control, cards or table, labels in the page's language), a few
patient files (plans, their files, comments) and the profile. Every page is read with the
adapter's own selectors (`site`) and parsers (`pages`): the check probes each selector, then
lets the parser read the page, so a parser that refuses a page the probes passed is reported
too. Nothing is clicked but the filter button (it only opens the options), nothing is posted,
and no comment is opened other than by viewing its patient file, as the sync does.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Page
from playwright.async_api import Response as PageResponse

from adapters.base import CaseStatus, PortalChanged
from adapters.base.check import Recorder, Verdict, Walk
from adapters.browser.capture import rendered_html
from adapters.http import redirect_chain
from adapters.invisalign import pages, site, status
from adapters.invisalign.adapter import InvisalignAdapter, InvisalignSession
from adapters.invisalign.html import Element, parse
from adapters.invisalign.reader import CASE_READY, LIST_READY
from adapters.invisalign.signin import Step

#: Patient files opened to meet plans, their files and comments.
MAX_PATIENT_FILES = 4
_POLL = 0.1
#: The JSON the pages load, by the fact of its path.
_API_FACTS = (
    (site.API_PROFILE, "ids.api.profile"),
    (site.API_PATIENTS, "ids.api.patients"),
)


class _Page:
    """One page as the check reads it: the rendered DOM (shadow roots included)."""

    def __init__(self, name: str, url: str, html: str) -> None:
        self.name = name
        self.url = url
        self.html = html
        self.root = parse(html)

    def count(self, selector: str, within: Element | None = None) -> int:
        return len((within or self.root).select(selector))


async def check(
    adapter: InvisalignAdapter,
    session: InvisalignSession,
    walk: Walk,
    recorder: Recorder | None = None,
) -> None:
    """Walk the site with `session` and note every fact seen in `walk` (pages to `recorder`)."""
    await _sign_in_pages(adapter, walk, recorder)
    page = await session.browser_page()
    loaded: list[tuple[str, asyncio.Future[str]]] = []

    def answered(response: PageResponse) -> None:
        """JSON bodies are read at once: a page's bodies are gone once the tab moves on."""
        kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
        if kind == "application/json" and response.status == 200:
            loaded.append((response.url, asyncio.ensure_future(response.text())))

    page.on("response", answered)
    cookies = {c.get("name") for c in await page.context.cookies([adapter.base_url])}
    walk.present("ids.session.cookie", int(site.SESSION_COOKIE in cookies), required=True)
    walk.present("ids.session.csrf-cookie", int(site.CSRF_COOKIE in cookies), required=False)
    if session.fast:
        walk.holds("ids.api.profile", "answers")
    _keep(recorder, walk, None)
    listing = await _open(adapter, page, "list", site.LIST_PAGE, LIST_READY, _list_done)
    patient_ids = []
    if listing is not None:
        patient_ids = await _patient_list(page, listing, walk)
        _keep(recorder, walk, listing)
    for patient_id in patient_ids[:MAX_PATIENT_FILES]:
        if walk.verdict("ids.plan.file") is walk.verdict("ids.comment.card") is Verdict.HOLDS:
            break  # plans, their files and comments met: enough patient files
        shown = await _open(
            adapter, page, "patient", site.case_page(patient_id), CASE_READY, _case_done
        )
        if shown is not None:
            walk.holds("ids.case.url")
            walk.holds("ids.case.param")
            _patient_file(adapter, shown, patient_id, walk)
            _keep(recorder, walk, shown)
    profile = await _open(adapter, page, "profile", site.PROFILE_PAGE, "body", lambda _: True)
    if profile is not None:
        walk.holds("ids.profile.url")
        _profile(profile, walk)
        _keep(recorder, walk, profile)
    await _loaded_json(loaded, walk, recorder)


def _keep(recorder: Recorder | None, walk: Walk, shown: _Page | None) -> None:
    facts = walk.touched()
    if recorder is not None and shown is not None:
        recorder.html(shown.name, shown.url, shown.html, facts)


# The sign-in, as a browser without a session meets it -------------------------------------------


async def _sign_in_pages(adapter: InvisalignAdapter, walk: Walk, recorder: Recorder | None) -> None:
    """Open the entry page without cookies and follow it to the hosted login; read the form.
    Nothing is typed: a GET of the login page is what every visitor does."""
    async with adapter.http_client() as client:
        chain = await redirect_chain(client, site.ENTRY_PAGE, policy=adapter.policy)
    first, last = chain[0], chain[-1]
    if first.status_code in (200, 301, 302, 303, 307):
        walk.holds("ids.login.entry", f"HTTP {first.status_code}")
    else:
        walk.differs("ids.login.entry", f"HTTP {first.status_code}")
    parts = urlsplit(str(last.url))
    host = (parts.hostname or "").lower()
    step = adapter.hosts.step_of(str(last.url))
    if host == site.APP_HOST:
        walk.holds("ids.host.app", host)
    if step is Step.LOGIN:
        walk.holds("ids.host.redirect-to-login", f"{len(chain) - 1} redirects")
        walk.holds("ids.login.path", parts.path)
        fact = "ids.host.login" if host in site.LOGIN_HOSTS else "ids.host.sandbox-login"
        walk.holds(fact, host)
        if parts.path == site.LOGIN_PATH and "state" in parse_qs(parts.query):
            walk.holds("ids.login.state-param")
        else:
            walk.differs("ids.login.state-param", "no state parameter")
    elif step is Step.FOREIGN_LOGIN:
        walk.differs("ids.host.login", host)
        return
    else:
        walk.differs("ids.host.redirect-to-login", f"ended on {parts.path or '/'}")
        walk.differs("ids.login.path", parts.path or "/")
        return
    login = _Page("login", str(last.url), last.text)
    walk.present("ids.login.username-field", login.count(site.USERNAME_FIELD), required=True)
    walk.present("ids.login.password-field", login.count(site.PASSWORD_FIELD), required=True)
    walk.present("ids.login.submit", login.count(site.SUBMIT_BUTTON), required=True)
    walk.present("ids.login.remember", login.count(site.REMEMBER_CHECKBOX), required=False)
    _keep(recorder, walk, login)


# Opening a page in the signed-in tab --------------------------------------------------------------


def _list_done(root: Element) -> bool:
    try:
        return pages.read_list(root).state != "pending"
    except PortalChanged:
        return True


def _case_done(root: Element) -> bool:
    try:
        return pages.read_patient_file(root, "").state != "pending"
    except PortalChanged:
        return True


async def _open(
    adapter: InvisalignAdapter,
    page: Page,
    name: str,
    path: str,
    ready: str,
    done: Any,
) -> _Page | None:
    """The page at `path` once rendered and settled (or once its settle time is up), or None
    when it could not be reached (an error answer, or the session left the app)."""
    try:
        response = await page.goto(adapter.base_url + path, wait_until="load")
        await page.locator(ready).first.wait_for(
            state="attached", timeout=adapter.render_timeout * 1000
        )
    except PlaywrightError:
        return None
    if response is None or response.status >= 400:
        return None
    if adapter.hosts.step_of(page.url) is not Step.APP:
        return None
    deadline = time.monotonic() + adapter.settle_timeout
    while True:
        shown = _Page(name, page.url, await rendered_html(page))
        if done(shown.root) or time.monotonic() >= deadline:
            return shown
        await asyncio.sleep(_POLL)


# The patient list ---------------------------------------------------------------------------------


def _language(walk: Walk, shown: _Page) -> str | None:
    html = shown.root.first("html")
    lang = (html.get("lang") if html is not None else None) or None
    if lang:
        walk.language = lang.split("-")[0].lower()
    return walk.language


def _label(walk: Walk, labels: dict[str, dict[str, str]], word: str) -> str | None:
    """The fact of a UI word: held when the page shows it in its language."""
    key = " ".join(word.split()).casefold()
    for fact, words in labels.items():
        for lang, text in words.items():
            if " ".join(text.split()).casefold() == key:
                walk.holds(fact, f"{text} ({lang})")
                return fact
    return None


def _status_word(walk: Walk, word: str) -> None:
    if _label(walk, site.STATUSES, word) is None:
        if status.case_status(word) is CaseStatus.UNKNOWN:
            walk.unknown_words.add(" ".join(word.split())[:80])
        else:  # a word public code matches inside a longer text
            for fact, langs in site.STATUS_SUBSTRINGS.items():
                if any(site.STATUSES[fact][lang] in word for lang in langs):
                    walk.holds(fact, "within a longer status")


async def _patient_list(page: Page, shown: _Page, walk: Walk) -> list[str]:
    """Note the list's facts; the patient numbers it shows (read by the adapter's parser, or
    from the patient-file links when the parser cannot read the list any more)."""
    walk.holds("ids.list.url")
    _language(walk, shown)
    walk.present("ids.list.container", shown.count(site.LIST_CONTAINER), required=True)
    view: pages.ListView | None = None
    refused: PortalChanged | None = None
    try:
        view = pages.read_list(shown.root)
    except PortalChanged as error:
        refused = error
    table = view is not None and view.layout == "table"
    empty = shown.count(site.EMPTY_CONTAINER) + shown.count(site.EMPTY_TEXT) > 0
    if empty:
        walk.present("ids.list.empty-container", shown.count(site.EMPTY_CONTAINER), required=False)
        walk.present("ids.list.empty-text", shown.count(site.EMPTY_TEXT), required=False)
    if table:
        walk.present("ids.list.classic-table", shown.count(site.TABLE), required=True)
        headers = [th.text() for th in shown.root.select("th")]
        for labels in (site.COLUMN_PATIENT, site.COLUMN_ORDER_STATUS):
            fact = "ids.list.classic-col." + (
                "patient" if labels is site.COLUMN_PATIENT else "order-status"
            )
            if not any(_label(walk, {fact: labels}, h) for h in headers):
                walk.differs(fact, "not among the column headers")
        for h in headers:
            _label(walk, {"ids.list.classic-col.treatment": site.COLUMN_TREATMENT}, h)
            _label(walk, {"ids.list.label.last-activity": site.COLUMN_LAST_ACTIVITY}, h)
        if view is not None and view.rows:
            walk.holds("ids.list.classic-patient-cell", f"{len(view.rows)} patients")
        walk.present(
            "ids.list.classic-last-activity", shown.count(site.TABLE_LAST_ACTIVITY), required=False
        )
        walk.present("ids.list.classic-pager-next", shown.count(site.TABLE_NEXT), required=False)
    else:
        _cards(shown, walk, required=not empty)
    await _filter(page, shown, walk, table)
    if view is not None:
        for row in view.rows:
            _status_word(walk, row.status)
    if refused is not None:
        walk.parser_refused("patient list", refused.detail, refused.facts)
    if view is not None and view.rows:
        return [row.patient_id for row in view.rows]
    return _linked_patients(shown)


def _cards(shown: _Page, walk: Walk, *, required: bool) -> None:
    """The card list: what every card of a non-empty list must show, and what some do."""
    walk.present("ids.list.shadow-host", shown.count(site.SHADOW_HOST), required=True)
    walk.present("ids.list.page-body", shown.count(site.PAGE_BODY), required=True)
    walk.present("ids.list.root", shown.count(site.LIST_ROOT), required=required)
    for fact, selector in (
        ("ids.list.card", site.CARD),
        ("ids.list.name", site.CARD_NAME),
        ("ids.list.id", site.CARD_ID),
        ("ids.list.status", site.CARD_STATUS),
        ("ids.list.last-activity", site.CARD_LAST_ACTIVITY),
        ("ids.list.page-info", site.PAGE_INFO),
    ):
        walk.present(fact, shown.count(selector), required=required)
    for fact, selector in (
        ("ids.list.treatment", site.CARD_TREATMENT),
        ("ids.list.link", site.CARD_LINK),
        ("ids.list.action-required", site.CARD_ACTION_REQUIRED),
        ("ids.list.unread", site.CARD_UNREAD),
        ("ids.list.doctor-line", site.CARD_DOCTOR_LINE),
        ("ids.list.page-next", site.PAGE_NEXT),
        ("ids.list.search", site.SEARCH_INPUT),
    ):
        walk.present(fact, shown.count(selector), required=False)


async def _filter(page: Page, shown: _Page, walk: Walk, table: bool) -> None:
    """The Action required control: the dropdown (opened to see its options, and closed again:
    choosing one would be kept for the login), the legacy tabs, or the table's tabs."""
    if shown.count(site.FILTER_CONTAINER):
        walk.holds("ids.list.filter-container")
        if not walk.present(
            "ids.list.filter-button", shown.count(site.FILTER_BUTTON), required=True
        ):
            return
        walk.present(
            "ids.list.filter-tag-action", shown.count(site.FILTER_TAG_ACTION), required=False
        )
        walk.present("ids.list.active-filters", shown.count(site.ACTIVE_FILTERS), required=False)
        button = page.locator(site.FILTER_BUTTON).first
        try:
            await button.click()
            options = page.locator(site.FILTER_OPTION_ACTION)
            await options.first.wait_for(state="attached", timeout=5000)
        except PlaywrightError:
            walk.differs("ids.list.filter-option-action", "the dropdown shows no such option")
            return
        walk.holds("ids.list.filter-option-action", f"{await options.count()} in the dropdown")
        walk.present(
            "ids.list.filter-option-all",
            await page.locator(site.FILTER_OPTION_ALL).count(),
            required=False,
        )
        with contextlib.suppress(PlaywrightError):  # a dropdown that closed by itself
            await button.click()
    elif shown.count(site.LEGACY_TAB):
        walk.holds("ids.list.legacy-tab")
        walk.present(
            "ids.list.legacy-tab-current", shown.count(site.LEGACY_TAB_CURRENT), required=False
        )
        walk.present("ids.list.legacy-tab-on", shown.count(site.LEGACY_TAB_ON), required=False)
        if table:
            walk.holds("ids.list.param.filter", "the tabs link it")
    elif not table:
        walk.differs("ids.list.filter-container", "no filter control on the list")


def _linked_patients(shown: _Page) -> list[str]:
    """Patient numbers from the links to their files (the confirmed URL and parameter)."""
    found: list[str] = []
    file_path = urlsplit(site.case_page("0")).path
    for link in shown.root.select("a"):
        href = urlsplit(link.get("href") or "")
        if href.path == file_path:
            for value in parse_qs(href.query).get(site.CASE_PARAM, []):
                if value.isdigit() and value not in found:
                    found.append(value)
    return found


# A patient file -----------------------------------------------------------------------------------


def _patient_file(adapter: InvisalignAdapter, shown: _Page, patient_id: str, walk: Walk) -> None:
    walk.present("ids.case.host-sandbox", shown.count(site.CASE_HOST), required=False)
    for fact, selector in (
        ("ids.case.name", site.CASE_NAME),
        ("ids.case.id", site.CASE_ID),
        ("ids.case.status", site.CASE_STATUS),
        ("ids.case.doctor", site.CASE_DOCTOR),
    ):
        walk.present(fact, shown.count(selector), required=True)
    walk.present("ids.case.history-item", shown.count(site.CASE_HISTORY_ITEM), required=False)
    for plan in shown.root.select(site.PLAN):
        walk.holds("ids.plan.card")
        for fact, attribute in (
            ("ids.plan.id-attr", site.PLAN_ID_ATTRIBUTE),
            ("ids.plan.version-attr", site.PLAN_VERSION_ATTRIBUTE),
        ):
            walk.present(fact, int(plan.get(attribute) is not None), required=True)
        state = plan.first(site.PLAN_STATE)
        if walk.present("ids.plan.state-cell", int(state is not None), required=True):
            assert state is not None
            if _label(walk, site.PLAN_STATES, state.text()) is None:
                walk.unknown_words.add(" ".join(state.text().split())[:80])
        walk.present("ids.plan.created", shown.count(site.PLAN_CREATED, plan), required=False)
        walk.present("ids.plan.viewer-link", shown.count(site.PLAN_VIEWER, plan), required=False)
        for file in plan.select(site.PLAN_FILE):
            walk.holds("ids.plan.file")
            walk.present(
                "ids.plan.file-kind-attr",
                int(file.get(site.PLAN_FILE_KIND) is not None),
                required=True,
            )
            walk.present(
                "ids.plan.file-bytes", shown.count(site.PLAN_FILE_BYTES, file), required=False
            )
    for comment in shown.root.select(site.COMMENT):
        walk.holds("ids.comment.card")
        walk.present(
            "ids.comment.id-attr",
            int(comment.get(site.COMMENT_ID_ATTRIBUTE) is not None),
            required=True,
        )
        walk.present("ids.comment.author", shown.count(site.COMMENT_AUTHOR, comment), required=True)
        walk.present("ids.comment.body", shown.count(site.COMMENT_BODY, comment), required=True)
        walk.present("ids.comment.date", shown.count(site.COMMENT_DATE, comment), required=False)
        walk.present(
            "ids.comment.unread-attr",
            int(comment.get(site.COMMENT_UNREAD_ATTRIBUTE) is not None),
            required=False,
        )
        role = comment.first(site.COMMENT_ROLE)
        if walk.present("ids.comment.role", int(role is not None), required=True):
            assert role is not None
            code = role.get(site.COMMENT_ROLE_ATTRIBUTE)
            walk.present("ids.comment.role-attr", int(code is not None), required=True)
            if code is not None and status.author_role(code) is not None:
                walk.holds(f"ids.comment.author-role.{code.strip().lower()}", code)
    for fact, selector in (
        ("ids.comment.input", site.COMMENT_INPUT),
        ("ids.comment.submit", site.COMMENT_SUBMIT),
        ("ids.comment.modification-input", site.MODIFICATION_INPUT),
        ("ids.comment.modification-submit", site.MODIFICATION_SUBMIT),
    ):
        walk.present(fact, shown.count(selector), required=False)
    try:
        found = pages.read_patient_file(shown.root, adapter.base_url)
    except PortalChanged as error:
        walk.parser_refused("patient file", error.detail, error.facts)
        return
    if found.state == "ok":
        if found.patient_id != patient_id:
            walk.differs("ids.case.id", "another patient's number")
        _status_word(walk, found.status)
    else:
        walk.parser_errors.append(f"patient file: the page reads as {found.state}")


# The profile --------------------------------------------------------------------------------------


def _profile(shown: _Page, walk: Walk) -> None:
    menu = site.ACCOUNT_TABS.rsplit(" ", 1)[0]
    walk.present("ids.menu.account-tabs", shown.count(menu), required=True)
    walk.present("ids.profile.email", shown.count(site.PROFILE_USERNAME), required=True)
    roles = shown.root.select(site.PROFILE_ROLE)
    walk.present("ids.profile.role", len(roles), required=False)
    for role in roles:
        if _label(walk, site.ROLES, role.text()) is None:
            _label(walk, {"ids.profile.label.owner": site.PROFILE_OWNER}, role.text())
    for tab in shown.root.select(site.ACCOUNT_TABS):
        _label(walk, {"ids.account.staff": site.ACCOUNT_STAFF}, tab.text())
    try:
        if not pages.doctor_only_tabs(shown.root):
            pages.read_profile(shown.root)
    except PortalChanged as error:
        walk.parser_refused("profile", error.detail, error.facts)


# The JSON the pages loaded ------------------------------------------------------------------------


async def _loaded_json(
    loaded: list[tuple[str, asyncio.Future[str]]], walk: Walk, recorder: Recorder | None
) -> None:
    for url, body in loaded:
        path = urlsplit(url).path
        facts = [fact for prefix, fact in _API_FACTS if path.startswith(prefix)]
        for fact in facts:
            walk.holds(fact, "the pages load it")
        walk.touched()
        try:
            text = await body
        except PlaywrightError:
            continue
        if recorder is not None:
            recorder.json("json", url, text, facts)
