"""Asking for an outbound action: validated, recorded first, idempotent per key and route.

The same `Idempotency-Key` on the same route (kind, case, setup) returns the action it created;
reused with a different body it is a conflict. An action the account may not perform right now
(excess permissions, paused, waiting for a password) is recorded and failed at once with a clear
reason and an `action.failed` event, so the TPS hears about it the same way as any failure.
"""

from __future__ import annotations

import hashlib
import json
import re

from connector.clock import utcnow
from connector.domain import AccountStatus, ActionKind, ActionStatus, EventType
from connector.errors import ConflictError, InputError
from connector.store import accounts as account_rows
from connector.store import actions as action_rows
from connector.store import cases as case_rows
from connector.store import events
from connector.store.database import Store
from connector.store.ids import new_id

MAX_COMMENT = 4000
MAX_REASON = 2000
_KEY = re.compile(r"^[\x21-\x7e]{1,200}$")

#: Account statuses in which outbound actions are refused, and why (in words for the TPS).
REFUSED = {
    AccountStatus.EXCESS_PERMISSIONS: "the login has more rights than it should (it could "
    "approve plans); actions stay refused until the extra right is removed",
    AccountStatus.DISABLED: "the account is paused",
    AccountStatus.LOGIN_REQUIRED: "the portal needs new credentials for this account",
    AccountStatus.INSUFFICIENT_PERMISSIONS: "the login lacks the rights to see cases",
}


def scope_of(kind: ActionKind, case_id: str, setup_id: str | None) -> str:
    return f"{kind}:{case_id}" + (f":{setup_id}" if setup_id else "")


def request_hash(kind: ActionKind, case_id: str, setup_id: str | None, body: str) -> str:
    canonical = json.dumps([str(kind), case_id, setup_id, body], separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _check(kind: ActionKind, body: str, idempotency_key: str) -> str:
    if not _KEY.match(idempotency_key):
        raise InputError("the Idempotency-Key must be 1-200 visible ASCII characters")
    text = body.strip()
    limit = MAX_COMMENT if kind is ActionKind.COMMENT else MAX_REASON
    what = "comment" if kind is ActionKind.COMMENT else "reason"
    if not text:
        raise InputError(f"the {what} is empty")
    if len(text) > limit:
        raise InputError(f"the {what} is longer than {limit} characters")
    if "\x00" in text:
        raise InputError(f"the {what} contains a NUL character")
    return text


async def request_action(
    store: Store,
    *,
    kind: ActionKind,
    case_id: str,
    body: str,
    idempotency_key: str,
    setup_id: str | None = None,
) -> tuple[action_rows.Action, bool]:
    """Record the intent (or find the one recorded under this key). Returns (action, created)."""
    text = _check(kind, body, idempotency_key)
    if kind is ActionKind.REJECT_SETUP and setup_id is None:
        raise InputError("rejecting needs a setup")
    scope = scope_of(kind, case_id, setup_id)
    digest = request_hash(kind, case_id, setup_id, text)
    now = utcnow()
    async with store.transaction() as conn:
        existing = await action_rows.find_by_key(conn, scope, idempotency_key)
        if existing is not None:
            if existing.request_hash != digest:
                raise ConflictError(
                    "this Idempotency-Key was already used on this route with a different body"
                )
            return existing, False
        case = await case_rows.case_ref(conn, case_id, setup_id)
        if case.removed:
            raise ConflictError("the case is no longer on the portal")
        account = await account_rows.get_account(conn, case.account_id)
        refusal = REFUSED.get(account.status)
        action = action_rows.Action(
            id=new_id("act"),
            account_id=account.id,
            case_id=case_id,
            setup_id=setup_id,
            kind=kind,
            scope=scope,
            idempotency_key=idempotency_key,
            request_hash=digest,
            body=text,
            status=ActionStatus.FAILED if refusal else ActionStatus.PENDING,
            attempts=0,
            result=None,
            error=f"refused: {refusal}" if refusal else None,
            created_at=now,
            updated_at=now,
            finished_at=now if refusal else None,
        )
        await action_rows.insert_action(conn, action)
        if refusal:
            await events.append_event(
                conn,
                type=EventType.ACTION_FAILED,
                account_id=account.id,
                subject_id=action.id,
                data=action.to_json(),
                now=now,
            )
    return action, True
