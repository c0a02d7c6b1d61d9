"""Syncing one account (DESIGN section 5 and issue "Sync engine").

Take the account's lease; decrypt the login (audited); restore the saved portal session and log
in only when needed; check and record access; page through cases changed since the cursor; fetch
details only where the listing row changed; upsert idempotently with events in the same
transaction, one case at a time; advance the cursor only after everything is committed; on a full
listing, record removals (only after it completed); save the session; record the run.

A crash at any point loses nothing: each case is committed with its events, the cursor moves
last, and the next run re-reads from the old cursor and finds the committed cases unchanged.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.base import (
    AdapterError,
    CaseDetail,
    CodeProvider,
    NotFound,
    PortalSession,
    SetupState,
    no_code,
)
from connector.clock import utcnow
from connector.domain import Account, AccountStatus, CredentialState
from connector.store import accounts as account_rows
from connector.store import cases as case_rows
from connector.store import credentials as credential_rows
from connector.store import events, leases, practices, runs
from connector.store.ids import new_id
from connector.sync import budget
from connector.sync.outcomes import AccountOutcome, outcome_of_access
from connector.sync.portal import (
    keep_session,
    open_session,
    record_error,
    record_logins,
    set_status,
)
from connector.sync.services import SyncServices

_log = structlog.get_logger("connector.sync")

Progress = Callable[..., None]


@dataclass(frozen=True)
class SyncResult:
    account_id: str
    outcome: str  # succeeded | failed | skipped
    status: AccountStatus | None
    reason: str | None
    counts: dict[str, int]
    run_id: str | None = None


class LeaseLost(Exception):
    """Another holder took the account's lease (ours expired): stop writing at once."""


def _quiet(*args: Any, **kwargs: Any) -> None:
    return None


async def sync_account(
    services: SyncServices,
    account_id: str,
    *,
    full: bool = False,
    code_provider: CodeProvider = no_code,
    progress: Progress = _quiet,
) -> SyncResult:
    """Sync one account now, unless another sync of it is running (then: skipped, busy)."""
    store = services.store
    now = utcnow()
    # Each run holds the lease under its own name, so two runs in one process exclude each other.
    holder = f"{services.holder}/{uuid.uuid4().hex[:6]}"
    async with store.transaction() as conn:
        await leases.reap_dead_holder(conn, account_id, now)
        acquired = await leases.acquire_lease(conn, account_id, holder, services.lease_ttl, now)
    if not acquired:
        return SyncResult(account_id, "skipped", None, "busy", {})
    run = _Run(
        services, account_id, holder, full=full, code_provider=code_provider, progress=progress
    )
    try:
        return await run.execute()
    finally:
        await asyncio.shield(run.close())


class _Run:
    def __init__(
        self,
        services: SyncServices,
        account_id: str,
        holder: str,
        *,
        full: bool,
        code_provider: CodeProvider,
        progress: Progress,
    ) -> None:
        self.s = services
        self.account_id = account_id
        self.holder = holder
        self.full = full
        self.code_provider = code_provider
        self.progress = progress
        self.run_id = new_id("run")
        self.counts: Counter[str] = Counter()
        self.finished = False
        self.started = False

    # --- the run ----------------------------------------------------------------------------

    async def execute(self) -> SyncResult:
        store = self.s.store
        async with store.transaction() as conn:
            account = await account_rows.get_account(conn, self.account_id)
            await runs.start_run(
                conn,
                run_id=self.run_id,
                account_id=self.account_id,
                holder=self.holder,
                full=self.full,
                now=utcnow(),
            )
        self.started = True
        skip = await self._skip_reason(account)
        if skip is not None:
            await self._reschedule_skipped(account, skip)
            await self._finish("skipped", skip)
            return SyncResult(self.account_id, "skipped", account.status, skip, {}, self.run_id)

        adapter = self.s.adapters.get(account.vendor)
        if adapter is None:
            await self._reschedule_skipped(account, "no_adapter")
            await self._finish("failed", f"no adapter for {account.vendor}")
            return SyncResult(
                self.account_id, "failed", account.status, "no_adapter", {}, self.run_id
            )
        self.progress("login", account=account)
        try:
            session = await open_session(self.s, account, self.code_provider, reason="sync")
        except AdapterError as error:
            return await self._fail(account, error)
        try:
            return await self._with_session(account, session)
        except AdapterError as error:
            self.counts["logins"] += session.logins
            return await self._fail(account, error)
        finally:
            await session.close()

    async def _with_session(self, account: Account, session: PortalSession) -> SyncResult:
        access = await session.check_access()
        outcome = outcome_of_access(access)
        account = await self._apply_access(
            account, access_roles=access.roles, caps=access.capabilities, outcome=outcome
        )
        if outcome.status is not AccountStatus.INSUFFICIENT_PERMISSIONS:
            await self._sync_cases(account, session)
        self.counts["logins"] += session.logins
        await record_logins(self.s, account, session.logins, source="sync")
        await keep_session(self.s, account, session)
        now = utcnow()
        async with self.s.store.transaction() as conn:
            current = await account_rows.get_account(conn, self.account_id, lock=True)
            account = await self._set_status(
                conn,
                current,
                outcome,
                now,
                last_sync_at=now,
                failure_count=0,
                next_sync_at=self.s.policy.next_due(
                    outcome.status, now, failures=0, locked_until=None, transient=False
                ),
            )
        await self._finish("succeeded", None)
        self.progress("done", counts=dict(self.counts))
        return SyncResult(
            self.account_id,
            "succeeded",
            account.status,
            outcome.reason,
            dict(self.counts),
            self.run_id,
        )

    # --- cases ------------------------------------------------------------------------------

    async def _sync_cases(self, account: Account, session: PortalSession) -> None:
        store = self.s.store
        now = utcnow()
        full = (
            self.full
            or account.sync_cursor is None
            or account.last_full_sync_at is None
            or now - account.last_full_sync_at >= self.s.policy.full_listing_every
        )
        first_sync = account.last_sync_at is None
        async with store.read() as conn:
            stored = await case_rows.stored_cases(conn, self.account_id)
        seen: set[str] = set()
        resume: str | None = None
        self.progress("listing", full=full)
        async for page in session.list_cases(None if full else account.sync_cursor):
            if page.resume_cursor is not None:
                resume = page.resume_cursor
            for summary in page.items:
                if summary.vendor_case_id not in seen:
                    self.counts["cases_listed"] += 1
                seen.add(summary.vendor_case_id)
                known = stored.get(summary.vendor_case_id)
                digest = case_rows.summary_hash(summary)
                # A listing may show a case twice (it moved while paging): the newer copy wins.
                if known is not None and not known.removed and known.summary_hash == digest:
                    self.counts["cases_unchanged"] += 1
                    continue
                if not await self._fetch_and_store(
                    account, session, summary.vendor_case_id, first_sync
                ):
                    continue
                stored[summary.vendor_case_id] = case_rows.StoredCase(
                    known.id if known else "", digest, False
                )
                self.progress("case", listed=self.counts["cases_listed"])
            await self._renew_lease()
            self.progress("page", listed=self.counts["cases_listed"])
        # The listing completed: only now may the cursor move and removals be recorded.
        present = set(seen)
        if full:
            # Never delete on doubt: a case missing from the listing is removed only when the
            # portal also refuses its detail (paging can skip a row when others move).
            for vendor_case_id, known in stored.items():
                if known.removed or vendor_case_id in seen:
                    continue
                if await self._fetch_and_store(account, session, vendor_case_id, first_sync):
                    present.add(vendor_case_id)
        now = utcnow()
        async with store.transaction() as conn:
            values: dict[str, Any] = {"sync_cursor": resume or account.sync_cursor}
            if full:
                values["last_full_sync_at"] = now
                for case_id in await case_rows.mark_removed(conn, self.account_id, present, now):
                    self.counts["cases_removed"] += 1
                    await self._event(
                        conn,
                        "case.removed",
                        case_id,
                        await case_rows.get_case_json(conn, case_id),
                        now,
                    )
            await account_rows.update_account(conn, self.account_id, now=now, **values)

    async def _fetch_and_store(
        self, account: Account, session: PortalSession, vendor_case_id: str, first_sync: bool
    ) -> bool:
        """Fetch one case's detail and store it; False when the portal no longer has it."""
        try:
            detail = await session.get_case(vendor_case_id)
        except NotFound:
            return False
        self.counts["details_fetched"] += 1
        await self._store_case(account, detail, first_sync=first_sync)
        return True

    async def _store_case(self, account: Account, detail: CaseDetail, *, first_sync: bool) -> None:
        summary = detail.summary
        now = utcnow()
        async with self.s.store.transaction() as conn:
            # The lease is renewed in the same transaction: a run that lost it writes nothing.
            if not await leases.renew_lease(
                conn, self.account_id, self.holder, self.s.lease_ttl, now
            ):
                raise LeaseLost(f"lost the sync lease of {self.account_id}")
            practice_id = account.practice_id
            if practice_id is None and summary.vendor_doctor_id:
                practice_id = await practices.practice_for(
                    conn, account.vendor, summary.vendor_doctor_id
                )
            case_id, change = await case_rows.upsert_case(
                conn,
                account_id=self.account_id,
                vendor=account.vendor,
                practice_id=practice_id,
                summary=summary,
                vendor_created_at=detail.created_at,
                now=now,
            )
            new_case = change is case_rows.Change.CREATED
            setup_changes = await case_rows.upsert_setups(
                conn, case_id, detail.setups, now, new_case=new_case
            )
            comment_changes = await case_rows.upsert_comments(
                conn, case_id, detail.comments, now, new_case=new_case
            )
            self.counts[f"cases_{change}"] += 1
            if change is case_rows.Change.CREATED:
                await self._event(
                    conn, "case.created", case_id, await case_rows.get_case_json(conn, case_id), now
                )
                return  # a new case brings its history: no setup or comment events for it
            if change is case_rows.Change.UPDATED:
                await self._event(
                    conn, "case.updated", case_id, await case_rows.get_case_json(conn, case_id), now
                )
            if first_sync:
                return
            for setup in setup_changes:
                became_reviewable = setup.state == SetupState.IN_REVIEW and (
                    setup.change is case_rows.Change.CREATED
                    or (
                        setup.change is case_rows.Change.UPDATED
                        and setup.previous_state != SetupState.IN_REVIEW
                    )
                )
                if became_reviewable:
                    await self._event(
                        conn,
                        "setup.ready_for_review",
                        setup.setup_id,
                        await case_rows.get_setup_json(conn, setup.setup_id),
                        now,
                    )
            for comment_id, comment_change in comment_changes:
                if comment_change is not case_rows.Change.CREATED:
                    continue
                data = await case_rows.get_comment_json(conn, comment_id)
                if not data["posted_by_connector"]:
                    await self._event(conn, "comment.received", comment_id, data, now)

    async def _event(
        self, conn: AsyncConnection, type: str, subject_id: str, data: dict[str, Any], now: datetime
    ) -> None:
        await events.append_event(
            conn, type=type, account_id=self.account_id, subject_id=subject_id, data=data, now=now
        )
        self.counts["events"] += 1

    # --- account state ----------------------------------------------------------------------

    async def _skip_reason(self, account: Account) -> str | None:
        now = utcnow()
        if account.status is AccountStatus.DISABLED:
            return "disabled"
        if (
            account.status is AccountStatus.LOCKED
            and account.locked_until
            and account.locked_until > now
        ):
            return "locked"
        async with self.s.store.read() as conn:
            current = await credential_rows.credential_in_state(
                conn, self.account_id, CredentialState.CURRENT
            )
            exhausted_until = await budget.budget_exhausted_until(conn, self.account_id, now)
        if current is None:
            return "no_credentials"
        if current.rejected_at is not None:
            return "credentials_rejected"
        if exhausted_until is not None:
            async with self.s.store.transaction() as conn:
                await account_rows.update_account(
                    conn, self.account_id, now=now, next_sync_at=exhausted_until
                )
            return "login_budget_exhausted"
        return None

    async def _reschedule_skipped(self, account: Account, reason: str) -> None:
        """A skipped account must not come due again at once (the budget case set its time)."""
        now = utcnow()
        due: datetime | None
        if reason in ("disabled", "no_credentials", "credentials_rejected"):
            due = None
        elif reason == "locked":
            due = (account.locked_until or now) + self.s.policy.lock_margin
        elif reason == "login_budget_exhausted":
            return
        else:
            due = self.s.policy.after_failure(now, account.failure_count + 1)
        async with self.s.store.transaction() as conn:
            await account_rows.update_account(conn, self.account_id, now=now, next_sync_at=due)

    async def _apply_access(
        self,
        account: Account,
        *,
        access_roles: tuple[str, ...],
        caps: frozenset[Any],
        outcome: AccountOutcome,
    ) -> Account:
        now = utcnow()
        async with self.s.store.transaction() as conn:
            current = await account_rows.get_account(conn, self.account_id, lock=True)
            return await self._set_status(
                conn,
                current,
                outcome,
                now,
                capabilities=sorted(str(c) for c in caps),
                access={"roles": list(access_roles)},
            )

    async def _fail(self, account: Account, error: AdapterError) -> SyncResult:
        outcome, changed = await record_error(
            self.s, self.account_id, error, source="sync", policy=self.s.policy
        )
        if changed:
            self.counts["events"] += 1
        _log.warning(
            "sync.failed",
            account_id=self.account_id,
            vendor=account.vendor,
            reason=outcome.reason,
            status=str(outcome.status),
        )
        await self._finish("failed", outcome.reason)
        return SyncResult(
            self.account_id,
            "failed",
            outcome.status,
            outcome.reason,
            dict(self.counts),
            self.run_id,
        )

    async def _set_status(
        self,
        conn: AsyncConnection,
        account: Account,
        outcome: AccountOutcome,
        now: datetime,
        **extra: Any,
    ) -> Account:
        updated, changed = await set_status(conn, account, outcome, now, **extra)
        if changed:
            self.counts["events"] += 1
        return updated

    async def _renew_lease(self) -> None:
        async with self.s.store.transaction() as conn:
            held = await leases.renew_lease(
                conn, self.account_id, self.holder, self.s.lease_ttl, utcnow()
            )
        if not held:
            raise LeaseLost(f"lost the sync lease of {self.account_id}")

    async def _finish(self, outcome: str, error: str | None) -> None:
        async with self.s.store.transaction() as conn:
            await runs.finish_run(
                conn,
                self.run_id,
                outcome=outcome,
                counts=dict(self.counts),
                error=error,
                now=utcnow(),
            )
        self.finished = True

    async def close(self) -> None:
        """Always: mark an unfinished run abandoned and release the lease."""
        try:
            if self.started and not self.finished:
                await self._finish("abandoned", "interrupted")
        finally:
            async with self.s.store.transaction() as conn:
                await leases.release_lease(conn, self.account_id, self.holder)
