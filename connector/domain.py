"""The domain model of DESIGN section 3: names and states shared by the store, sync, API and CLI."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from adapters.base.models import AuthorRole, CaseStatus, SetupState
from connector.clock import utcnow

__all__ = [
    "MAX_SIGN_IN_FAILURES",
    "Account",
    "AccountStatus",
    "ActionKind",
    "ActionStatus",
    "AuthorRole",
    "CaseStatus",
    "CredentialState",
    "EventType",
    "KekUsage",
    "RunOutcome",
    "SetupState",
    "SyncRun",
]

#: Failed sign-ins the connector may risk since a portal login's last success (ClearCorrect
#: locks a login on the third consecutive failure). The gate enforces it; accounts show it.
MAX_SIGN_IN_FAILURES = 2


class AccountStatus(StrEnum):
    VERIFYING = "verifying"
    ACTIVE = "active"
    LOGIN_REQUIRED = "login_required"  # password rejected or expired: wait for new credentials
    MFA_REQUIRED = "mfa_required"  # a code is needed and none could be obtained
    LOCKED = "locked"  # portal lockout; resume after locked_until
    EXCESS_PERMISSIONS = "excess_permissions"  # reads continue, outbound actions refused
    INSUFFICIENT_PERMISSIONS = "insufficient_permissions"  # cannot see cases
    PORTAL_UNAVAILABLE = "portal_unavailable"  # transient; retrying
    PORTAL_CHANGED = "portal_changed"  # a page no longer parses
    DISABLED = "disabled"  # paused by the TPS


class EventType(StrEnum):
    """Every event the connector emits (DESIGN section 4); webhook endpoints filter on these."""

    ACCOUNT_STATUS_CHANGED = "account.status_changed"
    CASE_CREATED = "case.created"
    CASE_UPDATED = "case.updated"
    CASE_REMOVED = "case.removed"
    SETUP_READY_FOR_REVIEW = "setup.ready_for_review"
    COMMENT_RECEIVED = "comment.received"
    ACTION_SUCCEEDED = "action.succeeded"
    ACTION_FAILED = "action.failed"
    VENDOR_HEALTH_CHANGED = "vendor.health_changed"
    FILE_AVAILABLE = "file.available"


class RunOutcome(StrEnum):
    """How a sync run ended (`sync_runs.outcome`)."""

    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"  # nothing was tried: the gate refused, or the account was busy
    ABANDONED = "abandoned"  # interrupted (shutdown, a killed process, the account deleted)


class ActionKind(StrEnum):
    COMMENT = "comment"
    REJECT_SETUP = "reject_setup"


class ActionStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class CredentialState(StrEnum):
    CURRENT = "current"
    PREVIOUS = "previous"  # kept for a manual rollback
    RETIRED = "retired"


@dataclass(frozen=True)
class Account:
    """One vendor login. Holds no secret: credentials live sealed in their own table."""

    id: str
    vendor: str
    username: str
    practice_id: str | None
    status: AccountStatus
    status_reason: str | None
    status_message: str | None
    capabilities: list[str]
    access: dict[str, Any] | None
    locked_until: datetime | None
    credential_version: int
    sync_cursor: str | None
    last_sync_at: datetime | None
    next_sync_at: datetime | None
    last_full_sync_at: datetime | None
    last_error: str | None
    failure_count: int
    created_at: datetime
    updated_at: datetime
    #: Failed sign-ins since the portal login's last success (from its `portal_logins` row).
    sign_in_failures: int = 0

    def sign_in_json(self, now: datetime) -> dict[str, Any]:
        """Where the portal login stands with the gate: what a TPS shows before it asks the
        dentist for anything."""
        left = max(0, MAX_SIGN_IN_FAILURES - self.sign_in_failures)
        locked = self.locked_until is not None and self.locked_until > now
        blocked_by: str | None = None
        next_at: datetime | None = self.next_sync_at
        if self.status is AccountStatus.DISABLED:
            blocked_by, next_at = "paused", None
        elif locked:
            blocked_by, next_at = "portal_lockout", self.locked_until
        elif left == 0:
            blocked_by, next_at = "failure_budget", None
        elif self.status is AccountStatus.LOGIN_REQUIRED:
            blocked_by, next_at = "credentials", None
        return {
            "failures_left": left,
            "blocked_by": blocked_by,
            "next_attempt_at": _iso(next_at),
        }

    def to_json(self) -> dict[str, Any]:
        """The public view (API, CLI `--json`, events): no cursor internals, no secrets."""
        return {
            "id": self.id,
            "vendor": self.vendor,
            "username": self.username,
            "practice_id": self.practice_id,
            "status": str(self.status),
            "status_reason": self.status_reason,
            "status_message": self.status_message,
            "capabilities": list(self.capabilities),
            "locked_until": _iso(self.locked_until),
            "credential_version": self.credential_version,
            "last_sync_at": _iso(self.last_sync_at),
            "next_sync_at": _iso(self.next_sync_at),
            "last_error": self.last_error,
            "sign_in": self.sign_in_json(utcnow()),
            "created_at": _iso(self.created_at),
            "updated_at": _iso(self.updated_at),
        }


@dataclass(frozen=True)
class KekUsage:
    kek_id: str
    rows: int
    primary: bool
    configured: bool


@dataclass(frozen=True)
class SyncRun:
    id: str
    account_id: str
    holder: str
    full: bool
    started_at: datetime
    finished_at: datetime | None
    outcome: str
    counts: dict[str, int] = field(default_factory=dict)
    error: str | None = None
    #: `failed_facts` (register ids of a portal_changed) and `unknown_labels` (status words).
    details: dict[str, list[str]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The public view (`GET /v1/accounts/{id}/runs`): the holder stays internal."""
        return {
            "id": self.id,
            "account_id": self.account_id,
            "full": self.full,
            "started_at": _iso(self.started_at),
            "finished_at": _iso(self.finished_at),
            "outcome": self.outcome,
            "counts": dict(self.counts),
            "error": self.error,
            "failed_facts": list(self.details.get("failed_facts", [])),
            "unknown_labels": list(self.details.get("unknown_labels", [])),
        }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None
