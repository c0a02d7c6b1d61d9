"""Credential versions: which sealed login is current, and the previous one kept for rollback."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from connector.domain import CredentialState
from connector.store.driver import driver_plan
from connector.store.schema import credentials


@dataclass(frozen=True)
class CredentialVersion:
    id: str
    account_id: str
    version: int
    username: str
    sealed_id: str
    has_totp: bool
    state: CredentialState
    rejected_at: datetime | None
    created_at: datetime
    signed_in_at: datetime | None = None


def _credential(m: Mapping[Any, Any]) -> CredentialVersion:
    return CredentialVersion(
        id=m["id"],
        account_id=m["account_id"],
        version=m["version"],
        username=m["username"],
        sealed_id=m["sealed_id"],
        has_totp=m["has_totp"],
        state=CredentialState(m["state"]),
        rejected_at=m["rejected_at"],
        created_at=m["created_at"],
        signed_in_at=m["signed_in_at"],
    )


async def insert_credential(conn: AsyncConnection, credential: CredentialVersion) -> None:
    await conn.execute(
        credentials.insert().values(
            id=credential.id,
            account_id=credential.account_id,
            version=credential.version,
            username=credential.username,
            sealed_id=credential.sealed_id,
            has_totp=credential.has_totp,
            state=str(credential.state),
            rejected_at=credential.rejected_at,
            created_at=credential.created_at,
        )
    )


async def credential_in_state(
    conn: AsyncConnection, account_id: str, state: CredentialState
) -> CredentialVersion | None:
    params = {"b_account": account_id, "b_state": str(state)}
    row = await driver_plan(_IN_STATE, conn.dialect).first(conn, params)
    return _credential(row) if row else None


#: Built once: the gate reads an account's credential on every decision.
_IN_STATE = (
    sa.select(credentials)
    .where(
        credentials.c.account_id == sa.bindparam("b_account"),
        credentials.c.state == sa.bindparam("b_state"),
    )
    .order_by(credentials.c.version.desc())
    .limit(1)
)
_BY_ID = sa.select(credentials).where(credentials.c.id == sa.bindparam("b_id"))


async def list_credentials(conn: AsyncConnection, account_id: str) -> list[CredentialVersion]:
    query = (
        sa.select(credentials)
        .where(credentials.c.account_id == account_id)
        .order_by(credentials.c.version)
    )
    return [_credential(r._mapping) for r in (await conn.execute(query)).all()]


async def set_state(conn: AsyncConnection, credential_id: str, state: CredentialState) -> None:
    await conn.execute(
        credentials.update().where(credentials.c.id == credential_id).values(state=str(state))
    )


async def mark_rejected(conn: AsyncConnection, credential_id: str, now: datetime) -> None:
    await conn.execute(
        credentials.update().where(credentials.c.id == credential_id).values(rejected_at=now)
    )


async def mark_signed_in(conn: AsyncConnection, credential_id: str, now: datetime) -> None:
    await conn.execute(
        credentials.update().where(credentials.c.id == credential_id).values(signed_in_at=now)
    )


async def get_credential(conn: AsyncConnection, credential_id: str) -> CredentialVersion | None:
    row = await driver_plan(_BY_ID, conn.dialect).first(conn, {"b_id": credential_id})
    return _credential(row) if row else None


async def max_version(conn: AsyncConnection, account_id: str) -> int:
    query = sa.select(sa.func.max(credentials.c.version)).where(
        credentials.c.account_id == account_id
    )
    return int((await conn.execute(query)).scalar_one() or 0)


async def delete_credential(conn: AsyncConnection, credential_id: str) -> None:
    await conn.execute(credentials.delete().where(credentials.c.id == credential_id))
