"""Every word the portal's pages show, in English, German and Polish, keyed by the id of its
fact in the register (`docs/portal-facts/clearcorrect.md`), so a test can hold each one
against the register.

Which language a page speaks: a signed-in login's profile language (My Account > Language
Preferences), else the browser's `Accept-Language`, else English; pages before sign-in follow
the browser alone. `<html lang>` says which.

German follows the vendor's German help pages, which write several labels as the English UI
text with the German in brackets, "Awaiting Setup (Behandlungsplanung wird erwartet)"
(`cc.lang.de-bilingual`): the German pages show those labels in that bilingual form.
"""

from __future__ import annotations

from sandbox.clearcorrect.data import (
    ACTION_NEEDED,
    APPROVED,
    AWAITING_RECORDS,
    AWAITING_SETUP,
    CANCELLED,
    CLOSED,
    CLOSED_GROUP,
    EVALUATING,
    HOLD,
    IN_PRODUCTION,
    IN_PROGRESS,
    IN_TREATMENT,
    LANGUAGES,
    SETUP_APPROVED,
    SETUP_AWAITING,
    SETUP_DECLINED,
    SETUP_SUPERSEDED,
    SHIPPED,
    Login,
)

DEFAULT = "en"

W: dict[str, dict[str, str]] = {
    # statuses and groups
    "cc.status.awaiting-records": {
        "en": "Awaiting Records",
        "de": "Unterlagen werden erwartet",
        "pl": "Oczekiwanie na dokumentację",
    },
    "cc.status.awaiting-setup": {
        "en": "Awaiting Setup",
        "de": "Behandlungsplanung wird erwartet",
        "pl": "Oczekiwanie na plan leczenia",
    },
    "cc.status.evaluating": {
        "en": "Evaluating Treatment Setup",
        "de": "Behandlungsplanung wird ausgewertet",
        "pl": "Ocena planu leczenia",
    },
    "cc.status.approved": {"en": "Approved", "de": "Freigegeben", "pl": "Zatwierdzony"},
    "cc.status.in-production": {"en": "In Production", "de": "In Produktion", "pl": "W produkcji"},
    "cc.status.shipped": {"en": "Shipped", "de": "Versandt", "pl": "Wysłany"},
    "cc.status.in-treatment": {
        "en": "In Treatment",
        "de": "In Behandlung",
        "pl": "W trakcie leczenia",
    },
    "cc.status.hold": {"en": "Hold", "de": "Angehalten", "pl": "Wstrzymany"},
    "cc.status.cancelled": {"en": "Cancelled", "de": "Storniert", "pl": "Anulowany"},
    "cc.status.closed": {"en": "Closed", "de": "Abgeschlossen", "pl": "Zamknięty"},
    "cc.group.action-needed": {
        "en": "Action Needed",
        "de": "Erforderliche Maßnahmen",
        "pl": "Wymagane działanie",
    },
    "cc.group.in-progress": {"en": "In Progress", "de": "In Bearbeitung", "pl": "W toku"},
    "cc.group.closed": {"en": "Closed", "de": "Abgeschlossen", "pl": "Zamknięte"},
    "cc.category.setup-awaiting-approval": {
        "en": "Setup Awaiting Approval",
        "de": "Behandlungsplanung wartet auf Freigabe",
        "pl": "Plan leczenia oczekuje na zatwierdzenie",
    },
    # the header of every signed-in page
    "cc.wf.signin.welcome-prefix": {"en": "Welcome, ", "de": "Willkommen, ", "pl": "Witaj, "},
    "cc.order.add-order": {
        "en": "ADD ORDER",
        "de": "AUFTRAG HINZUFÜGEN",
        "pl": "DODAJ ZAMÓWIENIE",
    },
    "cc.account.title": {"en": "My Account", "de": "Mein Konto", "pl": "Moje konto"},
    "cc.wf.signout": {"en": "Sign Out", "de": "Abmelden", "pl": "Wyloguj się"},
    # Manage Orders
    "cc.list.home": {
        "en": "Manage Orders",
        "de": "Aufträge verwalten",
        "pl": "Zarządzanie zamówieniami",
    },
    "cc.list.status-filter": {"en": "Status", "de": "Status", "pl": "Status"},
    "cc.list.col.order-number": {
        "en": "Order number",
        "de": "Auftragsnummer",
        "pl": "Numer zamówienia",
    },
    "cc.list.col.name": {"en": "Name", "de": "Name", "pl": "Nazwisko"},
    "cc.wf.list.col.doctor": {"en": "Doctor", "de": "Behandler", "pl": "Lekarz"},
    "cc.list.col.last-activity": {
        "en": "Last Activity",
        "de": "Letzte Aktivität",
        "pl": "Ostatnia aktywność",
    },
    "cc.list.col.status": {"en": "Status", "de": "Status", "pl": "Status"},
    "cc.list.col.category": {"en": "Category", "de": "Kategorie", "pl": "Kategoria"},
    "cc.list.col.collaborator-status": {
        "en": "Collaborator Status",
        "de": "Partnerstatus",
        "pl": "Status współpracownika",
    },
    "cc.wf.list.empty": {
        "en": "No orders to show.",
        "de": "Keine Aufträge vorhanden.",
        "pl": "Brak zamówień do wyświetlenia.",
    },
    "cc.wf.list.bubble-title": {
        "en": "Unread comments",
        "de": "Ungelesene Kommentare",
        "pl": "Nieprzeczytane komentarze",
    },
    # sign-in
    "cc.signin.username-label": {
        "en": "Username",
        "de": "Benutzername",
        "pl": "Nazwa użytkownika",
    },
    "cc.signin.password-label": {"en": "Password", "de": "Passwort", "pl": "Hasło"},
    "cc.signin.submit": {"en": "Sign In", "de": "Anmelden", "pl": "Zaloguj się"},
    "cc.signin.forgot-password": {
        "en": "Forgot Password",
        "de": "Passwort vergessen",
        "pl": "Nie pamiętasz hasła?",
    },
    "cc.wf.signin.msg-invalid": {
        "en": "The username or password is incorrect.",
        "de": "Der Benutzername oder das Passwort ist falsch.",
        "pl": "Nazwa użytkownika lub hasło są nieprawidłowe.",
    },
    "cc.wf.signin.msg-locked": {
        "en": "Your account is locked after 3 failed sign-in attempts. "
        "Please try again in {minutes} minutes.",
        "de": "Ihr Konto ist nach 3 fehlgeschlagenen Anmeldeversuchen gesperrt. "
        "Bitte versuchen Sie es in {minutes} Minuten erneut.",
        "pl": "Twoje konto zostało zablokowane po 3 nieudanych próbach logowania. "
        "Spróbuj ponownie za {minutes} min.",
    },
    "cc.wf.signin.msg-username-email": {
        "en": "Enter your e-mail address as the username.",
        "de": "Geben Sie als Benutzernamen Ihre E-Mail-Adresse ein.",
        "pl": "Jako nazwę użytkownika podaj swój adres e-mail.",
    },
    "cc.wf.signin.msg-password-length": {
        "en": "The password must be 8 to 16 characters long.",
        "de": "Das Passwort muss 8 bis 16 Zeichen lang sein.",
        "pl": "Hasło musi mieć od 8 do 16 znaków.",
    },
    "cc.wf.signin.code-label": {
        "en": "Security code",
        "de": "Sicherheitscode",
        "pl": "Kod bezpieczeństwa",
    },
    "cc.wf.signin.code-submit-label": {"en": "Verify", "de": "Bestätigen", "pl": "Potwierdź"},
    "cc.wf.signin.msg-invalid-code": {
        "en": "The security code is not valid.",
        "de": "Der Sicherheitscode ist ungültig.",
        "pl": "Kod bezpieczeństwa jest nieprawidłowy.",
    },
    "cc.wf.signin.msg-code-format": {
        "en": "The security code has 6 digits.",
        "de": "Der Sicherheitscode hat 6 Ziffern.",
        "pl": "Kod bezpieczeństwa ma 6 cyfr.",
    },
    "cc.wf.signin.msg-password-expired": {
        "en": "Your password has expired. Please choose a new password.",
        "de": "Ihr Passwort ist abgelaufen. Bitte wählen Sie ein neues Passwort.",
        "pl": "Twoje hasło wygasło. Wybierz nowe hasło.",
    },
    "cc.wf.signin.change-password-submit": {
        "en": "Change Password",
        "de": "Passwort ändern",
        "pl": "Zmień hasło",
    },
    "cc.wf.signin.msg-password-wrong": {
        "en": "The current password is incorrect.",
        "de": "Das aktuelle Passwort ist falsch.",
        "pl": "Obecne hasło jest nieprawidłowe.",
    },
    "cc.wf.signin.msg-password-mismatch": {
        "en": "The new passwords do not match.",
        "de": "Die neuen Passwörter stimmen nicht überein.",
        "pl": "Nowe hasła nie są zgodne.",
    },
    # case page
    "cc.case.page-name": {"en": "Case Details", "de": "Falldetails", "pl": "Szczegóły przypadku"},
    "cc.case.action-needed-tab": {
        "en": "ACTION NEEDED",
        "de": "ERFORDERLICHE MASSNAHMEN",
        "pl": "WYMAGANE DZIAŁANIE",
    },
    "cc.legacy.action-item.submission-incomplete": {
        "en": "Submission incomplete",
        "de": "Einreichung unvollständig",
        "pl": "Zgłoszenie niekompletne",
    },
    "cc.legacy.action-item.waiting-for-records": {
        "en": "Waiting for intraoral scans or impressions",
        "de": "Warten auf Intraoralscans oder Abformungen",
        "pl": "Oczekiwanie na skany wewnątrzustne lub wyciski",
    },
    "cc.legacy.action-item.setup-in-production": {
        "en": "Treatment setup in production",
        "de": "Behandlungsplanung in Produktion",
        "pl": "Plan leczenia w przygotowaniu",
    },
    "cc.wf.case.submissions-tab": {"en": "Submissions", "de": "Einreichungen", "pl": "Zgłoszenia"},
    "cc.wf.case.setups-tab": {
        "en": "Treatment Setups",
        "de": "Behandlungsplanungen",
        "pl": "Plany leczenia",
    },
    "cc.wf.case.notes-tab-label": {"en": "Notes", "de": "Notizen", "pl": "Notatki"},
    "cc.wf.case.col.version": {"en": "Version", "de": "Version", "pl": "Wersja"},
    "cc.wf.case.col.date": {"en": "Date", "de": "Datum", "pl": "Data"},
    "cc.wf.case.col.state": {"en": "State", "de": "Zustand", "pl": "Stan"},
    "cc.wf.case.col.decline-reason": {
        "en": "Reason for declining",
        "de": "Grund der Ablehnung",
        "pl": "Powód odrzucenia",
    },
    "cc.wf.case.note-save-label": {
        "en": "Add Note",
        "de": "Notiz hinzufügen",
        "pl": "Dodaj notatkę",
    },
    "cc.wf.case.note-watermark": {
        "en": "Type your note here",
        "de": "Notiz hier eingeben",
        "pl": "Wpisz tutaj notatkę",
    },
    "cc.wf.case.note-author": {
        "en": "created: … by <username>",
        "de": "erstellt: … von <username>",
        "pl": "utworzono: … przez <username>",
    },
    "cc.wf.case.note-required": {
        "en": "Please enter a note.",
        "de": "Bitte geben Sie eine Notiz ein.",
        "pl": "Wpisz notatkę.",
    },
    "cc.wf.case.note-type-general": {"en": "General", "de": "Allgemein", "pl": "Ogólne"},
    "cc.wf.case.note-type-setup": {
        "en": "Treatment Setup",
        "de": "Behandlungsplanung",
        "pl": "Plan leczenia",
    },
    "cc.wf.case.note-reason-comment": {"en": "Comment", "de": "Kommentar", "pl": "Komentarz"},
    "cc.wf.chat.author-role.doctor": {"en": "Doctor", "de": "Behandler", "pl": "Lekarz"},
    "cc.wf.chat.author-role.partner": {
        "en": "Collaborator",
        "de": "Partner",
        "pl": "Współpracownik",
    },
    "cc.wf.chat.author-role.technician": {
        "en": "ClearCorrect",
        "de": "ClearCorrect",
        "pl": "ClearCorrect",
    },
    # setups
    "cc.wf.setup.header-prefix": {"en": "Setup:", "de": "Setup:", "pl": "Setup:"},
    "cc.wf.setup.state.in-review": {
        "en": "Awaiting approval",
        "de": "Wartet auf Freigabe",
        "pl": "Oczekuje na zatwierdzenie",
    },
    "cc.wf.setup.state.declined": {"en": "Declined", "de": "Abgelehnt", "pl": "Odrzucony"},
    "cc.wf.setup.state.approved": {"en": "Approved", "de": "Freigegeben", "pl": "Zatwierdzony"},
    "cc.wf.setup.state.superseded": {"en": "Superseded", "de": "Ersetzt", "pl": "Zastąpiony"},
    "cc.decline.button": {"en": "Decline", "de": "Ablehnen", "pl": "Odrzuć"},
    "cc.wf.approve.button": {"en": "Approve", "de": "Freigeben", "pl": "Zatwierdź"},
    "cc.wf.decline.msg-done": {
        "en": "The treatment setup was declined.",
        "de": "Die Behandlungsplanung wurde abgelehnt.",
        "pl": "Plan leczenia został odrzucony.",
    },
    "cc.wf.decline.msg-reason": {
        "en": "Please give a reason for declining.",
        "de": "Bitte geben Sie einen Grund für die Ablehnung an.",
        "pl": "Podaj powód odrzucenia.",
    },
    "cc.wf.decline.msg-forbidden": {
        "en": "You may not decline treatment setups of this doctor.",
        "de": "Sie dürfen Behandlungsplanungen dieses Behandlers nicht ablehnen.",
        "pl": "Nie możesz odrzucać planów leczenia tego lekarza.",
    },
    "cc.wf.decline.msg-state": {
        "en": "This treatment setup is not awaiting approval.",
        "de": "Diese Behandlungsplanung wartet nicht auf Freigabe.",
        "pl": "Ten plan leczenia nie oczekuje na zatwierdzenie.",
    },
    "cc.wf.approve.msg-forbidden": {
        "en": "Only the primary clinician can approve a treatment setup.",
        "de": "Nur der primäre Behandler kann eine Behandlungsplanung freigeben.",
        "pl": "Tylko lekarz prowadzący może zatwierdzić plan leczenia.",
    },
    "cc.wf.approve.msg-done": {
        "en": "The treatment setup was approved.",
        "de": "Die Behandlungsplanung wurde freigegeben.",
        "pl": "Plan leczenia został zatwierdzony.",
    },
    # the case submission pop-up
    "cc.wf.setup.online-form-label": {
        "en": "Online Form",
        "de": "Online-Formular",
        "pl": "Formularz online",
    },
    "cc.wf.setup.files-tab-label": {"en": "Files", "de": "Dateien", "pl": "Pliki"},
    "cc.wf.setup.preferences-label": {
        "en": "Treatment Preferences",
        "de": "Behandlungspräferenzen",
        "pl": "Preferencje leczenia",
    },
    "cc.wf.setup.version-revision": {"en": "Revision", "de": "Revision", "pl": "Rewizja"},
    "cc.wf.files.col.file": {"en": "File", "de": "Datei", "pl": "Plik"},
    "cc.wf.files.col.type": {"en": "Type", "de": "Typ", "pl": "Typ"},
    "cc.wf.files.type-upper": {"en": "Upper", "de": "Oberkiefer", "pl": "Szczęka"},
    "cc.wf.files.type-lower": {"en": "Lower", "de": "Unterkiefer", "pl": "Żuchwa"},
    "cc.wf.files.type-maxillary": {"en": "Maxillary", "de": "Oberkiefer", "pl": "Szczęka"},
    "cc.wf.files.type-mandibular": {"en": "Mandibular", "de": "Unterkiefer", "pl": "Żuchwa"},
    "cc.wf.files.type-photo": {"en": "Photo", "de": "Foto", "pl": "Zdjęcie"},
    "cc.wf.setup.pref-engagers": {
        "en": "Engagers removal for revisions",
        "de": "Entfernung der Engager bei Revisionen",
        "pl": "Usuwanie zaczepów przy rewizjach",
    },
    "cc.wf.setup.pref-notes": {
        "en": "Additional Treatment Preferences Notes:",
        "de": "Zusätzliche Anmerkungen zu Behandlungspräferenzen:",
        "pl": "Dodatkowe uwagi do preferencji leczenia:",
    },
    # My Account
    "cc.wf.account.type-label": {"en": "Account type", "de": "Kontotyp", "pl": "Typ konta"},
    "cc.wf.account.type-doctor": {"en": "Doctor", "de": "Behandler", "pl": "Lekarz"},
    "cc.role.collaborator": {"en": "Collaborator", "de": "Partner", "pl": "Współpracownik"},
    "cc.account.language-label": {
        "en": "Language Preferences",
        "de": "Spracheinstellungen",
        "pl": "Preferencje językowe",
    },
    "cc.wf.account.language-name": {"en": "English", "de": "Deutsch", "pl": "Polski"},
    "cc.wf.account.col.permissions": {
        "en": "Permissions",
        "de": "Berechtigungen",
        "pl": "Uprawnienia",
    },
    "cc.perm.view": {"en": "View", "de": "Ansehen", "pl": "Wyświetlanie"},
    "cc.perm.add-orders": {
        "en": "Add Orders",
        "de": "Aufträge hinzufügen",
        "pl": "Dodawanie zamówień",
    },
    "cc.perm.decline-setups": {
        "en": "Decline Treatment Setups",
        "de": "3D-Behandlungsplanungen ablehnen",
        "pl": "Odrzucanie planów leczenia 3D",
    },
    "cc.role.tool": {
        "en": "Collaborator Suite",
        "de": "Partnertool",
        "pl": "Narzędzie współpracy",
    },
    # the Identity app (variant aspnetcore-json): its sign-in messages
    "cc.app.signin.msg-invalid": {
        "en": "Invalid login attempt.",
        "de": "Ungültiger Anmeldeversuch.",
        "pl": "Nieprawidłowa próba logowania.",
    },
    "cc.app.signin.msg-locked": {
        "en": "Your account has been locked because of too many failed login attempts. "
        "Please try again in 20 minutes.",
        "de": "Ihr Konto wurde nach zu vielen fehlgeschlagenen Anmeldeversuchen gesperrt. "
        "Bitte versuchen Sie es in 20 Minuten erneut.",
        "pl": "Twoje konto zostało zablokowane z powodu zbyt wielu nieudanych prób "
        "logowania. Spróbuj ponownie za 20 minut.",
    },
}

#: Labels the vendor's German pages write as "English (German)": the German UI shows them so.
BILINGUAL: frozenset[str] = frozenset(
    {
        "cc.status.awaiting-setup",
        "cc.status.evaluating",
        "cc.list.home",
        "cc.list.col.collaborator-status",
        "cc.order.add-order",
    }
)

STATUS_FACT: dict[str, str] = {
    AWAITING_RECORDS: "cc.status.awaiting-records",
    AWAITING_SETUP: "cc.status.awaiting-setup",
    EVALUATING: "cc.status.evaluating",
    APPROVED: "cc.status.approved",
    IN_PRODUCTION: "cc.status.in-production",
    SHIPPED: "cc.status.shipped",
    IN_TREATMENT: "cc.status.in-treatment",
    HOLD: "cc.status.hold",
    CANCELLED: "cc.status.cancelled",
    CLOSED: "cc.status.closed",
}
GROUP_FACT: dict[str, str] = {
    ACTION_NEEDED: "cc.group.action-needed",
    IN_PROGRESS: "cc.group.in-progress",
    CLOSED_GROUP: "cc.group.closed",
}
SETUP_STATE_FACT: dict[str, str] = {
    SETUP_AWAITING: "cc.wf.setup.state.in-review",
    SETUP_DECLINED: "cc.wf.setup.state.declined",
    SETUP_APPROVED: "cc.wf.setup.state.approved",
    SETUP_SUPERSEDED: "cc.wf.setup.state.superseded",
}


def word(fact_id: str, lang: str) -> str:
    """The label `fact_id` as the portal shows it in `lang` (German bilingual where written so)."""
    words = W[fact_id]
    if lang == "de" and fact_id in BILINGUAL:
        return f"{words['en']} ({words['de']})"
    return words.get(lang, words[DEFAULT])


def status(code: str, lang: str) -> str:
    return word(STATUS_FACT[code], lang)


def group(code: str, lang: str) -> str:
    return word(GROUP_FACT[code], lang)


def setup_state(code: str, lang: str) -> str:
    return word(SETUP_STATE_FACT[code], lang)


def negotiate(accept_language: str | None) -> str:
    """The first language of an `Accept-Language` header the portal speaks, else English."""
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        primary = tag.strip().lower().split("-")[0]
        if primary in LANGUAGES and quality > 0:
            ranked.append((-quality, position, primary))
    return min(ranked)[2] if ranked else DEFAULT


def language_of(login: Login | None, accept_language: str | None) -> str:
    """A signed-in login's profile language wins; otherwise the browser's."""
    if login is not None and login.language in LANGUAGES:
        return login.language
    return negotiate(accept_language)
