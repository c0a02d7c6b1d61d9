"""The account's lease: one holder at a time touches an account's portal session, in every mode.

Syncs, form verifications, outbound actions and portal checks all take it through
`account_lease()`. The lease row expires, so a holder that vanishes blocks the account only
briefly, and a holder that died on this machine is reaped at once. A long holder (a form waiting
for an e-mailed code) keeps it alive in the background; work that writes checks it in the same
transaction as the write (`renew_in`), so a holder that lost it writes nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta

import structlog

from connector.clock import utcnow
from connector.store import Connection, leases
from connector.store.database import Store

_log = structlog.get_logger("connector.lease")

#: How often a waiting taker looks again (the row is changed by other processes, which a
#: database cannot announce on SQLite).
RETRY_SECONDS = 0.5


class LeaseLost(Exception):
    """Another holder took the account's lease (ours expired): stop writing at once."""


class LeaseBusy(Exception):
    """Another holder has the account's lease and kept it for longer than we could wait."""


@dataclass
class AccountLease:
    store: Store
    account_id: str
    holder: str
    ttl: timedelta
    lost: bool = False
    _renewer: asyncio.Task[None] | None = field(default=None, repr=False)
    released: bool = False
    #: When it was last taken or renewed (monotonic seconds).
    renewed_at: float = field(default_factory=time.monotonic)

    async def renew_in(self, conn: Connection) -> None:
        """Renew inside the caller's transaction; raises `LeaseLost` (so it writes nothing)."""
        if self.lost or not await leases.renew_lease(
            conn, self.account_id, self.holder, self.ttl, utcnow()
        ):
            self.lost = True
            raise LeaseLost(f"lost the lease of {self.account_id}")
        self.renewed_at = time.monotonic()

    async def release_in(self, conn: Connection) -> None:
        """Give the lease up inside the caller's last transaction (one commit fewer), checking
        that it is still ours in the same statement: raises `LeaseLost` (so the transaction
        writes nothing) like `renew_in`. Call `released_with()` once the transaction committed:
        the context manager then has nothing left to release."""
        if self.lost or not await leases.release_lease(conn, self.account_id, self.holder):
            self.lost = True
            raise LeaseLost(f"lost the lease of {self.account_id}")

    def released_with(self) -> None:
        """The transaction that released the lease committed."""
        self.released = True

    def renewal_due(self) -> bool:
        """A third of the lease's life has passed since it was last renewed: work with nothing
        to write renews it now (a transaction of its own), otherwise it need not."""
        return time.monotonic() - self.renewed_at >= self.ttl.total_seconds() / 3

    async def renew(self) -> None:
        async with self.store.transaction() as conn:
            await self.renew_in(conn)

    def check(self) -> None:
        if self.lost:
            raise LeaseLost(f"lost the lease of {self.account_id}")

    async def _keep_alive(self) -> None:
        while True:
            await asyncio.sleep(self.ttl.total_seconds() / 3)
            try:
                await self.renew()
            except LeaseLost:
                _log.warning("lease.lost", account_id=self.account_id)
                return


#: Work done in the transaction that takes the lease (a run's start), only when it is taken;
#: it is given the holder's name.
OnTake = Callable[[Connection, str], Awaitable[None]]


async def _take(
    store: Store, account_id: str, holder: str, ttl: timedelta, on_take: OnTake | None
) -> bool:
    now = utcnow()
    async with store.transaction() as conn:
        await leases.reap_dead_holder(conn, account_id, now)
        taken = await leases.acquire_lease(conn, account_id, holder, ttl, now)
        if taken and on_take is not None:
            await on_take(conn, holder)
        return taken


@asynccontextmanager
async def account_lease(
    store: Store,
    account_id: str,
    *,
    holder: str,
    ttl: timedelta,
    wait: timedelta = timedelta(0),
    keep_alive: bool = False,
    on_take: OnTake | None = None,
) -> AsyncIterator[AccountLease]:
    """Hold the account's lease for the block; `LeaseBusy` when another holder keeps it for
    longer than `wait`. `holder` names this process; a unique suffix is added, so two holders in
    one process exclude each other too. `on_take` runs in the transaction that takes it (if it
    raises, the lease is not taken)."""
    name = f"{holder}/{uuid.uuid4().hex[:6]}"
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait.total_seconds()
    while not await _take(store, account_id, name, ttl, on_take):
        if loop.time() >= deadline:
            raise LeaseBusy(f"account {account_id} is busy")
        await asyncio.sleep(RETRY_SECONDS)
    lease = AccountLease(store, account_id, name, ttl)
    if keep_alive:
        lease._renewer = asyncio.create_task(lease._keep_alive())
    try:
        yield lease
    finally:
        if lease._renewer is not None:
            lease._renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await lease._renewer
        if not lease.released:
            await asyncio.shield(_release(store, account_id, name))


async def _release(store: Store, account_id: str, holder: str) -> None:
    async with store.transaction() as conn:
        await leases.release_lease(conn, account_id, holder)
