"""`/v1/accounts`: vendor logins. Secrets go in and never come out.

The API never logs in to a portal inside a request: a new or changed account is made due now
and the scheduler is woken, and the result shows up in the account's status (and an
`account.status_changed` event).
"""

from __future__ import annotations

from typing import Annotated

import structlog
from fastapi import APIRouter, Path, Query, Request, Response

from connector.accounts import service
from connector.api.errors import CONFLICT, NOT_FOUND
from connector.api.models import (
    BAD_BODY,
    ID_PATTERN,
    TEXT_PATTERN,
    AccountCreate,
    AccountList,
    AccountOut,
    CredentialsUpdate,
    SyncRunList,
    Vendor,
)
from connector.api.pagination import (
    ACCOUNTS,
    RUNS,
    AccountsCursor,
    Limit,
    RunsCursor,
    decode_cursor,
    page,
)
from connector.api.state import ApiContext, context
from connector.clock import utcnow
from connector.domain import Account, AccountStatus
from connector.files import blob_remover, blob_stores
from connector.store import accounts as account_rows
from connector.store import runs as run_rows

router = APIRouter(prefix="/accounts", tags=["accounts"])
_log = structlog.get_logger("connector.api")

AccountId = Annotated[
    str,
    Path(
        pattern=ID_PATTERN,
        description="The account's id.",
        examples=["acc_01j9z3k4m5n6p7q8r9s0t1v2w3"],
    ),
]


def _out(ctx: ApiContext, account: Account) -> AccountOut:
    """The account as the API shows it, after a change: the scheduler is woken when the change
    made the account due now (the sync, not the request, signs in)."""
    due = account.next_sync_at
    if due is not None and due <= utcnow() and account.status is not AccountStatus.DISABLED:
        ctx.wakers.sync()
    return AccountOut.model_validate(account.to_json())


@router.post(
    "",
    status_code=201,
    summary="Add a vendor login",
    description="Stores the login encrypted, with status `verifying`; the next sync (started at "
    "once) logs in, checks the login's rights and moves it to `active` or says what is wrong.",
    responses={**BAD_BODY, **CONFLICT},
)
async def create_account(body: AccountCreate, request: Request) -> AccountOut:
    ctx = context(request)
    account = await service.create_account(
        ctx.runtime.store,
        ctx.runtime.vault,
        vendor=body.vendor,
        username=body.username,
        password=body.password,
        totp_secret=body.totp_secret,
        practice_id=body.practice_id,
    )
    return _out(ctx, account)


@router.get("", summary="List accounts")
async def list_accounts(
    request: Request,
    practice_id: Annotated[
        str | None, Query(min_length=1, max_length=200, pattern=TEXT_PATTERN)
    ] = None,
    vendor: Annotated[Vendor | None, Query()] = None,
    status: AccountStatus | None = None,
    limit: Limit = 100,
    cursor: AccountsCursor = None,
) -> AccountList:
    after = decode_cursor(cursor, ACCOUNTS)[0] if cursor else None
    async with context(request).runtime.store.read() as conn:
        rows = await account_rows.list_accounts(
            conn,
            practice_id=practice_id,
            vendor=vendor,
            status=status,
            after_id=after,
            limit=limit + 1,
        )
    items, next_cursor = page(rows, limit, lambda a: {"i": a.id}, "accounts")
    return AccountList.model_validate(
        {"items": [a.to_json() for a in items], "next_cursor": next_cursor}
    )


@router.get("/{account_id}", summary="One account", responses=NOT_FOUND)
async def get_account(account_id: AccountId, request: Request) -> AccountOut:
    async with context(request).runtime.store.read() as conn:
        account = await account_rows.get_account(conn, account_id)
    return AccountOut.model_validate(account.to_json())


@router.put(
    "/{account_id}/credentials",
    status_code=202,
    summary="Replace the login's credentials",
    description="Plaid's update mode: same account id, status back to `verifying`, verified by a "
    "sync started at once. The version before is kept for a manual rollback.",
    responses={**BAD_BODY, **NOT_FOUND, **CONFLICT},
)
async def put_credentials(
    account_id: AccountId, body: CredentialsUpdate, request: Request
) -> AccountOut:
    ctx = context(request)
    account = await service.update_credentials(
        ctx.runtime.store,
        ctx.runtime.vault,
        account_id,
        password=body.password,
        username=body.username,
        totp_secret=body.totp_secret,
    )
    return _out(ctx, account)


@router.post(
    "/{account_id}/credentials/rollback",
    status_code=202,
    summary="Go back to the previous credentials",
    description="Manual only (the connector never rolls back by itself). 409 when there is no "
    "previous version.",
    responses={**NOT_FOUND, **CONFLICT},
)
async def rollback(account_id: AccountId, request: Request) -> AccountOut:
    ctx = context(request)
    return _out(ctx, await service.rollback_credentials(ctx.runtime.store, account_id))


@router.post(
    "/{account_id}/pause",
    status_code=202,
    summary="Pause syncing (status `disabled`)",
    description="No sync and no outbound action runs until resumed. Pausing a paused account "
    "changes nothing.",
    responses=NOT_FOUND,
)
async def pause(account_id: AccountId, request: Request) -> AccountOut:
    account, _ = await service.pause(context(request).runtime.store, account_id)
    return AccountOut.model_validate(account.to_json())


@router.post(
    "/{account_id}/resume",
    status_code=202,
    summary="Resume a paused account",
    description="Status `verifying` and due now, unless the portal's lockout has not ended "
    "(`locked`, due when it ends) or the portal rejected the stored password (`login_required`: "
    "send new credentials). Resuming an account that is not paused changes nothing.",
    responses=NOT_FOUND,
)
async def resume(account_id: AccountId, request: Request) -> AccountOut:
    ctx = context(request)
    account, changed = await service.resume(ctx.runtime.store, account_id)
    return _out(ctx, account) if changed else AccountOut.model_validate(account.to_json())


@router.post(
    "/{account_id}/sync",
    status_code=202,
    summary="Sync soon",
    description="Makes the account due now and wakes the scheduler; the sync runs in the "
    "background (see `/runs`). 409 for a paused account.",
    responses={**NOT_FOUND, **CONFLICT},
)
async def sync_now(account_id: AccountId, request: Request) -> AccountOut:
    ctx = context(request)
    account = await service.request_sync(ctx.runtime.store, account_id)
    _log.info("account.sync_requested", account_id=account_id)
    return _out(ctx, account)


@router.get(
    "/{account_id}/runs",
    summary="Sync history, newest first",
    responses=NOT_FOUND,
)
async def list_runs(
    account_id: AccountId,
    request: Request,
    limit: Limit = 100,
    cursor: RunsCursor = None,
) -> SyncRunList:
    after = decode_cursor(cursor, RUNS) if cursor else None
    async with context(request).runtime.store.read() as conn:
        await account_rows.get_account(conn, account_id)
        rows = await run_rows.list_runs(conn, account_id, limit=limit + 1, before=after)
    items, next_cursor = page(rows, limit, lambda r: {"t": r.started_at, "i": r.id}, "runs")
    return SyncRunList.model_validate(
        {"items": [r.to_json() for r in items], "next_cursor": next_cursor}
    )


@router.delete(
    "/{account_id}",
    status_code=204,
    response_class=Response,
    summary="Delete an account",
    description="Destroys its sealed secrets (crypto-shredding) and purges its synced cases, "
    "setups, comments, actions and events. The audit log keeps a row saying so.",
    responses=NOT_FOUND,
)
async def delete_account(account_id: AccountId, request: Request) -> Response:
    ctx = context(request)
    store = ctx.runtime.store
    await service.remove_account(
        store,
        account_id,
        reason="api delete",
        remove_blobs=blob_remover(blob_stores(ctx.settings, store)),
    )
    return Response(status_code=204)
