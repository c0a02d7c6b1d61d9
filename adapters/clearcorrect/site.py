"""The ClearCorrect Doctor Portal as this adapter knows it: URLs, form fields, cookie names,
JSON keys and messages, and the parsers that turn responses into the shared value types.

This is the only module that knows the portal's markup, so checking the adapter against the
live portal touches this file alone. Parsing is strict on purpose: a missing or renamed field
raises `PortalChanged` instead of reading as "nothing", because an empty case list that is
really an unparsed one would make the connector record every case as removed.

Messages raised from here never carry what the portal echoed back (patient names, comment
bodies, the submitted e-mail): only field names and the portal's own fixed texts.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from html.parser import HTMLParser
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

import httpx

from adapters.base import (
    Access,
    AccountLocked,
    Capability,
    CaseSummary,
    Comment,
    InvalidCredentials,
    MalformedCredentials,
    MfaRequired,
    NotFound,
    PasswordExpired,
    PortalChanged,
    Setup,
    SetupFile,
    VerificationCodeRejected,
    utc,
)
from adapters.clearcorrect.status import author_role, case_status, setup_state
from adapters.http.parse import expect_json

# ---- URLs ------------------------------------------------------------------------------------

LOGIN_PATH = "/Identity/Account/Login"
TWO_FACTOR_PATH = "/Identity/Account/LoginWith2fa"
#: Where ASP.NET Core Identity sends a locked-out sign-in by default.
LOCKOUT_PATH = "/Identity/Account/Lockout"
#: The portal's documented lockout: 20 minutes after 3 failed logins.
LOCKOUT_MINUTES = 20
CHANGE_PASSWORD_PATH = "/Identity/Account/Manage/ChangePassword"  # noqa: S105 (a URL)
#: Where a sign-in returns to; the login form's `ReturnUrl`.
RETURN_URL = "/Cases"
ACCOUNT_API = "/api/account"
CASES_API = "/api/cases"

_ID = re.compile(r"[0-9A-Za-z-]{1,32}")


def _id(value: str, what: str) -> str:
    """A case number or setup id for a URL path; anything else cannot exist on the portal."""
    if not _ID.fullmatch(value):
        raise NotFound(f"{what} is not a ClearCorrect {what}")
    return quote(value, safe="")


def case_api(case_number: str) -> str:
    return f"{CASES_API}/{_id(case_number, 'case number')}"


def comments_api(case_number: str) -> str:
    return f"{case_api(case_number)}/comments"


def decline_api(case_number: str, setup_id: str) -> str:
    return f"{case_api(case_number)}/setups/{_id(setup_id, 'setup id')}/decline"


# ---- cookies and headers ---------------------------------------------------------------------

SESSION_COOKIE = ".AspNetCore.Identity.Application"
#: ASP.NET Core names the anti-forgery cookie with a per-application suffix.
ANTIFORGERY_COOKIE_PREFIX = ".AspNetCore.Antiforgery."
#: The user-bound request token the page script reads; unsafe API calls send it back in a header.
XSRF_COOKIE = "XSRF-TOKEN"
TOKEN_HEADER = "RequestVerificationToken"  # noqa: S105 (a header name)


def is_state_cookie(name: str) -> bool:
    """The cookies a saved session consists of (the second-factor cookie is not one)."""
    return name in (SESSION_COOKIE, XSRF_COOKIE) or name.startswith(ANTIFORGERY_COOKIE_PREFIX)


# ---- forms, limits and messages --------------------------------------------------------------

TOKEN_FIELD = "__RequestVerificationToken"  # noqa: S105 (a field name)
EMAIL_FIELD = "Input.Email"
PASSWORD_FIELD = "Input.Password"  # noqa: S105 (a form field's name)
REMEMBER_FIELD = "Input.RememberMe"
CODE_FIELD = "Input.TwoFactorCode"
PROVIDER_FIELD = "Provider"
_PROVIDERS = {"email": "email", "authenticator": "totp"}

PASSWORD_MIN = 8
PASSWORD_MAX = 16
MAX_COMMENT = 4000
MAX_REASON = 2000
#: The largest `pageSize` the cases API accepts.
MAX_PAGE_SIZE = 100

INVALID_LOGIN = "Invalid login attempt."
INVALID_CODE = "Invalid verification code."
CODE_FORMAT = "The code must be 6 digits."
_LOCKED = re.compile(
    r"Your account has been locked because of too many failed login attempts\. "
    r"Please try again in (\d{1,6}) minutes?\."
)
_PASSWORD_MESSAGES = (
    "The Password field is required.",
    "The Password must be at least 8 and at max 16 characters long.",
)
_EMAIL_INVALID = "The Email field is not a valid e-mail address."
_EMAIL_REQUIRED = "The Email field is required."


def password_acceptable(password: str) -> bool:
    """The portal's own rule; a password outside it is refused before any sign-in."""
    return PASSWORD_MIN <= len(password) <= PASSWORD_MAX


def email_acceptable(email: str) -> bool:
    name, _, domain = email.partition("@")
    return (
        bool(name) and "." in domain and "@" not in domain and not any(c.isspace() for c in email)
    )


# ---- HTML ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HtmlForm:
    form_id: str | None
    action: str
    inputs: tuple[tuple[str, str, str], ...]  # (name, type, value)

    def has(self, name: str) -> bool:
        return any(n == name for n, _, _ in self.inputs)

    def value(self, name: str) -> str | None:
        return next((v for n, _, v in self.inputs if n == name), None)

    @property
    def has_password(self) -> bool:
        return any(t == "password" for _, t, _ in self.inputs)


class _Scan(HTMLParser):
    """Collects what sign-in pages carry: forms and their inputs, element ids, the validation
    summary and per-field validation messages."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[HtmlForm] = []
        self.ids: set[str] = set()
        self.summary: list[str] = []
        self.field_errors: dict[str, str] = {}
        self._form: tuple[str | None, str, list[tuple[str, str, str]]] | None = None
        self._summary_depth = 0
        self._capture: list[str] | None = None
        self._capture_tag = ""
        self._capture_field: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: (v or "") for k, v in attrs}
        if "id" in a:
            self.ids.add(a["id"])
        classes = a.get("class", "").split()
        if tag == "form":
            self._form = (a.get("id"), a.get("action", ""), [])
        elif tag == "input" and self._form is not None and a.get("name"):
            self._form[2].append((a["name"], a.get("type", "text").lower(), a.get("value", "")))
        if tag == "div":
            if self._summary_depth:
                self._summary_depth += 1
            elif "validation-summary-errors" in classes:
                self._summary_depth = 1
        if self._capture is None:
            if tag == "li" and self._summary_depth:
                self._start_capture(tag, None)
            elif tag == "span" and "field-validation-error" in classes:
                self._start_capture(tag, a.get("data-valmsg-for", ""))

    def _start_capture(self, tag: str, field: str | None) -> None:
        self._capture, self._capture_tag, self._capture_field = [], tag, field

    def handle_endtag(self, tag: str) -> None:
        if self._capture is not None and tag == self._capture_tag:
            text = " ".join("".join(self._capture).split())
            if self._capture_field is None:
                self.summary.append(text)
            elif text:
                self.field_errors[self._capture_field] = text
            self._capture = None
        if tag == "div" and self._summary_depth:
            self._summary_depth -= 1
        if tag == "form" and self._form is not None:
            form_id, action, inputs = self._form
            self.forms.append(HtmlForm(form_id, action, tuple(inputs)))
            self._form = None

    def handle_data(self, data: str) -> None:
        if self._capture is not None:
            self._capture.append(data)

    @property
    def messages(self) -> list[str]:
        return [*self.summary, *self.field_errors.values()]


def _scan(response: httpx.Response, what: str) -> _Scan:
    content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "text/html":
        raise PortalChanged(f"{what}: expected an HTML page, got {content_type or 'no type'}")
    scan = _Scan()
    try:
        scan.feed(response.text)
        scan.close()
    except (AssertionError, ValueError):  # pragma: no cover - html.parser is forgiving
        raise PortalChanged(f"{what}: the page does not parse") from None
    return scan


def _local_action(action: str, default: str) -> str:
    """A form's target, kept on the portal's own host: the password never goes elsewhere."""
    if not action:
        return default
    parts = urlsplit(action)
    if parts.scheme or parts.netloc or not action.startswith("/") or "\\" in action:
        raise PortalChanged("a sign-in form posts to another site")
    return action


def _location_path(response: httpx.Response) -> str:
    location = response.headers.get("location", "")
    return urlsplit(location).path.rstrip("/") or "/"


def is_login_redirect(response: httpx.Response) -> bool:
    return response.is_redirect and _location_path(response).casefold() == LOGIN_PATH.casefold()


@dataclass(frozen=True)
class LoginForm:
    action: str
    token: str

    def fields(self, username: str, password: str) -> dict[str, str]:
        return {
            EMAIL_FIELD: username,
            PASSWORD_FIELD: password,
            REMEMBER_FIELD: "true",  # a persistent cookie: the saved session outlives the run
            TOKEN_FIELD: self.token,
        }


def _login_form_of(scan: _Scan) -> HtmlForm | None:
    return next((f for f in scan.forms if f.has_password and f.has(TOKEN_FIELD)), None)


def parse_login_form(response: httpx.Response) -> LoginForm:
    """The login page (`GET /Identity/Account/Login`): its target and anti-forgery token.

    Raises `PortalChanged` before anything is posted when the form's fields were renamed, so a
    changed portal never sees a half-filled sign-in.
    """
    if response.status_code != 200:
        raise PortalChanged(f"the login page answered HTTP {response.status_code}")
    scan = _scan(response, "login page")
    form = _login_form_of(scan)
    if form is None:
        raise PortalChanged("the login page has no login form")
    for name in (EMAIL_FIELD, PASSWORD_FIELD):
        if not form.has(name):
            raise PortalChanged(f"the login form has no {name} field")
    token = form.value(TOKEN_FIELD)
    if not token:
        raise PortalChanged("the login form has no anti-forgery token")
    return LoginForm(_local_action(form.action, f"{LOGIN_PATH}?ReturnUrl=%2FCases"), token)


class SignIn(Enum):
    """Where a sign-in step leads when it did not fail."""

    SIGNED_IN = "signed_in"
    SECOND_FACTOR = "second_factor"


def _locked_until(messages: list[str], now: datetime) -> datetime | None:
    for message in messages:
        match = _LOCKED.search(message)
        if match:
            return now + timedelta(minutes=int(match.group(1)))
    return None


def _redirect_outcome(response: httpx.Response, now: datetime) -> SignIn:
    path = _location_path(response).casefold()
    if path == LOCKOUT_PATH.casefold():  # the page names no time: the documented lockout
        raise AccountLocked(now + timedelta(minutes=LOCKOUT_MINUTES))
    if path == TWO_FACTOR_PATH.casefold():
        return SignIn.SECOND_FACTOR
    if path == CHANGE_PASSWORD_PATH.casefold():
        raise PasswordExpired(
            "the portal says the password has expired: the dentist must set a new one on the "
            "portal and enter it here"
        )
    if path == LOGIN_PATH.casefold():
        raise PortalChanged("the sign-in led back to the login page without a message")
    return SignIn.SIGNED_IN


def sign_in_outcome(response: httpx.Response, now: datetime) -> SignIn:
    """What the portal made of the login form (`POST /Identity/Account/Login`)."""
    if response.is_redirect:
        return _redirect_outcome(response, now)
    if response.status_code == 400:
        raise PortalChanged("the portal refused the login form's anti-forgery token")
    if response.status_code != 200:
        raise PortalChanged(f"the sign-in answered HTTP {response.status_code}")
    scan = _scan(response, "sign-in answer")
    if _login_form_of(scan) is None:
        raise PortalChanged("the sign-in answered a page that is not the login form")
    messages = scan.messages
    until = _locked_until(messages, now)
    if until is not None:
        raise AccountLocked(until)
    if INVALID_LOGIN in messages:
        raise InvalidCredentials("the portal rejected the e-mail or password")
    if any(m in _PASSWORD_MESSAGES for m in messages):
        raise MalformedCredentials("the password does not meet the portal's 8 to 16 character rule")
    if _EMAIL_INVALID in messages:
        raise MalformedCredentials("the portal says the login is not an e-mail address")
    if _EMAIL_REQUIRED in messages:
        raise PortalChanged(f"the login form no longer reads the e-mail from {EMAIL_FIELD}")
    raise PortalChanged("the login form answered with a message this adapter does not know")


@dataclass(frozen=True)
class CodeForm:
    action: str
    token: str
    channel: str  # "email" or "totp"
    provider: str

    def fields(self, code: str) -> dict[str, str]:
        return {PROVIDER_FIELD: self.provider, CODE_FIELD: code, TOKEN_FIELD: self.token}


def _code_form_of(scan: _Scan) -> HtmlForm | None:
    return next((f for f in scan.forms if f.has(PROVIDER_FIELD) and f.has(TOKEN_FIELD)), None)


def parse_code_form(response: httpx.Response) -> CodeForm:
    """The second-factor page (`GET /Identity/Account/LoginWith2fa`)."""
    if is_login_redirect(response):
        raise MfaRequired("email", "the sign-in's second step expired before it was shown")
    if response.status_code != 200:
        raise PortalChanged(f"the verification code page answered HTTP {response.status_code}")
    form = _code_form_of(_scan(response, "verification code page"))
    if form is None:
        raise PortalChanged("the verification code page has no code form")
    if not form.has(CODE_FIELD):
        raise PortalChanged(f"the verification code form has no {CODE_FIELD} field")
    provider = form.value(PROVIDER_FIELD) or ""
    channel = _PROVIDERS.get(provider.casefold())
    if channel is None:
        raise PortalChanged("the verification code form names an unknown provider")
    token = form.value(TOKEN_FIELD)
    if not token:
        raise PortalChanged("the verification code form has no anti-forgery token")
    action = _local_action(form.action, f"{TWO_FACTOR_PATH}?ReturnUrl=%2FCases")
    return CodeForm(action, token, channel, provider)


def normalize_code(code: str) -> str | None:
    """The six digits the code form takes (people type spaces and dashes), or None."""
    digits = code.replace(" ", "").replace("-", "")
    return digits if len(digits) == 6 and digits.isascii() and digits.isdigit() else None


def code_outcome(response: httpx.Response, channel: str, now: datetime) -> None:
    """What the portal made of a verification code; returns only when signed in."""
    if response.is_redirect:
        if is_login_redirect(response):
            raise MfaRequired(channel, "the sign-in waited too long for its code; sign in again")
        if _redirect_outcome(response, now) is SignIn.SECOND_FACTOR:
            raise VerificationCodeRejected(channel)
        return
    if response.status_code == 400:
        raise PortalChanged("the portal refused the code form's anti-forgery token")
    if response.status_code != 200:
        raise PortalChanged(f"the verification code answered HTTP {response.status_code}")
    scan = _scan(response, "verification code answer")
    until = _locked_until(scan.messages, now)
    if until is not None:
        raise AccountLocked(until)
    if _code_form_of(scan) is not None and (
        INVALID_CODE in scan.messages or CODE_FORMAT in scan.messages
    ):
        raise VerificationCodeRejected(channel)
    raise PortalChanged("the verification code answer is a page this adapter does not know")


# ---- JSON API: responses that are not data ---------------------------------------------------


def _problem(response: httpx.Response) -> dict[str, Any]:
    content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if not content_type.endswith("json"):
        return {}
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def problem_text(response: httpx.Response) -> str:
    """The portal's own explanation of a refusal (ProblemDetails `detail`, else `title`)."""
    problem = _problem(response)
    for key in ("detail", "title"):
        value = problem.get(key)
        if isinstance(value, str) and value.strip():
            return " ".join(value.split())[:300]
    return f"HTTP {response.status_code}"


def session_ended(response: httpx.Response) -> bool:
    """Logged out: the API answers 401, pages redirect to the login form."""
    return response.status_code == 401 or is_login_redirect(response)


def password_expired(response: httpx.Response) -> bool:
    return response.status_code == 403 and "password has expired" in problem_text(response)


def antiforgery_refused(response: httpx.Response) -> bool:
    return response.status_code == 400 and "anti-forgery" in problem_text(response)


def json_of(response: httpx.Response, what: str) -> Any:
    return expect_json(response, what)


# ---- JSON API: data --------------------------------------------------------------------------


class _Obj:
    """Strict access to one JSON object: a missing key or a wrong type is a portal change."""

    def __init__(self, value: Any, what: str) -> None:
        if not isinstance(value, dict):
            raise PortalChanged(f"{what}: expected a JSON object")
        self._value: Mapping[str, Any] = value
        self._what = what

    def _get(self, key: str) -> Any:
        if key not in self._value:
            raise PortalChanged(f"{self._what}: the field {key!r} is missing")
        return self._value[key]

    def _wrong(self, key: str, kind: str) -> PortalChanged:
        return PortalChanged(f"{self._what}: the field {key!r} is not {kind}")

    def text(self, key: str) -> str:
        value = self._get(key)
        if not isinstance(value, str):
            raise self._wrong(key, "text")
        return value

    def opt_text(self, key: str) -> str | None:
        value = self._get(key)
        if value is not None and not isinstance(value, str):
            raise self._wrong(key, "text or null")
        return value

    def number(self, key: str) -> int:
        value = self._get(key)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise self._wrong(key, "a whole number")
        return value

    def opt_number(self, key: str) -> int | None:
        if self._get(key) is None:
            return None
        return self.number(key)

    def flag(self, key: str) -> bool:
        value = self._get(key)
        if not isinstance(value, bool):
            raise self._wrong(key, "true or false")
        return value

    def moment(self, key: str) -> datetime:
        value = self.text(key)
        try:
            moment = utc(value)
        except ValueError:
            raise self._wrong(key, "an ISO 8601 time") from None
        if moment is None:
            raise self._wrong(key, "an ISO 8601 time")
        return moment

    def opt_moment(self, key: str) -> datetime | None:
        if self._get(key) is None:
            return None
        return self.moment(key)

    def child(self, key: str, what: str) -> _Obj:
        return _Obj(self._get(key), what)

    def items(self, key: str) -> list[Any]:
        value = self._get(key)
        if not isinstance(value, list):
            raise self._wrong(key, "a list")
        return value


# /api/account


@dataclass(frozen=True)
class Partnership:
    doctor_id: str
    doctor_name: str
    permissions: tuple[str, ...]


@dataclass(frozen=True)
class Account:
    email: str
    user_type: str  # "Doctor" | "Partner"
    doctor_id: str | None
    can_approve: bool
    partnerships: tuple[Partnership, ...]

    @property
    def is_doctor(self) -> bool:
        return self.user_type == "Doctor"


_USER_TYPES = ("Doctor", "Partner")
VIEW = "View"
REJECT_SETUPS = "RejectSetups"
ADD_ORDERS = "AddOrders"
_APPROVE = frozenset({"Approve", "ApproveSetups"})


def parse_account(data: Any) -> Account:
    """`GET /api/account`: who is signed in and what each doctor granted them."""
    obj = _Obj(data, "account")
    user_type = obj.text("userType")
    if user_type not in _USER_TYPES:
        raise PortalChanged("account: unknown userType")
    partnerships = []
    for index, raw in enumerate(obj.items("partnerships")):
        item = _Obj(raw, f"account partnership {index}")
        permissions = item.items("permissions")
        if not all(isinstance(p, str) for p in permissions):
            raise PortalChanged("account: a partnership's permissions are not texts")
        partnerships.append(
            Partnership(item.text("doctorId"), item.text("doctorName"), tuple(permissions))
        )
    return Account(
        email=obj.text("email"),
        user_type=user_type,
        doctor_id=obj.opt_text("doctorId"),
        can_approve=obj.flag("canApproveSetups"),
        partnerships=tuple(partnerships),
    )


EXCESSIVE_DOCTOR = (
    "This is a doctor's own ClearCorrect login: it can approve treatment setups, and a HIPAA-"
    "compliant TPS needs its own login. In the ClearCorrect Doctor Portal open the Partner tool, "
    "add the TPS's e-mail address as a partner with View and Reject setups, share the cases, "
    "and enter that partner login here instead."
)
EXCESSIVE_APPROVE = (
    "This partner login can approve treatment setups. Ask the doctor to remove the approve "
    "right in the Partner tool: the TPS needs View and Reject setups only."
)
INSUFFICIENT_VIEW = (
    "This partner login cannot see any cases: no doctor has given it the View permission. "
    "In the ClearCorrect Partner tool, give the TPS partner View (and Reject setups) and "
    "share the cases with it."
)


def access_of(account: Account) -> Access:
    """Least privilege, read from the portal: a partner with View (and Reject setups) is right;
    a doctor's own login, or any login that can approve, is excessive; no View is insufficient.
    """
    if account.is_doctor:
        return Access(
            roles=("userType:Doctor", *(("canApproveSetups",) if account.can_approve else ())),
            capabilities=frozenset(Capability),
            excessive=EXCESSIVE_DOCTOR,
            account_type="doctor",
        )
    roles = tuple(f"{p.doctor_id}:{name}" for p in account.partnerships for name in p.permissions)
    viewing = [p for p in account.partnerships if VIEW in p.permissions]
    capabilities: set[Capability] = set()
    if viewing:
        capabilities |= {Capability.READ_CASES, Capability.POST_COMMENT}
    if any(REJECT_SETUPS in p.permissions for p in viewing):
        capabilities.add(Capability.REJECT_SETUP)
    if any(ADD_ORDERS in p.permissions for p in account.partnerships):
        capabilities.add(Capability.ADD_ORDER)
    approves = account.can_approve or any(_APPROVE & set(p.permissions) for p in viewing)
    if approves:
        capabilities.add(Capability.APPROVE)
        roles = (*roles, "canApproveSetups") if account.can_approve else roles
    return Access(
        roles=roles,
        capabilities=frozenset(capabilities),
        excessive=EXCESSIVE_APPROVE if approves else None,
        insufficient=None if viewing else INSUFFICIENT_VIEW,
        account_type="partner",
    )


# /api/cases


@dataclass(frozen=True)
class CaseListPage:
    items: tuple[CaseSummary, ...]
    page: int
    total_count: int
    total_pages: int


def parse_case_summary(data: Any, what: str = "case") -> CaseSummary:
    obj = _Obj(data, what)
    raw_status = obj.text("status")
    return CaseSummary(
        vendor_case_id=obj.text("caseNumber"),
        patient_name=obj.text("patientName"),
        patient_id=obj.text("patientId"),
        vendor_doctor_id=obj.text("doctorId"),
        vendor_doctor_name=obj.text("doctorName"),
        status=case_status(raw_status),
        vendor_status=raw_status,
        action_required=obj.flag("actionRequired"),
        unread_comments=obj.number("unreadComments"),
        updated_at=obj.moment("updatedAt"),
    )


def parse_case_list(data: Any) -> CaseListPage:
    """One page of `GET /api/cases`."""
    obj = _Obj(data, "case list")
    items = tuple(
        parse_case_summary(item, f"case list item {index}")
        for index, item in enumerate(obj.items("items"))
    )
    page = CaseListPage(
        items, obj.number("page"), obj.number("totalCount"), obj.number("totalPages")
    )
    if len({i.vendor_case_id for i in items}) != len(items):
        raise PortalChanged("case list: a page lists the same case twice")
    if page.page < 1 or (page.total_count > 0) != (page.total_pages > 0):
        raise PortalChanged("case list: the page numbers do not add up")
    return page


def case_list_params(page: int, updated_since: datetime | None) -> dict[str, str]:
    params = {"page": str(page), "pageSize": str(MAX_PAGE_SIZE)}
    if updated_since is not None:
        params["updatedSince"] = iso(updated_since)
    return params


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


# /api/cases/{n} and /api/cases/{n}/comments


@dataclass(frozen=True)
class ParsedCase:
    summary: CaseSummary
    created_at: datetime | None
    setups: tuple[Setup, ...]
    #: Every setup's decline reason as the portal shows it (where markers of rejections live).
    decline_reasons: tuple[str, ...]


def _setup_file(data: Any, what: str) -> SetupFile:
    obj = _Obj(data, what)
    return SetupFile(name=obj.text("name"), kind=obj.text("kind"), size=obj.opt_number("size"))


def _setup(data: Any, what: str, base_url: str) -> tuple[Setup, str | None]:
    obj = _Obj(data, what)
    raw_state = obj.text("state")
    state = setup_state(raw_state)
    if state is None:
        raise PortalChanged(f"{what}: unknown setup state")
    viewer = obj.opt_text("viewerUrl")
    setup = Setup(
        vendor_setup_id=obj.text("setupId"),
        version=obj.number("version"),
        created_at=obj.opt_moment("createdAt"),
        state=state,
        vendor_state=raw_state,
        viewer_url=urljoin(base_url, viewer) if viewer else None,
        files=tuple(_setup_file(f, f"{what} file {i}") for i, f in enumerate(obj.items("files"))),
    )
    return setup, obj.opt_text("declineReason")


def parse_case(data: Any, base_url: str) -> ParsedCase:
    """`GET /api/cases/{caseNumber}`: the summary plus setups (with files)."""
    obj = _Obj(data, "case detail")
    summary = parse_case_summary(data, "case detail")
    parsed = [
        _setup(s, f"case detail setup {i}", base_url) for i, s in enumerate(obj.items("setups"))
    ]
    return ParsedCase(
        summary=summary,
        created_at=obj.opt_moment("createdAt"),
        setups=tuple(setup for setup, _ in parsed),
        decline_reasons=tuple(reason for _, reason in parsed if reason),
    )


def parse_comment(data: Any, what: str = "comment") -> Comment:
    obj = _Obj(data, what)
    role = author_role(obj.text("authorRole"))
    if role is None:
        raise PortalChanged(f"{what}: unknown author role")
    return Comment(
        vendor_comment_id=obj.text("commentId"),
        author_role=role,
        author_name=obj.text("authorName"),
        body=obj.text("body"),
        created_at=obj.opt_moment("createdAt"),
        unread=obj.flag("unread"),
    )


def parse_comments(data: Any) -> tuple[Comment, ...]:
    """`GET /api/cases/{n}/comments`; `unread` is for this viewer, and reading changes nothing."""
    obj = _Obj(data, "comments")
    comments = tuple(parse_comment(c, f"comment {i}") for i, c in enumerate(obj.items("items")))
    if obj.number("totalCount") != len(comments):
        raise PortalChanged("comments: totalCount does not match the items")
    return comments


def posted_comment_id(data: Any) -> str:
    """`POST /api/cases/{n}/comments` answers the comment it made."""
    return _Obj(data, "posted comment").text("commentId")


def declined_setup_id(data: Any) -> str:
    """`POST .../setups/{id}/decline` answers `{caseNumber, status, setup}`."""
    return _Obj(data, "decline answer").child("setup", "declined setup").text("setupId")
