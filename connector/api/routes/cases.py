"""`/v1/cases`: synced cases with their setups and comments (read-only).

The list is ordered by (`updated_at`, `id`) and paged by keyset on that pair, oldest change
first: a client that pages to the end has seen every case as of some moment, and a case
inserted or updated meanwhile comes after its cursor (at the end), never shifting a page. To
follow changes reliably (commit order, nothing missed), read `/v1/changes` instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response

from connector.api.errors import NOT_FOUND
from connector.api.models import (
    ID_PATTERN,
    TEXT_PATTERN,
    CaseDetail,
    CaseList,
    CommentList,
    QueryTime,
    SetupList,
    Vendor,
)
from connector.api.pagination import (
    CASES,
    CasesCursor,
    Limit,
    decode_cursor,
    utc,
    written_page_response,
)
from connector.api.plain_query import PlainQueryRoute
from connector.api.state import context
from connector.domain import CaseStatus
from connector.store import cases as case_rows
from connector.store.case_list import list_case_page_json

router = APIRouter(prefix="/cases", tags=["cases"], route_class=PlainQueryRoute)

CaseId = Annotated[
    str,
    Path(
        pattern=ID_PATTERN,
        description="The case's id.",
        examples=["case_01j9z3k4m5n6p7q8r9s0t1v2w4"],
    ),
]


@router.get(
    "",
    summary="List cases",
    description="Filters combine with AND. Removed cases (gone from the portal) are left out "
    "unless `include_removed=true`.",
    response_model=CaseList,
)
async def list_cases(
    request: Request,
    practice_id: Annotated[
        str | None, Query(min_length=1, max_length=200, pattern=TEXT_PATTERN)
    ] = None,
    vendor: Annotated[Vendor | None, Query()] = None,
    account_id: Annotated[str | None, Query(pattern=ID_PATTERN)] = None,
    status: Annotated[CaseStatus | None, Query(description="The normalized status.")] = None,
    action_required: Annotated[
        bool | None, Query(description="Only cases waiting (or not) on the doctor.")
    ] = None,
    updated_since: Annotated[
        QueryTime | None,
        Query(
            description="Only cases whose `updated_at` is at or after this time (RFC 3339, "
            "with an offset).",
            examples=["2026-03-02T09:30:00Z"],
        ),
    ] = None,
    include_removed: bool = False,
    limit: Limit = 100,
    cursor: CasesCursor = None,
) -> Response:
    after = decode_cursor(cursor, CASES) if cursor else None
    async with context(request).runtime.store.statement() as conn:
        rows = await list_case_page_json(
            conn,
            practice_id=practice_id,
            vendor=vendor,
            account_id=account_id,
            status=status,
            action_required=action_required,
            updated_since=utc(updated_since) if updated_since else None,
            include_removed=include_removed,
            after=after,
            limit=limit + 1,
        )
    return written_page_response(rows, limit, _sort_key, "cases")


def _sort_key(row: Sequence[Any]) -> dict[str, Any]:
    """The cursor values of a listed case: its JSON, its `updated_at` as RFC 3339 text, its id."""
    return {"t": datetime.fromisoformat(row[1]), "i": row[2]}


@router.get(
    "/{case_id}",
    summary="One case, with its setups and comments",
    responses=NOT_FOUND,
)
async def get_case(case_id: CaseId, request: Request) -> CaseDetail:
    async with context(request).runtime.store.read() as conn:
        case = await case_rows.get_case_json(conn, case_id)
        case["setups"] = await case_rows.case_setups_json(conn, case_id)
        case["comments"] = await case_rows.case_comments_json(conn, case_id)
    return CaseDetail.model_validate(case)


@router.get(
    "/{case_id}/setups",
    summary="The case's setups (treatment-plan versions), oldest version first",
    responses=NOT_FOUND,
)
async def list_setups(case_id: CaseId, request: Request) -> SetupList:
    async with context(request).runtime.store.read() as conn:
        await case_rows.get_case_json(conn, case_id)
        items = await case_rows.case_setups_json(conn, case_id)
    return SetupList.model_validate({"items": items, "next_cursor": None})


@router.get(
    "/{case_id}/comments",
    summary="The case's comments, oldest first",
    responses=NOT_FOUND,
)
async def list_comments(case_id: CaseId, request: Request) -> CommentList:
    async with context(request).runtime.store.read() as conn:
        await case_rows.get_case_json(conn, case_id)
        items = await case_rows.case_comments_json(conn, case_id)
    return CommentList.model_validate({"items": items, "next_cursor": None})
