"""Invisalign's words for case statuses, ClinCheck plan states, comment authors and staff roles,
mapped to ours.

One table each, so a status the portal adds later shows up as `unknown` with its raw text kept
beside it (the sync engine stores both), rather than being guessed into a wrong bucket. Plan
states and author roles have no `unknown`: an unknown one is a portal change and the parser
raises `PortalChanged` instead of storing a wrong value.

Decisions worth knowing:

- **Submitted -> awaiting_setup.** On IDS a case is "Submitted" once the prescription *and*
  records are in; the next thing to happen is Align's technician starting the ClinCheck. Missing
  records do not keep a case in "Submitted": IDS puts it "On hold" ("Additional information
  needed"), which maps to `on_hold`. So nothing on IDS maps to `awaiting_records`.
- **Modification requested -> awaiting_setup**, like ClearCorrect's rejected setup going back to
  Awaiting Setup: the ball is with the technician until a new ClinCheck version is shared.
- **Patient management without Prescription management** can read cases but neither comment nor
  send a plan back. It is not `insufficient` (that means "cannot see cases"), so syncs go on;
  without POST_COMMENT/REJECT_SETUP among its capabilities, outbound actions are refused, and
  `READ_ONLY` is the sentence the form shows to ask for Prescription management.
"""

from __future__ import annotations

from adapters.base import Access, AuthorRole, Capability, CaseStatus, SetupState, StatusTable

#: Case statuses as the patient tracker writes them (the list's and the API's `trackerStatus`).
STATUS_TABLE = StatusTable.of(
    {
        "Submitted": CaseStatus.AWAITING_SETUP,
        "ClinCheck in progress": CaseStatus.AWAITING_SETUP,
        "ClinCheck ready for review": CaseStatus.SETUP_IN_REVIEW,
        "Modification requested": CaseStatus.AWAITING_SETUP,
        "Approved": CaseStatus.APPROVED,
        "In production": CaseStatus.IN_PRODUCTION,
        "Shipped": CaseStatus.SHIPPED,
        "In treatment": CaseStatus.IN_TREATMENT,
        "On hold": CaseStatus.ON_HOLD,
        "Cancelled": CaseStatus.CANCELLED,
    }
)


def _key(text: str) -> str:
    return " ".join(text.split()).casefold()


#: ClinCheck plan states.
_PLAN_STATES: dict[str, SetupState] = {
    _key("Ready for review"): SetupState.IN_REVIEW,
    _key("Modification requested"): SetupState.REJECTED,
    _key("Approved"): SetupState.APPROVED,
    _key("Superseded"): SetupState.SUPERSEDED,
}

#: Comment authors (`authorRole`). Staff are the doctor's office, including a TPS staff login.
_AUTHOR_ROLES: dict[str, AuthorRole] = {
    _key("doctor"): AuthorRole.DOCTOR,
    _key("staff"): AuthorRole.STAFF,
    _key("technician"): AuthorRole.TECHNICIAN,
}


def case_status(raw: str) -> CaseStatus:
    """The normalized status of a raw tracker status (`unknown` when the portal added one)."""
    return STATUS_TABLE.normalize(raw)


def plan_state(raw: str) -> SetupState | None:
    return _PLAN_STATES.get(_key(raw))


def author_role(raw: str) -> AuthorRole | None:
    return _AUTHOR_ROLES.get(_key(raw))


# Staff roles (Account > Staff > Add new) -------------------------------------------------------

PATIENT_MANAGEMENT = "Patient management"
PRESCRIPTION_MANAGEMENT = "Prescription management"
TREATMENT_MANAGEMENT = "Treatment management"
#: Any one of these shows the doctor's patients.
VIEW_ROLES = frozenset(_key(r) for r in (PATIENT_MANAGEMENT, PRESCRIPTION_MANAGEMENT,
                                        TREATMENT_MANAGEMENT))  # fmt: skip

DOCTOR_ACCOUNT = (
    "This is the doctor's own Invisalign login, which can approve ClinCheck plans. Create a staff "
    "account (Account > Staff > Add new) with only the Prescription management role and use that "
    "one here instead."
)
REMOVE_TREATMENT_MANAGEMENT = (
    "This staff account has the Treatment management role, which can approve ClinCheck plans. "
    "Remove Treatment management from it (Account > Staff) and keep only Prescription management."
)
NO_VIEW_ROLE = (
    "This staff account cannot see patients. Give it the Prescription management role "
    "(Account > Staff)."
)
READ_ONLY = (
    "This staff account can see patients but cannot comment or request ClinCheck modifications. "
    "Add the Prescription management role (Account > Staff)."
)


def access_of(account_type: str, roles: tuple[str, ...]) -> Access:
    """Capabilities and least-privilege verdict of a login, from its account type ("doctor" or
    "staff") and its roles as the portal names them (a doctor's list is empty: they hold every
    right)."""
    if account_type == "doctor":
        return Access(
            roles=roles,
            capabilities=frozenset(Capability),
            excessive=DOCTOR_ACCOUNT,
            account_type="doctor",
        )
    held = {_key(r) for r in roles}
    capabilities: set[Capability] = set()
    if held & VIEW_ROLES:
        capabilities.add(Capability.READ_CASES)
    if _key(PRESCRIPTION_MANAGEMENT) in held:
        # Prescription management submits prescription forms (orders) and posts comments and
        # modification requests on ClinCheck plans.
        capabilities |= {Capability.POST_COMMENT, Capability.REJECT_SETUP, Capability.ADD_ORDER}
    excessive = None
    if _key(TREATMENT_MANAGEMENT) in held:
        capabilities.add(Capability.APPROVE)
        excessive = REMOVE_TREATMENT_MANAGEMENT
    # Insufficient means "cannot see cases" (DESIGN section 3). A read-only login still syncs;
    # its missing POST_COMMENT capability refuses actions, and the form shows READ_ONLY.
    insufficient = NO_VIEW_ROLE if Capability.READ_CASES not in capabilities else None
    return Access(
        roles=roles,
        capabilities=frozenset(capabilities),
        excessive=excessive,
        insufficient=insufficient,
        account_type="staff",
    )
