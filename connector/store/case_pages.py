"""Writing a listing page's case details in one go: the sync engine's hot path.

A page of up to a hundred cases is written with a constant number of statements, whatever its
size: one query for the cases already stored, one for their setups, one for their comments,
then inserts (`connector.store.bulk`: COPY on PostgreSQL) and `executemany` updates, and every
event built from the values in hand (no re-read of what was just written). The rules are
`connector.store.cases`' (what changed, what a case's JSON looks like); this module only does
them for many cases at once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.base import CaseDetail, SetupState
from connector.domain import EventType
from connector.store.bulk import insert_rows
from connector.store.cases import (
    Change,
    case_json_of,
    comment_json_of,
    comment_values,
    content_hash,
    setup_json_of,
    setup_values,
    summary_hash,
    summary_values,
)
from connector.store.ids import new_id
from connector.store.schema import cases, comments, setups

_CASE_UPDATE = cases.update().where(cases.c.id == sa.bindparam("b_id"))
_SETUP_UPDATE = setups.update().where(setups.c.id == sa.bindparam("b_id"))
_COMMENT_UPDATE = comments.update().where(comments.c.id == sa.bindparam("b_id"))
# What a page's cases already have stored, built once (building them per page cost more than
# running them): the numbers and case ids go in as expanding parameters.
_STORED_CASES = sa.select(
    cases.c.id, cases.c.vendor_case_id, cases.c.content_hash, cases.c.removed_at, cases.c.created_at
).where(
    cases.c.account_id == sa.bindparam("b_account"),
    cases.c.vendor_case_id.in_(sa.bindparam("b_numbers", expanding=True)),
)
_STORED_SETUPS = sa.select(
    setups.c.id,
    setups.c.case_id,
    setups.c.vendor_setup_id,
    setups.c.content_hash,
    setups.c.state,
    setups.c.created_at,
).where(setups.c.case_id.in_(sa.bindparam("b_cases", expanding=True)))
_STORED_COMMENTS = sa.select(
    comments.c.id,
    comments.c.case_id,
    comments.c.vendor_comment_id,
    comments.c.content_hash,
    comments.c.created_at,
).where(comments.c.case_id.in_(sa.bindparam("b_cases", expanding=True)))


@dataclass(frozen=True)
class CaseWrite:
    """One case detail to store, with the practice it belongs to."""

    detail: CaseDetail
    practice_id: str | None


@dataclass
class PageWrite:
    """What a page's write changed: counts and the events to append (type, subject, data)."""

    changes: dict[str, Change] = field(default_factory=dict)  # vendor case id -> change
    ids: dict[str, str] = field(default_factory=dict)  # vendor case id -> case id
    #: vendor case id -> the listing row's hash now stored (`summary_hash`)
    summary_hashes: dict[str, str] = field(default_factory=dict)
    events: list[tuple[EventType, str, dict[str, Any]]] = field(default_factory=list)


async def write_page(
    conn: AsyncConnection,
    *,
    account_id: str,
    vendor: str,
    items: Sequence[CaseWrite],
    now: datetime,
    first_sync: bool,
) -> PageWrite:
    """Upsert the cases with their setups and comments, and say which events that makes: a new
    case is `case.created` (it brings its history: no setup or comment events); a changed one
    is `case.updated`; after an account's first sync, a setup that became reviewable is
    `setup.ready_for_review` and a new comment not posted by the connector `comment.received`.
    A case that comes back after removal is revived."""
    result = PageWrite()
    if not items:
        return result
    numbers = [item.detail.summary.vendor_case_id for item in items]
    existing = {
        r.vendor_case_id: r
        for r in (
            await conn.execute(_STORED_CASES, {"b_account": account_id, "b_numbers": numbers})
        ).all()
    }
    known_ids = [r.id for r in existing.values()]
    old_setups: dict[str, dict[str, Any]] = {}  # case id -> vendor setup id -> row
    old_comments: dict[str, dict[str, Any]] = {}  # case id -> vendor comment id -> row
    if known_ids:
        for r in (await conn.execute(_STORED_SETUPS, {"b_cases": known_ids})).all():
            old_setups.setdefault(r.case_id, {})[r.vendor_setup_id] = r
        comment_rows = (await conn.execute(_STORED_COMMENTS, {"b_cases": known_ids})).all()
        for c in comment_rows:
            old_comments.setdefault(c.case_id, {})[c.vendor_comment_id] = c

    case_inserts: list[dict[str, Any]] = []
    case_updates: list[dict[str, Any]] = []
    hash_updates: list[dict[str, Any]] = []
    setup_inserts: list[dict[str, Any]] = []
    setup_updates: list[dict[str, Any]] = []
    comment_inserts: list[dict[str, Any]] = []
    comment_updates: list[dict[str, Any]] = []
    events = result.events
    for item in items:
        summary = item.detail.summary
        values = summary_values(summary)
        values["practice_id"] = item.practice_id
        values["vendor_created_at"] = item.detail.created_at
        digest = content_hash(values)
        listed = summary_hash(summary)
        row = existing.get(summary.vendor_case_id)
        base = {
            "account_id": account_id,
            "vendor": vendor,
            "vendor_case_id": summary.vendor_case_id,
        }
        if row is None:
            case_id = new_id("case")
            record = {
                "id": case_id,
                **base,
                "summary_hash": listed,
                "content_hash": digest,
                "created_at": now,
                "updated_at": now,
                "removed_at": None,
                **values,
            }
            case_inserts.append(record)
            change = Change.CREATED
            events.append((EventType.CASE_CREATED, case_id, case_json_of(record)))
        elif row.content_hash == digest and row.removed_at is None:
            case_id = row.id
            hash_updates.append({"b_id": case_id, "summary_hash": listed})
            change = Change.UNCHANGED
        else:
            case_id = row.id
            update = {
                "summary_hash": listed,
                "content_hash": digest,
                "updated_at": now,
                "removed_at": None,
                **values,
            }
            case_updates.append({"b_id": case_id, **update})
            change = Change.UPDATED
            record = {"id": case_id, **base, "created_at": row.created_at, **update}
            events.append((EventType.CASE_UPDATED, case_id, case_json_of(record)))
        result.changes[summary.vendor_case_id] = change
        result.ids[summary.vendor_case_id] = case_id
        result.summary_hashes[summary.vendor_case_id] = listed
        quiet = change is Change.CREATED or first_sync  # a new case brings its history
        case_setups = old_setups.get(case_id, {})
        for setup in item.detail.setups:
            values = setup_values(setup)
            digest = content_hash(values)
            old = case_setups.get(setup.vendor_setup_id)
            if old is None:
                setup_id = new_id("setup")
                record = {
                    "id": setup_id,
                    "case_id": case_id,
                    "vendor_setup_id": setup.vendor_setup_id,
                    "content_hash": digest,
                    "created_at": now,
                    "updated_at": now,
                    **values,
                }
                setup_inserts.append(record)
                reviewable = setup.state == SetupState.IN_REVIEW
            elif old.content_hash != digest:
                update = {"content_hash": digest, "updated_at": now, **values}
                setup_updates.append({"b_id": old.id, **update})
                record = {
                    "id": old.id,
                    "case_id": case_id,
                    "vendor_setup_id": setup.vendor_setup_id,
                    "created_at": old.created_at,
                    **update,
                }
                reviewable = (
                    setup.state == SetupState.IN_REVIEW and old.state != SetupState.IN_REVIEW
                )
            else:
                continue
            if reviewable and not quiet:
                events.append(
                    (EventType.SETUP_READY_FOR_REVIEW, record["id"], setup_json_of(record))
                )
        case_comments = old_comments.get(case_id, {})
        for comment in item.detail.comments:
            values = comment_values(comment)
            digest = content_hash(values)
            old = case_comments.get(comment.vendor_comment_id)
            if old is None:
                comment_id = new_id("cmt")
                record = {
                    "id": comment_id,
                    "case_id": case_id,
                    "vendor_comment_id": comment.vendor_comment_id,
                    "content_hash": digest,
                    "created_at": now,
                    "updated_at": now,
                    **values,
                }
                comment_inserts.append(record)
                if not quiet and not values["posted_by_connector"]:
                    events.append((EventType.COMMENT_RECEIVED, comment_id, comment_json_of(record)))
            elif old.content_hash != digest:
                comment_updates.append(
                    {"b_id": old.id, "content_hash": digest, "updated_at": now, **values}
                )
    await insert_rows(conn, cases, case_inserts)
    await _update_many(conn, _CASE_UPDATE, case_updates)
    await _update_many(conn, _CASE_UPDATE, hash_updates)
    await insert_rows(conn, setups, setup_inserts)
    await _update_many(conn, _SETUP_UPDATE, setup_updates)
    await insert_rows(conn, comments, comment_inserts)
    await _update_many(conn, _COMMENT_UPDATE, comment_updates)
    return result


async def _update_many(
    conn: AsyncConnection, statement: sa.Update, rows: list[dict[str, Any]]
) -> None:
    """`executemany` wants every row to set the same columns: group the rows by their keys."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(tuple(sorted(row)), []).append(row)
    for group in groups.values():
        await conn.execute(statement, group)


def practice_lookup(
    practice_id: str | None, mapped: Mapping[str, str], doctor_id: str | None
) -> str | None:
    """The account's own practice, else the practice mapped to the case's doctor."""
    if practice_id is not None:
        return practice_id
    return mapped.get(doctor_id) if doctor_id else None
