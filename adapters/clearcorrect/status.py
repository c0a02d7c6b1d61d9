"""ClearCorrect's words for case statuses, setup states and chat roles, mapped to ours.

One table each, so a status the portal adds later shows up as `unknown` with its raw text kept
beside it (the sync engine stores both), rather than being guessed into a wrong bucket.
"""

from __future__ import annotations

from adapters.base import AuthorRole, CaseStatus, SetupState, StatusTable

#: Case statuses as the portal writes them (the cases table, the API's `status`).
STATUS_TABLE = StatusTable.of(
    {
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
)


def _key(text: str) -> str:
    return " ".join(text.split()).casefold()


#: 3D treatment setup states. Unlike case statuses there is no `unknown` setup state, so an
#: unknown one is a portal change (`setup_state` returns None and the parser raises).
_SETUP_STATES: dict[str, SetupState] = {
    _key("Awaiting approval"): SetupState.IN_REVIEW,
    _key("Declined"): SetupState.REJECTED,
    _key("Approved"): SetupState.APPROVED,
    _key("Superseded"): SetupState.SUPERSEDED,
}

#: Chat authors. Partners are people like the TPS; technicians are ClearCorrect's staff.
_AUTHOR_ROLES: dict[str, AuthorRole] = {
    _key("Doctor"): AuthorRole.DOCTOR,
    _key("Partner"): AuthorRole.PARTNER,
    _key("Technician"): AuthorRole.TECHNICIAN,
}


def case_status(raw: str) -> CaseStatus:
    """The normalized status of a raw status text (`unknown` when the portal added one)."""
    return STATUS_TABLE.normalize(raw)


def setup_state(raw: str) -> SetupState | None:
    return _SETUP_STATES.get(_key(raw))


def author_role(raw: str) -> AuthorRole | None:
    return _AUTHOR_ROLES.get(_key(raw))
