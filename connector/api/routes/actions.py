"""Outbound actions: post a comment, reject a setup with a reason. Exactly once per key.

The request is recorded (202) and performed by the action loop, which is woken at once; poll
`GET /v1/actions/{id}` or wait for `action.succeeded` / `action.failed`. There is no approve
endpoint: the connector has no way to approve a plan.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response

from connector.actions.requests import request_action
from connector.api.errors import CONFLICT, NOT_FOUND
from connector.api.models import BAD_BODY, ID_PATTERN, ActionOut, CommentCreate, SetupReject
from connector.api.routes.cases import CaseId
from connector.api.state import context
from connector.domain import ActionKind
from connector.errors import InputError
from connector.store import actions as action_rows

router = APIRouter(tags=["actions"])

IDEMPOTENCY_HEADER = "Idempotency-Key"

#: Declared by hand (and read by hand) so that a missing key gets a message that says what to do.
_IDEMPOTENCY_PARAMETER: dict[str, Any] = {
    "parameters": [
        {
            "name": IDEMPOTENCY_HEADER,
            "in": "header",
            "required": True,
            "description": "A key you choose per intended action (1-200 visible ASCII "
            "characters), sent again unchanged when retrying: the same key on the same route "
            "returns the action it created; with a different body it is a 409.",
            "schema": {
                "type": "string",
                "minLength": 1,
                "maxLength": 200,
                "pattern": "^[\\x21-\\x7e]+$",
            },
            "example": "tps-comment-8812",
        }
    ]
}

_ACTION_RESPONSES: dict[int | str, dict[str, Any]] = {
    **BAD_BODY,
    **NOT_FOUND,
    **CONFLICT,
    202: {
        "description": "Recorded (or found under this key); performed in the background.",
        "headers": {
            "Location": {
                "description": "Where to follow the action: `/v1/actions/{id}`.",
                "schema": {"type": "string"},
            }
        },
    },
}


def _idempotency_key(request: Request) -> str:
    value = request.headers.get(IDEMPOTENCY_HEADER)
    if value is None:
        raise InputError(
            f"the {IDEMPOTENCY_HEADER} header is required: send a key unique to this action, "
            "and the same key when retrying"
        )
    return value


async def _record(
    request: Request,
    response: Response,
    *,
    kind: ActionKind,
    case_id: str,
    body: str,
    setup_id: str | None = None,
) -> ActionOut:
    ctx = context(request)
    action, created = await request_action(
        ctx.runtime.store,
        kind=kind,
        case_id=case_id,
        body=body,
        idempotency_key=_idempotency_key(request),
        setup_id=setup_id,
    )
    if created:
        ctx.wakers.actions()
    response.headers["Location"] = f"/v1/actions/{action.id}"
    return ActionOut.model_validate(action.to_json())


@router.post(
    "/cases/{case_id}/comments",
    status_code=202,
    summary="Post a comment on the case (exactly once)",
    responses=_ACTION_RESPONSES,
    openapi_extra=_IDEMPOTENCY_PARAMETER,
)
async def post_comment(
    case_id: CaseId, body: CommentCreate, request: Request, response: Response
) -> ActionOut:
    return await _record(
        request, response, kind=ActionKind.COMMENT, case_id=case_id, body=body.body
    )


@router.post(
    "/cases/{case_id}/setups/{setup_id}/reject",
    status_code=202,
    summary="Reject a setup with a reason (exactly once)",
    description="ClearCorrect: declines the 3D setup; Invisalign: requests a modification of "
    "the ClinCheck plan. Refused (the action fails at once, with a reason) while the login "
    "has excess rights, is paused, or waits for a password.",
    responses=_ACTION_RESPONSES,
    openapi_extra=_IDEMPOTENCY_PARAMETER,
)
async def reject_setup(
    case_id: CaseId,
    setup_id: Annotated[str, Path(pattern=ID_PATTERN, description="The setup's id.")],
    body: SetupReject,
    request: Request,
    response: Response,
) -> ActionOut:
    return await _record(
        request,
        response,
        kind=ActionKind.REJECT_SETUP,
        case_id=case_id,
        body=body.reason,
        setup_id=setup_id,
    )


@router.get("/actions/{action_id}", summary="One action and its outcome", responses=NOT_FOUND)
async def get_action(
    action_id: Annotated[str, Path(pattern=ID_PATTERN, description="The action's id.")],
    request: Request,
) -> ActionOut:
    async with context(request).runtime.store.read() as conn:
        action = await action_rows.get_action(conn, action_id)
    return ActionOut.model_validate(action.to_json())
