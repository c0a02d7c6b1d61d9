"""What adapters return: plain, typed values the sync engine stores as they are.

Statuses are normalized through one table per vendor (`StatusTable`), the raw text kept beside
them; all times are aware UTC datetimes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum

from vault import Secret


class CaseStatus(StrEnum):
    AWAITING_RECORDS = "awaiting_records"
    AWAITING_SETUP = "awaiting_setup"
    SETUP_IN_REVIEW = "setup_in_review"
    APPROVED = "approved"
    IN_PRODUCTION = "in_production"
    SHIPPED = "shipped"
    IN_TREATMENT = "in_treatment"
    ON_HOLD = "on_hold"
    CLOSED = "closed"
    CANCELLED = "cancelled"
    UNKNOWN = "unknown"


class SetupState(StrEnum):
    IN_REVIEW = "in_review"
    REJECTED = "rejected"
    APPROVED = "approved"
    SUPERSEDED = "superseded"


class AuthorRole(StrEnum):
    DOCTOR = "doctor"
    PARTNER = "partner"
    TECHNICIAN = "technician"
    STAFF = "staff"


class Capability(StrEnum):
    """What a login may do on the portal, as derived from its roles or permissions."""

    READ_CASES = "read_cases"
    POST_COMMENT = "post_comment"
    REJECT_SETUP = "reject_setup"
    ADD_ORDER = "add_order"  # prescriptions / orders: a later capability of the connector
    APPROVE = "approve"  # never used; its presence makes a login excessive


@dataclass(frozen=True)
class Credentials:
    username: str
    password: Secret
    totp_secret: Secret | None = None

    def __repr__(self) -> str:
        return f"Credentials(username={self.username!r})"


#: Asked for a verification code on `channel` ("email" or "totp"); returns None when no person
#: or stored secret can provide one, and the adapter then raises `MfaRequired`.
CodeProvider = Callable[[str], Awaitable[Secret | None]]


async def no_code(channel: str) -> Secret | None:
    """The code provider of unattended syncs without a person at hand."""
    return None


@dataclass(frozen=True)
class Access:
    """What the login may do, read from the portal after login. A value, not an exception."""

    roles: tuple[
        str, ...
    ]  # roles (Invisalign) or permissions (ClearCorrect) as the portal names them
    capabilities: frozenset[Capability]
    excessive: str | None = None  # why, in words for the form ("remove Treatment management")
    insufficient: str | None = None
    account_type: str = "staff"  # staff | partner | doctor

    @property
    def ok(self) -> bool:
        return self.excessive is None and self.insufficient is None


@dataclass(frozen=True)
class SetupFile:
    name: str
    kind: str
    size: int | None


@dataclass(frozen=True)
class Setup:
    vendor_setup_id: str
    version: int
    created_at: datetime | None
    state: SetupState
    vendor_state: str
    viewer_url: str | None
    files: tuple[SetupFile, ...] = ()


@dataclass(frozen=True)
class Comment:
    vendor_comment_id: str
    author_role: AuthorRole
    author_name: str
    body: str
    created_at: datetime | None
    unread: bool

    def __repr__(self) -> str:  # the body is health data
        return f"Comment({self.vendor_comment_id!r}, {self.author_role})"


@dataclass(frozen=True)
class CaseSummary:
    """One row of a case listing."""

    vendor_case_id: str
    patient_name: str
    patient_id: str
    vendor_doctor_id: str | None
    vendor_doctor_name: str | None
    status: CaseStatus
    vendor_status: str
    action_required: bool
    unread_comments: int
    updated_at: datetime | None

    def __repr__(self) -> str:  # patient names are health data
        return f"CaseSummary({self.vendor_case_id!r}, {self.status})"


@dataclass(frozen=True)
class CaseDetail:
    summary: CaseSummary
    created_at: datetime | None
    setups: tuple[Setup, ...]
    comments: tuple[Comment, ...]

    def __repr__(self) -> str:
        return f"CaseDetail({self.summary.vendor_case_id!r})"


@dataclass(frozen=True)
class CasePage:
    """A page of a listing and the opaque cursor to resume after it (None: listing complete)."""

    items: tuple[CaseSummary, ...]
    next_cursor: str | None
    #: The cursor to store once the whole listing is committed (incremental syncs start there).
    resume_cursor: str | None = None


@dataclass(frozen=True)
class PostResult:
    """What the portal made of a posted comment or rejection."""

    vendor_id: str | None
    already_present: bool = False


@dataclass(frozen=True)
class StatusTable:
    """One vendor's raw status texts mapped to normalized statuses (case-insensitive)."""

    mapping: Mapping[str, CaseStatus] = field(default_factory=dict)

    def normalize(self, raw: str) -> CaseStatus:
        return self.mapping.get(" ".join(raw.split()).casefold(), CaseStatus.UNKNOWN)

    @classmethod
    def of(cls, pairs: Mapping[str, CaseStatus]) -> StatusTable:
        return cls({" ".join(k.split()).casefold(): v for k, v in pairs.items()})


def utc(value: str | None) -> datetime | None:
    """Parse an ISO 8601 time from a portal into aware UTC (naive times are taken as UTC)."""
    if value is None or value == "":
        return None
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)
