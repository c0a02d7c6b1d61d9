"""The ASP.NET Core Identity sign-in and its JSON API (register variant `aspnetcore-json`):
URLs, form fields, cookie names, JSON keys and messages, and the parsers that turn responses
into the shared value types.

No public source confirms any of it: it is the adapter's optional fast path, used when a portal
answers this API (detected at run time), never the primary path. Parsing is strict on purpose:
a missing or renamed field raises `PortalChanged` instead of reading as "nothing", because an
empty case list that is really an unparsed one would make the connector record every case as
removed.

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
from urllib.parse import quote, urlsplit

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
    Setup,
    SetupFile,
    SetupState,
    VerificationCodeRejected,
    utc,
)
from adapters.clearcorrect.site import labels
from adapters.clearcorrect.site.facts import FACTS, split
from adapters.clearcorrect.status import (
    EXCESSIVE_APPROVE,
    EXCESSIVE_DOCTOR,
    INSUFFICIENT_VIEW,
    case_status,
)
from adapters.http.parse import absolute_url, expect_json


def _path(literal: str) -> str:
    """`GET /api/cases?group=&page=` -> `/api/cases`."""
    return literal.split(" ", 1)[-1].split("?", 1)[0]


# ---- URLs ------------------------------------------------------------------------------------

LOGIN_PATH = FACTS.value("cc.app.signin.login-path", "/Identity/Account/Login")
TWO_FACTOR_PATH = FACTS.value("cc.app.signin.2fa-path", "/Identity/Account/LoginWith2fa")
#: Where ASP.NET Core Identity sends a locked-out sign-in by default.
LOCKOUT_PATH = FACTS.value("cc.app.signin.lockout-path", "/Identity/Account/Lockout")
#: The portal's documented lockout (`cc.signin.lockout`): 20 minutes after 3 failed logins.
LOCKOUT_MINUTES = 20
CHANGE_PASSWORD_PATH = FACTS.value(
    "cc.app.signin.change-password-path", "/Identity/Account/Manage/ChangePassword"
)
#: Where a sign-in returns to; the login form's `ReturnUrl`.
RETURN_PARAM, RETURN_URL = FACTS.value("cc.app.signin.return-url", "ReturnUrl=/Cases").split("=")
ACCOUNT_API = _path(FACTS.value("cc.app.api.account", "GET /api/account"))
CASES_API = _path(
    FACTS.value("cc.app.api.cases", "GET /api/cases?group=&updatedSince=&page=&pageSize=")
)
_CASE_API = _path(FACTS.value("cc.app.api.case", "GET /api/cases/{caseNumber}"))
_COMMENTS_API = _path(FACTS.value("cc.app.api.comments", "GET /api/cases/{n}/comments"))
_DECLINE_API = _path(FACTS.value("cc.app.decline.api", "POST /api/cases/{n}/setups/{id}/decline"))

_ID = re.compile(r"[0-9A-Za-z-]{1,32}")


def _id(value: str, what: str) -> str:
    """A case number or setup id for a URL path; anything else cannot exist on the portal."""
    if not _ID.fullmatch(value):
        raise NotFound(f"{what} is not a ClearCorrect {what}")
    return quote(value, safe="")


def case_api(case_number: str) -> str:
    return _CASE_API.replace("{caseNumber}", _id(case_number, "case number"))


def comments_api(case_number: str) -> str:
    return _COMMENTS_API.replace("{n}", _id(case_number, "case number"))


def decline_api(case_number: str, setup_id: str) -> str:
    number = _id(case_number, "case number")
    return _DECLINE_API.replace("{n}", number).replace("{id}", _id(setup_id, "setup id"))


# ---- cookies and headers ---------------------------------------------------------------------

SESSION_COOKIE = FACTS.value("cc.app.session.cookie", ".AspNetCore.Identity.Application")
#: ASP.NET Core names the anti-forgery cookie with a per-application suffix.
ANTIFORGERY_COOKIE_PREFIX = FACTS.value(
    "cc.app.session.antiforgery-cookie", ".AspNetCore.Antiforgery."
)
#: The user-bound request token the page script reads; unsafe API calls send it back in a header.
XSRF_COOKIE = FACTS.value("cc.app.session.xsrf-cookie", "XSRF-TOKEN")
TOKEN_HEADER = FACTS.value("cc.app.session.token-header", "RequestVerificationToken")


def is_state_cookie(name: str) -> bool:
    """The cookies a saved session consists of: the session and anti-forgery cookies.

    Not the second-factor cookie (a half-finished sign-in's), nor the request token cookie:
    the account API hands a new one with every answer, so keeping it would make every run's
    session look changed (sealed and stored again, with no sign-in saved by it); a write asks
    for a fresh one when it has none."""
    return name == SESSION_COOKIE or name.startswith(ANTIFORGERY_COOKIE_PREFIX)


# ---- forms, limits and messages --------------------------------------------------------------

TOKEN_FIELD = FACTS.value("cc.app.signin.token-field", "__RequestVerificationToken")
EMAIL_FIELD = FACTS.value("cc.app.signin.email-field", "Input.Email")
PASSWORD_FIELD = FACTS.value("cc.app.signin.password-field", "Input.Password")
REMEMBER_FIELD = FACTS.value("cc.app.signin.remember-field", "Input.RememberMe")
CODE_FIELD = FACTS.value("cc.app.signin.code-field", "Input.TwoFactorCode")
PROVIDER_FIELD = FACTS.value("cc.app.signin.provider-field", "Provider")
_EMAIL, _AUTHENTICATOR = split(FACTS.value("cc.app.signin.provider-values", "Email, Authenticator"))
_PROVIDERS = {_EMAIL.casefold(): "email", _AUTHENTICATOR.casefold(): "totp"}
_SUMMARY_CLASS = (
    FACTS.value("cc.app.signin.validation-summary", "div.validation-summary-errors li")
    .split(".", 1)[1]
    .split(" ", 1)[0]
)
_FIELD_ERROR = FACTS.value(
    "cc.app.signin.field-error", "span.field-validation-error[data-valmsg-for]"
)
_FIELD_ERROR_CLASS, _FIELD_ERROR_ATTR = _FIELD_ERROR.split(".", 1)[1].rstrip("]").split("[")

MAX_COMMENT = 4000
MAX_REASON = 2000
#: The largest `pageSize` the cases API accepts.
MAX_PAGE_SIZE = 100

INVALID_LOGIN = labels.Words(
    {
        "cc.app.signin.msg-invalid": FACTS.label(
            "cc.app.signin.msg-invalid",
            {
                "en": "Invalid login attempt.",
                "de": "Ungültiger Anmeldeversuch.",
                "pl": "Nieprawidłowa próba logowania.",
            },
        )
    }
)
INVALID_CODE = FACTS.value("cc.app.signin.msg-invalid-code", "Invalid verification code.")
CODE_FORMAT = FACTS.value("cc.app.signin.msg-code-format", "The code must be 6 digits.")
_LOCKED = tuple(
    labels.template(text.replace(" 20 ", " {minutes} "))
    for text in FACTS.label(
        "cc.app.signin.msg-locked",
        {
            "en": "Your account has been locked because of too many failed login attempts. "
            "Please try again in 20 minutes.",
            "de": "Ihr Konto wurde nach zu vielen fehlgeschlagenen Anmeldeversuchen gesperrt. "
            "Bitte versuchen Sie es in 20 Minuten erneut.",
            "pl": "Twoje konto zostało zablokowane z powodu zbyt wielu nieudanych prób "
            "logowania. Spróbuj ponownie za 20 minut.",
        },
    ).values()
)
_PASSWORD_MESSAGES = (
    FACTS.value("cc.app.signin.msg-password-required", "The Password field is required."),
    FACTS.value(
        "cc.app.signin.msg-password-length",
        "The Password must be at least 8 and at max 16 characters long.",
    ),
)
_EMAIL_INVALID = FACTS.value(
    "cc.app.signin.msg-email-invalid", "The Email field is not a valid e-mail address."
)
_EMAIL_REQUIRED = FACTS.value("cc.app.signin.msg-email-required", "The Email field is required.")


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
            elif _SUMMARY_CLASS in classes:
                self._summary_depth = 1
        if self._capture is None:
            if tag == "li" and self._summary_depth:
                self._start_capture(tag, None)
            elif tag == "span" and _FIELD_ERROR_CLASS in classes:
                self._start_capture(tag, a.get(_FIELD_ERROR_ATTR, ""))

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
        for pattern in _LOCKED:
            match = pattern.search(labels.key(message))
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
    if any(INVALID_LOGIN.fact(m) for m in messages):
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


# ---- JSON API: keys (register rows `cc.app.api.*-keys`, one literal each) ---------------------

(EMAIL, USER_TYPE, ACCOUNT_DOCTOR_ID, CAN_APPROVE, PARTNERSHIPS) = split(
    FACTS.value(
        "cc.app.api.account-keys", "email, userType, doctorId, canApproveSetups, partnerships"
    )
)
(PARTNER_DOCTOR_ID, PARTNER_DOCTOR_NAME, PERMISSIONS) = split(
    FACTS.value("cc.app.api.partnership-keys", "doctorId, doctorName, permissions")
)
(GROUP_PARAM, UPDATED_SINCE_PARAM, PAGE_PARAM, PAGE_SIZE_PARAM) = split(
    FACTS.value("cc.app.api.cases-params", "group, updatedSince, page, pageSize")
)
(ITEMS, PAGE, TOTAL_COUNT, TOTAL_PAGES) = split(
    FACTS.value("cc.app.api.cases-page-keys", "items, page, totalCount, totalPages")
)
(
    CASE_NUMBER,
    PATIENT_NAME,
    PATIENT_ID,
    DOCTOR_ID,
    DOCTOR_NAME,
    STATUS,
    ACTION_REQUIRED,
    CREATED_AT,
    UPDATED_AT,
    UNREAD_COMMENTS,
    SETUPS,
) = split(
    FACTS.value(
        "cc.app.api.case-item-keys",
        "caseNumber, patientName, patientId, doctorId, doctorName, status, actionRequired, "
        "createdAt, updatedAt, unreadComments, setups",
    )
)
(
    SETUP_ID,
    VERSION,
    SETUP_CREATED_AT,
    STATE,
    VIEWER_URL,
    DECLINE_REASON,
    FILES,
    FILE_NAME,
    FILE_KIND,
    FILE_SIZE,
) = split(
    FACTS.value(
        "cc.app.api.setup-keys",
        "setupId, version, createdAt, state, viewerUrl, declineReason, files, name, kind, size",
    )
)
(
    COMMENT_ITEMS,
    COMMENT_TOTAL,
    COMMENT_ID,
    AUTHOR_NAME,
    AUTHOR_ROLE,
    BODY,
    COMMENT_CREATED_AT,
    UNREAD,
) = split(
    FACTS.value(
        "cc.app.api.comment-keys",
        "items, totalCount, commentId, authorName, authorRole, body, createdAt, unread",
    )
)
(POST_BODY, POST_REASON, POST_SETUP) = split(
    FACTS.value("cc.app.api.post-keys", "body, reason, setup")
)
(PROBLEM_TITLE, PROBLEM_DETAIL) = split(FACTS.value("cc.app.api.problem-keys", "title, detail"))
_DOCTOR_TYPE, _PARTNER_TYPE = split(FACTS.value("cc.app.api.user-type-names", "Doctor, Partner"))
VIEW, ADD_ORDERS, REJECT_SETUPS, *_approving = split(
    FACTS.value(
        "cc.app.api.permission-names", "View, AddOrders, RejectSetups, Approve, ApproveSetups"
    )
)
_APPROVE = frozenset(_approving)
_SETUP_STATES = {
    FACTS.label("cc.app.setup-state.awaiting", {"en": "Awaiting approval"})[
        "en"
    ]: SetupState.IN_REVIEW,
    FACTS.label("cc.app.setup-state.declined", {"en": "Declined"})["en"]: SetupState.REJECTED,
    FACTS.label("cc.app.setup-state.approved", {"en": "Approved"})["en"]: SetupState.APPROVED,
    FACTS.label("cc.app.setup-state.superseded", {"en": "Superseded"})["en"]: SetupState.SUPERSEDED,
}
_ROLES = dict(
    zip(
        split(FACTS.value("cc.app.chat.role-names", "Doctor, Partner, Technician")),
        (AuthorRole.DOCTOR, AuthorRole.PARTNER, AuthorRole.TECHNICIAN),
        strict=True,
    )
)


def setup_state(raw: str) -> SetupState | None:
    """The JSON API's setup state (an English code); None for one this adapter does not know."""
    return next((v for k, v in _SETUP_STATES.items() if labels.key(k) == labels.key(raw)), None)


def author_role(raw: str) -> AuthorRole | None:
    return next((v for k, v in _ROLES.items() if labels.key(k) == labels.key(raw)), None)


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
    for key in (PROBLEM_DETAIL, PROBLEM_TITLE):
        value = problem.get(key)
        if isinstance(value, str) and value.strip():
            return " ".join(value.split())[:300]
    return f"HTTP {response.status_code}"


def session_ended(response: httpx.Response) -> bool:
    """Logged out: the API answers 401, pages redirect to the login form."""
    return response.status_code == 401 or is_login_redirect(response)


_EXPIRED = FACTS.value("cc.app.signin.msg-password-expired", "Your password has expired")
_ANTIFORGERY = FACTS.value("cc.app.api.antiforgery-refused", "anti-forgery")


def password_expired(response: httpx.Response) -> bool:
    return response.status_code == 403 and labels.key(_EXPIRED) in labels.key(
        problem_text(response)
    )


def antiforgery_refused(response: httpx.Response) -> bool:
    return response.status_code == 400 and _ANTIFORGERY in problem_text(response)


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
        return self.user_type == _DOCTOR_TYPE


_USER_TYPES = (_DOCTOR_TYPE, _PARTNER_TYPE)


def parse_account(data: Any) -> Account:
    """`GET /api/account`: who is signed in and what each doctor granted them."""
    obj = _Obj(data, "account")
    user_type = obj.text(USER_TYPE)
    if user_type not in _USER_TYPES:
        raise PortalChanged("account: unknown userType")
    partnerships = []
    for index, raw in enumerate(obj.items(PARTNERSHIPS)):
        item = _Obj(raw, f"account partnership {index}")
        permissions = item.items(PERMISSIONS)
        if not all(isinstance(p, str) for p in permissions):
            raise PortalChanged("account: a partnership's permissions are not texts")
        partnerships.append(
            Partnership(
                item.text(PARTNER_DOCTOR_ID), item.text(PARTNER_DOCTOR_NAME), tuple(permissions)
            )
        )
    return Account(
        email=obj.text(EMAIL),
        user_type=user_type,
        doctor_id=obj.opt_text(ACCOUNT_DOCTOR_ID),
        can_approve=obj.flag(CAN_APPROVE),
        partnerships=tuple(partnerships),
    )


def access_of(account: Account) -> Access:
    """Least privilege, read from the portal: a partner with View (and Reject setups) is right;
    a doctor's own login, or any login that can approve, is excessive; no View is insufficient.
    """
    if account.is_doctor:
        return Access(
            roles=(f"{USER_TYPE}:{_DOCTOR_TYPE}", *((CAN_APPROVE,) if account.can_approve else ())),
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
        roles = (*roles, CAN_APPROVE) if account.can_approve else roles
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
    raw_status = obj.text(STATUS)
    return CaseSummary(
        vendor_case_id=obj.text(CASE_NUMBER),
        patient_name=obj.text(PATIENT_NAME),
        patient_id=obj.text(PATIENT_ID),
        vendor_doctor_id=obj.text(DOCTOR_ID),
        vendor_doctor_name=obj.text(DOCTOR_NAME),
        status=case_status(raw_status),
        vendor_status=raw_status,
        action_required=obj.flag(ACTION_REQUIRED),
        unread_comments=obj.number(UNREAD_COMMENTS),
        updated_at=obj.moment(UPDATED_AT),
    )


def parse_case_list(data: Any) -> CaseListPage:
    """One page of `GET /api/cases`."""
    obj = _Obj(data, "case list")
    items = tuple(
        parse_case_summary(item, f"case list item {index}")
        for index, item in enumerate(obj.items(ITEMS))
    )
    page = CaseListPage(items, obj.number(PAGE), obj.number(TOTAL_COUNT), obj.number(TOTAL_PAGES))
    if len({i.vendor_case_id for i in items}) != len(items):
        raise PortalChanged("case list: a page lists the same case twice")
    if page.page < 1 or (page.total_count > 0) != (page.total_pages > 0):
        raise PortalChanged("case list: the page numbers do not add up")
    return page


def case_list_params(page: int, updated_since: datetime | None) -> dict[str, str]:
    params = {PAGE_PARAM: str(page), PAGE_SIZE_PARAM: str(MAX_PAGE_SIZE)}
    if updated_since is not None:
        params[UPDATED_SINCE_PARAM] = iso(updated_since)
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
    return SetupFile(
        name=obj.text(FILE_NAME), kind=obj.text(FILE_KIND), size=obj.opt_number(FILE_SIZE)
    )


def _setup(data: Any, what: str, base_url: str) -> tuple[Setup, str | None]:
    obj = _Obj(data, what)
    raw_state = obj.text(STATE)
    state = setup_state(raw_state)
    if state is None:
        raise PortalChanged(f"{what}: unknown setup state")
    viewer = obj.opt_text(VIEWER_URL)
    setup = Setup(
        vendor_setup_id=obj.text(SETUP_ID),
        version=obj.number(VERSION),
        created_at=obj.opt_moment(SETUP_CREATED_AT),
        state=state,
        vendor_state=raw_state,
        viewer_url=absolute_url(base_url, viewer) if viewer else None,
        files=tuple(_setup_file(f, f"{what} file {i}") for i, f in enumerate(obj.items(FILES))),
    )
    return setup, obj.opt_text(DECLINE_REASON)


def parse_case(data: Any, base_url: str) -> ParsedCase:
    """`GET /api/cases/{caseNumber}`: the summary plus setups (with files)."""
    obj = _Obj(data, "case detail")
    summary = parse_case_summary(data, "case detail")
    parsed = [
        _setup(s, f"case detail setup {i}", base_url) for i, s in enumerate(obj.items(SETUPS))
    ]
    return ParsedCase(
        summary=summary,
        created_at=obj.opt_moment(CREATED_AT),
        setups=tuple(setup for setup, _ in parsed),
        decline_reasons=tuple(reason for _, reason in parsed if reason),
    )


def parse_comment(data: Any, what: str = "comment") -> Comment:
    obj = _Obj(data, what)
    role = author_role(obj.text(AUTHOR_ROLE))
    if role is None:
        raise PortalChanged(f"{what}: unknown author role")
    return Comment(
        vendor_comment_id=obj.text(COMMENT_ID),
        author_role=role,
        author_name=obj.text(AUTHOR_NAME),
        body=obj.text(BODY),
        created_at=obj.opt_moment(COMMENT_CREATED_AT),
        unread=obj.flag(UNREAD),
    )


def parse_comments(data: Any) -> tuple[Comment, ...]:
    """`GET /api/cases/{n}/comments`; `unread` is for this viewer, and reading changes nothing."""
    obj = _Obj(data, "comments")
    comments = tuple(parse_comment(c, f"comment {i}") for i, c in enumerate(obj.items(ITEMS)))
    if obj.number(COMMENT_TOTAL) != len(comments):
        raise PortalChanged("comments: totalCount does not match the items")
    return comments


def posted_comment_id(data: Any) -> str:
    """`POST /api/cases/{n}/comments` answers the comment it made."""
    return _Obj(data, "posted comment").text(COMMENT_ID)


def declined_setup_id(data: Any) -> str:
    """`POST .../setups/{id}/decline` answers `{caseNumber, status, setup}`."""
    return _Obj(data, "decline answer").child(POST_SETUP, "declined setup").text(SETUP_ID)
