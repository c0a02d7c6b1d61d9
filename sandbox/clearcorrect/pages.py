"""The app's pages for people: the cases table (grouped, paged) and a case with its setups and
chat. Logged-out visitors are redirected to the login page with a `ReturnUrl`; a user whose
password expired is sent to the change-password page. Each page carries a user-bound
request token in `<meta name="request-verification-token">` and refreshes the `XSRF-TOKEN`
cookie, which is how the page script (and an HTTP client) authorises JSON posts.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from sandbox.clearcorrect import labels, markup
from sandbox.clearcorrect.data import ACTION_NEEDED, GROUPS, REJECT_SETUPS
from sandbox.clearcorrect.markup import CHANGE_PASSWORD_PATH, CaseRow, CaseView
from sandbox.clearcorrect.portal import ClearCorrectPortal
from sandbox.clearcorrect.web import (
    Visitor,
    current_layout,
    login_redirect,
    tokens,
    visitor,
    with_tokens,
)

PAGE_SIZE = 25
JSON_KEYS = ("commentId", "authorName", "authorRole", "body", "createdAt")


def _error(status: int, title: str, message: str) -> Response:
    return HTMLResponse(markup.error_page(status, title, message), status_code=status)


def page_routes(portal: ClearCorrectPortal) -> list[Route]:
    def signed_in(request: Request) -> Visitor | Response:
        current = visitor(portal, request)
        if current is None:
            return login_redirect(request)
        if current.session.password_expired:
            return RedirectResponse(CHANGE_PASSWORD_PATH, status_code=302)
        return current

    async def cases(request: Request) -> Response:
        current = signed_in(request)
        if not isinstance(current, Visitor):
            return current
        group = request.query_params.get("group", ACTION_NEEDED)
        raw_page = request.query_params.get("page", "1")
        if group not in GROUPS:
            return _error(400, "Bad Request", "Unknown case group.")
        if not raw_page.isdigit() or not 1 <= int(raw_page) <= 100_000:
            return _error(400, "Bad Request", "The page number must be a positive whole number.")
        page = int(raw_page)
        username = current.login.username
        visible = portal.visible_cases(username)
        counts = dict.fromkeys(GROUPS, 0)
        for case in visible:
            counts[case.group] += 1
        in_group = [c for c in visible if c.group == group]
        total_pages = (len(in_group) + PAGE_SIZE - 1) // PAGE_SIZE
        rows = [
            CaseRow(c, portal.doctor_name(c.doctor_id), c.unread_count(username))
            for c in in_group[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
        ]
        issued = tokens(portal, request, username)
        html = markup.cases_page(
            current_layout(portal),
            current.login,
            issued.request_token,
            group,
            counts,
            rows,
            page,
            total_pages,
            labels.language_of(current.login, request.headers.get("accept-language")),
        )
        return with_tokens(HTMLResponse(html), issued, xsrf_cookie=True)

    async def case(request: Request) -> Response:
        current = signed_in(request)
        if not isinstance(current, Visitor):
            return current
        login = current.login
        found = portal.visible_case(login.username, request.path_params["case_id"])
        if found is None:
            return _error(404, "Not Found", "This case does not exist or is not shared with you.")
        layout = current_layout(portal)
        view = CaseView(
            case=found,
            doctor_name=portal.doctor_name(found.doctor_id),
            viewer=login,
            can_reject=login.may(REJECT_SETUPS, found.doctor_id),
            can_approve=login.kind == "doctor" and login.doctor_id == found.doctor_id,
        )
        keys = {k: layout.json_renames.get(k, k) for k in JSON_KEYS}
        issued = tokens(portal, request, login.username)
        lang = labels.language_of(login, request.headers.get("accept-language"))
        html = markup.case_page(layout, view, issued.request_token, keys, lang)
        return with_tokens(HTMLResponse(html), issued, xsrf_cookie=True)

    async def viewer(request: Request) -> Response:
        current = signed_in(request)
        if not isinstance(current, Visitor):
            return current
        found = portal.visible_case(current.login.username, request.path_params["case_id"])
        setup_id = request.path_params["setup_id"]
        if found is None or found.setup(setup_id) is None:
            return _error(404, "Not Found", "This treatment setup does not exist.")
        issued = tokens(portal, request, current.login.username)
        html = markup.viewer_page(current.login, issued.request_token, found, setup_id)
        return with_tokens(HTMLResponse(html), issued, xsrf_cookie=True)

    return [
        Route("/Cases", cases, methods=["GET"]),
        Route("/Cases/{case_id}", case, methods=["GET"]),
        Route("/Cases/{case_id}/Setups/{setup_id}/Viewer", viewer, methods=["GET"]),
    ]
