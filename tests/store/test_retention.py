"""Retention: removed cases and old events are purged; live data and pending deliveries stay."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from connector.accounts.service import create_account
from connector.clock import utcnow
from connector.domain import EventType
from connector.retention import purge
from connector.store import Store, events
from connector.store.schema import cases, comments, webhook_deliveries
from connector.store.schema import events as events_table
from tests.conftest import BOTH_DATABASES
from tests.store.test_store import make_vault
from vault import Secret


@BOTH_DATABASES
async def test_purge_respects_retention(store: Store) -> None:
    vault = make_vault(store)
    account = await create_account(
        store, vault, vendor="clearcorrect", username="r@x.io", password=Secret("password-1234")
    )
    now = utcnow()
    old, recent = now - timedelta(days=40), now - timedelta(days=5)
    async with store.transaction() as conn:
        for n, removed in enumerate([old, recent, None]):
            await conn.execute(
                cases.insert().values(
                    id=f"case_{n:026d}",
                    account_id=account.id,
                    vendor="clearcorrect",
                    vendor_case_id=str(n),
                    status="unknown",
                    action_required=False,
                    unread_comments=0,
                    content_hash="x",
                    created_at=old,
                    updated_at=old,
                    removed_at=removed,
                )
            )
            await conn.execute(
                comments.insert().values(
                    id=f"cmt_{n:026d}",
                    case_id=f"case_{n:026d}",
                    vendor_comment_id="c",
                    author_role="doctor",
                    body="health data",
                    unread=False,
                    posted_by_connector=False,
                    content_hash="x",
                    created_at=old,
                    updated_at=old,
                )
            )
        kept = await events.append_event(
            conn,
            type=EventType.CASE_UPDATED,
            account_id=account.id,
            subject_id=None,
            data={},
            now=old,
        )
        gone = await events.append_event(
            conn,
            type=EventType.CASE_UPDATED,
            account_id=account.id,
            subject_id=None,
            data={},
            now=old,
        )
        fresh = await events.append_event(
            conn,
            type=EventType.CASE_UPDATED,
            account_id=account.id,
            subject_id=None,
            data={},
            now=now,
        )
        await conn.execute(
            webhook_deliveries.insert().values(
                event_id=kept,
                endpoint="tps",
                status="pending",
                attempts=3,
                next_attempt_at=now,
                expires_at=now + timedelta(hours=1),
                created_at=old,
                updated_at=old,
            )
        )

    purged = await purge(
        store,
        now=now,
        removed_case_retention=timedelta(days=30),
        event_retention=timedelta(days=30),
    )
    assert purged.cases == 1
    assert purged.events == 1
    async with store.read() as conn:
        left = {r.vendor_case_id for r in (await conn.execute(sa.select(cases))).all()}
        left_comments = (
            await conn.execute(sa.select(sa.func.count()).select_from(comments))
        ).scalar_one()
        left_events = {r.id for r in (await conn.execute(sa.select(events_table.c.id))).all()}
    assert left == {"1", "2"}
    assert left_comments == 2
    assert left_events == {kept, fresh}
    assert gone not in left_events
