"""Word lists the generator draws fake people, practices and chat messages from.

Realistic enough that a page or a log line looks like the real portal's (PHI-shaped data is
what the connector must keep out of its logs), and entirely made up.
"""

from __future__ import annotations

# Re-exported: the generators read every word list from this module.
from sandbox.common.names import FIRST_NAMES as FIRST_NAMES
from sandbox.common.names import LAST_NAMES as LAST_NAMES

PRACTICE_SUFFIXES: tuple[str, ...] = (
    "Orthodontics", "Family Dentistry", "Dental Studio", "Smile Center", "Dental Group",
    "Orthodontic Specialists", "Dental Care", "Dental Arts",
)  # fmt: skip

TECHNICIANS: tuple[str, ...] = (
    "Jordan Reyes (ClearCorrect)",
    "Maria Lopez (ClearCorrect)",
    "Kevin Tran (ClearCorrect)",
    "Aisha Mensah (ClearCorrect)",
    "Tom Becker (ClearCorrect)",
)

TECHNICIAN_MESSAGES: tuple[str, ...] = (
    "Setup version {version} is ready for your review.",
    "We adjusted the lower midline as requested; please review the new setup.",
    "The upper scan shows a distortion on tooth 17. Could you send a new scan?",
    "IPR of 0.3 mm is planned between 32 and 42. Let us know if you prefer expansion.",
    "Attachments were moved to the buccal surface of 13 and 23.",
    "We are still missing the panoramic X-ray for this case.",
    "Production is scheduled; aligners should ship within 5 business days.",
    "Tracking number sent to the practice email.",
)

DOCTOR_MESSAGES: tuple[str, ...] = (
    "Please reduce the IPR on the lower anteriors.",
    "Patient reports discomfort on the upper left; please check the attachments.",
    "Can we add two more stages for the derotation of 13?",
    "Looks good overall, reviewing with the patient on Monday.",
    "Please keep the upper midline as is.",
    "New photos uploaded after the last appointment.",
    "Patient is travelling for six weeks, please hold production.",
)

PARTNER_MESSAGES: tuple[str, ...] = (
    "Reviewed the setup: the lower incisors look over-intruded.",
    "Suggest adding precision cuts for class II elastics.",
    "The bite ramps look fine; no further changes from us.",
    "Please confirm the attachment template for the refinement.",
)

DECLINE_REASONS: tuple[str, ...] = (
    "Please reduce IPR and add expansion on the upper arch.",
    "Overcorrect the rotation of 22 by 5 degrees.",
    "Lower midline should not move; please redo the lower arch.",
)

PHOTO_ANGLES: tuple[str, ...] = (
    "frontal_smile", "frontal_repose", "profile", "occlusal_upper", "occlusal_lower",
    "buccal_right", "buccal_left", "buccal_front",
)  # fmt: skip

REVISION_INSTRUCTIONS: tuple[str, ...] = (
    "Please close the remaining space between 11 and 21 and keep the molars as they are.",
    "Add 0.2 mm IPR between 32 and 42; no expansion of the lower arch.",
    "Extrude 12 slightly and finish the rotation of 23.",
    "New scans after the first 14 aligners; refine the upper arch only.",
)

ENGAGERS_REMOVAL: tuple[str, ...] = (
    "Remove all engagers",
    "Keep engagers that are still used",
    "Remove engagers on anterior teeth only",
)

PREFERENCE_NOTES: tuple[str, ...] = (
    "",
    "",
    "No IPR on lower incisors unless necessary.",
    "Prefer expansion over IPR where possible.",
)
