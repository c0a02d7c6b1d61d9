"""Procrastinate jobs on PostgreSQL: the same sync, action and webhook code as `serve`, spread
over any number of `tps-connector worker` processes.

- `enqueue_due` (every few seconds, on one worker at a time thanks to its queueing lock) defers a
  sync job for each due account and an action job for each due action. A queueing lock per
  account keeps at most one *waiting* sync job per account; procrastinate's queueing lock does
  not cover a job that is already running, so the account lease (the same one the embedded
  scheduler takes) is what keeps two syncs of one account from overlapping.
- `deliver_webhooks` runs delivery passes until the backlog is empty.
- `retry_stalled` re-queues jobs whose worker died (no heartbeat for 30 s); a SIGKILLed worker
  otherwise leaves its job `doing` forever. `UniqueViolation` means a newer job with the same
  queueing lock already waits, so the stalled one is simply not needed.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass
from typing import Any

import procrastinate
import structlog
from procrastinate import JobContext
from procrastinate.exceptions import AlreadyEnqueued, UniqueViolation

from connector.actions.runner import is_due, run_action
from connector.clock import utcnow
from connector.files import fetch_account, files_services, queue_eager_listings, sweep
from connector.files.loop import accounts_due
from connector.retention import purge_expired
from connector.settings import Settings
from connector.store import actions as action_rows
from connector.store.database import Store
from connector.store.jobs import procrastinate_installed
from connector.store.migrate import take_migration_lock
from connector.sync import sync_account
from connector.sync.scheduler import due_accounts
from connector.sync.services import SyncServices
from connector.webhooks import deliver_due, new_client

_log = structlog.get_logger("connector.worker")

SYNC_QUEUE = "sync"
ACTION_QUEUE = "actions"
MAINTENANCE_QUEUE = "maintenance"
FILES_QUEUE = "files"
ENQUEUE_EVERY = "*/5"  # seconds field of the periodic tasks' cron


@dataclass
class WorkerContext:
    """What every job needs, built once per worker process."""

    settings: Settings
    services: SyncServices


def conninfo(database_url: str) -> str:
    """libpq connection string from our SQLAlchemy URL (`postgresql+psycopg://` -> `postgresql://`)."""
    if not database_url.startswith("postgresql+psycopg://"):
        raise ValueError("workers need PostgreSQL: set database.url to postgresql+psycopg://...")
    return "postgresql://" + database_url.removeprefix("postgresql+psycopg://")


def _context(job: JobContext) -> WorkerContext:
    ctx: WorkerContext = job.additional_context["worker"]
    return ctx


def build_app(database_url: str) -> procrastinate.App:
    app = procrastinate.App(
        connector=procrastinate.PsycopgConnector(conninfo=conninfo(database_url)),
    )

    @app.task(name="connector.sync", queue=SYNC_QUEUE, pass_context=True)
    async def sync_job(context: JobContext, account_id: str, full: bool = False) -> dict[str, Any]:
        result = await sync_account(_context(context).services, account_id, full=full)
        return {"outcome": result.outcome, "reason": result.reason}

    @app.task(name="connector.action", queue=ACTION_QUEUE, pass_context=True)
    async def action_job(context: JobContext, action_id: str) -> dict[str, Any]:
        action = await run_action(_context(context).services, action_id)
        return {"status": str(action.status) if action else "busy"}

    @app.periodic(cron=f"* * * * * {ENQUEUE_EVERY}", periodic_id="enqueue_due")
    @app.task(
        name="connector.enqueue_due",
        queue=MAINTENANCE_QUEUE,
        queueing_lock="enqueue_due",
        pass_context=True,
    )
    async def enqueue_due(context: JobContext, timestamp: int) -> dict[str, int]:
        worker = _context(context)
        deferred = {"syncs": 0, "actions": 0}
        for account in await due_accounts(worker.services, limit=1000, exclude=set()):
            try:
                await sync_job.configure(queueing_lock=f"sync:{account.id}").defer_async(
                    account_id=account.id
                )
                deferred["syncs"] += 1
            except AlreadyEnqueued:
                pass
        now = utcnow()
        async with worker.services.store.read() as conn:
            open_actions = await action_rows.open_actions(conn, limit=1000)
        for action in open_actions:
            if not is_due(action, now):
                continue
            try:
                await action_job.configure(queueing_lock=f"action:{action.id}").defer_async(
                    action_id=action.id
                )
                deferred["actions"] += 1
            except AlreadyEnqueued:
                pass
        return deferred

    @app.periodic(cron=f"* * * * * {ENQUEUE_EVERY}", periodic_id="deliver_webhooks")
    @app.task(
        name="connector.deliver_webhooks",
        queue=MAINTENANCE_QUEUE,
        queueing_lock="deliver_webhooks",
        pass_context=True,
    )
    async def deliver_webhooks(context: JobContext, timestamp: int) -> int:
        worker = _context(context)
        webhooks = worker.settings.webhooks
        if not webhooks.endpoints:
            return 0
        delivered = 0
        deadline = time.monotonic() + 30
        async with new_client(webhooks) as client:
            while time.monotonic() < deadline:
                attempted = await deliver_due(worker.services.store, webhooks, client)
                delivered += attempted
                if attempted == 0:
                    break
        return delivered

    @app.periodic(cron="17 * * * *", periodic_id="purge_expired")
    @app.task(
        name="connector.purge_expired",
        queue=MAINTENANCE_QUEUE,
        queueing_lock="purge_expired",
        pass_context=True,
    )
    async def purge(context: JobContext, timestamp: int) -> dict[str, int]:
        worker = _context(context)
        purged = await purge_expired(worker.services.store, worker.settings)
        return {"cases": purged.cases, "events": purged.events}

    @app.task(name="connector.files", queue=FILES_QUEUE, pass_context=True)
    async def files_job(context: JobContext, account_id: str) -> dict[str, Any]:
        """One download turn (never inside a sync: it takes the account's lease itself)."""
        worker = _context(context)
        result = await fetch_account(files_services(worker.settings, worker.services), account_id)
        if result.outcome == "more":
            with contextlib.suppress(AlreadyEnqueued):
                await files_job.configure(queueing_lock=f"files:{account_id}").defer_async(
                    account_id=account_id
                )
        return {"outcome": result.outcome, "fetched": result.fetched, "failed": result.failed}

    @app.periodic(cron=f"* * * * * {ENQUEUE_EVERY}", periodic_id="enqueue_files")
    @app.task(
        name="connector.enqueue_files",
        queue=MAINTENANCE_QUEUE,
        queueing_lock="enqueue_files",
        pass_context=True,
    )
    async def enqueue_files(context: JobContext, timestamp: int) -> int:
        """Queue eager listings, then a download turn per account with files waiting."""
        worker = _context(context)
        services = files_services(worker.settings, worker.services)
        await queue_eager_listings(services)
        deferred = 0
        for account_id in await accounts_due(services):
            try:
                await files_job.configure(queueing_lock=f"files:{account_id}").defer_async(
                    account_id=account_id
                )
                deferred += 1
            except AlreadyEnqueued:
                pass
        return deferred

    @app.periodic(cron="43 * * * *", periodic_id="sweep_files")
    @app.task(
        name="connector.sweep_files",
        queue=MAINTENANCE_QUEUE,
        queueing_lock="sweep_files",
        pass_context=True,
    )
    async def sweep_files(context: JobContext, timestamp: int) -> dict[str, int]:
        """Blobs of purged files and of deleted accounts (see `connector.files.housekeeping`)."""
        worker = _context(context)
        services = files_services(worker.settings, worker.services)
        swept = await sweep(worker.services.store, services.blobs)
        return {"blobs": swept.blobs, "accounts": swept.accounts}

    @app.periodic(cron="* * * * * */15", periodic_id="retry_stalled")
    @app.task(
        name="connector.retry_stalled",
        queue=MAINTENANCE_QUEUE,
        queueing_lock="retry_stalled",
    )
    async def retry_stalled(timestamp: int) -> int:
        retried = 0
        for job in await app.job_manager.get_stalled_jobs(seconds_since_heartbeat=30):
            try:
                await app.job_manager.retry_job(job)
                retried += 1
                _log.warning("worker.stalled_job_retried", job_id=job.id, task=job.task_name)
            except UniqueViolation:
                _log.info("worker.stalled_job_superseded", job_id=job.id, task=job.task_name)
        return retried

    return app


async def install_procrastinate(store: Store, database_url: str) -> bool:
    """Apply procrastinate's schema if it is missing; returns whether it was applied now.

    Under the migrations' lock (held by a transaction of ours while procrastinate applies its
    schema on its own connection): applying it twice fails, and two `db upgrade`s may meet."""
    if store.is_sqlite:
        return False
    async with store.transaction() as conn:
        await take_migration_lock(conn)
        if await procrastinate_installed(store):
            return False
        app = build_app(database_url)
        async with app.open_async():
            await app.schema_manager.apply_schema_async()
    return True
