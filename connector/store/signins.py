"""Portal logins and their sign-in attempts (the rows behind `connector.accounts.gate`).

A portal login is a vendor plus a normalized username: the thing the portal counts failures
and locks out. Its row is created on first use and never deleted with an account.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from connector.store.accounts import username_key
from connector.store.dialect import upsert
from connector.store.driver import driver_plan
from connector.store.schema import login_attempts, portal_logins


class AttemptOutcome(StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"  # the sign-in completed: the portal's failure count is reset
    ACCEPTED = "accepted"  # this step passed; another (a code) follows
    FAILED = "failed"  # the portal counted a failure (or may have: an unanswered first try)
    TRANSIENT = "transient"  # no answer, on a credential that has signed in before
    NOT_COUNTED = "not_counted"  # refused before the portal judged the login


@dataclass(frozen=True)
class PortalLogin:
    vendor: str
    login_key: str
    failures: int
    locked_until: datetime | None
    last_success_at: datetime | None
    last_failure_at: datetime | None
    confirmed_at: datetime | None


@dataclass(frozen=True)
class Attempt:
    id: int
    vendor: str
    login_key: str
    account_id: str | None
    credential_ref: str
    credential_version: int | None
    source: str
    step: str
    outcome: AttemptOutcome
    reason: str | None
    holder: str
    at: datetime
    settled_at: datetime | None


def _login(m: Mapping[Any, Any]) -> PortalLogin:
    return PortalLogin(
        vendor=m["vendor"],
        login_key=m["login_key"],
        failures=m["failures"],
        locked_until=m["locked_until"],
        last_success_at=m["last_success_at"],
        last_failure_at=m["last_failure_at"],
        confirmed_at=m["confirmed_at"],
    )


def _attempt(m: Mapping[Any, Any]) -> Attempt:
    return Attempt(
        id=m["id"],
        vendor=m["vendor"],
        login_key=m["login_key"],
        account_id=m["account_id"],
        credential_ref=m["credential_ref"],
        credential_version=m["credential_version"],
        source=m["source"],
        step=m["step"],
        outcome=AttemptOutcome(m["outcome"]),
        reason=m["reason"],
        holder=m["holder"],
        at=m["at"],
        settled_at=m["settled_at"],
    )


def _key(vendor: str, username: str) -> sa.ColumnElement[bool]:
    return sa.and_(
        portal_logins.c.vendor == vendor, portal_logins.c.login_key == username_key(username)
    )


#: Built once: the gate reads the login on every decision.
_LOGIN = sa.select(portal_logins).where(
    portal_logins.c.vendor == sa.bindparam("b_vendor"),
    portal_logins.c.login_key == sa.bindparam("b_key"),
)
_LOGIN_LOCKED = _LOGIN.with_for_update()


async def portal_login(
    conn: AsyncConnection, vendor: str, username: str, now: datetime, *, lock: bool = False
) -> PortalLogin:
    """The portal login's row, created on first use. `lock` serialises deciders on PostgreSQL
    (SELECT ... FOR UPDATE); on SQLite the write transaction's BEGIN IMMEDIATE already does."""
    params = {"b_vendor": vendor, "b_key": username_key(username)}
    plan = driver_plan(_LOGIN_LOCKED if lock else _LOGIN, conn.dialect)
    row = await plan.first(conn, params)
    if row is None:
        insert = upsert(conn, portal_logins).values(
            vendor=vendor,
            login_key=username_key(username),
            failures=0,
            created_at=now,
            updated_at=now,
        )
        await conn.execute(insert.on_conflict_do_nothing(index_elements=["vendor", "login_key"]))
        row = await plan.first(conn, params)
        assert row is not None  # inserted above, or by another decider meanwhile
    return _login(row)


async def find_portal_login(
    conn: AsyncConnection, vendor: str, username: str
) -> PortalLogin | None:
    """Read only: None when the login was never tried."""
    row = (await conn.execute(sa.select(portal_logins).where(_key(vendor, username)))).first()
    return _login(row._mapping) if row else None


async def update_portal_login(
    conn: AsyncConnection, vendor: str, username: str, now: datetime, **values: Any
) -> None:
    await conn.execute(
        portal_logins.update().where(_key(vendor, username)).values(updated_at=now, **values)
    )


async def insert_attempt(
    conn: AsyncConnection,
    *,
    vendor: str,
    username: str,
    account_id: str | None,
    credential_ref: str,
    credential_version: int | None,
    source: str,
    step: str,
    holder: str,
    now: datetime,
) -> int:
    result = await conn.execute(
        login_attempts.insert()
        .values(
            vendor=vendor,
            login_key=username_key(username),
            account_id=account_id,
            credential_ref=credential_ref,
            credential_version=credential_version,
            source=source,
            step=step,
            outcome=str(AttemptOutcome.PENDING),
            holder=holder,
            at=now,
        )
        .returning(login_attempts.c.id)
    )
    return int(result.scalar_one())


async def get_attempt(conn: AsyncConnection, attempt_id: int) -> Attempt:
    row = (
        await conn.execute(sa.select(login_attempts).where(login_attempts.c.id == attempt_id))
    ).one()
    return _attempt(row._mapping)


async def settle_attempt(
    conn: AsyncConnection,
    attempt_id: int,
    outcome: AttemptOutcome,
    reason: str | None,
    now: datetime,
) -> bool:
    """Settle a pending attempt; False when it was settled already (by the gate, say)."""
    result = await conn.execute(
        login_attempts.update()
        .where(
            login_attempts.c.id == attempt_id,
            login_attempts.c.outcome == str(AttemptOutcome.PENDING),
        )
        .values(outcome=str(outcome), reason=reason, settled_at=now)
    )
    return bool(result.rowcount)


_PENDING = (
    sa.select(login_attempts)
    .where(
        login_attempts.c.vendor == sa.bindparam("b_vendor"),
        login_attempts.c.login_key == sa.bindparam("b_key"),
        login_attempts.c.outcome == str(AttemptOutcome.PENDING),
    )
    .order_by(login_attempts.c.id)
)


async def pending_attempts(conn: AsyncConnection, vendor: str, username: str) -> list[Attempt]:
    params = {"b_vendor": vendor, "b_key": username_key(username)}
    return [_attempt(r) for r in await driver_plan(_PENDING, conn.dialect).mappings(conn, params)]


async def adopt_trial(
    conn: AsyncConnection,
    trial_ref: str,
    account_id: str,
    credential_id: str,
    credential_version: int,
) -> None:
    """A typed login the portal accepted was stored: its attempts now name the stored version."""
    await conn.execute(
        login_attempts.update()
        .where(login_attempts.c.credential_ref == trial_ref)
        .values(
            credential_ref=credential_id,
            account_id=account_id,
            credential_version=credential_version,
        )
    )


async def list_attempts(
    conn: AsyncConnection, vendor: str, username: str, *, limit: int = 100
) -> list[Attempt]:
    """The newest attempts of one portal login, newest first."""
    query = (
        sa.select(login_attempts)
        .where(
            login_attempts.c.vendor == vendor,
            login_attempts.c.login_key == username_key(username),
        )
        .order_by(login_attempts.c.id.desc())
        .limit(limit)
    )
    return [_attempt(r._mapping) for r in (await conn.execute(query)).all()]


async def purge_settled_attempts(conn: AsyncConnection, before: datetime) -> int:
    """Retention: settled attempts older than `before` (the budget lives on `portal_logins`,
    so history can go without changing any decision)."""
    result = await conn.execute(
        login_attempts.delete().where(
            login_attempts.c.at < before,
            login_attempts.c.outcome != str(AttemptOutcome.PENDING),
        )
    )
    return int(result.rowcount or 0)
