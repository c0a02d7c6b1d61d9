"""The app's JSON API under `/api/`, which the page script uses and an adapter will use.

Same cookie session as the pages; unsafe methods also need the `RequestVerificationToken`
header (a user-bound request token from a page's meta tag or the `XSRF-TOKEN` cookie), else
400. Logged out is 401 JSON, never a redirect. Errors are ASP.NET Core ProblemDetails
(`application/problem+json` with `title`, `status`, `detail`, and `errors` per parameter for
bad input); bad input changes nothing. Cases the user may not see are 404, so their existence
does not leak. Every post that reaches a handler (comments, mark-read, declines, approve
attempts, shares) is recorded with its full text, ids and outcome for the admin API.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sandbox.clearcorrect import antiforgery
from sandbox.clearcorrect.data import (
    ADD_ORDERS,
    GROUPS,
    REJECT_SETUPS,
    VIEW,
    Case,
    Comment,
    Login,
    Setup,
    iso,
)
from sandbox.clearcorrect.portal import ClearCorrectPortal, Refused
from sandbox.clearcorrect.web import (
    Visitor,
    current_layout,
    token_valid,
    tokens,
    visitor,
    with_tokens,
)

PROBLEM_TYPE = "application/problem+json"
DEFAULT_PAGE_SIZE = 25
MAX_PAGE_SIZE = 100
MAX_COMMENT = 4000
MAX_REASON = 2000
PERMISSION_NAMES = {VIEW: "View", ADD_ORDERS: "AddOrders", REJECT_SETUPS: "RejectSetups"}
_DIGITS = re.compile(r"[0-9]{1,9}")


def problem(
    status: int, title: str, detail: str | None = None, errors: dict[str, list[str]] | None = None
) -> JSONResponse:
    body: dict[str, Any] = {"title": title, "status": status}
    if detail:
        body["detail"] = detail
    if errors:
        body["errors"] = errors
    return JSONResponse(body, status_code=status, media_type=PROBLEM_TYPE)


def invalid(errors: dict[str, list[str]]) -> JSONResponse:
    return problem(400, "One or more validation errors occurred.", errors=errors)


def _permissions(login: Login, doctor_id: str) -> list[str]:
    if login.kind == "doctor":
        return ["View", "AddOrders", "RejectSetups", "Approve"]
    granted = login.permissions.get(doctor_id, frozenset())
    return [name for key, name in PERMISSION_NAMES.items() if key in granted]


def case_summary(portal: ClearCorrectPortal, case: Case, username: str) -> dict[str, Any]:
    return {
        "caseNumber": case.case_id,
        "patientName": case.patient_name,
        "patientId": case.patient_id,
        "doctorId": case.doctor_id,
        "doctorName": portal.doctor_name(case.doctor_id),
        "status": case.status,
        "group": case.group,
        "actionRequired": case.action_required,
        "createdAt": iso(case.created_at),
        "updatedAt": iso(case.updated_at),
        "unreadComments": case.unread_count(username),
    }


def setup_json(setup: Setup) -> dict[str, Any]:
    return {
        "setupId": setup.setup_id,
        "version": setup.version,
        "createdAt": iso(setup.created_at),
        "state": setup.state,
        "viewerUrl": setup.viewer_url,
        "declineReason": setup.decline_reason,
        "decidedBy": setup.decided_by,
        "decidedAt": iso(setup.decided_at) if setup.decided_at else None,
        "files": [{"name": f.name, "kind": f.kind, "size": f.size} for f in setup.files],
    }


def comment_json(comment: Comment, username: str) -> dict[str, Any]:
    return {
        "commentId": comment.comment_id,
        "authorName": comment.author_name,
        "authorRole": comment.author_role.title(),
        "body": comment.body,
        "createdAt": iso(comment.created_at),
        "unread": comment.unread_for(username),
    }


def case_detail(portal: ClearCorrectPortal, case: Case, login: Login) -> dict[str, Any]:
    detail = case_summary(portal, case, login.username)
    detail.update(
        practice=portal.data.doctors[case.doctor_id].practice,
        statusHistory=[{"status": h.status, "date": iso(h.at)} for h in case.status_history],
        setups=[setup_json(s) for s in case.setups],
        permissions=_permissions(login, case.doctor_id),
        canApprove=login.kind == "doctor" and login.doctor_id == case.doctor_id,
    )
    if login.kind == "doctor":
        detail["sharedWith"] = [
            {"partnerEmail": s.username, "sharedAt": iso(s.shared_at), "patientConsent": True}
            for s in sorted(case.shares.values(), key=lambda s: s.username)
        ]
    return detail


def account_json(portal: ClearCorrectPortal, login: Login) -> dict[str, Any]:
    doctors = portal.data.doctors
    doctor = doctors.get(login.doctor_id or "")
    return {
        "email": login.username,
        "displayName": login.display_name,
        "userType": "Doctor" if login.kind == "doctor" else "Partner",
        "doctorId": login.doctor_id,
        "practice": doctor.practice if doctor else None,
        "canApproveSetups": login.kind == "doctor",
        "partnerships": [
            {
                "doctorId": doctor_id,
                "doctorName": doctors[doctor_id].name,
                "practice": doctors[doctor_id].practice,
                "permissions": _permissions(login, doctor_id),
            }
            for doctor_id in sorted(login.permissions)
        ],
    }


def _first_params(request: Request) -> dict[str, str]:
    """Query parameters by lower-cased name, first value wins (ASP.NET binds names
    case-insensitively and takes the first of repeated scalars)."""
    params: dict[str, str] = {}
    for key, value in request.query_params.multi_items():
        params.setdefault(key.lower(), value)
    return params


def _parse_time(text: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _int_param(
    params: dict[str, str],
    name: str,
    default: int,
    low: int,
    high: int,
    errors: dict[str, list[str]],
) -> int:
    raw = params.get(name.lower())
    if raw is None:
        return default
    if not _DIGITS.fullmatch(raw) or not low <= int(raw) <= high:
        errors[name] = [f"The field {name} must be a whole number between {low} and {high}."]
        return default
    return int(raw)


async def _json_object(request: Request) -> dict[str, Any] | None:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None
    return data if isinstance(data, dict) else None


Handler = Callable[[Request], Awaitable[Response]]


def api_routes(portal: ClearCorrectPortal) -> list[Route]:
    def ok(payload: Any, status: int = 200) -> JSONResponse:
        return JSONResponse(current_layout(portal).json(payload), status_code=status)

    def authorise(request: Request, write: bool) -> Visitor | Response:
        current = visitor(portal, request)
        if current is None:
            return problem(401, "Unauthorized", "You are not logged in.")
        if current.session.password_expired:
            return problem(403, "Forbidden", "Your password has expired. Change it to continue.")
        if write and not token_valid(
            portal, request, request.headers.get(antiforgery.HEADER), current.login.username
        ):
            return problem(400, "Bad Request", "The anti-forgery token is missing or invalid.")
        return current

    def find_case(current: Visitor, request: Request) -> Case | Response:
        found = portal.visible_case(current.login.username, request.path_params["case_id"])
        if found is None:
            return problem(404, "Not Found", "Case not found.")
        return found

    def recorded(kind: str) -> Callable[[Callable[..., Awaitable[Response]]], Handler]:
        """Wrap a post handler: authorise it, then record what was posted and the outcome."""

        def wrap(handler: Callable[..., Awaitable[Response]]) -> Handler:
            async def run(request: Request) -> Response:
                current = authorise(request, write=True)
                if not isinstance(current, Visitor):
                    return current
                body = await _json_object(request)
                details: dict[str, Any] = dict(request.path_params)
                if body is None:
                    response: Response = problem(
                        400, "Bad Request", "The body must be a JSON object."
                    )
                else:
                    found = find_case(current, request)
                    if isinstance(found, Case):
                        try:
                            response = await handler(current, found, body, details)
                        except Refused as refused:
                            response = problem(
                                refused.status, _title(refused.status), refused.detail
                            )
                    else:
                        response = found
                details["status"] = response.status_code
                details["accepted"] = response.status_code < 300
                portal.recorder.record_post(kind, current.login.username, **details)
                return response

            return run

        return wrap

    async def account(request: Request) -> Response:
        current = authorise(request, write=False)
        if not isinstance(current, Visitor):
            return current
        issued = tokens(portal, request, current.login.username)
        return with_tokens(ok(account_json(portal, current.login)), issued, xsrf_cookie=True)

    async def list_cases(request: Request) -> Response:
        current = authorise(request, write=False)
        if not isinstance(current, Visitor):
            return current
        params = _first_params(request)
        errors: dict[str, list[str]] = {}
        group = params.get("group")
        if group is not None:
            matches = [g for g in GROUPS if g.lower() == group.lower()]
            if matches:
                group = matches[0]
            else:
                errors["group"] = [f"The group must be one of {', '.join(GROUPS)}."]
        since = None
        if "updatedsince" in params:
            since = _parse_time(params["updatedsince"])
            if since is None:
                errors["updatedSince"] = ["The updatedSince value is not a valid ISO 8601 time."]
        page = _int_param(params, "page", 1, 1, 1_000_000, errors)
        size = _int_param(params, "pageSize", DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE, errors)
        if errors:
            return invalid(errors)
        username = current.login.username
        selected = [
            c
            for c in portal.visible_cases(username)
            if (group is None or c.group == group) and (since is None or c.updated_at >= since)
        ]
        window = selected[(page - 1) * size : page * size]
        return ok(
            {
                "items": [case_summary(portal, c, username) for c in window],
                "page": page,
                "pageSize": size,
                "totalCount": len(selected),
                "totalPages": (len(selected) + size - 1) // size,
            }
        )

    async def get_case(request: Request) -> Response:
        current = authorise(request, write=False)
        if not isinstance(current, Visitor):
            return current
        found = find_case(current, request)
        if not isinstance(found, Case):
            return found
        return ok(case_detail(portal, found, current.login))

    async def list_comments(request: Request) -> Response:
        """Reading the chat never marks it read: only the explicit mark-read call does."""
        current = authorise(request, write=False)
        if not isinstance(current, Visitor):
            return current
        found = find_case(current, request)
        if not isinstance(found, Case):
            return found
        username = current.login.username
        return ok(
            {
                "items": [comment_json(c, username) for c in found.comments],
                "totalCount": len(found.comments),
                "unreadComments": found.unread_count(username),
            }
        )

    @recorded("comment")
    async def post_comment(
        current: Visitor, case: Case, body: dict[str, Any], details: dict[str, Any]
    ) -> Response:
        text = body.get("body")
        details["body"] = text
        if not isinstance(text, str) or not text.strip() or len(text) > MAX_COMMENT:
            return invalid({"body": [f"The message must be 1 to {MAX_COMMENT} characters."]})
        comment = portal.post_comment(current.login, case, text)
        details["comment_id"] = comment.comment_id
        return ok(comment_json(comment, current.login.username), status=201)

    @recorded("mark_read")
    async def mark_read(
        current: Visitor, case: Case, body: dict[str, Any], details: dict[str, Any]
    ) -> Response:
        ids = body.get("commentIds")
        if ids is not None and (
            not isinstance(ids, list) or not all(isinstance(i, str) for i in ids)
        ):
            return invalid({"commentIds": ["commentIds must be a list of comment ids."]})
        marked = portal.mark_read(current.login, case, ids)
        details["marked"] = marked
        return ok({"marked": marked, "unreadComments": case.unread_count(current.login.username)})

    def decision(case: Case, setup: Setup) -> dict[str, Any]:
        return {"caseNumber": case.case_id, "status": case.status, "setup": setup_json(setup)}

    @recorded("decline")
    async def decline(
        current: Visitor, case: Case, body: dict[str, Any], details: dict[str, Any]
    ) -> Response:
        reason = body.get("reason")
        details["reason"] = reason
        if not isinstance(reason, str) or not reason.strip() or len(reason) > MAX_REASON:
            return invalid({"reason": [f"The reason must be 1 to {MAX_REASON} characters."]})
        setup = portal.decline(current.login, case, details["setup_id"], reason)
        return ok(decision(case, setup))

    @recorded("approve")
    async def approve(
        current: Visitor, case: Case, body: dict[str, Any], details: dict[str, Any]
    ) -> Response:
        setup = portal.approve(current.login, case, details["setup_id"])
        return ok(decision(case, setup))

    @recorded("reinstate")
    async def reinstate(
        current: Visitor, case: Case, body: dict[str, Any], details: dict[str, Any]
    ) -> Response:
        setup = portal.reinstate(current.login, case, details["setup_id"])
        return ok(decision(case, setup))

    @recorded("share")
    async def share(
        current: Visitor, case: Case, body: dict[str, Any], details: dict[str, Any]
    ) -> Response:
        email, consent = body.get("partnerEmail"), body.get("patientConsent")
        details.update(partner_email=email, patient_consent=consent)
        if not isinstance(email, str) or not email.strip() or not isinstance(consent, bool):
            return invalid(
                {
                    "partnerEmail": [
                        "partnerEmail (text) and patientConsent (true/false) are required."
                    ]
                }
            )
        made = portal.share(current.login, case, email, consent)
        payload = {
            "partnerEmail": made.username,
            "sharedAt": iso(made.shared_at),
            "patientConsent": True,
        }
        return ok(payload, status=201)

    @recorded("unshare")
    async def unshare(
        current: Visitor, case: Case, body: dict[str, Any], details: dict[str, Any]
    ) -> Response:
        if not portal.unshare(current.login, case, details["email"]):
            return problem(404, "Not Found", "This case is not shared with that partner.")
        return Response(status_code=204)

    async def not_found(request: Request) -> Response:
        return problem(404, "Not Found")

    case_path = "/api/cases/{case_id}"
    return [
        Route("/api/account", account, methods=["GET"]),
        Route("/api/cases", list_cases, methods=["GET"]),
        Route(case_path, get_case, methods=["GET"]),
        Route(f"{case_path}/comments", list_comments, methods=["GET"]),
        Route(f"{case_path}/comments", post_comment, methods=["POST"]),
        Route(f"{case_path}/comments/mark-read", mark_read, methods=["POST"]),
        Route(f"{case_path}/setups/{{setup_id}}/decline", decline, methods=["POST"]),
        Route(f"{case_path}/setups/{{setup_id}}/approve", approve, methods=["POST"]),
        Route(f"{case_path}/setups/{{setup_id}}/reinstate", reinstate, methods=["POST"]),
        Route(f"{case_path}/shares", share, methods=["POST"]),
        Route(f"{case_path}/shares/{{email}}", unshare, methods=["DELETE"]),
        Route("/api/{rest:path}", not_found),
    ]


def _title(status: int) -> str:
    return {400: "Bad Request", 403: "Forbidden", 404: "Not Found", 409: "Conflict"}.get(
        status, "Error"
    )
