"""Request and response bodies of the `/v1` API, with the examples the OpenAPI document shows.

Requests forbid unknown fields, and their schemas carry the real rules (the patterns below are
the service layer's own checks, written as regular expressions): what the schema calls invalid
is refused (422) before anything is written, and what it calls valid is never refused as
malformed. Secrets are `vault.Secret`: write-only
in the schema, and a model dump shows a mask. Responses mirror the JSON the store renders for
events (`Account.to_json`, `case_json`, ...), so a webhook's `data` and a GET return one shape.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Literal, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    WithJsonSchema,
    model_validator,
)

from adapters.base.models import AuthorRole, CaseStatus, SetupState
from adapters.registry import vendor_names
from connector.api.errors import ErrorResponse
from connector.domain import AccountStatus, ActionKind, ActionStatus
from vault import Secret

# --- field types ------------------------------------------------------------------------------

#: Ids the server made (`acc_...`, `case_...`): letters, digits, `_`.
ID_PATTERN = r"^[A-Za-z0-9_]{1,40}$"
#: White space as Python's `str.strip()` sees it (what the service layer strips), and NUL,
#: spelled out: regex engines disagree on `\s` (ECMAScript's has U+FEFF and not U+0085;
#: Python's and Rust's the other way round).
_SPACE = r"\x00-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
#: Free text that ends up in SQL parameters and logs: no control characters, and not blank.
TEXT_PATTERN = rf"^[^\x00-\x1f\x7f]*[^{_SPACE}\x7f][^\x00-\x1f\x7f]*$"
#: Longer text (a comment, a reason): lines allowed, NUL not, and not blank.
BODY_PATTERN = rf"^[^\x00]*[^{_SPACE}][^\x00]*$"
#: A password: anything but NUL.
PASSWORD_PATTERN = r"^[^\x00]+$"  # noqa: S105 (a pattern, not a password)
#: A TOTP secret: the base32 key (A-Z, 2-7, any case, spaces between groups, `=` padding), or
#: nothing at all (blank means none).
TOTP_PATTERN = r"^(?:[\t\n\r ]*|(?: *[A-Za-z2-7]){16,128}[ =]*)$"

#: A URL a dentist's browser may be sent back to: absolute http(s), no user name, nothing a
#: browser would read differently from the connector (spaces, quotes, backslashes, `<>`).
#: Whether it is admitted (origin, path, no dot segments) is `forms.return_url_allowlist`'s say.
RETURN_URL_PATTERN = (
    r"^[Hh][Tt][Tt][Pp][Ss]?://[^\x00-\x20\x7f\\<>\"'`/?#@]+"
    r"(?:[/?#][^\x00-\x20\x7f\\<>\"'`]*)?$"
)


def locale_pattern(languages: tuple[str, ...]) -> str:
    """A locale tag whose language is one of `languages` (`de`, `de-AT`, `PL_pl`)."""
    alternatives = "|".join(
        "".join(f"[{c.lower()}{c.upper()}]" for c in language) for language in languages
    )
    return rf"^(?:{alternatives})(?:[-_][A-Za-z0-9]{{1,8}})*$"


_ACC = "acc_01j9z3k4m5n6p7q8r9s0t1v2w3"
_CASE = "case_01j9z3k4m5n6p7q8r9s0t1v2w4"
_SETUP = "setup_01j9z3k4m5n6p7q8r9s0t1v2w5"
_ACT = "act_01j9z3k4m5n6p7q8r9s0t1v2w6"
_T = "2026-03-02T09:30:00Z"


def _known_vendor(value: str) -> str:
    if value not in vendor_names():
        # The value is not repeated: error messages never echo input.
        raise ValueError(f"unknown vendor; expected one of {', '.join(vendor_names())}")
    return value


Vendor = Annotated[
    str,
    AfterValidator(_known_vendor),
    WithJsonSchema({"type": "string", "enum": list(vendor_names())}),
]


def _secret_rule(pattern: str, max_length: int, problem: str) -> Callable[[Secret], Secret]:
    """The same rule as the schema's `pattern` and `maxLength`, for a `Secret` field (whose
    value pydantic cannot see). The message names the rule, never the value."""
    compiled = re.compile(pattern)

    def check(value: Secret) -> Secret:
        text = value.reveal()
        if len(text) > max_length or not compiled.fullmatch(text):
            raise ValueError(problem)
        return value

    return check


Password = Annotated[
    Secret,
    AfterValidator(_secret_rule(PASSWORD_PATTERN, 1024, "must be 1-1024 characters, without NUL")),
    WithJsonSchema(
        {
            "type": "string",
            "format": "password",
            "writeOnly": True,
            "minLength": 1,
            "maxLength": 1024,
            "pattern": PASSWORD_PATTERN,
        }
    ),
]

TotpSecret = Annotated[
    Secret,
    AfterValidator(
        _secret_rule(
            TOTP_PATTERN, 256, "must be the base32 key the portal showed (A-Z, 2-7), or blank"
        )
    ),
    WithJsonSchema(
        {
            "type": "string",
            "format": "password",
            "writeOnly": True,
            "maxLength": 256,
            "pattern": TOTP_PATTERN,
            "description": "The base32 key the portal showed when MFA was set up (16-128 "
            "characters A-Z, 2-7; case, spaces and `=` padding do not matter). Blank: none.",
        }
    ),
]
PracticeId = Annotated[str, Field(min_length=1, max_length=200, pattern=TEXT_PATTERN)]


#: Routes with a JSON body: FastAPI answers 400 (not 422) to bytes that are not text at all.
BAD_BODY: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorResponse, "description": "The body cannot be read (not UTF-8 JSON)."}
}

_RFC3339 = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?"
    r"([Zz]|[+-][0-9]{2}:[0-9]{2})"
)


def _rfc3339(value: Any) -> Any:  # a date-time the schema's `format` admits
    """Only RFC 3339 date-times with an offset (pydantic alone also takes unix seconds)."""
    if isinstance(value, str) and not _RFC3339.fullmatch(value):
        raise ValueError("must be an RFC 3339 date-time with an offset, e.g. 2026-03-02T09:30:00Z")
    return value


#: A time in a query: `2026-03-02T09:30:00Z` or with an offset.
QueryTime = Annotated[datetime, BeforeValidator(_rfc3339)]


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Response(BaseModel):
    model_config = ConfigDict(extra="ignore")


# --- accounts ---------------------------------------------------------------------------------


class AccountCreate(_Request):
    """A vendor login: a staff account (Invisalign) or a partner login (ClearCorrect)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "vendor": "clearcorrect",
                    "username": "partner@tps-planning.example",
                    "password": "correct-horse-battery",
                    "practice_id": "practice-42",
                }
            ]
        },
    )

    vendor: Vendor
    username: str = Field(min_length=1, max_length=320, pattern=TEXT_PATTERN)
    password: Password
    totp_secret: TotpSecret | None = None
    practice_id: PracticeId | None = Field(
        None, description="The TPS's practice, when the login serves one practice only."
    )


class CredentialsUpdate(_Request):
    """New credentials for the same account (its id stays the same)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"password": "new-correct-horse-battery"}]},
    )

    username: str | None = Field(None, min_length=1, max_length=320, pattern=TEXT_PATTERN)
    password: Password
    totp_secret: TotpSecret | None = None


class SignInStanding(_Response):
    """Where the login stands with the connector's sign-in gate."""

    failures_left: int = Field(
        description="Failed sign-ins the connector may still risk before it stops and waits for "
        "the dentist to sign in on the portal and confirm it in the form (the portal's lockout "
        "comes on the third consecutive failure)."
    )
    blocked_by: Literal["paused", "portal_lockout", "failure_budget", "credentials"] | None = Field(
        description="What keeps the connector from signing in, if anything."
    )
    next_attempt_at: datetime | None = Field(
        description="When a sign-in may next be tried (the next sync, or the lockout's end); "
        "null while a person must act."
    )


class AccountOut(_Response):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": _ACC,
                    "vendor": "clearcorrect",
                    "username": "partner@tps-planning.example",
                    "practice_id": "practice-42",
                    "status": "active",
                    "status_reason": "verified",
                    "status_message": "The login works and has the expected rights.",
                    "capabilities": ["post_comment", "read_cases", "reject_setup"],
                    "locked_until": None,
                    "credential_version": 1,
                    "last_sync_at": _T,
                    "next_sync_at": "2026-03-02T09:45:00Z",
                    "last_error": None,
                    "sign_in": {
                        "failures_left": 2,
                        "blocked_by": None,
                        "next_attempt_at": "2026-03-02T09:45:00Z",
                    },
                    "created_at": "2026-03-01T08:00:00Z",
                    "updated_at": _T,
                }
            ]
        }
    )

    id: str
    vendor: str
    username: str
    practice_id: str | None
    status: AccountStatus
    status_reason: str | None
    status_message: str | None
    capabilities: list[str]
    locked_until: datetime | None
    credential_version: int
    last_sync_at: datetime | None
    next_sync_at: datetime | None
    last_error: str | None
    sign_in: SignInStanding
    created_at: datetime
    updated_at: datetime


class AccountList(_Response):
    items: list[AccountOut]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null at the end."
    )


class SyncRunOut(_Response):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "run_01j9z3k4m5n6p7q8r9s0t1v2w7",
                    "account_id": _ACC,
                    "full": False,
                    "started_at": "2026-03-02T09:29:51Z",
                    "finished_at": _T,
                    "outcome": "succeeded",
                    "counts": {"cases_listed": 30, "cases_updated": 2, "events": 3},
                    "error": None,
                    "failed_facts": [],
                    "unknown_labels": [],
                }
            ]
        }
    )

    id: str
    account_id: str
    full: bool
    started_at: datetime
    finished_at: datetime | None
    outcome: str = Field(description="running | succeeded | failed | skipped | abandoned")
    counts: dict[str, int]
    error: str | None
    failed_facts: list[str] = Field(
        description="For `portal_changed`: the register facts (docs/portal-facts/) that no "
        "longer held."
    )
    unknown_labels: list[str] = Field(
        description="Status words the adapter did not know (stored as status `unknown`)."
    )


class SyncRunList(_Response):
    items: list[SyncRunOut]
    next_cursor: str | None


# --- cases ------------------------------------------------------------------------------------


class Doctor(_Response):
    vendor_id: str | None = Field(description="The vendor's id of the treating doctor.")
    name: str | None


class CaseOut(_Response):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": _CASE,
                    "account_id": _ACC,
                    "vendor": "clearcorrect",
                    "vendor_case_id": "CC-100234",
                    "patient_name": "Jane D.",
                    "patient_id": "100234",
                    "doctor": {"vendor_id": "dr-77", "name": "Dr. Ada Smith"},
                    "practice_id": "practice-42",
                    "status": "setup_in_review",
                    "vendor_status": "Evaluating Treatment Setup",
                    "action_required": True,
                    "unread_comments": 1,
                    "vendor_created_at": "2026-02-20T14:00:00Z",
                    "vendor_updated_at": "2026-03-02T09:00:00Z",
                    "created_at": "2026-03-01T08:01:00Z",
                    "updated_at": _T,
                    "removed_at": None,
                }
            ]
        }
    )

    id: str
    account_id: str
    vendor: str
    vendor_case_id: str
    patient_name: str | None
    patient_id: str | None
    doctor: Doctor
    practice_id: str | None
    status: CaseStatus
    vendor_status: str | None = Field(description="The status text as the portal shows it.")
    action_required: bool
    unread_comments: int
    vendor_created_at: datetime | None
    vendor_updated_at: datetime | None
    created_at: datetime
    updated_at: datetime
    removed_at: datetime | None = Field(description="Set when the case left the portal.")


class CaseList(_Response):
    items: list[CaseOut]
    next_cursor: str | None


class SetupFileOut(_Response):
    name: str
    kind: str
    size: int | None


class SetupOut(_Response):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": _SETUP,
                    "case_id": _CASE,
                    "vendor_setup_id": "CC-100234-S2",
                    "version": 2,
                    "state": "in_review",
                    "vendor_state": "Awaiting approval",
                    "viewer_url": "https://portal.clearcorrect.com/cases/CC-100234/setups/2",
                    "files": [{"name": "setup-v2.stl", "kind": "stl", "size": 1843200}],
                    "vendor_created_at": "2026-03-02T08:55:00Z",
                    "created_at": _T,
                    "updated_at": _T,
                }
            ]
        }
    )

    id: str
    case_id: str
    vendor_setup_id: str
    version: int
    state: SetupState
    vendor_state: str | None
    viewer_url: str | None
    files: list[SetupFileOut]
    vendor_created_at: datetime | None
    created_at: datetime
    updated_at: datetime


class CommentOut(_Response):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "cmt_01j9z3k4m5n6p7q8r9s0t1v2w8",
                    "case_id": _CASE,
                    "vendor_comment_id": "m-5512",
                    "author_role": "technician",
                    "author_name": "ClearCorrect Technician",
                    "body": "Setup v2 is ready for review.",
                    "vendor_created_at": "2026-03-02T08:56:00Z",
                    "unread": True,
                    "posted_by_connector": False,
                    "action_id": None,
                    "created_at": _T,
                    "updated_at": _T,
                }
            ]
        }
    )

    id: str
    case_id: str
    vendor_comment_id: str
    author_role: AuthorRole
    author_name: str | None
    body: str
    vendor_created_at: datetime | None
    unread: bool = Field(description="As the portal shows it; the connector never marks read.")
    posted_by_connector: bool
    action_id: str | None
    created_at: datetime
    updated_at: datetime


class CaseDetail(CaseOut):
    setups: list[SetupOut]
    comments: list[CommentOut]


class SetupList(_Response):
    items: list[SetupOut]
    next_cursor: str | None = Field(description="Always null: a case's setups come in one page.")


class CommentList(_Response):
    items: list[CommentOut]
    next_cursor: str | None = Field(description="Always null: a case's comments come in one page.")


# --- practice mappings ------------------------------------------------------------------------


class MappingPut(_Request):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"practice_id": "practice-42"}]}
    )

    practice_id: PracticeId


class MappingOut(_Response):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "vendor": "clearcorrect",
                    "vendor_doctor_id": "dr-77",
                    "practice_id": "practice-42",
                    "updated_at": _T,
                    "cases_assigned": 12,
                }
            ]
        }
    )

    vendor: str
    vendor_doctor_id: str
    practice_id: str
    updated_at: datetime
    cases_assigned: int | None = Field(
        None, description="In a PUT answer: cases that took this practice just now."
    )


class MappingList(_Response):
    items: list[MappingOut]
    next_cursor: str | None


# --- actions ----------------------------------------------------------------------------------


class CommentCreate(_Request):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"body": "Please add 2 refinement aligners."}]},
    )

    body: str = Field(
        min_length=1,
        max_length=4000,
        pattern=BODY_PATTERN,
        description="The comment, posted once (not blank; no NUL).",
    )


class SetupReject(_Request):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"reason": "Upper midline is off by 1 mm."}]},
    )

    reason: str = Field(
        min_length=1,
        max_length=2000,
        pattern=BODY_PATTERN,
        description="Why the setup is rejected (not blank; no NUL).",
    )


class ActionOut(_Response):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": _ACT,
                    "kind": "comment",
                    "account_id": _ACC,
                    "case_id": _CASE,
                    "setup_id": None,
                    "idempotency_key": "tps-comment-8812",
                    "body": "Please add 2 refinement aligners.",
                    "status": "pending",
                    "attempts": 0,
                    "result": None,
                    "error": None,
                    "created_at": _T,
                    "updated_at": _T,
                    "finished_at": None,
                }
            ]
        }
    )

    id: str
    kind: ActionKind
    account_id: str
    case_id: str
    setup_id: str | None
    idempotency_key: str
    body: str = Field(description="The comment, or the rejection's reason.")
    status: ActionStatus
    attempts: int
    result: dict[str, Any] | None
    error: str | None
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None


# --- change feed ------------------------------------------------------------------------------


class EventOut(_Response):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "evt_01j9z3k4m5n6p7q8r9s0t1v2w9",
                    "type": "setup.ready_for_review",
                    "created_at": _T,
                    "data": {"id": _SETUP, "case_id": _CASE, "version": 2, "state": "in_review"},
                }
            ]
        }
    )

    id: str
    type: str = Field(description="account.status_changed, case.created, case.updated, ...")
    created_at: datetime
    data: dict[str, Any] = Field(description="The resource as the API returns it.")


class ChangeList(_Response):
    items: list[EventOut]
    next_cursor: str = Field(
        description="Never null: poll again with it. An empty page returns the cursor it was given."
    )


# --- webhooks ---------------------------------------------------------------------------------


class ReplayRequest(_Request):
    """Say what to replay: an event (`event_id`), every failed delivery (`failed: true`), or
    that event's failed deliveries (both)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"failed": True}, {"event_id": "evt_01j9z3k4m5n6p7q8r9s0t1v2w9"}],
            "anyOf": [
                {"required": ["event_id"], "properties": {"event_id": {"type": "string"}}},
                {"required": ["failed"], "properties": {"failed": {"const": True}}},
            ],
        },
    )

    event_id: str | None = Field(None, pattern=ID_PATTERN, description="Replay this event.")
    failed: bool = Field(False, description="Replay every failed delivery (of `event_id` only).")
    endpoint: str | None = Field(
        None, min_length=1, max_length=64, pattern=TEXT_PATTERN, description="Only this endpoint."
    )

    @model_validator(mode="after")
    def _something_to_replay(self) -> Self:
        if self.event_id is None and not self.failed:
            raise ValueError("say what to replay: event_id, or failed: true")
        return self


class ReplayResult(_Response):
    model_config = ConfigDict(json_schema_extra={"examples": [{"replayed": 3}]})

    replayed: int = Field(description="Deliveries queued again.")


class EndpointStatusOut(_Response):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "endpoint": "tps",
                    "configured": True,
                    "pending": 2,
                    "delivered": 1840,
                    "failed": 1,
                    "oldest_pending_at": "2026-03-02T09:29:00Z",
                }
            ]
        }
    )

    endpoint: str
    configured: bool
    pending: int
    delivered: int
    failed: int
    oldest_pending_at: datetime | None


class EndpointStatusList(_Response):
    items: list[EndpointStatusOut]
    next_cursor: str | None = Field(description="Always null: every endpoint in one page.")


# --- vendors ----------------------------------------------------------------------------------


class RecentRuns(_Response):
    since: datetime
    runs: int = Field(description="Finished syncs of this vendor's accounts since `since`.")
    portal_changed: int = Field(description="Of those, the ones that met `portal_changed`.")
    portal_changed_share: float
    facts: dict[str, int] = Field(
        description="Register fact ids that failed in those runs, and how many runs each."
    )


class VendorHealthOut(_Response):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "vendor": "invisalign",
                    "state": "changed",
                    "failing_facts": ["ids.list.card"],
                    "changed_at": _T,
                    "recent": {
                        "since": "2026-03-01T09:30:00Z",
                        "runs": 40,
                        "portal_changed": 12,
                        "portal_changed_share": 0.3,
                        "facts": {"ids.list.card": 12},
                    },
                }
            ]
        }
    )

    vendor: str
    state: Literal["ok", "changed"]
    failing_facts: list[str]
    changed_at: datetime | None
    recent: RecentRuns


# --- files ------------------------------------------------------------------------------------

_FILE = "file_01j9z3k4m5n6p7q8r9s0t1v2wa"


class FileOut(_Response):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": _FILE,
                    "case_id": _CASE,
                    "kind": "stl",
                    "name": "upper.stl",
                    "size": 2684,
                    "sha256": "5f2b9c0e4d1a7b3c8e6f0a9d2c4b1e7f3a5d8c0b2e4f6a1c3d5e7f9b0a2c4d6e",
                    "setup_version": 2,
                    "vendor_setup_id": "S-2",
                    "available": True,
                    "fetch_pending": False,
                    "unverified": False,
                    "assumed_facts": [],
                    "gone": False,
                    "last_error": None,
                    "listed_at": _T,
                    "available_at": _T,
                }
            ]
        }
    )

    id: str
    case_id: str
    kind: Literal["stl", "pdf", "photo", "xray", "archive"]
    name: str = Field(description="The name the portal gives the file.")
    size: int | None = Field(description="Bytes: stored, else as the portal lists it.")
    sha256: str | None = Field(description="SHA-256 of the content, once fetched.")
    setup_version: int | None = Field(description="The setup version it belongs to, if any.")
    vendor_setup_id: str | None
    available: bool = Field(description="Fetched: `GET /v1/files/{id}/content` serves it.")
    fetch_pending: bool = Field(description="A download is queued or running.")
    unverified: bool = Field(
        description="Listed or fetched through a portal fact no source confirms."
    )
    assumed_facts: list[str] = Field(description="Those facts' ids in the facts register.")
    gone: bool = Field(description="The portal's last listing no longer shows it.")
    last_error: str | None = Field(description="Why the last download failed, if it did.")
    listed_at: datetime
    available_at: datetime | None


class FileList(_Response):
    items: list[FileOut]
    next_cursor: str | None = Field(description="Always null: a case's files come in one page.")
    listed: bool | None = Field(
        description="true: listed since the case last changed; null: a listing is queued "
        "(ask again shortly)."
    )
