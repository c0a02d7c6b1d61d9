"""The parsers in `site.py`, the status tables and the cursor, on inputs the sandbox cannot
produce: missing and retyped fields, other pages, arbitrary JSON (hypothesis)."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.base import (
    AccountLocked,
    AuthorRole,
    Capability,
    CaseStatus,
    InvalidCredentials,
    MfaRequired,
    PasswordExpired,
    PortalChanged,
    SetupState,
)
from adapters.clearcorrect import STATUS_TABLE, VerificationCodeRejected, signin
from adapters.clearcorrect.cursor import Cursor, decode, encode
from adapters.clearcorrect.site import app as site
from adapters.clearcorrect.site.app import author_role, setup_state
from adapters.clearcorrect.status import case_status
from sandbox.clearcorrect import markup
from sandbox.clearcorrect.layout import V1, V2

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)

SUMMARY: dict[str, Any] = {
    "caseNumber": "318274",
    "patientName": "Ada Example",
    "patientId": "1234567",
    "doctorId": "20417",
    "doctorName": "Dr. Amelia Hart",
    "status": "Evaluating Treatment Setup",
    "group": "ActionNeeded",
    "actionRequired": True,
    "createdAt": "2025-01-02T03:04:05Z",
    "updatedAt": "2026-01-05T09:00:00Z",
    "unreadComments": 2,
}
SETUP: dict[str, Any] = {
    "setupId": "7100001",
    "version": 1,
    "createdAt": "2025-02-13T17:52:00Z",
    "state": "Declined",
    "viewerUrl": "/Cases/318274/Setups/7100001/Viewer",
    "declineReason": "Rotate 22.\n\n[ref:act_12345678]",
    "decidedBy": "TPS",
    "decidedAt": "2025-02-14T10:00:00Z",
    "files": [{"name": "318274_v1_upper.stl", "kind": "model", "size": 4948507}],
}
COMMENT: dict[str, Any] = {
    "commentId": "9400001",
    "authorName": "Sam (technician)",
    "authorRole": "Technician",
    "body": "Setup version 1 is ready for your review.",
    "createdAt": "2025-02-13T17:52:00Z",
    "unread": True,
}


def html(body: str, status: int = 200) -> httpx.Response:
    return httpx.Response(status, text=body, headers={"content-type": "text/html; charset=utf-8"})


def redirect(location: str) -> httpx.Response:
    return httpx.Response(302, headers={"location": location})


def json_response(data: Any, status: int = 200, kind: str = "application/json") -> httpx.Response:
    return httpx.Response(status, content=json.dumps(data), headers={"content-type": kind})


# ---- statuses ---------------------------------------------------------------------------------

RAW_STATUSES = {
    "Awaiting Records": CaseStatus.AWAITING_RECORDS,
    "Awaiting Setup": CaseStatus.AWAITING_SETUP,
    "Evaluating Treatment Setup": CaseStatus.SETUP_IN_REVIEW,
    "Approved": CaseStatus.APPROVED,
    "In Production": CaseStatus.IN_PRODUCTION,
    "Shipped": CaseStatus.SHIPPED,
    "In Treatment": CaseStatus.IN_TREATMENT,
    "Hold": CaseStatus.ON_HOLD,
    "Cancelled": CaseStatus.CANCELLED,
    "Closed": CaseStatus.CLOSED,
}


@pytest.mark.parametrize(("raw", "normalized"), RAW_STATUSES.items())
def test_every_portal_status_is_mapped(raw: str, normalized: CaseStatus) -> None:
    assert case_status(raw) is normalized
    assert STATUS_TABLE.normalize(f"  {raw.upper()} ") is normalized


def test_an_unknown_status_is_unknown_and_keeps_its_raw_text() -> None:
    summary = site.parse_case_summary({**SUMMARY, "status": "Awaiting Scan Review"})
    assert summary.status is CaseStatus.UNKNOWN
    assert summary.vendor_status == "Awaiting Scan Review"


@given(st.text(max_size=40))
def test_any_status_text_normalizes_without_error(raw: str) -> None:
    known = {" ".join(k.split()).casefold() for k in RAW_STATUSES}
    status = case_status(raw)
    assert (status is CaseStatus.UNKNOWN) == (" ".join(raw.split()).casefold() not in known)


def test_setup_states_and_author_roles() -> None:
    assert setup_state("Awaiting approval") is SetupState.IN_REVIEW
    assert setup_state("Declined") is SetupState.REJECTED
    assert setup_state("Approved") is SetupState.APPROVED
    assert setup_state("Superseded") is SetupState.SUPERSEDED
    assert setup_state("Pending") is None
    assert author_role("Doctor") is AuthorRole.DOCTOR
    assert author_role("Partner") is AuthorRole.PARTNER
    assert author_role("Technician") is AuthorRole.TECHNICIAN
    assert author_role("Robot") is None


# ---- JSON: strict --------------------------------------------------------------------------


def test_a_case_detail_parses_into_the_shared_types() -> None:
    parsed = site.parse_case(
        {**SUMMARY, "setups": [SETUP], "statusHistory": []}, "https://cc.example"
    )
    assert parsed.summary.vendor_case_id == "318274"
    assert parsed.summary.updated_at == datetime(2026, 1, 5, 9, tzinfo=UTC)
    (setup,) = parsed.setups
    assert setup.state is SetupState.REJECTED and setup.vendor_state == "Declined"
    assert setup.viewer_url == "https://cc.example/Cases/318274/Setups/7100001/Viewer"
    assert setup.files[0].size == 4948507
    assert parsed.decline_reasons == ("Rotate 22.\n\n[ref:act_12345678]",)
    (comment,) = site.parse_comments({"items": [COMMENT], "totalCount": 1, "unreadComments": 1})
    assert comment.author_role is AuthorRole.TECHNICIAN and comment.unread


@pytest.mark.parametrize("key", sorted(set(SUMMARY) - {"group", "createdAt"}))
def test_a_missing_summary_field_is_portal_changed(key: str) -> None:
    broken = {k: v for k, v in SUMMARY.items() if k != key}
    with pytest.raises(PortalChanged) as changed:
        site.parse_case_summary(broken)
    assert key in changed.value.detail
    assert "Ada" not in str(changed.value)  # never the patient's name


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("caseNumber", 318274),
        ("unreadComments", "2"),
        ("unreadComments", True),
        ("unreadComments", -1),
        ("actionRequired", "yes"),
        ("updatedAt", "yesterday"),
        ("updatedAt", None),
        ("patientName", None),
    ],
)
def test_a_retyped_summary_field_is_portal_changed(key: str, value: Any) -> None:
    with pytest.raises(PortalChanged):
        site.parse_case_summary({**SUMMARY, key: value})


def test_renamed_list_keys_are_portal_changed_not_an_empty_list() -> None:
    v2 = V2.json({"items": [SUMMARY], "page": 1, "pageSize": 100, "totalCount": 1})
    with pytest.raises(PortalChanged, match="items"):
        site.parse_case_list({**v2, "totalPages": 1})
    with pytest.raises(PortalChanged, match="totalCount"):
        site.parse_case_list({"items": [], "page": 1, "totalPages": 0})
    with pytest.raises(PortalChanged):  # an empty page that claims pages exist
        site.parse_case_list({"items": [], "page": 1, "totalCount": 0, "totalPages": 3})
    with pytest.raises(PortalChanged):
        site.parse_case_list(
            {"items": [SUMMARY, SUMMARY], "page": 1, "totalCount": 2, "totalPages": 1}
        )


def test_unknown_setup_states_and_roles_are_portal_changed() -> None:
    with pytest.raises(PortalChanged, match="setup state"):
        site.parse_case({**SUMMARY, "setups": [{**SETUP, "state": "Pending"}]}, "https://x")
    with pytest.raises(PortalChanged, match="author role"):
        site.parse_comments(
            {"items": [{**COMMENT, "authorRole": "Robot"}], "totalCount": 1, "unreadComments": 0}
        )
    with pytest.raises(PortalChanged, match="totalCount"):
        site.parse_comments({"items": [], "totalCount": 1, "unreadComments": 0})


def test_html_instead_of_json_is_portal_changed() -> None:
    with pytest.raises(PortalChanged, match="expected JSON"):
        site.json_of(html("<html><body>Maintenance</body></html>"), "case list")
    with pytest.raises(PortalChanged, match="not valid JSON"):
        site.json_of(
            httpx.Response(200, content=b"{", headers={"content-type": "application/json"}),
            "case list",
        )


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [*SUMMARY, *SETUP, *COMMENT, "items", "totalCount", "totalPages", "page"]
            )
            | st.text(max_size=6),
            inner,
            max_size=8,
        )
    ),
    max_leaves=20,
)


@settings(max_examples=300)
@given(JSON)
def test_any_json_parses_or_is_portal_changed(data: Any) -> None:
    for parse in (
        site.parse_case_list,
        site.parse_account,
        site.parse_comments,
        lambda d: site.parse_case(d, "https://x"),
        site.posted_comment_id,
        site.declined_setup_id,
    ):
        with contextlib.suppress(PortalChanged):
            parse(data)


@given(
    st.dictionaries(
        st.sampled_from(sorted(SUMMARY)), st.none() | st.booleans() | st.integers() | st.text()
    )
)
def test_summaries_with_fields_missing_or_retyped_never_parse_to_wrong_data(
    overrides: dict[str, Any],
) -> None:
    data = {**SUMMARY, **overrides}
    try:
        summary = site.parse_case_summary(data)
    except PortalChanged:
        return
    assert summary.vendor_case_id == data["caseNumber"]
    assert summary.patient_name == data["patientName"]
    assert summary.unread_comments == data["unreadComments"]


# ---- the account and least privilege ------------------------------------------------------


def account(user_type: str = "Partner", approve: bool = False, **grants: list[str]) -> Any:
    return {
        "email": "tps@example.com",
        "displayName": "TPS",
        "userType": user_type,
        "doctorId": "20417" if user_type == "Doctor" else None,
        "practice": None,
        "canApproveSetups": approve,
        "partnerships": [
            {"doctorId": d, "doctorName": f"Dr. {d}", "practice": "P", "permissions": p}
            for d, p in grants.items()
        ],
    }


def test_access_of_partners_and_doctors() -> None:
    both = site.access_of(
        site.parse_account(account(d1=["View", "RejectSetups"], d2=["View", "AddOrders"]))
    )
    assert both.ok and both.account_type == "partner"
    assert both.roles == ("d1:View", "d1:RejectSetups", "d2:View", "d2:AddOrders")
    assert both.capabilities == {
        Capability.READ_CASES,
        Capability.POST_COMMENT,
        Capability.REJECT_SETUP,
        Capability.ADD_ORDER,
    }
    view_only = site.access_of(site.parse_account(account(d1=["View"])))
    assert view_only.ok and Capability.REJECT_SETUP not in view_only.capabilities
    # Reject setups from a doctor who shares nothing (no View) rejects nothing.
    blind = site.access_of(site.parse_account(account(d1=["RejectSetups"])))
    assert blind.insufficient and not blind.capabilities
    nothing = site.access_of(site.parse_account(account()))
    assert nothing.insufficient and nothing.roles == ()
    approver = site.access_of(site.parse_account(account(approve=True, d1=["View"])))
    assert approver.excessive and Capability.APPROVE in approver.capabilities
    doctor = site.access_of(site.parse_account(account("Doctor", approve=True)))
    assert (
        doctor.account_type == "doctor" and doctor.excessive and "collaborator" in doctor.excessive
    )
    with pytest.raises(PortalChanged):
        site.parse_account(account("Administrator"))


# ---- sign-in pages -------------------------------------------------------------------------


def login_page(errors: Sequence[str] = (), field_errors: dict[str, str] | None = None) -> str:
    return markup.login_page(V1, "CfDJ8token", "/Cases", "a@b.example", errors, field_errors)


def test_the_login_form_is_recognised_and_a_renamed_one_is_not() -> None:
    form = site.parse_login_form(html(login_page()))
    assert form.token == "CfDJ8token"
    assert form.action == "/Identity/Account/Login?ReturnUrl=%2FCases"
    assert set(form.fields("a@b.example", "pw")) == {
        "Input.Email",
        "Input.Password",
        "Input.RememberMe",
        "__RequestVerificationToken",
    }
    with pytest.raises(PortalChanged, match=r"Input\.Email"):
        site.parse_login_form(html(markup.login_page(V2, "CfDJ8token", "/Cases")))
    with pytest.raises(PortalChanged):
        site.parse_login_form(html("<html><body><h1>Welcome</h1></body></html>"))
    with pytest.raises(PortalChanged):
        site.parse_login_form(json_response({"title": "Log in"}))
    elsewhere = login_page().replace(
        'action="/Identity/Account/Login', 'action="https://evil.example/Identity/Account/Login'
    )
    with pytest.raises(PortalChanged, match="another site"):
        site.parse_login_form(html(elsewhere))


def test_sign_in_answers_map_to_typed_errors() -> None:
    assert site.sign_in_outcome(redirect("/Cases"), NOW) is site.SignIn.SIGNED_IN
    assert (
        site.sign_in_outcome(redirect("/Identity/Account/LoginWith2fa?ReturnUrl=%2FCases"), NOW)
        is site.SignIn.SECOND_FACTOR
    )
    with pytest.raises(PasswordExpired):
        site.sign_in_outcome(redirect("/Identity/Account/Manage/ChangePassword"), NOW)
    with pytest.raises(AccountLocked) as locked:  # ASP.NET Identity's own lockout page
        site.sign_in_outcome(redirect("/Identity/Account/Lockout"), NOW)
    assert locked.value.until == NOW + timedelta(minutes=20)
    for words in ("Invalid login attempt.", "Ungültiger Anmeldeversuch."):
        with pytest.raises(InvalidCredentials):
            site.sign_in_outcome(html(login_page([words])), NOW)
    length = "The Password must be at least 8 and at max 16 characters long."
    with pytest.raises(InvalidCredentials):
        site.sign_in_outcome(html(login_page(field_errors={"password": length})), NOW)
    required = {"email": "The Email field is required."}
    with pytest.raises(PortalChanged, match=r"Input\.Email"):
        site.sign_in_outcome(html(login_page(field_errors=required)), NOW)
    with pytest.raises(PortalChanged):
        site.sign_in_outcome(html(login_page(["Something new happened."])), NOW)
    with pytest.raises(PortalChanged):
        site.sign_in_outcome(html(login_page()), NOW)  # no message at all
    with pytest.raises(PortalChanged):
        site.sign_in_outcome(html("Bad Request", 400), NOW)


@given(st.integers(min_value=1, max_value=100_000), st.sampled_from(["en", "de", "pl"]))
def test_the_lockout_message_gives_until(minutes: int, lang: str) -> None:
    with pytest.raises(AccountLocked) as locked:
        site.sign_in_outcome(html(login_page([markup.lockout_message(minutes, lang)])), NOW)
    assert locked.value.until == NOW + timedelta(minutes=minutes)


def test_the_code_page_and_its_answers() -> None:
    email = site.parse_code_form(html(markup.two_factor_page(V1, "CfDJ8t", "email", "a@b.c", "/")))
    totp = site.parse_code_form(html(markup.two_factor_page(V1, "CfDJ8t", "totp", "a@b.c", "/")))
    assert (email.channel, totp.channel) == ("email", "totp")
    assert email.fields("123456")["Input.TwoFactorCode"] == "123456"
    with pytest.raises(PortalChanged, match="TwoFactorCode"):
        site.parse_code_form(html(markup.two_factor_page(V2, "CfDJ8t", "email", "a@b.c", "/")))
    odd = markup.two_factor_page(V1, "CfDJ8t", "email", "a@b.c", "/").replace(
        'value="Email"', 'value="Sms"'
    )
    with pytest.raises(PortalChanged, match="provider"):
        site.parse_code_form(html(odd))
    site.code_outcome(redirect("/Cases"), "email", NOW)
    wrong = markup.two_factor_page(V1, "t", "email", "a@b.c", "/", [site.INVALID_CODE])
    with pytest.raises(VerificationCodeRejected):
        site.code_outcome(html(wrong), "email", NOW)
    with pytest.raises(AccountLocked):
        site.code_outcome(html(login_page([markup.lockout_message(20)])), "email", NOW)
    with pytest.raises(MfaRequired, match="too long"):
        site.code_outcome(redirect("/Identity/Account/Login"), "totp", NOW)
    with pytest.raises(PasswordExpired):
        site.code_outcome(redirect("/Identity/Account/Manage/ChangePassword"), "totp", NOW)


@given(st.text(max_size=12))
def test_codes_are_six_digits_or_nothing(text: str) -> None:
    code = signin.normalize_code(text)
    if code is not None:
        assert len(code) == 6 and code.isdigit() and code.isascii()
    assert signin.normalize_code("123 456") == "123456"
    assert signin.normalize_code("123-45") is None


# ---- the cursor -----------------------------------------------------------------------------

MOMENTS = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
).map(lambda d: d.replace(microsecond=0))


@given(
    since=st.none() | MOMENTS,
    page=st.integers(1, 10_000),
    total=st.integers(0, 10**6),
    mark=st.none() | MOMENTS,
    seen=st.integers(0, 10**6),
    restarts=st.integers(0, 5),
)
def test_cursors_round_trip(
    since: datetime | None,
    page: int,
    total: int,
    mark: datetime | None,
    seen: int,
    restarts: int,
) -> None:
    cursor = Cursor(since, page, total, mark, seen, restarts)
    assert decode(encode(cursor)) == cursor
    assert json.loads(encode(cursor))["v"] == 1


@given(st.text(max_size=60) | JSON.map(json.dumps))
def test_any_cursor_text_decodes_or_means_a_full_listing(text: str) -> None:
    cursor = decode(text)
    assert cursor.page >= 1
    if cursor.page > 1:
        assert cursor.total is not None


def test_the_resume_cursor_is_the_portals_watermark() -> None:
    mark = datetime(2026, 1, 5, 9, tzinfo=UTC)
    assert encode(Cursor(page=3, total=250, mark=mark).resume()) == (
        '{"v":1,"since":"2026-01-05T09:00:00Z"}'
    )
    since = datetime(2026, 1, 1, tzinfo=UTC)
    assert Cursor(since=since).resume() == Cursor(since=since)  # nothing changed: same since
    assert decode(None) == Cursor() == decode('{"v":2}') == decode("garbage")
