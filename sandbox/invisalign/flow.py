"""How a case moves through the Invisalign flow, one function per event.

The generator replays these to build each case's history, the tick applies them as time passes,
and the portal's routes apply the ones users trigger (comment, modification request, approval),
so a case only ever holds histories the real site could show. Each function returns the changes
it made, in the vocabulary of the admin change log.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sandbox.invisalign import texts
from sandbox.invisalign.data import (
    APPROVED,
    CLINCHECK_IN_PROGRESS,
    CLINCHECK_READY,
    MODIFICATION_REQUESTED,
    PLAN_APPROVED,
    PLAN_MODIFICATION_REQUESTED,
    PLAN_READY,
    PLAN_SUPERSEDED,
    AuthorRole,
    Case,
    Comment,
    CommentKind,
    PlanFile,
    Setup,
    StatusChange,
)
from sandbox.invisalign.store import Dataset


@dataclass(frozen=True)
class Change:
    case_id: str
    kind: str  # case_added, status_changed, setup_added, comment_added, setup_state_changed
    detail: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {"case_id": self.case_id, "kind": self.kind, "detail": self.detail}


@dataclass(frozen=True)
class Author:
    role: AuthorRole
    name: str
    username: str | None = None


def technician(rng: random.Random) -> Author:
    return Author("technician", rng.choice(texts.TECHNICIANS))


def set_status(ds: Dataset, case: Case, status: str, at: datetime) -> list[Change]:
    previous = case.status
    case.status = status
    case.history.append(StatusChange(status, at))
    _touch(ds, case, at)
    return [Change(case.case_id, "status_changed", {"from": previous, "to": status})]


def add_comment(
    ds: Dataset,
    case: Case,
    author: Author,
    body: str,
    at: datetime,
    kind: CommentKind = "comment",
    setup_id: str | None = None,
) -> tuple[Comment, list[Change]]:
    comment = Comment(
        comment_id=ds.new_comment_id(),
        kind=kind,
        author_role=author.role,
        author_name=author.name,
        author_username=author.username,
        body=body,
        created_at=at,
        setup_id=setup_id,
        read_by={author.username.lower()} if author.username else set(),
    )
    case.comments.append(comment)
    _touch(ds, case, at)
    detail = {"comment_id": comment.comment_id, "author_role": author.role, "kind": kind}
    return comment, [Change(case.case_id, "comment_added", detail)]


def start_clincheck(ds: Dataset, case: Case, at: datetime) -> list[Change]:
    """The technician picks up a new submission or a modification request."""
    return set_status(ds, case, CLINCHECK_IN_PROGRESS, at)


def publish_plan(ds: Dataset, case: Case, at: datetime, rng: random.Random) -> list[Change]:
    """A new ClinCheck plan version is ready; a plan still waiting for review is superseded."""
    changes: list[Change] = []
    for old in case.setups:
        if old.state == PLAN_READY:
            old.state = PLAN_SUPERSEDED
            changes.append(_state_change(case, old))
    version = len(case.setups) + 1
    setup = Setup(ds.new_setup_id(), version, at, PLAN_READY, plan_files(case, version, rng))
    case.setups.append(setup)
    _touch(ds, case, at)
    detail = {"setup_id": setup.setup_id, "version": version, "state": setup.state}
    changes.append(Change(case.case_id, "setup_added", detail))
    changes += set_status(ds, case, CLINCHECK_READY, at)
    note = rng.choice(texts.PLAN_READY_NOTES).format(version=version)
    changes += add_comment(ds, case, technician(rng), note, at, setup_id=setup.setup_id)[1]
    return changes


def request_modification(
    ds: Dataset, case: Case, setup: Setup, author: Author, instructions: str, at: datetime
) -> tuple[Comment, list[Change]]:
    """The reviewer sends the current plan back with instructions (Invisalign's "reject")."""
    setup.state = PLAN_MODIFICATION_REQUESTED
    changes = [_state_change(case, setup)]
    changes += set_status(ds, case, MODIFICATION_REQUESTED, at)
    comment, added = add_comment(
        ds, case, author, instructions, at, kind="modification_request", setup_id=setup.setup_id
    )
    return comment, changes + added


def approve(ds: Dataset, case: Case, setup: Setup, at: datetime) -> list[Change]:
    setup.state = PLAN_APPROVED
    return [_state_change(case, setup), *set_status(ds, case, APPROVED, at)]


def reviewable(case: Case, setup: Setup) -> bool:
    """Only the latest plan, while it waits for review, can be approved or sent back."""
    return (
        case.status == CLINCHECK_READY and setup is case.current_setup and setup.state == PLAN_READY
    )


def plan_files(case: Case, version: int, rng: random.Random) -> list[PlanFile]:
    stem = f"{case.patient_last}_{case.case_id}_v{version}"
    files = [
        PlanFile(f"ClinCheck_{stem}.pdf", "Treatment overview", rng.randint(400_000, 2_400_000)),
        PlanFile(f"Staging_{stem}.zip", "3D staging models", rng.randint(8_000_000, 60_000_000)),
    ]
    if rng.random() < 0.5:
        files.append(PlanFile(f"IPR_{stem}.pdf", "IPR form", rng.randint(90_000, 300_000)))
    return files


def _state_change(case: Case, setup: Setup) -> Change:
    detail = {"setup_id": setup.setup_id, "version": setup.version, "state": setup.state}
    return Change(case.case_id, "setup_state_changed", detail)


def _touch(ds: Dataset, case: Case, at: datetime) -> None:
    if at > case.updated_at:
        case.updated_at = at
    ds.touched(case)
