"""The audit log: every decryption (and shredding) with what, when, why and by whom."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from connector.store.driver import driver_plan
from connector.store.schema import audit_log


def actor() -> str:
    """Which process did it: host and pid (several workers may share one database)."""
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass(frozen=True)
class AuditEntry:
    at: datetime
    account_id: str
    action: str
    purpose: str | None
    kek_id: str | None
    reason: str
    actor: str


async def insert_audit(
    conn: AsyncConnection,
    *,
    at: datetime,
    account_id: str,
    action: str,
    reason: str,
    purpose: str | None = None,
    kek_id: str | None = None,
) -> None:
    await driver_plan(_INSERT, conn.dialect).rowcount(
        conn,
        {
            "at": at,
            "account_id": account_id,
            "action": action,
            "purpose": purpose,
            "kek_id": kek_id,
            "reason": reason[:200],
            "actor": actor(),
        },
    )


#: Built once (every decryption writes one) and run as a driver plan.
_INSERT = audit_log.insert().values(
    {
        name: sa.bindparam(name)
        for name in ("at", "account_id", "action", "purpose", "kek_id", "reason", "actor")
    }
)


async def list_audit(conn: AsyncConnection, account_id: str | None = None) -> list[AuditEntry]:
    query = sa.select(audit_log).order_by(audit_log.c.id)
    if account_id is not None:
        query = query.where(audit_log.c.account_id == account_id)
    return [
        AuditEntry(
            at=r.at,
            account_id=r.account_id,
            action=r.action,
            purpose=r.purpose,
            kek_id=r.kek_id,
            reason=r.reason,
            actor=r.actor,
        )
        for r in (await conn.execute(query)).all()
    ]
