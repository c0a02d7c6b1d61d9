"""Accounts: one vendor login each, unique per vendor and (case-insensitive) username."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from connector.domain import Account, AccountStatus
from connector.errors import ConflictError, NotFoundError
from connector.store.driver import driver_plan
from connector.store.schema import accounts, portal_logins


def username_key(username: str) -> str:
    return username.strip().casefold()


def _account(m: Mapping[Any, Any]) -> Account:
    """An account row (its mapping) joined (`_SELECT`) with its portal login's budget and
    lockout."""
    return Account(
        id=m["id"],
        vendor=m["vendor"],
        username=m["username"],
        practice_id=m["practice_id"],
        status=AccountStatus(m["status"]),
        status_reason=m["status_reason"],
        status_message=m["status_message"],
        capabilities=list(m["capabilities"] or []),
        access=m["access"],
        locked_until=m["portal_locked_until"],
        credential_version=m["credential_version"],
        sync_cursor=m["sync_cursor"],
        last_sync_at=m["last_sync_at"],
        next_sync_at=m["next_sync_at"],
        last_full_sync_at=m["last_full_sync_at"],
        last_error=m["last_error"],
        failure_count=m["failure_count"],
        created_at=m["created_at"],
        updated_at=m["updated_at"],
        sign_in_failures=m["portal_failures"] or 0,
    )


# The lockout and the failure count belong to the portal login (they outlive the account and its
# credential versions), so every read of an account joins them in.
_SELECT = sa.select(
    accounts,
    portal_logins.c.failures.label("portal_failures"),
    portal_logins.c.locked_until.label("portal_locked_until"),
).select_from(
    accounts.outerjoin(
        portal_logins,
        sa.and_(
            portal_logins.c.vendor == accounts.c.vendor,
            portal_logins.c.login_key == accounts.c.username_key,
        ),
    )
)


async def insert_account(
    conn: AsyncConnection,
    *,
    account_id: str,
    vendor: str,
    username: str,
    practice_id: str | None,
    status: AccountStatus,
    now: datetime,
) -> Account:
    values: dict[str, Any] = {
        "id": account_id,
        "vendor": vendor,
        "username": username.strip(),
        "username_key": username_key(username),
        "practice_id": practice_id,
        "status": str(status),
        "capabilities": [],
        "credential_version": 0,
        "next_sync_at": now,
        "created_at": now,
        "updated_at": now,
    }
    try:
        async with conn.begin_nested():
            await conn.execute(accounts.insert().values(**values))
    except IntegrityError:
        raise ConflictError(
            f"a {vendor} account with this username already exists; update its credentials instead"
        ) from None
    return await get_account(conn, account_id)


#: Built once (every sync reads its account in each transaction): a statement built per call
#: costs its construction and its cache key again, about as much as running it.
_BY_ID = _SELECT.where(accounts.c.id == sa.bindparam("b_id"))
_BY_ID_LOCKED = _BY_ID.with_for_update(of=accounts)


async def get_account(conn: AsyncConnection, account_id: str, *, lock: bool = False) -> Account:
    """One account. `lock` takes a row lock on PostgreSQL (SELECT ... FOR UPDATE) for a
    read-modify-write; on SQLite the write transaction's BEGIN IMMEDIATE already serialises."""
    plan = driver_plan(_BY_ID_LOCKED if lock else _BY_ID, conn.dialect)
    row = await plan.first(conn, {"b_id": account_id})
    if row is None:
        raise NotFoundError(f"no account {account_id}")
    return _account(row)


async def find_account(conn: AsyncConnection, vendor: str, username: str) -> Account | None:
    query = _SELECT.where(
        accounts.c.vendor == vendor, accounts.c.username_key == username_key(username)
    )
    row = (await conn.execute(query)).first()
    return _account(row._mapping) if row else None


async def list_accounts(
    conn: AsyncConnection,
    *,
    practice_id: str | None = None,
    vendor: str | None = None,
    status: AccountStatus | None = None,
    after_id: str | None = None,
    limit: int = 100,
) -> list[Account]:
    query = _SELECT.order_by(accounts.c.id).limit(limit)
    if practice_id is not None:
        query = query.where(accounts.c.practice_id == practice_id)
    if vendor is not None:
        query = query.where(accounts.c.vendor == vendor)
    if status is not None:
        query = query.where(accounts.c.status == str(status))
    if after_id is not None:
        query = query.where(accounts.c.id > after_id)
    return [_account(r._mapping) for r in (await conn.execute(query)).all()]


_UPDATABLE = frozenset(
    {
        "username",
        "practice_id",
        "status",
        "status_reason",
        "status_message",
        "capabilities",
        "access",
        "credential_version",
        "sync_cursor",
        "last_sync_at",
        "next_sync_at",
        "last_full_sync_at",
        "last_error",
        "failure_count",
    }
)


async def update_account(
    conn: AsyncConnection, account_id: str, *, now: datetime, **values: Any
) -> Account:
    unknown = set(values) - _UPDATABLE
    if unknown:
        raise ValueError(f"not updatable: {', '.join(sorted(unknown))}")
    if "status" in values:
        values["status"] = str(values["status"])
    if "username" in values:
        values["username_key"] = username_key(values["username"])
        values["username"] = values["username"].strip()
    result = await conn.execute(
        accounts.update().where(accounts.c.id == account_id).values(updated_at=now, **values)
    )
    if result.rowcount == 0:
        raise NotFoundError(f"no account {account_id}")
    return await get_account(conn, account_id)


async def update_account_if_status(
    conn: AsyncConnection,
    account_id: str,
    expected: AccountStatus,
    *,
    now: datetime,
    **values: Any,
) -> bool:
    """`update_account` while the stored status is still `expected`, without reading the row
    back; False when it is not (changed meanwhile, or the account is gone)."""
    unknown = set(values) - _UPDATABLE - {"username_key"}
    if unknown or "username" in values:
        raise ValueError(f"not updatable here: {', '.join(sorted(unknown or {'username'}))}")
    if "status" in values:
        values["status"] = str(values["status"])
    statement = _status_update(frozenset(values))
    params = {f"v_{k}": v for k, v in values.items()}
    params.update(v_updated_at=now, b_id=account_id, b_status=str(expected))
    return bool(await driver_plan(statement, conn.dialect).rowcount(conn, params))


#: `update_account_if_status` statements by the columns they set (a sync's end sets the same
#: ones every time: built once, its compiled form cached).
_STATUS_UPDATES: dict[frozenset[str], sa.Update] = {}


def _status_update(columns: frozenset[str]) -> sa.Update:
    statement = _STATUS_UPDATES.get(columns)
    if statement is None:
        statement = (
            accounts.update()
            .where(accounts.c.id == sa.bindparam("b_id"))
            .where(accounts.c.status == sa.bindparam("b_status"))
            .values({c: sa.bindparam(f"v_{c}") for c in sorted(columns | {"updated_at"})})
        )
        _STATUS_UPDATES[columns] = statement
    return statement


async def due_account_ids(
    conn: AsyncConnection, now: datetime, limit: int, *, skip_statuses: Iterable[AccountStatus]
) -> list[str]:
    """Accounts whose next sync is due, the longest waiting first."""
    query = (
        sa.select(accounts.c.id)
        .where(
            accounts.c.next_sync_at.is_not(None),
            accounts.c.next_sync_at <= now,
            accounts.c.status.not_in([str(s) for s in skip_statuses]),
        )
        .order_by(accounts.c.next_sync_at)
        .limit(limit)
    )
    return [r.id for r in (await conn.execute(query)).all()]


async def delete_account(conn: AsyncConnection, account_id: str) -> bool:
    """Delete the account; ON DELETE CASCADE removes its secrets and synced data with it."""
    result = await conn.execute(accounts.delete().where(accounts.c.id == account_id))
    return bool(result.rowcount)
