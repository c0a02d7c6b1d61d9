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
import contextlib
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

import structlog

from adapters.base import (
    AdapterError,
    CaseDetail,
    CaseStatus,
    CaseSummary,
    CodeProvider,
    NotFound,
    PortalChanged,
    PortalSession,
    PortalUnavailable,
    SessionExpired,
    SignInRefused,
    no_code,
)
from connector import metrics
from connector.accounts import service
from connector.accounts.gate import AttemptSource, Refusal
from connector.accounts.lease import AccountLease, LeaseBusy, LeaseLost, account_lease
from connector.accounts.meaning import (
    LOCAL_ERRORS,
    AccountOutcome,
    RefusalReason,
    outcome_of_access,
)
from connector.clock import utcnow
from connector.domain import Account, AccountStatus, EventType, RunOutcome
from connector.errors import NotFoundError
from connector.store import Connection, case_pages, events, practices, runs
from connector.store import accounts as account_rows
from connector.store import cases as case_rows
from connector.store.ids import new_id
from connector.sync import vendor_health
from connector.sync.portal import (
    Opening,
    decide_opening,
    keep_session,
    kept,
    open_session,
    record_error,
    record_local_failure,
    record_refusal,
    seal_session,
    store_session_in,
)
from connector.sync.services import SyncServices

_log = structlog.get_logger("connector.sync")

Progress = Callable[..., None]

__all__ = ["LeaseLost", "SkipReason", "SyncResult", "sync_account"]


#: Times a listing is read on from its last page after a transient failure, per run.
MAX_PAGE_RESUMES = 3
#: Passes over the details that failed transiently, after the listing, before the last try.
MAX_DETAIL_PASSES = 2
#: Tries to open the portal session when a sign-in's answer is lost (the gate decides each).
MAX_OPEN_TRIES = 3


class SkipReason(StrEnum):
    """Why a run tried nothing: the gate's refusals, and two of the engine's own."""

    BUSY = "busy"  # another sync or action holds the account
    NO_ADAPTER = "no_adapter"
    PAUSED = str(RefusalReason.PAUSED)
    LOCKED = str(RefusalReason.LOCKED)
    CREDENTIALS_REJECTED = str(RefusalReason.CREDENTIALS_REJECTED)
    BUDGET_SPENT = str(RefusalReason.BUDGET_SPENT)
    IN_FLIGHT = str(RefusalReason.IN_FLIGHT)
    NO_CREDENTIALS = str(RefusalReason.NO_CREDENTIALS)


@dataclass(frozen=True)
class SyncResult:
    account_id: str
    outcome: RunOutcome  # succeeded | failed | skipped | abandoned
    status: AccountStatus | None
    reason: str | None
    counts: dict[str, int]
    run_id: str | None = None


#: Writes the end of a complete listing (cursor, removals) in the run's last transaction.
_ListingClose = Callable[[Connection, datetime], Awaitable[None]]


class _AccountGone(Exception):
    """The account was deleted while its sync ran."""


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
    start = _Start(account_id, new_id("run"), full, vendors=frozenset(services.adapters))
    try:
        async with account_lease(
            services.store,
            account_id,
            holder=services.holder,
            ttl=services.lease_ttl,
            on_take=start,
        ) as lease:
            run = _Run(services, lease, start, code_provider=code_provider, progress=progress)
            try:
                return await run.execute()
            except (LeaseLost, _AccountGone, NotFoundError) as gone:
                # Deleted (or taken over) under us: an ordinary abandoned run.
                _log.info("sync.abandoned", account_id=account_id, why=type(gone).__name__)
                return SyncResult(
                    account_id, RunOutcome.ABANDONED, None, "account_gone", run._counts()
                )
            finally:
                if not run.finished:  # a finished run has nothing to close: no task for it
                    await asyncio.shield(run.close())
    except LeaseBusy:
        return SyncResult(account_id, RunOutcome.SKIPPED, None, SkipReason.BUSY, {})
    except NotFoundError:
        # Deleted before the run could start (the lease was not taken).
        return SyncResult(account_id, RunOutcome.ABANDONED, None, "account_gone", {})


class _Start:
    """A run's start, in the transaction that takes the account's lease: the account as it is,
    the run's record, the cases already stored (the listing compares against them), and the
    gate's decision with the saved session (its decryption audited), so that a run that
    reuses its session commits twice in all: here, and when it ends."""

    def __init__(
        self, account_id: str, run_id: str, full: bool, *, vendors: frozenset[str]
    ) -> None:
        self.account_id = account_id
        self.run_id = run_id
        self.full = full
        self.vendors = vendors
        self.account: Account | None = None
        self.stored: dict[str, case_rows.StoredCase] = {}
        self.opening: Opening | None = None

    async def __call__(self, conn: Connection, holder: str) -> None:
        self.account = await account_rows.get_account(conn, self.account_id)
        self.stored = await case_rows.stored_cases(conn, self.account_id)
        await runs.start_run(
            conn,
            run_id=self.run_id,
            account_id=self.account_id,
            holder=holder,
            full=self.full,
            now=utcnow(),
        )
        if self.account.vendor in self.vendors:
            self.opening = await decide_opening(conn, self.account, AttemptSource.SYNC, utcnow())


class _Run:
    def __init__(
        self,
        services: SyncServices,
        lease: AccountLease,
        start: _Start,
        *,
        code_provider: CodeProvider,
        progress: Progress,
    ) -> None:
        self.s = services
        self.lease = lease
        self.start = start
        self.account_id = lease.account_id
        self.holder = lease.holder
        self.full = start.full
        self.code_provider = code_provider
        self.progress = progress
        self.run_id = start.run_id
        self.counts: Counter[str] = Counter()
        self.finished = False
        self.started = True  # its record was written with the lease
        self.session: PortalSession | None = None
        #: Status words the adapter did not know (kept raw), and register facts that failed.
        self.unknown_labels: set[str] = set()
        self.failed_facts: tuple[str, ...] = ()
        #: For metrics: the account's vendor, when the run began.
        self.account: Account | None = None
        self.began = time.monotonic()
        self._outcome = RunOutcome.ABANDONED

    # --- the run ----------------------------------------------------------------------------

    async def execute(self) -> SyncResult:
        account = self.start.account
        assert account is not None  # read when the lease was taken
        self.account = account
        if account.vendor not in self.s.adapters:
            await self._reschedule(account, self.s.policy.after_failure(utcnow(), 1))
            await self._finish(RunOutcome.FAILED, f"no adapter for {account.vendor}")
            return self._result(RunOutcome.FAILED, account.status, SkipReason.NO_ADAPTER)
        self.progress("login", account=account)
        try:
            session = await self._open(account)
        except SignInRefused as refused:
            return await self._refused(account, refused)
        except AdapterError as error:
            return await self._fail(account, error)
        except LOCAL_ERRORS as error:
            return await self._fail_locally(account, error)
        self.session = session
        try:
            return await self._with_session(account, session)
        except AdapterError as error:
            # A session that signed in stays useful after a failed run: keep it, so the next
            # run does not sign in again.
            with contextlib.suppress(AdapterError, *LOCAL_ERRORS):
                await keep_session(self.s, account, session)
            return await self._fail(account, error)
        except LOCAL_ERRORS as error:
            return await self._fail_locally(account, error)
        finally:
            await session.close()

    async def _open(self, account: Account) -> PortalSession:
        """Open the portal session; a sign-in whose answer was lost is tried again (a bounded
        number of times) when the gate permits it, which it does only for a password that has
        signed in before."""
        for tried in range(MAX_OPEN_TRIES):
            # The first try goes with the decision taken with the lease; a retry asks again.
            opening, self.start.opening = self.start.opening, None
            try:
                return await open_session(
                    self.s,
                    account,
                    self.code_provider,
                    reason="sync",
                    source=AttemptSource.SYNC,
                    opening=opening,
                )
            except PortalUnavailable:
                if tried + 1 >= MAX_OPEN_TRIES:
                    raise
                self.counts["opens_retried"] += 1
        raise AssertionError("unreachable")

    async def _with_session(self, account: Account, session: PortalSession) -> SyncResult:
        before = account.status
        access = await session.check_access()
        outcome = outcome_of_access(access)
        account = await self._apply_access(
            account, access_roles=access.roles, caps=access.capabilities, outcome=outcome
        )
        close_listing: _ListingClose | None = None
        if outcome.status is not AccountStatus.INSUFFICIENT_PERMISSIONS:
            close_listing = await self._sync_cases(account, session)
        keep = await seal_session(self.s, account, session)
        now = utcnow()
        # One transaction ends the run: the lease checked and given back, the cursor and
        # removals, the status, the run record, and the session for the next run.
        async with self.s.store.transaction() as conn:
            await self.lease.release_in(conn)
            if close_listing is not None:
                await close_listing(conn, now)
            account = await self._set_final_status(
                conn,
                account,
                outcome,
                now,
                last_sync_at=now,
                failure_count=0,
                last_error=None,
                next_sync_at=self.s.policy.next_due(
                    outcome.status, now, failures=0, locked_until=None, transient=False
                ),
            )
            await self._finish_in(conn, RunOutcome.SUCCEEDED, None)
            if keep is not None:
                await store_session_in(conn, account, keep)
        self.lease.released_with()
        if keep is not None:
            kept(keep)
        self._finished()
        if before is AccountStatus.PORTAL_CHANGED:
            await vendor_health.note_run(self.s.store, account.vendor)
        self.progress("done", counts=self._counts())
        return self._result(RunOutcome.SUCCEEDED, account.status, outcome.reason)

    def _result(
        self, outcome: RunOutcome, status: AccountStatus | None, reason: str | None
    ) -> SyncResult:
        return SyncResult(self.account_id, outcome, status, reason, self._counts(), self.run_id)

    def _counts(self) -> dict[str, int]:
        counts = dict(self.counts)
        if self.session is not None:
            counts["logins"] = self.session.logins
        return counts

    async def _locked_account(self, conn: Connection) -> Account:
        try:
            return await account_rows.get_account(conn, self.account_id, lock=True)
        except NotFoundError:
            raise _AccountGone(self.account_id) from None

    # --- cases ------------------------------------------------------------------------------

    async def _sync_cases(self, account: Account, session: PortalSession) -> _ListingClose:
        """Every page's cases, each page committed as it is read; returns what the run's last
        transaction writes: the cursor and the removals, once the listing is complete."""
        now = utcnow()
        full = (
            self.full
            or account.sync_cursor is None
            or account.last_full_sync_at is None
            or now - account.last_full_sync_at >= self.s.policy.full_listing_every
        )
        first_sync = account.last_sync_at is None
        stored = self.start.stored
        seen: set[str] = set()
        resume: str | None = None
        #: Details that failed transiently: tried again after the listing.
        later: set[str] = set()
        self.progress("listing", full=full)
        position = None if full else account.sync_cursor
        resumed = 0
        while True:
            try:
                async for page in session.list_cases(position):
                    if page.resume_cursor is not None:
                        resume = page.resume_cursor
                    changed = self._changed_rows(page.items, stored, seen, later)
                    details = await self._fetch(session, changed, later)
                    # One transaction per page: the cases, their setups, comments and events,
                    # and the lease renewed in it (a run that lost its lease writes nothing).
                    await self._write(account, details, stored, first_sync)
                    self.progress("page", listed=self.counts["cases_listed"])
                    if page.next_cursor is not None:
                        position = page.next_cursor
                break
            except (PortalUnavailable, SessionExpired):
                # A passing fault took one page (after its own retries): read on from the last
                # page that arrived, a bounded number of times; the cursor contract allows it.
                resumed += 1
                if resumed > MAX_PAGE_RESUMES:
                    raise
                self.counts["pages_resumed"] += 1
        # The details a passing fault took, each tried again (under the retry policy) while
        # passes make progress; one still failing fails the run, and the cursor stays.
        for _ in range(MAX_DETAIL_PASSES):
            if not later:
                break
            retry = sorted(later)
            self.counts["details_retried"] += len(retry)
            later.clear()
            await self._write(account, await self._fetch(session, retry, later), stored, first_sync)
        if later:
            retry = sorted(later)
            await self._write(account, await self._fetch(session, retry, None), stored, first_sync)
        # The listing completed: only now may the cursor move and removals be recorded.
        present = set(seen)
        if full:
            # Never delete on doubt: a case missing from the listing is removed only when the
            # portal also refuses its detail (paging can skip a row when others move).
            missing = [n for n, known in stored.items() if not known.removed and n not in seen]
            found = await self._fetch(session, missing, None)
            await self._write(account, found, stored, first_sync)
            present.update(d.summary.vendor_case_id for d in found)

        async def close_listing(conn: Connection, now: datetime) -> None:
            values: dict[str, Any] = {"sync_cursor": resume or account.sync_cursor}
            if full:
                values["last_full_sync_at"] = now
                for case_id in await case_rows.mark_removed(conn, self.account_id, present, now):
                    self.counts["cases_removed"] += 1
                    await self._event(
                        conn,
                        EventType.CASE_REMOVED,
                        case_id,
                        await case_rows.get_case_json(conn, case_id),
                        now,
                    )
            if values != {"sync_cursor": account.sync_cursor}:
                await account_rows.update_account(conn, self.account_id, now=now, **values)

        return close_listing

    def _changed_rows(
        self,
        items: tuple[CaseSummary, ...],
        stored: dict[str, case_rows.StoredCase],
        seen: set[str],
        later: set[str],
    ) -> list[str]:
        """The listing rows whose detail must be read: new, changed, or back after removal."""
        changed: dict[str, None] = {}
        for summary in items:
            number = summary.vendor_case_id
            if number not in seen:
                self.counts["cases_listed"] += 1
            seen.add(number)
            if summary.status is CaseStatus.UNKNOWN:
                self.unknown_labels.add(summary.vendor_status[:80])
            known = stored.get(number)
            # A listing may show a case twice (it moved while paging): the newer copy wins.
            if (
                known is not None
                and not known.removed
                and known.summary_hash == case_rows.summary_hash(summary)
            ):
                self.counts["cases_unchanged"] += 1
                later.discard(number)
                continue
            changed[number] = None
        return list(changed)

    async def _fetch(
        self, session: PortalSession, numbers: list[str], later: set[str] | None
    ) -> list[CaseDetail]:
        """The details of these cases, in order; a case the portal no longer has is left out.
        With `later`, one a passing fault took is noted there instead of failing the run."""
        details = []
        for number in numbers:
            try:
                details.append(await session.get_case(number))
            except NotFound:
                continue
            except (PortalUnavailable, SessionExpired):
                if later is None:
                    raise
                later.add(number)
                self.counts["details_deferred"] += 1
                continue
            if later is not None:
                later.discard(number)
            self.counts["details_fetched"] += 1
        return details

    async def _write(
        self,
        account: Account,
        details: list[CaseDetail],
        stored: dict[str, case_rows.StoredCase],
        first_sync: bool,
    ) -> None:
        if not details and not self.lease.renewal_due():
            return  # a page of unchanged cases writes nothing
        now = utcnow()
        async with self.s.store.transaction() as conn:
            await self.lease.renew_in(conn)
            if not details:
                return
            mapped: dict[str, str] = {}
            if account.practice_id is None:
                doctors = {
                    d.summary.vendor_doctor_id for d in details if d.summary.vendor_doctor_id
                }
                mapped = await practices.practices_for(conn, account.vendor, doctors)
            written = await case_pages.write_page(
                conn,
                account_id=self.account_id,
                vendor=account.vendor,
                items=[
                    case_pages.CaseWrite(
                        d,
                        case_pages.practice_lookup(
                            account.practice_id, mapped, d.summary.vendor_doctor_id
                        ),
                    )
                    for d in details
                ],
                now=now,
                first_sync=first_sync,
            )
            if written.events:
                await events.append_events(
                    conn, account_id=self.account_id, items=written.events, now=now
                )
        self.counts["events"] += len(written.events)
        for change in written.changes.values():
            self.counts[f"cases_{change}"] += 1
        for number, listed in written.summary_hashes.items():
            known = stored.get(number)
            stored[number] = case_rows.StoredCase(known.id if known else "", listed, False)
        self.progress("case", listed=self.counts["cases_listed"])

    async def _event(
        self,
        conn: Connection,
        type: EventType,
        subject_id: str,
        data: dict[str, Any],
        now: datetime,
    ) -> None:
        await events.append_event(
            conn, type=type, account_id=self.account_id, subject_id=subject_id, data=data, now=now
        )
        self.counts["events"] += 1

    # --- account state ----------------------------------------------------------------------

    async def _refused(self, account: Account, refused: SignInRefused) -> SyncResult:
        """The gate said no before anything was sent: the account shows why, the run is a skip."""
        why = RefusalReason(refused.why)
        now = utcnow()
        if why is RefusalReason.IN_FLIGHT:
            await self._reschedule(account, self.s.policy.after_failure(now, 1))
        elif why is not RefusalReason.PAUSED:
            refusal = Refusal(why, str(refused), refused.retry_at)
            if await record_refusal(self.s, account, refusal, now):
                self.counts["events"] += 1
        await self._finish(RunOutcome.SKIPPED, str(why))
        async with self.s.store.read() as conn:
            status = (await account_rows.get_account(conn, self.account_id)).status
        return self._result(RunOutcome.SKIPPED, status, SkipReason(str(why)))

    async def _reschedule(self, account: Account, due: datetime | None) -> None:
        async with self.s.store.transaction() as conn:
            await account_rows.update_account(conn, self.account_id, now=utcnow(), next_sync_at=due)

    async def _apply_access(
        self,
        account: Account,
        *,
        access_roles: tuple[str, ...],
        caps: frozenset[Any],
        outcome: AccountOutcome,
    ) -> Account:
        capabilities = sorted(str(c) for c in caps)
        access = {"roles": list(access_roles)}
        if (
            account.status is outcome.status
            and account.status_reason == outcome.reason
            and account.status_message == outcome.message
            and account.capabilities == capabilities
            and account.access == access
        ):
            return account  # the run's own account row already says so: nothing to write
        now = utcnow()
        async with self.s.store.transaction() as conn:
            current = await self._locked_account(conn)
            return await self._set_status(
                conn, current, outcome, now, capabilities=capabilities, access=access
            )

    async def _fail(self, account: Account, error: AdapterError) -> SyncResult:
        if isinstance(error, PortalChanged):
            self.failed_facts = error.facts
        try:
            outcome, changed = await record_error(
                self.s, self.account_id, error, policy=self.s.policy
            )
        except NotFoundError:
            raise _AccountGone(self.account_id) from None
        if changed:
            self.counts["events"] += 1
        _log.warning(
            "sync.failed",
            account_id=self.account_id,
            vendor=account.vendor,
            reason=outcome.reason,
            status=str(outcome.status),
        )
        await self._finish(RunOutcome.FAILED, outcome.reason)
        if isinstance(error, PortalChanged):
            await vendor_health.note_run(self.s.store, account.vendor)
        return self._result(RunOutcome.FAILED, outcome.status, outcome.reason)

    async def _fail_locally(self, account: Account, error: Exception) -> SyncResult:
        """A failure of the connector's own (its keys): the account keeps its status."""
        try:
            outcome = await record_local_failure(
                self.s, self.account_id, error, policy=self.s.policy
            )
        except NotFoundError:
            raise _AccountGone(self.account_id) from None
        _log.warning(
            "sync.failed",
            account_id=self.account_id,
            vendor=account.vendor,
            reason=outcome.reason,
            status=str(outcome.status),
            error=str(error),
        )
        await self._finish(RunOutcome.FAILED, outcome.reason)
        return self._result(RunOutcome.FAILED, outcome.status, outcome.reason)

    async def _set_status(
        self,
        conn: Connection,
        account: Account,
        outcome: AccountOutcome,
        now: datetime,
        **extra: Any,
    ) -> Account:
        updated, changed = await service.apply_outcome(conn, account, outcome, now, **extra)
        if changed:
            self.counts["events"] += 1
        return updated

    async def _set_final_status(
        self,
        conn: Connection,
        account: Account,
        outcome: AccountOutcome,
        now: datetime,
        **extra: Any,
    ) -> Account:
        """`_set_status` on the account as the run knows it, without reading it first when the
        status stays (the usual end of a run); read locked when it changed meanwhile."""
        kept_status = await service.keep_status(conn, account, outcome, now, **extra)
        if kept_status is not None:
            return kept_status
        return await self._set_status(conn, await self._locked_account(conn), outcome, now, **extra)

    async def _finish(self, outcome: RunOutcome, error: str | None) -> None:
        async with self.s.store.transaction() as conn:
            await self._finish_in(conn, outcome, error)
        self._finished()

    async def _finish_in(self, conn: Connection, outcome: RunOutcome, error: str | None) -> None:
        """Record the run's end in the caller's transaction; `_finished()` once it committed."""
        details: dict[str, list[str]] = {}
        if self.failed_facts:
            details["failed_facts"] = list(self.failed_facts)
        if self.unknown_labels:
            details["unknown_labels"] = sorted(self.unknown_labels)
        await runs.finish_run(
            conn,
            self.run_id,
            outcome=outcome,
            counts=self._counts(),
            error=error,
            now=utcnow(),
            details=details or None,
        )
        self._outcome = outcome

    def _finished(self) -> None:
        self.finished = True
        if self.account is not None:
            metrics.count_sync(
                self.account.vendor, str(self._outcome), time.monotonic() - self.began
            )

    async def close(self) -> None:
        """Always: mark an unfinished run abandoned (the lease is released by its holder)."""
        if self.started and not self.finished:
            await self._finish(RunOutcome.ABANDONED, "interrupted")
