"""The portal's words the adapter reads, in every language the portal speaks (English, German,
Polish), declared as register facts and read back to their fact ids.

Codes are preferred wherever the pages carry one (drop-down values, link parameters, element
ids); words are read only where nothing else says it (a status, a setup's state, a permission).
German pages may show a label in English, in German or as "English (German)", the way the
vendor's German help pages write them (`cc.lang.de-bilingual`): every table accepts all three.
A word no table knows comes back as None, and the caller keeps the raw text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from adapters.clearcorrect.site.facts import FACTS, UNVERIFIED

LANGS = ("en", "de", "pl")
BILINGUAL_FORM = FACTS.value("cc.lang.de-bilingual", "English (German)")


def _w(fact_id: str, en: str, de: str, pl: str) -> dict[str, str]:
    return FACTS.label(fact_id, {"en": en, "de": de, "pl": pl})


def _unverified(fact_id: str, en: str, de: str, pl: str) -> dict[str, str]:
    """Words the sync needs that no source shows (read by a reader flagged unverified)."""
    UNVERIFIED.add(fact_id)
    return _w(fact_id, en, de, pl)


def key(text: str) -> str:
    """A word as compared: case and runs of whitespace (non-breaking too) do not matter."""
    return " ".join(text.replace("\u00a0", " ").split()).casefold()


class Words:
    """One table of labels, read back from any language to the label's fact id."""

    def __init__(self, table: Mapping[str, Mapping[str, str]]) -> None:
        self.table = dict(table)
        self._facts: dict[str, str] = {}
        for fact_id, words in table.items():
            forms = list(words.values())
            if "en" in words and "de" in words:
                forms.append(f"{words['en']} ({words['de']})")
            for form in forms:
                known = self._facts.setdefault(key(form), fact_id)
                if known != fact_id:
                    raise ValueError(f"{form!r} means both {known} and {fact_id}")

    def fact(self, text: str) -> str | None:
        return self._facts.get(key(text))

    def all_forms(self, fact_id: str) -> tuple[str, ...]:
        return tuple(self.table[fact_id].values())


STATUSES = Words(
    {
        "cc.status.awaiting-records": _w(
            "cc.status.awaiting-records",
            "Awaiting Records",
            "Unterlagen werden erwartet",
            "Oczekiwanie na dokumentację",
        ),
        "cc.status.awaiting-setup": _w(
            "cc.status.awaiting-setup",
            "Awaiting Setup",
            "Behandlungsplanung wird erwartet",
            "Oczekiwanie na plan leczenia",
        ),
        "cc.status.evaluating": _w(
            "cc.status.evaluating",
            "Evaluating Treatment Setup",
            "Behandlungsplanung wird ausgewertet",
            "Ocena planu leczenia",
        ),
        "cc.status.approved": _w("cc.status.approved", "Approved", "Freigegeben", "Zatwierdzony"),
        "cc.status.in-production": _w(
            "cc.status.in-production", "In Production", "In Produktion", "W produkcji"
        ),
        "cc.status.shipped": _w("cc.status.shipped", "Shipped", "Versandt", "Wysłany"),
        "cc.status.in-treatment": _w(
            "cc.status.in-treatment", "In Treatment", "In Behandlung", "W trakcie leczenia"
        ),
        "cc.status.hold": _w("cc.status.hold", "Hold", "Angehalten", "Wstrzymany"),
        "cc.status.cancelled": _w("cc.status.cancelled", "Cancelled", "Storniert", "Anulowany"),
        "cc.status.closed": _w("cc.status.closed", "Closed", "Abgeschlossen", "Zamknięty"),
    }
)

SETUP_STATES = Words(
    {
        "cc.wf.setup.state.in-review": _unverified(
            "cc.wf.setup.state.in-review",
            "Awaiting approval",
            "Wartet auf Freigabe",
            "Oczekuje na zatwierdzenie",
        ),
        "cc.wf.setup.state.declined": _unverified(
            "cc.wf.setup.state.declined", "Declined", "Abgelehnt", "Odrzucony"
        ),
        "cc.wf.setup.state.approved": _unverified(
            "cc.wf.setup.state.approved", "Approved", "Freigegeben", "Zatwierdzony"
        ),
        "cc.wf.setup.state.superseded": _unverified(
            "cc.wf.setup.state.superseded", "Superseded", "Ersetzt", "Zastąpiony"
        ),
    }
)

AUTHOR_ROLES = Words(
    {
        "cc.wf.chat.author-role.doctor": _w(
            "cc.wf.chat.author-role.doctor", "Doctor", "Behandler", "Lekarz"
        ),
        "cc.wf.chat.author-role.partner": _w(
            "cc.wf.chat.author-role.partner", "Collaborator", "Partner", "Współpracownik"
        ),
        "cc.wf.chat.author-role.technician": _w(
            "cc.wf.chat.author-role.technician", "ClearCorrect", "ClearCorrect", "ClearCorrect"
        ),
    }
)

PERMISSIONS = Words(
    {
        "cc.perm.view": _w("cc.perm.view", "View", "Ansehen", "Wyświetlanie"),
        "cc.perm.add-orders": _w(
            "cc.perm.add-orders", "Add Orders", "Aufträge hinzufügen", "Dodawanie zamówień"
        ),
        "cc.perm.decline-setups": _w(
            "cc.perm.decline-setups",
            "Decline Treatment Setups",
            "3D-Behandlungsplanungen ablehnen",
            "Odrzucanie planów leczenia 3D",
        ),
    }
)

ACCOUNT_TYPES = Words(
    {
        "cc.wf.account.type-doctor": _unverified(
            "cc.wf.account.type-doctor", "Doctor", "Behandler", "Lekarz"
        ),
        "cc.role.collaborator": _w(
            "cc.role.collaborator", "Collaborator", "Partner", "Współpracownik"
        ),
    }
)

COLUMNS = Words(
    {
        "cc.list.col.order-number": _w(
            "cc.list.col.order-number", "Order number", "Auftragsnummer", "Numer zamówienia"
        ),
        "cc.list.col.name": _w("cc.list.col.name", "Name", "Name", "Nazwisko"),
        "cc.wf.list.col.doctor": _unverified(
            "cc.wf.list.col.doctor", "Doctor", "Behandler", "Lekarz"
        ),
        "cc.list.col.last-activity": _w(
            "cc.list.col.last-activity", "Last Activity", "Letzte Aktivität", "Ostatnia aktywność"
        ),
        "cc.list.col.status": _w("cc.list.col.status", "Status", "Status", "Status"),
        "cc.list.col.collaborator-status": _w(
            "cc.list.col.collaborator-status",
            "Collaborator Status",
            "Partnerstatus",
            "Status współpracownika",
        ),
    }
)

#: The Collaborator Suite (German: Partnertool), as the portal names it.
TOOL = _w("cc.role.tool", "Collaborator Suite", "Partnertool", "Narzędzie współpracy")
#: The primary clinician, the only one who approves.
PRIMARY_CLINICIAN = _w(
    "cc.role.primary-clinician", "primary clinician", "primärer Behandler", "lekarz prowadzący"
)

ARCHES = {
    "maxillary": (
        *_w("cc.wf.setup.arch-upper", "upper", "Oberkiefer", "Szczęka").values(),
        FACTS.label("cc.wf.setup.arch-max", {"en": "max"})["en"],
    ),
    "mandibular": (
        *_w("cc.wf.setup.arch-lower", "lower", "Unterkiefer", "Żuchwa").values(),
        FACTS.label("cc.wf.setup.arch-mand", {"en": "mand"})["en"],
    ),
}

FILE_PHOTO = Words(
    {"cc.wf.files.type-photo": _w("cc.wf.files.type-photo", "Photo", "Foto", "Zdjęcie")}
)

SIGNIN_MESSAGES = Words(
    {
        "cc.wf.signin.msg-invalid": _unverified(
            "cc.wf.signin.msg-invalid",
            "The username or password is incorrect.",
            "Der Benutzername oder das Passwort ist falsch.",
            "Nazwa użytkownika lub hasło są nieprawidłowe.",
        ),
        "cc.wf.signin.msg-username-email": _w(
            "cc.wf.signin.msg-username-email",
            "Enter your e-mail address as the username.",
            "Geben Sie als Benutzernamen Ihre E-Mail-Adresse ein.",
            "Jako nazwę użytkownika podaj swój adres e-mail.",
        ),
        "cc.wf.signin.msg-password-length": _w(
            "cc.wf.signin.msg-password-length",
            "The password must be 8 to 16 characters long.",
            "Das Passwort muss 8 bis 16 Zeichen lang sein.",
            "Hasło musi mieć od 8 do 16 znaków.",
        ),
        "cc.wf.signin.msg-invalid-code": _w(
            "cc.wf.signin.msg-invalid-code",
            "The security code is not valid.",
            "Der Sicherheitscode ist ungültig.",
            "Kod bezpieczeństwa jest nieprawidłowy.",
        ),
        "cc.wf.signin.msg-code-format": _w(
            "cc.wf.signin.msg-code-format",
            "The security code has 6 digits.",
            "Der Sicherheitscode hat 6 Ziffern.",
            "Kod bezpieczeństwa ma 6 cyfr.",
        ),
    }
)

_LOCKED = _unverified(
    "cc.wf.signin.msg-locked",
    "Your account is locked after 3 failed sign-in attempts. "
    "Please try again in {minutes} minutes.",
    "Ihr Konto ist nach 3 fehlgeschlagenen Anmeldeversuchen gesperrt. "
    "Bitte versuchen Sie es in {minutes} Minuten erneut.",
    "Twoje konto zostało zablokowane po 3 nieudanych próbach logowania. "
    "Spróbuj ponownie za {minutes} min.",
)


def template(text: str, placeholder: str = "{minutes}") -> re.Pattern[str]:
    """A message with a number in it (`{minutes}`), as a pattern capturing the number."""
    before, _, after = key(text).partition(placeholder)
    return re.compile(re.escape(before) + r"(\d{1,6})" + re.escape(after))


LOCKED = tuple(template(text) for text in _LOCKED.values())

SETUP_MESSAGES = Words(
    {
        "cc.wf.decline.msg-done": _w(
            "cc.wf.decline.msg-done",
            "The treatment setup was declined.",
            "Die Behandlungsplanung wurde abgelehnt.",
            "Plan leczenia został odrzucony.",
        ),
        "cc.wf.decline.msg-reason": _w(
            "cc.wf.decline.msg-reason",
            "Please give a reason for declining.",
            "Bitte geben Sie einen Grund für die Ablehnung an.",
            "Podaj powód odrzucenia.",
        ),
        "cc.wf.decline.msg-forbidden": _w(
            "cc.wf.decline.msg-forbidden",
            "You may not decline treatment setups of this doctor.",
            "Sie dürfen Behandlungsplanungen dieses Behandlers nicht ablehnen.",
            "Nie możesz odrzucać planów leczenia tego lekarza.",
        ),
        "cc.wf.decline.msg-state": _w(
            "cc.wf.decline.msg-state",
            "This treatment setup is not awaiting approval.",
            "Diese Behandlungsplanung wartet nicht auf Freigabe.",
            "Ten plan leczenia nie oczekuje na zatwierdzenie.",
        ),
    }
)

NOTE_REQUIRED = Words(
    {
        "cc.wf.case.note-required": _w(
            "cc.wf.case.note-required",
            "Please enter a note.",
            "Bitte geben Sie eine Notiz ein.",
            "Wpisz notatkę.",
        )
    }
)

#: "created: … by <username>": the words around the time and the author, per language.
NOTE_AUTHOR = tuple(
    (before.strip(), middle.strip())
    for before, middle in (
        (text.split("…", 1)[0], text.split("…", 1)[1].split("<username>", 1)[0])
        for text in _w(
            "cc.wf.case.note-author",
            "created: … by <username>",
            "erstellt: … von <username>",
            "utworzono: … przez <username>",
        ).values()
    )
)

#: ASP.NET's culture date formats of the list, notes and setups (times in UTC).
DATE_FORMATS = _unverified(
    "cc.wf.list.date-format", "M/d/yyyy h:mm:ss tt", "dd.MM.yyyy HH:mm:ss", "dd.MM.yyyy HH:mm:ss"
)
