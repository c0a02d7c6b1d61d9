"""Fake but plausible names and messages for the generator (never real people)."""

from __future__ import annotations

# Re-exported: the generators read every word list from this module.
from sandbox.common.names import FIRST_NAMES as FIRST_NAMES
from sandbox.common.names import LAST_NAMES as LAST_NAMES

PRACTICE_PATTERNS: tuple[str, ...] = (
    "{last} Family Dentistry",
    "{last} Orthodontics",
    "{city} Smile Studio",
    "{city} Dental Group",
    "Bright Smiles {city}",
    "{city} Orthodontic Specialists",
)

CITIES: tuple[str, ...] = (
    "Riverside", "Lakeview", "Oakwood", "Maplewood", "Fairview", "Cedar Park", "Brookside",
    "Hillcrest", "Westfield", "Northgate", "Harbor Point", "Elmhurst", "Springdale", "Ashford",
)  # fmt: skip

TECHNICIANS: tuple[str, ...] = (
    "Ana R.",
    "Marek S.",
    "Lucia P.",
    "Diego F.",
    "Ines V.",
)

PASSWORD_WORDS: tuple[str, ...] = (
    "Molar", "Canine", "Incisor", "Aligner", "Retainer", "Bracket", "Enamel", "Crown",
    "Bicuspid", "Palate", "Gingiva", "Occlusion",
)  # fmt: skip

PLAN_READY_NOTES: tuple[str, ...] = (
    "ClinCheck treatment plan version {version} is ready for your review.",
    "Version {version} of the ClinCheck plan is available. Attachments placed on the upper "
    "canines and lower premolars; IPR of 0.3 mm between the lower incisors.",
    "ClinCheck plan version {version} uploaded. Please review the staging and the IPR form.",
    "Plan version {version} is ready. We added precision cuts for Class II elastics as prescribed.",
)

MODIFICATION_INSTRUCTIONS: tuple[str, ...] = (
    "Please reduce the IPR on the lower anteriors to 0.2 mm maximum and stage it later.",
    "Add a bite ramp on the upper central incisors and remove the attachment on tooth 24.",
    "Overcorrect the rotation of tooth 13 by 5 degrees; the patient has a history of relapse.",
    "Intrude the lower incisors further to level the curve of Spee before retraction.",
    "Do not move tooth 36 (implant). Please keep it as an anchor.",
    "Close the remaining space between 11 and 21 and finish with a slight overjet.",
)

DOCTOR_COMMENTS: tuple[str, ...] = (
    "Patient asked whether the attachments can be tooth-coloured; please confirm.",
    "New intraoral scan uploaded after the bracket removal.",
    "Patient will be travelling for six weeks, please plan aligner changes accordingly.",
    "Please check the midline, it looks shifted to the left on the latest photos.",
    "Records updated with a new panoramic X-ray.",
)

STAFF_COMMENTS: tuple[str, ...] = (
    "Photos re-uploaded in higher resolution.",
    "Patient confirmed the appointment for the aligner delivery.",
    "Consent form signed and attached to the records.",
    "Shipping address updated to the new office.",
)

TECHNICIAN_COMMENTS: tuple[str, ...] = (
    "We are working on your treatment plan and will notify you when it is ready.",
    "Please upload a bite registration; the posterior occlusion is unclear on the scan.",
    "Your case is on hold: the lower arch scan has a void on tooth 47. Please rescan.",
    "The modification request has been received and assigned to a technician.",
    "Aligners have been shipped. Tracking number sent to the office email.",
)

# Memos an office writes on a patient (the list's notes column); English, as typed.
PATIENT_NOTES: tuple[str, ...] = (
    "Recall in 6 weeks",
    "Prefers afternoon appointments",
    "Check attachments at next visit",
    "Retainer discussed",
)
