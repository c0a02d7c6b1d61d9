"""Files, their listings, encrypted blobs and per-account file keys (see `connector.files`)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.base.files import Checksum, FileKind, FileRef
from connector.errors import NotFoundError
from connector.store.dialect import upsert
from connector.store.ids import new_id
from connector.store.schema import (
    accounts,
    blob_chunks,
    blobs,
    cases,
    file_account_keys,
    file_listings,
    files,
    setups,
)


def ref_key(ref: str) -> str:
    """The unique-index key of an adapter's file handle (handles may be long URLs)."""
    return hashlib.sha256(ref.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class StoredFile:
    id: str
    account_id: str
    case_id: str
    ref: str
    kind: FileKind
    name: str
    size: int | None
    setup_version: int | None
    vendor_setup_id: str | None
    checksum: str | None
    assumed_facts: tuple[str, ...]
    listed_at: datetime
    gone_at: datetime | None
    requested_at: datetime | None
    blob_id: str | None
    available_at: datetime | None
    attempts: int
    next_attempt_at: datetime | None
    last_error: str | None
    created_at: datetime
    updated_at: datetime

    def __repr__(self) -> str:  # names can carry patient names
        return f"StoredFile({self.id!r}, {self.kind})"

    def to_ref(self) -> FileRef:
        return FileRef(
            ref=self.ref,
            kind=self.kind,
            name=self.name,
            size=self.size,
            setup_version=self.setup_version,
            vendor_setup_id=self.vendor_setup_id,
            checksum=Checksum.parse(self.checksum) if self.checksum else None,
            assumed_facts=self.assumed_facts,
        )


def _file(row: sa.Row[Any]) -> StoredFile:
    m = row._mapping
    return StoredFile(
        id=m["id"],
        account_id=m["account_id"],
        case_id=m["case_id"],
        ref=m["ref"],
        kind=FileKind(m["kind"]),
        name=m["name"],
        size=m["size"],
        setup_version=m["setup_version"],
        vendor_setup_id=m["vendor_setup_id"],
        checksum=m["checksum"],
        assumed_facts=tuple(m["assumed_facts"] or ()),
        listed_at=m["listed_at"],
        gone_at=m["gone_at"],
        requested_at=m["requested_at"],
        blob_id=m["blob_id"],
        available_at=m["available_at"],
        attempts=m["attempts"],
        next_attempt_at=m["next_attempt_at"],
        last_error=m["last_error"],
        created_at=m["created_at"],
        updated_at=m["updated_at"],
    )


@dataclass(frozen=True)
class Blob:
    id: str
    account_id: str
    state: str
    backend: str
    format_version: int
    kek_id: str
    wrapped_key: bytes
    chunk_size: int
    chunk_count: int | None
    size: int | None
    content_mac: str | None
    sealed_digest: bytes | None

    def __repr__(self) -> str:
        return f"Blob({self.id!r}, {self.state}, kek_id={self.kek_id!r})"


def _blob(row: sa.Row[Any]) -> Blob:
    return _blob_of(row._mapping)


def _blob_of(m: Mapping[Any, Any]) -> Blob:
    return Blob(
        id=m["id"],
        account_id=m["account_id"],
        state=m["state"],
        backend=m["backend"],
        format_version=m["format_version"],
        kek_id=m["kek_id"],
        wrapped_key=bytes(m["wrapped_key"]),
        chunk_size=m["chunk_size"],
        chunk_count=m["chunk_count"],
        size=m["size"],
        content_mac=m["content_mac"],
        sealed_digest=bytes(m["sealed_digest"]) if m["sealed_digest"] is not None else None,
    )


# --- file rows --------------------------------------------------------------------------------


async def record_listing(
    conn: AsyncConnection,
    *,
    account_id: str,
    case_id: str,
    listed: Sequence[FileRef],
    now: datetime,
) -> list[StoredFile]:
    """Store a complete listing of a case's files: new files are added, known ones updated (a
    changed size or checksum means new content: the stored blob no longer counts), and files
    the listing no longer shows are marked gone, never deleted."""
    existing = {
        f.ref: f
        for f in (
            _file(r)
            for r in (await conn.execute(sa.select(files).where(files.c.case_id == case_id))).all()
        )
    }
    seen: set[str] = set()
    for item in listed:
        if item.ref in seen:
            continue
        seen.add(item.ref)
        values: dict[str, Any] = {
            "kind": str(item.kind),
            "name": item.name,
            "size": item.size,
            "setup_version": item.setup_version,
            "vendor_setup_id": item.vendor_setup_id,
            "checksum": str(item.checksum) if item.checksum else None,
            "assumed_facts": list(item.assumed_facts),
            "listed_at": now,
            "gone_at": None,
            "updated_at": now,
        }
        known = existing.get(item.ref)
        if known is None:
            await conn.execute(
                files.insert().values(
                    id=new_id("file"),
                    account_id=account_id,
                    case_id=case_id,
                    ref=item.ref,
                    ref_key=ref_key(item.ref),
                    attempts=0,
                    created_at=now,
                    **values,
                )
            )
            continue
        changed = (known.size, known.checksum) != (values["size"], values["checksum"])
        if changed and known.blob_id is not None:
            values.update(blob_id=None, available_at=None, attempts=0, last_error=None)
        await conn.execute(files.update().where(files.c.id == known.id).values(**values))
    gone = [f.id for ref, f in existing.items() if ref not in seen and f.gone_at is None]
    if gone:
        await conn.execute(files.update().where(files.c.id.in_(gone)).values(gone_at=now))
    return await case_files(conn, case_id)


async def case_files(conn: AsyncConnection, case_id: str) -> list[StoredFile]:
    """A case's files: setup files by version, then records, each by kind and name."""
    query = (
        sa.select(files)
        .where(files.c.case_id == case_id)
        .order_by(
            files.c.setup_version.is_(None),
            files.c.setup_version,
            files.c.kind,
            files.c.name,
            files.c.id,
        )
    )
    return [_file(r) for r in (await conn.execute(query)).all()]


async def get_file(conn: AsyncConnection, file_id: str) -> StoredFile:
    row = (await conn.execute(sa.select(files).where(files.c.id == file_id))).first()
    if row is None:
        raise NotFoundError("no such file")
    return _file(row)


async def request_files(conn: AsyncConnection, file_ids: Iterable[str], now: datetime) -> int:
    """Mark files as wanted (once; a file already stored or wanted is left alone)."""
    ids = list(file_ids)
    if not ids:
        return 0
    result = await conn.execute(
        files.update()
        .where(files.c.id.in_(ids), files.c.blob_id.is_(None), files.c.requested_at.is_(None))
        .values(requested_at=now, next_attempt_at=None, attempts=0, updated_at=now)
    )
    return int(result.rowcount)


async def due_files(
    conn: AsyncConnection, account_id: str, now: datetime, *, case_id: str | None, limit: int
) -> list[StoredFile]:
    query = (
        sa.select(files)
        .where(
            files.c.account_id == account_id,
            files.c.requested_at.is_not(None),
            files.c.blob_id.is_(None),
            files.c.gone_at.is_(None),
            sa.or_(files.c.next_attempt_at.is_(None), files.c.next_attempt_at <= now),
        )
        .order_by(files.c.requested_at, files.c.id)
        .limit(limit)
    )
    if case_id is not None:
        query = query.where(files.c.case_id == case_id)
    return [_file(r) for r in (await conn.execute(query)).all()]


async def file_failed(
    conn: AsyncConnection,
    file_id: str,
    *,
    error: str,
    now: datetime,
    next_attempt_at: datetime | None,
) -> StoredFile:
    """Count a failed download; `next_attempt_at` None gives up (the request is dropped)."""
    current = await get_file(conn, file_id)
    values: dict[str, Any] = {
        "attempts": current.attempts + 1,
        "last_error": error[:200],
        "next_attempt_at": next_attempt_at,
        "updated_at": now,
    }
    if next_attempt_at is None:
        values["requested_at"] = None
    await conn.execute(files.update().where(files.c.id == file_id).values(**values))
    return await get_file(conn, file_id)


async def attach_blob(
    conn: AsyncConnection, file_id: str, blob_id: str, now: datetime
) -> StoredFile:
    """The file's content is stored: point it at its blob (the moment it becomes visible)."""
    await conn.execute(
        files.update()
        .where(files.c.id == file_id)
        .values(
            blob_id=blob_id,
            available_at=now,
            requested_at=None,
            next_attempt_at=None,
            last_error=None,
            updated_at=now,
        )
    )
    return await get_file(conn, file_id)


# --- listings ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Listing:
    case_id: str
    account_id: str
    vendor_case_id: str
    requested_at: datetime | None
    eager: bool
    listed_at: datetime | None
    attempts: int
    last_error: str | None


async def request_listing(
    conn: AsyncConnection, case_id: str, account_id: str, now: datetime, *, eager: bool
) -> None:
    """Ask for the case's files to be listed (again). `eager` also fetches what the policy
    wants once listed; a pending request keeps an eagerness it already had."""
    statement = upsert(conn, file_listings).values(
        case_id=case_id, account_id=account_id, requested_at=now, eager=eager, updated_at=now
    )
    statement = statement.on_conflict_do_update(
        index_elements=[file_listings.c.case_id],
        set_={
            "requested_at": sa.func.coalesce(file_listings.c.requested_at, now),
            "eager": sa.or_(
                sa.and_(file_listings.c.requested_at.is_not(None), file_listings.c.eager),
                sa.literal(eager),
            ),
            "next_attempt_at": None,
            "updated_at": now,
        },
    )
    await conn.execute(statement)


def _listing_query() -> sa.Select[Any]:
    return sa.select(
        file_listings.c.case_id,
        file_listings.c.account_id,
        cases.c.vendor_case_id,
        file_listings.c.requested_at,
        file_listings.c.eager,
        file_listings.c.listed_at,
        file_listings.c.attempts,
        file_listings.c.last_error,
    ).join(cases, cases.c.id == file_listings.c.case_id)


async def get_listing(conn: AsyncConnection, case_id: str) -> Listing | None:
    row = (await conn.execute(_listing_query().where(file_listings.c.case_id == case_id))).first()
    return Listing(*row) if row is not None else None


async def due_listings(
    conn: AsyncConnection, account_id: str, now: datetime, *, case_id: str | None, limit: int
) -> list[Listing]:
    query = (
        _listing_query()
        .where(
            file_listings.c.account_id == account_id,
            file_listings.c.requested_at.is_not(None),
            cases.c.removed_at.is_(None),
            sa.or_(
                file_listings.c.next_attempt_at.is_(None), file_listings.c.next_attempt_at <= now
            ),
        )
        .order_by(file_listings.c.requested_at, file_listings.c.case_id)
        .limit(limit)
    )
    if case_id is not None:
        query = query.where(file_listings.c.case_id == case_id)
    return [Listing(*r) for r in (await conn.execute(query)).all()]


async def listing_done(conn: AsyncConnection, case_id: str, now: datetime) -> None:
    case_updated = (
        await conn.execute(sa.select(cases.c.updated_at).where(cases.c.id == case_id))
    ).scalar_one()
    await conn.execute(
        file_listings.update()
        .where(file_listings.c.case_id == case_id)
        .values(
            requested_at=None,
            listed_at=now,
            case_updated_at=case_updated,
            attempts=0,
            next_attempt_at=None,
            last_error=None,
            updated_at=now,
        )
    )


async def listing_failed(
    conn: AsyncConnection,
    case_id: str,
    *,
    error: str,
    now: datetime,
    next_attempt_at: datetime | None,
) -> None:
    values: dict[str, Any] = {
        "attempts": file_listings.c.attempts + 1,
        "last_error": error[:200],
        "next_attempt_at": next_attempt_at,
        "updated_at": now,
    }
    if next_attempt_at is None:
        # Given up: not queued again by the policy for a day (a request still queues it).
        values.update(requested_at=None, next_attempt_at=now + timedelta(days=1))
    await conn.execute(
        file_listings.update().where(file_listings.c.case_id == case_id).values(**values)
    )


async def cases_for_eager_listing(
    conn: AsyncConnection, vendors: Sequence[str], now: datetime, *, limit: int
) -> list[tuple[str, str]]:
    """(case id, account id) of live cases of `vendors` with a setup in review whose files
    were not listed since the case last changed (or whose queued listing would not fetch)."""
    if not vendors:
        return []
    in_review = sa.exists().where(setups.c.case_id == cases.c.id, setups.c.state == "in_review")
    query = (
        sa.select(cases.c.id, cases.c.account_id)
        .select_from(cases.outerjoin(file_listings, file_listings.c.case_id == cases.c.id))
        .where(
            cases.c.vendor.in_(list(vendors)),
            cases.c.removed_at.is_(None),
            in_review,
            sa.or_(
                file_listings.c.case_id.is_(None),
                # Queued by a request, without fetching: make it eager.
                sa.and_(file_listings.c.requested_at.is_not(None), ~file_listings.c.eager),
                sa.and_(
                    file_listings.c.requested_at.is_(None),
                    sa.or_(
                        file_listings.c.case_updated_at.is_(None),
                        file_listings.c.case_updated_at < cases.c.updated_at,
                    ),
                ),
            ),
            # A listing that keeps failing waits for its next attempt.
            sa.or_(
                file_listings.c.next_attempt_at.is_(None),
                file_listings.c.next_attempt_at <= now,
            ),
        )
        .order_by(cases.c.updated_at)
        .limit(limit)
    )
    return [(r[0], r[1]) for r in (await conn.execute(query)).all()]


async def accounts_with_work(conn: AsyncConnection, now: datetime, *, limit: int) -> list[str]:
    """Accounts with a file or a listing to fetch now."""
    wanted_files = sa.select(files.c.account_id).where(
        files.c.requested_at.is_not(None),
        files.c.blob_id.is_(None),
        files.c.gone_at.is_(None),
        sa.or_(files.c.next_attempt_at.is_(None), files.c.next_attempt_at <= now),
    )
    wanted_listings = sa.select(file_listings.c.account_id).where(
        file_listings.c.requested_at.is_not(None),
        sa.or_(file_listings.c.next_attempt_at.is_(None), file_listings.c.next_attempt_at <= now),
    )
    query = sa.union(wanted_files, wanted_listings).limit(limit)
    return sorted({r[0] for r in (await conn.execute(query)).all()})


# --- account file keys ------------------------------------------------------------------------


@dataclass(frozen=True)
class WrappedKey:
    owner_id: str  # the account (account keys) or the blob (blob keys)
    account_id: str
    kek_id: str
    wrapped_key: bytes


async def account_key(conn: AsyncConnection, account_id: str) -> WrappedKey | None:
    row = (
        await conn.execute(
            sa.select(file_account_keys).where(file_account_keys.c.account_id == account_id)
        )
    ).first()
    if row is None:
        return None
    return WrappedKey(account_id, account_id, row.kek_id, bytes(row.wrapped_key))


async def insert_account_key(
    conn: AsyncConnection,
    *,
    account_id: str,
    format_version: int,
    kek_id: str,
    wrapped_key: bytes,
    now: datetime,
) -> WrappedKey:
    """Store the account's file key unless one exists already; returns the one that counts."""
    statement = (
        upsert(conn, file_account_keys)
        .values(
            account_id=account_id,
            format_version=format_version,
            kek_id=kek_id,
            wrapped_key=wrapped_key,
            created_at=now,
        )
        .on_conflict_do_nothing(index_elements=[file_account_keys.c.account_id])
    )
    await conn.execute(statement)
    stored = await account_key(conn, account_id)
    assert stored is not None
    return stored


# --- blobs ------------------------------------------------------------------------------------


async def insert_blob(
    conn: AsyncConnection,
    *,
    blob_id: str,
    account_id: str,
    backend: str,
    format_version: int,
    kek_id: str,
    wrapped_key: bytes,
    chunk_size: int,
    now: datetime,
) -> None:
    await conn.execute(
        blobs.insert().values(
            id=blob_id,
            account_id=account_id,
            state="writing",
            backend=backend,
            format_version=format_version,
            kek_id=kek_id,
            wrapped_key=wrapped_key,
            chunk_size=chunk_size,
            created_at=now,
        )
    )


_BLOB_COLUMNS = [c.label(f"blob__{c.name}") for c in blobs.c]


async def file_and_blob(conn: AsyncConnection, file_id: str) -> tuple[StoredFile, Blob | None]:
    """A file and, once it is stored, its blob: one statement (serving a file's content)."""
    row = (
        await conn.execute(
            sa.select(files, *_BLOB_COLUMNS)
            .outerjoin(blobs, blobs.c.id == files.c.blob_id)
            .where(files.c.id == file_id)
        )
    ).first()
    if row is None:
        raise NotFoundError("no such file")
    file = _file(row)
    if file.blob_id is None:
        return file, None
    m = row._mapping
    if m["blob__id"] is None:
        raise NotFoundError("the file's content is gone")
    return file, _blob_of({c.name: m[f"blob__{c.name}"] for c in blobs.c})


async def get_blob(conn: AsyncConnection, blob_id: str) -> Blob:
    row = (await conn.execute(sa.select(blobs).where(blobs.c.id == blob_id))).first()
    if row is None:
        raise NotFoundError("the file's content is gone")
    return _blob(row)


async def stored_blob_by_mac(conn: AsyncConnection, account_id: str, mac: str) -> Blob | None:
    row = (
        await conn.execute(
            sa.select(blobs).where(
                blobs.c.account_id == account_id,
                blobs.c.content_mac == mac,
                blobs.c.state == "stored",
            )
        )
    ).first()
    return _blob(row) if row is not None else None


async def mark_blob_stored(
    conn: AsyncConnection,
    blob_id: str,
    *,
    size: int,
    chunk_count: int,
    content_mac: str,
    sealed_digest: bytes,
    now: datetime,
) -> None:
    await conn.execute(
        blobs.update()
        .where(blobs.c.id == blob_id)
        .values(
            state="stored",
            size=size,
            chunk_count=chunk_count,
            content_mac=content_mac,
            sealed_digest=sealed_digest,
            stored_at=now,
        )
    )


async def writing_blobs(conn: AsyncConnection, account_id: str) -> list[Blob]:
    query = sa.select(blobs).where(blobs.c.account_id == account_id, blobs.c.state == "writing")
    return [_blob(r) for r in (await conn.execute(query)).all()]


async def delete_blobs(conn: AsyncConnection, blob_ids: Sequence[str]) -> int:
    """Delete blob rows (their database chunks go with them)."""
    if not blob_ids:
        return 0
    result = await conn.execute(blobs.delete().where(blobs.c.id.in_(list(blob_ids))))
    return int(result.rowcount)


async def unreferenced_blobs(conn: AsyncConnection, *, limit: int) -> list[Blob]:
    """Stored blobs no file points at any more (their files were purged)."""
    referenced = sa.exists().where(files.c.blob_id == blobs.c.id)
    query = (
        sa.select(blobs).where(blobs.c.state == "stored", ~referenced).order_by(blobs.c.id)
    ).limit(limit)
    return [_blob(r) for r in (await conn.execute(query)).all()]


async def existing_accounts(conn: AsyncConnection, account_ids: Sequence[str]) -> set[str]:
    if not account_ids:
        return set()
    query = sa.select(accounts.c.id).where(accounts.c.id.in_(list(account_ids)))
    return {r[0] for r in (await conn.execute(query)).all()}


async def existing_blobs(conn: AsyncConnection, blob_ids: Sequence[str]) -> set[str]:
    if not blob_ids:
        return set()
    query = sa.select(blobs.c.id).where(blobs.c.id.in_(list(blob_ids)))
    return {r[0] for r in (await conn.execute(query)).all()}


# --- database chunks (the `postgresql` blob store) --------------------------------------------


async def insert_chunks(
    conn: AsyncConnection, blob_id: str, chunks: Sequence[tuple[int, bytes]]
) -> None:
    if chunks:
        await conn.execute(
            blob_chunks.insert(),
            [{"blob_id": blob_id, "chunk_index": i, "data": data} for i, data in chunks],
        )


async def read_chunks(
    conn: AsyncConnection, blob_id: str, first: int, last: int
) -> list[tuple[int, bytes]]:
    query = (
        sa.select(blob_chunks.c.chunk_index, blob_chunks.c.data)
        .where(
            blob_chunks.c.blob_id == blob_id,
            blob_chunks.c.chunk_index >= first,
            blob_chunks.c.chunk_index <= last,
        )
        .order_by(blob_chunks.c.chunk_index)
    )
    return [(int(i), bytes(d)) for i, d in (await conn.execute(query)).all()]


async def delete_chunks(conn: AsyncConnection, blob_id: str) -> None:
    await conn.execute(blob_chunks.delete().where(blob_chunks.c.blob_id == blob_id))


# --- key rotation -----------------------------------------------------------------------------


async def file_kek_counts(conn: AsyncConnection) -> dict[str, int]:
    """Wrapped file keys (account keys and blob keys) per KEK."""
    counts: dict[str, int] = {}
    for table in (file_account_keys, blobs):
        query = sa.select(table.c.kek_id, sa.func.count()).group_by(table.c.kek_id)
        for kid, n in (await conn.execute(query)).all():
            counts[kid] = counts.get(kid, 0) + int(n)
    return counts


async def account_keys_not_on(
    conn: AsyncConnection, kek_id: str, *, after_id: str | None, limit: int
) -> list[WrappedKey]:
    query = (
        sa.select(file_account_keys)
        .where(file_account_keys.c.kek_id != kek_id)
        .order_by(file_account_keys.c.account_id)
        .limit(limit)
    )
    if after_id is not None:
        query = query.where(file_account_keys.c.account_id > after_id)
    return [
        WrappedKey(r.account_id, r.account_id, r.kek_id, bytes(r.wrapped_key))
        for r in (await conn.execute(query)).all()
    ]


async def blob_keys_not_on(
    conn: AsyncConnection, kek_id: str, *, after_id: str | None, limit: int
) -> list[WrappedKey]:
    query = (
        sa.select(blobs.c.id, blobs.c.account_id, blobs.c.kek_id, blobs.c.wrapped_key)
        .where(blobs.c.kek_id != kek_id)
        .order_by(blobs.c.id)
        .limit(limit)
    )
    if after_id is not None:
        query = query.where(blobs.c.id > after_id)
    return [
        WrappedKey(r.id, r.account_id, r.kek_id, bytes(r.wrapped_key))
        for r in (await conn.execute(query)).all()
    ]


async def update_file_key_wrapping(
    conn: AsyncConnection,
    *,
    blob_keys: bool,
    rows: Sequence[tuple[WrappedKey, str, bytes]],
    now: datetime,
) -> int:
    """Store rewrapped keys: (old, new kek id, new wrapped key). Guarded by the old KEK id, so
    a concurrent rotation's work is never overwritten."""
    if not rows:
        return 0
    table = blobs if blob_keys else file_account_keys
    key_column = blobs.c.id if blob_keys else file_account_keys.c.account_id
    statement = (
        table.update()
        .where(key_column == sa.bindparam("b_id"), table.c.kek_id == sa.bindparam("b_old"))
        .values(
            kek_id=sa.bindparam("b_new"),
            wrapped_key=sa.bindparam("b_wrapped"),
            rewrapped_at=now,
        )
    )
    params = [
        {"b_id": old.owner_id, "b_old": old.kek_id, "b_new": kid, "b_wrapped": wrapped}
        for old, kid, wrapped in rows
    ]
    result = await conn.execute(statement, params)
    return int(result.rowcount)


# --- what the API needs -----------------------------------------------------------------------


@dataclass(frozen=True)
class CaseOfFiles:
    id: str
    account_id: str
    vendor: str
    updated_at: datetime
    removed_at: datetime | None


async def case_of_files(conn: AsyncConnection, case_id: str) -> CaseOfFiles:
    query = sa.select(
        cases.c.id, cases.c.account_id, cases.c.vendor, cases.c.updated_at, cases.c.removed_at
    ).where(cases.c.id == case_id)
    row = (await conn.execute(query)).first()
    if row is None:
        raise NotFoundError("no such case")
    return CaseOfFiles(*row)


async def listing_is_current(conn: AsyncConnection, case: CaseOfFiles) -> bool | None:
    """True when the case's files were listed since it last changed, None while a listing is
    pending, False otherwise (never listed, or listed before the case changed)."""
    row = (
        await conn.execute(
            sa.select(file_listings.c.requested_at, file_listings.c.case_updated_at).where(
                file_listings.c.case_id == case.id
            )
        )
    ).first()
    if row is None:
        return False
    if row.requested_at is not None:
        return None
    return row.case_updated_at is not None and row.case_updated_at >= case.updated_at


async def blobs_by_id(conn: AsyncConnection, blob_ids: Sequence[str]) -> dict[str, Blob]:
    if not blob_ids:
        return {}
    query = sa.select(blobs).where(blobs.c.id.in_(list(blob_ids)))
    return {b.id: b for b in (_blob(r) for r in (await conn.execute(query)).all())}
