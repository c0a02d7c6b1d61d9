"""The WebForms partner pages (register variant `webforms`): their paths, ids, field names and
the parsers that turn them into the shared value types.

What public code written against the real portal confirms is read as it shows it: the case
page by `?id=`, `#ctl00_MainPH_lbl_txtCaseID`, `#ctl00_lblUserName`, the Notes grid and its
form, `setup.aspx` and its header, the case submission pop-up's Files grid with the STL links
and their arch, `__doPostBack`. What the sync needs and no source shows (the sign-in page, the
case list, the doctor's id, the setups grid, where the chat is, the decline box, the account's
permissions) is declared `unverified` and read by the readers below all the same; `portal check`
reports those first.

Parsing is strict: a page without the element a fact names raises `PortalChanged` naming the
fact, never "nothing", because an unparsed list read as empty would mark every case removed.
Messages raised here never carry what the page showed (names, notes, e-mail addresses).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import Enum
from urllib.parse import parse_qs, urlsplit

import httpx

from adapters.base import (
    Access,
    AccountLocked,
    AuthorRole,
    Capability,
    CaseSummary,
    Comment,
    InvalidCredentials,
    MalformedCredentials,
    MfaRequired,
    NotFound,
    PasswordExpired,
    PortalChanged,
    SetupFile,
    SetupState,
    VerificationCodeRejected,
)
from adapters.clearcorrect.site import html, labels
from adapters.clearcorrect.site.facts import FACTS, UNVERIFIED, split, unverified
from adapters.clearcorrect.status import (
    EXCESSIVE_DOCTOR,
    INSUFFICIENT_VIEW,
    case_status,
)
from adapters.http.parse import absolute_url

# ---- selectors as the register writes them, and what the parsers need of them ----------------


def _id(selector: str) -> str:
    """`#x` or `table#x` -> `x`."""
    return selector.split("#", 1)[1]


def _path(literal: str) -> str:
    """`/detail/case.aspx?id=<case number>` -> `/detail/case.aspx`."""
    return literal.split("?", 1)[0]


def _param(literal: str) -> str:
    """`cases.aspx?doctor=<doctor id>` -> `doctor`."""
    return literal.split("?", 1)[1].split("=", 1)[0]


# sign-in (no source shows the real page: every name is unverified)
LOGIN_PATH = unverified("cc.wf.signin.page-path", "/Login.aspx")
USERNAME_FIELD = unverified("cc.wf.signin.username-field", "ctl00$MainPH$txtUserName")
PASSWORD_FIELD = unverified("cc.wf.signin.password-field", "ctl00$MainPH$txtPassword")
SIGN_IN_BUTTON = unverified("cc.wf.signin.submit-field", "ctl00$MainPH$btnLogin")
SIGN_IN_ERROR = _id(unverified("cc.wf.signin.error", "#ctl00_MainPH_lblError"))
RETURN_PARAM = FACTS.value("cc.wf.signin.return-param", "ReturnUrl")
CODE_PATH = FACTS.value("cc.wf.signin.code-path", "/LoginVerify.aspx")
CODE_FIELD = FACTS.value("cc.wf.signin.code-field", "ctl00$MainPH$txtCode")
CODE_PROVIDER = FACTS.value("cc.wf.signin.code-provider", "ctl00$MainPH$hfProvider")
_EMAIL, _AUTHENTICATOR = split(FACTS.value("cc.wf.signin.code-providers", "Email, Authenticator"))
CODE_BUTTON = FACTS.value("cc.wf.signin.code-submit", "ctl00$MainPH$btnVerify")
CHANGE_PASSWORD_PATH = unverified("cc.wf.signin.change-password-path", "/ChangePassword.aspx")
AUTH_COOKIE = unverified("cc.wf.session.auth-cookie", ".ASPXAUTH")
SESSION_STATE_COOKIE = unverified("cc.wf.session.cookie", "ASP.NET_SessionId")
SIGNED_IN_USER = _id(FACTS.value("cc.wf.signin.signed-in-user", "#ctl00_lblUserName"))
UNVERIFIED.add("cc.wf.session.login-redirect")

# postbacks
EVENT_TARGET = FACTS.value("cc.wf.postback.event-target", "__EVENTTARGET")
EVENT_ARGUMENT = FACTS.value("cc.wf.postback.event-argument", "__EVENTARGUMENT")
VIEWSTATE = FACTS.value("cc.wf.postback.viewstate", "__VIEWSTATE")
FORM_ID = _id(FACTS.value("cc.wf.postback.form", "form#aspnetForm"))

# Manage Orders
CASES_PATH = unverified("cc.list.url", "/cases.aspx")
STATUS_DROPDOWN = unverified("cc.wf.list.status-dropdown", "ctl00$MainPH$ddlStatus")
GROUPS = split(unverified("cc.wf.list.status-codes", "ActionNeeded, InProgress, Closed"))
ACTION_NEEDED = GROUPS[0]
CASES_GRID = _id(unverified("cc.wf.list.grid", "table#ctl00_MainPH_grdCases"))
_PAGER = unverified("cc.wf.list.pager", "__doPostBack('ctl00$MainPH$grdCases','Page$<n>')")
PAGER_TARGET, PAGE_ARGUMENT = re.findall(r"'([^']*)'", _PAGER)
PAGE_PREFIX = PAGE_ARGUMENT.replace("<n>", "")
DOCTOR_PARAM = _param(unverified("cc.wf.list.doctor-link", "cases.aspx?doctor=<doctor id>"))
BUBBLE_CLASS = unverified("cc.wf.list.bubble", "span.chat-bubble").split(".", 1)[1]

# a case
CASE_PATH = _path(FACTS.value("cc.wf.case.path", "/detail/case.aspx?id=<case number>"))
ID_PARAM = FACTS.value("cc.wf.case.id-param", "id")
CASE_NUMBER = _id(FACTS.value("cc.wf.case.number-label", "#ctl00_MainPH_lbl_txtCaseID"))
PATIENT = _id(unverified("cc.wf.case.patient", "#ctl00_MainPH_lblPatientName"))
DOCTOR = _id(unverified("cc.wf.case.doctor", "#ctl00_MainPH_lnkDoctor"))
STATUS = _id(unverified("cc.wf.case.status", "#ctl00_MainPH_lblStatus"))
LAST_ACTIVITY = _id(unverified("cc.wf.case.last-activity", "#ctl00_MainPH_lblLastActivity"))
ACTION_NEEDED_TAB = _id(
    unverified("cc.wf.case.action-needed-tab-id", "#ctl00_MainPH_tcRecord_tpActionNeeded_header")
)
SETUPS_GRID = _id(
    unverified("cc.wf.case.setups-grid", "table#ctl00_MainPH_tcRecord_tpSetups_grdSetups")
)
NOTES_GRID = _id(FACTS.value("cc.wf.case.notes-grid", "#ctl00_MainPH_grdtabNotes"))
NOTE_TEXT = FACTS.value("cc.wf.case.note-text", '[id*="lbhNoteText"]').split('"')[1]
NOTE_CREATED = FACTS.value("cc.wf.case.note-created", 'div[style*="font-style:italic"]')
NOTE_CREATED_STYLE = NOTE_CREATED.split('"')[1]
NOTE_ID_SUFFIX = unverified("cc.wf.chat.note-id", 'input[id$="_hfNoteID"]').split('"')[1]
UNREAD_CLASS = unverified("cc.wf.chat.unread", "tr.unread").split(".", 1)[1]
UNVERIFIED.add("cc.wf.chat.as-notes")
NOTE_BOX = _id(FACTS.value("cc.wf.case.note-box", "#ctl00_MainPH_txtNote"))
NOTE_STATE = _id(
    FACTS.value("cc.wf.case.note-watermark-state", "#ctl00_MainPH_tbwmNote_ClientState")
)
NOTE_REAL = FACTS.value("cc.wf.case.note-watermark-real", "true")
NOTE_SAVE = _id(FACTS.value("cc.wf.case.note-save", "#ctl00_MainPH_btnSaveNote"))
MAX_NOTE = int(unverified("cc.wf.case.note-max", "4000"))

# a setup and the case submission pop-up
SETUP_PATH = _path(unverified("cc.wf.setup.path", "/detail/setup.aspx?id=<setup id>"))
SETUP_HEADER = _id(FACTS.value("cc.wf.setup.header", "#ctl00_MainPH_tcRecordHeaderLarge"))
SETUP_STATE = _id(unverified("cc.wf.setup.state", "#ctl00_MainPH_lblSetupState"))
SETUP_MESSAGE = _id(unverified("cc.wf.setup.message", "#ctl00_MainPH_lblMessage"))
DECLINE_REASON = unverified("cc.wf.decline.reason-field", "ctl00$MainPH$txtDeclineReason")
DECLINE_BUTTON = unverified("cc.wf.decline.submit-field", "ctl00$MainPH$btnDecline")
MAX_REASON = int(unverified("cc.wf.decline.max", "2000"))
FILES_GRID = _id(
    FACTS.value(
        "cc.wf.setup.files-grid",
        "table#ctl00_MainPH_frmCaseSubmission_tcRecord_tpFiles_grdAllFiles",
    )
)
_FILES_LINK = FACTS.value("cc.wf.setup.files-link", 'td:nth-child(1) a[href*=".stl" i]')
STL = _FILES_LINK.split('"')[1]
SUBMISSION_LINK = set(
    FACTS.value("cc.wf.case.submission-link", "tr .btnlgray.bdlgray.hand img")
    .split()[1]
    .strip(".")
    .split(".")
)
VERSION_DROPDOWN = _id(
    FACTS.value(
        "cc.wf.setup.version-dropdown",
        "#ctl00_MainPH_frmCaseSubmission_tcRecord_tpFiles_ddlCaseSubmissionID",
    )
)
#: Older submission versions are chosen by the dropdown's option values (submission ids).
UNVERIFIED.add("cc.wf.setup.version-values")

# My Account
ACCOUNT_PATH = unverified("cc.wf.account.path", "/account.aspx")
ACCOUNT_TYPE = _id(unverified("cc.wf.account.type", "#ctl00_MainPH_lblAccountType"))
COLLABORATIONS = _id(
    unverified("cc.wf.account.collaborations", "table#ctl00_MainPH_grdCollaborations")
)


# ---- pages and forms ------------------------------------------------------------------------


def document(response: httpx.Response, what: str) -> html.Document:
    content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if response.status_code != 200 or content_type != "text/html":
        raise PortalChanged(
            f"{what}: expected an HTML page, got HTTP {response.status_code} "
            f"{content_type or 'without a type'}"
        )
    return html.parse(response.text)


def location_path(response: httpx.Response) -> str:
    return str(urlsplit(str(response.headers.get("location", ""))).path).casefold()


def signed_out(response: httpx.Response) -> bool:
    """Forms authentication sent this request (page or postback) to the sign-in page: the
    session ended, and the page did not act (`cc.wf.session.login-redirect`)."""
    return response.is_redirect and location_path(response) == LOGIN_PATH.casefold()


@dataclass(frozen=True)
class Form:
    """The page's one postback form, as a browser would submit it."""

    action: str
    fields: tuple[tuple[str, str], ...]  # every successful control but the submit buttons
    buttons: tuple[tuple[str, str], ...]

    def has(self, name: str) -> bool:
        return any(n == name for n, _ in self.fields)

    def button(self, name: str) -> str | None:
        return next((v for n, v in self.buttons if n == name), None)

    def postback(self, target: str, argument: str = "", **changes: str) -> dict[str, str]:
        """`__doPostBack(target, argument)` after setting `changes` (by field name)."""
        data = dict(self.fields)
        data.update(changes)
        data[EVENT_TARGET] = target
        data[EVENT_ARGUMENT] = argument
        return data

    def press(self, button: str, **changes: str) -> dict[str, str]:
        """A click on the submit button `button` after filling `changes`."""
        value = self.button(button)
        if value is None:
            raise PortalChanged(f"the page has no button {button}")
        data = self.postback("", "", **changes)
        data[button] = value
        return data


def _form_fields(form: html.Element) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    fields: list[tuple[str, str]] = []
    buttons: list[tuple[str, str]] = []
    for node in form.iter():
        name = node.get("name")
        if not name:
            continue
        if node.tag == "input":
            kind = node.get("type", "text").lower()
            if kind in ("submit", "image"):
                buttons.append((name, node.get("value")))
            elif kind in ("checkbox", "radio"):
                if "checked" in node.attrs:
                    fields.append((name, node.get("value", "on")))
            elif kind not in ("button", "reset", "file"):
                fields.append((name, node.get("value")))
        elif node.tag == "textarea":
            fields.append((name, node.text()))
        elif node.tag == "select":
            options = list(node.iter("option"))
            chosen = next((o for o in options if "selected" in o.attrs), None)
            chosen = chosen or (options[0] if options else None)
            if chosen is not None:
                fields.append((name, chosen.get("value", chosen.text())))
    return fields, buttons


def postback_form(doc: html.Document, page_url: str, base_url: str) -> Form:
    """The page's postback form (the one carrying `__VIEWSTATE`), its target kept on the
    portal's own origin: a form posting elsewhere is never sent."""
    for form in doc.iter("form"):
        fields, buttons = _form_fields(form)
        if any(name == VIEWSTATE for name, _ in fields):
            action = absolute_url(page_url, form.get("action") or page_url)
            origin, target = urlsplit(base_url), urlsplit(action)
            if (target.scheme, target.netloc) != (origin.scheme, origin.netloc):
                raise PortalChanged("a page's form posts to another site")
            return Form(action, tuple(fields), tuple(buttons))
    raise PortalChanged(
        "the page has no postback form", facts=("cc.wf.postback.form", "cc.wf.postback.viewstate")
    )


# ---- dates ----------------------------------------------------------------------------------

_TOKENS = {
    "yyyy": r"(?P<year>\d{4})",
    "MM": r"(?P<month>\d{2})",
    "M": r"(?P<month>\d{1,2})",
    "dd": r"(?P<day>\d{2})",
    "d": r"(?P<day>\d{1,2})",
    "HH": r"(?P<hour>\d{2})",
    "h": r"(?P<hour12>\d{1,2})",
    "mm": r"(?P<minute>\d{2})",
    "ss": r"(?P<second>\d{2})",
    "tt": r"(?P<half>AM|PM)",
}


def _date_pattern(fmt: str) -> re.Pattern[str]:
    """A .NET custom date format (the tokens ASP.NET's cultures use) as a pattern."""
    pattern = ""
    rest = fmt
    while rest:
        token = next((t for t in _TOKENS if rest.startswith(t)), None)
        if token is None:
            pattern += re.escape(rest[0])
            rest = rest[1:]
        else:
            pattern += _TOKENS[token]
            rest = rest[len(token) :]
    return re.compile(f"^{pattern}$")


_DATES = tuple(_date_pattern(fmt) for fmt in dict.fromkeys(labels.DATE_FORMATS.values()))


def parse_time(text: str) -> datetime | None:
    """A time as the pages write it in any of their languages (UTC), or None."""
    cleaned = " ".join(text.split())
    for pattern in _DATES:
        match = pattern.match(cleaned)
        if match is None:
            continue
        parts = match.groupdict()
        hour = int(parts["hour"]) if parts.get("hour") else int(parts.get("hour12") or 0) % 12
        if parts.get("half") == "PM":
            hour += 12
        try:
            return datetime(
                int(parts["year"]),
                int(parts["month"]),
                int(parts["day"]),
                hour,
                int(parts["minute"]),
                int(parts["second"]),
                tzinfo=UTC,
            )
        except ValueError:
            return None
    return None


def _time(text: str, what: str, fact: str) -> datetime:
    moment = parse_time(text)
    if moment is None:
        raise PortalChanged(f"{what}: a time this adapter cannot read", facts=(fact,))
    return moment


# ---- signing in ------------------------------------------------------------------------------


class SignIn(Enum):
    SIGNED_IN = "signed_in"
    SECOND_FACTOR = "second_factor"


@dataclass(frozen=True)
class LoginPage:
    form: Form

    def fields(self, username: str, password: str) -> dict[str, str]:
        return self.form.press(
            SIGN_IN_BUTTON, **{USERNAME_FIELD: username, PASSWORD_FIELD: password}
        )


def is_login_page(doc: html.Document) -> bool:
    return any(node.get("name") == PASSWORD_FIELD for node in doc.iter("input")) and any(
        node.get("name") == SIGN_IN_BUTTON for node in doc.iter("input")
    )


def parse_login_page(response: httpx.Response, base_url: str) -> LoginPage:
    """`/Login.aspx`: refuses (before anything is posted) a page whose fields were renamed."""
    doc = document(response, "the sign-in page")
    form = postback_form(doc, str(response.url), base_url)
    missing = [n for n in (USERNAME_FIELD, PASSWORD_FIELD) if not form.has(n)]
    if missing or form.button(SIGN_IN_BUTTON) is None:
        raise PortalChanged(
            "the sign-in page has no username, password or sign-in control",
            facts=(
                "cc.wf.signin.username-field",
                "cc.wf.signin.password-field",
                "cc.wf.signin.submit-field",
            ),
        )
    return LoginPage(form)


def _message(doc: html.Document, element_id: str) -> str:
    element = doc.by_id(element_id)
    return element.words() if element is not None else ""


def _locked_until(text: str, now: datetime) -> datetime | None:
    for pattern in labels.LOCKED:
        match = pattern.search(labels.key(text))
        if match:
            return now + timedelta(minutes=int(match.group(1)))
    return None


def _redirect(response: httpx.Response) -> SignIn:
    path = location_path(response)
    if path == CODE_PATH.casefold():
        return SignIn.SECOND_FACTOR
    if path == CHANGE_PASSWORD_PATH.casefold():
        raise PasswordExpired(
            "the portal says the password has expired: the dentist must set a new one on the "
            "portal and enter it here"
        )
    if path == LOGIN_PATH.casefold():
        raise PortalChanged("the sign-in led back to the sign-in page without a message")
    return SignIn.SIGNED_IN


def sign_in_outcome(response: httpx.Response, now: datetime) -> SignIn:
    """What the portal made of the sign-in postback (`POST /Login.aspx`)."""
    if response.is_redirect:
        return _redirect(response)
    if response.status_code == 500:
        raise PortalChanged(
            "the portal refused the sign-in postback", facts=("cc.wf.postback.fields",)
        )
    doc = document(response, "the sign-in answer")
    if not is_login_page(doc):
        raise PortalChanged("the sign-in answered a page that is not the sign-in page")
    text = _message(doc, SIGN_IN_ERROR)
    until = _locked_until(text, now)
    if until is not None:
        raise AccountLocked(until)
    fact = labels.SIGNIN_MESSAGES.fact(text)
    if fact == "cc.wf.signin.msg-invalid":
        raise InvalidCredentials("the portal rejected the username or password")
    if fact in ("cc.wf.signin.msg-username-email", "cc.wf.signin.msg-password-length"):
        raise MalformedCredentials("the portal's form refused the login before checking it")
    raise PortalChanged(
        "the sign-in page answered with a message this adapter does not know",
        facts=("cc.wf.signin.error", "cc.wf.signin.msg-invalid", "cc.wf.signin.msg-locked"),
    )


@dataclass(frozen=True)
class CodePage:
    form: Form
    channel: str  # "email" or "totp"

    def fields(self, code: str) -> dict[str, str]:
        return self.form.press(CODE_BUTTON, **{CODE_FIELD: code})


def parse_code_page(response: httpx.Response, base_url: str) -> CodePage:
    if signed_out(response):
        raise MfaRequired("email", "the sign-in's second step expired before it was shown")
    doc = document(response, "the verification code page")
    form = postback_form(doc, str(response.url), base_url)
    provider = dict(form.fields).get(CODE_PROVIDER, "")
    channel = {_EMAIL: "email", _AUTHENTICATOR: "totp"}.get(provider)
    if not form.has(CODE_FIELD) or form.button(CODE_BUTTON) is None or channel is None:
        raise PortalChanged(
            "the verification code page has no code form",
            facts=("cc.wf.signin.code-field", "cc.wf.signin.code-provider"),
        )
    return CodePage(form, channel)


def code_outcome(response: httpx.Response, channel: str, now: datetime) -> None:
    """What the portal made of a code; returns only when signed in."""
    if response.is_redirect:
        if signed_out(response):
            raise MfaRequired(channel, "the sign-in waited too long for its code; sign in again")
        if _redirect(response) is SignIn.SECOND_FACTOR:
            raise VerificationCodeRejected(channel)
        return
    doc = document(response, "the verification code answer")
    text = _message(doc, SIGN_IN_ERROR)
    until = _locked_until(text, now)
    if until is not None:
        raise AccountLocked(until)
    if labels.SIGNIN_MESSAGES.fact(text) in (
        "cc.wf.signin.msg-invalid-code",
        "cc.wf.signin.msg-code-format",
    ):
        raise VerificationCodeRejected(channel)
    raise PortalChanged("the verification code answer is a page this adapter does not know")


# ---- My Account ------------------------------------------------------------------------------

PERMISSION_CODES = {
    "cc.perm.view": "View",
    "cc.perm.add-orders": "AddOrders",
    "cc.perm.decline-setups": "DeclineSetups",
}


def _link_param(element: html.Element | None, name: str) -> str | None:
    if element is None:
        return None
    link = element if element.tag == "a" else element.first("a")
    if link is None:
        return None
    values = parse_qs(urlsplit(link.get("href")).query).get(name)
    return values[0] if values else None


def parse_access(doc: html.Document) -> Access:
    """My Account: a doctor's own login is excessive; a collaborator's rights per doctor are
    read from the permission words (in any language); no doctor granting View is
    insufficient."""
    kind_label = doc.by_id(ACCOUNT_TYPE)
    if kind_label is None:
        raise PortalChanged("My Account shows no account type", facts=("cc.wf.account.type",))
    kind = labels.ACCOUNT_TYPES.fact(kind_label.words())
    if kind == "cc.wf.account.type-doctor":
        return Access(
            roles=("account:Doctor",),
            capabilities=frozenset(Capability),
            excessive=EXCESSIVE_DOCTOR,
            account_type="doctor",
        )
    if kind != "cc.role.collaborator":
        raise PortalChanged("My Account names an account type this adapter does not know")
    table = doc.by_id(COLLABORATIONS)
    if table is None:
        raise PortalChanged("My Account lists no doctors", facts=("cc.wf.account.collaborations",))
    roles: list[str] = []
    granted: list[set[str]] = []
    for row in table.rows()[1:]:
        cells = row.cells()
        doctor = _link_param(cells[0], DOCTOR_PARAM) if cells else None
        if doctor is None:
            continue  # the empty-data row
        codes = set()
        for item in cells[1].iter("li") if len(cells) > 1 else ():
            fact = labels.PERMISSIONS.fact(item.words())
            code = PERMISSION_CODES.get(fact or "", item.words())
            codes.add(code)
            roles.append(f"{doctor}:{code}")
        granted.append(codes)
    viewing = [codes for codes in granted if "View" in codes]
    capabilities: set[Capability] = set()
    if viewing:
        capabilities |= {Capability.READ_CASES, Capability.POST_COMMENT}
    if any("DeclineSetups" in codes for codes in viewing):
        capabilities.add(Capability.REJECT_SETUP)
    if any("AddOrders" in codes for codes in granted):
        capabilities.add(Capability.ADD_ORDER)
    return Access(
        roles=tuple(roles),
        capabilities=frozenset(capabilities),
        insufficient=None if viewing else INSUFFICIENT_VIEW,
        account_type="partner",
    )


# ---- Manage Orders ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ListPage:
    group: str
    page: int
    items: tuple[CaseSummary, ...]
    next_page: int | None


_REQUIRED_COLUMNS = (
    "cc.list.col.order-number",
    "cc.list.col.name",
    "cc.wf.list.col.doctor",
    "cc.list.col.last-activity",
    "cc.list.col.status",
    "cc.list.col.collaborator-status",
)


def _selected(doc: html.Document, name: str) -> str | None:
    select = next((s for s in doc.iter("select") if s.get("name") == name), None)
    if select is None:
        return None
    options = list(select.iter("option"))
    chosen = next((o for o in options if "selected" in o.attrs), options[0] if options else None)
    return chosen.get("value") if chosen is not None else None


def case_number_of(href: str) -> str | None:
    """The case number of a link to the case page (`…/case.aspx?id=318274`)."""
    parts = urlsplit(href)
    if not parts.path.casefold().endswith(CASE_PATH.rsplit("/", 1)[1].casefold()):
        return None
    values = parse_qs(parts.query).get(ID_PARAM)
    return values[0] if values and values[0].isdigit() else None


def _bubble(cell: html.Element) -> int:
    for span in cell.iter("span"):
        if BUBBLE_CLASS in span.classes:
            count = span.words()
            if not count.isdigit():
                raise PortalChanged(
                    "an unread bubble without its count", facts=("cc.wf.list.bubble",)
                )
            return int(count)
    return 0


def _summary(
    case_id: str,
    patient: str,
    doctor: html.Element | None,
    status_text: str,
    action_required: bool,
    unread: int,
    updated: datetime,
) -> CaseSummary:
    doctor_id = _link_param(doctor, DOCTOR_PARAM)
    if doctor is None or doctor_id is None:
        raise PortalChanged("a case without its doctor", facts=("cc.wf.list.doctor-link",))
    return CaseSummary(
        vendor_case_id=case_id,
        patient_name=patient,
        patient_id=case_id,  # the case number is the patient id (cc.case.patient-id)
        vendor_doctor_id=doctor_id,
        vendor_doctor_name=doctor.words(),
        status=case_status(status_text),
        vendor_status=status_text,
        action_required=action_required,
        unread_comments=unread,
        updated_at=updated,
    )


def _pager(rows: list[html.Element]) -> tuple[int, int | None]:
    """The page shown and the next page, from the GridView's pager row."""
    for row in rows:
        cells = row.cells()
        if len(cells) != 1 or cells[0].first("table") is None:
            continue
        current = next((s for s in cells[0].iter("span") if s.words().isdigit()), None)
        page = int(current.words()) if current else 1
        wanted = f"'{PAGER_TARGET}','{PAGE_PREFIX}{page + 1}'"
        later = any(wanted in a.get("href") for a in cells[0].iter("a"))
        return page, (page + 1 if later else None)
    return 1, None


def parse_list(doc: html.Document) -> ListPage:
    """One page of Manage Orders for the group its Status drop-down shows."""
    group = _selected(doc, STATUS_DROPDOWN)
    if group not in GROUPS:
        raise PortalChanged(
            "Manage Orders shows no known status group",
            facts=("cc.wf.list.status-dropdown", "cc.wf.list.status-codes"),
        )
    table = doc.by_id(CASES_GRID)
    rows = table.rows() if table is not None else []
    if not rows:
        raise PortalChanged("Manage Orders has no orders grid", facts=("cc.wf.list.grid",))
    columns: dict[str, int] = {}
    for index, cell in enumerate(rows[0].cells()):
        fact = labels.COLUMNS.fact(cell.words())
        if fact is not None:
            columns.setdefault(fact, index)
    missing = tuple(f for f in _REQUIRED_COLUMNS if f not in columns)
    if missing:
        raise PortalChanged("the orders grid lacks columns this adapter reads", facts=missing)
    width = len(rows[0].cells())
    page, next_page = _pager(rows[1:])
    items: list[CaseSummary] = []
    for row in rows[1:]:
        cells = row.cells()
        if len(cells) == 1:
            continue  # the pager row, or the empty-data row
        if len(cells) != width:
            raise PortalChanged(
                "an orders row has other cells than its header", facts=("cc.wf.list.grid",)
            )
        link = cells[columns["cc.list.col.order-number"]].first("a")
        case_id = case_number_of(link.get("href")) if link is not None else None
        if case_id is None:
            raise PortalChanged("an order without its case link", facts=("cc.wf.list.case-link",))
        items.append(
            _summary(
                case_id,
                cells[columns["cc.list.col.name"]].words(),
                cells[columns["cc.wf.list.col.doctor"]].first("a"),
                cells[columns["cc.list.col.status"]].words(),
                group == ACTION_NEEDED,
                _bubble(cells[columns["cc.list.col.collaborator-status"]]),
                _time(
                    cells[columns["cc.list.col.last-activity"]].words(),
                    "an order's Last Activity",
                    "cc.wf.list.date-format",
                ),
            )
        )
    if len({i.vendor_case_id for i in items}) != len(items):
        raise PortalChanged("Manage Orders lists a case twice on one page")
    return ListPage(group, page, tuple(items), next_page)


# ---- a case ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SetupRow:
    setup_id: str
    version: int
    created_at: datetime
    state: SetupState
    vendor_state: str
    decline_reason: str


@dataclass(frozen=True)
class CasePage:
    summary: CaseSummary
    setups: tuple[SetupRow, ...]
    comments: tuple[Comment, ...]


_SETUP_STATES = {
    "cc.wf.setup.state.in-review": SetupState.IN_REVIEW,
    "cc.wf.setup.state.declined": SetupState.REJECTED,
    "cc.wf.setup.state.approved": SetupState.APPROVED,
    "cc.wf.setup.state.superseded": SetupState.SUPERSEDED,
}
_AUTHOR_ROLES = {
    "cc.wf.chat.author-role.doctor": AuthorRole.DOCTOR,
    "cc.wf.chat.author-role.partner": AuthorRole.PARTNER,
    "cc.wf.chat.author-role.technician": AuthorRole.TECHNICIAN,
}


def setup_state(text: str) -> SetupState | None:
    return _SETUP_STATES.get(labels.SETUP_STATES.fact(text) or "")


def _label(doc: html.Document, element_id: str, fact: str) -> html.Element:
    element = doc.by_id(element_id)
    if element is None:
        raise PortalChanged("the page lacks an element this adapter reads", facts=(fact,))
    return element


def _setup_id(href: str) -> str | None:
    parts = urlsplit(href)
    if not parts.path.casefold().endswith(SETUP_PATH.rsplit("/", 1)[1].casefold()):
        return None
    values = parse_qs(parts.query).get(ID_PARAM)
    return values[0] if values and values[0].isdigit() else None


def _setups(doc: html.Document) -> tuple[SetupRow, ...]:
    table = _label(doc, SETUPS_GRID, "cc.wf.case.setups-grid")
    found = []
    for row in table.rows()[1:]:
        cells = row.cells()
        if len(cells) == 1:
            continue
        link = cells[0].first("a") if cells else None
        setup_id = _setup_id(link.get("href")) if link is not None else None
        if setup_id is None or len(cells) < 4 or not cells[0].words().isdigit():
            raise PortalChanged(
                "a setup row this adapter cannot read", facts=("cc.wf.case.setups-grid",)
            )
        raw = cells[2].words()
        state = setup_state(raw)
        if state is None:
            raise PortalChanged(
                "a setup state this adapter does not know", facts=("cc.wf.setup.state.in-review",)
            )
        found.append(
            SetupRow(
                setup_id,
                int(cells[0].words()),
                _time(cells[1].words(), "a setup's date", "cc.wf.list.date-format"),
                state,
                raw,
                cells[3].text().strip(),
            )
        )
    return tuple(found)


def _created(text: str) -> tuple[datetime | None, str]:
    """ "created: <time> by <author>" in any language -> (time, author)."""
    words = " ".join(text.split())
    for before, middle in labels.NOTE_AUTHOR:
        if words.casefold().startswith(before.casefold()) and f" {middle} " in words:
            moment, _, author = words[len(before) :].partition(f" {middle} ")
            return parse_time(moment), author.strip()
    raise PortalChanged("a note without its author line", facts=("cc.wf.case.note-author",))


def _notes(doc: html.Document) -> tuple[Comment, ...]:
    table = _label(doc, NOTES_GRID, "cc.wf.case.notes-grid")
    notes = []
    for row in table.rows()[1:]:
        cells = row.cells()
        if len(cells) == 1:
            continue
        if len(cells) < 2:
            raise PortalChanged(
                "a note row this adapter cannot read", facts=("cc.wf.case.notes-grid",)
            )
        role = _AUTHOR_ROLES.get(labels.AUTHOR_ROLES.fact(cells[0].words()) or "")
        if role is None:
            raise PortalChanged(
                "a note by an author role this adapter does not know",
                facts=("cc.wf.chat.author-role.partner",),
            )
        body = next((e for e in cells[1].iter() if NOTE_TEXT in e.id), None)
        note_id = next(
            (e.get("value") for e in cells[1].iter("input") if e.id.endswith(NOTE_ID_SUFFIX)),
            "",
        )
        created = next(
            (
                e
                for e in cells[1].iter("div")
                if NOTE_CREATED_STYLE in e.get("style").replace(" ", "")
            ),
            None,
        )
        if body is None or not note_id or created is None:
            raise PortalChanged(
                "a note without its text, id or author line",
                facts=("cc.wf.case.note-text", "cc.wf.chat.note-id", "cc.wf.case.note-created"),
            )
        moment, author = _created(created.text())
        notes.append(
            Comment(
                vendor_comment_id=note_id,
                author_role=role,
                author_name=author,
                body=body.text(),
                created_at=moment,
                unread=UNREAD_CLASS in row.classes,
            )
        )
    return tuple(reversed(notes))  # the grid shows the newest first


def parse_case(doc: html.Document, case_id: str) -> CasePage:
    """The case page (`/detail/case.aspx?id=`): the summary as the list shows it, the setups
    grid and the notes (the chat); reading it marks nothing read."""
    shown = _label(doc, CASE_NUMBER, "cc.wf.case.number-label").words()
    if case_id not in shown:
        raise PortalChanged("the case page shows another case", facts=("cc.wf.case.number-label",))
    comments = _notes(doc)
    summary = _summary(
        case_id,
        _label(doc, PATIENT, "cc.wf.case.patient").words(),
        doc.by_id(DOCTOR),
        _label(doc, STATUS, "cc.wf.case.status").words(),
        doc.by_id(ACTION_NEEDED_TAB) is not None,
        sum(1 for c in comments if c.unread),
        _time(
            _label(doc, LAST_ACTIVITY, "cc.wf.case.last-activity").words(),
            "the case's Last Activity",
            "cc.wf.list.date-format",
        ),
    )
    return CasePage(summary, _setups(doc), comments)


@dataclass(frozen=True)
class NoteForm:
    """The names of the Notes form's controls, as the page gives them."""

    box: str
    state: str
    save: str

    def fields(self, form: Form, text: str) -> dict[str, str]:
        """Add Note with `text`, its watermark state saying the text is real (as the toolkit
        sets it, `cc.wf.case.note-watermark-real`)."""
        return form.press(self.save, **{self.box: text, self.state: NOTE_REAL})


def note_form(doc: html.Document) -> NoteForm | None:
    """The Notes form, or None when this login's page has none."""
    names = [doc.by_id(i) for i in (NOTE_BOX, NOTE_STATE, NOTE_SAVE)]
    if any(e is None or not e.get("name") for e in names):
        return None
    box, state, save = (e.get("name") for e in names if e is not None)
    return NoteForm(box, state, save)


# ---- a setup ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SetupPage:
    setup_id: str
    state: SetupState | None
    vendor_state: str
    files: tuple[SetupFile, ...]
    can_decline: bool
    message: str | None  # the fact id of the page's message, when it is one this adapter knows
    form: Form


def _arch(text: str) -> str:
    words = text.casefold()
    for arch, forms in labels.ARCHES.items():
        if any(form.casefold() in words for form in forms):
            return arch
    return "arch"


def parse_files(doc: html.Document) -> tuple[SetupFile, ...]:
    """The STL files of the case submission pop-up's Files grid, with their arch (maxillary,
    mandibular, or just "arch")."""
    table = _label(doc, FILES_GRID, "cc.wf.setup.files-grid")
    files = []
    for row in table.rows()[1:]:
        cells = row.cells()
        if len(cells) < 2:
            continue
        link = cells[0].first("a")
        if link is None or STL.casefold() not in link.get("href").casefold():
            continue
        files.append(SetupFile(name=link.words(), kind=_arch(cells[1].words()), size=None))
    return tuple(files)


@dataclass(frozen=True)
class FileRow:
    """One row of the Files grid that links a file: an STL scan of an arch, or a photo."""

    url: str
    name: str
    photo: bool
    arch: str


_POSTBACK_HREF = re.compile(r"^javascript:__doPostBack\('([^']+)','([^']*)'\)$")


def submission_links(doc: html.Document) -> list[str]:
    """The postback targets of the case page's submission links, oldest first (the last row
    is the newest: `cc.wf.case.submission-link`)."""
    targets = []
    for link in doc.iter("a"):
        if not link.classes >= SUBMISSION_LINK or link.first("img") is None:
            continue
        match = _POSTBACK_HREF.match(link.get("href").strip())
        if match is not None:
            targets.append(match.group(1))
    return targets


def submission_versions(doc: html.Document) -> tuple[str, list[str]]:
    """The version dropdown's field name and its option values, newest first, each once (a
    revision's header entry carries the same value as its dated entry)."""
    select = _label(doc, VERSION_DROPDOWN, "cc.wf.setup.version-dropdown")
    values: list[str] = []
    for option in select.iter("option"):
        value = option.get("value")
        if value and value not in values:
            values.append(value)
    name = select.get("name")
    if not name or not values:
        raise PortalChanged(
            "the version dropdown has no name or no versions",
            facts=("cc.wf.setup.version-dropdown", "cc.wf.setup.version-values"),
        )
    return name, values


def selected_version(doc: html.Document) -> str | None:
    select = doc.by_id(VERSION_DROPDOWN)
    chosen = None
    for option in select.iter("option") if select is not None else ():
        if "selected" in option.attrs:
            chosen = option.get("value")
    return chosen


def parse_file_rows(doc: html.Document, page_url: str, base_url: str) -> list[FileRow]:
    """The Files grid's rows with a link: STL scans (`cc.wf.setup.files-link`) and photos
    (a type cell reading `cc.wf.files.type-photo`). Links off the portal's origin are
    ignored: a download never leaves the portal with its cookies."""
    table = _label(doc, FILES_GRID, "cc.wf.setup.files-grid")
    origin = urlsplit(base_url)
    rows = []
    for row in table.rows()[1:]:
        cells = row.cells()
        if len(cells) < 2:
            continue
        link = cells[0].first("a")
        if link is None or not link.get("href"):
            continue
        url = absolute_url(page_url, link.get("href"))
        target = urlsplit(url)
        if (target.scheme, target.netloc) != (origin.scheme, origin.netloc):
            continue
        kind = cells[1].words()
        stl = STL.casefold() in link.get("href").casefold()
        photo = not stl and labels.FILE_PHOTO.fact(kind) is not None
        if stl or photo:
            rows.append(FileRow(url, link.words(), photo, "" if photo else _arch(kind)))
    return rows


def parse_setup(doc: html.Document, setup_id: str, page_url: str, base_url: str) -> SetupPage:
    header = _label(doc, SETUP_HEADER, "cc.wf.setup.header")
    if not header.words():
        raise PortalChanged("the setup page has an empty header", facts=("cc.wf.setup.header",))
    raw = _label(doc, SETUP_STATE, "cc.wf.setup.state").words()
    form = postback_form(doc, page_url, base_url)
    message = doc.by_id(SETUP_MESSAGE)
    return SetupPage(
        setup_id=setup_id,
        state=setup_state(raw),
        vendor_state=raw,
        files=parse_files(doc),
        can_decline=form.has(DECLINE_REASON) and form.button(DECLINE_BUTTON) is not None,
        message=labels.SETUP_MESSAGES.fact(message.words()) if message is not None else None,
        form=form,
    )


def case_url(base_url: str, case_id: str) -> str:
    return f"{base_url}{CASE_PATH}?{ID_PARAM}={case_id}"


def setup_url(base_url: str, setup_id: str) -> str:
    return f"{base_url}{SETUP_PATH}?{ID_PARAM}={setup_id}"


def number(value: str, what: str) -> str:
    """A case number or setup id for a URL; anything else cannot exist on the portal."""
    if not value.isdigit() or len(value) > 12:
        raise NotFound(f"{what} is not a ClearCorrect {what}")
    return value


# ---- who is signed in, which case a setup is, what a note postback said ------------------

WELCOME = FACTS.label(
    "cc.wf.signin.welcome-prefix", {"en": "Welcome, ", "de": "Willkommen, ", "pl": "Witaj, "}
)
SETUP_PREFIX = FACTS.label(
    "cc.wf.setup.header-prefix", {"en": "Setup:", "de": "Setup:", "pl": "Setup:"}
)


def signed_in_as(doc: html.Document) -> str | None:
    """The username the master page greets (`Welcome, <username>`), or None."""
    label = doc.by_id(SIGNED_IN_USER)
    if label is None:
        return None
    text = label.words()
    for prefix in WELCOME.values():
        if text.startswith(prefix.strip()):
            return text[len(prefix.strip()) :].strip()
    return None


def setup_case_number(doc: html.Document) -> str:
    """The case number in the setup page's header: what stands between the prefix and the
    first `-` (`Setup: 318274 - …`), as the public code reads it."""
    text = _label(doc, SETUP_HEADER, "cc.wf.setup.header").words()
    for prefix in SETUP_PREFIX.values():
        if text.startswith(prefix):
            text = text[len(prefix) :]
            break
    return text.split("-", 1)[0].strip()


def note_refused(doc: html.Document) -> bool:
    """The case page says the note was not taken (empty, or longer than the box takes)."""
    return any(labels.NOTE_REQUIRED.fact(span.words()) for span in doc.iter("span"))
