"""Everything the form says, in English, German and Polish, and which language a page speaks.

The language is the form session's `locale` when the TPS gave one, else the best of the
browser's `Accept-Language`, else English. A text missing in a language falls back to English
(a test keeps the three catalogs complete). Placeholders are `str.format` fields; values are
escaped by the templates, never by these strings.

A text with a number in it has a form per plural category of its language (CLDR, through
Babel: Polish says "1 minutę", "2 minuty", "5 minut"), and times are shown in the dentist's
time zone (the form session's `timezone`, else one that follows from the language).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_time

LANGUAGES: tuple[str, ...] = ("en", "de", "pl")
DEFAULT_LANGUAGE = "en"

#: The time zone a language's dentists most likely read times in, when the TPS gave none.
DEFAULT_ZONES: dict[str, str] = {"en": "UTC", "de": "Europe/Berlin", "pl": "Europe/Warsaw"}

_TAG = re.compile(r"^[A-Za-z]{1,8}(?:[-_][A-Za-z0-9]{1,8})*$")


_UTC = ZoneInfo("UTC")


@dataclass(frozen=True)
class Plural:
    """A text whose words follow the number in the value `by` (CLDR plural categories)."""

    by: str
    forms: Mapping[str, str]

    def pick(self, language: str, values: Mapping[str, object]) -> str:
        count = values.get(self.by)
        category = Locale.parse(language).plural_form(count) if isinstance(count, int) else "other"
        return self.forms.get(category) or self.forms["other"]


def plural(by: str, **forms: str) -> Plural:
    if "other" not in forms:
        raise ValueError("a plural text needs its `other` form")
    return Plural(by, forms)


CATALOG: dict[str, dict[str, str | Plural]] = {
    "en": {
        "page_title": "Connect your {portal} login",
        "heading": "Connect your {portal} login",
        "before_you_start": "Before you start",
        "login_legend": "Login for {portal}",
        "password_label": "Password",
        "password_hint": "It is sent only to {portal} and stored encrypted. It is never shown "
        "again, not even to you.",
        "totp_legend": "Authenticator app (optional)",
        "totp_label": "Authenticator secret",
        "totp_hint": "Only if this login asks for a code from an authenticator app: the secret "
        "key (letters A to Z and digits 2 to 7) shown when the app was set up. With it, the "
        "connector signs in without asking you for codes. Leave empty otherwise.",
        "submit": "Check and save",
        "give_up": "Give up",
        "give_up_hint": "Stops here and changes nothing more.",
        "check_again": "Check again",
        "check_again_hint": "When you have changed the login's rights on {portal}, check it "
        "again without typing the password.",
        "other_login": "Enter a different login",
        "problem": "There is a problem",
        "notice": "Please note",
        "username_required": "Enter the username.",
        "username_invalid": "The username is too long or contains characters that are not allowed.",
        "password_required": "Enter the password.",
        "password_invalid": "The password is too long or contains a character that is not allowed.",
        "totp_invalid": "The authenticator secret must be the key the portal showed: letters A "
        "to Z and digits 2 to 7, at least 16 of them.",
        "code_required": "Enter the code.",
        "code_invalid": "The code is made of digits only (usually 6).",
        # outcomes
        "connected_title": "Connected",
        "connected_body": "The login works. The connector will start reading your cases now.",
        "connected_cases": "Cases this login can see: {count}",
        "connected_cases_capped": "Cases this login can see: more than {count}",
        "limited_title": "One more thing",
        "close_page": "You can close this page.",
        "wrong_password_title": "The portal did not accept this login",
        "wrong_password_body": "{portal} rejected the username or password. The connector did "
        "not try it again. Check both and enter them again.",
        "password_expired_title": "The password has expired",
        "password_expired_body": "{portal} says the password of this login has expired. Sign in "
        "on {portal}, set a new password, then enter the new password here.",
        "locked_title": "The portal has locked this login",
        "locked_body": "{portal} has locked this login until {time}. The connector will not try "
        "it before then. You can enter the login again after that time.",
        "budget_title": "Not tried: the connector has stopped trying this login",
        "budget_body": plural(
            "failures",
            one="{portal} locks a login after 3 failed sign-ins in a row. This login has failed "
            "once since it last signed in, and the connector keeps a margin: it does not try it "
            "again until you sign in on {portal} yourself (that resets the count). Sign in "
            "there, then tick the box below and enter the login again.",
            other="{portal} locks a login after 3 failed sign-ins in a row. This login has "
            "failed {failures} times since it last signed in, so the connector does not try it "
            "again until you sign in on {portal} yourself (that resets the count). Sign in "
            "there, then tick the box below and enter the login again.",
        ),
        "confirm_label": "I have just signed in on {portal} with this login myself",
        "confirm_hint": "Tick this only if signing in on {portal} has just worked.",
        "credentials_rejected_title": "Not tried: this password was rejected before",
        "credentials_rejected_body": "{portal} rejected this password earlier (or its answer was "
        "lost on a first try), so the connector never sends it again. Enter the login again.",
        "excess_title": "This login has more rights than it should",
        "excess_body": "The login works, but it may do more than your planning service should. "
        "Cases are read, but nothing is sent to {portal} until this is fixed.",
        "insufficient_title": "This login cannot see cases",
        "insufficient_body": "The login works, but it does not have the rights it needs.",
        "code_needed_title": "No verification code arrived in time",
        "code_needed_body": "The sign-in waited for the verification code and gave up. Sign in "
        "again to get a new code.",
        "code_refused_title": "The portal did not accept the code",
        "code_refused_body": "{portal} refused the verification code. A wrong code counts "
        "toward the portal's lockout, so it was not tried again. Sign in again to get a new "
        "code.",
        "unavailable_title": "The portal is not answering",
        "unavailable_body": "{portal} is not answering properly right now. Your login was saved "
        "and will be checked again automatically. You can also try again in a few minutes.",
        "portal_changed_title": "The portal's pages have changed",
        "portal_changed_body": "The connector could not read {portal}'s pages. Your login was "
        "saved; the connector needs an update, and {tps} has been told.",
        "busy_title": "Busy right now",
        "busy_body": "This login is being read right now. Try again in a minute.",
        "conflict_title": "This login belongs to another practice",
        "conflict_body": "This login is already connected for another practice. Ask {tps} for "
        "the link of that practice.",
        "error_title": "Something went wrong",
        "error_body": "The login could not be checked because of an error on our side. Nothing "
        "was tried twice. Try again later.",
        "rate_limited_title": "Too many attempts",
        "rate_limited_body": plural(
            "minutes",
            one="This form was sent too often. Wait {minutes} minute, then try again. The "
            "portal was not tried.",
            other="This form was sent too often. Wait {minutes} minutes, then try again. The "
            "portal was not tried.",
        ),
        "code_late_title": "The sign-in is no longer waiting",
        "code_late_body": "The sign-in that asked for this code has ended. Sign in again to get "
        "a new code.",
        # code page
        "code_title": "Enter the verification code",
        "code_email_body": "{portal} has sent a verification code to the e-mail address of this "
        "login. Enter it here to finish signing in.",
        "code_totp_body": "{portal} asks for the code from the authenticator app of this login.",
        "code_other_body": "{portal} asks for a verification code.",
        "code_label": "Verification code",
        "code_again": "The portal did not accept this code. Check it and enter it again.",
        "code_wait": plural(
            "minutes",
            one="The sign-in waits up to {minutes} minute for the code.",
            other="The sign-in waits up to {minutes} minutes for the code.",
        ),
        "code_submit": "Continue",
        # checking page
        "checking_title": "Checking your login",
        "checking_body": "The connector is signing in on {portal}. This page reloads by itself.",
        "reload": "Reload",
        # link pages
        "not_found_title": "This link is not valid",
        "not_found_body": "Check that you opened the whole link, or ask {tps} for a new one.",
        "expired_title": "This link has expired",
        "expired_body": plural(
            "minutes",
            one="Links to this form work for {minutes} minute. Ask {tps} for a new one. Nothing "
            "was changed.",
            other="Links to this form work for {minutes} minutes. Ask {tps} for a new one. "
            "Nothing was changed.",
        ),
        "used_title": "This link has already been used",
        "used_body": "The form was completed or closed. To change the login again, ask {tps} "
        "for a new link.",
        "csrf_title": "This form could not be sent",
        "csrf_body": "Your browser did not send the form's security check. Allow cookies for "
        "this site, reload the page and try again. Nothing was changed.",
        "stopped_title": "Stopped",
        "stopped_body": "You stopped here. Nothing more was changed.",
        "back_to": "Back to {tps}",
        "security_note": "This page belongs to the connector of {tps}. Your password goes only "
        "to {portal}; it is stored encrypted and never shown again.",
        "time_format": "{date} at {time} ({zone})",
    },
    "de": {
        "page_title": "Ihr {portal}-Login verbinden",
        "heading": "Ihr {portal}-Login verbinden",
        "before_you_start": "Bevor Sie beginnen",
        "login_legend": "Login für {portal}",
        "password_label": "Passwort",
        "password_hint": "Es wird nur an {portal} gesendet und verschlüsselt gespeichert. Es "
        "wird nie wieder angezeigt, auch Ihnen nicht.",
        "totp_legend": "Authenticator-App (optional)",
        "totp_label": "Authenticator-Schlüssel",
        "totp_hint": "Nur wenn dieses Login einen Code aus einer Authenticator-App verlangt: der "
        "geheime Schlüssel (Buchstaben A bis Z und Ziffern 2 bis 7), der beim Einrichten der App "
        "angezeigt wurde. Damit meldet sich der Connector an, ohne Sie nach Codes zu fragen. "
        "Sonst leer lassen.",
        "submit": "Prüfen und speichern",
        "give_up": "Abbrechen",
        "give_up_hint": "Beendet den Vorgang, ohne weiter etwas zu ändern.",
        "check_again": "Erneut prüfen",
        "check_again_hint": "Wenn Sie die Rechte des Logins auf {portal} geändert haben, prüfen "
        "Sie es erneut, ohne das Passwort einzugeben.",
        "other_login": "Ein anderes Login eingeben",
        "problem": "Es gibt ein Problem",
        "notice": "Bitte beachten",
        "username_required": "Geben Sie den Benutzernamen ein.",
        "username_invalid": "Der Benutzername ist zu lang oder enthält unzulässige Zeichen.",
        "password_required": "Geben Sie das Passwort ein.",
        "password_invalid": "Das Passwort ist zu lang oder enthält ein unzulässiges Zeichen.",
        "totp_invalid": "Der Authenticator-Schlüssel muss der Schlüssel sein, den das Portal "
        "angezeigt hat: Buchstaben A bis Z und Ziffern 2 bis 7, mindestens 16 Zeichen.",
        "code_required": "Geben Sie den Code ein.",
        "code_invalid": "Der Code besteht nur aus Ziffern (meist 6).",
        "connected_title": "Verbunden",
        "connected_body": "Das Login funktioniert. Der Connector beginnt jetzt, Ihre Fälle zu "
        "lesen.",
        "connected_cases": "Fälle, die dieses Login sehen kann: {count}",
        "connected_cases_capped": "Fälle, die dieses Login sehen kann: mehr als {count}",
        "limited_title": "Noch ein Hinweis",
        "close_page": "Sie können diese Seite schließen.",
        "wrong_password_title": "Das Portal hat dieses Login nicht akzeptiert",
        "wrong_password_body": "{portal} hat den Benutzernamen oder das Passwort abgelehnt. Der "
        "Connector hat es nicht noch einmal versucht. Prüfen Sie beides und geben Sie es erneut "
        "ein.",
        "password_expired_title": "Das Passwort ist abgelaufen",
        "password_expired_body": "Laut {portal} ist das Passwort dieses Logins abgelaufen. "
        "Melden Sie sich auf {portal} an, vergeben Sie ein neues Passwort und geben Sie das neue "
        "Passwort dann hier ein.",
        "locked_title": "Das Portal hat dieses Login gesperrt",
        "locked_body": "{portal} hat dieses Login bis {time} gesperrt. Der Connector versucht es "
        "vorher nicht. Danach können Sie das Login erneut eingeben.",
        "budget_title": "Nicht versucht: Der Connector versucht dieses Login nicht mehr",
        "budget_body": "{portal} sperrt ein Login nach 3 fehlgeschlagenen Anmeldungen in Folge. "
        "Seit der letzten erfolgreichen Anmeldung ist dieses Login {failures}-mal fehlgeschlagen; "
        "deshalb versucht der Connector es nicht mehr, bis Sie sich selbst auf {portal} angemeldet "
        "haben (das setzt den Zähler zurück). Melden Sie sich dort an, setzen Sie dann unten das "
        "Häkchen und geben Sie das Login erneut ein.",
        "confirm_label": "Ich habe mich soeben selbst mit diesem Login auf {portal} angemeldet",
        "confirm_hint": "Nur ankreuzen, wenn die Anmeldung auf {portal} gerade geklappt hat.",
        "credentials_rejected_title": "Nicht versucht: Dieses Passwort wurde bereits abgelehnt",
        "credentials_rejected_body": "{portal} hat dieses Passwort früher abgelehnt (oder die "
        "Antwort auf den ersten Versuch ging verloren); der Connector sendet es daher nie wieder. "
        "Geben Sie das Login erneut ein.",
        "excess_title": "Dieses Login hat mehr Rechte als nötig",
        "excess_body": "Das Login funktioniert, darf aber mehr, als Ihr Planungsdienst dürfen "
        "sollte. Fälle werden gelesen, aber an {portal} wird nichts gesendet, bis das behoben "
        "ist.",
        "insufficient_title": "Dieses Login kann keine Fälle sehen",
        "insufficient_body": "Das Login funktioniert, hat aber nicht die nötigen Rechte.",
        "code_needed_title": "Kein Bestätigungscode rechtzeitig erhalten",
        "code_needed_body": "Die Anmeldung hat auf den Bestätigungscode gewartet und "
        "aufgegeben. Melden Sie sich erneut an, um einen neuen Code zu erhalten.",
        "code_refused_title": "Das Portal hat den Code nicht akzeptiert",
        "code_refused_body": "{portal} hat den Bestätigungscode abgelehnt. Ein falscher Code "
        "zählt zur Sperre des Portals, deshalb wurde es nicht noch einmal versucht. Melden Sie "
        "sich erneut an, um einen neuen Code zu erhalten.",
        "unavailable_title": "Das Portal antwortet nicht",
        "unavailable_body": "{portal} antwortet gerade nicht richtig. Ihr Login wurde "
        "gespeichert und wird automatisch erneut geprüft. Sie können es auch in ein paar "
        "Minuten noch einmal versuchen.",
        "portal_changed_title": "Die Seiten des Portals haben sich geändert",
        "portal_changed_body": "Der Connector konnte die Seiten von {portal} nicht lesen. Ihr "
        "Login wurde gespeichert; der Connector braucht ein Update, und {tps} wurde "
        "benachrichtigt.",
        "busy_title": "Gerade beschäftigt",
        "busy_body": "Dieses Login wird gerade gelesen. Versuchen Sie es in einer Minute erneut.",
        "conflict_title": "Dieses Login gehört zu einer anderen Praxis",
        "conflict_body": "Dieses Login ist bereits für eine andere Praxis verbunden. Bitten Sie "
        "{tps} um den Link dieser Praxis.",
        "error_title": "Etwas ist schiefgegangen",
        "error_body": "Das Login konnte wegen eines Fehlers auf unserer Seite nicht geprüft "
        "werden. Nichts wurde doppelt versucht. Versuchen Sie es später erneut.",
        "rate_limited_title": "Zu viele Versuche",
        "rate_limited_body": plural(
            "minutes",
            one="Dieses Formular wurde zu oft gesendet. Warten Sie {minutes} Minute und "
            "versuchen Sie es dann erneut. Das Portal wurde nicht versucht.",
            other="Dieses Formular wurde zu oft gesendet. Warten Sie {minutes} Minuten und "
            "versuchen Sie es dann erneut. Das Portal wurde nicht versucht.",
        ),
        "code_late_title": "Die Anmeldung wartet nicht mehr",
        "code_late_body": "Die Anmeldung, die diesen Code verlangt hat, ist beendet. Melden Sie "
        "sich erneut an, um einen neuen Code zu erhalten.",
        "code_title": "Bestätigungscode eingeben",
        "code_email_body": "{portal} hat einen Bestätigungscode an die E-Mail-Adresse dieses "
        "Logins gesendet. Geben Sie ihn hier ein, um die Anmeldung abzuschließen.",
        "code_totp_body": "{portal} verlangt den Code aus der Authenticator-App dieses Logins.",
        "code_other_body": "{portal} verlangt einen Bestätigungscode.",
        "code_label": "Bestätigungscode",
        "code_again": "Das Portal hat diesen Code nicht akzeptiert. Prüfen Sie ihn und geben Sie "
        "ihn erneut ein.",
        "code_wait": plural(
            "minutes",
            one="Die Anmeldung wartet bis zu {minutes} Minute auf den Code.",
            other="Die Anmeldung wartet bis zu {minutes} Minuten auf den Code.",
        ),
        "code_submit": "Weiter",
        "checking_title": "Ihr Login wird geprüft",
        "checking_body": "Der Connector meldet sich bei {portal} an. Diese Seite lädt sich "
        "selbst neu.",
        "reload": "Neu laden",
        "not_found_title": "Dieser Link ist ungültig",
        "not_found_body": "Prüfen Sie, ob Sie den ganzen Link geöffnet haben, oder bitten Sie "
        "{tps} um einen neuen.",
        "expired_title": "Dieser Link ist abgelaufen",
        "expired_body": plural(
            "minutes",
            one="Links zu diesem Formular gelten {minutes} Minute. Bitten Sie {tps} um einen "
            "neuen. Es wurde nichts geändert.",
            other="Links zu diesem Formular gelten {minutes} Minuten. Bitten Sie {tps} um einen "
            "neuen. Es wurde nichts geändert.",
        ),
        "used_title": "Dieser Link wurde bereits verwendet",
        "used_body": "Das Formular wurde abgeschlossen oder beendet. Um das Login erneut zu "
        "ändern, bitten Sie {tps} um einen neuen Link.",
        "csrf_title": "Dieses Formular konnte nicht gesendet werden",
        "csrf_body": "Ihr Browser hat die Sicherheitsprüfung des Formulars nicht mitgesendet. "
        "Erlauben Sie Cookies für diese Seite, laden Sie sie neu und versuchen Sie es erneut. Es "
        "wurde nichts geändert.",
        "stopped_title": "Abgebrochen",
        "stopped_body": "Sie haben hier abgebrochen. Es wurde nichts weiter geändert.",
        "back_to": "Zurück zu {tps}",
        "security_note": "Diese Seite gehört zum Connector von {tps}. Ihr Passwort geht nur an "
        "{portal}; es wird verschlüsselt gespeichert und nie wieder angezeigt.",
        "time_format": "{date} um {time} ({zone})",
    },
    "pl": {
        "page_title": "Połącz swój login {portal}",
        "heading": "Połącz swój login {portal}",
        "before_you_start": "Zanim zaczniesz",
        "login_legend": "Login do {portal}",
        "password_label": "Hasło",
        "password_hint": "Jest wysyłane tylko do {portal} i przechowywane w postaci "
        "zaszyfrowanej. Nigdy nie zostanie ponownie wyświetlone, nawet Tobie.",
        "totp_legend": "Aplikacja uwierzytelniająca (opcjonalnie)",
        "totp_label": "Klucz aplikacji uwierzytelniającej",
        "totp_hint": "Tylko jeśli ten login prosi o kod z aplikacji uwierzytelniającej: tajny "
        "klucz (litery od A do Z i cyfry od 2 do 7) pokazany podczas konfiguracji aplikacji. "
        "Dzięki niemu konektor loguje się bez proszenia Cię o kody. W przeciwnym razie zostaw "
        "puste.",
        "submit": "Sprawdź i zapisz",
        "give_up": "Zrezygnuj",
        "give_up_hint": "Kończy w tym miejscu i niczego więcej nie zmienia.",
        "check_again": "Sprawdź ponownie",
        "check_again_hint": "Gdy zmienisz uprawnienia loginu w {portal}, sprawdź go ponownie "
        "bez wpisywania hasła.",
        "other_login": "Wpisz inny login",
        "problem": "Wystąpił problem",
        "notice": "Uwaga",
        "username_required": "Wpisz nazwę użytkownika.",
        "username_invalid": "Nazwa użytkownika jest za długa lub zawiera niedozwolone znaki.",
        "password_required": "Wpisz hasło.",
        "password_invalid": "Hasło jest za długie lub zawiera niedozwolony znak.",
        "totp_invalid": "Klucz aplikacji uwierzytelniającej musi być kluczem pokazanym przez "
        "portal: litery od A do Z i cyfry od 2 do 7, co najmniej 16 znaków.",
        "code_required": "Wpisz kod.",
        "code_invalid": "Kod składa się wyłącznie z cyfr (zwykle 6).",
        "connected_title": "Połączono",
        "connected_body": "Login działa. Konektor zaczyna teraz odczytywać Twoje przypadki.",
        "connected_cases": "Liczba przypadków widocznych dla tego loginu: {count}",
        "connected_cases_capped": "Liczba przypadków widocznych dla tego loginu: ponad {count}",
        "limited_title": "Jeszcze jedna rzecz",
        "close_page": "Możesz zamknąć tę stronę.",
        "wrong_password_title": "Portal nie zaakceptował tego loginu",
        "wrong_password_body": "{portal} odrzucił nazwę użytkownika lub hasło. Konektor nie "
        "próbował ponownie. Sprawdź oba pola i wpisz je jeszcze raz.",
        "password_expired_title": "Hasło wygasło",
        "password_expired_body": "{portal} informuje, że hasło tego loginu wygasło. Zaloguj się "
        "w {portal}, ustaw nowe hasło, a następnie wpisz je tutaj.",
        "locked_title": "Portal zablokował ten login",
        "locked_body": "{portal} zablokował ten login do {time}. Konektor nie spróbuje wcześniej. "
        "Po tym czasie możesz ponownie wpisać login.",
        "budget_title": "Nie próbowano: konektor przestał próbować tego loginu",
        "budget_body": plural(
            "failures",
            one="{portal} blokuje login po 3 nieudanych logowaniach z rzędu. Od ostatniego "
            "udanego logowania ten login zawiódł raz, a konektor zachowuje margines: nie spróbuje "
            "ponownie, dopóki nie zalogujesz się w {portal} samodzielnie (to zeruje licznik). "
            "Zaloguj się tam, zaznacz pole poniżej i wpisz login ponownie.",
            other="{portal} blokuje login po 3 nieudanych logowaniach z rzędu. Od ostatniego "
            "udanego logowania ten login zawiódł {failures} razy, dlatego konektor nie spróbuje "
            "ponownie, dopóki nie zalogujesz się w {portal} samodzielnie (to zeruje licznik). "
            "Zaloguj się tam, zaznacz pole poniżej i wpisz login ponownie.",
        ),
        "confirm_label": "Właśnie udało mi się zalogować tym loginem w {portal}",
        "confirm_hint": "Zaznacz tylko wtedy, gdy logowanie w {portal} właśnie się powiodło.",
        "credentials_rejected_title": "Nie próbowano: to hasło zostało już odrzucone",
        "credentials_rejected_body": "{portal} odrzucił wcześniej to hasło (lub odpowiedź na "
        "pierwszą próbę zaginęła), więc konektor nigdy nie wyśle go ponownie. Wpisz login "
        "ponownie.",
        "excess_title": "Ten login ma więcej uprawnień, niż powinien",
        "excess_body": "Login działa, ale może więcej, niż powinien móc serwis planowania. "
        "Przypadki są odczytywane, ale nic nie jest wysyłane do {portal}, dopóki nie zostanie to "
        "poprawione.",
        "insufficient_title": "Ten login nie widzi przypadków",
        "insufficient_body": "Login działa, ale nie ma potrzebnych uprawnień.",
        "code_needed_title": "Kod weryfikacyjny nie dotarł na czas",
        "code_needed_body": "Logowanie czekało na kod weryfikacyjny i zostało przerwane. Zaloguj "
        "się ponownie, aby otrzymać nowy kod.",
        "code_refused_title": "Portal nie zaakceptował kodu",
        "code_refused_body": "{portal} odrzucił kod weryfikacyjny. Błędny kod liczy się do "
        "blokady portalu, dlatego nie próbowano ponownie. Zaloguj się ponownie, aby otrzymać "
        "nowy kod.",
        "unavailable_title": "Portal nie odpowiada",
        "unavailable_body": "{portal} nie odpowiada teraz prawidłowo. Twój login został zapisany "
        "i zostanie automatycznie sprawdzony ponownie. Możesz też spróbować za kilka minut.",
        "portal_changed_title": "Strony portalu się zmieniły",
        "portal_changed_body": "Konektor nie mógł odczytać stron {portal}. Twój login został "
        "zapisany; konektor wymaga aktualizacji, a {tps} został powiadomiony.",
        "busy_title": "Chwilowo zajęte",
        "busy_body": "Ten login jest właśnie odczytywany. Spróbuj ponownie za minutę.",
        "conflict_title": "Ten login należy do innego gabinetu",
        "conflict_body": "Ten login jest już połączony dla innego gabinetu. Poproś {tps} o link "
        "dla tego gabinetu.",
        "error_title": "Coś poszło nie tak",
        "error_body": "Nie udało się sprawdzić loginu z powodu błędu po naszej stronie. Nic nie "
        "zostało wypróbowane dwukrotnie. Spróbuj ponownie później.",
        "rate_limited_title": "Zbyt wiele prób",
        "rate_limited_body": plural(
            "minutes",
            one="Ten formularz był wysyłany zbyt często. Odczekaj {minutes} minutę i spróbuj "
            "ponownie. Portal nie był próbowany.",
            few="Ten formularz był wysyłany zbyt często. Odczekaj {minutes} minuty i spróbuj "
            "ponownie. Portal nie był próbowany.",
            other="Ten formularz był wysyłany zbyt często. Odczekaj {minutes} minut i spróbuj "
            "ponownie. Portal nie był próbowany.",
        ),
        "code_late_title": "Logowanie już nie czeka",
        "code_late_body": "Logowanie, które prosiło o ten kod, zostało zakończone. Zaloguj się "
        "ponownie, aby otrzymać nowy kod.",
        "code_title": "Wpisz kod weryfikacyjny",
        "code_email_body": "{portal} wysłał kod weryfikacyjny na adres e-mail tego loginu. Wpisz "
        "go tutaj, aby dokończyć logowanie.",
        "code_totp_body": "{portal} prosi o kod z aplikacji uwierzytelniającej tego loginu.",
        "code_other_body": "{portal} prosi o kod weryfikacyjny.",
        "code_label": "Kod weryfikacyjny",
        "code_again": "Portal nie zaakceptował tego kodu. Sprawdź go i wpisz ponownie.",
        "code_wait": plural(
            "minutes",
            one="Logowanie czeka na kod do {minutes} minuty.",
            other="Logowanie czeka na kod do {minutes} minut.",
        ),
        "code_submit": "Dalej",
        "checking_title": "Sprawdzanie loginu",
        "checking_body": "Konektor loguje się do {portal}. Ta strona odświeży się sama.",
        "reload": "Odśwież",
        "not_found_title": "Ten link jest nieprawidłowy",
        "not_found_body": "Sprawdź, czy otworzono cały link, lub poproś {tps} o nowy.",
        "expired_title": "Ten link wygasł",
        "expired_body": plural(
            "minutes",
            one="Linki do tego formularza działają przez {minutes} minutę. Poproś {tps} o nowy. "
            "Nic nie zostało zmienione.",
            few="Linki do tego formularza działają przez {minutes} minuty. Poproś {tps} o nowy. "
            "Nic nie zostało zmienione.",
            other="Linki do tego formularza działają przez {minutes} minut. Poproś {tps} o nowy. "
            "Nic nie zostało zmienione.",
        ),
        "used_title": "Ten link został już użyty",
        "used_body": "Formularz został ukończony lub zamknięty. Aby ponownie zmienić login, "
        "poproś {tps} o nowy link.",
        "csrf_title": "Nie udało się wysłać formularza",
        "csrf_body": "Przeglądarka nie wysłała zabezpieczenia formularza. Zezwól na pliki cookie "
        "dla tej strony, odśwież ją i spróbuj ponownie. Nic nie zostało zmienione.",
        "stopped_title": "Przerwano",
        "stopped_body": "Przerwano w tym miejscu. Nic więcej nie zostało zmienione.",
        "back_to": "Wróć do {tps}",
        "security_note": "Ta strona należy do konektora {tps}. Twoje hasło trafia wyłącznie do "
        "{portal}; jest przechowywane w postaci zaszyfrowanej i nigdy nie zostanie ponownie "
        "wyświetlone.",
        "time_format": "{date}, godz. {time} ({zone})",
    },
}


def normalize_locale(value: str | None) -> str | None:
    """The supported language a locale tag names (`de-DE` -> `de`), or None."""
    if value is None:
        return None
    tag = value.strip()
    if not _TAG.match(tag):
        return None
    primary = tag.replace("_", "-").split("-", 1)[0].lower()
    return primary if primary in LANGUAGES else None


def parse_accept_language(header: str | None) -> list[str]:
    """Supported languages in the browser's order of preference (q-values honoured)."""
    if not header:
        return []
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate(header[:1000].split(",")[:32]):
        pieces = part.strip().split(";")
        language = normalize_locale(pieces[0])
        if language is None:
            continue
        quality = 1.0
        for parameter in pieces[1:]:
            name, _, raw = parameter.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(raw)
                except ValueError:
                    quality = 0.0
        if not 0 < quality <= 1:
            continue
        ranked.append((-quality, index, language))
    ordered: list[str] = []
    for _, _, language in sorted(ranked):
        if language not in ordered:
            ordered.append(language)
    return ordered


def negotiate(session_locale: str | None, accept_language: str | None) -> str:
    """The session's language, else the browser's best supported one, else English."""
    chosen = normalize_locale(session_locale)
    if chosen is not None:
        return chosen
    preferred = parse_accept_language(accept_language)
    return preferred[0] if preferred else DEFAULT_LANGUAGE


class _Values(dict[str, object]):
    """A value a page did not supply shows as an ellipsis rather than failing the page."""

    def __missing__(self, key: str) -> str:
        return "…"


@dataclass(frozen=True)
class Texts:
    """One language's texts with the names every page needs filled in."""

    language: str
    values: Mapping[str, str]
    zone: ZoneInfo = _UTC

    @classmethod
    def of(cls, language: str, zone: str | None = None, **values: str) -> Texts:
        language = language if language in CATALOG else DEFAULT_LANGUAGE
        return cls(language, values, ZoneInfo(zone or DEFAULT_ZONES[language]))

    def __call__(self, key: str, **values: object) -> str:
        template = CATALOG[self.language].get(key) or CATALOG[DEFAULT_LANGUAGE][key]
        merged = _Values({**self.values, **values})
        if isinstance(template, Plural):
            template = template.pick(self.language, merged)
        return template.format_map(merged)

    def moment(self, value: datetime) -> str:
        """A time as the dentist reads it: their language's words, their time zone."""
        local = value.astimezone(self.zone)
        return self(
            "time_format",
            date=format_date(local, "long", locale=self.language),
            time=format_time(local, "short", locale=self.language),
            zone=self.zone.key,
        )
