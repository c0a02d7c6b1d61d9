"""Running download turns: the embedded loop of `serve` (workers run the same turns as jobs).

Each pass queues listings for cases whose setups are in review (the eager policy), then gives
each account with work one turn, a few accounts at a time, never two turns of one account.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta

import structlog

from adapters.base import offers_files
from connector.clock import utcnow
from connector.files.blobs import BlobStores, DatabaseBlobs, FilesystemBlobs
from connector.files.fetch import FilesServices, fetch_account
from connector.files.policy import FilePolicy
from connector.settings import Settings
from connector.store import files as file_rows
from connector.store.database import Store
from connector.sync.services import SyncServices

_log = structlog.get_logger("connector.files")


def blob_stores(settings: Settings, store: Store) -> BlobStores:
    return BlobStores(
        FilesystemBlobs(settings.files_path), DatabaseBlobs(store), settings.blob_store
    )


def files_services(settings: Settings, sync: SyncServices) -> FilesServices:
    return FilesServices(
        sync=sync,
        blobs=blob_stores(settings, sync.store),
        policy=FilePolicy.from_settings(settings, sorted(sync.adapters)),
        chunk_size=settings.files.chunk_kib * 1024,
        turn=timedelta(seconds=settings.files.turn_seconds),
    )


async def queue_eager_listings(services: FilesServices, *, limit: int = 200) -> int:
    """Queue a listing (with eager fetching) for every case with a setup in review whose files
    were not listed since it changed."""
    vendors = [
        v for v in services.policy.eager_vendors() if offers_files(services.sync.adapters.get(v))
    ]
    now = utcnow()
    async with services.sync.store.transaction() as conn:
        found = await file_rows.cases_for_eager_listing(conn, vendors, now, limit=limit)
        for case_id, account_id in found:
            await file_rows.request_listing(conn, case_id, account_id, now, eager=True)
    return len(found)


async def accounts_due(services: FilesServices, *, limit: int = 1000) -> list[str]:
    async with services.sync.store.read() as conn:
        return await file_rows.accounts_with_work(conn, utcnow(), limit=limit)


class FilesLoop:
    """Download turns in this process, `concurrency` accounts at a time."""

    def __init__(self, services: FilesServices, *, concurrency: int, poll_seconds: float) -> None:
        self.services = services
        self.concurrency = concurrency
        self.poll_seconds = poll_seconds
        self._wake = asyncio.Event()
        self._running: dict[str, asyncio.Task[None]] = {}

    def wake(self) -> None:
        self._wake.set()

    async def _one(self, account_id: str) -> None:
        try:
            result = await fetch_account(self.services, account_id)
            if result.outcome == "more":
                self._wake.set()
        except Exception:
            _log.exception("files.turn_failed", account_id=account_id)
        finally:
            self._running.pop(account_id, None)

    async def pass_once(self) -> None:
        await queue_eager_listings(self.services)
        for account_id in await accounts_due(self.services):
            if len(self._running) >= self.concurrency:
                break
            if account_id not in self._running:
                task = asyncio.create_task(self._one(account_id), name=f"files:{account_id}")
                self._running[account_id] = task

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.pass_once()
            except Exception:
                _log.exception("files.pass_failed")
            self._wake.clear()
            waits = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self._wake.wait())]
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED), self.poll_seconds
                )
            for waiter in waits:
                waiter.cancel()
        running = list(self._running.values())
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)
