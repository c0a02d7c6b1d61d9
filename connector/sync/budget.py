"""The login-failure budget (DESIGN section 5).

ClearCorrect locks an account for 20 minutes after 3 failed logins. Failures from the form and
from syncs together are capped at 2 per 20 minutes per account, so nothing the connector does can
ever be the third strike.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from connector.store.schema import login_attempts

WINDOW = timedelta(minutes=20)
MAX_FAILURES = 2
FAILED_OUTCOMES = frozenset({"invalid_credentials", "account_locked", "mfa_code_rejected"})


async def recent_failures(conn: AsyncConnection, account_id: str, now: datetime) -> list[datetime]:
    query = (
        sa.select(login_attempts.c.at)
        .where(
            login_attempts.c.account_id == account_id,
            login_attempts.c.at > now - WINDOW,
            login_attempts.c.outcome.in_(FAILED_OUTCOMES),
        )
        .order_by(login_attempts.c.at)
    )
    return [r.at for r in (await conn.execute(query)).all()]


async def budget_exhausted_until(
    conn: AsyncConnection, account_id: str, now: datetime
) -> datetime | None:
    """None when a login may be tried now; otherwise when the budget frees up again."""
    failures = await recent_failures(conn, account_id, now)
    if len(failures) < MAX_FAILURES:
        return None
    return failures[-MAX_FAILURES] + WINDOW


async def record_attempt(
    conn: AsyncConnection,
    account_id: str,
    *,
    source: str,
    outcome: str,
    credential_version: int,
    now: datetime,
) -> None:
    await conn.execute(
        login_attempts.insert().values(
            account_id=account_id,
            at=now,
            source=source,
            outcome=outcome,
            credential_version=credential_version,
        )
    )
