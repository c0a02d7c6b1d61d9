"""What the update-credentials form tells a dentist about Invisalign, in each language it speaks.

The form (`connector.forms`) reads these texts by vendor, so a vendor's advice lives beside its
adapter: which login to create on the portal, what to call its fields, and the least-privilege
sentences of `status.py` in German and Polish (English is the adapter's own wording).

Shape, shared by every vendor's `guidance` module:

- `PORTAL`: the portal's name as dentists know it.
- `TEXTS[locale]`: `title`, `intro`, `username_label`, `username_hint`.
- `STEPS[locale]`: what to do on the portal before typing the login, in order.
- `ACCESS_TEXTS[english sentence][locale]`: translations of the adapter's `Access` sentences.
- `limited_access(capabilities)`: advice for a login that works but cannot do everything the
  TPS needs (an English sentence from the adapter, translated through `ACCESS_TEXTS`), or None.
"""

from __future__ import annotations

from collections.abc import Collection

from adapters.base import Capability
from adapters.invisalign.status import (
    DOCTOR_ACCOUNT,
    NO_VIEW_ROLE,
    READ_ONLY,
    REMOVE_TREATMENT_MANAGEMENT,
)

PORTAL = "Invisalign Doctor Site"

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Invisalign staff account",
        "intro": "Your planning service reads your Invisalign cases with a staff account of its "
        "own, never with your doctor login. Create one on the Invisalign Doctor Site, then "
        "enter its login below.",
        "username_label": "Staff account username",
        "username_hint": "The e-mail address or username you gave the staff account.",
    },
    "de": {
        "title": "Invisalign-Mitarbeiterkonto",
        "intro": "Ihr Planungsdienst liest Ihre Invisalign-Fälle mit einem eigenen "
        "Mitarbeiterkonto, nie mit Ihrem Arzt-Login. Legen Sie es auf der Invisalign Doctor "
        "Site an und geben Sie dann seine Zugangsdaten unten ein.",
        "username_label": "Benutzername des Mitarbeiterkontos",
        "username_hint": "Die E-Mail-Adresse oder der Benutzername, den Sie dem "
        "Mitarbeiterkonto gegeben haben.",
    },
    "pl": {
        "title": "Konto pracownika Invisalign",
        "intro": "Serwis planowania odczytuje Twoje przypadki Invisalign przez własne konto "
        "pracownika, nigdy przez Twój login lekarza. Utwórz je w Invisalign Doctor Site, a "
        "następnie wpisz poniżej jego dane logowania.",
        "username_label": "Nazwa użytkownika konta pracownika",
        "username_hint": "Adres e-mail lub nazwa użytkownika nadana kontu pracownika.",
    },
}

STEPS: dict[str, tuple[str, ...]] = {
    "en": (
        "Sign in to the Invisalign Doctor Site (vip.invisalign.com) with your own doctor login.",
        "Open Account > Staff > Add new and create a staff account for your planning service.",
        "Tick only the Prescription management role. Leave Treatment management unticked: it "
        "can approve ClinCheck plans, which your planning service must never be able to do.",
        "Enter the staff account's username and password below, not your own doctor login.",
    ),
    "de": (
        "Melden Sie sich mit Ihrem eigenen Arzt-Login auf der Invisalign Doctor Site "
        "(vip.invisalign.com) an.",
        "Öffnen Sie Konto > Mitarbeiter > Neu hinzufügen (Account > Staff > Add new) und legen "
        "Sie ein Mitarbeiterkonto für Ihren Planungsdienst an.",
        "Kreuzen Sie nur die Rolle Prescription management (Verschreibungsverwaltung) an. Lassen "
        "Sie Treatment management frei: Diese Rolle kann ClinCheck-Pläne freigeben, und das darf "
        "Ihr Planungsdienst nie können.",
        "Geben Sie unten Benutzername und Passwort des Mitarbeiterkontos ein, nicht Ihr eigenes "
        "Arzt-Login.",
    ),
    "pl": (
        "Zaloguj się do Invisalign Doctor Site (vip.invisalign.com) własnym loginem lekarza.",
        "Otwórz Konto > Personel > Dodaj nowe (Account > Staff > Add new) i utwórz konto "
        "pracownika dla serwisu planowania.",
        "Zaznacz tylko rolę Prescription management (zarządzanie receptami). Nie zaznaczaj "
        "Treatment management: ta rola może zatwierdzać plany ClinCheck, a serwis planowania "
        "nigdy nie może mieć takiej możliwości.",
        "Wpisz poniżej nazwę użytkownika i hasło konta pracownika, a nie swój własny login "
        "lekarza.",
    ),
}

ACCESS_TEXTS: dict[str, dict[str, str]] = {
    DOCTOR_ACCOUNT: {
        "de": "Dies ist Ihr eigenes Invisalign-Arzt-Login, das ClinCheck-Pläne freigeben kann. "
        "Legen Sie ein Mitarbeiterkonto an (Account > Staff > Add new), nur mit der Rolle "
        "Prescription management, und verwenden Sie stattdessen dieses.",
        "pl": "To jest Twój własny login lekarza Invisalign, który może zatwierdzać plany "
        "ClinCheck. Utwórz konto pracownika (Account > Staff > Add new) tylko z rolą "
        "Prescription management i użyj go zamiast tego loginu.",
    },
    REMOVE_TREATMENT_MANAGEMENT: {
        "de": "Dieses Mitarbeiterkonto hat die Rolle Treatment management, die ClinCheck-Pläne "
        "freigeben kann. Entfernen Sie Treatment management (Account > Staff) und behalten Sie "
        "nur Prescription management.",
        "pl": "To konto pracownika ma rolę Treatment management, która może zatwierdzać plany "
        "ClinCheck. Usuń z niego Treatment management (Account > Staff) i zostaw tylko "
        "Prescription management.",
    },
    NO_VIEW_ROLE: {
        "de": "Dieses Mitarbeiterkonto kann keine Patienten sehen. Geben Sie ihm die Rolle "
        "Prescription management (Account > Staff).",
        "pl": "To konto pracownika nie widzi pacjentów. Nadaj mu rolę Prescription management "
        "(Account > Staff).",
    },
    READ_ONLY: {
        "de": "Dieses Mitarbeiterkonto kann Patienten sehen, aber weder kommentieren noch "
        "ClinCheck-Änderungen anfordern. Fügen Sie die Rolle Prescription management hinzu "
        "(Account > Staff).",
        "pl": "To konto pracownika widzi pacjentów, ale nie może komentować ani prosić o zmiany "
        "planu ClinCheck. Dodaj mu rolę Prescription management (Account > Staff).",
    },
}


def limited_access(capabilities: Collection[str]) -> str | None:
    """A staff account that sees patients but cannot comment (Patient management without
    Prescription management) is connected, with this advice."""
    if Capability.READ_CASES in capabilities and Capability.POST_COMMENT not in capabilities:
        return READ_ONLY
    return None
