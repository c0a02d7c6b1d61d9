"""What the update-credentials form tells a dentist about ClearCorrect, in each language it
speaks: add the TPS as a partner with View and Reject setups, after confirming patient consent.

Same shape as every vendor's `guidance` module (see `adapters.invisalign.guidance`).
"""

from __future__ import annotations

from collections.abc import Collection

from adapters.base import Capability
from adapters.clearcorrect.site import EXCESSIVE_APPROVE, EXCESSIVE_DOCTOR, INSUFFICIENT_VIEW

PORTAL = "ClearCorrect Doctor Portal"

#: A partner that sees cases but may not reject setups: connected, with this advice.
NO_REJECT = (
    "This partner login can see cases but cannot reject treatment setups. Ask the doctor to add "
    "the Reject setups permission for it in the Partner tool."
)

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "title": "ClearCorrect partner login",
        "intro": "Your planning service works on your ClearCorrect cases as a partner "
        "(collaborator) with its own login, never with your doctor login. Add it in the "
        "Partner tool, then enter its login below.",
        "username_label": "Partner e-mail address",
        "username_hint": "The e-mail address you added as a partner; it is the login's username.",
    },
    "de": {
        "title": "ClearCorrect-Partner-Login",
        "intro": "Ihr Planungsdienst arbeitet an Ihren ClearCorrect-Fällen als Partner "
        "(Collaborator) mit einem eigenen Login, nie mit Ihrem Arzt-Login. Fügen Sie ihn im "
        "Partner-Tool hinzu und geben Sie dann sein Login unten ein.",
        "username_label": "E-Mail-Adresse des Partners",
        "username_hint": "Die E-Mail-Adresse, die Sie als Partner hinzugefügt haben; sie ist "
        "der Benutzername des Logins.",
    },
    "pl": {
        "title": "Login partnera ClearCorrect",
        "intro": "Serwis planowania pracuje nad Twoimi przypadkami ClearCorrect jako partner "
        "(współpracownik) z własnym loginem, nigdy z Twoim loginem lekarza. Dodaj go w "
        "narzędziu Partner, a następnie wpisz poniżej jego login.",
        "username_label": "Adres e-mail partnera",
        "username_hint": "Adres e-mail dodany jako partner; jest to nazwa użytkownika loginu.",
    },
}

STEPS: dict[str, tuple[str, ...]] = {
    "en": (
        "Sign in to the ClearCorrect Doctor Portal with your own login and open the Partner tool.",
        "Add your planning service's e-mail address as a partner with the View and Reject "
        "setups permissions. Do not give it the right to approve setups.",
        "Confirm that the patient has consented, then share the cases you want planned with "
        "that partner.",
        "Enter the partner's login (e-mail address and password) below, not your own doctor login.",
    ),
    "de": (
        "Melden Sie sich mit Ihrem eigenen Login im ClearCorrect Doctor Portal an und öffnen "
        "Sie das Partner-Tool.",
        "Fügen Sie die E-Mail-Adresse Ihres Planungsdienstes als Partner mit den Berechtigungen "
        "View und Reject setups hinzu. Geben Sie ihm nicht das Recht, Setups freizugeben.",
        "Bestätigen Sie die Einwilligung des Patienten und teilen Sie dann die Fälle, die "
        "geplant werden sollen, mit diesem Partner.",
        "Geben Sie unten das Login des Partners (E-Mail-Adresse und Passwort) ein, nicht Ihr "
        "eigenes Arzt-Login.",
    ),
    "pl": (
        "Zaloguj się do ClearCorrect Doctor Portal własnym loginem i otwórz narzędzie Partner.",
        "Dodaj adres e-mail serwisu planowania jako partnera z uprawnieniami View i Reject "
        "setups. Nie dawaj mu prawa do zatwierdzania setupów.",
        "Potwierdź zgodę pacjenta, a następnie udostępnij temu partnerowi przypadki do "
        "zaplanowania.",
        "Wpisz poniżej login partnera (adres e-mail i hasło), a nie swój własny login lekarza.",
    ),
}

ACCESS_TEXTS: dict[str, dict[str, str]] = {
    EXCESSIVE_DOCTOR: {
        "de": "Dies ist das eigene ClearCorrect-Login eines Arztes: Es kann Behandlungs-Setups "
        "freigeben, und ein HIPAA-konformer Planungsdienst braucht ein eigenes Login. Öffnen Sie "
        "im ClearCorrect Doctor Portal das Partner-Tool, fügen Sie die E-Mail-Adresse des "
        "Planungsdienstes als Partner mit View und Reject setups hinzu, teilen Sie die Fälle und "
        "geben Sie stattdessen dieses Partner-Login hier ein.",
        "pl": "To jest własny login lekarza w ClearCorrect: może zatwierdzać setupy leczenia, a "
        "serwis planowania zgodny z HIPAA potrzebuje własnego loginu. W ClearCorrect Doctor "
        "Portal otwórz narzędzie Partner, dodaj adres e-mail serwisu planowania jako partnera z "
        "uprawnieniami View i Reject setups, udostępnij przypadki i wpisz tutaj ten login "
        "partnera.",
    },
    EXCESSIVE_APPROVE: {
        "de": "Dieses Partner-Login kann Behandlungs-Setups freigeben. Bitten Sie den Arzt, das "
        "Freigaberecht im Partner-Tool zu entfernen: Der Planungsdienst braucht nur View und "
        "Reject setups.",
        "pl": "Ten login partnera może zatwierdzać setupy leczenia. Poproś lekarza o usunięcie "
        "prawa do zatwierdzania w narzędziu Partner: serwis planowania potrzebuje tylko View i "
        "Reject setups.",
    },
    INSUFFICIENT_VIEW: {
        "de": "Dieses Partner-Login sieht keine Fälle: Kein Arzt hat ihm die Berechtigung View "
        "gegeben. Geben Sie dem Partner des Planungsdienstes im ClearCorrect-Partner-Tool View "
        "(und Reject setups) und teilen Sie die Fälle mit ihm.",
        "pl": "Ten login partnera nie widzi żadnych przypadków: żaden lekarz nie nadał mu "
        "uprawnienia View. W narzędziu Partner ClearCorrect nadaj partnerowi serwisu planowania "
        "View (i Reject setups) i udostępnij mu przypadki.",
    },
    NO_REJECT: {
        "de": "Dieses Partner-Login sieht Fälle, kann aber keine Behandlungs-Setups ablehnen. "
        "Bitten Sie den Arzt, ihm im Partner-Tool die Berechtigung Reject setups zu geben.",
        "pl": "Ten login partnera widzi przypadki, ale nie może odrzucać setupów leczenia. "
        "Poproś lekarza o nadanie mu uprawnienia Reject setups w narzędziu Partner.",
    },
}


def limited_access(capabilities: Collection[str]) -> str | None:
    """A partner with View but without Reject setups is connected, with this advice."""
    if Capability.READ_CASES in capabilities and Capability.REJECT_SETUP not in capabilities:
        return NO_REJECT
    return None
