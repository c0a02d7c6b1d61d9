"""The domain model of DESIGN section 3: names and states shared by the store, sync, API and CLI."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from adapters.base.models import AuthorRole, CaseStatus, SetupState

__all__ = [
    "Account",
    "AccountStatus",
    "ActionKind",
    "ActionStatus",
    "AuthorRole",
    "CaseStatus",
    "CredentialState",
    "KekUsage",
    "SetupState",
    "SyncRun",
]


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


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None
