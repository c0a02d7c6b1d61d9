"""What the Invisalign Doctor Site looks like: hosts, URLs, cookies, selectors, URL parameters,
JSON field names and words in every language the site speaks, each declared by its fact id in
the facts register (`docs/portal-facts/invisalign.md`).

This is the only module that knows the portal's markup and wire format, so checking the adapter
against the live site touches one file (woob's `pages.py`); the parsers that use these names
live in `pages` (the pages a person sees) and `fastpath` (the JSON the pages might load). A test
holds every value declared here against the register, so nothing here is made up: where the
register says `assumed`, so does the comment, and data the sync needs from an assumed fact is
read by a reader that `portal check` reports as unverified (`UNVERIFIED`).
"""

from __future__ import annotations

from urllib.parse import quote, urlencode

from adapters.base.facts import Facts

FACTS = Facts("invisalign")
_value = FACTS.value
_label = FACTS.label

LANGUAGES = ("en", "de", "pl", "ko")

# Hosts and sign-in ------------------------------------------------------------------------------

APP_HOST = _value("ids.host.app", "vip.invisalign.com")
#: The Align account login (Auth0 Universal Login): the only hosts a password is typed on.
LOGIN_HOSTS = (_value("ids.host.login", "myaccount-us.aligntech.com"),)
#: The local sandbox's login host, beside a loopback app (assumed: the sandbox's own stand-in).
SANDBOX_LOGIN_HOST = _value("ids.host.sandbox-login", "127.0.0.2")

ENTRY_PAGE = _value("ids.login.entry", "/v3/auth/patients.action")
LOGIN_PATH = _value("ids.login.path", "/u/login")
USERNAME_FIELD = _value("ids.login.username-field", 'input[name="username"]')
PASSWORD_FIELD = _value("ids.login.password-field", 'input[name="password"]')
SUBMIT_BUTTON = _value("ids.login.submit", 'button[type="submit"]')
#: "Keep me signed in": no source shows it on the real page (assumed); ticked when present.
REMEMBER_CHECKBOX = _value("ids.login.remember", "input[name=remember]")
# The second steps and the expired-password page: Auth0's paths, no IDS source (assumed).
MFA_EMAIL_PATH = _value("ids.login.mfa-email", "/u/mfa-email-challenge")
MFA_OTP_PATH = _value("ids.login.mfa-otp", "/u/mfa-otp-challenge")
CHANGE_PASSWORD_PATH = _value("ids.login.change-password", "/u/change-password")
CODE_INPUT = _value("ids.login.code-field", "#code")
# How the sandbox's login page says what went wrong (assumed: read by code, never by words).
ERROR_ELEMENT = _value("ids.login.error-element", "#error-element")
ERROR_CODE_ATTRIBUTE = _value("ids.login.error-code-attribute", "data-error-code")
LOCK_TIME = _value("ids.login.lock-time", "time[datetime]")
WRONG_CREDENTIALS = _value("ids.login.error.wrong-credentials", "wrong-credentials")
USER_BLOCKED = _value("ids.login.error.user-blocked", "user-blocked")
INVALID_CODE = _value("ids.login.error.invalid-code", "invalid-code")
JAVASCRIPT_REQUIRED = _value("ids.login.error.javascript-required", "javascript-required")
MISSING_FIELDS = _value("ids.login.error.missing-fields", "missing-fields")
# App paths of the sign-in that are not app pages (assumed: invented by the sandbox).
CALLBACK_PATH = _value("ids.login.callback", "/v3/auth/callback")
LOGOUT_PATH = _value("ids.login.logout", "/v3/auth/logout.action")
APP_PREFIX = "/v3/auth/"  # every app page of ids.login.entry, ids.list.url, ids.case.url

# Cookies ----------------------------------------------------------------------------------------

SESSION_COOKIE = _value("ids.session.cookie", "JSESSIONID")
# The CSRF pair the JSON fast path needs (assumed: invented by the sandbox).
CSRF_COOKIE = _value("ids.session.csrf-cookie", "CSRF-TOKEN")
CSRF_HEADER = _value("ids.session.csrf-header", "X-CSRF-TOKEN")
#: The saved login of "Keep me signed in", on the login host (assumed).
SAVED_LOGIN_COOKIE = _value("ids.session.saved-login-cookie", "auth0")

# Patient list (confirmed by public code unless marked) ------------------------------------------

LIST_PAGE = _value("ids.list.url", "/v3/auth/patient/patientList.action")
LIST_CONTAINER = _value("ids.list.container", "#patient-list")
SHADOW_HOST = _value("ids.list.shadow-host", ".shadow-root-container")
PAGE_BODY = _value("ids.list.page-body", '[data-testid="PLPage-body"]')
LIST_ROOT = _value("ids.list.root", '[data-testid="PatientList-root"]')
CARD = _value("ids.list.card", '[data-testid="Card-patient"]')
CARD_NAME = _value("ids.list.name", '[data-testid="Patient-name"]')
CARD_ID = _value("ids.list.id", '[data-testid="Patient-id"]')
CARD_STATUS = _value("ids.list.status", '[data-testid="Tracker-status"]')
CARD_TREATMENT = _value("ids.list.treatment", '[data-testid="TableColumns-treatment"]')
FILTER_CONTAINER = _value("ids.list.filter-container", '[data-testid="Filter-buttonContainer"]')
FILTER_BUTTON = _value(
    "ids.list.filter-button",
    '[data-testid="Filter-buttonContainer"] [data-testid="Button-button"]',
)
FILTER_OPTION_ACTION = _value(
    "ids.list.filter-option-action", '[data-testid="Filter-option-ACTION_REQUIRED"]'
)
#: The "all patients" option (assumed: by the pattern of the confirmed one).
FILTER_OPTION_ALL = _value("ids.list.filter-option-all", '[data-testid="Filter-option-ALL"]')
FILTER_TAG_ACTION = _value("ids.list.filter-tag-action", '[data-testid="Tag-tag-ACTION_REQUIRED"]')
ACTIVE_FILTERS = _value("ids.list.active-filters", '[data-testid="PLPage-activeFilters"]')
ACTIVE_FILTERS_BAR = _value("ids.list.active-filters-bar", '[data-testid="ActiveFiltersBar-root"]')
LEGACY_TAB = _value("ids.list.legacy-tab", "#tab-action")
#: The legacy tab while it is on: class `action active`, or aria-selected.
LEGACY_TAB_ON = _value(
    "ids.list.legacy-tab-on", '#tab-action.action.active, #tab-action[aria-selected="true"]'
)
#: The legacy tab for all current patients (assumed: by the pattern of `#tab-action`).
LEGACY_TAB_CURRENT = _value("ids.list.legacy-tab-current", "#tab-current")
SEARCH_INPUT = _value("ids.list.search", 'input[type="search"]')
EMPTY_CONTAINER = _value("ids.list.empty-container", '[data-testid="EmptySearch-container"]')
EMPTY_TEXT = _value("ids.list.empty-text", '[data-testid="EmptySearch-emptyText"]')

# What the sync needs from a card and no source shows (assumed; read by unverified readers).
CARD_LINK = _value("ids.list.link", '[data-testid="Patient-link"]')
CARD_ACTION_REQUIRED = _value("ids.list.action-required", '[data-testid="Action-required"]')
CARD_UNREAD = _value("ids.list.unread", '[data-testid="Unread-comments"]')
CARD_LAST_ACTIVITY = _value("ids.list.last-activity", '[data-testid="Patient-last-activity"]')
CARD_DOCTOR_LINE = _value("ids.list.doctor-line", ".muted")
PAGE_NEXT = _value("ids.list.page-next", '[data-testid="Pagination-next"]')
PAGE_INFO = _value("ids.list.page-info", '[data-testid="Pagination-info"]')
NO_ACCESS = _value("ids.list.no-access", '[data-testid="No-access"]')
LOAD_ERROR = _value("ids.list.error", '[data-testid="Load-error"]')
LOADING = _value("ids.list.loading", '[data-testid="Loading-spinner"]')
#: The page script's wrapper inside a shadow root (assumed): rendered once it holds more than
#: the spinner.
APP_ROOT = _value("ids.list.app-root", ".app")

# The classic table (variant classic-table).
TABLE = _value("ids.list.classic-table", "table")
#: The patient cell reads "Name (#123)".
TABLE_PATIENT_CELL = _value("ids.list.classic-patient-cell", "Name (#123)")
PARAM_PAGE = _value("ids.list.param.page", "display.pageNumber")
PARAM_PER_PAGE = _value("ids.list.param.per-page", "display.itemPerPage")
PARAM_FILTER = _value("ids.list.param.filter", "display.filter")
FILTER_CURRENT = _value("ids.list.param.filter-current", "CURRENT")
FILTER_ACTION = _value("ids.list.param.filter-action", "ACTION")
PARAM_SEARCH = _value("ids.list.param.search", "display.searchString")
#: The old list accepts 100 rows a page (seen in public code).
TABLE_PAGE_SIZE = 100
TABLE_NEXT = _value("ids.list.classic-pager-next", 'a[rel="next"]')
TABLE_LAST_ACTIVITY = _value(
    "ids.list.classic-last-activity", '[data-testid="Patient-last-activity"]'
)

COLUMN_PATIENT = _label(
    "ids.list.classic-col.patient",
    {"en": "Patient", "de": "Patient", "pl": "Pacjent", "ko": "환자"},
)
COLUMN_ORDER_STATUS = _label(
    "ids.list.classic-col.order-status",
    {"en": "Order status", "de": "Bestellstatus", "pl": "Status zamówienia", "ko": "주문 상태"},
)
COLUMN_TREATMENT = _label(
    "ids.list.classic-col.treatment",
    {"en": "Treatment", "de": "Behandlung", "pl": "Leczenie", "ko": "치료"},
)
#: The table's last-activity column (assumed), headed like the cards' label.
COLUMN_LAST_ACTIVITY = _label(
    "ids.list.label.last-activity",
    {
        "en": "Last activity",
        "de": "Letzte Aktivität",
        "pl": "Ostatnia aktywność",
        "ko": "최근 활동",
    },
)


def list_table_url(filter_code: str, page: int) -> str:
    """A page of the classic table through its `display.*` parameters."""
    query = {PARAM_FILTER: filter_code, PARAM_PAGE: page, PARAM_PER_PAGE: TABLE_PAGE_SIZE}
    return f"{LIST_PAGE}?{urlencode(query)}"


# Patient file -----------------------------------------------------------------------------------

_CASE_URL = _value("ids.case.url", "/v3/auth/patient/patientFile.action?patientId=<id>")
CASE_PARAM = _value("ids.case.param", "patientId")


def case_page(patient_id: str) -> str:
    return _CASE_URL.replace("<id>", quote(patient_id, safe=""))


# What the patient file shows (assumed: no source shows its content; the sandbox's markup).
CASE_HOST = _value("ids.case.host-sandbox", "#patient-file")
CASE_NAME = _value("ids.case.name", '[data-testid="Patient-name"]')
CASE_ID = _value("ids.case.id", '[data-testid="Patient-id"]')
CASE_STATUS = _value("ids.case.status", '[data-testid="Tracker-status"]')
CASE_DOCTOR = _value("ids.case.doctor", '[data-testid="Doctor-name"]')
CASE_HISTORY_ITEM = _value("ids.case.history-item", '[data-testid="Status-history-item"]')
PLAN = _value("ids.plan.card", '[data-testid="ClinCheck-plan"]')
PLAN_ID_ATTRIBUTE = _value("ids.plan.id-attr", "data-plan-id")
PLAN_VERSION_ATTRIBUTE = _value("ids.plan.version-attr", "data-version")
PLAN_STATE = _value("ids.plan.state-cell", '[data-testid="Plan-state"]')
PLAN_CREATED = _value("ids.plan.created", '[data-testid="Plan-created"]')
PLAN_VIEWER = _value("ids.plan.viewer-link", '[data-testid="Plan-viewer-link"]')
PLAN_FILE = _value("ids.plan.file", '[data-testid="Plan-file"]')
PLAN_FILE_KIND = _value("ids.plan.file-kind-attr", "data-file-kind")
PLAN_FILE_BYTES = _value("ids.plan.file-bytes", "[data-bytes]")
PLAN_FILE_DOWNLOAD = _value(
    "ids.plan.file-download",
    "/v3/auth/clincheck/file.action?patientId=<id>&planId=<plan>&file=<name>",
)
COMMENT = _value("ids.comment.card", '[data-testid="Comment"]')
COMMENT_ID_ATTRIBUTE = _value("ids.comment.id-attr", "data-comment-id")
COMMENT_UNREAD_ATTRIBUTE = _value("ids.comment.unread-attr", "data-unread")
COMMENT_AUTHOR = _value("ids.comment.author", '[data-testid="Comment-author"]')
COMMENT_ROLE = _value("ids.comment.role", '[data-testid="Comment-role"]')
COMMENT_ROLE_ATTRIBUTE = _value("ids.comment.role-attr", "data-role")
COMMENT_DATE = _value("ids.comment.date", '[data-testid="Comment-date"]')
COMMENT_BODY = _value("ids.comment.body", '[data-testid="Comment-body"]')
COMMENT_INPUT = _value("ids.comment.input", '[data-testid="Comment-input"]')
COMMENT_SUBMIT = _value("ids.comment.submit", '[data-testid="Comment-submit"]')
MODIFICATION_INPUT = _value("ids.comment.modification-input", '[data-testid="Modification-input"]')
MODIFICATION_SUBMIT = _value(
    "ids.comment.modification-submit", '[data-testid="Modification-submit"]'
)
ACTION_SUCCESS = _value("ids.comment.action-success", '[data-testid="Action-success"]')
ACTION_ERROR = _value("ids.comment.action-error", '[data-testid="Action-error"]')
AUTHOR_DOCTOR = _value("ids.comment.author-role.doctor", "doctor")
AUTHOR_STAFF = _value("ids.comment.author-role.staff", "staff")
AUTHOR_TECHNICIAN = _value("ids.comment.author-role.technician", "technician")
ERROR_PAGE = _value("ids.api.error.page", "#error-message")
ERROR_PAGE_STATUS = _value("ids.api.error.page-status", "data-status")

# Who the login is -------------------------------------------------------------------------------

#: Konto's sub-tabs (assumed markup); staff never see the doctor-only ones (confirmed rule).
ACCOUNT_TABS = _value("ids.menu.account-tabs", "nav.account-tabs a")
DOCTOR_ONLY_TABS: tuple[dict[str, str], ...] = (
    _label(
        "ids.account.staff",
        {"en": "Staff", "de": "Mitarbeiter", "pl": "Personel", "ko": "직원"},
    ),
    _label(
        "ids.account.doctor-profile",
        {"en": "Doctor Profile", "de": "Arztprofil", "pl": "Profil lekarza", "ko": "의사 프로필"},
    ),
)
#: The profile page lists the login's roles (assumed: invented by the sandbox). unverified
PROFILE_PAGE = _value("ids.profile.url", "/v3/auth/account/profile.action")
PROFILE_ROLE = _value("ids.profile.role", '[data-testid="Profile-role"]')
PROFILE_USERNAME = _value("ids.profile.email", '[data-testid="Profile-email"]')

#: The staff roles (Konto > Personel > Dodaj nowe konto), by register id.
ROLES: dict[str, dict[str, str]] = {
    "ids.role.patient-management": _label(
        "ids.role.patient-management",
        {
            "en": "Patient management",
            "de": "Patientenverwaltung",
            "pl": "Zarządzanie pacjentami",
            "ko": "환자 관리",
        },
    ),
    "ids.role.prescription-management": _label(
        "ids.role.prescription-management",
        {
            "en": "Prescription management",
            "de": "Verschreibungsverwaltung",
            "pl": "Zarządzanie preskrypcjami",
            "ko": "처방 관리",
        },
    ),
    "ids.role.treatment-management": _label(
        "ids.role.treatment-management",
        {
            "en": "Treatment management",
            "de": "Behandlungsverwaltung",
            "pl": "Zarządzanie leczeniem",
            "ko": "치료 관리",
        },
    ),
    "ids.role.payment-management": _label(
        "ids.role.payment-management",
        {
            "en": "Payment management",
            "de": "Zahlungsverwaltung",
            "pl": "Zarządzanie płatnościami",
            "ko": "결제 관리",
        },
    ),
    "ids.role.training": _label(
        "ids.role.training",
        {
            "en": "Training access",
            "de": "Zugang zu Schulungen",
            "pl": "Dostęp do szkoleń",
            "ko": "교육 이용",
        },
    ),
    "ids.role.store": _label(
        "ids.role.store",
        {
            "en": "Store purchases",
            "de": "Einkäufe im Shop",
            "pl": "Zakupy w sklepie",
            "ko": "스토어 구매",
        },
    ),
    "ids.role.prospective-patients": _label(
        "ids.role.prospective-patients",
        {
            "en": "Prospective patient management",
            "de": "Verwaltung potenzieller Patienten",
            "pl": "Zarządzanie potencjalnymi pacjentami",
            "ko": "잠재 환자 관리",
        },
    ),
}
#: What a doctor's profile shows instead of roles (assumed).
PROFILE_OWNER = _label(
    "ids.profile.label.owner",
    {
        "en": "All (account owner)",
        "de": "Alle (Kontoinhaber)",
        "pl": "Wszystkie (właściciel konta)",
        "ko": "전체 (계정 소유자)",
    },
)

# Words for the form's advice: the portal's own menus, in the dentist's language.
MENU_ACCOUNT = _label(
    "ids.menu.account", {"en": "Account", "de": "Konto", "pl": "Konto", "ko": "계정"}
)
ACCOUNT_STAFF = DOCTOR_ONLY_TABS[0]
ADD_STAFF = _label(
    "ids.staff.add-new",
    {
        "en": "Add new account",
        "de": "Neues Konto hinzufügen",
        "pl": "Dodaj nowe konto",
        "ko": "새 계정 추가",
    },
)
CREATE_STAFF = _label(
    "ids.staff.create", {"en": "Create", "de": "Erstellen", "pl": "Utwórz", "ko": "만들기"}
)

# Statuses, plan states and reasons, by register id ------------------------------------------------

STATUSES: dict[str, dict[str, str]] = {
    fact: _label(fact, words)
    for fact, words in {
        "ids.status.submitted": {
            "en": "Submitted", "de": "Eingereicht", "pl": "Przesłano", "ko": "제출됨"},
        "ids.status.prescription-completed": {
            "en": "Prescription completed", "de": "Verschreibung abgeschlossen",
            "pl": "Preskrypcja ukończona", "ko": "처방전 완료"},
        "ids.status.clincheck-in-progress": {
            "en": "ClinCheck in progress", "de": "ClinCheck in Bearbeitung",
            "pl": "ClinCheck w przygotowaniu", "ko": "ClinCheck 진행 중"},
        "ids.status.clincheck-review": {
            "en": "ClinCheck ready for review", "de": "ClinCheck-Behandlungsplan prüfen",
            "pl": "Przegląd planu leczenia ClinCheck", "ko": "치료 계획 검토"},
        "ids.status.modification-requested": {
            "en": "Modification requested", "de": "Änderung angefordert",
            "pl": "Zgłoszono modyfikację", "ko": "수정 요청됨"},
        "ids.status.approved": {
            "en": "Approved", "de": "Genehmigt", "pl": "Zatwierdzono", "ko": "승인됨"},
        "ids.status.in-production": {
            "en": "In production", "de": "In Produktion", "pl": "W produkcji", "ko": "제작 중"},
        "ids.status.order-complete": {
            "en": "Order Complete", "de": "Bestellung abgeschlossen",
            "pl": "Zamówienie zrealizowane", "ko": "주문 완료"},
        "ids.status.shipped": {
            "en": "Shipped", "de": "Versandt", "pl": "Wysłano", "ko": "배송됨"},
        "ids.status.aligner-shipped": {
            "en": "Aligner Shipped", "de": "Aligner versandt", "pl": "Alignery wysłane",
            "ko": "얼라이너 배송됨"},
        "ids.status.in-treatment": {
            "en": "In treatment", "de": "In Behandlung", "pl": "W trakcie leczenia",
            "ko": "치료 중"},
        "ids.status.on-hold": {
            "en": "On hold", "de": "Angehalten", "pl": "Wstrzymano", "ko": "보류"},
        "ids.status.cancelled": {
            "en": "Cancelled", "de": "Storniert", "pl": "Anulowano", "ko": "취소됨"},
        "ids.status.action-required": {
            "en": "Action required", "de": "Handlungsbedarf", "pl": "Wymagane działanie",
            "ko": "조치 요구됨"},
    }.items()
}  # fmt: skip
#: Statuses public code matches as part of a longer text (`ClinCheck 치료 계획 검토`).
STATUS_SUBSTRINGS = {"ids.status.clincheck-review": ("ko",)}

PLAN_STATES: dict[str, dict[str, str]] = {
    fact: _label(fact, words)
    for fact, words in {
        "ids.plan.state.ready": {
            "en": "Ready for review", "de": "Bereit zur Prüfung", "pl": "Gotowy do przeglądu",
            "ko": "검토 준비됨"},
        "ids.plan.state.modification-requested": {
            "en": "Modification requested", "de": "Änderung angefordert",
            "pl": "Zgłoszono modyfikację", "ko": "수정 요청됨"},
        "ids.plan.state.approved": {
            "en": "Approved", "de": "Genehmigt", "pl": "Zatwierdzony", "ko": "승인됨"},
        "ids.plan.state.superseded": {
            "en": "Superseded", "de": "Ersetzt", "pl": "Zastąpiony", "ko": "대체됨"},
    }.items()
}  # fmt: skip

# The JSON the pages might load: the optional fast path (assumed, invented by the sandbox) -------

API_PROFILE = _value("ids.api.profile", "/v3/api/user/profile")
API_PATIENTS = _value("ids.api.patients", "/v3/api/patients")
API_PATIENT = _value("ids.api.patient", "/v3/api/patients/<patientId>")
API_COMMENTS = _value("ids.api.comments", "/v3/api/patients/<patientId>/comments")
API_MODIFICATION = _value(
    "ids.api.modification", "/v3/api/patients/<patientId>/clincheck/<planId>/modification"
)
API_MAX_PAGE_SIZE = 100  # ids.limit.api-page-size
QUERY_PAGE = _value("ids.api.query.page", "page")
QUERY_PAGE_SIZE = _value("ids.api.query.page-size", "pageSize")
QUERY_FILTER = _value("ids.api.query.filter", "filter")
FILTER_ALL_CODE = _value("ids.list.filter-code-all", "ALL")
FILTER_ACTION_CODE = _value("ids.list.filter-code-action", "ACTION_REQUIRED")
INVALID_CSRF = _value("ids.api.error.csrf", "invalid_csrf_token")


class Field:
    """JSON field names of the fast path."""

    USER_NAME = _value("ids.api.field.user-name", "userName")
    ACCOUNT_TYPE = _value("ids.api.field.account-type", "accountType")
    DOCTOR_ACCOUNT = _value("ids.api.field.account-type-doctor", "DOCTOR")
    STAFF_ACCOUNT = _value("ids.api.field.account-type-staff", "STAFF")
    ROLES = _value("ids.api.field.roles", "roles")
    PAGE = _value("ids.api.field.page", "page")
    TOTAL_COUNT = _value("ids.api.field.total-count", "totalCount")
    TOTAL_PAGES = _value("ids.api.field.total-pages", "totalPages")
    PATIENTS = _value("ids.api.field.patients", "patients")
    PATIENT_ID = _value("ids.api.field.patient-id", "patientId")
    PATIENT_NAME = _value("ids.api.field.patient-name", "patientName")
    DOCTOR_ID = _value("ids.api.field.doctor-id", "doctorId")
    DOCTOR_NAME = _value("ids.api.field.doctor-name", "doctorName")
    TRACKER_STATUS = _value("ids.api.field.tracker-status", "trackerStatus")
    ACTION_REQUIRED = _value("ids.api.field.action-required", "actionRequired")
    UNREAD_COMMENTS = _value("ids.api.field.unread-comments", "unreadComments")
    LAST_ACTIVITY = _value("ids.api.field.last-activity", "lastActivity")
    CREATED_AT = _value("ids.api.field.created-at", "createdAt")
    CLINCHECK_PLANS = _value("ids.api.field.clincheck-plans", "clinCheckPlans")
    PLAN_ID = _value("ids.api.field.plan-id", "planId")
    VERSION = _value("ids.api.field.version", "version")
    STATE = _value("ids.api.field.state", "state")
    VIEWER_URL = _value("ids.api.field.viewer-url", "viewerUrl")
    FILES = _value("ids.api.field.files", "files")
    FILE_NAME = _value("ids.api.field.file-name", "fileName")
    FILE_TYPE = _value("ids.api.field.file-type", "fileType")
    FILE_SIZE = _value("ids.api.field.file-size", "fileSize")
    COMMENTS = _value("ids.api.field.comments", "comments")
    COMMENT_ID = _value("ids.api.field.comment-id", "commentId")
    AUTHOR_NAME = _value("ids.api.field.author-name", "authorName")
    AUTHOR_ROLE = _value("ids.api.field.author-role", "authorRole")
    BODY = _value("ids.api.field.body", "body")
    UNREAD = _value("ids.api.field.unread", "unread")
    INSTRUCTIONS = _value("ids.api.field.instructions", "instructions")
    COMMENT = _value("ids.api.field.comment", "comment")
    MESSAGE = _value("ids.api.field.message", "message")
    ERROR = _value("ids.api.field.error", "error")


def api_patient(patient_id: str) -> str:
    return API_PATIENT.replace("<patientId>", quote(patient_id, safe=""))


def api_comments(patient_id: str) -> str:
    return API_COMMENTS.replace("<patientId>", quote(patient_id, safe=""))


def api_modification(patient_id: str, plan_id: str) -> str:
    return API_MODIFICATION.replace("<patientId>", quote(patient_id, safe="")).replace(
        "<planId>", quote(plan_id, safe="")
    )


def api_patients_page(page: int, page_size: int) -> str:
    query = {QUERY_PAGE: page, QUERY_PAGE_SIZE: page_size, QUERY_FILTER: FILTER_ALL_CODE}
    return f"{API_PATIENTS}?{urlencode(query)}"


def plan_file_url(patient_id: str, plan_id: str, name: str) -> str:
    """Where a plan file downloads (`ids.plan.file-download`, assumed)."""
    path = PLAN_FILE_DOWNLOAD.split("?", 1)[0]
    return f"{path}?{urlencode({'patientId': patient_id, 'planId': plan_id, 'file': name})}"


#: Facts the sync needs that no public source confirms: their readers are unverified, and
#: `portal check` reports them (register rows marked `unverified`).
UNVERIFIED: tuple[str, ...] = (
    "ids.list.last-activity",
    "ids.list.unread",
    "ids.list.action-required",
    "ids.list.page-next",
    "ids.list.treatment-order",
    "ids.case.name",
    "ids.case.doctor",
    "ids.plan.card",
    "ids.plan.version",
    "ids.plan.state-cell",
    "ids.plan.file-download",
    "ids.comment.card",
    "ids.comment.author",
    "ids.comment.body",
    "ids.profile.url",
    "ids.menu.account-tabs",
)
