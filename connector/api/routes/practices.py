"""`/v1/practice-mappings`: which TPS practice a vendor's doctor belongs to.

Needed when one login serves several practices (a TPS-wide ClearCorrect partner email): each
case carries the vendor's doctor id, and a mapping gives it a `practice_id`. Putting a mapping
also assigns the practice to the cases already synced for that doctor (on accounts that do not
serve one practice of their own), with a `case.updated` event each, in the same transaction.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import sqlalchemy as sa
import structlog
from fastapi import APIRouter, Path, Query, Request
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.base import CaseSummary
from connector.api.models import BAD_BODY, TEXT_PATTERN, MappingList, MappingOut, MappingPut, Vendor
from connector.api.pagination import Cursor, Limit, after_key, decode_cursor, page
from connector.api.state import context
from connector.clock import utcnow
from connector.credentials import check_practice_id
from connector.domain import CaseStatus
from connector.store import cases as case_rows
from connector.store import events, practices
from connector.store.schema import accounts, cases, practice_mappings

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


def _content_hash(row: sa.Row[object], practice_id: str) -> str:
    """The case's content hash as the sync engine computes it (`upsert_case`), so that the next
    sync does not see the new practice as a change of its own."""
    m = row._mapping
    summary = CaseSummary(
        vendor_case_id=m["vendor_case_id"],
        patient_name=m["patient_name"],
        patient_id=m["patient_id"],
        vendor_doctor_id=m["vendor_doctor_id"],
        vendor_doctor_name=m["vendor_doctor_name"],
        status=CaseStatus(m["status"]),
        vendor_status=m["vendor_status"],
        action_required=m["action_required"],
        unread_comments=m["unread_comments"],
        updated_at=m["vendor_updated_at"],
    )
    values = case_rows.summary_values(summary)
    values["practice_id"] = practice_id
    values["vendor_created_at"] = m["vendor_created_at"]
    return case_rows.content_hash(values)


async def assign_practice(
    conn: AsyncConnection, vendor: str, vendor_doctor_id: str, practice_id: str, now: datetime
) -> int:
    """Give the practice to the doctor's live cases on accounts without a practice of their
    own; one `case.updated` event per case that changed. Returns how many changed."""
    query = (
        sa.select(cases)
        .join(accounts, accounts.c.id == cases.c.account_id)
        .where(
            cases.c.vendor == vendor,
            cases.c.vendor_doctor_id == vendor_doctor_id,
            cases.c.removed_at.is_(None),
            accounts.c.practice_id.is_(None),
            sa.or_(cases.c.practice_id.is_(None), cases.c.practice_id != practice_id),
        )
        .order_by(cases.c.id)
    )
    rows = (await conn.execute(query)).all()
    for row in rows:
        await conn.execute(
            cases.update()
            .where(cases.c.id == row.id)
            .values(
                practice_id=practice_id,
                content_hash=_content_hash(row, practice_id),
                updated_at=now,
            )
        )
        await events.append_event(
            conn,
            type="case.updated",
            account_id=row.account_id,
            subject_id=row.id,
            data=await case_rows.get_case_json(conn, row.id),
            now=now,
        )
    return len(rows)


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
        assigned = await assign_practice(conn, vendor, vendor_doctor_id, practice_id, now)
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
    cursor: Cursor = None,
) -> MappingList:
    table = practice_mappings
    query = sa.select(table).order_by(table.c.vendor, table.c.vendor_doctor_id).limit(limit + 1)
    if vendor is not None:
        query = query.where(table.c.vendor == vendor)
    if cursor:
        key = decode_cursor(cursor, "mappings", ("v", "d"))
        query = query.where(
            after_key((table.c.vendor, table.c.vendor_doctor_id), (key["v"], key["d"]))
        )
    async with context(request).runtime.store.read() as conn:
        rows = list((await conn.execute(query)).all())
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
