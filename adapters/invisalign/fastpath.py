"""Readers of the JSON the site's pages might load (`/v3/api/...`): the adapter's optional fast
path. No public source shows this API (every name here is an `assumed` register fact invented by
the sandbox), so the adapter only uses it when it answers at run time, and reads the pages (the
confirmed primary path) whenever it does not.

Parsing is strict: a missing or renamed field raises `PortalChanged` rather than producing empty
or partial data; details name fields, never values (values are patient data).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx

from adapters.base import CaseDetail, CaseSummary, Comment, PortalChanged, Setup, SetupFile, utc
from adapters.http.parse import absolute_url
from adapters.invisalign import site, status
from adapters.invisalign.site import Field

_API = ("ids.api.profile", "ids.api.patients", "ids.api.patient")


def _changed(detail: str) -> PortalChanged:
    return PortalChanged(detail, _API)


def _obj(value: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise _changed(f"{what}: expected a JSON object")
    return value


def _has(obj: Mapping[str, Any], key: str, what: str) -> Any:
    if key not in obj:
        raise _changed(f"{what}: field {key!r} is missing")
    return obj[key]


def _str(obj: Mapping[str, Any], key: str, what: str) -> str:
    value = _has(obj, key, what)
    if not isinstance(value, str):
        raise _changed(f"{what}: field {key!r} is not text")
    return value


def _opt_str(obj: Mapping[str, Any], key: str, what: str) -> str | None:
    value = _has(obj, key, what)
    if value is not None and not isinstance(value, str):
        raise _changed(f"{what}: field {key!r} is not text")
    return value


def _int(obj: Mapping[str, Any], key: str, what: str, low: int = 0) -> int:
    value = _has(obj, key, what)
    if not isinstance(value, int) or isinstance(value, bool) or value < low:
        raise _changed(f"{what}: field {key!r} is not a whole number from {low}")
    return value


def _opt_int(obj: Mapping[str, Any], key: str, what: str) -> int | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise _changed(f"{what}: field {key!r} is not a whole number")
    return value


def _bool(obj: Mapping[str, Any], key: str, what: str) -> bool:
    value = _has(obj, key, what)
    if not isinstance(value, bool):
        raise _changed(f"{what}: field {key!r} is not true or false")
    return value


def _list(obj: Mapping[str, Any], key: str, what: str) -> list[Any]:
    value = _has(obj, key, what)
    if not isinstance(value, list):
        raise _changed(f"{what}: field {key!r} is not a list")
    return value


def _time(obj: Mapping[str, Any], key: str, what: str) -> datetime:
    raw = _str(obj, key, what)
    try:
        parsed = utc(raw)
    except ValueError:
        parsed = None
    if parsed is None:
        raise _changed(f"{what}: field {key!r} is not an ISO 8601 time")
    return parsed


def _opt_time(obj: Mapping[str, Any], key: str, what: str) -> datetime | None:
    if _opt_str(obj, key, what) is None:
        return None
    return _time(obj, key, what)


def _patient_id(obj: Mapping[str, Any], what: str) -> str:
    value = _str(obj, Field.PATIENT_ID, what)
    if not value.isdigit() or not 1 <= len(value) <= 12:
        raise _changed(f"{what}: field {Field.PATIENT_ID!r} is not a patient number")
    return value


# Profile ----------------------------------------------------------------------------------------

_ACCOUNT_TYPES = {Field.DOCTOR_ACCOUNT: "doctor", Field.STAFF_ACCOUNT: "staff"}


@dataclass(frozen=True)
class Profile:
    """Who the login is: its username, account type ("doctor" | "staff") and roles as the
    portal names them (empty for a doctor, who holds every right)."""

    user_name: str
    account_type: str
    roles: tuple[str, ...]


def parse_profile(data: Any) -> Profile:
    what = "user profile"
    obj = _obj(data, what)
    raw_type = _str(obj, Field.ACCOUNT_TYPE, what)
    if raw_type not in _ACCOUNT_TYPES:
        raise _changed(f"{what}: unknown account type")
    roles = _list(obj, Field.ROLES, what)
    if not all(isinstance(r, str) for r in roles):
        raise _changed(f"{what}: field {Field.ROLES!r} is not a list of names")
    return Profile(_str(obj, Field.USER_NAME, what), _ACCOUNT_TYPES[raw_type], tuple(roles))


# Patients ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PatientPage:
    """One page of the patient list (sorted by last activity, newest first)."""

    page: int
    total_count: int
    total_pages: int
    items: tuple[CaseSummary, ...]


def parse_summary(data: Any, what: str = "patient") -> CaseSummary:
    obj = _obj(data, what)
    patient_id = _patient_id(obj, what)
    raw_status = _str(obj, Field.TRACKER_STATUS, what)
    return CaseSummary(
        vendor_case_id=patient_id,
        patient_name=_str(obj, Field.PATIENT_NAME, what),
        patient_id=f"#{patient_id}",  # as the portal shows it
        vendor_doctor_id=_str(obj, Field.DOCTOR_ID, what),
        vendor_doctor_name=_str(obj, Field.DOCTOR_NAME, what),
        status=status.case_status(raw_status),
        vendor_status=raw_status,
        action_required=_opt_str(obj, Field.ACTION_REQUIRED, what) is not None,
        unread_comments=_int(obj, Field.UNREAD_COMMENTS, what),
        updated_at=_time(obj, Field.LAST_ACTIVITY, what),
    )


def parse_patient_page(data: Any) -> PatientPage:
    what = "patient list"
    obj = _obj(data, what)
    items = tuple(parse_summary(row, f"{what} item") for row in _list(obj, Field.PATIENTS, what))
    return PatientPage(
        _int(obj, Field.PAGE, what, low=1),
        _int(obj, Field.TOTAL_COUNT, what),
        _int(obj, Field.TOTAL_PAGES, what),
        items,
    )


def _parse_file(data: Any) -> SetupFile:
    what = "ClinCheck plan file"
    obj = _obj(data, what)
    return SetupFile(
        name=_str(obj, Field.FILE_NAME, what),
        kind=_str(obj, Field.FILE_TYPE, what),
        size=_opt_int(obj, Field.FILE_SIZE, what),
    )


def _parse_plan(data: Any, base_url: str) -> Setup:
    what = "ClinCheck plan"
    obj = _obj(data, what)
    raw_state = _str(obj, Field.STATE, what)
    state = status.plan_state(raw_state)
    if state is None:
        raise PortalChanged(f"{what}: unknown plan state", ("ids.api.field.state",))
    viewer = _opt_str(obj, Field.VIEWER_URL, what)
    return Setup(
        vendor_setup_id=_str(obj, Field.PLAN_ID, what),
        version=_int(obj, Field.VERSION, what, low=1),
        created_at=_opt_time(obj, Field.CREATED_AT, what),
        state=state,
        vendor_state=raw_state,
        viewer_url=absolute_url(base_url, viewer) if viewer else None,
        files=tuple(_parse_file(f) for f in _list(obj, Field.FILES, what)),
    )


def parse_comment(data: Any) -> Comment:
    what = "comment"
    obj = _obj(data, what)
    role = status.author_role(_str(obj, Field.AUTHOR_ROLE, what))
    if role is None:
        raise PortalChanged(f"{what}: unknown author role", ("ids.api.field.author-role",))
    return Comment(
        vendor_comment_id=_str(obj, Field.COMMENT_ID, what),
        author_role=role,
        author_name=_str(obj, Field.AUTHOR_NAME, what),
        body=_str(obj, Field.BODY, what),
        created_at=_opt_time(obj, Field.CREATED_AT, what),
        unread=_bool(obj, Field.UNREAD, what),  # as the portal shows it: never marked read by us
    )


def parse_detail(data: Any, base_url: str) -> CaseDetail:
    what = "patient detail"
    obj = _obj(data, what)
    return CaseDetail(
        summary=parse_summary(obj, what),
        created_at=_opt_time(obj, Field.CREATED_AT, what),
        setups=tuple(_parse_plan(p, base_url) for p in _list(obj, Field.CLINCHECK_PLANS, what)),
        comments=tuple(parse_comment(c) for c in _list(obj, Field.COMMENTS, what)),
    )


def parse_posted(data: Any, what: str) -> str:
    """The id of the comment (or modification request) a POST created."""
    obj = _obj(data, what)
    comment = _obj(_has(obj, Field.COMMENT, what), what)
    return _str(comment, Field.COMMENT_ID, what)


@dataclass(frozen=True)
class ApiError:
    """`{"error": code, "message": text}`: codes and messages are the portal's own words."""

    status: int
    code: str
    message: str


def api_error(response: httpx.Response) -> ApiError:
    """The portal's error body, tolerating an error page that is not JSON."""
    code, message = f"http_{response.status_code}", ""
    try:
        body = response.json()
    except ValueError:
        return ApiError(response.status_code, code, message)
    if isinstance(body, dict):
        if isinstance(body.get(Field.ERROR), str):
            code = body[Field.ERROR]
        if isinstance(body.get(Field.MESSAGE), str):
            message = body[Field.MESSAGE][:300]
    return ApiError(response.status_code, code, message)


def is_csrf_refusal(response: httpx.Response) -> bool:
    return response.status_code == 403 and api_error(response).code == site.INVALID_CSRF
