"""`/v1/practice-mappings`: which TPS practice a vendor's doctor belongs to.

Needed when one login serves several practices (a TPS-wide ClearCorrect partner email): each
case carries the vendor's doctor id, and a mapping gives it a `practice_id`. Putting a mapping
also assigns the practice to the cases already synced for that doctor (on accounts that do not
serve one practice of their own), with a `case.updated` event each, in the same transaction.
"""

from __future__ import annotations

from typing import Annotated

import structlog
from fastapi import APIRouter, Path, Query, Request

from connector.api.models import BAD_BODY, TEXT_PATTERN, MappingList, MappingOut, MappingPut, Vendor
from connector.api.pagination import MAPPINGS, Limit, MappingsCursor, decode_cursor, page
from connector.api.state import context
from connector.clock import utcnow
from connector.credentials import check_practice_id
from connector.store import cases as case_rows
from connector.store import practices

router = APIRouter(prefix="/practice-mappings", tags=["practices"])
_log = structlog.get_logger("connector.api")

DoctorId = Annotated[
    str,
    Path(
        min_length=1,
        max_length=100,
        pattern=TEXT_PATTERN,
        description="The vendor's id of the doctor, as cases show it in `doctor.vendor_id`.",
        examples=["dr-77"],
    ),
]


@router.put(
    "/{vendor}/{vendor_doctor_id}",
    summary="Map a vendor's doctor to a TPS practice",
    description="Creates or replaces the mapping, and assigns the practice to that doctor's "
    "synced cases on accounts that serve several practices (`case.updated` for each).",
    responses=BAD_BODY,
)
async def put_mapping(
    vendor: Annotated[Vendor, Path(description="invisalign or clearcorrect.")],
    vendor_doctor_id: DoctorId,
    body: MappingPut,
    request: Request,
) -> MappingOut:
    practice_id = check_practice_id(body.practice_id)
    assert practice_id is not None
    now = utcnow()
    async with context(request).runtime.store.transaction() as conn:
        mapping = await practices.put_mapping(conn, vendor, vendor_doctor_id, practice_id, now)
        assigned = await case_rows.assign_practice(conn, vendor, vendor_doctor_id, practice_id, now)
    _log.info("practice_mapping.put", vendor=vendor, cases_assigned=assigned)
    return MappingOut(
        vendor=mapping.vendor,
        vendor_doctor_id=mapping.vendor_doctor_id,
        practice_id=mapping.practice_id,
        updated_at=mapping.updated_at,
        cases_assigned=assigned,
    )


@router.get("", summary="List practice mappings")
async def list_mappings(
    request: Request,
    vendor: Annotated[Vendor | None, Query()] = None,
    limit: Limit = 100,
    cursor: MappingsCursor = None,
) -> MappingList:
    after = decode_cursor(cursor, MAPPINGS) if cursor else None
    async with context(request).runtime.store.read() as conn:
        rows = await practices.list_mappings(conn, vendor, after=after, limit=limit + 1)
    items, next_cursor = page(
        rows, limit, lambda r: {"v": r.vendor, "d": r.vendor_doctor_id}, "mappings"
    )
    return MappingList(
        items=[
            MappingOut(
                vendor=r.vendor,
                vendor_doctor_id=r.vendor_doctor_id,
                practice_id=r.practice_id,
                updated_at=r.updated_at,
            )
            for r in items
        ],
        next_cursor=next_cursor,
    )
