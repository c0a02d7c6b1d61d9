"""Sealed secret records: the only table that holds ciphertext."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from connector.errors import NotFoundError
from connector.store.driver import driver_plan
from connector.store.schema import sealed_secrets
from vault import Purpose, SealedRecord


@dataclass(frozen=True)
class StoredSecret:
    id: str
    account_id: str
    purpose: Purpose
    record: SealedRecord


def _stored(row: sa.Row[Any]) -> StoredSecret:
    m = row._mapping
    return StoredSecret(
        id=m["id"],
        account_id=m["account_id"],
        purpose=Purpose(m["purpose"]),
        record=sealed_record(m),
    )


def sealed_record(m: Mapping[Any, Any]) -> SealedRecord:
    """The record in a row (its mapping) that holds `sealed_secrets`' columns."""
    return SealedRecord(
        format_version=m["format_version"],
        kek_id=m["kek_id"],
        wrapped_key=bytes(m["wrapped_key"]),
        nonce=bytes(m["nonce"]),
        ciphertext=bytes(m["ciphertext"]),
    )


async def insert_sealed(
    conn: AsyncConnection,
    *,
    sealed_id: str,
    account_id: str,
    purpose: Purpose,
    record: SealedRecord,
    now: datetime,
) -> None:
    await driver_plan(_INSERT, conn.dialect).rowcount(
        conn, sealed_row(sealed_id, account_id, purpose, record, now)
    )


def sealed_row(
    sealed_id: str, account_id: str, purpose: Purpose, record: SealedRecord, now: datetime
) -> dict[str, Any]:
    """A sealed record's row (also what bulk writers insert)."""
    return {
        "id": sealed_id,
        "account_id": account_id,
        "purpose": str(purpose),
        "format_version": record.format_version,
        "kek_id": record.kek_id,
        "wrapped_key": record.wrapped_key,
        "nonce": record.nonce,
        "ciphertext": record.ciphertext,
        "created_at": now,
    }


#: Built once and run as a driver plan: a sync that keeps its session seals a record on every
#: run.
_INSERT = sealed_secrets.insert().values(
    {
        name: sa.bindparam(name)
        for name in (
            "id",
            "account_id",
            "purpose",
            "format_version",
            "kek_id",
            "wrapped_key",
            "nonce",
            "ciphertext",
            "created_at",
        )
    }
)
_DELETE = sealed_secrets.delete().where(sealed_secrets.c.id == sa.bindparam("b_id"))
_DELETE_OTHERS = sealed_secrets.delete().where(
    sealed_secrets.c.account_id == sa.bindparam("b_account"),
    sealed_secrets.c.purpose == sa.bindparam("b_purpose"),
    sealed_secrets.c.id != sa.bindparam("b_keep"),
)


async def load_sealed(conn: AsyncConnection, sealed_id: str) -> StoredSecret:
    query = sa.select(sealed_secrets).where(sealed_secrets.c.id == sealed_id)
    row = (await conn.execute(query)).first()
    if row is None:
        raise NotFoundError("the sealed record is gone (the account may have been deleted)")
    return _stored(row)


async def delete_sealed(conn: AsyncConnection, sealed_id: str) -> None:
    await conn.execute(_DELETE, {"b_id": sealed_id})


async def delete_others(
    conn: AsyncConnection, account_id: str, purpose: Purpose, keep: str
) -> None:
    """Shred the account's records for `purpose` but `keep` (for a purpose the account holds
    one record of at a time: the one a new record replaces, without reading its id first)."""
    params = {"b_account": account_id, "b_purpose": str(purpose), "b_keep": keep}
    await driver_plan(_DELETE_OTHERS, conn.dialect).rowcount(conn, params)


async def kek_counts(conn: AsyncConnection) -> dict[str, int]:
    query = sa.select(sealed_secrets.c.kek_id, sa.func.count()).group_by(sealed_secrets.c.kek_id)
    return {kid: int(n) for kid, n in (await conn.execute(query)).all()}


async def count_on_kek(conn: AsyncConnection, kek_id: str) -> int:
    query = sa.select(sa.func.count()).where(sealed_secrets.c.kek_id == kek_id)
    return int((await conn.execute(query)).scalar_one())


async def batch_not_on(
    conn: AsyncConnection, kek_id: str, *, after_id: str | None, limit: int
) -> list[StoredSecret]:
    """The next records (by id) wrapped by any KEK other than `kek_id`."""
    query = (
        sa.select(sealed_secrets)
        .where(sealed_secrets.c.kek_id != kek_id)
        .order_by(sealed_secrets.c.id)
        .limit(limit)
    )
    if after_id is not None:
        query = query.where(sealed_secrets.c.id > after_id)
    return [_stored(r) for r in (await conn.execute(query)).all()]


async def update_wrapping(
    conn: AsyncConnection, rows: list[tuple[StoredSecret, SealedRecord]], now: datetime
) -> int:
    """Store new wrapped keys. Guarded by the old KEK id, so a concurrent rotation or a row
    rewritten in the meantime (new credentials) is left alone rather than overwritten."""
    if not rows:
        return 0
    statement = (
        sealed_secrets.update()
        .where(
            sealed_secrets.c.id == sa.bindparam("b_id"),
            sealed_secrets.c.kek_id == sa.bindparam("b_old_kek"),
        )
        .values(
            kek_id=sa.bindparam("b_new_kek"),
            wrapped_key=sa.bindparam("b_wrapped"),
            rewrapped_at=now,
        )
    )
    params = [
        {
            "b_id": old.id,
            "b_old_kek": old.record.kek_id,
            "b_new_kek": new.kek_id,
            "b_wrapped": new.wrapped_key,
        }
        for old, new in rows
    ]
    result = await conn.execute(statement, params)
    return int(result.rowcount)
