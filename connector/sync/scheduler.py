"""The embedded scheduler: in-process asyncio, due times kept in the database.

Every `poll_seconds` (or sooner, when a sync finishes) it picks accounts whose `next_sync_at`
has come, and runs each through `sync_account` under a global and a per-vendor concurrency
bound. The account lease makes it safe beside other schedulers or workers on the same database.
Shutdown stops picking, lets running syncs finish for a grace period, then cancels the rest:
their run is recorded as abandoned and the lease released, and nothing half-written remains
because each case commits on its own and the cursor moves last.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping

import structlog

from adapters.base import CodeProvider, no_code
from connector.clock import utcnow
from connector.domain import Account
from connector.store import accounts as account_rows
from connector.sync.engine import SyncResult, sync_account
from connector.sync.schedule import STOPPED
from connector.sync.services import SyncServices

_log = structlog.get_logger("connector.scheduler")


async def due_accounts(services: SyncServices, limit: int, exclude: set[str]) -> list[Account]:
    async with services.store.read() as conn:
        ids = await account_rows.due_account_ids(
            conn, utcnow(), limit + len(exclude), skip_statuses=STOPPED
        )
        ids = [account_id for account_id in ids if account_id not in exclude][:limit]
        return [await account_rows.get_account(conn, account_id) for account_id in ids]


class Scheduler:
    def __init__(
        self,
        services: SyncServices,
        *,
        concurrency: int = 8,
        vendor_concurrency: Mapping[str, int] | None = None,
        default_vendor_concurrency: int = 4,
        poll_seconds: float = 5.0,
        grace_seconds: float = 30.0,
        code_provider: CodeProvider = no_code,
    ) -> None:
        self.services = services
        self.poll_seconds = poll_seconds
        self.grace_seconds = grace_seconds
        self.code_provider = code_provider
        self._global = asyncio.Semaphore(concurrency)
        self._concurrency = concurrency
        self._vendor_limits = dict(vendor_concurrency or {})
        self._default_vendor = default_vendor_concurrency
        self._vendor: dict[str, asyncio.Semaphore] = {}
        self._running: dict[str, asyncio.Task[SyncResult | None]] = {}
        self._wake = asyncio.Event()
        self.results: list[SyncResult] = []

    def wake(self) -> None:
        """An account became due (new credentials, "sync now"): look at once."""
        self._wake.set()

    def _vendor_slot(self, vendor: str) -> asyncio.Semaphore:
        if vendor not in self._vendor:
            self._vendor[vendor] = asyncio.Semaphore(
                self._vendor_limits.get(vendor, self._default_vendor)
            )
        return self._vendor[vendor]

    async def _sync(self, account: Account) -> SyncResult | None:
        try:
            async with self._global, self._vendor_slot(account.vendor):
                result = await sync_account(
                    self.services, account.id, code_provider=self.code_provider
                )
            self.results.append(result)
            return result
        except asyncio.CancelledError:
            raise
        except Exception:
            # A bug in one sync must not stop the scheduler; the run is recorded as abandoned.
            _log.exception("scheduler.sync_crashed", account_id=account.id)
            return None
        finally:
            self._running.pop(account.id, None)
            self._wake.set()

    async def tick(self) -> int:
        """Start syncs for the accounts that are due now; returns how many were started."""
        free = self._concurrency * 2 - len(self._running)
        if free <= 0:
            return 0
        due = await due_accounts(self.services, free, set(self._running))
        for account in due:
            self._running[account.id] = asyncio.create_task(
                self._sync(account), name=f"sync {account.id}"
            )
        return len(due)

    async def run(self, stop: asyncio.Event) -> None:
        _log.info("scheduler.started", holder=self.services.holder)
        try:
            while not stop.is_set():
                try:
                    await self.tick()
                except Exception:
                    _log.exception("scheduler.tick_failed")
                self._wake.clear()
                waiters = [
                    asyncio.ensure_future(stop.wait()),
                    asyncio.ensure_future(self._wake.wait()),
                ]
                await asyncio.wait(
                    waiters, timeout=self.poll_seconds, return_when=asyncio.FIRST_COMPLETED
                )
                for waiter in waiters:
                    waiter.cancel()
        finally:
            await self.drain()
            _log.info("scheduler.stopped")

    async def drain(self) -> None:
        """Let running syncs finish for the grace period, then cancel them cleanly."""
        running = list(self._running.values())
        if not running:
            return
        _done, pending = await asyncio.wait(running, timeout=self.grace_seconds)
        for task in pending:
            task.cancel()
        for task in pending:
            with contextlib.suppress(asyncio.CancelledError):
                await task
