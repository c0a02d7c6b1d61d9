"""HTML of the site's pages, in the viewer's language: the hosted login's pages (login host) and
the app's server-rendered pages (app host).

Pure functions from values to markup; every value is escaped. The patient list's card variants
and the patient file are shells here: their content is rendered by the page script inside an
open shadow root (host `.shadow-root-container`). The classic table is rendered here, as the
older server-rendered list was.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from urllib.parse import urlencode

from sandbox.invisalign import i18n
from sandbox.invisalign.data import (
    PAYMENT_MANAGEMENT,
    STORE_PURCHASES,
    TRAINING_ACCESS,
    Case,
    Doctor,
    Login,
    Setup,
    detail_url,
    iso,
)
from sandbox.invisalign.i18n import text
from sandbox.invisalign.sessions import LoginTransaction

_CSS = """
body{margin:0;font:15px/1.5 system-ui,sans-serif;color:#1d2433;background:#f4f6f9}
a{color:#00758f}
.topbar{display:flex;gap:20px;align-items:center;padding:10px 24px;background:#003a5d;color:#fff}
.topbar a{color:#fff;text-decoration:none}.topbar .spacer{flex:1}
.account-tabs{display:flex;gap:14px;padding:6px 24px;background:#e3e8ef;font-size:13px}
main{max-width:1100px;margin:24px auto;padding:0 24px}
.auth{max-width:400px;margin:60px auto;background:#fff;padding:40px;border-radius:6px;
box-shadow:0 2px 12px rgba(0,0,0,.1)}
.auth h1{font-size:24px;margin:0 0 8px}.auth label{display:block;margin:16px 0 4px}
.auth input[type=text],.auth input[type=password],.auth input[type=email]{width:100%;
padding:10px;box-sizing:border-box;font:inherit}
.auth button{margin-top:20px;width:100%;padding:12px;background:#00758f;color:#fff;border:0;
border-radius:4px;font:inherit;cursor:pointer}
.ulp-input-error-message{display:block;color:#a4000f;margin-top:12px}
dl.profile dt{font-weight:600;margin-top:12px}
table.patients{border-collapse:collapse;width:100%;background:#fff}
table.patients th,table.patients td{border:1px solid #d5dae3;padding:6px 8px;text-align:left}
.tabs{display:flex;gap:8px;list-style:none;padding:0}.tabs a.active{font-weight:700}
.badge{display:inline-block;padding:1px 6px;border-radius:10px;background:#fde7d9;font-size:12px}
"""


def document(title: str, body: str, lang: str, scripts: tuple[str, ...] = ()) -> str:
    tags = "".join(f'<script src="{escape(src)}" defer></script>' for src in scripts)
    return (
        f'<!doctype html><html lang="{escape(lang)}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_CSS}</style>{tags}</head>"
        f"<body>{body}</body></html>"
    )


def data_island(element_id: str, value: object) -> str:
    """JSON for the page script, safe inside a `<script>` element."""
    raw = json.dumps(value, ensure_ascii=False, sort_keys=True).replace("</", "<\\/")
    return f'<script type="application/json" id="{element_id}">{raw}</script>'


def error_page(status: int, title_id: str, message: str, lang: str) -> str:
    title = text(title_id, lang)
    body = (
        f'<main class="auth" role="alert"><h1>{escape(title)}</h1>'
        f'<p id="error-message" data-status="{status}">{escape(message)}</p>'
        f'<p><a href="/v3/auth/patients.action">{escape(text("ids.error.back", lang))}</a></p>'
        "</main>"
    )
    return document(title, body, lang)


# Hosted login (Universal Login style, on the login host) ---------------------------------------


def _auth_page(heading: str, inner: str, lang: str, scripts: tuple[str, ...] = ()) -> str:
    brand = text("ids.brand", "en")  # the product name on the login page
    header = f'<header><p class="brand">{brand}</p><h1>{escape(heading)}</h1></header>'
    title = text("ids.login.title", lang)
    return document(title, f'<main class="auth">{header}{inner}</main>', lang, scripts)


def _error(code: str | None, message: str | None) -> str:
    if not message:
        return ""
    return (
        f'<span id="error-element" class="ulp-input-error-message" role="alert" '
        f'data-error-code="{escape(code or "error")}">{escape(message)}</span>'
    )


def login_page(
    txn: LoginTransaction,
    lang: str,
    username: str = "",
    error_code: str | None = None,
    error: str | None = None,
) -> str:
    state = escape(txn.state)
    inner = (
        f"<p>{escape(text('ids.login.intro', lang))}</p>"
        f'<form method="POST" action="/u/login?state={state}" data-challenge="'
        f'{escape(txn.challenge)}" data-form-primary="true">'
        f'<input type="hidden" name="state" value="{state}">'
        '<input type="hidden" name="captcha" value="">'
        f'<label for="username">{escape(text("ids.login.username-label", lang))}</label>'
        '<input type="text" id="username" name="username" autocomplete="username" '
        f'autocapitalize="none" spellcheck="false" value="{escape(username)}" required autofocus>'
        f'<label for="password">{escape(text("ids.login.password-label", lang))}</label>'
        '<input type="password" id="password" name="password" '
        'autocomplete="current-password" required>'
        '<label class="remember"><input type="checkbox" name="remember" value="true"> '
        f"{escape(text('ids.login.remember-label', lang))}</label>"
        f"{_error(error_code, error)}"
        '<button type="submit" name="action" value="default">'
        f"{escape(text('ids.login.submit-label', lang))}</button>"
        "</form>"
    )
    return _auth_page(text("ids.login.heading", lang), inner, lang, ("/u/assets/login.js",))


def _code_form(action: str, txn: LoginTransaction, label: str, error: str | None, lang: str) -> str:
    state = escape(txn.state)
    return (
        f'<form method="POST" action="{action}?state={state}">'
        f'<input type="hidden" name="state" value="{state}">'
        f'<label for="code">{escape(label)}</label>'
        '<input type="text" id="code" name="code" inputmode="numeric" '
        'autocomplete="one-time-code" pattern="[0-9]*" maxlength="6" required autofocus>'
        f"{_error('invalid-code', error)}"
        '<button type="submit" name="action" value="default">'
        f"{escape(text('ids.login.continue-label', lang))}</button></form>"
    )


def email_code_page(
    txn: LoginTransaction, masked_email: str, lang: str, error: str | None = None
) -> str:
    sent = escape(text("ids.login.msg.email-code", lang))
    label = text("ids.login.code-label-email", lang)
    inner = f"<p>{sent} <strong>{escape(masked_email)}</strong></p>" + _code_form(
        "/u/mfa-email-challenge", txn, label, error, lang
    )
    return _auth_page(text("ids.login.verify-heading", lang), inner, lang)


def totp_page(txn: LoginTransaction, lang: str, error: str | None = None) -> str:
    label = text("ids.login.code-label-totp", lang)
    inner = f"<p>{escape(text('ids.login.msg.totp', lang))}</p>" + _code_form(
        "/u/mfa-otp-challenge", txn, label, error, lang
    )
    return _auth_page(text("ids.login.verify-heading", lang), inner, lang)


def change_password_page(txn: LoginTransaction, lang: str, error: str | None = None) -> str:
    state = escape(txn.state)
    inner = (
        f'<p id="password-expired" role="alert">'
        f"{escape(text('ids.login.msg.password-expired', lang))}</p>"
        f'<form method="POST" action="/u/change-password?state={state}">'
        f'<input type="hidden" name="state" value="{state}">'
        f'<label for="new-password">{escape(text("ids.login.new-password-label", lang))}</label>'
        '<input type="password" id="new-password" name="new-password" '
        'autocomplete="new-password" required>'
        '<label for="confirm-new-password">'
        f"{escape(text('ids.login.confirm-password-label', lang))}</label>"
        '<input type="password" id="confirm-new-password" name="confirm-new-password" '
        'autocomplete="new-password" required>'
        f"<p>{escape(text('ids.login.password-rule', lang))}</p>"
        f"{_error('password-policy', error)}"
        '<button type="submit" name="action" value="default">'
        f"{escape(text('ids.login.change-password-button', lang))}</button></form>"
    )
    return _auth_page(text("ids.login.msg.change-password", lang), inner, lang)


def invalid_state_page(lang: str) -> str:
    """A login page opened without a live transaction (stale or unknown `state`)."""
    inner = _error("invalid-state", text("ids.login.msg.invalid-state", lang))
    return _auth_page(text("ids.login.heading", lang), inner, lang)


# The app (app host) ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Frame:
    """What every app page needs: who is looking, in which language, with which test ids."""

    login: Login
    lang: str
    ids: dict[str, str]


def _account_tabs(login: Login) -> list[str]:
    """Konto's sub-tabs a login sees: staff never see the doctor profile or the staff pages;
    payments need Payment management (an assumed rule)."""
    doctor = login.kind == "doctor"
    pays = doctor or PAYMENT_MANAGEMENT in login.roles
    tabs = [
        ("ids.account.summary", pays),
        ("ids.account.payments", pays),
        ("ids.account.doctor-profile", doctor),
        ("ids.account.advantage", True),
        ("ids.account.staff", doctor),
    ]
    return [fact for fact, shown in tabs if shown]


def _menu(frame: Frame) -> str:
    login, lang = frame.login, frame.lang
    doctor = login.kind == "doctor"
    items = [
        f'<a href="/v3/auth/patients.action">{escape(text("ids.menu.patients", lang))}</a>',
        f"<a>{escape(text('ids.menu.clinical-actions', lang))}</a>",
        f'<a class="menu-account">{escape(text("ids.menu.account", lang))}</a>',
    ]
    if doctor or STORE_PURCHASES in login.roles:
        items.append(f"<a>{escape(text('ids.menu.store', lang))}</a>")
    if doctor or TRAINING_ACCESS in login.roles:
        items.append(f"<a>{escape(text('ids.menu.education', lang))}</a>")
    items.append(f"<a>{escape(text('ids.menu.support', lang))}</a>")
    tabs = "".join(f"<a>{escape(text(fact, lang))}</a>" for fact in _account_tabs(login))
    account = escape(text("ids.menu.account", lang))
    return (
        '<header class="topbar">'
        f"<strong>{escape(text('ids.brand', 'en'))}</strong>"
        f'<nav class="main-menu" aria-label="Main">{"".join(items)}</nav>'
        '<span class="spacer"></span>'
        f'<a href="/v3/auth/account/profile.action" data-testid="{frame.ids["userMenu"]}">'
        f"{escape(login.display_name)}</a>"
        f'<a href="/v3/auth/logout.action">{escape(text("ids.profile.label.logout", lang))}</a>'
        f'</header><nav class="account-tabs" aria-label="{account}">{tabs}</nav>'
    )


def _app_page(
    frame: Frame, title: str, main: str, bundle: str = "", labels: dict[str, str] | None = None
) -> str:
    scripts = (f"/v3/assets/{bundle}",) if bundle else ()
    island = data_island("ids-labels", labels) if labels is not None else ""
    return document(title, f"{_menu(frame)}<main>{main}</main>{island}", frame.lang, scripts)


def script_labels(lang: str) -> dict[str, str]:
    """The words the page script shows, in one language (templates keep their N and M)."""
    keys = {
        "filter": "ids.list.filter-label",
        "filterCount": "ids.list.filter-count",
        "filterAction": "ids.list.filter-label-action",
        "filterAll": "ids.list.label.all",
        "search": "ids.list.search-label",
        "count": "ids.list.label.count",
        "empty": "ids.list.empty-message",
        "emptyHint": "ids.list.empty-hint",
        "previous": "ids.list.label.previous",
        "next": "ids.list.label.next",
        "pageInfo": "ids.list.page-info-label",
        "unread": "ids.list.unread-label",
        "lastActivity": "ids.list.label.last-activity",
        "loading": "ids.list.label.loading",
        "noAccess": "ids.list.label.no-access",
        "error": "ids.list.label.error",
        "tryAgain": "ids.list.label.try-again",
        "patients": "ids.menu.patients",
        "history": "ids.case.label.history",
        "plans": "ids.plan.label.section",
        "noPlan": "ids.plan.label.none",
        "planVersion": "ids.plan.label.version",
        "created": "ids.plan.label.created",
        "openClinCheck": "ids.case.open-clincheck",
        "comments": "ids.comment.label.section",
        "modificationNote": "ids.comment.label.modification",
        "newComment": "ids.comment.label.new",
        "addComment": "ids.comment.label.add",
        "commentPlaceholder": "ids.comment.label.placeholder",
        "postComment": "ids.comment.label.submit",
        "markRead": "ids.comment.label.mark-read",
        "modificationInput": "ids.comment.label.modification-input",
        "modificationPlaceholder": "ids.comment.label.modification-placeholder",
        "requestModification": "ids.comment.label.modification-submit",
        "approve": "ids.comment.label.approve",
        "role.doctor": "ids.comment.role-label.doctor",
        "role.staff": "ids.comment.role-label.staff",
        "role.technician": "ids.comment.role-label.technician",
    }
    words = {key: text(fact, lang) for key, fact in keys.items()}
    words.update({f"condition.{c}": text(fact, lang) for c, fact in i18n.CONDITION_FACTS.items()})
    return words


def patient_list_shell(
    frame: Frame, bundle: str, page_size: int, list_filter: str, variant: str, api_base: str
) -> str:
    """A card variant of the patient list: the page script renders into the shadow root."""
    main = (
        f"<h1>{escape(text('ids.list.title', frame.lang))}</h1>"
        f'<div id="patient-list" class="shadow-root-container" data-variant="{escape(variant)}" '
        f'data-page-size="{page_size}" data-filter="{escape(list_filter)}" '
        f'data-api="{escape(api_base)}"></div>'
    )
    labels = script_labels(frame.lang)
    return _app_page(frame, text("ids.list.title", frame.lang), main, bundle, labels)


@dataclass(frozen=True)
class TableRow:
    case: Case
    package: str
    status: str  # the treatment's status, in the page's language
    office: str


@dataclass(frozen=True)
class TableQuery:
    """The classic list's `display.*` parameters."""

    filter: str  # CURRENT or ACTION
    page: int
    per_page: int
    search: str

    def url(self, **changes: object) -> str:
        values = {
            "display.filter": self.filter,
            "display.pageNumber": self.page,
            "display.itemPerPage": self.per_page,
            "display.searchString": self.search,
        }
        values |= {f"display.{k}": v for k, v in changes.items()}
        return "/v3/auth/patient/patientList.action?" + urlencode(values)


def classic_table_page(
    frame: Frame, query: TableQuery, rows: Sequence[TableRow], total_pages: int, viewer: str
) -> str:
    """The older, server-rendered patient list: tabs, a search box and a table whose patient
    cells read "Name (#id)"."""
    lang, ids = frame.lang, frame.ids
    action_on = query.filter == "ACTION"

    def tab(tab_id: str, code: str, label: str, active: bool) -> str:
        classes = f"{code.lower()}{' active' if active else ''}"
        href = escape(TableQuery(code, 1, query.per_page, query.search).url())
        return (
            f'<li><a id="{tab_id}" role="tab" class="{classes}" '
            f'aria-selected="{str(active).lower()}" href="{href}">{escape(label)}</a></li>'
        )

    tabs = (
        '<ul class="tabs" role="tablist">'
        + tab("tab-current", "CURRENT", text("ids.list.label.all", lang), not action_on)
        + tab("tab-action", "ACTION", text("ids.list.filter-label-action", lang), action_on)
        + "</ul>"
    )
    search = (
        '<form method="GET" action="/v3/auth/patient/patientList.action" role="search">'
        f'<input type="hidden" name="display.filter" value="{escape(query.filter)}">'
        f'<input type="hidden" name="display.itemPerPage" value="{query.per_page}">'
        f'<input type="search" name="display.searchString" value="{escape(query.search)}" '
        f'aria-label="{escape(text("ids.list.search-label", lang))}" '
        f'placeholder="{escape(text("ids.list.search-label", lang))}"></form>'
    )
    columns = (
        "ids.list.classic-col.patient",
        "ids.list.classic-col.treatment",
        "ids.list.classic-col.clinical-status",
        "ids.list.classic-col.memo",
        "ids.list.classic-col.order-status",
        "ids.list.classic-col.office",
        "ids.list.label.last-activity",
    )
    head = "".join(f"<th>{escape(text(c, lang))}</th>" for c in columns)
    body = "".join(_table_row(row, lang, ids, viewer) for row in rows)
    if rows:
        table = (
            f'<table class="patients"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
        )
    else:
        table = _empty(lang)
    pager = ""
    if query.page > 1:
        prev_href = escape(query.url(pageNumber=query.page - 1))
        label = escape(text("ids.list.label.previous", lang))
        pager += f'<a rel="prev" href="{prev_href}">{label}</a> '
    info = text("ids.list.page-info-label", lang, N=query.page, M=max(1, total_pages))
    pager += f"<span>{escape(info)}</span>"
    if query.page < total_pages:
        next_href = escape(query.url(pageNumber=query.page + 1))
        label = escape(text("ids.list.label.next", lang))
        pager += f' <a rel="next" href="{next_href}">{label}</a>'
    main = (
        f"<h1>{escape(text('ids.list.title', lang))}</h1>"
        f'<div id="patient-list">{search}{tabs}{table}<nav class="pager">{pager}</nav></div>'
    )
    return _app_page(frame, text("ids.list.title", lang), main)


def _table_row(row: TableRow, lang: str, ids: dict[str, str], viewer: str) -> str:
    case = row.case
    unread = case.unread_for(viewer)
    badge = (
        f' <span class="badge" data-testid="{ids["unread"]}">'
        f"{escape(text('ids.list.unread-label', lang, N=unread))}</span>"
        if unread
        else ""
    )
    conditions = ", ".join(i18n.word(i18n.CONDITION_FACTS, c, lang) for c in case.conditions)
    cells = (
        f'<td><a href="{escape(detail_url(case.case_id))}">'
        f"{escape(case.patient_name)} (#{escape(case.case_id)})</a>{badge}</td>",
        f"<td>{escape(row.package)}</td>",
        f"<td>{escape(conditions)}</td>",
        f"<td>{escape(case.notes)}</td>",
        f"<td>{escape(row.status)}</td>",
        f"<td>{escape(row.office)}</td>",
        f'<td><time data-testid="{ids["lastActivity"]}" datetime="{iso(case.updated_at)}">'
        f"{iso(case.updated_at)}</time></td>",
    )
    return f"<tr>{''.join(cells)}</tr>"


def _empty(lang: str) -> str:
    return (
        '<div data-testid="EmptySearch-container">'
        f'<p data-testid="EmptySearch-emptyText">{escape(text("ids.list.empty-message", lang))}'
        f"</p><p>{escape(text('ids.list.empty-hint', lang))}</p></div>"
    )


def patient_file_shell(frame: Frame, bundle: str, patient_id: str, api_base: str) -> str:
    main = (
        f'<div id="patient-file" class="shadow-root-container" '
        f'data-patient-id="{escape(patient_id)}" data-api="{escape(api_base)}"></div>'
    )
    labels = script_labels(frame.lang)
    return _app_page(frame, text("ids.case.title", frame.lang), main, bundle, labels)


def profile_page(frame: Frame, doctor: Doctor) -> str:
    login, lang, ids = frame.login, frame.lang, frame.ids
    kind = "doctor" if login.kind == "doctor" else "staff"
    account = text(f"ids.role.account-type.{kind}", lang)
    if login.kind == "doctor":
        owner = escape(text("ids.profile.label.owner", lang))
        roles = f'<li data-testid="{ids["profileRole"]}">{owner}</li>'
    else:
        roles = "".join(
            f'<li data-testid="{ids["profileRole"]}">{escape(i18n.role(role, lang))}</li>'
            for role in login.roles
        )

    def row(label_id: str, testid: str, value: str) -> str:
        label = escape(text(label_id, lang))
        return f'<dt>{label}</dt><dd data-testid="{ids[testid]}">{value}</dd>'

    main = (
        f"<h1>{escape(text('ids.profile.label.heading', lang))}</h1>"
        '<dl class="profile">'
        + row("ids.profile.label.name", "profileName", escape(login.display_name))
        + row("ids.profile.label.username", "profileEmail", escape(login.username))
        + row("ids.profile.label.account-type", "profileType", escape(account))
        + row(
            "ids.profile.label.doctor",
            "profileDoctor",
            f"{escape(doctor.name)} ({escape(doctor.practice)})",
        )
        + f"<dt>{escape(text('ids.profile.label.roles', lang))}</dt>"
        f'<dd><ul class="roles">{roles}</ul></dd></dl>'
    )
    return _app_page(frame, text("ids.profile.label.heading", lang), main)


def viewer_page(frame: Frame, case: Case, setup: Setup) -> str:
    lang = frame.lang
    version = text("ids.plan.label.version", lang, N=setup.version)
    main = (
        f"<h1>ClinCheck Pro: {escape(case.patient_name)} (#{escape(case.case_id)})</h1>"
        f'<p id="plan" data-plan-id="{escape(setup.setup_id)}" data-version="{setup.version}">'
        f"{escape(version)}, {escape(i18n.plan_state(setup.state, lang))}, "
        f"{escape(text('ids.plan.label.created', lang))} "
        f'<time datetime="{iso(setup.created_at)}">{iso(setup.created_at)}</time></p>'
        '<div id="clincheck-viewer" role="img" aria-label="ClinCheck"></div>'
    )
    return _app_page(frame, "ClinCheck", main)
