"""The Invisalign JSON fast path's parsers, the word tables and the cursor, without a browser or
a portal: strict parsing (missing, renamed or mistyped fields raise `PortalChanged`, never empty
data), statuses, plan states and roles in every language the sandbox speaks, roles ->
capabilities (an unknown role is never least privilege), login answers and steps by host."""

from __future__ import annotations

import contextlib
import copy
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.base import (
    AccountLocked,
    AuthorRole,
    Capability,
    CaseStatus,
    InvalidCredentials,
    PortalChanged,
    PortalUnavailable,
    SetupState,
)
from adapters.invisalign import STATUS_TABLE, ListingCursor, access_of, fastpath
from adapters.invisalign import status as ids_status
from adapters.invisalign.signin import Hosts, LoginError, Step, allowed_login_hosts, refusal
from sandbox.invisalign import data as sandbox_data
from sandbox.invisalign import i18n
from sandbox.invisalign.layout import FIELD_RENAMES_V2, fields

BASE = "https://vip.example"


def summary_json(**overrides: Any) -> dict[str, Any]:
    item = {
        "patientId": "8109470",
        "patientName": "Theodore Walker",
        "doctorId": "100001",
        "doctorName": "Dr. Alex Morgan",
        "trackerStatus": "ClinCheck ready for review",
        "actionRequired": "ClinCheck treatment plan review",
        "unreadComments": 2,
        "lastActivity": "2026-01-01T14:44:30Z",
        "createdAt": "2025-12-24T01:27:17Z",
        "detailUrl": "/v3/auth/patient/patientDetail.action?patientId=8109470",
    }
    return item | overrides


def detail_json() -> dict[str, Any]:
    return summary_json() | {
        "statusHistory": [{"status": "Submitted", "date": "2025-12-24T01:27:17Z"}],
        "clinCheckPlans": [
            {
                "planId": "CC-1",
                "version": 1,
                "createdAt": "2025-12-28T10:00:00Z",
                "state": "Superseded",
                "reviewable": False,
                "viewerUrl": "/v3/auth/clincheck/viewer.action?patientId=8109470&planId=CC-1",
                "files": [{"fileName": "a.pdf", "fileType": "Treatment overview", "fileSize": 9}],
            },
            {
                "planId": "CC-2",
                "version": 2,
                "createdAt": "2025-12-30T10:00:00Z",
                "state": "Ready for review",
                "reviewable": True,
                "viewerUrl": None,
                "files": [],
            },
        ],
        "comments": [
            {
                "commentId": "C-1",
                "type": "MODIFICATION_REQUEST",
                "planId": "CC-1",
                "authorName": "Rx Staff",
                "authorRole": "staff",
                "createdAt": "2025-12-29T10:00:00Z",
                "body": "Less IPR please",
                "unread": False,
            },
            {
                "commentId": "C-2",
                "type": "COMMENT",
                "planId": None,
                "authorName": "Ana R.",
                "authorRole": "technician",
                "createdAt": "2025-12-30T10:00:00Z",
                "body": "Version 2 is ready",
                "unread": True,
            },
        ],
        "permissions": {"canComment": True, "canRequestModification": True, "canApprove": False},
    }


def page_json(items: list[dict[str, Any]], page: int = 1, total: int | None = None) -> Any:
    total = len(items) if total is None else total
    return {
        "page": page,
        "pageSize": 20,
        "filter": "ALL",
        "totalCount": total,
        "totalPages": -(-total // 20),
        "counts": {"all": total, "actionRequired": 0},
        "patients": items,
    }


# Summaries, pages, details ----------------------------------------------------------------------


def test_summary_is_parsed_as_the_portal_shows_it() -> None:
    summary = fastpath.parse_summary(summary_json())
    assert summary.vendor_case_id == "8109470"
    assert summary.patient_id == "#8109470"
    assert summary.status is CaseStatus.SETUP_IN_REVIEW
    assert summary.vendor_status == "ClinCheck ready for review"
    assert summary.action_required is True
    assert summary.unread_comments == 2
    assert summary.updated_at == datetime(2026, 1, 1, 14, 44, 30, tzinfo=UTC)
    assert "Walker" not in repr(summary)  # a patient name is health data


def test_no_action_required_is_null() -> None:
    assert fastpath.parse_summary(summary_json(actionRequired=None)).action_required is False


def test_detail_keeps_plans_files_and_comments_exactly() -> None:
    detail = fastpath.parse_detail(detail_json(), BASE)
    assert [s.vendor_setup_id for s in detail.setups] == ["CC-1", "CC-2"]
    assert [s.state for s in detail.setups] == [SetupState.SUPERSEDED, SetupState.IN_REVIEW]
    assert detail.setups[0].viewer_url == (
        f"{BASE}/v3/auth/clincheck/viewer.action?patientId=8109470&planId=CC-1"
    )
    assert detail.setups[1].viewer_url is None
    assert detail.setups[0].files[0].size == 9
    assert [c.unread for c in detail.comments] == [False, True]
    assert [c.author_role for c in detail.comments] == [AuthorRole.STAFF, AuthorRole.TECHNICIAN]
    assert detail.comments[0].body == "Less IPR please"
    assert detail.created_at == datetime(2025, 12, 24, 1, 27, 17, tzinfo=UTC)


REQUIRED_SUMMARY_FIELDS = [
    "patientId",
    "patientName",
    "doctorId",
    "doctorName",
    "trackerStatus",
    "actionRequired",
    "unreadComments",
    "lastActivity",
]


@pytest.mark.parametrize("field", REQUIRED_SUMMARY_FIELDS)
def test_a_missing_summary_field_is_a_portal_change(field: str) -> None:
    item = summary_json()
    del item[field]
    with pytest.raises(PortalChanged, match=field):
        fastpath.parse_summary(item)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("patientId", 8109470),
        ("patientId", "#8109470"),
        ("patientId", ""),
        ("unreadComments", "2"),
        ("unreadComments", True),
        ("unreadComments", -1),
        ("lastActivity", "yesterday"),
        ("lastActivity", None),
        ("trackerStatus", None),
        ("actionRequired", 1),
    ],
)
def test_a_mistyped_summary_field_is_a_portal_change(field: str, value: Any) -> None:
    with pytest.raises(PortalChanged):
        fastpath.parse_summary(summary_json(**{field: value}))


def test_layout_2_json_is_a_portal_change_everywhere() -> None:
    with pytest.raises(PortalChanged):
        fastpath.parse_patient_page(fields(2, page_json([summary_json()])))
    with pytest.raises(PortalChanged):
        fastpath.parse_detail(fields(2, detail_json()), BASE)
    profile = {
        "userName": "x",
        "accountType": "STAFF",
        "roles": ["Prescription management"],
    }
    assert fastpath.parse_profile(profile).roles == ("Prescription management",)
    with pytest.raises(PortalChanged):
        fastpath.parse_profile(fields(2, profile))


#: Layout 2 renames these too, but the adapter reads none of them (`statusHistory`: the status
#: history is not part of a case's synced data), so their renaming changes nothing it stores.
UNREAD_FIELDS = {"statusHistory"}


@pytest.mark.parametrize("renamed", sorted(set(FIELD_RENAMES_V2) - UNREAD_FIELDS))
def test_each_single_rename_is_noticed(renamed: str) -> None:
    """Any one field a front-end release renames breaks parsing loudly, wherever it is."""
    new_name = FIELD_RENAMES_V2[renamed]

    def rename(value: Any) -> Any:
        if isinstance(value, dict):
            return {(new_name if k == renamed else k): rename(v) for k, v in value.items()}
        if isinstance(value, list):
            return [rename(v) for v in value]
        return value

    profile = {"userName": "rx@x", "accountType": "STAFF", "roles": []}
    parsers = [
        (page_json([summary_json()]), fastpath.parse_patient_page),
        (detail_json(), lambda d: fastpath.parse_detail(d, BASE)),
        (profile, fastpath.parse_profile),
    ]
    touched = 0
    for document, parse in parsers:
        changed = rename(copy.deepcopy(document))
        if changed == document:
            continue
        touched += 1
        with pytest.raises(PortalChanged):
            parse(changed)
    assert touched


def test_unknown_plan_state_or_author_role_is_a_portal_change() -> None:
    detail = detail_json()
    detail["clinCheckPlans"][0]["state"] = "Archived"
    with pytest.raises(PortalChanged, match="plan state"):
        fastpath.parse_detail(detail, BASE)
    detail = detail_json()
    detail["comments"][0]["authorRole"] = "orthodontist"
    with pytest.raises(PortalChanged, match="author role"):
        fastpath.parse_detail(detail, BASE)


def test_unknown_case_status_keeps_its_raw_text() -> None:
    summary = fastpath.parse_summary(summary_json(trackerStatus="Retainer ordered"))
    assert summary.status is CaseStatus.UNKNOWN
    assert summary.vendor_status == "Retainer ordered"


def test_details_never_contain_values() -> None:
    """PortalChanged details name fields, never values (values are patient data)."""
    item = summary_json(patientName=None)
    with pytest.raises(PortalChanged) as caught:
        fastpath.parse_summary(item)
    assert "Theodore" not in str(caught.value)
    with pytest.raises(PortalChanged) as caught:
        fastpath.parse_summary(summary_json(lastActivity="Walker-was-here"))
    assert "Walker" not in str(caught.value)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_arbitrary_json_parses_or_is_a_portal_change(value: Any) -> None:
    for parse in (
        fastpath.parse_patient_page,
        fastpath.parse_profile,
        lambda v: fastpath.parse_detail(v, BASE),
        fastpath.parse_summary,
    ):
        with contextlib.suppress(PortalChanged):
            parse(value)


@settings(max_examples=200, deadline=None)
@given(
    field=st.sampled_from(REQUIRED_SUMMARY_FIELDS),
    value=st.one_of(st.none(), st.integers(), st.text(max_size=12), st.lists(st.integers())),
)
def test_fuzzed_summary_fields_never_leak_other_errors(field: str, value: Any) -> None:
    try:
        summary = fastpath.parse_summary(summary_json(**{field: value}))
    except PortalChanged:
        return
    # Whatever got through is well-typed.
    assert summary.vendor_case_id.isdigit()
    assert isinstance(summary.unread_comments, int)
    assert summary.updated_at is not None and summary.updated_at.tzinfo is not None


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.builds(
            lambda pid, unread, minute: summary_json(
                patientId=str(pid),
                unreadComments=unread,
                lastActivity=f"2026-01-01T10:{minute:02d}:00Z",
            ),
            st.integers(1_000_000, 9_999_999),
            st.integers(0, 50),
            st.integers(0, 59),
        ),
        max_size=20,
    )
)
def test_pages_keep_every_item_in_order(items: list[dict[str, Any]]) -> None:
    page = fastpath.parse_patient_page(page_json(items))
    assert [i.vendor_case_id for i in page.items] == [i["patientId"] for i in items]
    assert page.total_count == len(items)


def test_api_error_tolerates_an_html_error_page() -> None:
    import httpx

    error = fastpath.api_error(httpx.Response(502, text="<html>Bad Gateway</html>"))
    assert (error.status, error.code) == (502, "http_502")
    error = fastpath.api_error(
        httpx.Response(409, json={"error": "plan_not_reviewable", "message": "m"})
    )
    assert (error.code, error.message) == ("plan_not_reviewable", "m")


# Login page answers and steps -----------------------------------------------------------------


def test_login_error_codes_map_to_typed_errors() -> None:
    assert isinstance(refusal(LoginError("wrong-credentials")), InvalidCredentials)
    locked = refusal(LoginError("user-blocked"))
    assert isinstance(locked, AccountLocked) and locked.until is None
    for code in ("javascript-required", "missing-fields", None, "captcha-v9"):
        assert isinstance(refusal(LoginError(code)), PortalChanged)
    # A challenge left unanswered because the page's script failed to load is a fault.
    assert isinstance(refusal(LoginError("javascript-required"), True), PortalUnavailable)


def test_steps_are_recognised_by_host_and_path() -> None:
    real = Hosts("vip.invisalign.com", allowed_login_hosts("https://vip.invisalign.com"))
    login = "https://myaccount-us.aligntech.com"
    assert real.step_of(f"{login}/u/login?state=x") is Step.LOGIN
    assert real.step_of(f"{login}/u/mfa-email-challenge?state=x") is Step.MFA_EMAIL
    assert real.step_of(f"{login}/u/mfa-otp-challenge?state=x") is Step.MFA_TOTP
    assert real.step_of(f"{login}/u/change-password?state=x") is Step.CHANGE_PASSWORD
    assert real.step_of("https://vip.invisalign.com/v3/auth/patients.action") is Step.APP
    assert real.step_of("https://vip.invisalign.com/v3/auth/callback?code=x") is Step.OTHER
    # A login page anywhere else is not a place to type a password.
    assert real.step_of("https://myaccount-eu.aligntech.com/u/login?state=x") is Step.FOREIGN_LOGIN
    assert real.step_of("https://vip.invisalign.com/u/login?state=x") is Step.FOREIGN_LOGIN
    assert real.step_of("https://127.0.0.2:8700/u/login?state=x") is Step.FOREIGN_LOGIN
    # A local sandbox's login host is allowed beside a loopback app only.
    sandbox = Hosts("127.0.0.1", allowed_login_hosts("http://127.0.0.1:8700"))
    assert sandbox.step_of("http://127.0.0.2:8700/u/login?state=x") is Step.LOGIN
    assert sandbox.step_of("http://127.0.0.1:8700/v3/auth/patients.action") is Step.APP
    extra = Hosts("vip.invisalign.com", allowed_login_hosts(BASE, ("myaccount-eu.aligntech.com",)))
    assert extra.step_of("https://myaccount-eu.aligntech.com/u/login") is Step.LOGIN


# Tables -----------------------------------------------------------------------------------------


def test_every_sandbox_status_and_plan_state_is_mapped_in_every_language() -> None:
    for raw in (*sandbox_data.STATUSES, sandbox_data.ORDER_COMPLETE):
        expected = STATUS_TABLE.normalize(raw)
        assert expected is not CaseStatus.UNKNOWN, raw
        for lang in i18n.LANGUAGES:
            assert ids_status.case_status(i18n.status(raw, lang)) is expected, (raw, lang)
    for raw in i18n.PLAN_STATE_FACTS:
        for lang in i18n.LANGUAGES:
            assert ids_status.plan_state(i18n.plan_state(raw, lang)) is ids_status.plan_state(raw)
    assert STATUS_TABLE.normalize("Submitted") is CaseStatus.AWAITING_SETUP
    assert STATUS_TABLE.normalize("Modification requested") is CaseStatus.AWAITING_SETUP
    assert STATUS_TABLE.normalize("  clincheck READY for review ") is CaseStatus.SETUP_IN_REVIEW
    for raw, state in [
        (sandbox_data.PLAN_READY, SetupState.IN_REVIEW),
        (sandbox_data.PLAN_MODIFICATION_REQUESTED, SetupState.REJECTED),
        (sandbox_data.PLAN_APPROVED, SetupState.APPROVED),
        (sandbox_data.PLAN_SUPERSEDED, SetupState.SUPERSEDED),
    ]:
        assert ids_status.plan_state(raw) is state


def test_korean_review_status_is_found_inside_a_longer_text() -> None:
    """Public code matches the Korean words as part of the text (`ClinCheck 치료 계획 검토`)."""
    for raw in ("치료 계획 검토", "ClinCheck 치료 계획 검토", "클린체크 치료 계획 검토"):
        assert ids_status.case_status(raw) is CaseStatus.SETUP_IN_REVIEW
    assert ids_status.case_status("조치 요구됨") is CaseStatus.UNKNOWN  # which step waits?
    assert ids_status.case_status("Aligner Shipped") is CaseStatus.SHIPPED
    assert ids_status.case_status("Order Complete") is CaseStatus.CLOSED


PM, RX, TM = "Patient management", "Prescription management", "Treatment management"


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_roles_are_read_in_every_language(lang: str) -> None:
    rx = i18n.role(sandbox_data.PRESCRIPTION_MANAGEMENT, lang)
    tm = i18n.role(sandbox_data.TREATMENT_MANAGEMENT, lang)
    assert access_of("staff", (rx,)).ok
    assert access_of("staff", (rx, tm)).excessive == ids_status.REMOVE_TREATMENT_MANAGEMENT
    assert access_of("staff", (rx,)).roles == (rx,)  # as the portal names them


def test_an_unknown_role_is_never_least_privilege() -> None:
    access = access_of("staff", (RX, "Clinical approvals"))
    assert not access.ok
    assert access.excessive == ids_status.UNKNOWN_ROLE
    assert Capability.READ_CASES in access.capabilities  # reads go on; actions are refused


def test_prescription_management_only_is_least_privilege() -> None:
    access = access_of("staff", (RX,))
    assert access.ok
    assert access.capabilities == {
        Capability.READ_CASES,
        Capability.POST_COMMENT,
        Capability.REJECT_SETUP,
        Capability.ADD_ORDER,
    }


def test_treatment_management_or_a_doctor_login_is_excessive() -> None:
    access = access_of("staff", (RX, TM))
    assert access.excessive is not None and "Treatment management" in access.excessive
    assert Capability.APPROVE in access.capabilities
    doctor = access_of("doctor", ())
    assert doctor.excessive is not None and "staff account" in doctor.excessive
    assert doctor.account_type == "doctor"


def test_no_view_role_is_insufficient_and_read_only_cannot_act() -> None:
    none = access_of("staff", ("Payment management", "Training access"))
    assert none.insufficient is not None and Capability.READ_CASES not in none.capabilities
    read_only = access_of("staff", (PM, "Payment management"))
    assert read_only.insufficient is None
    assert read_only.excessive is None
    assert read_only.capabilities == {Capability.READ_CASES}
    assert read_only.roles == (PM, "Payment management")


# Cursor -----------------------------------------------------------------------------------------

moments = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
).map(lambda d: d.replace(microsecond=0))


@given(
    since=st.none() | moments,
    page=st.integers(1, 10_000),
    top=st.none() | moments,
    total=st.none() | st.integers(0, 10**6),
)
def test_cursor_round_trips(
    since: datetime | None, page: int, top: datetime | None, total: int | None
) -> None:
    cursor = ListingCursor(since, page, top if page > 1 else None, total if page > 1 else None)
    assert ListingCursor.decode(cursor.encode()) == cursor


@pytest.mark.parametrize(
    "garbage",
    ["", "{", "[]", '{"v": 2}', '{"v": 1, "since": "soon"}', '{"v": 1, "page": 0}', "null"],
)
def test_an_unreadable_cursor_means_a_full_listing(garbage: str) -> None:
    assert ListingCursor.decode(garbage) == ListingCursor()
