"""ClearCorrect's case statuses mapped to ours, in every language the portal speaks.

The words are the register's (declared in `site.labels`); this module only says which status
each one means. German pages may write a status in English, in German or as "Awaiting Setup
(Behandlungsplanung wird erwartet)": all three read the same. A status the portal adds later
shows up as `unknown` with its raw text kept beside it (the sync engine stores both), rather
than being guessed into a wrong bucket.
"""

from __future__ import annotations

from adapters.base import CaseStatus, StatusTable
from adapters.clearcorrect.site.labels import STATUSES

_MEANING: dict[str, CaseStatus] = {
    "cc.status.awaiting-records": CaseStatus.AWAITING_RECORDS,
    "cc.status.awaiting-setup": CaseStatus.AWAITING_SETUP,
    "cc.status.evaluating": CaseStatus.SETUP_IN_REVIEW,
    "cc.status.approved": CaseStatus.APPROVED,
    "cc.status.in-production": CaseStatus.IN_PRODUCTION,
    "cc.status.shipped": CaseStatus.SHIPPED,
    "cc.status.in-treatment": CaseStatus.IN_TREATMENT,
    "cc.status.hold": CaseStatus.ON_HOLD,
    "cc.status.cancelled": CaseStatus.CANCELLED,
    "cc.status.closed": CaseStatus.CLOSED,
}


def _forms() -> dict[str, CaseStatus]:
    forms: dict[str, CaseStatus] = {}
    for fact_id, words in STATUSES.table.items():
        meaning = _MEANING[fact_id]
        for word in words.values():
            forms[word] = meaning
        forms[f"{words['en']} ({words['de']})"] = meaning
    return forms


#: Case statuses as the portal writes them (the list, the case page, the API's `status`).
STATUS_TABLE = StatusTable.of(_forms())


def case_status(raw: str) -> CaseStatus:
    """The normalized status of a raw status text (`unknown` when the portal added one)."""
    return STATUS_TABLE.normalize(raw)


# ---- what `Access` says about a login (the form translates these through `guidance.py`) -------
# They name the portal's own things: the Collaborator Suite (`cc.role.tool`), a collaborator
# (`cc.role.collaborator`), the permission Decline Treatment Setups (`cc.perm.decline-setups`),
# the doctor's consent step (`cc.perm.consent-first`) and sharing one or every case
# (`cc.perm.share-scope`).

EXCESSIVE_DOCTOR = (
    "This is a doctor's own ClearCorrect login: it can approve treatment setups, and a HIPAA-"
    "compliant TPS needs its own login. In the Doctor Portal open the Collaborator Suite, confirm "
    "the patients' consent, add the TPS's e-mail address as a collaborator with Decline Treatment "
    "Setups, share the cases with it, and enter that collaborator login here instead."
)
EXCESSIVE_APPROVE = (
    "This collaborator login can approve treatment setups, which only the primary clinician "
    "should. Ask the doctor to remove that right in the Collaborator Suite: the TPS needs "
    "Decline Treatment Setups only."
)
INSUFFICIENT_VIEW = (
    "This collaborator login sees no cases: no doctor has shared a case with it. In the "
    "Collaborator Suite the doctor shares one case or every case with the TPS's collaborator "
    "login and gives it Decline Treatment Setups."
)
NO_REJECT = (
    "This collaborator login sees cases but cannot decline treatment setups. Ask the doctor to "
    "give it Decline Treatment Setups in the Collaborator Suite."
)
