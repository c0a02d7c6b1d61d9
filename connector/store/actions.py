"""Outbound actions (comments, setup rejections): the recorded intent, its status and result."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from connector.domain import ActionKind, ActionStatus
from connector.errors import NotFoundError
from connector.store.schema import actions


@dataclass(frozen=True)
class Action:
    id: str
    account_id: str
    case_id: str
    setup_id: str | None
    kind: ActionKind
    scope: str
    idempotency_key: str
    request_hash: str
    body: str
    status: ActionStatus
    attempts: int
    result: dict[str, Any] | None
    error: str | None
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None

    def __repr__(self) -> str:  # the body is health data
        return f"Action({self.id!r}, {self.kind}, {self.status})"

    def to_json(self) -> dict[str, Any]:
        def iso(value: datetime | None) -> str | None:
            return value.isoformat().replace("+00:00", "Z") if value else None

        return {
            "id": self.id,
            "kind": str(self.kind),
            "account_id": self.account_id,
            "case_id": self.case_id,
            "setup_id": self.setup_id,
            "idempotency_key": self.idempotency_key,
            "body": self.body,
            "status": str(self.status),
            "attempts": self.attempts,
            "result": self.result,
            "error": self.error,
            "created_at": iso(self.created_at),
            "updated_at": iso(self.updated_at),
            "finished_at": iso(self.finished_at),
        }


def _action(row: sa.Row[Any]) -> Action:
    m = row._mapping
    return Action(
        id=m["id"],
        account_id=m["account_id"],
        case_id=m["case_id"],
        setup_id=m["setup_id"],
        kind=ActionKind(m["kind"]),
        scope=m["scope"],
        idempotency_key=m["idempotency_key"],
        request_hash=m["request_hash"],
        body=m["body"],
        status=ActionStatus(m["status"]),
        attempts=m["attempts"],
        result=m["result"],
        error=m["error"],
        created_at=m["created_at"],
        updated_at=m["updated_at"],
        finished_at=m["finished_at"],
    )


async def insert_action(conn: AsyncConnection, action: Action) -> None:
    await conn.execute(
        actions.insert().values(
            id=action.id,
            account_id=action.account_id,
            case_id=action.case_id,
            setup_id=action.setup_id,
            kind=str(action.kind),
            scope=action.scope,
            idempotency_key=action.idempotency_key,
            request_hash=action.request_hash,
            body=action.body,
            status=str(action.status),
            attempts=action.attempts,
            result=action.result,
            error=action.error,
            created_at=action.created_at,
            updated_at=action.updated_at,
            finished_at=action.finished_at,
        )
    )


async def get_action(conn: AsyncConnection, action_id: str, *, lock: bool = False) -> Action:
    query = sa.select(actions).where(actions.c.id == action_id)
    if lock:
        query = query.with_for_update()
    row = (await conn.execute(query)).first()
    if row is None:
        raise NotFoundError(f"no action {action_id}")
    return _action(row)


async def find_by_key(conn: AsyncConnection, scope: str, idempotency_key: str) -> Action | None:
    query = sa.select(actions).where(
        actions.c.scope == scope, actions.c.idempotency_key == idempotency_key
    )
    row = (await conn.execute(query)).first()
    return _action(row) if row else None


async def update_action(
    conn: AsyncConnection, action_id: str, *, now: datetime, **values: Any
) -> Action:
    if "status" in values:
        values["status"] = str(values["status"])
    await conn.execute(
        actions.update().where(actions.c.id == action_id).values(updated_at=now, **values)
    )
    return await get_action(conn, action_id)


async def open_actions(conn: AsyncConnection, limit: int = 100) -> list[Action]:
    """Pending and running actions (a running one whose process died is retried), oldest first."""
    query = (
        sa.select(actions)
        .where(actions.c.status.in_([str(ActionStatus.PENDING), str(ActionStatus.RUNNING)]))
        .order_by(actions.c.created_at, actions.c.id)
        .limit(limit)
    )
    return [_action(r) for r in (await conn.execute(query)).all()]


async def list_actions(
    conn: AsyncConnection, *, case_id: str | None = None, limit: int = 100
) -> list[Action]:
    query = (
        sa.select(actions).order_by(actions.c.created_at.desc(), actions.c.id.desc()).limit(limit)
    )
    if case_id is not None:
        query = query.where(actions.c.case_id == case_id)
    return [_action(r) for r in (await conn.execute(query)).all()]
