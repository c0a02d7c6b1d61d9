"""The portal's data model: doctors, their logins, patients (cases), treatments, ClinCheck
plans, comments.

Roles, statuses and plan states are kept as the site's English words; pages and the JSON speak
them in the viewer's language (`i18n`). Times are aware UTC datetimes on the virtual clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

# Staff roles, as listed on Account > Staff > Add new.
PATIENT_MANAGEMENT = "Patient management"
PRESCRIPTION_MANAGEMENT = "Prescription management"
TREATMENT_MANAGEMENT = "Treatment management"
PAYMENT_MANAGEMENT = "Payment management"
TRAINING_ACCESS = "Training access"
STORE_PURCHASES = "Store purchases"
PROSPECTIVE_PATIENT_MANAGEMENT = "Prospective patient management"
ROLES: tuple[str, ...] = (
    PATIENT_MANAGEMENT,
    PRESCRIPTION_MANAGEMENT,
    TREATMENT_MANAGEMENT,
    PAYMENT_MANAGEMENT,
    TRAINING_ACCESS,
    STORE_PURCHASES,
    PROSPECTIVE_PATIENT_MANAGEMENT,
)
# Any one of these lets a staff user see the doctor's patients.
VIEW_ROLES = frozenset({PATIENT_MANAGEMENT, PRESCRIPTION_MANAGEMENT, TREATMENT_MANAGEMENT})

# Case statuses (the patient tracker), in flow order.
SUBMITTED = "Submitted"
CLINCHECK_IN_PROGRESS = "ClinCheck in progress"
CLINCHECK_READY = "ClinCheck ready for review"
MODIFICATION_REQUESTED = "Modification requested"
APPROVED = "Approved"
IN_PRODUCTION = "In production"
SHIPPED = "Shipped"
IN_TREATMENT = "In treatment"
ON_HOLD = "On hold"
CANCELLED = "Cancelled"
# The status of an earlier, finished treatment of a patient (the older "VIP page" word).
ORDER_COMPLETE = "Order Complete"
STATUSES: tuple[str, ...] = (
    SUBMITTED,
    CLINCHECK_IN_PROGRESS,
    CLINCHECK_READY,
    MODIFICATION_REQUESTED,
    APPROVED,
    IN_PRODUCTION,
    SHIPPED,
    IN_TREATMENT,
    ON_HOLD,
    CANCELLED,
)
# What the "Action required" filter shows for a status that waits on the doctor.
ACTION_REASONS: dict[str, str] = {
    CLINCHECK_READY: "ClinCheck treatment plan review",
    ON_HOLD: "Additional information needed",
}

# Treatment packages (product names, the same in every language) and clinical conditions.
COMPREHENSIVE = "Comprehensive"
PHASE_2 = "Phase 2"
PACKAGES: tuple[str, ...] = (COMPREHENSIVE, "Moderate", "Lite", "Express")
CONDITIONS: tuple[str, ...] = ("crowding", "spacing", "deep-bite", "open-bite")
# Filters of the patient list, by their codes.
FILTER_ALL = "ALL"
FILTER_ACTION = "ACTION_REQUIRED"

# ClinCheck plan states.
PLAN_READY = "Ready for review"
PLAN_MODIFICATION_REQUESTED = "Modification requested"
PLAN_APPROVED = "Approved"
PLAN_SUPERSEDED = "Superseded"

AuthorRole = Literal["doctor", "staff", "technician"]
CommentKind = Literal["comment", "modification_request"]


def iso(moment: datetime) -> str:
    """ISO 8601 in UTC with a `Z`, the way the portal's JSON writes times."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Doctor:
    doctor_id: str
    name: str  # "Dr. Alex Morgan"
    practice: str


@dataclass
class Login:
    """A user of the site: the doctor (account owner) or one of the doctor's staff users."""

    username: str
    password: str
    kind: Literal["doctor", "staff"]
    first_name: str
    last_name: str
    doctor_id: str
    roles: tuple[str, ...] = ()
    mfa: Literal["email", "totp"] | None = None
    totp_secret: str | None = None
    password_expired: bool = False
    scenario: str | None = None
    #: The profile language ("en", "de", "pl", "ko"); None follows the browser.
    language: str | None = None
    #: The patient list's filter, kept for the next visit.
    list_filter: str = FILTER_ALL

    @property
    def display_name(self) -> str:
        prefix = "Dr. " if self.kind == "doctor" else ""
        return f"{prefix}{self.first_name} {self.last_name}"

    @property
    def can_view(self) -> bool:
        return self.kind == "doctor" or bool(VIEW_ROLES.intersection(self.roles))

    @property
    def can_post(self) -> bool:
        """Comments and modification requests belong to Prescription management."""
        return self.kind == "doctor" or PRESCRIPTION_MANAGEMENT in self.roles

    @property
    def can_approve(self) -> bool:
        return self.kind == "doctor" or TREATMENT_MANAGEMENT in self.roles


@dataclass(frozen=True)
class PlanFile:
    name: str
    kind: str
    size: int


@dataclass
class Setup:
    """One ClinCheck treatment plan version."""

    setup_id: str
    version: int
    created_at: datetime
    state: str
    files: list[PlanFile]


@dataclass
class Comment:
    comment_id: str
    kind: CommentKind
    author_role: AuthorRole
    author_name: str
    author_username: str | None
    body: str
    created_at: datetime
    setup_id: str | None = None
    read_by: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class Treatment:
    """An earlier, finished treatment of a patient: the list shows it as a card of its own."""

    package: str
    status: str = ORDER_COMPLETE


@dataclass(frozen=True)
class StatusChange:
    status: str
    at: datetime


@dataclass
class Case:
    """A patient as the site lists it; `case_id` is the 7-digit patient id."""

    case_id: str
    doctor_id: str
    patient_first: str
    patient_last: str
    status: str
    created_at: datetime
    updated_at: datetime
    history: list[StatusChange] = field(default_factory=list)
    setups: list[Setup] = field(default_factory=list)
    comments: list[Comment] = field(default_factory=list)
    package: str = COMPREHENSIVE
    conditions: tuple[str, ...] = ()
    notes: str = ""
    earlier: list[Treatment] = field(default_factory=list)

    @property
    def patient_name(self) -> str:
        return f"{self.patient_first} {self.patient_last}"

    @property
    def action_reason(self) -> str | None:
        return ACTION_REASONS.get(self.status)

    @property
    def current_setup(self) -> Setup | None:
        return self.setups[-1] if self.setups else None

    def setup(self, setup_id: str) -> Setup | None:
        return next((s for s in self.setups if s.setup_id == setup_id), None)

    def unread_for(self, username: str) -> int:
        return sum(1 for c in self.comments if username not in c.read_by)

    def matches(self, search: str) -> bool:
        """The list's search: part of the name (any word order) or of the patient number."""
        needle = " ".join(search.split()).casefold().lstrip("#")
        if not needle:
            return True
        return needle in self.patient_name.casefold() or needle in self.case_id


def case_json(case: Case, doctor: Doctor) -> dict[str, Any]:
    """A case in the admin state dump (snake_case, everything the portal holds)."""
    return {
        "case_id": case.case_id,
        "doctor_id": case.doctor_id,
        "doctor_name": doctor.name,
        "patient_name": case.patient_name,
        "patient_id": f"#{case.case_id}",
        "status": case.status,
        "package": case.package,
        "conditions": list(case.conditions),
        "notes": case.notes,
        "earlier_treatments": [{"package": t.package, "status": t.status} for t in case.earlier],
        "action_required": case.action_reason is not None,
        "action_required_reason": case.action_reason,
        "created_at": iso(case.created_at),
        "updated_at": iso(case.updated_at),
        "status_history": [{"status": h.status, "at": iso(h.at)} for h in case.history],
        "setups": [
            {
                "setup_id": s.setup_id,
                "version": s.version,
                "created_at": iso(s.created_at),
                "state": s.state,
                "viewer_url": viewer_url(case.case_id, s.setup_id),
                "files": [{"name": f.name, "kind": f.kind, "size": f.size} for f in s.files],
            }
            for s in case.setups
        ],
        "comments": [
            {
                "comment_id": c.comment_id,
                "kind": c.kind,
                "author_role": c.author_role,
                "author_name": c.author_name,
                "body": c.body,
                "created_at": iso(c.created_at),
                "setup_id": c.setup_id,
                "read_by": sorted(c.read_by),
            }
            for c in case.comments
        ],
    }


def viewer_url(case_id: str, setup_id: str) -> str:
    return f"/v3/auth/clincheck/viewer.action?patientId={case_id}&planId={setup_id}"


def detail_url(case_id: str) -> str:
    return f"/v3/auth/patient/patientFile.action?patientId={case_id}"
