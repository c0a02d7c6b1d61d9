"""Synced cases, setups and comments: idempotent upserts and their public JSON.

Each row keeps a content hash of what the portal showed, so a re-read that changed nothing is
recognised as such (no write, no event), and the listing row's own hash tells the sync engine
whether a case's detail needs fetching at all.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from json.encoder import c_make_encoder, encode_basestring_ascii  # type: ignore[attr-defined]
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.base import CaseStatus, CaseSummary, Comment, Setup
from connector.domain import EventType
from connector.errors import NotFoundError
from connector.store import events
from connector.store.driver import driver_plan
from connector.store.schema import accounts, cases, comments, setups

_ACTION_MARKER = re.compile(r"\[ref:(act_[0-9a-z]{26})\]")


class Change(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


# Statements run often are built once, with parameters: building them per call (coercing
# every value into the expression tree) cost more CPU than the database work itself.
_CASE_BY_ID = sa.select(cases).where(cases.c.id == sa.bindparam("b_id"))


def content_hash(value: Any) -> str:
    """SHA-256 of a canonical JSON encoding (sorted keys, ISO times): the bytes
    `json.dumps(value, sort_keys=True, separators=(",", ":"), default=_default)` gives, which
    every stored hash was made from.

    They come from the standard library's C encoder made once with those settings (what
    `json.dumps` makes anew on every call, with a `JSONEncoder` around it): 3.4 against 5.0 us
    for a case's summary. Values are trees built from one page's models, so the cycle check
    `json.dumps` also makes is left out."""
    if _canonical is None:  # no C accelerator (not CPython)
        encoded = json.dumps(value, sort_keys=True, separators=(",", ":"), default=_default)
    elif isinstance(value, str):
        encoded = encode_basestring_ascii(value)
    else:
        encoded = "".join(_canonical(value, 0))
    return hashlib.sha256(encoded.encode()).hexdigest()


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, StrEnum):
        return str(value)
    raise TypeError(f"cannot hash {type(value).__name__}")


#: `json.dumps`'s encoder for the canonical settings: no cycle check, `_default`, ASCII output,
#: no indent, `:` and `,`, sorted keys, no skipped keys, NaN allowed.
_canonical = (
    None
    if c_make_encoder is None
    else c_make_encoder(None, _default, encode_basestring_ascii, None, ":", ",", True, False, True)
)


def summary_values(summary: CaseSummary) -> dict[str, Any]:
    return {
        "patient_name": summary.patient_name,
        "patient_id": summary.patient_id,
        "vendor_doctor_id": summary.vendor_doctor_id,
        "vendor_doctor_name": summary.vendor_doctor_name,
        "status": str(summary.status),
        "vendor_status": summary.vendor_status,
        "action_required": summary.action_required,
        "unread_comments": summary.unread_comments,
        "vendor_updated_at": summary.updated_at,
    }


def summary_hash(summary: CaseSummary) -> str:
    return content_hash(summary_values(summary))


def setup_values(setup: Setup) -> dict[str, Any]:
    """A setup's stored values (what its content hash covers)."""
    return {
        "version": setup.version,
        "vendor_created_at": setup.created_at,
        "state": str(setup.state),
        "vendor_state": setup.vendor_state,
        "viewer_url": setup.viewer_url,
        "files": [{"name": f.name, "kind": f.kind, "size": f.size} for f in setup.files],
    }


def comment_values(comment: Comment) -> dict[str, Any]:
    """A comment's stored values; one the connector posted carries its action's marker."""
    action_id = connector_action_id(comment.body)
    return {
        "author_role": str(comment.author_role),
        "author_name": comment.author_name,
        "body": comment.body,
        "vendor_created_at": comment.created_at,
        "unread": comment.unread,
        "posted_by_connector": action_id is not None,
        "action_id": action_id,
    }


@dataclass(frozen=True)
class StoredCase:
    id: str
    summary_hash: str | None
    removed: bool


async def stored_cases(conn: AsyncConnection, account_id: str) -> dict[str, StoredCase]:
    """Every case of an account by vendor case id (removed ones too)."""
    rows = await driver_plan(_STORED, conn.dialect).rows(conn, {"b_account": account_id})
    return {
        number: StoredCase(id, digest, removed is not None) for id, number, digest, removed in rows
    }


#: Built once: every sync reads it when it starts.
_STORED = sa.select(
    cases.c.id, cases.c.vendor_case_id, cases.c.summary_hash, cases.c.removed_at
).where(cases.c.account_id == sa.bindparam("b_account"))


def connector_action_id(body: str) -> str | None:
    """The action id of the marker the connector appended, if the comment carries one."""
    match = _ACTION_MARKER.search(body)
    return match.group(1) if match else None


async def mark_removed(
    conn: AsyncConnection, account_id: str, present: Iterable[str], now: datetime
) -> list[str]:
    """Record as removed every live case of the account the complete listing did not contain.

    Only call this after a complete, successful listing: never on a partial one.
    """
    keep = set(present)
    query = sa.select(cases.c.id, cases.c.vendor_case_id).where(
        cases.c.account_id == account_id, cases.c.removed_at.is_(None)
    )
    gone = [r.id for r in (await conn.execute(query)).all() if r.vendor_case_id not in keep]
    if gone:
        await conn.execute(
            cases.update().where(cases.c.id.in_(gone)).values(removed_at=now, updated_at=now)
        )
    return gone


# --- public JSON (the API's resources, and event data) ----------------------------------------


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


_CASE_TIMES = ("vendor_created_at", "vendor_updated_at", "created_at", "updated_at", "removed_at")


def case_fields(m: Mapping[str, Any] | sa.RowMapping) -> dict[str, Any]:
    """The public view of a case row, its times left as datetimes: the one place that says what
    a case looks like. `case_json` (event data, the detail route) renders the times; the list
    route hands these to its model as they are."""
    return {
        "id": m["id"],
        "account_id": m["account_id"],
        "vendor": m["vendor"],
        "vendor_case_id": m["vendor_case_id"],
        "patient_name": m["patient_name"],
        "patient_id": m["patient_id"],
        "doctor": {"vendor_id": m["vendor_doctor_id"], "name": m["vendor_doctor_name"]},
        "practice_id": m["practice_id"],
        "status": m["status"],
        "vendor_status": m["vendor_status"],
        "action_required": m["action_required"],
        "unread_comments": m["unread_comments"],
        **{name: m[name] for name in _CASE_TIMES},
    }


def case_json_of(m: Mapping[str, Any] | sa.RowMapping) -> dict[str, Any]:
    """A case's public JSON from its row, or from the values just written."""
    fields = case_fields(m)
    for name in _CASE_TIMES:
        fields[name] = _iso(fields[name])
    return fields


def case_json(row: sa.Row[Any]) -> dict[str, Any]:
    return case_json_of(row._mapping)


def setup_json(row: sa.Row[Any]) -> dict[str, Any]:
    return setup_json_of(row._mapping)


def comment_json(row: sa.Row[Any]) -> dict[str, Any]:
    return comment_json_of(row._mapping)


def setup_json_of(m: Mapping[str, Any] | sa.RowMapping) -> dict[str, Any]:
    return {
        "id": m["id"],
        "case_id": m["case_id"],
        "vendor_setup_id": m["vendor_setup_id"],
        "version": m["version"],
        "state": m["state"],
        "vendor_state": m["vendor_state"],
        "viewer_url": m["viewer_url"],
        "files": list(m["files"] or []),
        "vendor_created_at": _iso(m["vendor_created_at"]),
        "created_at": _iso(m["created_at"]),
        "updated_at": _iso(m["updated_at"]),
    }


def comment_json_of(m: Mapping[str, Any] | sa.RowMapping) -> dict[str, Any]:
    return {
        "id": m["id"],
        "case_id": m["case_id"],
        "vendor_comment_id": m["vendor_comment_id"],
        "author_role": m["author_role"],
        "author_name": m["author_name"],
        "body": m["body"],
        "vendor_created_at": _iso(m["vendor_created_at"]),
        "unread": m["unread"],
        "posted_by_connector": m["posted_by_connector"],
        "action_id": m["action_id"],
        "created_at": _iso(m["created_at"]),
        "updated_at": _iso(m["updated_at"]),
    }


async def get_case_json(conn: AsyncConnection, case_id: str) -> dict[str, Any]:
    row = (await conn.execute(_CASE_BY_ID, {"b_id": case_id})).first()
    if row is None:
        raise NotFoundError(f"no case {case_id}")
    return case_json(row)


#: What the public JSON of a case needs (not the content hashes).
_CASE_COLUMNS = [c for c in cases.c if c.name not in ("summary_hash", "content_hash")]


async def case_setups_json(conn: AsyncConnection, case_id: str) -> list[dict[str, Any]]:
    query = sa.select(setups).where(setups.c.case_id == case_id).order_by(setups.c.version)
    return [setup_json(r) for r in (await conn.execute(query)).all()]


async def case_comments_json(conn: AsyncConnection, case_id: str) -> list[dict[str, Any]]:
    query = (
        sa.select(comments)
        .where(comments.c.case_id == case_id)
        .order_by(comments.c.vendor_created_at, comments.c.id)
    )
    return [comment_json(r) for r in (await conn.execute(query)).all()]


def _practice_content_hash(row: sa.Row[object], practice_id: str) -> str:
    """The case's content hash as the sync engine computes it (`case_pages.write_page`), so
    that the next sync does not see the new practice as a change of its own."""
    m = row._mapping
    summary = CaseSummary(
        vendor_case_id=m["vendor_case_id"],
        patient_name=m["patient_name"],
        patient_id=m["patient_id"],
        vendor_doctor_id=m["vendor_doctor_id"],
        vendor_doctor_name=m["vendor_doctor_name"],
        status=CaseStatus(m["status"]),
        vendor_status=m["vendor_status"],
        action_required=m["action_required"],
        unread_comments=m["unread_comments"],
        updated_at=m["vendor_updated_at"],
    )
    values = summary_values(summary)
    values["practice_id"] = practice_id
    values["vendor_created_at"] = m["vendor_created_at"]
    return content_hash(values)


async def assign_practice(
    conn: AsyncConnection, vendor: str, vendor_doctor_id: str, practice_id: str, now: datetime
) -> int:
    """Give the practice to the doctor's live cases on accounts without a practice of their
    own; one `case.updated` event per case that changed. Returns how many changed."""
    query = (
        sa.select(cases)
        .join(accounts, accounts.c.id == cases.c.account_id)
        .where(
            cases.c.vendor == vendor,
            cases.c.vendor_doctor_id == vendor_doctor_id,
            cases.c.removed_at.is_(None),
            accounts.c.practice_id.is_(None),
            sa.or_(cases.c.practice_id.is_(None), cases.c.practice_id != practice_id),
        )
        .order_by(cases.c.id)
    )
    rows = (await conn.execute(query)).all()
    for row in rows:
        await conn.execute(
            cases.update()
            .where(cases.c.id == row.id)
            .values(
                practice_id=practice_id,
                content_hash=_practice_content_hash(row, practice_id),
                updated_at=now,
            )
        )
        await events.append_event(
            conn,
            type=EventType.CASE_UPDATED,
            account_id=row.account_id,
            subject_id=row.id,
            data=await get_case_json(conn, row.id),
            now=now,
        )
    return len(rows)


@dataclass(frozen=True)
class CaseRef:
    """What an outbound action needs of a case (and of one of its setups)."""

    account_id: str
    vendor_case_id: str
    removed: bool
    vendor_setup_id: str | None = None


async def case_ref(conn: AsyncConnection, case_id: str, setup_id: str | None = None) -> CaseRef:
    """The case's owner and vendor ids; `NotFoundError` for an unknown case, or a setup that is
    not this case's."""
    row = (
        await conn.execute(
            sa.select(cases.c.account_id, cases.c.vendor_case_id, cases.c.removed_at).where(
                cases.c.id == case_id
            )
        )
    ).first()
    if row is None:
        raise NotFoundError(f"no case {case_id}")
    vendor_setup_id = None
    if setup_id is not None:
        setup = (
            await conn.execute(
                sa.select(setups.c.case_id, setups.c.vendor_setup_id).where(setups.c.id == setup_id)
            )
        ).first()
        if setup is None or setup.case_id != case_id:
            raise NotFoundError(f"no setup {setup_id} on case {case_id}")
        vendor_setup_id = setup.vendor_setup_id
    return CaseRef(row.account_id, row.vendor_case_id, row.removed_at is not None, vendor_setup_id)
