"""What the update-credentials form tells a dentist about Invisalign, in each language it speaks.

The form (`connector.forms`) reads these texts by vendor, so a vendor's advice lives beside its
adapter: which login to create on the portal, and the least-privilege sentences of `status.py`
in German and Polish (English is the adapter's own wording).

The menus, buttons and roles are quoted exactly as the portal shows them in the dentist's
language, from the facts register through `site` (never translated here): Polish from the staff
guide copied from IDS screenshots (Konto > Personel > Dodaj nowe konto, "Zarządzanie
preskrypcjami", "Utwórz"; confirmed); German and English as the register has them, which no
source confirms yet (`assumed` there: "Verschreibungsverwaltung" may read otherwise on the real
German site).

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
from adapters.invisalign import site
from adapters.invisalign.status import (
    DOCTOR_ACCOUNT,
    NO_VIEW_ROLE,
    PRESCRIPTION_MANAGEMENT,
    READ_ONLY,
    REMOVE_TREATMENT_MANAGEMENT,
    TREATMENT_MANAGEMENT,
    UNKNOWN_ROLE,
)

PORTAL = "Invisalign Doctor Site"


def _words(lang: str) -> dict[str, str]:
    """The portal's own words in one language: menu path, button labels, role names."""
    return {
        "staff_path": f"{site.MENU_ACCOUNT[lang]} > {site.ACCOUNT_STAFF[lang]}",
        "add": site.ADD_STAFF[lang],
        "create": site.CREATE_STAFF[lang],
        "rx": site.ROLES[PRESCRIPTION_MANAGEMENT][lang],
        "tm": site.ROLES[TREATMENT_MANAGEMENT][lang],
    }


EN, DE, PL = _words("en"), _words("de"), _words("pl")

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Invisalign staff account",
        "intro": "Your planning service reads your Invisalign cases with a staff account of its "
        "own, never with your doctor login. Create one on the Invisalign Doctor Site, then "
        "enter its login below.",
        "username_label": "Staff account username",
        "username_hint": "The username you gave the staff account (it need not be an e-mail "
        "address).",
    },
    "de": {
        "title": "Invisalign-Mitarbeiterkonto",
        "intro": "Ihr Planungsdienst liest Ihre Invisalign-Fälle mit einem eigenen "
        "Mitarbeiterkonto, nie mit Ihrem Arzt-Login. Legen Sie es auf der Invisalign Doctor "
        "Site an und geben Sie dann seine Zugangsdaten unten ein.",
        "username_label": "Benutzername des Mitarbeiterkontos",
        "username_hint": "Der Benutzername, den Sie dem Mitarbeiterkonto gegeben haben (er muss "
        "keine E-Mail-Adresse sein).",
    },
    "pl": {
        "title": "Konto pracownika Invisalign",
        "intro": "Serwis planowania odczytuje Twoje przypadki Invisalign przez własne konto "
        "pracownika, nigdy przez Twój login lekarza. Utwórz je na stronie dla lekarzy "
        "Invisalign, a następnie wpisz poniżej jego dane logowania.",
        "username_label": "Nazwa użytkownika konta pracownika",
        "username_hint": "Nazwa użytkownika nadana kontu pracownika (nie musi być adresem e-mail).",
    },
}

STEPS: dict[str, tuple[str, ...]] = {
    "en": (
        "Sign in to the Invisalign Doctor Site (vip.invisalign.com) with your own doctor login.",
        f"Open {EN['staff_path']} and click \u201c{EN['add']}\u201d.",
        f"Fill in the form and tick only the \u201c{EN['rx']}\u201d role. Leave "
        f"\u201c{EN['tm']}\u201d unticked: it can approve ClinCheck plans, which your planning "
        "service must never be able to do.",
        f"Click \u201c{EN['create']}\u201d, then enter the new staff account's username and "
        "password below, not your own doctor login.",
    ),
    "de": (
        "Melden Sie sich mit Ihrem eigenen Arzt-Login auf der Invisalign Doctor Site "
        "(vip.invisalign.com) an.",
        f"Öffnen Sie {DE['staff_path']} und klicken Sie auf \u201e{DE['add']}\u201c.",
        f"Füllen Sie das Formular aus und kreuzen Sie nur die Rolle \u201e{DE['rx']}\u201c an. "
        f"Lassen Sie \u201e{DE['tm']}\u201c frei: Diese Rolle kann ClinCheck-Pläne freigeben, und "
        "das darf Ihr Planungsdienst nie können.",
        f"Klicken Sie auf \u201e{DE['create']}\u201c und geben Sie dann unten Benutzername und "
        "Passwort des neuen Mitarbeiterkontos ein, nicht Ihr eigenes Arzt-Login.",
    ),
    "pl": (
        "Zaloguj się na stronie dla lekarzy Invisalign (vip.invisalign.com) własnym loginem "
        "lekarza.",
        f"Otwórz {PL['staff_path']} i kliknij \u201e{PL['add']}\u201d.",
        f"Wypełnij formularz i z ról zaznacz wyłącznie \u201e{PL['rx']}\u201d. Nie zaznaczaj "
        f"\u201e{PL['tm']}\u201d: ta rola pozwala zatwierdzać plany leczenia ClinCheck, a "
        "serwis planowania nigdy nie może mieć takiej możliwości.",
        f"Kliknij \u201e{PL['create']}\u201d, a następnie wpisz poniżej nazwę użytkownika i "
        "hasło nowego konta pracownika, a nie swój własny login lekarza.",
    ),
}

ACCESS_TEXTS: dict[str, dict[str, str]] = {
    DOCTOR_ACCOUNT: {
        "de": "Dies ist Ihr eigenes Invisalign-Arzt-Login, das ClinCheck-Pläne freigeben kann; "
        "nach der DSGVO braucht ein Planungsdienst eigene Anmeldedaten. "
        f"Legen Sie ein Mitarbeiterkonto an ({DE['staff_path']} > {DE['add']}), nur mit der "
        f"Rolle \u201e{DE['rx']}\u201c, und verwenden Sie stattdessen dieses.",
        "pl": "To jest Twój własny login lekarza Invisalign, który może zatwierdzać plany "
        "ClinCheck; zgodnie z RODO serwis planowania potrzebuje własnego loginu. "
        f"Utwórz konto pracownika ({PL['staff_path']} > {PL['add']}) tylko z rolą "
        f"\u201e{PL['rx']}\u201d i użyj go zamiast tego loginu.",
    },
    REMOVE_TREATMENT_MANAGEMENT: {
        "de": f"Dieses Mitarbeiterkonto hat die Rolle \u201e{DE['tm']}\u201c, die ClinCheck-Pläne "
        f"freigeben kann. Entfernen Sie \u201e{DE['tm']}\u201c ({DE['staff_path']}) und behalten "
        f"Sie nur \u201e{DE['rx']}\u201c.",
        "pl": f"To konto pracownika ma rolę \u201e{PL['tm']}\u201d, która może zatwierdzać plany "
        f"ClinCheck. Usuń z niego \u201e{PL['tm']}\u201d ({PL['staff_path']}) i zostaw tylko "
        f"\u201e{PL['rx']}\u201d.",
    },
    UNKNOWN_ROLE: {
        "de": "Dieses Mitarbeiterkonto hat eine Rolle, die der Connector nicht kennt und die "
        f"mehr erlauben könnte als nötig. Lassen Sie nur die Rolle \u201e{DE['rx']}\u201c "
        f"({DE['staff_path']}).",
        "pl": "To konto pracownika ma rolę, której łącznik nie zna i która może pozwalać na "
        f"więcej, niż potrzeba. Zostaw na nim tylko rolę \u201e{PL['rx']}\u201d "
        f"({PL['staff_path']}).",
    },
    NO_VIEW_ROLE: {
        "de": "Dieses Mitarbeiterkonto kann keine Patienten sehen. Geben Sie ihm die Rolle "
        f"\u201e{DE['rx']}\u201c ({DE['staff_path']}).",
        "pl": f"To konto pracownika nie widzi pacjentów. Nadaj mu rolę \u201e{PL['rx']}\u201d "
        f"({PL['staff_path']}).",
    },
    READ_ONLY: {
        "de": "Dieses Mitarbeiterkonto kann Patienten sehen, aber weder kommentieren noch "
        f"ClinCheck-Änderungen anfordern. Fügen Sie die Rolle \u201e{DE['rx']}\u201c hinzu "
        f"({DE['staff_path']}).",
        "pl": "To konto pracownika widzi pacjentów, ale nie może komentować ani prosić o zmiany "
        f"planu ClinCheck. Dodaj mu rolę \u201e{PL['rx']}\u201d ({PL['staff_path']}).",
    },
}


def limited_access(capabilities: Collection[str]) -> str | None:
    """A staff account that sees patients but cannot comment (Patient management without
    Prescription management) is connected, with this advice."""
    if Capability.READ_CASES in capabilities and Capability.POST_COMMENT not in capabilities:
        return READ_ONLY
    return None
