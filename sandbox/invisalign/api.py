"""The JSON API the page script calls: under /v3/api/ (the path a client's fast path guesses; 404
when the site setting `json_api` is off) and under /v3/ui-data/ (the page script's own path then).

No public source shows a JSON API behind IDS: everything here is invented and marked `assumed` in
the facts register. Words (statuses, reasons, plan states, roles) come in the viewer's language,
like the pages; codes (account type, author role, comment type, filter) do not change.

Every call needs the session cookie and the `X-CSRF-TOKEN` header the page script copies from the
`CSRF-TOKEN` cookie (form posts may send the token as `_csrf` instead). Checks run in an order a
client can rely on: 401 no session; 403 bad CSRF token; 403 no right to see patients; 404 unknown
or someone else's patient or plan; 403 no right for the action; 409 plan not waiting for review;
400 bad input. Field names depend on the layout version (see `layout.py`).

The list has no "changed since" filter, like the real site: it is sorted by last activity, newest
first, and each item carries its last-activity time, so a client can stop paging at older items.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from sandbox.invisalign import flow, i18n, layout, pages
from sandbox.invisalign.access import (
    CSRF_FORM_FIELD,
    Viewer,
    csrf_valid,
    current_viewer,
    unauthorized,
)
from sandbox.invisalign.data import (
    FILTER_ACTION,
    FILTER_ALL,
    Case,
    Comment,
    Login,
    PlanFile,
    Setup,
    detail_url,
    iso,
    viewer_url,
)
from sandbox.invisalign.portal import InvisalignPortal

MAX_PAGE_SIZE = 100
MAX_TEXT = 4000
Filter = Literal["ALL", "ACTION_REQUIRED"]
_NUMBER = re.compile(r"[0-9]{1,7}")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class InputError(ValueError):
    """A request parameter or body field the portal refuses (400)."""


@dataclass(frozen=True)
class ListQuery:
    page: int = 1
    page_size: int = 20
    filter: Filter = "ALL"
    search: str = ""


def parse_list_query(params: Mapping[str, str]) -> ListQuery:
    """Validate `page`, `pageSize` and `filter` of the patient list; unknown keys are ignored."""

    def number(key: str, default: int, high: int) -> int:
        raw = params.get(key)
        if raw is None or raw == "":
            return default
        if not _NUMBER.fullmatch(raw) or not 1 <= int(raw) <= high:
            raise InputError(f"{key} must be a whole number from 1 to {high}")
        return int(raw)

    page = number("page", 1, 100_000)
    page_size = number("pageSize", 20, MAX_PAGE_SIZE)
    search = params.get("search") or ""
    if len(search) > 100 or _CONTROL.search(search):
        raise InputError("search must be at most 100 printable characters")
    raw_filter = params.get("filter") or "ALL"
    if raw_filter == "ALL":
        return ListQuery(page, page_size, "ALL", search)
    if raw_filter == "ACTION_REQUIRED":
        return ListQuery(page, page_size, "ACTION_REQUIRED", search)
    raise InputError("filter must be ALL or ACTION_REQUIRED")


def clean_text(value: object, field: str) -> str:
    """A comment or instructions text as stored: trimmed, newlines normalised, no controls."""
    if not isinstance(value, str):
        raise InputError(f"{field} is required")
    text = value.replace("\r\n", "\n").replace("\r", "\n").strip()
    if not text:
        raise InputError(f"{field} is required")
    if len(text) > MAX_TEXT:
        raise InputError(f"{field} must be at most {MAX_TEXT} characters")
    if _CONTROL.search(text):
        raise InputError(f"{field} contains characters that are not allowed")
    return text


def patient_summary(case: Case, doctor_name: str, viewer: Login, lang: str) -> dict[str, Any]:
    conditions = [i18n.word(i18n.CONDITION_FACTS, c, lang) for c in case.conditions]
    treatments = [
        {
            "package": case.package,
            "trackerStatus": i18n.status(case.status, lang),
            "conditions": conditions,
            "notes": case.notes,
        }
    ]
    treatments += [
        {
            "package": t.package,
            "trackerStatus": i18n.status(t.status, lang),
            "conditions": conditions,
            "notes": "",
        }
        for t in case.earlier
    ]
    return {
        "patientId": case.case_id,
        "patientName": case.patient_name,
        "doctorId": case.doctor_id,
        "doctorName": doctor_name,
        "trackerStatus": i18n.status(case.status, lang),
        "actionRequired": i18n.reason(case.action_reason, lang),
        "unreadComments": case.unread_for(viewer.username.lower()),
        "lastActivity": iso(case.updated_at),
        "createdAt": iso(case.created_at),
        "detailUrl": detail_url(case.case_id),
        "treatments": treatments,
    }


def comment_json(comment: Comment, viewer: Login) -> dict[str, Any]:
    return {
        "commentId": comment.comment_id,
        "type": "MODIFICATION_REQUEST" if comment.kind == "modification_request" else "COMMENT",
        "planId": comment.setup_id,
        "authorName": comment.author_name,
        "authorRole": comment.author_role,
        "createdAt": iso(comment.created_at),
        "body": comment.body,
        "unread": viewer.username.lower() not in comment.read_by,
    }


#: The size a plan file is served with (the portal makes its bytes: `file_content`).
SizeOf = Callable[[Setup, PlanFile], int]


def plan_json(case: Case, setup: Setup, lang: str, size_of: SizeOf) -> dict[str, Any]:
    return {
        "planId": setup.setup_id,
        "version": setup.version,
        "createdAt": iso(setup.created_at),
        "state": i18n.plan_state(setup.state, lang),
        "reviewable": flow.reviewable(case, setup),
        "viewerUrl": viewer_url(case.case_id, setup.setup_id),
        "files": [
            {"fileName": f.name, "fileType": f.kind, "fileSize": size_of(setup, f)}
            for f in setup.files
        ],
    }


def patient_detail(
    case: Case, doctor_name: str, viewer: Login, lang: str, size_of: SizeOf
) -> dict[str, Any]:
    return {
        **patient_summary(case, doctor_name, viewer, lang),
        "statusHistory": [
            {"status": i18n.status(h.status, lang), "date": iso(h.at)} for h in case.history
        ],
        "clinCheckPlans": [plan_json(case, s, lang, size_of) for s in case.setups],
        "comments": [comment_json(c, viewer) for c in case.comments],
        "permissions": {
            "canComment": viewer.can_post,
            "canRequestModification": viewer.can_post,
            "canApprove": viewer.can_approve,
        },
    }


def api_routes(portal: InvisalignPortal, base: str, guessed: bool) -> list[Route]:
    """The API under `base`; `guessed`: the path a client may guess, 404 when `json_api` is off."""

    def lang_of(login: Login, request: Request) -> str:
        return i18n.choose(login.language, request.headers.get("accept-language"))

    def out(data: Any, status: int = 200) -> JSONResponse:
        body = layout.fields(portal.faults.layout_version, data)
        return JSONResponse(body, status_code=status, headers={"Cache-Control": "no-store"})

    def error(status: int, code: str, message: str) -> JSONResponse:
        return JSONResponse({"error": code, "message": message}, status_code=status)

    async def body_of(request: Request) -> dict[str, Any]:
        kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if kind == "application/json":
            try:
                data = json.loads(await request.body() or b"{}")
            except (ValueError, UnicodeDecodeError) as exc:
                raise InputError("the body is not valid JSON") from exc
            if not isinstance(data, dict):
                raise InputError("the body must be a JSON object")
            return data
        if kind in ("application/x-www-form-urlencoded", "multipart/form-data"):
            form = await request.form()
            return {k: v for k, v in form.items() if isinstance(v, str)}
        if not kind and not await request.body():
            return {}
        raise InputError("send JSON or a form")

    async def guard(request: Request, *, post: bool) -> tuple[Viewer, dict[str, Any]] | Response:
        if guessed and not portal.site.json_api:
            return Response("Not found", status_code=404, media_type="text/plain")
        viewer = current_viewer(portal, request)
        if viewer is None:
            return unauthorized()
        body: dict[str, Any] = {}
        unreadable: InputError | None = None
        if post:
            try:
                body = await body_of(request)
            except InputError as exc:
                unreadable = exc
        token = body.get(CSRF_FORM_FIELD)
        if not csrf_valid(viewer, request, token if isinstance(token, str) else None):
            return error(403, "invalid_csrf_token", "Invalid or missing CSRF token.")
        if unreadable is not None:
            return error(400, "bad_request", str(unreadable))
        return viewer, body

    def no_access() -> JSONResponse:
        return error(403, "forbidden", "You do not have access to patient information.")

    def find(viewer: Viewer, request: Request) -> Case | Response:
        if not viewer.login.can_view:
            return no_access()
        case = portal.data.visible_case(viewer.login, request.path_params["patient_id"])
        if case is None:
            return error(404, "not_found", "Patient not found.")
        return case

    def doctor_name(case: Case) -> str:
        return portal.data.doctors[case.doctor_id].name

    async def profile(request: Request) -> Response:
        checked = await guard(request, post=False)
        if isinstance(checked, Response):
            return checked
        login = checked[0].login
        doctor = portal.data.doctors[login.doctor_id]
        return out(
            {
                "userName": login.username,
                "firstName": login.first_name,
                "lastName": login.last_name,
                "accountType": "DOCTOR" if login.kind == "doctor" else "STAFF",
                "roles": [i18n.role(r, lang_of(login, request)) for r in login.roles],
                "doctor": {"doctorId": doctor.doctor_id, "name": doctor.name},
                "practice": doctor.practice,
            }
        )

    async def patients(request: Request) -> Response:
        checked = await guard(request, post=False)
        if isinstance(checked, Response):
            return checked
        login = checked[0].login
        try:
            query = parse_list_query(request.query_params)
        except InputError as exc:
            return error(400, "bad_request", str(exc))
        if not login.can_view:
            return no_access()
        login.list_filter = FILTER_ACTION if query.filter == "ACTION_REQUIRED" else FILTER_ALL
        cases = portal.data.visible_cases(login)
        waiting = [c for c in cases if c.action_reason is not None]
        chosen = waiting if query.filter == "ACTION_REQUIRED" else cases
        if query.search:
            chosen = [c for c in chosen if c.matches(query.search)]
        start = (query.page - 1) * query.page_size
        page = chosen[start : start + query.page_size]
        name = portal.data.doctors[login.doctor_id].name
        lang = lang_of(login, request)
        return out(
            {
                "page": query.page,
                "pageSize": query.page_size,
                "filter": query.filter,
                "totalCount": len(chosen),
                "totalPages": math.ceil(len(chosen) / query.page_size),
                "counts": {"all": len(cases), "actionRequired": len(waiting)},
                "search": query.search,
                "patients": [patient_summary(c, name, login, lang) for c in page],
            }
        )

    async def patient(request: Request) -> Response:
        checked = await guard(request, post=False)
        if isinstance(checked, Response):
            return checked
        case = find(checked[0], request)
        if isinstance(case, Response):
            return case
        login = checked[0].login
        lang = lang_of(login, request)
        return out(patient_detail(case, doctor_name(case), login, lang, portal.file_size))

    async def post_comment(request: Request) -> Response:
        checked = await guard(request, post=True)
        if isinstance(checked, Response):
            return checked
        viewer, body = checked
        case = find(viewer, request)
        if isinstance(case, Response):
            return case
        login = viewer.login
        record = {"patient_id": case.case_id, "body": body.get("body")}
        if not login.can_post:
            portal.recorder.record_post("comment", login.username, accepted=False, **record)
            return error(403, "forbidden", "Prescription management is required to comment.")
        try:
            text = clean_text(body.get("body"), "body")
        except InputError as exc:
            return error(400, "bad_request", str(exc))
        comment = portal.post_comment(login, case, text)
        record |= {"body": text, "comment_id": comment.comment_id}
        portal.recorder.record_post("comment", login.username, accepted=True, **record)
        result = {
            "message": i18n.text("ids.api.msg.comment-posted", lang_of(login, request)),
            "comment": comment_json(comment, login),
        }
        return out(result, 201)

    async def mark_read(request: Request) -> Response:
        checked = await guard(request, post=True)
        if isinstance(checked, Response):
            return checked
        viewer, body = checked
        case = find(viewer, request)
        if isinstance(case, Response):
            return case
        ids = body.get("commentIds")
        if ids is not None and not (isinstance(ids, list) and all(isinstance(i, str) for i in ids)):
            return error(400, "bad_request", "commentIds must be a list of comment ids")
        marked = portal.mark_read(viewer.login, case, set(ids) if ids is not None else None)
        record = {"patient_id": case.case_id, "comment_ids": marked}
        portal.recorder.record_post("mark_read", viewer.login.username, accepted=True, **record)
        lang = lang_of(viewer.login, request)
        message = i18n.text("ids.api.msg.marked-read", lang, N=len(marked))
        return out({"message": message, "marked": marked})

    async def plan_action(request: Request, kind: str) -> Response:
        checked = await guard(request, post=True)
        if isinstance(checked, Response):
            return checked
        viewer, body = checked
        case = find(viewer, request)
        if isinstance(case, Response):
            return case
        login = viewer.login
        setup = case.setup(request.path_params["plan_id"])
        if setup is None:
            return error(404, "not_found", "ClinCheck plan not found.")
        record: dict[str, Any] = {"patient_id": case.case_id, "plan_id": setup.setup_id}
        if kind == "modification_request":
            record["instructions"] = body.get("instructions")
        allowed = login.can_post if kind == "modification_request" else login.can_approve
        if not allowed:
            portal.recorder.record_post(kind, login.username, accepted=False, **record)
            return refused(request, kind)
        if not flow.reviewable(case, setup):
            message = "This ClinCheck plan is not waiting for review."
            return error(409, "plan_not_reviewable", message)
        if kind == "approve":
            portal.approve(case, setup)
            portal.recorder.record_post(kind, login.username, accepted=True, **record)
            lang = lang_of(login, request)
            return out(
                {
                    "message": i18n.text("ids.api.msg.approved", lang),
                    "trackerStatus": i18n.status(case.status, lang),
                }
            )
        try:
            instructions = clean_text(body.get("instructions"), "instructions")
        except InputError as exc:
            return error(400, "bad_request", str(exc))
        comment = portal.request_modification(login, case, setup, instructions)
        record |= {"instructions": instructions, "comment_id": comment.comment_id}
        portal.recorder.record_post(kind, login.username, accepted=True, **record)
        lang = lang_of(login, request)
        result = {
            "message": i18n.text("ids.api.msg.modification-sent", lang),
            "trackerStatus": i18n.status(case.status, lang),
            "comment": comment_json(comment, login),
        }
        return out(result, 201)

    def refused(request: Request, kind: str) -> Response:
        if kind == "approve":
            message = (
                "You do not have permission to approve ClinCheck treatment plans. "
                "Treatment management is required."
            )
        else:
            message = "Prescription management is required to request a modification."
        accept = request.headers.get("accept", "")
        if "text/html" in accept and "application/json" not in accept:
            page = pages.error_page(403, "ids.error.access-denied", message, "en")
            return HTMLResponse(page, status_code=403)
        return error(403, "forbidden", message)

    async def modification(request: Request) -> Response:
        return await plan_action(request, "modification_request")

    async def approve(request: Request) -> Response:
        return await plan_action(request, "approve")

    one = base + "/patients/{patient_id}"
    plan = one + "/clincheck/{plan_id}"
    return [
        Route(base + "/user/profile", profile, methods=["GET"]),
        Route(base + "/patients", patients, methods=["GET"]),
        Route(one, patient, methods=["GET"]),
        Route(one + "/comments", post_comment, methods=["POST"]),
        Route(one + "/comments/read", mark_read, methods=["POST"]),
        Route(plan + "/modification", modification, methods=["POST"]),
        Route(plan + "/approve", approve, methods=["POST"]),
    ]
