"""What the update-credentials form tells a dentist about ClearCorrect, in each language it
speaks: add the planning service as a collaborator in the Collaborator Suite (German:
Partnertool), after confirming the patients' consent, with the permission to decline
treatment setups, and share the cases with it.

The portal's own names (the tool, the collaborator, the permissions, the primary clinician)
come from the register through `site.labels`, so the form says exactly what the portal shows:
German as the vendor's German pages write it, Polish as the register assumes it (no Polish
source exists: every Polish portal word here is `assumed`). The sentences around them, and the
German wording of the consent step, are ours (no source gives the consent step's German
label; `cc.perm.consent-first`).

Same shape as every vendor's `guidance` module (see `adapters.invisalign.guidance`).
"""

from __future__ import annotations

from collections.abc import Collection

from adapters.base import Capability
from adapters.clearcorrect.site.labels import ACCOUNT_TYPES as _TYPES
from adapters.clearcorrect.site.labels import PERMISSIONS, PRIMARY_CLINICIAN, TOOL
from adapters.clearcorrect.status import (
    EXCESSIVE_APPROVE,
    EXCESSIVE_DOCTOR,
    INSUFFICIENT_VIEW,
    NO_REJECT,
)

PORTAL = "ClearCorrect Doctor Portal"

COLLABORATOR = _TYPES.table["cc.role.collaborator"]
DECLINE = PERMISSIONS.table["cc.perm.decline-setups"]
ADD_ORDERS = PERMISSIONS.table["cc.perm.add-orders"]


def _names(lang: str) -> dict[str, str]:
    return {
        "tool": TOOL[lang],
        "partner": COLLABORATOR[lang],
        "decline": DECLINE[lang],
        "orders": ADD_ORDERS[lang],
        "clinician": PRIMARY_CLINICIAN[lang],
    }


EN, DE, PL = _names("en"), _names("de"), _names("pl")

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "title": "ClearCorrect collaborator login",
        "intro": "Your planning service works on your ClearCorrect cases as a collaborator with "
        "a login of its own, never with your doctor login. Add it in the "
        f"{EN['tool']} of the Doctor Portal, then enter its login below.",
        "username_label": "Collaborator e-mail address",
        "username_hint": "The e-mail address you added as a collaborator; it is the login's "
        "username.",
    },
    "de": {
        "title": f"ClearCorrect-{DE['partner']}-Login",
        "intro": "Ihr Planungsdienst arbeitet an Ihren ClearCorrect-Fällen als "
        f"{DE['partner']} mit eigenen Anmeldedaten, nie mit Ihrem Behandler-Login. Fügen Sie "
        f"ihn im {DE['tool']} des Doktorportals hinzu und geben Sie dann seine Anmeldedaten "
        "unten ein.",
        "username_label": f"E-Mail-Adresse des {DE['partner']}s",
        "username_hint": f"Die E-Mail-Adresse, die Sie als {DE['partner']} hinzugefügt haben; "
        "sie ist der Benutzername.",
    },
    "pl": {
        "title": "Login współpracownika ClearCorrect",
        "intro": "Serwis planowania pracuje nad Twoimi przypadkami ClearCorrect jako "
        "współpracownik z własnym loginem, nigdy z Twoim loginem lekarza. Dodaj go w module "
        f"„{PL['tool']}” w Doctor Portal, a następnie wpisz poniżej jego login.",
        "username_label": "Adres e-mail współpracownika",
        "username_hint": "Adres e-mail dodany jako współpracownik; jest to nazwa użytkownika.",
    },
}

STEPS: dict[str, tuple[str, ...]] = {
    "en": (
        f"Sign in to the ClearCorrect Doctor Portal with your own login and open the {EN['tool']}.",
        "Confirm your patients' consent and accept the Terms & Conditions: the "
        f"{EN['tool']} asks for this before you add a collaborator.",
        "Add your planning service's e-mail address as a collaborator and give it "
        f"“{EN['decline']}” (“{EN['orders']}” only if it should add orders). Only the "
        f"{EN['clinician']} can approve a setup; a collaborator never can.",
        "Share the cases you want planned with it: one case, or every case.",
        "Enter the collaborator's login (e-mail address and password) below, not your own "
        "doctor login.",
    ),
    "de": (
        "Melden Sie sich mit Ihren eigenen Anmeldedaten im ClearCorrect-Doktorportal an und "
        f"öffnen Sie das {DE['tool']}.",
        # The consent step's German label is not in any source: our wording.
        "Bestätigen Sie die Einwilligung Ihrer Patienten und akzeptieren Sie die Allgemeinen "
        f"Geschäftsbedingungen: Das {DE['tool']} verlangt dies, bevor Sie einen "
        f"{DE['partner']} hinzufügen.",
        f"Fügen Sie die E-Mail-Adresse Ihres Planungsdienstes als {DE['partner']} hinzu und "
        f"erlauben Sie „{DE['decline']}“ („{DE['orders']}“ nur, wenn er Aufträge anlegen "
        f"soll). Freigeben kann nur der {DE['clinician']}, ein {DE['partner']} nie.",
        "Teilen Sie die Fälle, die geplant werden sollen, mit ihm: einen Fall oder alle Fälle.",
        f"Geben Sie unten die Anmeldedaten des {DE['partner']}s (E-Mail-Adresse und "
        "Passwort) ein, nicht Ihre eigenen.",
    ),
    "pl": (
        f"Zaloguj się do ClearCorrect Doctor Portal własnym loginem i otwórz moduł „{PL['tool']}”.",
        "Potwierdź zgodę pacjentów i zaakceptuj Regulamin: moduł "
        f"„{PL['tool']}” wymaga tego przed dodaniem współpracownika.",
        "Dodaj adres e-mail serwisu planowania jako współpracownika i nadaj mu uprawnienie "
        f"„{PL['decline']}” („{PL['orders']}” tylko, jeśli ma dodawać zamówienia). Plan może "
        f"zatwierdzić tylko {PL['clinician']}, nigdy współpracownik.",
        "Udostępnij mu przypadki do zaplanowania: jeden przypadek albo wszystkie.",
        "Wpisz poniżej login współpracownika (adres e-mail i hasło), a nie swój własny login "
        "lekarza.",
    ),
}

ACCESS_TEXTS: dict[str, dict[str, str]] = {
    EXCESSIVE_DOCTOR: {
        "de": "Dies sind die eigenen ClearCorrect-Anmeldedaten eines Behandlers: Damit lassen "
        "sich Behandlungsplanungen freigeben, und nach der DSGVO braucht ein Planungsdienst "
        f"eigene Anmeldedaten. Öffnen Sie im Doktorportal das {DE['tool']}, bestätigen Sie die "
        f"Einwilligung der Patienten, fügen Sie die E-Mail-Adresse des Planungsdienstes als "
        f"{DE['partner']} mit „{DE['decline']}“ hinzu, teilen Sie die Fälle mit ihm und geben "
        f"Sie hier stattdessen die Anmeldedaten des {DE['partner']}s ein.",
        "pl": "To jest własny login lekarza w ClearCorrect: pozwala zatwierdzać plany leczenia, "
        "a zgodnie z RODO serwis planowania potrzebuje własnego loginu. W Doctor Portal otwórz "
        f"moduł „{PL['tool']}”, potwierdź zgodę pacjentów, dodaj adres e-mail serwisu "
        f"planowania jako współpracownika z uprawnieniem „{PL['decline']}”, udostępnij mu "
        "przypadki i wpisz tutaj login współpracownika.",
    },
    EXCESSIVE_APPROVE: {
        "de": f"Mit diesem {DE['partner']}-Login lassen sich Behandlungsplanungen freigeben, "
        f"was nur der {DE['clinician']} darf. Bitten Sie den Behandler, dieses Recht im "
        f"{DE['tool']} zu entfernen: Der Planungsdienst braucht nur „{DE['decline']}“.",
        "pl": "Ten login współpracownika pozwala zatwierdzać plany leczenia, co powinien robić "
        f"tylko {PL['clinician']}. Poproś lekarza o usunięcie tego prawa w module "
        f"„{PL['tool']}”: serwis planowania potrzebuje tylko „{PL['decline']}”.",
    },
    INSUFFICIENT_VIEW: {
        "de": f"Dieses {DE['partner']}-Login sieht keine Fälle: Kein Behandler hat einen Fall "
        f"mit ihm geteilt. Im {DE['tool']} teilt der Behandler einen Fall oder alle Fälle mit "
        f"dem {DE['partner']}-Login des Planungsdienstes und erlaubt ihm „{DE['decline']}“.",
        "pl": "Ten login współpracownika nie widzi żadnych przypadków: żaden lekarz mu ich nie "
        f"udostępnił. W module „{PL['tool']}” lekarz udostępnia jeden przypadek albo wszystkie "
        f"loginowi współpracownika serwisu planowania i nadaje mu „{PL['decline']}”.",
    },
    NO_REJECT: {
        "de": f"Dieses {DE['partner']}-Login sieht Fälle, kann aber keine "
        "Behandlungsplanungen ablehnen. Bitten Sie den Behandler, ihm im "
        f"{DE['tool']} „{DE['decline']}“ zu erlauben.",
        "pl": "Ten login współpracownika widzi przypadki, ale nie może odrzucać planów "
        f"leczenia. Poproś lekarza o nadanie mu uprawnienia „{PL['decline']}” w module "
        f"„{PL['tool']}”.",
    },
}


def limited_access(capabilities: Collection[str]) -> str | None:
    """A collaborator that sees cases but may not decline setups: connected, with advice."""
    if Capability.READ_CASES in capabilities and Capability.REJECT_SETUP not in capabilities:
        return NO_REJECT
    return None
