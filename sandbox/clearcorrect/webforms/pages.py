"""The signed-in WebForms pages: Manage Orders (`/cases.aspx`), a case (`/detail/case.aspx?id=`)
with its case submission pop-up, a setup (`/detail/setup.aspx?id=`), My Account and the file
download. Signed-out requests (pages and postbacks alike) are sent to `/Login.aspx`; a login
whose password expired to `/ChangePassword.aspx`; a case or setup the login may not see is the
404 page, so its existence does not leak.

Postbacks either only navigate (the Status drop-down, the grid pager, a submission link, the
submission-version drop-down) or change something (Add Note, Decline, Approve). Reading never
marks a note read. Every change a client posts is recorded for the admin API.
"""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from sandbox.clearcorrect import labels
from sandbox.clearcorrect.data import (
    ACTION_NEEDED,
    ADD_ORDERS,
    AWAITING_RECORDS,
    AWAITING_SETUP,
    EVALUATING,
    GROUPS,
    REJECT_SETUPS,
    SETUP_AWAITING,
    STL,
    UPPER,
    VIEW,
    Case,
    CaseFile,
    Comment,
    Login,
    Setup,
    Submission,
)
from sandbox.clearcorrect.portal import ClearCorrectPortal, Refused
from sandbox.clearcorrect.webforms import markup
from sandbox.clearcorrect.webforms.common import (
    ACCOUNT_PATH,
    CASE_PATH,
    CASES_PATH,
    CHANGE_PASSWORD_PATH,
    DOWNLOAD_PATH,
    SETUP_PATH,
    Postback,
    Visitor,
    active,
    html,
    invalid_viewstate,
    language,
    login_redirect,
    not_found,
    plain,
    read_postback,
    visitor,
)
from sandbox.clearcorrect.webforms.markup import Page, Tab, e
from sandbox.clearcorrect.webforms.viewstate import Signer
from sandbox.common.files import JPEG as PHOTO_TYPE
from sandbox.common.files import MEDIA_TYPES, FileAnswer
from sandbox.common.files import STL as MESH_TYPE

PAGE_SIZE = 25
MAX_NOTE = 4000
MAX_REASON = 2000

STATUS_DROPDOWN = "ctl00$MainPH$ddlStatus"
NOTE_BOX = "ctl00$MainPH$txtNote"
NOTE_STATE = "ctl00$MainPH$tbwmNote_ClientState"
NOTE_TYPE = "ctl00$MainPH$ddlNoteTypeID"
NOTE_REASON = "ctl00$MainPH$ddlNoteReasonID"
NOTE_SAVE = "ctl00$MainPH$btnSaveNote"
DECLINE_REASON = "ctl00$MainPH$txtDeclineReason"
DECLINE_BUTTON = "ctl00$MainPH$btnDecline"
APPROVE_BUTTON = "ctl00$MainPH$btnApprove"
POPUP = "ctl00_MainPH_frmCaseSubmission_tcRecord"
VERSION_DROPDOWN = "ctl00$MainPH$frmCaseSubmission$tcRecord$tpFiles$ddlCaseSubmissionID"
SUBMISSIONS = "ctl00$MainPH$tcRecord$tpSubmissions$grdSubmissions"
CASE_TABS = "ctl00_MainPH_tcRecord"
_PIXEL = "data:image/gif;base64,R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw=="


def media_type(file: CaseFile) -> str:
    return MEDIA_TYPES[MESH_TYPE if file.kind == STL else PHOTO_TYPE]


class Names:
    """The grid ids a parser depends on, per layout version (`faults.layout_version`): version
    2 is a release that renamed them (register variant `webforms-v2`)."""

    def __init__(self, version: int) -> None:
        v2 = version == 2
        self.cases_grid = "ctl00$MainPH$gvOrders" if v2 else "ctl00$MainPH$grdCases"
        self.notes_grid = "ctl00_MainPH_gvNotes" if v2 else "ctl00_MainPH_grdtabNotes"
        files = "gvFiles" if v2 else "grdAllFiles"
        self.files_grid = f"{POPUP}_tpFiles_{files}"


def _group_words(page: Page) -> list[tuple[str, str]]:
    return [(g, labels.group(g, page.lang)) for g in GROUPS]


def page_routes(portal: ClearCorrectPortal, signer: Signer) -> list[Route]:
    def names() -> Names:
        return Names(portal.faults.layout_version)

    def signed_in(request: Request) -> Visitor | Response:
        current = visitor(portal, request)
        if current is None:
            return login_redirect(request)
        if current.session.password_expired:
            return RedirectResponse(CHANGE_PASSWORD_PATH, status_code=302)
        return current

    def new_page(request: Request, login: Login, path: str, action: str) -> Page:
        return Page(path, action, language(request, login), login.username)

    def may_add_orders(login: Login) -> bool:
        return login.kind == "doctor" or any(ADD_ORDERS in p for p in login.permissions.values())

    def finish(page: Page, login: Login, title: str, content: str) -> Response:
        top = markup.header(page, login.username, add_order=may_add_orders(login))
        return html(markup.document(page, signer, title, content, top))

    def bubble(page: Page, unread: int) -> str:
        if unread <= 0:
            return ""
        title = e(page.w("cc.wf.list.bubble-title"))
        return f'<span class="chat-bubble" title="{title}">{unread}</span>'

    def doctor_link(page: Page, case: Case, prefix: str, element_id: str = "") -> str:
        id_attr = f' id="{element_id}"' if element_id else ""
        return (
            f'<a{id_attr} href="{prefix}cases.aspx?doctor={e(case.doctor_id)}">'
            f"{e(portal.doctor_name(case.doctor_id))}</a>"
        )

    # ---- Manage Orders ----------------------------------------------------------------------

    def cases_page(
        request: Request, login: Login, group: str, number: int, doctor: str
    ) -> Response:
        action = "./cases.aspx" + (f"?doctor={doctor}" if doctor else "")
        page = new_page(request, login, CASES_PATH, action)
        page.state = {"g": group, "pg": number, "dr": doctor}
        grid_name = names().cases_grid
        selected = [
            c
            for c in portal.visible_cases(login.username)
            if c.group == group and (not doctor or c.doctor_id == doctor)
        ]
        pages = max(1, (len(selected) + PAGE_SIZE - 1) // PAGE_SIZE)
        number = min(number, pages)
        page.state["pg"] = number
        rows = []
        for case in selected[(number - 1) * PAGE_SIZE : number * PAGE_SIZE]:
            category = (
                page.w("cc.category.setup-awaiting-approval") if case.status == EVALUATING else ""
            )
            rows.append(
                f'<tr><td><a href="detail/case.aspx?id={e(case.case_id)}">{e(case.case_id)}</a>'
                f"</td><td>{e(case.patient_name)}</td><td>{doctor_link(page, case, '')}</td>"
                f"<td>{e(page.time(case.updated_at))}</td>"
                f"<td>{e(labels.status(case.status, page.lang))}</td><td>{e(category)}</td>"
                f"<td>{bubble(page, case.unread_count(login.username))}</td></tr>"
            )
        headers = [
            page.w(f)
            for f in (
                "cc.list.col.order-number",
                "cc.list.col.name",
                "cc.wf.list.col.doctor",
                "cc.list.col.last-activity",
                "cc.list.col.status",
                "cc.list.col.category",
                "cc.list.col.collaborator-status",
            )
        ]
        table = markup.grid(
            grid_name.replace("$", "_"),
            headers,
            rows,
            page.w("cc.wf.list.empty"),
            markup.pager(page, grid_name, number, pages, len(headers)),
        )
        dropdown = markup.select(
            page, STATUS_DROPDOWN, _group_words(page), GROUPS.index(group), autopostback=True
        )
        content = (
            f"<h1>{e(page.w('cc.list.home'))}</h1>"
            f'<p><label for="ctl00_MainPH_ddlStatus">{e(page.w("cc.list.status-filter"))}'
            f"</label> {dropdown}</p>{table}"
        )
        return finish(page, login, page.w("cc.list.home"), content)

    async def cases(request: Request) -> Response:
        if not active(portal):
            return not_found()
        current = signed_in(request)
        if not isinstance(current, Visitor):
            return current
        login = current.login
        doctor = request.query_params.get("doctor", "")
        if request.method == "GET":
            return cases_page(request, login, ACTION_NEEDED, 1, doctor)
        posted = read_postback(signer, request, login.username, plain(await request.form()))
        if not isinstance(posted, Postback):
            return posted
        group = str(posted.state.get("g", ACTION_NEEDED))
        number = int(posted.state.get("pg", 1))
        doctor = str(posted.state.get("dr", doctor))
        if posted.target == STATUS_DROPDOWN:
            group, number = posted.fields.get(STATUS_DROPDOWN, group), 1
        elif posted.target == names().cases_grid and posted.argument.startswith("Page$"):
            number = int(posted.argument[5:])
        if group not in GROUPS:
            group = ACTION_NEEDED
        return cases_page(request, login, group, number, doctor)

    # ---- the case submission pop-up -----------------------------------------------------------

    def file_type(page: Page, name: str, kind: str, arch: str | None) -> str:
        if kind != STL:
            return page.w("cc.wf.files.type-photo")
        anatomical = "maxillary" in name or "mandibular" in name
        if arch == UPPER:
            return page.w("cc.wf.files.type-maxillary" if anatomical else "cc.wf.files.type-upper")
        return page.w("cc.wf.files.type-mandibular" if anatomical else "cc.wf.files.type-lower")

    def popup(page: Page, case: Case, submission: Submission) -> str:
        """The case submission pop-up for one submission version."""
        options: list[tuple[str, str]] = []
        selected = 0
        revision = page.w("cc.wf.setup.version-revision")
        for item in reversed(case.submissions):
            # Newest first; a revision's "Revision n" header comes before its dated entry.
            if item.is_revision:
                options.append((item.submission_id, f"{revision} {item.version - 1}"))
            if item is submission:
                selected = len(options)
            options.append((item.submission_id, page.time(item.submitted_at)))
        dropdown = markup.select(page, VERSION_DROPDOWN, options, selected, autopostback=True)
        rows = [
            f'<tr><td><a href="{DOWNLOAD_PATH}?id={e(f.file_id)}&amp;file={e(f.name)}">'
            f"{e(f.name)}</a></td><td>{e(file_type(page, f.name, f.kind, f.arch))}</td></tr>"
            for f in submission.files
        ]
        files = markup.grid(
            names().files_grid,
            [page.w("cc.wf.files.col.file"), page.w("cc.wf.files.col.type")],
            rows,
            "",
        )
        notes = submission.preference_notes or "\u00a0"
        prefs = (
            '<table class="grid"><tr>'
            f"<td>{e(page.w('cc.wf.setup.pref-engagers'))}</td>"
            f"<td>{e(submission.engagers_removal)}</td></tr><tr>"
            f"<td>{e(page.w('cc.wf.setup.pref-notes'))}</td><td>{e(notes)}</td></tr></table>"
        )
        has_form = submission.instructions is not None
        tabs = [
            Tab(
                "tpForm",
                page.w("cc.wf.setup.online-form-label"),
                markup.label(f"{POPUP}_tpForm_lblRevInstructions", submission.instructions or ""),
                hidden=not has_form,
            ),
            Tab("tpFiles", page.w("cc.wf.setup.files-tab-label"), f"<p>{dropdown}</p>{files}"),
            Tab("tpPrefs", page.w("cc.wf.setup.preferences-label"), prefs),
        ]
        container = markup.tab_container(POPUP, tabs, 0 if has_form else 1, "_tab")
        return f'<div id="ctl00_MainPH_pnlCaseSubmission" class="modalPopup">{container}</div>'

    def chosen_submission(case: Case, posted: Postback, current: str | None) -> Submission | None:
        if posted.target == VERSION_DROPDOWN:
            return case.submission(posted.fields.get(VERSION_DROPDOWN))
        return case.submission(current)

    # ---- a case ---------------------------------------------------------------------------------

    def note_row(page: Page, index: int, comment: Comment, viewer: str) -> str:
        role = page.w(f"cc.wf.chat.author-role.{comment.author_role}")
        prefix = f"{names().notes_grid}_ctl{index + 2:02d}"
        author = comment.author_username or comment.author_name
        created = (
            page.w("cc.wf.case.note-author")
            .replace("…", page.time(comment.created_at))
            .replace("<username>", author)
        )
        unread = ' class="unread"' if comment.unread_for(viewer) else ""
        return (
            f"<tr{unread}><td>{e(role)}</td><td>"
            f'<input type="hidden" id="{prefix}_hfNoteID" value="{e(comment.comment_id)}">'
            f'<span id="{prefix}_lbhNoteText">{e(comment.body)}</span>'
            f'<div style="font-style:italic">{e(created)}</div></td></tr>'
        )

    def setup_rows(page: Page, case: Case) -> list[str]:
        return [
            f'<tr><td><a href="setup.aspx?id={e(s.setup_id)}">{s.version}</a></td>'
            f"<td>{e(page.time(s.created_at))}</td>"
            f"<td>{e(labels.setup_state(s.state, page.lang))}</td>"
            f"<td>{e(s.decline_reason or '')}</td></tr>"
            for s in reversed(case.setups)
        ]

    def action_items(page: Page, case: Case) -> str:
        items = []
        if case.status == AWAITING_RECORDS:
            items.append("cc.legacy.action-item.waiting-for-records")
            if not case.submissions or not case.submissions[0].files:
                items.append("cc.legacy.action-item.submission-incomplete")
        elif case.status == AWAITING_SETUP:
            items.append("cc.legacy.action-item.setup-in-production")
        elif case.status == EVALUATING:
            items.append("cc.category.setup-awaiting-approval")
        if not items:
            return ""
        lines = "".join(f"<li>{e(page.w(i))}</li>" for i in items)
        return f'<div id="ctl00_MainPH_pnlActionItems" class="actionitems"><ul>{lines}</ul></div>'

    def case_page(
        request: Request,
        login: Login,
        case: Case,
        submission: Submission | None,
        message: str = "",
        notes_tab: bool = False,
    ) -> Response:
        page = new_page(request, login, CASE_PATH, f"./case.aspx?id={case.case_id}")
        page.state = {"case": case.case_id, "sub": submission.submission_id if submission else None}
        w = page.w
        info = (
            '<table class="caseinfo">'
            f"<tr><td>{e(w('cc.list.col.order-number'))}</td><td>"
            f"{markup.label('ctl00_MainPH_lbl_txtCaseID', case.case_id)}</td></tr>"
            f"<tr><td>{e(w('cc.list.col.name'))}</td><td>"
            f"{markup.label('ctl00_MainPH_lblPatientName', case.patient_name)}</td></tr>"
            f"<tr><td>{e(w('cc.wf.list.col.doctor'))}</td><td>"
            f"{doctor_link(page, case, '../', 'ctl00_MainPH_lnkDoctor')}</td></tr>"
            f"<tr><td>{e(w('cc.list.col.status'))}</td><td>"
            f"{markup.label('ctl00_MainPH_lblStatus', labels.status(case.status, page.lang))}"
            "</td></tr>"
            f"<tr><td>{e(w('cc.list.col.last-activity'))}</td><td>"
            f"{markup.label('ctl00_MainPH_lblLastActivity', page.time(case.updated_at))}</td></tr>"
            f"<tr><td>{e(w('cc.list.col.collaborator-status'))}</td>"
            f"<td>{bubble(page, case.unread_count(login.username))}</td></tr></table>"
        )
        submission_rows = [
            f"<tr><td>{s.version}</td><td>{e(page.time(s.submitted_at))}</td><td>"
            f'<a class="btnlgray bdlgray hand" href="'
            + e(page.controls.event(f"{SUBMISSIONS}$ctl{index + 2:02d}$lnkOpen"))
            + f'"><img src="{_PIXEL}" width="16" height="16" alt=""></a></td></tr>'
            for index, s in enumerate(case.submissions)
        ]
        version, date = w("cc.wf.case.col.version"), w("cc.wf.case.col.date")
        submissions = markup.grid(
            SUBMISSIONS.replace("$", "_"), [version, date, ""], submission_rows, ""
        )
        setups = markup.grid(
            "ctl00_MainPH_tcRecord_tpSetups_grdSetups",
            [version, date, w("cc.wf.case.col.state"), w("cc.wf.case.col.decline-reason")],
            setup_rows(page, case),
            "",
        )
        types = [("1", w("cc.wf.case.note-type-general")), ("7", w("cc.wf.case.note-type-setup"))]
        reasons = [("50", w("cc.wf.case.note-reason-comment"))]
        note_form = (
            "<p>"
            + markup.select(page, NOTE_TYPE, types, 1, autopostback=False)
            + " "
            + markup.select(page, NOTE_REASON, reasons, 0, autopostback=False)
            + "</p>"
            + markup.text_area(
                page,
                NOTE_BOX,
                MAX_NOTE,
                f' class="tbwm" placeholder="{e(w("cc.wf.case.note-watermark"))}" '
                "oninput=\"document.getElementById('ctl00_MainPH_tbwmNote_ClientState')"
                ".value='true'\"",
            )
            + f'<input type="hidden" name="{NOTE_STATE}" id="ctl00_MainPH_tbwmNote_ClientState" '
            'value="">'
        )
        page.controls.text(NOTE_STATE)
        note_rows = [
            note_row(page, index, comment, login.username)
            for index, comment in enumerate(reversed(case.comments))
        ]
        notes = markup.grid(
            names().notes_grid, ["", w("cc.wf.case.notes-tab-label")], note_rows, ""
        )
        notes_body = (
            (f'<p>{markup.label("ctl00_MainPH_lblNoteMessage", message, "error")}</p>'
             if message else "")
            + note_form
            + "<p>" + markup.button(page, NOTE_SAVE, w("cc.wf.case.note-save-label")) + "</p>"
            + notes
        )  # fmt: skip
        tabs = []
        if case.action_required:
            awaiting = next((s for s in reversed(case.setups) if s.state == SETUP_AWAITING), None)
            link = (
                f'<p><a id="ctl00_MainPH_lnkSetupAwaiting" href="setup.aspx?id='
                f'{e(awaiting.setup_id)}">{e(w("cc.category.setup-awaiting-approval"))}</a></p>'
                if awaiting is not None and case.status == EVALUATING
                else ""
            )
            tabs.append(Tab("tpActionNeeded", w("cc.case.action-needed-tab"), link))
        tabs += [
            Tab("tpSubmissions", w("cc.wf.case.submissions-tab"), submissions),
            Tab("tpSetups", w("cc.wf.case.setups-tab"), setups),
            Tab("tpNotes", w("cc.wf.case.notes-tab-label"), notes_body),
        ]
        active_tab = len(tabs) - 1 if notes_tab else 0
        content = (
            f"<h1>{e(w('cc.case.page-name'))}</h1>{info}{action_items(page, case)}"
            + (popup(page, case, submission) if submission is not None else "")
            + markup.tab_container(CASE_TABS, tabs, active_tab, "_header")
        )
        return finish(page, login, w("cc.case.page-name"), content)

    def visible(login: Login, case_id: str | None) -> Case | None:
        if not case_id or not case_id.isdigit():
            return None
        return portal.visible_case(login.username, case_id)

    async def case(request: Request) -> Response:
        if not active(portal):
            return not_found()
        current = signed_in(request)
        if not isinstance(current, Visitor):
            return current
        login = current.login
        found = visible(login, request.query_params.get("id"))
        if found is None:
            return not_found()
        if request.method == "GET":
            return case_page(request, login, found, None)
        posted = read_postback(signer, request, login.username, plain(await request.form()))
        if not isinstance(posted, Postback):
            return posted
        if posted.state.get("case") != found.case_id:
            return invalid_viewstate()
        if posted.pressed(NOTE_SAVE):
            return add_note(request, login, found, posted)
        opened = posted.target.removeprefix(f"{SUBMISSIONS}$ctl").removesuffix("$lnkOpen")
        if opened != posted.target and opened.isdigit():
            index = int(opened) - 2
            chosen = found.submissions[index] if 0 <= index < len(found.submissions) else None
            return case_page(request, login, found, chosen)
        current_sub = posted.state.get("sub")
        return case_page(request, login, found, chosen_submission(found, posted, current_sub))

    def add_note(request: Request, login: Login, case: Case, posted: Postback) -> Response:
        """Add Note: the text counts only when the watermark's client state says it is real
        text (`tbwmNote_ClientState` = `true`), as the page's watermark extender reports it."""
        text = posted.text(NOTE_BOX)
        real = posted.text(NOTE_STATE) == "true"
        details = {"case_id": case.case_id, "body": text}
        if not real or not text.strip() or len(text) > MAX_NOTE:
            portal.recorder.record_post(
                "comment", login.username, **details, status=200, accepted=False
            )
            message = labels.word("cc.wf.case.note-required", language(request, login))
            return case_page(request, login, case, None, message, notes_tab=True)
        comment = portal.post_comment(login, case, text)
        portal.recorder.record_post(
            "comment",
            login.username,
            **details,
            comment_id=comment.comment_id,
            status=200,
            accepted=True,
        )
        return case_page(request, login, case, None, notes_tab=True)

    # ---- a setup ------------------------------------------------------------------------------

    def setup_page(
        request: Request,
        login: Login,
        case: Case,
        setup: Setup,
        submission: Submission | None,
        message: str = "",
    ) -> Response:
        page = new_page(request, login, SETUP_PATH, f"./setup.aspx?id={setup.setup_id}")
        page.state = {
            "setup": setup.setup_id,
            "sub": submission.submission_id if submission else None,
        }
        w = page.w
        latest_awaiting = (
            setup is case.setups[-1] and setup.state == SETUP_AWAITING and case.status == EVALUATING
        )
        actions = ""
        if latest_awaiting and login.may(REJECT_SETUPS, case.doctor_id):
            actions += (
                f'<p><label for="ctl00_MainPH_txtDeclineReason">'
                f"{e(w('cc.wf.case.col.decline-reason'))}</label><br>"
                + markup.text_area(page, DECLINE_REASON, MAX_REASON)
                + "<br>"
                + markup.button(page, DECLINE_BUTTON, w("cc.decline.button"))
                + "</p>"
            )
        if latest_awaiting and login.kind == "doctor" and login.doctor_id == case.doctor_id:
            actions += (
                "<p>" + markup.button(page, APPROVE_BUTTON, w("cc.wf.approve.button")) + "</p>"
            )
        state = labels.setup_state(setup.state, page.lang)
        info = (
            '<table class="caseinfo">'
            f"<tr><td>{e(w('cc.wf.case.col.version'))}</td><td>"
            f"{markup.label('ctl00_MainPH_lblSetupVersion', str(setup.version))}</td></tr>"
            f"<tr><td>{e(w('cc.wf.case.col.date'))}</td><td>"
            f"{markup.label('ctl00_MainPH_lblSetupDate', page.time(setup.created_at))}</td></tr>"
            f"<tr><td>{e(w('cc.wf.case.col.state'))}</td><td>"
            f"{markup.label('ctl00_MainPH_lblSetupState', state)}"
            "</td></tr>"
            f"<tr><td>{e(w('cc.wf.case.col.decline-reason'))}</td><td>"
            f"{markup.label('ctl00_MainPH_lblDeclineReason', setup.decline_reason or '')}</td></tr>"
            "</table>"
        )
        heading = (
            f'<div id="ctl00_MainPH_tcRecordHeaderLarge">{e(w("cc.wf.setup.header-prefix"))} '
            f"{e(case.case_id)} - {e(case.patient_name)}</div>"
        )
        note = f"<p>{markup.label('ctl00_MainPH_lblMessage', message, 'message')}</p>"
        content = (
            heading
            + (note if message else "")
            + info
            + actions
            + f'<p><a id="ctl00_MainPH_lnkCase" href="case.aspx?id={e(case.case_id)}">'
            f"{e(w('cc.case.page-name'))}</a></p>"
            + (popup(page, case, submission) if submission is not None else "")
        )
        title = f"{w('cc.wf.setup.header-prefix')} {case.case_id}"
        return finish(page, login, title, content)

    def default_submission(case: Case, setup: Setup) -> Submission | None:
        return case.submission(setup.submission_id) or (
            case.submissions[-1] if case.submissions else None
        )

    async def setup(request: Request) -> Response:
        if not active(portal):
            return not_found()
        current = signed_in(request)
        if not isinstance(current, Visitor):
            return current
        login = current.login
        setup_id = request.query_params.get("id", "")
        found = portal.case_of_setup(login.username, setup_id) if setup_id.isdigit() else None
        shown = found.setup(setup_id) if found else None
        if found is None or shown is None:
            return not_found()
        if request.method == "GET":
            return setup_page(request, login, found, shown, default_submission(found, shown))
        posted = read_postback(signer, request, login.username, plain(await request.form()))
        if not isinstance(posted, Postback):
            return posted
        if posted.state.get("setup") != shown.setup_id:
            return invalid_viewstate()
        submission = chosen_submission(found, posted, posted.state.get("sub"))
        lang = language(request, login)
        if posted.pressed(DECLINE_BUTTON):
            reason = posted.text(DECLINE_REASON)
            details = {"case_id": found.case_id, "setup_id": shown.setup_id, "reason": reason}
            if not reason.strip() or len(reason) > MAX_REASON:
                portal.recorder.record_post(
                    "decline", login.username, **details, status=200, accepted=False
                )
                message = labels.word("cc.wf.decline.msg-reason", lang)
                return setup_page(request, login, found, shown, submission, message)
            try:
                portal.decline(login, found, shown.setup_id, reason)
            except Refused as refused:
                portal.recorder.record_post(
                    "decline", login.username, **details, status=refused.status, accepted=False
                )
                fact = (
                    "cc.wf.decline.msg-forbidden"
                    if refused.status == 403
                    else "cc.wf.decline.msg-state"
                )
                return setup_page(request, login, found, shown, submission, labels.word(fact, lang))
            portal.recorder.record_post(
                "decline", login.username, **details, status=200, accepted=True
            )
            message = labels.word("cc.wf.decline.msg-done", lang)
            return setup_page(request, login, found, shown, submission, message)
        if posted.pressed(APPROVE_BUTTON):
            details = {"case_id": found.case_id, "setup_id": shown.setup_id}
            try:
                portal.approve(login, found, shown.setup_id)
            except Refused as refused:
                portal.recorder.record_post(
                    "approve", login.username, **details, status=refused.status, accepted=False
                )
                message = labels.word("cc.wf.approve.msg-forbidden", lang)
                return setup_page(request, login, found, shown, submission, message)
            portal.recorder.record_post(
                "approve", login.username, **details, status=200, accepted=True
            )
            message = labels.word("cc.wf.approve.msg-done", lang)
            return setup_page(request, login, found, shown, submission, message)
        return setup_page(request, login, found, shown, submission)

    # ---- My Account and downloads ---------------------------------------------------------------

    def permission_words(page: Page, granted: frozenset[str]) -> list[str]:
        facts = {
            VIEW: "cc.perm.view",
            ADD_ORDERS: "cc.perm.add-orders",
            REJECT_SETUPS: "cc.perm.decline-setups",
        }
        return [page.w(fact) for code, fact in facts.items() if code in granted]

    async def account(request: Request) -> Response:
        if not active(portal):
            return not_found()
        current = signed_in(request)
        if not isinstance(current, Visitor):
            return current
        login = current.login
        page = new_page(request, login, ACCOUNT_PATH, "./account.aspx")
        w = page.w
        kind = (
            w("cc.wf.account.type-doctor") if login.kind == "doctor" else w("cc.role.collaborator")
        )
        language_name = (
            labels.word("cc.wf.account.language-name", login.language) if login.language else ""
        )
        rows = [
            f'<tr><td><a href="cases.aspx?doctor={e(doctor_id)}">'
            f"{e(portal.doctor_name(doctor_id))}</a></td><td><ul>"
            + "".join(f"<li>{e(p)}</li>" for p in permission_words(page, granted))
            + "</ul></td></tr>"
            for doctor_id, granted in sorted(login.permissions.items())
        ]
        collaborations = ""
        if login.kind == "partner":
            collaborations = f"<h2>{e(w('cc.role.tool'))}</h2>" + markup.grid(
                "ctl00_MainPH_grdCollaborations",
                [w("cc.wf.list.col.doctor"), w("cc.wf.account.col.permissions")],
                rows,
                "",
            )
        content = (
            f'<h1>{e(w("cc.account.title"))}</h1><table class="caseinfo">'
            f"<tr><td>{e(w('cc.wf.account.type-label'))}</td><td>"
            f"{markup.label('ctl00_MainPH_lblAccountType', kind)}</td></tr>"
            f"<tr><td>{e(w('cc.signin.username-label'))}</td><td>"
            f"{markup.label('ctl00_MainPH_lblEmail', login.username)}</td></tr>"
            f"<tr><td>{e(w('cc.account.language-label'))}</td><td>"
            f"{markup.label('ctl00_MainPH_lblLanguage', language_name)}</td></tr></table>"
            + collaborations
        )
        return finish(page, login, w("cc.account.title"), content)

    async def download(request: Request) -> Response:
        if not active(portal):
            return not_found()
        current = signed_in(request)
        if not isinstance(current, Visitor):
            return current
        file_id = request.query_params.get("id", "")
        found = portal.case_of_file(current.login.username, file_id) if file_id.isdigit() else None
        wanted = None
        for submission in found.submissions if found else ():
            wanted = next((f for f in submission.files if f.file_id == file_id), wanted)
        if wanted is None:
            return not_found()
        made = await asyncio.to_thread(portal.files.make, portal.file_content(wanted))
        return FileAnswer(request, made, wanted.name, media_type(wanted), portal)

    return [
        Route(CASES_PATH, cases, methods=["GET", "POST"]),
        Route(CASE_PATH, case, methods=["GET", "POST"]),
        Route(SETUP_PATH, setup, methods=["GET", "POST"]),
        Route(ACCOUNT_PATH, account, methods=["GET"]),
        Route(DOWNLOAD_PATH, download, methods=["GET"]),
    ]
