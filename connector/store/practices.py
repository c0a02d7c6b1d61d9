"""Practice mappings: which TPS practice a vendor's doctor belongs to.

Needed when one login serves several practices (a TPS-wide ClearCorrect partner email):
each case carries the vendor's doctor id, and this table maps it to the TPS's practice id.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from connector.store.dialect import upsert
from connector.store.paging import after_key
from connector.store.schema import practice_mappings


@dataclass(frozen=True)
class PracticeMapping:
    vendor: str
    vendor_doctor_id: str
    practice_id: str
    updated_at: datetime


async def put_mapping(
    conn: AsyncConnection, vendor: str, vendor_doctor_id: str, practice_id: str, now: datetime
) -> PracticeMapping:
    statement = upsert(conn, practice_mappings).values(
        vendor=vendor,
        vendor_doctor_id=vendor_doctor_id,
        practice_id=practice_id,
        created_at=now,
        updated_at=now,
    )
    statement = statement.on_conflict_do_update(
        index_elements=[practice_mappings.c.vendor, practice_mappings.c.vendor_doctor_id],
        set_={"practice_id": statement.excluded.practice_id, "updated_at": now},
    )
    await conn.execute(statement)
    return PracticeMapping(vendor, vendor_doctor_id, practice_id, now)


async def list_mappings(
    conn: AsyncConnection,
    vendor: str | None = None,
    *,
    after: tuple[str, str] | None = None,
    limit: int | None = None,
) -> list[PracticeMapping]:
    """Mappings by (vendor, doctor id), after the keyset `after`."""
    table = practice_mappings
    query = sa.select(table).order_by(table.c.vendor, table.c.vendor_doctor_id).limit(limit)
    if vendor is not None:
        query = query.where(table.c.vendor == vendor)
    if after is not None:
        query = query.where(after_key((table.c.vendor, table.c.vendor_doctor_id), after))
    return [
        PracticeMapping(r.vendor, r.vendor_doctor_id, r.practice_id, r.updated_at)
        for r in (await conn.execute(query)).all()
    ]


# Looked up for every case a shared login syncs: built once, with parameters.
_PRACTICE_FOR = sa.select(practice_mappings.c.practice_id).where(
    practice_mappings.c.vendor == sa.bindparam("b_vendor"),
    practice_mappings.c.vendor_doctor_id == sa.bindparam("b_doctor"),
)


async def practice_for(conn: AsyncConnection, vendor: str, vendor_doctor_id: str) -> str | None:
    result = await conn.execute(_PRACTICE_FOR, {"b_vendor": vendor, "b_doctor": vendor_doctor_id})
    value = result.scalar_one_or_none()
    return str(value) if value is not None else None


async def practices_for(
    conn: AsyncConnection, vendor: str, vendor_doctor_ids: set[str]
) -> dict[str, str]:
    """The practices mapped to these doctors (one query for a whole page of cases)."""
    if not vendor_doctor_ids:
        return {}
    query = sa.select(practice_mappings.c.vendor_doctor_id, practice_mappings.c.practice_id).where(
        practice_mappings.c.vendor == vendor,
        practice_mappings.c.vendor_doctor_id.in_(sorted(vendor_doctor_ids)),
    )
    return {str(d): str(p) for d, p in (await conn.execute(query)).all()}
