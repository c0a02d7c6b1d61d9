"""Invisalign's words for case statuses, ClinCheck plan states, comment authors and staff roles,
mapped to ours, in every language the site speaks (the words themselves are register facts in
`site`; this module only says what they mean).

One table each, so a status the portal adds later shows up as `unknown` with its raw text kept
beside it (the sync engine stores both), rather than being guessed into a wrong bucket. Plan
states and author roles have no `unknown`: an unknown one is a portal change and the parser
raises `PortalChanged` instead of storing a wrong value. An unknown staff role is never taken
for least privilege: the login may hold a right we cannot see, so actions are refused.

Decisions worth knowing:

- **Submitted -> awaiting_setup.** On IDS a case is "Submitted" once the prescription *and*
  records are in; the next thing to happen is Align's technician starting the ClinCheck. Missing
  records do not keep a case in "Submitted": IDS puts it "On hold" ("Additional information
  needed"), which maps to `on_hold`. So nothing on IDS maps to `awaiting_records`.
- **Modification requested -> awaiting_setup**, like ClearCorrect's rejected setup going back to
  Awaiting Setup: the ball is with the technician until a new ClinCheck version is shared.
- **Order Complete -> closed**: the word the older VIP pages show for a finished order, and the
  sandbox's for an earlier, finished treatment. **Action required** is left `unknown`: public
  code shows it as an order status without saying which step waits.
- **Patient management without Prescription management** can read cases but neither comment nor
  send a plan back. It is not `insufficient` (that means "cannot see cases"), so syncs go on;
  without POST_COMMENT/REJECT_SETUP among its capabilities, outbound actions are refused, and
  `READ_ONLY` is the sentence the form shows to ask for Prescription management.
"""

from __future__ import annotations

from collections.abc import Iterable

from adapters.base import Access, AuthorRole, Capability, CaseStatus, SetupState, StatusTable
from adapters.invisalign import site


def _key(text: str) -> str:
    return " ".join(text.split()).casefold()


_STATUS_MEANINGS: dict[str, CaseStatus] = {
    "ids.status.submitted": CaseStatus.AWAITING_SETUP,
    "ids.status.prescription-completed": CaseStatus.AWAITING_SETUP,
    "ids.status.clincheck-in-progress": CaseStatus.AWAITING_SETUP,
    "ids.status.clincheck-review": CaseStatus.SETUP_IN_REVIEW,
    "ids.status.modification-requested": CaseStatus.AWAITING_SETUP,
    "ids.status.approved": CaseStatus.APPROVED,
    "ids.status.in-production": CaseStatus.IN_PRODUCTION,
    "ids.status.order-complete": CaseStatus.CLOSED,
    "ids.status.shipped": CaseStatus.SHIPPED,
    "ids.status.aligner-shipped": CaseStatus.SHIPPED,
    "ids.status.in-treatment": CaseStatus.IN_TREATMENT,
    "ids.status.on-hold": CaseStatus.ON_HOLD,
    "ids.status.cancelled": CaseStatus.CANCELLED,
}

#: Case statuses as the patient tracker writes them, in every language.
STATUS_TABLE = StatusTable.of(
    {
        word: _STATUS_MEANINGS[fact]
        for fact, words in site.STATUSES.items()
        if fact in _STATUS_MEANINGS
        for word in words.values()
    }
)
_STATUS_PARTS = [
    (_key(site.STATUSES[fact][lang]), _STATUS_MEANINGS[fact])
    for fact, langs in site.STATUS_SUBSTRINGS.items()
    for lang in langs
]

_PLAN_MEANINGS: dict[str, SetupState] = {
    "ids.plan.state.ready": SetupState.IN_REVIEW,
    "ids.plan.state.modification-requested": SetupState.REJECTED,
    "ids.plan.state.approved": SetupState.APPROVED,
    "ids.plan.state.superseded": SetupState.SUPERSEDED,
}
_PLAN_STATES: dict[str, SetupState] = {
    _key(word): _PLAN_MEANINGS[fact]
    for fact, words in site.PLAN_STATES.items()
    for word in words.values()
}

#: Comment authors: a code, not a word (`data-role`, `authorRole`). Staff are the doctor's
#: office, including a TPS staff login.
_AUTHOR_ROLES: dict[str, AuthorRole] = {
    site.AUTHOR_DOCTOR: AuthorRole.DOCTOR,
    site.AUTHOR_STAFF: AuthorRole.STAFF,
    site.AUTHOR_TECHNICIAN: AuthorRole.TECHNICIAN,
}


def case_status(raw: str) -> CaseStatus:
    """The normalized status of a raw tracker status (`unknown` when the portal added one).
    Words public code matches as part of a longer text are found inside it too."""
    found = STATUS_TABLE.normalize(raw)
    if found is not CaseStatus.UNKNOWN:
        return found
    text = _key(raw)
    return next((status for part, status in _STATUS_PARTS if part in text), CaseStatus.UNKNOWN)


def plan_state(raw: str) -> SetupState | None:
    return _PLAN_STATES.get(_key(raw))


def author_role(raw: str) -> AuthorRole | None:
    return _AUTHOR_ROLES.get(raw.strip().lower())


# Staff roles (Konto > Personel > Dodaj nowe konto) ------------------------------------------------

PATIENT_MANAGEMENT = "ids.role.patient-management"
PRESCRIPTION_MANAGEMENT = "ids.role.prescription-management"
TREATMENT_MANAGEMENT = "ids.role.treatment-management"
#: Any one of these shows the doctor's patients.
VIEW_ROLES = frozenset({PATIENT_MANAGEMENT, PRESCRIPTION_MANAGEMENT, TREATMENT_MANAGEMENT})
_ROLE_WORDS: dict[str, str] = {
    _key(word): fact for fact, words in site.ROLES.items() for word in words.values()
}


def role_of(word: str) -> str | None:
    """The register id of a role as the portal names it, in any language (None: unknown)."""
    return _ROLE_WORDS.get(_key(word))


_EN = "en"
_ACCOUNT = site.MENU_ACCOUNT[_EN]
_STAFF_TAB = site.ACCOUNT_STAFF[_EN]
_PRESCRIPTION = site.ROLES[PRESCRIPTION_MANAGEMENT][_EN]
_TREATMENT = site.ROLES[TREATMENT_MANAGEMENT][_EN]

DOCTOR_ACCOUNT = (
    "This is the doctor's own Invisalign login, which can approve ClinCheck plans. Create a staff "
    f"account ({_ACCOUNT} > {_STAFF_TAB} > {site.ADD_STAFF[_EN]}) with only the {_PRESCRIPTION} "
    "role and use that one here instead."
)
REMOVE_TREATMENT_MANAGEMENT = (
    f"This staff account has the {_TREATMENT} role, which can approve ClinCheck plans. Remove "
    f"{_TREATMENT} from it ({_ACCOUNT} > {_STAFF_TAB}) and keep only {_PRESCRIPTION}."
)
UNKNOWN_ROLE = (
    "This staff account has a role the connector does not know, which may allow more than it "
    f"needs. Keep only the {_PRESCRIPTION} role on it ({_ACCOUNT} > {_STAFF_TAB})."
)
NO_VIEW_ROLE = (
    f"This staff account cannot see patients. Give it the {_PRESCRIPTION} role "
    f"({_ACCOUNT} > {_STAFF_TAB})."
)
READ_ONLY = (
    "This staff account can see patients but cannot comment or request ClinCheck modifications. "
    f"Add the {_PRESCRIPTION} role ({_ACCOUNT} > {_STAFF_TAB})."
)


def access_of(account_type: str, roles: Iterable[str]) -> Access:
    """Capabilities and least-privilege verdict of a login, from its account type ("doctor" or
    "staff") and its roles as the portal names them, in any language (a doctor holds every
    right). A role the connector does not recognise is never least privilege."""
    roles = tuple(roles)
    if account_type == "doctor":
        return Access(
            roles=roles,
            capabilities=frozenset(Capability),
            excessive=DOCTOR_ACCOUNT,
            account_type="doctor",
        )
    held = {role_of(r) for r in roles}
    capabilities: set[Capability] = set()
    if held & VIEW_ROLES:
        capabilities.add(Capability.READ_CASES)
    if PRESCRIPTION_MANAGEMENT in held:
        # Prescription management submits prescription forms (orders) and posts comments and
        # modification requests on ClinCheck plans.
        capabilities |= {Capability.POST_COMMENT, Capability.REJECT_SETUP, Capability.ADD_ORDER}
    excessive = None
    if TREATMENT_MANAGEMENT in held:
        capabilities.add(Capability.APPROVE)
        excessive = REMOVE_TREATMENT_MANAGEMENT
    elif None in held:
        excessive = UNKNOWN_ROLE
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
