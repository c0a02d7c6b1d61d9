"""What happens to cases while time passes: the tick, and the events it is made of.

A tick is one hour of virtual time. Each case draws against a rate that depends on who it waits
for (the technician picks up modification requests quickly, doctors review plans slowly), which
averages to about 5% of cases changing per tick. Randomness comes from a generator seeded with
the data seed and the tick number, so the same seed and the same ticks (and the same client
actions in between) give the same portal.
"""

from __future__ import annotations

import random
from datetime import datetime

from sandbox.invisalign import flow, texts
from sandbox.invisalign.data import (
    APPROVED,
    CANCELLED,
    CLINCHECK_IN_PROGRESS,
    CLINCHECK_READY,
    CONDITIONS,
    IN_PRODUCTION,
    IN_TREATMENT,
    MODIFICATION_REQUESTED,
    ON_HOLD,
    PACKAGES,
    PHASE_2,
    SHIPPED,
    SUBMITTED,
    Case,
    StatusChange,
    Treatment,
)
from sandbox.invisalign.flow import Author, Change
from sandbox.invisalign.store import Dataset

# Chance per tick that a case in this status changes.
RATES: dict[str, float] = {
    SUBMITTED: 0.08,
    CLINCHECK_IN_PROGRESS: 0.08,
    CLINCHECK_READY: 0.03,
    MODIFICATION_REQUESTED: 0.4,
    APPROVED: 0.08,
    IN_PRODUCTION: 0.05,
    SHIPPED: 0.05,
    IN_TREATMENT: 0.005,
    ON_HOLD: 0.05,
    CANCELLED: 0.0,
}
NEW_PATIENT_RATE = 0.2

# Events a case can go through; the generator replays them to build histories.
START = "start"
PUBLISH = "publish"
MODIFY = "modify"
APPROVE = "approve"
PRODUCE = "produce"
SHIP = "ship"
TREAT = "treat"
HOLD = "hold"
RELEASE = "release"
CANCEL = "cancel"
COMMENT = "comment"


def tick_rng(seed: int, tick: int) -> random.Random:
    return random.Random(f"invisalign:{seed}:tick:{tick}")


def run_tick(ds: Dataset, seed: int, tick: int, at: datetime) -> list[Change]:
    """Apply one tick's events at virtual time `at`; return what changed, in order."""
    rng = tick_rng(seed, tick)
    changes: list[Change] = []
    for case in list(ds.cases.values()):
        if rng.random() < RATES.get(case.status, 0.0):
            changes += apply(ds, case, next_event(case, rng), at, rng)
    if ds.doctors and rng.random() < NEW_PATIENT_RATE:
        doctor_id = rng.choice(sorted(ds.doctors))
        changes += new_patient(ds, doctor_id, rng, at)[1]
    return changes


def next_event(case: Case, rng: random.Random) -> str:
    """What happens next to a case in its status (the tick's choice)."""
    roll = rng.random()
    status = case.status
    if status == SUBMITTED:
        return START if roll < 0.85 else HOLD if roll < 0.95 else COMMENT
    if status == CLINCHECK_IN_PROGRESS:
        return PUBLISH if roll < 0.85 else COMMENT
    if status == CLINCHECK_READY:
        return APPROVE if roll < 0.45 else MODIFY if roll < 0.8 else COMMENT
    if status == ON_HOLD:
        return RELEASE if roll < 0.7 else COMMENT
    return _FORWARD.get(status, COMMENT)


_FORWARD = {
    MODIFICATION_REQUESTED: START,
    APPROVED: PRODUCE,
    IN_PRODUCTION: SHIP,
    SHIPPED: TREAT,
}
_SIMPLE_STATUS = {
    PRODUCE: IN_PRODUCTION,
    SHIP: SHIPPED,
    TREAT: IN_TREATMENT,
    RELEASE: CLINCHECK_IN_PROGRESS,
    CANCEL: CANCELLED,
}


def apply(ds: Dataset, case: Case, event: str, at: datetime, rng: random.Random) -> list[Change]:
    """Apply one event at `at`; the doctor (or a staff user) acts for review events."""
    setup = case.current_setup
    if event == START:
        return flow.start_clincheck(ds, case, at)
    if event == PUBLISH:
        return flow.publish_plan(ds, case, at, rng)
    if event == MODIFY and setup is not None:
        body = rng.choice(texts.MODIFICATION_INSTRUCTIONS)
        return flow.request_modification(ds, case, setup, _reviewer(ds, case, rng), body, at)[1]
    if event == APPROVE and setup is not None:
        return flow.approve(ds, case, setup, at)
    if event in _SIMPLE_STATUS:
        return flow.set_status(ds, case, _SIMPLE_STATUS[event], at)
    if event == HOLD:
        note = texts.TECHNICIAN_COMMENTS[2]
        changes = flow.set_status(ds, case, ON_HOLD, at)
        return changes + flow.add_comment(ds, case, flow.technician(rng), note, at)[1]
    author, body = _chatter(ds, case, rng)
    return flow.add_comment(ds, case, author, body, at)[1]


def new_patient(
    ds: Dataset, doctor_id: str, rng: random.Random, at: datetime
) -> tuple[Case, list[Change]]:
    """The doctor submits a new patient (prescription and records): a Submitted case."""
    case = Case(
        case_id=ds.new_patient_id(rng),
        doctor_id=doctor_id,
        patient_first=rng.choice(texts.FIRST_NAMES),
        patient_last=rng.choice(texts.LAST_NAMES),
        status=SUBMITTED,
        created_at=at,
        updated_at=at,
    )
    case.history.append(StatusChange(SUBMITTED, at))
    dress(case)
    ds.add_case(case)
    detail = {"patient_name": case.patient_name, "status": SUBMITTED, "doctor_id": doctor_id}
    return case, [Change(case.case_id, "case_added", detail)]


def dress(case: Case) -> None:
    """The patient's treatment package, clinical conditions and memo, and for some an earlier
    finished treatment (then this one is its Phase 2). Drawn from the patient number alone, so
    adding them left every other random draw (and so every seed's data) as it was."""
    rng = random.Random(f"invisalign:treatment:{case.case_id}")
    case.conditions = tuple(sorted(rng.sample(CONDITIONS, rng.choice((1, 1, 2)))))
    case.notes = rng.choice(("", "", "", *texts.PATIENT_NOTES))
    if rng.random() < 0.15:
        case.earlier = [Treatment(PACKAGES[0])]
        case.package = PHASE_2
    else:
        case.package = rng.choices(PACKAGES, (6, 2, 1, 1))[0]


def _reviewer(ds: Dataset, case: Case, rng: random.Random) -> Author:
    """Who reviews a plan: usually the doctor, sometimes a staff user who may.

    Scenario logins stand for the TPS's own logins, so the simulated practice never writes as them.
    """
    staff = [s for s in ds.staff(case.doctor_id) if s.can_post and s.scenario is None]
    if staff and rng.random() < 0.25:
        person = rng.choice(staff)
        return Author("staff", person.display_name, person.username)
    return _doctor(ds, case)


def _doctor(ds: Dataset, case: Case) -> Author:
    owner = ds.owner(case.doctor_id)
    name = owner.display_name if owner else ds.doctors[case.doctor_id].name
    return Author("doctor", name, owner.username if owner else None)


def _chatter(ds: Dataset, case: Case, rng: random.Random) -> tuple[Author, str]:
    roll = rng.random()
    if roll < 0.4:
        return flow.technician(rng), rng.choice(texts.TECHNICIAN_COMMENTS[:2])
    if roll < 0.8:
        return _doctor(ds, case), rng.choice(texts.DOCTOR_COMMENTS)
    reviewer = _reviewer(ds, case, rng)
    if reviewer.role == "staff":
        return reviewer, rng.choice(texts.STAFF_COMMENTS)
    return reviewer, rng.choice(texts.DOCTOR_COMMENTS)
