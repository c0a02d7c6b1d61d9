"""The portal's data model: doctors, logins, cases, submissions, setups, comments and shares.

Kept as plain dataclasses holding what the real portal stores: status and setup-state codes
(the English words, "Evaluating Treatment Setup", "Awaiting approval"; pages show them in the
viewer's language through `labels`), per-viewer read marks on comments, the doctor's case
submissions (the records: STL scans per arch, photos, an online form) and each login's profile
language. The pages and the JSON API are views of this; the admin dump is this, written out as
it is held.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

# Raw case statuses, as the portal shows them.
AWAITING_RECORDS = "Awaiting Records"
AWAITING_SETUP = "Awaiting Setup"
EVALUATING = "Evaluating Treatment Setup"
APPROVED = "Approved"
IN_PRODUCTION = "In Production"
SHIPPED = "Shipped"
IN_TREATMENT = "In Treatment"
HOLD = "Hold"
CANCELLED = "Cancelled"
CLOSED = "Closed"

STATUSES: tuple[str, ...] = (
    AWAITING_RECORDS,
    AWAITING_SETUP,
    EVALUATING,
    APPROVED,
    IN_PRODUCTION,
    SHIPPED,
    IN_TREATMENT,
    HOLD,
    CANCELLED,
    CLOSED,
)

# The three tabs of the cases page. A case needs action when the doctor has to do something:
# review a setup, send missing records, or answer a hold.
ACTION_NEEDED = "ActionNeeded"
IN_PROGRESS = "InProgress"
CLOSED_GROUP = "Closed"
GROUPS: tuple[str, ...] = (ACTION_NEEDED, IN_PROGRESS, CLOSED_GROUP)
GROUP_LABELS = {ACTION_NEEDED: "Action Needed", IN_PROGRESS: "In Progress", CLOSED_GROUP: "Closed"}

_GROUP_OF_STATUS = {
    AWAITING_RECORDS: ACTION_NEEDED,
    EVALUATING: ACTION_NEEDED,
    HOLD: ACTION_NEEDED,
    AWAITING_SETUP: IN_PROGRESS,
    APPROVED: IN_PROGRESS,
    IN_PRODUCTION: IN_PROGRESS,
    SHIPPED: IN_PROGRESS,
    IN_TREATMENT: IN_PROGRESS,
    CANCELLED: CLOSED_GROUP,
    CLOSED: CLOSED_GROUP,
}

# Setup (3D treatment setup version) states.
SETUP_AWAITING = "Awaiting approval"
SETUP_DECLINED = "Declined"
SETUP_APPROVED = "Approved"
SETUP_SUPERSEDED = "Superseded"

# Partner permissions a doctor grants (per doctor, for all the cases that doctor shares).
VIEW = "view"
ADD_ORDERS = "add_orders"
REJECT_SETUPS = "reject_setups"
PERMISSIONS: tuple[str, ...] = (VIEW, ADD_ORDERS, REJECT_SETUPS)

Role = Literal["doctor", "partner", "technician"]
LoginKind = Literal["doctor", "partner"]
MfaChannel = Literal["email", "totp"]

#: Profile languages a login may have; None follows the browser (`Accept-Language`).
LANGUAGES: tuple[str, ...] = ("en", "de", "pl")

# Arches of an STL scan, and the kinds of files a submission holds.
UPPER = "upper"
LOWER = "lower"
STL = "stl"
PHOTO = "photo"


def group_of(status: str) -> str:
    return _GROUP_OF_STATUS[status]


def iso(moment: datetime) -> str:
    """ISO 8601 in UTC with a `Z`, the way the portal's API writes times."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Doctor:
    """A primary provider: the account owner of a practice's cases."""

    doctor_id: str
    name: str
    practice: str
    username: str


@dataclass
class Login:
    """One portal account. Doctors own cases; partners see what doctors share with them."""

    username: str  # the account email, stored lower-case (the portal normalises it)
    password: str
    kind: LoginKind
    display_name: str
    doctor_id: str | None = None  # doctors only
    # Partners only: doctor id -> permissions that doctor granted.
    permissions: dict[str, frozenset[str]] = field(default_factory=dict)
    mfa: MfaChannel | None = None
    totp_secret: str | None = None
    password_expired: bool = False
    scenario: str | None = None
    #: My Account > Language Preferences; None: the pages follow the browser's language.
    language: str | None = None

    def may(self, permission: str, doctor_id: str) -> bool:
        """Whether this login holds `permission` on the cases of `doctor_id`."""
        if self.kind == "doctor":
            return self.doctor_id == doctor_id
        return permission in self.permissions.get(doctor_id, frozenset())


@dataclass
class SetupFile:
    name: str
    kind: str  # model, report, ipr_chart
    size: int


@dataclass
class CaseFile:
    """A file of a case submission: an STL scan of one arch, or a photo. `draw` is the
    generator's number for it; the bytes served are made from the portal's seed and the file
    id (`ClearCorrectPortal.file_content`)."""

    file_id: str
    name: str
    kind: str  # stl, photo
    arch: str | None  # upper, lower (STL scans only)
    draw: int


@dataclass
class Submission:
    """One version of the doctor's case submission: the first records, or a revision.

    Only some versions carry an online form (the doctor's instructions); the WebForms pages
    show the "Online Form" tab for those alone."""

    submission_id: str
    version: int
    submitted_at: datetime
    files: list[CaseFile]
    instructions: str | None = None
    engagers_removal: str = ""
    preference_notes: str = ""

    @property
    def is_revision(self) -> bool:
        return self.version > 1


@dataclass
class Setup:
    """One 3D treatment setup version of a case, made from one submission version."""

    setup_id: str
    version: int
    created_at: datetime
    state: str
    viewer_url: str
    files: list[SetupFile]
    decline_reason: str | None = None
    decided_by: str | None = None
    decided_at: datetime | None = None
    submission_id: str | None = None


@dataclass
class Comment:
    """A chat message on a case. `read_by` holds the usernames that marked it read."""

    comment_id: str
    author_role: Role
    author_name: str
    author_username: str | None
    body: str
    created_at: datetime
    read_by: set[str] = field(default_factory=set)

    def unread_for(self, username: str) -> bool:
        return username != self.author_username and username not in self.read_by


@dataclass
class Share:
    """A case shared with a partner; the portal refuses a share without patient consent."""

    username: str
    consent_confirmed: bool
    shared_at: datetime

    def __post_init__(self) -> None:
        if not self.consent_confirmed:
            raise ValueError("a case is shared only after the doctor confirms patient consent")


@dataclass
class StatusChange:
    status: str
    at: datetime


@dataclass
class Case:
    case_id: str
    doctor_id: str
    patient_name: str
    patient_id: str
    status: str
    created_at: datetime
    updated_at: datetime
    status_history: list[StatusChange] = field(default_factory=list)
    setups: list[Setup] = field(default_factory=list)
    comments: list[Comment] = field(default_factory=list)
    shares: dict[str, Share] = field(default_factory=dict)
    submissions: list[Submission] = field(default_factory=list)

    @property
    def group(self) -> str:
        return group_of(self.status)

    @property
    def action_required(self) -> bool:
        return self.group == ACTION_NEEDED

    def set_status(self, status: str, at: datetime) -> str:
        """Move to `status`, keep the history, return the previous status."""
        previous = self.status
        self.status = status
        self.status_history.append(StatusChange(status, at))
        self.updated_at = at
        return previous

    def setup(self, setup_id: str) -> Setup | None:
        for setup in self.setups:
            if setup.setup_id == setup_id:
                return setup
        return None

    def unread_count(self, username: str) -> int:
        return sum(1 for c in self.comments if c.unread_for(username))

    def submission(self, submission_id: str | None) -> Submission | None:
        for submission in self.submissions:
            if submission.submission_id == submission_id:
                return submission
        return None


@dataclass
class PortalData:
    """Everything one seeded portal holds, plus the id counters new records draw from."""

    doctors: dict[str, Doctor] = field(default_factory=dict)
    logins: dict[str, Login] = field(default_factory=dict)
    cases: dict[str, Case] = field(default_factory=dict)
    tps_wide_username: str | None = None
    next_setup_id: int = 7_100_001
    next_comment_id: int = 9_400_001
    next_submission_id: int = 5_200_001
    next_file_id: int = 8_800_001
    # Cases a client declined: the technician answers with a new setup on the next tick.
    resetup_due: list[str] = field(default_factory=list)

    def new_setup_id(self) -> str:
        value = self.next_setup_id
        self.next_setup_id += 1
        return str(value)

    def new_comment_id(self) -> str:
        value = self.next_comment_id
        self.next_comment_id += 1
        return str(value)

    def new_submission_id(self) -> str:
        value = self.next_submission_id
        self.next_submission_id += 1
        return str(value)

    def new_file_id(self) -> str:
        value = self.next_file_id
        self.next_file_id += 1
        return str(value)

    def doctor_name(self, doctor_id: str) -> str:
        return self.doctors[doctor_id].name


def dump_case(case: Case, doctor_name: str) -> dict[str, Any]:
    """A case exactly as the portal holds it, for the admin state dump."""
    return {
        "case_id": case.case_id,
        "doctor_id": case.doctor_id,
        "doctor_name": doctor_name,
        "patient_name": case.patient_name,
        "patient_id": case.patient_id,
        "status": case.status,
        "group": case.group,
        "action_required": case.action_required,
        "created_at": iso(case.created_at),
        "updated_at": iso(case.updated_at),
        "status_history": [{"status": h.status, "at": iso(h.at)} for h in case.status_history],
        "setups": [
            {
                "setup_id": s.setup_id,
                "version": s.version,
                "created_at": iso(s.created_at),
                "state": s.state,
                "viewer_url": s.viewer_url,
                "files": [{"name": f.name, "kind": f.kind, "size": f.size} for f in s.files],
                "decline_reason": s.decline_reason,
                "decided_by": s.decided_by,
                "decided_at": iso(s.decided_at) if s.decided_at else None,
                "submission_id": s.submission_id,
            }
            for s in case.setups
        ],
        "submissions": [
            {
                "submission_id": s.submission_id,
                "version": s.version,
                "submitted_at": iso(s.submitted_at),
                "instructions": s.instructions,
                "engagers_removal": s.engagers_removal,
                "preference_notes": s.preference_notes,
                "files": [
                    {
                        "file_id": f.file_id,
                        "name": f.name,
                        "kind": f.kind,
                        "arch": f.arch,
                    }
                    for f in s.files
                ],
            }
            for s in case.submissions
        ],
        "comments": [
            {
                "comment_id": c.comment_id,
                "author_role": c.author_role,
                "author_name": c.author_name,
                "author_username": c.author_username,
                "body": c.body,
                "created_at": iso(c.created_at),
                "read_by": sorted(c.read_by),
            }
            for c in case.comments
        ],
        "shared_with": sorted(case.shares),
        "shares": [
            {
                "username": s.username,
                "consent_confirmed": s.consent_confirmed,
                "shared_at": iso(s.shared_at),
            }
            for s in sorted(case.shares.values(), key=lambda s: s.username)
        ],
    }


def dump_login(login: Login, visible_case_ids: list[str]) -> dict[str, Any]:
    """A login as the admin dump shows it; the password is there so tests can log in."""
    permissions: dict[str, list[str]] | list[str]
    if login.kind == "partner":
        permissions = {d: sorted(p) for d, p in sorted(login.permissions.items())}
    else:
        permissions = []  # doctors own their cases: nothing is granted to them
    return {
        "username": login.username,
        "password": login.password,
        "kind": login.kind,
        "display_name": login.display_name,
        "permissions": permissions,
        "doctor_id": login.doctor_id,
        "mfa": login.mfa,
        "password_expired": login.password_expired,
        "scenario": login.scenario,
        "language": login.language,
        "visible_case_ids": visible_case_ids,
    }
