"""What the Invisalign Doctor Site looks like: URLs, cookies, login-page markup, test ids, JSON
field names and messages, and the parsers that turn them into base values.

This is the only module that knows the portal's markup and wire format, so checking the adapter
against the live site touches one file (woob's `pages.py`). Parsing is strict: a missing or
renamed field, test id or cookie raises `PortalChanged(detail)` rather than producing empty or
partial data, because an empty listing would look like "every case was removed". Details name
fields and test ids only, never values: values are patient data.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

import httpx
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Page

from adapters.base import (
    AccountLocked,
    AdapterError,
    CaseDetail,
    CaseSummary,
    Comment,
    InvalidCredentials,
    PortalChanged,
    Setup,
    SetupFile,
    utc,
)
from adapters.invisalign import status

# URLs -------------------------------------------------------------------------------------------

#: A server-rendered page behind the login without a page script: the cheapest page to land on
#: after a login (the patient list would also fire its own API call).
ENTRY_PAGE = "/v3/auth/account/profile.action"
LIST_PAGE = "/v3/auth/patient/patientList.action"
PROFILE_API = "/v3/api/user/profile"
PATIENTS_API = "/v3/api/patients"
#: The API's largest `pageSize`.
MAX_PAGE_SIZE = 100

_PATIENT_ID = re.compile(r"[0-9]{1,12}")


def patient_api(patient_id: str) -> str:
    return f"{PATIENTS_API}/{quote(patient_id, safe='')}"


def comments_api(patient_id: str) -> str:
    return f"{patient_api(patient_id)}/comments"


def modification_api(patient_id: str, plan_id: str) -> str:
    return f"{patient_api(patient_id)}/clincheck/{quote(plan_id, safe='')}/modification"


def list_page(page: int) -> str:
    return f"{LIST_PAGE}?page={page}&filter=ALL"


def detail_page(patient_id: str) -> str:
    return f"/v3/auth/patient/patientDetail.action?patientId={quote(patient_id, safe='')}"


def valid_patient_id(value: str) -> bool:
    return bool(_PATIENT_ID.fullmatch(value))


# Cookies ----------------------------------------------------------------------------------------

SESSION_COOKIE = "JSESSIONID"
CSRF_COOKIE = "CSRF-TOKEN"
CSRF_HEADER = "X-CSRF-TOKEN"
#: "Keep me signed in": renews the app session without the password (90 days, 30 idle).
SAVED_LOGIN_COOKIE = "auth0"


# The hosted login -------------------------------------------------------------------------------


class Step(StrEnum):
    """Where a navigation of the login flow ended."""

    APP = "app"
    LOGIN = "login"
    MFA_EMAIL = "mfa_email"
    MFA_TOTP = "mfa_totp"
    CHANGE_PASSWORD = "change_password"  # noqa: S105 (a step name)
    OTHER = "other"


_STEP_PATHS = {
    "/u/login": Step.LOGIN,
    "/u/mfa-email-challenge": Step.MFA_EMAIL,
    "/u/mfa-otp-challenge": Step.MFA_TOTP,
    "/u/change-password": Step.CHANGE_PASSWORD,
}
_NOT_APP = ("/v3/auth/callback", "/v3/auth/logout.action")


def step_of(url: str) -> Step:
    path = urlsplit(url).path
    if path in _STEP_PATHS:
        return _STEP_PATHS[path]
    if path.startswith("/v3/auth/") and path not in _NOT_APP:
        return Step.APP
    return Step.OTHER


def is_login_redirect(response: httpx.Response) -> bool:
    """An app request sent to the authorization server: the session is gone."""
    location = response.headers.get("location", "")
    return response.is_redirect and urlsplit(location).path in ("/authorize", "/u/login")


LOGIN_FORM = "form[data-challenge]"
USERNAME_INPUT = "#username"
PASSWORD_INPUT = "#password"  # noqa: S105 (a selector)
REMEMBER_CHECKBOX = "input[name=remember]"
SUBMIT_BUTTON = "button[type=submit]"
CODE_INPUT = "#code"
ERROR_ELEMENT = "#error-element"
ERROR_CODE_ATTRIBUTE = "data-error-code"

WRONG_CREDENTIALS = "wrong-credentials"
USER_BLOCKED = "user-blocked"
INVALID_CODE = "invalid-code"
JAVASCRIPT_REQUIRED = "javascript-required"
MISSING_FIELDS = "missing-fields"


@dataclass(frozen=True)
class LoginError:
    code: str | None
    locked_until: datetime | None = None


async def login_error(page: Page) -> LoginError:
    """The error a hosted login page shows (`data-error-code`), or code None without one.

    A lock time is read from a `<time datetime>` inside the message if the portal ever shows
    one; today it does not, and `AccountLocked.until` stays None.
    """
    element = page.locator(ERROR_ELEMENT)
    try:
        if await element.count() == 0:
            return LoginError(None)
        code = await element.first.get_attribute(ERROR_CODE_ATTRIBUTE)
        until = None
        times = element.first.locator("time[datetime]")
        if await times.count():
            raw = await times.first.get_attribute("datetime")
            until = _parse_time(raw) if raw else None
    except PlaywrightError:
        raise PortalChanged("the login page's error message could not be read") from None
    return LoginError(code, until)


def refusal(error: LoginError) -> AdapterError:
    """The typed error for what the password step of the hosted login page answered."""
    if error.code == WRONG_CREDENTIALS:
        return InvalidCredentials("the portal rejected the username or password")
    if error.code == USER_BLOCKED:
        return AccountLocked(
            error.locked_until,
            "the portal blocked this login after repeated failed attempts; the account owner "
            "was emailed instructions to unblock it",
        )
    if error.code == JAVASCRIPT_REQUIRED:
        return PortalChanged("the login page refused the form: its challenge was not answered")
    if error.code == MISSING_FIELDS:
        return PortalChanged("the login page did not receive the username and password fields")
    if error.code is None:
        return PortalChanged("the login page came back without an error code")
    return PortalChanged(f"the login page shows an unknown error code {error.code!r}")


# JSON: strict readers ---------------------------------------------------------------------------


def _obj(value: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise PortalChanged(f"{what}: expected a JSON object")
    return value


def _has(obj: Mapping[str, Any], key: str, what: str) -> Any:
    if key not in obj:
        raise PortalChanged(f"{what}: field {key!r} is missing")
    return obj[key]


def _str(obj: Mapping[str, Any], key: str, what: str) -> str:
    value = _has(obj, key, what)
    if not isinstance(value, str):
        raise PortalChanged(f"{what}: field {key!r} is not text")
    return value


def _opt_str(obj: Mapping[str, Any], key: str, what: str) -> str | None:
    value = _has(obj, key, what)
    if value is not None and not isinstance(value, str):
        raise PortalChanged(f"{what}: field {key!r} is not text")
    return value


def _int(obj: Mapping[str, Any], key: str, what: str, low: int = 0) -> int:
    value = _has(obj, key, what)
    if not isinstance(value, int) or isinstance(value, bool) or value < low:
        raise PortalChanged(f"{what}: field {key!r} is not a whole number from {low}")
    return value


def _opt_int(obj: Mapping[str, Any], key: str, what: str) -> int | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise PortalChanged(f"{what}: field {key!r} is not a whole number")
    return value


def _bool(obj: Mapping[str, Any], key: str, what: str) -> bool:
    value = _has(obj, key, what)
    if not isinstance(value, bool):
        raise PortalChanged(f"{what}: field {key!r} is not true or false")
    return value


def _list(obj: Mapping[str, Any], key: str, what: str) -> list[Any]:
    value = _has(obj, key, what)
    if not isinstance(value, list):
        raise PortalChanged(f"{what}: field {key!r} is not a list")
    return value


def _parse_time(raw: str) -> datetime:
    try:
        parsed = utc(raw)
    except ValueError:
        raise PortalChanged("a time is not in ISO 8601") from None
    if parsed is None:
        raise PortalChanged("a time is empty")
    return parsed


def _time(obj: Mapping[str, Any], key: str, what: str) -> datetime:
    raw = _str(obj, key, what)
    try:
        return _parse_time(raw)
    except PortalChanged:
        raise PortalChanged(f"{what}: field {key!r} is not an ISO 8601 time") from None


def _opt_time(obj: Mapping[str, Any], key: str, what: str) -> datetime | None:
    raw = _opt_str(obj, key, what)
    if raw is None:
        return None
    return _time(obj, key, what)


def _patient_id(obj: Mapping[str, Any], what: str) -> str:
    value = _str(obj, "patientId", what)
    if not valid_patient_id(value):
        raise PortalChanged(f"{what}: field 'patientId' is not a patient number")
    return value


# JSON: profile ----------------------------------------------------------------------------------

_ACCOUNT_TYPES = {"DOCTOR": "doctor", "STAFF": "staff"}


@dataclass(frozen=True)
class Profile:
    """Who the login is (`GET /v3/api/user/profile`)."""

    user_name: str  # the login's username (an email address)
    account_type: str  # "doctor" | "staff"
    roles: tuple[str, ...]  # as the portal names them; empty for a doctor (every right)
    doctor_id: str
    doctor_name: str


def parse_profile(data: Any) -> Profile:
    what = "user profile"
    obj = _obj(data, what)
    raw_type = _str(obj, "accountType", what)
    if raw_type not in _ACCOUNT_TYPES:
        raise PortalChanged(f"{what}: unknown account type {raw_type!r}")
    roles = _list(obj, "roles", what)
    if not all(isinstance(r, str) for r in roles):
        raise PortalChanged(f"{what}: field 'roles' is not a list of names")
    doctor = _obj(_has(obj, "doctor", what), f"{what} doctor")
    return Profile(
        user_name=_str(obj, "userName", what),
        account_type=_ACCOUNT_TYPES[raw_type],
        roles=tuple(roles),
        doctor_id=_str(doctor, "doctorId", f"{what} doctor"),
        doctor_name=_str(doctor, "name", f"{what} doctor"),
    )


# JSON: patients ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class PatientPage:
    """One page of `GET /v3/api/patients` (sorted by last activity, newest first)."""

    page: int
    total_count: int
    total_pages: int
    items: tuple[CaseSummary, ...]


def parse_summary(data: Any, what: str = "patient") -> CaseSummary:
    obj = _obj(data, what)
    patient_id = _patient_id(obj, what)
    raw_status = _str(obj, "trackerStatus", what)
    return CaseSummary(
        vendor_case_id=patient_id,
        patient_name=_str(obj, "patientName", what),
        patient_id=f"#{patient_id}",  # as the portal shows it
        vendor_doctor_id=_str(obj, "doctorId", what),
        vendor_doctor_name=_str(obj, "doctorName", what),
        status=status.case_status(raw_status),
        vendor_status=raw_status,
        action_required=_opt_str(obj, "actionRequired", what) is not None,
        unread_comments=_int(obj, "unreadComments", what),
        updated_at=_time(obj, "lastActivity", what),
    )


def parse_patient_page(data: Any) -> PatientPage:
    what = "patient list"
    obj = _obj(data, what)
    page = _int(obj, "page", what, low=1)
    total_count = _int(obj, "totalCount", what)
    total_pages = _int(obj, "totalPages", what)
    rows = _list(obj, "patients", what)
    items = tuple(parse_summary(row, f"{what} item") for row in rows)
    return PatientPage(page, total_count, total_pages, items)


def _parse_file(data: Any) -> SetupFile:
    what = "ClinCheck plan file"
    obj = _obj(data, what)
    return SetupFile(
        name=_str(obj, "fileName", what),
        kind=_str(obj, "fileType", what),
        size=_opt_int(obj, "fileSize", what),
    )


def _parse_plan(data: Any, base_url: str) -> Setup:
    what = "ClinCheck plan"
    obj = _obj(data, what)
    raw_state = _str(obj, "state", what)
    state = status.plan_state(raw_state)
    if state is None:
        raise PortalChanged(f"{what}: unknown plan state {raw_state!r}")
    viewer = _opt_str(obj, "viewerUrl", what)
    return Setup(
        vendor_setup_id=_str(obj, "planId", what),
        version=_int(obj, "version", what, low=1),
        created_at=_opt_time(obj, "createdAt", what),
        state=state,
        vendor_state=raw_state,
        viewer_url=urljoin(base_url, viewer) if viewer else None,
        files=tuple(_parse_file(f) for f in _list(obj, "files", what)),
    )


def parse_comment(data: Any) -> Comment:
    what = "comment"
    obj = _obj(data, what)
    raw_role = _str(obj, "authorRole", what)
    role = status.author_role(raw_role)
    if role is None:
        raise PortalChanged(f"{what}: unknown author role {raw_role!r}")
    return Comment(
        vendor_comment_id=_str(obj, "commentId", what),
        author_role=role,
        author_name=_str(obj, "authorName", what),
        body=_str(obj, "body", what),
        created_at=_opt_time(obj, "createdAt", what),
        unread=_bool(obj, "unread", what),  # as the portal shows it: never marked read by us
    )


def parse_detail(data: Any, base_url: str) -> CaseDetail:
    what = "patient detail"
    obj = _obj(data, what)
    summary = parse_summary(obj, what)
    return CaseDetail(
        summary=summary,
        created_at=_opt_time(obj, "createdAt", what),
        setups=tuple(_parse_plan(p, base_url) for p in _list(obj, "clinCheckPlans", what)),
        comments=tuple(parse_comment(c) for c in _list(obj, "comments", what)),
    )


def parse_posted(data: Any, what: str) -> str:
    """The id of the comment (or modification request) a POST created."""
    obj = _obj(data, what)
    comment = _obj(_has(obj, "comment", what), what)
    return _str(comment, "commentId", what)


@dataclass(frozen=True)
class ApiError:
    """`{"error": code, "message": text}`: codes and messages are the portal's own words."""

    status: int
    code: str
    message: str


INVALID_CSRF = "invalid_csrf_token"


def api_error(response: httpx.Response) -> ApiError:
    """The portal's error body, tolerating an error page that is not JSON."""
    code, message = f"http_{response.status_code}", ""
    try:
        body = response.json()
    except ValueError:
        return ApiError(response.status_code, code, message)
    if isinstance(body, dict):
        if isinstance(body.get("error"), str):
            code = body["error"]
        if isinstance(body.get("message"), str):
            message = body["message"][:300]
    return ApiError(response.status_code, code, message)


# The DOM (the pages a person sees) --------------------------------------------------------------
#
# The adapter reads the JSON API (see `adapter.py`'s docstring: no page loads, more fields).
# These readers drive the same data through the rendered pages, for the DOM-vs-JSON measurement
# and as a cross-check that both views agree. Playwright's CSS and test-id locators pierce the
# open shadow roots the page script renders into; `document.querySelector` would not.

TEST_IDS = {
    "card": "Card-patient",
    "name": "Patient-name",
    "id": "Patient-id",
    "status": "Tracker-status",
    "lastActivity": "Patient-last-activity",
    "actionRequired": "Action-required",
    "unread": "Unread-comments",
    "pageInfo": "Pagination-info",
    "empty": "Empty-state",
    "noAccess": "No-access",
    "error": "Load-error",
    "doctor": "Doctor-name",
    "plan": "ClinCheck-plan",
    "planState": "Plan-state",
    "planCreated": "Plan-created",
    "planViewer": "Plan-viewer-link",
    "planFile": "Plan-file",
    "comment": "Comment",
    "commentAuthor": "Comment-author",
    "commentRole": "Comment-role",
    "commentDate": "Comment-date",
    "commentBody": "Comment-body",
}

_LIST_HOST = "ids-patient-list"
_DETAIL_HOST = "ids-patient-detail"
_PAGE_INFO = re.compile(r"Page ([0-9]+) of ([0-9]+)")
_UNREAD = re.compile(r"([0-9]+) unread")


def _tid(key: str) -> str:
    return f'[data-testid="{TEST_IDS[key]}"]'


_READ_CARDS = """(cards, ids) => cards.map(card => {
  const one = key => card.querySelector(`[data-testid="${ids[key]}"]`);
  const text = key => { const e = one(key); return e ? e.textContent : null; };
  const time = one("lastActivity");
  const muted = card.querySelector(".muted");
  return {
    id: text("id"), name: text("name"), status: text("status"), action: text("actionRequired"),
    unread: text("unread"), last: time ? time.getAttribute("datetime") : null,
    doctor: muted ? muted.textContent : null,
  };
})"""

_READ_PLANS = """(plans, ids) => plans.map(plan => {
  const one = key => plan.querySelector(`[data-testid="${ids[key]}"]`);
  const created = one("planCreated"), viewer = one("planViewer"), state = one("planState");
  return {
    id: plan.getAttribute("data-plan-id"), version: plan.getAttribute("data-version"),
    state: state ? state.textContent : null,
    created: created ? created.getAttribute("datetime") : null,
    viewer: viewer ? viewer.getAttribute("href") : null,
    files: Array.from(plan.querySelectorAll(`[data-testid="${ids.planFile}"]`)).map(f => ({
      name: f.querySelector("span") ? f.querySelector("span").textContent : null,
      kind: f.getAttribute("data-file-kind"),
      size: f.querySelector("[data-bytes]") ?
        f.querySelector("[data-bytes]").getAttribute("data-bytes") : null,
    })),
  };
})"""

_READ_COMMENTS = """(comments, ids) => comments.map(c => {
  const one = key => c.querySelector(`[data-testid="${ids[key]}"]`);
  const role = one("commentRole"), date = one("commentDate");
  return {
    id: c.getAttribute("data-comment-id"), unread: c.getAttribute("data-unread"),
    author: one("commentAuthor") ? one("commentAuthor").textContent : null,
    role: role ? role.getAttribute("data-role") : null,
    date: date ? date.getAttribute("datetime") : null,
    body: one("commentBody") ? one("commentBody").textContent : null,
  };
})"""


async def _rendered(page: Page, host: str, ready: tuple[str, ...], what: str) -> str:
    """Wait until the page script rendered one of `ready` (test-id keys); return which.

    Waits on elements, never a fixed time. A render that shows none of them (renamed test ids)
    is a portal change, noticed as soon as the loading spinner is gone.
    """
    known = ", ".join(f"{host} {_tid(k)}" for k in ready)
    settled = f"{host} .app > :not([data-testid=Loading-spinner])"
    try:
        await page.locator(f"{known}, {settled}").first.wait_for(state="attached")
        for key in ready:
            if await page.locator(f"{host} {_tid(key)}").count():
                return key
    except PlaywrightError:
        raise PortalChanged(f"{what}: the page did not render") from None
    raise PortalChanged(f"{what}: none of the expected test ids was rendered")


def _need(value: Any, what: str) -> str:
    if not isinstance(value, str) or value == "":
        raise PortalChanged(f"{what}: an expected test id or attribute is missing")
    return value


@dataclass(frozen=True)
class ListPageView:
    page: int
    total_pages: int
    items: tuple[CaseSummary, ...]


async def read_list_page(page: Page) -> ListPageView:
    """Parse a rendered patient-list page (cards in the shadow root)."""
    what = "patient list page"
    found = await _rendered(page, _LIST_HOST, ("pageInfo", "noAccess", "error"), what)
    if found == "noAccess":
        raise PortalChanged(f"{what}: the login may not see patients")
    if found == "error":
        raise PortalChanged(f"{what}: the page shows a load error")
    info = await page.locator(f"{_LIST_HOST} {_tid('pageInfo')}").first.text_content()
    match = _PAGE_INFO.search(info or "")
    if match is None:
        raise PortalChanged(f"{what}: the page info is not 'Page N of M'")
    rows = await page.locator(f"{_LIST_HOST} {_tid('card')}").evaluate_all(_READ_CARDS, TEST_IDS)
    items = []
    for row in rows:
        shown_id = _need(row["id"], what)
        if not shown_id.startswith("#") or not valid_patient_id(shown_id[1:]):
            raise PortalChanged(f"{what}: a patient id is not '#number'")
        raw_status = _need(row["status"], what)
        unread = _UNREAD.search(row["unread"] or "")
        doctor = (row["doctor"] or "").partition("\u00b7")[2].strip()
        items.append(
            CaseSummary(
                vendor_case_id=shown_id[1:],
                patient_name=_need(row["name"], what),
                patient_id=shown_id,
                vendor_doctor_id=None,  # the card does not show it
                vendor_doctor_name=doctor or None,
                status=status.case_status(raw_status),
                vendor_status=raw_status,
                action_required=row["action"] is not None,
                unread_comments=int(unread.group(1)) if unread else 0,
                updated_at=_parse_time(_need(row["last"], what)),
            )
        )
    return ListPageView(int(match.group(1)), int(match.group(2)), tuple(items))


async def read_detail_page(page: Page, summary: CaseSummary, base_url: str) -> CaseDetail:
    """Parse a rendered patient-detail page; `summary` is the case's card from the list (the
    detail page shows neither the doctor id nor the last-activity time)."""
    what = "patient detail page"
    found = await _rendered(page, _DETAIL_HOST, ("doctor", "noAccess", "error"), what)
    if found != "doctor":
        raise PortalChanged(f"{what}: the page shows no patient")
    host = _DETAIL_HOST
    plans = await page.locator(f"{host} {_tid('plan')}").evaluate_all(_READ_PLANS, TEST_IDS)
    comments = await page.locator(f"{host} {_tid('comment')}").evaluate_all(
        _READ_COMMENTS, TEST_IDS
    )
    setups = []
    for plan in reversed(plans):  # the page shows the newest plan first
        raw_state = _need(plan["state"], what)
        state = status.plan_state(raw_state)
        if state is None:
            raise PortalChanged(f"{what}: unknown plan state {raw_state!r}")
        files = tuple(
            SetupFile(_need(f["name"], what), _need(f["kind"], what), int(f["size"] or 0))
            for f in plan["files"]
        )
        viewer = plan["viewer"]
        setups.append(
            Setup(
                vendor_setup_id=_need(plan["id"], what),
                version=int(_need(plan["version"], what)),
                created_at=_parse_time(_need(plan["created"], what)),
                state=state,
                vendor_state=raw_state,
                viewer_url=urljoin(base_url, viewer) if viewer else None,
                files=files,
            )
        )
    parsed = []
    for c in comments:
        role = status.author_role(_need(c["role"], what))
        if role is None:
            raise PortalChanged(f"{what}: unknown author role")
        parsed.append(
            Comment(
                vendor_comment_id=_need(c["id"], what),
                author_role=role,
                author_name=_need(c["author"], what),
                body=c["body"] or "",
                created_at=_parse_time(_need(c["date"], what)),
                unread=c["unread"] == "true",
            )
        )
    return CaseDetail(summary, None, tuple(setups), tuple(parsed))
