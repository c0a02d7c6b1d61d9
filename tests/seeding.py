"""Seeding cases straight into a store, through the sync engine's own writer (`write_page`), so
a seeded case is stored exactly as a synced one would be."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from adapters.base import CaseDetail, CaseSummary, Comment, Setup
from connector.store import Connection, case_pages
from connector.store.cases import Change


async def seed_case(
    conn: Connection,
    *,
    account_id: str,
    vendor: str,
    summary: CaseSummary,
    now: datetime,
    practice_id: str | None = None,
    vendor_created_at: datetime | None = None,
    setups: Sequence[Setup] = (),
    comments: Sequence[Comment] = (),
) -> tuple[str, Change]:
    """Store one case (its events are not appended: a seed announces nothing); returns its id
    and what the write did to it."""
    detail = CaseDetail(summary, vendor_created_at, tuple(setups), tuple(comments))
    written = await case_pages.write_page(
        conn,
        account_id=account_id,
        vendor=vendor,
        items=[case_pages.CaseWrite(detail, practice_id)],
        now=now,
        first_sync=True,
    )
    number = summary.vendor_case_id
    return written.ids[number], written.changes[number]
