"""Server-rendered HTML of the portal: sign-in pages, the cases table and the case page.

Only markup lives here (no rules): the names a parser depends on come from the `Layout`, every
value is escaped, and forms follow ASP.NET Core's conventions (`Input.*` field names, a hidden
`__RequestVerificationToken`, validation messages in `field-validation-error` spans and a
`validation-summary-errors` list) so a client meets what it would meet on the real site.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from html import escape
from urllib.parse import quote, urlencode

from sandbox.clearcorrect import antiforgery, labels
from sandbox.clearcorrect.data import GROUPS, SETUP_AWAITING, Case, Login, iso
from sandbox.clearcorrect.layout import Layout

LOGIN_PATH = "/Identity/Account/Login"
TWO_FACTOR_PATH = "/Identity/Account/LoginWith2fa"
LOGOUT_PATH = "/Identity/Account/Logout"
CHANGE_PASSWORD_PATH = "/Identity/Account/Manage/ChangePassword"

_STYLE = """
body{font-family:system-ui,sans-serif;margin:0;color:#1d2a3a;background:#f5f7fa}
header.navbar{display:flex;gap:1rem;align-items:center;background:#003c71;color:#fff;
padding:.6rem 1.2rem}
header.navbar a{color:#fff;text-decoration:none;font-weight:600}
header.navbar .user{margin-left:auto}
main{max-width:1100px;margin:1.5rem auto;background:#fff;padding:1.5rem;border-radius:6px}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:.45rem;border-bottom:1px solid #e3e8ef}
.comment-bubble,.unread-badge{display:inline-block;min-width:1.4em;padding:.1em .45em;
border-radius:1em 1em 1em 0;
background:#e8562a;color:#fff;font-size:.85em;text-align:center}
nav.case-groups a{margin-right:1rem}nav.case-groups a.active{font-weight:700}
.text-danger{color:#b00020}.comment.unread{background:#fff6e5}
form.stacked label{display:block;margin-top:.8rem}
"""


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def shown_time(moment: datetime) -> str:
    return moment.strftime("%b %d, %Y %H:%M UTC")


def document(title: str, body: str, head: str = "", body_attrs: str = "", lang: str = "en") -> str:
    return (
        f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)} - ClearCorrect Doctor Portal</title>{head}"
        f"<style>{_STYLE}</style></head><body{body_attrs}>{body}</body></html>"
    )


def _hidden_token(token: str) -> str:
    return f'<input name="{antiforgery.FORM_FIELD}" type="hidden" value="{_e(token)}">'


def _summary(errors: Sequence[str]) -> str:
    if not errors:
        return '<div class="validation-summary-valid text-danger" data-valmsg-summary="true"></div>'
    items = "".join(f"<li>{_e(e)}</li>" for e in errors)
    return (
        '<div class="validation-summary-errors text-danger" data-valmsg-summary="true">'
        f'<ul role="alert">{items}</ul></div>'
    )


def _field(
    label: str, name: str, kind: str, error: str | None, value: str = "", extra: str = ""
) -> str:
    field_id = name.replace(".", "_")
    state = "field-validation-error" if error else "field-validation-valid"
    message = (
        f'<span class="{state} text-danger" data-valmsg-for="{_e(name)}">{_e(error or "")}</span>'
    )
    value_attr = f' value="{_e(value)}"' if value else ""
    return (
        f'<label for="{_e(field_id)}">{_e(label)}</label>'
        f'<input id="{_e(field_id)}" name="{_e(name)}" type="{kind}"{value_attr}{extra}>{message}'
    )


def _anonymous(body: str, title: str, lang: str = "en") -> str:
    header = '<header class="navbar"><a class="brand" href="/">ClearCorrect</a></header>'
    return document(title, f"{header}<main>{body}</main>", lang=lang)


def login_page(
    layout: Layout,
    token: str,
    return_url: str,
    email: str = "",
    errors: Sequence[str] = (),
    field_errors: dict[str, str] | None = None,
    lang: str = "en",
) -> str:
    field_errors = field_errors or {}
    action = f"{LOGIN_PATH}?{urlencode({'ReturnUrl': return_url})}"
    password_rules = (
        ' data-val="true" data-val-length-min="8" data-val-length-max="16"'
        ' data-val-length="The Password must be at least 8 and at max 16 characters long."'
        ' autocomplete="current-password"'
    )
    body = (
        "<h1>Log in</h1><p>Use your ClearCorrect account email and password.</p>"
        f'<form id="account" class="stacked" method="post" action="{_e(action)}" novalidate>'
        + _summary(errors)
        + _field("Email", layout.email_field, "email", field_errors.get("email"), email,
                 ' autocomplete="username" data-val="true"')
        + _field("Password", layout.password_field, "password", field_errors.get("password"),
                 extra=password_rules)
        + f'<label><input name="{_e(layout.remember_field)}" type="checkbox" value="true"> '
        "Remember me?</label>"
        f'<input name="{_e(layout.remember_field)}" type="hidden" value="false">'
        + _hidden_token(token)
        + '<p><button id="login-submit" type="submit">Log in</button></p></form>'
    )  # fmt: skip
    return _anonymous(body, "Log in", lang)


def two_factor_page(
    layout: Layout,
    token: str,
    channel: str,
    username: str,
    return_url: str,
    errors: Sequence[str] = (),
) -> str:
    if channel == "email":
        name, domain = username.split("@", 1)
        intro = (
            f"We sent a security code to {_e(name[:1])}***@{_e(domain)}. "
            "Enter it below to finish logging in."
        )
        provider = "Email"
    else:
        intro = (
            "Your login is protected with an authenticator app. "
            "Enter your authenticator code below."
        )
        provider = "Authenticator"
    action = f"{TWO_FACTOR_PATH}?{urlencode({'ReturnUrl': return_url})}"
    body = (
        f"<h1>Two-factor authentication</h1><p id=\"two-factor-intro\">{intro}</p>"
        f'<form class="stacked" method="post" action="{_e(action)}" novalidate>'
        f'<input name="Provider" type="hidden" value="{provider}">'
        + _summary(errors)
        + _field("Security code" if channel == "email" else "Authenticator code",
                 layout.code_field, "text", None,
                 extra=' inputmode="numeric" autocomplete="one-time-code" maxlength="7"')
        + _hidden_token(token)
        + '<p><button type="submit">Log in</button></p></form>'
    )  # fmt: skip
    return _anonymous(body, "Two-factor authentication")


def change_password_page(
    layout: Layout,
    token: str,
    expired: bool,
    errors: Sequence[str] = (),
) -> str:
    notice = (
        '<p class="alert alert-warning" id="password-expired">Your password has expired. '
        "Please choose a new password to continue.</p>"
        if expired
        else ""
    )
    body = (
        f"<h1>Change password</h1>{notice}"
        '<form id="change-password-form" class="stacked" method="post" '
        f'action="{CHANGE_PASSWORD_PATH}" novalidate>'
        + _summary(errors)
        + _field("Current password", layout.old_password_field, "password", None)
        + _field("New password", layout.new_password_field, "password", None)
        + _field("Confirm new password", layout.confirm_password_field, "password", None)
        + _hidden_token(token)
        + '<p><button type="submit">Update password</button></p></form>'
    )  # fmt: skip
    return _anonymous(body, "Change password")


def lockout_message(minutes: int, lang: str = "en") -> str:
    """The lockout message in `lang`, naming the minutes left (the register's text says 20)."""
    return labels.word("cc.app.signin.msg-locked", lang).replace(" 20 ", f" {minutes} ")


def _app_document(
    title: str, login: Login, token: str, body: str, body_attrs: str = "", lang: str = "en"
) -> str:
    head = f'<meta name="{antiforgery.META_NAME}" content="{_e(token)}">'
    header = (
        '<header class="navbar"><a class="brand" href="/Cases">ClearCorrect</a>'
        '<a href="/Cases">Cases</a>'
        f'<span class="user" data-user-type="{login.kind}">{_e(login.username)}</span>'
        f'<form method="post" action="{LOGOUT_PATH}">{_hidden_token(token)}'
        '<button type="submit" id="logout">Log out</button></form></header>'
    )
    return document(title, f"{header}<main>{body}</main>", head, body_attrs, lang)


def _bubble(layout: Layout, unread: int) -> str:
    if unread <= 0:
        return ""
    noun = "comment" if unread == 1 else "comments"
    return (
        f'<span class="{layout.bubble_class}" title="{unread} unread {noun}" '
        f'aria-label="{unread} unread {noun}">{unread}</span>'
    )


_ACTIVE = ' class="active"'


@dataclass(frozen=True)
class CaseRow:
    case: Case
    doctor_name: str
    unread: int


def cases_page(
    layout: Layout,
    login: Login,
    token: str,
    group: str,
    counts: dict[str, int],
    rows: Iterable[CaseRow],
    page: int,
    total_pages: int,
    lang: str = "en",
) -> str:
    tabs = "".join(
        f'<a href="/Cases?group={g}" data-group="{g}"{_ACTIVE if g == group else ""}>'
        f'{_e(labels.group(g, lang))} <span class="count">({counts.get(g, 0)})</span></a>'
        for g in GROUPS
    )
    body_rows = "".join(
        f'<tr {layout.case_row_attribute}="{_e(r.case.case_id)}">'
        f'<td class="case-number">{_e(r.case.case_id)}</td>'
        f'<td class="patient"><a href="/Cases/{quote(r.case.case_id)}">'
        f"{_e(r.case.patient_name)}</a></td>"
        f'<td class="doctor" data-doctor-id="{_e(r.case.doctor_id)}">{_e(r.doctor_name)}</td>'
        f'<td class="status">{_e(labels.status(r.case.status, lang))}</td>'
        f'<td class="collaborator-status">{_bubble(layout, r.unread)}</td>'
        f'<td class="updated"><time datetime="{iso(r.case.updated_at)}">'
        f"{shown_time(r.case.updated_at)}</time></td></tr>"
        for r in rows
    )
    if not body_rows:
        body_rows = '<tr class="empty"><td colspan="6">No cases to show.</td></tr>'
    pager = []
    if page > 1:
        pager.append(f'<a rel="prev" href="/Cases?group={group}&amp;page={page - 1}">Previous</a>')
    pager.append(f'<span class="page-info">Page {page} of {max(total_pages, 1)}</span>')
    if page < total_pages:
        pager.append(f'<a rel="next" href="/Cases?group={group}&amp;page={page + 1}">Next</a>')
    body = (
        f'<h1>Cases</h1><nav class="case-groups">{tabs}</nav>'
        f'<table id="{layout.cases_table_id}" class="table cases"><thead><tr>'
        "<th>Case #</th><th>Patient</th><th>Doctor</th><th>Status</th>"
        "<th>Collaborator Status</th><th>Last updated</th></tr></thead>"
        f'<tbody>{body_rows}</tbody></table><nav class="pager">{" ".join(pager)}</nav>'
    )
    return _app_document("Cases", login, token, body, lang=lang)


@dataclass(frozen=True)
class CaseView:
    """What the case page shows one viewer."""

    case: Case
    doctor_name: str
    viewer: Login
    can_reject: bool
    can_approve: bool


def case_page(
    layout: Layout, view: CaseView, token: str, json_keys: dict[str, str], lang: str = "en"
) -> str:
    case, viewer = view.case, view.viewer
    unread = case.unread_count(viewer.username)
    setups = "".join(_setup_row(view, s.setup_id) for s in reversed(case.setups)) or (
        '<tr class="empty"><td colspan="5">No treatment setup yet.</td></tr>'
    )
    history = "".join(
        f'<li><span class="status">{_e(h.status)}</span> '
        f'<time datetime="{iso(h.at)}">{shown_time(h.at)}</time></li>'
        for h in case.status_history
    )
    comments = "".join(
        f'<li class="comment{" unread" if c.unread_for(viewer.username) else ""}" '
        f'data-comment-id="{_e(c.comment_id)}" data-role="{c.author_role}">'
        f'<div class="meta"><span class="author">{_e(c.author_name)}</span> '
        f'<span class="role">{c.author_role.title()}</span> '
        f'<time datetime="{iso(c.created_at)}">{shown_time(c.created_at)}</time></div>'
        f'<p class="body">{_e(c.body)}</p></li>'
        for c in case.comments
    )
    body = (
        f'<h1>Case <span class="case-number">{_e(case.case_id)}</span>: '
        f'<span class="patient">{_e(case.patient_name)}</span></h1>'
        '<dl class="case-info">'
        f'<dt>Doctor</dt><dd class="doctor" data-doctor-id="{_e(case.doctor_id)}">'
        f"{_e(view.doctor_name)}</dd>"
        f'<dt>Patient ID</dt><dd class="patient-id">{_e(case.patient_id)}</dd>'
        f'<dt>Status</dt><dd class="status">{_e(labels.status(case.status, lang))}</dd>'
        "<dt>Collaborator Status</dt>"
        f'<dd class="collaborator-status">{_bubble(layout, unread)}</dd></dl>'
        '<section id="setups"><h2>3D Treatment Setups</h2><table class="setups"><thead><tr>'
        "<th>Version</th><th>Shared</th><th>State</th><th>Files</th><th></th></tr></thead>"
        f"<tbody>{setups}</tbody></table></section>"
        f'<section id="status-history"><h2>Status history</h2><ol>{history}</ol></section>'
        f'<section id="chat" class="collaborator-chat"><h2>Chat</h2>'
        f'<ul id="{layout.chat_list_id}" class="comments">{comments}</ul>'
        '<form id="chat-form"><label for="chat-body">Message</label>'
        '<textarea id="chat-body" name="body" maxlength="4000" required></textarea>'
        '<button type="submit" id="chat-send">Send</button></form>'
        '<button type="button" id="mark-read">Mark all as read</button>'
        '<p id="chat-status" role="status"></p></section>'
        f"<script>{_case_script(layout, json_keys)}</script>"
    )
    attrs = f' data-case-number="{_e(case.case_id)}"'
    return _app_document(f"Case {case.case_id}", viewer, token, body, attrs, lang)


def _setup_row(view: CaseView, setup_id: str) -> str:
    setup = view.case.setup(setup_id)
    assert setup is not None
    files = "".join(
        f'<li data-kind="{_e(f.kind)}"><span class="name">{_e(f.name)}</span> '
        f'<span class="size">{f.size:,} bytes</span></li>'
        for f in setup.files
    )
    actions = ""
    if setup.state == SETUP_AWAITING:
        if view.can_reject:
            actions += (
                f'<form class="decline-form" data-setup-id="{_e(setup.setup_id)}">'
                '<input name="reason" placeholder="Reason for declining" maxlength="2000" required>'
                '<button type="submit">Decline setup</button></form>'
            )
        if view.can_approve:
            actions += (
                f'<button type="button" class="approve-setup" data-setup-id="{_e(setup.setup_id)}">'
                "Approve</button>"
            )
    reason = (
        f'<div class="decline-reason">{_e(setup.decline_reason)}</div>'
        if setup.decline_reason
        else ""
    )
    return (
        f'<tr class="setup" data-setup-id="{_e(setup.setup_id)}" data-state="{_e(setup.state)}">'
        f"<td>Version {setup.version}</td>"
        f'<td><time datetime="{iso(setup.created_at)}">{shown_time(setup.created_at)}</time></td>'
        f'<td class="state">{_e(setup.state)}{reason}</td>'
        f'<td><a class="viewer" href="{_e(setup.viewer_url)}">View 3D setup</a>'
        f'<ul class="files">{files}</ul></td>'
        f"<td>{actions}</td></tr>"
    )


_CASE_SCRIPT = """
(() => {
  const K = __KEYS__;
  const token = document.querySelector('meta[name="request-verification-token"]').content;
  const caseNumber = document.body.dataset.caseNumber;
  const base = '/api/cases/' + encodeURIComponent(caseNumber);
  const status = document.getElementById('chat-status');
  async function call(path, body) {
    const response = await fetch(base + path, {
      method: 'POST', credentials: 'same-origin',
      headers: {'Content-Type': 'application/json', 'RequestVerificationToken': token},
      body: JSON.stringify(body),
    });
    if (response.status === 401) {
      location.href = '/Identity/Account/Login?ReturnUrl=' + encodeURIComponent(location.pathname);
      throw new Error('Your session has ended. Please log in again.');
    }
    const data = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(data.detail || data.title || ('HTTP ' + response.status));
    return data;
  }
  const form = document.getElementById('chat-form');
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const text = form.elements.body.value.trim();
    if (!text) return;
    try {
      const c = await call('/comments', {body: text});
      const li = document.createElement('li');
      li.className = 'comment';
      li.dataset.commentId = c[K.commentId];
      li.dataset.role = String(c[K.authorRole]).toLowerCase();
      li.innerHTML = '<div class="meta"><span class="author"></span> <span class="role"></span> '
        + '<time></time></div><p class="body"></p>';
      li.querySelector('.author').textContent = c[K.authorName];
      li.querySelector('.role').textContent = c[K.authorRole];
      li.querySelector('time').textContent = c[K.createdAt];
      li.querySelector('.body').textContent = c[K.body];
      document.getElementById(__CHAT__).appendChild(li);
      form.reset();
      status.textContent = 'Message sent.';
    } catch (error) { status.textContent = error.message; }
  });
  document.getElementById('mark-read').addEventListener('click', async () => {
    try {
      await call('/comments/mark-read', {});
      document.querySelectorAll('.comment.unread').forEach((li) => li.classList.remove('unread'));
      document.querySelectorAll('.collaborator-status').forEach((el) => { el.textContent = ''; });
      status.textContent = 'All messages marked as read.';
    } catch (error) { status.textContent = error.message; }
  });
  const each = (selector, handle) => document.querySelectorAll(selector).forEach(handle);
  each('.decline-form', (f) => f.addEventListener('submit', async (event) => {
    event.preventDefault();
    try {
      await call('/setups/' + f.dataset.setupId + '/decline', {reason: f.elements.reason.value});
      location.reload();
    } catch (error) { status.textContent = error.message; }
  }));
  each('.approve-setup', (b) => b.addEventListener('click', async () => {
    try { await call('/setups/' + b.dataset.setupId + '/approve', {}); location.reload(); }
    catch (error) { status.textContent = error.message; }
  }));
})();
"""


def _case_script(layout: Layout, json_keys: dict[str, str]) -> str:
    return _CASE_SCRIPT.replace("__KEYS__", json.dumps(json_keys)).replace(
        "__CHAT__", json.dumps(layout.chat_list_id)
    )


def viewer_page(login: Login, token: str, case: Case, setup_id: str) -> str:
    setup = case.setup(setup_id)
    assert setup is not None
    files = "".join(f"<li>{_e(f.name)}</li>" for f in setup.files)
    body = (
        f"<h1>3D Viewer: case {_e(case.case_id)}, setup version {setup.version}</h1>"
        f'<div id="viewer-canvas" data-setup-id="{_e(setup.setup_id)}" '
        f'data-state="{_e(setup.state)}">Loading 3D models...</div><ul class="files">{files}</ul>'
    )
    return _app_document("3D Viewer", login, token, body)


def error_page(status: int, title: str, message: str) -> str:
    return _anonymous(f'<h1>{status} {_e(title)}</h1><p class="error">{_e(message)}</p>', title)
