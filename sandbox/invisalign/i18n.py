"""The site's words in English, German, Polish and Korean, keyed by their fact id in the facts
register (`docs/portal-facts/invisalign.md`), so a test can hold every word the sandbox shows
against the register.

Which language a page speaks: the login's profile language when it has one, else the browser's
`Accept-Language`, else English (`<html lang>` says which). Polish menus and roles are the
seed's own words (the staff-account guide copied from IDS screenshots); words no source gives in
a language are the register's assumed ones.

Templates mark their numbers with a standalone `N` (and `M`), exactly as the register writes
them ("Page N of M"); `text()` fills them in.
"""

from __future__ import annotations

import re

from sandbox.invisalign import data

LANGUAGES: tuple[str, ...] = ("en", "de", "pl", "ko")
DEFAULT_LANGUAGE = "en"

TEXTS: dict[str, dict[str, str]] = {
    # Hosted login ------------------------------------------------------------------------------
    "ids.login.title": {
        "en": "Invisalign Doctor Site Login",
        "de": "Invisalign Doctor Site Anmeldung",
        "pl": "Logowanie – Invisalign Doctor Site",
        "ko": "Invisalign Doctor Site 로그인",
    },
    "ids.login.heading": {"en": "Welcome", "de": "Willkommen", "pl": "Witamy", "ko": "환영합니다"},
    "ids.login.intro": {
        "en": "Log in to Invisalign Doctor Site to continue.",
        "de": "Melden Sie sich bei der Invisalign Doctor Site an, um fortzufahren.",
        "pl": "Zaloguj się do Invisalign Doctor Site, aby kontynuować.",
        "ko": "계속하려면 Invisalign Doctor Site에 로그인하세요.",
    },
    "ids.login.username-label": {
        "en": "Email address",
        "de": "E-Mail-Adresse",
        "pl": "Adres e-mail",
        "ko": "이메일 주소",
    },
    "ids.login.password-label": {
        "en": "Password",
        "de": "Passwort",
        "pl": "Hasło",
        "ko": "비밀번호",
    },
    "ids.login.remember-label": {
        "en": "Keep me signed in",
        "de": "Angemeldet bleiben",
        "pl": "Nie wylogowuj mnie",
        "ko": "로그인 상태 유지",
    },
    "ids.login.submit-label": {
        "en": "Log in",
        "de": "Anmelden",
        "pl": "Zaloguj się",
        "ko": "로그인",
    },
    "ids.login.continue-label": {"en": "Continue", "de": "Weiter", "pl": "Dalej", "ko": "계속"},
    "ids.login.msg.wrong-credentials": {
        "en": "Wrong email or password.",
        "de": "Falsche E-Mail-Adresse oder falsches Passwort.",
        "pl": "Nieprawidłowy adres e-mail lub hasło.",
        "ko": "이메일 또는 비밀번호가 잘못되었습니다.",
    },
    "ids.login.msg.user-blocked": {
        "en": "Your account has been blocked after multiple consecutive login attempts. We've "
        "sent you an email with instructions on how to unblock it.",
        "de": "Ihr Konto wurde nach mehreren aufeinanderfolgenden Anmeldeversuchen gesperrt. "
        "Wir haben Ihnen eine E-Mail mit Anweisungen zum Entsperren gesendet.",
        "pl": "Twoje konto zostało zablokowane po wielu kolejnych próbach logowania. Wysłaliśmy "
        "Ci e-mail z instrukcjami, jak je odblokować.",
        "ko": "여러 번 연속으로 로그인에 실패하여 계정이 차단되었습니다. 차단 해제 방법을 "
        "이메일로 보내 드렸습니다.",
    },
    "ids.login.msg.invalid-code": {
        "en": "The code you entered is invalid.",
        "de": "Der eingegebene Code ist ungültig.",
        "pl": "Wprowadzony kod jest nieprawidłowy.",
        "ko": "입력한 코드가 올바르지 않습니다.",
    },
    "ids.login.msg.javascript-required": {
        "en": "Something went wrong: JavaScript is required to log in. Please enable JavaScript "
        "in your browser and try again.",
        "de": "Etwas ist schiefgelaufen: Für die Anmeldung ist JavaScript erforderlich. Bitte "
        "aktivieren Sie JavaScript in Ihrem Browser und versuchen Sie es erneut.",
        "pl": "Coś poszło nie tak: do zalogowania wymagany jest JavaScript. Włącz JavaScript w "
        "przeglądarce i spróbuj ponownie.",
        "ko": "문제가 발생했습니다. 로그인하려면 JavaScript가 필요합니다. 브라우저에서 "
        "JavaScript를 사용하도록 설정한 후 다시 시도하세요.",
    },
    "ids.login.msg.missing-fields": {
        "en": "Enter your email and password.",
        "de": "Geben Sie Ihre E-Mail-Adresse und Ihr Passwort ein.",
        "pl": "Wpisz adres e-mail i hasło.",
        "ko": "이메일과 비밀번호를 입력하세요.",
    },
    "ids.login.msg.password-expired": {
        "en": "Your password has expired. Please create a new password to continue.",
        "de": "Ihr Passwort ist abgelaufen. Bitte legen Sie ein neues Passwort fest, um "
        "fortzufahren.",
        "pl": "Twoje hasło wygasło. Utwórz nowe hasło, aby kontynuować.",
        "ko": "비밀번호가 만료되었습니다. 계속하려면 새 비밀번호를 만드세요.",
    },
    "ids.login.msg.email-code": {
        "en": "We've sent an email with your code to",
        "de": "Wir haben Ihnen eine E-Mail mit Ihrem Code gesendet an",
        "pl": "Wysłaliśmy e-mail z kodem na adres",
        "ko": "다음 주소로 코드가 포함된 이메일을 보냈습니다:",
    },
    "ids.login.msg.totp": {
        "en": "Check your preferred one-time password application for a code.",
        "de": "Suchen Sie den Code in Ihrer App für Einmalpasswörter.",
        "pl": "Sprawdź kod w swojej aplikacji do haseł jednorazowych.",
        "ko": "사용하는 일회용 비밀번호 앱에서 코드를 확인하세요.",
    },
    "ids.login.msg.change-password": {
        "en": "Change Your Password",
        "de": "Passwort ändern",
        "pl": "Zmień hasło",
        "ko": "비밀번호 변경",
    },
    "ids.login.verify-heading": {
        "en": "Verify Your Identity",
        "de": "Bestätigen Sie Ihre Identität",
        "pl": "Potwierdź swoją tożsamość",
        "ko": "본인 확인",
    },
    "ids.login.code-label-email": {
        "en": "Enter the code",
        "de": "Code eingeben",
        "pl": "Wpisz kod",
        "ko": "코드 입력",
    },
    "ids.login.code-label-totp": {
        "en": "Enter your one-time code",
        "de": "Einmalcode eingeben",
        "pl": "Wpisz kod jednorazowy",
        "ko": "일회용 코드 입력",
    },
    "ids.login.new-password-label": {
        "en": "New password",
        "de": "Neues Passwort",
        "pl": "Nowe hasło",
        "ko": "새 비밀번호",
    },
    "ids.login.confirm-password-label": {
        "en": "Re-enter new password",
        "de": "Neues Passwort wiederholen",
        "pl": "Powtórz nowe hasło",
        "ko": "새 비밀번호 다시 입력",
    },
    "ids.login.change-password-button": {
        "en": "Change password",
        "de": "Passwort speichern",
        "pl": "Zmień hasło",
        "ko": "비밀번호 변경하기",
    },
    "ids.login.password-rule": {
        "en": "At least 12 characters, with letters and numbers.",
        "de": "Mindestens 12 Zeichen, mit Buchstaben und Ziffern.",
        "pl": "Co najmniej 12 znaków, w tym litery i cyfry.",
        "ko": "문자와 숫자를 포함하여 12자 이상이어야 합니다.",
    },
    "ids.login.msg.policy-mismatch": {
        "en": "The passwords do not match.",
        "de": "Die Passwörter stimmen nicht überein.",
        "pl": "Hasła nie są identyczne.",
        "ko": "비밀번호가 일치하지 않습니다.",
    },
    "ids.login.msg.policy-weak": {
        "en": "Your password must have at least 12 characters, with letters and numbers.",
        "de": "Ihr Passwort muss mindestens 12 Zeichen haben, mit Buchstaben und Ziffern.",
        "pl": "Hasło musi mieć co najmniej 12 znaków, w tym litery i cyfry.",
        "ko": "비밀번호는 문자와 숫자를 포함하여 12자 이상이어야 합니다.",
    },
    "ids.login.msg.policy-long": {
        "en": "Your password must have at most 128 characters.",
        "de": "Ihr Passwort darf höchstens 128 Zeichen haben.",
        "pl": "Hasło może mieć najwyżej 128 znaków.",
        "ko": "비밀번호는 128자 이하여야 합니다.",
    },
    "ids.login.msg.policy-reused": {
        "en": "Your new password must be different from your current password.",
        "de": "Ihr neues Passwort muss sich von Ihrem aktuellen Passwort unterscheiden.",
        "pl": "Nowe hasło musi różnić się od obecnego.",
        "ko": "새 비밀번호는 현재 비밀번호와 달라야 합니다.",
    },
    "ids.login.msg.too-many-title": {
        "en": "Too many attempts",
        "de": "Zu viele Versuche",
        "pl": "Zbyt wiele prób",
        "ko": "시도 횟수 초과",
    },
    "ids.login.msg.too-many-codes": {
        "en": "Too many wrong codes. Log in again.",
        "de": "Zu viele falsche Codes. Melden Sie sich erneut an.",
        "pl": "Zbyt wiele błędnych kodów. Zaloguj się ponownie.",
        "ko": "잘못된 코드를 너무 많이 입력했습니다. 다시 로그인하세요.",
    },
    "ids.login.msg.invalid-state": {
        "en": "Your login session is no longer valid. Go back to the application and log in again.",
        "de": "Ihre Anmeldesitzung ist nicht mehr gültig. Kehren Sie zur Anwendung zurück und "
        "melden Sie sich erneut an.",
        "pl": "Sesja logowania jest już nieważna. Wróć do aplikacji i zaloguj się ponownie.",
        "ko": "로그인 세션이 더 이상 유효하지 않습니다. 애플리케이션으로 돌아가 다시 로그인하세요.",
    },
    # The app's frame -----------------------------------------------------------------------------
    "ids.brand": {
        "en": "Invisalign Doctor Site",
        "de": "Invisalign Doctor Site",
        "pl": "strona dla lekarzy Invisalign",
        "ko": "Invisalign Doctor Site",
    },
    "ids.menu.patients": {"en": "Patients", "de": "Patienten", "pl": "Pacjenci", "ko": "환자"},
    "ids.menu.clinical-actions": {
        "en": "Clinical Actions",
        "de": "Klinische Maßnahmen",
        "pl": "Działania kliniczne",
        "ko": "임상 작업",
    },
    "ids.menu.account": {"en": "Account", "de": "Konto", "pl": "Konto", "ko": "계정"},
    "ids.menu.store": {
        "en": "Store",
        "de": "Online-Shop",
        "pl": "Sklep internetowy",
        "ko": "스토어",
    },
    "ids.menu.education": {"en": "Academy", "de": "Fortbildung", "pl": "Edukacja", "ko": "교육"},
    "ids.menu.support": {"en": "Support", "de": "Support", "pl": "Wsparcie", "ko": "지원"},
    "ids.account.summary": {
        "en": "Summary",
        "de": "Übersicht",
        "pl": "Podsumowanie",
        "ko": "요약",
    },
    "ids.account.payments": {"en": "Payments", "de": "Zahlungen", "pl": "Płatności", "ko": "결제"},
    "ids.account.doctor-profile": {
        "en": "Doctor Profile",
        "de": "Arztprofil",
        "pl": "Profil lekarza",
        "ko": "의사 프로필",
    },
    "ids.account.advantage": {
        "en": "Advantage",
        "de": "Advantage",
        "pl": "Advantage",
        "ko": "Advantage",
    },
    "ids.account.staff": {"en": "Staff", "de": "Mitarbeiter", "pl": "Personel", "ko": "직원"},
    "ids.profile.label.logout": {
        "en": "Log out",
        "de": "Abmelden",
        "pl": "Wyloguj się",
        "ko": "로그아웃",
    },
    # Patient list --------------------------------------------------------------------------------
    "ids.list.title": {"en": "Patients", "de": "Patienten", "pl": "Pacjenci", "ko": "환자"},
    "ids.list.filter-label": {"en": "Filter", "de": "Filter", "pl": "Filtr", "ko": "필터"},
    "ids.list.filter-count": {"en": "1 Filter", "de": "1 Filter", "pl": "1 filtr", "ko": "1 필터"},
    "ids.list.filter-label-action": {
        "en": "Action required",
        "de": "Handlungsbedarf",
        "pl": "Wymagane działanie",
        "ko": "조치 요구됨",
    },
    "ids.list.label.all": {
        "en": "All patients",
        "de": "Alle Patienten",
        "pl": "Wszyscy pacjenci",
        "ko": "모든 환자",
    },
    "ids.list.search-label": {"en": "Search", "de": "Suchen", "pl": "Szukaj", "ko": "검색"},
    "ids.list.label.count": {
        "en": "N patients",
        "de": "N Patienten",
        "pl": "Pacjenci: N",
        "ko": "환자 N명",
    },
    "ids.list.empty-message": {
        "en": "No matching patients",
        "de": "Keine passenden Patienten gefunden",
        "pl": "Nie znaleziono pasujących pacjentów",
        "ko": "일치하는 환자를 찾을 수 없습니다",
    },
    "ids.list.empty-hint": {
        "en": "Try changing your search or filters.",
        "de": "Ändern Sie die Suche oder die Filter.",
        "pl": "Zmień wyszukiwanie lub filtry.",
        "ko": "검색 또는 필터를 수정",
    },
    "ids.list.label.previous": {
        "en": "Previous",
        "de": "Zurück",
        "pl": "Poprzednia",
        "ko": "이전",
    },
    "ids.list.label.next": {"en": "Next", "de": "Weiter", "pl": "Następna", "ko": "다음"},
    "ids.list.page-info-label": {
        "en": "Page N of M",
        "de": "Seite N von M",
        "pl": "Strona N z M",
        "ko": "N / M 페이지",
    },
    "ids.list.unread-label": {
        "en": "N unread",
        "de": "N ungelesen",
        "pl": "N nieprzeczytane",
        "ko": "읽지 않음 N",
    },
    "ids.list.label.last-activity": {
        "en": "Last activity",
        "de": "Letzte Aktivität",
        "pl": "Ostatnia aktywność",
        "ko": "최근 활동",
    },
    "ids.list.label.loading": {
        "en": "Loading...",
        "de": "Wird geladen...",
        "pl": "Ładowanie...",
        "ko": "로드 중...",
    },
    "ids.list.label.no-access": {
        "en": "You do not have access to patient information. Ask the doctor to add the Patient "
        "management, Prescription management or Treatment management role to your staff "
        "account.",
        "de": "Sie haben keinen Zugriff auf Patientendaten. Bitten Sie den Arzt, Ihrem "
        "Mitarbeiterkonto die Rolle Patientenverwaltung, Verschreibungsverwaltung oder "
        "Behandlungsverwaltung zuzuweisen.",
        "pl": "Nie masz dostępu do danych pacjentów. Poproś lekarza o dodanie do Twojego konta "
        "roli Zarządzanie pacjentami, Zarządzanie preskrypcjami lub Zarządzanie leczeniem.",
        "ko": "환자 정보에 접근할 수 없습니다. 의사에게 직원 계정에 환자 관리, 처방 관리 또는 "
        "치료 관리 역할을 추가해 달라고 요청하세요.",
    },
    "ids.list.label.error": {
        "en": "We could not load this page. Please try again.",
        "de": "Diese Seite konnte nicht geladen werden. Bitte versuchen Sie es erneut.",
        "pl": "Nie udało się załadować tej strony. Spróbuj ponownie.",
        "ko": "페이지를 불러오지 못했습니다. 다시 시도하세요.",
    },
    "ids.list.label.try-again": {
        "en": "Try again",
        "de": "Erneut versuchen",
        "pl": "Spróbuj ponownie",
        "ko": "다시 시도",
    },
    "ids.list.classic-col.patient": {
        "en": "Patient",
        "de": "Patient",
        "pl": "Pacjent",
        "ko": "환자",
    },
    "ids.list.classic-col.treatment": {
        "en": "Treatment",
        "de": "Behandlung",
        "pl": "Leczenie",
        "ko": "치료",
    },
    "ids.list.classic-col.clinical-status": {
        "en": "Clinical status",
        "de": "Klinischer Status",
        "pl": "Status kliniczny",
        "ko": "임상 상태",
    },
    "ids.list.classic-col.memo": {"en": "Notes", "de": "Notizen", "pl": "Notatki", "ko": "메모"},
    "ids.list.classic-col.order-status": {
        "en": "Order status",
        "de": "Bestellstatus",
        "pl": "Status zamówienia",
        "ko": "주문 상태",
    },
    "ids.list.classic-col.office": {
        "en": "Office",
        "de": "Praxis",
        "pl": "Gabinet",
        "ko": "사무소",
    },
    "ids.list.condition.crowding": {
        "en": "Crowding",
        "de": "Engstand",
        "pl": "Stłoczenie",
        "ko": "총생",
    },
    "ids.list.condition.spacing": {"en": "Spacing", "de": "Lücken", "pl": "Szpary", "ko": "공극"},
    "ids.list.condition.deep-bite": {
        "en": "Deep bite",
        "de": "Tiefbiss",
        "pl": "Zgryz głęboki",
        "ko": "과개교합",
    },
    "ids.list.condition.open-bite": {
        "en": "Open bite",
        "de": "Offener Biss",
        "pl": "Zgryz otwarty",
        "ko": "개방교합",
    },
    # Patient file ------------------------------------------------------------------------------
    "ids.case.title": {
        "en": "Patient file",
        "de": "Patientenakte",
        "pl": "Karta pacjenta",
        "ko": "환자 파일",
    },
    "ids.case.open-clincheck": {
        "en": "Open ClinCheck",
        "de": "ClinCheck öffnen",
        "pl": "Otwórz ClinCheck",
        "ko": "ClinCheck 열기",
    },
    "ids.case.label.history": {
        "en": "Status history",
        "de": "Statusverlauf",
        "pl": "Historia statusów",
        "ko": "상태 기록",
    },
    "ids.plan.label.section": {
        "en": "ClinCheck treatment plans",
        "de": "ClinCheck-Behandlungspläne",
        "pl": "Plany leczenia ClinCheck",
        "ko": "ClinCheck 치료 계획",
    },
    "ids.plan.label.none": {
        "en": "No ClinCheck plan yet.",
        "de": "Noch kein ClinCheck-Plan.",
        "pl": "Brak planu ClinCheck.",
        "ko": "아직 ClinCheck 계획이 없습니다.",
    },
    "ids.plan.label.version": {
        "en": "ClinCheck plan version N",
        "de": "ClinCheck-Plan Version N",
        "pl": "Plan ClinCheck, wersja N",
        "ko": "ClinCheck 계획 버전 N",
    },
    "ids.plan.label.created": {
        "en": "created",
        "de": "erstellt",
        "pl": "utworzono",
        "ko": "생성",
    },
    "ids.comment.label.section": {
        "en": "Comments",
        "de": "Kommentare",
        "pl": "Komentarze",
        "ko": "댓글",
    },
    "ids.comment.label.modification": {
        "en": "Modification request for ClinCheck plan",
        "de": "Änderungsanfrage zum ClinCheck-Plan",
        "pl": "Prośba o modyfikację planu ClinCheck",
        "ko": "ClinCheck 계획 수정 요청",
    },
    "ids.comment.role-label.doctor": {"en": "Doctor", "de": "Arzt", "pl": "Lekarz", "ko": "의사"},
    "ids.comment.role-label.staff": {
        "en": "Staff",
        "de": "Mitarbeiter",
        "pl": "Personel",
        "ko": "직원",
    },
    "ids.comment.role-label.technician": {
        "en": "ClinCheck technician",
        "de": "ClinCheck-Techniker",
        "pl": "Technik ClinCheck",
        "ko": "ClinCheck 기술자",
    },
    "ids.comment.label.new": {"en": "New", "de": "Neu", "pl": "Nowy", "ko": "새 댓글"},
    "ids.comment.label.add": {
        "en": "Add a comment",
        "de": "Kommentar hinzufügen",
        "pl": "Dodaj komentarz",
        "ko": "댓글 추가",
    },
    "ids.comment.label.placeholder": {
        "en": "Add a comment for the treatment team",
        "de": "Kommentar für das Behandlungsteam",
        "pl": "Komentarz dla zespołu leczenia",
        "ko": "치료 팀에 남길 댓글",
    },
    "ids.comment.label.submit": {
        "en": "Post comment",
        "de": "Kommentar senden",
        "pl": "Opublikuj komentarz",
        "ko": "댓글 게시",
    },
    "ids.comment.label.mark-read": {
        "en": "Mark N as read",
        "de": "N als gelesen markieren",
        "pl": "Oznacz N jako przeczytane",
        "ko": "N개 읽음으로 표시",
    },
    "ids.comment.label.modification-input": {
        "en": "Modification instructions",
        "de": "Änderungsanweisungen",
        "pl": "Instrukcje modyfikacji",
        "ko": "수정 지침",
    },
    "ids.comment.label.modification-placeholder": {
        "en": "Modification instructions for the technician",
        "de": "Änderungsanweisungen für den Techniker",
        "pl": "Instrukcje modyfikacji dla technika",
        "ko": "기술자를 위한 수정 지침",
    },
    "ids.comment.label.modification-submit": {
        "en": "Request modification",
        "de": "Änderung anfordern",
        "pl": "Poproś o modyfikację",
        "ko": "수정 요청하기",
    },
    "ids.comment.label.approve": {
        "en": "Approve",
        "de": "Genehmigen",
        "pl": "Zatwierdź",
        "ko": "승인하기",
    },
    "ids.api.msg.comment-posted": {
        "en": "Your comment has been posted.",
        "de": "Ihr Kommentar wurde veröffentlicht.",
        "pl": "Komentarz został opublikowany.",
        "ko": "댓글이 게시되었습니다.",
    },
    "ids.api.msg.marked-read": {
        "en": "N comment(s) marked as read.",
        "de": "N Kommentar(e) als gelesen markiert.",
        "pl": "Oznaczono jako przeczytane: N.",
        "ko": "댓글 N개를 읽음으로 표시했습니다.",
    },
    "ids.api.msg.modification-sent": {
        "en": "Your modification request has been sent.",
        "de": "Ihre Änderungsanfrage wurde gesendet.",
        "pl": "Prośba o modyfikację została wysłana.",
        "ko": "수정 요청을 보냈습니다.",
    },
    "ids.api.msg.approved": {
        "en": "ClinCheck treatment plan approved.",
        "de": "ClinCheck-Behandlungsplan genehmigt.",
        "pl": "Plan leczenia ClinCheck został zatwierdzony.",
        "ko": "ClinCheck 치료 계획이 승인되었습니다.",
    },
    # Roles, statuses, plan states and action-required reasons ------------------------------
    "ids.plan.state.ready": {
        "en": "Ready for review",
        "de": "Bereit zur Prüfung",
        "pl": "Gotowy do przeglądu",
        "ko": "검토 준비됨",
    },
    "ids.plan.state.modification-requested": {
        "en": "Modification requested",
        "de": "Änderung angefordert",
        "pl": "Zgłoszono modyfikację",
        "ko": "수정 요청됨",
    },
    "ids.plan.state.approved": {
        "en": "Approved",
        "de": "Genehmigt",
        "pl": "Zatwierdzony",
        "ko": "승인됨",
    },
    "ids.plan.state.superseded": {
        "en": "Superseded",
        "de": "Ersetzt",
        "pl": "Zastąpiony",
        "ko": "대체됨",
    },
    "ids.role.patient-management": {
        "en": "Patient management",
        "de": "Patientenverwaltung",
        "pl": "Zarządzanie pacjentami",
        "ko": "환자 관리",
    },
    "ids.role.prescription-management": {
        "en": "Prescription management",
        "de": "Verschreibungsverwaltung",
        "pl": "Zarządzanie preskrypcjami",
        "ko": "처방 관리",
    },
    "ids.role.treatment-management": {
        "en": "Treatment management",
        "de": "Behandlungsverwaltung",
        "pl": "Zarządzanie leczeniem",
        "ko": "치료 관리",
    },
    "ids.role.payment-management": {
        "en": "Payment management",
        "de": "Zahlungsverwaltung",
        "pl": "Zarządzanie płatnościami",
        "ko": "결제 관리",
    },
    "ids.role.training": {
        "en": "Training access",
        "de": "Zugang zu Schulungen",
        "pl": "Dostęp do szkoleń",
        "ko": "교육 이용",
    },
    "ids.role.store": {
        "en": "Store purchases",
        "de": "Einkäufe im Shop",
        "pl": "Zakupy w sklepie",
        "ko": "스토어 구매",
    },
    "ids.role.prospective-patients": {
        "en": "Prospective patient management",
        "de": "Verwaltung potenzieller Patienten",
        "pl": "Zarządzanie potencjalnymi pacjentami",
        "ko": "잠재 환자 관리",
    },
    "ids.status.submitted": {
        "en": "Submitted",
        "de": "Eingereicht",
        "pl": "Przesłano",
        "ko": "제출됨",
    },
    "ids.status.clincheck-in-progress": {
        "en": "ClinCheck in progress",
        "de": "ClinCheck in Bearbeitung",
        "pl": "ClinCheck w przygotowaniu",
        "ko": "ClinCheck 진행 중",
    },
    "ids.status.clincheck-review": {
        "en": "ClinCheck ready for review",
        "de": "ClinCheck-Behandlungsplan prüfen",
        "pl": "Przegląd planu leczenia ClinCheck",
        "ko": "치료 계획 검토",
    },
    "ids.status.modification-requested": {
        "en": "Modification requested",
        "de": "Änderung angefordert",
        "pl": "Zgłoszono modyfikację",
        "ko": "수정 요청됨",
    },
    "ids.status.approved": {
        "en": "Approved",
        "de": "Genehmigt",
        "pl": "Zatwierdzono",
        "ko": "승인됨",
    },
    "ids.status.in-production": {
        "en": "In production",
        "de": "In Produktion",
        "pl": "W produkcji",
        "ko": "제작 중",
    },
    "ids.status.order-complete": {
        "en": "Order Complete",
        "de": "Bestellung abgeschlossen",
        "pl": "Zamówienie zrealizowane",
        "ko": "주문 완료",
    },
    "ids.status.shipped": {
        "en": "Shipped",
        "de": "Versandt",
        "pl": "Wysłano",
        "ko": "배송됨",
    },
    "ids.status.in-treatment": {
        "en": "In treatment",
        "de": "In Behandlung",
        "pl": "W trakcie leczenia",
        "ko": "치료 중",
    },
    "ids.status.on-hold": {
        "en": "On hold",
        "de": "Angehalten",
        "pl": "Wstrzymano",
        "ko": "보류",
    },
    "ids.status.cancelled": {
        "en": "Cancelled",
        "de": "Storniert",
        "pl": "Anulowano",
        "ko": "취소됨",
    },
    "ids.action.clincheck-review": {
        "en": "ClinCheck treatment plan review",
        "de": "Prüfung des ClinCheck-Behandlungsplans",
        "pl": "Przegląd planu leczenia ClinCheck",
        "ko": "ClinCheck 치료 계획 검토",
    },
    "ids.action.additional-info": {
        "en": "Additional information needed",
        "de": "Zusätzliche Informationen erforderlich",
        "pl": "Potrzebne dodatkowe informacje",
        "ko": "추가 정보 필요",
    },
    # Profile and error pages ---------------------------------------------------------------------
    "ids.profile.label.heading": {
        "en": "My profile",
        "de": "Mein Profil",
        "pl": "Mój profil",
        "ko": "내 프로필",
    },
    "ids.profile.label.name": {
        "en": "Name",
        "de": "Name",
        "pl": "Imię i nazwisko",
        "ko": "이름",
    },
    "ids.profile.label.username": {
        "en": "Username",
        "de": "Benutzername",
        "pl": "Nazwa użytkownika",
        "ko": "사용자 이름",
    },
    "ids.profile.label.account-type": {
        "en": "Account type",
        "de": "Kontotyp",
        "pl": "Typ konta",
        "ko": "계정 유형",
    },
    "ids.profile.label.doctor": {"en": "Doctor", "de": "Arzt", "pl": "Lekarz", "ko": "의사"},
    "ids.profile.label.roles": {"en": "Roles", "de": "Rollen", "pl": "Role", "ko": "역할"},
    "ids.profile.label.owner": {
        "en": "All (account owner)",
        "de": "Alle (Kontoinhaber)",
        "pl": "Wszystkie (właściciel konta)",
        "ko": "전체 (계정 소유자)",
    },
    "ids.role.account-type.doctor": {"en": "Doctor", "de": "Arzt", "pl": "Lekarz", "ko": "의사"},
    "ids.role.account-type.staff": {
        "en": "Staff",
        "de": "Mitarbeiter",
        "pl": "Pracownik",
        "ko": "직원",
    },
    "ids.error.not-found-title": {
        "en": "Page not found",
        "de": "Seite nicht gefunden",
        "pl": "Nie znaleziono strony",
        "ko": "페이지를 찾을 수 없음",
    },
    "ids.error.not-found": {
        "en": "The page you requested could not be found.",
        "de": "Die angeforderte Seite wurde nicht gefunden.",
        "pl": "Nie znaleziono żądanej strony.",
        "ko": "요청한 페이지를 찾을 수 없습니다.",
    },
    "ids.error.access-denied": {
        "en": "Access denied",
        "de": "Zugriff verweigert",
        "pl": "Odmowa dostępu",
        "ko": "접근 거부",
    },
    "ids.error.back": {
        "en": "Back to the Invisalign Doctor Site",
        "de": "Zurück zur Invisalign Doctor Site",
        "pl": "Powrót do Invisalign Doctor Site",
        "ko": "Invisalign Doctor Site로 돌아가기",
    },
}

# Roles, statuses, plan states and action reasons: the data's own (English) words -> fact id.
ROLE_FACTS: dict[str, str] = {
    data.PATIENT_MANAGEMENT: "ids.role.patient-management",
    data.PRESCRIPTION_MANAGEMENT: "ids.role.prescription-management",
    data.TREATMENT_MANAGEMENT: "ids.role.treatment-management",
    data.PAYMENT_MANAGEMENT: "ids.role.payment-management",
    data.TRAINING_ACCESS: "ids.role.training",
    data.STORE_PURCHASES: "ids.role.store",
    data.PROSPECTIVE_PATIENT_MANAGEMENT: "ids.role.prospective-patients",
}
STATUS_FACTS: dict[str, str] = {
    data.SUBMITTED: "ids.status.submitted",
    data.CLINCHECK_IN_PROGRESS: "ids.status.clincheck-in-progress",
    data.CLINCHECK_READY: "ids.status.clincheck-review",
    data.MODIFICATION_REQUESTED: "ids.status.modification-requested",
    data.APPROVED: "ids.status.approved",
    data.IN_PRODUCTION: "ids.status.in-production",
    data.SHIPPED: "ids.status.shipped",
    data.IN_TREATMENT: "ids.status.in-treatment",
    data.ON_HOLD: "ids.status.on-hold",
    data.CANCELLED: "ids.status.cancelled",
    data.ORDER_COMPLETE: "ids.status.order-complete",
}
PLAN_STATE_FACTS: dict[str, str] = {
    data.PLAN_READY: "ids.plan.state.ready",
    data.PLAN_MODIFICATION_REQUESTED: "ids.plan.state.modification-requested",
    data.PLAN_APPROVED: "ids.plan.state.approved",
    data.PLAN_SUPERSEDED: "ids.plan.state.superseded",
}
ACTION_FACTS: dict[str, str] = {
    data.ACTION_REASONS[data.CLINCHECK_READY]: "ids.action.clincheck-review",
    data.ACTION_REASONS[data.ON_HOLD]: "ids.action.additional-info",
}
CONDITION_FACTS: dict[str, str] = {
    "crowding": "ids.list.condition.crowding",
    "spacing": "ids.list.condition.spacing",
    "deep-bite": "ids.list.condition.deep-bite",
    "open-bite": "ids.list.condition.open-bite",
}
ROLE_LABEL_FACTS: dict[str, str] = {
    "doctor": "ids.comment.role-label.doctor",
    "staff": "ids.comment.role-label.staff",
    "technician": "ids.comment.role-label.technician",
}

# ASCII word characters only, as in the page script's JavaScript ("환자 N명" has a number too).
_NUMBER_MARK = re.compile(r"(?<![A-Za-z0-9_])([NM])(?![A-Za-z0-9_])")


def text(fact_id: str, lang: str, **numbers: int) -> str:
    """The words of `fact_id` in `lang` (English when the table lacks it), numbers filled in."""
    words = TEXTS[fact_id]
    template = words.get(lang) or words[DEFAULT_LANGUAGE]
    if not numbers:
        return template
    return _NUMBER_MARK.sub(lambda m: str(numbers.get(m.group(1), m.group(1))), template)


def word(table: dict[str, str], value: str, lang: str) -> str:
    """A data word (status, plan state, role, reason) in `lang`; unknown words stay as they are."""
    fact_id = table.get(value)
    return text(fact_id, lang) if fact_id else value


def status(value: str, lang: str) -> str:
    return word(STATUS_FACTS, value, lang)


def plan_state(value: str, lang: str) -> str:
    return word(PLAN_STATE_FACTS, value, lang)


def role(value: str, lang: str) -> str:
    return word(ROLE_FACTS, value, lang)


def reason(value: str | None, lang: str) -> str | None:
    return word(ACTION_FACTS, value, lang) if value is not None else None


def accepted_language(header: str | None) -> str | None:
    """The first language of an `Accept-Language` header the site speaks (by q-value)."""
    if not header:
        return None
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        primary = tag.strip().split("-")[0].lower()
        if primary in LANGUAGES and quality > 0:
            ranked.append((-quality, index, primary))
    return min(ranked)[2] if ranked else None


def choose(profile_language: str | None, accept_language: str | None) -> str:
    """The login's profile language, else the browser's, else English."""
    if profile_language in LANGUAGES:
        return profile_language
    return accepted_language(accept_language) or DEFAULT_LANGUAGE
