"""What happens on the portal while virtual time passes: one tick step = one virtual hour.

Each step draws from a generator seeded by (seed, tick number), so the same seed and the same
ticks (and the same client actions in between) give the same portal. A step:
1. answers every setup a client declined since the last step with a new setup version (the
   technician's turnaround), bringing the case back to Evaluating Treatment Setup;
2. moves about 5% of the open cases one step along their lifecycle (new setups, approvals and
   declines by the doctor, production, shipping, holds, chat messages);
3. sometimes adds a new case, and sometimes a doctor stops sharing a case with a partner (the
   case then disappears from that partner's list: a connector has to notice removals).
Every change is returned as `{case_id, kind, detail}` so a sync test can derive what to expect.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from sandbox.clearcorrect import names
from sandbox.clearcorrect.data import (
    APPROVED,
    AWAITING_RECORDS,
    AWAITING_SETUP,
    CLOSED,
    CLOSED_GROUP,
    EVALUATING,
    HOLD,
    IN_PRODUCTION,
    IN_TREATMENT,
    SETUP_APPROVED,
    SETUP_AWAITING,
    SETUP_DECLINED,
    SETUP_SUPERSEDED,
    SHIPPED,
    Case,
    Comment,
    PortalData,
    Role,
)
from sandbox.clearcorrect.generator import (
    add_setup,
    decide_setup,
    make_case,
    random_comment,
    receive_records,
)

STEP = timedelta(hours=1)
CHANGE_RATE = 0.05
NEW_CASE_RATE = 0.3
UNSHARE_RATE = 0.2
HOLD_RATE = 0.03

_NEXT = {APPROVED: IN_PRODUCTION, IN_PRODUCTION: SHIPPED, SHIPPED: IN_TREATMENT}

Change = dict[str, Any]


def change(case_id: str, kind: str, **detail: Any) -> Change:
    return {"case_id": case_id, "kind": kind, "detail": detail}


def step_rng(seed: int, tick: int) -> random.Random:
    return random.Random(f"clearcorrect:{seed}:tick:{tick}")


def run_step(data: PortalData, rng: random.Random, now: datetime) -> list[Change]:
    """Apply one virtual hour to `data`; return what changed, in order."""
    changes: list[Change] = []
    answered: set[str] = set()
    due, data.resetup_due = data.resetup_due, []
    for case_id in dict.fromkeys(due):
        case = data.cases.get(case_id)
        if case is not None and case.status == AWAITING_SETUP:
            changes += _share_new_setup(data, rng, case, now)
            answered.add(case_id)
    open_cases = [
        c for c in data.cases.values() if c.group != CLOSED_GROUP and c.case_id not in answered
    ]
    count = min(len(open_cases), max(1, round(len(data.cases) * CHANGE_RATE)))
    for index in sorted(rng.sample(range(len(open_cases)), count)):
        changes += _advance(data, rng, open_cases[index], now)
    if data.doctors and rng.random() < NEW_CASE_RATE:
        changes.append(_new_case(data, rng, now))
    if rng.random() < UNSHARE_RATE:
        changes += _unshare(data, rng)
    return changes


def _status(case: Case, status: str, now: datetime) -> Change:
    previous = case.set_status(status, now)
    return change(case.case_id, "status_changed", **{"from": previous, "to": status})


def _setup_state(case: Case, setup_id: str, before: str, after: str) -> Change:
    return change(
        case.case_id, "setup_state_changed", setup_id=setup_id, **{"from": before, "to": after}
    )


def _comment(case: Case, comment: Comment) -> Change:
    return change(
        case.case_id,
        "comment_added",
        comment_id=comment.comment_id,
        author_role=comment.author_role,
    )


def _share_new_setup(
    data: PortalData, rng: random.Random, case: Case, now: datetime
) -> list[Change]:
    """The technician shares a new version: setup added, case back to Evaluating, a note."""
    changes = [
        _setup_state(case, s.setup_id, SETUP_AWAITING, SETUP_SUPERSEDED)
        for s in case.setups
        if s.state == SETUP_AWAITING
    ]
    setup = add_setup(data, rng, case, now)
    changes.append(
        change(case.case_id, "setup_added", setup_id=setup.setup_id, version=setup.version)
    )
    if case.status != EVALUATING:  # a revised version while evaluating keeps the status
        changes.append(_status(case, EVALUATING, now))
    comment = random_comment(data, rng, case, now, role="technician")
    comment.body = f"Setup version {setup.version} is ready for your review."
    changes.append(_comment(case, comment))
    return changes


def _advance(data: PortalData, rng: random.Random, case: Case, now: datetime) -> list[Change]:
    """One realistic move of an open case, chosen by its status."""
    roll = rng.random()
    status = case.status
    if status != HOLD and roll < HOLD_RATE:
        return [_status(case, HOLD, now)]
    if status == AWAITING_RECORDS:
        if roll < 0.6:
            receive_records(data, rng, case, now)
            return [_status(case, AWAITING_SETUP, now)]
    elif status == AWAITING_SETUP:
        if roll < 0.7:
            return _share_new_setup(data, rng, case, now)
    elif status == EVALUATING:
        current = case.setups[-1] if case.setups else None
        if current is not None and current.state == SETUP_AWAITING and roll < 0.45:
            doctor = data.doctors[case.doctor_id].name
            if roll < 0.3:
                decide_setup(current, SETUP_APPROVED, doctor, now)
                to, status_to = SETUP_APPROVED, APPROVED
            else:
                decide_setup(
                    current, SETUP_DECLINED, doctor, now, rng.choice(names.DECLINE_REASONS)
                )
                to, status_to = SETUP_DECLINED, AWAITING_SETUP
            return [
                _setup_state(case, current.setup_id, SETUP_AWAITING, to),
                _status(case, status_to, now),
            ]
        if roll < 0.55:
            return _share_new_setup(data, rng, case, now)
    elif status in _NEXT:
        return [_status(case, _NEXT[status], now)]
    elif status == IN_TREATMENT:
        if roll < 0.25:
            return [_status(case, CLOSED, now)]
    elif status == HOLD and roll < 0.6:
        earlier = [h.status for h in case.status_history if h.status != HOLD]
        return [_status(case, earlier[-1] if earlier else AWAITING_RECORDS, now)]
    role: Role = "technician" if rng.random() < 0.5 else "doctor"
    return [_comment(case, random_comment(data, rng, case, now, role=role))]


def _new_case(data: PortalData, rng: random.Random, now: datetime) -> Change:
    doctor_id = rng.choice(sorted(data.doctors))
    status = rng.choice((AWAITING_RECORDS, AWAITING_SETUP))
    age = timedelta(minutes=rng.randrange(5, 55))
    case = make_case(data, rng, doctor_id, now, status=status, age=age, chat=False)
    return change(
        case.case_id,
        "case_added",
        doctor_id=doctor_id,
        status=status,
        shared_with=sorted(case.shares),
    )


def _unshare(data: PortalData, rng: random.Random) -> list[Change]:
    """A doctor stops sharing one case with one partner."""
    shared = [c for c in data.cases.values() if c.shares]
    if not shared:
        return []
    case = rng.choice(shared)
    username = rng.choice(sorted(case.shares))
    del case.shares[username]
    return [change(case.case_id, "case_unshared", username=username)]
