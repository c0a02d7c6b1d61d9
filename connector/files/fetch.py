"""Download turns: list a case's files and fetch the wanted ones, for one account at a time.

A turn is its own job, never part of a sync: it takes the account's lease (the session lock
syncs and actions take, so no two of them drive one portal session at once), opens the
account's session through the gate (`open_session`: a sign-in only where the gate permits),
works for at most `turn_seconds`, saves the session and lets go, so a sync waits at most one
turn. What is left is picked up by the next turn.

A file becomes visible in one transaction: its blob is marked stored and the file row points at
it, and `file.available` is written with it. That transaction follows the blob's flush to disk,
and both overlap the next file's transfer (`_Landing`). Anything interrupted before (a dropped
connection that could not resume, a crash, SIGKILL) leaves only a `writing` blob that no file
points at; the account's next turn discards those before it starts, then fetches it again.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

import structlog

from adapters.base import (
    AdapterError,
    DownloadCorrupt,
    Downloaded,
    FileAccess,
    FilesUnavailable,
    NotFound,
    PortalSession,
    PortalUnavailable,
    SignInRefused,
    file_access,
    no_code,
    offers_files,
)
from connector.accounts.gate import AttemptSource
from connector.accounts.lease import AccountLease, LeaseBusy, account_lease
from connector.clock import utcnow
from connector.domain import Account, AccountStatus, EventType
from connector.files.blobs import BlobStores
from connector.files.policy import FilePolicy, retry_at
from connector.files.sealing import SealingSink, account_file_key
from connector.files.views import file_json
from connector.store import accounts as account_rows
from connector.store import events
from connector.store import files as file_rows
from connector.store.files import Listing, StoredFile
from connector.store.ids import new_id
from connector.sync.portal import keep_session, open_session, record_error
from connector.sync.services import SyncServices
from vault.stream import FILE_FORMAT, AccountFileKey, ChunkCipher, new_data_key, wrap_blob_key

_log = structlog.get_logger("connector.files")

#: Statuses whose account is not signed in for files (a person must act, or it is paused).
STOPPED = frozenset(
    {
        AccountStatus.DISABLED,
        AccountStatus.LOGIN_REQUIRED,
        AccountStatus.MFA_REQUIRED,
        AccountStatus.INSUFFICIENT_PERMISSIONS,
    }
)
#: Errors that say something about the portal's state of one file or one moment, not about the
#: account: they never change its status.
_FILE_ERRORS = (DownloadCorrupt, FilesUnavailable, NotFound, PortalUnavailable)

#: (file id, bytes so far or -n on a restart, size if known) -> None
Progress = Callable[[str, int, int | None], None]


@dataclass
class FilesServices:
    """What download turns need, built once per process."""

    sync: SyncServices
    blobs: BlobStores
    policy: FilePolicy
    chunk_size: int = 1 << 20
    turn: timedelta = timedelta(minutes=2)


@dataclass
class TurnResult:
    account_id: str
    outcome: str  # done | more | busy | skipped | refused | failed
    listed: int = 0
    fetched: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)


async def discard_unfinished(services: FilesServices, account_id: str) -> int:
    """Remove the account's interrupted writes. Only while holding its lease: nobody else
    writes for the account then, so every `writing` blob is a leftover."""
    store = services.sync.store
    async with store.read() as conn:
        leftovers = await file_rows.writing_blobs(conn, account_id)
    for blob in leftovers:
        await services.blobs.backend(blob.backend).delete(account_id, blob.id)
    async with store.transaction() as conn:
        await file_rows.delete_blobs(conn, [b.id for b in leftovers])
    for backend in services.blobs.all():
        await backend.discard_partials(account_id)
    return len(leftovers)


async def fetch_account(
    services: FilesServices,
    account_id: str,
    *,
    case_id: str | None = None,
    progress: Progress | None = None,
) -> TurnResult:
    """One download turn for the account (see the module's docstring)."""
    sync = services.sync
    try:
        async with account_lease(
            sync.store, account_id, holder=sync.holder, ttl=sync.lease_ttl, keep_alive=True
        ) as lease:
            # Not shielded: a cancelled turn (shutdown) stops its download, which discards
            # its partial blob, before the lease is let go.
            return await _turn(services, lease, account_id, case_id, progress)
    except LeaseBusy:
        return TurnResult(account_id, "busy")


async def _postpone(services: FilesServices, account_id: str, error: str) -> None:
    """The portal cannot be reached for now: every due listing and file waits its turn."""
    now = utcnow()
    async with services.sync.store.transaction() as conn:
        for listing in await file_rows.due_listings(conn, account_id, now, case_id=None, limit=500):
            await file_rows.listing_failed(
                conn,
                listing.case_id,
                error=error,
                now=now,
                next_attempt_at=retry_at(listing.attempts + 1, now) or now + timedelta(hours=1),
            )
        for file in await file_rows.due_files(conn, account_id, now, case_id=None, limit=500):
            await file_rows.file_failed(
                conn, file.id, error=error, now=now, next_attempt_at=now + timedelta(minutes=5)
            )


async def _turn(
    services: FilesServices,
    lease: AccountLease,
    account_id: str,
    case_id: str | None,
    progress: Progress | None,
) -> TurnResult:
    sync = services.sync
    result = TurnResult(account_id, "done")
    await discard_unfinished(services, account_id)
    now = utcnow()
    async with sync.store.read() as conn:
        account = await account_rows.get_account(conn, account_id)
        listings = await file_rows.due_listings(conn, account_id, now, case_id=case_id, limit=50)
        wanted = await file_rows.due_files(conn, account_id, now, case_id=case_id, limit=1)
    if not listings and not wanted:
        return result
    if not offers_files(sync.adapters.get(account.vendor)):
        await _give_up_all(services, account_id, "this vendor's adapter does not download files")
        result.outcome = "failed"
        result.errors.append(FilesUnavailable.reason)
        return result
    if account.status in STOPPED:
        result.outcome = "skipped"
        await _postpone(services, account_id, f"the account is {account.status}")
        return result
    try:
        session = await open_session(
            sync, account, no_code, reason="download files", source=AttemptSource.FILES
        )
    except SignInRefused as refused:
        result.outcome = "refused"
        await _postpone(services, account_id, f"sign-in refused: {refused.why}")
        return result
    except AdapterError as error:
        await record_error(sync, account_id, error, policy=sync.policy)
        result.outcome = "failed"
        result.errors.append(error.reason)
        await _postpone(services, account_id, error.reason)
        return result
    try:
        return await _work(services, lease, account, session, listings, case_id, progress, result)
    finally:
        with contextlib.suppress(AdapterError):
            await keep_session(sync, account, session)
        await session.close()


async def _work(
    services: FilesServices,
    lease: AccountLease,
    account: Account,
    session: PortalSession,
    listings: list[Listing],
    case_id: str | None,
    progress: Progress | None,
    result: TurnResult,
) -> TurnResult:
    sync = services.sync
    loop = asyncio.get_running_loop()
    deadline = loop.time() + services.turn.total_seconds()
    try:
        access = file_access(session)
    except FilesUnavailable as error:
        await _give_up_all(services, account.id, str(error))
        result.outcome = "failed"
        result.errors.append(error.reason)
        return result
    key = await account_file_key(sync.store, sync.vault.keys, account.id)
    eager = services.policy.of(account.vendor).eager
    landing = _Landing(services, result)
    try:
        try:
            for listing in listings:
                lease.check()
                if await _list(services, access, account, listing, eager, result):
                    result.listed += 1
            await _fetch_due(
                services, lease, access, key, account, case_id, progress, landing, deadline
            )
        except asyncio.CancelledError:
            await landing.abandon()
            raise
        except BaseException:
            await landing.wait()
            raise
        await landing.wait()
        return result
    except AdapterError as error:
        # The session or the login failed (an expired session that could not sign in again,
        # a lockout, a changed page): accounted for like any sync's error.
        await record_error(sync, account.id, error, policy=sync.policy)
        result.outcome = "failed"
        result.errors.append(error.reason)
        return result


async def _fetch_due(
    services: FilesServices,
    lease: AccountLease,
    access: FileAccess,
    key: AccountFileKey,
    account: Account,
    case_id: str | None,
    progress: Progress | None,
    landing: _Landing,
    deadline: float,
) -> None:
    """Fetch the account's due files one after the other until none is left, the time is up
    or the portal struggles. Each file's bytes are received, then it lands (see `_Landing`)
    while the next one is received."""
    result = landing.result
    loop = asyncio.get_running_loop()
    policy = services.policy.of(account.vendor)
    while loop.time() < deadline:
        lease.check()
        async with services.sync.store.read() as conn:
            due = await file_rows.due_files(conn, account.id, utcnow(), case_id=case_id, limit=2)
        due = [f for f in due if f.id != landing.file_id]  # still landing: not due any more
        if not due:
            return
        file = due[0]
        refusal = policy.refusal(file.kind, file.size)
        if refusal is not None:
            await _failed(services, file, refusal, give_up=True)
            result.failed += 1
            continue
        try:
            received = await _receive(services, access, key, file, progress)
        except (DownloadCorrupt, PortalUnavailable) as error:
            await _failed(services, file, str(error), give_up=False)
            result.failed += 1
            result.errors.append(error.reason)
            if isinstance(error, PortalUnavailable):
                return  # the portal is struggling: leave it alone for now
            continue
        except (FilesUnavailable, NotFound) as error:
            await _failed(services, file, str(error), give_up=True)
            result.failed += 1
            result.errors.append(error.reason)
            continue
        await landing.follow(received, lease, key)
    result.outcome = "more"


async def _give_up_all(services: FilesServices, account_id: str, error: str) -> None:
    now = utcnow()
    async with services.sync.store.transaction() as conn:
        for listing in await file_rows.due_listings(conn, account_id, now, case_id=None, limit=500):
            await file_rows.listing_failed(
                conn, listing.case_id, error=error, now=now, next_attempt_at=None
            )
        for file in await file_rows.due_files(conn, account_id, now, case_id=None, limit=500):
            await file_rows.file_failed(conn, file.id, error=error, now=now, next_attempt_at=None)


async def _failed(services: FilesServices, file: StoredFile, error: str, *, give_up: bool) -> None:
    now = utcnow()
    when = None if give_up else retry_at(file.attempts + 1, now)
    async with services.sync.store.transaction() as conn:
        await file_rows.file_failed(conn, file.id, error=error, now=now, next_attempt_at=when)
    _log.info(
        "file.failed", file_id=file.id, error=error, retry_at=when.isoformat() if when else None
    )


async def _list(
    services: FilesServices,
    access: FileAccess,
    account: Account,
    listing: Listing,
    eager_policy: bool,
    result: TurnResult,
) -> bool:
    store = services.sync.store
    try:
        listed = await access.list_files(listing.vendor_case_id)
    except _FILE_ERRORS as error:
        now = utcnow()
        give_up = isinstance(error, (FilesUnavailable, NotFound))
        async with store.transaction() as conn:
            await file_rows.listing_failed(
                conn,
                listing.case_id,
                error=str(error),
                now=now,
                next_attempt_at=None if give_up else retry_at(listing.attempts + 1, now),
            )
        result.errors.append(error.reason)
        return False
    now = utcnow()
    policy = services.policy.of(account.vendor)
    async with store.transaction() as conn:
        stored = await file_rows.record_listing(
            conn, account_id=account.id, case_id=listing.case_id, listed=listed, now=now
        )
        if listing.eager and eager_policy:
            await file_rows.request_files(
                conn,
                [f.id for f in stored if f.gone_at is None and policy.wants(f.to_ref())],
                now,
            )
        await file_rows.listing_done(conn, listing.case_id, now)
    return True


@dataclass
class _Received:
    """A file whose bytes have all arrived; its blob is not durable yet."""

    file: StoredFile
    backend: str
    blob_id: str
    sink: SealingSink
    downloaded: Downloaded


async def _receive(
    services: FilesServices,
    access: FileAccess,
    key: AccountFileKey,
    file: StoredFile,
    progress: Progress | None,
) -> _Received:
    """Download the file into a new `writing` blob (which no file points at)."""
    store = services.sync.store
    backend = services.blobs.current
    blob_id = new_id("blob")
    data_key = new_data_key()
    kek_id, wrapped = await wrap_blob_key(
        services.sync.vault.keys, data_key, file.account_id, blob_id
    )
    async with store.transaction() as conn:
        await file_rows.insert_blob(
            conn,
            blob_id=blob_id,
            account_id=file.account_id,
            backend=backend.name,
            format_version=FILE_FORMAT,
            kek_id=kek_id,
            wrapped_key=wrapped,
            chunk_size=services.chunk_size,
            now=utcnow(),
        )
    writer = await backend.writer(file.account_id, blob_id)

    def report(delta: int) -> None:
        if progress is not None:
            progress(file.id, delta, file.size)

    sink = SealingSink(
        ChunkCipher(data_key, file.account_id, blob_id),
        writer,
        key,
        services.chunk_size,
        progress=report if progress else None,
    )
    try:
        downloaded = await access.download(file.to_ref(), sink)
    except BaseException:
        await asyncio.shield(_discard(services, backend.name, file.account_id, blob_id, sink))
        raise
    return _Received(file, backend.name, blob_id, sink, downloaded)


async def _land(
    services: FilesServices, lease: AccountLease, key: AccountFileKey, received: _Received
) -> None:
    """Make the received blob durable, then visible: its last chunk sealed, the blob flushed
    and under its final name (`BlobWriter.commit`), then in one transaction the blob marked
    stored, the file pointed at it (or at an earlier blob of the same content) and
    `file.available` written."""
    store = services.sync.store
    file, blob_id, sink, downloaded = (
        received.file,
        received.blob_id,
        received.sink,
        received.downloaded,
    )
    try:
        sealed = await sink.finish()
    except BaseException:
        await asyncio.shield(_discard(services, received.backend, file.account_id, blob_id, sink))
        raise
    if downloaded.size != sealed.size:
        await _discard(services, received.backend, file.account_id, blob_id, sink)
        raise DownloadCorrupt("the adapter's count and the stored bytes differ")
    now = utcnow()
    duplicate = False
    async with store.transaction() as conn:
        await lease.renew_in(conn)
        existing = await file_rows.stored_blob_by_mac(conn, file.account_id, sealed.content_mac)
        if existing is not None:
            duplicate = True
            stored = await file_rows.attach_blob(conn, file.id, existing.id, now)
            await file_rows.delete_blobs(conn, [blob_id])
        else:
            await file_rows.mark_blob_stored(
                conn,
                blob_id,
                size=sealed.size,
                chunk_count=sealed.chunk_count,
                content_mac=sealed.content_mac,
                sealed_digest=key.seal_digest(blob_id, sealed.sha256),
                now=now,
            )
            stored = await file_rows.attach_blob(conn, file.id, blob_id, now)
        await events.append_event(
            conn,
            type=EventType.FILE_AVAILABLE,
            account_id=file.account_id,
            subject_id=file.id,
            data=file_json(stored, stored_size=sealed.size),
            now=now,
        )
    if duplicate:
        await services.blobs.backend(received.backend).delete(file.account_id, blob_id)
    _log.info(
        "file.stored",
        file_id=file.id,
        kind=str(file.kind),
        size=sealed.size,
        resumes=downloaded.resumes,
        deduplicated=duplicate,
    )


class _Landing:
    """The received file that lands (`_land`) while the turn receives the next one.

    Landing costs a file 10-25 ms whatever its size (the blob's fsync, its rename and the
    directory's fsync, then a transaction), more than the transfer of tens of MB from a fast
    portal; in turn with the transfers, the portal connection sat idle meanwhile. One file
    lands at a time, in the order the files arrived, so a file's duplicate that arrives next
    finds it stored. A file is visible only once it landed, as before. A turn that ends (its
    time is up, nothing is due, an error) waits for the landing; a cancelled turn cancels it,
    which discards its blob (the file is fetched again), before the lease is let go.
    """

    def __init__(self, services: FilesServices, result: TurnResult) -> None:
        self.services = services
        self.result = result
        self._task: asyncio.Task[None] | None = None
        self._file: StoredFile | None = None

    @property
    def file_id(self) -> str | None:
        return self._file.id if self._file is not None else None

    async def follow(self, received: _Received, lease: AccountLease, key: AccountFileKey) -> None:
        """Let the landing file finish, then start landing `received`."""
        try:
            await self.wait()
        except BaseException:
            await asyncio.shield(
                _discard(
                    self.services,
                    received.backend,
                    received.file.account_id,
                    received.blob_id,
                    received.sink,
                )
            )
            raise
        self._file = received.file
        self._task = asyncio.ensure_future(_land(self.services, lease, key, received))

    async def wait(self) -> None:
        """Wait for the landing file and count it (a corrupt one as failed, to retry)."""
        task, file = self._task, self._file
        if task is None or file is None:
            return
        try:
            await task
        except DownloadCorrupt as error:
            await _failed(self.services, file, str(error), give_up=False)
            self.result.failed += 1
            self.result.errors.append(error.reason)
        else:
            self.result.fetched += 1
        finally:
            self._task = self._file = None

    async def abandon(self) -> None:
        """Cancel the landing (its blob is discarded) and wait until it stopped."""
        task, self._task, self._file = self._task, None, None
        if task is not None:
            task.cancel()
            await asyncio.wait([task])
            if not task.cancelled():
                task.exception()  # seen: the cancellation is what the caller reports


async def _discard(
    services: FilesServices, backend_name: str, account_id: str, blob_id: str, sink: SealingSink
) -> None:
    await sink.settle()
    with contextlib.suppress(OSError):
        await sink.writer.discard()
    await services.blobs.backend(backend_name).delete(account_id, blob_id)
    async with services.sync.store.transaction() as conn:
        await file_rows.delete_blobs(conn, [blob_id])
