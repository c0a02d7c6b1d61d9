"""The deterministic generator: N practices x M patients, plus the fixed scenario practice.

Each case's history is built by replaying the same flow events a tick applies (submitted,
ClinCheck in progress, plan versions, modification requests, approval, production...), spread
over the months before the virtual clock's start, so every generated history is one the site
could show. Only `random.Random` instances seeded from the data seed are used: the same seed
gives the same dump. The scenario practice uses its own fixed seed, so it is identical whatever
the data seed, and is generated first, so its ids never move.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Literal

from sandbox.invisalign import activity, texts
from sandbox.invisalign.activity import (
    APPROVE,
    CANCEL,
    COMMENT,
    HOLD,
    MODIFY,
    PRODUCE,
    PUBLISH,
    SHIP,
    START,
    TREAT,
)
from sandbox.invisalign.data import (
    APPROVED,
    CANCELLED,
    CLINCHECK_IN_PROGRESS,
    CLINCHECK_READY,
    COMPREHENSIVE,
    IN_PRODUCTION,
    IN_TREATMENT,
    MODIFICATION_REQUESTED,
    ON_HOLD,
    PATIENT_MANAGEMENT,
    PAYMENT_MANAGEMENT,
    PHASE_2,
    PRESCRIPTION_MANAGEMENT,
    SHIPPED,
    SUBMITTED,
    TRAINING_ACCESS,
    TREATMENT_MANAGEMENT,
    Case,
    Doctor,
    Login,
    Treatment,
)
from sandbox.invisalign.scenarios import SCENARIOS
from sandbox.invisalign.store import Dataset

# Share of generated cases per status (the real distribution leans to cases in treatment).
STATUS_WEIGHTS: dict[str, int] = {
    SUBMITTED: 8,
    CLINCHECK_IN_PROGRESS: 12,
    CLINCHECK_READY: 18,
    MODIFICATION_REQUESTED: 7,
    APPROVED: 8,
    IN_PRODUCTION: 8,
    SHIPPED: 7,
    IN_TREATMENT: 24,
    ON_HOLD: 4,
    CANCELLED: 4,
}

SCENARIO_DOCTOR = Doctor("100001", "Dr. Alex Morgan", "Smile Dental")
SCENARIO_DOCTOR_USERNAME = "dr.morgan@smile-dental.example"
SCENARIO_DOCTOR_PASSWORD = "Morgan-Doctor-2026"
# A second staff user of the scenario practice who may view patients but not post or approve.
SCENARIO_COORDINATOR = Login(
    "coordinator@smile-dental.example",
    "Coordinator-View-2026",
    "staff",
    "Chris",
    "Moreau",
    SCENARIO_DOCTOR.doctor_id,
    roles=(PATIENT_MANAGEMENT, PAYMENT_MANAGEMENT),
)
# The scenario practice's patients, by status: two plans to review, the rest spread out.
SCENARIO_CASE_STATUSES: tuple[str, ...] = (
    CLINCHECK_READY,
    CLINCHECK_READY,
    CLINCHECK_IN_PROGRESS,
    SUBMITTED,
    ON_HOLD,
    IN_TREATMENT,
)


@dataclass(frozen=True)
class ScenarioProfile:
    """How the portal treats one scenario login (the public table only names the outcome)."""

    first_name: str
    last_name: str
    roles: tuple[str, ...]
    mfa: Literal["email", "totp"] | None = None
    password_expired: bool = False
    locked: bool = False


SCENARIO_PROFILES: dict[str, ScenarioProfile] = {
    "good": ScenarioProfile("Robin", "Ellis", (PRESCRIPTION_MANAGEMENT,)),
    "email_code": ScenarioProfile("Sam", "Okafor", (PRESCRIPTION_MANAGEMENT,), mfa="email"),
    "totp": ScenarioProfile("Kim", "Novak", (PRESCRIPTION_MANAGEMENT,), mfa="totp"),
    "locked": ScenarioProfile("Jo", "Haddad", (PRESCRIPTION_MANAGEMENT,), locked=True),
    "excess": ScenarioProfile("Dana", "Rossi", (PRESCRIPTION_MANAGEMENT, TREATMENT_MANAGEMENT)),
    "no_view": ScenarioProfile("Pat", "Lindqvist", (PAYMENT_MANAGEMENT, TRAINING_ACCESS)),
    "expired": ScenarioProfile("Lee", "Tanaka", (PRESCRIPTION_MANAGEMENT,), password_expired=True),
}


def generate(
    practices: int,
    cases_per_practice: int,
    seed: int,
    now: datetime,
    language: str | None = None,
) -> Dataset:
    """`language`: the profile language of every login (None: each follows its browser)."""
    ds = Dataset()
    _scenario_practice(ds, now)
    rng = random.Random(f"invisalign:{seed}:data")
    doctor_ids = {SCENARIO_DOCTOR.doctor_id}
    slugs = {"smile-dental"}
    for _ in range(practices):
        doctor_id = _unique(lambda: str(rng.randint(100_000, 999_999)), doctor_ids)
        first, last = rng.choice(texts.FIRST_NAMES), rng.choice(texts.LAST_NAMES)
        city = rng.choice(texts.CITIES)
        practice = rng.choice(texts.PRACTICE_PATTERNS).format(last=last, city=city)
        slug = _slug(practice)
        if slug in slugs:
            slug = f"{slug}-{doctor_id}"
        slugs.add(slug)
        ds.add_doctor(Doctor(doctor_id, f"Dr. {first} {last}", practice))
        username = f"dr.{_slug(last)}@{slug}.example"
        ds.add_login(Login(username, _password(rng), "doctor", first, last, doctor_id))
        staff_first, staff_last = rng.choice(texts.FIRST_NAMES), rng.choice(texts.LAST_NAMES)
        # Staff usernames are chosen by the doctor and need not be e-mail addresses.
        ds.add_login(
            Login(
                f"{_slug(staff_first)}.{_slug(staff_last)}.{doctor_id}",
                _password(rng),
                "staff",
                staff_first,
                staff_last,
                doctor_id,
                roles=(PRESCRIPTION_MANAGEMENT,),
            )
        )
        statuses = list(STATUS_WEIGHTS)
        weights = list(STATUS_WEIGHTS.values())
        for _ in range(cases_per_practice):
            target = rng.choices(statuses, weights)[0]
            _make_case(ds, doctor_id, target, rng, now)
    for login in ds.logins.values():
        login.language = language
    return ds


def _scenario_practice(ds: Dataset, now: datetime) -> None:
    rng = random.Random("invisalign:scenario-practice")
    doctor = SCENARIO_DOCTOR
    ds.add_doctor(doctor)
    username, password = SCENARIO_DOCTOR_USERNAME, SCENARIO_DOCTOR_PASSWORD
    ds.add_login(Login(username, password, "doctor", "Alex", "Morgan", doctor.doctor_id))
    for scenario in SCENARIOS:
        profile = SCENARIO_PROFILES[scenario.name]
        ds.add_login(
            Login(
                username=scenario.username,
                password=scenario.password,
                kind="staff",
                first_name=profile.first_name,
                last_name=profile.last_name,
                doctor_id=doctor.doctor_id,
                roles=profile.roles,
                mfa=profile.mfa,
                totp_secret=scenario.totp_secret,
                password_expired=profile.password_expired,
                scenario=scenario.name,
            )
        )
    ds.add_login(replace(SCENARIO_COORDINATOR))  # a copy: logins change (new password)
    for status in SCENARIO_CASE_STATUSES:
        _make_case(ds, doctor.doctor_id, status, rng, now)
    # One patient of the scenario practice is in a second treatment phase: the list shows two
    # cards for them (Phase 2, and the finished first treatment).
    second_phase = ds.doctor_cases(doctor.doctor_id)[-1]
    second_phase.earlier = [Treatment(COMPREHENSIVE)]
    second_phase.package = PHASE_2


def _make_case(ds: Dataset, doctor_id: str, target: str, rng: random.Random, now: datetime) -> None:
    """Replay a plausible history ending in `target`, between some months ago and `now`."""
    events = _path(target, rng)
    extra_comments = rng.choice((0, 0, 1, 1, 2, 3))
    span = rng.randint(2 * 86_400, 240 * 86_400)
    created = now - timedelta(seconds=span)
    moments = sorted(rng.randint(60, span - 3_600) for _ in range(len(events) + extra_comments))
    comment_slots = set(rng.sample(range(len(moments)), extra_comments))
    case, _ = activity.new_patient(ds, doctor_id, rng, created)
    pending = iter(events)
    for index, offset in enumerate(moments):
        event = COMMENT if index in comment_slots else next(pending)
        activity.apply(ds, case, event, created + timedelta(seconds=offset), rng)
    _mark_read(ds, case, rng, now)


def _path(target: str, rng: random.Random) -> list[str]:
    cycles = rng.choice((0, 0, 0, 1, 1, 2))
    review = [START, PUBLISH] + [MODIFY, START, PUBLISH] * cycles
    paths = {
        SUBMITTED: [],
        CLINCHECK_IN_PROGRESS: review[:-1],
        CLINCHECK_READY: review,
        MODIFICATION_REQUESTED: [*review, MODIFY],
        APPROVED: [*review, APPROVE],
        IN_PRODUCTION: [*review, APPROVE, PRODUCE],
        SHIPPED: [*review, APPROVE, PRODUCE, SHIP],
        IN_TREATMENT: [*review, APPROVE, PRODUCE, SHIP, TREAT],
        ON_HOLD: [HOLD],
        CANCELLED: [*rng.choice(([], review)), CANCEL],
    }
    return paths[target]


def _mark_read(ds: Dataset, case: Case, rng: random.Random, now: datetime) -> None:
    """Doctors have read most older comments, staff about half; recent ones are often unread."""
    owner = ds.owner(case.doctor_id)
    readers = [owner] if owner else []
    readers += [s for s in ds.staff(case.doctor_id) if s.can_view]
    for comment in case.comments:
        recent = now - comment.created_at < timedelta(days=2)
        for reader in readers:
            chance = (0.3 if recent else 0.9) if reader.kind == "doctor" else 0.5
            if rng.random() < chance:
                comment.read_by.add(reader.username.lower())


def _password(rng: random.Random) -> str:
    first, second = rng.sample(texts.PASSWORD_WORDS, 2)
    return f"{first}-{second}-{rng.randint(1000, 9999)}"


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _unique(draw: Callable[[], str], taken: set[str]) -> str:
    while True:
        value = draw()
        if value not in taken:
            taken.add(value)
            return value
