"""Running outbound actions exactly once, also across crashes.

The intent is recorded before anything is sent. An attempt runs under the account's lease (the
same one syncs take, so a sync and an action never share or race a session) and inside the
account's portal session. The text carries a marker, `[ref:<action id>]`. Before any retry,
including after a crash that left the action `running`, the portal is searched for that marker:
found means the earlier attempt landed, and the action succeeds without posting again. A POST
whose answer was lost is never resent blindly (the HTTP policy raises `OutcomeUnknown`); the next
attempt's marker search decides.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime, timedelta
from typing import Any

import structlog

from adapters.base import (
    ActionRefused,
    AdapterError,
    NotFound,
    OutcomeUnknown,
    PortalSession,
    SignInRefused,
    marker_for,
    no_code,
)
from connector.accounts.gate import AttemptSource
from connector.accounts.lease import LeaseBusy, account_lease
from connector.accounts.meaning import RefusalReason
from connector.actions.requests import REFUSED
from connector.clock import utcnow
from connector.domain import Account, ActionKind, ActionStatus, EventType
from connector.store import accounts as account_rows
from connector.store import actions as action_rows
from connector.store import cases as case_rows
from connector.store import events
from connector.sync.portal import keep_session, open_session, record_error
from connector.sync.services import SyncServices

_log = structlog.get_logger("connector.actions")

MAX_ATTEMPTS = 8
GIVE_UP_AFTER = timedelta(hours=24)


def retry_delay(attempts: int) -> timedelta:
    """Wait before attempt `attempts + 1`: 5 s, 10 s, 20 s ... capped at 10 minutes."""
    return timedelta(seconds=min(600, 5 * 2 ** max(0, attempts - 1)))


def is_due(action: action_rows.Action, now: datetime) -> bool:
    if action.status is ActionStatus.RUNNING:
        return True  # only reached when its lease is free: the process running it is gone
    return action.attempts == 0 or action.updated_at + retry_delay(action.attempts) <= now


async def _finish(
    services: SyncServices,
    action: action_rows.Action,
    status: ActionStatus,
    *,
    result: dict[str, Any] | None = None,
    error: str | None = None,
) -> action_rows.Action:
    now = utcnow()
    async with services.store.transaction() as conn:
        done = await action_rows.update_action(
            conn, action.id, now=now, status=status, result=result, error=error, finished_at=now
        )
        await events.append_event(
            conn,
            type=(
                EventType.ACTION_SUCCEEDED
                if status is ActionStatus.SUCCEEDED
                else EventType.ACTION_FAILED
            ),
            account_id=action.account_id,
            subject_id=action.id,
            data=done.to_json(),
            now=now,
        )
    _log.info("action.finished", action_id=action.id, kind=str(action.kind), status=str(status))
    return done


async def _back_to_pending(
    services: SyncServices, action: action_rows.Action, error: str
) -> action_rows.Action:
    now = utcnow()
    if action.attempts >= MAX_ATTEMPTS or now - action.created_at > GIVE_UP_AFTER:
        return await _finish(
            services,
            action,
            ActionStatus.FAILED,
            error=f"gave up after {action.attempts} attempts: {error}",
        )
    async with services.store.transaction() as conn:
        return await action_rows.update_action(
            conn, action.id, now=now, status=ActionStatus.PENDING, error=error
        )


async def _vendor_ids(services: SyncServices, action: action_rows.Action) -> tuple[str, str | None]:
    async with services.store.read() as conn:
        ref = await case_rows.case_ref(conn, action.case_id, action.setup_id)
    return ref.vendor_case_id, ref.vendor_setup_id


async def run_action(services: SyncServices, action_id: str) -> action_rows.Action | None:
    """One attempt at an action. None when the account is busy (another sync or action)."""
    async with services.store.read() as conn:
        action = await action_rows.get_action(conn, action_id)
    if action.status in (ActionStatus.SUCCEEDED, ActionStatus.FAILED):
        return action
    try:
        async with account_lease(
            services.store, action.account_id, holder=services.holder, ttl=services.lease_ttl
        ):
            return await asyncio.shield(_attempt(services, action_id))
    except LeaseBusy:
        return None


async def _attempt(services: SyncServices, action_id: str) -> action_rows.Action:
    now = utcnow()
    async with services.store.transaction() as conn:
        action = await action_rows.get_action(conn, action_id, lock=True)
        if action.status in (ActionStatus.SUCCEEDED, ActionStatus.FAILED):
            return action
        account = await account_rows.get_account(conn, action.account_id)
    refusal = REFUSED.get(account.status)
    if refusal:
        return await _finish(services, action, ActionStatus.FAILED, error=f"refused: {refusal}")
    previous_attempts = action.attempts
    vendor_case_id, vendor_setup_id = await _vendor_ids(services, action)
    try:
        session = await open_session(
            services, account, no_code, reason=f"action {action.id}", source=AttemptSource.ACTION
        )
    except SignInRefused as refused:
        # Nothing was sent. A lockout ends by itself: the action waits for it; anything else
        # needs a person, so the action fails with the gate's reason.
        if refused.why == RefusalReason.LOCKED or refused.why == RefusalReason.IN_FLIGHT:
            return action
        return await _finish(services, action, ActionStatus.FAILED, error=f"refused: {refused}")
    except AdapterError as error:
        return await _failed_sign_in(services, account, action, error)
    async with services.store.transaction() as conn:
        action = await action_rows.update_action(
            conn, action.id, now=now, status=ActionStatus.RUNNING, attempts=previous_attempts + 1
        )
    try:
        return await _perform(
            services, account, action, session, vendor_case_id, vendor_setup_id, previous_attempts
        )
    finally:
        with contextlib.suppress(AdapterError):
            await keep_session(services, account, session)
        await session.close()


async def _failed_sign_in(
    services: SyncServices,
    account: Account,
    action: action_rows.Action,
    error: AdapterError,
) -> action_rows.Action:
    outcome, _ = await record_error(services, account.id, error, policy=services.policy)
    if outcome.status in REFUSED:
        return await _finish(
            services, action, ActionStatus.FAILED, error=f"refused: {REFUSED[outcome.status]}"
        )
    # Nothing was posted (the sign-in failed first); it counts, so the action gives up in time.
    async with services.store.transaction() as conn:
        action = await action_rows.update_action(
            conn, action.id, now=utcnow(), attempts=action.attempts + 1
        )
    return await _back_to_pending(services, action, outcome.message)


async def _perform(
    services: SyncServices,
    account: Account,
    action: action_rows.Action,
    session: PortalSession,
    vendor_case_id: str,
    vendor_setup_id: str | None,
    previous_attempts: int,
) -> action_rows.Action:
    marker = marker_for(action.id)
    try:
        if previous_attempts > 0 and await session.find_marker(vendor_case_id, marker):
            return await _finish(
                services,
                action,
                ActionStatus.SUCCEEDED,
                result={"vendor_id": None, "found_marker": True},
            )
        if action.kind is ActionKind.COMMENT:
            posted = await session.post_comment(vendor_case_id, action.body, marker)
        else:
            assert vendor_setup_id is not None
            posted = await session.reject_setup(
                vendor_case_id, vendor_setup_id, action.body, marker
            )
        return await _finish(
            services,
            action,
            ActionStatus.SUCCEEDED,
            result={"vendor_id": posted.vendor_id, "found_marker": False},
        )
    except OutcomeUnknown as error:
        # It may have landed: never resend now; the next attempt searches for the marker.
        return await _back_to_pending(services, action, f"outcome unknown: {error}")
    except (ActionRefused, NotFound) as error:
        return await _finish(services, action, ActionStatus.FAILED, error=str(error))
    except AdapterError as error:
        outcome, _ = await record_error(services, account.id, error, policy=services.policy)
        if outcome.status in REFUSED:
            return await _finish(
                services, action, ActionStatus.FAILED, error=f"refused: {REFUSED[outcome.status]}"
            )
        return await _back_to_pending(services, action, outcome.message)


async def run_due_actions(services: SyncServices, *, limit: int = 100) -> list[action_rows.Action]:
    """One pass over the open actions that are due; returns what each attempt left."""
    now = utcnow()
    async with services.store.read() as conn:
        due = [a for a in await action_rows.open_actions(conn, limit) if is_due(a, now)]
    results = []
    for action in due:
        result = await run_action(services, action.id)
        if result is not None:
            results.append(result)
    return results
