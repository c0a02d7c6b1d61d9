"""`portal check` on the ClearCorrect Doctor Portal: walk what the adapter relies on, read-only.

With the session the gate let open (a saved one when it still works): the sign-in page and the
redirect of a page without a session (no password is posted), My Account, Manage Orders as it
opens (no postback: the Status drop-down and the pager are not touched), a few case pages and
their setup pages; where the session reads the JSON fast path, the same data through it. Every
page is read with the adapter's own names (`site.webforms`, `site.app`, `site.labels`) and
parsers: the check probes each element, then lets the parser read the page, so a parser that
refuses a page the probes passed is reported too. Only GETs: nothing is posted, and a case page
is opened as the sync opens it (reading a note marks nothing read in this sandbox; on the real
portal that is unverified, `cc.side.open-marks-read`).
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx

from adapters.base import AdapterError, PortalChanged
from adapters.base.check import Recorder, Walk
from adapters.clearcorrect.adapter import ClearCorrectAdapter, ClearCorrectSession
from adapters.clearcorrect.site import app, html, labels, webforms
from adapters.http import make_client, redirect_chain

#: Case pages (and their setup pages) opened to meet setups, notes and files.
MAX_CASES = 3


class _Page:
    def __init__(self, name: str, response: httpx.Response) -> None:
        self.name = name
        self.url = str(response.url)
        self.html = response.text
        self.doc = html.parse(response.text)

    def has_id(self, element_id: str) -> int:
        return int(self.doc.by_id(element_id) is not None)

    def has_field(self, name: str) -> int:
        return sum(1 for e in self.doc.iter() if e.get("name") == name)


async def check(
    adapter: ClearCorrectAdapter,
    session: ClearCorrectSession,
    walk: Walk,
    recorder: Recorder | None = None,
) -> None:
    """Walk the portal with `session` and note every fact seen in `walk` (pages to `recorder`)."""
    webforms_site = await _sign_in_pages(adapter, walk, recorder)
    walk.present(
        "cc.wf.session.auth-cookie",
        int(session.cookie(webforms.AUTH_COOKIE) is not None),
        required=webforms_site,
    )
    if webforms_site:
        account = await _get(session, "account", webforms.ACCOUNT_PATH)
        if account is not None:
            _account(account, walk)
            _keep(recorder, walk, account)
        listing = await _get(session, "list", webforms.CASES_PATH)
        case_ids: list[str] = []
        if listing is not None:
            case_ids = _list(listing, walk)
            _keep(recorder, walk, listing)
        for case_id in case_ids[:MAX_CASES]:
            await _case(session, case_id, walk, recorder)
    if session.uses_api:
        await _api(session, walk)


def _keep(recorder: Recorder | None, walk: Walk, shown: _Page | None) -> None:
    facts = walk.touched()
    if recorder is not None and shown is not None:
        recorder.html(shown.name, shown.url, shown.html, facts)


async def _get(session: ClearCorrectSession, name: str, path: str) -> _Page | None:
    """A page of the signed-in session (None when it is not an HTML page: reported by the
    probes of what was expected on it)."""
    url = path if path.startswith("http") else session.base_url + path
    response = await session.send("GET", url)
    await response.aread()
    content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if response.status_code != 200 or content_type != "text/html":
        return None
    return _Page(name, response)


# The sign-in, as a browser without a session meets it -------------------------------------------


async def _sign_in_pages(
    adapter: ClearCorrectAdapter, walk: Walk, recorder: Recorder | None
) -> bool:
    """A page without a session is sent to the sign-in page, whose form the adapter fills;
    True when the portal has the WebForms sign-in (else the Identity app's is looked at)."""
    async with make_client(adapter.base_url) as client:
        chain = await redirect_chain(client, webforms.CASES_PATH, policy=adapter.policy)
        if webforms.signed_out(chain[0]):
            walk.holds("cc.wf.session.login-redirect", webforms.location_path(chain[0]))
            back = parse_qs(urlsplit(chain[0].headers.get("location", "")).query)
            walk.present(
                "cc.wf.signin.return-param", int(webforms.RETURN_PARAM in back), required=False
            )
        last = chain[-1]
        if last.status_code == 200 and webforms.is_login_page(html.parse(last.text)):
            walk.holds("cc.list.url", "asks for the sign-in")
            shown = _Page("signin", last)
            walk.holds("cc.wf.signin.page-path", urlsplit(shown.url).path)
            try:
                webforms.parse_login_page(last, adapter.base_url)
            except PortalChanged as error:
                for fact in error.facts:
                    walk.differs(fact, "not on the sign-in page")
            else:
                for fact in (
                    "cc.wf.signin.username-field",
                    "cc.wf.signin.password-field",
                    "cc.wf.signin.submit-field",
                    "cc.wf.postback.form",
                    "cc.wf.postback.viewstate",
                ):
                    walk.holds(fact)
            walk.present("cc.wf.signin.error", shown.has_id(webforms.SIGN_IN_ERROR), required=False)
            _keep(recorder, walk, shown)
            return True
        identity = await redirect_chain(client, app.LOGIN_PATH, policy=adapter.policy)
    page = identity[-1]
    if page.status_code != 200:
        walk.differs("cc.wf.signin.page-path", f"no sign-in page (HTTP {last.status_code})")
        return False
    shown = _Page("signin", page)
    walk.holds("cc.app.signin.login-path", urlsplit(shown.url).path)
    walk.present("cc.app.signin.email-field", shown.has_field(app.EMAIL_FIELD), required=True)
    walk.present("cc.app.signin.password-field", shown.has_field(app.PASSWORD_FIELD), required=True)
    walk.present("cc.app.signin.token-field", shown.has_field(app.TOKEN_FIELD), required=False)
    _keep(recorder, walk, shown)
    return False


# My Account, Manage Orders, a case, a setup -----------------------------------------------------


def _language(walk: Walk, shown: _Page) -> None:
    lang = shown.doc.lang
    if lang:
        walk.language = lang.split("-")[0].lower()


def _account(shown: _Page, walk: Walk) -> None:
    walk.holds("cc.wf.account.path")
    _language(walk, shown)
    walk.present(
        "cc.wf.signin.signed-in-user", shown.has_id(webforms.SIGNED_IN_USER), required=True
    )
    if webforms.signed_in_as(shown.doc) is not None:
        walk.holds("cc.wf.signin.welcome-prefix")
    if walk.present("cc.wf.account.type", shown.has_id(webforms.ACCOUNT_TYPE), required=True):
        kind = shown.doc.by_id(webforms.ACCOUNT_TYPE)
        fact = labels.ACCOUNT_TYPES.fact(kind.words()) if kind is not None else None
        if fact is not None:
            walk.holds(fact, "the account type")
    table = shown.doc.by_id(webforms.COLLABORATIONS)
    walk.present("cc.wf.account.collaborations", int(table is not None), required=False)
    for item in table.iter("li") if table is not None else ():
        fact = labels.PERMISSIONS.fact(item.words())
        if fact is not None:
            walk.holds(fact, "a permission")
        else:
            walk.unknown_words.add(item.words()[:80])
    try:
        webforms.parse_access(shown.doc)
    except PortalChanged as error:
        walk.parser_refused("My Account", error.detail, error.facts)


def _linked(shown: _Page, path: str) -> list[str]:
    """Ids from the links to `path` (`?id=`), in page order: how a check still reaches the
    pages behind a list the parser cannot read any more."""
    found: list[str] = []
    end = path.rsplit("/", 1)[1].casefold()
    for link in shown.doc.iter("a"):
        parts = urlsplit(link.get("href"))
        if parts.path.casefold().endswith(end):
            for value in parse_qs(parts.query).get(webforms.ID_PARAM, []):
                if value.isdigit() and value not in found:
                    found.append(value)
    return found


def _list(shown: _Page, walk: Walk) -> list[str]:
    walk.holds("cc.list.url")
    _language(walk, shown)
    walk.present(
        "cc.wf.list.status-dropdown", shown.has_field(webforms.STATUS_DROPDOWN), required=True
    )
    walk.present("cc.wf.postback.form", shown.has_id(webforms.FORM_ID), required=True)
    walk.present("cc.wf.postback.viewstate", shown.has_field(webforms.VIEWSTATE), required=True)
    grid = shown.doc.by_id(webforms.CASES_GRID)
    walk.present("cc.wf.list.grid", int(grid is not None), required=True)
    if grid is not None and grid.rows():
        for cell in grid.rows()[0].cells():
            fact = labels.COLUMNS.fact(cell.words())
            if fact is not None:
                walk.holds(fact, cell.words())
        bubbles = sum(1 for s in grid.iter("span") if webforms.BUBBLE_CLASS in s.classes)
        walk.present("cc.wf.list.bubble", bubbles, required=False)
    try:
        listing = webforms.parse_list(shown.doc)
    except PortalChanged as error:
        walk.parser_refused("Manage Orders", error.detail, error.facts)
        return _linked(shown, webforms.CASE_PATH)
    if listing.items:
        walk.holds("cc.wf.list.case-link", f"{len(listing.items)} cases")
        walk.holds("cc.wf.list.doctor-link")
        walk.holds("cc.wf.list.date-format")
    walk.holds("cc.wf.list.status-codes", listing.group)
    for item in listing.items:
        _status(walk, item.vendor_status)
    return [item.vendor_case_id for item in listing.items]


def _status(walk: Walk, word: str) -> None:
    fact = labels.STATUSES.fact(word)
    if fact is not None:
        walk.holds(fact, word)
    else:
        walk.unknown_words.add(" ".join(word.split())[:80])


async def _case(
    session: ClearCorrectSession, case_id: str, walk: Walk, recorder: Recorder | None
) -> None:
    shown = await _get(session, "case", webforms.case_url(session.base_url, case_id))
    if shown is None:
        return
    walk.holds("cc.wf.case.path")
    walk.holds("cc.wf.case.id-param")
    for fact, element_id in (
        ("cc.wf.case.number-label", webforms.CASE_NUMBER),
        ("cc.wf.case.patient", webforms.PATIENT),
        ("cc.wf.case.doctor", webforms.DOCTOR),
        ("cc.wf.case.status", webforms.STATUS),
        ("cc.wf.case.last-activity", webforms.LAST_ACTIVITY),
        ("cc.wf.case.setups-grid", webforms.SETUPS_GRID),
        ("cc.wf.case.notes-grid", webforms.NOTES_GRID),
    ):
        walk.present(fact, shown.has_id(element_id), required=True)
    for fact, element_id in (
        ("cc.wf.case.action-needed-tab-id", webforms.ACTION_NEEDED_TAB),
        ("cc.wf.case.note-box", webforms.NOTE_BOX),
        ("cc.wf.case.note-watermark-state", webforms.NOTE_STATE),
        ("cc.wf.case.note-save", webforms.NOTE_SAVE),
    ):
        walk.present(fact, shown.has_id(element_id), required=False)
    setup_ids = _linked(shown, webforms.SETUP_PATH)
    try:
        page = webforms.parse_case(shown.doc, case_id)
    except PortalChanged as error:
        walk.parser_refused("a case page", error.detail, error.facts)
    else:
        if page.comments:
            for fact in ("cc.wf.case.note-text", "cc.wf.chat.note-id", "cc.wf.case.note-created"):
                walk.holds(fact, f"{len(page.comments)} notes")
        if any(c.unread for c in page.comments):
            walk.holds("cc.wf.chat.unread")
        for row in page.setups:
            state_fact = labels.SETUP_STATES.fact(row.vendor_state)
            if state_fact is not None:
                walk.holds(state_fact, row.vendor_state)
        _status(walk, page.summary.vendor_status)
        setup_ids = [row.setup_id for row in page.setups] or setup_ids
    _keep(recorder, walk, shown)
    for setup_id in setup_ids[:1]:
        await _setup(session, case_id, setup_id, walk, recorder)


async def _setup(
    session: ClearCorrectSession,
    case_id: str,
    setup_id: str,
    walk: Walk,
    recorder: Recorder | None,
) -> None:
    shown = await _get(session, "setup", webforms.setup_url(session.base_url, setup_id))
    if shown is None:
        return
    walk.holds("cc.wf.setup.path")
    for fact, element_id in (
        ("cc.wf.setup.header", webforms.SETUP_HEADER),
        ("cc.wf.setup.state", webforms.SETUP_STATE),
        ("cc.wf.setup.files-grid", webforms.FILES_GRID),
    ):
        walk.present(fact, shown.has_id(element_id), required=True)
    walk.present(
        "cc.wf.decline.reason-field", shown.has_field(webforms.DECLINE_REASON), required=False
    )
    try:
        if webforms.setup_case_number(shown.doc) == case_id:
            walk.holds("cc.wf.setup.header-prefix")
        else:
            walk.differs("cc.wf.setup.header", "names another case")
        files = webforms.parse_files(shown.doc)
    except PortalChanged as error:
        walk.parser_refused("a setup page", error.detail, error.facts)
    else:
        if files:
            walk.holds("cc.wf.setup.files-link", f"{len(files)} STL files")
    _keep(recorder, walk, shown)


# The JSON fast path -----------------------------------------------------------------------------


async def _api(session: ClearCorrectSession, walk: Walk) -> None:
    """The session reads the JSON API: the adapter's own reader answers, or names what broke."""
    try:
        await session.check_access()
        walk.holds("cc.app.api.account")
        first = None
        async for page in session.list_cases(None):
            walk.holds("cc.app.api.cases")
            first = next(iter(page.items), None)
            break
        if first is not None:
            await session.get_case(first.vendor_case_id)
            walk.holds("cc.app.api.case")
    except PortalChanged as error:
        for fact in error.facts or ("cc.app.api.cases",):
            walk.differs(fact, "the adapter's JSON reader refused it")
    except AdapterError as error:
        walk.parser_errors.append(f"JSON API: {error.reason}")
    walk.touched()
